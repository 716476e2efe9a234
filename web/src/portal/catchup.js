// SPDX-License-Identifier: MIT
// catchup.js -- catch-up TV of a recorded channel (#/catchup/NAME): the
// programmes of a past day (GET /api/v1/portal/channels/NAME/epg?from=&to=)
// and, for those the archive holds (`catchup`), playback of the recording
// (its VOD playlist) in the player above the list.

import { h } from "/static/api.js";
import { channelLabel, logo, span, timeRange } from "./common.js";
import { Player } from "./player.js";

const MAX_DAYS = 14;

function dayStart(offset) {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - offset);
  return d;
}

function dayName(offset) {
  if (offset === 0) return "Today";
  if (offset === 1) return "Yesterday";
  return dayStart(offset).toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" });
}

// The catch-up playlist URL: absolute paths as given; a bare /live/... path
// gets the viewer's token prefix (taken from the channel's live URL).
function catchupUrl(channel, hls) {
  if (!hls || /^(https?:)?\/\/|^\/t\//.test(hls)) return hls;
  const m = /^(.*)\/live\//.exec(channel.hls || "");
  return m && hls.startsWith("/live/") ? m[1] + hls : hls;
}

export function catchupView(ctx, name) {
  const channel = ctx.channel(name);
  const back = h("button", { type: "button", class: "secondary back", onclick: () => ctx.back() }, "← Channels");
  const heading = h("h1", { id: "catchup-title" });
  const el = h("section", { class: "catchup-view", "aria-labelledby": "catchup-title" },
    h("div", { class: "view-head" }, back, heading));
  if (!channel || !channel.archive) {
    heading.textContent = "Catch-up";
    el.append(h("p", { class: "error", role: "alert" }, !channel
      ? (ctx.channelsError ? `Could not load the channels: ${ctx.channelsError.message}`
                           : "This channel is not in your subscription.")
      : `${channel.title || channel.name} is not recorded: there is no catch-up for it.`),
    h("p", {}, h("a", { href: "#/" }, "Back to your channels")));
    return { el, focusFirst() { back.focus(); } };
  }
  ctx.lastWatched = channel.name;
  heading.replaceChildren(logo(channel, "logo logo-small"), h("span", {}, `Catch-up · ${channelLabel(channel)}`));
  document.title = `Catch-up: ${channel.title || channel.name} — antenne TV`;

  const player = new Player({ label: "Recording" });
  const playing = h("p", { class: "catchup-playing", role: "status" });
  const stage = h("div", { class: "catchup-stage hidden" }, player.el, playing);
  const days = h("div", { class: "filters days", role: "group", "aria-label": "Day" });
  const status = h("p", { class: "muted", role: "status" });
  const list = h("ol", { class: "programmes", "aria-label": "Programmes" });
  const live = h("a", { href: `#/watch/${encodeURIComponent(channel.name)}` }, `Watch ${channel.title || channel.name} live`);
  el.append(stage, days, status, list, h("p", {}, live));

  const nDays = Math.min(MAX_DAYS, Math.max(1, channel.archive_days || 7));
  let day = 0;
  let serial = 0;
  let playingKey = "";

  function drawDays() {
    days.replaceChildren(...Array.from({ length: nDays }, (_, i) => h("button", {
      type: "button", class: "chip", "aria-pressed": String(i === day), dataset: { day: String(i) },
      onclick: () => { day = i; drawDays(); load(); },
    }, dayName(i))));
  }

  function play(p, button) {
    const url = catchupUrl(channel, p.catchup.hls);
    const { start } = span(p);
    playingKey = `${start}`;
    stage.classList.remove("hidden");
    playing.textContent = `Playing the recording of ${p.title} (${dayName(day)}, ${timeRange(p)})`;
    for (const b of list.querySelectorAll("button[aria-current]")) b.removeAttribute("aria-current");
    if (button) button.setAttribute("aria-current", "true");
    player.play(url, { live: false, title: p.title });
    stage.scrollIntoView({ block: "nearest" });
  }

  async function load() {
    const s = ++serial;
    const from = Math.floor(dayStart(day).getTime() / 1000);
    const now = Math.floor(Date.now() / 1000);
    const to = Math.min(now, Math.floor(dayStart(day - 1).getTime() / 1000));
    status.textContent = "Loading the programmes…";
    list.replaceChildren();
    let r;
    try {
      r = await ctx.call(`/api/v1/portal/channels/${encodeURIComponent(channel.name)}/epg?from=${from}&to=${Math.max(to, from + 1)}`);
    } catch (e) {
      if (s !== serial) return;
      status.textContent = "";
      list.replaceChildren(h("li", { class: "error", role: "alert" }, `Could not load the programmes: ${e.message}`));
      return;
    }
    if (s !== serial) return;
    const progs = ((r && r.programmes) || []).filter((p) => span(p).start < now);
    const playable = progs.filter((p) => p.catchup && p.catchup.hls).length;
    status.textContent = progs.length
      ? `${progs.length} programme${progs.length === 1 ? "" : "s"}, ${playable} recorded.`
      : `No programmes on ${dayName(day).toLowerCase() === "today" ? "today so far" : dayName(day)}.`;
    list.replaceChildren(...progs.map((p) => {
      const { start, stop } = span(p);
      const onNow = start <= now && now < stop;
      const text = [
        h("span", { class: "time" }, timeRange(p)),
        h("span", { class: "prog-title" }, p.title || "(untitled)"),
        p.subtitle ? h("span", { class: "prog-sub muted" }, p.subtitle) : null,
        onNow ? h("span", { class: "tag tag-now" }, "On now") : null,
      ];
      if (p.catchup && p.catchup.hls) {
        const button = h("button", {
          type: "button", class: "prog-play", dataset: { start: String(start) },
          "aria-label": `Play ${p.title || "the programme"}, ${dayName(day)} ${timeRange(p)}`,
        }, ...text, h("span", { class: "avail" }, onNow ? "▶ Play from the start" : "▶ Play"));
        button.addEventListener("click", () => play(p, button));
        if (playingKey === `${start}`) button.setAttribute("aria-current", "true");
        return h("li", { class: "prog has-catchup" }, button,
          p.description ? h("p", { class: "prog-desc muted" }, p.description) : null);
      }
      return h("li", { class: "prog" }, h("div", { class: "prog-row" }, ...text,
        h("span", { class: "avail muted" }, "Not recorded")),
      p.description ? h("p", { class: "prog-desc muted" }, p.description) : null);
    }));
  }

  drawDays();
  load();
  return {
    el,
    destroy() { serial++; player.destroy(); },
    focusFirst() { const b = days.querySelector("button[aria-pressed=true]"); if (b) b.focus({ preventScroll: true }); },
    onKey(e) {
      // On the picture, ← → skip 10 s in the recording.
      if (document.activeElement !== player.video || player.state === "stopped") return false;
      const v = player.video;
      if (e.key === "ArrowLeft") { v.currentTime = Math.max(0, v.currentTime - 10); return true; }
      if (e.key === "ArrowRight" && Number.isFinite(v.duration)) {
        v.currentTime = Math.min(v.duration - 0.5, v.currentTime + 10);
        return true;
      }
      return false;
    },
  };
}
