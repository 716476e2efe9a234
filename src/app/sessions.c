// SPDX-License-Identifier: MIT
// sessions.c -- the streams subscribers watch on this server. Each one is
// a row in the store's sessions table, so a limit holds across every server
// on the database: a stream starts only once store_session_begin() allowed
// it. HTTP-TS sessions end with their connection; HLS sessions when the
// player stops fetching. Heartbeats keep the rows fresh, so the sessions of
// a server that died stop counting after SESSION_STALE_MS.
#include "app/app_private.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_STALE_MS 30000      /* a row not touched for this long no longer counts */
#define SESSION_HEARTBEAT_MS 5000
#define HLS_IDLE_MS 20000           /* an HLS player silent this long has stopped */
#define KICK_HOLD_MS 60000          /* a kicked player is refused its channel this long */

struct app_session {
    app_session_t *next;
    app_session_t *prev;
    app_t *app;
    int64_t id;                 /* 0 until the store started it */
    char subscriber[65];
    char channel[65];
    char device[33];
    char client_ip[64];
    char user_agent[256];
    bool hls;
    bool pending;               /* store_session_begin in flight */
    bool ended;                 /* the row is (being) ended; only the struct remains */
    char end_reason[128];
    channel_viewer_t *viewer;   /* HTTP-TS, while streaming */
    uint64_t last_seen_ms;
    uint64_t bytes;
    /* HLS: the player's connections as last seen, to count what they were
     * sent since (answers to blocking requests come after the request). */
    struct {
        uint64_t serial;
        uint64_t body_bytes;
    } conns[4];
    unsigned next_conn;
};

/* Counts what conn has been sent since the session last saw it. */
static void count_hls_bytes(app_session_t *s, http_conn_t *conn)
{
    uint64_t serial = http_conn_serial(conn), sent = http_conn_body_bytes(conn);
    for (unsigned i = 0; i < ARRAY_SIZE(s->conns); i++) {
        if (s->conns[i].serial == serial) {
            s->bytes += sent - s->conns[i].body_bytes;
            s->conns[i].body_bytes = sent;
            return;
        }
    }
    unsigned i = s->next_conn++ % ARRAY_SIZE(s->conns);
    s->conns[i].serial = serial;
    s->conns[i].body_bytes = sent;
}

/* ---- the list ---------------------------------------------------------------------- */

static void session_unlink(app_session_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else if (s->app->sessions == s)
        s->app->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

/* The device: the same address and player, whatever channel it asks for. */
static void device_of(http_conn_t *conn, const http_request_t *req, char *ip, size_t ip_size, char *agent,
                      size_t agent_size, char device[33])
{
    app_client_ip(conn, ip, ip_size);
    agent[0] = '\0';
    const http_slice_t *ua = http_header_get(req->headers, req->header_count, "User-Agent");
    if (ua)
        snprintf(agent, agent_size, "%.*s", (int)MIN(ua->len, agent_size - 1), ua->ptr);
    unsigned char digest[16];
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, sizeof(digest));
    crypto_generichash_update(&state, (const unsigned char *)ip, strlen(ip) + 1);
    crypto_generichash_update(&state, (const unsigned char *)agent, strlen(agent));
    crypto_generichash_final(&state, digest, sizeof(digest));
    sodium_bin2hex(device, 33, digest, sizeof(digest));
}

static app_session_t *session_new(app_t *app, http_conn_t *conn, const http_request_t *req, const char *channel,
                                  const subscriber_t *subscriber, bool hls)
{
    app_session_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->app = app;
    snprintf(s->subscriber, sizeof(s->subscriber), "%s", subscriber->name);
    snprintf(s->channel, sizeof(s->channel), "%s", channel);
    device_of(conn, req, s->client_ip, sizeof(s->client_ip), s->user_agent, sizeof(s->user_agent), s->device);
    s->hls = hls;
    s->pending = true;
    s->last_seen_ms = clock_wall_ms();
    s->next = app->sessions;
    if (app->sessions)
        app->sessions->prev = s;
    app->sessions = s;
    return s;
}

