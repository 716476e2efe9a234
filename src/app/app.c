// SPDX-License-Identifier: MIT
// app.c -- the server: opens the store, runs every channel, answers HTTP,
// and follows changes made to the database by the CLI or another process.
//
// Changes are found by polling the store's revision on the thread pool
// (never on the loop); a new revision reloads the channel list there, and
// the loop then starts, updates or stops channels to match it.
#include "app/app_private.h"
#include "admin/admin.h"
#include "channel/channel.h"
#include "core/core.h"
#include "http/http.h"
#include "store/store.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

const store_kind_t *app_channel_kind(void)
{
    static store_kind_t kind;
    kind = (store_kind_t){"channels", channel_fields, channel_field_count, sizeof(channel_config_t)};
    return &kind;
}

channel_t *app_find_channel(app_t *app, const char *name, size_t *index)
{
    for (size_t i = 0; i < app->channel_count; i++) {
        if (!strcmp(channel_config(app->channels[i])->name, name)) {
            if (index)
                *index = i;
            return app->channels[i];
        }
    }
    return NULL;
}

/* Makes the running channels match the stored list. */
static void app_apply_channels(app_t *app, const channel_config_t *configs, size_t count)
{
    channel_options_t options = {app->options.ring_bytes, app->options.flush_ms, app->options.batch_bytes,
                                 app->options.batch_max_ms, events_add, app, app->archive_dir,
                                 app->options.archive_max_bytes};
    for (size_t i = 0; i < app->channel_count;) {
        const char *name = channel_config(app->channels[i])->name;
        bool kept = false;
        for (size_t j = 0; j < count && !kept; j++)
            kept = !strcmp(configs[j].name, name);
        if (kept) {
            i++;
            continue;
        }
        log_info("app", "channel %s removed", name);
        channel_destroy(app->channels[i]);
        app->channels[i] = app->channels[--app->channel_count];
    }
    for (size_t j = 0; j < count; j++) {
        channel_t *running = app_find_channel(app, configs[j].name, NULL);
        if (running) {
            channel_update(running, &configs[j]);
            continue;
        }
        channel_t **grown = realloc(app->channels, (app->channel_count + 1) * sizeof(*grown));
        if (!grown)
            break;
        app->channels = grown;
        channel_t *channel = channel_new(app->loop, &configs[j], &options);
        if (!channel)
            break;
        log_info("app", "channel %s added (%s)", configs[j].name, configs[j].sources.items[0]);
        app->channels[app->channel_count++] = channel;
    }
}

typedef struct app_pending {
    struct app_pending *next;
    http_conn_t *conn;          /* NULL once the client has gone */
    int status;
    json_t *json;
    uint64_t gen;               /* answer after this poll */
} app_pending_t;

static void pending_on_close(void *opaque)
{
    app_pending_t *p = opaque;
    p->conn = NULL;
}

/* Answers what waited for polls up to generation gen (all with UINT64_MAX). */
static void app_flush_pending(app_t *app, uint64_t gen)
{
    for (app_pending_t **link = &app->pending; *link;) {
        app_pending_t *p = *link;
        if (p->gen > gen) {
            link = &p->next;
            continue;
        }
        *link = p->next;
        if (p->conn) {
            http_conn_take(p->conn, NULL, NULL);
            if (p->json)
                app_respond_json(p->conn, p->status, p->json);
            else
                http_respond(p->conn, p->status, "application/json", "Cache-Control: no-cache\r\n", NULL, 0);
        } else {
            json_decref(p->json);
        }
        free(p);
    }
}

void app_answer_after_poll(app_t *app, http_conn_t *conn, int status, json_t *json)
{
    app_pending_t *p = calloc(1, sizeof(*p));
    if (!p) {
        app_respond_json(conn, status, json);
        return;
    }
    p->conn = conn;
    p->status = status;
    p->json = json;
    p->gen = app->poll_gen + 1;
    http_conn_take(conn, pending_on_close, p);
    p->next = app->pending;
    app->pending = p;
    app_poll_now(app);
}

