#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// hls_hlsjs.mjs -- helper of bench/hls_latency.sh: how far behind the source hls.js plays, in headless Chromium.
//
// Usage: node bench/hls_hlsjs.mjs --url URL [--seconds 20] [--low-latency 0|1] [--timeout 90]
//                                 [--browser-dir tests/browser] [--chromium /usr/bin/chromium] [--screenshot OUT.png]
//
// Uses hls.js and playwright-core from tests/browser/node_modules (the browser
// test harness installs them) and Debian's Chromium, launched as
// /work/shared/TESTING.md says. The page is served from a loopback port of its
// own (another origin than the stream). Once the video plays, every 250 ms it
// samples:
//   latency   hls.latency: seconds between currentTime and the live edge of the
//             playlist hls.js last loaded (its own estimate; governed by its
//             live sync settings: 3 target durations for plain HLS, PART-HOLD-BACK
//             for LL-HLS)
//   behind    Date.now() - hls.playingDate: how old, by the wall clock, the
//             picture on screen is, through EXT-X-PROGRAM-DATE-TIME (antenne
//             writes the wall clock at which a segment's first byte arrived,
//             which on loopback is when the source sent it: glass-to-glass
//             without the encoder's own delay)
// until currentTime has advanced by --seconds. Prints one JSON object:
//   {ok, reason, hlsVersion, lowLatency, samples:[{t, ct, latency, behind, target, rate}], errors:[...], stalls}
// Samples of the first 2 s of play are marked warmup:true.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const o = { seconds: 20, lowLatency: "1", timeout: 90, chromium: "/usr/bin/chromium",
              browserDir: path.join(here, "..", "tests", "browser") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === "--url") o.url = val();
    else if (a === "--seconds") o.seconds = Number(val());
    else if (a === "--low-latency") o.lowLatency = val();
    else if (a === "--timeout") o.timeout = Number(val());
    else if (a === "--chromium") o.chromium = val();
    else if (a === "--browser-dir") o.browserDir = val();
    else if (a === "--screenshot") o.screenshot = val();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.url) throw new Error("--url is required");
  return o;
}

const PAGE = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>antenne latency</title><script src="/hls.js"></script></head>
<body style="margin:0;background:#000"><video id="v" muted autoplay playsinline width="640" height="360"></video>
<script>
"use strict";
const q = new URLSearchParams(location.search);
const video = document.getElementById("v");
const B = window.bench = { errors: [], stalls: 0, playingAt: null, hlsVersion: Hls.version };
const hls = B.hls = new Hls({ lowLatencyMode: q.get("lowLatency") !== "0", enableWorker: true });
hls.on(Hls.Events.ERROR, (e, d) => {
  if (d.details === "bufferStalledError") B.stalls++;
  if (B.errors.length < 50) B.errors.push({ t: Date.now(), fatal: !!d.fatal, type: d.type, details: d.details });
});
video.addEventListener("playing", () => { if (B.playingAt === null) B.playingAt = Date.now(); });
B.sample = () => {
  const pd = hls.playingDate;
  return { t: Date.now(), ct: video.currentTime, playing: B.playingAt !== null && !video.paused,
           latency: typeof hls.latency === "number" ? hls.latency : null,
           behind: pd ? (Date.now() - pd.getTime()) / 1000 : null,
           target: hls.targetLatency, rate: video.playbackRate };
};
hls.loadSource(q.get("src"));
hls.attachMedia(video);
video.play().catch(() => {});
</script></body></html>`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const require = createRequire(path.join(path.resolve(o.browserDir), "package.json"));
  const { chromium } = require("playwright-core");
  const hlsjs = path.join(path.resolve(o.browserDir), "node_modules", "hls.js", "dist", "hls.js");
  if (!fs.existsSync(hlsjs)) throw new Error(`${hlsjs} not found (npm ci in tests/browser)`);
  if (!fs.existsSync(o.chromium)) throw new Error(`${o.chromium} not found (apt-get install chromium)`);
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, "http://x").pathname;
    if (p === "/") { res.writeHead(200, { "Content-Type": "text/html" }); res.end(PAGE); return; }
    if (p === "/hls.js") { res.writeHead(200, { "Content-Type": "text/javascript" }); res.end(fs.readFileSync(hlsjs)); return; }
    res.writeHead(404); res.end();
  });
  await new Promise((ok, bad) => { server.once("error", bad); server.listen(0, "127.0.0.1", ok); });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "antenne-bench-chromium-"));
  const result = { ok: false, reason: null, url: o.url, lowLatency: o.lowLatency !== "0", samples: [] };
  let context = null;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: o.chromium, headless: true, viewport: { width: 640, height: 360 }, timeout: 30000,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
    });
    const page = context.pages()[0] || await context.newPage();
    const url = `http://127.0.0.1:${server.address().port}/?` +
      new URLSearchParams({ src: o.url, lowLatency: o.lowLatency }).toString();
    await page.goto(url, { waitUntil: "load", timeout: 15000 });
    result.hlsVersion = await page.evaluate(() => window.bench.hlsVersion);
    const deadline = Date.now() + o.timeout * 1000;
    let ct0 = null;
    let playT0 = null;
    for (;;) {
      const s = await page.evaluate(() => window.bench.sample());
      if (s.playing && ct0 === null) { ct0 = s.ct; playT0 = s.t; }
      if (ct0 !== null) {
        s.warmup = s.t - playT0 < 2000;
        result.samples.push(s);
        if (s.ct - ct0 >= o.seconds) { result.reason = "played"; break; }
      }
      if (Date.now() > deadline) {
        result.reason = `timed out after ${o.timeout} s (currentTime advanced ${ct0 === null ? 0 : (s.ct - ct0).toFixed(2)} s)`;
        break;
      }
      await sleep(250);
    }
    const B = await page.evaluate(() => ({ errors: window.bench.errors, stalls: window.bench.stalls }));
    Object.assign(result, B);
    if (o.screenshot) await page.screenshot({ path: o.screenshot, timeout: 15000 }).catch(() => {});
    result.ok = result.reason === "played" && !result.errors.some((e) => e.fatal);
  } finally {
    if (context) await context.close().catch(() => {});
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result) + "\n");
  return result.ok ? 0 : 1;
}

main().then((c) => process.exit(c), (e) => {
  process.stdout.write(JSON.stringify({ ok: false, reason: `harness failure: ${e && e.stack || e}` }) + "\n");
  process.exit(2);
});
