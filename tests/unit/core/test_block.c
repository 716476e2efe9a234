// SPDX-License-Identifier: MIT
// test_block.c -- tests for src/core/block.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

static void test_new_block_has_one_reference_and_no_bytes(void **state)
{
    (void)state;
    block_t *b = block_new(1000, 17);
    assert_non_null(b);
    assert_int_equal(b->refs, 1);
    assert_int_equal(b->size, 0);
    assert_int_equal(b->capacity, 1000);
    assert_int_equal(b->seq, 17);
    block_unref(b);
}

static void test_whole_capacity_is_writable(void **state)
{
    (void)state;
    block_t *b = block_new(4096, 0);
    assert_non_null(b);
    memset(b->data, 0x47, b->capacity);
    b->size = b->capacity;
    assert_int_equal(b->data[4095], 0x47);
    block_unref(b);
}

static void test_ref_returns_same_block_and_counts(void **state)
{
    (void)state;
    block_t *b = block_new(16, 0);
    assert_ptr_equal(block_ref(b), b);
    assert_ptr_equal(block_ref(b), b);
    assert_int_equal(b->refs, 3);
    block_unref(b);
    block_unref(b);
    assert_int_equal(b->refs, 1);
    /* The bytes stay valid while a reference is held. */
    b->data[0] = 1;
    assert_int_equal(b->data[0], 1);
    block_unref(b); /* the last one frees (ASan reports a leak otherwise) */
}

static void test_unref_null_is_a_no_op(void **state)
{
    (void)state;
    block_unref(NULL);
}

static void test_zero_capacity_block(void **state)
{
    (void)state;
    block_t *b = block_new(0, UINT64_MAX);
    assert_non_null(b);
    assert_int_equal(b->capacity, 0);
    assert_true(b->seq == UINT64_MAX);
    block_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_block_has_one_reference_and_no_bytes),
        cmocka_unit_test(test_whole_capacity_is_writable),
        cmocka_unit_test(test_ref_returns_same_block_and_counts),
        cmocka_unit_test(test_unref_null_is_a_no_op),
        cmocka_unit_test(test_zero_capacity_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
