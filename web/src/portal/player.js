// SPDX-License-Identifier: MIT
// player.js -- one <video> that plays an HLS URL: hls.js where the browser
// has Media Source Extensions, the browser's own HLS (Safari, iOS) where it
// does not. hls.js is loaded the first time something plays.
//
// States (the element's data-state, and a message in words over the video):
//   idle -> loading -> playing <-> waiting
//   any -> stopped   (refused or failed: "Playback stopped: <the server's reason>";
//                     the video is torn down, so it visibly stops; "Try again")
//   playing -> ended (a recording played to its end)
// A stream that stops moving without an error (the server went quiet) is
// asked again after 15 s; if the server refuses it, or nothing moves for 45 s,
// playback stops too: the player never spins forever.

import { h } from "/static/api.js";

let hlsModule = null;
function loadHls() {
  hlsModule = hlsModule || import("/static/vendor/hls.mjs").then((m) => m.default).catch((e) => {
    hlsModule = null;
    throw e;
  });
  return hlsModule;
}

const PROBE_AFTER_S = 15;
const GIVE_UP_AFTER_S = 45;
const PROBE_TIMEOUT_MS = 8000;

// The text of a refused answer (what the server says), from hls.js's XHR.
function bodyOf(xhr) {
  if (!xhr) return "";
  try {
    if (xhr.responseType === "" || xhr.responseType === "text") return xhr.responseText || "";
  } catch { /* not readable as text */ }
  try {
    if (xhr.response instanceof ArrayBuffer) return new TextDecoder().decode(xhr.response.slice(0, 1000));
  } catch { /* nothing */ }
  return "";
}

function clean(text) {
  let t = String(text || "").trim();
  try { const j = JSON.parse(t); if (j && j.error) t = String(j.error); } catch { /* plain text */ }
  t = t.replace(/\s+/g, " ");
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

function describe(status, text) {
  const body = clean(text);
  if (body) return body;
  if (status === 403) return "access refused (403)";
  if (status === 404) return "not found (404)";
  if (status === 401) return "not logged in (401)";
  if (status >= 500) return `the server cannot send it now (${status})`;
  if (status) return `the server answered ${status}`;
  return "no answer from the server";
}

// Asks the URL once more, to learn why it fails: {status, reason}, or null when it plays.
async function probe(url) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), PROBE_TIMEOUT_MS);
  try {
    const r = await fetch(url, { cache: "no-store", signal: abort.signal });
    const text = await r.text();
    return r.ok ? null : { status: r.status, reason: describe(r.status, text) };
  } catch (e) {
    return { status: 0, reason: e.name === "AbortError" ? "the server did not answer" : `cannot reach the server (${e.message})` };
  } finally {
    clearTimeout(timer);
  }
}

export class Player {
  constructor({ label = "Video" } = {}) {
    this.video = h("video", { controls: true, playsinline: true, preload: "none", "aria-label": label });
    this.message = h("p", { class: "player-message", role: "status", "aria-live": "polite" });
    this.retryButton = h("button", { type: "button", class: "player-retry hidden", onclick: () => this.retry() }, "Try again");
    this.overlay = h("div", { class: "player-overlay" }, this.message, this.retryButton);
    this.el = h("div", { class: "player", dataset: { state: "idle" } }, this.video, this.overlay);
    this.hls = null;
    this.serial = 0;
    this.onstop = null;      // (status, reason) when playback stopped on an error
    this.onstate = null;
    this.watchdog = 0;
    const v = this.video;
    v.addEventListener("playing", () => { if (this.url && this.state !== "stopped") this.setState("playing"); });
    v.addEventListener("waiting", () => { if (this.state === "playing") this.setState("waiting", "Buffering…"); });
    v.addEventListener("ended", () => {
      if (this.state !== "stopped") this.setState("ended", this.live ? "The stream has ended." : "The recording has ended.");
    });
    v.addEventListener("error", () => {
      // Native HLS (Safari) reports failures here; hls.js reports them as its own errors.
      if (!this.hls && this.url && this.state !== "stopped" && this.state !== "idle") this.failed(this.serial, 0, "");
    });
  }

  setState(state, text = "") {
    this.state = state;
    this.el.dataset.state = state;
    this.message.textContent = text;
    this.overlay.classList.toggle("hidden", state === "playing");
    this.retryButton.classList.toggle("hidden", state !== "stopped");
    if (this.onstate) this.onstate(state, text);
  }

