// SPDX-License-Identifier: MIT
// test_session.c -- tests for src/store/session.c: connection limits, zapping,
// heartbeats and the audit trail, against SQLite and PostgreSQL alike, and
// the limit holding when two stores (two servers) race for the last stream.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define T0 1700000000000LL /* ms */
#define STALE 60000

static store_session_t session(const char *subscriber, const char *channel, const char *device, int64_t at)
{
    return (store_session_t){
        .subscriber = (char *)subscriber,
        .channel = (char *)channel,
        .device = (char *)device,
        .client_ip = "192.0.2.7",
        .user_agent = "VLC/3.0.18 LibVLC/3.0.18",
        .server = "edge-1",
        .kind = "ts",
        .started_at = at,
    };
}

/* Begins a session; returns its id and, through ended (may be NULL), what it ended. */
static int64_t begin(store_t *store, const char *subscriber, const char *channel, const char *device, int64_t at,
                     int64_t max, store_limit_policy_t policy, int64_t *ended_out, size_t *ended_count_out)
{
    store_session_t s = session(subscriber, channel, device, at);
    int64_t *ended = NULL;
    size_t ended_count = 0;
    int rc = store_session_begin(store, &s, max, policy, STALE, &ended, &ended_count);
    if (rc != 0)
        fail_msg("begin %s/%s/%s: %d %s", subscriber, channel, device, rc, store_last_error(store));
    assert_true(s.id > 0);
    assert_int_equal(s.last_seen, at);
    assert_int_equal(s.ended_at, 0);
    if (ended_out)
        for (size_t i = 0; i < ended_count; i++)
            ended_out[i] = ended[i];
    if (ended_count_out)
        *ended_count_out = ended_count;
    else
        assert_int_equal(ended_count, 0);
    free(ended);
    return s.id;
}

static int64_t running(store_t *store, const char *subscriber, int64_t now)
{
    int64_t count = -1;
    assert_int_equal(store_session_count(store, subscriber, now, STALE, &count), 0);
    return count;
}

/* The session with this id, as the store has it (query over everything). */
static store_session_t *find(store_t *store, int64_t id, store_session_t **all, size_t *count)
{
    store_session_filter_t filter = {0};
    assert_int_equal(store_session_query(store, &filter, all, count), 0);
    for (size_t i = 0; i < *count; i++)
        if ((*all)[i].id == id)
            return &(*all)[i];
    fail_msg("session %lld not found", (long long)id);
    return NULL;
}

