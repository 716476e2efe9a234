// SPDX-License-Identifier: MIT
// channel.c -- the input side of a channel: starts its source, aligns and
// analyses the TS, appends it to the ring, remembers keyframes, and keeps
// the channel's state and statistics.
//
// States: IDLE --(always-on, or first viewer)--> STARTING --(packets)--> UP
//         UP --(source error, or 2 s without packets)--> DOWN --(packets)--> UP
//         any --(on-demand, idle_timeout after last viewer)--> IDLE
#include "channel/channel_private.h"

#include <bitstream/mpeg/ts.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANNEL_STALL_US (2u * 1000u * 1000u)

static uint64_t now_minus(uint64_t then) { return clock_mono_us() - then; }

const char *channel_state_name(channel_state_t state)
{
    static const char *const names[] = {"idle", "starting", "up", "degraded", "down"};
    return names[state];
}

/* Source `index` of the channel: the configured ones, then the slate. */
static const char *channel_source_url(const channel_t *channel, size_t index)
{
    return index < channel->config.sources.count ? channel->config.sources.items[index] : channel->config.slate;
}

void channel_set_state(channel_t *channel, channel_state_t state, const char *reason)
{
    bool changed = channel->state != state || strcmp(channel->reason, reason);
    if (state == CHANNEL_DOWN && channel->state != CHANNEL_DOWN)
        channel->fresh_from = ring_end(&channel->ring); /* what came before is no start for a viewer */
    channel->state = state;
    snprintf(channel->reason, sizeof(channel->reason), "%s", reason);
    if (!changed)
        return;
    if (state == CHANNEL_DOWN)
        log_warn("channel", "%s: down: %s", channel->config.name, reason);
    else
        log_info("channel", "%s: %s%s%s", channel->config.name, channel_state_name(state), *reason ? ": " : "",
                 reason);
    if (channel->options.on_event)
        channel->options.on_event(channel->options.event_ctx, channel->config.name, channel_state_name(state), reason);
}

/* Remembers the PSI a viewer needs before it can decode anything. */
static void channel_note_psi(channel_t *channel, const uint8_t *pkt)
{
    if (ts_get_pid(pkt) == TS_PID_PAT) {
        memcpy(channel->pat, pkt, TS_PACKET_SIZE);
        channel->pat_len = TS_PACKET_SIZE;
    } else {
        if (ts_get_unitstart(pkt))
            channel->pmt_len = 0;
        if (channel->pmt_len + TS_PACKET_SIZE <= sizeof(channel->pmt)) {
            memcpy(channel->pmt + channel->pmt_len, pkt, TS_PACKET_SIZE);
            channel->pmt_len += TS_PACKET_SIZE;
        }
    }
    block_t *psi = channel_psi_snapshot(channel);
    if (psi) {
        block_unref(channel->psi_block);
        channel->psi_block = psi;
    }
}

/* Hands the pending access unit to HLS, now that we know what it is. */
static void channel_flush_access_unit(channel_t *channel, bool keyframe, block_t *psi)
{
    if (!channel->au_pending)
        return;
    channel->au_pending = false;
    if (channel->hls)
        hls_on_access_unit(channel->hls, &channel->ring, channel->au_pos, channel->au_has_dts, channel->au_dts,
                           keyframe, psi, channel->au_wall_ms);
}

enum { CC_UNSEEN = 0, CC_SEEN, CC_SWITCHED, CC_MARK_PENDING };

/* After a source switch a PID's counter continues from the last one sent
 * (a player would otherwise see lost packets), and the first packet with an
 * adaptation field carries the discontinuity indicator (a new timeline).
 * Returns the packet to send: pkt, or a rewritten copy in buf. */
static const uint8_t *channel_continuity(channel_t *channel, const uint8_t *pkt, uint8_t buf[TS_PACKET_SIZE])
{
    uint16_t pid = ts_get_pid(pkt);
    if (!channel->cc || pid == TS_PID_NULL)
        return pkt;
    struct channel_cc *c = &channel->cc[pid];
    uint8_t cc = ts_get_cc(pkt);
    bool payload = ts_has_payload(pkt);
    const uint8_t *out = pkt;
    if (c->state == CC_SWITCHED) {
        c->offset = (uint8_t)((c->last + (payload ? 1 : 0) - cc) & 0x0f);
        c->state = CC_MARK_PENDING;
    }
    if (c->state == CC_MARK_PENDING && ts_has_adaptation(pkt) && ts_get_adaptation(pkt) > 0) {
        /* (a packet without an adaptation field leaves it to the next one) */
        memcpy(buf, pkt, TS_PACKET_SIZE);
        buf[5] |= 0x80; /* discontinuity_indicator */
        out = buf;
        c->state = CC_SEEN;
    }
    if (c->state == CC_UNSEEN)
        c->state = CC_SEEN;
    uint8_t rewritten = (uint8_t)((cc + c->offset) & 0x0f);
    if (rewritten != cc) {
        if (out != buf)
            memcpy(buf, pkt, TS_PACKET_SIZE);
        ts_set_cc(buf, rewritten);
        out = buf;
    }
    /* (only packets with payload advance the counter, 2.4.3.3: the one of a
     * packet without may be anything in some sources, and must not set where
     * the next source's counters continue) */
    if (payload)
        c->last = rewritten;
    return out;
}

