// SPDX-License-Identifier: MIT
// test_lockout.c -- tests for src/auth/lockout.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/auth.h"

#define BASE_MS 1000
#define MAX_MS 8000

static auth_lockout_t *lockout_5(size_t max_keys)
{
    auth_lockout_t *lockout = auth_lockout_new(5, BASE_MS, MAX_MS, max_keys);
    assert_non_null(lockout);
    return lockout;
}

static void fail_times(auth_lockout_t *lockout, const char *key, int times, uint64_t now)
{
    for (int i = 0; i < times; i++)
        assert_int_equal(auth_lockout_fail(lockout, key, now), 0);
}

static void test_locks_after_threshold(void **state)
{
    (void)state;
    auth_lockout_t *lockout = lockout_5(100);
    assert_int_equal(auth_lockout_remaining(lockout, "192.0.2.1", 0), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(auth_lockout_fail(lockout, "192.0.2.1", 100), 0);
        assert_int_equal(auth_lockout_remaining(lockout, "192.0.2.1", 100), 0);
    }
    assert_int_equal(auth_lockout_fail(lockout, "192.0.2.1", 100), BASE_MS);
    assert_int_equal(auth_lockout_remaining(lockout, "192.0.2.1", 100), BASE_MS);
    assert_int_equal(auth_lockout_remaining(lockout, "192.0.2.1", 700), 400);
    assert_int_equal(auth_lockout_remaining(lockout, "192.0.2.1", 100 + BASE_MS - 1), 1);
    assert_int_equal(auth_lockout_remaining(lockout, "192.0.2.1", 100 + BASE_MS), 0);
    /* Other keys are not affected. */
    assert_int_equal(auth_lockout_remaining(lockout, "192.0.2.2", 100), 0);
    assert_int_equal(auth_lockout_fail(lockout, "192.0.2.2", 100), 0);
    auth_lockout_free(lockout);
}

static void test_doubles_up_to_max(void **state)
{
    (void)state;
    auth_lockout_t *lockout = lockout_5(100);
    uint64_t now = 5000;
    fail_times(lockout, "alice", 4, now);
    const uint64_t want[] = {1000, 2000, 4000, 8000, 8000, 8000};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        /* Each failure comes as soon as the last lock ends. */
        assert_int_equal(auth_lockout_fail(lockout, "alice", now), want[i]);
        assert_int_equal(auth_lockout_remaining(lockout, "alice", now), want[i]);
        now += want[i];
        assert_int_equal(auth_lockout_remaining(lockout, "alice", now), 0);
    }
    auth_lockout_free(lockout);
}

static void test_max_not_a_power_of_two(void **state)
{
    (void)state;
    auth_lockout_t *lockout = auth_lockout_new(1, 300, 1000, 10);
    assert_non_null(lockout);
    assert_int_equal(auth_lockout_fail(lockout, "k", 0), 300);
    assert_int_equal(auth_lockout_fail(lockout, "k", 0), 600);
    assert_int_equal(auth_lockout_fail(lockout, "k", 0), 1000);
    for (int i = 0; i < 100; i++) /* the shift must not overflow */
        assert_int_equal(auth_lockout_fail(lockout, "k", 0), 1000);
    auth_lockout_free(lockout);
    /* max below base: base it is. */
    lockout = auth_lockout_new(1, 500, 100, 10);
    assert_non_null(lockout);
    assert_int_equal(auth_lockout_fail(lockout, "k", 0), 500);
    assert_int_equal(auth_lockout_fail(lockout, "k", 0), 500);
    auth_lockout_free(lockout);
}

static void test_success_resets(void **state)
{
    (void)state;
    auth_lockout_t *lockout = lockout_5(100);
    fail_times(lockout, "bob", 4, 0);
    assert_int_equal(auth_lockout_fail(lockout, "bob", 0), BASE_MS);
    auth_lockout_success(lockout, "bob");
    assert_int_equal(auth_lockout_remaining(lockout, "bob", 0), 0);
    fail_times(lockout, "bob", 4, 10);
    assert_int_equal(auth_lockout_fail(lockout, "bob", 10), BASE_MS);
    /* Success before the threshold also starts the count again. */
    auth_lockout_success(lockout, "bob");
    fail_times(lockout, "bob", 3, 20);
    auth_lockout_success(lockout, "bob");
    fail_times(lockout, "bob", 4, 20);
    auth_lockout_success(lockout, "nobody"); /* unknown keys are fine */
    auth_lockout_free(lockout);
}

