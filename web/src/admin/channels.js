// SPDX-License-Identifier: MIT
// channels.js -- the dashboard (#/channels): every channel's state, viewers,
// input and TR 101 290 errors of the last seconds, live (a poll every 2 s).
// Rows are built once per channel and then only their changed cells are
// written, so 200 channels cost a few text updates per poll; the search
// filter hides rows instead of rebuilding them.
import { fmtBitrate } from "/static/api.js";
import { h, call, Poller, liveLine, table, setText, setClass, panelToggle, makeForm, fmtInt } from "./lib.js";

// The channel settings the forms offer (the API's field table, docs/configuration.md).
export const CHANNEL_MAIN = [
  { key: "title", label: "Title", help: "Name viewers see" },
  { key: "number", label: "Number", type: "int", min: 0, max: 99999 },
  { key: "group", label: "Group", help: "group-title in playlists" },
  { key: "logo", label: "Logo URL" },
  { key: "sources", label: "Sources", type: "lines", required: true,
    help: "One URL a line, primary first: udp://, rtp://, http(s)://, file://" },
];
export const CHANNEL_MORE = [
  { key: "tvg_id", label: "EPG id (tvg-id)" },
  { key: "on_demand", label: "On demand: start with the first viewer", type: "bool" },
  { key: "idle_timeout", label: "Idle timeout (s)", type: "int", min: 0, max: 86400 },
  { key: "lag_policy", label: "Slow viewers", type: "enum", options: ["skip", "close"] },
  { key: "failover_ms", label: "Failover after (ms)", type: "int", min: 100, max: 60000 },
  { key: "failback_s", label: "Failback after (s)", type: "int", min: 0, max: 86400 },
  { key: "failover_cc_errors", label: "Failover at CC errors/s", type: "int", min: 0 },
  { key: "slate", label: "Slate (file:// URL)" },
  { key: "archive", label: "Record (archive for catch-up)", type: "bool" },
  { key: "archive_days", label: "Archive days", type: "int", min: 0, max: 3650 },
  { key: "archive_max_mb", label: "Archive size limit (MiB)", type: "int", min: 0 },
  { key: "hls_target", label: "HLS segment (s)", type: "int", min: 1, max: 30 },
  { key: "hls_window", label: "HLS window (segments)", type: "int", min: 3, max: 60 },
  { key: "hls_part_ms", label: "LL-HLS part (ms)", type: "int", min: 100, max: 2000 },
];

// TR 101 290 error names (the API's keys) and short words for a table cell.
export const TR_ERRORS = [
  ["TS_sync_loss", "sync loss", 1], ["Sync_byte_error", "sync byte", 1], ["PAT_error", "PAT", 1],
  ["Continuity_count_error", "CC", 1], ["PMT_error", "PMT", 1], ["PID_error", "PID", 1],
  ["Transport_error", "transport", 2], ["CRC_error", "CRC", 2], ["PCR_repetition_error", "PCR repetition", 2],
  ["PCR_discontinuity_indicator_error", "PCR discontinuity", 2], ["PTS_error", "PTS", 2],
];

// "CC 3 · PTS 1" for the errors of the last seconds ("" when there are none).
export function recentErrors(analysis) {
  const recent = (analysis && analysis.recent) || {};
  const parts = [];
  for (const [key, word] of TR_ERRORS) if (recent[key] > 0) parts.push(`${word} ${recent[key]}`);
  return parts.join(" · ");
}

const STATES = ["up", "degraded", "starting", "down", "idle"];

function buildRow(ch) {
  const r = {
    num: h("td", { class: "num" }),
    link: h("a", { href: `#/channels/${ch.name}` }),
    name: h("span", { class: "name muted" }),
    badge: h("span"),
    reason: h("span", { class: "reason muted" }),
    viewers: h("td", { class: "num", "data-label": "viewers" }),
    input: h("td", { class: "num", "data-label": "input" }),
    source: h("td", { class: "opt source" }),
    tr290: h("td", { class: "tr290", "data-label": "TR 101 290" }),
    key: "",
    last: {},
  };
  r.tr = h("tr", { dataset: { channel: ch.name } }, r.num, h("td", { class: "title" }, r.link, " ", r.name),
           h("td", { class: "state" }, r.badge, " ", r.reason), r.viewers, r.input, r.source, r.tr290);
  return r;
}