static void channel_take_packet(channel_t *channel, const uint8_t *pkt)
{
    if (channel->analyzer)
        ts_analyzer_packet(channel->analyzer, pkt, channel->feed_us);
    ts_packet_info_t info;
    ts_demux_packet(channel->demux, pkt, &info);
    if (info.drop)
        return;
    uint8_t rewritten[TS_PACKET_SIZE];
    const uint8_t *out = channel_continuity(channel, info.replaced ? info.replaced : pkt, rewritten);
    uint64_t pos = ring_end(&channel->ring);

    if (info.access_pes_start) {
        channel_flush_access_unit(channel, false, NULL);
        channel->au_pending = true;
        channel->au_pos = pos;
        channel->au_has_dts = info.has_dts;
        channel->au_dts = info.dts;
        channel->au_wall_ms = clock_wall_ms();
    }
    if (info.video_pes_start) {
        ring_keyframe_completed(&channel->ring);
        /* Snapshot the PSI as it stands before this PES. */
        memcpy(channel->candidate_psi, channel->pat, channel->pat_len);
        memcpy(channel->candidate_psi + channel->pat_len, channel->pmt, channel->pmt_len);
        channel->candidate_psi_len = channel->pat_len + channel->pmt_len;
        channel->candidate_pos = pos;
        channel->candidate_open = channel->pat_len && channel->pmt_len;
    }
    if (ring_append(&channel->ring, out, TS_PACKET_SIZE) < 0) {
        log_error("channel", "%s: out of memory appending to the ring", channel->config.name);
        return;
    }
    if (info.psi)
        channel_note_psi(channel, out);
    if (info.keyframe_decided && channel->candidate_open) {
        channel->candidate_open = false;
        block_t *psi = ring_add_keyframe(&channel->ring, channel->candidate_pos, channel->candidate_psi,
                                         channel->candidate_psi_len);
        if (!psi)
            log_error("channel", "%s: out of memory recording a keyframe", channel->config.name);
        else if (channel->au_pending && channel->au_pos == channel->candidate_pos)
            channel_flush_access_unit(channel, true, psi);
    } else if (info.access_pes_start && ts_demux_video_pid(channel->demux) == TS_PID_NULL) {
        /* Without video every audio frame is a random access point. */
        channel_flush_access_unit(channel, true, channel->psi_block);
    }
    if (channel->hls)
        hls_on_data(channel->hls, &channel->ring, ring_end(&channel->ring));
}

static void channel_on_packets(void *opaque, const uint8_t *packets, size_t count)
{
    channel_t *channel = opaque;
    for (size_t i = 0; i < count; i++)
        channel_take_packet(channel, packets + i * TS_PACKET_SIZE);
}

/* Packets in place whose sync byte was damaged: only the analysis sees them. */
static void channel_on_corrupt(void *opaque, const uint8_t *packets, size_t count)
{
    channel_t *channel = opaque;
    for (size_t i = 0; channel->analyzer && i < count; i++)
        ts_analyzer_packet(channel->analyzer, packets + i * TS_PACKET_SIZE, channel->feed_us);
}

/* Whether the analysis holds TS sync (TR 101 290 5.2.1: five sync bytes in a
 * row to lock). The aligner locks on three, which random bytes do about once
 * a minute at 2 Mbit/s: such "packets" must not pass for a live source. */
static bool channel_in_sync(const channel_t *channel)
{
    if (!channel->analyzer)
        return true;
    ts_analysis_t a;
    ts_analyzer_get(channel->analyzer, &a);
    return a.in_sync;
}

