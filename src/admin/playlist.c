// SPDX-License-Identifier: MIT
// playlist.c -- the M3U playlist in the extended form IPTV players read
// (Kodi PVR IPTV Simple, TiviMate, VLC): #EXTINF with tvg-* attributes.
#include "admin/admin.h"

/* Attribute values are double-quoted: a quote inside would end them early. */
static void append_attr(strbuf_t *out, const char *name, const char *value)
{
    strbuf_printf(out, " %s=\"", name);
    for (const char *c = value ? value : ""; *c; c++) {
        char ch = *c == '"' ? '\'' : *c;
        strbuf_append(out, &ch, 1);
    }
    strbuf_puts(out, "\"");
}

void admin_playlist_m3u(channel_t *const *channels, size_t count, const char *base_url, bool hls, strbuf_t *out)
{
    strbuf_puts(out, "#EXTM3U\n");
    for (size_t i = 0; i < count; i++) {
        const channel_config_t *c = channel_config(channels[i]);
        const char *title = c->title && *c->title ? c->title : c->name;
        strbuf_puts(out, "#EXTINF:-1");
        append_attr(out, "tvg-id", c->tvg_id);
        append_attr(out, "tvg-name", title);
        append_attr(out, "tvg-logo", c->logo);
        if (c->number > 0)
            strbuf_printf(out, " tvg-chno=\"%lld\"", (long long)c->number);
        append_attr(out, "group-title", c->group);
        /* After the comma the title runs to the end of the line. */
        strbuf_printf(out, ",%s\n%s/live/%s%s\n", title, base_url, c->name, hls ? "/index.m3u8" : ".ts");
    }
}
