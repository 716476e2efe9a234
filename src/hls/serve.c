// SPDX-License-Identifier: MIT
// serve.c -- HTTP for HLS: playlists (with LL-HLS blocking reload,
// RFC 8216bis 6.2.5.2), segments and parts served from ring blocks with
// ETag, Last-Modified and Range, and requests that wait for a part or
// segment that does not exist yet.
#include "hls/hls_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum wait_kind {
    WAIT_PLAYLIST,      /* a playlist of the given flavour, once it has content */
    WAIT_LL_RELOAD,     /* index.ll.m3u8 with _HLS_msn/_HLS_part */
    WAIT_PART,          /* a preload-hinted part */
} wait_kind_t;

struct hls_waiter {
    hls_waiter_t *next;
    hls_waiter_t *prev;
    hls_t *hls;             /* NULL once the segmenter is gone */
    http_conn_t *conn;
    wait_kind_t kind;
    int flavour;            /* WAIT_PLAYLIST: 0 plain, 1 ll, 2 master, 3 master ll */
    uint64_t msn;
    int64_t part;           /* -1: the whole segment */
    uint64_t deadline_us;
    bool head;
    bool answered;
};

#define PLAYLIST_TYPE "application/vnd.apple.mpegurl"

static const char *const playlist_cache[] = {"Cache-Control: max-age=1\r\n", "Cache-Control: no-cache\r\n"};

static uint64_t block_wait_us(const hls_t *hls)
{
    uint32_t target = hls->published_target ? hls->published_target : hls->options.target_s;
    return 3ull * target * 1000000u;
}

/* ---- availability ----------------------------------------------------------- */

static bool segment_ready(const hls_t *hls, uint64_t msn)
{
    const hls_segment_t *seg = hls_segment_get(hls, msn);
    return seg && seg->complete;
}

/* Whether a playlist would list part `part` of segment msn (or the whole
 * segment for part < 0): RFC 8216bis 6.2.5.2. */
static bool reload_ready(const hls_t *hls, uint64_t msn, int64_t part)
{
    const hls_segment_t *seg = hls_segment_get(hls, msn);
    if (!seg)
        return hls->have_segments && msn < hls->first_msn;
    if (seg->complete)
        return true;
    return part >= 0 && (uint64_t)part < seg->part_count;
}

static bool playlist_ready(const hls_t *hls)
{
    uint64_t first, last;
    return hls->published_target && hls_window(hls, &first, &last);
}

/* ---- answers -------------------------------------------------------------------- */

static void send_playlist(hls_t *hls, http_conn_t *conn, int flavour)
{
    strbuf_t master;
    strbuf_t *text;
    if (flavour == 0) {
        if (hls->plain_dirty) {
            hls->plain.len = 0;
            hls_render_plain(hls, &hls->plain);
            hls->plain_dirty = false;
        }
        text = &hls->plain;
    } else if (flavour == 1) {
        if (hls->ll_dirty) {
            hls->low_latency.len = 0;
            hls_render_ll(hls, &hls->low_latency);
            hls->ll_dirty = false;
        }
        text = &hls->low_latency;
    } else {
        strbuf_init(&master);
        hls_render_master(hls, flavour == 3, &master);
        text = &master;
    }
    if (text->failed)
        http_respond_text(conn, 503, "out of memory");
    else
        http_respond(conn, 200, PLAYLIST_TYPE, playlist_cache[flavour == 1], text->data, text->len);
    if (flavour >= 2)
        strbuf_free(&master);
}

/* If-None-Match is "*" or a list of entity tags (RFC 9110 13.1.2); weak
 * tags compare like strong ones for a GET. */
static bool etag_matches(http_slice_t header, const char *etag)
{
    size_t len = strlen(etag);
    const char *p = header.ptr, *end = header.ptr + header.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *stop = p;
        while (stop < end && *stop != ',')
            stop++;
        const char *tail = stop;
        while (tail > p && (tail[-1] == ' ' || tail[-1] == '\t'))
            tail--;
        if ((tail - p == 1 && *p == '*') || ((size_t)(tail - p) == len && memcmp(p, etag, len) == 0))
            return true;
        p = stop;
    }
    return false;
}

/* Serves [start, end) of a segment, after its PSI, honouring conditional
 * and range requests. */
