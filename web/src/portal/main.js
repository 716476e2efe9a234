// SPDX-License-Identifier: MIT
// main.js -- the viewer portal at /: the login, the router between its views
// (#/ channels, #/watch/NAME, #/catchup/NAME, #/me), the channel list shared
// by the views (refreshed every 60 s for now/next), and keyboard handling
// (arrow keys move between tiles, Escape goes back, digits pick a channel).
//
// The token from POST /api/v1/portal/login lives in sessionStorage only: it
// is gone when the tab closes, and "Log out" forgets it. Any 401 from the
// portal API means the login is no longer valid: back to the login form.

import { api, ApiError, h } from "/static/api.js";
import { loginView } from "./login.js";
import { gridView } from "./grid.js";
import { watchView } from "./watch.js";
import { catchupView } from "./catchup.js";
import { meView } from "./me.js";
import { moveFocus } from "./spatial.js";

const KEY = "antenne.portal";
const REFRESH_MS = 60000;

const main = document.getElementById("main");
const bar = document.getElementById("bar");

// What every view gets: the session, the API with the token, the channels.
const ctx = {
  session: null,          // {token, expires, subscriber}
  channels: null,         // the last /api/v1/portal/channels answer, ordered by number
  channelsError: null,    // ApiError of the last failed refresh
  loginMessage: "",       // why the login form is shown (logged out, session ended)

  // GET a portal route with the token; a 401 ends the session.
  async call(path, opts = {}) {
    if (!ctx.session) throw new ApiError(401, "not logged in");
    try {
      return await api("GET", path, { token: ctx.session.token, ...opts });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) ctx.logout(`Your session has ended (${e.message}). Please log in again.`);
      throw e;
    }
  },

  async loadChannels() {
    try {
      const r = await ctx.call("/api/v1/portal/channels");
      const list = (r && Array.isArray(r.channels)) ? r.channels : [];
      list.sort((a, b) => (a.number || 1e9) - (b.number || 1e9) || String(a.title).localeCompare(String(b.title)));
      ctx.channels = list;
      ctx.channelsError = null;
    } catch (e) {
      ctx.channelsError = e;
    }
    return ctx.channels;
  },

  channel(name) {
    return (ctx.channels || []).find((c) => c.name === name) || null;
  },

  loggedIn(session) {
    ctx.session = session;
    sessionStorage.setItem(KEY, JSON.stringify(session));
    ctx.loginMessage = "";
    ctx.channels = null;
    if (!location.hash || location.hash === "#/login") history.replaceState(null, "", "#/");
    render();
  },

  logout(message = "You are logged out.") {
    ctx.session = null;
    ctx.channels = null;
    sessionStorage.removeItem(KEY);
    ctx.loginMessage = message;
    render();
  },

  // Go to a route; replace: without a history entry (zapping).
  go(hash, { replace = false } = {}) {
    if (replace) {
      history.replaceState(null, "", hash);
      render();
    } else if (location.hash === hash) {
      render();
    } else {
      location.hash = hash;
    }
  },

  back() {
    if (history.length > 1 && ctx.cameFromPortal) history.back();
    else ctx.go("#/");
  },
};

function restoreSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (s && typeof s.token === "string" && s.token) {
      if (s.expires && s.expires * 1000 < Date.now()) {
        sessionStorage.removeItem(KEY);
        ctx.loginMessage = "Your session has expired. Please log in again.";
        return null;
      }
      return s;
    }
  } catch { /* unreadable: log in again */ }
  return null;
}

// ---- views

let view = null;           // {el, destroy?, refresh?, onKey?, focusFirst?}
let renderSerial = 0;

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const parts = hash.split("/").map((p) => { try { return decodeURIComponent(p); } catch { return ""; } });
  switch (parts[0]) {
    case "watch": return { name: "watch", channel: parts[1] || "" };
    case "catchup": return { name: "catchup", channel: parts[1] || "" };
    case "me": return { name: "me" };
    default: return { name: "grid" };
  }
}

