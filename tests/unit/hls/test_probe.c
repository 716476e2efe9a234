// SPDX-License-Identifier: MIT
// test_probe.c -- tests for src/hls/probe.c: CODECS, RESOLUTION and
// FRAME-RATE read from a finished segment built by hand (PSI block plus ring
// blocks), with parameter sets taken from real encoders.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"
#include "hls/hls_private.h"

#include "hls_build.h"

#define PMT_PID 0x100
#define VIDEO_PID 0x101
#define AUDIO_PID 0x102

/* A ring and the segment cut from it. */
typedef struct fixture {
    ring_t ring;
    block_t *psi;
    hls_segment_t seg;
    uint8_t video_cc, audio_cc;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || ring_init(&f->ring, 1u << 20) != 0)
        return -1;
    *state = f;
    return 0;
}

static void segment_release(hls_segment_t *seg)
{
    for (uint32_t i = 0; i < seg->block_count; i++)
        block_unref(seg->blocks[i]);
    free(seg->blocks);
    block_unref(seg->psi);
    memset(seg, 0, sizeof(*seg));
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    segment_release(&f->seg);
    block_unref(f->psi);
    ring_clear(&f->ring);
    free(f);
    return 0;
}

static void append(fixture_t *f, const uint8_t *packets, size_t count)
{
    assert_int_equal(ring_append(&f->ring, packets, count * TB_PKT), 0);
}

/* PAT + PMT (streams es[0..n)) as the segment's PSI block, as the channel
 * hands it to the segmenter. */
static void set_psi(fixture_t *f, const tb_es_t *es, size_t n)
{
    block_unref(f->psi);
    f->psi = block_new(2 * TB_PKT, 0);
    assert_non_null(f->psi);
    hb_psi(f->psi->data, PMT_PID, es[0].pid, es, n);
    f->psi->size = 2 * TB_PKT;
}

static void set_psi_h264_aac(fixture_t *f)
{
    const tb_es_t es[] = {{0x1b, VIDEO_PID}, {0x0f, AUDIO_PID}};
    set_psi(f, es, ARRAY_SIZE(es));
}

static void append_pes(fixture_t *f, uint16_t pid, uint8_t sid, const uint8_t *es, size_t len)
{
    uint8_t packets[TB_PKT * 64];
    uint8_t *cc = pid == AUDIO_PID ? &f->audio_cc : &f->video_cc;
    size_t count = hb_pes(packets, 64, pid, sid, cc, es, len);
    append(f, packets, count);
}

/* A keyframe access unit: AUD, SPS (NAL given whole), PPS, IDR slice. */
static void append_keyframe(fixture_t *f, const uint8_t *sps, size_t sps_len)
{
    uint8_t es[512];
    size_t len = hb_cat(es, 0, hb_aud, sizeof(hb_aud));
    len = hb_cat(es, len, hb_start_code, sizeof(hb_start_code));
    len = hb_cat(es, len, sps, sps_len);
    len = hb_cat(es, len, hb_pps, sizeof(hb_pps));
    len = hb_cat(es, len, hb_idr_slice, sizeof(hb_idr_slice));
    append_pes(f, VIDEO_PID, 0xe0, es, len);
}

static void append_picture(fixture_t *f) { append_pes(f, VIDEO_PID, 0xe0, hb_p_slice, sizeof(hb_p_slice)); }

static void append_adts(fixture_t *f, const uint8_t *adts, size_t len)
{
    uint8_t es[64];
    size_t n = hb_cat(es, 0, adts, len);
    memset(es + n, 0x21, 20); /* raw_data_block, content irrelevant */
    append_pes(f, AUDIO_PID, 0xc0, es, n + 20);
}

/* Makes the segment [start, ring end) out of references to the ring's blocks,
 * 2 s with `access_units` pictures, as the segmenter would have left it. */
static void cut_segment(fixture_t *f, uint64_t start, uint32_t access_units)
{
    hls_segment_t *seg = &f->seg;
    segment_release(seg);
    seg->start = start;
    seg->end = ring_end(&f->ring);
    seg->duration = 2 * HLS_CLOCK;
    seg->access_units = access_units;
    seg->complete = true;
    seg->psi = f->psi ? block_ref(f->psi) : NULL;
    uint64_t first = start / RING_BLOCK_SIZE, last = (seg->end - 1) / RING_BLOCK_SIZE;
    seg->blocks = calloc(last - first + 1, sizeof(*seg->blocks));
    assert_non_null(seg->blocks);
    for (uint64_t s = first; s <= last; s++) {
        block_t *block = ring_block_at(&f->ring, s * RING_BLOCK_SIZE);
        assert_non_null(block);
        seg->blocks[seg->block_count++] = block_ref(block);
    }
    seg->block_cap = seg->block_count;
}