static void send_media(http_conn_t *conn, const http_request_t *req, const hls_segment_t *seg, uint64_t start,
                       uint64_t end, bool with_psi, const char *etag)
{
    uv_buf_t bufs[HTTP_MAX_BUFS];
    size_t count = 0;
    uint64_t size = 0;
    if (with_psi && seg->psi) {
        bufs[count++] = uv_buf_init((char *)seg->psi->data, seg->psi->size);
        size += seg->psi->size;
    }
    if (seg->block_count >= HTTP_MAX_BUFS) {
        http_respond_text(conn, 503, "segment of %u blocks is too large to send", seg->block_count);
        return;
    }
    for (uint32_t i = 0; i < seg->block_count; i++) {
        const block_t *block = seg->blocks[i];
        uint64_t base = block->seq * RING_BLOCK_SIZE;
        uint64_t from = MAX(base, start), to = MIN(base + block->size, end);
        if (from >= to)
            continue;
        bufs[count++] = uv_buf_init((char *)block->data + (from - base), (unsigned)(to - from));
        size += to - from;
    }
    const http_slice_t *inm = http_header_get(req->headers, req->header_count, "If-None-Match");
    char headers[400];
    char modified[40];
    http_date(seg->done_ms ? seg->done_ms : clock_wall_ms(), modified, sizeof(modified));
    int n = snprintf(headers, sizeof(headers),
                     "Cache-Control: max-age=3600, immutable\r\nETag: %s\r\nLast-Modified: %s\r\nAccept-Ranges: bytes\r\n",
                     etag, modified);
    if (inm && etag_matches(*inm, etag)) {
        http_respond(conn, 304, "video/mp2t", headers, NULL, 0);
        return;
    }
    const http_slice_t *range = http_header_get(req->headers, req->header_count, "Range");
    uint64_t first, last;
    int rc = range ? http_range_parse(*range, size, &first, &last) : -EINVAL;
    if (rc == -ERANGE) {
        snprintf(headers + n, sizeof(headers) - (size_t)n, "Content-Range: bytes */%llu\r\n",
                 (unsigned long long)size);
        http_respond(conn, 416, "text/plain", headers, "range not satisfiable\n", 22);
        return;
    }
    int status = 200;
    if (rc == 0) {
        /* Trim the gathered buffers to [first, last]. */
        size_t kept = 0;
        uint64_t offset = 0;
        for (size_t i = 0; i < count; i++) {
            uint64_t b_from = offset, b_to = offset + bufs[i].len;
            offset = b_to;
            uint64_t from = MAX(b_from, first), to = MIN(b_to, last + 1);
            if (from >= to)
                continue;
            bufs[kept++] = uv_buf_init(bufs[i].base + (from - b_from), (unsigned)(to - from));
        }
        count = kept;
        status = 206;
        snprintf(headers + n, sizeof(headers) - (size_t)n, "Content-Range: bytes %llu-%llu/%llu\r\n",
                 (unsigned long long)first, (unsigned long long)last, (unsigned long long)size);
    }
    block_t *refs[HTTP_MAX_BUFS];
    size_t ref_count = 0;
    if (with_psi && seg->psi)
        refs[ref_count++] = seg->psi;
    for (uint32_t i = 0; i < seg->block_count && ref_count < ARRAY_SIZE(refs); i++)
        refs[ref_count++] = seg->blocks[i];
    http_respond_bufs(conn, status, "video/mp2t", headers, bufs, count, refs, ref_count);
}

static void send_segment(hls_t *hls, http_conn_t *conn, const http_request_t *req, const hls_segment_t *seg)
{
    char etag[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx\"", (unsigned long long)seg->msn, (unsigned long long)seg->start,
             (unsigned long long)seg->end);
    (void)hls;
    send_media(conn, req, seg, seg->start, seg->end, true, etag);
}

static void send_part(http_conn_t *conn, const http_request_t *req, const hls_segment_t *seg, uint32_t index)
{
    const hls_part_t *part = &seg->parts[index];
    char etag[64];
    snprintf(etag, sizeof(etag), "\"%llx-%u-%llx\"", (unsigned long long)seg->msn, index,
             (unsigned long long)part->start);
    send_media(conn, req, seg, part->start, part->end, true, etag);
}

/* ---- waiting -------------------------------------------------------------------- */

