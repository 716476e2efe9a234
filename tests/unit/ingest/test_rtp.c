// SPDX-License-Identifier: MIT
// test_rtp.c -- tests for src/ingest/rtp.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ingest/ingest.h"

/* An RTP datagram: fixed header with csrc_count CSRCs, an optional
 * extension of ext_words 32-bit words, 7 TS packets, and padding. */
static size_t rtp_build(uint8_t *out, unsigned csrc_count, int ext_words, uint8_t padding, uint16_t seq)
{
    size_t off = 0;
    out[off++] = (uint8_t)(0x80 | (padding ? 0x20 : 0) | (ext_words >= 0 ? 0x10 : 0) | csrc_count);
    out[off++] = 33; /* MP2T */
    out[off++] = (uint8_t)(seq >> 8);
    out[off++] = (uint8_t)seq;
    memset(out + off, 0x11, 8); /* timestamp, SSRC */
    off += 8;
    memset(out + off, 0x22, 4u * csrc_count);
    off += 4u * csrc_count;
    if (ext_words >= 0) {
        out[off++] = 0xbe;
        out[off++] = 0xde;
        out[off++] = (uint8_t)(ext_words >> 8);
        out[off++] = (uint8_t)ext_words;
        memset(out + off, 0x33, 4u * (unsigned)ext_words);
        off += 4u * (unsigned)ext_words;
    }
    for (int i = 0; i < 7; i++) {
        memset(out + off, 0x00, 188);
        out[off] = 0x47;
        off += 188;
    }
    if (padding) {
        memset(out + off, 0, padding);
        off += padding;
        out[off - 1] = padding;
    }
    return off;
}

static uint8_t dgram[2048];

static void test_plain_header_is_12_bytes(void **state)
{
    (void)state;
    size_t len = rtp_build(dgram, 0, -1, 0, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, len), 12);
}

static void test_csrc_list_is_skipped(void **state)
{
    (void)state;
    size_t len = rtp_build(dgram, 3, -1, 0, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, len), 12 + 12);
    len = rtp_build(dgram, 15, -1, 0, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, len), 12 + 60);
}

static void test_extension_is_skipped(void **state)
{
    (void)state;
    size_t len = rtp_build(dgram, 0, 2, 0, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, len), 12 + 4 + 8);
    len = rtp_build(dgram, 0, 0, 0, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, len), 12 + 4);
}

static void test_csrc_and_extension_together(void **state)
{
    (void)state;
    size_t len = rtp_build(dgram, 2, 1, 0, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, len), 12 + 8 + 4 + 4);
}

static void test_padding_is_allowed(void **state)
{
    (void)state;
    size_t len = rtp_build(dgram, 1, 1, 4, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, len), 12 + 4 + 4 + 4);
}

static void test_padding_longer_than_datagram_is_not_rtp(void **state)
{
    (void)state;
    uint8_t small[20] = {0xa0, 33, 0, 1}; /* version 2, padding bit */
    small[12] = 0x47;
    small[19] = 9; /* 12 + 9 > 20 */
    assert_int_equal(ingest_rtp_header_len(small, sizeof(small)), -1);
}

static void test_not_rtp(void **state)
{
    (void)state;
    size_t len = rtp_build(dgram, 0, -1, 0, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, 11), -1); /* too short */
    dgram[0] = 0x47;                                         /* raw TS: version 1 */
    assert_int_equal(ingest_rtp_header_len(dgram, len), -1);
    dgram[0] = 0x40; /* version 1 */
    assert_int_equal(ingest_rtp_header_len(dgram, len), -1);
    rtp_build(dgram, 0, -1, 0, 1);
    dgram[12] = 0x00; /* payload is not TS */
    assert_int_equal(ingest_rtp_header_len(dgram, len), -1);
}

static void test_truncated_extension_is_not_rtp(void **state)
{
    (void)state;
    rtp_build(dgram, 0, 2, 0, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, 14), -1); /* extension header cut */
    dgram[14] = 0x10; /* 4096 words: past the end */
    assert_int_equal(ingest_rtp_header_len(dgram, 24 + 188), -1);
}

static void test_header_only_datagram(void **state)
{
    (void)state;
    rtp_build(dgram, 0, -1, 0, 1);
    assert_int_equal(ingest_rtp_header_len(dgram, 12), 12);
}

static unsigned track(ingest_rtp_seq_t *seq, uint16_t number)
{
    uint8_t h[12] = {0x80, 33, (uint8_t)(number >> 8), (uint8_t)number};
    return ingest_rtp_track(seq, h);
}

static void test_first_and_in_order_packets_lose_nothing(void **state)
{
    (void)state;
    ingest_rtp_seq_t seq = {0};
    assert_int_equal(track(&seq, 1000), 0);
    for (uint16_t n = 1001; n < 1100; n++)
        assert_int_equal(track(&seq, n), 0);
}

static void test_gap_counts_missing_packets(void **state)
{
    (void)state;
    ingest_rtp_seq_t seq = {0};
    track(&seq, 10);
    assert_int_equal(track(&seq, 11), 0);
    assert_int_equal(track(&seq, 14), 2);
    assert_int_equal(track(&seq, 15), 0);
}

static void test_wrap_at_65535(void **state)
{
    (void)state;
    ingest_rtp_seq_t seq = {0};
    track(&seq, 65534);
    assert_int_equal(track(&seq, 65535), 0);
    assert_int_equal(track(&seq, 0), 0);
    assert_int_equal(track(&seq, 1), 0);
    ingest_rtp_seq_t seq2 = {0};
    track(&seq2, 65534);
    assert_int_equal(track(&seq2, 2), 3); /* 65535, 0 and 1 lost */
}

static void test_duplicate_and_late_packets_are_not_losses(void **state)
{
    (void)state;
    ingest_rtp_seq_t seq = {0};
    track(&seq, 100);
    assert_int_equal(track(&seq, 100), 0);
    assert_int_equal(track(&seq, 102), 1);
    assert_int_equal(track(&seq, 101), 0); /* late */
    assert_int_equal(track(&seq, 103), 0); /* still in order after it */
}

static void test_restarted_sender_is_not_thousands_of_losses(void **state)
{
    (void)state;
    ingest_rtp_seq_t seq = {0};
    track(&seq, 100);
    assert_int_equal(track(&seq, 5000), 0);
    assert_int_equal(track(&seq, 5001), 0);
    assert_int_equal(track(&seq, 5001 + 999), 998); /* largest gap still counted */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_header_is_12_bytes),
        cmocka_unit_test(test_csrc_list_is_skipped),
        cmocka_unit_test(test_extension_is_skipped),
        cmocka_unit_test(test_csrc_and_extension_together),
        cmocka_unit_test(test_padding_is_allowed),
        cmocka_unit_test(test_padding_longer_than_datagram_is_not_rtp),
        cmocka_unit_test(test_not_rtp),
        cmocka_unit_test(test_truncated_extension_is_not_rtp),
        cmocka_unit_test(test_header_only_datagram),
        cmocka_unit_test(test_first_and_in_order_packets_lose_nothing),
        cmocka_unit_test(test_gap_counts_missing_packets),
        cmocka_unit_test(test_wrap_at_65535),
        cmocka_unit_test(test_duplicate_and_late_packets_are_not_losses),
        cmocka_unit_test(test_restarted_sender_is_not_thousands_of_losses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
