// SPDX-License-Identifier: MIT
// test_demux.c -- tests for src/ts/demux.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ts/ts.h"
#include "ts_build.h"

/* A two-program multiplex:
 *   program 1: PMT 0x100, video H.264 0x101 (also PCR), audio 0x102
 *   program 2: PMT 0x200, video H.264 0x201 (also PCR), audio 0x202 */
#define TSID 0x0042
#define PAT_VERSION 3

static uint8_t cc_of[TS_PID_COUNT];

static void pat_packet(uint8_t *pkt)
{
    static const tb_program_t programs[] = {{1, 0x100}, {2, 0x200}};
    uint8_t s[64];
    size_t len = tb_pat(s, TSID, PAT_VERSION, programs, 2);
    tb_section_packet(pkt, 0, cc_of[0]++, s, len);
}

static void pmt_packet(uint8_t *pkt, uint16_t program, uint8_t version, uint8_t video_type)
{
    uint16_t base = (uint16_t)(program * 0x100);
    tb_es_t es[] = {{video_type, (uint16_t)(base + 1)}, {0x0f, (uint16_t)(base + 2)}};
    uint8_t s[64];
    size_t len = tb_pmt(s, program, version, (uint16_t)(base + 1), es, 2);
    tb_section_packet(pkt, base, cc_of[base]++, s, len);
}

static ts_packet_info_t feed(ts_demux_t *d, const uint8_t *pkt)
{
    ts_packet_info_t info;
    memset(&info, 0xa5, sizeof(info));
    ts_demux_packet(d, pkt, &info);
    return info;
}

static ts_packet_info_t feed_plain(ts_demux_t *d, uint16_t pid, bool pusi)
{
    uint8_t pkt[TB_PKT];
    tb_packet(pkt, pid, pusi, cc_of[pid]++, 0x00);
    return feed(d, pkt);
}

/* The demux after the PAT and the PMT of `program` (or of program 1). */
static ts_demux_t *demux_with_psi(uint16_t program)
{
    memset(cc_of, 0, sizeof(cc_of));
    ts_demux_t *d = ts_demux_new(program);
    assert_non_null(d);
    uint8_t pkt[TB_PKT];
    pat_packet(pkt);
    feed(d, pkt);
    pmt_packet(pkt, program ? program : 1, 0, 0x1b);
    feed(d, pkt);
    assert_true(ts_demux_has_pmt(d));
    return d;
}

static void test_selected_program_pat_is_rewritten_to_one_program(void **state)
{
    (void)state;
    memset(cc_of, 0, sizeof(cc_of));
    ts_demux_t *d = ts_demux_new(2);
    uint8_t pkt[TB_PKT];
    pat_packet(pkt);
    ts_packet_info_t info = feed(d, pkt);
    assert_false(info.drop);
    assert_true(info.psi);
    assert_non_null(info.replaced);
    assert_true(ts_demux_program_found(d));

    const uint8_t *r = info.replaced;
    assert_int_equal(r[0], 0x47);
    assert_int_equal(r[1], 0x40); /* payload_unit_start, PID 0 */
    assert_int_equal(r[2], 0x00);
    assert_int_equal(r[3] & 0x30, 0x10);
    assert_int_equal(r[4], 0); /* pointer_field */
    const uint8_t *s = r + 5;
    size_t len = tb_section_size(s);
    assert_int_equal(len, 16); /* header 8 + one program 4 + CRC 4 */
    assert_int_equal(s[0], 0x00);
    assert_true(s[1] & 0x80);
    assert_int_equal((s[3] << 8) | s[4], TSID);
    assert_int_equal((s[5] >> 1) & 0x1f, PAT_VERSION);
    assert_int_equal(s[5] & 0x01, 1); /* current_next_indicator */
    assert_int_equal((s[8] << 8) | s[9], 2);
    assert_int_equal(((s[10] & 0x1f) << 8) | s[11], 0x200);
    assert_int_equal(tb_crc32(s, len), 0); /* CRC over data and CRC_32 is 0 */
    for (size_t i = 5 + len; i < TB_PKT; i++)
        assert_int_equal(r[i], 0xff);
    ts_demux_free(d);
}

