// SPDX-License-Identifier: MIT
// sqlite.c -- the SQLite backend: one database file in WAL mode (readers
// never block the writer; a crash never leaves a half-written database).
// Write transactions start with BEGIN IMMEDIATE, which takes the database's
// single write lock at once (waiting up to BUSY_TIMEOUT_MS for it), so a
// transaction that reads then writes can never be overtaken by another
// connection or process in between.
#include "store/store_private.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000

struct store_rows {
    store_t *store;
    sqlite3_stmt *stmt;
};

static int sqlite_fail(store_t *store, sqlite3 *db, int rc)
{
    int extended = sqlite3_extended_errcode(db);
    store_fail(store, 0, "%s", sqlite3_errmsg(db));
    if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY)
        return -EEXIST;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    default:
        return -EIO;
    }
}

/* Opens a connection to path set up like every other: WAL, NORMAL sync
 * (durable across a process crash), foreign keys, the busy timeout. */
static int sqlite_connect(const char *path, sqlite3 **out, char *err, size_t err_size)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", NULL,
                     NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_size, "cannot set up %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        return -EIO;
    }
    *out = db;
    return 0;
}

static int sqlite_open(store_t *store, const char *path, char *err, size_t err_size)
{
    sqlite3 *db;
    int rc = sqlite_connect(path, &db, err, err_size);
    if (rc == 0)
        store->db = db;
    return rc;
}

static void sqlite_close(store_t *store)
{
    sqlite3_close(store->db);
    store->db = NULL;
}

static int bind_args(sqlite3_stmt *stmt, const store_arg_t *args, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int index = (int)i + 1, rc;
        switch (args[i].type) {
        case STORE_ARG_INT:
            rc = sqlite3_bind_int64(stmt, index, args[i].i);
            break;
        case STORE_ARG_TEXT:
            rc = sqlite3_bind_text(stmt, index, args[i].s, -1, SQLITE_TRANSIENT);
            break;
        default:
            rc = sqlite3_bind_null(stmt, index);
            break;
        }
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

static int sqlite_query(store_t *store, const char *sql, const store_arg_t *args, size_t count,
                        store_rows_t **out)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return sqlite_fail(store, store->db, rc);
    rc = bind_args(stmt, args, count);
    store_rows_t *rows = rc == SQLITE_OK ? malloc(sizeof(*rows)) : NULL;
    if (!rows) {
        rc = rc == SQLITE_OK ? SQLITE_NOMEM : rc;
        store_fail(store, 0, "cannot bind values: %s", sqlite3_errstr(rc));
        sqlite3_finalize(stmt);
        return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
    }
    rows->store = store;
    rows->stmt = stmt;
    *out = rows;
    return 0;
}

static int sqlite_next(store_rows_t *rows)
{
    int rc = sqlite3_step(rows->stmt);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return sqlite_fail(rows->store, rows->store->db, rc);
}

static const char *sqlite_text(store_rows_t *rows, int col)
{
    return (const char *)sqlite3_column_text(rows->stmt, col);
}

static int64_t sqlite_integer(store_rows_t *rows, int col) { return sqlite3_column_int64(rows->stmt, col); }

static int64_t sqlite_changes(store_rows_t *rows) { return sqlite3_changes(rows->store->db); }

static void sqlite_done(store_rows_t *rows)
{
    sqlite3_finalize(rows->stmt);
    free(rows);
}

static int sqlite_script(store_t *store, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(store->db, sql, NULL, NULL, &msg);
    sqlite3_free(msg); /* sqlite_fail reads the same message from the handle */
    return rc == SQLITE_OK ? 0 : sqlite_fail(store, store->db, rc);
}

static int sqlite_version_set(store_t *store, int version)
{
    char sql[64]; /* PRAGMA takes no bound values; version is our own number */
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
    return sqlite_script(store, sql);
}

/* ---- EPG import ------------------------------------------------------------------
 *
 * Rows are first written to a temporary table on the import's own
 * connection: that takes no lock on the database, however long the caller
 * takes to parse its XMLTV. Commit then swaps them in with one
 * INSERT ... SELECT inside a single write transaction, so the write lock is
 * held only for the copy. The temporary table lives in a file
 * (temp_store=FILE) and the page cache is capped (32 MiB): memory does not
 * grow with the number of rows. */

typedef struct sqlite_import {
    store_epg_import_t base;
    sqlite3 *db;
    sqlite3_stmt *insert;
    char *source;
} sqlite_import_t;