static void channel_on_data(void *opaque, const uint8_t *data, size_t len)
{
    channel_t *channel = opaque;
    busy_begin("channel input", channel->config.name);
    uint64_t losses = channel->sync.sync_losses;
    uint64_t skipped = channel->sync.bytes_skipped;
    uint64_t corrupt = channel->sync.corrupt_packets;
    uint64_t now = clock_mono_us();
    channel->feed_us = now;
    ts_sync_feed(&channel->sync, data, len, channel_on_packets, channel);
    /* Report bad input once a second at most, with what was counted since. */
    bool lost = channel->sync.sync_losses != losses;
    bool junk = channel->sync.bytes_skipped != skipped;
    if ((lost || junk) && now - channel->input_warned_us >= 1000000u) {
        channel->input_warned_us = now;
        log_warn("channel", "%s: bad input from %s at byte %llu: %llu sync losses, %llu bytes without TS sync so far",
                 channel->config.name, channel_source_url(channel, channel->source_index),
                 (unsigned long long)channel->stats.bytes_in,
                 (unsigned long long)channel->sync.sync_losses, (unsigned long long)channel->sync.bytes_skipped);
    }
    channel->stats.bytes_in += len;
    channel->rate_window_bytes += len;
    channel->last_bytes_us = now;
    /* (the analysis is consulted only when this read had bytes out of place) */
    bool clean = !lost && !junk && channel->sync.corrupt_packets == corrupt;
    if (channel->sync.packets != channel->packets_seen && ts_demux_has_pmt(channel->demux) &&
        (clean || channel_in_sync(channel))) {
        channel->packets_seen = channel->sync.packets;
        channel->last_data_us = now;
        if (channel->state != CHANNEL_UP && channel->state != CHANNEL_DEGRADED)
            channel_set_state(channel, CHANNEL_UP, "");
    }
    busy_end();
}

static void channel_on_status(void *opaque, ingest_status_t status, const char *message)
{
    channel_t *channel = opaque;
    switch (status) {
    case INGEST_CONNECTING:
        if (channel->state != CHANNEL_UP && channel->state != CHANNEL_DEGRADED)
            channel_set_state(channel, channel->state == CHANNEL_DOWN ? CHANNEL_DOWN : CHANNEL_STARTING,
                              message);
        break;
    case INGEST_RECEIVING:
        /* A new connection is a new stream (an HTTP origin starts over):
         * its analysis too, not the gap before it. */
        if (channel->analyzer)
            ts_analyzer_reset(channel->analyzer);
        log_info("channel", "%s: source %s", channel->config.name, message);
        if (channel->options.on_event)
            channel->options.on_event(channel->options.event_ctx, channel->config.name, "source", message);
        break;
    case INGEST_FAILED:
        channel->stats.source_errors++;
        channel_set_state(channel, CHANNEL_DOWN, message);
        /* (not from inside the source's own callback: at the next tick) */
        channel->source_failed = channel->config.sources.count + (channel->config.slate != NULL) > 1;
        break;
    }
}

static int channel_start_source(channel_t *channel)
{
    ingest_callbacks_t callbacks = {channel_on_data, channel_on_status, channel};
    char err[256];
    const char *url = channel_source_url(channel, channel->source_index);
    ts_sync_init(&channel->sync);
    channel->sync.on_corrupt = channel_on_corrupt;
    ts_demux_free(channel->demux);
    ingest_url_t parsed;
    uint16_t program = ingest_url_parse(url, &parsed, err, sizeof(err)) == 0 ? parsed.program : 0;
    channel->demux = ts_demux_new(program);
    if (!channel->demux)
        return -ENOMEM;
    channel->pat_len = channel->pmt_len = 0;
    channel->candidate_open = false;
    int rc = ingest_source_start(channel->loop, url, &callbacks, &channel->source, err, sizeof(err));
    if (rc < 0) {
        channel->source = NULL;
        channel_set_state(channel, CHANNEL_DOWN, err);
        return rc;
    }
    channel->last_data_us = channel->started_us = clock_mono_us();
    channel->last_bytes_us = 0;
    channel->packets_seen = 0;
    channel->source_failed = false;
    channel->unfit_since_us = channel->clean_since_us = 0;
    if (channel->analyzer)
        ts_analyzer_reset(channel->analyzer); /* the counters are the source's */
    return 0;
}

static void channel_stop_probe(channel_t *channel)
{
    if (channel->probe) {
        ingest_source_stop(channel->probe);
        channel->probe = NULL;
    }
    channel->probe_failed = false;
    channel->probe_healthy_us = channel->probe_last_us = 0;
}

static void channel_stop_source(channel_t *channel)
{
    if (channel->source) {
        ingest_source_stop(channel->source);
        channel->source = NULL;
    }
    channel_stop_probe(channel);
}

/* ---- failover ------------------------------------------------------------------------ */

static void channel_event(channel_t *channel, const char *kind, const char *message)
{
    if (channel->options.on_event)
        channel->options.on_event(channel->options.event_ctx, channel->config.name, kind, message);
}

/* The input restarts on another source while viewers stay: a new timeline
 * for HLS, and new viewers start at the new source's first keyframe. */
static void channel_restart_input(channel_t *channel, size_t index, const char *reason)
{
    channel_stop_source(channel);
    ring_forget_keyframes(&channel->ring);
    channel->au_pending = false;
    if (channel->hls)
        hls_discontinuity(channel->hls);
    channel->source_index = index;
    for (size_t pid = 0; channel->cc && pid < 8192; pid++)
        if (channel->cc[pid].state != CC_UNSEEN)
            channel->cc[pid].state = CC_SWITCHED;
    channel_set_state(channel, CHANNEL_STARTING, reason);
    channel_start_source(channel);
}

