// SPDX-License-Identifier: MIT
// app_private.h -- private to app/: the server's state, shared by the files
// that wire the areas together (app.c life cycle and routing, access.c who
// may watch what, sessions.c streams being watched, api.c the admin API,
// viewing.c what viewers fetch, jobs.c store calls off the loop).
#ifndef ANTENNE_APP_PRIVATE_H
#define ANTENNE_APP_PRIVATE_H

#include "admin/admin.h"
#include "app/app.h"
#include "auth/auth.h"
#include "channel/channel.h"
#include "http/http.h"
#include "store/store.h"

#include <jansson.h>
#include <uv.h>

/* How channels are stored: the channel field table in the "channels" table. */
const store_kind_t *app_channel_kind(void);
const store_kind_t *app_subscriber_kind(void);
const store_kind_t *app_package_kind(void);
const store_kind_t *app_epg_source_kind(void);
const store_kind_t *app_token_key_kind(void);
const store_kind_t *app_admin_token_kind(void);

/* ---- access.c: everything a request is checked against, without the database ---- */

/* A read-only picture of subscribers, packages and keys, loaded on a worker
 * thread whenever the database changes and swapped in on the loop. */
typedef struct access_snapshot {
    subscriber_t *subscribers;       /* by name */
    size_t subscriber_count;
    const subscriber_t **by_token;   /* by token_id */
    package_t *packages;             /* by name, each one's channels sorted */
    size_t package_count;
    char **packaged;                 /* every channel in some package, sorted */
    size_t packaged_count;
    admin_token_t *admin_tokens;
    size_t admin_token_count;
    epg_source_t *epg_sources;
    size_t epg_source_count;
    auth_keyring_t *keyring;
} access_snapshot_t;

/* Loads a snapshot (worker thread). Returns 0 or a negative errno. */
int access_snapshot_load(store_t *store, access_snapshot_t **out);
void access_snapshot_free(access_snapshot_t *snapshot);
const subscriber_t *access_subscriber(const access_snapshot_t *snapshot, const char *name);
const subscriber_t *access_subscriber_by_token(const access_snapshot_t *snapshot, uint64_t token_id);
/* A channel in no package is free to air: anyone may watch it. */
bool access_channel_public(const access_snapshot_t *snapshot, const char *channel);
bool access_entitled(const access_snapshot_t *snapshot, const subscriber_t *subscriber, const char *channel);
/* Why the subscriber may not watch at all now from ip, or NULL. */
const char *access_refusal(const subscriber_t *subscriber, const char *ip, int64_t now_s);
/* Whether an Authorization header carries a known admin token. */
bool access_admin_ok(const access_snapshot_t *snapshot, const http_request_t *req);

/* First start: a signing key and an admin token (printed once) when there
 * are none. Runs before the loop. Returns 0 or a negative errno. */
int access_bootstrap(store_t *store);
/* A token signing key when there is none yet (also for the CLI). */
int access_signing_key_ensure(store_t *store);

/* A new admin API token: 24 random bytes, base64url (32 characters). Only
 * its SHA-256 is stored, under `name`; the token itself is written into out
 * (out_size at least ACCESS_ADMIN_TOKEN_SIZE) to be shown once. Returns 0,
 * -EEXIST when the name is taken, -ENOSPC when out is too small, or another
 * negative errno from the store; out holds no token on failure. */
#define ACCESS_ADMIN_TOKEN_SIZE 64
int access_admin_token_create(store_t *store, const char *name, char *out, size_t out_size);

/* ---- the server --------------------------------------------------------------------- */

typedef struct app_session app_session_t;

#define APP_EVENTS 1000
typedef struct app_event {
    uint64_t id;                /* 1, 2, ...: a client asks for those after the last it saw */
    uint64_t wall_ms;
    char channel[65];
    char kind[16];
    char message[200];
} app_event_t;

/* What a channel shows now and next, from the guide. */
typedef struct app_airing {
    char title[256];
    int64_t start, stop;        /* Unix seconds; 0: nothing known */
} app_airing_t;
typedef struct app_now_next {
    char channel[65];
    app_airing_t now, next;
} app_now_next_t;
typedef struct app_login app_login_t;

/* A player whose session the operator ended: the same device is refused
 * that channel for a while, or an HLS player would simply start anew. */
#define APP_KICKS 64
typedef struct app_kick {
    char subscriber[65];
    char channel[65];
    char device[33];
    uint64_t until_ms;          /* monotonic */
} app_kick_t;

