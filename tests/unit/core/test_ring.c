// SPDX-License-Identifier: MIT
// test_ring.c -- tests for src/core/ring.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"
#include "ts/ts.h"

#define PKT TS_PACKET_SIZE
#define BLOCK_PACKETS (RING_BLOCK_SIZE / PKT)

/* Packet number n of a test stream: its bytes tell where it belongs. */
static void packet(uint8_t *out, uint64_t n)
{
    memset(out, (uint8_t)(n * 31 + 7), PKT);
    out[0] = 0x47;
    memcpy(out + 4, &n, sizeof(n));
}

static uint64_t appended;

static void append_packets(ring_t *ring, size_t count)
{
    uint8_t *buf = malloc(count * PKT);
    for (size_t i = 0; i < count; i++)
        packet(buf + i * PKT, appended + i);
    assert_int_equal(ring_append(ring, buf, count * PKT), 0);
    appended += count;
    free(buf);
}

/* The packet at absolute position pos, read back through ring_block_at. */
static void assert_packet_at(const ring_t *ring, uint64_t pos)
{
    block_t *b = ring_block_at(ring, pos);
    assert_non_null(b);
    assert_int_equal(b->seq, pos / RING_BLOCK_SIZE);
    uint8_t want[PKT];
    packet(want, pos / PKT);
    assert_memory_equal(b->data + pos % RING_BLOCK_SIZE, want, PKT);
}

static int setup(void **state)
{
    (void)state;
    appended = 0;
    return 0;
}

static void test_block_holds_whole_packets(void **state)
{
    (void)state;
    assert_int_equal(RING_BLOCK_SIZE % PKT, 0);
}

static void test_new_ring_is_empty(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, 4 * RING_BLOCK_SIZE), 0);
    assert_int_equal(ring_start(&ring), 0);
    assert_int_equal(ring_end(&ring), 0);
    assert_non_null(ring_block_at(&ring, 0));
    assert_null(ring_newest_keyframe(&ring));
    ring_clear(&ring);
    ring_clear(&ring); /* twice is harmless */
}

static void test_append_moves_end(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, 4 * RING_BLOCK_SIZE), 0);
    append_packets(&ring, 1);
    assert_int_equal(ring_end(&ring), PKT);
    append_packets(&ring, 9);
    assert_int_equal(ring_end(&ring), 10 * PKT);
    for (uint64_t i = 0; i < 10; i++)
        assert_packet_at(&ring, i * PKT);
    ring_clear(&ring);
}

static void test_full_block_opens_next_only_when_needed(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, 4 * RING_BLOCK_SIZE), 0);
    append_packets(&ring, BLOCK_PACKETS);
    assert_int_equal(ring_end(&ring), RING_BLOCK_SIZE);
    assert_int_equal(ring.current->seq, 0);
    assert_null(ring_block_at(&ring, RING_BLOCK_SIZE)); /* not written yet */
    append_packets(&ring, 1);
    assert_int_equal(ring.current->seq, 1);
    assert_int_equal(ring_end(&ring), RING_BLOCK_SIZE + PKT);
    assert_packet_at(&ring, RING_BLOCK_SIZE - PKT);
    assert_packet_at(&ring, RING_BLOCK_SIZE);
    ring_clear(&ring);
}

static void test_append_spanning_blocks_keeps_order(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, 4 * RING_BLOCK_SIZE), 0);
    append_packets(&ring, 100);
    append_packets(&ring, 2 * BLOCK_PACKETS + 17); /* one call across two boundaries */
    assert_int_equal(ring_end(&ring), appended * PKT);
    for (uint64_t i = 0; i < appended; i++)
        assert_packet_at(&ring, i * PKT);
    assert_int_equal(ring_start(&ring), 0);
    ring_clear(&ring);
}

static void test_eviction_moves_start_and_forgets_old_blocks(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, 2 * RING_BLOCK_SIZE), 0);
    size_t slots = ring.slot_count;
    assert_int_equal(slots, 4);
    append_packets(&ring, slots * BLOCK_PACKETS); /* fills every slot */
    assert_int_equal(ring_start(&ring), 0);
    append_packets(&ring, 1); /* block 4 takes block 0's slot */
    assert_int_equal(ring_start(&ring), RING_BLOCK_SIZE);
    assert_null(ring_block_at(&ring, 0));
    assert_null(ring_block_at(&ring, RING_BLOCK_SIZE - 1));
    assert_packet_at(&ring, RING_BLOCK_SIZE);
    assert_packet_at(&ring, 4 * RING_BLOCK_SIZE);
    assert_null(ring_block_at(&ring, ring_end(&ring) + RING_BLOCK_SIZE));
    /* History kept is at least what was asked for. */
    assert_true(ring_end(&ring) - ring_start(&ring) >= 2 * RING_BLOCK_SIZE);
    ring_clear(&ring);
}

