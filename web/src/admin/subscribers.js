// SPDX-License-Identifier: MIT
// subscribers.js -- the subscriber list (#/subscribers: the server searches
// and pages, 50 at a time, so 100,000 subscribers cost one page) and one
// subscriber (#/subscribers/NAME: settings, packages, enable/disable,
// password reset, a playlist URL, sessions with kick, delete).
import { h, call, enc, table, setText, msgLine, makeForm, panelToggle, confirmButton, debounce, fmtInt, fmtWhen,
         badge, errText } from "./lib.js";
import { sessionsTable } from "./sessions.js";

const PAGE = 50;

const NAME_FIELD = { key: "name", label: "Username", required: true, pattern: "[a-z0-9_\\-]{1,64}",
                     help: "a-z 0-9 - _", autocomplete: "off" };
// The settings of a subscriber (docs/subscribers.md); "packages" gets its options from the server.
const SUBSCRIBER_FIELDS = [
  { key: "enabled", label: "Enabled: may watch", type: "bool" },
  { key: "expires", label: "Expires", placeholder: "YYYY-MM-DD", help: "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); empty: never",
    pattern: "(\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}:\\d{2}Z)?)?" },
  { key: "max_streams", label: "Streams at once", type: "int", min: 0, max: 1000, help: "0: no limit" },
  { key: "limit_policy", label: "At the limit", type: "enum", options: ["refuse-new", "end-oldest"] },
  { key: "packages", label: "Packages", type: "checks", options: [], none: "No packages yet: every channel in none is free to air." },
  { key: "allowed_ips", label: "Allowed addresses", type: "lines", help: "CIDR ranges, one a line; empty: anywhere" },
  { key: "bind_ip", label: "Tokens work only from the address they were issued to", type: "bool" },
  { key: "notes", label: "Notes", type: "textarea" },
];

function status(sub) {
  if (!sub.enabled) return badge("disabled", "down");
  if (sub.expires && new Date(sub.expires.length === 10 ? `${sub.expires}T23:59:59Z` : sub.expires) < new Date())
    return badge("expired", "degraded");
  return badge("enabled", "up");
}

async function packageOptions() {
  const data = await call("GET", "/api/v1/packages");
  return (data.packages || []).map((p) => [p.name, p.title && p.title !== p.name ? `${p.title} (${p.name})` : p.name]);
}

