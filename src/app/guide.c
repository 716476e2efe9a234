// SPDX-License-Identifier: MIT
// guide.c -- the programme guide as the server offers it: each subscriber's
// XMLTV (/get/epg.xml, .xml.gz) with only their channels, a channel's
// programmes in the API, and EPG sources imported on request or on their
// schedule (a file, or an http:// URL fetched into a temporary file first).
// Everything that touches the store or the network runs as a job.
#include "app/app_private.h"
#include "admin/admin.h"
#include "epg/epg.h"
#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define GUIDE_DAYS 7                        /* a subscriber's guide runs this far ahead */
#define FETCH_MAX_BYTES (2ull << 30)        /* an XMLTV download larger than this is refused */
#define FETCH_TIMEOUT_S 30

/* ---- channels, copied for a job ---------------------------------------------------------- */

typedef struct guide_channels {
    epg_out_channel_t *out;      /* for the writer */
    epg_map_channel_t *map;      /* for the importer */
    char **strings;              /* what both point into */
    size_t count;
} guide_channels_t;

static void guide_channels_free(guide_channels_t *g)
{
    for (size_t i = 0; i < g->count * 4; i++)
        free(g->strings ? g->strings[i] : NULL);
    free(g->strings);
    free(g->out);
    free(g->map);
    memset(g, 0, sizeof(*g));
}

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

/* Copies the given channels (a job must not hold the live configurations). */
static int guide_channels_copy(guide_channels_t *g, const channel_config_t *const *configs, size_t count)
{
    g->count = count;
    g->out = calloc(count + 1, sizeof(*g->out));
    g->map = calloc(count + 1, sizeof(*g->map));
    g->strings = calloc(count * 4 + 1, sizeof(char *));
    if (!g->out || !g->map || !g->strings)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const channel_config_t *c = configs[i];
        char **s = &g->strings[i * 4];
        s[0] = strdup(c->name);
        char id[80];
        s[1] = strdup(admin_epg_id(c, id, sizeof(id)));
        s[2] = strdup(c->title && *c->title ? c->title : c->name);
        s[3] = dup_or_null(c->logo);
        if (!s[0] || !s[1] || !s[2])
            return -ENOMEM;
        g->out[i] = (epg_out_channel_t){s[0], s[1], s[2], s[3]};
        g->map[i] = (epg_map_channel_t){s[0], c->tvg_id && *c->tvg_id ? s[1] : NULL, s[2]};
    }
    return 0;
}

/* ---- /get/epg.xml ----------------------------------------------------------------------------- */

typedef struct guide_job {
    guide_channels_t channels;
    bool gzip;
    strbuf_t body;
} guide_job_t;

static void guide_run(app_job_t *job)
{
    guide_job_t *g = job->data;
    int64_t now = (int64_t)(clock_wall_ms() / 1000);
    int rc = epg_write_guide(job->app->store, g->channels.out, g->channels.count, now - 86400,
                             now + GUIDE_DAYS * 86400, g->gzip, epg_sink_strbuf, &g->body, job->error,
                             sizeof(job->error));
    job->status = rc < 0 ? 503 : 200;
}

static void guide_done(app_job_t *job)
{
    guide_job_t *g = job->data;
    if (!job->conn)
        return;
    if (job->status != 200 || g->body.failed) {
        http_respond_text(job->conn, 503, "the guide cannot be written now: %s", job->error);
        return;
    }
    http_respond(job->conn, 200, g->gzip ? "application/gzip" : "application/xml; charset=utf-8",
                 "Cache-Control: private, max-age=300\r\n", g->body.data, g->body.len);
}

static void guide_cleanup(app_job_t *job)
{
    guide_job_t *g = job->data;
    guide_channels_free(&g->channels);
    strbuf_free(&g->body);
    free(g);
}

