// SPDX-License-Identifier: MIT
// lib.js -- what the operator UI's pages share: the admin token (session
// storage: it is forgotten with the tab), API calls that send it, a poller
// that never overlaps its requests and says when the server stopped
// answering, forms generated from field lists (one description per object,
// the same idea as the C field tables), in-page confirmations and tables that
// scroll on a phone. Nothing here parses data as HTML: h() only makes text.
import { api, ApiError, h, fmtClock } from "/static/api.js";

export { h, ApiError };

const TOKEN_KEY = "antenne.admin.token";

export const auth = {
  get token() { return sessionStorage.getItem(TOKEN_KEY) || ""; },
  set(token) { sessionStorage.setItem(TOKEN_KEY, token); },
  clear() { sessionStorage.removeItem(TOKEN_KEY); },
  // Called with the ApiError when the server refuses the token (set by app.js).
  onRefused: () => {},
};

// An admin API call; a 401 sends the operator back to the login form.
export async function call(method, path, body, { timeoutMs } = {}) {
  try {
    return await api(method, path, { token: auth.token, body, timeoutMs });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) auth.onRefused(e);
    throw e;
  }
}

export const enc = encodeURIComponent;

// The message of a failed call, in words.
export function errText(e) {
  if (e instanceof ApiError) return e.status ? `${e.message} (HTTP ${e.status})` : e.message;
  return String((e && e.message) || e);
}

// A line for errors (role=alert: screen readers announce it) or news.
export function msgLine() {
  const el = h("p", { class: "msg hidden", role: "status" });
  el.error = (e) => { el.className = "msg error"; el.setAttribute("role", "alert"); el.textContent = errText(e); };
  el.ok = (text) => { el.className = "msg ok"; el.setAttribute("role", "status"); el.textContent = text; };
  el.clear = () => { el.className = "msg hidden"; el.textContent = ""; };
  return el;
}

// "100,000" (toLocaleString makes a formatter on every call: 200 rows a poll feel that).
const intFormat = new Intl.NumberFormat("en-US");
export function fmtInt(n) { return intFormat.format(Number(n || 0)); }

export function debounce(fn, ms) {
  let t = 0;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

// Sets a text only when it changed (a poll of 200 channels touches few nodes).
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}

export function setClass(el, cls) {
  if (el.className !== cls) el.className = cls;
}

// Runs fn now and then every intervalMs after the previous run ENDED, so
// requests never overlap on a slow server; while the tab is hidden it asks
// nothing and catches up when shown. onState(poller) after each run:
// poller.error is the last failure (null when fine), poller.okAt the time of
// the last success.
const pollers = new Set();
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) for (const p of pollers) p.now();
});

export class Poller {
  constructor(fn, intervalMs, onState) {
    Object.assign(this, { fn, intervalMs, onState, timer: 0, running: false, again: false, stopped: true,
                          error: null, okAt: 0, failedAt: 0 });
  }
  start() { this.stopped = false; pollers.add(this); this.tick(); return this; }
  stop() { this.stopped = true; pollers.delete(this); clearTimeout(this.timer); }
  // Poll at once (after a change); a run in flight is followed by another.
  now() {
    if (this.stopped) return;
    if (this.running) { this.again = true; return; }
    clearTimeout(this.timer);
    this.tick();
  }
  async tick() {
    if (this.stopped || this.running) return;
    if (document.hidden && this.okAt) {   // (the first answer is fetched even in a background tab)
      this.timer = setTimeout(() => this.tick(), this.intervalMs);
      return;
    }
    this.running = true;
    try {
      await this.fn();
      this.error = null;
      this.okAt = Date.now();
    } catch (e) {
      if (!this.error) this.failedAt = Date.now();
      this.error = e;
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (this.onState) this.onState(this);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), this.again ? 0 : this.intervalMs);
    this.again = false;
  }
}

// "updated 12:00:03" / "server not answering since 12:00:05: <why>" for a poller.
export function liveLine() {
  const el = h("p", { class: "live muted", role: "status", "aria-live": "polite" }, "loading…");
  el.update = (p) => {
    const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
    if (p.error) {
      setClass(el, "live error");
      const since = clock(p.failedAt);
      const data = p.okAt ? `; showing data from ${clock(p.okAt)}` : "";
      setText(el, `Server not answering since ${since}: ${errText(p.error)}${data}`);
    } else {
      setClass(el, "live muted");
      setText(el, `Live · updated ${clock(p.okAt)}`);
    }
  };
  return el;
}

