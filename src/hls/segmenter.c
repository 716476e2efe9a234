// SPDX-License-Identifier: MIT
// segmenter.c -- cuts a channel's ring into HLS segments and LL-HLS parts.
//
// Stream time t is the access units' DTS, unwrapped across the 2^33 wrap
// and kept continuous across jumps (a jump marks a discontinuity).
// Segment numbers come from t, not from a counter: the first segment is
// number floor(t / target), and a new segment begins at the first keyframe
// whose slot floor(t / target) is past the open segment's slot. Two servers
// fed the same source therefore cut the same segments under the same
// numbers, and so does one server after a restart.
//
// TARGETDURATION is fixed when the first segment completes, from the
// longest segment this rule can make: the target when the GOP divides it,
// target + GOP when it does not, the GOP when it is longer (with a warning),
// rounded to the nearest second as RFC 8216 4.3.3.1 compares. A later
// segment that would still outgrow it (an irregular GOP) is cut at the next
// access unit even without a keyframe, so EXTINF never exceeds it.
//
// Parts (LL-HLS) are cut at access-unit boundaries so that no part is longer
// than the part target.
#include "hls/hls_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRAP (1ll << 33)
#define JUMP_BACK (HLS_CLOCK / 2)       /* timestamps going back this much: a jump */
#define JUMP_FORWARD (3ll * HLS_CLOCK / 2) /* or forward this much (a gap) */

hls_segment_t *hls_segment_get(const hls_t *hls, uint64_t msn)
{
    if (!hls->have_segments || msn < hls->first_msn || msn >= hls->next_msn)
        return NULL;
    return hls->segments[msn % HLS_MAX_SEGMENTS];
}

bool hls_last_complete(const hls_t *hls, uint64_t *msn)
{
    if (!hls->have_segments)
        return false;
    uint64_t last = hls->open ? hls->open->msn : hls->next_msn;
    if (last == hls->first_msn)
        return false;
    *msn = last - 1;
    return true;
}

bool hls_window(const hls_t *hls, uint64_t *first, uint64_t *last)
{
    if (!hls_last_complete(hls, last))
        return false;
    uint64_t count = *last - hls->first_msn + 1;
    *first = count > hls->options.window ? *last - hls->options.window + 1 : hls->first_msn;
    return true;
}

static void segment_free(hls_segment_t *seg)
{
    for (uint32_t i = 0; i < seg->block_count; i++)
        block_unref(seg->blocks[i]);
    free(seg->blocks);
    block_unref(seg->psi);
    free(seg);
}

/* References every block that overlaps [covered, end). */
static void segment_cover(hls_segment_t *seg, const ring_t *ring, uint64_t end)
{
    while (seg->covered < end) {
        block_t *block = ring_block_at(ring, seg->covered);
        if (!block)
            break; /* cannot happen: the bytes were just appended */
        if (seg->block_count == seg->block_cap) {
            uint32_t cap = seg->block_cap ? seg->block_cap * 2 : 32;
            block_t **grown = realloc(seg->blocks, cap * sizeof(*grown));
            if (!grown)
                return;
            seg->blocks = grown;
            seg->block_cap = cap;
        }
        seg->blocks[seg->block_count++] = block_ref(block);
        seg->covered = (block->seq + 1) * RING_BLOCK_SIZE;
    }
}

/* Drops segments that the RFC no longer requires us to serve: a segment
 * stays available for its duration plus a playlist's after it leaves the
 * playlist (RFC 8216 6.2.2), so twice the window is kept. */
static void hls_trim(hls_t *hls)
{
    uint64_t keep = 2u * hls->options.window + 1u;
    while (hls->next_msn - hls->first_msn > keep) {
        hls_segment_t *seg = hls->segments[hls->first_msn % HLS_MAX_SEGMENTS];
        if (seg == hls->open)
            break;
        if (seg->discontinuity)
            hls->discontinuity_sequence++;
        segment_free(seg);
        hls->segments[hls->first_msn % HLS_MAX_SEGMENTS] = NULL;
        hls->first_msn++;
    }
}

static void close_part(hls_t *hls, hls_segment_t *seg, uint64_t pos, int64_t t)
{
    (void)hls;
    if (pos <= seg->part_start || seg->part_count == HLS_MAX_PARTS)
        return;
    hls_part_t *part = &seg->parts[seg->part_count++];
    part->start = seg->part_start;
    part->end = pos;
    part->duration = (uint32_t)MAX(t - seg->part_t_start, 1);
    part->independent = seg->part_independent;
    seg->part_start = pos;
    seg->part_t_start = t;
    seg->part_independent = false;
}

