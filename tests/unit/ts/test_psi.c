// SPDX-License-Identifier: MIT
// test_psi.c -- tests for src/ts/psi.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ts/ts.h"
#include "ts_build.h"

/* The sections a push delivered. */
typedef struct sections {
    uint8_t data[8][TS_SECTION_MAX];
    size_t len[8];
    size_t count;
} sections_t;

static void on_section(void *opaque, const uint8_t *section, size_t len)
{
    sections_t *s = opaque;
    assert_true(s->count < 8);
    assert_true(len <= TS_SECTION_MAX);
    memcpy(s->data[s->count], section, len);
    s->len[s->count++] = len;
}

static sections_t got;
static ts_section_buf_t buf;

static int setup(void **state)
{
    (void)state;
    memset(&got, 0, sizeof(got));
    ts_section_buf_reset(&buf);
    return 0;
}

static size_t sample_pat(uint8_t *s)
{
    static const tb_program_t programs[] = {{1, 0x100}, {2, 0x200}};
    return tb_pat(s, 0x1234, 3, programs, 2);
}

/* A PMT of n audio streams: 12 + 5n + 4 bytes. */
static size_t big_pmt(uint8_t *s, size_t n)
{
    tb_es_t es[200];
    for (size_t i = 0; i < n; i++)
        es[i] = (tb_es_t){0x0f, (uint16_t)(0x300 + i)};
    return tb_pmt(s, 7, 0, 0x300, es, n);
}

/* Spreads one section over packets starting with pointer_field 0. Returns
 * the packet count. */
static size_t spread(const uint8_t *s, size_t len, uint16_t pid, uint8_t *packets)
{
    size_t n = 0, off = 0;
    while (off < len) {
        uint8_t *pkt = packets + n * TB_PKT;
        size_t at = tb_packet(pkt, pid, n == 0, (uint8_t)n, 0xff);
        if (n == 0)
            pkt[at++] = 0;
        size_t take = len - off < TB_PKT - at ? len - off : TB_PKT - at;
        memcpy(pkt + at, s + off, take);
        off += take;
        n++;
    }
    return n;
}

static void test_single_packet_section_is_delivered(void **state)
{
    (void)state;
    uint8_t s[64], pkt[TB_PKT];
    size_t len = sample_pat(s);
    tb_section_packet(pkt, 0, 0, s, len);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 0);
    assert_int_equal(got.count, 1);
    assert_int_equal(got.len[0], len);
    assert_memory_equal(got.data[0], s, len);
}

static void test_section_reassembled_across_packets(void **state)
{
    (void)state;
    static uint8_t s[TS_SECTION_MAX], pkts[8 * TB_PKT];
    size_t len = big_pmt(s, 100); /* 516 bytes: three packets */
    size_t n = spread(s, len, 0x100, pkts);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got.count, 0);
        assert_int_equal(ts_section_push(&buf, pkts + i * TB_PKT, on_section, &got), 0);
    }
    assert_int_equal(got.count, 1);
    assert_int_equal(got.len[0], len);
    assert_memory_equal(got.data[0], s, len);
}

static void test_pointer_field_finishes_previous_section_then_starts_next(void **state)
{
    (void)state;
    static uint8_t big[TS_SECTION_MAX], small[64], pkts[4 * TB_PKT];
    size_t big_len = big_pmt(big, 40); /* 216 bytes */
    size_t small_len = sample_pat(small);
    uint8_t *p1 = pkts, *p2 = pkts + TB_PKT;
    size_t first = TB_PKT - 5;
    tb_packet(p1, 0x100, true, 0, 0xff);
    p1[4] = 0;
    memcpy(p1 + 5, big, first);
    size_t rest = big_len - first;
    tb_packet(p2, 0x100, true, 1, 0xff);
    p2[4] = (uint8_t)rest; /* pointer_field: bytes that end the previous section */
    memcpy(p2 + 5, big + first, rest);
    memcpy(p2 + 5 + rest, small, small_len);
    assert_int_equal(ts_section_push(&buf, p1, on_section, &got), 0);
    assert_int_equal(got.count, 0);
    assert_int_equal(ts_section_push(&buf, p2, on_section, &got), 0);
    assert_int_equal(got.count, 2);
    assert_memory_equal(got.data[0], big, big_len);
    assert_int_equal(got.len[1], small_len);
    assert_memory_equal(got.data[1], small, small_len);
}

static void test_pointer_field_skips_bytes_of_unknown_section(void **state)
{
    (void)state;
    uint8_t s[64], pkt[TB_PKT];
    size_t len = sample_pat(s);
    tb_packet(pkt, 0, true, 0, 0xff);
    pkt[4] = 10; /* the tail of a section we never saw the start of */
    memset(pkt + 5, 0x33, 10);
    memcpy(pkt + 15, s, len);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 0);
    assert_int_equal(got.count, 1);
    assert_memory_equal(got.data[0], s, len);
}

