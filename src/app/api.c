// SPDX-License-Identifier: MIT
// api.c -- the admin REST API under /api/v1: every object kind through one
// generic create/read/update/delete path driven by its field table, plus
// sessions (list, kick) and the audit log. Everything but the OpenAPI
// document needs an admin bearer token. Store calls run as jobs (jobs.c).
// The routes must stay in step with the table in src/admin/openapi.c.
#include "app/app_private.h"
#include "admin/admin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct api_kind {
    const char *path;                       /* under /api/v1/ */
    const char *plural;                     /* key of the list answer */
    const char *singular;                   /* for messages */
    const store_kind_t *(*kind)(void);
    void (*defaults)(void *object);
    const char *const *extra_keys;          /* body keys handled here, not fields */
} api_kind_t;

static void channel_defaults_any(void *object) { channel_config_defaults(object); }
static void subscriber_defaults_any(void *object) { subscriber_defaults(object); }
static void package_defaults_any(void *object) { package_defaults(object); }
static void epg_source_defaults_any(void *object) { epg_source_defaults(object); }

static void token_key_defaults_any(void *object) { memset(object, 0, sizeof(token_key_t)); }

static const char *const subscriber_extra[] = {"password", NULL};

static const api_kind_t api_kinds[] = {
    {"channels", "channels", "channel", app_channel_kind, channel_defaults_any, NULL},
    {"subscribers", "subscribers", "subscriber", app_subscriber_kind, subscriber_defaults_any, subscriber_extra},
    {"packages", "packages", "package", app_package_kind, package_defaults_any, NULL},
    {"epg-sources", "epg_sources", "EPG source", app_epg_source_kind, epg_source_defaults_any, NULL},
    {"token-keys", "token_keys", "token key", app_token_key_kind, token_key_defaults_any, NULL},
};

/* ---- one job for every kind ------------------------------------------------------------------ */

typedef enum crud_op { CRUD_LIST, CRUD_GET, CRUD_CREATE, CRUD_UPDATE, CRUD_DELETE } crud_op_t;

#define API_PAGE_MAX 10000 /* objects in one page of a list */

typedef struct crud_job {
    const api_kind_t *api;
    crud_op_t op;
    char name[65];
    json_t *body;               /* create/update */
    char password_hash[AUTH_PASSWORD_HASH_MAX];
    char contains[129];         /* list: ?q=, part of the name */
    int64_t offset, limit;      /* list: ?offset=&limit= (limit 0: all) */
} crud_job_t;

static int whole_checks(const api_kind_t *api, const void *object, char *err, size_t err_size)
{
    if (api->kind == app_channel_kind)
        return channel_config_validate(object, err, err_size);
    if (api->kind == app_epg_source_kind && !((const epg_source_t *)object)->url) {
        snprintf(err, err_size, "url: an EPG source needs a url");
        return -EINVAL;
    }
    return 0;
}

static int store_status(app_job_t *job, int rc, const char *what, const char *name)
{
    if (rc == -ENOENT) {
        snprintf(job->error, sizeof(job->error), "%s '%s' not found", what, name);
        return 404;
    }
    if (rc == -EEXIST) {
        snprintf(job->error, sizeof(job->error), "%s '%s' already exists", what, name);
        return 409;
    }
    snprintf(job->error, sizeof(job->error), "database: %s", store_last_error(job->app->store));
    return 500;
}

/* Reads the object back (timestamps included) as the answer. */
static void answer_object(app_job_t *job, const store_kind_t *kind, const char *name, int status)
{
    void *object = calloc(1, kind->object_size);
    if (!object) {
        job->status = 503;
        return;
    }
    int rc = store_get(job->app->store, kind, name, object);
    if (rc == 0) {
        job->result = admin_object_json(kind->fields, kind->field_count, object);
        job->status = status;
    } else {
        job->status = store_status(job, rc, kind->table, name);
    }
    fields_clear(kind->fields, kind->field_count, object);
    free(object);
}

