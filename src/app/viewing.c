// SPDX-License-Identifier: MIT
// viewing.c -- what viewers fetch: streams (/live/..., with a token in the
// path as /t/<token>/live/... so that HLS players carry it to every segment),
// the public playlist of free-to-air channels, and each subscriber's own
// playlist and guide under /get/, reached with a token or with username and
// password (set-top boxes). Every way in lands on the same checks.
#include "app/app_private.h"
#include "admin/admin.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGIN_CACHE_MAX 4096

/* A verified login, so that argon2id runs once per password, not once per request. */
struct app_login {
    app_login_t *next;
    char name[65];
    char hash[AUTH_PASSWORD_HASH_MAX];
    uint8_t fingerprint[32];
};

static bool login_cached(app_t *app, const subscriber_t *sub, const char *password)
{
    uint8_t fp[32];
    auth_password_fingerprint(app->fingerprint_key, sub->name, password, fp);
    for (app_login_t *l = app->logins; l; l = l->next)
        if (!strcmp(l->name, sub->name) && sub->password_hash && !strcmp(l->hash, sub->password_hash))
            return sodium_memcmp(l->fingerprint, fp, sizeof(fp)) == 0;
    return false;
}

static void login_remember(app_t *app, const char *name, const char *hash, const char *password)
{
    size_t n = 0;
    app_login_t **tail = &app->logins;
    for (app_login_t *l = app->logins; l; l = l->next) {
        if (!strcmp(l->name, name)) {
            snprintf(l->hash, sizeof(l->hash), "%s", hash);
            auth_password_fingerprint(app->fingerprint_key, name, password, l->fingerprint);
            return;
        }
        n++;
    }
    if (n >= LOGIN_CACHE_MAX) { /* forget the oldest (the list's end) */
        while ((*tail)->next)
            tail = &(*tail)->next;
        free(*tail);
        *tail = NULL;
    }
    app_login_t *l = calloc(1, sizeof(*l));
    if (!l)
        return;
    snprintf(l->name, sizeof(l->name), "%s", name);
    snprintf(l->hash, sizeof(l->hash), "%s", hash);
    auth_password_fingerprint(app->fingerprint_key, name, password, l->fingerprint);
    l->next = app->logins;
    app->logins = l;
}

void viewing_close(app_t *app)
{
    for (app_login_t *l = app->logins, *next; l; l = next) {
        next = l->next;
        free(l);
    }
    app->logins = NULL;
}

/* ---- checks -------------------------------------------------------------------------- */

static void refuse(http_conn_t *conn, int status, const char *why)
{
    http_respond_text(conn, status, "%s", why);
}

const subscriber_t *viewing_token_subscriber(app_t *app, const char *token, const char *ip, const char **why)
{
    auth_claims_t claims;
    auth_token_status_t status =
        auth_token_verify(app->access->keyring, token, strlen(token), ip, clock_wall_ms() / 1000, &claims);
    if (status != AUTH_TOKEN_OK) {
        *why = auth_token_status_text(status);
        return NULL;
    }
    const subscriber_t *sub = access_subscriber_by_token(app->access, claims.subscriber);
    if (!sub) {
        *why = "token revoked";
        return NULL;
    }
    *why = access_refusal(sub, ip, (int64_t)(clock_wall_ms() / 1000));
    return *why ? NULL : sub;
}

/* A token's subscriber, or NULL having answered 403. */
static const subscriber_t *check_token(app_t *app, http_conn_t *conn, const char *token, const char *ip)
{
    const char *why;
    const subscriber_t *sub = viewing_token_subscriber(app, token, ip, &why);
    if (!sub)
        refuse(conn, 403, why);
    return sub;
}

int viewing_issue_token(app_t *app, const subscriber_t *sub, const char *ip, char *out, size_t out_size)
{
    auth_claims_t claims = {.subscriber = (uint64_t)sub->token_id,
                            .expires = clock_wall_ms() / 1000 + app->options.token_ttl_s,
                            .ip_bound = sub->bind_ip};
    return auth_token_sign(app->access->keyring, &claims, ip, out, out_size);
}

/* ---- streams ---------------------------------------------------------------------------- */

/* /live/NAME.ts or /live/NAME/REST, for a subscriber (or anyone: NULL; or
 * the operator's preview: every channel, counted as no session). */
