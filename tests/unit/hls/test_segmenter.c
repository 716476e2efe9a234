// SPDX-License-Identifier: MIT
// test_segmenter.c -- tests for src/hls/segmenter.c, through a real ring and
// access units announced the way channel.c announces them (the access unit
// at its first byte, then its packets, then hls_on_data). The playlists
// rendered by src/hls/playlist.c are parsed line by line and checked against
// the server rules of RFC 8216 (section 6.2) and RFC 8216bis (LL-HLS).
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "core/core.h"
#include "hls/hls_private.h"

#include "hls_build.h"

#define CLOCK ((int64_t)HLS_CLOCK)
#define SECOND CLOCK
#define WRAP (1ll << 33)
#define WALL0 1767225600000ull /* 2026-01-01T00:00:00Z */
#define DATA_PID 0x100
#define FPS25 (CLOCK / 25)
#define AAC_FRAME (CLOCK * 1024 / 48000) /* 1920: AAC at 48 kHz */

/* ---- the fixture: a loop, a ring, one segmenter (and perhaps a twin) ------------ */

typedef struct fixture {
    uv_loop_t loop;
    ring_t ring;
    hls_t *hls;
    hls_t *twin;        /* a second server fed the same ring ... */
    bool twin_on;       /* ... from some point on */
    block_t *psi;       /* handed with every keyframe */
    uint64_t packets;   /* appended so far */
    uint64_t wall;      /* wall clock of the next access unit, ms */
    bool real_ts;       /* access units are H.264 + AAC PES, not numbered packets */
    uint8_t video_cc, audio_cc;
} fixture_t;

/* A source: access units every `step` ticks, a keyframe every `gop`. */
typedef struct stream {
    int64_t t;          /* DTS of the next access unit, before the 33-bit wrap */
    int64_t step;
    uint32_t gop;
    uint64_t n;         /* access units so far */
    unsigned packets;   /* TS packets per access unit */
} stream_t;

static stream_t stream(int64_t t0, int64_t step, uint32_t gop)
{
    return (stream_t){.t = t0, .step = step, .gop = gop, .n = 0, .packets = 2};
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || uv_loop_init(&f->loop) != 0 || ring_init(&f->ring, 8u << 20) != 0)
        return -1;
    /* A stand-in for the PAT and PMT (the probe finds nothing in it). */
    f->psi = block_new(2 * TB_PKT, 0);
    if (!f->psi)
        return -1;
    tb_packet(f->psi->data, 0x0000, false, 0, 0xff);
    tb_packet(f->psi->data + TB_PKT, 0x1000, false, 0, 0xff);
    f->psi->size = 2 * TB_PKT;
    f->wall = WALL0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->hls)
        hls_free(f->hls);
    if (f->twin)
        hls_free(f->twin);
    /* hls_free closes the timer; its callback frees the rest. */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&f->loop);
    ring_clear(&f->ring);
    block_unref(f->psi);
    free(f);
    return rc == 0 ? 0 : -1;
}

static hls_t *open_hls(fixture_t *f, uint32_t target_s, uint32_t window, uint32_t part_ms)
{
    hls_options_t options = {.target_s = target_s, .window = window, .part_ms = part_ms};
    hls_t *hls = hls_new(&f->loop, "test", &options);
    assert_non_null(hls);
    return hls;
}

/* Numbered packets: [4..11] the packet's number, [12] first of its access
 * unit, [13] keyframe, [14..21] the access unit's DTS before wrapping. */
static void append_numbered(fixture_t *f, unsigned count, bool key, int64_t t)
{
    uint8_t pkt[TB_PKT];
    for (unsigned i = 0; i < count; i++) {
        tb_packet(pkt, DATA_PID, i == 0, (uint8_t)f->packets, 0);
        memcpy(pkt + 4, &f->packets, 8);
        pkt[12] = i == 0;
        pkt[13] = key;
        memcpy(pkt + 14, &t, 8);
        assert_int_equal(ring_append(&f->ring, pkt, TB_PKT), 0);
        f->packets++;
    }
}

/* A real access unit: H.264 (SPS 1280x720 on keyframes) and an AAC frame. */
static void append_real(fixture_t *f, bool key)
{
    uint8_t es[256], packets[TB_PKT * 4];
    size_t len = 0;
    if (key) {
        len = hb_cat(es, 0, hb_aud, sizeof(hb_aud));
        len = hb_cat(es, len, hb_start_code, sizeof(hb_start_code));
        len = hb_cat(es, len, hb_sps_720p, sizeof(hb_sps_720p));
        len = hb_cat(es, len, hb_pps, sizeof(hb_pps));
        len = hb_cat(es, len, hb_idr_slice, sizeof(hb_idr_slice));
    } else {
        len = hb_cat(es, 0, hb_p_slice, sizeof(hb_p_slice));
    }
    size_t n = hb_pes(packets, 4, 0x101, 0xe0, &f->video_cc, es, len);
    assert_int_equal(ring_append(&f->ring, packets, n * TB_PKT), 0);
    len = hb_cat(es, 0, hb_adts, sizeof(hb_adts));
    n = hb_pes(packets, 4, 0x102, 0xc0, &f->audio_cc, es, len);
    assert_int_equal(ring_append(&f->ring, packets, n * TB_PKT), 0);
    f->packets += 2;
}

/* One access unit at DTS t (wrapped to 33 bits here, as on the wire). */
static void au(fixture_t *f, int64_t t, bool has_dts, bool key, unsigned packets)
{
    uint64_t pos = ring_end(&f->ring);
    uint64_t dts = (uint64_t)t & (uint64_t)(WRAP - 1);
    hls_t *all[2] = {f->hls, f->twin_on ? f->twin : NULL};
    for (int i = 0; i < 2; i++)
        if (all[i])
            hls_on_access_unit(all[i], &f->ring, pos, has_dts, dts, key, key ? f->psi : NULL, f->wall);
    if (f->real_ts)
        append_real(f, key);
    else
        append_numbered(f, packets, key, t);
    for (int i = 0; i < 2; i++)
        if (all[i])
            hls_on_data(all[i], &f->ring, ring_end(&f->ring));
}

static void feed(fixture_t *f, stream_t *s, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        au(f, s->t, true, s->n % s->gop == 0, s->packets);
        s->t += s->step;
        s->n++;
        f->wall += (uint64_t)s->step / 90u;
    }
}

static bool complete_upto(const hls_t *hls, uint64_t msn)
{
    uint64_t last;
    return hls_last_complete(hls, &last) && last >= msn;
}