/* Applies a body's extra keys: a subscriber's password is hashed here. */
static int apply_extras(app_job_t *job, crud_job_t *c, void *object)
{
    if (c->api->kind == app_token_key_kind) {
        /* A new key without a secret gets a random one (the usual way). */
        token_key_t *key = object;
        if (c->op == CRUD_CREATE && !key->secret) {
            uint8_t secret[AUTH_KEY_BYTES];
            char hex[2 * AUTH_KEY_BYTES + 1];
            auth_random(secret, sizeof(secret));
            for (size_t i = 0; i < sizeof(secret); i++)
                snprintf(hex + 2 * i, 3, "%02x", secret[i]);
            key->secret = strdup(hex);
            if (!key->secret)
                return -ENOMEM;
        }
        return 0;
    }
    if (c->api->kind != app_subscriber_kind)
        return 0;
    subscriber_t *sub = object;
    json_t *password = json_object_get(c->body, "password");
    if (password) {
        if (!json_is_string(password) || json_string_length(password) < 1 || json_string_length(password) > 200) {
            snprintf(job->error, sizeof(job->error), "password: must be a string of 1 to 200 characters");
            return -EINVAL;
        }
        if (auth_password_hash(json_string_value(password), c->password_hash, sizeof(c->password_hash)) < 0) {
            snprintf(job->error, sizeof(job->error), "password: cannot hash it (out of memory)");
            return -ENOMEM;
        }
        free(sub->password_hash);
        sub->password_hash = strdup(c->password_hash);
    }
    if (c->op == CRUD_CREATE)
        auth_random(&sub->token_id, sizeof(sub->token_id));
    sub->token_id &= INT64_MAX; /* positive: it is stored as a signed integer */
    return 0;
}

static void crud_run(app_job_t *job)
{
    crud_job_t *c = job->data;
    const store_kind_t *kind = c->api->kind();
    store_t *store = job->app->store;
    if (c->op == CRUD_LIST) {
        void *list;
        size_t count;
        int64_t total;
        int rc = store_list_page(store, kind, c->contains, c->offset, c->limit, &list, &count, &total);
        if (rc < 0) {
            job->status = store_status(job, rc, c->api->singular, "");
            return;
        }
        json_t *array = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(array,
                                  admin_object_json(kind->fields, kind->field_count, (char *)list + i * kind->object_size));
        store_free_list(kind, list, count);
        job->result = json_pack("{so sI}", c->api->plural, array, "total", (json_int_t)total);
        return;
    }
    if (c->op == CRUD_GET) {
        answer_object(job, kind, c->name, 200);
        return;
    }
    if (c->op == CRUD_DELETE) {
        int rc = store_delete(store, kind, c->name);
        job->status = rc < 0 ? store_status(job, rc, c->api->singular, c->name) : 204;
        if (rc == 0 && kind == app_subscriber_kind())
            store_session_end_subscriber(store, c->name, (int64_t)clock_wall_ms(), "revoked: subscriber deleted");
        return;
    }
    void *object = calloc(1, kind->object_size);
    if (!object) {
        job->status = 503;
        return;
    }
    int rc = 0;
    if (c->op == CRUD_CREATE) {
        c->api->defaults(object);
    } else {
        rc = store_get(store, kind, c->name, object);
        if (rc < 0) {
            job->status = store_status(job, rc, c->api->singular, c->name);
            goto out;
        }
    }
    /* The name is the object's identity: a body may not rename it. */
    json_t *body_name = json_object_get(c->body, kind->fields[0].name);
    if (c->op == CRUD_UPDATE && body_name && (!json_is_string(body_name) || strcmp(json_string_value(body_name), c->name))) {
        snprintf(job->error, sizeof(job->error), "%s: cannot be changed", kind->fields[0].name);
        job->status = 400;
        goto out;
    }
    if (admin_object_from_json(kind->fields, kind->field_count, c->body, object, c->api->extra_keys,
                               c->op == CRUD_CREATE, job->error, sizeof(job->error)) < 0 ||
        apply_extras(job, c, object) < 0 || whole_checks(c->api, object, job->error, sizeof(job->error)) < 0) {
        job->status = 400;
        goto out;
    }
    const char *name = *(char **)((char *)object + kind->fields[0].offset);
    snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
    rc = c->op == CRUD_CREATE ? store_insert(store, kind, object) : store_update(store, kind, object);
    if (rc < 0) {
        job->status = store_status(job, rc, c->api->singular, c->name);
        goto out;
    }
    answer_object(job, kind, c->name, c->op == CRUD_CREATE ? 201 : 200);
out:
    fields_clear(kind->fields, kind->field_count, object);
    free(object);
}

static void crud_done(app_job_t *job)
{
    crud_job_t *c = job->data;
    if (c->op != CRUD_LIST && c->op != CRUD_GET && job->status < 300 && job->conn) {
        /* Applied here at once (revocation, channel changes), and answered
         * once applied. */
        app_answer_after_poll(job->app, job->conn, job->status, job->result);
        job->result = NULL;
        return;
    }
    if (c->op != CRUD_LIST && c->op != CRUD_GET && job->status < 300)
        app_poll_now(job->app);
    app_job_answer(job);
}

