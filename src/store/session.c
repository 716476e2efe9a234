// SPDX-License-Identifier: MIT
// session.c -- who watches what, across every server on one database. A
// session row is written when a stream starts, refreshed by heartbeats and
// ended (never deleted: the table is the audit log); ended_at is 0 while it
// runs.
//
// The connection limit holds across servers because store_session_begin
// checks and inserts in one write transaction that first takes a lock on
// the subscriber: SQLite's BEGIN IMMEDIATE locks the whole database,
// PostgreSQL takes pg_advisory_xact_lock(hashtext(subscriber)), so of two
// servers starting a subscriber's third stream, the second one counts the
// first one's row.
#include "store/store_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_COLUMNS                                                                                      \
    "id, subscriber, channel, device, client_ip, user_agent, server, kind, started_at, last_seen, ended_at, " \
    "end_reason, bytes"
/* At most this many ids in one IN (...) list. */
#define IDS_PER_QUERY 500

typedef struct id_list {
    int64_t *ids;
    size_t count, cap;
} id_list_t;

static int id_list_push(id_list_t *list, int64_t id)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        int64_t *ids = realloc(list->ids, cap * sizeof(*ids));
        if (!ids)
            return -ENOMEM;
        list->ids = ids;
        list->cap = cap;
    }
    list->ids[list->count++] = id;
    return 0;
}

/* Runs a statement whose rows are single ids and appends them to list. */
static int collect_ids(store_t *store, const char *sql, const store_arg_t *args, size_t count, id_list_t *list)
{
    store_rows_t *rows;
    int rc = store->backend->query(store, sql, args, count, &rows);
    if (rc < 0)
        return rc;
    while ((rc = store->backend->next(rows)) > 0)
        if (id_list_push(list, store->backend->integer(rows, 0)) < 0) {
            rc = -ENOMEM;
            break;
        }
    store->backend->done(rows);
    return rc;
}

int store_session_begin(store_t *store, store_session_t *session, int64_t max_streams, store_limit_policy_t policy,
                        int64_t stale_ms, int64_t **ended, size_t *ended_count)
{
    *ended = NULL;
    *ended_count = 0;
    if (!session->subscriber || !session->channel || session->started_at <= 0)
        return store_fail(store, -EINVAL, "a session needs a subscriber, a channel and a start time");
    const int64_t now = session->started_at;
    const store_arg_t subscriber = store_arg_text(session->subscriber);
    id_list_t ids = {0};
    int64_t timed_out = 0, running = 0, new_id = 0;

    pthread_mutex_lock(&store->lock);
    int rc = store_tx_begin(store);
    if (rc < 0)
        goto out;
    if (store->backend->lock_subscriber)
        rc = store_exec(store, store->backend->lock_subscriber, &subscriber, 1, NULL);
    /* 1. Sessions not seen for stale_ms end. */
    if (rc == 0 && stale_ms > 0) {
        const store_arg_t args[] = {subscriber, store_arg_int(now), store_arg_int(now - stale_ms),
                                    store_arg_text("timed out")};
        rc = store_exec(store,
                        "UPDATE sessions SET ended_at = ?2, end_reason = ?4 "
                        "WHERE subscriber = ?1 AND ended_at = 0 AND last_seen < ?3",
                        args, ARRAY_SIZE(args), &timed_out);
    }
    /* 2. The same device zaps: its running session is replaced. */
    if (rc == 0 && session->device) {
        const store_arg_t args[] = {subscriber, store_arg_int(now), store_arg_text(session->device),
                                    store_arg_text("replaced")};
        rc = collect_ids(store,
                         "UPDATE sessions SET ended_at = ?2, end_reason = ?4 "
                         "WHERE subscriber = ?1 AND device = ?3 AND ended_at = 0 RETURNING id",
                         args, ARRAY_SIZE(args), &ids);
    }
    /* 3. The limit. */
    if (rc == 0 && max_streams > 0)
        rc = store_query_int(store, "SELECT COUNT(*) FROM sessions WHERE subscriber = ?1 AND ended_at = 0",
                             &subscriber, 1, &running);
    if (rc == 0 && max_streams > 0 && running >= max_streams) {
        if (policy == STORE_LIMIT_REFUSE_NEW) {
            rc = store_fail(store, -EDQUOT, "subscriber '%.80s' already watches %lld of %lld streams",
                            session->subscriber, (long long)running, (long long)max_streams);
        } else {
            const store_arg_t args[] = {subscriber, store_arg_int(now), store_arg_int(running - max_streams + 1),
                                        store_arg_text("ended by a newer stream")};
            rc = collect_ids(store,
                             "UPDATE sessions SET ended_at = ?2, end_reason = ?4 WHERE id IN "
                             "(SELECT id FROM sessions WHERE subscriber = ?1 AND ended_at = 0 "
                             "ORDER BY started_at, id LIMIT ?3) RETURNING id",
                             args, ARRAY_SIZE(args), &ids);
        }
    }
    if (rc == 0) {
        const store_arg_t args[] = {
            subscriber,
            store_arg_text(session->channel),
            store_arg_text(session->device),
            store_arg_text(session->client_ip),
            store_arg_text(session->user_agent),
            store_arg_text(session->server),
            store_arg_text(session->kind),
            store_arg_int(now),
            store_arg_int(session->bytes),
        };
        rc = store_query_int(store,
                             "INSERT INTO sessions (subscriber, channel, device, client_ip, user_agent, server, "
                             "kind, started_at, last_seen, ended_at, bytes) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 0, ?9) RETURNING id",
                             args, ARRAY_SIZE(args), &new_id);
    }
    rc = store_tx_end(store, rc, timed_out > 0 || ids.count > 0);
out:
    pthread_mutex_unlock(&store->lock);
    if (rc < 0) {
        free(ids.ids);
        return rc;
    }
    session->id = new_id;
    session->last_seen = now;
    session->ended_at = 0;
    *ended = ids.ids;
    *ended_count = ids.count;
    return 0;
}

