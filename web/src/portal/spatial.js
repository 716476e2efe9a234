// SPDX-License-Identifier: MIT
// spatial.js -- arrow-key navigation for a TV remote: from the focused
// element to the nearest focusable one in the arrow's direction, measured
// on screen (so it works across the grid whatever its number of columns).

const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), " +
  "video[controls], [tabindex]:not([tabindex='-1'])";

function visible(el) {
  if (el.closest(".hidden, [hidden]")) return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0;
}

function candidates() {
  return [...document.querySelectorAll(FOCUSABLE)].filter((el) => !el.classList.contains("skip") && visible(el));
}

// How far `q` is from `r` going in `dir`; Infinity when it is not that way.
function distance(dir, r, q) {
  const horizontal = dir === "left" || dir === "right";
  const sign = dir === "right" || dir === "down" ? 1 : -1;
  const c = (a, b) => (a + b) / 2;
  const from = horizontal ? c(r.left, r.right) : c(r.top, r.bottom);
  const to = horizontal ? c(q.left, q.right) : c(q.top, q.bottom);
  if ((to - from) * sign <= 1) return Infinity;
  const gap = sign > 0 ? (horizontal ? q.left - r.right : q.top - r.bottom)
                       : (horizontal ? r.left - q.right : r.top - q.bottom);
  const [a0, a1, b0, b1] = horizontal ? [r.top, r.bottom, q.top, q.bottom] : [r.left, r.right, q.left, q.right];
  const apart = Math.max(0, Math.max(a0, b0) - Math.min(a1, b1));   // 0 when they overlap across the move
  const offCentre = Math.abs(c(a0, a1) - c(b0, b1));
  return Math.max(0, gap) + apart * 3 + offCentre * 0.05 + (apart > 0 ? 1000 : 0);
}

// Moves the focus; false when there is nowhere to go (the key then does
// what it does by default, e.g. scrolls).
export function moveFocus(dir) {
  const list = candidates();
  if (!list.length) return false;
  const from = document.activeElement;
  if (!from || from === document.body || !list.includes(from)) {
    const first = document.querySelector("main [data-autofocus]") || list.find((el) => el.closest("main")) || list[0];
    if (first && visible(first)) { first.focus(); return true; }
    return false;
  }
  const r = from.getBoundingClientRect();
  let best = null;
  let bestScore = Infinity;
  for (const el of list) {
    if (el === from) continue;
    const s = distance(dir, r, el.getBoundingClientRect());
    if (s < bestScore) { bestScore = s; best = el; }
  }
  if (!best) return false;
  best.focus();
  best.scrollIntoView({ block: "nearest", inline: "nearest" });
  return true;
}
