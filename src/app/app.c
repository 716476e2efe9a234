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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct app {
    uv_loop_t *loop;
    app_options_t options;
    store_t *store;
    http_server_t *http;
    channel_t **channels;
    size_t channel_count;
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_timer_t poll_timer;
    /* The poll in flight: its result is read on the loop. */
    uv_work_t poll;
    bool polling;
    int64_t revision;
    int64_t polled_revision;
    channel_config_t *polled;
    size_t polled_count;
    bool polled_changed;       /* the list was reloaded (it may be empty) */
    int poll_error;
    bool stopping;
} app_t;

const store_kind_t *app_channel_kind(void)
{
    static store_kind_t kind;
    kind = (store_kind_t){"channels", channel_fields, channel_field_count, sizeof(channel_config_t)};
    return &kind;
}

static channel_t *app_find_channel(app_t *app, const char *name, size_t *index)
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
                                 app->options.batch_max_ms};
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

static void app_poll_work(uv_work_t *req)
{
    app_t *app = req->data;
    app->polled_changed = false;
    app->poll_error = store_revision(app->store, &app->polled_revision);
    if (app->poll_error == 0 && app->polled_revision != app->revision) {
        void *list = NULL;
        app->poll_error = store_list(app->store, app_channel_kind(), &list, &app->polled_count);
        app->polled = app->poll_error == 0 ? list : NULL;
        app->polled_changed = app->poll_error == 0;
    }
}

static void app_poll_done(uv_work_t *req, int status)
{
    app_t *app = req->data;
    app->polling = false;
    if (status < 0 || app->stopping) {
        store_free_list(app_channel_kind(), app->polled, app->polled_count);
        app->polled = NULL;
        app->polled_count = 0;
        return;
    }
    if (app->poll_error < 0) {
        log_warn("app", "reading the database failed: %s", store_last_error(app->store));
        return;
    }
    if (app->polled_changed) {
        app->revision = app->polled_revision;
        app_apply_channels(app, app->polled, app->polled_count);
        store_free_list(app_channel_kind(), app->polled, app->polled_count);
        app->polled = NULL;
        app->polled_count = 0;
    }
}

static void app_on_poll_timer(uv_timer_t *timer)
{
    app_t *app = timer->data;
    if (app->polling)
        return;
    app->poll.data = app;
    if (uv_queue_work(app->loop, &app->poll, app_poll_work, app_poll_done) == 0)
        app->polling = true;
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

/* The channels in playlist order (number, then name): a new array the
 * caller frees, or NULL (having answered 503) when out of memory. */
static channel_t **sorted_channels(app_t *app, http_conn_t *conn)
{
    channel_t **sorted = malloc((app->channel_count + 1) * sizeof(*sorted));
    if (!sorted) {
        http_respond_text(conn, 503, "out of memory");
        return NULL;
    }
    if (app->channel_count)
        memcpy(sorted, app->channels, app->channel_count * sizeof(*sorted));
    qsort(sorted, app->channel_count, sizeof(*sorted), compare_channels);
    return sorted;
}

static void respond_json(http_conn_t *conn, int status, json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!text) {
        http_respond_text(conn, 500, "out of memory");
        return;
    }
    size_t len = strlen(text);
    text[len] = '\0';
    char *body = realloc(text, len + 2);
    if (body) {
        body[len++] = '\n';
        text = body;
    }
    http_respond(conn, status, "application/json", "Cache-Control: no-cache\r\n", text, len);
    free(text);
}

static void route_playlist(app_t *app, http_conn_t *conn, const http_request_t *req)
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
    char base[300];
    snprintf(base, sizeof(base), "http://%s", host);
    char output[8] = "ts";
    int found = http_query_get(req->query, "output", output, sizeof(output));
    if (found != -ENOENT && (found < 0 || (strcmp(output, "ts") && strcmp(output, "hls")))) {
        http_respond_text(conn, 400, "output must be ts or hls");
        return;
    }
    channel_t **sorted = sorted_channels(app, conn);
    if (!sorted)
        return;
    strbuf_t out;
    strbuf_init(&out);
    admin_playlist_m3u(sorted, app->channel_count, base, !strcmp(output, "hls"), &out);
    free(sorted);
    if (out.failed)
        http_respond_text(conn, 503, "out of memory");
    else
        http_respond(conn, 200, "audio/x-mpegurl; charset=utf-8", "Cache-Control: no-cache\r\n", out.data, out.len);
    strbuf_free(&out);
}

static void route_channels(app_t *app, http_conn_t *conn)
{
    channel_t **sorted = sorted_channels(app, conn);
    if (!sorted)
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < app->channel_count; i++)
        json_array_append_new(list, admin_channel_json(sorted[i]));
    free(sorted);
    respond_json(conn, 200, json_pack("{so}", "channels", list));
}