void guide_serve(app_t *app, http_conn_t *conn, const subscriber_t *sub, bool gzip)
{
    channel_t **sorted = app_sorted_channels(app);
    guide_job_t *g = calloc(1, sizeof(*g));
    app_job_t *job = app_job_new(app, guide_run, guide_done);
    int rc = sorted && g && job ? 0 : -ENOMEM;
    if (rc == 0) {
        const channel_config_t **configs = (const channel_config_t **)sorted;
        size_t count = 0;
        for (size_t i = 0; i < app->channel_count; i++)
            if (access_entitled(app->access, sub, channel_config(sorted[i])->name))
                configs[count++] = channel_config(sorted[i]);
        strbuf_init(&g->body);
        g->gzip = gzip;
        rc = guide_channels_copy(&g->channels, configs, count);
    }
    free(sorted);
    if (rc < 0) {
        if (g)
            guide_channels_free(&g->channels);
        free(g);
        free(job);
        http_respond_text(conn, 503, "out of memory");
        return;
    }
    job->data = g;
    job->cleanup = guide_cleanup;
    app_job_start(app, conn, job);
}

/* ---- GET /api/v1/channels/NAME/epg ------------------------------------------------------------- */

typedef struct programmes_job {
    char channel[65];
    int64_t from, to;
    json_t *list;
    char prefix[AUTH_TOKEN_MAX + 4]; /* before catch-up paths: "/t/TOKEN" for a subscriber */
} programmes_job_t;

static int add_programme(void *ctx, const store_programme_t *p)
{
    json_t *list = ctx;
    char start[32], stop[32];
    clock_format_iso((uint64_t)p->start * 1000, start, sizeof(start));
    clock_format_iso((uint64_t)p->stop * 1000, stop, sizeof(stop));
    json_t *j = json_pack("{ss ss sI sI ss}", "start", start, "stop", stop, "start_unix", (json_int_t)p->start,
                          "stop_unix", (json_int_t)p->stop, "title", p->title ? p->title : "");
    const char *optional[][2] = {{"subtitle", p->subtitle},   {"description", p->description},
                                 {"category", p->category},   {"episode", p->episode},
                                 {"icon", p->icon}};
    for (size_t i = 0; i < ARRAY_SIZE(optional); i++)
        if (optional[i][1])
            json_object_set_new(j, optional[i][0], json_string(optional[i][1]));
    return json_array_append_new(list, j) == 0 ? 0 : -ENOMEM;
}

static void programmes_run(app_job_t *job)
{
    programmes_job_t *p = job->data;
    const char *channels[] = {p->channel};
    p->list = json_array();
    int rc = store_epg_each(job->app->store, channels, 1, p->from, p->to, add_programme, p->list);
    if (rc < 0) {
        job->status = 500;
        snprintf(job->error, sizeof(job->error), "database: %s", store_last_error(job->app->store));
        return;
    }
    job->result = json_pack("{ss sO}", "channel", p->channel, "programmes", p->list);
}

/* On the loop: programmes that the channel's archive holds (in part) get
 * their catch-up URLs (paths: the client puts its base URL and token before). */
static void programmes_done(app_job_t *job)
{
    programmes_job_t *p = job->data;
    channel_t *channel = job->result ? app_find_channel(job->app, p->channel, NULL) : NULL;
    channel_info_t info;
    if (channel)
        channel_get_info(channel, &info);
    if (channel && info.archived && info.archive.segments) {
        size_t i;
        json_t *programme;
        json_array_foreach(p->list, i, programme)
        {
            json_int_t start = json_integer_value(json_object_get(programme, "start_unix"));
            json_int_t stop = json_integer_value(json_object_get(programme, "stop_unix"));
            if (stop <= start || (uint64_t)stop * 1000u <= info.archive.first_ms ||
                (uint64_t)start * 1000u >= info.archive.last_ms)
                continue;
            char hls[200], ts[200];
            snprintf(hls, sizeof(hls), "%s/live/%s/archive-%lld-%lld.m3u8", p->prefix, p->channel, (long long)start,
                     (long long)(stop - start));
            snprintf(ts, sizeof(ts), "%s/live/%s/timeshift_abs-%lld.ts", p->prefix, p->channel, (long long)start);
            json_object_set_new(programme, "catchup", json_pack("{ss ss}", "hls", hls, "ts", ts));
        }
    }
    app_job_answer(job);
}

