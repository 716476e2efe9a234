// SPDX-License-Identifier: MIT
// write.c -- XMLTV out: a streaming writer (plain or one gzip member) whose
// output is valid against the XMLTV DTD 0.5 and passes tv_validate_file,
// and a subscriber's guide written from the store with it.
//
// The writer's states: channels (after epg_writer_new) -> programmes (from
// the first epg_writer_programme) -> ended (epg_writer_end frees it). The
// first error (sink, memory, order) is kept and returned by every later
// call; nothing more is written after it.
#include "epg/epg_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST /* next_in points at const bytes */
#include <zlib.h>

#define FLUSH_AT (64u * 1024u)

struct epg_writer {
    strbuf_t buf;          /* XML not yet handed over */
    epg_sink_fn sink;
    void *ctx;
    bool gzip;
    z_stream z;
    uint8_t *zout;
    bool in_programmes;
    int rc;
};

int epg_sink_strbuf(void *ctx, const void *bytes, size_t len)
{
    strbuf_t *sb = ctx;
    strbuf_append(sb, bytes, len);
    return sb->failed ? -ENOMEM : 0;
}

/* Hands buf to the sink, through deflate when gzip; finish ends the stream. */
static void flush(epg_writer_t *w, bool finish)
{
    if (w->rc == 0 && w->buf.failed)
        w->rc = -ENOMEM;
    if (w->rc != 0)
        return;
    if (!w->gzip) {
        if (w->buf.len > 0)
            w->rc = w->sink(w->ctx, w->buf.data, w->buf.len);
        w->buf.len = 0;
        return;
    }
    w->z.next_in = (const Bytef *)(w->buf.data ? w->buf.data : "");
    w->z.avail_in = (uInt)w->buf.len;
    for (;;) {
        w->z.next_out = w->zout;
        w->z.avail_out = FLUSH_AT;
        int zrc = deflate(&w->z, finish ? Z_FINISH : Z_NO_FLUSH);
        if (zrc == Z_STREAM_ERROR) {
            w->rc = -EIO;
            return;
        }
        size_t n = FLUSH_AT - w->z.avail_out;
        if (n > 0 && (w->rc = w->sink(w->ctx, w->zout, n)) != 0)
            return;
        if (finish ? zrc == Z_STREAM_END : (w->z.avail_in == 0 && w->z.avail_out > 0))
            break;
    }
    w->buf.len = 0;
}

static void maybe_flush(epg_writer_t *w)
{
    if (w->buf.len >= FLUSH_AT || w->buf.failed)
        flush(w, false);
}

/* Length of the UTF-8 sequence at s (at most n bytes) and its code point,
 * or 0 when it is not a valid, shortest-form scalar value. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* Appends text escaped for XML content or a double-quoted attribute.
 * Dropped: invalid UTF-8, C0 and C1 controls, U+FFFE/U+FFFF (not XML
 * characters, or not meant for a guide); newlines and tabs become spaces
 * unless keep_newlines (the DTD allows them in <desc> only). */
static void put_text(strbuf_t *out, const char *text, bool keep_newlines)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), run = 0, i = 0;
    /* Copies clean runs in one append; the rest byte by byte. */
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7F && c != '&' && c != '<' && c != '>' && c != '"') {
            i++;
            run++;
            continue;
        }
        if (run)
            strbuf_append(out, (const char *)s + i - run, run);
        run = 0;
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len == 0) {
            i++;
            continue;
        }
        switch (cp) {
        case '&': strbuf_append(out, "&amp;", 5); break;
        case '<': strbuf_append(out, "&lt;", 4); break;
        case '>': strbuf_append(out, "&gt;", 4); break;
        case '"': strbuf_append(out, "&quot;", 6); break;
        case '\n':
            strbuf_append(out, keep_newlines ? "\n" : " ", 1);
            break;
        case '\r':
            break; /* CRLF: the LF stands for both */
        case '\t':
            strbuf_append(out, " ", 1);
            break;
        default:
            if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF)
                break;
            strbuf_append(out, (const char *)s + i, len);
            break;
        }
        i += len;
    }
    if (run)
        strbuf_append(out, (const char *)s + i - run, run);
}

/* Appends text as put_text does; returns false, and takes back what it
 * appended, when nothing but spaces would remain (the DTD wants no empty
 * elements, and tv_validate_file flags them). */
