// SPDX-License-Identifier: MIT
// test_ratelimit.c -- tests for src/auth/ratelimit.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/auth.h"

/* How many requests are allowed in a row at now_ms. */
static int drain(auth_ratelimit_t *limit, const char *key, uint64_t now_ms)
{
    int n = 0;
    while (auth_ratelimit_allow(limit, key, now_ms) && n < 1000000)
        n++;
    return n;
}

static void test_burst_then_rate(void **state)
{
    (void)state;
    auth_ratelimit_t *limit = auth_ratelimit_new(10, 5, 100);
    assert_non_null(limit);
    uint64_t t = 1000;
    assert_int_equal(drain(limit, "192.0.2.1", t), 5);
    assert_false(auth_ratelimit_allow(limit, "192.0.2.1", t));
    /* 10 a second: one every 100 ms. */
    assert_false(auth_ratelimit_allow(limit, "192.0.2.1", t + 99));
    assert_true(auth_ratelimit_allow(limit, "192.0.2.1", t + 100));
    assert_false(auth_ratelimit_allow(limit, "192.0.2.1", t + 100));
    assert_int_equal(drain(limit, "192.0.2.1", t + 350), 2);
    /* A long pause refills to the burst, not beyond. */
    assert_int_equal(drain(limit, "192.0.2.1", t + 60000), 5);
    /* A steady 10 a second is always allowed. */
    t += 60000;
    for (int i = 1; i <= 50; i++)
        assert_true(auth_ratelimit_allow(limit, "192.0.2.1", t + 100 * (uint64_t)i));
    auth_ratelimit_free(limit);
}

static void test_keys_are_independent(void **state)
{
    (void)state;
    auth_ratelimit_t *limit = auth_ratelimit_new(1, 3, 100);
    assert_non_null(limit);
    assert_int_equal(drain(limit, "a", 0), 3);
    assert_int_equal(drain(limit, "b", 0), 3);
    assert_int_equal(drain(limit, "a", 0), 0);
    assert_int_equal(drain(limit, "a", 1000), 1);
    auth_ratelimit_free(limit);
}

static void test_slow_rate(void **state)
{
    (void)state;
    auth_ratelimit_t *limit = auth_ratelimit_new(0.5, 1, 10);
    assert_non_null(limit);
    assert_true(auth_ratelimit_allow(limit, "k", 0));
    assert_false(auth_ratelimit_allow(limit, "k", 1000));
    assert_false(auth_ratelimit_allow(limit, "k", 1999));
    assert_true(auth_ratelimit_allow(limit, "k", 2000));
    assert_false(auth_ratelimit_allow(limit, "k", 2000));
    auth_ratelimit_free(limit);
}

static void test_clock_going_back_adds_nothing(void **state)
{
    (void)state;
    auth_ratelimit_t *limit = auth_ratelimit_new(10, 2, 10);
    assert_non_null(limit);
    assert_int_equal(drain(limit, "k", 10000), 2);
    assert_false(auth_ratelimit_allow(limit, "k", 5000));
    assert_false(auth_ratelimit_allow(limit, "k", 10050));
    assert_true(auth_ratelimit_allow(limit, "k", 10100));
    auth_ratelimit_free(limit);
}

static void test_evicts_least_recently_seen(void **state)
{
    (void)state;
    auth_ratelimit_t *limit = auth_ratelimit_new(1, 2, 2);
    assert_non_null(limit);
    assert_int_equal(drain(limit, "a", 0), 2);
    assert_int_equal(drain(limit, "b", 0), 2);
    assert_false(auth_ratelimit_allow(limit, "a", 0)); /* a is now the most recent */
    assert_true(auth_ratelimit_allow(limit, "c", 0));  /* full: b goes */
    assert_false(auth_ratelimit_allow(limit, "a", 0)); /* a is still remembered */
    assert_int_equal(drain(limit, "b", 0), 2);          /* b came back with a full bucket */
    auth_ratelimit_free(limit);
}

