// SPDX-License-Identifier: MIT
// api.js -- what the operator UI and the viewer portal share: the JSON API
// client (bearer token, a timeout on every call so nothing hangs when the
// server is busy, errors in words), a DOM builder that only ever sets text
// (names from the database are never parsed as HTML), and formatting.

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;          // 0: no answer at all
    this.retryAfter = retryAfter;  // seconds, from a 429's Retry-After
  }
}

// Calls the API: api("GET", "/api/v1/channels", {token}). Resolves to the
// parsed JSON body (null for 204), rejects with an ApiError whose message is
// the server's {"error": "..."} or says why there was no answer.
export async function api(method, path, { token, body, timeoutMs = 10000 } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(path, {
      method, headers, cache: "no-store", signal: abort.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: the text is the message */ }
    if (!response.ok) {
      const message = (data && data.error) || text.trim() || response.statusText || `HTTP ${response.status}`;
      throw new ApiError(response.status, message, Number(response.headers.get("Retry-After")) || 0);
    }
    return data;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (e.name === "AbortError") throw new ApiError(0, `the server did not answer within ${timeoutMs / 1000} s`);
    throw new ApiError(0, `cannot reach the server (${e.message})`);
  } finally {
    clearTimeout(timer);
  }
}

// h("td", {class: "x", onclick: f}, "text", child...): an element whose
// strings become text nodes. Attributes starting with "on" are listeners;
// null/undefined/false children and attributes are left out.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function fmtBitrate(bps) {
  if (!Number.isFinite(bps) || bps <= 0) return "0";
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e7 ? 0 : 1)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n) || n < 1024) return `${n | 0} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
  return `${n.toFixed(n >= 100 ? 0 : 1)} ${units[i]}`;
}

// Unix seconds (or an ISO string) as local "HH:MM".
export function fmtClock(t) {
  const d = typeof t === "number" ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function fmtDateTime(t) {
  const d = typeof t === "number" ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

// "3 min ago" for Unix seconds.
export function fmtAgo(unix) {
  const s = Math.max(0, Math.round(Date.now() / 1000 - unix));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}