static void app_poll_work(uv_work_t *req)
{
    app_t *app = req->data;
    app->polled_changed = false;
    app->poll_error = store_revision(app->store, &app->polled_revision);
    if (app->poll_error == 0 && app->polled_revision != app->revision) {
        void *list = NULL;
        app->poll_error = store_list(app->store, app_channel_kind(), &list, &app->polled_count);
        app->polled = app->poll_error == 0 ? list : NULL;
        if (app->poll_error == 0)
            app->poll_error = access_snapshot_load(app->store, &app->polled_access);
        if (app->poll_error == 0 && app->poll_id_count)
            app->poll_error = store_sessions_ended(app->store, app->poll_ids, app->poll_id_count, &app->polled_ended,
                                                   &app->polled_ended_count);
        app->polled_changed = app->poll_error == 0;
    }
    if (app->poll_error == 0 && app->poll_names)
        app->polled_now_next = guide_now_next(app->store, app->poll_names, app->poll_name_count);
}

static void app_poll_release(app_t *app)
{
    store_free_list(app_channel_kind(), app->polled, app->polled_count);
    app->polled = NULL;
    app->polled_count = 0;
    access_snapshot_free(app->polled_access);
    app->polled_access = NULL;
    free(app->polled_ended);
    app->polled_ended = NULL;
    app->polled_ended_count = 0;
    free(app->poll_ids);
    app->poll_ids = NULL;
    app->poll_id_count = 0;
    for (size_t i = 0; i < app->poll_name_count; i++)
        free(app->poll_names[i]);
    free(app->poll_names);
    app->poll_names = NULL;
    app->poll_name_count = 0;
    free(app->polled_now_next);
    app->polled_now_next = NULL;
}

static void app_poll_done(uv_work_t *req, int status)
{
    app_t *app = req->data;
    app->polling = false;
    if (status < 0 || app->stopping) {
        app_poll_release(app);
        app_flush_pending(app, UINT64_MAX);
        return;
    }
    if (app->poll_error < 0) {
        log_warn("app", "reading the database failed: %s", store_last_error(app->store));
        app_poll_release(app);
        app_flush_pending(app, app->poll_gen);
        return;
    }
    if (app->polled_changed) {
        app->revision = app->polled_revision;
        app_apply_channels(app, app->polled, app->polled_count);
        access_snapshot_free(app->access);
        app->access = app->polled_access;
        app->polled_access = NULL;
        sessions_ended_elsewhere(app, app->polled_ended, app->polled_ended_count);
        sessions_recheck(app);
        app->now_next_ms = 0; /* a new guide, or new channels: read now/next again */
    }
    if (app->polled_now_next) {
        free(app->now_next);
        app->now_next = app->polled_now_next;
        app->now_next_count = app->poll_name_count;
        app->polled_now_next = NULL;
    }
    app_poll_release(app);
    app_flush_pending(app, app->poll_gen);
    guide_schedule(app);
    if (app->poll_again) {
        app->poll_again = false;
        app_poll_now(app);
    }
}

void app_poll_now(app_t *app)
{
    if (app->stopping)
        return;
    if (app->polling) {
        app->poll_again = true;
        return;
    }
    app->poll.data = app;
    app->poll_ids = sessions_ids(app, &app->poll_id_count);
    /* Now and next: every 30 s, and after every change (a new guide). */
    uint64_t now = clock_wall_ms();
    if (now - app->now_next_ms >= 30000) {
        app->now_next_ms = now;
        app->poll_names = calloc(app->channel_count + 1, sizeof(char *));
        for (size_t i = 0; app->poll_names && i < app->channel_count; i++)
            if ((app->poll_names[app->poll_name_count] = strdup(channel_config(app->channels[i])->name)))
                app->poll_name_count++;
    }
    if (uv_queue_work(app->loop, &app->poll, app_poll_work, app_poll_done) == 0) {
        app->polling = true;
        app->poll_gen++;
    } else {
        app_poll_release(app);
        app_flush_pending(app, UINT64_MAX);
    }
}

/* The limit over every channel's archive: the oldest chunk of all goes
 * first, whichever channel it belongs to. */
