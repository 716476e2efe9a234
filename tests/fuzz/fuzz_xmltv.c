// SPDX-License-Identifier: MIT
// fuzz_xmltv.c -- fuzz target for src/epg/xmltv.c (and write.c): each input
// is parsed from memory (gzip or not). Whatever it is, every field handed
// over must keep the parser's promises and an error must say where and
// what; the programmes read, written back out by the XMLTV writer, must
// parse again -- so the writer's escaping is fuzzed too.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epg/epg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz {
    epg_writer_t *writer;
    uint64_t channels, programmes;
    bool in_programmes;
} fuzz_t;

static void check_text(const char *text, size_t max, bool required)
{
    if (!text) {
        if (required)
            abort();
        return;
    }
    size_t n = strlen(text);
    if (n > max || (required && n == 0))
        abort();
    /* Trimmed, never empty when present. */
    if (n == 0 || text[0] == ' ' || text[n - 1] == ' ' || text[0] == '\n' || text[n - 1] == '\n')
        abort();
}

static int on_channel(void *ctx, const epg_channel_t *c, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    fuzz_t *f = ctx;
    check_text(c->id, EPG_ID_MAX, true);
    if (c->name_count > EPG_NAMES_MAX)
        abort();
    for (size_t i = 0; i < c->name_count; i++) {
        check_text(c->names[i], EPG_TEXT_MAX, true);
        if (c->langs[i] && strlen(c->langs[i]) > EPG_LANG_MAX)
            abort();
    }
    check_text(c->icon, EPG_TEXT_MAX, false);
    f->channels++;
    /* The writer takes channels only before programmes. */
    if (!f->in_programmes) {
        epg_out_channel_t out = {.name = c->id, .id = c->id, .display_name = c->name_count ? c->names[0] : NULL,
                                 .icon = c->icon};
        if (epg_writer_channel(f->writer, &out) != 0)
            abort();
    }
    return 0;
}

static int on_programme(void *ctx, const epg_programme_t *e, char *err, size_t err_size)
{
    fuzz_t *f = ctx;
    const store_programme_t *p = &e->p;
    check_text(p->channel, EPG_ID_MAX, true);
    check_text(p->title, EPG_TEXT_MAX, true);
    check_text(p->subtitle, EPG_TEXT_MAX, false);
    check_text(p->description, EPG_TEXT_MAX, false);
    check_text(p->category, EPG_TEXT_MAX, false);
    check_text(p->episode, EPG_TEXT_MAX, false);
    check_text(p->icon, EPG_TEXT_MAX, false);
    if (e->has_stop ? p->stop < p->start : p->stop != 0)
        abort();
    /* Every fourth programme, an error from the caller, to test that path. */
    if (f->programmes++ % 4 == 3 && p->title[0] == 'X') {
        snprintf(err, err_size, "refused");
        return -ECANCELED;
    }
    f->in_programmes = true;
    store_programme_t out = *p;
    if (!e->has_stop)
        out.stop = out.start;
    if (epg_writer_programme(f->writer, p->channel, &out) != 0)
        abort();
    return 0;
}

static int count_programme(void *ctx, const epg_programme_t *e, char *err, size_t err_size)
{
    (void)e, (void)err, (void)err_size;
    ++*(uint64_t *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strbuf_t out;
    strbuf_init(&out);
    fuzz_t f = {0};
    if (epg_writer_new(false, epg_sink_strbuf, &out, &f.writer) != 0)
        return 0;
    epg_xmltv_handler_t handler = {on_channel, on_programme, &f};
    epg_xmltv_stats_t stats;
    char err[300];
    memset(err, 'x', sizeof(err));
    int rc = epg_xmltv_parse_mem(data, size, &handler, &stats, err, sizeof(err));
    if (stats.channels != f.channels || stats.programmes < f.programmes || stats.bytes_in != size)
        abort();
    if (rc != 0) {
        /* Every error says something, and where unless it is about the gzip layer. */
        if (rc > 0 || !memchr(err, 0, sizeof(err)) || err[0] == '\0')
            abort();
        if (strncmp(err, "line ", 5) != 0 && !strstr(err, "gzip"))
            abort();
        if (rc == -ECANCELED && !strstr(err, ": refused"))
            abort();
        epg_writer_abort(f.writer);
        strbuf_free(&out);
        return 0;
    }
    if (epg_writer_end(f.writer) != 0)
        abort();
    /* What we wrote reads back, every programme of it. (The writer may
     * skip some: a title of nothing but control characters, a time past
     * year 9999.) */
    uint64_t written = 0, again = 0;
    for (const char *c = out.data; (c = strstr(c, "\n  <programme start=\"")); c++)
        written++;
    epg_xmltv_handler_t counter = {.programme = count_programme, .ctx = &again};
    if (written > f.programmes || epg_xmltv_parse_mem(out.data, out.len, &counter, NULL, err, sizeof(err)) != 0 ||
        again != written)
        abort();
    strbuf_free(&out);
    return 0;
}