/* ---- store calls without a client waiting ------------------------------------------- */

typedef struct end_job {
    int64_t id;
    int64_t bytes;
    char reason[128];
} end_job_t;

static void end_run(app_job_t *job)
{
    end_job_t *e = job->data;
    if (store_session_end(job->app->store, e->id, (int64_t)clock_wall_ms(), e->reason, e->bytes) < 0)
        log_warn("sessions", "ending session %lld: %s", (long long)e->id, store_last_error(job->app->store));
}

static void end_done(app_job_t *job) { (void)job; }
static void free_data(app_job_t *job) { free(job->data); }

/* Records the end of a session in the store (once) and frees it. */
static void session_finish(app_session_t *s, const char *reason)
{
    app_t *app = s->app;
    session_unlink(s);
    if (s->id && !s->ended) {
        app_job_t *job = app_job_new(app, end_run, end_done);
        end_job_t *e = calloc(1, sizeof(*e));
        if (job && e) {
            e->id = s->id;
            e->bytes = (int64_t)s->bytes;
            snprintf(e->reason, sizeof(e->reason), "%s", s->end_reason[0] ? s->end_reason : reason);
            job->data = e;
            job->cleanup = free_data;
            app_job_start(app, NULL, job);
        } else {
            free(job);
            free(e);
        }
    }
    free(s);
}

/* Ends a session from this side: a TS viewer is disconnected (its end is
 * recorded when the connection has closed), an HLS one at once. */
static void session_stop(app_session_t *s, const char *reason)
{
    if (!s->end_reason[0])
        snprintf(s->end_reason, sizeof(s->end_reason), "%s", reason);
    if (s->viewer) {
        channel_viewer_close(s->viewer);
        return;
    }
    if (!s->pending)
        session_finish(s, reason);
    /* A pending one is finished when its begin returns. */
}

/* Refuses (403) a device that the operator kicked off this channel lately. */
static bool refuse_kicked(app_t *app, http_conn_t *conn, const char *subscriber, const char *channel,
                          const char *device)
{
    uint64_t now = clock_mono_us() / 1000;
    for (unsigned i = 0; i < APP_KICKS; i++) {
        const app_kick_t *k = &app->kicks[i];
        if (k->until_ms > now && !strcmp(k->device, device) && !strcmp(k->channel, channel) &&
            !strcmp(k->subscriber, subscriber)) {
            http_respond_text(conn, 403, "this stream was ended by the operator: try again in %llu s",
                              (unsigned long long)(k->until_ms - now + 999) / 1000);
            return true;
        }
    }
    return false;
}

/* ---- starting ------------------------------------------------------------------------- */

typedef struct begin_job {
    app_session_t *session;
    store_session_t row;
    int64_t max_streams;
    int policy;
    int64_t *ended;
    size_t ended_count;
    int rc;
    char rest[128];             /* HLS: what was asked for */
    uint64_t timeshift_ms;      /* TS: from the archive, from then on (0: live) */
    http_request_t req;         /* HLS: the request (query, ranges) */
} begin_job_t;

static void begin_run(app_job_t *job)
{
    begin_job_t *b = job->data;
    b->rc = store_session_begin(job->app->store, &b->row, b->max_streams,
                                b->policy == LIMIT_END_OLDEST ? STORE_LIMIT_END_OLDEST : STORE_LIMIT_REFUSE_NEW,
                                SESSION_STALE_MS, &b->ended, &b->ended_count);
    if (b->rc < 0 && b->rc != -EDQUOT)
        snprintf(job->error, sizeof(job->error), "database: %s", store_last_error(job->app->store));
}

static void begin_cleanup(app_job_t *job)
{
    begin_job_t *b = job->data;
    free(b->ended);
    free(b);
}

static void ts_on_end(void *opaque, uint64_t bytes)
{
    app_session_t *s = opaque;
    s->viewer = NULL;
    s->bytes = bytes;
    session_finish(s, "disconnected");
}

