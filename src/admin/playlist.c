// SPDX-License-Identifier: MIT
// playlist.c -- the M3U playlist in the extended form IPTV players read
// (Kodi PVR IPTV Simple, TiviMate, VLC): #EXTINF with tvg-* attributes.
#include "admin/admin.h"

#include <stdio.h>

/* Attribute values are double-quoted: a quote inside would end them early,
 * and a line break would start a new line of the playlist. */
static void append_clean(strbuf_t *out, const char *value, bool in_quotes)
{
    for (const char *c = value ? value : ""; *c; c++) {
        char ch = *c;
        if ((unsigned char)ch < 0x20 || ch == 0x7f)
            ch = ' ';
        else if (ch == '"' && in_quotes)
            ch = '\'';
        strbuf_append(out, &ch, 1);
    }
}

static void append_attr(strbuf_t *out, const char *name, const char *value)
{
    strbuf_printf(out, " %s=\"", name);
    append_clean(out, value, true);
    strbuf_puts(out, "\"");
}

const char *admin_epg_id(const channel_config_t *c, char *buf, size_t size)
{
    if (c->tvg_id && *c->tvg_id)
        return c->tvg_id;
    /* XMLTV ids are dotted names (RFC 2838 style; tv_validate_file insists). */
    snprintf(buf, size, "%s.antenne", c->name);
    return buf;
}

void admin_playlist_m3u(const channel_config_t *const *channels, size_t count, const admin_playlist_t *options,
                        strbuf_t *out)
{
    strbuf_puts(out, "#EXTM3U");
    if (options->epg_url)
        append_attr(out, "x-tvg-url", options->epg_url);
    strbuf_puts(out, "\n");
    const char *prefix = options->path_prefix ? options->path_prefix : "";
    for (size_t i = 0; i < count; i++) {
        const channel_config_t *c = channels[i];
        const char *title = c->title && *c->title ? c->title : c->name;
        strbuf_puts(out, "#EXTINF:-1");
        char id[80];
        append_attr(out, "tvg-id", admin_epg_id(c, id, sizeof(id)));
        append_attr(out, "tvg-name", title);
        append_attr(out, "tvg-logo", c->logo);
        if (c->number > 0)
            strbuf_printf(out, " tvg-chno=\"%lld\"", (long long)c->number);
        append_attr(out, "group-title", c->group);
        /* After the comma the title runs to the end of the line. */
        strbuf_puts(out, ",");
        append_clean(out, title, false);
        strbuf_printf(out, "\n%s%s/live/%s%s\n", options->base_url, prefix, c->name,
                      options->hls ? "/index.m3u8" : ".ts");
    }
}