function updateRow(r, ch) {
  const state = STATES.includes(ch.state) ? ch.state : "down";
  setText(r.num, ch.number || "");
  setText(r.link, ch.title || ch.name);
  setText(r.name, ch.title && ch.title !== ch.name ? ch.name : "");
  setText(r.badge, ch.state);
  setClass(r.badge, `badge state-${state}`);
  setText(r.reason, ch.state_reason || (ch.on_slate ? "slate playing" : ""));
  setText(r.viewers, fmtInt(ch.viewers));
  setText(r.input, fmtBitrate(ch.input_bitrate));
  setText(r.source, ch.source ? `${ch.source_index > 0 ? `backup ${ch.source_index}: ` : ""}${ch.source}` : "—");
  const errs = recentErrors(ch.analysis);
  setText(r.tr290, errs || "0");
  setClass(r.tr290, errs ? "tr290 tr-bad" : "tr290 muted");
  if (r.tr290.title !== (errs ? `TR 101 290 errors in the last seconds: ${errs}` : "no TR 101 290 errors"))
    r.tr290.title = errs ? `TR 101 290 errors in the last seconds: ${errs}` : "no TR 101 290 errors";
  r.key = `${ch.number} ${ch.title} ${ch.name} ${ch.group} ${ch.state}`.toLowerCase();
}

export function dashboard(main) {
  const live = liveLine();
  const summary = h("p", { class: "summary", "aria-live": "polite" });
  const search = h("input", { type: "search", id: "channel-search", placeholder: "Search: name, title, number, group, state",
                              "aria-label": "Search channels", autocomplete: "off" });
  const shown = h("span", { class: "muted" });
  const add = panelToggle("Add channel", (panel, p) => {
    const fields = [{ key: "name", label: "Name", required: true, pattern: "[a-z0-9_\\-]{1,64}",
                      help: "Used in URLs: a-z 0-9 - _", autocomplete: "off" }, ...CHANNEL_MAIN,
                    CHANNEL_MORE.find((f) => f.key === "on_demand")];
    const form = makeForm(fields, {
      submitLabel: "Add channel",
      onSubmit: async (values) => {
        const body = Object.fromEntries(Object.entries(values).filter(([k, v]) => k === "name" || v !== ""));
        const ch = await call("POST", "/api/v1/channels", body);
        form.set({});
        poller.now();
        return `Channel ${ch.name} added.`;
      },
    });
    form.el.id = "add-channel-form";
    panel.append(h("h2", null, "Add a channel"), form.el);
  });
  const t = table([["#", "num"], "Channel", "State", ["Viewers", "num"], ["Input", "num"], ["Source in use", "opt"],
                   "TR 101 290 (recent)"], { caption: "Channels", cls: "channels" });
  const empty = h("p", { class: "muted hidden" }, "No channels yet: add one.");
  main.append(h("div", { class: "page-head" }, h("h1", null, "Channels"), summary, live),
              h("div", { class: "toolbar" }, search, shown, h("span", { class: "spacer" }), add.button),
              add.panel, empty, t.wrap);

  const rows = new Map();
  let order = [];

  function applyFilter() {
    const q = search.value.trim().toLowerCase();
    let n = 0;
    for (const r of rows.values()) {
      const hide = q !== "" && !r.key.includes(q);
      if (r.tr.hidden !== hide) r.tr.hidden = hide;
      if (!hide) n++;
    }
    setText(shown, q ? `${n} of ${rows.size} shown` : "");
  }

  function render(channels) {
    const counts = {};
    const names = channels.map((c) => c.name);
    const seen = new Set(names);
    for (const [name, r] of rows) if (!seen.has(name)) { r.tr.remove(); rows.delete(name); }
    const frag = document.createDocumentFragment();
    const reorder = names.length !== order.length || names.some((n, i) => n !== order[i]);
    for (const ch of channels) {
      let r = rows.get(ch.name);
      if (!r) { r = buildRow(ch); rows.set(ch.name, r); }
      updateRow(r, ch);
      if (reorder) frag.append(r.tr);
      counts[ch.state] = (counts[ch.state] || 0) + 1;
    }
    if (reorder) { t.tbody.append(frag); order = names; }
    empty.classList.toggle("hidden", channels.length > 0);
    setText(summary, channels.length ? `${fmtInt(channels.length)} channels: ` +
            STATES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(", ") : "");
    applyFilter();
  }

  const poller = new Poller(async () => {
    const data = await call("GET", "/api/v1/channels");
    render(data.channels || []);
  }, 2000, (p) => live.update(p)).start();

  search.addEventListener("input", applyFilter);
  search.addEventListener("keydown", (e) => { if (e.key === "Escape") { search.value = ""; applyFilter(); } });
  return () => poller.stop();
}