static void crud_cleanup(app_job_t *job)
{
    crud_job_t *c = job->data;
    json_decref(c->body);
    free(c);
}

static void crud_start(app_t *app, http_conn_t *conn, const http_request_t *req, const api_kind_t *api, crud_op_t op,
                       const char *name)
{
    json_t *body = NULL;
    if (op == CRUD_CREATE || op == CRUD_UPDATE) {
        char err[512];
        body = admin_body_parse(req->body.ptr, req->body.len, err, sizeof(err));
        if (!body) {
            app_respond_error(conn, 400, "%s", err);
            return;
        }
    }
    app_job_t *job = app_job_new(app, crud_run, crud_done);
    crud_job_t *c = calloc(1, sizeof(*c));
    if (!job || !c) {
        free(job);
        free(c);
        json_decref(body);
        app_respond_error(conn, 503, "out of memory");
        return;
    }
    if (op == CRUD_LIST) {
        /* ?q=part of the name&offset=N&limit=N: a page (the UI's search) */
        char offset[24], limit[24];
        uint64_t first, most;
        int q = http_query_get(req->query, "q", c->contains, sizeof(c->contains));
        int o = http_query_get(req->query, "offset", offset, sizeof(offset));
        int l = http_query_get(req->query, "limit", limit, sizeof(limit));
        if (o == -ENOENT)
            strcpy(offset, "0");
        if (l == -ENOENT)
            strcpy(limit, "0");
        if (q == -ENOENT)
            c->contains[0] = '\0';
        if ((q < 0 && q != -ENOENT) || (o < 0 && o != -ENOENT) || (l < 0 && l != -ENOENT) ||
            parse_u64(offset, 0, INT32_MAX, &first) < 0 ||
            parse_u64(limit, 0, API_PAGE_MAX, &most) < 0) {
            free(job);
            free(c);
            app_respond_error(conn, 400, "q: at most 128 characters; offset: 0 or more; limit: 1 to %d", API_PAGE_MAX);
            return;
        }
        c->offset = (int64_t)first;
        c->limit = (int64_t)most;
        if (c->offset && !c->limit)
            c->limit = API_PAGE_MAX;
    }
    c->api = api;
    c->op = op;
    c->body = body;
    snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
    job->data = c;
    job->cleanup = crud_cleanup;
    app_job_start(app, conn, job);
}

/* ---- tokens for a subscriber ----------------------------------------------------------------- */

typedef struct token_job {
    char name[65];
    subscriber_t sub;
    char base[300];
    char ip[64];
} token_job_t;

static void token_run(app_job_t *job)
{
    token_job_t *t = job->data;
    int rc = store_get(job->app->store, app_subscriber_kind(), t->name, &t->sub);
    if (rc < 0)
        job->status = store_status(job, rc, "subscriber", t->name);
}

static void token_done(app_job_t *job)
{
    token_job_t *t = job->data;
    if (job->status == 200) {
        char token[AUTH_TOKEN_MAX], url[600], epg[600];
        if (viewing_issue_token(job->app, &t->sub, t->ip, token, sizeof(token)) < 0) {
            job->status = 503;
            snprintf(job->error, sizeof(job->error), "no key to sign tokens with");
        } else {
            snprintf(url, sizeof(url), "%s/get/playlist.m3u?token=%s", t->base, token);
            snprintf(epg, sizeof(epg), "%s/get/epg.xml.gz?token=%s", t->base, token);
            job->result = json_pack("{ss sI ss ss}", "token", token, "expires",
                                    (json_int_t)(clock_wall_ms() / 1000 + job->app->options.token_ttl_s),
                                    "playlist_url", url, "epg_url", epg);
            /* Streams: <stream_prefix><channel>.ts or <channel>/index.m3u8 */
            json_object_set_new(job->result, "stream_prefix", json_sprintf("%s/t/%s/live/", t->base, token));
            job->status = 201;
        }
    }
    app_job_answer(job);
}

static void token_cleanup(app_job_t *job)
{
    token_job_t *t = job->data;
    fields_clear(subscriber_fields, subscriber_field_count, &t->sub);
    free(t);
}

/* ---- sessions -------------------------------------------------------------------------------- */