static void test_quiet_keys_are_forgotten(void **state)
{
    (void)state;
    auth_lockout_t *lockout = lockout_5(100);
    /* Failures below the threshold are forgotten after MAX_MS quiet... */
    fail_times(lockout, "a", 4, 0);
    fail_times(lockout, "a", 4, MAX_MS);
    /* ...but not a moment before. */
    assert_int_equal(auth_lockout_fail(lockout, "a", 2 * MAX_MS - 1), BASE_MS);

    /* After a lock, the count is kept while the key is not quiet: the next
     * failure doubles the lock at once. */
    uint64_t t = 100000;
    fail_times(lockout, "b", 4, t);
    assert_int_equal(auth_lockout_fail(lockout, "b", t), BASE_MS);
    assert_int_equal(auth_lockout_fail(lockout, "b", t + BASE_MS + MAX_MS - 1), 2 * BASE_MS);
    /* Quiet for MAX_MS after that lock ends: forgotten. */
    t = t + BASE_MS + MAX_MS - 1 + 2 * BASE_MS + MAX_MS;
    assert_int_equal(auth_lockout_remaining(lockout, "b", t), 0);
    fail_times(lockout, "b", 4, t);
    assert_int_equal(auth_lockout_fail(lockout, "b", t), BASE_MS);
    auth_lockout_free(lockout);
}

static void test_evicts_the_stalest(void **state)
{
    (void)state;
    auth_lockout_t *lockout = auth_lockout_new(2, BASE_MS, MAX_MS, 3);
    assert_non_null(lockout);
    assert_int_equal(auth_lockout_fail(lockout, "a", 1), 0);
    assert_int_equal(auth_lockout_fail(lockout, "b", 2), 0);
    assert_int_equal(auth_lockout_fail(lockout, "c", 3), 0);
    assert_int_equal(auth_lockout_fail(lockout, "a", 4), BASE_MS); /* a is now the freshest */
    assert_int_equal(auth_lockout_fail(lockout, "d", 5), 0);    /* full: b goes */
    assert_int_equal(auth_lockout_fail(lockout, "b", 6), 0);    /* b starts again; c goes */
    assert_int_equal(auth_lockout_fail(lockout, "a", 7), 2 * BASE_MS);
    assert_int_equal(auth_lockout_fail(lockout, "d", 8), BASE_MS);
    assert_int_equal(auth_lockout_fail(lockout, "c", 9), 0);    /* c was forgotten; b goes */
    assert_int_equal(auth_lockout_remaining(lockout, "a", 9), 2 * BASE_MS - 2);
    assert_int_equal(auth_lockout_remaining(lockout, "d", 9), BASE_MS - 1);
    auth_lockout_free(lockout);
}

