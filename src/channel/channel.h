// SPDX-License-Identifier: MIT
// channel.h -- a running live channel: its source feeds a ring of shared
// blocks; HTTP-TS viewers are cursors into that ring.
#ifndef ANTENNE_CHANNEL_H
#define ANTENNE_CHANNEL_H

#include "core/core.h"
#include "dvr/dvr.h"
#include "hls/hls.h"
#include "ts/ts.h"
#include "http/http.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* ---- config.c: what an operator sets, described once ------------------------ */

typedef enum lag_policy {
    LAG_SKIP = 0,   /* a viewer behind the ring jumps to the newest keyframe */
    LAG_CLOSE = 1,  /* ... or is disconnected */
} lag_policy_t;

typedef struct channel_config {
    char *name;
    char *title;
    int64_t number;
    char *group;
    char *logo;
    char *tvg_id;
    strlist_t sources;
    bool on_demand;
    int64_t idle_timeout;   /* seconds an on-demand channel runs without viewers */
    int lag_policy;         /* lag_policy_t */
    int64_t hls_target;     /* HLS segment target duration, seconds */
    int64_t hls_window;     /* segments listed in HLS playlists */
    int64_t hls_part_ms;    /* LL-HLS part target, milliseconds */
    int64_t failover_ms;    /* a source silent or unfit this long gives way to the next one */
    int64_t failback_s;     /* the first source, healthy this long again, takes over; 0: never */
    int64_t failover_cc_errors; /* continuity errors in a second that make a source unfit; 0: never */
    char *slate;            /* file:// URL played while every source is down, or NULL */
    bool archive;           /* record into the archive (the channel then always runs) */
    int64_t archive_days;   /* retention by age; 0: no limit */
    int64_t archive_max_mb; /* retention by size; 0: no limit */
} channel_config_t;

extern const field_t channel_fields[];
extern const size_t channel_field_count;

void channel_config_clear(channel_config_t *config);
/* Defaults for a new channel (title = name, idle_timeout 10, ...). */
void channel_config_defaults(channel_config_t *config);
/* Whole-object checks after the fields are set: a name, at least one
 * source. Returns 0 or -EINVAL with a message. */
int channel_config_validate(const channel_config_t *config, char *err, size_t err_size);

/* ---- channel.c ------------------------------------------------------------------ */

typedef enum channel_state {
    CHANNEL_IDLE,      /* on-demand and nobody watching */
    CHANNEL_STARTING,  /* source started, no packets yet */
    CHANNEL_UP,        /* packets arrived in the last 2 s */
    CHANNEL_DEGRADED,  /* up, but the analysis finds errors; reason says which */
    CHANNEL_DOWN,      /* source failing; reason says why */
} channel_state_t;

const char *channel_state_name(channel_state_t state);

typedef struct channel_stats {
    uint64_t bytes_in;
    uint64_t packets_in;
    uint64_t cc_errors;
    uint64_t sync_losses;
    uint64_t bytes_skipped;    /* input bytes that were not TS packets */
    uint64_t rtp_lost;
    uint64_t source_errors;
    uint64_t keyframes;
    uint64_t psi_errors;
    uint64_t viewers_skipped;
    uint64_t viewers_dropped;
    uint64_t bytes_out;
    uint64_t source_switches;  /* failovers and returns to the first source */
} channel_stats_t;

typedef struct channel_info {
    channel_state_t state;
    hls_info_t hls;
    const char *reason;        /* why it is down, degraded or starting, or "" */
    const char *source_url;    /* source in use, or NULL */
    uint32_t source_index;     /* its place in the list: 0 is the first (primary);
                                * the slate comes after the last one */
    bool on_slate;             /* the slate plays: every source is down */
    const char *warning;       /* about the input, or NULL */
    uint64_t input_bitrate;    /* bits/s over the last seconds */
    uint64_t output_bitrate;   /* bits/s to HTTP-TS viewers over the last second */
    uint32_t viewers;
    channel_stats_t stats;
    ts_analysis_t analysis;    /* TR 101 290 of the source in use (zeros while idle) */
    bool archived;             /* the channel has an archive; then: */
    dvr_info_t archive;
} channel_info_t;