int store_session_touch(store_t *store, const int64_t *ids, const int64_t *bytes, size_t count, int64_t now_ms)
{
    if (count == 0)
        return 0;
    pthread_mutex_lock(&store->lock);
    int rc = store_tx_begin(store);
    if (rc == 0) {
        for (size_t i = 0; rc == 0 && i < count; i++) {
            const store_arg_t args[] = {store_arg_int(now_ms), store_arg_int(bytes[i]), store_arg_int(ids[i])};
            rc = store_exec(store, "UPDATE sessions SET last_seen = ?1, bytes = ?2 WHERE id = ?3 AND ended_at = 0",
                            args, ARRAY_SIZE(args), NULL);
        }
        rc = store_tx_end(store, rc, false); /* heartbeats are not changes anyone reloads for */
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

int store_session_end(store_t *store, int64_t id, int64_t now_ms, const char *reason, int64_t bytes)
{
    const store_arg_t args[] = {store_arg_int(id), store_arg_int(now_ms > 0 ? now_ms : 1),
                                store_arg_text(reason), store_arg_int(bytes)};
    int64_t changes = 0, exists = 0;
    pthread_mutex_lock(&store->lock);
    int rc = store_tx_begin(store);
    if (rc == 0) {
        rc = store_exec(store,
                        /* bytes only grows: a kick from elsewhere passes 0 */
                        "UPDATE sessions SET ended_at = ?2, end_reason = ?3, "
                        "bytes = CASE WHEN ?4 > bytes THEN ?4 ELSE bytes END "
                        "WHERE id = ?1 AND ended_at = 0",
                        args, ARRAY_SIZE(args), &changes);
        if (rc == 0 && changes == 0) {
            rc = store_query_int(store, "SELECT COUNT(*) FROM sessions WHERE id = ?1", args, 1, &exists);
            if (rc == 0 && !exists)
                rc = store_fail(store, -ENOENT, "no session %lld", (long long)id);
        }
        rc = store_tx_end(store, rc, changes > 0);
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

int store_session_end_subscriber(store_t *store, const char *subscriber, int64_t now_ms, const char *reason)
{
    const store_arg_t args[] = {store_arg_text(subscriber), store_arg_int(now_ms > 0 ? now_ms : 1),
                                store_arg_text(reason)};
    int64_t changes = 0;
    pthread_mutex_lock(&store->lock);
    int rc = store_tx_begin(store);
    if (rc == 0) {
        if (store->backend->lock_subscriber)
            rc = store_exec(store, store->backend->lock_subscriber, args, 1, NULL);
        if (rc == 0)
            rc = store_exec(store,
                            "UPDATE sessions SET ended_at = ?2, end_reason = ?3 "
                            "WHERE subscriber = ?1 AND ended_at = 0",
                            args, ARRAY_SIZE(args), &changes);
        rc = store_tx_end(store, rc, changes > 0);
    }
    pthread_mutex_unlock(&store->lock);
    return rc;
}

int store_sessions_ended(store_t *store, const int64_t *ids, size_t count, int64_t **ended, size_t *ended_count)
{
    id_list_t found = {0};
    store_arg_t args[IDS_PER_QUERY];
    int rc = 0;
    *ended = NULL;
    *ended_count = 0;
    pthread_mutex_lock(&store->lock);
    for (size_t at = 0; rc == 0 && at < count; at += IDS_PER_QUERY) {
        size_t n = MIN(count - at, (size_t)IDS_PER_QUERY);
        strbuf_t sql;
        strbuf_init(&sql);
        strbuf_puts(&sql, "SELECT id FROM sessions WHERE ended_at <> 0 AND id IN (");
        for (size_t i = 0; i < n; i++) {
            strbuf_printf(&sql, "%s?%zu", i ? ", " : "", i + 1);
            args[i] = store_arg_int(ids[at + i]);
        }
        strbuf_puts(&sql, ")");
        rc = sql.failed ? -ENOMEM : collect_ids(store, sql.data, args, n, &found);
        strbuf_free(&sql);
    }
    pthread_mutex_unlock(&store->lock);
    if (rc < 0) {
        free(found.ids);
        return rc;
    }
    *ended = found.ids;
    *ended_count = found.count;
    return 0;
}

static char *dup_text(store_t *store, store_rows_t *rows, int col, bool *oom)
{
    const char *text = store->backend->text(rows, col);
    char *copy = text ? strdup(text) : NULL;
    if (text && !copy)
        *oom = true;
    return copy;
}

static void session_clear(store_session_t *s)
{
    free(s->subscriber);
    free(s->channel);
    free(s->device);
    free(s->client_ip);
    free(s->user_agent);
    free(s->server);
    free(s->kind);
    free(s->end_reason);
}

void store_session_free(store_session_t *sessions, size_t count)
{
    if (!sessions)
        return;
    for (size_t i = 0; i < count; i++)
        session_clear(&sessions[i]);
    free(sessions);
}

int store_session_query(store_t *store, const store_session_filter_t *filter, store_session_t **sessions,
                        size_t *count)
{
    store_arg_t args[5];
    size_t n = 0;
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_puts(&sql, "SELECT " SESSION_COLUMNS " FROM sessions WHERE 1 = 1");
    if (filter->subscriber) {
        args[n++] = store_arg_text(filter->subscriber);
        strbuf_printf(&sql, " AND subscriber = ?%zu", n);
    }
    if (filter->channel) {
        args[n++] = store_arg_text(filter->channel);
        strbuf_printf(&sql, " AND channel = ?%zu", n);
    }
    if (filter->from) {
        args[n++] = store_arg_int(filter->from);
        strbuf_printf(&sql, " AND started_at >= ?%zu", n);
    }
    if (filter->to) {
        args[n++] = store_arg_int(filter->to);
        strbuf_printf(&sql, " AND started_at < ?%zu", n);
    }
    if (filter->running_only)
        strbuf_puts(&sql, " AND ended_at = 0");
    args[n++] = store_arg_int(filter->limit ? (int64_t)filter->limit : 1000);
    strbuf_printf(&sql, " ORDER BY started_at DESC, id DESC LIMIT ?%zu", n);
    if (sql.failed) {
        strbuf_free(&sql);
        return -ENOMEM;
    }

    store_session_t *array = NULL;
    size_t found = 0, cap = 0;
    bool oom = false;
    store_rows_t *rows;
    pthread_mutex_lock(&store->lock);
    int rc = store->backend->query(store, sql.data, args, n, &rows);
    strbuf_free(&sql);
    if (rc == 0) {
        while (!oom && (rc = store->backend->next(rows)) > 0) {
            if (found == cap) {
                cap = cap ? cap * 2 : 16;
                store_session_t *grown = realloc(array, cap * sizeof(*array));
                if (!grown) {
                    oom = true;
                    break;
                }
                array = grown;
            }
            store_session_t *s = &array[found++];
            s->id = store->backend->integer(rows, 0);
            s->subscriber = dup_text(store, rows, 1, &oom);
            s->channel = dup_text(store, rows, 2, &oom);
            s->device = dup_text(store, rows, 3, &oom);
            s->client_ip = dup_text(store, rows, 4, &oom);
            s->user_agent = dup_text(store, rows, 5, &oom);
            s->server = dup_text(store, rows, 6, &oom);
            s->kind = dup_text(store, rows, 7, &oom);
            s->started_at = store->backend->integer(rows, 8);
            s->last_seen = store->backend->integer(rows, 9);
            s->ended_at = store->backend->integer(rows, 10);
            s->end_reason = dup_text(store, rows, 11, &oom);
            s->bytes = store->backend->integer(rows, 12);
        }
        store->backend->done(rows);
    }
    pthread_mutex_unlock(&store->lock);
    if (oom)
        rc = -ENOMEM;
    if (rc < 0) {
        store_session_free(array, found);
        return rc;
    }
    *sessions = array;
    *count = found;
    return 0;
}

int store_session_count(store_t *store, const char *subscriber, int64_t now_ms, int64_t stale_ms, int64_t *count)
{
    const store_arg_t args[] = {store_arg_text(subscriber), store_arg_int(now_ms - stale_ms)};
    pthread_mutex_lock(&store->lock);
    int rc = store_query_int(store,
                             stale_ms > 0 ? "SELECT COUNT(*) FROM sessions "
                                            "WHERE subscriber = ?1 AND ended_at = 0 AND last_seen >= ?2"
                                          : "SELECT COUNT(*) FROM sessions WHERE subscriber = ?1 AND ended_at = 0",
                             args, stale_ms > 0 ? 2 : 1, count);
    pthread_mutex_unlock(&store->lock);
    return rc;
}