static void serve_live(app_t *app, http_conn_t *conn, const http_request_t *req, char *live,
                       const subscriber_t *sub, bool operator)
{
    char *slash = strchr(live, '/');
    size_t len = strlen(live);
    bool hls = slash != NULL;
    if (hls)
        *slash = '\0';
    else if (len > 3 && !strcmp(live + len - 3, ".ts"))
        live[len - 3] = '\0';
    else {
        http_respond_text(conn, 404, "not found");
        return;
    }
    channel_t *channel = app_find_channel(app, live, NULL);
    /* A channel the viewer may not see answers like one that does not
     * exist, so names cannot be probed. */
    bool allowed = channel && (operator || access_channel_public(app->access, live) ||
                               (sub && access_entitled(app->access, sub, live)));
    if (!channel || !allowed) {
        if (channel && !sub)
            http_respond_text(conn, 403, "channel '%s' needs a subscription: use your personal playlist", live);
        else
            http_respond_text(conn, 404, "channel '%s' not found", parse_name_valid(live) ? live : "?");
        return;
    }
    /* Timeshift streams are TS viewers of the archive: timeshift_abs-T.ts,
     * timeshift_rel-S.ts, or the live URL with ?utc=T (Kodi, TiviMate). */
    uint64_t from_ms = hls ? dvr_timeshift_start(slash + 1) : 0;
    char utc[24];
    if (!hls && http_query_get(req->query, "utc", utc, sizeof(utc)) >= 0) {
        uint64_t t;
        if (parse_u64(utc, 1, UINT32_MAX, &t) < 0) {
            http_respond_text(conn, 400, "utc must be Unix seconds");
            return;
        }
        from_ms = t * 1000u;
    }
    if (hls && !from_ms) {
        if (sub)
            sessions_serve_hls(app, conn, req, channel, sub, slash + 1);
        else
            channel_serve_hls(channel, conn, req, slash + 1);
    } else if (sub) {
        sessions_serve_ts(app, conn, req, channel, sub, from_ms);
    } else if (from_ms) {
        channel_serve_timeshift(channel, conn, NULL, from_ms);
    } else {
        channel_serve_ts(channel, conn, NULL);
    }
}

/* ---- playlists ---------------------------------------------------------------------------- */

static int parse_output(http_conn_t *conn, const http_request_t *req, bool *hls)
{
    char output[8] = "ts";
    int found = http_query_get(req->query, "output", output, sizeof(output));
    if (found != -ENOENT && (found < 0 || (strcmp(output, "ts") && strcmp(output, "hls")))) {
        http_respond_text(conn, 400, "output must be ts or hls");
        return -EINVAL;
    }
    *hls = !strcmp(output, "hls");
    return 0;
}

/* The channels a playlist lists: public ones, or the subscriber's. */
static void send_playlist(app_t *app, http_conn_t *conn, const http_request_t *req, const subscriber_t *sub)
{
    bool hls;
    if (parse_output(conn, req, &hls) < 0)
        return;
    channel_t **sorted = app_sorted_channels(app);
    if (!sorted) {
        http_respond_text(conn, 503, "out of memory");
        return;
    }
    /* The listed channels' configurations, in the same array. */
    const channel_config_t **configs = (const channel_config_t **)sorted;
    size_t count = 0;
    for (size_t i = 0; i < app->channel_count; i++) {
        const channel_config_t *config = channel_config(sorted[i]);
        bool listed = sub ? access_entitled(app->access, sub, config->name)
                          : access_channel_public(app->access, config->name);
        if (listed)
            configs[count++] = config;
    }
    char base[300], token[AUTH_TOKEN_MAX], prefix[AUTH_TOKEN_MAX + 4], epg[600], ip[64];
    app_base_url(app, req, base, sizeof(base));
    admin_playlist_t options = {.base_url = base, .hls = hls};
    if (sub) {
        app_client_ip(conn, ip, sizeof(ip));
        if (viewing_issue_token(app, sub, ip, token, sizeof(token)) < 0) {
            free(sorted);
            http_respond_text(conn, 503, "no token signing key");
            return;
        }
        snprintf(prefix, sizeof(prefix), "/t/%s", token);
        snprintf(epg, sizeof(epg), "%s/get/epg.xml.gz?token=%s", base, token);
        options.path_prefix = prefix;
        options.epg_url = epg;
    }
    strbuf_t out;
    strbuf_init(&out);
    admin_playlist_m3u(configs, count, &options, &out);
    free(sorted);
    if (out.failed)
        http_respond_text(conn, 503, "out of memory");
    else
        http_respond(conn, 200, "audio/x-mpegurl; charset=utf-8", "Cache-Control: private, no-cache\r\n", out.data,
                     out.len);
    strbuf_free(&out);
}

/* /get/<what> for a subscriber who has been let in. */
static void serve_get(app_t *app, http_conn_t *conn, const http_request_t *req, const char *what,
                      const subscriber_t *sub)
{
    if (!strcmp(what, "playlist.m3u") || !strcmp(what, "playlist.m3u8"))
        send_playlist(app, conn, req, sub);
    else if (!strcmp(what, "epg.xml") || !strcmp(what, "epg.xml.gz"))
        guide_serve(app, conn, sub, !strcmp(what, "epg.xml.gz"));
    else
        http_respond_text(conn, 404, "not found");
}

