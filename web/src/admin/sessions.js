// SPDX-License-Identifier: MIT
// sessions.js -- who watches what now (#/sessions, and on a subscriber's
// page): refreshed every 3 s, a Kick button per stream. Each row is
// <tr data-session-id="ID"> with <button class="kick">Kick</button> (the
// portal's test relies on it); a kick acts at once, without a question, and
// its row goes away as soon as the server confirms it.
import { fmtBytes } from "/static/api.js";
import { h, call, enc, Poller, liveLine, table, setText, msgLine, fmtWhen, fmtInt } from "./lib.js";

export function sessionsTable({ subscriber } = {}) {
  const live = liveLine();
  const msg = msgLine();
  const count = h("p", { class: "summary" });
  const cols = [subscriber ? null : "Subscriber", "Channel", "Kind", "Client IP", ["User agent", "opt"], "Started",
                "Sent", h("span", { class: "sr-only" }, "Action")].filter(Boolean);
  const t = table(cols, { caption: "Sessions now", cls: "sessions" });
  const empty = h("p", { class: "muted hidden" }, subscriber ? "Not watching anything now." : "Nobody is watching now.");
  const rows = new Map();
  const kicked = new Set();

  async function kick(id, tr, button) {
    button.disabled = true;
    msg.clear();
    try {
      await call("DELETE", `/api/v1/sessions/${enc(id)}`);
      kicked.add(id);
      tr.remove();
      rows.delete(id);
      msg.ok(`Session ${id} kicked.`);
      setCount();
    } catch (e) {
      button.disabled = false;
      msg.error(e);
    }
  }

  function setCount() {
    setText(count, rows.size ? `${fmtInt(rows.size)} stream${rows.size === 1 ? "" : "s"} running` : "");
    empty.classList.toggle("hidden", rows.size > 0);
  }

  function render(sessions) {
    const seen = new Set();
    let prev = null;
    for (const s of sessions) {
      const id = String(s.id);
      if (kicked.has(id)) continue;
      seen.add(id);
      let r = rows.get(id);
      if (!r) {
        const button = h("button", { type: "button", class: "kick" }, "Kick");
        r = { started: h("td"), bytes: h("td", { class: "num" }) };
        r.tr = h("tr", { dataset: { sessionId: id } },
                 subscriber ? null : h("td", null, h("a", { href: `#/subscribers/${s.subscriber}` }, s.subscriber)),
                 h("td", null, h("a", { href: `#/channels/${s.channel}` }, s.channel)), h("td", null, s.kind || ""),
                 h("td", null, s.client_ip || ""), h("td", { class: "opt ua" }, s.user_agent || ""),
                 r.started, r.bytes, h("td", null, button));
        button.addEventListener("click", () => kick(id, r.tr, button));
        rows.set(id, r);
      }
      setText(r.started, fmtWhen(s.started_at));
      setText(r.bytes, fmtBytes(s.bytes || 0));
      // keep the server's order (newest first) without moving rows that are in place
      const want = prev ? prev.nextSibling : t.tbody.firstChild;
      if (want !== r.tr) t.tbody.insertBefore(r.tr, want);
      prev = r.tr;
    }
    for (const [id, r] of rows) if (!seen.has(id)) { r.tr.remove(); rows.delete(id); }
    setCount();
  }

  const query = subscriber ? `?subscriber=${enc(subscriber)}` : "";
  const poller = new Poller(async () => {
    const data = await call("GET", `/api/v1/sessions${query}`);
    render(data.sessions || []);
  }, 3000, (p) => live.update(p));
  return { el: h("div", null, count, live, msg, empty, t.wrap), start: () => poller.start(), stop: () => poller.stop() };
}

export function sessionsPage(main) {
  const s = sessionsTable();
  main.append(h("div", { class: "page-head" }, h("h1", null, "Sessions"),
                h("p", { class: "muted" }, "Streams running now on every server. Kick ends one at once; "
                  + "that player is refused for the channel for a while.")), s.el);
  s.start();
  return () => s.stop();
}
