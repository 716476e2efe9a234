// SPDX-License-Identifier: MIT
// test_schema.c -- tests for src/store/schema.c: migrations from databases
// that older versions of antenne left, on SQLite and PostgreSQL.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

#include "auth/auth.h"
#include "channel/channel.h"

/* The schema as version 2 left it, as it shipped (SQLite); @INT@ and @NOW@
 * are the PostgreSQL spellings where they differ. */
static const char schema_v2[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value @INT@ NOT NULL);"
    "INSERT INTO meta (key, value) VALUES ('revision', 17);"
    "CREATE TABLE channels ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  title TEXT,"
    "  number @INT@ NOT NULL DEFAULT 0,"
    "  \"group\" TEXT,"
    "  logo TEXT,"
    "  tvg_id TEXT,"
    "  sources TEXT NOT NULL DEFAULT '[]',"
    "  on_demand @INT@ NOT NULL DEFAULT 0,"
    "  idle_timeout @INT@ NOT NULL DEFAULT 10,"
    "  lag_policy TEXT NOT NULL DEFAULT 'skip',"
    "  created_at TEXT NOT NULL DEFAULT (@NOW@),"
    "  updated_at TEXT NOT NULL DEFAULT (@NOW@));"
    "ALTER TABLE channels ADD COLUMN hls_target @INT@ NOT NULL DEFAULT 2;"
    "ALTER TABLE channels ADD COLUMN hls_window @INT@ NOT NULL DEFAULT 6;"
    "ALTER TABLE channels ADD COLUMN hls_part_ms @INT@ NOT NULL DEFAULT 333;"
    "INSERT INTO channels (name, title, number, sources, on_demand, lag_policy, hls_target) "
    "VALUES ('old', 'From version 2', 7, '[\"udp://@239.1.1.1:1234\"]', 1, 'close', 4);";

/* text with every `word` replaced by `value`: a new string. */
static char *replace(char *text, const char *word, const char *value)
{
    char *at;
    while ((at = strstr(text, word))) {
        char *next;
        assert_true(asprintf(&next, "%.*s%s%s", (int)(at - text), text, value, at + strlen(word)) > 0);
        free(text);
        text = next;
    }
    return text;
}

/* Empties the test's database (the fixture's store must be closed). */
static void drop_database(fixture_t *f)
{
    if (fixture_pg) {
        char sql[256];
        snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE; CREATE SCHEMA %s", f->schema, f->schema);
        fixture_sql(f, sql);
        return;
    }
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/antenne.db%s", f->dir, suffixes[i]);
        unlink(path);
    }
}

/* Replaces the database of the fixture by one at schema version `version`. */
static void make_old_database(fixture_t *f, int version)
{
    store_close(f->store);
    f->store = NULL;
    drop_database(f);
    char *sql = strdup(schema_v2);
    assert_non_null(sql);
    sql = replace(sql, "@INT@", fixture_pg ? "BIGINT" : "INTEGER");
    sql = replace(sql, "@NOW@", fixture_pg ? "now()::text" : "strftime('%Y-%m-%dT%H:%M:%SZ','now')");
    fixture_sql(f, sql);
    free(sql);
    char set_version[128];
    if (fixture_pg)
        snprintf(set_version, sizeof(set_version),
                 "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (%d)",
                 version);
    else
        snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d", version);
    fixture_sql(f, set_version);
}

static void test_migrates_a_version_2_database(void **state)
{
    fixture_t *f = *state;
    make_old_database(f, 2);
    f->store = fixture_open(f);
    assert_int_equal(fixture_revision(f->store), 17); /* kept; a migration is no change */

    channel_config_t c = {0};
    assert_int_equal(store_get(f->store, &kind_channels, "old", &c), 0);
    assert_string_equal(c.title, "From version 2");
    assert_int_equal(c.number, 7);
    assert_true(c.on_demand);
    assert_int_equal(c.lag_policy, LAG_CLOSE);
    assert_int_equal(c.hls_target, 4);
    assert_int_equal(c.hls_window, 6);
    assert_int_equal(c.sources.count, 1);
    channel_config_clear(&c);

    /* The new tables are there and work. */
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("new");
    s.token_id = 99;
    assert_int_equal(store_insert(f->store, &kind_subscribers, &s), 0);
    fields_clear(subscriber_fields, subscriber_field_count, &s);
    store_session_t session = {.subscriber = "new", .channel = "old", .device = "d", .started_at = 1000};
    int64_t *ended;
    size_t ended_count;
    assert_int_equal(store_session_begin(f->store, &session, 1, STORE_LIMIT_REFUSE_NEW, 0, &ended, &ended_count),
                     0);
    free(ended);
    assert_true(session.id > 0);

    /* Opening again finds nothing to do. */
    store_t *again = fixture_open(f);
    assert_int_equal(fixture_revision(again), fixture_revision(f->store));
    store_close(again);
}

static void test_refuses_a_newer_schema(void **state)
{
    fixture_t *f = *state;
    make_old_database(f, 99);
    store_t *s = NULL;
    char err[512] = "";
    assert_int_equal(store_open(f->dir, f->url, &s, err, sizeof(err)), -EPROTO);
    assert_null(s);
    assert_non_null(strstr(err, "99"));
    assert_non_null(strstr(err, "newer"));
}

typedef struct opener {
    const fixture_t *f;
    pthread_barrier_t *barrier;
    int rc;
    char err[512];
} opener_t;

static void *open_at_once(void *arg)
{
    opener_t *o = arg;
    store_t *s = NULL;
    pthread_barrier_wait(o->barrier);
    o->rc = store_open(o->f->dir, o->f->url, &s, o->err, sizeof(o->err));
    if (o->rc == 0) {
        int64_t rev;
        o->rc = store_revision(s, &rev);
    }
    store_close(s);
    return NULL;
}

/* Servers that start together on a fresh (or old) database: one migrates,
 * the others wait for it and find the work done. */
static void test_concurrent_opens_migrate_once(void **state)
{
    fixture_t *f = *state;
    for (int round = 0; round < 2; round++) {
        make_old_database(f, 2);
        if (round == 1)
            drop_database(f); /* a fresh database */
        enum { N = 6 };
        pthread_t threads[N];
        opener_t openers[N];
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, N);
        for (int i = 0; i < N; i++) {
            openers[i] = (opener_t){.f = f, .barrier = &barrier};
            assert_int_equal(pthread_create(&threads[i], NULL, open_at_once, &openers[i]), 0);
        }
        for (int i = 0; i < N; i++) {
            pthread_join(threads[i], NULL);
            if (openers[i].rc != 0)
                fail_msg("round %d, opener %d: %d %s", round, i, openers[i].rc, openers[i].err);
        }
        pthread_barrier_destroy(&barrier);
    }
    f->store = fixture_open(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_migrates_a_version_2_database),
        T(test_refuses_a_newer_schema),
        T(test_concurrent_opens_migrate_once),
    };
    return fixture_main(argc, argv, "store_schema", tests, ARRAY_SIZE(tests));
}
