// SPDX-License-Identifier: MIT
// test_es.c -- tests for src/ts/es.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"
#include "ts/ts.h"

/* H.264 (Annex B byte stream): AUD, SPS, PPS, then an IDR slice (type 5). */
static const uint8_t h264_idr[] = {
    0x00, 0x00, 0x00, 0x01, 0x09, 0x10,                   /* AUD */
    0x00, 0x00, 0x00, 0x01, 0x67, 0x64, 0x00, 0x1f, 0xac, /* SPS */
    0x00, 0x00, 0x00, 0x01, 0x68, 0xee, 0x3c, 0x80,       /* PPS */
    0x00, 0x00, 0x00, 0x01, 0x06, 0x05, 0x01, 0x80,       /* SEI */
    0x00, 0x00, 0x01, 0x65, 0x88, 0x84, 0x00, 0x33,       /* IDR slice */
};
/* AUD then a non-IDR slice (type 1). */
static const uint8_t h264_p[] = {
    0x00, 0x00, 0x00, 0x01, 0x09, 0x30,
    0x00, 0x00, 0x01, 0x41, 0x9a, 0x21, 0x6c,
};
/* H.265: AUD (35), VPS (32), SPS (33), PPS (34), then IDR_W_RADL (19). */
static const uint8_t hevc_idr[] = {
    0x00, 0x00, 0x00, 0x01, 0x46, 0x01, 0x10,
    0x00, 0x00, 0x00, 0x01, 0x40, 0x01, 0x0c, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x42, 0x01, 0x01, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x44, 0x01, 0xc1, 0x72,
    0x00, 0x00, 0x01, 0x26, 0x01, 0xaf, 0x1d,
};
/* H.265: prefix SEI (39), then CRA (21). */
static const uint8_t hevc_cra[] = {
    0x00, 0x00, 0x01, 0x4e, 0x01, 0x05, 0x10,
    0x00, 0x00, 0x01, 0x2a, 0x01, 0xaf, 0x1d,
};
/* H.265: AUD then TRAIL_R (1). */
static const uint8_t hevc_trail[] = {
    0x00, 0x00, 0x00, 0x01, 0x46, 0x01, 0x50,
    0x00, 0x00, 0x01, 0x02, 0x01, 0xd0, 0x1d,
};
/* MPEG-2 video: sequence header, GOP, picture header with
 * picture_coding_type in bits 5..3 of its second byte. */
#define MPEG2_STREAM(coding_type)                                         \
    {0x00, 0x00, 0x01, 0xb3, 0x2d, 0x02, 0x40, 0x33, 0x24, 0x9f, 0x23, 0x81, \
     0x00, 0x00, 0x01, 0xb8, 0x00, 0x08, 0x00, 0x40,                       \
     0x00, 0x00, 0x01, 0x00, 0x00, (uint8_t)((coding_type) << 3 | 0x07), 0xff, 0xf8}
static const uint8_t mpeg2_i[] = MPEG2_STREAM(1);
static const uint8_t mpeg2_p[] = MPEG2_STREAM(2);
static const uint8_t mpeg2_b[] = MPEG2_STREAM(3);

static int scan_whole(ts_video_codec_t codec, const uint8_t *data, size_t len)
{
    ts_es_scan_t scan;
    ts_es_scan_start(&scan, codec);
    return ts_es_scan_feed(&scan, data, len);
}

/* The verdict must not depend on where the bytes are cut. */
static void assert_same_at_every_split(ts_video_codec_t codec, const uint8_t *data, size_t len, int want)
{
    for (size_t split = 0; split <= len; split++) {
        ts_es_scan_t scan;
        ts_es_scan_start(&scan, codec);
        ts_es_scan_feed(&scan, data, split);
        assert_int_equal(ts_es_scan_feed(&scan, data + split, len - split), want);
    }
    ts_es_scan_t scan;
    ts_es_scan_start(&scan, codec);
    int verdict = -1;
    for (size_t i = 0; i < len; i++)
        verdict = ts_es_scan_feed(&scan, data + i, 1);
    assert_int_equal(verdict, want);
}

static void test_codec_from_stream_type(void **state)
{
    (void)state;
    assert_int_equal(ts_video_codec_from_stream_type(0x01), TS_VIDEO_MPEG2);
    assert_int_equal(ts_video_codec_from_stream_type(0x02), TS_VIDEO_MPEG2);
    assert_int_equal(ts_video_codec_from_stream_type(0x1b), TS_VIDEO_H264);
    assert_int_equal(ts_video_codec_from_stream_type(0x24), TS_VIDEO_HEVC);
    assert_int_equal(ts_video_codec_from_stream_type(0x0f), TS_VIDEO_NONE); /* AAC */
    assert_int_equal(ts_video_codec_from_stream_type(0x03), TS_VIDEO_NONE); /* MPEG audio */
    assert_int_equal(ts_video_codec_from_stream_type(0x06), TS_VIDEO_NONE); /* private data */
}

static void test_h264_idr_is_keyframe(void **state)
{
    (void)state;
    assert_int_equal(scan_whole(TS_VIDEO_H264, h264_idr, sizeof(h264_idr)), 1);
}

static void test_h264_non_idr_is_not_keyframe(void **state)
{
    (void)state;
    assert_int_equal(scan_whole(TS_VIDEO_H264, h264_p, sizeof(h264_p)), 0);
}