/* After the store answered: refuse, or start the stream. */
static bool begin_settle(app_job_t *job, channel_t **channel)
{
    begin_job_t *b = job->data;
    app_session_t *s = b->session;
    app_t *app = job->app;
    s->pending = false;
    s->id = b->row.id;
    sessions_ended_elsewhere(app, b->ended, b->ended_count);
    if (b->rc == -EDQUOT) {
        const subscriber_t *sub = access_subscriber(app->access, s->subscriber);
        if (job->conn)
            http_respond_text(job->conn, 403, "%s already watches %lld streams, the most allowed", s->subscriber,
                              (long long)(sub ? sub->max_streams : b->max_streams));
        log_info("sessions", "%s: refused %s from %s: stream limit reached", s->subscriber, s->channel,
                 s->client_ip);
        session_unlink(s);
        free(s);
        return false;
    }
    if (b->rc < 0) {
        if (job->conn)
            http_respond_text(job->conn, 503, "%s", job->error);
        session_unlink(s);
        free(s);
        return false;
    }
    log_info("sessions", "%s: session %lld on %s from %s (%s)", s->subscriber, (long long)s->id, s->channel,
             s->client_ip, s->hls ? "hls" : "ts");
    *channel = app_find_channel(app, s->channel, NULL);
    if (!job->conn || !*channel || s->end_reason[0]) {
        /* Stopped while the store answered (revoked, kicked), the channel
         * removed, or the client gone. */
        if (job->conn && s->end_reason[0])
            http_respond_text(job->conn, 403, "%s", s->end_reason);
        else if (job->conn)
            http_respond_text(job->conn, 404, "channel '%s' is gone", s->channel);
        session_finish(s, job->conn ? "channel removed" : "client left before the stream started");
        return false;
    }
    return true;
}

static void begin_ts_done(app_job_t *job)
{
    begin_job_t *b = job->data;
    channel_t *channel;
    if (!begin_settle(job, &channel))
        return;
    app_session_t *s = b->session;
    channel_watch_t watch = {ts_on_end, s};
    s->viewer = b->timeshift_ms ? channel_serve_timeshift(channel, job->conn, &watch, b->timeshift_ms)
                                : channel_serve_ts(channel, job->conn, &watch);
    if (!s->viewer)
        session_finish(s, "HEAD request");
}

static void begin_hls_done(app_job_t *job)
{
    begin_job_t *b = job->data;
    channel_t *channel;
    if (!begin_settle(job, &channel))
        return;
    count_hls_bytes(b->session, job->conn);
    channel_serve_hls(channel, job->conn, &b->req, b->rest);
    count_hls_bytes(b->session, job->conn);
}

static int begin(app_t *app, http_conn_t *conn, const http_request_t *req, app_session_t *s,
                 const subscriber_t *subscriber, app_job_fn done, const char *rest, uint64_t timeshift_ms)
{
    app_job_t *job = app_job_new(app, begin_run, done);
    begin_job_t *b = calloc(1, sizeof(*b));
    if (!job || !b) {
        free(job);
        free(b);
        return -ENOMEM;
    }
    b->session = s;
    b->max_streams = subscriber->max_streams;
    b->policy = subscriber->limit_policy;
    b->row = (store_session_t){.subscriber = s->subscriber,
                               .channel = s->channel,
                               .device = s->device,
                               .client_ip = s->client_ip,
                               .user_agent = s->user_agent,
                               .server = app->server_id,
                               .kind = s->hls ? "hls" : "ts",
                               .started_at = (int64_t)clock_wall_ms()};
    if (rest)
        snprintf(b->rest, sizeof(b->rest), "%s", rest);
    b->timeshift_ms = timeshift_ms;
    /* Its slices point into the connection's buffer, which stays put while
     * the connection is taken. */
    b->req = *req;
    job->data = b;
    job->cleanup = begin_cleanup;
    return app_job_start(app, conn, job);
}

