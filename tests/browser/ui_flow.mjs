#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// ui_flow.mjs -- the whole story of issue 7 in one run of Debian's headless
// Chromium (playwright-core), for tests/integration/test_74_ui_flow.py: an
// operator (one browser context) sets a channel up through /admin/ and a
// viewer (a second context) watches it on / until the operator kicks them.
//
// Usage: node ui_flow.mjs CONFIG.json
// CONFIG: {base, adminToken, out: DIR, chromium?,
//          channel: {name, title, number, group, source},
//          epg: {name, url}, package: {name, title}, subscriber: {name, password}}
//
// Steps, in order (a step that throws ends the story: the later ones need it):
//   adminLogin, addChannel, epg, package, subscriber, viewerLogin, play, sessions, kick.
// It does not judge: every step records what the pages showed ({facts} or
// {error}) and the test asserts on that. It prints one JSON object on stdout:
// {steps: {name: facts}, failed: name|null, pageErrors, dialogs, console, elapsed};
// progress lines go to stderr; screenshots to DIR/NN-name.png. Every wait is a
// bounded wait for a condition; the only timed watch is the one that checks
// that the stopped player stays still.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = { steps: {}, failed: null, pageErrors: [], dialogs: [], console: [], shots: [] };
const t0 = Date.now();
const since = (t) => Math.round(Date.now() - t);
fs.mkdirSync(cfg.out, { recursive: true });

