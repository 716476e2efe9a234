// SPDX-License-Identifier: MIT
// fuzz_m3u.c -- fuzz target for src/admin/playlist.c: channel fields taken
// from the input (split at NUL bytes: name, title, group, logo, tvg-id, and
// a byte for the number) go into a playlist, which must keep its shape
// whatever they hold: "#EXTM3U", then exactly two lines per channel, the
// second being the stream URL. A title with a line break must never add a
// line a player would take for another stream.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    /* Up to three channels of five fields each. */
    channel_config_t configs[3];
    const channel_config_t *list[3];
    size_t count = 0;
    char *p = copy, *end = copy + size;
    while (count < 3 && p < end) {
        channel_config_t *c = &configs[count];
        memset(c, 0, sizeof(*c));
        char *field[FIELDS] = {0};
        for (int f = 0; f < FIELDS && p <= end; f++) {
            field[f] = p;
            p += strlen(p) + 1;
        }
        c->name = field[0];
        c->title = field[1];
        c->group = field[2];
        c->logo = field[3];
        c->tvg_id = field[4];
        c->number = p < end ? (unsigned char)*p++ : 0;
        list[count++] = c;
    }
    strbuf_t out;
    strbuf_init(&out);
    admin_playlist_t options = {.base_url = "http://h", .path_prefix = "/t/T", .epg_url = "http://h/e\"\n", .hls = true};
    admin_playlist_m3u(list, count, &options, &out);
    if (!out.failed) {
        size_t lines = 0;
        for (size_t i = 0; i < out.len; i++)
            if (out.data[i] == '\n')
                lines++;
        if (lines != 1 + 2 * count || memchr(out.data, '\r', out.len) || strncmp(out.data, "#EXTM3U", 7))
            abort();
        /* Every second line after the header is a URL of ours. */
        const char *line = strchr(out.data, '\n') + 1;
        for (size_t i = 0; i < 2 * count; i++) {
            if ((i % 2 == 0) != (strncmp(line, "#EXTINF:-1 ", 11) == 0))
                abort();
            if (i % 2 == 1 && strncmp(line, "http://h/t/T/live/", 18) != 0)
                abort();
            line = strchr(line, '\n') + 1;
        }
    }
    strbuf_free(&out);
    free(copy);
    return 0;
}