static void close_segment(hls_t *hls, uint64_t pos, int64_t t)
{
    hls_segment_t *seg = hls->open;
    close_part(hls, seg, pos, t);
    seg->end = pos;
    seg->duration = (uint32_t)MAX(t - seg->t_start, 1);
    seg->complete = true;
    seg->done_ms = clock_wall_ms();
    hls->open = NULL;
    if (!hls->published_target) {
        /* The first segment fixes TARGETDURATION for good. */
        int64_t gop = hls->gop ? hls->gop : seg->duration;
        int64_t target = hls->target, longest;
        int64_t rest = target % gop;
        if (gop >= target)
            longest = gop;
        else if (rest < HLS_CLOCK / 50 || gop - rest < HLS_CLOCK / 50)
            longest = target + HLS_CLOCK / 50; /* divides: within a frame of the target */
        else
            longest = target + gop;
        longest = MAX(longest, (int64_t)seg->duration);
        hls->published_target = (uint32_t)MAX((longest + HLS_CLOCK / 2) / HLS_CLOCK, 1);
        if (hls->published_target > hls->options.target_s) {
            snprintf(hls->warning, sizeof(hls->warning),
                     "GOP of %.3f s does not fit the %u s target: segments up to %.3f s (target duration %u s)",
                     (double)gop / HLS_CLOCK, hls->options.target_s, (double)longest / HLS_CLOCK,
                     hls->published_target);
            log_warn("hls", "%s: %s", hls->name, hls->warning);
        }
    }
    if (!hls->codecs.known)
        hls_probe(seg, &hls->codecs);
    if (hls->sink) {
        hls_segment_view_t view = {seg->msn,   seg->pdt_ms, seg->duration,    seg->discontinuity, seg->psi,
                                   seg->blocks, seg->block_count, seg->start, seg->end};
        hls->sink(hls->sink_ctx, &view);
    }
    hls->plain_dirty = hls->ll_dirty = true;
    hls_trim(hls);
    /* Waiters are woken by the caller, once the next segment is open, so
     * the playlist they get already carries its preload hint. */
}

static void open_segment(hls_t *hls, const ring_t *ring, uint64_t msn, int64_t slot, uint64_t pos, int64_t t,
                         bool keyframe, block_t *psi, uint64_t wall_ms)
{
    hls_segment_t *seg = calloc(1, sizeof(*seg));
    if (!seg)
        return;
    if (!hls->have_segments) {
        hls->have_segments = true;
        hls->first_msn = hls->next_msn = msn;
    }
    /* A slot was reused after a long run: the old occupant must go. */
    while (hls->next_msn - hls->first_msn >= HLS_MAX_SEGMENTS) {
        segment_free(hls->segments[hls->first_msn % HLS_MAX_SEGMENTS]);
        hls->segments[hls->first_msn % HLS_MAX_SEGMENTS] = NULL;
        hls->first_msn++;
    }
    seg->msn = msn;
    seg->slot = slot;
    seg->start = seg->part_start = seg->covered = pos;
    seg->t_start = seg->part_t_start = t;
    seg->pdt_ms = wall_ms;
    seg->independent = seg->part_independent = keyframe;
    seg->discontinuity = hls->discontinuity_pending;
    hls->discontinuity_pending = false;
    seg->psi = psi ? block_ref(psi) : NULL;
    segment_cover(seg, ring, ring_end(ring));
    hls->segments[msn % HLS_MAX_SEGMENTS] = seg;
    hls->next_msn = msn + 1;
    hls->open = seg;
    hls->ll_dirty = true;
}

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Maps a DTS onto continuous stream time; flags jumps. */
static int64_t stream_time(hls_t *hls, uint64_t dts)
{
    if (!hls->time_started) {
        hls->time_started = true;
        hls->last_dts = dts;
        hls->last_t = (int64_t)dts;
        return hls->last_t;
    }
    int64_t delta = (int64_t)((dts - hls->last_dts + (uint64_t)(WRAP / 2)) % (uint64_t)WRAP) - WRAP / 2;
    hls->last_dts = dts;
    if (delta < -JUMP_BACK || delta > JUMP_FORWARD) {
        snprintf(hls->warning, sizeof(hls->warning),
                 "timestamps jumped by %.3f s: a discontinuity was marked in the HLS playlists",
                 (double)delta / HLS_CLOCK);
        log_warn("hls", "%s: %s", hls->name, hls->warning);
        delta = hls->frame > 0 ? hls->frame : HLS_CLOCK / 25;
        hls->discontinuity_pending = true;
    }
    if (delta > 0 && delta < HLS_CLOCK)
        hls->frame = delta;
    hls->last_t += MAX(delta, 0);
    return hls->last_t;
}