static void sqlite_import_free(sqlite_import_t *import)
{
    sqlite3_finalize(import->insert);
    sqlite3_close(import->db); /* drops the temporary table; rolls back what is open */
    free(import->source);
    free(import);
}

static int sqlite_epg_begin(store_t *store, const char *source, store_epg_import_t **out)
{
    sqlite_import_t *import = calloc(1, sizeof(*import));
    if (!import || !(import->source = strdup(source))) {
        free(import);
        return store_fail(store, -ENOMEM, "out of memory");
    }
    import->base.store = store;
    char err[512];
    int rc = sqlite_connect(store->target, &import->db, err, sizeof(err));
    if (rc < 0) {
        store_fail(store, rc, "EPG import: %s", err);
        free(import->source);
        free(import);
        return rc;
    }
    rc = sqlite3_exec(import->db,
                      "PRAGMA temp_store = FILE; PRAGMA cache_size = -32768;"
                      "CREATE TEMP TABLE import (channel TEXT NOT NULL, start INTEGER NOT NULL, "
                      "stop INTEGER NOT NULL, title TEXT, subtitle TEXT, description TEXT, category TEXT, "
                      "episode TEXT, icon TEXT);"
                      "BEGIN",
                      NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(import->db, "INSERT INTO temp.import VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                -1, &import->insert, NULL);
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(store, import->db, rc);
        sqlite_import_free(import);
        return rc;
    }
    *out = &import->base;
    return 0;
}

static int sqlite_epg_add(store_epg_import_t *base, const store_programme_t *p)
{
    sqlite_import_t *import = (sqlite_import_t *)base;
    sqlite3_stmt *stmt = import->insert;
    const char *texts[] = {p->title, p->subtitle, p->description, p->category, p->episode, p->icon};
    /* The strings outlive the step below: no copies. */
    int rc = sqlite3_bind_text(stmt, 1, p->channel, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(stmt, 2, p->start);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(stmt, 3, p->stop);
    for (int i = 0; rc == SQLITE_OK && i < (int)ARRAY_SIZE(texts); i++)
        rc = texts[i] ? sqlite3_bind_text(stmt, 4 + i, texts[i], -1, SQLITE_STATIC) : sqlite3_bind_null(stmt, 4 + i);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    int result = rc == SQLITE_DONE ? 0 : sqlite_fail(base->store, import->db, rc);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return result;
}

static int sqlite_epg_commit(store_epg_import_t *base)
{
    sqlite_import_t *import = (sqlite_import_t *)base;
    sqlite3 *db = import->db;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_exec(db, "COMMIT; BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "DELETE FROM main.programmes WHERE source = ?1", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(stmt, 1, import->source, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO main.programmes (" STORE_PROGRAMME_COLUMNS ") "
                                "SELECT ?1, channel, start, stop, title, subtitle, description, category, "
                                "episode, icon FROM temp.import",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(stmt, 1, import->source, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(stmt);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, STORE_BUMP_SQL "; COMMIT", NULL, NULL, NULL);
    int result = rc == SQLITE_OK ? 0 : sqlite_fail(base->store, db, rc);
    if (result < 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite_import_free(import);
    return result;
}

static void sqlite_epg_abort(store_epg_import_t *base) { sqlite_import_free((sqlite_import_t *)base); }

const store_backend_t store_sqlite_backend = {
    .name = "sqlite",
    .begin_write = "BEGIN IMMEDIATE",
    .now = "strftime('%Y-%m-%dT%H:%M:%SZ','now')",
    .int_type = "INTEGER",
    .serial = "INTEGER PRIMARY KEY AUTOINCREMENT",
    .collate = "",
    .lock_subscriber = NULL, /* BEGIN IMMEDIATE already locks the database */
    .migrate_begin = "BEGIN IMMEDIATE",
    .version_get = "PRAGMA user_version",
    .open = sqlite_open,
    .close = sqlite_close,
    .query = sqlite_query,
    .next = sqlite_next,
    .text = sqlite_text,
    .integer = sqlite_integer,
    .changes = sqlite_changes,
    .done = sqlite_done,
    .script = sqlite_script,
    .version_set = sqlite_version_set,
    .epg_begin = sqlite_epg_begin,
    .epg_add = sqlite_epg_add,
    .epg_commit = sqlite_epg_commit,
    .epg_abort = sqlite_epg_abort,
};