static void test_long_run_keeps_a_sliding_window(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, 3 * RING_BLOCK_SIZE), 0);
    for (int i = 0; i < 40; i++) {
        append_packets(&ring, BLOCK_PACKETS / 2 + 3);
        uint64_t start = ring_start(&ring), end = ring_end(&ring);
        assert_true(end - start <= ring.slot_count * (uint64_t)RING_BLOCK_SIZE);
        assert_int_equal(start % RING_BLOCK_SIZE, 0);
        assert_packet_at(&ring, start);
        assert_packet_at(&ring, end - PKT);
        if (start)
            assert_null(ring_block_at(&ring, start - 1));
    }
    ring_clear(&ring);
}

static void test_reference_outlives_eviction(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, 0), 0);
    append_packets(&ring, 3);
    block_t *held = block_ref(ring_block_at(&ring, 0));
    append_packets(&ring, ring.slot_count * BLOCK_PACKETS);
    assert_null(ring_block_at(&ring, 0));
    assert_int_equal(held->refs, 1); /* only the reader's reference is left */
    uint8_t want[PKT];
    packet(want, 2);
    assert_memory_equal(held->data + 2 * PKT, want, PKT);
    block_unref(held);
    ring_clear(&ring);
}

static void test_no_keyframe_gives_null(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, RING_BLOCK_SIZE), 0);
    ring_keyframe_completed(&ring); /* nothing to complete: harmless */
    assert_null(ring_newest_keyframe(&ring));
    ring_clear(&ring);
}

static void test_keyframe_psi_is_copied(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, RING_BLOCK_SIZE), 0);
    uint8_t psi[2 * PKT];
    packet(psi, 500);
    packet(psi + PKT, 501);
    assert_non_null(ring_add_keyframe(&ring, 0, psi, sizeof(psi)));
    memset(psi, 0, sizeof(psi));
    const ring_keyframe_t *kf = ring_newest_keyframe(&ring);
    assert_non_null(kf);
    assert_int_equal(kf->psi->size, 2 * PKT);
    uint8_t want[PKT];
    packet(want, 501);
    assert_memory_equal(kf->psi->data + PKT, want, PKT);
    ring_clear(&ring);
}

static void test_keyframe_psi_is_capped(void **state)
{
    (void)state;
    ring_t ring;
    assert_int_equal(ring_init(&ring, RING_BLOCK_SIZE), 0);
    uint8_t psi[RING_PSI_MAX + 2 * PKT];
    memset(psi, 0x47, sizeof(psi));
    assert_non_null(ring_add_keyframe(&ring, 0, psi, sizeof(psi)));
    assert_int_equal(ring_newest_keyframe(&ring)->psi->size, RING_PSI_MAX);
    ring_clear(&ring);
}

static void test_incomplete_newest_is_used_when_alone(void **state)
{
    (void)state;
    ring_t ring;
    uint8_t psi[PKT] = {0x47};
    assert_int_equal(ring_init(&ring, RING_BLOCK_SIZE), 0);
    append_packets(&ring, 10);
    assert_non_null(ring_add_keyframe(&ring, 5 * PKT, psi, PKT));
    const ring_keyframe_t *kf = ring_newest_keyframe(&ring);
    assert_non_null(kf);
    assert_int_equal(kf->pos, 5 * PKT);
    assert_false(kf->complete);
    ring_keyframe_completed(&ring);
    assert_true(ring_newest_keyframe(&ring)->complete);
    ring_clear(&ring);
}

static void test_complete_keyframe_preferred_over_newer_incomplete(void **state)
{
    (void)state;
    ring_t ring;
    uint8_t psi[PKT] = {0x47};
    assert_int_equal(ring_init(&ring, RING_BLOCK_SIZE), 0);
    append_packets(&ring, 100);
    ring_add_keyframe(&ring, 10 * PKT, psi, PKT);
    ring_keyframe_completed(&ring);
    ring_add_keyframe(&ring, 60 * PKT, psi, PKT);
    assert_int_equal(ring_newest_keyframe(&ring)->pos, 10 * PKT);
    ring_keyframe_completed(&ring);
    assert_int_equal(ring_newest_keyframe(&ring)->pos, 60 * PKT);
    ring_clear(&ring);
}

