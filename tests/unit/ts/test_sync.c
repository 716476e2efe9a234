// SPDX-License-Identifier: MIT
// test_sync.c -- tests for src/ts/sync.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ts/ts.h"
#include "ts_build.h"

#define MAX_OUT (64 * TB_PKT)

/* What the sync handed out, concatenated. */
typedef struct collector {
    uint8_t bytes[MAX_OUT];
    size_t len;
    size_t calls;
    const uint8_t *first_ptr;
} collector_t;

static void collect(void *opaque, const uint8_t *packets, size_t count)
{
    collector_t *c = opaque;
    assert_true(count > 0);
    assert_true(c->len + count * TB_PKT <= MAX_OUT);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(packets[i * TB_PKT], 0x47);
    if (!c->calls)
        c->first_ptr = packets;
    memcpy(c->bytes + c->len, packets, count * TB_PKT);
    c->len += count * TB_PKT;
    c->calls++;
}

/* n packets whose bytes other than the sync byte are never 0x47. */
static size_t make_packets(uint8_t *out, size_t n, uint16_t first_pid)
{
    for (size_t i = 0; i < n; i++)
        tb_packet(out + i * TB_PKT, (uint16_t)(first_pid + i), false, (uint8_t)i, (uint8_t)(0x10 + i));
    return n * TB_PKT;
}

/* Garbage without 0x47, except where the caller puts one. */
static size_t make_garbage(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(i * 7 + 3);
        if (out[i] == 0x47)
            out[i] = 0x48;
    }
    return n;
}

static void feed_split(ts_sync_t *sync, collector_t *c, const uint8_t *data, size_t len, size_t split)
{
    ts_sync_feed(sync, data, split, collect, c);
    ts_sync_feed(sync, data + split, len - split, collect, c);
}

static void test_aligned_input_is_handed_out_in_place(void **state)
{
    (void)state;
    static uint8_t stream[10 * TB_PKT];
    static collector_t c;
    memset(&c, 0, sizeof(c));
    size_t len = make_packets(stream, 10, 0x100);
    ts_sync_t sync;
    ts_sync_init(&sync);
    ts_sync_feed(&sync, stream, len, collect, &c);
    assert_int_equal(c.len, len);
    assert_memory_equal(c.bytes, stream, len);
    assert_int_equal(c.calls, 1);
    assert_ptr_equal(c.first_ptr, stream);
    assert_true(sync.locked);
    assert_int_equal(sync.packets, 10);
    assert_int_equal(sync.sync_losses, 0);
    assert_int_equal(sync.bytes_skipped, 0);
    assert_int_equal(sync.pending_len, 0);
}

static void test_lock_needs_three_sync_bytes(void **state)
{
    (void)state;
    static uint8_t stream[3 * TB_PKT];
    static collector_t c;
    memset(&c, 0, sizeof(c));
    make_packets(stream, 3, 0x100);
    ts_sync_t sync;
    ts_sync_init(&sync);
    ts_sync_feed(&sync, stream, 2 * TB_PKT, collect, &c);
    assert_int_equal(c.len, 0);
    assert_false(sync.locked);
    ts_sync_feed(&sync, stream + 2 * TB_PKT, 1, collect, &c); /* the third sync byte */
    assert_true(sync.locked);
    assert_int_equal(c.len, 2 * TB_PKT);
    ts_sync_feed(&sync, stream + 2 * TB_PKT + 1, TB_PKT - 1, collect, &c);
    assert_int_equal(c.len, 3 * TB_PKT);
    assert_memory_equal(c.bytes, stream, 3 * TB_PKT);
    assert_int_equal(sync.bytes_skipped, 0);
}

static void test_two_sync_bytes_then_garbage_never_lock(void **state)
{
    (void)state;
    static uint8_t stream[4 * TB_PKT]; /* long enough to decide at both 0x47 */
    static collector_t c;
    memset(&c, 0, sizeof(c));
    make_garbage(stream, sizeof(stream));
    stream[0] = 0x47;
    stream[TB_PKT] = 0x47;
    ts_sync_t sync;
    ts_sync_init(&sync);
    ts_sync_feed(&sync, stream, sizeof(stream), collect, &c);
    assert_int_equal(c.len, 0);
    assert_false(sync.locked);
    assert_int_equal(sync.bytes_skipped, sizeof(stream));
}