void sessions_serve_ts(app_t *app, http_conn_t *conn, const http_request_t *req, channel_t *channel,
                       const subscriber_t *subscriber, uint64_t timeshift_ms)
{
    if (req->method == HTTP_HEAD) {
        if (timeshift_ms)
            channel_serve_timeshift(channel, conn, NULL, timeshift_ms);
        else
            channel_serve_ts(channel, conn, NULL);
        return;
    }
    char ip[64], agent[256], device[33];
    device_of(conn, req, ip, sizeof(ip), agent, sizeof(agent), device);
    if (refuse_kicked(app, conn, subscriber->name, channel_config(channel)->name, device))
        return;
    app_session_t *s = session_new(app, conn, req, channel_config(channel)->name, subscriber, false);
    if (!s) {
        app_respond_error(conn, 503, "out of memory");
        return;
    }
    if (begin(app, conn, req, s, subscriber, begin_ts_done, NULL, timeshift_ms) < 0) {
        session_unlink(s);
        free(s);
    }
}

void sessions_serve_hls(app_t *app, http_conn_t *conn, const http_request_t *req, channel_t *channel,
                        const subscriber_t *subscriber, const char *rest)
{
    const char *name = channel_config(channel)->name;
    char ip[64], agent[256], device[33];
    device_of(conn, req, ip, sizeof(ip), agent, sizeof(agent), device);
    for (app_session_t *s = app->sessions; s; s = s->next) {
        if (s->hls && !s->ended && !s->end_reason[0] && !strcmp(s->subscriber, subscriber->name) &&
            !strcmp(s->device, device) && !strcmp(s->channel, name)) {
            /* Requests that come while the session starts are served too: the
             * player asks for playlist and segments at once. */
            s->last_seen_ms = clock_wall_ms();
            count_hls_bytes(s, conn);
            channel_serve_hls(channel, conn, req, rest);
            count_hls_bytes(s, conn);
            return;
        }
    }
    /* A new session (or a zap: the store replaces the device's other one). */
    if (refuse_kicked(app, conn, subscriber->name, name, device))
        return;
    app_session_t *s = session_new(app, conn, req, name, subscriber, true);
    if (!s) {
        app_respond_error(conn, 503, "out of memory");
        return;
    }
    if (begin(app, conn, req, s, subscriber, begin_hls_done, rest, 0) < 0) {
        session_unlink(s);
        free(s);
    }
}

/* ---- ending ------------------------------------------------------------------------------ */

void sessions_ended_elsewhere(app_t *app, const int64_t *ids, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        for (app_session_t *s = app->sessions, *next; s; s = next) {
            next = s->next;
            if (s->id != ids[i] || s->ended)
                continue;
            s->ended = true; /* the row already says why */
            log_info("sessions", "%s: session %lld on %s ended elsewhere", s->subscriber, (long long)s->id,
                     s->channel);
            if (s->viewer)
                channel_viewer_close(s->viewer);
            else
                session_finish(s, "ended elsewhere");
        }
    }
}

bool sessions_kick(app_t *app, int64_t id, const char *reason)
{
    for (app_session_t *s = app->sessions; s; s = s->next) {
        if (s->id == id && !s->ended) {
            app_kick_t *k = &app->kicks[app->kick_next++ % APP_KICKS];
            snprintf(k->subscriber, sizeof(k->subscriber), "%s", s->subscriber);
            snprintf(k->channel, sizeof(k->channel), "%s", s->channel);
            snprintf(k->device, sizeof(k->device), "%s", s->device);
            k->until_ms = clock_mono_us() / 1000 + KICK_HOLD_MS;
            session_stop(s, reason);
            return true;
        }
    }
    return false;
}

size_t sessions_running(app_t *app)
{
    size_t n = 0;
    for (app_session_t *s = app->sessions; s; s = s->next)
        n += s->id && !s->ended;
    return n;
}

int64_t *sessions_ids(app_t *app, size_t *count)
{
    size_t n = 0;
    for (app_session_t *s = app->sessions; s; s = s->next)
        n += s->id && !s->ended;
    int64_t *ids = malloc((n + 1) * sizeof(*ids));
    *count = 0;
    if (!ids)
        return NULL;
    for (app_session_t *s = app->sessions; s; s = s->next)
        if (s->id && !s->ended)
            ids[(*count)++] = s->id;
    return ids;
}