static void test_rewritten_pat_has_its_own_continuity(void **state)
{
    (void)state;
    memset(cc_of, 0, sizeof(cc_of));
    ts_demux_t *d = ts_demux_new(1);
    uint8_t pkt[TB_PKT];
    cc_of[0] = 9;
    for (int i = 0; i < 20; i++) {
        pat_packet(pkt);
        ts_packet_info_t info = feed(d, pkt);
        assert_non_null(info.replaced);
        assert_int_equal(info.replaced[3] & 0x0f, i & 0x0f);
    }
    ts_demux_free(d);
}

static void test_selected_program_drops_other_pids(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(2);
    uint8_t pkt[TB_PKT];
    pmt_packet(pkt, 2, 0, 0x1b);
    ts_packet_info_t info = feed(d, pkt);
    assert_false(info.drop);
    assert_true(info.psi);
    pmt_packet(pkt, 1, 0, 0x1b);
    assert_true(feed(d, pkt).drop); /* the other program's PMT */
    assert_false(feed_plain(d, 0x201, false).drop);
    assert_false(feed_plain(d, 0x202, false).drop);
    assert_true(feed_plain(d, 0x101, false).drop);
    assert_true(feed_plain(d, 0x102, false).drop);
    assert_true(feed_plain(d, 0x0555, false).drop);
    assert_true(feed_plain(d, 0x0011, false).drop); /* SDT is not rewritten: dropped */
    assert_true(feed_plain(d, TS_PID_NULL, false).drop);
    assert_int_equal(ts_demux_video_pid(d), 0x201);
    assert_int_equal(ts_demux_video_codec(d), TS_VIDEO_H264);
    ts_demux_free(d);
}

static void test_pat_continuation_dropped_when_selecting(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    tb_packet(pkt, 0, false, cc_of[0]++, 0xff);
    ts_packet_info_t info = feed(d, pkt);
    assert_true(info.drop);
    assert_null(info.replaced);
    ts_demux_free(d);
}

static void test_program_zero_keeps_every_pid(void **state)
{
    (void)state;
    memset(cc_of, 0, sizeof(cc_of));
    ts_demux_t *d = ts_demux_new(0);
    uint8_t pkt[TB_PKT];
    pat_packet(pkt);
    ts_packet_info_t info = feed(d, pkt);
    assert_false(info.drop);
    assert_null(info.replaced);
    assert_true(info.psi);
    pmt_packet(pkt, 1, 0, 0x1b);
    assert_false(feed(d, pkt).drop);
    pmt_packet(pkt, 2, 0, 0x1b);
    assert_false(feed(d, pkt).drop);
    assert_false(feed_plain(d, 0x202, false).drop);
    assert_false(feed_plain(d, 0x0555, false).drop);
    assert_true(feed_plain(d, TS_PID_NULL, false).drop);
    assert_true(ts_demux_program_found(d));
    assert_int_equal(ts_demux_video_pid(d), 0x101); /* the lowest program's video */
    ts_demux_free(d);
}

static void test_absent_program_is_not_found(void **state)
{
    (void)state;
    memset(cc_of, 0, sizeof(cc_of));
    ts_demux_t *d = ts_demux_new(3);
    uint8_t pkt[TB_PKT];
    pat_packet(pkt);
    ts_packet_info_t info = feed(d, pkt);
    assert_false(ts_demux_program_found(d));
    assert_false(ts_demux_has_pmt(d));
    assert_null(info.replaced);
    assert_true(info.drop);
    ts_demux_free(d);
}