typedef struct channel channel_t;

/* A point of a channel's recent history (channel_history()). */
#define CHANNEL_HISTORY 120
#define CHANNEL_HISTORY_INTERVAL_S 5
typedef struct channel_sample {
    uint64_t input_bitrate;
    uint32_t viewers;
} channel_sample_t;

/* What happened to a channel, for the operator: kind is the new state
 * ("up", "down", ...) or "source"; message says why. */
typedef void (*channel_event_fn)(void *ctx, const char *channel, const char *kind, const char *message);

typedef struct channel_options {
    uint32_t ring_bytes;       /* bytes of history kept per channel */
    uint32_t flush_ms;         /* how often viewers are looked at */
    uint32_t batch_bytes;      /* a viewer is written to once this much is pending... */
    uint32_t batch_max_ms;     /* ...or when its oldest unsent byte is this old */
    channel_event_fn on_event; /* may be NULL */
    void *event_ctx;
    const char *archive_dir;   /* archives go in archive_dir/<channel> */
    uint64_t archive_total_bytes; /* the limit of all archives together (0: none) */
} channel_options_t;

/* Returns a new channel (copying config) or NULL when out of memory.
 * Always-on channels start their source at once. */
channel_t *channel_new(uv_loop_t *loop, const channel_config_t *config, const channel_options_t *options);
/* Applies a changed configuration to a running channel: metadata at once;
 * a changed source list restarts the input while viewers stay connected. */
int channel_update(channel_t *channel, const channel_config_t *config);
/* Disconnects every viewer, stops the source and frees the channel once its
 * handles have closed. */
void channel_destroy(channel_t *channel);

const channel_config_t *channel_config(const channel_t *channel);
/* The channel's archive, or NULL when it is not recorded. */
dvr_t *channel_archive(channel_t *channel);
/* The recent history, oldest first, into out[CHANNEL_HISTORY]: returns how
 * many samples; *newest_wall_ms is when the last one was taken. */
size_t channel_history(const channel_t *channel, channel_sample_t *out, uint64_t *newest_wall_ms);
void channel_get_info(const channel_t *channel, channel_info_t *info);

/* Serves GET/HEAD /live/<name>.ts on conn: takes the connection. When watch
 * is given, watch->on_end is called once when the viewer's connection
 * closes, with the bytes it was sent; until then the returned viewer may be
 * ended with channel_viewer_close(). Returns NULL when there is nothing to
 * watch (HEAD, out of memory): on_end is then not called. */
typedef struct channel_viewer channel_viewer_t;
typedef struct channel_watch {
    void (*on_end)(void *opaque, uint64_t bytes);
    void *opaque;
} channel_watch_t;
channel_viewer_t *channel_serve_ts(channel_t *channel, http_conn_t *conn, const channel_watch_t *watch);
/* As channel_serve_ts, from the channel's archive: the recording from
 * from_ms (wall clock) on, paced in real time. Answers an error (and returns
 * NULL) when the channel is not recorded or nothing is recorded then. */
channel_viewer_t *channel_serve_timeshift(channel_t *channel, http_conn_t *conn, const channel_watch_t *watch,
                                          uint64_t from_ms);
/* Closes the viewer's connection; watch->on_end follows. */
void channel_viewer_close(channel_viewer_t *viewer);
/* Bytes sent to the viewer so far. */
uint64_t channel_viewer_bytes(const channel_viewer_t *viewer);
/* Serves GET/HEAD /live/<name>/<rest> (HLS); starts an on-demand channel. */
void channel_serve_hls(channel_t *channel, http_conn_t *conn, const http_request_t *req, const char *rest);

#endif