static bool put_text_nonempty(strbuf_t *out, const char *text, bool keep_newlines)
{
    if (!text)
        return false;
    size_t mark = out->len;
    put_text(out, text, keep_newlines);
    if (out->failed)
        return false;
    for (size_t i = mark; i < out->len; i++)
        if (out->data[i] != ' ' && out->data[i] != '\n')
            return true;
    out->len = mark;
    return false;
}

/* <name attrs>text</name>, or nothing when text is empty once cleaned. */
static bool put_element(strbuf_t *out, const char *name, const char *attrs, const char *text, bool keep_newlines)
{
    size_t mark = out->len;
    strbuf_printf(out, "    <%s%s>", name, attrs);
    if (!put_text_nonempty(out, text, keep_newlines)) {
        if (!out->failed)
            out->len = mark;
        return false;
    }
    strbuf_printf(out, "</%s>\n", name);
    return true;
}

static void put_icon(strbuf_t *out, const char *src)
{
    size_t mark = out->len;
    strbuf_puts(out, "    <icon src=\"");
    if (put_text_nonempty(out, src, false))
        strbuf_puts(out, "\"/>\n");
    else if (!out->failed)
        out->len = mark;
}

int epg_writer_new(bool gzip, epg_sink_fn sink, void *ctx, epg_writer_t **out)
{
    *out = NULL;
    epg_writer_t *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    strbuf_init(&w->buf);
    w->sink = sink;
    w->ctx = ctx;
    w->gzip = gzip;
    if (gzip) {
        w->zout = malloc(FLUSH_AT);
        /* 15 + 16: a gzip wrapper, as Content-Encoding and .gz files want.
         * Level 1: a guide is written per subscriber on request, and on
         * XMLTV text level 1 takes a third of the default level's CPU
         * for about 20 % more bytes (bench/RESULTS.md). */
        if (!w->zout || deflateInit2(&w->z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            free(w->zout);
            free(w);
            return -ENOMEM;
        }
    }
    strbuf_puts(&w->buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<!DOCTYPE tv SYSTEM \"xmltv.dtd\">\n"
                         "<tv generator-info-name=\"antenne\">\n");
    if (w->buf.failed) {
        epg_writer_abort(w);
        return -ENOMEM;
    }
    *out = w;
    return 0;
}

int epg_writer_channel(epg_writer_t *w, const epg_out_channel_t *channel)
{
    if (w->rc == 0 && w->in_programmes)
        w->rc = -EPROTO;
    if (w->rc != 0)
        return w->rc;
    strbuf_t *out = &w->buf;
    size_t mark = out->len;
    strbuf_puts(out, "  <channel id=\"");
    /* display-name+ : the id stands in when there is no title. */
    bool ok = put_text_nonempty(out, channel->id, false);
    if (ok) {
        strbuf_puts(out, "\">\n");
        ok = put_element(out, "display-name", "", channel->display_name, false) ||
             put_element(out, "display-name", "", channel->id, false);
    }
    if (!ok) {
        if (!out->failed)
            out->len = mark; /* no usable id: skipped */
        maybe_flush(w);
        return w->rc;
    }
    put_icon(out, channel->icon);
    strbuf_puts(out, "  </channel>\n");
    maybe_flush(w);
    return w->rc;
}

int epg_writer_programme(epg_writer_t *w, const char *channel_id, const store_programme_t *p)
{
    if (w->rc != 0)
        return w->rc;
    w->in_programmes = true;
    char start[24], stop[24];
    if (p->stop < p->start || epg_time_format(p->start, start, sizeof(start)) != 0 ||
        epg_time_format(p->stop, stop, sizeof(stop)) != 0)
        return 0;
    strbuf_t *out = &w->buf;
    size_t mark = out->len;
    strbuf_printf(out, "  <programme start=\"%s\" stop=\"%s\" channel=\"", start, stop);
    /* The DTD's order: title, sub-title, desc, ..., category, ..., icon, ..., episode-num. */
    bool ok = put_text_nonempty(out, channel_id, false);
    if (ok) {
        strbuf_puts(out, "\">\n");
        ok = put_element(out, "title", "", p->title, false);
    }
    if (!ok) {
        if (!out->failed)
            out->len = mark; /* no channel or no title: skipped */
        maybe_flush(w);
        return w->rc;
    }
    put_element(out, "sub-title", "", p->subtitle, false);
    put_element(out, "desc", "", p->description, true);
    put_element(out, "category", "", p->category, false);
    put_icon(out, p->icon);
    if (p->episode && epg_episode_valid(p->episode))
        put_element(out, "episode-num", " system=\"xmltv_ns\"", p->episode, false);
    strbuf_puts(out, "  </programme>\n");
    maybe_flush(w);
    return w->rc;
}

void epg_writer_abort(epg_writer_t *w)
{
    if (!w)
        return;
    if (w->gzip)
        deflateEnd(&w->z);
    free(w->zout);
    strbuf_free(&w->buf);
    free(w);
}

int epg_writer_end(epg_writer_t *w)
{
    if (w->rc == 0) {
        strbuf_puts(&w->buf, "</tv>\n");
        flush(w, true);
    }
    int rc = w->rc;
    epg_writer_abort(w);
    return rc;
}

/* ---- a guide from the store ----------------------------------------------------------- */

typedef struct guide {
    epg_writer_t *writer;
    const epg_out_channel_t *channels;
    size_t count;
    size_t at;   /* the channel of the last programme: they come in channel order */
} guide_t;

static int guide_programme(void *ctx, const store_programme_t *p)
{
    guide_t *g = ctx;
    if (strcmp(g->channels[g->at].name, p->channel) != 0) {
        size_t i;
        for (i = 0; i < g->count; i++)
            if (strcmp(g->channels[(g->at + i) % g->count].name, p->channel) == 0)
                break;
        if (i == g->count)
            return 0; /* not asked for: the store's business, not ours */
        g->at = (g->at + i) % g->count;
    }
    return epg_writer_programme(g->writer, g->channels[g->at].id, p);
}

/* Which of the channels have programmes: store_epg_each gives them in the
 * order of `names`, so a cursor finds each one's index. */
typedef struct presence {
    const char **names;
    size_t count;
    size_t at;
    bool *listed;
} presence_t;

static int mark_present(void *ctx, const store_programme_t *programme)
{
    presence_t *p = ctx;
    while (p->at < p->count && strcmp(p->names[p->at], programme->channel) != 0)
        p->at++;
    if (p->at < p->count)
        p->listed[p->at] = true;
    return 0;
}

int epg_write_guide(store_t *store, const epg_out_channel_t *channels, size_t count, int64_t from, int64_t to,
                    bool gzip, epg_sink_fn sink, void *ctx, char *err, size_t err_size)
{
    if (err_size)
        err[0] = '\0';
    epg_writer_t *w;
    int rc = epg_writer_new(gzip, sink, ctx, &w);
    if (rc != 0) {
        snprintf(err, err_size, "out of memory");
        return rc;
    }
    /* Each XMLTV id once; its first channel supplies the programmes (an HD
     * and an SD channel sharing a tvg_id share a guide). */
    epg_out_channel_t *unique = calloc(count ? count : 1, sizeof(*unique));
    const char **names = calloc(count ? count : 1, sizeof(*names));
    bool *listed = calloc(count ? count : 1, sizeof(*listed));
    size_t n = 0;
    if (!unique || !names || !listed)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (!channels[i].id || !*channels[i].id || !channels[i].name)
            continue;
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(unique[j].id, channels[i].id) == 0;
        if (seen)
            continue;
        unique[n] = channels[i];
        names[n++] = channels[i].name;
    }
    /* Only channels with programmes in the window are listed: the XMLTV
     * project's validator (tv_validate_file) refuses a channel without any. */
    if (rc == 0 && n > 0) {
        presence_t p = {.names = names, .count = n, .listed = listed};
        rc = store_epg_each(store, names, n, from, to, mark_present, &p);
        if (rc != 0)
            snprintf(err, err_size, "reading the guide: %s", store_last_error(store));
    }
    size_t kept = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!listed[i])
            continue;
        unique[kept] = unique[i];
        names[kept++] = names[i];
        rc = epg_writer_channel(w, &unique[kept - 1]);
    }
    n = kept;
    if (rc == 0 && n > 0) {
        guide_t g = {.writer = w, .channels = unique, .count = n};
        rc = store_epg_each(store, names, n, from, to, guide_programme, &g);
        if (rc != 0 && w->rc == 0)
            snprintf(err, err_size, "reading the guide: %s", store_last_error(store));
    }
    if (rc == 0) {
        rc = epg_writer_end(w);
    } else {
        epg_writer_abort(w);
    }
    if (rc != 0 && err_size && !err[0])
        snprintf(err, err_size, "writing the guide: %s", strerror(rc < 0 ? -rc : EIO));
    free(unique);
    free(names);
    free(listed);
    return rc;
}
