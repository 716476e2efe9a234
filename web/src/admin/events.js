// SPDX-License-Identifier: MIT
// events.js -- what happened to channels (#/events): newest first, new ones
// fetched every 3 s with after=<newest id>, optionally of one channel.
import { h, call, enc, Poller, liveLine, table, fmtWhen, badge } from "./lib.js";

const KEEP = 500;
const STATES = new Set(["up", "degraded", "down", "starting", "idle"]);

export function eventsPage(main, params, query) {
  const live = liveLine();
  let channel = query.get("channel") || "";
  const select = h("select", { id: "event-channel", "aria-label": "Channel" },
                   h("option", { value: "" }, "All channels"));
  if (channel) select.append(h("option", { value: channel, selected: true }, channel));
  const t = table(["Time", "Channel", "Kind", "Message"], { caption: "Events", cls: "events" });
  const empty = h("p", { class: "muted hidden" }, "No events yet.");
  main.append(h("div", { class: "page-head" }, h("h1", null, "Events"), live),
              h("div", { class: "toolbar" }, h("label", { for: "event-channel", class: "inline" }, "Channel"), select),
              empty, t.wrap);

  let after = 0;
  let generation = 0;
  const poller = new Poller(async () => {
    const mine = generation;
    const qs = new URLSearchParams({ limit: after ? "1000" : "200" });
    if (after) qs.set("after", String(after));
    if (channel) qs.set("channel", channel);
    const data = await call("GET", `/api/v1/events?${qs}`);
    if (mine !== generation) return;
    const list = data.events || [];
    if (list.length) {
      after = Math.max(after, ...list.map((e) => e.id));
      t.tbody.prepend(...list.map((e) => h("tr", { dataset: { event: e.id }, class: `kind-${e.kind}` },
        h("td", null, fmtWhen(e.time)), h("td", null, h("a", { href: `#/channels/${e.channel}` }, e.channel)),
        h("td", null, STATES.has(e.kind) ? badge(e.kind) : e.kind), h("td", null, e.message))));
      while (t.tbody.rows.length > KEEP) t.tbody.lastElementChild.remove();
    }
    empty.classList.toggle("hidden", t.tbody.rows.length > 0);
  }, 3000, (p) => live.update(p)).start();

  select.addEventListener("change", () => {
    channel = select.value;
    generation++;
    after = 0;
    t.tbody.replaceChildren();
    history.replaceState(null, "", channel ? `#/events?channel=${enc(channel)}` : "#/events");
    poller.now();
  });
  call("GET", "/api/v1/channels").then((data) => {
    for (const c of data.channels || [])
      if (c.name !== channel) select.append(h("option", { value: c.name }, c.title && c.title !== c.name ? `${c.title} (${c.name})` : c.name));
  }, () => {});
  return () => poller.stop();
}