void sessions_recheck(app_t *app)
{
    int64_t now_s = (int64_t)(clock_wall_ms() / 1000);
    for (app_session_t *s = app->sessions, *next; s; s = next) {
        next = s->next;
        if (s->ended || s->end_reason[0])
            continue;
        const subscriber_t *sub = access_subscriber(app->access, s->subscriber);
        const char *why = NULL;
        if (!sub)
            why = "revoked: subscriber deleted";
        else if ((why = access_refusal(sub, s->client_ip, now_s)) != NULL)
            ;
        else if (!access_channel_public(app->access, s->channel) && !access_entitled(app->access, sub, s->channel))
            why = "revoked: channel no longer in the subscriber's packages";
        if (!why)
            continue;
        char reason[128];
        snprintf(reason, sizeof(reason), "%s%s", strncmp(why, "revoked", 7) ? "revoked: " : "", why);
        log_info("sessions", "%s: ending session %lld on %s: %s", s->subscriber, (long long)s->id, s->channel,
                 reason);
        session_stop(s, reason);
    }
}

/* ---- heartbeats and HLS time-outs ----------------------------------------------------------- */

typedef struct touch_job {
    int64_t *ids;
    int64_t *bytes;
    size_t count;
} touch_job_t;

static void touch_run(app_job_t *job)
{
    touch_job_t *t = job->data;
    if (store_session_touch(job->app->store, t->ids, t->bytes, t->count, (int64_t)clock_wall_ms()) < 0)
        log_warn("sessions", "heartbeat: %s", store_last_error(job->app->store));
}

static void touch_done(app_job_t *job) { job->app->touching = false; }

static void touch_cleanup(app_job_t *job)
{
    touch_job_t *t = job->data;
    free(t->ids);
    free(t->bytes);
    free(t);
}

static void sessions_on_timer(uv_timer_t *timer)
{
    app_t *app = timer->data;
    uint64_t now = clock_wall_ms();
    /* Expiry dates pass without any change to the database. */
    sessions_recheck(app);
    for (app_session_t *s = app->sessions, *next; s; s = next) {
        next = s->next;
        if (s->hls && !s->pending && !s->ended && now - s->last_seen_ms > HLS_IDLE_MS)
            session_stop(s, "stopped fetching");
    }
    if (app->touching || now - app->last_touch_ms < SESSION_HEARTBEAT_MS)
        return;
    app->last_touch_ms = now;
    touch_job_t *t = calloc(1, sizeof(*t));
    app_job_t *job = app_job_new(app, touch_run, touch_done);
    if (!t || !job) {
        free(t);
        free(job);
        return;
    }
    t->ids = sessions_ids(app, &t->count);
    t->bytes = calloc(t->count + 1, sizeof(*t->bytes));
    if (!t->ids || !t->bytes || t->count == 0) {
        free(t->ids);
        free(t->bytes);
        free(t);
        free(job);
        return;
    }
    size_t i = 0;
    for (app_session_t *s = app->sessions; s; s = s->next) {
        if (s->viewer)
            s->bytes = channel_viewer_bytes(s->viewer);
        if (s->id && !s->ended && i < t->count)
            t->bytes[i++] = (int64_t)s->bytes;
    }
    job->data = t;
    job->cleanup = touch_cleanup;
    app->touching = true;
    if (app_job_start(app, NULL, job) < 0)
        app->touching = false;
}

int sessions_init(app_t *app)
{
    uv_timer_init(app->loop, &app->session_timer);
    app->session_timer.data = app;
    return uv_timer_start(&app->session_timer, sessions_on_timer, 1000, 1000);
}

void sessions_close(app_t *app)
{
    for (app_session_t *s = app->sessions, *next; s; s = next) {
        next = s->next;
        if (!s->viewer && !s->pending)
            session_finish(s, "server stopped");
        else if (s->viewer)
            session_stop(s, "server stopped");
    }
    uv_close((uv_handle_t *)&app->session_timer, NULL);
}