/* ---- username and password ------------------------------------------------------------------ */

/* Who asked to log in: a set-top box fetching /get/<what> (answers in
 * text, 403 for a wrong password, as players expect), or the portal
 * (JSON, 401). */
typedef struct login_for {
    char what[32];              /* /get/<what>; "" for the portal */
} login_for_t;

static void login_refuse(http_conn_t *conn, const login_for_t *f, int status, const char *why)
{
    if (f->what[0])
        refuse(conn, status, why);
    else
        app_respond_error(conn, status, "%s", why);
}

/* Lets a subscriber in whose password is right, unless disabled, expired, ... */
static void login_let_in(app_t *app, http_conn_t *conn, const http_request_t *req, const login_for_t *f,
                         const subscriber_t *sub, const char *ip)
{
    const char *why = sub ? access_refusal(sub, ip, (int64_t)(clock_wall_ms() / 1000)) : "subscriber deleted";
    if (why)
        login_refuse(conn, f, 403, why);
    else if (f->what[0])
        serve_get(app, conn, req, f->what, sub);
    else
        portal_logged_in(app, conn, sub, ip);
}

typedef struct login_job {
    char name[65];
    char hash[AUTH_PASSWORD_HASH_MAX];
    char password[256];
    login_for_t f;
    char ip[64];
    http_request_t req;
    bool ok;
} login_job_t;

static void login_run(app_job_t *job)
{
    login_job_t *l = job->data;
    l->ok = auth_password_verify(l->hash, l->password);
}

static void login_failed(app_t *app, http_conn_t *conn, const login_for_t *f, const char *name, const char *ip)
{
    char key[80];
    snprintf(key, sizeof(key), "user:%s", name);
    uint64_t now = clock_mono_us() / 1000; /* locks run on the monotonic clock: a stepped wall clock moves none */
    uint64_t a = auth_lockout_fail(app->lockout, key, now);
    uint64_t b = auth_lockout_fail(app->lockout, ip, now);
    if (a || b)
        log_warn("auth", "login for '%s' from %s: too many failures, locked for %llu s", name, ip,
                 (unsigned long long)(MAX(a, b) + 999) / 1000);
    else
        log_info("auth", "login for '%s' from %s: wrong username or password", name, ip);
    if (conn)
        login_refuse(conn, f, f->what[0] ? 403 : 401, "wrong username or password");
}

static void login_done(app_job_t *job)
{
    login_job_t *l = job->data;
    app_t *app = job->app;
    if (!l->ok) {
        login_failed(app, job->conn, &l->f, l->name, l->ip);
        return;
    }
    login_remember(app, l->name, l->hash, l->password);
    char key[80];
    snprintf(key, sizeof(key), "user:%s", l->name);
    auth_lockout_success(app->lockout, key);
    if (job->conn)
        login_let_in(app, job->conn, &l->req, &l->f, access_subscriber(app->access, l->name), l->ip);
}

static void login_cleanup(app_job_t *job)
{
    login_job_t *l = job->data;
    sodium_memzero(l->password, sizeof(l->password));
    free(l);
}

/* Checks name and password (argon2id on the thread pool unless this very
 * password was verified before), under the failed-login lockout per name
 * and per address. Wipes password. */
static void login(app_t *app, http_conn_t *conn, const http_request_t *req, const login_for_t *f, const char *name,
                  char *password, size_t password_size, const char *ip)
{
    char key[80];
    snprintf(key, sizeof(key), "user:%s", name);
    uint64_t now = clock_mono_us() / 1000;
    uint64_t locked = MAX(auth_lockout_remaining(app->lockout, key, now), auth_lockout_remaining(app->lockout, ip, now));
    if (locked) {
        unsigned long long seconds = (unsigned long long)(locked + 999) / 1000;
        char headers[64], why[96];
        snprintf(headers, sizeof(headers), "Retry-After: %llu\r\n", seconds);
        snprintf(why, sizeof(why), "too many failed logins: try again in %llu s", seconds);
        log_warn("auth", "login for '%s' from %s refused: locked for %llu ms more", name, ip,
                 (unsigned long long)locked);
        if (f->what[0]) {
            http_respond(conn, 429, "text/plain; charset=utf-8", headers, "too many failed logins: try again later\n",
                         40);
        } else {
            json_t *body = json_pack("{ss}", "error", why);
            char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
            if (text)
                http_respond(conn, 429, "application/json", headers, text, strlen(text));
            else
                http_respond_text(conn, 503, "out of memory");
            free(text);
            json_decref(body);
        }
        sodium_memzero(password, password_size);
        return;
    }
    const subscriber_t *sub = access_subscriber(app->access, name);
    if (sub && sub->password_hash && login_cached(app, sub, password)) {
        sodium_memzero(password, password_size);
        login_let_in(app, conn, req, f, sub, ip);
        return;
    }
    if (!sub || !sub->password_hash || !*sub->password_hash) {
        sodium_memzero(password, password_size);
        login_failed(app, conn, f, name, ip);
        return;
    }
    /* argon2id takes tens of milliseconds: never on the loop. */
    app_job_t *job = app_job_new(app, login_run, login_done);
    login_job_t *l = calloc(1, sizeof(*l));
    if (!job || !l) {
        free(job);
        free(l);
        sodium_memzero(password, password_size);
        login_refuse(conn, f, 503, "out of memory");
        return;
    }
    snprintf(l->name, sizeof(l->name), "%s", name);
    snprintf(l->hash, sizeof(l->hash), "%s", sub->password_hash);
    snprintf(l->password, sizeof(l->password), "%s", password);
    l->f = *f;
    snprintf(l->ip, sizeof(l->ip), "%s", ip);
    sodium_memzero(password, password_size);
    l->req = *req; /* its slices stay valid while the connection is taken */
    job->data = l;
    job->cleanup = login_cleanup;
    app_job_start(app, conn, job);
}