static void test_h264_parameter_sets_alone_are_undecided(void **state)
{
    (void)state;
    assert_int_equal(scan_whole(TS_VIDEO_H264, h264_idr, 30), -1);
}

static void test_hevc_irap_is_keyframe(void **state)
{
    (void)state;
    assert_int_equal(scan_whole(TS_VIDEO_HEVC, hevc_idr, sizeof(hevc_idr)), 1);
    assert_int_equal(scan_whole(TS_VIDEO_HEVC, hevc_cra, sizeof(hevc_cra)), 1);
}

static void test_hevc_trailing_picture_is_not_keyframe(void **state)
{
    (void)state;
    assert_int_equal(scan_whole(TS_VIDEO_HEVC, hevc_trail, sizeof(hevc_trail)), 0);
}

static void test_mpeg2_i_picture_is_keyframe(void **state)
{
    (void)state;
    assert_int_equal(scan_whole(TS_VIDEO_MPEG2, mpeg2_i, sizeof(mpeg2_i)), 1);
}

static void test_mpeg2_p_and_b_pictures_are_not(void **state)
{
    (void)state;
    assert_int_equal(scan_whole(TS_VIDEO_MPEG2, mpeg2_p, sizeof(mpeg2_p)), 0);
    assert_int_equal(scan_whole(TS_VIDEO_MPEG2, mpeg2_b, sizeof(mpeg2_b)), 0);
}

static void test_mpeg2_picture_header_cut_short_is_undecided(void **state)
{
    (void)state;
    assert_int_equal(scan_whole(TS_VIDEO_MPEG2, mpeg2_i, 25), -1);
}

static void test_start_code_split_across_feeds(void **state)
{
    (void)state;
    assert_same_at_every_split(TS_VIDEO_H264, h264_idr, sizeof(h264_idr), 1);
    assert_same_at_every_split(TS_VIDEO_H264, h264_p, sizeof(h264_p), 0);
    assert_same_at_every_split(TS_VIDEO_HEVC, hevc_idr, sizeof(hevc_idr), 1);
    assert_same_at_every_split(TS_VIDEO_HEVC, hevc_trail, sizeof(hevc_trail), 0);
    assert_same_at_every_split(TS_VIDEO_MPEG2, mpeg2_i, sizeof(mpeg2_i), 1);
    assert_same_at_every_split(TS_VIDEO_MPEG2, mpeg2_p, sizeof(mpeg2_p), 0);
}

static void test_verdict_is_final(void **state)
{
    (void)state;
    ts_es_scan_t scan;
    ts_es_scan_start(&scan, TS_VIDEO_H264);
    assert_int_equal(ts_es_scan_feed(&scan, h264_p, sizeof(h264_p)), 0);
    assert_int_equal(ts_es_scan_feed(&scan, h264_idr, sizeof(h264_idr)), 0);
}

static void test_restart_forgets_previous_bytes(void **state)
{
    (void)state;
    ts_es_scan_t scan;
    ts_es_scan_start(&scan, TS_VIDEO_H264);
    const uint8_t tail[] = {0x00, 0x00};
    ts_es_scan_feed(&scan, tail, sizeof(tail));
    ts_es_scan_start(&scan, TS_VIDEO_H264);
    const uint8_t next[] = {0x01, 0x65}; /* no start code once restarted */
    assert_int_equal(ts_es_scan_feed(&scan, next, sizeof(next)), -1);
}

static void test_no_codec_is_never_keyframe(void **state)
{
    (void)state;
    assert_int_equal(scan_whole(TS_VIDEO_NONE, h264_idr, sizeof(h264_idr)), 0);
}

static void test_gives_up_after_scan_limit(void **state)
{
    (void)state;
    static uint8_t junk[64 * 1024];
    memset(junk, 0xab, sizeof(junk));
    ts_es_scan_t scan;
    ts_es_scan_start(&scan, TS_VIDEO_H264);
    int verdict = -1;
    for (int i = 0; i < 8 && verdict < 0; i++)
        verdict = ts_es_scan_feed(&scan, junk, sizeof(junk));
    assert_int_equal(verdict, -1); /* 512 KiB: still looking */
    assert_int_equal(ts_es_scan_feed(&scan, junk, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_from_stream_type),
        cmocka_unit_test(test_h264_idr_is_keyframe),
        cmocka_unit_test(test_h264_non_idr_is_not_keyframe),
        cmocka_unit_test(test_h264_parameter_sets_alone_are_undecided),
        cmocka_unit_test(test_hevc_irap_is_keyframe),
        cmocka_unit_test(test_hevc_trailing_picture_is_not_keyframe),
        cmocka_unit_test(test_mpeg2_i_picture_is_keyframe),
        cmocka_unit_test(test_mpeg2_p_and_b_pictures_are_not),
        cmocka_unit_test(test_mpeg2_picture_header_cut_short_is_undecided),
        cmocka_unit_test(test_start_code_split_across_feeds),
        cmocka_unit_test(test_verdict_is_final),
        cmocka_unit_test(test_restart_forgets_previous_bytes),
        cmocka_unit_test(test_no_codec_is_never_keyframe),
        cmocka_unit_test(test_gives_up_after_scan_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
