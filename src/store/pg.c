// SPDX-License-Identifier: MIT
// pg.c -- the PostgreSQL backend, through libpq. Statements are written
// with ?N placeholders like SQLite's and rewritten to $N here; values go as
// typed parameters (int8 or text), never into the SQL text.
//
// A PGconn is not thread-safe: store.c serialises calls on a store_t. When
// the server went away (restart, failover, idle timeout), the next call that
// is not inside a transaction reconnects once and runs again; a transaction
// cut in the middle fails with -EIO and the following call reconnects.
#include "store/store_private.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_INT8_OID 20
#define PG_TEXT_OID 25
/* Advisory locks. One-key locks (a bigint) and two-key locks (two ints)
 * never collide. The schema's key is outside the range of hashtext(), which
 * the subscriber locks (one key, see store_pg_backend) use; EPG sources use
 * two keys: this class and hashtext(source). */
#define PG_SCHEMA_LOCK "7012452716"
#define PG_EPG_LOCK_CLASS "1634"

struct store_rows {
    PGresult *result;
    int row, count;
};

static void quiet_notices(void *arg, const char *message)
{
    (void)arg, (void)message; /* "relation already exists, skipping" and the like */
}

/* Copies libpq's message without its trailing newline. */
static int pg_fail(store_t *store, PGconn *conn, const PGresult *result)
{
    const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    const char *message = result ? PQresultErrorMessage(result) : NULL;
    if (!message || !*message)
        message = PQerrorMessage(conn);
    int len = (int)strcspn(message, "\n");
    if (PQstatus(conn) == CONNECTION_BAD)
        store_fail(store, 0, "lost the connection to PostgreSQL: %.*s", len, message);
    else
        store_fail(store, 0, "%.*s", len, message);
    if (!state)
        return -EIO;
    if (!strcmp(state, "23505"))
        return -EEXIST; /* unique_violation */
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        return -EBUSY; /* serialization_failure, deadlock_detected, lock_not_available */
    if (!strcmp(state, "53200"))
        return -ENOMEM;
    return -EIO;
}

static PGconn *pg_connect(const char *url, char *err, size_t err_size)
{
    /* The URL comes last and overrides these defaults. */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const values[] = {"10", "antenne", url, NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char shown[512];
        store_redact_url(url, shown, sizeof(shown));
        const char *message = PQerrorMessage(conn);
        snprintf(err, err_size, "cannot connect to %s: %.*s", shown, (int)strcspn(message, "\n"), message);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, quiet_notices, NULL);
    return conn;
}

static int pg_open(store_t *store, const char *url, char *err, size_t err_size)
{
    PGconn *conn = pg_connect(url, err, err_size);
    if (!conn)
        return -EIO;
    store->db = conn;
    return 0;
}

static void pg_close(store_t *store)
{
    PQfinish(store->db);
    store->db = NULL;
}

/* sql with ?N placeholders as $N (outside quotes); a new string. */
static char *pg_sql(const char *sql)
{
    char *out = strdup(sql);
    char quote = 0;
    for (char *p = out; p && *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '?' && p[1] >= '0' && p[1] <= '9') {
            *p = '$';
        }
    }
    return out;
}

/* Runs one statement (args) or several (script, no args) on conn. Returns
 * 0 with *out, or a negative errno with the message set. */
static int pg_run(store_t *store, PGconn *conn, const char *sql, const store_arg_t *args, size_t count,
                  bool script, PGresult **out)
{
    PGresult *result;
    if (script) {
        result = PQexec(conn, sql);
    } else {
        char *text = pg_sql(sql);
        const char **values = calloc(count + 1, sizeof(*values));
        Oid *types = calloc(count + 1, sizeof(*types));
        char (*numbers)[24] = calloc(count + 1, sizeof(*numbers));
        if (!text || !values || !types || !numbers) {
            free(text), free(values), free(types), free(numbers);
            return store_fail(store, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < count; i++) {
            switch (args[i].type) {
            case STORE_ARG_INT:
                snprintf(numbers[i], sizeof(numbers[i]), "%lld", (long long)args[i].i);
                values[i] = numbers[i];
                types[i] = PG_INT8_OID;
                break;
            case STORE_ARG_TEXT:
                values[i] = args[i].s;
                types[i] = PG_TEXT_OID;
                break;
            default:
                values[i] = NULL;
                types[i] = 0; /* the server infers it from where it goes */
                break;
            }
        }
        result = PQexecParams(conn, text, (int)count, types, values, NULL, NULL, 0);
        free(text), free(values), free(types), free(numbers);
    }
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        int rc = result ? pg_fail(store, conn, result) : store_fail(store, -ENOMEM, "out of memory");
        if (!result && PQstatus(conn) == CONNECTION_BAD)
            rc = pg_fail(store, conn, NULL);
        PQclear(result);
        return rc;
    }
    *out = result;
    return 0;
}