static void channel_switch_source(channel_t *channel, size_t index, const char *why)
{
    char message[512];
    const char *kind = index == 0 ? "failback" : "failover";
    if (index == channel->config.sources.count) {
        snprintf(message, sizeof(message), "every source is down, playing the slate %s: %s",
                 channel_source_url(channel, index), why);
    } else {
        snprintf(message, sizeof(message), "%s %s: %s", index == 0 ? "back to" : "switching to",
                 channel_source_url(channel, index), why);
        if (channel->source_index == channel->config.sources.count)
            kind = "failback"; /* from the slate to a real source */
    }
    log_warn("channel", "%s: %s", channel->config.name, message);
    channel->stats.source_switches++;
    channel_event(channel, kind, message);
    channel_restart_input(channel, index, message);
}

#define PCR_GONE_US 150000u

/* Why a source whose packets arrive is still unfit to watch, or NULL when
 * it is fit. (Silence is judged on arrival times; a missing PAT or PMT does
 * not count: viewers are given the last ones seen.) */
static const char *source_unfit(const channel_t *channel, const ts_analysis_t *a, char *buf, size_t size)
{
    if (!a->in_sync)
        return "TS sync lost";
    int64_t cc_limit = channel->config.failover_cc_errors;
    if (cc_limit > 0 && a->recent[TS_TR_CC_ERROR] >= (uint64_t)cc_limit) {
        snprintf(buf, size, "%llu continuity errors in the last 1-2 s (limit %lld)",
                 (unsigned long long)a->recent[TS_TR_CC_ERROR], (long long)cc_limit);
        return buf;
    }
    /* (a PCR is due every 100 ms at most; unfit as soon as two are missing,
     * so that the switch comes failover_ms after that) */
    if (a->pcr_gap_us > PCR_GONE_US) {
        snprintf(buf, size, "no PCR for %llu ms", (unsigned long long)(a->pcr_gap_us / 1000u));
        return buf;
    }
    if (a->scrambled_pids) {
        snprintf(buf, size, "%zu PID%s scrambled (antenne does not descramble)", a->scrambled_pids,
                 a->scrambled_pids == 1 ? "" : "s");
        return buf;
    }
    return NULL;
}

/* Every 100 ms while packets flow: up or degraded (with the analysis's
 * reason; back up after 2 s without errors), and whether the source is
 * fit. Only state changes are events; a changing reason is not. */
static void channel_check_health(channel_t *channel, uint64_t now)
{
    if (!channel->analyzer || (channel->state != CHANNEL_UP && channel->state != CHANNEL_DEGRADED)) {
        channel->unfit_since_us = 0;
        return;
    }
    ts_analysis_t a;
    ts_analyzer_get(channel->analyzer, &a);
    const char *unfit = source_unfit(channel, &a, channel->unfit_reason, sizeof(channel->unfit_reason));
    if (!unfit)
        channel->unfit_since_us = 0;
    else if (!channel->unfit_since_us)
        channel->unfit_since_us = now;
    if (unfit != channel->unfit_reason && unfit)
        snprintf(channel->unfit_reason, sizeof(channel->unfit_reason), "%s", unfit);
    if (a.state != TS_HEALTH_OK) {
        channel->clean_since_us = 0;
        if (channel->state == CHANNEL_UP)
            channel_set_state(channel, CHANNEL_DEGRADED, a.reason);
        else
            snprintf(channel->reason, sizeof(channel->reason), "%s", a.reason);
    } else if (channel->state == CHANNEL_DEGRADED) {
        if (!channel->clean_since_us)
            channel->clean_since_us = now;
        else if (now - channel->clean_since_us >= 2000000u)
            channel_set_state(channel, CHANNEL_UP, "");
    }
}

static void probe_analyze(channel_t *channel, const uint8_t *packets, size_t count, uint64_t now)
{
    for (size_t i = 0; channel->probe_analyzer && i < count; i++)
        ts_analyzer_packet(channel->probe_analyzer, packets + i * TS_PACKET_SIZE, now);
}

static void probe_on_packets(void *opaque, const uint8_t *packets, size_t count)
{
    channel_t *channel = opaque;
    uint64_t now = clock_mono_us();
    probe_analyze(channel, packets, count, now);
    if (count)
        channel->probe_last_us = now;
}

static void probe_on_corrupt(void *opaque, const uint8_t *packets, size_t count)
{
    probe_analyze(opaque, packets, count, clock_mono_us());
}

