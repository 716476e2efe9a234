// SPDX-License-Identifier: MIT
// store.h -- the database behind everything an operator manages at run
// time. One interface over two backends: SQLite (WAL) is the embedded
// default, PostgreSQL is shared by a fleet of servers. Objects are described
// by field tables (core.h), so one set of functions stores them all.
//
// Errors are negative errno values: -EEXIST (a unique name or key is taken),
// -ENOENT (absent), -EBUSY (the database stayed locked by another writer),
// -EDQUOT (a connection limit, see store_session_begin), -EINVAL (bad
// arguments), -ENOMEM, and -EIO for anything else (connection lost, disk
// full...), always with a message in store_last_error().
#ifndef ANTENNE_STORE_H
#define ANTENNE_STORE_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

/* A kind of stored object: its table, its fields (the first is the unique
 * name), and the size of its C struct. */
typedef struct store_kind {
    const char *table;
    const field_t *fields;
    size_t field_count;
    size_t object_size;
} store_kind_t;

/* Opens the database and brings its schema up to date. `url` is NULL, ""
 * or "sqlite:" for <data_dir>/antenne.db (SQLite, folder and file created
 * if needed), "sqlite:PATH" for another SQLite file, or "postgres://..." /
 * "postgresql://..." (a libpq connection URI; the database must exist) for
 * PostgreSQL. Servers that open one database at the same time migrate it
 * once, the others wait. Returns 0, or a negative errno with a message in
 * err (never containing the URL's password): -EINVAL for another kind of
 * URL, -EPROTO for a schema newer than this program, -EIO when the database
 * cannot be reached.
 *
 * Every store call may block (disk, network): call them from a worker thread
 * (uv_queue_work), never from the event loop. A store_t may be used by
 * several threads at once; calls are serialised inside. A PostgreSQL
 * connection that dropped (server restart, failover) is made again by the
 * next call; a transaction it cut fails with -EIO and wrote nothing. */
int store_open(const char *data_dir, const char *url, store_t **out, char *err, size_t err_size);
/* Closes the connection (NULL is allowed). Commit or abort an EPG import first. */
void store_close(store_t *store);
/* "sqlite" or "postgresql". */
const char *store_backend(const store_t *store);

/* A number that grows with every change, by any process: every successful
 * insert, update and delete, EPG commit, and session that ends (not a
 * session's start nor its heartbeats). Bumped in the change's transaction. */
int store_revision(store_t *store, int64_t *revision);

/* All objects of a kind, ordered by name (bytewise): a new array of *count structs that
 * the caller frees with store_free_list(). */
int store_list(store_t *store, const store_kind_t *kind, void **objects, size_t *count);
void store_free_list(const store_kind_t *kind, void *objects, size_t count);
/* One page of them: those whose name contains `contains` (NULL or "": all,
 * case-insensitive), ordered by name, from `offset`, at most `limit`;
 * *total is how many match in all. */
int store_list_page(store_t *store, const store_kind_t *kind, const char *contains, int64_t offset, int64_t limit,
                    void **objects, size_t *count, int64_t *total);
/* Fills object (cleared by the caller afterwards). -ENOENT when absent. */
int store_get(store_t *store, const store_kind_t *kind, const char *name, void *object);
/* -EEXIST when the name is taken. */
int store_insert(store_t *store, const store_kind_t *kind, const void *object);
/* -ENOENT when absent; -EEXIST when it would take another's unique key. */
int store_update(store_t *store, const store_kind_t *kind, const void *object);
int store_delete(store_t *store, const store_kind_t *kind, const char *name);

/* Fields flagged FIELD_AUTO (created_at, updated_at: ISO 8601 UTC text,
 * "2026-11-28T14:00:00Z", the database's clock) are filled by the store and
 * ignored on insert and update: created_at is set on insert, updated_at on
 * insert and on every update; get and list read them back. Every kind's
 * table has both columns, even when its fields do not list them. Booleans
 * are stored as 0/1, enums as their choice's text, string lists as JSON. */

/* ---- sessions: who watches what, across every server on the database ---------- */

/* A session is one subscriber watching one channel from one device. Rows are
 * kept after they end: the table is also the audit log. Times are Unix ms. */
typedef struct store_session {
    int64_t id;           /* assigned by store_session_begin */
    char *subscriber;
    char *channel;
    char *device;         /* identifies the viewer's device (client IP + user agent digest) */
    char *client_ip;
    char *user_agent;
    char *server;         /* id of the server that delivers it */
    char *kind;           /* "ts" or "hls" */
    int64_t started_at;
    int64_t last_seen;
    int64_t ended_at;     /* 0 while it runs */
    char *end_reason;     /* NULL while it runs */
    int64_t bytes;
} store_session_t;

typedef enum store_limit_policy {
    STORE_LIMIT_REFUSE_NEW,   /* a stream over the limit is refused */
    STORE_LIMIT_END_OLDEST,   /* the oldest running streams end to make room */
} store_limit_policy_t;