  // Plays `url`; live: a live channel (else a recording, from its start).
  async play(url, { live = true, title = "" } = {}) {
    this.teardown();
    const serial = ++this.serial;
    this.url = url;
    this.live = live;
    this.title = title;
    this.setState("loading", title ? `Loading ${title}…` : "Loading…");
    const v = this.video;
    let Hls = null;
    try {
      Hls = await loadHls();
    } catch (e) {
      if (!v.canPlayType("application/vnd.apple.mpegurl")) {
        if (serial === this.serial) this.stop(`the player could not be loaded (${e.message})`);
        return;
      }
    }
    if (serial !== this.serial) return;
    if (Hls && Hls.isSupported()) {
      const hls = new Hls({
        enableWorker: true,
        lowLatencyMode: false,
        backBufferLength: 30,
        maxBufferLength: 20,
        startFragPrefetch: true,
      });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_event, data) => this.hlsError(serial, Hls, data));
      hls.on(Hls.Events.MANIFEST_PARSED, () => this.start(serial));
      hls.attachMedia(v);
      hls.loadSource(url);
    } else if (v.canPlayType("application/vnd.apple.mpegurl")) {
      v.src = url;
      this.start(serial);
    } else {
      this.stop("this browser cannot play HLS video");
      return;
    }
    this.startWatchdog(serial);
  }

  start(serial) {
    if (serial !== this.serial) return;
    const p = this.video.play();
    if (p && p.catch) {
      p.catch((e) => {
        if (serial !== this.serial || this.state === "stopped") return;
        if (e && e.name === "NotAllowedError") {
          // The browser wants a gesture for sound: play muted, the viewer unmutes.
          this.video.muted = true;
          this.video.play().catch(() => this.setState("waiting", "Press play to start."));
        }
      });
    }
  }

  hlsError(serial, Hls, data) {
    if (serial !== this.serial || !data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && (this.mediaRecoveries || 0) < 2) {
      this.mediaRecoveries = (this.mediaRecoveries || 0) + 1;
      this.hls.recoverMediaError();
      return;
    }
    const status = data.response && data.response.code ? data.response.code : 0;
    let text = status ? bodyOf(data.networkDetails) : "";
    if (status === 503) text = `no signal on this channel right now${text ? ` (${clean(text)})` : ""}`;
    if (!status && data.type !== Hls.ErrorTypes.NETWORK_ERROR) text = `the video could not be played (${data.details})`;
    this.failed(serial, status, text);
  }

  // Something failed: learn the server's reason when we have none, then stop.
  async failed(serial, status, text) {
    if (serial !== this.serial || this.state === "stopped") return;
    this.teardown();
    this.setState("loading", "Checking the stream…");
    let reason = text ? clean(text) : "";
    if (!reason) {
      const p = await probe(this.url);
      if (serial !== this.serial) return;
      if (p) ({ status, reason } = p);
      else reason = describe(status, "") + (status ? "" : " (the stream could not be played)");
    }
    this.stop(reason, status);
  }

  // Stops for good (until "Try again"), saying why.
  stop(reason, status = 0) {
    this.teardown();
    this.setState("stopped", `Playback stopped: ${reason}`);
    if (this.el.contains(document.activeElement) || document.activeElement === document.body) this.retryButton.focus();
    if (this.onstop) this.onstop(status, reason);
  }

  // Does not start `url` but says why (a channel off air; state "stopped":
  // "Try again" plays it), or what it waits for (state "loading").
  hold(url, { live = true, title = "" } = {}, text, state = "stopped") {
    this.serial++;
    this.teardown();
    Object.assign(this, { url, live, title });
    this.setState(state, text);
  }

  retry() {
    if (this.url) this.play(this.url, { live: this.live, title: this.title });
  }

  startWatchdog(serial) {
    let lastTime = -1;
    let still = 0;
    let probing = false;
    clearInterval(this.watchdog);
    this.watchdog = setInterval(async () => {
      if (serial !== this.serial) return;
      const v = this.video;
      if (this.state === "stopped" || this.state === "ended" || (v.paused && this.state === "playing")) {
        still = 0;
        return;
      }
      if (v.currentTime !== lastTime) {
        lastTime = v.currentTime;
        still = 0;
        return;
      }
      still++;
      if (still === PROBE_AFTER_S && !probing) {
        probing = true;
        const p = await probe(this.url);
        probing = false;
        if (serial !== this.serial) return;
        if (p) this.stop(p.reason, p.status);
        else if (this.state !== "loading") this.setState("waiting", "Waiting for the stream…");
      } else if (still >= GIVE_UP_AFTER_S) {
        this.stop(`nothing arrived for ${GIVE_UP_AFTER_S} s`);
      }
    }, 1000);
  }

  // Releases the stream (the server sees the viewer go); the element stays.
  teardown() {
    clearInterval(this.watchdog);
    this.watchdog = 0;
    this.mediaRecoveries = 0;
    if (this.hls) {
      try { this.hls.destroy(); } catch { /* already gone */ }
      this.hls = null;
    }
    const v = this.video;
    try { v.pause(); } catch { /* nothing playing */ }
    if (v.getAttribute("src") || v.currentSrc) {
      v.removeAttribute("src");
      v.load();
    }
  }

  destroy() {
    this.serial++;
    this.teardown();
    this.url = null;
    this.setState("idle");
  }
}
