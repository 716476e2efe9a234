// SPDX-License-Identifier: MIT
// test_strbuf.c -- tests for src/core/strbuf.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

static void test_init_is_empty(void **state)
{
    (void)state;
    strbuf_t sb;
    strbuf_init(&sb);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
    assert_false(sb.failed);
    strbuf_free(&sb);
}

static void test_append_puts_printf_concatenate(void **state)
{
    (void)state;
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "ab", 2);
    strbuf_puts(&sb, "cd");
    strbuf_printf(&sb, "-%d-%s", 42, "x");
    assert_string_equal(sb.data, "abcd-42-x");
    assert_int_equal(sb.len, 9);
    strbuf_free(&sb);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
}

static void test_append_keeps_embedded_nul_and_terminates(void **state)
{
    (void)state;
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "a\0b", 3);
    assert_int_equal(sb.len, 3);
    assert_memory_equal(sb.data, "a\0b", 4);
    strbuf_free(&sb);
}

static void test_grows_past_initial_capacity(void **state)
{
    (void)state;
    strbuf_t sb;
    strbuf_init(&sb);
    char chunk[100];
    memset(chunk, 'z', sizeof(chunk));
    for (int i = 0; i < 1000; i++)
        strbuf_append(&sb, chunk, sizeof(chunk));
    assert_int_equal(sb.len, 100000);
    assert_true(sb.cap > sb.len);
    assert_int_equal(sb.data[sb.len], '\0');
    for (size_t i = 0; i < sb.len; i++)
        assert_int_equal(sb.data[i], 'z');
    strbuf_free(&sb);
}

static void test_printf_longer_than_capacity(void **state)
{
    (void)state;
    strbuf_t sb;
    strbuf_init(&sb);
    char big[5000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    strbuf_puts(&sb, "<");
    strbuf_printf(&sb, "%s>", big);
    assert_int_equal(sb.len, 5001);
    assert_int_equal(sb.data[0], '<');
    assert_int_equal(sb.data[5000], '>');
    assert_int_equal(sb.data[5001], '\0');
    strbuf_free(&sb);
}

static void test_steal_hands_over_and_empties(void **state)
{
    (void)state;
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "hello");
    size_t len = 0;
    char *s = strbuf_steal(&sb, &len);
    assert_string_equal(s, "hello");
    assert_int_equal(len, 5);
    assert_null(sb.data);
    assert_int_equal(sb.len, 0);
    free(s);
}

static void test_steal_of_empty_gives_empty_string(void **state)
{
    (void)state;
    strbuf_t sb;
    strbuf_init(&sb);
    size_t len = 99;
    char *s = strbuf_steal(&sb, &len);
    assert_non_null(s);
    char first = s[0]; /* not read as a string: it may be unterminated */
    free(s);
    assert_int_equal(first, '\0');
    assert_int_equal(len, 0);
    s = strbuf_steal(&sb, NULL);
    assert_non_null(s);
    free(s);
}

static void test_failed_buffer_ignores_appends(void **state)
{
    (void)state;
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "kept");
    sb.failed = true; /* as after an allocation failure */
    strbuf_puts(&sb, " lost");
    strbuf_printf(&sb, "%d", 1);
    strbuf_append(&sb, "x", 1);
    assert_int_equal(sb.len, 4);
    assert_string_equal(sb.data, "kept");
    strbuf_free(&sb);
    assert_false(sb.failed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_is_empty),
        cmocka_unit_test(test_append_puts_printf_concatenate),
        cmocka_unit_test(test_append_keeps_embedded_nul_and_terminates),
        cmocka_unit_test(test_grows_past_initial_capacity),
        cmocka_unit_test(test_printf_longer_than_capacity),
        cmocka_unit_test(test_steal_hands_over_and_empties),
        cmocka_unit_test(test_steal_of_empty_gives_empty_string),
        cmocka_unit_test(test_failed_buffer_ignores_appends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
