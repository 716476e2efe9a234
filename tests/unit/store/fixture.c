// SPDX-License-Identifier: MIT
// fixture.c -- a fresh database per test, on SQLite or PostgreSQL (see fixture.h).
#include "fixture.h"

#include <ftw.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "channel/channel.h"

bool fixture_pg;
static const char *pg_url;
static unsigned schema_counter;

store_kind_t kind_channels, kind_subscribers, kind_packages, kind_epg_sources, kind_token_keys, kind_admin_tokens;
const store_kind_t *const all_kinds[6] = {&kind_channels,    &kind_subscribers, &kind_packages,
                                          &kind_epg_sources, &kind_token_keys,  &kind_admin_tokens};

static void init_kinds(void)
{
    kind_channels = (store_kind_t){"channels", channel_fields, channel_field_count, sizeof(channel_config_t)};
    kind_subscribers = (store_kind_t){"subscribers", subscriber_fields, subscriber_field_count, sizeof(subscriber_t)};
    kind_packages = (store_kind_t){"packages", package_fields, package_field_count, sizeof(package_t)};
    kind_epg_sources = (store_kind_t){"epg_sources", epg_source_fields, epg_source_field_count,
                                      sizeof(epg_source_t)};
    kind_token_keys = (store_kind_t){"token_keys", token_key_fields, token_key_field_count, sizeof(token_key_t)};
    kind_admin_tokens = (store_kind_t){"admin_tokens", admin_token_fields, admin_token_field_count,
                                       sizeof(admin_token_t)};
}

int64_t fixture_revision(store_t *store)
{
    int64_t rev = -1;
    assert_int_equal(store_revision(store, &rev), 0);
    return rev;
}

static void quiet(void *arg, const char *message) { (void)arg, (void)message; }

static PGconn *pg_admin(void)
{
    PGconn *conn = PQconnectdb(pg_url);
    if (PQstatus(conn) != CONNECTION_OK)
        fail_msg("cannot connect to $ANTENNE_TEST_PG_URL: %s", PQerrorMessage(conn));
    PQsetNoticeProcessor(conn, quiet, NULL);
    return conn;
}

static void pg_run(PGconn *conn, const char *sql)
{
    PGresult *result = PQexec(conn, sql);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(result);
}

void fixture_sql(const fixture_t *f, const char *sql)
{
    if (fixture_pg) {
        PGconn *conn = pg_admin();
        char set[128];
        snprintf(set, sizeof(set), "SET search_path TO %s", f->schema);
        pg_run(conn, set);
        pg_run(conn, sql);
        PQfinish(conn);
        return;
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/antenne.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

int fixture_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/antenne-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    if (fixture_pg) {
        snprintf(f->schema, sizeof(f->schema), "test_%ld_%u", (long)getpid(), schema_counter++);
        char sql[256];
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", f->schema, f->schema);
        PGconn *conn = pg_admin();
        pg_run(conn, sql);
        PQfinish(conn);
        /* libpq URI query parameters: options=-c search_path=<schema> */
        snprintf(f->url, sizeof(f->url), "%s%coptions=-csearch_path%%3D%s", pg_url, strchr(pg_url, '?') ? '&' : '?',
                 f->schema);
    }
    char err[512] = "";
    if (store_open(f->dir, f->url, &f->store, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
    *state = f;
    return 0;
}

store_t *fixture_open(const fixture_t *f)
{
    store_t *store = NULL;
    char err[512] = "";
    if (store_open(f->dir, f->url, &store, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
    return store;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int fixture_teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (fixture_pg) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", f->schema);
        PGconn *conn = pg_admin();
        pg_run(conn, sql);
        PQfinish(conn);
    }
    free(f);
    return 0;
}

int fixture_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests, size_t count)
{
    init_kinds();
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    if (!strcmp(backend, "postgresql")) {
        fixture_pg = true;
        pg_url = getenv("ANTENNE_TEST_PG_URL");
        if (!pg_url || !*pg_url) {
            const char *ci = getenv("CI");
            fprintf(stderr,
                    "\n"
                    "************************************************************************\n"
                    "* %s on PostgreSQL: ANTENNE_TEST_PG_URL is not set.\n"
                    "* Start a private server with\n"
                    "*   export ANTENNE_TEST_PG_URL=$(scripts/pg-test.sh start /tmp/antenne-pg)\n"
                    "* and stop it with scripts/pg-test.sh stop /tmp/antenne-pg.\n"
                    "* %s\n"
                    "************************************************************************\n\n",
                    group, ci && *ci ? "CI is set: a missing backend is a FAILURE." : "SKIPPED (CI is not set).");
            return ci && *ci ? 1 : 77;
        }
    } else if (strcmp(backend, "sqlite") != 0) {
        fprintf(stderr, "usage: %s [sqlite|postgresql]\n", argv[0]);
        return 2;
    }
    char name[128];
    snprintf(name, sizeof(name), "%s (%s)", group, fixture_pg ? "postgresql" : "sqlite");
    return _cmocka_run_group_tests(name, tests, count, NULL, NULL);
}