static void test_cc_errors_count_a_dropped_packet_once(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    for (int i = 0; i < 40; i++)
        feed_plain(d, 0x102, false);
    assert_int_equal(ts_demux_stats(d)->cc_errors, 0);
    cc_of[0x102]++; /* one packet lost */
    for (int i = 0; i < 10; i++)
        feed_plain(d, 0x102, false);
    assert_int_equal(ts_demux_stats(d)->cc_errors, 1);
    cc_of[0x102] += 5; /* five lost in a row: one discontinuity */
    feed_plain(d, 0x102, false);
    assert_int_equal(ts_demux_stats(d)->cc_errors, 2);
    ts_demux_free(d);
}

static void test_cc_is_tracked_per_pid(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(0);
    for (int i = 0; i < 20; i++) {
        feed_plain(d, 0x101, false);
        feed_plain(d, 0x102, false);
        feed_plain(d, 0x202, false);
    }
    assert_int_equal(ts_demux_stats(d)->cc_errors, 0);
    ts_demux_free(d);
}

static void test_cc_duplicate_is_not_an_error(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    feed_plain(d, 0x102, false);
    cc_of[0x102]--; /* sent twice (13818-1 2.4.3.3 allows one duplicate) */
    feed_plain(d, 0x102, false);
    feed_plain(d, 0x102, false);
    assert_int_equal(ts_demux_stats(d)->cc_errors, 0);
    ts_demux_free(d);
}

static void test_cc_not_advanced_by_adaptation_only_packet(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    feed_plain(d, 0x101, false);
    tb_packet_af(pkt, 0x101, false, (uint8_t)(cc_of[0x101] - 1), 183, TB_AF_PCR, false, 1000, 0, 0);
    feed(d, pkt);
    feed_plain(d, 0x101, false);
    assert_int_equal(ts_demux_stats(d)->cc_errors, 0);
    ts_demux_free(d);
}

static void test_cc_jump_with_discontinuity_indicator_is_not_an_error(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    feed_plain(d, 0x102, false);
    tb_packet_af(pkt, 0x102, false, 9, 1, TB_AF_DISCONTINUITY, true, 0, 0, 0);
    feed(d, pkt);
    cc_of[0x102] = 10;
    feed_plain(d, 0x102, false);
    assert_int_equal(ts_demux_stats(d)->cc_errors, 0);
    ts_demux_free(d);
}

static void test_random_access_indicator_marks_keyframe(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    size_t at = tb_packet_af(pkt, 0x101, true, cc_of[0x101]++, 1, TB_AF_RAI, true, 0, 0, 0xff);
    tb_pes_header(pkt + at);
    ts_packet_info_t info = feed(d, pkt);
    assert_true(info.video_pes_start);
    assert_true(info.keyframe_decided);
    assert_int_equal(ts_demux_stats(d)->keyframes, 1);
    ts_demux_free(d);
}

/* A video PES start without RAI: PES header, AUD, SPS, PPS; the picture
 * comes in the next packet. */
static void video_start_without_rai(ts_demux_t *d, uint16_t pid, ts_packet_info_t *info)
{
    static const uint8_t params[] = {0x00, 0x00, 0x00, 0x01, 0x09, 0x10, 0x00, 0x00, 0x00, 0x01,
                                     0x67, 0x64, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x01, 0x68, 0xee};
    uint8_t pkt[TB_PKT];
    size_t at = tb_packet(pkt, pid, true, cc_of[pid]++, 0xff);
    at += tb_pes_header(pkt + at);
    memcpy(pkt + at, params, sizeof(params));
    *info = feed(d, pkt);
}

static ts_packet_info_t video_next(ts_demux_t *d, uint16_t pid, const uint8_t *bytes, size_t len)
{
    uint8_t pkt[TB_PKT];
    tb_packet(pkt, pid, false, cc_of[pid]++, 0xff);
    memcpy(pkt + 4, bytes, len);
    return feed(d, pkt);
}