static void app_on_request(void *ctx, http_conn_t *conn, const http_request_t *req)
{
    app_t *app = ctx;
    char path[HTTP_MAX_TARGET + 1];
    if (http_path_decode(req->path, path, sizeof(path)) < 0) {
        http_respond_text(conn, 400, "malformed percent-encoding in the path");
        return;
    }
    if (req->method == HTTP_OPTIONS) {
        /* CORS preflight from web players on other origins. */
        http_respond(conn, 204, "text/plain",
                     "Allow: GET, HEAD, OPTIONS\r\nAccess-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
                     "Access-Control-Allow-Headers: *\r\nAccess-Control-Max-Age: 86400\r\n",
                     NULL, 0);
        return;
    }
    if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
        http_respond(conn, 405, "text/plain", "Allow: GET, HEAD\r\n", "method not allowed\n", 19);
        return;
    }
    size_t len = strlen(path);
    if (!strcmp(path, "/healthz")) {
        http_respond(conn, 200, "text/plain", "Cache-Control: no-cache\r\n", "ok\n", 3);
    } else if (!strcmp(path, "/playlist.m3u")) {
        route_playlist(app, conn, req);
    } else if (!strcmp(path, "/api/v1/channels")) {
        route_channels(app, conn);
    } else if (!strncmp(path, "/api/v1/channels/", 17)) {
        channel_t *channel = app_find_channel(app, path + 17, NULL);
        if (!channel) {
            char message[128];
            snprintf(message, sizeof(message), "channel '%.64s' not found",
                     parse_name_valid(path + 17) ? path + 17 : "?");
            respond_json(conn, 404, json_pack("{ss}", "error", message));
            return;
        }
        respond_json(conn, 200, admin_channel_json(channel));
    } else if (!strncmp(path, "/live/", 6) && strchr(path + 6, '/')) {
        char *slash = strchr(path + 6, '/');
        *slash = '\0';
        channel_t *channel = app_find_channel(app, path + 6, NULL);
        if (!channel) {
            http_respond_text(conn, 404, "channel '%s' not found", parse_name_valid(path + 6) ? path + 6 : "?");
            return;
        }
        channel_serve_hls(channel, conn, req, slash + 1);
    } else if (!strncmp(path, "/live/", 6) && len > 9 && !strcmp(path + len - 3, ".ts")) {
        path[len - 3] = '\0';
        channel_t *channel = app_find_channel(app, path + 6, NULL);
        if (!channel) {
            http_respond_text(conn, 404, "channel '%s' not found", parse_name_valid(path + 6) ? path + 6 : "?");
            return;
        }
        channel_serve_ts(channel, conn);
    } else {
        http_respond_text(conn, 404, "not found");
    }
}

/* ---- life cycle ---------------------------------------------------------------------- */

static void app_on_signal(uv_signal_t *signal, int signum)
{
    app_t *app = signal->data;
    if (app->stopping)
        return;
    app->stopping = true;
    log_info("app", "%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    for (size_t i = 0; i < app->channel_count; i++)
        channel_destroy(app->channels[i]);
    app->channel_count = 0;
    http_server_close(app->http);
    uv_close((uv_handle_t *)&app->poll_timer, NULL);
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
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

int app_serve(const app_options_t *options)
{
    app_t app = {0};
    app.options = *options;
    app.loop = uv_default_loop();
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    char err[512];
    if (store_open(options->data_dir, options->db_url, &app.store, err, sizeof(err)) < 0) {
        log_error("app", "%s", err);
        return 2;
    }
    void *list;
    size_t count;
    if (store_revision(app.store, &app.revision) < 0 || store_list(app.store, app_channel_kind(), &list, &count) < 0) {
        log_error("app", "reading channels: %s", store_last_error(app.store));
        store_close(app.store);
        return 2;
    }
    app.http = http_server_new(app.loop, app_on_request, &app);
    int rc = app.http ? http_server_listen(app.http, options->listen_host, options->listen_port) : -ENOMEM;
    if (rc < 0) {
        log_error("app", "cannot listen on %s:%u: %s", options->listen_host, options->listen_port, uv_strerror(rc));
        store_free_list(app_channel_kind(), list, count);
        store_close(app.store);
        return 2;
    }
    app_apply_channels(&app, list, count);
    store_free_list(app_channel_kind(), list, count);
    log_info("app", "antenne %s: %zu channels from the %s database", ANTENNE_VERSION, app.channel_count,
             store_backend(app.store));
    log_info("app", "listening on http://%s%s%s:%u", strchr(options->listen_host, ':') ? "[" : "",
             options->listen_host, strchr(options->listen_host, ':') ? "]" : "", options->listen_port);

    uv_timer_init(app.loop, &app.poll_timer);
    app.poll_timer.data = &app;
    uv_timer_start(&app.poll_timer, app_on_poll_timer, options->poll_ms, options->poll_ms);
    uv_signal_init(app.loop, &app.sigint);
    uv_signal_init(app.loop, &app.sigterm);
    app.sigint.data = app.sigterm.data = &app;
    uv_signal_start(&app.sigint, app_on_signal, SIGINT);
    uv_signal_start(&app.sigterm, app_on_signal, SIGTERM);

    uv_run(app.loop, UV_RUN_DEFAULT);

    free(app.channels);
    store_free_list(app_channel_kind(), app.polled, app.polled_count);
    store_close(app.store);
    uv_loop_close(app.loop);
    log_info("app", "stopped");
    return 0;
}