static int reconnect_failed(store_t *store)
{
    char shown[512];
    store_redact_url(store->target, shown, sizeof(shown));
    const char *message = PQerrorMessage(store->db);
    return store_fail(store, -EIO, "lost the connection to %s and could not reconnect: %.*s", shown,
                      (int)strcspn(message, "\n"), message);
}

/* pg_run on the store's connection, reconnecting once when it was lost
 * outside a transaction (nothing can have been half done). A dead socket
 * often shows only when a statement fails, hence the second chance. */
static int pg_run_store(store_t *store, const char *sql, const store_arg_t *args, size_t count, bool script,
                        PGresult **out)
{
    PGconn *conn = store->db;
    bool may_reconnect = !store->in_tx;
    if (may_reconnect && PQstatus(conn) == CONNECTION_BAD) {
        PQreset(conn); /* keeps the notice processor */
        may_reconnect = false;
        if (PQstatus(conn) != CONNECTION_OK)
            return reconnect_failed(store);
    }
    int rc = pg_run(store, conn, sql, args, count, script, out);
    if (rc < 0 && may_reconnect && PQstatus(conn) == CONNECTION_BAD) {
        PQreset(conn);
        if (PQstatus(conn) != CONNECTION_OK)
            return reconnect_failed(store);
        rc = pg_run(store, conn, sql, args, count, script, out);
    }
    return rc;
}

static int pg_query(store_t *store, const char *sql, const store_arg_t *args, size_t count, store_rows_t **out)
{
    store_rows_t *rows = calloc(1, sizeof(*rows));
    if (!rows)
        return store_fail(store, -ENOMEM, "out of memory");
    int rc = pg_run_store(store, sql, args, count, false, &rows->result);
    if (rc < 0) {
        free(rows);
        return rc;
    }
    rows->row = -1;
    rows->count = PQntuples(rows->result);
    *out = rows;
    return 0;
}

static int pg_next(store_rows_t *rows)
{
    if (rows->row + 1 >= rows->count)
        return 0;
    rows->row++;
    return 1;
}

static const char *pg_text(store_rows_t *rows, int col)
{
    return PQgetisnull(rows->result, rows->row, col) ? NULL : PQgetvalue(rows->result, rows->row, col);
}

static int64_t pg_integer(store_rows_t *rows, int col)
{
    const char *text = pg_text(rows, col);
    return text ? strtoll(text, NULL, 10) : 0;
}

static int64_t pg_changes(store_rows_t *rows) { return strtoll(PQcmdTuples(rows->result), NULL, 10); }

static void pg_done(store_rows_t *rows)
{
    PQclear(rows->result);
    free(rows);
}

static int pg_script(store_t *store, const char *sql)
{
    PGresult *result = NULL;
    int rc = pg_run_store(store, sql, NULL, 0, true, &result);
    if (rc == 0)
        PQclear(result);
    return rc;
}

static int pg_version_set(store_t *store, int version)
{
    const store_arg_t arg = store_arg_int(version);
    return store_exec(store, "UPDATE schema_version SET version = ?1", &arg, 1, NULL);
}

/* ---- EPG import ------------------------------------------------------------------
 *
 * One transaction on the import's own connection: lock the source against
 * other servers, delete its programmes, then COPY the new ones in as they come (libpq sends them in
 * large writes; nothing accumulates here). Readers see the old programmes
 * until the commit; other writers are not blocked (only the deleted rows
 * are locked, and nobody else writes them). */

typedef struct pg_import {
    store_epg_import_t base;
    PGconn *conn;
    strbuf_t line;
    char *source;   /* as a COPY field */
} pg_import_t;

/* Appends text as a field of COPY's text format. */
static void copy_field(strbuf_t *line, const char *text, bool first)
{
    if (!first)
        strbuf_append(line, "\t", 1);
    if (!text) {
        strbuf_append(line, "\\N", 2);
        return;
    }
    const char *run = text;
    for (const char *p = text; *p; p++) {
        const char *escape = NULL;
        switch (*p) {
        case '\\': escape = "\\\\"; break;
        case '\t': escape = "\\t"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        default: continue;
        }
        strbuf_append(line, run, (size_t)(p - run));
        strbuf_append(line, escape, 2);
        run = p + 1;
    }
    strbuf_puts(line, run);
}

static void pg_import_free(pg_import_t *import)
{
    PQfinish(import->conn); /* rolls back whatever is still open */
    strbuf_free(&import->line);
    free(import->source);
    free(import);
}

/* Ends COPY and collects its result. */
static int copy_end(pg_import_t *import)
{
    store_t *store = import->base.store;
    if (PQputCopyEnd(import->conn, NULL) != 1)
        return pg_fail(store, import->conn, NULL);
    int rc = 0;
    PGresult *result;
    while ((result = PQgetResult(import->conn))) {
        if (rc == 0 && PQresultStatus(result) != PGRES_COMMAND_OK)
            rc = pg_fail(store, import->conn, result);
        PQclear(result);
    }
    return rc;
}