static void test_keyframe_found_by_es_scan_without_rai(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    ts_packet_info_t info;
    video_start_without_rai(d, 0x101, &info);
    assert_true(info.video_pes_start);
    assert_false(info.keyframe_decided);
    static const uint8_t idr[] = {0x00, 0x00, 0x01, 0x65, 0x88, 0x84};
    info = video_next(d, 0x101, idr, sizeof(idr));
    assert_false(info.video_pes_start);
    assert_true(info.keyframe_decided);
    assert_int_equal(ts_demux_stats(d)->keyframes, 1);
    /* Decided once: later packets of the same PES say nothing more. */
    info = video_next(d, 0x101, idr, sizeof(idr));
    assert_false(info.keyframe_decided);
    assert_int_equal(ts_demux_stats(d)->keyframes, 1);
    ts_demux_free(d);
}

static void test_start_code_split_between_packets(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    size_t at = tb_packet(pkt, 0x101, true, cc_of[0x101]++, 0xff);
    tb_pes_header(pkt + at);
    pkt[TB_PKT - 2] = 0x00;
    pkt[TB_PKT - 1] = 0x00;
    ts_packet_info_t info = feed(d, pkt);
    assert_false(info.keyframe_decided);
    static const uint8_t rest[] = {0x01, 0x65, 0x88};
    info = video_next(d, 0x101, rest, sizeof(rest));
    assert_true(info.keyframe_decided);
    ts_demux_free(d);
}

static void test_non_idr_picture_is_not_a_keyframe(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    ts_packet_info_t info;
    video_start_without_rai(d, 0x101, &info);
    static const uint8_t slice[] = {0x00, 0x00, 0x01, 0x41, 0x9a};
    info = video_next(d, 0x101, slice, sizeof(slice));
    assert_false(info.keyframe_decided);
    assert_int_equal(ts_demux_stats(d)->keyframes, 0);
    ts_demux_free(d);
}

static void test_pes_start_on_audio_is_not_video(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    size_t at = tb_packet_af(pkt, 0x102, true, cc_of[0x102]++, 1, TB_AF_RAI, true, 0, 0, 0xff);
    tb_pes_header(pkt + at);
    ts_packet_info_t info = feed(d, pkt);
    assert_false(info.video_pes_start);
    assert_false(info.keyframe_decided);
    assert_int_equal(ts_demux_stats(d)->keyframes, 0);
    ts_demux_free(d);
}

static void test_pcr_is_read_from_pcr_pid(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    uint64_t base = 0x1abcdef01ull; /* 33 bits */
    tb_packet_af(pkt, 0x101, false, cc_of[0x101]++, 7, TB_AF_PCR, true, base, 123, 0xff);
    ts_packet_info_t info = feed(d, pkt);
    assert_true(info.has_pcr);
    assert_true(info.pcr == base * 300 + 123);
    tb_packet_af(pkt, 0x102, false, cc_of[0x102]++, 7, TB_AF_PCR, true, base, 0, 0xff);
    assert_false(feed(d, pkt).has_pcr); /* not the program's PCR PID */
    ts_demux_free(d);
}

static void test_transport_error_is_counted_and_dropped(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    tb_packet(pkt, 0x101, false, cc_of[0x101]++, 0);
    pkt[1] |= 0x80;
    assert_true(feed(d, pkt).drop);
    assert_int_equal(ts_demux_stats(d)->transport_errors, 1);
    ts_demux_free(d);
}

static void test_impossible_adaptation_length_is_a_transport_error(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(0);
    uint8_t pkt[TB_PKT];
    tb_packet_af(pkt, 0x101, false, cc_of[0x101]++, 1, 0, true, 0, 0, 0);
    pkt[4] = 184;
    assert_true(feed(d, pkt).drop);
    assert_int_equal(ts_demux_stats(d)->transport_errors, 1);
    ts_demux_free(d);
}

static void test_scrambled_packets_are_counted(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    tb_packet(pkt, 0x102, false, cc_of[0x102]++, 0);
    pkt[3] |= 0x80; /* transport_scrambling_control = 10 */
    feed(d, pkt);
    assert_int_equal(ts_demux_stats(d)->scrambled, 1);
    ts_demux_free(d);
}