static void programmes_cleanup(app_job_t *job)
{
    programmes_job_t *p = job->data;
    json_decref(p->list);
    free(p);
}

void guide_api_programmes(app_t *app, http_conn_t *conn, const char *channel, int64_t from_ms, int64_t to_ms,
                          const char *path_prefix)
{
    programmes_job_t *p = calloc(1, sizeof(*p));
    app_job_t *job = app_job_new(app, programmes_run, programmes_done);
    if (!p || !job) {
        free(p);
        free(job);
        app_respond_error(conn, 503, "out of memory");
        return;
    }
    snprintf(p->channel, sizeof(p->channel), "%s", channel);
    snprintf(p->prefix, sizeof(p->prefix), "%s", path_prefix ? path_prefix : "");
    int64_t now = (int64_t)(clock_wall_ms() / 1000);
    p->from = from_ms ? from_ms / 1000 : now;
    p->to = to_ms ? to_ms / 1000 : p->from + 86400;
    job->data = p;
    job->cleanup = programmes_cleanup;
    app_job_start(app, conn, job);
}

/* ---- fetching an XMLTV URL ----------------------------------------------------------------------- */

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* GETs an http:// URL into fd (blocking: a worker thread). */
static int fetch_http(const char *url, int fd, char *err, size_t err_size)
{
    ingest_url_t u;
    char why[256];
    if (ingest_url_parse(url, &u, why, sizeof(why)) < 0 || u.kind != INGEST_HTTP) {
        snprintf(err, err_size, "url: %s", u.kind != INGEST_HTTP ? "only http:// URLs are fetched" : why);
        return -EINVAL;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", u.port);
    int rc = getaddrinfo(u.host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_size, "%s: %s", u.host, gai_strerror(rc));
        return -EHOSTUNREACH;
    }
    int sock = -1;
    for (struct addrinfo *a = res; a && sock < 0; a = a->ai_next) {
        sock = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        struct timeval tv = {FETCH_TIMEOUT_S, 0};
        if (sock >= 0 && (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
                          setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
                          connect(sock, a->ai_addr, a->ai_addrlen) < 0)) {
            close(sock);
            sock = -1;
        }
    }
    freeaddrinfo(res);
    if (sock < 0) {
        snprintf(err, err_size, "cannot connect to %s:%u: %s", u.host, u.port, strerror(errno));
        return -ECONNREFUSED;
    }
    char request[1400];
    int n = snprintf(request, sizeof(request),
                     "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: antenne/%s\r\nAccept-Encoding: identity\r\n"
                     "Connection: close\r\n\r\n",
                     u.path, u.host, u.port, ANTENNE_VERSION);
    rc = n > 0 && (size_t)n < sizeof(request) ? write_all(sock, request, (size_t)n) : -EINVAL;
    char head[HTTP_MAX_HEAD_BYTES];
    size_t head_len = 0;
    http_response_t response;
    int parsed = HTTP_PARSE_INCOMPLETE;
    char *buf = malloc(65536);
    if (!buf)
        rc = -ENOMEM;
    while (rc == 0 && parsed == HTTP_PARSE_INCOMPLETE && head_len < sizeof(head)) {
        ssize_t got = read(sock, head + head_len, sizeof(head) - head_len);
        if (got <= 0) {
            rc = got < 0 ? -errno : -EPROTO;
            break;
        }
        head_len += (size_t)got;
        parsed = http_parse_response(head, head_len, &response, NULL);
    }
    if (rc == 0 && parsed < 0) {
        snprintf(err, err_size, "%s: not an HTTP response", url);
        rc = -EPROTO;
    } else if (rc == 0 && response.status != 200) {
        snprintf(err, err_size, "%s: HTTP %d", url, response.status);
        rc = -EPROTO;
    }
    http_chunked_t chunked = {0};
    uint64_t total = 0;
    if (rc == 0) {
        /* The bytes after the head, then the rest of the body. */
        size_t have = head_len - (size_t)parsed;
        memcpy(buf, head + parsed, have);
        for (;;) {
            size_t len = have;
            int last = 0;
            if (response.chunked) {
                last = http_chunked_decode(&chunked, (uint8_t *)buf, have, &len);
                if (last < 0) {
                    snprintf(err, err_size, "%s: malformed chunked body", url);
                    rc = -EPROTO;
                    break;
                }
            }
            total += len;
            if (total > FETCH_MAX_BYTES) {
                snprintf(err, err_size, "%s: larger than %llu bytes", url, FETCH_MAX_BYTES);
                rc = -EFBIG;
                break;
            }
            if ((rc = write_all(fd, buf, len)) < 0) {
                snprintf(err, err_size, "writing the download: %s", strerror(-rc));
                break;
            }
            if (last == 1 || (response.has_length && total >= response.content_length))
                break;
            ssize_t got = read(sock, buf, 65536);
            if (got < 0) {
                rc = -errno;
                snprintf(err, err_size, "%s: %s", url, strerror(errno));
                break;
            }
            if (got == 0) {
                if (response.chunked || (response.has_length && total < response.content_length)) {
                    snprintf(err, err_size, "%s: the body ended early (%llu bytes)", url, (unsigned long long)total);
                    rc = -EPROTO;
                }
                break;
            }
            have = (size_t)got;
        }
    } else if (rc < 0 && !err[0]) {
        snprintf(err, err_size, "%s: %s", url, strerror(-rc));
    }
    free(buf);
    close(sock);
    return rc;
}