static void waiter_unlink(hls_waiter_t *w)
{
    if (!w->hls)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        w->hls->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->hls = NULL;
}

static void waiter_on_close(void *opaque)
{
    hls_waiter_t *w = opaque;
    waiter_unlink(w);
    free(w);
}

static const http_request_t *empty_request(void)
{
    static http_request_t none;
    return &none;
}

/* Answers a waiter if what it waits for exists; true when answered. */
static bool waiter_try(hls_t *hls, hls_waiter_t *w)
{
    switch (w->kind) {
    case WAIT_PLAYLIST:
        if (!playlist_ready(hls))
            return false;
        send_playlist(hls, w->conn, w->flavour);
        return true;
    case WAIT_LL_RELOAD:
        if (!playlist_ready(hls) || !reload_ready(hls, w->msn, w->part))
            return false;
        send_playlist(hls, w->conn, 1);
        return true;
    case WAIT_PART: {
        const hls_segment_t *seg = hls_segment_get(hls, w->msn);
        if (seg && seg->complete && (uint64_t)w->part >= seg->part_count) {
            /* The segment ended at a keyframe before the hinted part: it
             * will never exist, and the player should move on now. */
            http_respond_text(w->conn, 404, "%s: segment %llu ended with %u parts", hls->name,
                              (unsigned long long)w->msn, seg->part_count);
            return true;
        }
        if (!seg || (uint64_t)w->part >= seg->part_count)
            return false;
        send_part(w->conn, empty_request(), seg, (uint32_t)w->part);
        return true;
    }
    }
    return false;
}

static void hls_on_timer(uv_timer_t *timer);

static void wait_for(hls_t *hls, http_conn_t *conn, wait_kind_t kind, int flavour, uint64_t msn, int64_t part)
{
    hls_waiter_t *w = calloc(1, sizeof(*w));
    if (!w) {
        http_respond_text(conn, 503, "out of memory");
        return;
    }
    w->hls = hls;
    w->conn = conn;
    w->kind = kind;
    w->flavour = flavour;
    w->msn = msn;
    w->part = part;
    w->deadline_us = clock_mono_us() + block_wait_us(hls);
    http_conn_take(conn, waiter_on_close, w);
    w->next = hls->waiters;
    if (hls->waiters)
        hls->waiters->prev = w;
    hls->waiters = w;
    if (!uv_is_active((uv_handle_t *)&hls->timer))
        uv_timer_start(&hls->timer, hls_on_timer, 50, 50);
}

void hls_wake_waiters(hls_t *hls)
{
    hls_waiter_t *next;
    for (hls_waiter_t *w = hls->waiters; w; w = next) {
        next = w->next;
        if (!w->answered && waiter_try(hls, w)) {
            w->answered = true;
            waiter_unlink(w);
        }
    }
}

static void hls_on_timer(uv_timer_t *timer)
{
    hls_t *hls = timer->data;
    uint64_t now = clock_mono_us();
    hls_waiter_t *next;
    for (hls_waiter_t *w = hls->waiters; w; w = next) {
        next = w->next;
        if (now < w->deadline_us)
            continue;
        waiter_unlink(w);
        http_respond_text(w->conn, 503, "channel '%s': no new pictures from its source in %.1f s",
                          hls->name, (double)block_wait_us(hls) / 1e6);
    }
    if (!hls->waiters)
        uv_timer_stop(timer);
}

void hls_close_waiters(hls_t *hls)
{
    while (hls->waiters) {
        hls_waiter_t *w = hls->waiters;
        waiter_unlink(w);
        http_respond_text(w->conn, 503, "channel stopped");
    }
}

/* ---- routing ---------------------------------------------------------------------- */

/* "<msn>.ts" or "<msn>.<part>.ts"; part is -1 for a segment. */
static bool parse_media_name(const char *rest, uint64_t *msn, int64_t *part)
{
    size_t len = strlen(rest);
    if (len < 4 || strcmp(rest + len - 3, ".ts") != 0)
        return false;
    const char *dot = memchr(rest, '.', len - 3);
    uint64_t p;
    if (!dot) {
        *part = -1;
        return parse_u64_n(rest, len - 3, 0, UINT64_MAX / 2, msn) == 0;
    }
    if (parse_u64_n(rest, (size_t)(dot - rest), 0, UINT64_MAX / 2, msn) < 0 ||
        parse_u64_n(dot + 1, (size_t)(rest + len - 3 - dot - 1), 0, HLS_MAX_PARTS - 1, &p) < 0)
        return false;
    *part = (int64_t)p;
    return true;
}

