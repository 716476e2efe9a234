// SPDX-License-Identifier: MIT
// portal.c -- /api/v1/portal/: what a viewer's own apps (the web portal at
// /) may ask. A subscriber logs in with username and password and gets the
// same signed token a playlist carries; with it (Authorization: Bearer) they
// see their account, the channels their packages hold with what is on, and
// the programme guide of those channels with catch-up links. Nothing here
// shows another subscriber or a channel outside the packages: a channel the
// viewer may not watch answers like one that does not exist.
#include "app/app_private.h"
#include "admin/admin.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PORTAL_GUIDE_MAX_MS (31 * 86400 * 1000LL) /* the most of the guide one answer holds */

void portal_logged_in(app_t *app, http_conn_t *conn, const subscriber_t *sub, const char *ip)
{
    char token[AUTH_TOKEN_MAX];
    if (viewing_issue_token(app, sub, ip, token, sizeof(token)) < 0) {
        app_respond_error(conn, 503, "no key to sign tokens with");
        return;
    }
    log_info("auth", "portal: '%s' logged in from %s", sub->name, ip);
    app_respond_json(conn, 200,
                     json_pack("{ss sI ss}", "token", token, "expires",
                               (json_int_t)(clock_wall_ms() / 1000 + app->options.token_ttl_s), "subscriber",
                               sub->name));
}

static void route_login(app_t *app, http_conn_t *conn, const http_request_t *req)
{
    char ip[64], err[256];
    app_client_ip(conn, ip, sizeof(ip));
    if (!auth_ratelimit_allow(app->ratelimit, ip, clock_mono_us() / 1000)) {
        http_respond(conn, 429, "application/json", "Retry-After: 1\r\n", "{\"error\":\"too many requests\"}", 29);
        return;
    }
    json_t *body = admin_body_parse(req->body.ptr, req->body.len, err, sizeof(err));
    if (!body) {
        app_respond_error(conn, 400, "%s", err);
        return;
    }
    const char *name = json_string_value(json_object_get(body, "username"));
    const char *password = json_string_value(json_object_get(body, "password"));
    char copy[256];
    if (!name || !password || !name[0] || strlen(name) > 64 || strlen(password) >= sizeof(copy)) {
        app_respond_error(conn, 400, "the body must be {\"username\": \"...\", \"password\": \"...\"}");
    } else {
        char user[65];
        snprintf(user, sizeof(user), "%s", name);
        snprintf(copy, sizeof(copy), "%s", password);
        viewing_portal_login(app, conn, req, user, copy, sizeof(copy));
    }
    /* (the parsed body held the password too) */
    if (password)
        sodium_memzero((char *)password, strlen(password));
    json_decref(body);
}

/* The bearer token's subscriber, or NULL having answered 401. */
static const subscriber_t *bearer(app_t *app, http_conn_t *conn, const http_request_t *req, char *token,
                                  size_t token_size)
{
    const http_slice_t *h = http_header_get(req->headers, req->header_count, "Authorization");
    const char *why = "log in first: Authorization: Bearer <token from POST /api/v1/portal/login>";
    const subscriber_t *sub = NULL;
    if (h && h->len > 7 && h->len - 7 < token_size && !strncasecmp(h->ptr, "Bearer ", 7)) {
        memcpy(token, h->ptr + 7, h->len - 7);
        token[h->len - 7] = '\0';
        char ip[64];
        app_client_ip(conn, ip, sizeof(ip));
        sub = viewing_token_subscriber(app, token, ip, &why);
    }
    if (!sub) {
        char body[300];
        json_t *j = json_pack("{ss}", "error", why);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        snprintf(body, sizeof(body), "%s", text ? text : "{\"error\":\"not logged in\"}");
        free(text);
        json_decref(j);
        http_respond(conn, 401, "application/json", "WWW-Authenticate: Bearer realm=\"antenne portal\"\r\n", body,
                     strlen(body));
    }
    return sub;
}