static void test_single_packet_then_garbage_never_locks(void **state)
{
    (void)state;
    static uint8_t stream[TB_PKT + 400];
    static collector_t c;
    memset(&c, 0, sizeof(c));
    make_packets(stream, 1, 0x100);
    make_garbage(stream + TB_PKT, 400);
    ts_sync_t sync;
    ts_sync_init(&sync);
    ts_sync_feed(&sync, stream, sizeof(stream), collect, &c);
    assert_int_equal(c.len, 0);
    assert_false(sync.locked);
    assert_int_equal(sync.bytes_skipped, sizeof(stream));
}

static void test_aligned_input_split_at_every_offset(void **state)
{
    (void)state;
    static uint8_t stream[10 * TB_PKT];
    static collector_t c;
    size_t len = make_packets(stream, 10, 0x100);
    for (size_t split = 0; split <= len; split++) {
        memset(&c, 0, sizeof(c));
        ts_sync_t sync;
        ts_sync_init(&sync);
        feed_split(&sync, &c, stream, len, split);
        assert_int_equal(c.len, len);
        assert_memory_equal(c.bytes, stream, len);
        assert_int_equal(sync.packets, 10);
        assert_int_equal(sync.bytes_skipped, 0);
        assert_int_equal(sync.sync_losses, 0);
    }
}

static void test_input_one_byte_at_a_time(void **state)
{
    (void)state;
    static uint8_t stream[6 * TB_PKT];
    static collector_t c;
    memset(&c, 0, sizeof(c));
    size_t len = make_packets(stream, 6, 0x100);
    ts_sync_t sync;
    ts_sync_init(&sync);
    for (size_t i = 0; i < len; i++)
        ts_sync_feed(&sync, stream + i, 1, collect, &c);
    assert_int_equal(c.len, len);
    assert_memory_equal(c.bytes, stream, len);
}

static void test_garbage_before_is_skipped_and_counted(void **state)
{
    (void)state;
    static uint8_t stream[100 + 5 * TB_PKT];
    static collector_t c;
    make_garbage(stream, 100);
    stream[10] = 0x47; /* a stray sync byte with no second one 188 later */
    size_t len = 100 + make_packets(stream + 100, 5, 0x100);
    for (size_t split = 0; split <= len; split++) {
        memset(&c, 0, sizeof(c));
        ts_sync_t sync;
        ts_sync_init(&sync);
        feed_split(&sync, &c, stream, len, split);
        assert_int_equal(c.len, 5 * TB_PKT);
        assert_memory_equal(c.bytes, stream + 100, 5 * TB_PKT);
        assert_int_equal(sync.bytes_skipped, 100);
        assert_int_equal(sync.sync_losses, 1); /* one episode, even before the first lock */
    }
}

static void test_garbage_inside_loses_and_regains_sync(void **state)
{
    (void)state;
    static uint8_t stream[3 * TB_PKT + 50 + 4 * TB_PKT];
    static uint8_t want[7 * TB_PKT];
    static collector_t c;
    size_t len = make_packets(stream, 3, 0x100);
    len += make_garbage(stream + len, 50);
    len += make_packets(stream + len, 4, 0x200);
    memcpy(want, stream, 3 * TB_PKT);
    memcpy(want + 3 * TB_PKT, stream + 3 * TB_PKT + 50, 4 * TB_PKT);
    for (size_t split = 0; split <= len; split++) {
        memset(&c, 0, sizeof(c));
        ts_sync_t sync;
        ts_sync_init(&sync);
        feed_split(&sync, &c, stream, len, split);
        assert_int_equal(c.len, sizeof(want));
        assert_memory_equal(c.bytes, want, sizeof(want));
        assert_int_equal(sync.sync_losses, 1);
        assert_int_equal(sync.bytes_skipped, 50);
        assert_int_equal(sync.packets, 7);
    }
}

static size_t corrupt_seen;

static void count_corrupt(void *opaque, const uint8_t *packets, size_t count)
{
    (void)opaque;
    for (size_t i = 0; i < count; i++)
        assert_int_not_equal(packets[i * TB_PKT], 0x47);
    corrupt_seen += count;
}

/* A damaged sync byte costs its packet, not the lock; two in a row lose it
 * (TR 101 290 1.1). Whatever the cut of the input. */
