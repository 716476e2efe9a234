// SPDX-License-Identifier: MIT
// channel_private.h -- private to channel/: the channel's state, shared by
// channel.c (input side) and viewer.c (output side).
#ifndef ANTENNE_CHANNEL_PRIVATE_H
#define ANTENNE_CHANNEL_PRIVATE_H

#include "channel/channel.h"
#include "core/core.h"
#include "ingest/ingest.h"
#include "ts/ts.h"

typedef struct channel_viewer viewer_t;

struct channel {
    uv_loop_t *loop;
    channel_config_t config;
    channel_options_t options;
    uv_timer_t timer;          /* flushes viewers; housekeeping each second */
    uv_idle_t flush_idle;      /* continues a flush round that ran out of time */
    unsigned open_handles;

    bool running;              /* source started and ring allocated */
    ring_t ring;
    hls_t *hls;                /* HLS output, while running */
    ingest_source_t *source;
    ts_sync_t sync;
    ts_demux_t *demux;

    channel_state_t state;
    char reason[256];

    /* The newest PAT and PMT packets as they were sent, for viewer starts. */
    uint8_t pat[TS_PACKET_SIZE];
    size_t pat_len;
    uint8_t pmt[RING_PSI_MAX - TS_PACKET_SIZE];
    size_t pmt_len;
    /* PSI as it was where the last video PES began (a keyframe candidate). */
    uint8_t candidate_psi[RING_PSI_MAX];
    size_t candidate_psi_len;
    uint64_t candidate_pos;
    bool candidate_open;
    /* The access unit (picture) that began last, not yet given to HLS:
     * whether it is a keyframe may be known only a few packets later. */
    bool au_pending;
    uint64_t au_pos;
    bool au_has_dts;
    uint64_t au_dts;
    uint64_t au_wall_ms;
    block_t *psi_block;        /* the newest PAT+PMT as one block */
    uint64_t hls_seen_us;      /* last HLS request, to keep on-demand channels up */

    channel_stats_t stats;
    dvr_t *dvr;                /* the archive, when the channel has one */
    ts_analyzer_t *analyzer;   /* TR 101 290 counters of the source in use */
    /* Continuity across source switches, per PID (allocated while running):
     * viewers see one stream whose counters go on, with the discontinuity
     * indicator where the new source's timeline starts. */
    struct channel_cc {
        uint8_t last;          /* the last counter sent */
        uint8_t offset;        /* added to the source's counters */
        uint8_t state;         /* CC_UNSEEN, CC_SEEN, CC_SWITCHED, CC_MARK_PENDING */
    } *cc;
    uint64_t feed_us;          /* arrival time of the bytes being fed */
    size_t source_index;       /* the source in use: 0 is the first (primary),
                                * sources.count the slate */
    bool source_failed;        /* it reported a failure: switch at the next tick */
    uint64_t health_checked_us;/* the analysis is looked at every 100 ms */
    uint64_t unfit_since_us;   /* packets arrive but the source is unfit; 0: it is fit */
    char unfit_reason[128];
    uint64_t clean_since_us;   /* a degraded channel is up again after 2 s clean */
    /* While a backup plays, the first source is tried on the side (on the
     * slate, each source in turn); once it has delivered fit TS for
     * failback_s (on the slate: failover_ms) it takes over again. */
    ingest_source_t *probe;
    ts_sync_t probe_sync;
    ts_analyzer_t *probe_analyzer;
    size_t probe_index;        /* the source it tries */
    size_t probe_next;         /* on the slate: the source to try next */
    bool probe_failed;
    uint64_t probe_started_us;
    uint64_t probe_healthy_us; /* since when it delivers fit packets; 0: not yet */
    uint64_t probe_last_us;    /* its last packets */
    uint64_t probe_retry_us;   /* when to try it again */
    uint64_t last_data_us;     /* last aligned packets with PSI known */
    uint64_t last_bytes_us;    /* last bytes of any kind */
    uint64_t started_us;
    uint64_t packets_seen;
    uint64_t packets_checked;  /* aligned packets at the last housekeeping */
    uint64_t input_warned_us;  /* last bad-input warning, to rate-limit them */
    uint64_t fresh_from;       /* ring position from which a new viewer may start (after an outage) */
    uint64_t rate_window_start_us;
    /* The last minutes of input bitrate and viewers, for graphs: a ring of
     * CHANNEL_HISTORY samples, one each CHANNEL_HISTORY_INTERVAL_S. */
    channel_sample_t history[CHANNEL_HISTORY];
    size_t history_next, history_count;
    uint64_t history_us;       /* when the newest was taken (monotonic) */
    uint64_t history_wall_ms;  /* and on the wall clock */
    uint64_t rate_window_bytes;
    uint64_t bitrate;
    uint64_t rate_window_bytes_out; /* stats.bytes_out when the window began */
    uint64_t output_bitrate;
    uint64_t housekeeping_us;
    uint64_t idle_since_us;

    viewer_t *viewers;
    uint32_t viewer_count;
    uint32_t flush_next;       /* where the next flush slice starts */
};

/* viewer.c */
bool channel_viewers_flush(channel_t *channel);
void channel_viewers_close_all(channel_t *channel, const char *why);
/* Builds the current PAT+PMT into a new block (a start point at the live
 * edge for streams without keyframes). Returns NULL without PSI or memory. */
block_t *channel_psi_snapshot(channel_t *channel);

/* channel.c */
int channel_run(channel_t *channel);
/* Runs only while watched: on demand, and not recorded. */
static inline bool channel_on_demand(const channel_t *channel)
{
    return channel->config.on_demand && !channel->config.archive;
}
void channel_set_state(channel_t *channel, channel_state_t state, const char *reason);

#endif
