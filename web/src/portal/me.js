// SPDX-License-Identifier: MIT
// me.js -- "My playlist" (#/me): the viewer's account (GET /api/v1/portal/me)
// and their personal playlist and guide addresses, with copy buttons and
// how to use them in TiviMate, Kodi and VLC.

import { h, fmtDateTime } from "/static/api.js";

// Copies text; the clipboard API needs a secure origin (https or localhost),
// so on a plain-HTTP LAN address it falls back to selecting the field.
async function copy(input) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(input.value);
      return true;
    }
  } catch { /* fall back below */ }
  input.focus();
  input.select();
  try { return document.execCommand("copy"); } catch { return false; }
}

function copyRow(id, label, value) {
  const input = h("input", { id, class: "copy-value", readonly: true, value, spellcheck: "false" });
  const said = h("span", { class: "copy-said", role: "status" });
  const button = h("button", {
    type: "button", class: "copy", "aria-describedby": id,
    onclick: async () => {
      const ok = await copy(input);
      said.textContent = ok ? "Copied." : "Select the address and copy it (Ctrl+C).";
      setTimeout(() => { said.textContent = ""; }, 4000);
    },
  }, "Copy");
  return h("div", { class: "copy-row" }, h("label", { for: id }, label), h("div", { class: "copy-line" }, input, button), said);
}

function expiry(expires) {
  if (!expires) return "no end date";
  const t = /^\d{4}-\d\d-\d\d$/.test(expires) ? `${expires}T23:59:59Z` : expires;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? expires : d.toLocaleDateString([], { dateStyle: "long" });
}

export function meView(ctx) {
  const body = h("div", { class: "me-body" }, h("p", { class: "muted", role: "status" }, "Loading…"));
  const el = h("section", { class: "me-view", "aria-labelledby": "me-title" },
    h("h1", { id: "me-title" }, "My playlist"), body);
  document.title = "My playlist — antenne TV";

  (async () => {
    let me;
    try {
      me = await ctx.call("/api/v1/portal/me");
    } catch (e) {
      body.replaceChildren(h("p", { class: "error", role: "alert" }, `Could not load your account: ${e.message}`));
      return;
    }
    const linksUntil = ctx.session && ctx.session.expires ? fmtDateTime(ctx.session.expires) : "";
    body.replaceChildren(
      h("p", {}, "Account ", h("strong", {}, me.name), ` · subscription: ${expiry(me.expires)}`,
        me.max_streams ? ` · up to ${me.max_streams} stream${me.max_streams === 1 ? "" : "s"} at once` : ""),
      h("p", {}, "Use these addresses to watch your channels in a TV app or on a set-top box."),
      copyRow("me-playlist", "Playlist (M3U)", me.playlist_url || ""),
      copyRow("me-epg", "Programme guide (XMLTV)", me.epg_url || ""),
      h("p", { class: "note" },
        "These addresses hold your personal key: anyone who has them can watch on your account. ",
        linksUntil ? `They work until ${linksUntil}; come back here for new ones.` : ""),
      h("h2", {}, "How to add them"),
      h("dl", { class: "hints" },
        h("dt", {}, "TiviMate"),
        h("dd", {}, "Settings → Playlists → Add playlist → Enter URL: paste the playlist address. " +
                    "The guide comes with it (or add the guide address under Settings → EPG)."),
        h("dt", {}, "Kodi (PVR IPTV Simple Client)"),
        h("dd", {}, "Add-ons → PVR IPTV Simple Client → Configure → General: Location “Remote path”, " +
                    "M3U playlist URL = the playlist address; EPG settings: XMLTV URL = the guide address. " +
                    "Catch-up is offered from the guide for recorded channels."),
        h("dt", {}, "VLC"),
        h("dd", {}, "Media → Open Network Stream… (Ctrl+N): paste the playlist address, then pick a channel " +
                    "in the playlist (View → Playlist)."),
      ),
    );
  })();

  return { el };
}
