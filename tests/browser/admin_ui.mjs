#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// admin_ui.mjs -- drives antenne's operator UI (/admin/) in Debian's headless
// Chromium through playwright-core, for tests/integration/test_71_admin_ui.py.
//
// Usage: node admin_ui.mjs CONFIG.json
//
// CONFIG: {phase: "main"|"speed", base: "http://127.0.0.1:PORT", token, out: DIR, ...}; see the test.
// "main" logs in (a wrong token first), adds a channel with the form, plays
// its preview, checks the graph, the XSS cases, kicks a session, imports an
// EPG source and takes a screenshot of every page (DIR/NAME.png); "speed"
// times the dashboard with many channels and the subscriber list and search.
// It prints one JSON object: {steps: {name: {facts...} | {error}}, dialogs,
// pageErrors, console}. The test asserts on the facts; this script only
// waits (each wait bounded) and measures.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const admin = `${cfg.base}/admin/`;
const out = { phase: cfg.phase, steps: {}, dialogs: [], pageErrors: [], console: [] };
fs.mkdirSync(cfg.out, { recursive: true });

// A step fills `facts` as it goes (so a failure still reports what was measured) or returns them.
async function step(name, fn) {
  const t0 = Date.now();
  const facts = {};
  out.steps[name] = facts;
  try {
    Object.assign(facts, (await fn(facts)) || {});
  } catch (e) {
    facts.error = String((e && e.stack) || e).slice(0, 3000);
  }
  facts.elapsedMs = Date.now() - t0;
  process.stderr.write(`step ${name}: ${JSON.stringify(out.steps[name]).slice(0, 400)}\n`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(cfg.out, `${name}.png`), timeout: 15000 });
}

async function go(page, hash) {
  await page.goto(`${admin}${hash}`, { waitUntil: "domcontentloaded", timeout: 15000 });
}

// What the server holds now (the API, from the page).
function serverHas(page, what) {
  return page.evaluate(async ({ what, token }) => {
    const r = await fetch(`/api/v1/${what}`, { headers: { Authorization: `Bearer ${token}` } });
    return r.json();
  }, { what, token: cfg.token });
}