static int pg_epg_begin(store_t *store, const char *source, store_epg_import_t **out)
{
    pg_import_t *import = calloc(1, sizeof(*import));
    if (!import)
        return store_fail(store, -ENOMEM, "out of memory");
    import->base.store = store;
    strbuf_init(&import->line);
    copy_field(&import->line, source, true);
    import->source = import->line.failed ? NULL : strbuf_steal(&import->line, NULL);
    char err[512];
    import->conn = import->source ? pg_connect(store->target, err, sizeof(err)) : NULL;
    if (!import->conn) {
        int rc = store_fail(store, import->source ? -EIO : -ENOMEM, "EPG import: %s",
                            import->source ? err : "out of memory");
        pg_import_free(import);
        return rc;
    }
    const store_arg_t arg = store_arg_text(source);
    PGresult *result = NULL;
    int rc = pg_run(store, import->conn, "BEGIN", NULL, 0, true, &result);
    PQclear(result);
    result = NULL;
    /* Two servers importing one source would both delete the old rows and
     * both insert theirs: the second is told to retry later instead. */
    if (rc == 0)
        rc = pg_run(store, import->conn, "SELECT pg_try_advisory_xact_lock(" PG_EPG_LOCK_CLASS ", hashtext(?1))",
                    &arg, 1, false, &result);
    if (rc == 0 && strcmp(PQgetvalue(result, 0, 0), "t") != 0)
        rc = store_fail(store, -EBUSY, "EPG source '%.80s' is being imported by another server", source);
    PQclear(result);
    result = NULL;
    if (rc == 0)
        rc = pg_run(store, import->conn, "DELETE FROM programmes WHERE source = ?1", &arg, 1, false, &result);
    PQclear(result);
    if (rc == 0) {
        result = PQexec(import->conn, "COPY programmes (" STORE_PROGRAMME_COLUMNS ") FROM STDIN");
        if (PQresultStatus(result) != PGRES_COPY_IN)
            rc = pg_fail(store, import->conn, result);
        PQclear(result);
    }
    if (rc < 0) {
        pg_import_free(import);
        return rc;
    }
    *out = &import->base;
    return 0;
}

static int pg_epg_add(store_epg_import_t *base, const store_programme_t *p)
{
    pg_import_t *import = (pg_import_t *)base;
    strbuf_t *line = &import->line;
    line->len = 0;
    strbuf_puts(line, import->source);
    copy_field(line, p->channel, false);
    strbuf_printf(line, "\t%lld\t%lld", (long long)p->start, (long long)p->stop);
    copy_field(line, p->title, false);
    copy_field(line, p->subtitle, false);
    copy_field(line, p->description, false);
    copy_field(line, p->category, false);
    copy_field(line, p->episode, false);
    copy_field(line, p->icon, false);
    strbuf_append(line, "\n", 1);
    if (line->failed)
        return store_fail(base->store, -ENOMEM, "out of memory");
    if (PQputCopyData(import->conn, line->data, (int)line->len) != 1)
        return pg_fail(base->store, import->conn, NULL);
    return 0;
}

static int pg_epg_commit(store_epg_import_t *base)
{
    pg_import_t *import = (pg_import_t *)base;
    store_t *store = base->store;
    int rc = copy_end(import);
    PGresult *result = NULL;
    if (rc == 0)
        rc = pg_run(store, import->conn, STORE_BUMP_SQL "; COMMIT", NULL, 0, true, &result);
    PQclear(result);
    pg_import_free(import);
    return rc;
}

/* Hanging up mid-COPY makes the server roll the whole transaction back. */
static void pg_epg_abort(store_epg_import_t *base) { pg_import_free((pg_import_t *)base); }

const store_backend_t store_pg_backend = {
    .name = "postgresql",
    .begin_write = "BEGIN",
    .now = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
    .int_type = "BIGINT",
    .serial = "BIGSERIAL PRIMARY KEY",
    .collate = " COLLATE \"C\"",
    .lock_subscriber = "SELECT pg_advisory_xact_lock(hashtext(?1))",
    .migrate_begin = "BEGIN;"
                     "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ");"
                     "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
                     "INSERT INTO schema_version (version) SELECT 0 "
                     "WHERE NOT EXISTS (SELECT 1 FROM schema_version)",
    .version_get = "SELECT version FROM schema_version",
    .open = pg_open,
    .close = pg_close,
    .query = pg_query,
    .next = pg_next,
    .text = pg_text,
    .integer = pg_integer,
    .changes = pg_changes,
    .done = pg_done,
    .script = pg_script,
    .version_set = pg_version_set,
    .epg_begin = pg_epg_begin,
    .epg_add = pg_epg_add,
    .epg_commit = pg_epg_commit,
    .epg_abort = pg_epg_abort,
};
