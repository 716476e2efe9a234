// SPDX-License-Identifier: MIT
// test_parse.c -- tests for src/core/parse.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

static void test_u64_accepts_plain_decimal(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(parse_u64("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(parse_u64("1234", 0, UINT64_MAX, &v), 0);
    assert_int_equal(v, 1234);
    assert_int_equal(parse_u64("00042", 0, 100, &v), 0);
    assert_int_equal(v, 42);
}

static void test_u64_accepts_range_bounds(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(parse_u64("1", 1, 65535, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(parse_u64("65535", 1, 65535, &v), 0);
    assert_int_equal(v, 65535);
}

static void test_u64_out_of_range_is_erange_and_leaves_out(void **state)
{
    (void)state;
    uint64_t v = 99;
    assert_int_equal(parse_u64("0", 1, 65535, &v), -ERANGE);
    assert_int_equal(parse_u64("65536", 1, 65535, &v), -ERANGE);
    assert_int_equal(v, 99);
}

static void test_u64_max_and_overflow(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
    assert_int_equal(parse_u64("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
}

static void test_u64_rejects_non_digits(void **state)
{
    (void)state;
    static const char *const bad[] = {"", " 1", "1 ", "+1", "-1", "0x10", "1e3", "1.0", "12a", "a12", "１"};
    uint64_t v = 5;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(parse_u64(bad[i], 0, UINT64_MAX, &v), -EINVAL);
        assert_int_equal(v, 5);
    }
}

static void test_u64_rejects_more_than_20_digits(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(parse_u64("00000000000000000001", 0, 10, &v), 0);
    assert_int_equal(parse_u64("000000000000000000001", 0, 10, &v), -EINVAL);
}

static void test_u64_n_reads_only_the_slice(void **state)
{
    (void)state;
    uint64_t v;
    const char *text = "8080/live";
    assert_int_equal(parse_u64_n(text, 4, 1, 65535, &v), 0);
    assert_int_equal(v, 8080);
    assert_int_equal(parse_u64_n(text, 5, 1, 65535, &v), -EINVAL);
    assert_int_equal(parse_u64_n(text, 0, 0, 65535, &v), -EINVAL);
}

static void test_name_valid_accepts_allowed_alphabet(void **state)
{
    (void)state;
    assert_true(parse_name_valid("a"));
    assert_true(parse_name_valid("demo"));
    assert_true(parse_name_valid("bbc-one_hd2"));
    assert_true(parse_name_valid("0"));
    assert_true(parse_name_valid("-_-"));
}

static void test_name_valid_length_is_1_to_64(void **state)
{
    (void)state;
    char name[66];
    memset(name, 'x', sizeof(name));
    name[64] = '\0';
    assert_true(parse_name_valid(name));
    name[64] = 'x';
    name[65] = '\0';
    assert_false(parse_name_valid(name));
    assert_false(parse_name_valid(""));
}

static void test_name_valid_rejects_other_characters(void **state)
{
    (void)state;
    static const char *const bad[] = {"Demo", "a b", "a.b", "a/b", "../x", "a\tb", "é", "a;", "a'b", "a%20"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_false(parse_name_valid(bad[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64_accepts_plain_decimal),
        cmocka_unit_test(test_u64_accepts_range_bounds),
        cmocka_unit_test(test_u64_out_of_range_is_erange_and_leaves_out),
        cmocka_unit_test(test_u64_max_and_overflow),
        cmocka_unit_test(test_u64_rejects_non_digits),
        cmocka_unit_test(test_u64_rejects_more_than_20_digits),
        cmocka_unit_test(test_u64_n_reads_only_the_slice),
        cmocka_unit_test(test_name_valid_accepts_allowed_alphabet),
        cmocka_unit_test(test_name_valid_length_is_1_to_64),
        cmocka_unit_test(test_name_valid_rejects_other_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