static void probe(fixture_t *f, hls_codecs_t *out)
{
    memset(out, 0x5a, sizeof(*out)); /* whatever was there must be replaced */
    hls_probe(&f->seg, out);
}

/* ---- H.264 + AAC -------------------------------------------------------------- */

static void test_h264_high_31_and_aac_lc(void **state)
{
    fixture_t *f = *state;
    set_psi_h264_aac(f);
    append_keyframe(f, hb_sps_720p, sizeof(hb_sps_720p));
    append_adts(f, hb_adts, sizeof(hb_adts));
    for (int i = 0; i < 49; i++)
        append_picture(f);
    cut_segment(f, 0, 50);
    hls_codecs_t c;
    probe(f, &c);
    assert_true(c.known);
    assert_string_equal(c.codecs, "avc1.64001f,mp4a.40.2");
    assert_int_equal(c.width, 1280);
    assert_int_equal(c.height, 720);
    assert_true(c.frame_rate > 24.999 && c.frame_rate < 25.001);
}

static void test_h264_cropping_gives_1080_lines(void **state)
{
    fixture_t *f = *state;
    set_psi_h264_aac(f);
    append_keyframe(f, hb_sps_1080p, sizeof(hb_sps_1080p));
    append_adts(f, hb_adts, sizeof(hb_adts));
    cut_segment(f, 0, 60);
    hls_codecs_t c;
    probe(f, &c);
    assert_string_equal(c.codecs, "avc1.640028,mp4a.40.2");
    assert_int_equal(c.width, 1920);
    assert_int_equal(c.height, 1080);
    assert_true(c.frame_rate > 29.999 && c.frame_rate < 30.001);
}

/* The SPS starts in one TS packet and ends in the next. */
static void test_sps_across_packets(void **state)
{
    fixture_t *f = *state;
    set_psi_h264_aac(f);
    uint8_t es[512];
    size_t len = hb_cat(es, 0, hb_aud, sizeof(hb_aud));
    /* filler data NAL (type 12) up to 10 bytes before the first packet ends */
    const size_t first_payload = TB_PKT - 4 - HB_PES_HEADER;
    len = hb_cat(es, len, hb_start_code, sizeof(hb_start_code));
    es[len++] = 0x0c;
    while (len < first_payload - 10)
        es[len++] = 0xff;
    es[len++] = 0x80;
    len = hb_cat(es, len, hb_start_code, sizeof(hb_start_code));
    size_t sps_at = len;
    len = hb_cat(es, len, hb_sps_720p, sizeof(hb_sps_720p));
    assert_true(sps_at < first_payload && sps_at + sizeof(hb_sps_720p) > first_payload);
    len = hb_cat(es, len, hb_pps, sizeof(hb_pps));
    len = hb_cat(es, len, hb_idr_slice, sizeof(hb_idr_slice));
    append_pes(f, VIDEO_PID, 0xe0, es, len);
    append_picture(f);
    cut_segment(f, 0, 50);
    hls_codecs_t c;
    probe(f, &c);
    /* the PMT lists AAC: without an ADTS header in the segment it is LC */
    assert_string_equal(c.codecs, "avc1.64001f,mp4a.40.2");
    assert_int_equal(c.width, 1280);
    assert_int_equal(c.height, 720);
}

/* No PSI block: the PAT and PMT are found in the segment's own bytes. */
static void test_psi_inside_the_segment(void **state)
{
    fixture_t *f = *state;
    uint8_t psi[2 * TB_PKT];
    const tb_es_t es[] = {{0x1b, VIDEO_PID}, {0x0f, AUDIO_PID}};
    hb_psi(psi, PMT_PID, VIDEO_PID, es, ARRAY_SIZE(es));
    append(f, psi, 2);
    append_keyframe(f, hb_sps_720p, sizeof(hb_sps_720p));
    append_adts(f, hb_adts, sizeof(hb_adts));
    cut_segment(f, 0, 50);
    hls_codecs_t c;
    probe(f, &c);
    assert_true(c.known);
    assert_string_equal(c.codecs, "avc1.64001f,mp4a.40.2");
    assert_int_equal(c.width, 1280);
}

/* Bytes of the ring before the segment's start (another picture size) and
 * after its end are not the segment's. */