static void serve_login(app_t *app, http_conn_t *conn, const http_request_t *req, const char *what,
                        const char *ip)
{
    char name[65], password[256];
    if (http_query_get(req->query, "username", name, sizeof(name)) < 0 ||
        http_query_get(req->query, "password", password, sizeof(password)) < 0) {
        sodium_memzero(password, sizeof(password));
        refuse(conn, 403, "a token, or username and password, is needed");
        return;
    }
    login_for_t f;
    snprintf(f.what, sizeof(f.what), "%s", what);
    login(app, conn, req, &f, name, password, sizeof(password), ip);
}

void viewing_portal_login(app_t *app, http_conn_t *conn, const http_request_t *req, const char *name,
                          char *password, size_t password_size)
{
    char ip[64];
    app_client_ip(conn, ip, sizeof(ip));
    login_for_t f = {.what = ""};
    login(app, conn, req, &f, name, password, password_size, ip);
}

/* A ?token= in the query: 0 with *sub set (or NULL without a token), or
 * -1 having answered 403. */
static int query_token(app_t *app, http_conn_t *conn, const http_request_t *req, const char *ip,
                       const subscriber_t **sub)
{
    char token[AUTH_TOKEN_MAX + 1];
    int found = http_query_get(req->query, "token", token, sizeof(token));
    *sub = NULL;
    if (found == -ENOENT)
        return 0;
    if (found < 0) {
        refuse(conn, 403, auth_token_status_text(AUTH_TOKEN_MALFORMED));
        return -1;
    }
    *sub = check_token(app, conn, token, ip);
    return *sub ? 0 : -1;
}

/* ---- the routes ---------------------------------------------------------------------------- */

void viewing_route(app_t *app, http_conn_t *conn, const http_request_t *req, char *path)
{
    char ip[64];
    app_client_ip(conn, ip, sizeof(ip));
    if (!strncmp(path, "/t/", 3)) {
        /* /t/<token>/live/... */
        char *token = path + 3;
        char *rest = strchr(token, '/');
        if (!rest || strncmp(rest, "/live/", 6) != 0) {
            http_respond_text(conn, 404, "not found");
            return;
        }
        *rest = '\0';
        const subscriber_t *sub = check_token(app, conn, token, ip);
        if (sub)
            serve_live(app, conn, req, rest + 6, sub, false);
        return;
    }
    if (!strncmp(path, "/live/", 6)) {
        /* The web UI's preview sends the admin token in a header. */
        if (access_admin_ok(app->access, req)) {
            serve_live(app, conn, req, path + 6, NULL, true);
            return;
        }
        const subscriber_t *sub = NULL;
        if (query_token(app, conn, req, ip, &sub) == 0)
            serve_live(app, conn, req, path + 6, sub, false);
        return;
    }
    /* Playlists and guides: rate-limited per address. */
    if (!auth_ratelimit_allow(app->ratelimit, ip, clock_mono_us() / 1000)) {
        log_info("auth", "%s: too many playlist requests", ip);
        http_respond(conn, 429, "text/plain; charset=utf-8", "Retry-After: 1\r\n", "too many requests\n", 18);
        return;
    }
    if (!strcmp(path, "/playlist.m3u")) {
        send_playlist(app, conn, req, NULL);
        return;
    }
    if (!strncmp(path, "/get/", 5)) {
        const subscriber_t *sub = NULL;
        int rc = query_token(app, conn, req, ip, &sub);
        if (rc == 0 && sub)
            serve_get(app, conn, req, path + 5, sub);
        else if (rc == 0)
            serve_login(app, conn, req, path + 5, ip);
        return;
    }
    http_respond_text(conn, 404, "not found");
}
