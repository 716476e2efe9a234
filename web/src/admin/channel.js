// SPDX-License-Identifier: MIT
// channel.js -- one channel (#/channels/NAME): state, a live input-bitrate
// graph (uPlot, seeded from /history then fed by the 2 s poll), TR 101 290
// counters, PIDs, sources, EPG now/next, the channel's events, a preview
// player (hls.js with the admin token in a header), the settings form and
// removal. uPlot and hls.js are loaded only here, and hls.js only on "Play".
import { fmtBitrate, fmtBytes } from "/static/api.js";
import { h, call, enc, Poller, liveLine, table, setText, setClass, badge, confirmButton, makeForm, msgLine,
         loadScript, loadCss, fmtInt, fmtWhen, auth, errText } from "./lib.js";
import { CHANNEL_MAIN, CHANNEL_MORE, TR_ERRORS, recentErrors } from "./channels.js";

const WINDOW_S = 600;   // the graph shows the last 10 minutes

function card(title, ...content) {
  return h("section", { class: "card" }, h("h2", null, title), ...content);
}

// The bitrate graph; returns {el, seed(history), add(t, bps), destroy()}.
function bitrateGraph() {
  const box = h("div", { class: "graph", role: "img", "aria-label": "Input bitrate over the last minutes" });
  const note = h("p", { class: "muted small" });
  const xs = [], ys = [];
  let plot = null, observer = null, dead = false;
  const draw = () => {
    box.dataset.points = String(xs.length);
    if (plot) plot.setData([xs.slice(), ys.slice()]);
  };
  const trim = () => {
    const from = xs.length ? xs[xs.length - 1] - WINDOW_S : 0;
    while (xs.length && xs[0] < from) { xs.shift(); ys.shift(); }
  };
  loadCss("/static/vendor/uPlot.css");
  loadScript("/static/vendor/uPlot.js").then(() => {
    if (dead) return;
    const css = getComputedStyle(document.documentElement);
    const accent = css.getPropertyValue("--accent").trim() || "#1d5fd1";
    const muted = css.getPropertyValue("--muted").trim() || "#888";
    const line = css.getPropertyValue("--line").trim() || "#ccc";
    const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    const mbit = (v) => (v == null ? "–" : fmtBitrate(v));
    plot = new window.uPlot({
      width: Math.max(200, box.clientWidth || 400), height: 220,
      series: [{}, { label: "input", stroke: accent, width: 2, fill: `${accent}22`, value: (u, v) => mbit(v) }],
      axes: [axis, { ...axis, size: 84, values: (u, vals) => vals.map((v) => fmtBitrate(v)) }],
      scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 120), max] },
                y: { range: (u, min, max) => [0, Math.max(max * 1.15, 100000)] } },
      legend: { show: true },
    }, [xs.slice(), ys.slice()], box);
    observer = new ResizeObserver(() => {
      if (plot && box.clientWidth) plot.setSize({ width: box.clientWidth, height: 220 });
    });
    observer.observe(box);
  }, (e) => { note.textContent = `The graph cannot be drawn: ${errText(e)}`; });
  return {
    el: h("div", null, box, note),
    seed(hist) {
      const values = Array.isArray(hist && hist.input_bitrate) ? hist.input_bitrate : [];
      const n = values.length;
      const step = hist.interval_s || 5;
      const seeded = values.map((v, i) => [hist.end - (n - 1 - i) * step, v]);
      const later = xs.map((x, i) => [x, ys[i]]).filter(([x]) => !n || x > hist.end);
      xs.length = ys.length = 0;
      for (const [x, y] of [...seeded, ...later]) { xs.push(x); ys.push(y); }
      trim();
      draw();
    },
    add(t, bps) {
      if (xs.length && t <= xs[xs.length - 1]) return;
      xs.push(t); ys.push(bps);
      trim();
      draw();
    },
    note,
    destroy() { dead = true; if (observer) observer.disconnect(); if (plot) plot.destroy(); },
  };
}

