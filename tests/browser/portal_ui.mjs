#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// portal_ui.mjs -- the viewer portal (/) in Debian's headless Chromium, driven
// by playwright-core the way a viewer uses it: with the mouse and with the
// keyboard of a TV remote (arrows, Enter, Escape, Page Up/Down).
//
// Usage: node portal_ui.mjs CONFIG.json
// CONFIG: {base, adminToken, outDir, docsShot (path or ""), chromium?,
//          users: {alice, bob, carol (disabled), dave (expired), demo: {name, password}},
//          channels: {mine: NAME, other: NAME (bob's), xss: NAME}, texts: {now, next, xssTitle, xssProgramme,
//          catchup, notRecorded}, demoTitles: [programme titles the docs screenshot must show]}
//
// It does not judge: it records what a viewer saw and did, step by step, and
// prints one JSON object (the observations) on stdout for
// tests/integration/test_72_portal.py to assert on. Screenshots go to outDir.
// Progress lines ("step ...") go to stderr. Every wait is bounded.
// Exit code 0 when the script ran to its end, 2 on a harness failure (the
// JSON then has "failure").
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const obs = { steps: [], console: [], pageErrors: [], dialogs: [], requestsFailed: [] };
const t0 = Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const step = (name) => {
  obs.steps.push({ name, at: (Date.now() - t0) / 1000 });
  process.stderr.write(`step ${((Date.now() - t0) / 1000).toFixed(1)} s: ${name}\n`);
};