static void test_two_incomplete_keyframes_give_the_newest(void **state)
{
    (void)state;
    ring_t ring;
    uint8_t psi[PKT] = {0x47};
    assert_int_equal(ring_init(&ring, RING_BLOCK_SIZE), 0);
    append_packets(&ring, 100);
    ring_add_keyframe(&ring, 10 * PKT, psi, PKT);
    ring_add_keyframe(&ring, 60 * PKT, psi, PKT);
    assert_int_equal(ring_newest_keyframe(&ring)->pos, 60 * PKT);
    ring_clear(&ring);
}

static void test_evicted_keyframes_are_not_offered(void **state)
{
    (void)state;
    ring_t ring;
    uint8_t psi[PKT] = {0x47};
    assert_int_equal(ring_init(&ring, 0), 0);
    append_packets(&ring, 10);
    ring_add_keyframe(&ring, 0, psi, PKT);
    ring_keyframe_completed(&ring);
    append_packets(&ring, ring.slot_count * BLOCK_PACKETS);
    assert_true(ring_start(&ring) > 0);
    assert_null(ring_newest_keyframe(&ring));
    /* A newer incomplete one inside the ring wins over an evicted whole one. */
    uint64_t inside = ring_end(&ring) - PKT;
    ring_add_keyframe(&ring, inside, psi, PKT);
    assert_int_equal(ring_newest_keyframe(&ring)->pos, inside);
    ring_clear(&ring);
}

static void test_keyframe_table_wraps(void **state)
{
    (void)state;
    ring_t ring;
    uint8_t psi[PKT] = {0x47};
    assert_int_equal(ring_init(&ring, RING_BLOCK_SIZE), 0);
    append_packets(&ring, 200);
    for (uint64_t i = 0; i < RING_KEYFRAMES + 6; i++) {
        assert_non_null(ring_add_keyframe(&ring, i * PKT, psi, PKT));
        ring_keyframe_completed(&ring);
    }
    assert_int_equal(ring.keyframe_count, RING_KEYFRAMES);
    assert_int_equal(ring_newest_keyframe(&ring)->pos, (RING_KEYFRAMES + 5) * PKT);
    ring_clear(&ring); /* every PSI copy is released (ASan checks) */
}

static void test_forget_keyframes(void **state)
{
    (void)state;
    ring_t ring;
    uint8_t psi[PKT] = {0x47};
    assert_int_equal(ring_init(&ring, RING_BLOCK_SIZE), 0);
    ring_add_keyframe(&ring, 0, psi, PKT);
    ring_forget_keyframes(&ring);
    assert_null(ring_newest_keyframe(&ring));
    assert_int_equal(ring.keyframe_count, 0);
    ring_add_keyframe(&ring, 0, psi, PKT);
    assert_non_null(ring_newest_keyframe(&ring));
    ring_clear(&ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_block_holds_whole_packets, setup),
        cmocka_unit_test_setup(test_new_ring_is_empty, setup),
        cmocka_unit_test_setup(test_append_moves_end, setup),
        cmocka_unit_test_setup(test_full_block_opens_next_only_when_needed, setup),
        cmocka_unit_test_setup(test_append_spanning_blocks_keeps_order, setup),
        cmocka_unit_test_setup(test_eviction_moves_start_and_forgets_old_blocks, setup),
        cmocka_unit_test_setup(test_long_run_keeps_a_sliding_window, setup),
        cmocka_unit_test_setup(test_reference_outlives_eviction, setup),
        cmocka_unit_test_setup(test_no_keyframe_gives_null, setup),
        cmocka_unit_test_setup(test_keyframe_psi_is_copied, setup),
        cmocka_unit_test_setup(test_keyframe_psi_is_capped, setup),
        cmocka_unit_test_setup(test_incomplete_newest_is_used_when_alone, setup),
        cmocka_unit_test_setup(test_complete_keyframe_preferred_over_newer_incomplete, setup),
        cmocka_unit_test_setup(test_two_incomplete_keyframes_give_the_newest, setup),
        cmocka_unit_test_setup(test_evicted_keyframes_are_not_offered, setup),
        cmocka_unit_test_setup(test_keyframe_table_wraps, setup),
        cmocka_unit_test_setup(test_forget_keyframes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