/* ---- importing a source ---------------------------------------------------------------------------- */

int guide_import(store_t *store, const char *source_name, const channel_config_t *const *configs, size_t count,
                 json_t **report_json, char *err, size_t err_size)
{
    epg_source_t source;
    epg_source_defaults(&source);
    int rc = store_get(store, app_epg_source_kind(), source_name, &source);
    if (rc < 0) {
        snprintf(err, err_size, rc == -ENOENT ? "EPG source '%s' not found" : "database: %s",
                 rc == -ENOENT ? source_name : store_last_error(store));
        return rc;
    }
    guide_channels_t channels = {0};
    char path[4096] = "";
    char tmp[] = "/tmp/antenne-epg-XXXXXX";
    int fd = -1;
    rc = guide_channels_copy(&channels, configs, count);
    if (rc == 0 && !strncmp(source.url, "http://", 7)) {
        fd = mkstemp(tmp);
        if (fd < 0) {
            rc = -errno;
            snprintf(err, err_size, "cannot make a temporary file: %s", strerror(errno));
        } else {
            rc = fetch_http(source.url, fd, err, err_size);
            snprintf(path, sizeof(path), "%s", tmp);
        }
    } else if (rc == 0 && !strncmp(source.url, "https://", 8)) {
        snprintf(err, err_size, "https:// is not fetched yet: use http:// or a file");
        rc = -EPROTONOSUPPORT;
    } else if (rc == 0) {
        snprintf(path, sizeof(path), "%s", !strncmp(source.url, "file://", 7) ? source.url + 7 : source.url);
    }
    epg_report_t report = {0};
    if (rc == 0) {
        epg_channel_map_t map = {channels.map, channels.count};
        epg_import_options_t options = {.days = (int)source.days};
        rc = epg_import(store, source.name, path, &map, &options, &report, err, err_size);
    }
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    guide_channels_free(&channels);
    /* The outcome is kept with the source either way. */
    char when[40], result[1000];
    clock_format_iso(clock_wall_ms(), when, sizeof(when));
    if (rc == 0)
        snprintf(result, sizeof(result), "ok: %llu programmes for %llu of %llu guide channels, %.1f MB in %.2f s",
                 (unsigned long long)report.programmes_stored, (unsigned long long)report.channels_mapped,
                 (unsigned long long)report.channels_seen, (double)report.bytes_xml / 1e6, report.seconds);
    else
        snprintf(result, sizeof(result), "failed: %.900s", err);
    free(source.last_import);
    free(source.last_result);
    source.last_import = strdup(when);
    source.last_result = strdup(result);
    if (store_update(store, app_epg_source_kind(), &source) < 0 && rc == 0) {
        snprintf(err, err_size, "database: %s", store_last_error(store));
        rc = -EIO;
    }
    if (report_json && rc == 0)
        *report_json = json_pack(
            "{ss ss sI sI sI sI sI sI sI sf}", "source", source.name, "result", result, "channels_seen",
            (json_int_t)report.channels_seen, "channels_mapped", (json_int_t)report.channels_mapped,
            "channels_without_guide", (json_int_t)report.channels_unguided, "programmes_seen",
            (json_int_t)report.programmes_seen, "programmes_stored", (json_int_t)report.programmes_stored,
            "skipped_unmapped", (json_int_t)report.skipped_unmapped, "bytes", (json_int_t)report.bytes_xml,
            "seconds", report.seconds);
    log_info("epg", "%s: import %s", source.name, result);
    fields_clear(epg_source_fields, epg_source_field_count, &source);
    return rc;
}