static void test_only_the_segment_bytes_count(void **state)
{
    fixture_t *f = *state;
    set_psi_h264_aac(f);
    append_keyframe(f, hb_sps_1080p, sizeof(hb_sps_1080p));
    append_picture(f);
    uint64_t start = ring_end(&f->ring);
    append_keyframe(f, hb_sps_720p, sizeof(hb_sps_720p));
    append_picture(f);
    cut_segment(f, start, 50);
    f->seg.end = ring_end(&f->ring);
    append_keyframe(f, hb_sps_1080p, sizeof(hb_sps_1080p)); /* the next segment's */
    hls_codecs_t c;
    probe(f, &c);
    /* the PMT lists AAC: without an ADTS header in the segment it is LC */
    assert_string_equal(c.codecs, "avc1.64001f,mp4a.40.2");
    assert_int_equal(c.width, 1280);
    assert_int_equal(c.height, 720);
}

static void test_audio_only(void **state)
{
    fixture_t *f = *state;
    const tb_es_t es[] = {{0x0f, AUDIO_PID}};
    set_psi(f, es, 1);
    append_adts(f, hb_adts, sizeof(hb_adts));
    cut_segment(f, 0, 94);
    hls_codecs_t c;
    probe(f, &c);
    assert_true(c.known);
    assert_string_equal(c.codecs, "mp4a.40.2");
    assert_int_equal(c.width, 0);
    assert_int_equal(c.height, 0);
    assert_true(c.frame_rate == 0.0); /* no FRAME-RATE without video */
}

/* The audio object type comes from the ADTS profile: 0 is AAC Main. */
static void test_adts_profile_main(void **state)
{
    fixture_t *f = *state;
    const tb_es_t es[] = {{0x0f, AUDIO_PID}};
    set_psi(f, es, 1);
    uint8_t adts[sizeof(hb_adts)];
    memcpy(adts, hb_adts, sizeof(adts));
    adts[2] &= 0x3f;
    append_adts(f, adts, sizeof(adts));
    cut_segment(f, 0, 1);
    hls_codecs_t c;
    probe(f, &c);
    assert_string_equal(c.codecs, "mp4a.40.1");
}

static void test_mpeg_audio_and_ac3(void **state)
{
    fixture_t *f = *state;
    const tb_es_t mp2[] = {{0x03, AUDIO_PID}};
    set_psi(f, mp2, 1);
    uint8_t frame[] = {0xff, 0xfd, 0x90, 0x04};
    append_pes(f, AUDIO_PID, 0xc0, frame, sizeof(frame));
    cut_segment(f, 0, 1);
    hls_codecs_t c;
    probe(f, &c);
    assert_string_equal(c.codecs, "mp4a.40.34");

    const tb_es_t ac3[] = {{0x81, AUDIO_PID}};
    set_psi(f, ac3, 1);
    cut_segment(f, 0, 1);
    probe(f, &c);
    assert_string_equal(c.codecs, "ac-3");
}

/* Without a PAT nothing is known: the playlist is written without CODECS
 * and probed again at the next segment. */
static void test_no_pat_is_unknown(void **state)
{
    fixture_t *f = *state;
    append_keyframe(f, hb_sps_720p, sizeof(hb_sps_720p));
    cut_segment(f, 0, 50);
    hls_codecs_t c;
    probe(f, &c);
    assert_false(c.known);
    assert_string_equal(c.codecs, "");
    assert_int_equal(c.width, 0);
}

/* ---- H.265 -------------------------------------------------------------------- */

static void append_hevc_keyframe(fixture_t *f, const uint8_t *sps, size_t sps_len)
{
    static const uint8_t aud[] = {0x00, 0x00, 0x00, 0x01, 0x46, 0x01, 0x10};
    static const uint8_t vps[] = {0x00, 0x00, 0x00, 0x01, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60};
    static const uint8_t idr[] = {0x00, 0x00, 0x01, 0x26, 0x01, 0xaf, 0x06, 0xb8};
    uint8_t es[512];
    size_t len = hb_cat(es, 0, aud, sizeof(aud));
    len = hb_cat(es, len, vps, sizeof(vps));
    len = hb_cat(es, len, hb_start_code, sizeof(hb_start_code));
    len = hb_cat(es, len, sps, sps_len);
    len = hb_cat(es, len, idr, sizeof(idr));
    append_pes(f, VIDEO_PID, 0xe0, es, len);
}