static void app_trim_archives(app_t *app)
{
    for (;;) {
        uint64_t total = 0, oldest = UINT64_MAX;
        dvr_t *victim = NULL;
        for (size_t i = 0; i < app->channel_count; i++) {
            dvr_t *dvr = channel_archive(app->channels[i]);
            if (!dvr)
                continue;
            total += dvr_index(dvr)->bytes;
            uint64_t chunk = dvr_oldest_chunk(dvr);
            if (chunk < oldest) {
                oldest = chunk;
                victim = dvr;
            }
        }
        if (total <= app->options.archive_max_bytes || !victim)
            return;
        dvr_drop_oldest_chunk(victim);
    }
}

static void app_on_poll_timer(uv_timer_t *timer)
{
    app_t *app = timer->data;
    if (!app->polling)
        app_poll_now(app);
    if (app->options.archive_max_bytes)
        app_trim_archives(app);
}

/* ---- HTTP routes ----------------------------------------------------------------- */

static int compare_channels(const void *a, const void *b)
{
    const channel_config_t *x = channel_config(*(channel_t *const *)a);
    const channel_config_t *y = channel_config(*(channel_t *const *)b);
    int64_t nx = x->number > 0 ? x->number : INT64_MAX, ny = y->number > 0 ? y->number : INT64_MAX;
    if (nx != ny)
        return nx < ny ? -1 : 1;
    return strcmp(x->name, y->name);
}

channel_t **app_sorted_channels(app_t *app)
{
    channel_t **sorted = malloc((app->channel_count + 1) * sizeof(*sorted));
    if (!sorted)
        return NULL;
    if (app->channel_count)
        memcpy(sorted, app->channels, app->channel_count * sizeof(*sorted));
    qsort(sorted, app->channel_count, sizeof(*sorted), compare_channels);
    return sorted;
}

void app_respond_json(http_conn_t *conn, int status, json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!text) {
        http_respond_text(conn, 500, "out of memory");
        return;
    }
    size_t len = strlen(text);
    char *body = realloc(text, len + 2);
    if (body) {
        body[len++] = '\n';
        text = body;
    }
    http_respond(conn, status, "application/json", "Cache-Control: no-cache\r\n", text, len);
    free(text);
}

void app_respond_error(http_conn_t *conn, int status, const char *fmt, ...)
{
    char message[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    app_respond_json(conn, status, json_pack("{ss}", "error", message));
}

void app_client_ip(http_conn_t *conn, char *out, size_t out_size)
{
    const char *peer = http_conn_peer(conn);
    const char *colon = strrchr(peer, ':');
    size_t len = colon ? (size_t)(colon - peer) : strlen(peer);
    if (len && peer[0] == '[' && peer[len - 1] == ']') { /* [v6]:port */
        peer++;
        len -= 2;
    }
    snprintf(out, out_size, "%.*s", (int)MIN(len, out_size - 1), peer);
}

void app_base_url(app_t *app, const http_request_t *req, char *out, size_t out_size)
{
    char host[256] = "";
    const http_slice_t *h = http_header_get(req->headers, req->header_count, "Host");
    if (h && h->len < sizeof(host) && h->len > 0) {
        memcpy(host, h->ptr, h->len);
        host[h->len] = '\0';
    } else {
        snprintf(host, sizeof(host), "%s:%u", app->options.listen_host, app->options.listen_port);
    }
    /* The Host header is the client's; keep only characters a host:port may have. */
    for (char *c = host; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr(".-:[]", *c)))
            *c = '_';
    snprintf(out, out_size, "http://%s", host);
}

/* ---- /metrics -------------------------------------------------------------------------- */

#define LAG_PERIOD_US 100000

/* The watchdog: a 100 ms timer that runs late means the loop was held up;
 * past lag_warn_ms it says by what (the longest step since the last tick),
 * or that no step of ours was long: the process itself did not run. */
static void app_on_lag_timer(uv_timer_t *timer)
{
    app_t *app = timer->data;
    uint64_t now = clock_mono_us();
    app->lag_last_us = now > app->lag_expected_us ? now - app->lag_expected_us : 0;
    app->lag_max_us = MAX(app->lag_max_us, app->lag_last_us);
    app->lag_expected_us = now + LAG_PERIOD_US;
    char step[BUSY_NAME_MAX];
    uint64_t longest_us = busy_take_longest(step, sizeof(step));
    if (app->lag_last_us < (uint64_t)app->options.lag_warn_ms * 1000u)
        return;
    app->lag_warnings++;
    if (longest_us * 2 >= app->lag_last_us)
        log_warn("app", "event loop %llu ms late: held up by %s for %llu ms",
                 (unsigned long long)(app->lag_last_us / 1000u), step, (unsigned long long)(longest_us / 1000u));
    else
        log_warn("app", "event loop %llu ms late, yet no step of antenne's took long (longest: %s, %llu ms): the "
                 "process was not running (stopped, or starved of CPU) or libuv's own work took the time",
                 (unsigned long long)(app->lag_last_us / 1000u), *step ? step : "none",
                 (unsigned long long)(longest_us / 1000u));
}

