// SPDX-License-Identifier: MIT
// packages.js -- packages (#/packages): the channels a subscriber may watch
// come from their packages; a channel in no package is free to air. One
// package (#/packages/NAME): title, its channels as a checkbox list with a
// filter, delete.
import { h, call, enc, table, msgLine, makeForm, panelToggle, confirmButton, fmtInt, errText } from "./lib.js";

export function packageList(main) {
  const msg = msgLine();
  const t = table(["Name", "Title", "Channels"], { caption: "Packages", cls: "packages" });
  const empty = h("p", { class: "muted hidden" }, "No packages: every channel is free to air (no login needed).");
  const add = panelToggle("New package", (panel) => {
    const form = makeForm([{ key: "name", label: "Name", required: true, pattern: "[a-z0-9_\\-]{1,64}", help: "a-z 0-9 - _" },
                           { key: "title", label: "Title", help: "Name subscribers see" }], {
      submitLabel: "Create package",
      onSubmit: async (values) => {
        const p = await call("POST", "/api/v1/packages", { ...values, channels: [] });
        location.hash = `#/packages/${p.name}`;
      },
    });
    panel.append(h("h2", null, "New package"), form.el);
  });
  main.append(h("div", { class: "page-head" }, h("h1", null, "Packages")),
              h("div", { class: "toolbar" }, h("span", { class: "spacer" }), add.button), add.panel, msg, empty, t.wrap);
  call("GET", "/api/v1/packages").then((data) => {
    const list = data.packages || [];
    empty.classList.toggle("hidden", list.length > 0);
    t.tbody.replaceChildren(...list.map((p) => h("tr", { dataset: { package: p.name } },
      h("td", null, h("a", { href: `#/packages/${p.name}` }, p.name)), h("td", null, p.title || ""),
      h("td", { class: "num" }, fmtInt((p.channels || []).length)))));
  }, (e) => msg.error(e));
}

export function packagePage(main, [name]) {
  const msg = msgLine();
  const filter = h("input", { type: "search", placeholder: "Filter channels", "aria-label": "Filter channels" });
  const counter = h("span", { class: "muted" });
  const all = h("button", { type: "button", class: "secondary" }, "Tick all shown");
  const none = h("button", { type: "button", class: "secondary" }, "Untick all shown");
  let current = null;
  const form = makeForm([{ key: "title", label: "Title" },
                         { key: "channels", label: "Channels", type: "checks", options: [], none: "No channels yet." }], {
    submitLabel: "Save changes",
    extra: h("div", { class: "toolbar" }, filter, all, none, counter),
    onSubmit: async () => {
      const change = form.changed(current);
      if (!Object.keys(change).length) return "Nothing changed.";
      current = await call("PATCH", `/api/v1/packages/${enc(name)}`, change);
      form.set(current);
      count();
      return `Saved: ${(current.channels || []).length} channels.`;
    },
  });
  // the list of channels goes after the filter
  const checks = form.inputs.channels;
  form.el.querySelector(".actions").before(checks.parentElement);
  const labels = () => [...checks.querySelectorAll("label.check")];
  const count = () => {
    counter.textContent = `${checks.querySelectorAll("input:checked").length} ticked`;
  };
  filter.addEventListener("input", () => {
    const q = filter.value.trim().toLowerCase();
    for (const l of labels()) l.hidden = q !== "" && !l.textContent.toLowerCase().includes(q);
  });
  const tick = (on) => { for (const l of labels()) if (!l.hidden) { const c = l.querySelector("input"); if (c) c.checked = on; } count(); };
  all.addEventListener("click", () => tick(true));
  none.addEventListener("click", () => tick(false));
  checks.addEventListener("change", count);
  const remove = confirmButton("Delete package", `Delete ${name}? Its subscribers lose these channels.`, "Yes, delete",
                               async () => {
                                 await call("DELETE", `/api/v1/packages/${enc(name)}`);
                                 location.hash = "#/packages";
                               });
  const body = h("div", { class: "hidden" }, h("section", { class: "card" }, form.el),
                 h("section", { class: "card" }, h("h2", null, "Delete"), remove));
  main.append(h("div", { class: "page-head" },
                h("p", { class: "crumbs" }, h("a", { href: "#/packages" }, "Packages"), " / ", name),
                h("h1", null, name), msg), body);
  Promise.all([call("GET", `/api/v1/packages/${enc(name)}`), call("GET", "/api/v1/channels")]).then(([p, data]) => {
    current = p;
    const chans = (data.channels || []).map((c) => [c.name, `${c.number ? `${c.number} ` : ""}${c.title || c.name}`
                                                             + (c.title && c.title !== c.name ? ` (${c.name})` : "")]);
    const known = new Set(chans.map((c) => c[0]));
    for (const c of p.channels || []) if (!known.has(c)) chans.push([c, `${c} (no such channel)`]);
    form.setOptions("channels", chans);
    form.set(p);
    count();
    body.classList.remove("hidden");
  }, (e) => msg.error(new Error(`Cannot load ${name}: ${errText(e)}`)));
}