typedef struct app {
    uv_loop_t *loop;
    app_options_t options;
    char archive_dir[4096];
    admin_web_t *web;           /* the web UI's files, or NULL */
    store_t *store;
    http_server_t *http;
    channel_t **channels;
    size_t channel_count;
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_signal_t sighup;
    uv_timer_t poll_timer;
    /* The poll in flight: its result is read on the loop. */
    uv_work_t poll;
    bool polling;
    bool poll_again;            /* a change was made while polling */
    uint64_t poll_gen;          /* polls started so far */
    struct app_pending *pending;   /* answers waiting for a poll to apply their change */
    int64_t revision;
    int64_t polled_revision;
    channel_config_t *polled;
    size_t polled_count;
    bool polled_changed;        /* the lists were reloaded (they may be empty) */
    access_snapshot_t *polled_access;
    int64_t *polled_ended;      /* of the sessions we run, those ended elsewhere */
    size_t polled_ended_count;
    int64_t *poll_ids;          /* the ids asked about */
    size_t poll_id_count;
    char **poll_names;          /* channels whose now/next to read, or NULL */
    size_t poll_name_count;
    app_now_next_t *polled_now_next;
    app_now_next_t *now_next;   /* by channel name */
    size_t now_next_count;
    uint64_t now_next_ms;       /* when it was read */
    int poll_error;
    bool stopping;

    access_snapshot_t *access;  /* current; never NULL once serving */
    char server_id[64];
    uint8_t fingerprint_key[32];

    app_session_t *sessions;    /* streams being watched here */
    app_kick_t kicks[APP_KICKS]; /* players the operator stopped, refused for a while */
    unsigned kick_next;
    uv_timer_t session_timer;   /* heartbeats and HLS time-outs */
    bool touching;
    uint64_t last_touch_ms;
    app_login_t *logins;        /* verified passwords, to skip argon2id */

    auth_lockout_t *lockout;
    auth_ratelimit_t *ratelimit;
    bool importing;             /* an EPG import runs */
    uv_timer_t lag_timer;       /* measures how late the loop runs a 100 ms timer */
    uint64_t lag_expected_us;
    uint64_t lag_last_us;
    uint64_t lag_max_us;        /* since the last scrape */
    uint64_t lag_warnings;      /* times it ran more than lag_warn_ms late */
    app_event_t events[APP_EVENTS];
    uint64_t event_next;        /* events so far */
} app_t;

channel_t *app_find_channel(app_t *app, const char *name, size_t *index);
/* Polls the database now (after a change made through the API). */
void app_poll_now(app_t *app);
/* Answers conn once a poll that started after now has been applied, so a
 * client that changed something sees it in effect on its next request. */