static void test_begin_writes_a_running_session(void **state)
{
    fixture_t *f = *state;
    int64_t rev = fixture_revision(f->store);
    int64_t id = begin(f->store, "alice", "news", "dev-a", T0, 2, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    assert_int_equal(fixture_revision(f->store), rev); /* starting is not a change others reload for */
    store_session_t *all;
    size_t count;
    store_session_t *s = find(f->store, id, &all, &count);
    assert_int_equal(count, 1);
    assert_string_equal(s->subscriber, "alice");
    assert_string_equal(s->channel, "news");
    assert_string_equal(s->device, "dev-a");
    assert_string_equal(s->client_ip, "192.0.2.7");
    assert_string_equal(s->user_agent, "VLC/3.0.18 LibVLC/3.0.18");
    assert_string_equal(s->server, "edge-1");
    assert_string_equal(s->kind, "ts");
    assert_int_equal(s->started_at, T0);
    assert_int_equal(s->last_seen, T0);
    assert_int_equal(s->ended_at, 0);
    assert_null(s->end_reason);
    assert_int_equal(s->bytes, 0);
    store_session_free(all, count);
    assert_int_equal(running(f->store, "alice", T0), 1);

    /* Ids are never reused and grow. */
    int64_t second = begin(f->store, "alice", "news", "dev-b", T0 + 1, 2, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    assert_true(second > id);

    store_session_t bad = session(NULL, "news", "d", T0);
    int64_t *ended = (int64_t *)1;
    size_t ended_count = 9;
    assert_int_equal(store_session_begin(f->store, &bad, 0, STORE_LIMIT_REFUSE_NEW, 0, &ended, &ended_count),
                     -EINVAL);
    assert_null(ended);
    assert_int_equal(ended_count, 0);
}

static void test_refuse_new_over_the_limit_writes_nothing(void **state)
{
    fixture_t *f = *state;
    begin(f->store, "bob", "news", "dev-a", T0, 2, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    begin(f->store, "bob", "sport", "dev-b", T0 + 10, 2, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    begin(f->store, "carol", "sport", "dev-c", T0 + 10, 2, STORE_LIMIT_REFUSE_NEW, NULL, NULL); /* another */
    int64_t rev = fixture_revision(f->store);
    store_session_t s = session("bob", "movies", "dev-c", T0 + 20);
    int64_t *ended = NULL;
    size_t ended_count = 0;
    assert_int_equal(store_session_begin(f->store, &s, 2, STORE_LIMIT_REFUSE_NEW, STALE, &ended, &ended_count),
                     -EDQUOT);
    assert_null(ended);
    assert_int_equal(ended_count, 0);
    assert_non_null(strstr(store_last_error(f->store), "bob"));
    assert_int_equal(running(f->store, "bob", T0 + 20), 2);
    assert_int_equal(fixture_revision(f->store), rev);
    store_session_t *all;
    size_t count;
    store_session_filter_t filter = {.subscriber = "bob"};
    assert_int_equal(store_session_query(f->store, &filter, &all, &count), 0);
    assert_int_equal(count, 2);
    store_session_free(all, count);

    /* Limit 0: no limit. */
    for (int i = 0; i < 5; i++) {
        char device[16];
        snprintf(device, sizeof(device), "many-%d", i);
        begin(f->store, "bob", "news", device, T0 + 30, 0, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    }
    assert_int_equal(running(f->store, "bob", T0 + 30), 7);
}

static void test_zapping_replaces_the_device_session(void **state)
{
    fixture_t *f = *state;
    int64_t first = begin(f->store, "dave", "news", "tv", T0, 1, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    int64_t rev = fixture_revision(f->store);
    int64_t ended[4];
    size_t ended_count;
    int64_t second = begin(f->store, "dave", "sport", "tv", T0 + 5000, 1, STORE_LIMIT_REFUSE_NEW, ended, &ended_count);
    assert_int_equal(ended_count, 1);
    assert_int_equal(ended[0], first);
    assert_true(fixture_revision(f->store) > rev);
    assert_int_equal(running(f->store, "dave", T0 + 5000), 1);

    store_session_t *all;
    size_t count;
    store_session_t *old = find(f->store, first, &all, &count);
    assert_int_equal(old->ended_at, T0 + 5000);
    assert_string_equal(old->end_reason, "replaced");
    store_session_free(all, count);
    store_session_t *now = find(f->store, second, &all, &count);
    assert_int_equal(now->ended_at, 0);
    assert_string_equal(now->channel, "sport");
    store_session_free(all, count);

    /* A refused zap (another device over the limit) leaves the old one running. */
    store_session_t other = session("dave", "movies", "phone", T0 + 6000);
    int64_t *e = NULL;
    size_t n = 0;
    assert_int_equal(store_session_begin(f->store, &other, 1, STORE_LIMIT_REFUSE_NEW, STALE, &e, &n), -EDQUOT);
    assert_int_equal(running(f->store, "dave", T0 + 6000), 1);
}

static void test_end_oldest_makes_room(void **state)
{
    fixture_t *f = *state;
    int64_t a = begin(f->store, "erin", "c1", "d1", T0, 2, STORE_LIMIT_END_OLDEST, NULL, NULL);
    int64_t b = begin(f->store, "erin", "c2", "d2", T0 + 1000, 2, STORE_LIMIT_END_OLDEST, NULL, NULL);
    int64_t rev = fixture_revision(f->store);
    int64_t ended[4];
    size_t ended_count;
    int64_t c = begin(f->store, "erin", "c3", "d3", T0 + 2000, 2, STORE_LIMIT_END_OLDEST, ended, &ended_count);
    assert_int_equal(ended_count, 1);
    assert_int_equal(ended[0], a);
    assert_true(fixture_revision(f->store) > rev);
    assert_int_equal(running(f->store, "erin", T0 + 2000), 2);

    store_session_t *all;
    size_t count;
    store_session_t *s = find(f->store, a, &all, &count);
    assert_string_equal(s->end_reason, "ended by a newer stream");
    assert_int_equal(s->ended_at, T0 + 2000);
    store_session_free(all, count);

    /* The limit was lowered to 1 meanwhile: both older ones go. */
    int64_t d = begin(f->store, "erin", "c4", "d4", T0 + 3000, 1, STORE_LIMIT_END_OLDEST, ended, &ended_count);
    assert_int_equal(ended_count, 2);
    assert_true((ended[0] == b && ended[1] == c) || (ended[0] == c && ended[1] == b));
    assert_int_equal(running(f->store, "erin", T0 + 3000), 1);

    /* Zapping and the limit together: the device's own session is replaced
     * first, so nothing else needs to end. */
    int64_t e = begin(f->store, "erin", "c5", "d4", T0 + 4000, 1, STORE_LIMIT_END_OLDEST, ended, &ended_count);
    assert_int_equal(ended_count, 1);
    assert_int_equal(ended[0], d);
    assert_true(e > d);
}

static void test_stale_sessions_time_out(void **state)
{
    fixture_t *f = *state;
    int64_t old = begin(f->store, "fay", "c1", "d1", T0, 2, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    int64_t kept = begin(f->store, "fay", "c2", "d2", T0, 2, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    /* d2 keeps sending heartbeats; d1 went silent. */
    int64_t ids[] = {kept}, bytes[] = {123456};
    assert_int_equal(store_session_touch(f->store, ids, bytes, 1, T0 + STALE), 0);
    int64_t later = T0 + STALE + 1000;
    assert_int_equal(running(f->store, "fay", later), 1); /* the silent one no longer counts */
    int64_t rev = fixture_revision(f->store);
    begin(f->store, "fay", "c3", "d3", later, 2, STORE_LIMIT_REFUSE_NEW, NULL, NULL); /* room again */
    assert_true(fixture_revision(f->store) > rev); /* it ended one */

    store_session_t *all;
    size_t count;
    store_session_t *s = find(f->store, old, &all, &count);
    assert_string_equal(s->end_reason, "timed out");
    assert_int_equal(s->ended_at, later);
    store_session_free(all, count);
    s = find(f->store, kept, &all, &count);
    assert_int_equal(s->ended_at, 0);
    assert_int_equal(s->last_seen, T0 + STALE);
    assert_int_equal(s->bytes, 123456);
    store_session_free(all, count);

    /* Without staleness (0), nothing times out and everything counts. */
    int64_t n = -1;
    assert_int_equal(store_session_count(f->store, "fay", T0 + 10 * STALE, 0, &n), 0);
    assert_int_equal(n, 2);
}

static void test_touch_and_end(void **state)
{
    fixture_t *f = *state;
    int64_t a = begin(f->store, "gus", "c1", "d1", T0, 0, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    int64_t b = begin(f->store, "gus", "c2", "d2", T0, 0, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    int64_t rev = fixture_revision(f->store);
    int64_t ids[] = {a, b, 999999}, bytes[] = {1000, 2000, 3000};
    assert_int_equal(store_session_touch(f->store, ids, bytes, 3, T0 + 500), 0);
    assert_int_equal(store_session_touch(f->store, NULL, NULL, 0, T0 + 500), 0);
    assert_int_equal(fixture_revision(f->store), rev); /* heartbeats are not changes */

    assert_int_equal(store_session_end(f->store, a, T0 + 900, "viewer left", 5000), 0);
    int64_t rev2 = fixture_revision(f->store);
    assert_true(rev2 > rev);
    /* Ending again, or touching an ended one, changes nothing. */
    assert_int_equal(store_session_end(f->store, a, T0 + 1900, "again", 1), 0);
    bytes[0] = 7;
    assert_int_equal(store_session_touch(f->store, ids, bytes, 1, T0 + 2000), 0);
    assert_int_equal(fixture_revision(f->store), rev2);
    assert_int_equal(store_session_end(f->store, 424242, T0, "nobody", 0), -ENOENT);

    store_session_t *all;
    size_t count;
    store_session_t *s = find(f->store, a, &all, &count);
    assert_int_equal(s->ended_at, T0 + 900);
    assert_int_equal(s->last_seen, T0 + 500);
    assert_int_equal(s->bytes, 5000);
    assert_string_equal(s->end_reason, "viewer left");
    store_session_free(all, count);
    s = find(f->store, b, &all, &count);
    assert_int_equal(s->bytes, 2000);
    assert_int_equal(s->ended_at, 0);
    store_session_free(all, count);
}

static void test_end_subscriber_and_ended_lists(void **state)
{
    fixture_t *f = *state;
    int64_t ids[600];
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        char device[16];
        snprintf(device, sizeof(device), "h%d", i);
        ids[n++] = begin(f->store, "hank", "c", device, T0 + i, 0, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    }
    int64_t other = begin(f->store, "ivy", "c", "x", T0, 0, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    ids[n++] = other;
    int64_t rev = fixture_revision(f->store);
    assert_int_equal(store_session_end_subscriber(f->store, "hank", T0 + 100, "revoked"), 0);
    assert_true(fixture_revision(f->store) > rev);
    assert_int_equal(running(f->store, "hank", T0 + 100), 0);
    assert_int_equal(running(f->store, "ivy", T0 + 100), 1);
    rev = fixture_revision(f->store);
    assert_int_equal(store_session_end_subscriber(f->store, "hank", T0 + 200, "revoked"), 0); /* none left */
    assert_int_equal(fixture_revision(f->store), rev);

    /* Which of these ended? More ids than one query takes, unknown ones too. */
    while (n < ARRAY_SIZE(ids))
        ids[n] = 1000000 + (int64_t)n, n++;
    int64_t *ended = NULL;
    size_t ended_count = 0;
    assert_int_equal(store_sessions_ended(f->store, ids, n, &ended, &ended_count), 0);
    assert_int_equal(ended_count, 3);
    for (size_t i = 0; i < ended_count; i++)
        assert_true(ended[i] == ids[0] || ended[i] == ids[1] || ended[i] == ids[2]);
    free(ended);
    ended = (int64_t *)1;
    assert_int_equal(store_sessions_ended(f->store, ids, 0, &ended, &ended_count), 0);
    assert_int_equal(ended_count, 0);
    free(ended);

    store_session_t *all;
    size_t count;
    store_session_t *s = find(f->store, ids[1], &all, &count);
    assert_string_equal(s->end_reason, "revoked");
    assert_int_equal(s->ended_at, T0 + 100);
    store_session_free(all, count);
}

static void test_query_filters(void **state)
{
    fixture_t *f = *state;
    /* jo: 3 on news at T0, T0+1000, T0+2000 (the first ended); kim: sport at T0+1500 */
    int64_t j1 = begin(f->store, "jo", "news", "a", T0, 0, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    int64_t j2 = begin(f->store, "jo", "news", "b", T0 + 1000, 0, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    int64_t j3 = begin(f->store, "jo", "sport", "c", T0 + 2000, 0, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    int64_t k1 = begin(f->store, "kim", "sport", "a", T0 + 1500, 0, STORE_LIMIT_REFUSE_NEW, NULL, NULL);
    assert_int_equal(store_session_end(f->store, j1, T0 + 3000, "done", 0), 0);

    const struct {
        store_session_filter_t filter;
        int64_t expected[4];
        size_t count;
    } cases[] = {
        {{0}, {j3, k1, j2, j1}, 4}, /* newest first */
        {{.subscriber = "jo"}, {j3, j2, j1}, 3},
        {{.channel = "sport"}, {j3, k1}, 2},
        {{.subscriber = "jo", .channel = "news"}, {j2, j1}, 2},
        {{.from = T0 + 1000}, {j3, k1, j2}, 3},
        {{.to = T0 + 1000}, {j1}, 1},
        {{.from = T0 + 1000, .to = T0 + 2000}, {k1, j2}, 2},
        {{.running_only = true}, {j3, k1, j2}, 3},
        {{.subscriber = "jo", .running_only = true, .limit = 1}, {j3}, 1},
        {{.limit = 2}, {j3, k1}, 2},
        {{.subscriber = "nobody' OR '1'='1"}, {0}, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        store_session_t *rows = NULL;
        size_t count = 99;
        assert_int_equal(store_session_query(f->store, &cases[i].filter, &rows, &count), 0);
        if (count != cases[i].count)
            fail_msg("case %zu: %zu sessions instead of %zu", i, count, cases[i].count);
        for (size_t j = 0; j < count; j++)
            if (rows[j].id != cases[i].expected[j])
                fail_msg("case %zu: row %zu is %lld, not %lld", i, j, (long long)rows[j].id,
                         (long long)cases[i].expected[j]);
        store_session_free(rows, count);
    }
}

static void test_hostile_strings_are_stored_verbatim(void **state)
{
    fixture_t *f = *state;
    static const char *const values[] = {"x'; DROP TABLE sessions; --", "\\N\t\n", "$1 ?1 %s", "\xe2\x98\x80"};
    for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
        store_session_t s = session(values[i], values[i], values[i], T0 + (int64_t)i);
        s.user_agent = (char *)values[i];
        int64_t *ended;
        size_t n;
        assert_int_equal(store_session_begin(f->store, &s, 1, STORE_LIMIT_REFUSE_NEW, STALE, &ended, &n), 0);
        free(ended);
        store_session_t *all;
        size_t count;
        store_session_t *got = find(f->store, s.id, &all, &count);
        assert_string_equal(got->subscriber, values[i]);
        assert_string_equal(got->channel, values[i]);
        assert_string_equal(got->device, values[i]);
        assert_string_equal(got->user_agent, values[i]);
        store_session_free(all, count);
        assert_int_equal(running(f->store, values[i], T0 + (int64_t)i), 1);
    }
}

/* ---- two servers racing ------------------------------------------------------------- */

enum { RACERS = 6, ROUNDS = 15, LIMIT = 2 };

typedef struct race {
    store_t *stores[2];
    pthread_barrier_t barrier;
    store_limit_policy_t policy;
    int wins[ROUNDS];
    int errors;
    pthread_mutex_t lock;
} race_t;

typedef struct racer {
    race_t *race;
    int id;
} racer_t;

static void *race_begin(void *arg)
{
    racer_t *r = arg;
    race_t *race = r->race;
    store_t *store = race->stores[r->id % 2]; /* half on each "server" */
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_wait(&race->barrier);
        char subscriber[32], device[32];
        snprintf(subscriber, sizeof(subscriber), "racer-%d", round);
        snprintf(device, sizeof(device), "device-%d", r->id);
        store_session_t s = session(subscriber, "news", device, T0 + round * 10 + r->id);
        int64_t *ended = NULL;
        size_t n = 0;
        int rc = store_session_begin(store, &s, LIMIT, race->policy, STALE, &ended, &n);
        free(ended);
        pthread_mutex_lock(&race->lock);
        if (rc == 0)
            race->wins[round]++;
        else if (rc != -EDQUOT)
            race->errors++;
        pthread_mutex_unlock(&race->lock);
    }
    return NULL;
}

static void race(fixture_t *f, store_limit_policy_t policy)
{
    race_t *race = calloc(1, sizeof(*race));
    race->stores[0] = f->store;
    race->stores[1] = fixture_open(f);
    race->policy = policy;
    pthread_barrier_init(&race->barrier, NULL, RACERS);
    pthread_mutex_init(&race->lock, NULL);
    pthread_t threads[RACERS];
    racer_t racers[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i] = (racer_t){race, i};
        assert_int_equal(pthread_create(&threads[i], NULL, race_begin, &racers[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(race->errors, 0);
    for (int round = 0; round < ROUNDS; round++) {
        char subscriber[32];
        snprintf(subscriber, sizeof(subscriber), "racer-%d", round);
        int64_t n = running(f->store, subscriber, T0 + round * 10 + RACERS);
        if (n != LIMIT)
            fail_msg("round %d: %lld sessions run with a limit of %d", round, (long long)n, LIMIT);
        int expected = policy == STORE_LIMIT_REFUSE_NEW ? LIMIT : RACERS;
        if (race->wins[round] != expected)
            fail_msg("round %d: %d streams started, not %d", round, race->wins[round], expected);
    }
    store_close(race->stores[1]);
    pthread_barrier_destroy(&race->barrier);
    pthread_mutex_destroy(&race->lock);
    free(race);
}

static void test_two_servers_race_for_the_last_stream(void **state) { race(*state, STORE_LIMIT_REFUSE_NEW); }

static void test_two_servers_race_ending_the_oldest(void **state) { race(*state, STORE_LIMIT_END_OLDEST); }

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_begin_writes_a_running_session),
        T(test_refuse_new_over_the_limit_writes_nothing),
        T(test_zapping_replaces_the_device_session),
        T(test_end_oldest_makes_room),
        T(test_stale_sessions_time_out),
        T(test_touch_and_end),
        T(test_end_subscriber_and_ended_lists),
        T(test_query_filters),
        T(test_hostile_strings_are_stored_verbatim),
        T(test_two_servers_race_for_the_last_stream),
        T(test_two_servers_race_ending_the_oldest),
    };
    return fixture_main(argc, argv, "store_session", tests, ARRAY_SIZE(tests));
}