// A table in a box that scrolls sideways on a phone. cols: [label | [label, cls]];
// a column with cls "opt" is hidden on narrow screens.
export function table(cols, { caption, cls } = {}) {
  const tbody = h("tbody");
  const head = h("tr", null, cols.map((c) => (Array.isArray(c) ? h("th", { class: c[1], scope: "col" }, c[0])
                                                                 : h("th", { scope: "col" }, c))));
  const tableEl = h("table", { class: cls }, caption ? h("caption", { class: "sr-only" }, caption) : null,
                    h("thead", null, head), tbody);
  return { wrap: h("div", { class: "table-wrap" }, tableEl), table: tableEl, tbody };
}

export function td(content, cls) { return h("td", { class: cls }, content); }

// A state in words and colour.
export function badge(word, kind) {
  return h("span", { class: `badge state-${kind || word}` }, word);
}

// A button that asks first, in the page: "Delete…" -> "Delete bob? [Yes, delete] [Cancel]".
// action() may throw; its error is shown beside the buttons.
export function confirmButton(label, question, yesLabel, action) {
  const msg = msgLine();
  const open = h("button", { type: "button", class: "danger" }, `${label}…`);
  const yes = h("button", { type: "button", class: "danger" }, yesLabel);
  const no = h("button", { type: "button", class: "secondary" }, "Cancel");
  const ask = h("span", { class: "confirm hidden", role: "group", "aria-label": question },
                h("span", { class: "question" }, question), " ", yes, " ", no);
  const wrap = h("span", { class: "confirm-wrap" }, open, ask, msg);
  const close = () => { ask.classList.add("hidden"); open.classList.remove("hidden"); open.focus(); };
  open.addEventListener("click", () => {
    msg.clear();
    open.classList.add("hidden");
    ask.classList.remove("hidden");
    no.focus();
  });
  no.addEventListener("click", close);
  ask.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); close(); } });
  yes.addEventListener("click", async () => {
    yes.disabled = no.disabled = true;
    try {
      await action();
      ask.classList.add("hidden");
      open.classList.remove("hidden");
    } catch (e) {
      msg.error(e);
    } finally {
      yes.disabled = no.disabled = false;
    }
  });
  return wrap;
}

// A button that shows/hides a panel built on first use (e.g. "Add channel").
export function panelToggle(label, build) {
  const btn = h("button", { type: "button", class: "panel-toggle", "aria-expanded": "false" }, label);
  const panel = h("section", { class: "card panel hidden", "aria-label": label });
  let built = false;
  const api_ = {
    button: btn, panel,
    open() {
      if (!built) { build(panel, api_); built = true; }
      panel.classList.remove("hidden");
      btn.setAttribute("aria-expanded", "true");
      const first = panel.querySelector("input, select, textarea, button");
      if (first) first.focus();
    },
    close() {
      panel.classList.add("hidden");
      btn.setAttribute("aria-expanded", "false");
      btn.focus();
    },
  };
  btn.addEventListener("click", () => (panel.classList.contains("hidden") ? api_.open() : api_.close()));
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") api_.close(); });
  return api_;
}

// ---- forms from field lists ----------------------------------------------------------------
// A field: {key, label, type: "text"|"int"|"bool"|"lines"|"enum"|"textarea"|"password"|"checks",
//           options: [..] (enum) or [[value, label]..] (checks), help, required, pattern, min, max,
//           placeholder, autocomplete}.
let formSeq = 0;

function inputFor(f, id) {
  const common = { id, name: f.key, required: f.required, placeholder: f.placeholder,
                   "aria-describedby": f.help ? `${id}-help` : null, autocomplete: f.autocomplete || "off" };
  switch (f.type) {
    case "bool": return h("input", { ...common, type: "checkbox", required: false });
    case "int": return h("input", { ...common, type: "number", inputmode: "numeric", min: f.min, max: f.max, step: 1 });
    case "lines":
      return h("textarea", { ...common, rows: f.rows || 3, spellcheck: "false" });
    case "textarea": return h("textarea", { ...common, rows: f.rows || 3 });
    case "enum": return h("select", common, f.options.map((o) => h("option", { value: o }, o)));
    case "password": return h("input", { ...common, type: "password", autocomplete: "new-password" });
    case "checks": return h("fieldset", { id, class: "checks", "aria-describedby": common["aria-describedby"] },
                            h("legend", null, f.label));
    default: return h("input", { ...common, type: "text", pattern: f.pattern, maxlength: f.maxlength });
  }
}

