// SPDX-License-Identifier: MIT
// test_busy.c -- tests for src/core/busy.c: the longest step is named, nested
// steps count as their outermost one, and each report starts a new period.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/core.h"

static void spin_ms(unsigned ms)
{
    uint64_t until = clock_mono_us() + ms * 1000u;
    while (clock_mono_us() < until)
        ;
}

static void test_longest_step_is_named(void **state)
{
    (void)state;
    char name[BUSY_NAME_MAX];
    busy_take_longest(name, sizeof(name));
    busy_begin("channel", "news");
    spin_ms(2);
    busy_end();
    busy_begin("request", "GET /api/v1/channels");
    spin_ms(20);
    busy_end();
    busy_begin("channel", "sport");
    busy_end();
    uint64_t took = busy_take_longest(name, sizeof(name));
    assert_string_equal(name, "request GET /api/v1/channels");
    assert_true(took >= 20000 && took < 200000);
    /* a new period: nothing yet */
    assert_int_equal(busy_take_longest(name, sizeof(name)), 0);
    assert_string_equal(name, "");
}

static void test_nested_steps_belong_to_the_outermost(void **state)
{
    (void)state;
    char name[BUSY_NAME_MAX];
    busy_take_longest(name, sizeof(name));
    assert_string_equal(busy_current(), "");
    busy_begin("request", "GET /live/news.ts");
    busy_begin("channel", "news");
    assert_string_equal(busy_current(), "request GET /live/news.ts");
    spin_ms(5);
    busy_end();
    busy_end();
    busy_end(); /* one too many: ignored */
    assert_string_equal(busy_current(), "");
    assert_true(busy_take_longest(name, sizeof(name)) >= 5000);
    assert_string_equal(name, "request GET /live/news.ts");
}

static void test_long_names_are_cut(void **state)
{
    (void)state;
    char long_name[400];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    busy_begin("request", long_name);
    busy_end();
    char name[16];
    busy_take_longest(name, sizeof(name));
    assert_int_equal(strlen(name), 15);
    assert_memory_equal(name, "request xxxxxxx", 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_step_is_named),
        cmocka_unit_test(test_nested_steps_belong_to_the_outermost),
        cmocka_unit_test(test_long_names_are_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
