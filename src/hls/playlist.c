// SPDX-License-Identifier: MIT
// playlist.c -- media and multivariant playlists: RFC 8216 section 4 tags,
// and for low latency the RFC 8216bis additions (EXT-X-PART, -PART-INF,
// -PRELOAD-HINT, -SERVER-CONTROL).
#include "hls/hls_private.h"

#include <stdio.h>

static void put_pdt(strbuf_t *out, uint64_t wall_ms)
{
    char when[40];
    clock_format_iso(wall_ms, when, sizeof(when));
    strbuf_printf(out, "#EXT-X-PROGRAM-DATE-TIME:%s\n", when);
}

/* EXT-X-INDEPENDENT-SEGMENTS speaks for every segment listed; a segment cut
 * between keyframes (a GOP that outgrew the target) takes it away until
 * that segment has left the window. */
static bool all_independent(const hls_t *hls, uint64_t first, uint64_t last)
{
    for (uint64_t msn = first; msn <= last; msn++)
        if (!hls_segment_get(hls, msn)->independent)
            return false;
    return !hls->open || hls->open->independent;
}

static void put_header(hls_t *hls, strbuf_t *out, uint64_t first, uint64_t last, int version)
{
    strbuf_printf(out, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%u\n", version, hls->published_target);
    strbuf_printf(out, "#EXT-X-MEDIA-SEQUENCE:%llu\n#EXT-X-DISCONTINUITY-SEQUENCE:%llu\n",
                  (unsigned long long)first, (unsigned long long)hls_discontinuity_sequence(hls, first));
    if (all_independent(hls, first, last))
        strbuf_puts(out, "#EXT-X-INDEPENDENT-SEGMENTS\n");
}

static void put_segment(strbuf_t *out, const hls_segment_t *seg)
{
    if (seg->discontinuity)
        strbuf_puts(out, "#EXT-X-DISCONTINUITY\n");
    put_pdt(out, seg->pdt_ms);
    strbuf_printf(out, "#EXTINF:%.3f,\n%llu.ts\n", (double)seg->duration / HLS_CLOCK, (unsigned long long)seg->msn);
}

void hls_render_plain(hls_t *hls, strbuf_t *out)
{
    uint64_t first, last;
    if (!hls_window(hls, &first, &last))
        return;
    put_header(hls, out, first, last, 6);
    for (uint64_t msn = first; msn <= last; msn++)
        put_segment(out, hls_segment_get(hls, msn));
}

static void put_parts(strbuf_t *out, const hls_segment_t *seg)
{
    for (uint32_t i = 0; i < seg->part_count; i++) {
        const hls_part_t *part = &seg->parts[i];
        strbuf_printf(out, "#EXT-X-PART:DURATION=%.5f,URI=\"%llu.%u.ts\"%s\n", (double)part->duration / HLS_CLOCK,
                      (unsigned long long)seg->msn, i, part->independent ? ",INDEPENDENT=YES" : "");
    }
}

void hls_render_ll(hls_t *hls, strbuf_t *out)
{
    uint64_t first, last;
    if (!hls_window(hls, &first, &last))
        return;
    double part_target = (double)hls->options.part_ms / 1000.0;
    put_header(hls, out, first, last, 9);
    /* Hold back three parts (the minimum RFC 8216bis allows) plus a little. */
    strbuf_printf(out, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=%.3f\n", part_target * 3.0 + 0.001);
    strbuf_printf(out, "#EXT-X-PART-INF:PART-TARGET=%.5f\n", part_target);
    /* Parts are listed for the segments of the last three target durations. */
    uint64_t parts_from = last >= 2 ? last - 2 : 0;
    for (uint64_t msn = first; msn <= last; msn++) {
        const hls_segment_t *seg = hls_segment_get(hls, msn);
        if (msn >= parts_from)
            put_parts(out, seg);
        put_segment(out, seg);
    }
    const hls_segment_t *open = hls->open;
    if (open) {
        if (open->discontinuity)
            strbuf_puts(out, "#EXT-X-DISCONTINUITY\n");
        put_pdt(out, open->pdt_ms);
        put_parts(out, open);
        strbuf_printf(out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"%llu.%u.ts\"\n", (unsigned long long)open->msn,
                      open->part_count);
    } else {
        /* Between a source switch and the new source's first keyframe no
         * segment is open. The playlist still hints at the next one, behind
         * its discontinuity: a playlist that lists parts but ends without a
         * hint makes hls.js take the last whole segment for the next one and
         * reject the following reload for a discontinuity mismatch. */
        if (hls->discontinuity_pending)
            strbuf_puts(out, "#EXT-X-DISCONTINUITY\n");
        strbuf_printf(out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"%llu.0.ts\"\n", (unsigned long long)hls->next_msn);
    }
}

void hls_render_master(hls_t *hls, bool low_latency, strbuf_t *out)
{
    uint64_t first, last, peak = 0, bits = 0, time = 0;
    bool independent = true;
    if (hls_window(hls, &first, &last)) {
        independent = all_independent(hls, first, last);
        for (uint64_t msn = first; msn <= last; msn++) {
            const hls_segment_t *seg = hls_segment_get(hls, msn);
            uint64_t seg_bits = (seg->end - seg->start + (seg->psi ? seg->psi->size : 0u)) * 8u;
            bits += seg_bits;
            time += seg->duration;
            peak = MAX(peak, seg_bits * HLS_CLOCK / MAX(seg->duration, 1u));
        }
    }
    uint64_t average = time ? bits * HLS_CLOCK / time : 0;
    strbuf_puts(out, independent ? "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n" : "#EXTM3U\n#EXT-X-VERSION:6\n");
    strbuf_printf(out, "#EXT-X-STREAM-INF:BANDWIDTH=%llu,AVERAGE-BANDWIDTH=%llu", (unsigned long long)MAX(peak, 1u),
                  (unsigned long long)MAX(average, 1u));
    const hls_codecs_t *c = &hls->codecs;
    if (c->codecs[0])
        strbuf_printf(out, ",CODECS=\"%s\"", c->codecs);
    if (c->width && c->height)
        strbuf_printf(out, ",RESOLUTION=%ux%u", c->width, c->height);
    if (c->frame_rate > 0)
        strbuf_printf(out, ",FRAME-RATE=%.3f", c->frame_rate);
    strbuf_printf(out, "\n%s\n", low_latency ? "index.ll.m3u8" : "index.m3u8");
}