/* Feeds until segment msn is complete. */
static void feed_until(fixture_t *f, stream_t *s, uint64_t msn)
{
    for (uint64_t guard = 0; guard < 2000000; guard++) {
        if (complete_upto(f->hls, msn))
            return;
        feed(f, s, 1);
    }
    fail_msg("segment %llu never completed", (unsigned long long)msn);
}

static uint64_t last_complete(const hls_t *hls)
{
    uint64_t last = 0;
    assert_true(hls_last_complete(hls, &last));
    return last;
}

static const hls_segment_t *segment(const hls_t *hls, uint64_t msn)
{
    const hls_segment_t *seg = hls_segment_get(hls, msn);
    if (!seg)
        fail_msg("segment %llu is not there", (unsigned long long)msn);
    return seg;
}

/* ---- segment contents ----------------------------------------------------------------- */

/* The packet at pos, read through the segment's own block references. */
static const uint8_t *packet_in(const hls_segment_t *seg, uint64_t pos)
{
    for (uint32_t i = 0; i < seg->block_count; i++) {
        const block_t *b = seg->blocks[i];
        if (b->seq == pos / RING_BLOCK_SIZE && pos % RING_BLOCK_SIZE + TB_PKT <= b->size)
            return b->data + pos % RING_BLOCK_SIZE;
    }
    return NULL;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Every byte of a complete segment is reachable through its blocks, and it
 * begins with an access unit (a keyframe when it says it is independent). */
static void check_segment_bytes(const hls_segment_t *seg)
{
    assert_true(seg->complete);
    assert_true(seg->start < seg->end);
    assert_int_equal((seg->end - seg->start) % TB_PKT, 0);
    for (uint64_t pos = seg->start; pos < seg->end; pos += TB_PKT) {
        const uint8_t *p = packet_in(seg, pos);
        if (!p)
            fail_msg("segment %llu: byte %llu is not in its blocks", (unsigned long long)seg->msn,
                     (unsigned long long)pos);
        assert_int_equal(get_u64(p + 4), pos / TB_PKT);
    }
    const uint8_t *first = packet_in(seg, seg->start);
    assert_int_equal(first[12], 1);
    if (seg->independent)
        assert_int_equal(first[13], 1);
}

/* ---- playlists ------------------------------------------------------------------------ */

#define MAX_ENTRIES 300
#define MAX_PARTS 4000

typedef struct entry {
    uint64_t msn;
    double extinf;
    bool discontinuity;
    bool pdt;
} entry_t;

typedef struct part_line {
    uint64_t msn;
    unsigned index;
    double duration;
    bool independent;
} part_line_t;

typedef struct playlist {
    char text[200000];
    int version;
    long target;
    uint64_t media_sequence, discontinuity_sequence;
    bool independent_segments;
    entry_t seg[MAX_ENTRIES];
    size_t count;
    unsigned discontinuities;
    bool server_control;
    double part_target, part_hold_back;
    part_line_t part[MAX_PARTS];
    size_t part_count;
    bool hint;
    uint64_t hint_msn;
    unsigned hint_part;
    bool open_pdt;          /* a PDT after the last EXTINF (the open segment's) */
} playlist_t;

static playlist_t pl; /* big: one at a time */

/* Parses a media playlist as a client would, failing on any line it does
 * not expect. */
static void parse_media(const char *text)
{
    memset(&pl, 0, sizeof(pl));
    pl.target = -1;
    assert_true(strlen(text) < sizeof(pl.text));
    strcpy(pl.text, text);
    char copy[sizeof(pl.text)];
    strcpy(copy, text);
    bool pending_disc = false, pending_pdt = false, want_uri = false;
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lineno++) {
        unsigned long long u1;
        unsigned u2;
        double d;
        int end = 0;
        if (lineno == 0) {
            assert_string_equal(line, "#EXTM3U");
        } else if (want_uri) {
            if (sscanf(line, "%llu.ts%n", &u1, &end) != 1 || line[end])
                fail_msg("segment URI expected, got '%s'", line);
            assert_true(pl.count < MAX_ENTRIES);
            pl.seg[pl.count++].msn = u1;
            want_uri = false;
        } else if (sscanf(line, "#EXT-X-VERSION:%d", &pl.version) == 1) {
        } else if (sscanf(line, "#EXT-X-TARGETDURATION:%ld", &pl.target) == 1) {
        } else if (sscanf(line, "#EXT-X-MEDIA-SEQUENCE:%llu", &u1) == 1) {
            pl.media_sequence = u1;
        } else if (sscanf(line, "#EXT-X-DISCONTINUITY-SEQUENCE:%llu", &u1) == 1) {
            pl.discontinuity_sequence = u1;
        } else if (strcmp(line, "#EXT-X-INDEPENDENT-SEGMENTS") == 0) {
            pl.independent_segments = true;
        } else if (strcmp(line, "#EXT-X-DISCONTINUITY") == 0) {
            pending_disc = true;
            pl.discontinuities++;
        } else if (strncmp(line, "#EXT-X-PROGRAM-DATE-TIME:", 25) == 0) {
            /* 2026-01-01T00:00:00.000Z */
            const char *when = line + 25;
            if (strlen(when) != 24 || when[10] != 'T' || when[23] != 'Z')
                fail_msg("bad date '%s'", when);
            pending_pdt = true;
            pl.open_pdt = true;
        } else if (sscanf(line, "#EXTINF:%lf,%n", &d, &end) == 1 && !line[end]) {
            assert_true(pl.count < MAX_ENTRIES);
            pl.seg[pl.count].extinf = d;
            pl.seg[pl.count].discontinuity = pending_disc;
            pl.seg[pl.count].pdt = pending_pdt;
            pending_disc = pending_pdt = false;
            pl.open_pdt = false;
            want_uri = true;
        } else if (sscanf(line, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=%lf%n", &d, &end) == 1 &&
                   !line[end]) {
            pl.server_control = true;
            pl.part_hold_back = d;
        } else if (sscanf(line, "#EXT-X-PART-INF:PART-TARGET=%lf%n", &d, &end) == 1 && !line[end]) {
            pl.part_target = d;
        } else if (sscanf(line, "#EXT-X-PART:DURATION=%lf,URI=\"%llu.%u.ts\"%n", &d, &u1, &u2, &end) == 3) {
            assert_true(pl.part_count < MAX_PARTS);
            part_line_t *p = &pl.part[pl.part_count++];
            p->msn = u1;
            p->index = u2;
            p->duration = d;
            if (strcmp(line + end, ",INDEPENDENT=YES") == 0)
                p->independent = true;
            else if (line[end])
                fail_msg("unexpected part attributes '%s'", line + end);
        } else if (sscanf(line, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"%llu.%u.ts\"%n", &u1, &u2, &end) == 2 &&
                   !line[end]) {
            pl.hint = true;
            pl.hint_msn = u1;
            pl.hint_part = u2;
        } else {
            fail_msg("unexpected playlist line '%s'", line);
        }
    }
    assert_false(want_uri);
}

static char *render(hls_t *hls, int which)
{
    strbuf_t sb;
    strbuf_init(&sb);
    if (which == 0)
        hls_render_plain(hls, &sb);
    else if (which == 1)
        hls_render_ll(hls, &sb);
    else
        hls_render_master(hls, which == 3, &sb);
    assert_false(sb.failed);
    return strbuf_steal(&sb, NULL);
}

/* Renders and parses a media playlist (ll: the LL-HLS one) and checks the
 * rules every media playlist of ours must keep. */
static void load(hls_t *hls, bool ll)
{
    char *text = render(hls, ll ? 1 : 0);
    parse_media(text);
    free(text);
    hls_info_t info;
    hls_get_info(hls, &info);

    assert_int_equal(pl.version, ll ? 9 : 6);
    /* RFC 8216 4.3.5.1: the tag only while every listed segment starts
     * with a keyframe. */
    bool every_independent = !hls->open || hls->open->independent;
    for (uint64_t msn = info.media_sequence; msn < info.media_sequence + info.segments; msn++)
        every_independent = every_independent && hls_segment_get(hls, msn)->independent;
    assert_int_equal(pl.independent_segments, every_independent);
    /* RFC 8216 4.3.3.1: EXTINF rounded to the nearest integer <= target. */
    assert_true(pl.target >= 1);
    assert_int_equal(pl.target, info.target_duration);
    for (size_t i = 0; i < pl.count; i++) {
        if (lround(pl.seg[i].extinf) > pl.target)
            fail_msg("segment %llu: EXTINF %.3f is longer than TARGETDURATION %ld",
                     (unsigned long long)pl.seg[i].msn, pl.seg[i].extinf, pl.target);
        assert_true(pl.seg[i].extinf > 0);
        assert_true(pl.seg[i].pdt);                 /* PDT on every segment */
        assert_int_equal(pl.seg[i].msn, pl.media_sequence + i); /* consecutive */
    }
    assert_int_equal(pl.media_sequence, info.media_sequence);
    assert_int_equal(pl.count, info.segments);
    assert_true(pl.count >= 1);
    assert_true(pl.count <= hls->options.window);

    if (!ll) {
        assert_false(pl.server_control);
        assert_int_equal(pl.part_count, 0);
        assert_false(pl.hint);
        return;
    }
    assert_true(pl.server_control);
    assert_true(pl.part_target > 0);
    /* RFC 8216bis 4.4.3.8: PART-HOLD-BACK at least three part targets. */
    assert_true(pl.part_hold_back >= 3 * pl.part_target);
    for (size_t i = 0; i < pl.part_count; i++) {
        const part_line_t *p = &pl.part[i];
        /* RFC 8216bis 4.4.4.9: no part longer than PART-TARGET. */
        if (p->duration > pl.part_target + 0.000005)
            fail_msg("part %llu.%u: %.5f s is longer than the part target %.5f s", (unsigned long long)p->msn,
                     p->index, p->duration, pl.part_target);
        assert_true(p->duration > 0);
        if (i > 0 && pl.part[i - 1].msn == p->msn)
            assert_int_equal(p->index, pl.part[i - 1].index + 1);
        else
            assert_int_equal(p->index, 0);
    }
    /* The preload hint names the open segment's next part. */
    if (hls->open) {
        assert_true(pl.hint);
        assert_int_equal(pl.hint_msn, hls->open->msn);
        assert_int_equal(pl.hint_part, hls->open->part_count);
        assert_true(pl.open_pdt);
    } else {
        /* No segment open (a source switch awaiting its first keyframe):
         * the hint names the next segment's first part all the same. */
        assert_true(pl.hint);
        assert_int_equal(pl.hint_msn, hls->next_msn);
        assert_int_equal(pl.hint_part, 0);
    }
}

static const entry_t *entry(uint64_t msn)
{
    for (size_t i = 0; i < pl.count; i++)
        if (pl.seg[i].msn == msn)
            return &pl.seg[i];
    fail_msg("segment %llu is not in the playlist", (unsigned long long)msn);
    return NULL;
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

/* ---- numbering and cutting ------------------------------------------------------------- */

static void test_nothing_before_the_first_keyframe(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    hls_info_t info;
    hls_get_info(f->hls, &info);
    assert_int_equal(info.target_duration, 0);
    assert_int_equal(info.segments, 0);
    assert_string_equal(info.warning, "");

    stream_t s = stream(10 * 2 * SECOND, FPS25, 50);
    s.n = 1; /* joined just after a keyframe */
    feed(f, &s, 49);
    assert_null(f->hls->open);
    assert_false(f->hls->have_segments);
    feed(f, &s, 1); /* the keyframe */
    assert_non_null(f->hls->open);
    uint64_t last;
    assert_false(hls_last_complete(f->hls, &last));
    /* No playlist until a segment is complete. */
    char *text = render(f->hls, 0);
    assert_string_equal(text, "");
    free(text);
    text = render(f->hls, 1);
    assert_string_equal(text, "");
    free(text);
}

/* The first segment is numbered floor(t / target); the following ones
 * count on from there, each cut at a keyframe in a new slot. */
static void test_first_segment_numbered_from_time(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    /* 0.5 s into slot 1234, a 2 s GOP at 25 fps */
    stream_t s = stream(1234 * 2 * SECOND + SECOND / 2, FPS25, 50);
    feed_until(f, &s, 1236);
    assert_int_equal(f->hls->first_msn, 1234);
    for (uint64_t msn = 1234; msn <= 1236; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_segment_bytes(seg);
        assert_true(seg->independent);
        assert_false(seg->discontinuity);
        assert_int_equal(seg->duration, 2 * SECOND);
        assert_int_equal(seg->t_start, 1234 * 2 * SECOND + SECOND / 2 + (int64_t)(msn - 1234) * 2 * SECOND);
        /* segments follow each other byte for byte */
        if (msn > 1234)
            assert_int_equal(seg->start, segment(f->hls, msn - 1)->end);
    }
    assert_int_equal(segment(f->hls, 1234)->start, 0);
    assert_int_equal(segment(f->hls, 1234)->pdt_ms, WALL0);
    assert_int_equal(segment(f->hls, 1235)->pdt_ms, WALL0 + 2000);

    load(f->hls, false);
    assert_int_equal(pl.target, 2);
    assert_int_equal(pl.media_sequence, 1234);
    assert_int_equal(pl.discontinuity_sequence, 0);
    assert_int_equal(pl.discontinuities, 0);
    assert_int_equal(pl.count, 3);
    assert_true(has_line(pl.text, "#EXT-X-TARGETDURATION:2"));
    assert_true(has_line(pl.text, "#EXT-X-MEDIA-SEQUENCE:1234"));
    assert_true(has_line(pl.text, "#EXT-X-DISCONTINUITY-SEQUENCE:0"));
    assert_true(has_line(pl.text, "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z"));
    assert_true(has_line(pl.text, "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:02.000Z"));
    assert_true(has_line(pl.text, "#EXTINF:2.000,"));
    assert_true(has_line(pl.text, "1236.ts"));
    hls_info_t info;
    hls_get_info(f->hls, &info);
    assert_string_equal(info.warning, "");
}

/* Keyframes every second with a 2 s target: only those in a new slot cut. */
static void test_keyframes_inside_a_slot_do_not_cut(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(50 * 2 * SECOND + SECOND / 4, FPS25, 25);
    feed_until(f, &s, 55);
    assert_int_equal(f->hls->first_msn, 50);
    for (uint64_t msn = 50; msn <= 55; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_segment_bytes(seg);
        assert_int_equal(seg->duration, 2 * SECOND);
        assert_int_equal(seg->access_units, 50);
        /* it starts at the first keyframe of its slot */
        assert_int_equal(seg->t_start / (2 * SECOND), (int64_t)msn);
        assert_true(seg->t_start % (2 * SECOND) < SECOND);
    }
    load(f->hls, false);
}

/* Segments keep the ring's blocks alive: they stay whole after the ring has
 * let those blocks go. */
static void test_segments_hold_ring_blocks(void **state)
{
    fixture_t *f = *state;
    ring_clear(&f->ring);
    assert_int_equal(ring_init(&f->ring, 0), 0); /* two blocks of history */
    f->hls = open_hls(f, 2, 3, 330);
    stream_t s = stream(7 * 2 * SECOND, FPS25, 50);
    s.packets = 20; /* ~188 KB a segment: three blocks each */
    feed_until(f, &s, 20);
    assert_true(ring_start(&f->ring) > segment(f->hls, f->hls->first_msn)->end);
    for (uint64_t msn = f->hls->first_msn; msn <= 20; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_segment_bytes(seg);
        assert_true(seg->block_count >= 3);
        /* references, not copies: the blocks are the ring's own */
        for (uint32_t i = 0; i < seg->block_count; i++) {
            assert_true(seg->blocks[i]->refs >= 1);
            assert_true(seg->blocks[i]->capacity == RING_BLOCK_SIZE);
        }
        assert_ptr_equal(seg->psi, f->psi);
    }
    /* The newest block is shared by the ring and the segments using it. */
    block_t *current = f->ring.current;
    assert_true(current->refs >= 2);
}

/* Two servers fed the same source, one joining 5.48 s later, publish the
 * same segments under the same numbers (issue 3, item 3). */
static void compare_twins(fixture_t *f)
{
    uint64_t a_last = last_complete(f->hls), b_last = last_complete(f->twin);
    assert_int_equal(a_last, b_last);
    uint64_t common = 0;
    for (uint64_t msn = f->twin->first_msn; msn <= b_last; msn++) {
        const hls_segment_t *a = hls_segment_get(f->hls, msn), *b = hls_segment_get(f->twin, msn);
        if (!a || !b || !b->complete)
            continue;
        /* the twin's first segment may start later (it joined mid-slot) */
        if (msn == f->twin->first_msn && a->start != b->start)
            continue;
        if (a->start != b->start || a->end != b->end || a->t_start != b->t_start)
            fail_msg("segment %llu: [%llu, %llu) t %lld on one server, [%llu, %llu) t %lld on the other",
                     (unsigned long long)msn, (unsigned long long)a->start, (unsigned long long)a->end,
                     (long long)a->t_start, (unsigned long long)b->start, (unsigned long long)b->end,
                     (long long)b->t_start);
        common++;
    }
    assert_true(common >= 5);
    /* Once both windows are full, the playlists are the same text. */
    char *a = render(f->hls, 0), *b = render(f->twin, 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_two_servers_publish_the_same_numbers(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    f->twin = open_hls(f, 2, 6, 330);
    stream_t s = stream(300 * 2 * SECOND + 12345, FPS25, 50);
    feed(f, &s, 137);
    f->twin_on = true;
    feed_until(f, &s, 320);
    compare_twins(f);
}

/* ---- target duration ------------------------------------------------------------------ */

/* A 10 s GOP with a 2 s target: segments follow the GOP, TARGETDURATION is
 * 10 from the first segment on, and the channel gets a warning. */
static void test_long_gop_sets_target_with_warning(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(100 * 2 * SECOND, FPS25, 250);
    feed_until(f, &s, 100);
    hls_info_t info;
    hls_get_info(f->hls, &info);
    assert_int_equal(info.target_duration, 10);
    assert_non_null(strstr(info.warning, "10.000 s"));
    /* the next keyframe (t = 210 s) is in slot 105; it is still number 101 */
    feed_until(f, &s, 102);
    for (uint64_t msn = 100; msn <= 102; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        assert_int_equal(seg->duration, 10 * SECOND);
        assert_true(seg->independent);
    }
    load(f->hls, false);
    assert_int_equal(pl.target, 10);
    assert_true(has_line(pl.text, "#EXTINF:10.000,"));
    load(f->hls, true);
    assert_int_equal(pl.target, 10);
}

/* TARGETDURATION never changes: once it is 2, a GOP that grows to 5 s is
 * cut at 2 s between keyframes (with a warning) rather than published long. */
static void test_target_never_changes(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(20 * 2 * SECOND, FPS25, 50);
    feed_until(f, &s, 22);
    s.gop = 125;
    s.n = 0;
    feed_until(f, &s, 30);
    hls_info_t info;
    hls_get_info(f->hls, &info);
    assert_int_equal(info.target_duration, 2);
    assert_non_null(strstr(info.warning, "no keyframe"));
    for (uint64_t msn = f->hls->first_msn; msn <= 30; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_segment_bytes(seg);
        assert_true(seg->duration < 2 * SECOND + SECOND / 2); /* EXTINF rounds to 2 */
    }
    load(f->hls, false);
    assert_int_equal(pl.target, 2);
    assert_false(pl.independent_segments); /* segments cut between keyframes are listed */
    load(f->hls, true);
    assert_false(pl.independent_segments);

    /* Once keyframes come in time again and the cut segments have left the
     * window, the playlist says so again. */
    s.gop = 50;
    s.n = 0;
    feed_until(f, &s, 40);
    load(f->hls, false);
    assert_true(pl.independent_segments);
}

/* A GOP shorter than the target that does not divide it (1.5 s at 30 fps,
 * target 2 s) must still give segments that each start with a keyframe: the
 * playlist says EXT-X-INDEPENDENT-SEGMENTS (RFC 8216 4.3.5.1). */
static void test_short_gop_segments_start_with_keyframes(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(40 * 2 * SECOND + SECOND / 2, CLOCK / 30, 45);
    feed_until(f, &s, 50);
    load(f->hls, false);
    assert_true(pl.independent_segments);
    for (uint64_t msn = f->hls->first_msn; msn <= 50; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_segment_bytes(seg);
        if (!seg->independent)
            fail_msg("segment %llu (%.3f s, TARGETDURATION %u) starts between keyframes", (unsigned long long)msn,
                     (double)seg->duration / CLOCK, f->hls->published_target);
    }
}

/* 29.97 fps with a 60-picture GOP: segments of 2.002 s, which round to 2
 * (RFC 8216 4.3.3.1), so TARGETDURATION stays the configured 2 s and there
 * is nothing to warn about. */
static void test_ntsc_gop_keeps_target(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(60 * 2 * SECOND, 3003, 60);
    feed_until(f, &s, 65);
    for (uint64_t msn = 60; msn <= 65; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        assert_int_equal(seg->duration, 180180);
        assert_true(seg->independent);
    }
    hls_info_t info;
    hls_get_info(f->hls, &info);
    if (info.target_duration != 2 || info.warning[0])
        fail_msg("2.002 s segments: TARGETDURATION %u (want 2), warning '%s'", info.target_duration,
                 info.warning);
}

/* ---- parts ------------------------------------------------------------------------------ */

static void check_parts(const hls_segment_t *seg, int64_t part_target)
{
    assert_true(seg->part_count >= 1);
    assert_int_equal(seg->parts[0].start, seg->start);
    assert_true(seg->parts[0].independent == seg->independent);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < seg->part_count; i++) {
        const hls_part_t *p = &seg->parts[i];
        if (p->duration > part_target)
            fail_msg("segment %llu part %u: %u ticks, longer than the part target %lld",
                     (unsigned long long)seg->msn, i, p->duration, (long long)part_target);
        assert_true(p->start < p->end);
        if (i > 0)
            assert_int_equal(p->start, seg->parts[i - 1].end);
        sum += p->duration;
    }
    /* The parts together are the segment (RFC 8216bis 4.4.4.9). */
    if (seg->parts[seg->part_count - 1].end != seg->end || sum != seg->duration)
        fail_msg("segment %llu [%llu, %llu) of %u ticks: %u parts cover [%llu, %llu) and %llu ticks",
                 (unsigned long long)seg->msn, (unsigned long long)seg->start, (unsigned long long)seg->end,
                 seg->duration, seg->part_count, (unsigned long long)seg->parts[0].start,
                 (unsigned long long)seg->parts[seg->part_count - 1].end, (unsigned long long)sum);
}

static void test_parts_within_part_target(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(500 * 2 * SECOND, FPS25, 50);
    feed_until(f, &s, 505);
    int64_t part_target = 330 * CLOCK / 1000;
    for (uint64_t msn = 500; msn <= 505; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_parts(seg, part_target);
        /* 8 pictures (0.32 s) a part: 6 of them, and the last 2 pictures */
        assert_int_equal(seg->part_count, 7);
        for (uint32_t i = 0; i < 6; i++)
            assert_int_equal(seg->parts[i].duration, 8 * FPS25);
        assert_int_equal(seg->parts[6].duration, 2 * FPS25);
        assert_true(seg->parts[0].independent);
        for (uint32_t i = 1; i < seg->part_count; i++)
            assert_false(seg->parts[i].independent);
    }
    /* The open segment's parts too. */
    feed(f, &s, 20);
    const hls_segment_t *open = f->hls->open;
    assert_non_null(open);
    assert_int_equal(open->part_count, 2);
    assert_true(open->parts[0].independent);
}

/* A keyframe that begins a part makes that part independent. */
static void test_part_at_keyframe_is_independent(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    /* keyframes every 16 pictures: every other part starts with one */
    stream_t s = stream(700 * 2 * SECOND, FPS25, 16);
    feed_until(f, &s, 702);
    const hls_segment_t *seg = segment(f->hls, 701);
    check_parts(seg, 330 * CLOCK / 1000);
    unsigned independent = 0;
    for (uint32_t i = 0; i < seg->part_count; i++) {
        const uint8_t *first = packet_in(seg, seg->parts[i].start);
        assert_non_null(first);
        assert_int_equal(first[12], 1); /* parts start at access units */
        assert_int_equal(seg->parts[i].independent, first[13]);
        independent += seg->parts[i].independent;
    }
    assert_true(independent >= 2);
}

/* The LL-HLS playlist: PART-INF, SERVER-CONTROL, parts of the last three
 * segments and the open one, and a preload hint for the next part. */
static void test_ll_playlist(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(900 * 2 * SECOND, FPS25, 50);
    feed_until(f, &s, 909);
    feed(f, &s, 25); /* half of 910: parts 0..2 complete */
    load(f->hls, true);
    assert_int_equal(pl.target, 2);
    assert_int_equal(pl.media_sequence, 904);
    assert_int_equal(pl.count, 6);
    assert_true(has_line(pl.text, "#EXT-X-PART-INF:PART-TARGET=0.33000"));
    assert_true(has_line(pl.text, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.991"));
    assert_true(pl.part_hold_back >= 3 * 0.33);
    assert_true(has_line(pl.text, "#EXT-X-PART:DURATION=0.32000,URI=\"907.0.ts\",INDEPENDENT=YES"));
    assert_true(has_line(pl.text, "#EXT-X-PART:DURATION=0.32000,URI=\"907.1.ts\""));
    assert_true(has_line(pl.text, "#EXT-X-PART:DURATION=0.08000,URI=\"909.6.ts\""));
    assert_true(has_line(pl.text, "#EXT-X-PART:DURATION=0.32000,URI=\"910.2.ts\""));
    assert_true(has_line(pl.text, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"910.3.ts\""));
    assert_false(strstr(pl.text, "URI=\"906."));
    /* parts of 907, 908, 909 (7 each) and three of the open 910 */
    assert_int_equal(pl.part_count, 3 * 7 + 3);
    /* the parts of a segment come before its EXTINF and add up to it */
    for (uint64_t msn = 907; msn <= 909; msn++) {
        double sum = 0;
        for (size_t i = 0; i < pl.part_count; i++)
            if (pl.part[i].msn == msn)
                sum += pl.part[i].duration;
        assert_true(fabs(sum - entry(msn)->extinf) < 0.001);
    }
    const char *hint = strstr(pl.text, "#EXT-X-PRELOAD-HINT");
    assert_non_null(hint);
    assert_null(strchr(hint, '\n') ? strstr(strchr(hint, '\n') + 1, "#EXT") : NULL); /* the last tag */

    /* The segment closes: the hint moves to the next segment's first part. */
    feed(f, &s, 26);
    load(f->hls, true);
    assert_int_equal(pl.media_sequence, 905);
    assert_true(has_line(pl.text, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"911.0.ts\""));
    assert_false(strstr(pl.text, "URI=\"907."));
}

/* A 30 s target (the largest a channel may set) with the default 333 ms
 * parts: 94 parts a segment, each of them listed and servable. */
static void test_parts_cover_long_segments(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 30, 3, 333);
    stream_t s = stream(10 * 30 * SECOND, FPS25, 750);
    feed_until(f, &s, 11);
    feed(f, &s, 740); /* the open segment nearly done */
    const hls_segment_t *seg = segment(f->hls, 11);
    check_parts(seg, 333 * CLOCK / 1000);
    load(f->hls, true);
    /* the hint must name a part that will come */
    assert_true(f->hls->open->part_count < HLS_MAX_PARTS);
}

/* ---- timestamps ------------------------------------------------------------------------- */

/* DTS wraps at 2^33 (~26.5 h): time goes on, no discontinuity. */
static void test_dts_wrap_is_continuous(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    int64_t t0 = WRAP - 5 * SECOND;
    stream_t s = stream(t0, FPS25, 50);
    uint64_t first = (uint64_t)(t0 / (2 * SECOND));
    feed_until(f, &s, first + 8);
    assert_true(s.t > WRAP + 10 * SECOND);
    assert_false(f->hls->discontinuity_pending);
    for (uint64_t msn = first; msn <= first + 8; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_segment_bytes(seg);
        assert_false(seg->discontinuity);
        assert_int_equal(seg->duration, 2 * SECOND);
        assert_int_equal(seg->t_start, t0 + (int64_t)(msn - first) * 2 * SECOND);
    }
    load(f->hls, false);
    assert_int_equal(pl.discontinuities, 0);
    assert_int_equal(pl.discontinuity_sequence, 0);
    for (size_t i = 0; i < pl.count; i++)
        assert_true(fabs(pl.seg[i].extinf - 2.0) < 0.0005);
    load(f->hls, true);
    assert_int_equal(pl.discontinuities, 0);
    hls_info_t info;
    hls_get_info(f->hls, &info);
    assert_string_equal(info.warning, "");
}

/* Timestamps jumping back 10 s at a keyframe: that segment begins a new
 * timeline, the others stay as they were. */
static void test_backward_jump_at_keyframe(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(30 * 2 * SECOND, FPS25, 50);
    feed(f, &s, 150); /* 30, 31, 32; the next access unit is a keyframe */
    s.t -= 10 * SECOND;
    feed_until(f, &s, 35);
    for (uint64_t msn = 30; msn <= 35; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_segment_bytes(seg);
        assert_int_equal(seg->discontinuity, msn == 33);
        assert_int_equal(seg->duration, 2 * SECOND);
    }
    load(f->hls, false);
    assert_int_equal(pl.discontinuities, 1);
    assert_true(entry(33)->discontinuity);
    assert_false(entry(32)->discontinuity);
    assert_false(entry(34)->discontinuity);
    /* the tag comes right before that segment's PDT and EXTINF */
    const char *tag = strstr(pl.text, "#EXT-X-DISCONTINUITY\n");
    assert_non_null(tag);
    assert_true(strncmp(strchr(tag, '\n') + 1, "#EXT-X-PROGRAM-DATE-TIME:", 25) == 0);
    assert_non_null(strstr(tag, "33.ts"));
    assert_null(strstr(tag, "32.ts"));
    load(f->hls, true);
    assert_int_equal(pl.discontinuities, 1);
}

/* Jumping back between keyframes: the next segment carries the tag. */
static void test_backward_jump_between_keyframes(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(30 * 2 * SECOND, FPS25, 50);
    feed(f, &s, 160);
    s.t -= 3 * SECOND;
    feed_until(f, &s, 36);
    for (uint64_t msn = 30; msn <= 36; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_segment_bytes(seg);
        assert_true(seg->independent);
        assert_int_equal(seg->discontinuity, msn == 34);
    }
    load(f->hls, false);
    assert_int_equal(pl.discontinuities, 1);
    assert_true(entry(34)->discontinuity);
}

/* Jumping forward by more than the jump threshold is a discontinuity too. */
static void test_forward_jump(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(30 * 2 * SECOND, FPS25, 50);
    feed(f, &s, 100);
    s.t += 60 * SECOND;
    feed_until(f, &s, 34);
    for (uint64_t msn = 30; msn <= 34; msn++) {
        assert_int_equal(segment(f->hls, msn)->discontinuity, msn == 32);
        assert_int_equal(segment(f->hls, msn)->duration, 2 * SECOND);
    }
    load(f->hls, false);
}

/* Input stops for 5 s (a UDP outage) and comes back with the DTS 5 s on,
 * below the jump threshold: no segment may be published longer than
 * TARGETDURATION. */
static void test_short_gap_keeps_extinf_within_target(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(30 * 2 * SECOND, FPS25, 50);
    feed(f, &s, 125); /* mid-segment 32 */
    s.t += 5 * SECOND;
    f->wall += 5000;
    feed_until(f, &s, 36);
    for (uint64_t msn = f->hls->first_msn; msn <= 36; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        if (seg->duration > f->hls->published_target * CLOCK)
            fail_msg("segment %llu is %.3f s with TARGETDURATION %u", (unsigned long long)msn,
                     (double)seg->duration / CLOCK, f->hls->published_target);
    }
    load(f->hls, false);
}

/* Access units without a DTS are placed one picture after the last. */
static void test_access_units_without_dts(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    int64_t t = 80 * 2 * SECOND;
    for (int i = 0; i < 50 * 4; i++, t += FPS25, f->wall += 40)
        au(f, t, i % 2 == 0, i % 50 == 0, 1);
    assert_int_equal(last_complete(f->hls), 82);
    for (uint64_t msn = 80; msn <= 82; msn++)
        assert_int_equal(segment(f->hls, msn)->duration, 2 * SECOND);
    load(f->hls, false);
}

/* ---- discontinuities from the channel ------------------------------------------------------ */

/* The source changes: the open segment ends where the old source's last
 * picture began (that picture may be cut off), and the next keyframe of the
 * new source starts a new timeline under the next number. */
static void test_discontinuity_closes_open_segment(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(40 * 2 * SECOND, FPS25, 50);
    feed(f, &s, 121); /* 40, 41, and 21 pictures of 42 */
    uint64_t end = ring_end(&f->ring);
    hls_discontinuity(f->hls);
    assert_null(f->hls->open);
    const hls_segment_t *seg = segment(f->hls, 42);
    assert_true(seg->complete);
    assert_true(seg->end < end);
    assert_int_equal(seg->end, f->hls->last_au_pos);
    assert_int_equal(seg->duration, 20 * FPS25);
    check_segment_bytes(seg);
    load(f->hls, false);
    assert_int_equal(pl.count, 3);
    assert_true(has_line(pl.text, "#EXTINF:0.800,"));
    load(f->hls, true);
    assert_true(pl.hint);
    assert_int_equal(pl.hint_msn, 43);
    assert_int_equal(pl.hint_part, 0);
    /* The discontinuity comes before the hint: hls.js gives the hinted
     * segment the new discontinuity sequence number from this reload on. */
    const char *tail = "#EXT-X-DISCONTINUITY\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"43.0.ts\"\n";
    const char *disc = strstr(pl.text, tail);
    assert_non_null(disc);
    assert_string_equal(disc, tail); /* the playlist's last lines */

    /* The new source: a few pictures before its first keyframe, which are
     * not in any segment, and timestamps from somewhere else entirely. */
    stream_t next = stream(5 * SECOND, FPS25, 50);
    next.n = 45;
    feed(f, &next, 5);
    assert_null(f->hls->open);
    feed(f, &next, 1);
    assert_non_null(f->hls->open);
    assert_int_equal(f->hls->open->msn, 43);
    assert_true(f->hls->open->discontinuity);
    feed(f, &next, 100);
    assert_int_equal(last_complete(f->hls), 44);
    assert_false(segment(f->hls, 44)->discontinuity);
    assert_int_equal(segment(f->hls, 43)->duration, 2 * SECOND);
    load(f->hls, false);
    assert_int_equal(pl.discontinuities, 1);
    assert_true(entry(43)->discontinuity);
    assert_int_equal(pl.media_sequence, 40);
}

/* hls.h allows ring == NULL ("the ring itself was cleared"); the open
 * segment must still end there, not at the new source's first keyframe
 * with a duration measured across two timelines. */
static void test_discontinuity_without_ring(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(40 * 2 * SECOND, FPS25, 50);
    feed(f, &s, 121);
    hls_discontinuity(f->hls);
    stream_t next = stream(s.t + 1000 * SECOND, FPS25, 50);
    feed(f, &next, 60);
    assert_true(complete_upto(f->hls, 42));
    const hls_segment_t *seg = segment(f->hls, 42);
    if (seg->duration > 2 * SECOND)
        fail_msg("segment 42 closed after hls_discontinuity(NULL) is %.3f s long", (double)seg->duration / CLOCK);
    assert_true(segment(f->hls, 43)->discontinuity);
    load(f->hls, false);
}

/* ---- the window ------------------------------------------------------------------------------- */

static void test_window_option_limits(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 1, 330);
    assert_int_equal(f->hls->options.window, 3); /* RFC 8216 6.2.2: three target durations */
    f->twin = open_hls(f, 2, 1000, 330);
    assert_true(2 * f->twin->options.window + 1 < HLS_MAX_SEGMENTS);
}

/* Feeds until segment msn is complete; the 250th access unit (segment 15's
 * keyframe) jumps 20 s back and so begins a new timeline. */
static void feed_until_jump(fixture_t *f, stream_t *s, uint64_t msn)
{
    while (!complete_upto(f->hls, msn)) {
        if (s->n == 250)
            s->t -= 20 * SECOND;
        feed(f, s, 1);
    }
}

/* The window slides; MEDIA-SEQUENCE and DISCONTINUITY-SEQUENCE never go
 * down; the discontinuity counts once its segment has left the playlist. */
static void test_window_and_sequences(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 3, 330);
    stream_t s = stream(10 * 2 * SECOND, FPS25, 50);
    uint64_t last_ms = 0, last_ds = 0;
    for (uint64_t msn = 10; msn <= 40; msn++) {
        feed_until_jump(f, &s, msn);
        load(f->hls, false);
        assert_true(pl.media_sequence >= last_ms);
        assert_true(pl.discontinuity_sequence >= last_ds);
        last_ms = pl.media_sequence;
        last_ds = pl.discontinuity_sequence;
        assert_int_equal(pl.count, msn - 10 + 1 < 3 ? msn - 10 + 1 : 3);
        assert_int_equal(pl.media_sequence, msn < 12 ? 10 : msn - 2);
        bool listed = pl.media_sequence <= 15 && 15 <= msn;
        assert_int_equal(pl.discontinuities, listed ? 1 : 0);
        assert_int_equal(pl.discontinuity_sequence, pl.media_sequence > 15 ? 1 : 0);
        if (listed)
            assert_true(entry(15)->discontinuity);
        load(f->hls, true);
        assert_int_equal(pl.discontinuity_sequence, pl.media_sequence > 15 ? 1 : 0);
    }
}

/* hls_get_info tells the admin API what the playlist says. */
static void test_info_matches_playlist(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 3, 330);
    stream_t s = stream(10 * 2 * SECOND, FPS25, 50);
    for (uint64_t msn = 10; msn <= 30; msn++) {
        feed_until_jump(f, &s, msn);
        load(f->hls, false);
        hls_info_t info;
        hls_get_info(f->hls, &info);
        assert_int_equal(info.media_sequence, pl.media_sequence);
        assert_int_equal(info.segments, pl.count);
        if (info.discontinuity_sequence != pl.discontinuity_sequence)
            fail_msg("after segment %llu: hls_get_info says discontinuity sequence %llu, the playlist %llu",
                     (unsigned long long)msn, (unsigned long long)info.discontinuity_sequence,
                     (unsigned long long)pl.discontinuity_sequence);
    }
}

/* RFC 8216 6.2.2: a segment that left the playlist stays available for its
 * duration plus the playlist's. With a window of W segments of equal
 * length, segment S leaves when S+W completes and may go when S+2W+1
 * completes: the 2W+1 newest complete segments are kept. */
static void test_segments_kept_then_dropped(void **state)
{
    fixture_t *f = *state;
    const uint64_t W = 3;
    f->hls = open_hls(f, 2, (uint32_t)W, 330);
    stream_t s = stream(10 * 2 * SECOND, FPS25, 50);
    for (uint64_t last = 10; last <= 40; last++) {
        feed_until(f, &s, last);
        assert_int_equal(last_complete(f->hls), last);
        uint64_t oldest = last >= 10 + 2 * W ? last - 2 * W : 10;
        assert_int_equal(f->hls->first_msn, oldest);
        const hls_segment_t *seg = segment(f->hls, oldest);
        check_segment_bytes(seg);
        if (oldest > 10)
            assert_null(hls_segment_get(f->hls, oldest - 1));
        /* the oldest kept one left the playlist W+1 segments ago at most */
        uint64_t first, newest;
        assert_true(hls_window(f->hls, &first, &newest));
        assert_int_equal(newest, last);
        assert_true(first - oldest <= W + 1);
    }
}

/* ---- audio only -------------------------------------------------------------------------------- */

/* Radio: every access unit (1024 samples at 48 kHz) is a random access
 * point, so segments are cut at the first frame of each 2 s slot: 2.005 s or
 * 1.984 s, both 2 when rounded, so TARGETDURATION is 2 with no warning. */
static void test_audio_only_cuts_at_target(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    stream_t s = stream(100 * 2 * SECOND, AAC_FRAME, 1);
    feed_until(f, &s, 120);
    for (uint64_t msn = f->hls->first_msn; msn <= 120; msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        check_segment_bytes(seg);
        assert_true(seg->independent);
        int64_t slot_start = (int64_t)msn * 2 * SECOND;
        if (seg->t_start < slot_start || seg->t_start >= slot_start + AAC_FRAME)
            fail_msg("segment %llu starts at %.4f s, not at the first frame of its slot (%.4f s)",
                     (unsigned long long)msn, (double)seg->t_start / CLOCK, (double)slot_start / CLOCK);
        assert_true(seg->duration == 93 * AAC_FRAME || seg->duration == 94 * AAC_FRAME);
    }
    hls_info_t info;
    hls_get_info(f->hls, &info);
    if (info.target_duration != 2 || info.warning[0])
        fail_msg("audio only: TARGETDURATION %u (want 2), warning '%s'", info.target_duration, info.warning);
    load(f->hls, false);
    load(f->hls, true);
}

/* Two servers with the same radio source, one joining mid-slot 5 minutes
 * later, publish the same segments under the same numbers; numbers keep
 * following time over a long run. */
static void test_audio_only_numbers_follow_time(void **state)
{
    fixture_t *f = *state;
    f->hls = open_hls(f, 2, 6, 330);
    f->twin = open_hls(f, 2, 6, 330);
    stream_t s = stream(1000 * 2 * SECOND + SECOND / 3, AAC_FRAME, 1);
    feed(f, &s, 150 * 48000 / 1024 * 2); /* 300 s */
    f->twin_on = true;
    feed_until(f, &s, 1000 + 160 + 40);
    for (uint64_t msn = f->hls->first_msn; msn <= last_complete(f->hls); msn++) {
        const hls_segment_t *seg = segment(f->hls, msn);
        int64_t slot_start = (int64_t)msn * 2 * SECOND;
        if (seg->t_start < slot_start || seg->t_start >= slot_start + AAC_FRAME)
            fail_msg("segment %llu starts at %.4f s, not at the first frame of its slot (%.4f s)",
                     (unsigned long long)msn, (double)seg->t_start / CLOCK, (double)slot_start / CLOCK);
    }
    compare_twins(f);
}

/* ---- the multivariant playlist ----------------------------------------------------------------- */

static void test_master_playlist(void **state)
{
    fixture_t *f = *state;
    f->real_ts = true;
    block_unref(f->psi);
    f->psi = block_new(2 * TB_PKT, 0);
    const tb_es_t es[] = {{0x1b, 0x101}, {0x0f, 0x102}};
    hb_psi(f->psi->data, 0x100, 0x101, es, ARRAY_SIZE(es));
    f->psi->size = 2 * TB_PKT;
    f->hls = open_hls(f, 2, 6, 330);

    /* Before any segment: a playlist with what little is known. */
    char *text = render(f->hls, 2);
    assert_string_equal(text, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                              "#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\nindex.m3u8\n");
    free(text);

    stream_t s = stream(10 * 2 * SECOND, FPS25, 50);
    feed_until(f, &s, 12);
    /* 50 access units of 2 packets a segment over 2 s, plus the PAT and
     * PMT every segment is served with */
    uint64_t bits = (50ull * 2 + 2) * TB_PKT * 8 / 2;
    char want[512];
    snprintf(want, sizeof(want),
             "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"
             "#EXT-X-STREAM-INF:BANDWIDTH=%llu,AVERAGE-BANDWIDTH=%llu,CODECS=\"avc1.64001f,mp4a.40.2\","
             "RESOLUTION=1280x720,FRAME-RATE=25.000\nindex.m3u8\n",
             (unsigned long long)bits, (unsigned long long)bits);
    text = render(f->hls, 2);
    bool same = strcmp(text, want) == 0;
    if (!same)
        print_error("got:\n%s\nwant:\n%s\n", text, want);
    free(text);
    assert_true(same);
    text = render(f->hls, 3);
    assert_non_null(strstr(text, "\nindex.ll.m3u8\n"));
    free(text);
    load(f->hls, false);
    load(f->hls, true);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_nothing_before_the_first_keyframe),
        T(test_first_segment_numbered_from_time),
        T(test_keyframes_inside_a_slot_do_not_cut),
        T(test_segments_hold_ring_blocks),
        T(test_two_servers_publish_the_same_numbers),
        T(test_long_gop_sets_target_with_warning),
        T(test_target_never_changes),
        T(test_short_gop_segments_start_with_keyframes),
        T(test_ntsc_gop_keeps_target),
        T(test_parts_within_part_target),
        T(test_part_at_keyframe_is_independent),
        T(test_ll_playlist),
        T(test_parts_cover_long_segments),
        T(test_dts_wrap_is_continuous),
        T(test_backward_jump_at_keyframe),
        T(test_backward_jump_between_keyframes),
        T(test_forward_jump),
        T(test_short_gap_keeps_extinf_within_target),
        T(test_access_units_without_dts),
        T(test_discontinuity_closes_open_segment),
        T(test_discontinuity_without_ring),
        T(test_window_option_limits),
        T(test_window_and_sequences),
        T(test_info_matches_playlist),
        T(test_segments_kept_then_dropped),
        T(test_audio_only_cuts_at_target),
        T(test_audio_only_numbers_follow_time),
        T(test_master_playlist),
    };
#undef T
    log_set_level(LOG_ERROR); /* the warnings under test are expected */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