// The preview player: hls.js on /live/NAME/index.m3u8 with the admin token.
function preview(name) {
  const video = h("video", { muted: true, playsinline: true, controls: true, preload: "none",
                             "aria-label": `Preview of ${name}` });
  video.muted = true;
  const btn = h("button", { type: "button", class: "secondary", "aria-pressed": "false" }, "Play preview");
  const msg = msgLine();
  let hls = null;
  let playing = false;
  const stop = () => {
    if (hls) { hls.destroy(); hls = null; }
    video.pause();
    video.removeAttribute("src");
    video.load();
    playing = false;
    btn.textContent = "Play preview";
    btn.setAttribute("aria-pressed", "false");
  };
  const start = async () => {
    msg.clear();
    playing = true;
    btn.textContent = "Stop preview";
    btn.setAttribute("aria-pressed", "true");
    const url = `/live/${enc(name)}/index.m3u8`;
    try {
      const { default: Hls } = await import("/static/vendor/hls.mjs");
      if (!playing) return;
      if (Hls.isSupported()) {
        const token = auth.token;
        hls = new Hls({ xhrSetup: (xhr) => xhr.setRequestHeader("Authorization", `Bearer ${token}`),
                        manifestLoadingMaxRetry: 2, liveDurationInfinity: true });
        hls.on(Hls.Events.ERROR, (ev, data) => {
          if (!data.fatal) return;
          const code = data.response && data.response.code;
          msg.error(new Error(`The preview stopped: ${data.details}${code ? ` (HTTP ${code})` : ""}`));
          stop();
        });
        hls.loadSource(url);
        hls.attachMedia(video);
      } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
        video.src = url;   // native HLS cannot send the token: free-to-air channels only
      } else {
        throw new Error("this browser cannot play HLS");
      }
      await video.play().catch(() => {});
    } catch (e) {
      msg.error(e);
      stop();
    }
  };
  btn.addEventListener("click", () => (playing ? stop() : start()));
  return { el: h("div", { class: "preview" }, video, h("div", { class: "actions" }, btn), msg), stop, video };
}