static void test_hevc_main(void **state)
{
    fixture_t *f = *state;
    const tb_es_t es[] = {{0x24, VIDEO_PID}, {0x0f, AUDIO_PID}};
    set_psi(f, es, ARRAY_SIZE(es));
    append_hevc_keyframe(f, hb_hevc_sps_main, sizeof(hb_hevc_sps_main));
    append_adts(f, hb_adts, sizeof(hb_adts));
    cut_segment(f, 0, 50);
    hls_codecs_t c;
    probe(f, &c);
    assert_true(c.known);
    assert_true(strncmp(c.codecs, "hvc1.1.", 7) == 0);
    /* ISO/IEC 14496-15 E.3: profile, reversed compatibility flags in hex,
     * tier and level, then the constraint bytes without trailing zeros. */
    assert_string_equal(c.codecs, "hvc1.1.6.L93.90,mp4a.40.2");
}

static void test_hevc_main10(void **state)
{
    fixture_t *f = *state;
    const tb_es_t es[] = {{0x24, VIDEO_PID}};
    set_psi(f, es, 1);
    append_hevc_keyframe(f, hb_hevc_sps_main10, sizeof(hb_hevc_sps_main10));
    cut_segment(f, 0, 50);
    hls_codecs_t c;
    probe(f, &c);
    assert_string_equal(c.codecs, "hvc1.2.4.L120.90");
}

/* ---- damaged parameter sets ------------------------------------------------------ */

/* A keyframe whose PES ends inside the SPS: every cut either yields the
 * full answer (the cut is past what the probe reads) or no resolution. */
static void test_truncated_sps(void **state)
{
    fixture_t *f = *state;
    for (size_t keep = 1; keep <= sizeof(hb_sps_720p); keep++) {
        ring_clear(&f->ring);
        assert_int_equal(ring_init(&f->ring, 0), 0);
        set_psi_h264_aac(f);
        uint8_t es[64];
        size_t len = hb_cat(es, 0, hb_start_code, sizeof(hb_start_code));
        len = hb_cat(es, len, hb_sps_720p, keep);
        append_pes(f, VIDEO_PID, 0xe0, es, len);
        cut_segment(f, 0, 50);
        hls_codecs_t c;
        probe(f, &c);
        bool none = c.width == 0 && c.height == 0;
        bool right = c.width == 1280 && c.height == 720;
        if (!none && !right)
            fail_msg("SPS cut to %zu bytes: resolution %ux%u", keep, c.width, c.height);
    }
}

/* An SPS that is all zero bytes never ends its first Exp-Golomb code. */
static void test_zero_sps_has_no_resolution(void **state)
{
    fixture_t *f = *state;
    set_psi_h264_aac(f);
    uint8_t sps[40] = {0x67};
    append_keyframe(f, sps, sizeof(sps));
    cut_segment(f, 0, 50);
    hls_codecs_t c;
    probe(f, &c);
    assert_int_equal(c.width, 0);
    assert_int_equal(c.height, 0);
}

/* Random bytes after an SPS NAL header: no crash, no sanitizer report. */
static void test_random_sps_does_not_crash(void **state)
{
    fixture_t *f = *state;
    uint32_t seed = 12345;
    for (int round = 0; round < 2000; round++) {
        ring_clear(&f->ring);
        assert_int_equal(ring_init(&f->ring, 0), 0);
        set_psi_h264_aac(f);
        uint8_t sps[100];
        sps[0] = 0x67;
        size_t len = 2 + (size_t)round % (sizeof(sps) - 2);
        for (size_t i = 1; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            sps[i] = (uint8_t)(seed >> 16);
        }
        append_keyframe(f, sps, len);
        cut_segment(f, 0, 50);
        hls_codecs_t c;
        probe(f, &c);
        assert_true(strlen(c.codecs) < sizeof(c.codecs));
    }
}

/* 0xff bytes: profile_idc 255 is not a profile (H.264 Annex A), and the
 * rest reads as a 1x1-macroblock picture. Nothing here describes a real
 * picture, so the playlist must not advertise a RESOLUTION from it. */
static void test_garbage_sps_has_no_resolution(void **state)
{
    fixture_t *f = *state;
    set_psi_h264_aac(f);
    uint8_t sps[24];
    memset(sps, 0xff, sizeof(sps));
    sps[0] = 0x67;
    append_keyframe(f, sps, sizeof(sps));
    cut_segment(f, 0, 50);
    hls_codecs_t c;
    probe(f, &c);
    if (c.width || c.height)
        fail_msg("garbage SPS (0xff bytes) advertised as %ux%u, codecs '%s'", c.width, c.height, c.codecs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_h264_high_31_and_aac_lc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_h264_cropping_gives_1080_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sps_across_packets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_psi_inside_the_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_the_segment_bytes_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audio_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adts_profile_main, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mpeg_audio_and_ac3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_pat_is_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hevc_main, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hevc_main10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_sps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_sps_has_no_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_sps_does_not_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_sps_has_no_resolution, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
