// SPDX-License-Identifier: MIT
// schema.c -- the database schema as numbered migrations, one text for both
// backends. The few words the dialects spell differently are written as
// {int} (a 64-bit integer column), {serial} (an id column assigned by the
// database, never reused) and {now} (the current time as ISO 8601 UTC text).
//
// SQLite keeps the version in PRAGMA user_version, PostgreSQL in the table
// schema_version. The whole upgrade runs in one transaction that first locks
// out other servers (BEGIN IMMEDIATE; pg_advisory_xact_lock), reads the
// version inside it, and commits the new version with the new tables: a crash
// or a second server starting at the same time never sees half a schema.
//
// Migrations are history: never edit one that has shipped, add the next.
#include "store/store_private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define TIMESTAMPS                                      \
    "  created_at TEXT NOT NULL DEFAULT ({now}),"       \
    "  updated_at TEXT NOT NULL DEFAULT ({now})"

static const char *const migrations[] = {
    /* 1: channels and the change counter */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value {int} NOT NULL);"
    "INSERT INTO meta (key, value) VALUES ('revision', 1);"
    "CREATE TABLE channels ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  title TEXT,"
    "  number {int} NOT NULL DEFAULT 0,"
    "  \"group\" TEXT,"
    "  logo TEXT,"
    "  tvg_id TEXT,"
    "  sources TEXT NOT NULL DEFAULT '[]',"
    "  on_demand {int} NOT NULL DEFAULT 0,"
    "  idle_timeout {int} NOT NULL DEFAULT 10,"
    "  lag_policy TEXT NOT NULL DEFAULT 'skip',"
    TIMESTAMPS ");",
    /* 2: HLS settings per channel */
    "ALTER TABLE channels ADD COLUMN hls_target {int} NOT NULL DEFAULT 2;"
    "ALTER TABLE channels ADD COLUMN hls_window {int} NOT NULL DEFAULT 6;"
    "ALTER TABLE channels ADD COLUMN hls_part_ms {int} NOT NULL DEFAULT 333;",
    /* 3: subscribers, packages, EPG sources, keys, admin tokens (auth/objects.c);
     * sessions; EPG programmes. Booleans are integers 0/1, lists JSON text. */
    "CREATE TABLE subscribers ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  password_hash TEXT,"
    "  enabled {int} NOT NULL DEFAULT 1,"
    "  expires TEXT,"
    "  max_streams {int} NOT NULL DEFAULT 1,"
    "  limit_policy TEXT NOT NULL DEFAULT 'refuse-new',"
    "  packages TEXT NOT NULL DEFAULT '[]',"
    "  allowed_ips TEXT NOT NULL DEFAULT '[]',"
    "  bind_ip {int} NOT NULL DEFAULT 0,"
    "  notes TEXT,"
    "  token_id {int} NOT NULL UNIQUE,"
    TIMESTAMPS ");"
    "CREATE TABLE packages ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  title TEXT,"
    "  channels TEXT NOT NULL DEFAULT '[]',"
    TIMESTAMPS ");"
    "CREATE TABLE epg_sources ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  url TEXT,"
    "  refresh_hours {int} NOT NULL DEFAULT 12,"
    "  days {int} NOT NULL DEFAULT 7,"
    "  last_import TEXT,"
    "  last_result TEXT,"
    TIMESTAMPS ");"
    "CREATE TABLE token_keys ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  secret TEXT,"
    "  retired {int} NOT NULL DEFAULT 0,"
    TIMESTAMPS ");"
    "CREATE TABLE admin_tokens ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  hash TEXT,"
    TIMESTAMPS ");"
    /* Times in Unix ms; ended_at 0 while the session runs. */
    "CREATE TABLE sessions ("
    "  id {serial},"
    "  subscriber TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  device TEXT,"
    "  client_ip TEXT,"
    "  user_agent TEXT,"
    "  server TEXT,"
    "  kind TEXT,"
    "  started_at {int} NOT NULL,"
    "  last_seen {int} NOT NULL,"
    "  ended_at {int} NOT NULL DEFAULT 0,"
    "  end_reason TEXT,"
    "  bytes {int} NOT NULL DEFAULT 0);"
    "CREATE INDEX sessions_subscriber ON sessions (subscriber, ended_at);"
    "CREATE INDEX sessions_started ON sessions (started_at);"
    /* Times in Unix seconds. */
    "CREATE TABLE programmes ("
    "  source TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  start {int} NOT NULL,"
    "  stop {int} NOT NULL,"
    "  title TEXT,"
    "  subtitle TEXT,"
    "  description TEXT,"
    "  category TEXT,"
    "  episode TEXT,"
    "  icon TEXT);"
    "CREATE INDEX programmes_channel ON programmes (channel, start);",
    /* 4: failover between a channel's sources */
    "ALTER TABLE channels ADD COLUMN failover_ms {int} NOT NULL DEFAULT 1000;"
    "ALTER TABLE channels ADD COLUMN failback_s {int} NOT NULL DEFAULT 10;",
    /* 5: what makes a source unfit, and what plays when none is fit */
    "ALTER TABLE channels ADD COLUMN failover_cc_errors {int} NOT NULL DEFAULT 20;"
    "ALTER TABLE channels ADD COLUMN slate TEXT;",
    /* 6: the archive */
    "ALTER TABLE channels ADD COLUMN archive {int} NOT NULL DEFAULT 0;"
    "ALTER TABLE channels ADD COLUMN archive_days {int} NOT NULL DEFAULT 7;"
    "ALTER TABLE channels ADD COLUMN archive_max_mb {int} NOT NULL DEFAULT 0;",
};

