// SPDX-License-Identifier: MIT
// serve.c -- playback from the archive, in the URL dialect players and
// set-top boxes already speak (Flussonic's):
//   index-FROM-DUR.m3u8, archive-FROM-DUR.m3u8   a recorded range (VOD)
//   index-FROM-now.m3u8                          from FROM on, growing (EVENT)
//   timeshift_rel-SECONDS.m3u8                   live, SECONDS behind
//   dvr-MS.ts                                    a recorded segment
// FROM is Unix seconds, DUR seconds. Seeking is a binary search in the index
// in memory: no file is read to answer a playlist. A gap in the recording
// (the source was down, the disk full) is skipped and marked with
// EXT-X-DISCONTINUITY, as is every change of source.
#include "dvr/dvr_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DVR_MAX_RANGE_S (12u * 3600u)  /* longest playlist: 12 h (about 21,600 segments) */
#define DVR_GAP_MS 1000u               /* a hole this long between segments is a gap */
#define DVR_TIMESHIFT_WINDOW 6         /* segments in a timeshift playlist */

typedef enum { RANGE_VOD, RANGE_EVENT, RANGE_TIMESHIFT } range_kind_t;

/* "PREFIX<digits>SUFFIX" exactly, the number within [min, max]. */
static bool match_number(const char *text, const char *prefix, const char *suffix, uint64_t max, uint64_t *out,
                         const char **rest)
{
    size_t plen = strlen(prefix);
    if (strncmp(text, prefix, plen))
        return false;
    const char *digits = text + plen;
    size_t n = strspn(digits, "0123456789");
    if (n == 0 || n > 19 || parse_u64_n(digits, n, 0, max, out) < 0)
        return false;
    if (rest) {
        *rest = digits + n;
        return true;
    }
    return !strcmp(digits + n, suffix);
}

static void append_segment(strbuf_t *out, const dvr_entry_t *e, bool discontinuity)
{
    char pdt[32];
    if (discontinuity)
        strbuf_puts(out, "#EXT-X-DISCONTINUITY\n");
    clock_format_iso(e->start_ms, pdt, sizeof(pdt));
    strbuf_printf(out, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%u.%03u,\ndvr-%llu.ts\n", pdt, e->duration_ms / 1000u,
                  e->duration_ms % 1000u, (unsigned long long)e->start_ms);
}

/* The playlist of entries [first, last) of the index. */
static void render(const dvr_index_t *ix, size_t first, size_t last, range_kind_t kind, strbuf_t *out)
{
    uint32_t longest_ms = 1000;
    for (size_t i = first; i < last; i++)
        longest_ms = MAX(longest_ms, dvr_index_at(ix, i)->duration_ms);
    strbuf_printf(out, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%u\n#EXT-X-MEDIA-SEQUENCE:%llu\n",
                  (longest_ms + 500u) / 1000u, (unsigned long long)(ix->dropped + first));
    if (kind == RANGE_VOD)
        strbuf_puts(out, "#EXT-X-PLAYLIST-TYPE:VOD\n");
    else if (kind == RANGE_EVENT)
        strbuf_puts(out, "#EXT-X-PLAYLIST-TYPE:EVENT\n");
    for (size_t i = first; i < last; i++) {
        const dvr_entry_t *e = dvr_index_at(ix, i);
        bool discontinuity = false;
        if (i > first) {
            const dvr_entry_t *prev = dvr_index_at(ix, i - 1);
            discontinuity = (e->flags & DVR_DISCONTINUITY) || e->chunk != prev->chunk ||
                            e->start_ms > prev->start_ms + prev->duration_ms + DVR_GAP_MS;
        }
        append_segment(out, e, discontinuity);
    }
    if (kind == RANGE_VOD)
        strbuf_puts(out, "#EXT-X-ENDLIST\n");
}

void dvr_describe(const dvr_index_t *ix, char *out, size_t size)
{
    size_t n = dvr_index_size(ix);
    if (!n) {
        snprintf(out, size, "the archive is empty");
        return;
    }
    const dvr_entry_t *last = dvr_index_at(ix, n - 1);
    snprintf(out, size, "the archive covers %llu to %llu", (unsigned long long)(dvr_index_at(ix, 0)->start_ms / 1000u),
             (unsigned long long)((last->start_ms + last->duration_ms) / 1000u));
}

