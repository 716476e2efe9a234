// SPDX-License-Identifier: MIT
// hls.h -- HLS (RFC 8216) and low-latency HLS (RFC 8216bis) output of a
// live channel, cut straight from the channel's ring: segments and parts are
// lists of references to ring blocks, never copies.
#ifndef ANTENNE_HLS_H
#define ANTENNE_HLS_H

#include "core/core.h"
#include "http/http.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct hls_options {
    uint32_t target_s;       /* segment target duration, whole seconds */
    uint32_t window;         /* segments in the playlist */
    uint32_t part_ms;        /* LL-HLS part target */
} hls_options_t;

typedef struct hls_info {
    uint32_t target_duration;     /* as published (0 before the first playlist) */
    uint64_t media_sequence;
    uint64_t discontinuity_sequence;
    uint32_t segments;
    const char *warning;          /* "" when all is well */
} hls_info_t;

typedef struct hls hls_t;

/* Returns a new segmenter, or NULL when out of memory. */
hls_t *hls_new(uv_loop_t *loop, const char *channel_name, const hls_options_t *options);
/* Answers waiting requests with 503, drops every segment, and frees. */
void hls_free(hls_t *hls);

/* The channel's input, in order: */
/* Bytes up to end (absolute ring position) were appended. */
void hls_on_data(hls_t *hls, const ring_t *ring, uint64_t end);
/* An access unit (a video picture, or an audio PES when there is no video)
 * begins at pos, with its DTS (90 kHz) when known. keyframe: it is a random
 * access point; psi (borrowed) is the PAT+PMT that precede it. */
void hls_on_access_unit(hls_t *hls, const ring_t *ring, uint64_t pos, bool has_dts, uint64_t dts, bool keyframe,
                        block_t *psi, uint64_t wall_ms);
/* The source changed: the open segment ends with the bytes so far and the
 * next segment starts a new timeline. */
void hls_discontinuity(hls_t *hls);

void hls_get_info(const hls_t *hls, hls_info_t *info);

/* A complete segment, as the archive gets it: its bytes are psi (may be
 * NULL) then [start, end) of the ring, found in blocks. Everything is
 * borrowed for the call: take references to keep it. */
typedef struct hls_segment_view {
    uint64_t msn;
    uint64_t pdt_ms;               /* wall clock of its first byte */
    uint32_t duration;             /* 90 kHz */
    bool discontinuity;            /* a new timeline starts with it */
    block_t *psi;
    block_t *const *blocks;        /* every block overlapping [start, end) */
    uint32_t block_count;
    uint64_t start, end;           /* ring positions */
} hls_segment_view_t;

typedef void (*hls_segment_fn)(void *ctx, const hls_segment_view_t *segment);
/* Calls fn with every segment as it completes (NULL: nobody). */
void hls_set_segment_sink(hls_t *hls, hls_segment_fn fn, void *ctx);

/* Serves GET/HEAD /live/<channel>/<rest> (rest: "index.m3u8", "12.ts", ...).
 * The request is answered now or, for blocking requests, later. */
void hls_serve(hls_t *hls, http_conn_t *conn, const http_request_t *req, const char *rest);

#endif