static void probe_on_data(void *opaque, const uint8_t *data, size_t len)
{
    channel_t *channel = opaque;
    ts_sync_feed(&channel->probe_sync, data, len, probe_on_packets, channel);
}

static void probe_on_status(void *opaque, ingest_status_t status, const char *message)
{
    channel_t *channel = opaque;
    (void)message;
    if (status == INGEST_FAILED)
        channel->probe_failed = true;
}

/* Every 100 ms while a probe runs: is the source it tries fit (packets with
 * PAT and PMT, and nothing source_unfit() objects to)? */
static bool probe_fit(channel_t *channel, uint64_t now)
{
    if (!channel->probe_last_us || now - channel->probe_last_us > 500000u)
        return false;
    if (!channel->probe_analyzer)
        return true;
    ts_analysis_t a;
    char buf[128];
    ts_analyzer_get(channel->probe_analyzer, &a);
    return a.state != TS_HEALTH_DOWN && !source_unfit(channel, &a, buf, sizeof(buf));
}

static void channel_start_probe(channel_t *channel, size_t index, uint64_t now)
{
    ingest_callbacks_t callbacks = {probe_on_data, probe_on_status, channel};
    char err[256];
    ts_sync_init(&channel->probe_sync);
    channel->probe_sync.on_corrupt = probe_on_corrupt;
    if (channel->probe_analyzer)
        ts_analyzer_reset(channel->probe_analyzer);
    channel->probe_index = index;
    channel->probe_failed = false;
    channel->probe_healthy_us = channel->probe_last_us = 0;
    channel->probe_started_us = now;
    if (ingest_source_start(channel->loop, channel_source_url(channel, index), &callbacks, &channel->probe, err,
                            sizeof(err)) < 0) {
        channel->probe = NULL;
        channel->probe_retry_us = now + 1000000u;
    }
}

/* Called every tick: moves to the next source when the one in use has
 * delivered nothing for failover_ms (silence, refusal, or bytes that are not
 * TS) or has been unfit that long; after the last source comes the slate if
 * there is one. Back to the first source once it has been fit for
 * failback_s; from the slate, to any source fit for failover_ms. */
static void channel_check_sources(channel_t *channel, uint64_t now)
{
    if (!channel->running)
        return;
    if (now - channel->health_checked_us >= 100000u) {
        channel->health_checked_us = now;
        channel_check_health(channel, now);
        if (channel->probe && !probe_fit(channel, now))
            channel->probe_healthy_us = 0;
        else if (channel->probe && !channel->probe_healthy_us)
            channel->probe_healthy_us = now;
    }
    size_t count = channel->config.sources.count;
    size_t total = count + (channel->config.slate != NULL);
    if (total < 2)
        return;
    bool on_slate = channel->source_index == count;
    uint64_t limit = (uint64_t)channel->config.failover_ms * 1000u;
    uint64_t since = MAX(channel->last_data_us, channel->started_us);
    bool silent = now - since > limit;
    bool unfit = channel->unfit_since_us && now - channel->unfit_since_us >= limit;
    if (channel->source_failed || silent || unfit) {
        char why[300];
        if (channel->source_failed)
            snprintf(why, sizeof(why), "%s", channel->reason);
        else if (silent)
            snprintf(why, sizeof(why), "no TS packets for %llu ms", (unsigned long long)((now - since) / 1000u));
        else
            snprintf(why, sizeof(why), "%s", channel->unfit_reason);
        size_t next = channel->source_index + 1;
        if (next == count && !channel->config.slate)
            next = 0;
        else if (next > count)
            next = 0;
        channel_switch_source(channel, next, why);
        channel->probe_retry_us = now;
        return;
    }
    if (channel->source_index == 0 || (channel->config.failback_s <= 0 && !on_slate))
        return;
    if (channel->probe) {
        uint64_t needed = on_slate ? limit : (uint64_t)channel->config.failback_s * 1000000u;
        bool lost = channel->probe_last_us && now - channel->probe_last_us > limit;
        /* From the slate every source is tried in turn, so a silent one
         * gives way to the next. */
        bool silent = on_slate && count > 1 && !channel->probe_last_us && now - channel->probe_started_us > limit;
        if (channel->probe_failed || lost || silent) {
            channel_stop_probe(channel);
            channel->probe_next = on_slate ? (channel->probe_next + 1) % count : 0;
            channel->probe_retry_us = now + (on_slate && channel->probe_next ? 0 : 1000000u);
        } else if (channel->probe_healthy_us && now - channel->probe_healthy_us >= needed) {
            size_t index = channel->probe_index;
            channel_stop_probe(channel);
            channel->probe_next = 0;
            channel_switch_source(channel, index,
                                  index == 0 ? "the first source has been healthy again" : "this source is healthy");
        }
        return;
    }
    if (now >= channel->probe_retry_us)
        channel_start_probe(channel, on_slate ? channel->probe_next : 0, now);
}

