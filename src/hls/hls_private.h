// SPDX-License-Identifier: MIT
// hls_private.h -- private to hls/: segments, parts and the segmenter state.
#ifndef ANTENNE_HLS_PRIVATE_H
#define ANTENNE_HLS_PRIVATE_H

#include "hls/hls.h"

#define HLS_CLOCK 90000
#define HLS_MAX_PARTS 320 /* 30 s segments of 100 ms parts */
#define HLS_MAX_SEGMENTS 256

typedef struct hls_part {
    uint64_t start, end;       /* ring positions */
    uint32_t duration;         /* 90 kHz */
    bool independent;
} hls_part_t;

/* Invariant: a segment holds a reference to every ring block that overlaps
 * [start, end) (and perhaps one more), so it stays servable after the ring
 * has moved on; the references go when the segment leaves the segmenter. */
typedef struct hls_segment {
    uint64_t msn;
    int64_t slot;              /* floor(t_start / target): where it belongs in time */
    uint64_t start, end;
    int64_t t_start;           /* stream time, 90 kHz, unwrapped */
    uint32_t duration;         /* 90 kHz, known once complete */
    uint64_t pdt_ms;           /* wall clock of its first byte */
    uint64_t done_ms;          /* wall clock when it completed */
    uint32_t access_units;
    bool discontinuity;
    bool independent;
    bool complete;
    block_t *psi;
    block_t **blocks;
    uint32_t block_count;
    uint32_t block_cap;
    uint64_t covered;          /* blocks are referenced up to this position */
    hls_part_t parts[HLS_MAX_PARTS];
    uint32_t part_count;       /* completed parts */
    uint64_t part_start;       /* the open part */
    int64_t part_t_start;
    bool part_independent;
} hls_segment_t;

typedef struct hls_waiter hls_waiter_t;

typedef struct hls_codecs {
    bool known;
    char codecs[128];
    uint32_t width, height;
    double frame_rate;
} hls_codecs_t;

struct hls {
    uv_loop_t *loop;
    char name[65];
    hls_options_t options;
    int64_t target;            /* configured target, 90 kHz */
    uint32_t published_target; /* seconds; fixed once the first playlist is out */
    int64_t part_target;       /* 90 kHz */

    /* stream time */
    bool time_started;
    uint64_t last_dts;
    int64_t last_t;
    int64_t frame;             /* last access unit interval, 90 kHz */
    int64_t gop;               /* last keyframe interval, 90 kHz (0: unknown) */
    int64_t last_keyframe_t;
    bool keyframe_seen;
    uint64_t data_end;         /* ring position after the newest byte */
    uint64_t last_au_pos;      /* where the newest access unit began */
    bool discontinuity_pending;

    /* segments by msn: segments[msn % HLS_MAX_SEGMENTS] */
    hls_segment_t *segments[HLS_MAX_SEGMENTS];
    uint64_t first_msn;        /* oldest kept */
    uint64_t next_msn;         /* one past the newest (open or complete) */
    bool have_segments;
    hls_segment_t *open;       /* being written, or NULL */
    uint64_t discontinuity_sequence;

    char warning[200];
    hls_codecs_t codecs;

    /* rendered playlists, rebuilt when they change */
    strbuf_t plain;
    strbuf_t low_latency;
    bool plain_dirty;
    bool ll_dirty;

    hls_segment_fn sink;       /* told of each complete segment (the archive) */
    void *sink_ctx;

    hls_waiter_t *waiters;
    uv_timer_t timer;          /* times out blocked requests */
    bool closing;
};

/* segmenter.c */
hls_segment_t *hls_segment_get(const hls_t *hls, uint64_t msn);
/* EXT-X-DISCONTINUITY-SEQUENCE of a playlist whose first segment is first. */
uint64_t hls_discontinuity_sequence(const hls_t *hls, uint64_t first);
/* The msn of the newest complete segment; false when there is none. */
bool hls_last_complete(const hls_t *hls, uint64_t *msn);
/* Complete segments listed in playlists: [first, last]. */
bool hls_window(const hls_t *hls, uint64_t *first, uint64_t *last);

/* playlist.c */
void hls_render_plain(hls_t *hls, strbuf_t *out);
void hls_render_ll(hls_t *hls, strbuf_t *out);
void hls_render_master(hls_t *hls, bool low_latency, strbuf_t *out);

/* probe.c: codecs, resolution and frame rate from a complete segment */
void hls_probe(const hls_segment_t *segment, hls_codecs_t *out);

/* serve.c */
void hls_wake_waiters(hls_t *hls);
void hls_close_waiters(hls_t *hls);

#endif