static void serve_range(dvr_t *dvr, http_conn_t *conn, uint64_t from_s, uint64_t dur_s, range_kind_t kind)
{
    const dvr_index_t *ix = dvr_index(dvr);
    uint64_t now_s = clock_wall_ms() / 1000u;
    char what[120];
    if (kind != RANGE_TIMESHIFT && from_s > now_s) {
        http_respond_text(conn, 404, "%llu is in the future (now is %llu)", (unsigned long long)from_s,
                          (unsigned long long)now_s);
        return;
    }
    size_t first, last;
    if (kind == RANGE_TIMESHIFT) {
        /* The live window, dur_s behind: the segments that ended by then. */
        last = dvr_index_find(ix, clock_wall_ms() - dur_s * 1000u);
        first = last > DVR_TIMESHIFT_WINDOW ? last - DVR_TIMESHIFT_WINDOW : 0;
    } else {
        first = dvr_index_find(ix, from_s * 1000u);
        last = kind == RANGE_EVENT ? dvr_index_size(ix) : dvr_index_find(ix, (from_s + dur_s) * 1000u);
        /* (find gives the segment playing at the end: it belongs in the range
         * unless it starts right there) */
        if (kind == RANGE_VOD && last < dvr_index_size(ix) && dvr_index_at(ix, last)->start_ms < (from_s + dur_s) * 1000u)
            last++;
    }
    if (first >= last) {
        dvr_describe(ix, what, sizeof(what));
        if (kind == RANGE_TIMESHIFT)
            http_respond_text(conn, 404, "nothing recorded %llu s ago: %s", (unsigned long long)dur_s, what);
        else
            http_respond_text(conn, 404, "nothing recorded from %llu for %llu s: %s", (unsigned long long)from_s,
                              kind == RANGE_EVENT ? (unsigned long long)(now_s - from_s) : (unsigned long long)dur_s,
                              what);
        return;
    }
    strbuf_t out;
    strbuf_init(&out);
    render(ix, first, last, kind, &out);
    if (out.failed) {
        http_respond_text(conn, 503, "out of memory");
    } else {
        const char *cache = kind == RANGE_VOD ? "Cache-Control: max-age=3600\r\n" : "Cache-Control: no-cache\r\n";
        http_respond(conn, 200, "application/vnd.apple.mpegurl", cache, out.data, out.len);
    }
    strbuf_free(&out);
}

/* ---- segments: read on the thread pool ------------------------------------------------------- */

typedef struct segment_read {
    uv_work_t work;
    http_conn_t *conn;         /* NULL once the client has gone */
    char path[4200];
    dvr_entry_t entry;
    block_t *data;
    int error;
} segment_read_t;

int dvr_read_segment(const char *path, const dvr_entry_t *entry, block_t **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    block_t *data = block_new(entry->length, 0);
    if (!data) {
        close(fd);
        return -ENOMEM;
    }
    int rc = 0;
    while (data->size < entry->length) {
        ssize_t n = pread(fd, data->data + data->size, entry->length - data->size, (off_t)(entry->offset + data->size));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -ENODATA;
            break;
        }
        data->size += (uint32_t)n;
    }
    close(fd);
    if (rc < 0)
        block_unref(data);
    else
        *out = data;
    return rc;
}

static void read_work(uv_work_t *req)
{
    segment_read_t *r = req->data;
    r->error = dvr_read_segment(r->path, &r->entry, &r->data);
}

static void read_on_close(void *opaque)
{
    segment_read_t *r = opaque;
    r->conn = NULL;
}

static void read_done(uv_work_t *req, int status)
{
    segment_read_t *r = req->data;
    if (r->conn) {
        http_conn_take(r->conn, NULL, NULL);
        int error = status < 0 ? status : r->error;
        if (error == -ENOENT) {
            http_respond_text(r->conn, 410, "this segment has left the archive");
        } else if (error < 0) {
            log_warn("dvr", "reading %s at %llu: %s", r->path, (unsigned long long)r->entry.offset,
                     uv_strerror(error));
            http_respond_text(r->conn, 500, "cannot read the segment: %s", uv_strerror(error));
        } else {
            char headers[160];
            char modified[40];
            http_date(r->entry.start_ms + r->entry.duration_ms, modified, sizeof(modified));
            snprintf(headers, sizeof(headers), "Cache-Control: max-age=86400, immutable\r\nLast-Modified: %s\r\n",
                     modified);
            uv_buf_t buf = uv_buf_init((char *)r->data->data, r->data->size);
            http_respond_bufs(r->conn, 200, "video/mp2t", headers, &buf, 1, &r->data, 1);
        }
    }
    block_unref(r->data);
    free(r);
}

static void serve_segment(dvr_t *dvr, http_conn_t *conn, uint64_t start_ms)
{
    const dvr_entry_t *e = dvr_index_exact(dvr_index(dvr), start_ms);
    if (!e) {
        http_respond_text(conn, 404, "no recorded segment starts at %llu ms", (unsigned long long)start_ms);
        return;
    }
    segment_read_t *r = calloc(1, sizeof(*r));
    if (!r) {
        http_respond_text(conn, 503, "out of memory");
        return;
    }
    r->entry = *e;
    r->conn = conn;
    dvr_chunk_path(dvr->dir, e->chunk, ".ts", r->path, sizeof(r->path));
    r->work.data = r;
    http_conn_take(conn, read_on_close, r);
    int rc = uv_queue_work(dvr->loop, &r->work, read_work, read_done);
    if (rc < 0) {
        http_conn_take(conn, NULL, NULL);
        http_respond_text(conn, 503, "cannot queue the read: %s", uv_strerror(rc));
        free(r);
    }
}