static uint64_t resident_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void route_metrics(app_t *app, http_conn_t *conn, const http_request_t *req)
{
    if (!access_admin_ok(app->access, req)) {
        static const char why[] = "an admin token is needed: Authorization: Bearer <token>\n";
        http_respond(conn, 401, "text/plain; charset=utf-8", "WWW-Authenticate: Bearer realm=\"antenne\"\r\n", why,
                     sizeof(why) - 1);
        return;
    }
    channel_t **sorted = app_sorted_channels(app);
    if (!sorted) {
        http_respond_text(conn, 503, "out of memory");
        return;
    }
    strbuf_t out;
    strbuf_init(&out);
    admin_metrics_channels(sorted, app->channel_count, &out);
    free(sorted);
    const http_server_stats_t *h = http_server_stats(app->http);
    admin_metric(&out, "antenne_http_connections_open", false, "HTTP connections open", (double)h->open_connections);
    admin_metric(&out, "antenne_http_connections_total", true, "HTTP connections accepted", (double)h->connections);
    admin_metric(&out, "antenne_http_requests_total", true, "HTTP requests", (double)h->requests);
    admin_metric(&out, "antenne_http_bad_requests_total", true, "malformed HTTP requests", (double)h->bad_requests);
    admin_metric(&out, "antenne_http_refused_total", true, "connections over a limit, answered 503",
                 (double)h->refused);
    admin_metric(&out, "antenne_sessions_running", false, "subscriber sessions running on this server",
                 (double)sessions_running(app));
    admin_metric(&out, "antenne_subscribers", false, "subscribers in the database",
                 (double)app->access->subscriber_count);
    admin_metric(&out, "antenne_resident_memory_bytes", false, "resident memory of the server",
                 (double)resident_bytes());
    admin_metric(&out, "antenne_loop_lag_seconds", false, "how late the event loop ran its last 100 ms timer",
                 (double)app->lag_last_us / 1e6);
    admin_metric(&out, "antenne_loop_lag_max_seconds", false, "the longest such delay since the last scrape",
                 (double)app->lag_max_us / 1e6);
    app->lag_max_us = 0;
    admin_metric(&out, "antenne_loop_lag_warnings_total", true,
                 "times the event loop ran later than --lag-warn-ms (each logged with what held it up)",
                 (double)app->lag_warnings);
    strbuf_printf(&out, "# HELP antenne_build_info the running version\n# TYPE antenne_build_info gauge\n"
                        "antenne_build_info{version=\"%s\"} 1\n", ANTENNE_VERSION);
    if (out.failed)
        http_respond_text(conn, 503, "out of memory");
    else
        http_respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8", "Cache-Control: no-cache\r\n", out.data,
                     out.len);
    strbuf_free(&out);
}

static void app_route_request(app_t *app, http_conn_t *conn, const http_request_t *req);

static void app_on_request(void *ctx, http_conn_t *conn, const http_request_t *req)
{
    /* (a subscriber's token in the path stays out of the log) */
    char what[BUSY_NAME_MAX];
    http_slice_t path = req->path;
    const char *hidden = "";
    if (path.len > 3 && !memcmp(path.ptr, "/t/", 3)) {
        const char *slash = memchr(path.ptr + 3, '/', path.len - 3);
        size_t skip = slash ? (size_t)(slash - path.ptr) : path.len;
        path.ptr += skip;
        path.len -= skip;
        hidden = "/t/TOKEN";
    }
    snprintf(what, sizeof(what), "%s %s%.*s", http_method_name(req->method), hidden, (int)MIN(path.len, 100u),
             path.ptr);
    busy_begin("request", what);
    app_route_request(ctx, conn, req);
    busy_end();
}