static void test_bad_pat_crc_counts_psi_error(void **state)
{
    (void)state;
    memset(cc_of, 0, sizeof(cc_of));
    ts_demux_t *d = ts_demux_new(1);
    uint8_t pkt[TB_PKT];
    pat_packet(pkt);
    pkt[5 + 12] ^= 0xff; /* a program entry: the CRC no longer matches */
    feed(d, pkt);
    assert_int_equal(ts_demux_stats(d)->psi_errors, 1);
    assert_false(ts_demux_program_found(d));
    ts_demux_free(d);
}

static void test_pmt_update_changes_video_pid_and_codec(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    uint8_t pkt[TB_PKT];
    pmt_packet(pkt, 1, 1, 0x24);
    feed(d, pkt);
    assert_int_equal(ts_demux_video_codec(d), TS_VIDEO_HEVC);
    pmt_packet(pkt, 1, 2, 0x03); /* MPEG audio only: no video any more */
    feed(d, pkt);
    assert_int_equal(ts_demux_video_codec(d), TS_VIDEO_NONE);
    assert_int_equal(ts_demux_video_pid(d), TS_PID_NULL);
    ts_demux_free(d);
}

static void test_reset_forgets_the_stream(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(2);
    feed_plain(d, 0x201, false);
    ts_demux_reset(d);
    assert_false(ts_demux_has_pmt(d));
    assert_int_equal(ts_demux_video_pid(d), TS_PID_NULL);
    assert_int_equal(ts_demux_stats(d)->packets, 0);
    assert_true(feed_plain(d, 0x201, false).drop); /* unknown until the PAT/PMT again */
    uint8_t pkt[TB_PKT];
    pat_packet(pkt);
    assert_non_null(feed(d, pkt).replaced); /* still program 2 */
    ts_demux_free(d);
}

static void test_stats_count_every_packet(void **state)
{
    (void)state;
    ts_demux_t *d = demux_with_psi(1);
    for (int i = 0; i < 5; i++)
        feed_plain(d, TS_PID_NULL, false);
    assert_int_equal(ts_demux_stats(d)->packets, 7);
    ts_demux_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selected_program_pat_is_rewritten_to_one_program),
        cmocka_unit_test(test_rewritten_pat_has_its_own_continuity),
        cmocka_unit_test(test_selected_program_drops_other_pids),
        cmocka_unit_test(test_pat_continuation_dropped_when_selecting),
        cmocka_unit_test(test_program_zero_keeps_every_pid),
        cmocka_unit_test(test_absent_program_is_not_found),
        cmocka_unit_test(test_cc_errors_count_a_dropped_packet_once),
        cmocka_unit_test(test_cc_is_tracked_per_pid),
        cmocka_unit_test(test_cc_duplicate_is_not_an_error),
        cmocka_unit_test(test_cc_not_advanced_by_adaptation_only_packet),
        cmocka_unit_test(test_cc_jump_with_discontinuity_indicator_is_not_an_error),
        cmocka_unit_test(test_random_access_indicator_marks_keyframe),
        cmocka_unit_test(test_keyframe_found_by_es_scan_without_rai),
        cmocka_unit_test(test_start_code_split_between_packets),
        cmocka_unit_test(test_non_idr_picture_is_not_a_keyframe),
        cmocka_unit_test(test_pes_start_on_audio_is_not_video),
        cmocka_unit_test(test_pcr_is_read_from_pcr_pid),
        cmocka_unit_test(test_transport_error_is_counted_and_dropped),
        cmocka_unit_test(test_impossible_adaptation_length_is_a_transport_error),
        cmocka_unit_test(test_scrambled_packets_are_counted),
        cmocka_unit_test(test_bad_pat_crc_counts_psi_error),
        cmocka_unit_test(test_pmt_update_changes_video_pid_and_codec),
        cmocka_unit_test(test_reset_forgets_the_stream),
        cmocka_unit_test(test_stats_count_every_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