void hls_on_access_unit(hls_t *hls, const ring_t *ring, uint64_t pos, bool has_dts, uint64_t dts, bool keyframe,
                        block_t *psi, uint64_t wall_ms)
{
    /* Without a DTS the unit shares the time of the last one: the next DTS
     * accounts for the interval. */
    if (!has_dts && !hls->time_started)
        return; /* no timing yet: nothing can be cut */
    int64_t t = has_dts ? stream_time(hls, dts) : hls->last_t;
    hls->last_au_pos = pos;
    if (keyframe) {
        if (hls->keyframe_seen && t > hls->last_keyframe_t)
            hls->gop = t - hls->last_keyframe_t;
        hls->keyframe_seen = true;
        hls->last_keyframe_t = t;
    }
    int64_t slot = floor_div(t, hls->target);
    hls_segment_t *seg = hls->open;
    if (!seg) {
        if (keyframe) {
            uint64_t msn = hls->have_segments ? hls->next_msn : (uint64_t)MAX(slot, 0);
            open_segment(hls, ring, msn, slot, pos, t, keyframe, psi, wall_ms);
        }
        return;
    }
    seg->access_units++;
    bool new_slot = slot > seg->slot;
    /* EXTINF rounds to the nearest second against TARGETDURATION. */
    bool too_long = hls->published_target &&
                    t + hls->frame - seg->t_start >= (int64_t)hls->published_target * HLS_CLOCK + HLS_CLOCK / 2;
    if ((keyframe && (new_slot || hls->discontinuity_pending)) || too_long) {
        if (too_long && !keyframe)
            snprintf(hls->warning, sizeof(hls->warning),
                     "no keyframe within the %u s target duration: a segment was cut between keyframes",
                     hls->published_target);
        uint64_t msn = seg->msn + 1;
        close_segment(hls, pos, t);
        open_segment(hls, ring, msn, MAX(slot, seg->slot + 1), pos, t, keyframe, keyframe ? psi : seg->psi,
                     wall_ms);
        hls_wake_waiters(hls);
        return;
    }
    /* A part ends before it would outgrow the part target. */
    if (t - seg->part_t_start + hls->frame > hls->part_target && pos > seg->part_start) {
        close_part(hls, seg, pos, t);
        hls->ll_dirty = true;
        hls_wake_waiters(hls);
    }
    if (keyframe && pos == seg->part_start)
        seg->part_independent = true;
}

void hls_on_data(hls_t *hls, const ring_t *ring, uint64_t end)
{
    hls->data_end = end;
    if (hls->open)
        segment_cover(hls->open, ring, end);
}

void hls_discontinuity(hls_t *hls)
{
    /* The old source's last whole picture ends the open segment: what came
     * after the last access unit began may be a cut-off frame. */
    if (hls->open) {
        hls_segment_t *seg = hls->open;
        uint64_t end = hls->last_au_pos > seg->start ? hls->last_au_pos : MAX(hls->data_end, seg->start);
        close_segment(hls, end, hls->last_t);
        hls_wake_waiters(hls);
    }
    hls->discontinuity_pending = true;
    hls->time_started = false;
    hls->keyframe_seen = false;
}

uint64_t hls_discontinuity_sequence(const hls_t *hls, uint64_t first)
{
    uint64_t n = hls->discontinuity_sequence;
    for (uint64_t msn = hls->first_msn; msn < first; msn++) {
        const hls_segment_t *seg = hls_segment_get(hls, msn);
        if (seg && seg->discontinuity)
            n++;
    }
    return n;
}

void hls_set_segment_sink(hls_t *hls, hls_segment_fn fn, void *ctx)
{
    hls->sink = fn;
    hls->sink_ctx = ctx;
}

void hls_get_info(const hls_t *hls, hls_info_t *info)
{
    memset(info, 0, sizeof(*info));
    info->target_duration = hls->published_target;
    uint64_t first, last;
    if (hls_window(hls, &first, &last)) {
        info->media_sequence = first;
        info->segments = (uint32_t)(last - first + 1);
    }
    info->discontinuity_sequence = hls_discontinuity_sequence(hls, info->media_sequence);
    info->warning = hls->warning;
}

hls_t *hls_new(uv_loop_t *loop, const char *channel_name, const hls_options_t *options)
{
    hls_t *hls = calloc(1, sizeof(*hls));
    if (!hls)
        return NULL;
    hls->loop = loop;
    snprintf(hls->name, sizeof(hls->name), "%s", channel_name);
    hls->options = *options;
    if (hls->options.window < 3)
        hls->options.window = 3;
    if (hls->options.window > HLS_MAX_SEGMENTS / 2 - 4)
        hls->options.window = HLS_MAX_SEGMENTS / 2 - 4;
    /* RFC 8216 6.2.2: the playlist spans at least three target durations. */
    while (hls->options.window * hls->options.target_s < 3 * hls->options.target_s)
        hls->options.window++;
    hls->target = (int64_t)options->target_s * HLS_CLOCK;
    hls->part_target = (int64_t)options->part_ms * HLS_CLOCK / 1000;
    hls->frame = HLS_CLOCK / 25;
    strbuf_init(&hls->plain);
    strbuf_init(&hls->low_latency);
    uv_timer_init(loop, &hls->timer);
    hls->timer.data = hls;
    return hls;
}

static void hls_on_timer_closed(uv_handle_t *handle)
{
    hls_t *hls = handle->data;
    for (uint64_t msn = hls->first_msn; hls->have_segments && msn < hls->next_msn; msn++)
        segment_free(hls->segments[msn % HLS_MAX_SEGMENTS]);
    strbuf_free(&hls->plain);
    strbuf_free(&hls->low_latency);
    free(hls);
}

void hls_free(hls_t *hls)
{
    hls->closing = true;
    hls_close_waiters(hls);
    uv_close((uv_handle_t *)&hls->timer, hls_on_timer_closed);
}
