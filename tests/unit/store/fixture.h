// SPDX-License-Identifier: MIT
// fixture.h -- what the store's tests share: each test gets a fresh, empty
// database on the backend named on the command line ("sqlite" or
// "postgresql"), so every test runs unchanged against both.
//
// PostgreSQL comes from $ANTENNE_TEST_PG_URL (scripts/pg-test.sh start DIR
// prints one). Each test works in a schema of its own, dropped afterwards,
// so test programs may share one database and run in parallel. Without the
// variable the PostgreSQL run fails under CI (a missing backend is a failure
// there) and is skipped loudly elsewhere.
#ifndef ANTENNE_TEST_STORE_FIXTURE_H
#define ANTENNE_TEST_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"

typedef struct fixture {
    char dir[64];      /* a fresh folder: the SQLite data folder */
    char schema[64];   /* PostgreSQL: this test's schema */
    char url[2048];    /* what store_open gets ("" for SQLite's default) */
    store_t *store;
} fixture_t;

/* Whether this run is against PostgreSQL. */
extern bool fixture_pg;

/* cmocka setup and teardown: a fresh database and a store open on it. */
int fixture_setup(void **state);
int fixture_teardown(void **state);
/* Another store_t on the test's database (as a second server would have). */
store_t *fixture_open(const fixture_t *f);
/* Runs SQL directly on the test's database (bypassing the store). */
void fixture_sql(const fixture_t *f, const char *sql);
/* argv[1] is the backend; returns the process exit status (77: skipped). */
int fixture_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests, size_t count);

/* Store kinds of every managed object. */
extern store_kind_t kind_channels, kind_subscribers, kind_packages, kind_epg_sources, kind_token_keys,
    kind_admin_tokens;
extern const store_kind_t *const all_kinds[6];

int64_t fixture_revision(store_t *store);

#endif