static void test_many_keys_stay_bounded(void **state)
{
    (void)state;
    auth_lockout_t *lockout = auth_lockout_new(2, BASE_MS, MAX_MS, 64);
    assert_non_null(lockout);
    char key[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        assert_int_equal(auth_lockout_fail(lockout, key, (uint64_t)i), 0);
    }
    /* The 64 most recent are remembered, the one before is not. */
    for (int i = 20000 - 64; i < 20000; i++) {
        snprintf(key, sizeof(key), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        assert_int_equal(auth_lockout_fail(lockout, key, 20000), BASE_MS);
    }
    snprintf(key, sizeof(key), "10.%d.%d.%d", 0, (19935 >> 8) & 255, 19935 & 255);
    assert_int_equal(auth_lockout_fail(lockout, key, 20000), 0);
    auth_lockout_free(lockout);
}

static void test_long_keys(void **state)
{
    (void)state;
    auth_lockout_t *lockout = auth_lockout_new(2, BASE_MS, MAX_MS, 10);
    assert_non_null(lockout);
    char a[300], b[300];
    memset(a, 'x', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    b[200] = 'y';
    /* Differing only past the bytes compared: one entry (documented). */
    assert_int_equal(auth_lockout_fail(lockout, a, 0), 0);
    assert_int_equal(auth_lockout_fail(lockout, b, 0), BASE_MS);
    /* Differing early: two. */
    b[5] = 'y';
    assert_int_equal(auth_lockout_fail(lockout, b, 0), 0);
    assert_int_equal(auth_lockout_fail(lockout, "", 0), 0);
    assert_int_equal(auth_lockout_fail(lockout, "", 0), BASE_MS);
    auth_lockout_free(lockout);
}

/* The lockout as auth.h describes it, for one key, without the table. */
typedef struct model {
    bool present;
    uint32_t failures;
    uint64_t last_fail, locked_until;
} model_t;

static bool model_forgotten(const model_t *m, uint64_t now, uint64_t max_ms)
{
    uint64_t quiet_from = m->locked_until > m->last_fail ? m->locked_until : m->last_fail;
    return m->present && now >= quiet_from + max_ms;
}

static uint32_t next_random(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static void test_matches_a_simple_model(void **state)
{
    (void)state;
    enum { KEYS = 50, STEPS = 200000 };
    const unsigned threshold = 3;
    const uint64_t base = 100, max = 1600;
    /* Room for every key, so nothing is evicted; 64 buckets for 50 keys, so
     * chains form and entries leave from their middle. */
    auth_lockout_t *lockout = auth_lockout_new(threshold, base, max, 64);
    assert_non_null(lockout);
    model_t models[KEYS] = {0};
    uint32_t seed = 1;
    uint64_t now = 1000;
    char key[16];
    int locks = 0, forgotten = 0, max_locks = 0;
    for (int step = 0; step < STEPS; step++) {
        now += next_random(&seed) % 24;
        unsigned k = next_random(&seed) % KEYS;
        model_t *m = &models[k];
        snprintf(key, sizeof(key), "key-%u", k);
        if (model_forgotten(m, now, max)) {
            m->present = false;
            forgotten++;
        }
        unsigned op = next_random(&seed) % 10;
        if (op < 6) {
            if (!m->present)
                *m = (model_t){.present = true};
            m->failures++;
            m->last_fail = now;
            uint64_t want = 0;
            if (m->failures >= threshold) {
                unsigned d = m->failures - threshold;
                want = d < 5 && base << d < max ? base << d : max;
                m->locked_until = now + want;
                locks++;
                max_locks += want == max;
            }
            uint64_t got = auth_lockout_fail(lockout, key, now);
            if (got != want)
                fail_msg("step %d: fail(%s) = %llu, want %llu", step, key, (unsigned long long)got,
                         (unsigned long long)want);
        } else if (op < 9) {
            uint64_t want = m->present && m->locked_until > now ? m->locked_until - now : 0;
            uint64_t got = auth_lockout_remaining(lockout, key, now);
            if (got != want)
                fail_msg("step %d: remaining(%s) = %llu, want %llu", step, key, (unsigned long long)got,
                         (unsigned long long)want);
        } else {
            auth_lockout_success(lockout, key);
            m->present = false;
        }
    }
    /* The walk went through every state. */
    assert_true(locks > 1000 && max_locks > 100 && forgotten > 1000);
    auth_lockout_free(lockout);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    assert_null(auth_lockout_new(0, BASE_MS, MAX_MS, 10));
    assert_null(auth_lockout_new(5, 0, MAX_MS, 10));
    assert_null(auth_lockout_new(5, BASE_MS, MAX_MS, 0));
    auth_lockout_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locks_after_threshold),
        cmocka_unit_test(test_doubles_up_to_max),
        cmocka_unit_test(test_max_not_a_power_of_two),
        cmocka_unit_test(test_success_resets),
        cmocka_unit_test(test_quiet_keys_are_forgotten),
        cmocka_unit_test(test_evicts_the_stalest),
        cmocka_unit_test(test_many_keys_stay_bounded),
        cmocka_unit_test(test_long_keys),
        cmocka_unit_test(test_matches_a_simple_model),
        cmocka_unit_test(test_bad_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