static void serve_ll_playlist(hls_t *hls, http_conn_t *conn, const http_request_t *req)
{
    char value[32];
    int has_msn = http_query_get(req->query, "_HLS_msn", value, sizeof(value));
    uint64_t msn = 0, part_value = 0;
    if (has_msn >= 0 && parse_u64(value, 0, UINT64_MAX / 2, &msn) < 0) {
        http_respond_text(conn, 400, "_HLS_msn must be a media sequence number");
        return;
    }
    int has_part = http_query_get(req->query, "_HLS_part", value, sizeof(value));
    if (has_part >= 0 && parse_u64(value, 0, HLS_MAX_PARTS - 1, &part_value) < 0) {
        http_respond_text(conn, 400, "_HLS_part must be a part index from 0 to %d", HLS_MAX_PARTS - 1);
        return;
    }
    if ((has_msn < 0 && has_msn != -ENOENT) || (has_part < 0 && has_part != -ENOENT)) {
        http_respond_text(conn, 400, "malformed _HLS_msn or _HLS_part");
        return;
    }
    if (has_part >= 0 && has_msn < 0) {
        http_respond_text(conn, 400, "_HLS_part needs _HLS_msn");
        return;
    }
    if (has_msn < 0) {
        if (playlist_ready(hls))
            send_playlist(hls, conn, 1);
        else
            wait_for(hls, conn, WAIT_PLAYLIST, 1, 0, -1);
        return;
    }
    int64_t part = has_part >= 0 ? (int64_t)part_value : -1;
    /* RFC 8216bis 6.2.5.2: more than two segments ahead is a client error. */
    uint64_t next = hls->open ? hls->open->msn : hls->next_msn;
    if (hls->have_segments && msn > next + 2) {
        http_respond_text(conn, 400, "_HLS_msn %llu is more than two segments past the newest (%llu)",
                          (unsigned long long)msn, (unsigned long long)next);
        return;
    }
    if (playlist_ready(hls) && reload_ready(hls, msn, part))
        send_playlist(hls, conn, 1);
    else
        wait_for(hls, conn, WAIT_LL_RELOAD, 1, msn, part);
}

void hls_serve(hls_t *hls, http_conn_t *conn, const http_request_t *req, const char *rest)
{
    static const char *const playlists[] = {"index.m3u8", "index.ll.m3u8", "master.m3u8", "master.ll.m3u8"};
    for (int flavour = 0; flavour < 4; flavour++) {
        if (strcmp(rest, playlists[flavour]) != 0)
            continue;
        if (flavour == 1) {
            serve_ll_playlist(hls, conn, req);
            return;
        }
        if (playlist_ready(hls))
            send_playlist(hls, conn, flavour);
        else
            wait_for(hls, conn, WAIT_PLAYLIST, flavour, 0, -1);
        return;
    }
    uint64_t msn;
    int64_t part;
    if (!parse_media_name(rest, &msn, &part)) {
        http_respond_text(conn, 404, "not found");
        return;
    }
    const hls_segment_t *seg = hls_segment_get(hls, msn);
    if (part < 0) {
        if (segment_ready(hls, msn))
            send_segment(hls, conn, req, seg);
        else
            http_respond_text(conn, 404, "%s: segment %llu is not available", hls->name, (unsigned long long)msn);
        return;
    }
    if (seg && (uint64_t)part < seg->part_count) {
        send_part(conn, req, seg, (uint32_t)part);
        return;
    }
    /* The part the playlist hints at next (or the first of the next
     * segment) is worth waiting for; anything else is not coming. */
    const hls_segment_t *open = hls->open;
    bool hinted = open ? (msn == open->msn && (uint64_t)part == open->part_count) || (msn == open->msn + 1 && part == 0)
                       : hls->have_segments && msn == hls->next_msn && part == 0;
    if (hinted)
        wait_for(hls, conn, WAIT_PART, 0, msn, part);
    else
        http_respond_text(conn, 404, "%s: part %llu.%lld is not available", hls->name, (unsigned long long)msn,
                          (long long)part);
}
