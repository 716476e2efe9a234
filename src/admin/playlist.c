// SPDX-License-Identifier: MIT
// playlist.c -- the M3U playlist in the extended form IPTV players read
// (Kodi PVR IPTV Simple, TiviMate, VLC): #EXTINF with tvg-* attributes.
#include "admin/admin.h"

#include <stdio.h>

/* Attribute values are double-quoted: a quote inside would end them early,
 * and a line break would start a new line of the playlist. Clean runs are
 * copied whole: a playlist of thousands of channels is mostly such runs. */
static void append_clean(strbuf_t *out, const char *value, bool in_quotes)
{
    const char *run = value ? value : "";
    for (const char *c = run;; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch >= 0x20 && ch != 0x7f && !(ch == '"' && in_quotes))
            continue;
        strbuf_append(out, run, (size_t)(c - run));
        if (ch == '\0')
            return;
        strbuf_append(out, ch == '"' ? "'" : " ", 1);
        run = c + 1;
    }
}

static void append_attr(strbuf_t *out, const char *name, const char *value)
{
    strbuf_puts(out, name);
    append_clean(out, value, true);
    strbuf_append(out, "\"", 1);
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
        append_attr(out, " x-tvg-url=\"", options->epg_url);
    strbuf_puts(out, "\n");
    /* What every stream URL starts with, and ends with. */
    strbuf_t stem;
    strbuf_init(&stem);
    strbuf_printf(&stem, "%s%s/live/", options->base_url, options->path_prefix ? options->path_prefix : "");
    const char *suffix = options->hls ? "/index.m3u8\n" : ".ts\n";
    for (size_t i = 0; i < count && !stem.failed; i++) {
        const channel_config_t *c = channels[i];
        const char *title = c->title && *c->title ? c->title : c->name;
        char id[80];
        append_attr(out, "#EXTINF:-1 tvg-id=\"", admin_epg_id(c, id, sizeof(id)));
        append_attr(out, " tvg-name=\"", title);
        append_attr(out, " tvg-logo=\"", c->logo);
        if (c->number > 0) {
            char number[24];
            snprintf(number, sizeof(number), "%lld", (long long)c->number);
            append_attr(out, " tvg-chno=\"", number);
        }
        append_attr(out, " group-title=\"", c->group);
        if (c->archive) {
            /* Catch-up as Kodi's IPTV Simple and TiviMate read it: the
             * player appends the programme's start and now to the URL. */
            char days[24];
            snprintf(days, sizeof(days), "%lld", (long long)(c->archive_days > 0 ? c->archive_days : 7));
            strbuf_puts(out, " catchup=\"append\"");
            append_attr(out, " catchup-days=\"", days);
            strbuf_puts(out, " catchup-source=\"?utc={utc}&lutc={lutc}\"");
        }
        /* After the comma the title runs to the end of the line. */
        strbuf_append(out, ",", 1);
        append_clean(out, title, false);
        strbuf_append(out, "\n", 1);
        strbuf_append(out, stem.data, stem.len);
        append_clean(out, c->name, false); /* names are checked when stored; this line holds regardless */
        strbuf_puts(out, suffix);
    }
    if (stem.failed)
        out->failed = true;
    strbuf_free(&stem);
}