int channel_run(channel_t *channel)
{
    if (channel->running)
        return 0;
    int rc = ring_init(&channel->ring, channel->options.ring_bytes);
    if (rc < 0)
        return rc;
    channel->fresh_from = ring_end(&channel->ring);
    hls_options_t hls = {(uint32_t)channel->config.hls_target, (uint32_t)channel->config.hls_window,
                         (uint32_t)channel->config.hls_part_ms};
    channel->hls = hls_new(channel->loop, channel->config.name, &hls);
    if (!channel->hls) {
        ring_clear(&channel->ring);
        return -ENOMEM;
    }
    if (channel->dvr)
        hls_set_segment_sink(channel->hls, dvr_record, channel->dvr);
    channel->cc = calloc(8192, sizeof(*channel->cc)); /* (without it, no rewriting: not fatal) */
    channel->running = true;
    channel->idle_since_us = 0;
    channel_set_state(channel, CHANNEL_STARTING, "waiting for the source");
    channel_start_source(channel);
    return 0;
}

static void channel_halt(channel_t *channel)
{
    if (!channel->running)
        return;
    channel_stop_source(channel);
    hls_free(channel->hls);
    channel->hls = NULL;
    ring_clear(&channel->ring);
    free(channel->cc);
    channel->cc = NULL;
    channel->running = false;
    channel->au_pending = false;
    channel->bitrate = channel->output_bitrate = 0;
    channel_set_state(channel, CHANNEL_IDLE, "no viewers");
}

/* Why bytes arrive but the channel is not up, or NULL when it is fine. */
static const char *channel_input_problem(channel_t *channel, char *buf, size_t size)
{
    if (now_minus(channel->last_bytes_us) > CHANNEL_STALL_US)
        return "no packets from the source for 2 s";
    if (channel->sync.packets == channel->packets_checked) {
        snprintf(buf, size, "input is not MPEG-TS: no 0x47 sync byte every 188 bytes (%llu bytes skipped so far)",
                 (unsigned long long)channel->sync.bytes_skipped);
        return buf;
    }
    if (!ts_demux_program_found(channel->demux)) {
        snprintf(buf, size, "the chosen program is not in the PAT");
        return buf;
    }
    if (!ts_demux_has_pmt(channel->demux))
        return "no PAT/PMT in the stream";
    return NULL;
}

static void channel_housekeeping(channel_t *channel, uint64_t now)
{
    uint64_t window = now - channel->rate_window_start_us;
    if (window >= 1000000u) {
        channel->bitrate = channel->rate_window_bytes * 8u * 1000000u / window;
        channel->output_bitrate = (channel->stats.bytes_out - channel->rate_window_bytes_out) * 8u * 1000000u / window;
        channel->rate_window_bytes = 0;
        channel->rate_window_bytes_out = channel->stats.bytes_out;
        channel->rate_window_start_us = now;
    }
    if (!channel->history_us || now - channel->history_us >= CHANNEL_HISTORY_INTERVAL_S * 1000000u) {
        channel->history_us = now;
        channel->history_wall_ms = clock_wall_ms();
        channel->history[channel->history_next] =
            (channel_sample_t){.input_bitrate = channel->running ? channel->bitrate : 0,
                               .viewers = (uint32_t)channel->viewer_count};
        channel->history_next = (channel->history_next + 1) % CHANNEL_HISTORY;
        channel->history_count = MIN(channel->history_count + 1, (size_t)CHANNEL_HISTORY);
    }
    if (!channel->running)
        return;
    if (channel->analyzer)
        ts_analyzer_tick(channel->analyzer, now);
    bool stale = now - channel->last_data_us > CHANNEL_STALL_US;
    bool settled = now - channel->started_us > CHANNEL_STALL_US;
    if (channel->demux && stale && settled && (channel->state == CHANNEL_UP || channel->last_bytes_us)) {
        char buf[200];
        const char *problem = channel_input_problem(channel, buf, sizeof(buf));
        if (problem)
            channel_set_state(channel, CHANNEL_DOWN, problem);
    }
    channel->packets_checked = channel->sync.packets;
    bool hls_watched = channel->hls_seen_us && now - channel->hls_seen_us < (uint64_t)channel->config.idle_timeout * 1000000u;
    if (channel_on_demand(channel) && channel->viewer_count == 0 && !hls_watched) {
        if (!channel->idle_since_us)
            channel->idle_since_us = now;
        else if (now - channel->idle_since_us >= (uint64_t)channel->config.idle_timeout * 1000000u)
            channel_halt(channel);
    } else {
        channel->idle_since_us = 0;
    }
}