export function subscriberList(main, params, query) {
  let q = query.get("q") || "";
  let offset = Math.max(0, Number(query.get("offset")) || 0);
  const search = h("input", { type: "search", id: "subscriber-search", value: q, placeholder: "Search by name",
                              "aria-label": "Search subscribers", autocomplete: "off" });
  const range = h("p", { class: "range", "aria-live": "polite" }, "loading…");
  const prev = h("button", { type: "button", class: "secondary" }, "← Previous");
  const next = h("button", { type: "button", class: "secondary" }, "Next →");
  const msg = msgLine();
  const t = table(["Name", "Status", "Expires", ["Streams", "opt num"], "Packages", ["Notes", "opt"]],
                  { caption: "Subscribers", cls: "subscribers" });
  const add = panelToggle("New subscriber", (panel, p) => {
    const form = makeForm([NAME_FIELD, { key: "password", label: "Password", type: "password", required: true },
                           ...SUBSCRIBER_FIELDS], {
      submitLabel: "Create subscriber",
      onSubmit: async (values) => {
        if (!values.expires) delete values.expires;
        const sub = await call("POST", "/api/v1/subscribers", values);
        location.hash = `#/subscribers/${sub.name}`;
      },
    });
    form.set({ enabled: true, max_streams: 1, limit_policy: "refuse-new" });
    packageOptions().then((o) => form.setOptions("packages", o), (e) => form.msg.error(e));
    panel.append(h("h2", null, "New subscriber"), form.el);
  });
  main.append(h("div", { class: "page-head" }, h("h1", null, "Subscribers")),
              h("div", { class: "toolbar" }, search, h("span", { class: "spacer" }), add.button), add.panel,
              h("div", { class: "toolbar pager" }, range, prev, next), msg, t.wrap);

  let seq = 0;
  let total = 0;
  async function load() {
    const mine = ++seq;
    t.table.setAttribute("aria-busy", "true");
    const path = `/api/v1/subscribers?offset=${offset}&limit=${PAGE}${q ? `&q=${enc(q)}` : ""}`;
    try {
      const data = await call("GET", path, undefined, { timeoutMs: 20000 });
      if (mine !== seq) return;            // a newer search answered first
      let list = data.subscribers || [];
      if (typeof data.total === "number") {
        total = data.total;
      } else {                             // a server without paging: page here
        const needle = q.toLowerCase();
        if (needle) list = list.filter((s) => s.name.toLowerCase().includes(needle));
        total = list.length;
        list = list.slice(offset, offset + PAGE);
      }
      msg.clear();
      t.tbody.replaceChildren(...list.map((s) => h("tr", { dataset: { subscriber: s.name } },
        h("td", null, h("a", { href: `#/subscribers/${s.name}` }, s.name)), h("td", null, status(s)),
        h("td", null, s.expires || "never"), h("td", { class: "opt num" }, s.max_streams ? String(s.max_streams) : "no limit"),
        h("td", null, (s.packages || []).join(", ")), h("td", { class: "opt notes" }, s.notes || ""))));
      setText(range, total ? `${fmtInt(offset + 1)}–${fmtInt(offset + list.length)} of ${fmtInt(total)}`
                           : q ? `No subscriber matches “${q}”` : "No subscribers yet");
      prev.disabled = offset === 0;
      next.disabled = offset + PAGE >= total;
    } catch (e) {
      if (mine === seq) msg.error(e);
    } finally {
      if (mine === seq) t.table.removeAttribute("aria-busy");
    }
  }
  function remember() {
    const qs = new URLSearchParams();
    if (q) qs.set("q", q);
    if (offset) qs.set("offset", String(offset));
    const hash = `#/subscribers${qs.toString() ? `?${qs}` : ""}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }
  const searchNow = () => { q = search.value.trim(); offset = 0; remember(); load(); };
  const searchSoon = debounce(searchNow, 250);
  search.addEventListener("input", searchSoon);
  search.addEventListener("keydown", (e) => { if (e.key === "Enter") { searchSoon.cancel(); searchNow(); } });
  prev.addEventListener("click", () => { offset = Math.max(0, offset - PAGE); remember(); load(); });
  next.addEventListener("click", () => { offset += PAGE; remember(); load(); });
  load();
  return () => { searchSoon.cancel(); seq++; };
}

export function subscriberPage(main, [name]) {
  const head = h("h1", null, name);
  const state = h("span");
  const msg = msgLine();
  const times = h("p", { class: "muted small" });
  let current = null;
  const form = makeForm(SUBSCRIBER_FIELDS, {
    submitLabel: "Save changes",
    onSubmit: async () => {
      const change = form.changed(current);
      if (!Object.keys(change).length) return "Nothing changed.";
      show(await call("PATCH", `/api/v1/subscribers/${enc(name)}`, change));
      return `Saved: ${Object.keys(change).join(", ")}.`;
    },
  });

  const toggle = h("button", { type: "button", class: "secondary" }, "Disable");
  const toggleMsg = msgLine();
  toggle.addEventListener("click", async () => {
    toggle.disabled = true;
    toggleMsg.clear();
    try {
      const sub = await call("PATCH", `/api/v1/subscribers/${enc(name)}`, { enabled: !current.enabled });
      show(sub, true);
      toggleMsg.ok(sub.enabled ? "Enabled: may watch again." : "Disabled: the streams stop and new ones are refused.");
    } catch (e) {
      toggleMsg.error(e);
    } finally {
      toggle.disabled = false;
    }
  });

  const password = makeForm([{ key: "password", label: "New password", type: "password", required: true }], {
    submitLabel: "Reset password",
    onSubmit: async (values) => {
      await call("PATCH", `/api/v1/subscribers/${enc(name)}`, { password: values.password });
      password.set({});
      return "Password changed.";
    },
  });

  const urlOut = h("input", { type: "text", readonly: true, class: "url hidden", "aria-label": "Playlist URL",
                              id: "playlist-url" });
  const copy = h("button", { type: "button", class: "secondary hidden" }, "Copy");
  const tokenMsg = msgLine();
  const make = h("button", { type: "button" }, "Make a playlist URL");
  make.addEventListener("click", async () => {
    make.disabled = true;
    tokenMsg.clear();
    try {
      const t = await call("POST", `/api/v1/subscribers/${enc(name)}/tokens`);
      urlOut.value = t.playlist_url;
      urlOut.classList.remove("hidden");
      copy.classList.remove("hidden");
      tokenMsg.ok(`Valid until ${fmtWhen(t.expires)}. Guide: ${t.epg_url}`);
      urlOut.focus();
      urlOut.select();
    } catch (e) {
      tokenMsg.error(e);
    } finally {
      make.disabled = false;
    }
  });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(urlOut.value);
      tokenMsg.ok("Copied.");
    } catch {
      urlOut.select();
      tokenMsg.ok("Selected: press Ctrl+C to copy.");
    }
  });

  const remove = confirmButton("Delete subscriber", `Delete ${name}? Their streams stop and their tokens stop working.`,
                               "Yes, delete", async () => {
                                 await call("DELETE", `/api/v1/subscribers/${enc(name)}`);
                                 location.hash = "#/subscribers";
                               });
  const sessions = sessionsTable({ subscriber: name });
  const body = h("div", { class: "grid hidden" },
    h("section", { class: "card" }, h("h2", null, "Settings"), form.el),
    h("div", { class: "stack" },
      h("section", { class: "card" }, h("h2", null, "Access"), h("div", { class: "actions" }, toggle), toggleMsg,
        h("h3", null, "Password"), password.el),
      h("section", { class: "card" }, h("h2", null, "Playlist URL"),
        h("p", { class: "muted" }, "A signed link to the subscriber's own playlist, for their player."),
        h("div", { class: "actions" }, make), h("div", { class: "copy-row" }, urlOut, copy), tokenMsg),
      h("section", { class: "card" }, h("h2", null, "Watching now"), sessions.el),
      h("section", { class: "card" }, h("h2", null, "Delete"), remove)));
  main.append(h("div", { class: "page-head" },
                h("p", { class: "crumbs" }, h("a", { href: "#/subscribers" }, "Subscribers"), " / ", name),
                h("div", { class: "title-row" }, head, state), times, msg), body);

  function show(sub, keepForm) {
    current = sub;
    state.replaceChildren(status(sub));
    toggle.textContent = sub.enabled ? "Disable" : "Enable";
    setText(times, `Created ${fmtWhen(sub.created_at)} · changed ${fmtWhen(sub.updated_at)}`);
    if (keepForm) form.inputs.enabled.checked = !!sub.enabled;
    else form.set(sub);
  }

  Promise.all([call("GET", `/api/v1/subscribers/${enc(name)}`), packageOptions().catch((e) => { msg.error(e); return []; })])
    .then(([sub, opts]) => {
      const f = SUBSCRIBER_FIELDS.find((x) => x.key === "packages");
      // a package the subscriber has but the list lacks still shows (and can be unticked)
      const known = new Set(opts.map((o) => o[0]));
      f.options = [...opts, ...(sub.packages || []).filter((p) => !known.has(p)).map((p) => [p, `${p} (missing)`])];
      show(sub);
      body.classList.remove("hidden");
      sessions.start();
    }, (e) => msg.error(new Error(`Cannot load ${name}: ${errText(e)}`)));
  return () => sessions.stop();
}