async function render() {
  const serial = ++renderSerial;
  if (view && view.destroy) view.destroy();
  view = null;
  if (!ctx.session) {
    bar.classList.add("hidden");
    document.title = "Log in — antenne TV";
    view = loginView(ctx);
    main.replaceChildren(view.el);
    if (view.focusFirst) view.focusFirst();
    return;
  }
  bar.classList.remove("hidden");
  document.getElementById("who").textContent = `Logged in as ${ctx.session.subscriber || ""}`;
  const r = route();
  for (const [id, on] of [["nav-channels", r.name === "grid"], ["nav-me", r.name === "me"]]) {
    const a = document.getElementById(id);
    if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  if (r.name !== "me" && !ctx.channels) {
    main.replaceChildren(h("p", { class: "muted loading-page", role: "status" }, "Loading your channels…"));
    await ctx.loadChannels();
    if (serial !== renderSerial || !ctx.session) return;
  }
  if (r.name === "watch") view = watchView(ctx, r.channel);
  else if (r.name === "catchup") view = catchupView(ctx, r.channel);
  else if (r.name === "me") view = meView(ctx);
  else view = gridView(ctx);
  main.replaceChildren(view.el);
  if (view.focusFirst) view.focusFirst();
}

// ---- now/next: every 60 s the channel list again, and the view redrawn from it

setInterval(async () => {
  if (!ctx.session || document.hidden) return;
  await ctx.loadChannels();
  if (view && view.refresh) view.refresh();
}, REFRESH_MS);
document.addEventListener("visibilitychange", async () => {
  if (document.hidden || !ctx.session || !view || !view.refresh) return;
  await ctx.loadChannels();
  if (view && view.refresh) view.refresh();
});

// ---- keyboard: arrows move between what can be focused, Escape goes back,
// digits typed in a row pick a channel by its number.

let digits = "";
let digitTimer = 0;
let digitBox = null;

function typedDigit(d) {
  digits = (digits + d).slice(-4);
  if (!digitBox) {
    digitBox = h("div", { class: "digits", role: "status", "aria-live": "assertive" });
    document.body.append(digitBox);
  }
  const ch = (ctx.channels || []).find((c) => String(c.number) === digits);
  digitBox.textContent = `Channel ${digits}${ch ? ` · ${ch.title}` : ""}`;
  digitBox.classList.remove("hidden");
  clearTimeout(digitTimer);
  digitTimer = setTimeout(() => {
    const pick = (ctx.channels || []).find((c) => String(c.number) === digits);
    digitBox.textContent = pick ? `Channel ${digits} · ${pick.title}` : `There is no channel ${digits}`;
    digits = "";
    setTimeout(() => digitBox.classList.add("hidden"), pick ? 300 : 1500);
    if (pick) ctx.go(`#/watch/${encodeURIComponent(pick.name)}`, { replace: route().name === "watch" });
  }, 1200);
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
  const t = e.target;
  const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
  if (view && view.onKey && view.onKey(e, typing)) { e.preventDefault(); return; }
  if (typing) return;
  const dirs = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down" };
  if (dirs[e.key]) {
    if (moveFocus(dirs[e.key])) e.preventDefault();
  } else if ((e.key === "Escape" || e.key === "Backspace" || e.key === "BrowserBack" || e.key === "GoBack")
             && ctx.session && route().name !== "grid") {
    e.preventDefault();
    ctx.back();
  } else if (/^[0-9]$/.test(e.key) && ctx.session && ctx.channels) {
    e.preventDefault();
    typedDigit(e.key);
  }
});

// Back (Escape) goes back in history only when the previous entry is ours.
ctx.cameFromPortal = false;
window.addEventListener("hashchange", () => { ctx.cameFromPortal = true; render(); });

document.getElementById("logout").addEventListener("click", () => ctx.logout());

ctx.session = restoreSession();
render();

