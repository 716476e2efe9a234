// SPDX-License-Identifier: MIT
// common.js -- what the portal's views share about a channel: its logo (or
// a placeholder with its number), its state in words, and now/next with
// times and how far the current programme has got.

import { h, fmtClock } from "/static/api.js";

// Unix seconds from a programme time (ISO string or seconds).
export function unix(t) {
  if (typeof t === "number") return t;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? NaN : ms / 1000;
}

export function span(p) {
  const start = p.start_unix ?? unix(p.start);
  const stop = p.stop_unix ?? unix(p.stop);
  return { start, stop };
}

export function timeRange(p) {
  const { start, stop } = span(p);
  return `${fmtClock(start)}–${fmtClock(stop)}`;
}

export function channelLabel(c) {
  return c.number ? `${c.number} · ${c.title || c.name}` : (c.title || c.name);
}

// The channel's state in words when it cannot be watched as normal; "" when live.
export function stateText(c) {
  switch (c.state) {
    case "up": case "degraded": case "idle": case undefined: case "": return "";
    case "starting": return "Starting…";
    case "down": return "Off air";
    default: return String(c.state);
  }
}

// The logo, or the channel number in a box when there is none or it does not load.
export function logo(c, cls = "logo") {
  const placeholder = () => h("span", { class: `${cls} logo-ph`, "aria-hidden": "true" },
    c.number ? String(c.number) : (c.title || c.name || "?").slice(0, 2).toUpperCase());
  if (!c.logo || !/^(https?:\/\/|\/)/i.test(c.logo)) return placeholder();
  const img = h("img", { class: cls, src: c.logo, alt: "", loading: "lazy", decoding: "async", referrerpolicy: "no-referrer" });
  img.addEventListener("error", () => img.replaceWith(placeholder()), { once: true });
  return img;
}

// How far the programme has got: {fraction, left} (left in minutes), or null.
export function progress(p, now = Date.now() / 1000) {
  const { start, stop } = span(p);
  if (!(stop > start)) return null;
  const fraction = Math.min(1, Math.max(0, (now - start) / (stop - start)));
  return { fraction, left: Math.max(0, Math.ceil((stop - now) / 60)) };
}

// A bar (role=progressbar) plus "N min left" in words.
export function progressBar(p) {
  const pr = progress(p);
  if (!pr) return null;
  const pct = Math.round(pr.fraction * 100);
  const fill = h("span", { class: "pbar-fill" });
  fill.style.width = `${pct}%`;
  return h("span", { class: "pbar-row" },
    h("span", { class: "pbar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
                "aria-valuenow": String(pct), "aria-label": `${pct}% of the programme shown` }, fill),
    h("span", { class: "pbar-left" }, pr.left >= 60 ? `${Math.floor(pr.left / 60)} h ${pr.left % 60} min left`
                                                    : `${pr.left} min left`));
}

// Now and next as lines of text (for tiles and the player).
export function nowNext(c, { bar = true } = {}) {
  const epg = c.epg || {};
  const out = [];
  if (epg.now) {
    out.push(h("span", { class: "now" },
      h("span", { class: "tag" }, "Now"), " ",
      h("span", { class: "time" }, timeRange(epg.now)), " ",
      h("span", { class: "prog-title" }, epg.now.title || "")));
    if (bar) out.push(progressBar(epg.now));
  }
  if (epg.next) {
    out.push(h("span", { class: "next" },
      h("span", { class: "tag" }, "Next"), " ",
      h("span", { class: "time" }, fmtClock(span(epg.next).start)), " ",
      h("span", { class: "prog-title" }, epg.next.title || "")));
  }
  if (!out.length) out.push(h("span", { class: "no-epg muted" }, "No programme information"));
  return out;
}