void app_answer_after_poll(app_t *app, http_conn_t *conn, int status, json_t *json);
void app_respond_json(http_conn_t *conn, int status, json_t *json);
/* {"error": message} with status. */
void app_respond_error(http_conn_t *conn, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The client's address without the port. */
void app_client_ip(http_conn_t *conn, char *out, size_t out_size);
/* "http://host:port" from the Host header (sanitised) or the listen address. */
void app_base_url(app_t *app, const http_request_t *req, char *out, size_t out_size);
/* Channels in playlist order (number, then name): a new array, or NULL. */
channel_t **app_sorted_channels(app_t *app);

/* ---- jobs.c: store calls on the thread pool for a request --------------------------- */

typedef struct app_job app_job_t;
typedef void (*app_job_fn)(app_job_t *job);
struct app_job {
    app_t *app;
    http_conn_t *conn;          /* NULL once the client has gone */
    uv_work_t work;
    app_job_fn run;             /* on a worker thread: store calls only */
    app_job_fn done;            /* on the loop; conn may be NULL */
    void (*cleanup)(app_job_t *job);
    int status;                 /* HTTP status the job decided */
    json_t *result;             /* response body, or NULL */
    char error[512];
    void *data;                 /* the job's own */
    char step[BUSY_NAME_MAX];   /* the loop's step that started it, for the watchdog */
};
/* Takes conn and runs job->run on the thread pool, then job->done on the
 * loop (which answers conn if it is still there), then frees the job. */
int app_job_start(app_t *app, http_conn_t *conn, app_job_t *job);
app_job_t *app_job_new(app_t *app, app_job_fn run, app_job_fn done);
/* The default done: answers job->result (or job->error) with job->status. */
void app_job_answer(app_job_t *job);

/* ---- sessions.c ---------------------------------------------------------------------- */

int sessions_init(app_t *app);
void sessions_close(app_t *app);
/* Starts an HTTP-TS stream of channel for subscriber, once the session is
 * allowed across the fleet: live, or from the archive from timeshift_ms on. */
void sessions_serve_ts(app_t *app, http_conn_t *conn, const http_request_t *req, channel_t *channel,
                       const subscriber_t *subscriber, uint64_t timeshift_ms);
/* Serves an HLS request of a subscriber, starting or refreshing the session. */
void sessions_serve_hls(app_t *app, http_conn_t *conn, const http_request_t *req, channel_t *channel,
                        const subscriber_t *subscriber, const char *rest);
/* After a new snapshot: ends what is no longer allowed. */
void sessions_recheck(app_t *app);
/* Ends local sessions whose ids are listed (ended elsewhere). */
void sessions_ended_elsewhere(app_t *app, const int64_t *ids, size_t count);
/* The number of running local sessions. */
size_t sessions_running(app_t *app);
/* The ids of the running local sessions: a new array. */
int64_t *sessions_ids(app_t *app, size_t *count);
/* Ends a local session by id (API kick); false when not here. */
bool sessions_kick(app_t *app, int64_t id, const char *reason);

/* ---- events.c --------------------------------------------------------------------------------- */

/* A channel_event_fn; ctx is the app. */
void events_add(void *ctx, const char *channel, const char *kind, const char *message);
/* {"events": [...]}: newest first, of one channel (or all: NULL), with ids
 * above `after`, at most limit. */
json_t *events_json(const app_t *app, const char *channel, uint64_t after, size_t limit);

/* ---- api.c: /api/v1 ------------------------------------------------------------------- */

void api_route(app_t *app, http_conn_t *conn, const http_request_t *req, char *path);

/* ---- guide.c: the programme guide ---------------------------------------------------------- */

/* /get/epg.xml[.gz]: the subscriber's channels, a day back and a week ahead. */
void guide_serve(app_t *app, http_conn_t *conn, const subscriber_t *sub, bool gzip);
/* GET /api/v1/channels/NAME/epg: programmes overlapping [from, to) (ms; 0: now, a day). */
void guide_api_programmes(app_t *app, http_conn_t *conn, const char *channel, int64_t from_ms, int64_t to_ms,
                          const char *path_prefix);
/* Imports an EPG source for these channels, recording the outcome with the
 * source (blocking: a worker thread, or the CLI). *report_json (may be NULL)
 * gets what it did. Returns 0 or a negative errno with err. */
int guide_import(store_t *store, const char *source_name, const channel_config_t *const *configs, size_t count,
                 json_t **report_json, char *err, size_t err_size);
/* Runs guide_import as a job, answering conn (may be NULL) with the report. */
int guide_import_start(app_t *app, http_conn_t *conn, const char *source);
/* Starts the import of a source that is due, if none runs. */
void guide_schedule(app_t *app);
/* Reads now and next of the channels (worker thread): a new array of count. */
app_now_next_t *guide_now_next(store_t *store, char *const *channels, size_t count);
/* {"now": {...}|null, "next": {...}|null} of a channel (new reference). */
json_t *guide_now_next_json(const app_t *app, const char *channel);

/* ---- viewing.c: /live, /get, /playlist.m3u --------------------------------------------- */

void viewing_route(app_t *app, http_conn_t *conn, const http_request_t *req, char *path);
/* A token for the subscriber (bound to ip when the subscriber says so). */
int viewing_issue_token(app_t *app, const subscriber_t *sub, const char *ip, char *out, size_t out_size);
/* The subscriber a token lets in now, or NULL with *why (expired, revoked, disabled, ...). */
const subscriber_t *viewing_token_subscriber(app_t *app, const char *token, const char *ip, const char **why);
/* Portal login: name and password checked as for playlists (lockout, cache,
 * argon2id off the loop), answered by portal_logged_in(). Wipes password. */
void viewing_portal_login(app_t *app, http_conn_t *conn, const http_request_t *req, const char *name,
                          char *password, size_t password_size);
void viewing_close(app_t *app);

/* ---- portal.c: /api/v1/portal, the viewers' API (the web portal uses it) -------------- */

void portal_route(app_t *app, http_conn_t *conn, const http_request_t *req, const char *rest);
/* Answers a login that succeeded: a token and when it expires. */
void portal_logged_in(app_t *app, http_conn_t *conn, const subscriber_t *sub, const char *ip);

#endif
