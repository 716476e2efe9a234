// SPDX-License-Identifier: MIT
// watch.js -- a live channel (#/watch/NAME): the player, what is on now and
// next, and zapping (the buttons, Page Up/Down or a remote's channel keys,
// and Up/Down while the picture has the focus). Zapping replaces the
// history entry, so Back returns to the grid, not through every channel.

import { h } from "/static/api.js";
import { channelLabel, logo, nowNext, stateText } from "./common.js";
import { Player } from "./player.js";

export function watchView(ctx, name) {
  const player = new Player({ label: "Live TV" });
  const heading = h("h1", { class: "watch-title", id: "watch-title" });
  const info = h("div", { class: "watch-info" });
  const prev = h("button", { type: "button", class: "secondary zap zap-prev", onclick: () => zap(-1) });
  const next = h("button", { type: "button", class: "secondary zap zap-next", onclick: () => zap(+1) });
  const back = h("button", { type: "button", class: "secondary back", onclick: () => ctx.back() }, "← Channels");
  const el = h("section", { class: "watch-view", "aria-labelledby": "watch-title" },
    h("div", { class: "view-head" }, back, heading),
    player.el,
    h("div", { class: "zap-row", role: "group", "aria-label": "Change channel" }, prev, next),
    info,
    h("p", { class: "muted key-hint" },
      "Keys: Page Up / Page Down (or ↑ ↓ on the picture) change channel; digits pick a channel by number; Esc goes back."));
  let current = null;

  player.onstop = (status) => {
    // Refused: maybe the login itself has ended (then ctx.call goes to the login form).
    if (status === 401 || status === 403) ctx.call("/api/v1/portal/me").catch(() => {});
  };

  function neighbour(step) {
    const list = ctx.channels || [];
    if (!current || list.length < 2) return null;
    const i = list.findIndex((c) => c.name === current.name);
    return list[(i + step + list.length) % list.length];
  }

  function drawInfo() {
    const c = ctx.channel(current.name) || current;
    heading.replaceChildren(logo(c, "logo logo-small"), h("span", {}, channelLabel(c)));
    const state = stateText(c);
    info.replaceChildren(...[
      state ? h("p", { class: `state state-${c.state}` }, state) : null,
      h("p", { class: "now-next" }, nowNext(c)),
      c.archive ? h("p", {}, h("a", { href: `#/catchup/${encodeURIComponent(c.name)}` },
        `Catch-up: earlier programmes of ${c.title || c.name}`)) : null,
    ].filter(Boolean));
    const p = neighbour(-1);
    const n = neighbour(+1);
    prev.disabled = !p;
    next.disabled = !n;
    prev.textContent = p ? `‹ ${channelLabel(p)}` : "‹ Previous";
    next.textContent = n ? `${channelLabel(n)} ›` : "Next ›";
    prev.setAttribute("aria-label", p ? `Previous channel: ${channelLabel(p)}` : "Previous channel");
    next.setAttribute("aria-label", n ? `Next channel: ${channelLabel(n)}` : "Next channel");
    document.title = `${channelLabel(c)} — antenne TV`;
  }

  let tuneSerial = 0;
  async function tune(c) {
    const serial = ++tuneSerial;
    current = c;
    ctx.lastWatched = c.name;
    el.dataset.channel = c.name;
    drawInfo();
    const opts = { live: true, title: c.title || c.name };
    if (c.state === "down") {
      // Off air a minute ago: ask again before saying so (the list may be old).
      player.hold(c.hls, opts, `Checking ${opts.title}…`, "loading");
      await ctx.loadChannels();
      if (serial !== tuneSerial) return;
      c = ctx.channel(c.name) || c;
      drawInfo();
      if (c.state === "down") {
        player.hold(c.hls, opts, `Off air: ${opts.title} has no signal right now. Try again later, or pick another channel.`);
        return;
      }
    }
    player.play(c.hls, opts);
  }

  function zap(step) {
    const c = neighbour(step);
    if (!c) return;
    history.replaceState(null, "", `#/watch/${encodeURIComponent(c.name)}`);
    tune(c);
  }

  const start = ctx.channel(name);
  if (!start) {
    const msg = ctx.channelsError ? `Could not load the channels: ${ctx.channelsError.message}`
                                  : "This channel is not in your subscription.";
    el.replaceChildren(h("div", { class: "view-head" }, back, h("h1", { id: "watch-title" }, "Channel not available")),
      h("p", { class: "error", role: "alert" }, msg), h("p", {}, h("a", { href: "#/" }, "Back to your channels")));
    return { el, destroy() { player.destroy(); }, focusFirst() { back.focus(); } };
  }
  tune(start);

  return {
    el,
    refresh() { if (current) drawInfo(); },
    destroy() { player.destroy(); },
    focusFirst() { player.video.focus({ preventScroll: true }); },
    onKey(e, typing) {
      if (typing) return false;
      const onPicture = document.activeElement === player.video || document.activeElement === document.body ||
                        document.activeElement === document.getElementById("main");
      if (e.key === "PageUp" || e.key === "ChannelUp" || (onPicture && e.key === "ArrowUp")) { zap(+1); return true; }
      if (e.key === "PageDown" || e.key === "ChannelDown" || (onPicture && e.key === "ArrowDown")) { zap(-1); return true; }
      return false;
    },
  };
}
