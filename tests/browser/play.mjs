#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// play.mjs -- hls.js in Debian's headless Chromium plays an HLS URL.
//
// Usage: node play.mjs --url URL --screenshot OUT.png [--seconds 10] [--timeout 60]
//                      [--low-latency 0|1] [--control] [--chromium /usr/bin/chromium]
//
// Serves player.html and hls.js (from node_modules) on a loopback port of its
// own -- so the HLS URL is another origin and antenne's CORS headers are used --
// launches Chromium through playwright-core (never a downloaded browser) with a
// fresh profile, and waits until the video's currentTime has advanced by
// --seconds since playback started. Without --control it then stops; with
// --control it keeps playing until a line "stop" (or EOF) arrives on stdin, so a
// test can change the channel meanwhile. Every 0.5 s a line
// "progress {json}" goes to stderr (t: epoch ms, ct: currentTime, cc: the
// discontinuity counter of the fragment playing, errors: hls.js errors so far).
// At the end it writes a screenshot of the page to OUT.png and prints one JSON
// object on stdout:
//   {ok, reason, advanced, errors:[...], samples:[...], frags, ccs, level, frame, ...}
// ok is true when currentTime advanced by --seconds and hls.js (and <video>)
// reported no error at all. Exit code 0 when ok, 1 when not, 2 on a harness failure.
import { chromium } from "playwright-core";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const o = { seconds: 10, timeout: 60, lowLatency: "1", control: false, chromium: "/usr/bin/chromium" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--url") o.url = val();
    else if (a === "--screenshot") o.screenshot = val();
    else if (a === "--seconds") o.seconds = Number(val());
    else if (a === "--timeout") o.timeout = Number(val());
    else if (a === "--low-latency") o.lowLatency = val();
    else if (a === "--control") o.control = true;
    else if (a === "--chromium") o.chromium = val();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.url || !o.screenshot) throw new Error("--url and --screenshot are required");
  if (!(o.seconds >= 0) || !(o.timeout > 0)) throw new Error("bad --seconds/--timeout");
  return o;
}

// The page and hls.js, from a server on 127.0.0.1 (its own origin).
function servePage() {
  const files = {
    "/player.html": [path.join(here, "player.html"), "text/html; charset=utf-8"],
    "/hls.js": [path.join(here, "node_modules", "hls.js", "dist", "hls.js"), "text/javascript"],
  };
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, "http://x").pathname;
    const f = files[p];
    if (p === "/favicon.ico") { res.writeHead(204); res.end(); return; }
    if (!f) { res.writeHead(404, { "Content-Type": "text/plain" }); res.end("not found\n"); return; }
    fs.readFile(f[0], (err, data) => {
      if (err) { res.writeHead(500); res.end(String(err)); return; }
      res.writeHead(200, { "Content-Type": f[1], "Cache-Control": "no-store" });
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(o.chromium)) throw new Error(`${o.chromium} not found (apt-get install chromium)`);
  const result = { ok: false, reason: null, url: o.url, seconds: o.seconds, lowLatency: o.lowLatency === "1" };
  const t0 = Date.now();
  const pageServer = await servePage();
  const pageUrl = `http://127.0.0.1:${pageServer.address().port}/player.html?` +
    new URLSearchParams({ src: o.url, lowLatency: o.lowLatency }).toString();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "antenne-chromium-"));
  let context = null;
  let stopRequested = !o.control;
  if (o.control) {
    const rl = readline.createInterface({ input: process.stdin });
    rl.on("line", (line) => { if (line.trim() === "stop") stopRequested = true; });
    rl.on("close", () => { stopRequested = true; });
  }
  try {
    // A fresh profile directory is Chromium's --user-data-dir (playwright passes it).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: o.chromium,
      headless: true,
      viewport: { width: 660, height: 420 },
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required", "--mute-audio",
      ],
      timeout: 30000,
    });
    result.browserVersion = context.browser() ? context.browser().version() : null;
    const page = context.pages()[0] || await context.newPage();
    const console_ = [];
    page.on("console", (m) => { if (console_.length < 100) console_.push(`${m.type()}: ${m.text()}`); });
    page.on("pageerror", (e) => { if (console_.length < 100) console_.push(`pageerror: ${e}`); });
    result.console = console_;
    await page.goto(pageUrl, { waitUntil: "load", timeout: 15000 });
    result.hlsVersion = await page.evaluate(() => window.antenne && window.antenne.hlsVersion);

    const samples = [];
    result.samples = samples;
    let startCt = null;
    const deadline = t0 + o.timeout * 1000;
    for (;;) {
      const s = await page.evaluate(() => window.antenne.state());
      samples.push(s);
      process.stderr.write(`progress ${JSON.stringify(s)}\n`);
      if (startCt === null && s.playing && s.ct > 0) startCt = s.ct;
      const advanced = startCt === null ? 0 : s.ct - startCt;
      if (advanced >= o.seconds && stopRequested) { result.reason = "played"; break; }
      if (s.errors > 0 && !o.control) {
        const errs = await page.evaluate(() => window.antenne.errors);
        if (errs.some((e) => e.fatal)) { result.reason = "fatal error"; break; }
      }
      if (Date.now() > deadline) {
        result.reason = `timed out after ${o.timeout} s (currentTime advanced ${advanced.toFixed(2)} s of ${o.seconds})`;
        break;
      }
      if (o.control && stopRequested && advanced < o.seconds) {
        result.reason = `stopped after currentTime advanced only ${advanced.toFixed(2)} s of ${o.seconds}`;
        break;
      }
      await sleep(500);
    }
    const A = await page.evaluate(() => {
      const a = window.antenne;
      return { errors: a.errors, events: a.events, frags: a.frags, ccs: a.ccs, level: a.level,
               levelsLoaded: a.levelsLoaded, firstPlayingAt: a.firstPlayingAt, frame: a.frameStats(),
               supported: a.supported };
    });
    Object.assign(result, A);
    result.startCt = startCt;
    const last = samples[samples.length - 1];
    result.currentTime = last ? last.ct : null;
    result.advanced = startCt === null || !last ? 0 : last.ct - startCt;
    fs.mkdirSync(path.dirname(path.resolve(o.screenshot)), { recursive: true });
    await page.screenshot({ path: o.screenshot, timeout: 15000 });
    result.screenshot = path.resolve(o.screenshot);
    result.ok = result.reason === "played" && result.errors.length === 0;
    if (result.reason === "played" && result.errors.length)
      result.reason = `played, but hls.js reported ${result.errors.length} error(s)`;
  } finally {
    result.elapsed = (Date.now() - t0) / 1000;
    if (context) await context.close().catch(() => {});
    pageServer.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result) + "\n");
  return result.ok ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  process.stdout.write(JSON.stringify({ ok: false, reason: `harness failure: ${err && err.stack || err}` }) + "\n");
  process.exit(2);
});