static void test_many_keys_stay_bounded(void **state)
{
    (void)state;
    auth_ratelimit_t *limit = auth_ratelimit_new(1, 1, 16);
    assert_non_null(limit);
    char key[48];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "2001:db8::%x", i);
        assert_true(auth_ratelimit_allow(limit, key, 0));
    }
    /* The 16 most recent are still empty. */
    for (int i = 20000 - 16; i < 20000; i++) {
        snprintf(key, sizeof(key), "2001:db8::%x", i);
        assert_false(auth_ratelimit_allow(limit, key, 0));
    }
    auth_ratelimit_free(limit);
}

static void test_refilled_keys_make_room(void **state)
{
    (void)state;
    /* Keys whose bucket refilled are dropped before a drained one. */
    auth_ratelimit_t *limit = auth_ratelimit_new(1000, 1, 3);
    assert_non_null(limit);
    assert_true(auth_ratelimit_allow(limit, "old1", 0));
    assert_true(auth_ratelimit_allow(limit, "old2", 0));
    assert_true(auth_ratelimit_allow(limit, "busy", 10));
    assert_true(auth_ratelimit_allow(limit, "new", 10)); /* old1 and old2 had refilled */
    assert_false(auth_ratelimit_allow(limit, "busy", 10));
    auth_ratelimit_free(limit);
}

/* A token bucket is the generic cell rate algorithm (ITU-T I.371): a request
 * at `now` is allowed when the theoretical arrival time is at most
 * (burst - 1) intervals ahead, and then moves it one interval on. Exact in
 * whole milliseconds, and written without buckets, so it checks them. */
static uint32_t next_random(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static void test_matches_gcra(void **state)
{
    (void)state;
    enum { KEYS = 30, STEPS = 200000, INTERVAL = 40, BURST = 4 };
    auth_ratelimit_t *limit = auth_ratelimit_new(1000.0 / INTERVAL, BURST, 64);
    assert_non_null(limit);
    uint64_t tat[KEYS] = {0};
    uint32_t seed = 7;
    uint64_t now = 1;
    int allowed = 0, refused = 0;
    char key[16];
    for (int step = 0; step < STEPS; step++) {
        now += next_random(&seed) % 3;
        unsigned k = next_random(&seed) % KEYS;
        snprintf(key, sizeof(key), "10.0.0.%u", k);
        uint64_t t = tat[k] > now ? tat[k] : now;
        bool want = t - now <= (BURST - 1) * INTERVAL;
        if (want)
            tat[k] = t + INTERVAL;
        bool got = auth_ratelimit_allow(limit, key, now);
        if (got != want)
            fail_msg("step %d: allow(%s) at %llu = %d, want %d", step, key, (unsigned long long)now, got, want);
        allowed += want;
        refused += !want;
    }
    assert_true(allowed > 10000 && refused > 10000);
    auth_ratelimit_free(limit);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    auth_ratelimit_t *limit_ok;
    assert_null(auth_ratelimit_new(0, 5, 10));
    assert_null(auth_ratelimit_new(-1, 5, 10));
    assert_null(auth_ratelimit_new(10, 0.5, 10));
    assert_null(auth_ratelimit_new(10, 5, 0));
    assert_null(auth_ratelimit_new(0.0 / 0.0, 5, 10));
    assert_null(auth_ratelimit_new(10, 1.0 / 0.0, 10));
    assert_null(auth_ratelimit_new(1e7, 5, 10));
    assert_non_null(limit_ok = auth_ratelimit_new(1e-6, 1e9, 1));
    auth_ratelimit_free(limit_ok);
    auth_ratelimit_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_keys_are_independent),
        cmocka_unit_test(test_slow_rate),
        cmocka_unit_test(test_clock_going_back_adds_nothing),
        cmocka_unit_test(test_evicts_least_recently_seen),
        cmocka_unit_test(test_many_keys_stay_bounded),
        cmocka_unit_test(test_refilled_keys_make_room),
        cmocka_unit_test(test_matches_gcra),
        cmocka_unit_test(test_bad_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