export function channelPage(main, [name]) {
  const live = liveLine();
  const title = h("span");
  const state = h("span");
  const reason = h("span", { class: "muted" });
  const notFound = msgLine();
  const graph = bitrateGraph();
  const player = preview(name);

  const details = h("dl", { class: "details" });
  const detail = (label) => {
    const dd = h("dd");
    details.append(h("dt", null, label), dd);
    return dd;
  };
  const d = {
    name: detail("Name"), number: detail("Number"), group: detail("Group"), input: detail("Input"),
    output: detail("Output (HTTP-TS)"), viewers: detail("Viewers"), source: detail("Source in use"),
    received: detail("Received"), switches: detail("Source switches"), hls: detail("HLS"),
    recording: detail("Archive"), warnings: detail("Warnings"),
  };
  const sources = h("ol", { class: "sources" });
  const epg = h("dl", { class: "details" });
  const epgNow = h("dd"), epgNext = h("dd");
  epg.append(h("dt", null, "Now"), epgNow, h("dt", null, "Next"), epgNext);

  const tr = table(["Check", "Priority", "Total", "Recent"], { caption: "TR 101 290", cls: "compact" });
  const trCells = {};
  for (const [key, , prio] of TR_ERRORS) {
    const total = h("td", { class: "num" }), recent = h("td", { class: "num" });
    trCells[key] = { total, recent };
    tr.tbody.append(h("tr", null, h("td", { title: key }, key.replace(/_/g, " ")), h("td", null, String(prio)),
                      total, recent));
  }
  const analysisState = h("p");
  const pids = table(["PID", "Bitrate", "Packets", "CC errors", "PCR", "Scrambled"], { caption: "PIDs", cls: "compact" });
  const events = table(["Time", "Kind", "Message"], { caption: "Events", cls: "compact" });

  let filled = null;    // what the form was filled with: a save sends only the fields changed since
  const more = h("details", { class: "more" }, h("summary", null, "More settings"));
  const moreForm = makeForm(CHANNEL_MORE);
  const form = makeForm(CHANNEL_MAIN, {
    submitLabel: "Save changes",
    extra: more,
    onSubmit: async () => {
      const change = { ...form.changed(filled), ...moreForm.changed(filled) };
      if (!Object.keys(change).length) return "Nothing changed.";
      const ch = await call("PATCH", `/api/v1/channels/${enc(name)}`, change);
      fill(ch, true);
      return `Saved: ${Object.keys(change).join(", ")}.`;
    },
  });
  // The advanced fields live inside the main form (one Save); their own form element is not used.
  more.append(moreForm.el.querySelector(".fields"));

  const remove = confirmButton("Remove channel", `Remove ${name}? Its viewers are cut off at once.`, "Yes, remove",
                               async () => {
                                 await call("DELETE", `/api/v1/channels/${enc(name)}`);
                                 location.hash = "#/channels";
                               });

  main.append(
    h("div", { class: "page-head" },
      h("p", { class: "crumbs" }, h("a", { href: "#/channels" }, "Channels"), " / ", name),
      h("h1", null, title, " ", state), h("p", null, reason), live, notFound),
    h("div", { class: "grid" },
      card("Preview", player.el),
      card("Input bitrate", graph.el),
      card("Details", details),
      card("Sources", sources, h("h3", null, "EPG"), epg),
      card("TR 101 290", analysisState, tr.wrap),
      card("PIDs", pids.wrap),
      card("Recent events", events.wrap),
      card("Settings", form.el),
      card("Remove", h("p", { class: "muted" }, "Removes the channel and its settings; the archive files stay."),
           remove)));

  function fill(ch, force) {
    if (!filled || force) { form.set(ch); moreForm.set(ch); filled = ch; }
  }

  let lastPids = "";
  function render(ch) {
    setText(title, ch.title || ch.name);
    state.replaceChildren(badge(ch.state));
    setText(reason, ch.state_reason || "");
    setText(d.name, ch.name);
    setText(d.number, ch.number || "—");
    setText(d.group, ch.group || "—");
    setText(d.input, fmtBitrate(ch.input_bitrate));
    setText(d.output, fmtBitrate(ch.output_bitrate));
    setText(d.viewers, fmtInt(ch.viewers));
    setText(d.source, ch.on_slate ? "slate (every source is down)" : ch.source || "—");
    const s = ch.stats || {};
    setText(d.received, `${fmtBytes(s.bytes_in || 0)}, ${fmtInt(s.keyframes)} keyframes, ${fmtInt(s.cc_errors)} CC errors`);
    setText(d.switches, fmtInt(s.source_switches));
    const hl = ch.hls || {};
    setText(d.hls, hl.target_duration ? `${hl.segments} segments of ${hl.target_duration} s, sequence ${hl.media_sequence}`
                                      : "no segment yet");
    const rec = ch.recording;
    setText(d.recording, rec ? `${rec.state}${rec.reason ? ` (${rec.reason})` : ""}, ${fmtBytes(rec.bytes || 0)}` : "off");
    setText(d.warnings, (ch.warnings || []).join("; ") || "none");

    const list = ch.sources || [];
    if (sources.dataset.key !== JSON.stringify([list, ch.source_index, ch.state])) {
      sources.dataset.key = JSON.stringify([list, ch.source_index, ch.state]);
      sources.replaceChildren(...list.map((url, i) => h("li", { class: i === ch.source_index ? "in-use" : null },
        h("code", null, url), i === ch.source_index && !ch.on_slate ? h("strong", null, " ← in use") : null)));
    }
    const ep = ch.epg || {};
    const airing = (a) => (a ? `${fmtWhen(a.start)}–${fmtWhen(a.stop)} ${a.title}` : "—");
    setText(epgNow, airing(ep.now));
    setText(epgNext, airing(ep.next));

    const a = ch.analysis || {};
    for (const [key] of TR_ERRORS) {
      const total = (a.errors || {})[key] || 0, recent = (a.recent || {})[key] || 0;
      setText(trCells[key].total, fmtInt(total));
      setText(trCells[key].recent, fmtInt(recent));
      setClass(trCells[key].recent, recent ? "num tr-bad" : "num");
      setClass(trCells[key].total, total ? "num warn" : "num");
    }
    const errs = recentErrors(a);
    setText(analysisState, `Analysis: ${a.state || "?"}${a.reason ? ` — ${a.reason}` : ""}${errs ? ` (now: ${errs})` : ""}`);
    const pidKey = JSON.stringify(a.pids || []);
    if (pidKey !== lastPids) {
      lastPids = pidKey;
      pids.tbody.replaceChildren(...(a.pids || []).map((p) => h("tr", null,
        h("td", null, `${p.pid} (0x${p.pid.toString(16)})`), h("td", { class: "num" }, fmtBitrate(p.bitrate)),
        h("td", { class: "num" }, fmtInt(p.packets)),
        h("td", { class: p.cc_errors ? "num tr-bad" : "num" }, fmtInt(p.cc_errors)),
        h("td", null, p.pcr ? "PCR" : ""), h("td", { class: p.scrambled ? "tr-bad" : null }, p.scrambled ? "scrambled" : ""))));
    }
  }

  let lastEvent = 0;
  function addEvents(list) {
    if (!list.length) return;
    const rows = list.map((e) => h("tr", null, h("td", null, fmtWhen(e.time)), h("td", null, e.kind),
                                   h("td", null, e.message)));
    events.tbody.prepend(...rows);
    lastEvent = Math.max(lastEvent, ...list.map((e) => e.id));
    while (events.tbody.rows.length > 30) events.tbody.lastElementChild.remove();
  }

  const poller = new Poller(async () => {
    const [ch, ev] = await Promise.all([
      call("GET", `/api/v1/channels/${enc(name)}`),
      call("GET", `/api/v1/events?channel=${enc(name)}&limit=20${lastEvent ? `&after=${lastEvent}` : ""}`)
        .catch(() => ({ events: [] })),
    ]);
    notFound.clear();
    render(ch);
    fill(ch);
    graph.add(Math.round(Date.now() / 1000), ch.input_bitrate || 0);
    addEvents(ev.events || []);
  }, 2000, (p) => {
    live.update(p);
    if (p.error && p.error.status === 404) notFound.error(p.error);
  }).start();

  call("GET", `/api/v1/channels/${enc(name)}/history`).then((hist) => graph.seed(hist), (e) => {
    if (e.status !== 401) graph.note.textContent = `No history from the server (${errText(e)}): the graph starts now.`;
  });

  return () => { poller.stop(); player.stop(); graph.destroy(); };
}