/* The migration with {word} replaced by the backend's spelling. */
static int expand(const store_backend_t *backend, const char *text, strbuf_t *out)
{
    static const struct { const char *word; size_t offset; } words[] = {
        {"{int}", offsetof(store_backend_t, int_type)},
        {"{serial}", offsetof(store_backend_t, serial)},
        {"{now}", offsetof(store_backend_t, now)},
    };
    strbuf_init(out);
    while (*text) {
        const char *brace = strchr(text, '{');
        if (!brace) {
            strbuf_puts(out, text);
            break;
        }
        strbuf_append(out, text, (size_t)(brace - text));
        size_t i;
        for (i = 0; i < ARRAY_SIZE(words); i++) {
            size_t len = strlen(words[i].word);
            if (!strncmp(brace, words[i].word, len)) {
                strbuf_puts(out, *(const char *const *)((const char *)backend + words[i].offset));
                text = brace + len;
                break;
            }
        }
        if (i == ARRAY_SIZE(words))
            return -EINVAL; /* a typo in a migration */
    }
    return out->failed ? -ENOMEM : 0;
}

int store_migrate(store_t *store, char *err, size_t err_size)
{
    const store_backend_t *backend = store->backend;
    int latest = (int)ARRAY_SIZE(migrations);
    int64_t version = 0;
    if (err_size)
        *err = '\0';
    int rc = backend->script(store, backend->migrate_begin);
    if (rc < 0) {
        snprintf(err, err_size, "cannot lock the database schema: %s", store->error);
        return rc;
    }
    store->in_tx = true;
    rc = store_query_int(store, backend->version_get, NULL, 0, &version);
    if (rc < 0) {
        snprintf(err, err_size, "cannot read the schema version: %s", store->error);
    } else if (version > latest) {
        snprintf(err, err_size, "database schema version %lld is newer than this antenne (%d)",
                 (long long)version, latest);
        rc = -EPROTO;
    }
    for (int v = (int)version; rc == 0 && v < latest; v++) {
        strbuf_t sql;
        rc = expand(backend, migrations[v], &sql);
        if (rc == 0)
            rc = backend->script(store, sql.data);
        strbuf_free(&sql);
        if (rc < 0)
            snprintf(err, err_size, "schema migration %d failed: %s", v + 1, store->error);
    }
    if (rc == 0 && version < latest) {
        rc = backend->version_set(store, latest);
        if (rc < 0)
            snprintf(err, err_size, "cannot record schema version %d: %s", latest, store->error);
    }
    /* No revision bump: a new schema is not a change of what it holds. */
    rc = store_tx_end(store, rc, false);
    if (rc < 0 && err_size && !*err)
        snprintf(err, err_size, "cannot commit the schema: %s", store->error);
    return rc;
}