typedef struct session_job {
    store_session_filter_t filter;
    char subscriber[65];
    char channel[65];
    int64_t id;
    store_session_t *rows;
    size_t count;
} session_job_t;

static json_t *session_json(const store_session_t *s)
{
    json_t *j = json_pack("{sI ss ss ss ss ss ss ss sI sI sI sI}", "id", (json_int_t)s->id, "subscriber",
                          s->subscriber ? s->subscriber : "", "channel", s->channel ? s->channel : "", "device",
                          s->device ? s->device : "", "client_ip", s->client_ip ? s->client_ip : "", "user_agent",
                          s->user_agent ? s->user_agent : "", "server", s->server ? s->server : "", "kind",
                          s->kind ? s->kind : "", "started_at", (json_int_t)s->started_at, "last_seen",
                          (json_int_t)s->last_seen, "ended_at", (json_int_t)s->ended_at, "bytes",
                          (json_int_t)s->bytes);
    json_object_set_new(j, "end_reason", s->end_reason ? json_string(s->end_reason) : json_null());
    return j;
}

static void sessions_run(app_job_t *job)
{
    session_job_t *s = job->data;
    int rc = store_session_query(job->app->store, &s->filter, &s->rows, &s->count);
    if (rc < 0) {
        job->status = store_status(job, rc, "session", "");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < s->count; i++)
        json_array_append_new(list, session_json(&s->rows[i]));
    job->result = json_pack("{so}", "sessions", list);
}

static void kick_run(app_job_t *job)
{
    session_job_t *s = job->data;
    int rc = store_session_end(job->app->store, s->id, (int64_t)clock_wall_ms(), "kicked by the operator", 0);
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)s->id);
    job->status = rc < 0 ? store_status(job, rc, "session", id) : 204;
}

static void kick_done(app_job_t *job)
{
    if (job->status == 204)
        app_poll_now(job->app);
    app_job_answer(job);
}

static void session_cleanup(app_job_t *job)
{
    session_job_t *s = job->data;
    store_session_free(s->rows, s->count);
    free(s);
}

/* A time from a query: Unix seconds or ISO 8601 UTC ("2026-11-28T14:00:00Z"); ms out. */
static int query_time(const http_request_t *req, const char *name, int64_t *ms, char *err, size_t err_size)
{
    char text[40];
    int rc = http_query_get(req->query, name, text, sizeof(text));
    if (rc == -ENOENT)
        return 0;
    uint64_t seconds;
    struct tm tm = {0};
    int n = 0;
    if (rc >= 0 && parse_u64(text, 0, 253402300799ull, &seconds) == 0) {
        *ms = (int64_t)seconds * 1000;
        return 0;
    }
    if (rc >= 0 && sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                          &tm.tm_min, &tm.tm_sec, &n) == 6 && text[n] == '\0') {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *ms = (int64_t)timegm(&tm) * 1000;
        return 0;
    }
    snprintf(err, err_size, "%s: must be Unix seconds or YYYY-MM-DDTHH:MM:SSZ", name);
    return -EINVAL;
}

static void start_sessions(app_t *app, http_conn_t *conn, const http_request_t *req, bool audit)
{
    session_job_t *s = calloc(1, sizeof(*s));
    app_job_t *job = app_job_new(app, sessions_run, NULL);
    if (!s || !job) {
        free(s);
        free(job);
        app_respond_error(conn, 503, "out of memory");
        return;
    }
    job->data = s;
    job->cleanup = session_cleanup;
    char err[128] = "", limit[16];
    if (http_query_get(req->query, "subscriber", s->subscriber, sizeof(s->subscriber)) >= 0)
        s->filter.subscriber = s->subscriber;
    if (http_query_get(req->query, "channel", s->channel, sizeof(s->channel)) >= 0)
        s->filter.channel = s->channel;
    s->filter.running_only = !audit;
    uint64_t n = 0;
    if (http_query_get(req->query, "limit", limit, sizeof(limit)) >= 0 && parse_u64(limit, 1, 100000, &n) < 0)
        snprintf(err, sizeof(err), "limit: must be a number from 1 to 100000");
    s->filter.limit = (size_t)n;
    if (err[0] || query_time(req, "from", &s->filter.from, err, sizeof(err)) < 0 ||
        query_time(req, "to", &s->filter.to, err, sizeof(err)) < 0) {
        app_respond_error(conn, 400, "%s", err);
        session_cleanup(job);
        free(job);
        return;
    }
    app_job_start(app, conn, job);
}

/* ---- routing ----------------------------------------------------------------------------------- */