static void channel_on_flush_idle(uv_idle_t *idle)
{
    channel_t *channel = idle->data;
    busy_begin("channel", channel->config.name);
    if (!channel->running || channel_viewers_flush(channel))
        uv_idle_stop(idle);
    busy_end();
}

static void channel_tick(channel_t *channel);

static void channel_on_timer(uv_timer_t *timer)
{
    channel_t *channel = timer->data;
    busy_begin("channel", channel->config.name);
    channel_tick(channel);
    busy_end();
}

static void channel_tick(channel_t *channel)
{
    uint64_t now = clock_mono_us();
    channel_check_sources(channel, now);
    if (now - channel->housekeeping_us >= 1000000u) {
        channel->housekeeping_us = now;
        channel_housekeeping(channel, now);
    }
    if (!channel->running || uv_is_active((uv_handle_t *)&channel->flush_idle))
        return;
    /* An unfinished round goes on at each loop iteration, between I/O and
     * the other timers (a timer re-armed at 0 would starve them). */
    if (!channel_viewers_flush(channel))
        uv_idle_start(&channel->flush_idle, channel_on_flush_idle);
}

/* ---- the archive ------------------------------------------------------------------------ */

static void channel_on_archive_event(void *ctx, const char *kind, const char *message)
{
    channel_t *channel = ctx;
    channel_event(channel, kind, message);
}

/* Opens, closes or adjusts the archive to match the configuration. */
static void channel_sync_archive(channel_t *channel)
{
    const channel_config_t *c = &channel->config;
    uint64_t max_age_s = (uint64_t)c->archive_days * 86400u, max_bytes = (uint64_t)c->archive_max_mb << 20;
    if (c->archive && !channel->dvr && channel->options.archive_dir) {
        char dir[4096], err[300];
        snprintf(dir, sizeof(dir), "%s/%s", channel->options.archive_dir, c->name);
        /* Chunks of an eighth of a size limit (at least 1 MiB), so that
         * removing one keeps most of what the limit allows. */
        uint64_t limit = max_bytes;
        if (channel->options.archive_total_bytes && (!limit || channel->options.archive_total_bytes < limit))
            limit = channel->options.archive_total_bytes;
        uint64_t chunk = limit ? MAX(limit / 8u, 1ull << 20) : 0;
        dvr_options_t options = {.dir = dir, .name = c->name, .max_age_s = max_age_s, .max_bytes = max_bytes,
                                 .chunk_max_bytes = chunk, .on_event = channel_on_archive_event, .event_ctx = channel};
        channel->dvr = dvr_open(channel->loop, &options, err, sizeof(err));
        if (!channel->dvr)
            channel_event(channel, "archive", err);
    } else if (!c->archive && channel->dvr) {
        dvr_close(channel->dvr);
        channel->dvr = NULL;
    } else if (channel->dvr) {
        dvr_set_retention(channel->dvr, max_age_s, max_bytes);
    }
    if (channel->hls)
        hls_set_segment_sink(channel->hls, channel->dvr ? dvr_record : NULL, channel->dvr);
}

channel_t *channel_new(uv_loop_t *loop, const channel_config_t *config, const channel_options_t *options)
{
    channel_t *channel = calloc(1, sizeof(*channel));
    if (!channel)
        return NULL;
    if (fields_copy(channel_fields, channel_field_count, &channel->config, config) < 0) {
        free(channel);
        return NULL;
    }
    channel->loop = loop;
    channel->options = *options;
    channel->state = CHANNEL_IDLE;
    /* (without them, no analysis: not fatal) */
    channel->analyzer = ts_analyzer_new(NULL);
    channel->probe_analyzer = ts_analyzer_new(NULL);
    channel->rate_window_start_us = clock_mono_us();
    uv_timer_init(loop, &channel->timer);
    channel->timer.data = channel;
    uv_idle_init(loop, &channel->flush_idle);
    channel->flush_idle.data = channel;
    channel->open_handles = 2;
    uv_timer_start(&channel->timer, channel_on_timer, options->flush_ms, options->flush_ms);
    channel_sync_archive(channel);
    if (channel_on_demand(channel))
        channel_set_state(channel, CHANNEL_IDLE, "on demand: starts with the first viewer");
    else if (channel_run(channel) < 0)
        channel_set_state(channel, CHANNEL_DOWN, "out of memory");
    return channel;
}

int channel_update(channel_t *channel, const channel_config_t *config)
{
    const field_t *sources = fields_find(channel_fields, channel_field_count, "sources");
    bool sources_changed = !fields_equal(sources, &channel->config, config);
    channel_config_t copy;
    if (fields_copy(channel_fields, channel_field_count, &copy, config) < 0)
        return -ENOMEM;
    channel_config_clear(&channel->config);
    channel->config = copy;
    if (channel->running && sources_changed) {
        log_info("channel", "%s: sources changed, restarting input", channel->config.name);
        /* Old keyframes carry the old source's PSI; new viewers wait for the new one. */
        channel_restart_input(channel, 0, "source changed");
    } else if (sources_changed) {
        channel->source_index = 0;
    }
    channel_sync_archive(channel);
    if (!channel->running && !channel_on_demand(channel))
        channel_run(channel);
    return 0;
}