static void app_route_request(app_t *app, http_conn_t *conn, const http_request_t *req)
{
    char path[HTTP_MAX_TARGET + 1];
    if (http_path_decode(req->path, path, sizeof(path)) < 0) {
        http_respond_text(conn, 400, "malformed percent-encoding in the path");
        return;
    }
    bool api = !strncmp(path, "/api/v1/", 8);
    if (req->method == HTTP_OPTIONS) {
        /* CORS preflight from web players (and the web UI) on other origins. */
        http_respond(conn, 204, "text/plain",
                     api ? "Allow: GET, HEAD, POST, PATCH, DELETE, OPTIONS\r\n"
                           "Access-Control-Allow-Methods: GET, HEAD, POST, PATCH, DELETE, OPTIONS\r\n"
                           "Access-Control-Allow-Headers: *\r\nAccess-Control-Max-Age: 86400\r\n"
                         : "Allow: GET, HEAD, OPTIONS\r\nAccess-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
                           "Access-Control-Allow-Headers: *\r\nAccess-Control-Max-Age: 86400\r\n",
                     NULL, 0);
        return;
    }
    if (api) {
        api_route(app, conn, req, path);
        return;
    }
    if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
        http_respond(conn, 405, "text/plain", "Allow: GET, HEAD\r\n", "method not allowed\n", 19);
        return;
    }
    if (!strcmp(path, "/healthz"))
        http_respond(conn, 200, "text/plain", "Cache-Control: no-cache\r\n", "ok\n", 3);
    else if (!strcmp(path, "/metrics"))
        route_metrics(app, conn, req);
    else if (!admin_web_serve(app->web, conn, req, path))
        viewing_route(app, conn, req, path);
}

/* ---- life cycle ---------------------------------------------------------------------- */