static void route_channels_live(app_t *app, http_conn_t *conn, const char *name)
{
    if (name) {
        channel_t *channel = app_find_channel(app, name, NULL);
        if (!channel)
            app_respond_error(conn, 404, "channel '%.64s' not found", parse_name_valid(name) ? name : "?");
        else {
            json_t *json = admin_channel_json(channel);
            json_object_set_new(json, "epg", guide_now_next_json(app, name));
            app_respond_json(conn, 200, json);
        }
        return;
    }
    channel_t **sorted = app_sorted_channels(app);
    if (!sorted) {
        app_respond_error(conn, 503, "out of memory");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < app->channel_count; i++) {
        json_t *json = admin_channel_json(sorted[i]);
        json_object_set_new(json, "epg", guide_now_next_json(app, channel_config(sorted[i])->name));
        json_array_append_new(list, json);
    }
    free(sorted);
    app_respond_json(conn, 200, json_pack("{so}", "channels", list));
}

/* GET /api/v1/channels/NAME/history: the last minutes, for the UI's graph. */
static void route_channel_history(app_t *app, http_conn_t *conn, const char *name)
{
    channel_t *channel = app_find_channel(app, name, NULL);
    if (!channel) {
        app_respond_error(conn, 404, "channel '%s' not found", name);
        return;
    }
    channel_sample_t samples[CHANNEL_HISTORY];
    uint64_t newest_ms;
    size_t n = channel_history(channel, samples, &newest_ms);
    json_t *bitrates = json_array(), *viewers = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(bitrates, json_integer((json_int_t)samples[i].input_bitrate));
        json_array_append_new(viewers, json_integer((json_int_t)samples[i].viewers));
    }
    app_respond_json(conn, 200,
                     json_pack("{sI sI so so}", "interval_s", (json_int_t)CHANNEL_HISTORY_INTERVAL_S, "end",
                               (json_int_t)(newest_ms / 1000), "input_bitrate", bitrates, "viewers", viewers));
}