static void test_two_sections_in_one_packet(void **state)
{
    (void)state;
    uint8_t s[64], pkt[TB_PKT];
    size_t len = sample_pat(s);
    tb_packet(pkt, 0, true, 0, 0xff);
    pkt[4] = 0;
    memcpy(pkt + 5, s, len);
    memcpy(pkt + 5 + len, s, len);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 0);
    assert_int_equal(got.count, 2);
}

static void test_bad_crc_is_rejected(void **state)
{
    (void)state;
    uint8_t s[64], pkt[TB_PKT];
    size_t len = sample_pat(s);
    s[len - 1] ^= 0x01;
    tb_section_packet(pkt, 0, 0, s, len);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 1);
    assert_int_equal(got.count, 0);
}

static void test_corrupt_body_is_rejected_by_crc(void **state)
{
    (void)state;
    uint8_t s[64], pkt[TB_PKT];
    size_t len = sample_pat(s);
    s[9] ^= 0x40; /* program number, CRC left as it was */
    tb_section_packet(pkt, 0, 0, s, len);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 1);
    assert_int_equal(got.count, 0);
}

static void test_section_length_over_limit_is_rejected(void **state)
{
    (void)state;
    uint8_t pkt[TB_PKT];
    tb_packet(pkt, 0x100, true, 0, 0xff);
    pkt[4] = 0;
    pkt[5] = 0x02;
    pkt[6] = 0xbf; /* section_length 4095: 4098 bytes in all */
    pkt[7] = 0xff;
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 1);
    assert_int_equal(got.count, 0);
}

static void test_long_section_too_short_for_crc_is_rejected(void **state)
{
    (void)state;
    uint8_t pkt[TB_PKT];
    tb_packet(pkt, 0x100, true, 0, 0xff);
    pkt[4] = 0;
    pkt[5] = 0x02;
    pkt[6] = 0xb0;
    pkt[7] = 0x05; /* 8 bytes: syntax header with no room for a CRC */
    memset(pkt + 8, 0, 5);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 1);
    assert_int_equal(got.count, 0);
}

static void test_pointer_field_past_packet_end_is_an_error(void **state)
{
    (void)state;
    uint8_t pkt[TB_PKT];
    tb_packet(pkt, 0, true, 0, 0xff);
    pkt[4] = 184; /* one more than the 183 bytes after it */
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 1);
    assert_int_equal(got.count, 0);
}

static void test_short_form_section_has_no_crc_check(void **state)
{
    (void)state;
    uint8_t pkt[TB_PKT];
    const uint8_t s[] = {0x72, 0x70, 0x03, 0xaa, 0xbb, 0xcc}; /* stuffing table, syntax 0 */
    tb_section_packet(pkt, 0x14, 0, s, sizeof(s));
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 0);
    assert_int_equal(got.count, 1);
    assert_memory_equal(got.data[0], s, sizeof(s));
}

static void test_continuation_without_start_is_ignored(void **state)
{
    (void)state;
    uint8_t pkt[TB_PKT];
    tb_packet(pkt, 0x100, false, 0, 0x12);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 0);
    assert_int_equal(got.count, 0);
}

static void test_section_cut_short_by_new_start_is_an_error(void **state)
{
    (void)state;
    static uint8_t big[TS_SECTION_MAX], pkts[4 * TB_PKT];
    uint8_t small[64], pkt[TB_PKT];
    size_t big_len = big_pmt(big, 100);
    spread(big, big_len, 0x100, pkts);
    size_t small_len = sample_pat(small);
    tb_section_packet(pkt, 0x100, 1, small, small_len); /* pointer 0: the old one is dropped */
    assert_int_equal(ts_section_push(&buf, pkts, on_section, &got), 0);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 1);
    assert_int_equal(got.count, 1);
    assert_memory_equal(got.data[0], small, small_len);
}

static void test_packet_without_payload_is_ignored(void **state)
{
    (void)state;
    uint8_t pkt[TB_PKT];
    tb_packet_af(pkt, 0, true, 0, 183, 0, false, 0, 0, 0xff);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 0);
    assert_int_equal(got.count, 0);
}

static void test_section_after_adaptation_field(void **state)
{
    (void)state;
    uint8_t s[64], pkt[TB_PKT];
    size_t len = sample_pat(s);
    size_t at = tb_packet_af(pkt, 0, true, 0, 20, 0, true, 0, 0, 0xff);
    pkt[at] = 0;
    memcpy(pkt + at + 1, s, len);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 0);
    assert_int_equal(got.count, 1);
    assert_memory_equal(got.data[0], s, len);
}

static void test_section_header_split_across_packets(void **state)
{
    (void)state;
    static uint8_t big[TS_SECTION_MAX];
    uint8_t p1[TB_PKT], p2[TB_PKT];
    size_t len = big_pmt(big, 30);
    /* The first packet ends two bytes into the section: its length is unknown. */
    size_t at = tb_packet_af(p1, 0x100, true, 0, 180, 0, true, 0, 0, 0xff);
    assert_int_equal(at, 185);
    p1[at] = 0;
    memcpy(p1 + at + 1, big, 2);
    tb_packet(p2, 0x100, false, 1, 0xff);
    memcpy(p2 + 4, big + 2, len - 2);
    assert_int_equal(ts_section_push(&buf, p1, on_section, &got), 0);
    assert_int_equal(ts_section_push(&buf, p2, on_section, &got), 0);
    assert_int_equal(got.count, 1);
    assert_memory_equal(got.data[0], big, len);
}