/* Starts `session` (subscriber, channel, device, client_ip, user_agent,
 * server, kind and started_at set by the caller, bytes usually 0; id,
 * last_seen, ended_at set here), atomically with the limit check, as one
 * transaction that locks the subscriber against every other server
 * (started_at is "now" below, and the time of the ends it writes):
 *  1. running sessions of the subscriber with last_seen older than
 *     now - stale_ms end with reason "timed out" (stale_ms <= 0: never);
 *  2. a running session of the same subscriber and device ends with reason
 *     "replaced" and does not count (zapping never trips a limit; a NULL
 *     device replaces nothing);
 *  3. if max_streams > 0 and max_streams or more sessions still run:
 *     REFUSE_NEW returns -EDQUOT and writes nothing; END_OLDEST ends the
 *     oldest ones ("ended by a newer stream") until there is room.
 * The ids of sessions ended by steps 2 and 3 come back in *ended (caller
 * frees; may be NULL with *ended_count 0), so the caller can close its own;
 * other servers learn of them through store_sessions_ended(). Bumps the
 * revision when it ended a session. */
int store_session_begin(store_t *store, store_session_t *session, int64_t max_streams, store_limit_policy_t policy,
                        int64_t stale_ms, int64_t **ended, size_t *ended_count);
/* Heartbeat for running sessions: last_seen = now_ms and bytes = bytes[i]
 * for each id (one transaction). */
int store_session_touch(store_t *store, const int64_t *ids, const int64_t *bytes, size_t count, int64_t now_ms);
/* Ends one session (no-op if it already ended; -ENOENT if there is no such
 * id). bytes only raises the count the heartbeats kept, so 0 keeps it.
 * Bumps the revision when it ended it. */
int store_session_end(store_t *store, int64_t id, int64_t now_ms, const char *reason, int64_t bytes);
/* Ends every running session of a subscriber (revocation). Bumps the
 * revision when it ended any. */
int store_session_end_subscriber(store_t *store, const char *subscriber, int64_t now_ms, const char *reason);
/* Of the given ids, those that have ended (by anyone): a new array in
 * *ended (caller frees). */
int store_sessions_ended(store_t *store, const int64_t *ids, size_t count, int64_t **ended, size_t *ended_count);

typedef struct store_session_filter {
    const char *subscriber;   /* NULL: any */
    const char *channel;      /* NULL: any */
    int64_t from, to;         /* started_at within [from, to); 0: open */
    bool running_only;
    size_t limit;             /* 0: 1000 */
} store_session_filter_t;
/* Sessions matching the filter, newest first: a new array (store_session_free). */
int store_session_query(store_t *store, const store_session_filter_t *filter, store_session_t **sessions,
                        size_t *count);
void store_session_free(store_session_t *sessions, size_t count);
/* The number of running sessions of a subscriber (not seen for stale_ms: not
 * counted; stale_ms <= 0: every running one counts). */
int store_session_count(store_t *store, const char *subscriber, int64_t now_ms, int64_t stale_ms, int64_t *count);

/* ---- EPG programmes ------------------------------------------------------------ */

typedef struct store_programme {
    const char *channel;      /* our channel name */
    int64_t start, stop;      /* Unix seconds, UTC */
    const char *title;
    const char *subtitle;     /* NULL: none; likewise below */
    const char *description;
    const char *category;
    const char *episode;      /* xmltv_ns episode-num */
    const char *icon;
} store_programme_t;

/* An import replaces every programme of one EPG source in one transaction:
 * begin, add many, then commit (all become visible at once) or abort
 * (nothing changes). It runs on a connection of its own, so other calls on
 * the store go on meanwhile and see the old programmes until the commit;
 * memory does not grow with the number of programmes. One import at a time
 * per store (begin: -EBUSY); the import belongs to one thread. add refuses a
 * programme without a channel or that stops before it starts (-EINVAL); on
 * PostgreSQL, some errors in the rows only surface at commit. */
typedef struct store_epg_import store_epg_import_t;
int store_epg_begin(store_t *store, const char *source, store_epg_import_t **import);
int store_epg_add(store_epg_import_t *import, const store_programme_t *programme);
int store_epg_commit(store_epg_import_t *import);   /* frees import; bumps the revision */
void store_epg_abort(store_epg_import_t *import);   /* frees import */

/* Calls fn for each programme of the channels that overlaps [from, to)
 * (start < to and stop > from), ordered by channel (as given) then start.
 * Strings are valid during the call only. fn returns 0 to go on, anything
 * else stops and is returned. The store stays locked during the walk: fn
 * must not call the store. */
int store_epg_each(store_t *store, const char *const *channels, size_t channel_count, int64_t from, int64_t to,
                   int (*fn)(void *ctx, const store_programme_t *programme), void *ctx);

/* The last database error, for logs (shared by the threads using the store:
 * read it right after the failed call). */
const char *store_last_error(store_t *store);

#endif