function watch(page, who) {
  page.on("console", (m) => {
    if ((m.type() === "error" || m.type() === "warning") && obs.console.length < 200) obs.console.push(`${who} ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => obs.pageErrors.push(`${who}: ${e}`));
  page.on("dialog", (d) => { obs.dialogs.push(`${who}: ${d.type()} ${d.message()}`); d.dismiss().catch(() => {}); });
}

async function shot(page, name) {
  const p = path.join(cfg.outDir, name);
  await page.screenshot({ path: p, timeout: 15000 });
  return p;
}

// ---- the login form

async function loginAttempt(page, user, password) {
  await page.fill("#login-user", user);
  await page.fill("#login-password", password);
  await page.evaluate(() => { document.getElementById("login-error").textContent = ""; });
  await page.click("#login-submit");
  // done: an error in words, or the portal (tiles or the empty-grid text)
  await page.waitForFunction(() => {
    const e = document.getElementById("login-error");
    return (e && e.textContent.trim() && e.textContent !== "") || document.querySelector(".grid-view");
  }, null, { timeout: 15000 });
  return page.evaluate(() => {
    const e = document.getElementById("login-error");
    return { error: e ? e.textContent.trim() : null, submitDisabled: e ? document.getElementById("login-submit").disabled : null,
             loggedIn: !!document.querySelector(".grid-view") };
  });
}

async function submitEnabled(page, timeoutMs) {
  await page.waitForFunction(() => !document.getElementById("login-submit").disabled, null, { timeout: timeoutMs });
}

// ---- the player

const playerState = (page, sel) => page.evaluate((s) => {
  const p = document.querySelector(s);
  if (!p) return null;
  const v = p.querySelector("video");
  return { state: p.dataset.state, message: p.querySelector(".player-message").textContent, ct: v.currentTime,
           paused: v.paused, readyState: v.readyState, width: v.videoWidth, height: v.videoHeight };
}, sel);

// Waits until currentTime advanced `seconds` past its first value > 0.
async function playsFor(page, sel, seconds, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const samples = [];
  let first = null;
  for (;;) {
    const s = await playerState(page, sel);
    samples.push({ t: (Date.now() - t0) / 1000, ...s });
    if (s && first === null && s.ct > 0) first = s.ct;
    const advanced = first === null ? 0 : s.ct - first;
    if (advanced >= seconds) return { advanced, samples: samples.slice(-6), last: s };
    if (s && s.state === "stopped") return { advanced, samples: samples.slice(-6), last: s, stopped: true };
    if (Date.now() > deadline) return { advanced, samples: samples.slice(-6), last: s, timedOut: true };
    await sleep(250);
  }
}

// The page on a 360 px phone: how wide it gets (nothing may stick out), and a screenshot.
async function onPhone(page, name) {
  await page.setViewportSize({ width: 360, height: 740 });
  await sleep(300);
  const r = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth }));
  r.shot = await shot(page, name);
  await page.setViewportSize({ width: 1280, height: 800 });
  await sleep(200);
  return r;
}

async function focused(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body) return "body";
    const tile = a.closest("li.tile");
    return `${a.tagName.toLowerCase()}.${[...a.classList].join(".")}${tile ? `@${tile.dataset.channel}` : ""}`;
  });
}

// ---- the operator kicks the viewer's sessions, on /admin/#/sessions

async function kickInAdminUi(context) {
  const admin = await context.newPage();
  watch(admin, "admin");
  const out = { via: "admin-ui", kicked: [] };
  try {
    await admin.goto(`${cfg.base}/admin/#/sessions`, { waitUntil: "load", timeout: 15000 });
    await admin.waitForSelector("#token", { timeout: 10000 });
    await admin.fill("#token", cfg.adminToken);
    await admin.press("#token", "Enter");
    await admin.waitForFunction(() => location.hash.startsWith("#/sessions") || !!document.querySelector("#nav:not(.hidden)"),
      null, { timeout: 10000 });
    if (!(await admin.evaluate(() => location.hash.startsWith("#/sessions")))) {
      await admin.evaluate(() => { location.hash = "#/sessions"; });
    }
    // a row of alice's: the sessions page lists subscriber names in the row
    const row = await admin.waitForFunction((name) => [...document.querySelectorAll("tr[data-session-id]")]
      .find((tr) => tr.textContent.includes(name)) ? true : false, cfg.users.alice.name, { timeout: 15000 });
    await row.dispose();
    const ids = await admin.evaluate((name) => [...document.querySelectorAll("tr[data-session-id]")]
      .filter((tr) => tr.textContent.includes(name)).map((tr) => tr.dataset.sessionId), cfg.users.alice.name);
    out.kickedAt = Date.now();
    for (const id of ids) {
      await admin.click(`tr[data-session-id="${id}"] button.kick`, { timeout: 5000 });
      out.kicked.push(id);
    }
    // the rows go once the server confirmed
    await admin.waitForFunction((ids) => ids.every((id) => !document.querySelector(`tr[data-session-id="${id}"]`)),
      ids, { timeout: 10000 }).catch(() => { out.rowsStayed = true; });
    out.screenshot = await shot(admin, "admin-sessions-after-kick.png");
  } catch (e) {
    out.error = String(e && e.message || e).slice(0, 500);
  } finally {
    await admin.close().catch(() => {});
  }
  return out;
}

async function kickThroughApi() {
  const auth = { Authorization: `Bearer ${cfg.adminToken}` };
  const r = await fetch(`${cfg.base}/api/v1/sessions?subscriber=${cfg.users.alice.name}`, { headers: auth });
  const sessions = (await r.json()).sessions || [];
  const out = { via: "api", kicked: [], kickedAt: Date.now() };
  for (const s of sessions) {
    const d = await fetch(`${cfg.base}/api/v1/sessions/${s.id}`, { method: "DELETE", headers: auth });
    out.kicked.push(`${s.id}:${d.status}`);
  }
  return out;
}

// ---- the run

async function main() {
  fs.mkdirSync(cfg.outDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "antenne-portal-"));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: cfg.chromium || "/usr/bin/chromium",
      headless: true,
      viewport: { width: 1280, height: 800 },
      locale: "en-GB",
      timezoneId: "UTC",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
      timeout: 30000,
    });
    obs.browserVersion = context.browser() ? context.browser().version() : null;
    const page = context.pages()[0] || await context.newPage();
    watch(page, "portal");
    page.on("requestfailed", (r) => { if (obs.requestsFailed.length < 50) obs.requestsFailed.push(`${r.url()} ${r.failure() && r.failure().errorText}`); });

    // -- 1. the login form and its refusals
    step("login page");
    await page.goto(`${cfg.base}/`, { waitUntil: "load", timeout: 15000 });
    await page.waitForSelector("#login-user", { timeout: 10000 });
    obs.loginShot = await shot(page, "01-login.png");
    obs.disabled = await loginAttempt(page, cfg.users.carol.name, cfg.users.carol.password);
    obs.expired = await loginAttempt(page, cfg.users.dave.name, cfg.users.dave.password);
    step("wrong passwords");
    obs.wrong = [];
    for (let i = 0; i < 10; i++) {
      const r = await loginAttempt(page, cfg.users.bob.name, `not-${cfg.users.bob.password}-${i}`);
      obs.wrong.push(r);
      if (/too many/i.test(r.error || "")) break;
    }
    obs.rateLimitShot = await shot(page, "02-login-too-many.png");
    // the countdown ends by itself and says so
    const waitedFrom = Date.now();
    await submitEnabled(page, 70000);
    obs.rateLimitWaited = (Date.now() - waitedFrom) / 1000;
    obs.afterCountdown = await page.textContent("#login-error");

    // -- 2. alice logs in and sees her channels with now/next
    step("alice logs in");
    let r = null;
    for (let i = 0; i < 4; i++) {
      r = await loginAttempt(page, cfg.users.alice.name, cfg.users.alice.password);
      if (r.loggedIn || !/too many/i.test(r.error || "")) break;
      await submitEnabled(page, 70000);
    }
    obs.aliceLogin = r;
    await page.waitForSelector("li.tile", { timeout: 15000 });
    obs.storage = await page.evaluate(() => ({
      session: sessionStorage.getItem("antenne.portal"), local: Object.keys(localStorage) }));
    obs.aliceToken = JSON.parse(obs.storage.session || "{}").token || null;
    // the now/next titles come from the guide: wait until every tile has its programme lines
    await page.waitForFunction((t) => document.body.innerText.includes(t), cfg.texts.now, { timeout: 5000 }).catch(() => {});
    // logos load (or fail, and give way to the number) by themselves
    await page.waitForFunction(() => [...document.querySelectorAll("li.tile img.logo")].every((i) => i.complete && i.naturalWidth > 0),
      null, { timeout: 5000 }).catch(() => {});
    obs.tiles = await page.evaluate(() => [...document.querySelectorAll("li.tile")].map((li) => ({
      channel: li.dataset.channel, text: li.innerText, catchup: !!li.querySelector(".tile-catchup"),
      logo: li.querySelector(".logo") ? li.querySelector(".logo").tagName.toLowerCase() : null,
      logoWidth: li.querySelector("img.logo") ? li.querySelector("img.logo").naturalWidth : null,
      bar: li.querySelector("[role=progressbar]") ? Number(li.querySelector("[role=progressbar]").getAttribute("aria-valuenow")) : null })));
    obs.groups = await page.evaluate(() => [...document.querySelectorAll(".filters .chip")].map((b) => b.textContent));
    // XSS: the channel and programme names show as text, nothing of them runs or becomes an element
    obs.xss = await page.evaluate((t) => ({
      textShown: document.body.innerText.includes(t.xssTitle) && document.body.innerText.includes(t.xssProgramme),
      imgX: document.querySelectorAll('img[src="x"]').length,
      scripts: [...document.querySelectorAll("script")].filter((s) => (s.textContent || "").includes("alert")).length,
      onerrorAttrs: document.querySelectorAll("[onerror]").length,
    }), cfg.texts);
    obs.gridShot = await shot(page, "03-grid.png");
    // a phone: nothing wider than the screen; a TV: big tiles
    obs.phone = { grid: await onPhone(page, "04-grid-phone.png") };
    await page.setViewportSize({ width: 1920, height: 1080 });
    await sleep(300);
    obs.tv = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth,
      tileWidth: Math.round(document.querySelector("li.tile").getBoundingClientRect().width),
      fontSize: parseFloat(getComputedStyle(document.documentElement).fontSize) }));
    obs.tvShot = await shot(page, "04-grid-tv.png");
    await page.setViewportSize({ width: 1280, height: 800 });
    await sleep(200);

    // -- 5. catch-up, reached with the keyboard: arrows to the channel's catch-up link, Enter
    step("catch-up");
    obs.keys = [await focused(page)];
    for (let i = 0; i < 6 && obs.keys[obs.keys.length - 1] !== `a.tile-catchup@${cfg.channels.mine}`; i++) {
      await page.keyboard.press("ArrowDown");
      obs.keys.push(await focused(page));
    }
    await page.keyboard.press("Enter");
    await page.waitForSelector(".catchup-view", { timeout: 10000 });
    // the day of the recorded programme (it may be yesterday just after midnight)
    const dayOffset = await page.evaluate((startUnix) => {
      const a = new Date(); a.setHours(0, 0, 0, 0);
      const b = new Date(startUnix * 1000); b.setHours(0, 0, 0, 0);
      return Math.round((a - b) / 86400000);
    }, cfg.catchupStart);
    await page.click(`.days button[data-day="${dayOffset}"]`);
    await page.waitForFunction((t) => [...document.querySelectorAll(".programmes li")].some((li) => li.textContent.includes(t)),
      cfg.texts.catchup, { timeout: 10000 }).catch(() => {});
    obs.programmes = await page.evaluate(() => [...document.querySelectorAll(".programmes li")].map((li) => ({
      text: li.innerText, playable: !!li.querySelector("button.prog-play") })));
    obs.catchupListShot = await shot(page, "05-catchup-list.png");
    const prog = await page.$(`.programmes li:has-text("${cfg.texts.catchup}") button.prog-play`);
    if (prog) {
      await prog.click();
      obs.catchupPlay = await playsFor(page, ".catchup-view .player", 2, 30000);
      obs.catchupPlaying = await page.textContent(".catchup-playing");
      obs.catchupPlayerShot = await shot(page, "06-catchup-player.png");
      obs.phone.catchup = await onPhone(page, "06-catchup-phone.png");
    }

    // -- 2 (cont.). back to the grid with Escape: the focus is on the channel; Enter plays it live
    step("live");
    await page.keyboard.press("Escape");
    await page.waitForSelector(".grid-view", { timeout: 10000 });
    obs.focusAfterBack = await focused(page);
    if (obs.focusAfterBack !== `button.tile-play@${cfg.channels.mine}`) {
      await page.focus(`li.tile[data-channel="${cfg.channels.mine}"] .tile-play`);
    }
    await page.keyboard.press("Enter");
    await page.waitForSelector(".watch-view .player", { timeout: 10000 });
    obs.watchHash = await page.evaluate(() => location.hash);
    obs.zapLabels = await page.evaluate(() => [...document.querySelectorAll(".zap")].map((b) => b.getAttribute("aria-label")));
    obs.live = await playsFor(page, ".watch-view .player", 2, 30000);
    obs.watchInfo = await page.textContent(".watch-info");
    obs.playerShot = await shot(page, "07-player.png");
    obs.phone.watch = await onPhone(page, "07-player-phone.png");

    // -- 3. the operator kicks her: the player stops and says why
    step("kick");
    let kick = await kickInAdminUi(context);
    if (kick.error || !kick.kicked.length) {
      obs.adminUiKick = kick;
      kick = await kickThroughApi();
    }
    obs.kick = kick;
    await page.bringToFront();
    const stoppedBy = Date.now() + 25000;
    let st = null;
    while (Date.now() < stoppedBy) {
      st = await playerState(page, ".watch-view .player");
      if (st && st.state === "stopped") break;
      await sleep(200);
    }
    obs.afterKick = { seconds: (Date.now() - kick.kickedAt) / 1000, ...st };
    await sleep(3000);
    obs.threeSecondsLater = await playerState(page, ".watch-view .player");
    obs.stoppedShot = await shot(page, "08-player-stopped.png");
    obs.retryVisible = await page.isVisible(".watch-view .player-retry");

    // zapping (Page Down, a remote's channel key): the previous channel (by number) is off air, and the
    // player says so instead of spinning
    step("zap");
    const offFrom = Date.now();
    await page.keyboard.press("PageDown");
    obs.offAir = { hash: await page.evaluate(() => location.hash), heading: await page.textContent(".watch-title") };
    const offBy = Date.now() + 20000;
    while (Date.now() < offBy) {
      const s2 = await playerState(page, ".watch-view .player");
      if (s2 && s2.state === "stopped" && !/Checking/.test(s2.message)) { obs.offAir.player = s2; break; }
      await sleep(200);
    }
    obs.offAir.seconds = (Date.now() - offFrom) / 1000;
    obs.offAir.info = await page.textContent(".watch-info");
    obs.offAirShot = await shot(page, "09-player-off-air.png");
    // the one before it plays: the kick held only the kicked channel
    await page.keyboard.press("PageDown");
    obs.zap = { hash: await page.evaluate(() => location.hash), heading: await page.textContent(".watch-title") };
    obs.zap.play = await playsFor(page, ".watch-view .player", 1, 25000);

    // the operator disables her: the stream and the login end, the portal says so on the login form
    step("revoked");
    const revokedAt = Date.now();
    const pr = await fetch(`${cfg.base}/api/v1/subscribers/${cfg.users.alice.name}`, {
      method: "PATCH", headers: { Authorization: `Bearer ${cfg.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ enabled: false }) });
    obs.revoke = { status: pr.status };
    await page.waitForSelector("#login-user", { timeout: 25000 }).catch(() => {});
    obs.revoke.seconds = (Date.now() - revokedAt) / 1000;
    obs.revoke.note = await page.evaluate(() => {
      const n = document.querySelector(".login-note");
      return n ? n.textContent : null;
    });
    obs.revoke.storage = await page.evaluate(() => sessionStorage.getItem("antenne.portal"));
    obs.revokedShot = await shot(page, "10-logged-out.png");

    // -- 6. the screenshot for the docs: a subscriber with a fuller line-up
    if (cfg.docsShot) {
      step("docs screenshot");
      // a fake clock from here on (nothing plays any more), to see the 60 s refresh of now/next
      await context.clock.install();
      const demo = await context.newPage();
      watch(demo, "demo");
      await demo.setViewportSize({ width: 1280, height: 800 });
      await demo.goto(`${cfg.base}/`, { waitUntil: "load", timeout: 15000 });
      await demo.waitForSelector("#login-user", { timeout: 10000 });
      obs.demoLogin = await loginAttempt(demo, cfg.users.demo.name, cfg.users.demo.password);
      await demo.waitForFunction((titles) => titles.every((t) => document.body.innerText.includes(t)),
        cfg.demoTitles, { timeout: 10000 }).catch(() => {});
      obs.demoMissing = await demo.evaluate((titles) => titles.filter((t) => !document.body.innerText.includes(t)),
        cfg.demoTitles);
      await demo.waitForFunction(() => [...document.querySelectorAll("img.logo")].every((i) => i.complete),
        null, { timeout: 5000 }).catch(() => {});
      await demo.evaluate(() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); });
      await demo.screenshot({ path: cfg.docsShot, timeout: 15000 });
      obs.docsShot = cfg.docsShot;
      // now/next (and the rest of the list) come again every 60 s: a title changed meanwhile shows then
      const auth = { Authorization: `Bearer ${cfg.adminToken}`, "Content-Type": "application/json" };
      const renamed = `${cfg.texts.mineTitle} HD`;
      obs.rename = { status: (await fetch(`${cfg.base}/api/v1/channels/${cfg.channels.mine}`, {
        method: "PATCH", headers: auth, body: JSON.stringify({ title: renamed }) })).status };
      await demo.clock.runFor(5000);
      obs.rename.after5s = await demo.evaluate((t) => document.body.innerText.includes(t), renamed);
      await demo.clock.fastForward(56000);
      obs.rename.after61s = await demo.waitForFunction((t) => document.body.innerText.includes(t), renamed,
        { timeout: 5000 }).then(() => true, () => false);
      // My playlist, for the record
      await demo.click("#nav-me");
      await demo.waitForSelector("#me-playlist", { timeout: 10000 });
      obs.me = await demo.evaluate(() => ({ playlist: document.getElementById("me-playlist").value,
        epg: document.getElementById("me-epg").value, text: document.querySelector(".me-view").innerText }));
      await shot(demo, "12-my-playlist.png");
      await demo.close();
    }
    obs.ok = true;
  } finally {
    obs.elapsed = (Date.now() - t0) / 1000;
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => {
  process.stdout.write(JSON.stringify(obs) + "\n");
  process.exit(0);
}, (err) => {
  obs.failure = String(err && err.stack || err);
  process.stdout.write(JSON.stringify(obs) + "\n");
  process.exit(2);
});
