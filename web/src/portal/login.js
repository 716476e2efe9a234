// SPDX-License-Identifier: MIT
// login.js -- the login form: POST /api/v1/portal/login, and what went
// wrong in words (wrong password, account disabled or expired, too many
// attempts with a countdown taken from Retry-After, no answer).

import { api, ApiError, h } from "/static/api.js";

// The server's reason as a sentence for the viewer.
export function loginError(e) {
  if (!(e instanceof ApiError)) return `Logging in failed: ${e && e.message ? e.message : e}`;
  const m = String(e.message || "");
  if (e.status === 401) return "Wrong username or password.";
  if (e.status === 403) {
    if (/disabled/i.test(m)) return "Your account is disabled. Please contact your TV provider.";
    if (/expired/i.test(m)) return "Your subscription has expired. Please contact your TV provider to renew it.";
    return `You cannot log in: ${m}`;
  }
  if (e.status === 0) return `The server cannot be reached: ${m}. Check your connection and try again.`;
  return `Logging in failed: ${m}`;
}

export function loginView(ctx) {
  const user = h("input", { id: "login-user", name: "username", autocomplete: "username", autocapitalize: "none",
                            spellcheck: "false", required: true, maxlength: "64" });
  const pass = h("input", { id: "login-password", name: "password", type: "password",
                            autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", id: "login-submit" }, "Log in");
  const error = h("p", { class: "error login-error", id: "login-error", role: "alert" });
  const note = h("p", { class: "muted login-note", role: "status" }, ctx.loginMessage || "");
  let timer = 0;
  let busy = false;

  function countdown(seconds) {
    const until = Date.now() + seconds * 1000;
    submit.disabled = true;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(timer);
        timer = 0;
        submit.disabled = false;
        error.textContent = "You can try again now.";
        return;
      }
      error.textContent = `Too many attempts. Try again in ${left} s.`;
    };
    clearInterval(timer);
    tick();
    timer = setInterval(tick, 250);
  }

  const form = h("form", {
    class: "login-form", novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      if (busy || submit.disabled) return;
      const username = user.value.trim();
      if (!username || !pass.value) {
        error.textContent = "Enter your username and password.";
        (username ? pass : user).focus();
        return;
      }
      busy = true;
      submit.disabled = true;
      submit.textContent = "Logging in…";
      error.textContent = "";
      note.textContent = "";
      let retry = 0;
      try {
        const r = await api("POST", "/api/v1/portal/login", { body: { username, password: pass.value } });
        if (!r || !r.token) throw new ApiError(500, "the server sent no token");
        pass.value = "";
        ctx.loggedIn({ token: r.token, expires: r.expires || 0, subscriber: r.subscriber || username });
        return;
      } catch (err) {
        if (err instanceof ApiError && err.status === 429) retry = err.retryAfter || 5;
        else error.textContent = loginError(err);
        if (err instanceof ApiError && err.status === 401) { pass.value = ""; pass.focus(); }
      } finally {
        busy = false;
        submit.textContent = "Log in";
        submit.disabled = false;
      }
      if (retry) countdown(retry);
    },
  },
  h("label", { for: "login-user" }, "Username"), user,
  h("label", { for: "login-password" }, "Password"), pass,
  error,
  submit);

  const el = h("section", { class: "login card", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Watch TV"),
    h("p", { class: "muted" }, "Log in with the username and password from your TV provider."),
    note, form);

  return {
    el,
    focusFirst() { user.focus(); },
    destroy() { clearInterval(timer); },
  };
}