typedef struct import_job {
    char source[65];
    channel_config_t **configs;   /* copies */
    size_t count;
} import_job_t;

static void import_run(app_job_t *job)
{
    import_job_t *i = job->data;
    int rc = guide_import(job->app->store, i->source, (const channel_config_t *const *)i->configs, i->count,
                          &job->result, job->error, sizeof(job->error));
    job->status = rc == 0 ? 200 : rc == -ENOENT && strstr(job->error, "not found") ? 404 : 400;
}

static void import_done(app_job_t *job)
{
    job->app->importing = false;
    app_poll_now(job->app);
    app_job_answer(job);
}

static void import_cleanup(app_job_t *job)
{
    import_job_t *i = job->data;
    for (size_t k = 0; k < i->count; k++) {
        channel_config_clear(i->configs[k]);
        free(i->configs[k]);
    }
    free(i->configs);
    free(i);
}

int guide_import_start(app_t *app, http_conn_t *conn, const char *source)
{
    if (app->importing) {
        if (conn)
            app_respond_error(conn, 409, "an EPG import is already running");
        return -EBUSY;
    }
    import_job_t *i = calloc(1, sizeof(*i));
    app_job_t *job = app_job_new(app, import_run, import_done);
    int rc = i && job ? 0 : -ENOMEM;
    if (rc == 0) {
        i->configs = calloc(app->channel_count + 1, sizeof(*i->configs));
        rc = i->configs ? 0 : -ENOMEM;
    }
    for (size_t k = 0; rc == 0 && k < app->channel_count; k++) {
        i->configs[k] = calloc(1, sizeof(channel_config_t));
        if (!i->configs[k] || fields_copy(channel_fields, channel_field_count, i->configs[k],
                                          channel_config(app->channels[k])) < 0)
            rc = -ENOMEM;
        i->count = k + 1;
    }
    if (rc < 0) {
        if (i)
            import_cleanup(&(app_job_t){.data = i});
        free(job);
        if (conn)
            app_respond_error(conn, 503, "out of memory");
        return rc;
    }
    snprintf(i->source, sizeof(i->source), "%s", source);
    job->data = i;
    job->cleanup = import_cleanup;
    app->importing = true;
    rc = app_job_start(app, conn, job);
    if (rc < 0)
        app->importing = false;
    return rc;
}