static void test_damaged_sync_bytes(void **state)
{
    (void)state;
    static uint8_t stream[12 * TB_PKT];
    static collector_t c;
    size_t len = make_packets(stream, 12, 0x100);
    stream[3 * TB_PKT] = 0x00;                   /* one */
    stream[7 * TB_PKT] = stream[8 * TB_PKT] = 0x46; /* two in a row */
    for (size_t split = 0; split <= len; split += 37) {
        memset(&c, 0, sizeof(c));
        corrupt_seen = 0;
        ts_sync_t sync;
        ts_sync_init(&sync);
        sync.on_corrupt = count_corrupt;
        feed_split(&sync, &c, stream, len, split);
        assert_int_equal(corrupt_seen, 3);
        assert_int_equal(sync.corrupt_packets, 3);
        assert_int_equal(sync.sync_losses, 1);
        /* 0..2, 4..6 and, after relocking, 9..11 */
        assert_int_equal(sync.packets, 9);
        assert_memory_equal(c.bytes + 3 * TB_PKT, stream + 4 * TB_PKT, 3 * TB_PKT);
        assert_memory_equal(c.bytes + 6 * TB_PKT, stream + 9 * TB_PKT, 3 * TB_PKT);
    }
}

static void test_each_sync_loss_is_counted(void **state)
{
    (void)state;
    static uint8_t stream[9 * TB_PKT + 60];
    static collector_t c;
    memset(&c, 0, sizeof(c));
    size_t len = make_packets(stream, 3, 0x100);
    len += make_garbage(stream + len, 20);
    len += make_packets(stream + len, 3, 0x200);
    len += make_garbage(stream + len, 40);
    len += make_packets(stream + len, 3, 0x300);
    ts_sync_t sync;
    ts_sync_init(&sync);
    for (size_t off = 0; off < len; off += 100)
        ts_sync_feed(&sync, stream + off, len - off < 100 ? len - off : 100, collect, &c);
    assert_int_equal(sync.sync_losses, 2);
    assert_int_equal(sync.bytes_skipped, 60);
    assert_int_equal(c.len, 9 * TB_PKT);
}

static void test_random_chunking_gives_same_result(void **state)
{
    (void)state;
    static uint8_t stream[8 * TB_PKT + 300];
    static collector_t c;
    size_t len = make_garbage(stream, 77);
    len += make_packets(stream + len, 4, 0x100);
    len += make_garbage(stream + len, 223);
    len += make_packets(stream + len, 4, 0x200);
    srand(1);
    for (int round = 0; round < 300; round++) {
        memset(&c, 0, sizeof(c));
        ts_sync_t sync;
        ts_sync_init(&sync);
        for (size_t off = 0; off < len;) {
            size_t n = (size_t)rand() % 600;
            if (n > len - off)
                n = len - off;
            ts_sync_feed(&sync, stream + off, n, collect, &c);
            off += n;
        }
        assert_int_equal(c.len, 8 * TB_PKT);
        assert_int_equal(sync.bytes_skipped, 300);
        assert_int_equal(sync.sync_losses, 2);
    }
}

static void test_endless_garbage_keeps_pending_bounded(void **state)
{
    (void)state;
    static uint8_t junk[10000];
    static collector_t c;
    memset(&c, 0, sizeof(c));
    make_garbage(junk, sizeof(junk));
    for (size_t i = 0; i < sizeof(junk); i += 300)
        junk[i] = 0x47; /* sync bytes, never 188 apart */
    ts_sync_t sync;
    ts_sync_init(&sync);
    for (size_t off = 0; off < sizeof(junk); off += 1000) {
        ts_sync_feed(&sync, junk + off, 1000, collect, &c);
        assert_true(sync.pending_len <= sizeof(sync.pending));
    }
    assert_int_equal(c.len, 0);
    assert_false(sync.locked);
    assert_int_equal(sync.bytes_skipped + sync.pending_len, sizeof(junk));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aligned_input_is_handed_out_in_place),
        cmocka_unit_test(test_lock_needs_three_sync_bytes),
        cmocka_unit_test(test_two_sync_bytes_then_garbage_never_lock),
        cmocka_unit_test(test_single_packet_then_garbage_never_locks),
        cmocka_unit_test(test_aligned_input_split_at_every_offset),
        cmocka_unit_test(test_input_one_byte_at_a_time),
        cmocka_unit_test(test_garbage_before_is_skipped_and_counted),
        cmocka_unit_test(test_garbage_inside_loses_and_regains_sync),
        cmocka_unit_test(test_damaged_sync_bytes),
        cmocka_unit_test(test_each_sync_loss_is_counted),
        cmocka_unit_test(test_random_chunking_gives_same_result),
        cmocka_unit_test(test_endless_garbage_keeps_pending_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
