// SPDX-License-Identifier: MIT
// test_keytable.c -- tests for src/auth/keytable.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/auth_private.h"

static uint32_t use(auth_keytable_t *table, const char *key, bool want_added)
{
    bool added = !want_added;
    uint32_t slot = auth_keytable_use(table, key, &added);
    assert_int_equal(added, want_added);
    assert_int_equal(auth_keytable_find(table, key), slot);
    return slot;
}

static void test_slots_in_order(void **state)
{
    (void)state;
    auth_keytable_t *table = auth_keytable_new(4);
    assert_non_null(table);
    assert_int_equal(auth_keytable_oldest(table), AUTH_SLOT_NONE);
    assert_int_equal(auth_keytable_find(table, "a"), AUTH_SLOT_NONE);
    assert_int_equal(use(table, "a", true), 0);
    assert_int_equal(use(table, "b", true), 1);
    assert_int_equal(use(table, "c", true), 2);
    assert_int_equal(auth_keytable_oldest(table), 0);
    /* Using a key again keeps its slot and makes it the newest. */
    assert_int_equal(use(table, "a", false), 0);
    assert_int_equal(auth_keytable_oldest(table), 1);
    /* find leaves the order alone. */
    assert_int_equal(auth_keytable_find(table, "b"), 1);
    assert_int_equal(auth_keytable_oldest(table), 1);
    assert_int_equal(auth_keytable_find(table, "d"), AUTH_SLOT_NONE);
    auth_keytable_free(table);
    auth_keytable_free(NULL);
}

static void test_evicts_least_recently_used(void **state)
{
    (void)state;
    auth_keytable_t *table = auth_keytable_new(3);
    assert_non_null(table);
    use(table, "a", true);
    use(table, "b", true);
    use(table, "c", true);
    use(table, "a", false);
    /* Full: b, the least recently used, goes, and d takes its slot. */
    assert_int_equal(use(table, "d", true), 1);
    assert_int_equal(auth_keytable_find(table, "b"), AUTH_SLOT_NONE);
    assert_int_equal(auth_keytable_oldest(table), 2); /* c */
    assert_int_equal(use(table, "b", true), 2);       /* c goes */
    assert_int_equal(auth_keytable_find(table, "c"), AUTH_SLOT_NONE);
    assert_int_equal(auth_keytable_find(table, "a"), 0);
    assert_int_equal(auth_keytable_find(table, "d"), 1);
    auth_keytable_free(table);
}

static void test_remove_frees_the_slot(void **state)
{
    (void)state;
    auth_keytable_t *table = auth_keytable_new(3);
    assert_non_null(table);
    use(table, "a", true);
    use(table, "b", true);
    auth_keytable_remove(table, 0);
    assert_int_equal(auth_keytable_find(table, "a"), AUTH_SLOT_NONE);
    assert_int_equal(auth_keytable_oldest(table), 1);
    /* A freed slot is reused before a fresh one, and evicts nothing. */
    assert_int_equal(use(table, "c", true), 0);
    assert_int_equal(use(table, "d", true), 2);
    assert_int_equal(auth_keytable_find(table, "b"), 1);
    auth_keytable_remove(table, 1);
    auth_keytable_remove(table, 0);
    auth_keytable_remove(table, 2);
    assert_int_equal(auth_keytable_oldest(table), AUTH_SLOT_NONE);
    assert_int_equal(use(table, "a", true), 2);
    auth_keytable_free(table);
}