void api_route(app_t *app, http_conn_t *conn, const http_request_t *req, char *path)
{
    const char *rest = path + strlen("/api/v1/");
    if (!strcmp(rest, "openapi.json") && (req->method == HTTP_GET || req->method == HTTP_HEAD)) {
        app_respond_json(conn, 200, admin_openapi());
        return;
    }
    if (!strncmp(rest, "portal/", 7)) { /* the viewers' own API: their token, not an admin's */
        portal_route(app, conn, req, rest + 7);
        return;
    }
    if (!access_admin_ok(app->access, req)) {
        char body[] = "{\"error\":\"an admin token is needed: Authorization: Bearer <token>\"}\n";
        http_respond(conn, 401, "application/json", "WWW-Authenticate: Bearer realm=\"antenne\"\r\n", body,
                     sizeof(body) - 1);
        return;
    }
    /* <kind>[/<name>[/<action>]] */
    char kind_name[32] = "", name[65] = "", action[32] = "";
    const char *slash = strchr(rest, '/');
    size_t kind_len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (kind_len >= sizeof(kind_name)) {
        app_respond_error(conn, 404, "not found");
        return;
    }
    memcpy(kind_name, rest, kind_len);
    if (slash) {
        const char *second = strchr(slash + 1, '/');
        size_t name_len = second ? (size_t)(second - slash - 1) : strlen(slash + 1);
        if (name_len == 0 || name_len >= sizeof(name) || (second && strlen(second + 1) >= sizeof(action)) ||
            (second && strchr(second + 1, '/'))) {
            app_respond_error(conn, 404, "not found");
            return;
        }
        memcpy(name, slash + 1, name_len);
        if (second)
            snprintf(action, sizeof(action), "%s", second + 1);
    }
    http_method_t m = req->method == HTTP_HEAD ? HTTP_GET : req->method;
    if (!strcmp(kind_name, "events") && !name[0] && m == HTTP_GET) {
        char channel[65], after[24], limit[16];
        uint64_t after_id = 0, n = 100;
        bool has_channel = http_query_get(req->query, "channel", channel, sizeof(channel)) >= 0;
        if ((http_query_get(req->query, "after", after, sizeof(after)) >= 0 &&
             parse_u64(after, 0, UINT64_MAX / 2, &after_id) < 0) ||
            (http_query_get(req->query, "limit", limit, sizeof(limit)) >= 0 && parse_u64(limit, 1, APP_EVENTS, &n) < 0))
            app_respond_error(conn, 400, "after: an event id; limit: 1 to %d", APP_EVENTS);
        else
            app_respond_json(conn, 200, events_json(app, has_channel ? channel : NULL, after_id, (size_t)n));
        return;
    }
    if (!strcmp(kind_name, "sessions") || !strcmp(kind_name, "audit")) {
        bool audit = kind_name[0] == 'a';
        if (!name[0] && m == HTTP_GET) {
            start_sessions(app, conn, req, audit);
        } else if (!audit && name[0] && !action[0] && m == HTTP_DELETE) {
            uint64_t id;
            /* A session of this server ends here, its row with its bytes;
             * another server's is ended in the store, which that server
             * notices within its next poll. */
            if (parse_u64(name, 1, INT64_MAX, &id) == 0 && sessions_kick(app, (int64_t)id, "kicked by the operator")) {
                http_respond(conn, 204, "application/json", "Cache-Control: no-cache\r\n", NULL, 0);
                return;
            }
            session_job_t *s = calloc(1, sizeof(*s));
            app_job_t *job = app_job_new(app, kick_run, kick_done);
            if (!s || !job || parse_u64(name, 1, INT64_MAX, &id) < 0) {
                free(s);
                free(job);
                app_respond_error(conn, s && job ? 404 : 503, "session '%s' not found", name);
                return;
            }
            s->id = (int64_t)id;
            job->data = s;
            job->cleanup = session_cleanup;
            app_job_start(app, conn, job);
        } else {
            app_respond_error(conn, 405, "method not allowed here");
        }
        return;
    }
    const api_kind_t *api = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(api_kinds); i++)
        if (!strcmp(api_kinds[i].path, kind_name))
            api = &api_kinds[i];
    if (!api) {
        app_respond_error(conn, 404, "no such API object: '%.32s'", kind_name);
        return;
    }
    if (name[0] && !parse_name_valid(name)) {
        app_respond_error(conn, 404, "%s '%.64s' not found", api->singular, "?");
        return;
    }
    if (action[0]) {
        if (api->kind == app_channel_kind && !strcmp(action, "epg") && m == HTTP_GET) {
            int64_t from = 0, to = 0;
            char err[128];
            if (query_time(req, "from", &from, err, sizeof(err)) < 0 || query_time(req, "to", &to, err, sizeof(err)) < 0)
                app_respond_error(conn, 400, "%s", err);
            else if (!app_find_channel(app, name, NULL))
                app_respond_error(conn, 404, "channel '%s' not found", name);
            else
                guide_api_programmes(app, conn, name, from, to, NULL);
        } else if (api->kind == app_channel_kind && !strcmp(action, "history") && m == HTTP_GET) {
            route_channel_history(app, conn, name);
        } else if (api->kind == app_epg_source_kind && !strcmp(action, "import") && m == HTTP_POST) {
            guide_import_start(app, conn, name);
        } else if (api->kind == app_subscriber_kind && !strcmp(action, "tokens") && m == HTTP_POST) {
            token_job_t *t = calloc(1, sizeof(*t));
            app_job_t *job = app_job_new(app, token_run, token_done);
            if (!t || !job) {
                free(t);
                free(job);
                app_respond_error(conn, 503, "out of memory");
                return;
            }
            snprintf(t->name, sizeof(t->name), "%s", name);
            app_base_url(app, req, t->base, sizeof(t->base));
            app_client_ip(conn, t->ip, sizeof(t->ip));
            job->data = t;
            job->cleanup = token_cleanup;
            app_job_start(app, conn, job);
        } else {
            app_respond_error(conn, 404, "not found");
        }
        return;
    }
    if (api->kind == app_channel_kind && m == HTTP_GET) {
        route_channels_live(app, conn, name[0] ? name : NULL);
        return;
    }
    if (!name[0] && m == HTTP_GET)
        crud_start(app, conn, req, api, CRUD_LIST, NULL);
    else if (!name[0] && m == HTTP_POST)
        crud_start(app, conn, req, api, CRUD_CREATE, NULL);
    else if (name[0] && m == HTTP_GET)
        crud_start(app, conn, req, api, CRUD_GET, name);
    else if (name[0] && m == HTTP_PATCH)
        crud_start(app, conn, req, api, CRUD_UPDATE, name);
    else if (name[0] && m == HTTP_DELETE)
        crud_start(app, conn, req, api, CRUD_DELETE, name);
    else
        app_respond_error(conn, 405, "method not allowed here");
}