static void app_on_signal(uv_signal_t *signal, int signum)
{
    app_t *app = signal->data;
    if (app->stopping)
        return;
    app->stopping = true;
    log_info("app", "%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    sessions_close(app);
    app_flush_pending(app, UINT64_MAX);
    for (size_t i = 0; i < app->channel_count; i++)
        channel_destroy(app->channels[i]);
    app->channel_count = 0;
    http_server_close(app->http);
    uv_close((uv_handle_t *)&app->poll_timer, NULL);
    uv_close((uv_handle_t *)&app->lag_timer, NULL);
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    uv_close((uv_handle_t *)&app->sighup, NULL);
}

/* SIGHUP: everything is read from the database again at once (it is also
 * followed by polling; this is for operators who changed it behind our back,
 * e.g. restored a backup, and for the habit). */
static void app_on_sighup(uv_signal_t *signal, int signum)
{
    app_t *app = signal->data;
    (void)signum;
    log_info("app", "SIGHUP: reloading channels, subscribers and keys from the database");
    app->revision = -1; /* whatever the database says, it is new */
    app_poll_now(app);
}

/* Many viewers need many descriptors: take all the system allows. */
static void raise_fd_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

/* What the server needs before the first request: the database, its
 * channels, keys and subscribers, and the limits on failed logins. */
static int app_open(app_t *app)
{
    char err[512];
    if (app->options.archive_dir)
        snprintf(app->archive_dir, sizeof(app->archive_dir), "%s", app->options.archive_dir);
    else
        snprintf(app->archive_dir, sizeof(app->archive_dir), "%s/archive", app->options.data_dir);
    if (app->options.web_dir) {
        app->web = admin_web_load(app->options.web_dir, err, sizeof(err));
        if (!app->web) {
            log_error("app", "web UI: %s", err);
            return -1;
        }
        log_info("app", "web UI: %zu files from %s", admin_web_count(app->web), app->options.web_dir);
    }
    if (store_open(app->options.data_dir, app->options.db_url, &app->store, err, sizeof(err)) < 0) {
        log_error("app", "%s", err);
        return -1;
    }
    void *list;
    size_t count;
    if (access_bootstrap(app->store) < 0 || store_revision(app->store, &app->revision) < 0 ||
        access_snapshot_load(app->store, &app->access) < 0) {
        log_error("app", "reading the database: %s", store_last_error(app->store));
        return -1;
    }
    if (store_list(app->store, app_channel_kind(), &list, &count) < 0) {
        log_error("app", "reading channels: %s", store_last_error(app->store));
        return -1;
    }
    app_apply_channels(app, list, count);
    store_free_list(app_channel_kind(), list, count);
    /* Five failed logins lock an address or username for 1 s, doubling up to an hour. */
    app->lockout = auth_lockout_new(5, 1000, 3600 * 1000, 100000);
    /* Playlists and guides: 10 a second per address, bursts of 40. */
    app->ratelimit = auth_ratelimit_new(10.0, 40.0, 100000);
    if (!app->lockout || !app->ratelimit)
        return -1;
    auth_random(app->fingerprint_key, sizeof(app->fingerprint_key));
    char host[48] = "antenne";
    gethostname(host, sizeof(host) - 1);
    snprintf(app->server_id, sizeof(app->server_id), "%.40s:%u", host, app->options.listen_port);
    return 0;
}

static void app_free(app_t *app)
{
    for (size_t i = 0; i < app->channel_count; i++)
        channel_destroy(app->channels[i]);
    free(app->channels);
    app_poll_release(app);
    access_snapshot_free(app->access);
    free(app->now_next);
    viewing_close(app);
    admin_web_free(app->web);
    auth_lockout_free(app->lockout);
    auth_ratelimit_free(app->ratelimit);
    store_close(app->store);
}

int app_serve(const app_options_t *options)
{
    app_t app = {0};
    app.options = *options;
    app.loop = uv_default_loop();
    signal(SIGPIPE, SIG_IGN);
    /* A fixed mmap threshold: large buffers (a UDP source's 1 MiB) are
     * always mapped and given back when freed. glibc's sliding threshold
     * would otherwise keep them in the heap after the first free, and RSS
     * grew with every source switch in the soak (bench/RESULTS.md). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    raise_fd_limit();
    if (app_open(&app) < 0) {
        app_free(&app);
        uv_run(app.loop, UV_RUN_DEFAULT); /* lets channel handles close */
        return 2;
    }
    app.http = http_server_new(app.loop, app_on_request, &app);
    if (app.http)
        http_server_set_limits(app.http, options->max_connections, options->max_connections_per_ip);
    int rc = app.http ? http_server_listen(app.http, options->listen_host, options->listen_port) : -ENOMEM;
    if (rc < 0) {
        log_error("app", "cannot listen on %s:%u: %s", options->listen_host, options->listen_port, uv_strerror(rc));
        app_free(&app);
        uv_run(app.loop, UV_RUN_DEFAULT);
        return 2;
    }
    log_info("app", "antenne %s: %zu channels, %zu subscribers, from the %s database", ANTENNE_VERSION,
             app.channel_count, app.access->subscriber_count, store_backend(app.store));
    log_info("app", "listening on http://%s%s%s:%u", strchr(options->listen_host, ':') ? "[" : "",
             options->listen_host, strchr(options->listen_host, ':') ? "]" : "", options->listen_port);

    uv_timer_init(app.loop, &app.poll_timer);
    app.poll_timer.data = &app;
    uv_timer_start(&app.poll_timer, app_on_poll_timer, options->poll_ms, options->poll_ms);
    sessions_init(&app);
    uv_timer_init(app.loop, &app.lag_timer);
    app.lag_timer.data = &app;
    app.lag_expected_us = clock_mono_us() + LAG_PERIOD_US;
    uv_timer_start(&app.lag_timer, app_on_lag_timer, LAG_PERIOD_US / 1000, LAG_PERIOD_US / 1000);
    uv_signal_init(app.loop, &app.sigint);
    uv_signal_init(app.loop, &app.sigterm);
    app.sigint.data = app.sigterm.data = &app;
    uv_signal_start(&app.sigint, app_on_signal, SIGINT);
    uv_signal_start(&app.sigterm, app_on_signal, SIGTERM);
    uv_signal_init(app.loop, &app.sighup);
    app.sighup.data = &app;
    uv_signal_start(&app.sighup, app_on_sighup, SIGHUP);

    uv_run(app.loop, UV_RUN_DEFAULT);

    app_free(&app);
    uv_loop_close(app.loop);
    log_info("app", "stopped");
    return 0;
}
