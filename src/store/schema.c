// SPDX-License-Identifier: MIT
// schema.c -- the database schema as numbered migrations. A database is at
// the version stored in PRAGMA user_version; each step runs in its own
// transaction, so a crash mid-upgrade leaves the previous version intact.
#include "store/store_private.h"

#include <errno.h>
#include <stdio.h>

static const char *const migrations[] = {
    /* 1: channels and the change counter */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO meta (key, value) VALUES ('revision', 1);"
    "CREATE TABLE channels ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  title TEXT,"
    "  number INTEGER NOT NULL DEFAULT 0,"
    "  \"group\" TEXT,"
    "  logo TEXT,"
    "  tvg_id TEXT,"
    "  sources TEXT NOT NULL DEFAULT '[]',"
    "  on_demand INTEGER NOT NULL DEFAULT 0,"
    "  idle_timeout INTEGER NOT NULL DEFAULT 10,"
    "  lag_policy TEXT NOT NULL DEFAULT 'skip',"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),"
    "  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));",
    /* 2: HLS settings per channel */
    "ALTER TABLE channels ADD COLUMN hls_target INTEGER NOT NULL DEFAULT 2;"
    "ALTER TABLE channels ADD COLUMN hls_window INTEGER NOT NULL DEFAULT 6;"
    "ALTER TABLE channels ADD COLUMN hls_part_ms INTEGER NOT NULL DEFAULT 333;",
};

int store_migrate(store_t *store, char *err, size_t err_size)
{
    sqlite3_stmt *stmt;
    int version = 0;
    if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step(stmt) == SQLITE_ROW)
            version = sqlite3_column_int(stmt, 0);
        sqlite3_finalize(stmt);
    }
    int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));
    if (version > latest) {
        snprintf(err, err_size, "database schema version %d is newer than this antenne (%d)", version, latest);
        return -EPROTO;
    }
    for (int v = version; v < latest; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;", v + 1);
        char *msg = NULL;
        if (sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(store->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(store->db, pragma, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(store->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, err_size, "schema migration %d failed: %s", v + 1, msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
            return -EIO;
        }
    }
    return 0;
}