/* ---- the schedule ------------------------------------------------------------------------------------ */

/* Starts the import of the first source that is due (one at a time). */
void guide_schedule(app_t *app)
{
    if (app->importing || !app->access)
        return;
    uint64_t now_ms = clock_wall_ms();
    for (size_t i = 0; i < app->access->epg_source_count; i++) {
        const epg_source_t *s = &app->access->epg_sources[i];
        if (s->refresh_hours <= 0)
            continue;
        char due[40] = "";
        clock_format_iso(now_ms - (uint64_t)s->refresh_hours * 3600000u, due, sizeof(due));
        /* ISO 8601 UTC strings compare like the times they name. */
        if (!s->last_import || !*s->last_import || strcmp(s->last_import, due) < 0) {
            log_info("epg", "%s: importing (every %lld h)", s->name, (long long)s->refresh_hours);
            guide_import_start(app, NULL, s->name);
            return;
        }
    }
}

/* ---- now and next ------------------------------------------------------------------------------------ */

typedef struct now_next_scan {
    app_now_next_t *list;
    char *const *channels;
    size_t count;
    size_t at;          /* index of the channel being read */
    int64_t now;
} now_next_scan_t;

static int now_next_each(void *ctx, const store_programme_t *p)
{
    now_next_scan_t *scan = ctx;
    while (scan->at < scan->count && strcmp(scan->channels[scan->at], p->channel) != 0)
        scan->at++;
    if (scan->at == scan->count)
        return 0;
    app_now_next_t *n = &scan->list[scan->at];
    app_airing_t *slot = p->start <= scan->now && scan->now < p->stop ? &n->now
                         : p->start > scan->now && !n->next.start ? &n->next
                                                                   : NULL;
    if (slot) {
        snprintf(slot->title, sizeof(slot->title), "%s", p->title ? p->title : "");
        slot->start = p->start;
        slot->stop = p->stop;
    }
    return 0;
}

app_now_next_t *guide_now_next(store_t *store, char *const *channels, size_t count)
{
    app_now_next_t *list = calloc(count + 1, sizeof(*list));
    if (!list)
        return NULL;
    for (size_t i = 0; i < count; i++)
        snprintf(list[i].channel, sizeof(list[i].channel), "%s", channels[i]);
    now_next_scan_t scan = {list, channels, count, 0, (int64_t)(clock_wall_ms() / 1000)};
    /* Twelve hours ahead finds the next programme of any real guide. */
    if (store_epg_each(store, (const char *const *)channels, count, scan.now, scan.now + 12 * 3600, now_next_each,
                       &scan) < 0) {
        free(list);
        return NULL;
    }
    return list;
}

static json_t *airing_json(const app_airing_t *a)
{
    if (!a->start)
        return json_null();
    char start[32], stop[32];
    clock_format_iso((uint64_t)a->start * 1000, start, sizeof(start));
    clock_format_iso((uint64_t)a->stop * 1000, stop, sizeof(stop));
    return json_pack("{ss ss ss}", "title", a->title, "start", start, "stop", stop);
}

json_t *guide_now_next_json(const app_t *app, const char *channel)
{
    for (size_t i = 0; i < app->now_next_count; i++) {
        const app_now_next_t *n = &app->now_next[i];
        if (!strcmp(n->channel, channel)) {
            /* A programme that has ended since the guide was read is not "now". */
            int64_t now = (int64_t)(clock_wall_ms() / 1000);
            app_airing_t current = n->now.stop > now ? n->now : n->next.start <= now ? n->next : (app_airing_t){0};
            app_airing_t next = n->now.stop > now ? n->next : (app_airing_t){0};
            return json_pack("{so so}", "now", airing_json(&current), "next", airing_json(&next));
        }
    }
    return json_pack("{sn sn}", "now", "next");
}