function setChecks(fieldset, f, values) {
  const chosen = new Set(values || []);
  fieldset.querySelectorAll("label.check").forEach((l) => l.remove());
  const options = f.options || [];
  if (!options.length) fieldset.append(h("label", { class: "check muted" }, f.none || "(none)"));
  for (const [value, label] of options)
    fieldset.append(h("label", { class: "check" },
                      h("input", { type: "checkbox", value, checked: chosen.has(value) }), " ", label));
}

// Returns {el, msg, submit, get(), set(values), changed(original)}.
export function makeForm(fields, { submitLabel = "Save", onSubmit, extra, cls } = {}) {
  const n = ++formSeq;
  const inputs = {};
  const rows = [];
  for (const f of fields) {
    const id = `f${n}-${f.key}`;
    const input = inputFor(f, id);
    inputs[f.key] = input;
    const help = f.help ? h("small", { id: `${id}-help`, class: "help muted" }, f.help) : null;
    if (f.type === "checks") rows.push(h("div", { class: "field wide" }, input, help));
    else if (f.type === "bool") rows.push(h("div", { class: "field bool" }, h("label", { for: id }, input, " ", f.label), help));
    else rows.push(h("div", { class: `field${f.type === "lines" || f.type === "textarea" ? " wide" : ""}` },
                     h("label", { for: id }, f.label), input, help));
  }
  const msg = msgLine();
  const submit = h("button", { type: "submit" }, submitLabel);
  const el = h("form", { class: `form ${cls || ""}`, novalidate: false },
               h("div", { class: "fields" }, rows), extra || null, h("div", { class: "actions" }, submit), msg);
  const form = {
    el, msg, submit, inputs,
    get() {
      const out = {};
      for (const f of fields) {
        const i = inputs[f.key];
        if (f.type === "bool") out[f.key] = i.checked;
        else if (f.type === "int") { if (i.value.trim() !== "") out[f.key] = Number(i.value); }
        else if (f.type === "lines") out[f.key] = i.value.split("\n").map((s) => s.trim()).filter(Boolean);
        else if (f.type === "checks") out[f.key] = [...i.querySelectorAll("input:checked")].map((c) => c.value);
        else if (f.type === "password") { if (i.value) out[f.key] = i.value; }
        else out[f.key] = i.value.trim();
      }
      return out;
    },
    set(values) {
      for (const f of fields) {
        const i = inputs[f.key];
        const v = values ? values[f.key] : undefined;
        if (f.type === "bool") i.checked = !!v;
        else if (f.type === "lines") i.value = (v || []).join("\n");
        else if (f.type === "checks") setChecks(i, f, v);
        else if (f.type === "password") i.value = "";
        else i.value = v === undefined || v === null ? "" : String(v);
      }
    },
    setOptions(key, options) {
      const f = fields.find((x) => x.key === key);
      const current = form.get()[key];
      f.options = options;
      setChecks(inputs[key], f, current);
    },
    // The keys whose value differs from `original` (a PATCH sends only those).
    changed(original) {
      const now = form.get();
      const out = {};
      for (const [k, v] of Object.entries(now))
        if (JSON.stringify(v) !== JSON.stringify(original ? original[k] : undefined)) out[k] = v;
      return out;
    },
  };
  el.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!onSubmit) return;
    msg.clear();
    submit.disabled = true;
    el.setAttribute("aria-busy", "true");
    try {
      const note = await onSubmit(form.get(), form);
      if (note) msg.ok(note);
    } catch (err) {
      msg.error(err);
    } finally {
      submit.disabled = false;
      el.removeAttribute("aria-busy");
    }
  });
  for (const f of fields) if (f.type === "checks") setChecks(inputs[f.key], f, []);
  return form;
}

// A classic script once (uPlot is one); resolves when loaded.
const scripts = {};
export function loadScript(src) {
  if (!scripts[src]) {
    scripts[src] = new Promise((resolve, reject) => {
      const s = h("script", { src });
      s.addEventListener("load", resolve);
      s.addEventListener("error", () => { delete scripts[src]; reject(new Error(`cannot load ${src}`)); });
      document.head.append(s);
    });
  }
  return scripts[src];
}

export function loadCss(href) {
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h("link", { rel: "stylesheet", href }));
}

// "12:00:03" or "28/11 12:00" for a time (Unix s, Unix ms or ISO string).
export function fmtWhen(t) {
  if (t === null || t === undefined || t === "" || t === 0) return "";
  const d = typeof t === "number" ? new Date(t > 1e11 ? t : t * 1000) : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour12: false })
               : d.toLocaleString([], { dateStyle: "short", timeStyle: "short", hour12: false });
}

export { fmtClock };
