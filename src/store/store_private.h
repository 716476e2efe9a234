// SPDX-License-Identifier: MIT
// store_private.h -- private to store/: the small interface each database
// backend (sqlite.c, pg.c) implements, and what the backend-neutral files
// (store.c, schema.c, session.c, epg.c) share.
//
// The neutral layer writes every statement once, with ?1..?N placeholders
// (pg.c rewrites them to $1..$N), and passes values as store_arg_t, never as
// SQL text. What differs between the two dialects is spelled out in
// store_backend_t: a few type names, the current time, how a write
// transaction starts and locks, and how bulk EPG rows get in.
//
// Locking: `lock` serialises every public call on a store_t (neither a
// sqlite3 handle shared by threads nor a PGconn may interleave statements of
// two transactions). Public functions take it; the helpers below expect it
// held. An EPG import runs on a connection of its own and does not hold it.
#ifndef ANTENNE_STORE_PRIVATE_H
#define ANTENNE_STORE_PRIVATE_H

#include "store/store.h"

#include <pthread.h>
#include <stdbool.h>

typedef enum store_arg_type {
    STORE_ARG_NULL,
    STORE_ARG_INT,
    STORE_ARG_TEXT,
} store_arg_type_t;

/* A value bound to a placeholder; text is borrowed for the call. */
typedef struct store_arg {
    store_arg_type_t type;
    int64_t i;
    const char *s;
} store_arg_t;

static inline store_arg_t store_arg_int(int64_t v) { return (store_arg_t){STORE_ARG_INT, v, NULL}; }
static inline store_arg_t store_arg_text(const char *s)
{
    return (store_arg_t){s ? STORE_ARG_TEXT : STORE_ARG_NULL, 0, s};
}

/* A statement being run: its result rows are read one at a time. */
typedef struct store_rows store_rows_t;

/* What an EPG import starts with; each backend's import embeds it first. */
struct store_epg_import {
    store_t *store;
};

typedef struct store_backend {
    const char *name;             /* "sqlite", "postgresql" */
    /* SQL spelling of what the dialects do differently. */
    const char *begin_write;      /* starts a transaction that will write */
    const char *now;              /* expression: current time, ISO 8601 UTC text */
    const char *int_type;         /* column type of a 64-bit integer */
    const char *serial;           /* column type + key of an auto-assigned id that is never reused */
    const char *collate;          /* after ORDER BY name: bytewise order */
    const char *lock_subscriber;  /* statement that locks subscriber ?1 until the transaction ends, or NULL */
    const char *migrate_begin;    /* starts the migration transaction, locked against other servers */
    const char *version_get;      /* the schema version (one integer) */

    /* Connects to target (a file path or a libpq URL); err gets a message
     * without passwords. Sets store->db. */
    int (*open)(store_t *store, const char *target, char *err, size_t err_size);
    void (*close)(store_t *store);
    /* Runs one statement with values bound to ?1..?N. Returns 0 with *rows
     * to read and release with done(), or a negative errno (message set). */
    int (*query)(store_t *store, const char *sql, const store_arg_t *args, size_t count, store_rows_t **rows);
    int (*next)(store_rows_t *rows);                    /* 1: a row, 0: the end, < 0: error */
    const char *(*text)(store_rows_t *rows, int col);   /* NULL for SQL NULL */
    int64_t (*integer)(store_rows_t *rows, int col);
    int64_t (*changes)(store_rows_t *rows);             /* rows written, once next() returned 0 */
    void (*done)(store_rows_t *rows);
    /* Runs statements without values (transaction control, migrations). */
    int (*script)(store_t *store, const char *sql);
    int (*version_set)(store_t *store, int version);

    /* EPG import on a connection of its own: see store_epg_begin(). */
    int (*epg_begin)(store_t *store, const char *source, store_epg_import_t **import);
    int (*epg_add)(store_epg_import_t *import, const store_programme_t *programme);
    int (*epg_commit)(store_epg_import_t *import);   /* frees import */
    void (*epg_abort)(store_epg_import_t *import);   /* frees import */
} store_backend_t;

extern const store_backend_t store_sqlite_backend;
extern const store_backend_t store_pg_backend;

struct store {
    const store_backend_t *backend;
    void *db;               /* sqlite3 * or PGconn * */
    char *target;           /* file path or libpq URL: for the import's own connection */
    pthread_mutex_t lock;   /* see above */
    bool in_tx;             /* a transaction is open on db */
    bool importing;         /* an EPG import runs (under lock) */
    pthread_mutex_t error_lock;
    char error[512];
};

/* The columns of programmes an import writes, in the order of its values. */
#define STORE_PROGRAMME_COLUMNS "source, channel, start, stop, title, subtitle, description, category, episode, icon"
/* Bumps the change counter (last statement of a write transaction). */
#define STORE_BUMP_SQL "UPDATE meta SET value = value + 1 WHERE key = 'revision'"

/* Sets the message store_last_error() returns; returns rc. Any thread. */
int store_fail(store_t *store, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A URL as it may be shown: the password, if any, replaced by "***". */
void store_redact_url(const char *url, char *out, size_t out_size);

/* Runs a statement to its end; *changes (may be NULL) gets the rows written. */
int store_exec(store_t *store, const char *sql, const store_arg_t *args, size_t count, int64_t *changes);
/* Runs a query of one integer; -ENOENT when it returns no row. */
int store_query_int(store_t *store, const char *sql, const store_arg_t *args, size_t count, int64_t *value);
/* A write transaction: begin, then end with the result so far, which commits
 * (bumping the revision first when bump is set) if it is >= 0 and rolls back
 * otherwise. Returns the result, or the commit's error. */
int store_tx_begin(store_t *store);
int store_tx_end(store_t *store, int result, bool bump);

int store_migrate(store_t *store, char *err, size_t err_size);

#endif
