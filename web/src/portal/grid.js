// SPDX-License-Identifier: MIT
// grid.js -- the channel grid: one tile per channel (logo, number, title,
// state in words, now/next with a progress bar, a catch-up link for
// recorded channels), in sections by group, with a group filter. A tile is
// a real <button>: Enter or a click plays the channel.

import { h } from "/static/api.js";
import { channelLabel, logo, nowNext, stateText } from "./common.js";

const GROUP_KEY = "antenne.portal.group";
const ALL = "";
const OTHER = "Other channels";

function groupsOf(channels) {
  const seen = [];
  for (const c of channels) {
    const g = c.group || OTHER;
    if (!seen.includes(g)) seen.push(g);
  }
  return seen;
}

function tile(c) {
  const state = stateText(c);
  const play = h("button", {
    type: "button", class: "tile-play", dataset: { channel: c.name },
    onclick: () => { location.hash = `#/watch/${encodeURIComponent(c.name)}`; },
  },
  logo(c),
  h("span", { class: "tile-text" },
    h("span", { class: "tile-name" },
      c.number ? h("span", { class: "num" }, String(c.number)) : null, c.number ? " " : null,
      h("span", { class: "title" }, c.title || c.name)),
    state ? h("span", { class: `state state-${c.state}` }, state) : null,
    nowNext(c)));
  const extra = c.archive
    ? h("a", { class: "tile-catchup", href: `#/catchup/${encodeURIComponent(c.name)}`,
               "aria-label": `Catch-up TV of ${channelLabel(c)}` }, "Catch-up")
    : null;
  return h("li", { class: `tile tile-${c.state || "unknown"}`, dataset: { channel: c.name } }, play, extra);
}

export function gridView(ctx) {
  let group = sessionStorage.getItem(GROUP_KEY) || ALL;
  const filters = h("div", { class: "filters", role: "group", "aria-label": "Show the channels of a group" });
  const body = h("div", { class: "grid-body" });
  const error = h("p", { class: "error", role: "alert" });
  const el = h("section", { class: "grid-view", "aria-labelledby": "grid-title" },
    h("h1", { id: "grid-title", class: "sr-only" }, "Channels"), error, filters, body);

  function draw() {
    const focused = document.activeElement;
    const refocus = focused && el.contains(focused)
      ? { channel: focused.closest("[data-channel]")?.dataset.channel, catchup: focused.classList.contains("tile-catchup"),
          group: focused.dataset.group }
      : null;
    const channels = ctx.channels || [];
    error.replaceChildren();
    if (ctx.channelsError) {
      error.append(`Could not load the channels: ${ctx.channelsError.message}. `,
        h("button", { type: "button", class: "secondary", onclick: async () => { await ctx.loadChannels(); draw(); } },
          "Try again"));
    }
    const groups = groupsOf(channels);
    if (group !== ALL && !groups.includes(group)) group = ALL;
    filters.replaceChildren();
    if (groups.length > 1) {
      for (const g of [ALL, ...groups]) {
        filters.append(h("button", {
          type: "button", class: "chip", "aria-pressed": String(g === group), dataset: { group: g || "all" },
          onclick: () => { group = g; sessionStorage.setItem(GROUP_KEY, g); draw(); },
        }, g || "All channels"));
      }
    }
    body.replaceChildren();
    if (!channels.length && !ctx.channelsError) {
      body.append(h("p", { class: "empty" }, "There are no channels in your subscription yet."));
    }
    for (const g of groups) {
      if (group !== ALL && g !== group) continue;
      const list = channels.filter((c) => (c.group || OTHER) === g);
      const id = `group-${groups.indexOf(g)}`;
      const section = h("section", { class: "group", "aria-labelledby": id },
        groups.length > 1 || g !== OTHER ? h("h2", { id }, g) : h("h2", { id, class: "sr-only" }, "Channels"),
        h("ul", { class: "tiles" }, list.map(tile)));
      // Small groups sit side by side; a big one takes the whole width.
      section.style.setProperty("--n", String(list.length));
      body.append(section);
    }
    if (refocus) {
      let target = null;
      if (refocus.channel) {
        const li = [...el.querySelectorAll("li.tile")].find((x) => x.dataset.channel === refocus.channel);
        target = li && (refocus.catchup ? li.querySelector(".tile-catchup") : li.querySelector(".tile-play"));
      } else if (refocus.group) {
        target = [...filters.children].find((b) => b.dataset.group === refocus.group);
      }
      if (target) target.focus({ preventScroll: true });
    }
  }

  draw();
  document.title = "Channels — antenne TV";
  return {
    el,
    refresh: draw,
    focusFirst() {
      // Back from a channel: its tile has the focus (a remote keeps its place).
      const last = ctx.lastWatched;
      const li = last && [...el.querySelectorAll("li.tile")].find((x) => x.dataset.channel === last);
      if (li) li.querySelector(".tile-play").focus();
    },
  };
}