function watch(page) {
  page.on("dialog", (d) => { out.dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on("pageerror", (e) => out.pageErrors.push(String(e).slice(0, 500)));
  page.on("console", (m) => {
    if (out.console.length < 200 && m.type() !== "debug") out.console.push(`${m.type()}: ${m.text()}`.slice(0, 300));
  });
}

// ---- phase "main" --------------------------------------------------------------------------------

async function mainPhase(context) {
  const page = await context.newPage();
  watch(page);

  await step("login", async () => {
    await go(page, "#/channels");
    await page.fill("#token", cfg.wrongToken);
    await page.click("form.login button[type=submit]");
    const err = page.locator("#login-error");
    await err.filter({ hasText: /\S/ }).waitFor({ timeout: 10000 });
    await page.waitForFunction(() => !/Checking/.test(document.getElementById("login-error").textContent),
                               null, { timeout: 10000 });
    const wrongMessage = await err.innerText();
    const wrongStayed = await page.locator("#token").isVisible() && await page.locator("#nav").isHidden();
    await page.fill("#token", cfg.token);
    await page.press("#token", "Enter");
    await page.locator("table.channels").waitFor({ timeout: 10000 });
    const stored = await page.evaluate(() => sessionStorage.getItem("antenne.admin.token"));
    return { wrongMessage, wrongStayed, loggedIn: (await page.locator("#nav").isVisible()) && stored === cfg.token };
  });

  await step("add", async () => {
    const a = cfg.add;
    await page.click("button.panel-toggle");
    const form = page.locator("#add-channel-form");
    await form.locator("[name=name]").fill(a.name);
    await form.locator("[name=title]").fill(a.title);
    await form.locator("[name=number]").fill(String(a.number));
    await form.locator("[name=group]").fill(a.group);
    await form.locator("[name=sources]").fill(a.source);
    await form.locator("button[type=submit]").click();
    await form.locator(".msg.ok").waitFor({ timeout: 10000 });
    const added = await form.locator(".msg").innerText();
    const row = page.locator(`tr[data-channel="${a.name}"]`);
    await row.waitFor({ timeout: 10000 });
    const t0 = Date.now();
    await row.locator(".badge.state-up").waitFor({ timeout: 30000 });
    return { added, row: true, state: await row.locator(".badge").innerText(), upAfterMs: Date.now() - t0,
             summary: await page.locator(".summary").first().innerText(), stored: await serverHas(page, `channels/${a.name}`) };
  });

  await step("channel", async () => {
    await page.locator(`tr[data-channel="${cfg.add.name}"] td.title a`).click();
    await page.waitForFunction((n) => location.hash === `#/channels/${n}`, cfg.add.name, { timeout: 5000 });
    await page.locator("h1 .badge").waitFor({ timeout: 10000 });
    await page.getByRole("button", { name: "Play preview" }).click();
    const started = await page.waitForFunction(() => {
      const v = document.querySelector(".preview video");
      return v && v.currentTime > 0 && !v.paused ? v.currentTime : 0;
    }, null, { timeout: 30000, polling: 200 });
    const ct0 = await started.jsonValue();
    const ended = await page.waitForFunction((c) => {
      const v = document.querySelector(".preview video");
      return v.currentTime - c >= 2 ? v.currentTime : 0;
    }, ct0, { timeout: 30000, polling: 200 });
    const ct1 = await ended.jsonValue();
    await page.waitForFunction(() => Number(document.querySelector(".graph").dataset.points || 0) >= 2, null,
                               { timeout: 15000 });
    const facts = await page.evaluate(() => {
      const c = document.querySelector(".graph canvas");
      return {
        canvas: c ? { width: c.width, height: c.height, shownWidth: c.getBoundingClientRect().width } : { width: 0, height: 0 },
        graphPoints: Number(document.querySelector(".graph").dataset.points || 0),
        trRows: [...document.querySelectorAll("section.card")].find((s) => s.querySelector("h2").textContent === "TR 101 290")
          .querySelectorAll("tbody tr").length,
        sourceInUse: !!document.querySelector(".sources li.in-use strong"),
        previewError: (document.querySelector(".preview .msg") || {}).textContent || "",
      };
    });
    await shot(page, "channel");
    await page.getByRole("button", { name: "Stop preview" }).click();
    return { ct0, ct1, advanced: ct1 - ct0, ...facts };
  });

  await step("previewPackaged", async () => {
    // a channel in a package: the preview plays only because the admin token goes with every request
    await go(page, `#/channels/${cfg.packaged}`);
    await page.locator("h1 .badge").waitFor({ timeout: 10000 });
    await page.getByRole("button", { name: "Play preview" }).click();
    const started = await page.waitForFunction(() => {
      const v = document.querySelector(".preview video");
      return v && v.currentTime > 0 && !v.paused ? v.currentTime : 0;
    }, null, { timeout: 20000, polling: 200 });
    const ct0 = await started.jsonValue();
    const ended = await page.waitForFunction((c) => {
      const v = document.querySelector(".preview video");
      return v.currentTime - c >= 1 ? v.currentTime : 0;
    }, ct0, { timeout: 20000, polling: 200 });
    const advanced = (await ended.jsonValue()) - ct0;
    await page.getByRole("button", { name: "Stop preview" }).click();
    return { advanced };
  });

  await step("edit", async () => {
    await go(page, `#/channels/${cfg.add.name}`);
    await page.locator("form [name=group]").waitFor({ timeout: 10000 });
    await page.waitForFunction(() => document.querySelector("form [name=title]").value !== "", null, { timeout: 10000 });
    // still on the channel's page: change its group through the settings form
    const form = page.locator("section.card", { has: page.locator("h2", { hasText: "Settings" }) }).locator("form");
    await form.locator("[name=group]").fill(cfg.edit.group);
    await form.locator("button[type=submit]").click();
    await form.locator(".msg.ok, .msg.error").first().waitFor({ timeout: 15000 });
    return { message: await form.locator(".msg.ok, .msg.error").first().innerText() };
  });

  await step("offline", async () => {
    // the server stops answering: the dashboard says so, keeps its rows and its filter works
    await go(page, "#/channels");
    await page.locator(`tr[data-channel="${cfg.add.name}"]`).waitFor({ timeout: 10000 });
    await page.route("**/api/v1/channels", (route) => route.abort("connectionrefused"));
    await page.locator(".live.error").waitFor({ timeout: 10000 });
    const message = await page.locator(".live").innerText();
    const rows = await page.locator("tr[data-channel]").count();
    await page.fill("#channel-search", cfg.add.title);
    const shown = await page.locator("tr[data-channel]:visible").count();
    await page.fill("#channel-search", "");
    await page.unroute("**/api/v1/channels");
    await page.locator(".live.muted").waitFor({ timeout: 10000 });
    return { message, rows, shown, recovered: await page.locator(".live").innerText() };
  });

  await step("xss", async () => {
    const x = cfg.xss;
    await go(page, "#/channels");
    const row = page.locator(`tr[data-channel="${x.channel}"]`);
    await row.waitFor({ timeout: 10000 });
    const rowText = await row.locator("td.title a").innerText();
    await row.locator("td.title a").click();
    await page.locator("h1 .badge").waitFor({ timeout: 10000 });
    const pageTitle = await page.locator("h1 > span").first().innerText();
    const titleField = await page.locator("form [name=title]").first().inputValue();
    await go(page, `#/subscribers?q=${x.subscriber}`);
    const subRow = page.locator(`tr[data-subscriber="${x.subscriber}"]`);
    await subRow.waitFor({ timeout: 15000 });
    const noteInList = await subRow.locator("td.notes").innerText();
    await subRow.locator("a").click();
    await page.locator("form [name=notes]").waitFor({ timeout: 10000 });
    await page.waitForFunction(() => document.querySelector("form [name=notes]").value !== "", null, { timeout: 10000 });
    const noteValue = await page.locator("form [name=notes]").inputValue();
    const injected = await page.evaluate(() => document.querySelectorAll("body script, img[src='x'], img[onerror]").length);
    return { rowText, pageTitle, titleField, noteInList, noteValue, injected };
  });

  await step("remove", async () => {
    // remove the XSS channel: the question comes in the page, Escape takes it back, "Yes" removes
    await go(page, `#/channels/${cfg.xss.channel}`);
    const open = page.getByRole("button", { name: "Remove channel…" });
    await open.click();
    const yes = page.getByRole("button", { name: "Yes, remove" });
    await yes.waitFor({ timeout: 5000 });
    await page.keyboard.press("Escape");
    const cancelled = await yes.isHidden() && await open.isVisible();
    await open.click();
    await yes.click();
    await page.waitForFunction(() => location.hash === "#/channels", null, { timeout: 15000 });
    await page.locator("tr[data-channel]").first().waitFor({ timeout: 10000 });
    // the dashboard's picture, with the XSS case gone
    await page.locator(`tr[data-channel="${cfg.degraded}"] .badge.state-degraded`).waitFor({ timeout: 10000 })
      .catch(() => {});
    await page.waitForTimeout(1000);
    await shot(page, "dashboard");
    return { cancelled, rowLeft: await page.locator(`tr[data-channel="${cfg.xss.channel}"]`).count() };
  });

  await step("sessions", async () => {
    await go(page, "#/sessions");
    await page.locator("tr[data-session-id]").first().waitFor({ timeout: 10000 });
    const rowsBefore = await page.locator("tr[data-session-id]").count();
    await shot(page, "sessions");
    const row = page.locator("tr[data-session-id]").first();
    const id = await row.getAttribute("data-session-id");
    const t0 = Date.now();
    await row.locator("button.kick").click();
    await page.locator(`tr[data-session-id="${id}"]`).waitFor({ state: "detached", timeout: 5000 });
    const goneMs = Date.now() - t0;
    await page.waitForTimeout(3500);   // a refresh later it stays gone
    const back = await page.locator(`tr[data-session-id="${id}"]`).count();
    return { rowsBefore, id, goneMs, gone: back === 0 };
  });

  await step("newSubscriber", async () => {
    const n = cfg.newSubscriber;
    await go(page, "#/subscribers");
    await page.click("button.panel-toggle");
    const form = page.locator("section.panel form");
    await form.locator("[name=name]").fill(n.name);
    await form.locator("[name=password]").fill(n.password);
    await form.locator("[name=max_streams]").fill(String(n.maxStreams));
    await form.locator(`fieldset.checks input[value="${n.package}"]`).check();
    await form.locator("[name=notes]").fill(n.notes);
    await form.locator("button[type=submit]").click();
    await page.waitForFunction((name) => location.hash === `#/subscribers/${name}`, n.name, { timeout: 15000 });
    await page.getByRole("button", { name: "Disable" }).click();
    await page.getByRole("button", { name: "Enable" }).waitFor({ timeout: 15000 });
    const badgeText = await page.locator(".title-row .badge").innerText();
    const pw = page.locator("form", { has: page.locator("[name=password]") });
    await pw.locator("[name=password]").fill(n.newPassword);
    await pw.locator("button[type=submit]").click();
    await pw.locator(".msg.ok, .msg.error").first().waitFor({ timeout: 15000 });
    return { badge: badgeText, password: await pw.locator(".msg.ok, .msg.error").first().innerText() };
  });

  await step("subscriber", async () => {
    await go(page, `#/subscribers/${cfg.subscriber}`);
    await page.locator("form [name=notes]").waitFor({ timeout: 10000 });
    await page.waitForFunction(() => document.querySelectorAll("fieldset.checks input[type=checkbox]").length > 0,
                               null, { timeout: 10000 });
    await page.getByRole("button", { name: "Make a playlist URL" }).click();
    await page.waitForFunction(() => document.getElementById("playlist-url").value !== "", null, { timeout: 10000 });
    const playlistUrl = await page.locator("#playlist-url").inputValue();
    const packages = await page.locator("fieldset.checks input[type=checkbox]").count();
    await shot(page, "subscriber");
    await go(page, "#/subscribers");
    await page.waitForFunction(() => / of /.test((document.querySelector(".range") || {}).textContent), null,
                               { timeout: 30000 });
    await shot(page, "subscribers");
    return { playlistUrl, packages, range: await page.locator(".range").innerText() };
  });

  await step("packages", async () => {
    const p = cfg.newPackage;
    await go(page, "#/packages");
    await page.locator("tr[data-package]").first().waitFor({ timeout: 10000 });
    await shot(page, "packages");
    const rows = await page.locator("tr[data-package]").count();
    await page.click("button.panel-toggle");
    await page.locator("section.panel [name=name]").fill(p.name);
    await page.locator("section.panel [name=title]").fill(p.title);
    await page.locator("section.panel button[type=submit]").click();
    await page.waitForFunction((name) => location.hash === `#/packages/${name}`, p.name, { timeout: 15000 });
    await page.locator(`fieldset.checks input[value="${p.channel}"]`).check();
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator(".msg.ok, .msg.error").first().waitFor({ timeout: 15000 });
    const saved = await page.locator(".msg.ok, .msg.error").first().innerText();
    const inPackage = (await serverHas(page, `packages/${p.name}`)).channels;
    await page.getByRole("button", { name: "Delete package…" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.waitForFunction(() => location.hash === "#/packages", null, { timeout: 15000 });
    await page.locator("tr[data-package]").first().waitFor({ timeout: 10000 });
    return { rows, saved, inPackage, leftAfterDelete: await page.locator(`tr[data-package="${p.name}"]`).count() };
  });

  await step("epg", async () => {
    await go(page, "#/epg");
    const row = page.locator(`tr[data-source="${cfg.epgSource}"]`);
    await row.waitFor({ timeout: 10000 });
    await row.locator("button.refresh").click();
    await row.locator(".msg.ok, .msg.error").waitFor({ timeout: 60000 });
    const result = await row.locator("td.result").innerText();
    await shot(page, "epg");
    return { result, message: await row.locator(".msg.ok, .msg.error").first().innerText() };
  });

  await step("events", async () => {
    await go(page, "#/events");
    await page.locator("tr[data-event]").first().waitFor({ timeout: 10000 });
    await shot(page, "events");
    const rows = await page.locator("tr[data-event]").count();
    await page.selectOption("#event-channel", cfg.degraded);
    await page.waitForFunction((ch) => {
      const cells = [...document.querySelectorAll("tr[data-event] td:nth-child(2)")];
      return cells.length > 0 && cells.every((c) => c.textContent === ch);
    }, cfg.degraded, { timeout: 10000 });
    return { rows, filtered: await page.locator("tr[data-event]").count(),
             kinds: await page.locator("tr[data-event] td:nth-child(3)").allInnerTexts() };
  });

  await step("keyboard", async () => {
    // from a fresh page: Tab to the navigation's "Packages", Enter opens it, Tab goes on into that page
    await go(page, "#/channels");
    await page.reload({ waitUntil: "domcontentloaded" });
    await page.locator("table.channels tbody tr").first().waitFor({ timeout: 10000 });
    const focused = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Tab");
      focused.push(await page.evaluate(() => document.activeElement.textContent.trim().slice(0, 30)));
      if (focused[focused.length - 1] === "Packages") break;
    }
    const reachedNav = focused[focused.length - 1] === "Packages";
    if (reachedNav) await page.keyboard.press("Enter");
    await page.locator("button.panel-toggle").waitFor({ timeout: 5000 }).catch(() => {});
    await page.keyboard.press("Tab");
    const next = await page.evaluate(() => ({ text: document.activeElement.textContent.trim(),
                                              inMain: !!document.activeElement.closest("main") }));
    return { reachedNav, focused, hash: await page.evaluate(() => location.hash), next };
  });

  await step("phone", async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await go(page, "#/channels");
    await page.locator("table.channels tbody tr").first().waitFor({ timeout: 10000 });
    await page.waitForTimeout(300);
    await shot(page, "dashboard-phone");
    return page.evaluate(() => ({ pageWidth: document.documentElement.scrollWidth,
                                  viewport: window.innerWidth }));
  });
  await page.close();
}

// ---- phase "speed" -------------------------------------------------------------------------------

async function speedPhase(context) {
  const page = await context.newPage();
  watch(page);
  await page.addInitScript((token) => {
    sessionStorage.setItem("antenne.admin.token", token);
    window.__longtasks = [];
    try {
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longtasks.push(e.duration); })
        .observe({ type: "longtask", buffered: true });
    } catch { /* no long task timing: reported as 0 */ }
  }, cfg.token);

  await step("dashboard", async () => {
    const t0 = Date.now();
    await go(page, "#/channels");
    const h = await page.waitForFunction((n) => {
      const rows = document.querySelectorAll("table.channels tbody tr[data-channel]");
      return rows.length >= n && rows[n - 1].querySelector(".badge").textContent !== "" ? performance.now() : 0;
    }, cfg.channels, { timeout: 20000, polling: "raf" });
    const inPage = await h.jsonValue();
    const wall = Date.now() - t0;
    const rows = await page.locator("table.channels tbody tr[data-channel]").count();
    // where the time went: until the first API request, the request, rendering
    const split = await page.evaluate((at) => {
      const r = performance.getEntriesByType("resource").find((e) => /\/api\/v1\/channels$/.test(e.name));
      return r ? { requestAt: Math.round(r.startTime), requestMs: Math.round(r.responseEnd - r.startTime),
                   renderMs: Math.round(at - r.responseEnd), jsonBytes: r.decodedBodySize } : null;
    }, inPage);
    await page.waitForTimeout(2500);   // another poll: the update in place
    // the filter answers as one types
    const filterMs = await page.evaluate(async () => {
      const input = document.getElementById("channel-search");
      const t = performance.now();
      input.value = "channel 150";
      input.dispatchEvent(new Event("input", { bubbles: true }));
      await new Promise((r) => requestAnimationFrame(r));
      const shown = [...document.querySelectorAll("table.channels tbody tr")].filter((r) => !r.hidden);
      if (shown.length !== 1) throw new Error(`filter "channel 150" shows ${shown.length} rows`);
      return performance.now() - t;
    });
    const longest = await page.evaluate(() => Math.max(0, ...window.__longtasks));
    await page.setViewportSize({ width: 1280, height: 800 });
    return { ms: Math.round(inPage), wallMs: wall, rows, split, filterMs: Math.round(filterMs * 10) / 10,
             longestTaskMs: Math.round(longest) };
  });

  await step("subscribers", async (facts) => {
    await go(page, "#/channels");   // leave the dashboard's poll behind
    const t0 = await page.evaluate(() => { location.hash = "#/subscribers"; return performance.now(); });
    const first = await page.waitForFunction((total) => {
      const r = document.querySelector(".range");
      return r && r.textContent.endsWith(`of ${total.toLocaleString("en-US")}`) &&
        document.querySelectorAll("tr[data-subscriber]").length === 50 ? performance.now() : 0;
    }, cfg.subscribers, { timeout: 30000, polling: "raf" });
    const firstPageMs = (await first.jsonValue()) - t0;
    const range = await page.locator(".range").innerText();
    Object.assign(facts, { firstPageMs: Math.round(firstPageMs), range });
    await page.evaluate(() => {
      document.getElementById("subscriber-search").addEventListener("input", () => { window.__typed = performance.now(); });
    });
    const before = await page.evaluate(() => performance.now());
    await page.locator("#subscriber-search").pressSequentially(cfg.term, { delay: 40 });
    const done = await page.waitForFunction(({ term, matches }) => {
      const rows = [...document.querySelectorAll("tr[data-subscriber]")];
      const r = document.querySelector(".range").textContent;
      return rows.length === Math.min(50, matches) && rows.every((x) => x.dataset.subscriber.includes(term)) &&
        r.endsWith(`of ${matches.toLocaleString("en-US")}`) ? performance.now() : 0;
    }, { term: cfg.term, matches: cfg.matches }, { timeout: 30000, polling: "raf" });
    const doneAt = await done.jsonValue().catch(async (e) => {
      facts.searchShown = await page.locator(".range").innerText();
      throw e;
    });
    const typedAt = await page.evaluate(() => window.__typed);
    const searchRange = await page.locator(".range").innerText();
    const firstRow = await page.locator("tr[data-subscriber]").first().getAttribute("data-subscriber");
    // paging through the whole list
    await page.fill("#subscriber-search", "");
    await page.press("#subscriber-search", "Enter");
    await page.waitForFunction((total) => document.querySelector(".range").textContent === `1–50 of ${total.toLocaleString("en-US")}`,
                               cfg.subscribers, { timeout: 30000 });
    const n0 = await page.evaluate(() => performance.now());
    await page.getByRole("button", { name: "Next →" }).click();
    const next = await page.waitForFunction(() => document.querySelector(".range").textContent.startsWith("51–100 of")
      ? performance.now() : 0, null, { timeout: 30000, polling: "raf" });
    const nextMs = (await next.jsonValue()) - n0;
    return { firstPageMs: Math.round(firstPageMs), range, searchMs: Math.round(doneAt - typedAt),
             searchAfterInputMs: Math.round(doneAt - before), searchRange, firstRow, nextMs: Math.round(nextMs) };
  });
  await page.close();
}

// ---- main ----------------------------------------------------------------------------------------

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "antenne-admin-ui-"));
let context = null;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: cfg.chromium || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
    timeout: 30000,
  });
  if (cfg.phase === "main") await mainPhase(context);
  else if (cfg.phase === "speed") await speedPhase(context);
  else throw new Error(`unknown phase ${cfg.phase}`);
} catch (e) {
  out.harness = String((e && e.stack) || e);
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + "\n");