static void route_me(app_t *app, http_conn_t *conn, const http_request_t *req, const subscriber_t *sub,
                     const char *token)
{
    char base[300];
    app_base_url(app, req, base, sizeof(base));
    json_t *j = json_pack("{ss ss sI}", "name", sub->name, "expires", sub->expires ? sub->expires : "",
                          "max_streams", (json_int_t)sub->max_streams);
    json_object_set_new(j, "playlist_url", json_sprintf("%s/get/playlist.m3u?token=%s", base, token));
    json_object_set_new(j, "epg_url", json_sprintf("%s/get/epg.xml.gz?token=%s", base, token));
    app_respond_json(conn, 200, j);
}

static void route_channels(app_t *app, http_conn_t *conn, const subscriber_t *sub, const char *token)
{
    channel_t **sorted = app_sorted_channels(app);
    if (!sorted) {
        app_respond_error(conn, 503, "out of memory");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < app->channel_count; i++) {
        const channel_config_t *c = channel_config(sorted[i]);
        if (!access_entitled(app->access, sub, c->name))
            continue;
        channel_info_t info;
        channel_get_info(sorted[i], &info);
        json_t *j = json_pack("{ss ss sI ss ss ss sb sI}", "name", c->name, "title", c->title ? c->title : c->name,
                              "number", (json_int_t)c->number, "group", c->group ? c->group : "", "logo",
                              c->logo ? c->logo : "", "state", channel_state_name(info.state), "archive",
                              c->archive, "archive_days", (json_int_t)c->archive_days);
        json_object_set_new(j, "hls", json_sprintf("/t/%s/live/%s/index.m3u8", token, c->name));
        json_object_set_new(j, "epg", guide_now_next_json(app, c->name));
        json_array_append_new(list, j);
    }
    free(sorted);
    app_respond_json(conn, 200, json_pack("{so}", "channels", list));
}

static int query_unix(const http_request_t *req, const char *key, int64_t *ms)
{
    char text[24];
    uint64_t v;
    *ms = 0;
    if (http_query_get(req->query, key, text, sizeof(text)) == -ENOENT)
        return 0;
    if (http_query_get(req->query, key, text, sizeof(text)) < 0 || parse_u64(text, 1, UINT32_MAX, &v) < 0)
        return -1;
    *ms = (int64_t)v * 1000;
    return 0;
}

void portal_route(app_t *app, http_conn_t *conn, const http_request_t *req, const char *rest)
{
    http_method_t m = req->method == HTTP_HEAD ? HTTP_GET : req->method;
    if (!strcmp(rest, "login")) {
        if (m == HTTP_POST)
            route_login(app, conn, req);
        else
            app_respond_error(conn, 405, "log in with POST");
        return;
    }
    char token[AUTH_TOKEN_MAX + 1], prefix[AUTH_TOKEN_MAX + 4];
    const subscriber_t *sub = bearer(app, conn, req, token, sizeof(token));
    if (!sub)
        return;
    if (m != HTTP_GET) {
        app_respond_error(conn, 405, "method not allowed here");
        return;
    }
    if (!strcmp(rest, "me")) {
        route_me(app, conn, req, sub, token);
        return;
    }
    if (!strcmp(rest, "channels")) {
        route_channels(app, conn, sub, token);
        return;
    }
    /* channels/NAME/epg */
    char name[65];
    const char *tail;
    if (strncmp(rest, "channels/", 9) || !(tail = strchr(rest + 9, '/')) || strcmp(tail, "/epg") ||
        (size_t)(tail - rest - 9) >= sizeof(name)) {
        app_respond_error(conn, 404, "not found");
        return;
    }
    memcpy(name, rest + 9, (size_t)(tail - rest - 9));
    name[tail - rest - 9] = '\0';
    if (!parse_name_valid(name) || !app_find_channel(app, name, NULL) || !access_entitled(app->access, sub, name)) {
        app_respond_error(conn, 404, "channel '%s' not found", parse_name_valid(name) ? name : "?");
        return;
    }
    int64_t from, to;
    if (query_unix(req, "from", &from) < 0 || query_unix(req, "to", &to) < 0) {
        app_respond_error(conn, 400, "from and to are Unix seconds");
        return;
    }
    if ((from && to && to <= from) || (to - from > PORTAL_GUIDE_MAX_MS && from && to)) {
        app_respond_error(conn, 400, "to must be after from, at most 31 days later");
        return;
    }
    snprintf(prefix, sizeof(prefix), "/t/%s", token);
    guide_api_programmes(app, conn, name, from, to, prefix);
}