static void test_long_keys(void **state)
{
    (void)state;
    auth_keytable_t *table = auth_keytable_new(4);
    assert_non_null(table);
    char a[300], b[300];
    memset(a, 'x', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    b[AUTH_KEY_MAX - 1] = 'y';
    /* Differing only past the bytes compared: one key. */
    uint32_t slot = use(table, a, true);
    assert_int_equal(use(table, b, false), slot);
    /* Differing in the last byte compared: two. */
    b[AUTH_KEY_MAX - 2] = 'y';
    assert_int_not_equal(use(table, b, true), slot);
    use(table, "", true);
    use(table, "", false);
    auth_keytable_free(table);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    assert_null(auth_keytable_new(0));
    assert_null(auth_keytable_new(AUTH_SLOT_NONE / 2));
    assert_null(auth_keytable_new(SIZE_MAX));
    auth_keytable_t *table = auth_keytable_new(1);
    assert_non_null(table);
    use(table, "a", true);
    assert_int_equal(use(table, "b", true), 0);
    assert_int_equal(auth_keytable_find(table, "a"), AUTH_SLOT_NONE);
    auth_keytable_free(table);
}

/* The table as auth_private.h describes it, without hashing: keys in a
 * list from the least recently used to the most recent. */
enum { MODEL_MAX = 16, MODEL_KEYS = 40 };

typedef struct model {
    int keys[MODEL_MAX];       /* oldest first */
    uint32_t slots[MODEL_MAX];
    int count;
} model_t;

static int model_find(const model_t *m, int key)
{
    for (int i = 0; i < m->count; i++)
        if (m->keys[i] == key)
            return i;
    return -1;
}

static void model_drop(model_t *m, int at)
{
    memmove(&m->keys[at], &m->keys[at + 1], (size_t)(m->count - at - 1) * sizeof(m->keys[0]));
    memmove(&m->slots[at], &m->slots[at + 1], (size_t)(m->count - at - 1) * sizeof(m->slots[0]));
    m->count--;
}

static uint32_t next_random(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static void test_matches_a_simple_model(void **state)
{
    (void)state;
    enum { STEPS = 200000 };
    auth_keytable_t *table = auth_keytable_new(MODEL_MAX);
    assert_non_null(table);
    model_t m = {.count = 0};
    uint32_t seed = 3;
    char key[16];
    int evictions = 0, removals = 0;
    for (int step = 0; step < STEPS; step++) {
        int k = (int)(next_random(&seed) % MODEL_KEYS);
        snprintf(key, sizeof(key), "key-%d", k);
        int at = model_find(&m, k);
        uint32_t want = at < 0 ? AUTH_SLOT_NONE : m.slots[at];
        uint32_t got = auth_keytable_find(table, key);
        if (got != want)
            fail_msg("step %d: find(%s) = %u, want %u", step, key, got, want);
        unsigned op = next_random(&seed) % 4;
        if (op < 3) {
            bool added;
            uint32_t slot = auth_keytable_use(table, key, &added);
            if (added != (at < 0))
                fail_msg("step %d: use(%s) added %d", step, key, added);
            if (at >= 0) {
                if (slot != want)
                    fail_msg("step %d: use(%s) = %u, want %u", step, key, slot, want);
                model_drop(&m, at);
            } else {
                if (m.count == MODEL_MAX) {
                    model_drop(&m, 0);
                    evictions++;
                }
                if (slot >= MODEL_MAX)
                    fail_msg("step %d: use(%s) = slot %u", step, key, slot);
                for (int i = 0; i < m.count; i++)
                    if (m.slots[i] == slot)
                        fail_msg("step %d: use(%s) = slot %u, in use", step, key, slot);
            }
            m.keys[m.count] = k;
            m.slots[m.count++] = slot;
        } else if (at >= 0) {
            auth_keytable_remove(table, want);
            model_drop(&m, at);
            removals++;
        }
        want = m.count > 0 ? m.slots[0] : AUTH_SLOT_NONE;
        if (auth_keytable_oldest(table) != want)
            fail_msg("step %d: oldest = %u, want %u", step, auth_keytable_oldest(table), want);
    }
    assert_true(evictions > 1000 && removals > 1000);
    auth_keytable_free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots_in_order),
        cmocka_unit_test(test_evicts_least_recently_used),
        cmocka_unit_test(test_remove_frees_the_slot),
        cmocka_unit_test(test_long_keys),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_matches_a_simple_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
