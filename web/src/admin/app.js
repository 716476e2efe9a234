// SPDX-License-Identifier: MIT
// app.js -- the operator UI's shell: login with the admin API token, the
// navigation bar and the hash router (#/channels, #/channels/NAME,
// #/subscribers, ...). A page is a function (main, params, query) that builds
// into <main> and returns its clean-up (stop polls, players); the router calls
// it before the next page. The dashboard comes with this module; the other
// pages' modules load when first opened (the landing page asks the server
// sooner).
import { api, ApiError } from "/static/api.js";
import { auth, h, errText } from "./lib.js";
import { dashboard } from "./channels.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const logout = document.getElementById("logout");

const lazy = (load, name) => async () => (await load())[name];
// [pattern on the path after "#/", () => page function, title, nav entry it belongs to]
const routes = [
  [/^(channels)?$/, async () => dashboard, "Channels", "channels"],
  [/^channels\/([a-z0-9_-]+)$/, lazy(() => import("./channel.js"), "channelPage"), "Channel", "channels"],
  [/^subscribers$/, lazy(() => import("./subscribers.js"), "subscriberList"), "Subscribers", "subscribers"],
  [/^subscribers\/([a-z0-9_-]+)$/, lazy(() => import("./subscribers.js"), "subscriberPage"), "Subscriber", "subscribers"],
  [/^packages$/, lazy(() => import("./packages.js"), "packageList"), "Packages", "packages"],
  [/^packages\/([a-z0-9_-]+)$/, lazy(() => import("./packages.js"), "packagePage"), "Package", "packages"],
  [/^sessions$/, lazy(() => import("./sessions.js"), "sessionsPage"), "Sessions", "sessions"],
  [/^epg$/, lazy(() => import("./epg.js"), "epgPage"), "EPG sources", "epg"],
  [/^events$/, lazy(() => import("./events.js"), "eventsPage"), "Events", "events"],
];

let cleanup = null;
let generation = 0;   // a route whose module arrives after the next navigation is dropped
let refusal = "";

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, qs] = raw.split("?");
  return { path: decodeURIComponent(path || ""), query: new URLSearchParams(qs || "") };
}

function leave() {
  if (cleanup) {
    try { cleanup(); } catch (e) { console.error(e); }
  }
  cleanup = null;
  main.replaceChildren();
}

async function route(event) {
  const mine = ++generation;
  leave();
  if (!auth.token) { showLogin(); return; }
  nav.classList.remove("hidden");
  logout.classList.remove("hidden");
  const { path, query } = parseHash();
  let found = null;
  for (const [re, page, title, section] of routes) {
    const m = path.match(re);
    if (m) { found = { page, title, section, params: m.slice(1) }; break; }
  }
  for (const a of nav.querySelectorAll("a")) {
    if (found && a.dataset.section === found.section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!found) {
    document.title = "Not found — antenne";
    main.append(h("h1", null, "Not found"), h("p", null, "No page here. ", h("a", { href: "#/channels" }, "Channels")));
    return;
  }
  document.title = `${found.title} — antenne`;
  try {
    const page = await found.page();
    if (mine !== generation) return;
    cleanup = page(main, found.params, query) || null;
  } catch (e) {
    if (mine !== generation) return;
    main.append(h("p", { class: "error", role: "alert" }, `This page failed: ${errText(e)}`));
    console.error(e);
  }
  // After a link was followed, the keyboard (and a screen reader) starts in the new page.
  if (event && event.type === "hashchange") main.focus({ preventScroll: true });
}

function showLogin() {
  document.title = "Log in — antenne";
  nav.classList.add("hidden");
  logout.classList.add("hidden");
  const input = h("input", { id: "token", type: "password", autocomplete: "current-password", required: true,
                             spellcheck: "false", "aria-describedby": "token-help" });
  const msg = h("p", { class: refusal ? "msg error" : "msg hidden", role: "alert", id: "login-error" }, refusal);
  const submit = h("button", { type: "submit" }, "Log in");
  const form = h("form", { class: "card login" },
                 h("h1", null, "antenne operator"),
                 h("label", { for: "token" }, "Admin API token"), input,
                 h("small", { id: "token-help", class: "help muted" },
                   "Printed by the server's first start, or made with `antenne admin-token create NAME`. "
                   + "It is kept for this browser tab only."),
                 h("div", { class: "actions" }, submit), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    submit.disabled = true;
    msg.className = "msg muted";
    msg.textContent = "Checking the token…";
    try {
      await api("GET", "/api/v1/packages", { token });
      refusal = "";
      auth.set(token);
      route();
    } catch (err) {
      msg.className = "msg error";
      msg.textContent = err instanceof ApiError && err.status === 401
        ? `Wrong token: the server refused it (HTTP 401: ${err.message}).`
        : `Cannot log in: ${errText(err)}`;
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
  main.append(form);
  input.focus();
}

auth.onRefused = (e) => {
  if (!auth.token) return;
  auth.clear();
  refusal = `The server no longer accepts the token (HTTP 401: ${e.message}). Log in again.`;
  route();
};

logout.addEventListener("click", () => {
  auth.clear();
  refusal = "";
  route();
});

window.addEventListener("hashchange", route);
route();