function watch(page, who) {
  page.on("pageerror", (e) => out.pageErrors.push(`${who}: ${String(e).slice(0, 500)}`));
  page.on("dialog", (d) => { out.dialogs.push(`${who}: ${d.type()} ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on("console", (m) => {
    if ((m.type() === "error" || m.type() === "warning") && out.console.length < 100)
      out.console.push(`${who} ${m.type()}: ${m.text()}`.slice(0, 300));
  });
}

async function shot(page, name) {
  const p = path.join(cfg.out, `${name}.png`);
  await page.screenshot({ path: p, timeout: 15000 });
  out.shots.push(`${name}.png`);
  return p;
}

// Runs a step; its facts are kept even when it throws. Returns false once a step failed.
async function step(name, fn) {
  if (out.failed) return false;
  const started = Date.now();
  const facts = {};
  out.steps[name] = facts;
  try {
    await fn(facts);
  } catch (e) {
    facts.error = String((e && e.stack) || e).slice(0, 3000);
    out.failed = name;
  }
  facts.ms = since(started);
  process.stderr.write(`step ${((Date.now() - t0) / 1000).toFixed(1)} s ${name}: ${JSON.stringify(facts).slice(0, 300)}\n`);
  return !out.failed;
}

// The form of a panel opened with its toggle button ("Add channel", "New package", ...).
async function openPanel(page, label) {
  await page.getByRole("button", { name: label, exact: true }).click();
  const panel = page.locator("section.panel:not(.hidden)");
  await panel.locator("form").waitFor({ timeout: 5000 });
  return panel.locator("form");
}

const player = ".watch-view .player";
const playerState = (page) => page.evaluate((sel) => {
  const p = document.querySelector(sel);
  if (!p) return null;
  const v = p.querySelector("video");
  return { state: p.dataset.state, message: p.querySelector(".player-message").textContent, ct: v.currentTime,
           paused: v.paused, src: v.currentSrc || v.getAttribute("src") || "", readyState: v.readyState };
}, player);

async function main() {
  const browser = await chromium.launch({
    executablePath: cfg.chromium || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
    timeout: 30000,
  });
  out.browserVersion = browser.version();
  try {
    const options = { viewport: { width: 1280, height: 800 }, locale: "en-GB", timezoneId: "UTC" };
    const operator = await browser.newContext(options);
    const viewer = await browser.newContext(options);
    const admin = await operator.newPage();
    watch(admin, "admin");
    const tv = await viewer.newPage();
    watch(tv, "portal");
    await story(admin, tv);
    if (out.failed) {   // the picture of where it stopped
      await shot(admin, "zz-failed-admin").catch(() => {});
      await shot(tv, "zz-failed-portal").catch(() => {});
    }
  } finally {
    await browser.close().catch(() => {});
  }
}

async function story(admin, tv) {
  const ch = cfg.channel;
  const sub = cfg.subscriber;

  // 1. the operator logs in with the admin token
  await step("adminLogin", async (f) => {
    await admin.goto(`${cfg.base}/admin/`, { waitUntil: "domcontentloaded", timeout: 15000 });
    await admin.locator("#token").waitFor({ timeout: 10000 });
    f.navHiddenBefore = await admin.locator("#nav").isHidden();
    await admin.fill("#token", cfg.adminToken);
    await shot(admin, "01-admin-login");
    await admin.press("#token", "Enter");
    await admin.locator("table.channels").waitFor({ timeout: 10000 });
    f.navVisible = await admin.locator("#nav").isVisible();
    f.hash = await admin.evaluate(() => location.hash);
  });

  // 2. "Add channel" with a real source; its row on the dashboard comes up
  await step("addChannel", async (f) => {
    const form = await openPanel(admin, "Add channel");
    await form.locator("[name=name]").fill(ch.name);
    await form.locator("[name=title]").fill(ch.title);
    await form.locator("[name=number]").fill(String(ch.number));
    await form.locator("[name=group]").fill(ch.group);
    await form.locator("[name=sources]").fill(ch.source);
    await form.locator("button[type=submit]").click();
    await form.locator(".msg.ok, .msg.error").first().waitFor({ timeout: 10000 });
    f.message = await form.locator(".msg").innerText();
    const row = admin.locator(`tr[data-channel="${ch.name}"]`);
    await row.waitFor({ timeout: 10000 });
    f.firstState = await row.locator(".badge").innerText();
    const t = Date.now();
    await row.locator(".badge.state-up").waitFor({ timeout: 20000 });
    f.upAfterMs = since(t);
    f.state = await row.locator(".badge").innerText();
    f.rowTitle = await row.locator("td.title a").innerText();
    f.rowSource = await row.locator("td.source").innerText();
    await shot(admin, "02-dashboard-channel-up");
  });

  // 3. an EPG source through the EPG page; "Refresh now" imports it and the row says what it did
  await step("epg", async (f) => {
    await admin.getByRole("link", { name: "EPG", exact: true }).click();
    await admin.waitForFunction(() => location.hash === "#/epg", null, { timeout: 5000 });
    const form = await openPanel(admin, "Add EPG source");
    await form.locator("[name=name]").fill(cfg.epg.name);
    await form.locator("[name=url]").fill(cfg.epg.url);
    await form.locator("[name=refresh_hours]").fill("0");    // only on request: the button does the import
    await form.locator("button[type=submit]").click();
    await form.locator(".msg.ok, .msg.error").first().waitFor({ timeout: 10000 });
    f.added = await form.locator(".msg").innerText();
    const row = admin.locator(`tr[data-source="${cfg.epg.name}"]`);
    await row.waitFor({ timeout: 10000 });
    f.resultBefore = await row.locator("td.result").innerText();
    f.lastBefore = await row.locator("td").nth(4).innerText();
    await row.getByRole("button", { name: "Refresh now" }).click();
    await row.locator(".msg.ok, .msg.error").first().waitFor({ timeout: 30000 });
    f.message = await row.locator(".msg.ok, .msg.error").first().innerText();
    f.result = await row.locator("td.result").innerText();
    f.lastImport = await row.locator("td").nth(4).innerText();
    await shot(admin, "03-epg-imported");
  });

  // 4a. a package holding the channel
  await step("package", async (f) => {
    await admin.getByRole("link", { name: "Packages", exact: true }).click();
    await admin.waitForFunction(() => location.hash === "#/packages", null, { timeout: 5000 });
    const form = await openPanel(admin, "New package");
    await form.locator("[name=name]").fill(cfg.package.name);
    await form.locator("[name=title]").fill(cfg.package.title);
    await form.locator("button[type=submit]").click();
    await admin.waitForFunction((n) => location.hash === `#/packages/${n}`, cfg.package.name, { timeout: 10000 });
    const box = admin.locator(`fieldset.checks input[value="${ch.name}"]`);
    await box.waitFor({ timeout: 10000 });
    f.offered = await admin.locator("fieldset.checks input[type=checkbox]").evaluateAll((l) => l.map((i) => i.value));
    await box.check();
    const edit = admin.locator("section.card form", { has: admin.locator("fieldset.checks") });
    await edit.getByRole("button", { name: "Save changes" }).click();
    await edit.locator(".msg.ok, .msg.error").first().waitFor({ timeout: 10000 });
    f.saved = await edit.locator(".msg.ok, .msg.error").first().innerText();
    f.ticked = await admin.locator("fieldset.checks input:checked").evaluateAll((l) => l.map((i) => i.value));
    await shot(admin, "04-package");
  });

  // 4b. a subscriber with a password and that package
  await step("subscriber", async (f) => {
    await admin.getByRole("link", { name: "Subscribers", exact: true }).click();
    await admin.waitForFunction(() => location.hash.startsWith("#/subscribers"), null, { timeout: 5000 });
    const form = await openPanel(admin, "New subscriber");
    await form.locator("[name=name]").fill(sub.name);
    await form.locator("[name=password]").fill(sub.password);
    const box = form.locator(`fieldset.checks input[value="${cfg.package.name}"]`);
    await box.waitFor({ timeout: 10000 });    // the package list arrives from the server
    await box.check();
    await shot(admin, "05-subscriber-form");
    await form.locator("button[type=submit]").click();
    await admin.waitForFunction((n) => location.hash === `#/subscribers/${n}`, sub.name, { timeout: 10000 });
    await admin.locator(".title-row .badge").waitFor({ timeout: 10000 });
    await admin.locator(`fieldset.checks input[value="${cfg.package.name}"]`).waitFor({ timeout: 10000 });
    f.badge = await admin.locator(".title-row .badge").innerText();
    f.packages = await admin.locator("fieldset.checks input:checked").evaluateAll((l) => l.map((i) => i.value));
    await shot(admin, "06-subscriber");
  });

  // 5. the viewer, in a context of their own, logs in and sees their channel with now/next
  await step("viewerLogin", async (f) => {
    await tv.goto(`${cfg.base}/`, { waitUntil: "domcontentloaded", timeout: 15000 });
    await tv.locator("#login-user").waitFor({ timeout: 10000 });
    await tv.fill("#login-user", sub.name);
    await tv.fill("#login-password", sub.password);
    await tv.click("#login-submit");
    await tv.waitForFunction(() => document.querySelector(".grid-view") ||
                                   (document.getElementById("login-error") || {}).textContent, null, { timeout: 15000 });
    f.loginError = await tv.evaluate(() => (document.getElementById("login-error") || {}).textContent || "");
    await tv.locator("li.tile").first().waitFor({ timeout: 10000 });
    f.who = await tv.locator("#who").innerText();
    f.tiles = await tv.locator("li.tile").evaluateAll((tiles) => tiles.map((li) => ({
      channel: li.dataset.channel,
      title: (li.querySelector(".tile-name .title") || {}).textContent || "",
      now: (li.querySelector(".now .prog-title") || {}).textContent || null,
      next: (li.querySelector(".next .prog-title") || {}).textContent || null,
      text: li.innerText })));
    await shot(tv, "07-portal-channels");
  });

  // 5 (cont.). it plays: currentTime advances 2 s
  await step("play", async (f) => {
    await tv.locator(`li.tile[data-channel="${ch.name}"] button.tile-play`).click();
    await tv.locator(player).waitFor({ timeout: 10000 });
    f.hash = await tv.evaluate(() => location.hash);
    const started = Date.now();
    const first = await tv.waitForFunction((sel) => {
      const p = document.querySelector(sel);
      const v = p && p.querySelector("video");
      if (p && p.dataset.state === "stopped") return { stopped: p.querySelector(".player-message").textContent };
      return v && v.currentTime > 0 ? { ct: v.currentTime } : 0;
    }, player, { timeout: 30000, polling: 200 }).then((h) => h.jsonValue());
    if (first.stopped) throw new Error(`the player stopped before playing: ${first.stopped}`);
    f.firstFrameMs = since(started);
    f.ct0 = first.ct;
    const end = await tv.waitForFunction(([sel, c]) => {
      const p = document.querySelector(sel);
      const v = p.querySelector("video");
      if (p.dataset.state === "stopped") return { stopped: p.querySelector(".player-message").textContent };
      return v.currentTime - c >= 2 ? { ct: v.currentTime } : 0;
    }, [player, first.ct], { timeout: 30000, polling: 200 }).then((h) => h.jsonValue());
    if (end.stopped) throw new Error(`the player stopped while playing: ${end.stopped}`);
    f.ct1 = end.ct;
    f.advanced = end.ct - first.ct;
    Object.assign(f, { player: await playerState(tv) });
    f.heading = await tv.locator(".watch-title").innerText();
    f.info = await tv.locator(".watch-info").innerText();
    await shot(tv, "08-portal-playing");
  });

  // 6. the operator sees the viewer's session and kicks it
  let kickedAt = 0;
  await step("sessions", async (f) => {
    await admin.getByRole("link", { name: "Sessions", exact: true }).click();
    await admin.waitForFunction(() => location.hash === "#/sessions", null, { timeout: 5000 });
    const row = admin.locator("tr[data-session-id]", { hasText: sub.name });
    await row.first().waitFor({ timeout: 15000 });   // the page polls every 3 s
    f.rows = await admin.locator("tr[data-session-id]").evaluateAll((rows) => rows.map((tr) => ({
      id: tr.dataset.sessionId, cells: [...tr.cells].map((c) => c.textContent) })));
    f.id = await row.first().getAttribute("data-session-id");
    await shot(admin, "09-admin-sessions");
    f.playerBeforeKick = await playerState(tv);   // still playing: what stops it next is the kick
    kickedAt = Date.now();
    await admin.locator(`tr[data-session-id="${f.id}"] button.kick`).click();
    await admin.locator(`tr[data-session-id="${f.id}"]`).waitFor({ state: "detached", timeout: 10000 });
    f.rowGoneMs = since(kickedAt);
    f.adminMessage = await admin.locator("main .msg.ok, main .msg.error").first().innerText();
    f.viewerRowsLeft = await admin.locator("tr[data-session-id]", { hasText: sub.name }).count();
  });

  // 6 (cont.). the viewer's player stops visibly within 15 s of the kick, and stays still
  await step("kick", async (f) => {
    const left = Math.max(1000, 15000 - since(kickedAt));
    const stopped = await tv.waitForFunction((sel) => {
      const p = document.querySelector(sel);
      return p && p.dataset.state === "stopped" ? { ct: p.querySelector("video").currentTime } : 0;
    }, player, { timeout: left, polling: 100 }).then((h) => h.jsonValue(), () => null);
    f.stoppedAfterMs = since(kickedAt);
    f.atStop = await playerState(tv);
    if (!stopped) throw new Error(`the player did not stop within 15 s of the kick: ${JSON.stringify(f.atStop)}`);
    f.messageVisible = await tv.locator(`${player} .player-message`).isVisible();
    f.retryVisible = await tv.locator(`${player} .player-retry`).isVisible();
    await shot(tv, "10-portal-stopped");
    // does currentTime move again (or the player start again) in the next 3 s? (a watch, not a condition)
    f.movedAgain = await tv.waitForFunction(([sel, c]) => {
      const p = document.querySelector(sel);
      return p.dataset.state !== "stopped" || p.querySelector("video").currentTime > c + 0.05;
    }, [player, f.atStop.ct], { timeout: 3000, polling: 100 }).then(() => true, () => false);
    f.later = await playerState(tv);
    // meanwhile the sessions page polled again (every 3 s): the viewer's session did not come back
    f.viewerRowsAfter = await admin.locator("tr[data-session-id]", { hasText: sub.name }).count();
    f.sessionsSummary = await admin.locator("main").innerText();
    await shot(admin, "11-admin-after-kick");
  });
}

main().then(() => {
  out.elapsed = (Date.now() - t0) / 1000;
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
}, (e) => {
  out.harness = String((e && e.stack) || e);
  out.elapsed = (Date.now() - t0) / 1000;
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(2);
});
