// SPDX-License-Identifier: MIT
// epg.js -- EPG sources (#/epg): XMLTV files or URLs imported every N
// hours; "Refresh now" imports at once and shows what the import did.
import { h, call, enc, table, msgLine, makeForm, panelToggle, confirmButton, fmtWhen, setText } from "./lib.js";

const EPG_FIELDS = [
  { key: "name", label: "Name", required: true, pattern: "[a-z0-9_\\-]{1,64}", help: "a-z 0-9 - _" },
  { key: "url", label: "URL", required: true, help: "XMLTV (.xml or .xml.gz): http(s):// or file://" },
  { key: "refresh_hours", label: "Import every (hours)", type: "int", min: 0, max: 720, help: "0: only on request" },
  { key: "days", label: "Days kept ahead", type: "int", min: 1, max: 60 },
];

export function epgPage(main) {
  const msg = msgLine();
  const t = table(["Name", ["URL", "opt"], "Every", ["Days", "num"], "Last import", "Result", h("span", { class: "sr-only" }, "Actions")],
                  { caption: "EPG sources", cls: "epg" });
  const empty = h("p", { class: "muted hidden" }, "No EPG sources yet.");
  const add = panelToggle("Add EPG source", (panel, p) => {
    const form = makeForm(EPG_FIELDS, {
      submitLabel: "Add source",
      onSubmit: async (values) => {
        const s = await call("POST", "/api/v1/epg-sources", values);
        form.set({ refresh_hours: 12, days: 7 });
        load();
        return `Source ${s.name} added: “Refresh now” imports it.`;
      },
    });
    form.set({ refresh_hours: 12, days: 7 });
    panel.append(h("h2", null, "Add an EPG source"), form.el);
  });
  main.append(h("div", { class: "page-head" }, h("h1", null, "EPG sources")),
              h("div", { class: "toolbar" }, h("span", { class: "spacer" }), add.button), add.panel, msg, empty, t.wrap);

  function row(s) {
    const last = h("td", null, s.last_import ? fmtWhen(s.last_import) : "never");
    const result = h("td", { class: "result" }, s.last_result || "");
    const rowMsg = msgLine();
    const refresh = h("button", { type: "button", class: "secondary refresh" }, "Refresh now");
    refresh.addEventListener("click", async () => {
      refresh.disabled = true;
      refresh.textContent = "Importing…";
      rowMsg.clear();
      try {
        await call("POST", `/api/v1/epg-sources/${enc(s.name)}/import`, undefined, { timeoutMs: 300000 });
        const fresh = await call("GET", `/api/v1/epg-sources/${enc(s.name)}`);
        setText(last, fresh.last_import ? fmtWhen(fresh.last_import) : "never");
        setText(result, fresh.last_result || "");
        rowMsg.ok(`Imported at ${fmtWhen(fresh.last_import) || "?"}.`);
      } catch (e) {
        rowMsg.error(e);
      } finally {
        refresh.disabled = false;
        refresh.textContent = "Refresh now";
      }
    });
    const remove = confirmButton("Delete", `Delete ${s.name}?`, "Yes, delete", async () => {
      await call("DELETE", `/api/v1/epg-sources/${enc(s.name)}`);
      load();
    });
    return h("tr", { dataset: { source: s.name } }, h("td", null, s.name), h("td", { class: "opt url" }, s.url || ""),
             h("td", null, s.refresh_hours ? `${s.refresh_hours} h` : "on request"), h("td", { class: "num" }, String(s.days)),
             last, result, h("td", { class: "row-actions" }, refresh, " ", remove, rowMsg));
  }

  function load() {
    call("GET", "/api/v1/epg-sources").then((data) => {
      const list = data.epg_sources || [];
      msg.clear();
      empty.classList.toggle("hidden", list.length > 0);
      t.tbody.replaceChildren(...list.map(row));
    }, (e) => msg.error(e));
  }
  load();
}