static void channel_on_handle_closed(uv_handle_t *handle)
{
    channel_t *channel = handle->data;
    if (--channel->open_handles)
        return;
    ts_demux_free(channel->demux);
    ts_analyzer_free(channel->analyzer);
    ts_analyzer_free(channel->probe_analyzer);
    free(channel->cc);
    channel_config_clear(&channel->config);
    free(channel);
}

void channel_destroy(channel_t *channel)
{
    dvr_close(channel->dvr);
    channel->dvr = NULL;
    channel_viewers_close_all(channel, "channel removed");
    channel_stop_source(channel);
    if (channel->hls)
        hls_free(channel->hls);
    channel->hls = NULL;
    if (channel->running)
        ring_clear(&channel->ring);
    channel->running = false;
    block_unref(channel->psi_block);
    channel->psi_block = NULL;
    uv_close((uv_handle_t *)&channel->timer, channel_on_handle_closed);
    uv_close((uv_handle_t *)&channel->flush_idle, channel_on_handle_closed);
}

const channel_config_t *channel_config(const channel_t *channel) { return &channel->config; }

dvr_t *channel_archive(channel_t *channel) { return channel->dvr; }

size_t channel_history(const channel_t *channel, channel_sample_t *out, uint64_t *newest_wall_ms)
{
    size_t first = (channel->history_next + CHANNEL_HISTORY - channel->history_count) % CHANNEL_HISTORY;
    for (size_t i = 0; i < channel->history_count; i++)
        out[i] = channel->history[(first + i) % CHANNEL_HISTORY];
    *newest_wall_ms = channel->history_wall_ms;
    return channel->history_count;
}

void channel_get_info(const channel_t *channel, channel_info_t *info)
{
    memset(info, 0, sizeof(*info));
    info->state = channel->state;
    info->reason = channel->reason;
    info->source_url = channel->source ? channel_source_url(channel, channel->source_index) : NULL;
    info->source_index = (uint32_t)channel->source_index;
    info->on_slate = channel->source && channel->source_index == channel->config.sources.count;
    info->input_bitrate = channel->bitrate;
    info->output_bitrate = channel->output_bitrate;
    info->viewers = channel->viewer_count;
    info->stats = channel->stats;
    if (channel->demux) {
        const ts_stats_t *ts = ts_demux_stats(channel->demux);
        info->stats.packets_in = ts->packets;
        info->stats.cc_errors = ts->cc_errors;
        info->stats.keyframes = ts->keyframes;
        info->stats.psi_errors = ts->psi_errors;
    }
    info->stats.sync_losses = channel->sync.sync_losses;
    info->stats.bytes_skipped = channel->sync.bytes_skipped;
    if (channel->source)
        info->stats.rtp_lost = ingest_source_counters(channel->source)->rtp_lost;
    if (channel->analyzer && channel->running)
        ts_analyzer_get(channel->analyzer, &info->analysis);
    info->archived = channel->dvr != NULL;
    if (channel->dvr)
        dvr_get_info(channel->dvr, &info->archive);
    if (channel->hls)
        hls_get_info(channel->hls, &info->hls);
    else
        info->hls.warning = "";
    if (channel->demux && ts_demux_has_pmt(channel->demux) && ts_demux_video_pid(channel->demux) == TS_PID_NULL)
        info->warning = "no video in the stream: no keyframes, so viewers start at the live edge and HLS "
                        "segments are cut on audio frames";
}

void channel_serve_hls(channel_t *channel, http_conn_t *conn, const http_request_t *req, const char *rest)
{
    if (channel->dvr && dvr_serve(channel->dvr, conn, req, rest))
        return;
    channel->hls_seen_us = clock_mono_us();
    channel->idle_since_us = 0;
    if (!channel->running && channel_run(channel) < 0) {
        http_respond_text(conn, 503, "channel '%s' could not start", channel->config.name);
        return;
    }
    /* Down with nothing segmented: say so now rather than after a blocking
     * wait that cannot end well. */
    hls_info_t info;
    hls_get_info(channel->hls, &info);
    size_t len = strlen(rest);
    if (channel->state == CHANNEL_DOWN && info.segments == 0 && len > 5 && !strcmp(rest + len - 5, ".m3u8")) {
        http_respond_text(conn, 503, "channel '%s' is down: %s", channel->config.name,
                          *channel->reason ? channel->reason : "no signal");
        return;
    }
    hls_serve(channel->hls, conn, req, rest);
}