static void test_bad_length_split_across_packets_counts_once(void **state)
{
    (void)state;
    uint8_t p1[TB_PKT], p2[TB_PKT];
    /* The section starts in the last two bytes of the first packet; its
     * length (4095: too long) arrives in the next packet, before pointer_field's
     * new section. One bad section: one error. */
    size_t at = tb_packet_af(p1, 0x100, true, 0, 180, 0, true, 0, 0, 0xff);
    p1[at] = 0;
    p1[at + 1] = 0x02;
    p1[at + 2] = 0xbf;
    tb_packet(p2, 0x100, true, 1, 0xff);
    p2[4] = 1;    /* pointer_field: one byte ends the previous section */
    p2[5] = 0xff; /* section_length low byte: 0xfff */
    assert_int_equal(ts_section_push(&buf, p1, on_section, &got), 0);
    assert_int_equal(ts_section_push(&buf, p2, on_section, &got), 1);
    assert_int_equal(got.count, 0);
}

static void test_packetize_roundtrip(void **state)
{
    (void)state;
    uint8_t s[64], pkt[TB_PKT];
    size_t len = sample_pat(s);
    assert_int_equal(ts_section_packetize(s, len, 0x0abc, 0x17, pkt), 0);
    assert_int_equal(pkt[0], 0x47);
    assert_int_equal(pkt[1], 0x40 | 0x0a); /* payload_unit_start, PID high bits */
    assert_int_equal(pkt[2], 0xbc);
    assert_int_equal(pkt[3], 0x10 | 0x07); /* payload only, CC modulo 16 */
    assert_int_equal(pkt[4], 0);           /* pointer_field */
    assert_memory_equal(pkt + 5, s, len);
    for (size_t i = 5 + len; i < TB_PKT; i++)
        assert_int_equal(pkt[i], 0xff);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 0);
    assert_int_equal(got.count, 1);
    assert_int_equal(got.len[0], len);
    assert_memory_equal(got.data[0], s, len);
}

static void test_packetize_largest_section_fits(void **state)
{
    (void)state;
    static uint8_t s[TS_SECTION_MAX];
    uint8_t pkt[TB_PKT];
    size_t len = big_pmt(s, 33); /* 12 + 165 + 4 = 181 */
    assert_int_equal(len, 181);
    assert_int_equal(ts_section_packetize(s, len, 0x100, 0, pkt), 0);
    assert_int_equal(ts_section_push(&buf, pkt, on_section, &got), 0);
    assert_int_equal(got.count, 1);
    uint8_t raw[183];
    memset(raw, 0x11, sizeof(raw));
    assert_int_equal(ts_section_packetize(raw, 183, 0x100, 0, pkt), 0);
    assert_int_equal(pkt[TB_PKT - 1], 0x11);
}

static void test_packetize_refuses_more_than_183_bytes(void **state)
{
    (void)state;
    uint8_t s[184] = {0}, pkt[TB_PKT];
    assert_int_equal(ts_section_packetize(s, sizeof(s), 0, 0, pkt), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_single_packet_section_is_delivered, setup),
        cmocka_unit_test_setup(test_section_reassembled_across_packets, setup),
        cmocka_unit_test_setup(test_pointer_field_finishes_previous_section_then_starts_next, setup),
        cmocka_unit_test_setup(test_pointer_field_skips_bytes_of_unknown_section, setup),
        cmocka_unit_test_setup(test_two_sections_in_one_packet, setup),
        cmocka_unit_test_setup(test_bad_crc_is_rejected, setup),
        cmocka_unit_test_setup(test_corrupt_body_is_rejected_by_crc, setup),
        cmocka_unit_test_setup(test_section_length_over_limit_is_rejected, setup),
        cmocka_unit_test_setup(test_long_section_too_short_for_crc_is_rejected, setup),
        cmocka_unit_test_setup(test_pointer_field_past_packet_end_is_an_error, setup),
        cmocka_unit_test_setup(test_short_form_section_has_no_crc_check, setup),
        cmocka_unit_test_setup(test_continuation_without_start_is_ignored, setup),
        cmocka_unit_test_setup(test_section_cut_short_by_new_start_is_an_error, setup),
        cmocka_unit_test_setup(test_packet_without_payload_is_ignored, setup),
        cmocka_unit_test_setup(test_section_after_adaptation_field, setup),
        cmocka_unit_test_setup(test_section_header_split_across_packets, setup),
        cmocka_unit_test_setup(test_bad_length_split_across_packets_counts_once, setup),
        cmocka_unit_test_setup(test_packetize_roundtrip, setup),
        cmocka_unit_test_setup(test_packetize_largest_section_fits, setup),
        cmocka_unit_test_setup(test_packetize_refuses_more_than_183_bytes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