uint64_t dvr_timeshift_start(const char *rest)
{
    uint64_t n;
    if (match_number(rest, "timeshift_abs-", ".ts", UINT32_MAX, &n, NULL))
        return n ? n * 1000u : 1;
    if (match_number(rest, "timeshift_rel-", ".ts", 100u * 365u * 86400u, &n, NULL))
        return MAX(clock_wall_ms() - n * 1000u, 1u);
    return 0;
}

/* The live playlists asked for with ?utc=FROM (Kodi and TiviMate catch-up
 * "append" and "shift"): the archive from FROM on, growing. */
static bool serve_utc(dvr_t *dvr, http_conn_t *conn, const http_request_t *req, const char *rest)
{
    static const char *const live[] = {"index.m3u8", "mono.m3u8", "master.m3u8", "video.m3u8", "index.ll.m3u8"};
    bool playlist = false;
    for (size_t i = 0; i < ARRAY_SIZE(live) && !playlist; i++)
        playlist = !strcmp(rest, live[i]);
    char value[24];
    if (!playlist || http_query_get(req->query, "utc", value, sizeof(value)) < 0)
        return false;
    uint64_t from;
    if (parse_u64(value, 0, UINT32_MAX, &from) < 0) {
        http_respond_text(conn, 400, "utc must be Unix seconds");
        return true;
    }
    if (clock_wall_ms() / 1000u > from + DVR_MAX_RANGE_S)
        http_respond_text(conn, 400, "utc is at most %u s ago", DVR_MAX_RANGE_S);
    else
        serve_range(dvr, conn, from, 0, RANGE_EVENT);
    return true;
}

int dvr_parse_request(const char *rest, uint64_t now_s, dvr_request_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *after;
    if (match_number(rest, "dvr-", ".ts", UINT64_MAX / 2, &out->from, NULL)) {
        out->kind = DVR_REQUEST_SEGMENT;
        return 0;
    }
    if (match_number(rest, "timeshift_rel-", ".m3u8", DVR_MAX_RANGE_S * 14, &out->duration, NULL)) {
        out->kind = DVR_REQUEST_TIMESHIFT;
        return 0;
    }
    bool index = !strncmp(rest, "index-", 6), archive = !strncmp(rest, "archive-", 8);
    if (!index && !archive)
        return 0; /* not the archive's */
    out->kind = DVR_REQUEST_BAD;
    if (!match_number(rest, index ? "index-" : "archive-", NULL, UINT32_MAX, &out->from, &after) || *after != '-') {
        snprintf(out->error, sizeof(out->error), "expected %s-FROM-DURATION.m3u8 with FROM in Unix seconds",
                 index ? "index" : "archive");
        return -EINVAL;
    }
    if (index && !strcmp(after, "-now.m3u8")) {
        if (now_s > out->from + DVR_MAX_RANGE_S) {
            snprintf(out->error, sizeof(out->error), "index-FROM-now.m3u8 starts at most %u s ago", DVR_MAX_RANGE_S);
            return -EINVAL;
        }
        out->kind = DVR_REQUEST_EVENT;
        return 0;
    }
    if (!match_number(after, "-", ".m3u8", DVR_MAX_RANGE_S, &out->duration, NULL) || out->duration == 0) {
        snprintf(out->error, sizeof(out->error), "the duration must be a number of seconds from 1 to %u (in '%.80s')",
                 DVR_MAX_RANGE_S, rest);
        return -EINVAL;
    }
    out->kind = DVR_REQUEST_RANGE;
    return 0;
}

bool dvr_serve(dvr_t *dvr, http_conn_t *conn, const http_request_t *req, const char *rest)
{
    if (serve_utc(dvr, conn, req, rest))
        return true;
    dvr_request_t r;
    dvr_parse_request(rest, clock_wall_ms() / 1000u, &r);
    switch (r.kind) {
    case DVR_REQUEST_NONE:
        return false;
    case DVR_REQUEST_BAD:
        http_respond_text(conn, 400, "%s", r.error);
        break;
    case DVR_REQUEST_SEGMENT:
        serve_segment(dvr, conn, r.from);
        break;
    case DVR_REQUEST_TIMESHIFT:
        serve_range(dvr, conn, 0, r.duration, RANGE_TIMESHIFT);
        break;
    case DVR_REQUEST_EVENT:
        serve_range(dvr, conn, r.from, 0, RANGE_EVENT);
        break;
    case DVR_REQUEST_RANGE:
        serve_range(dvr, conn, r.from, r.duration, RANGE_VOD);
        break;
    }
    return true;
}
