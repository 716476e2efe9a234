// SPDX-License-Identifier: MIT
// http_pull.c -- HTTP MPEG-TS pull source: GET a stream, read it forever,
// and reconnect with back-off (0.5 s doubling to 10 s) when it fails.
//
// States: WAIT (back-off timer) -> RESOLVE -> CONNECT -> HEAD -> BODY; any
// failure (DNS, refused, 4xx/5xx, HTML instead of TS, 5 s without bytes,
// end of body) reports FAILED with the reason and goes back to WAIT.
#include "ingest/ingest_private.h"
#include "http/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PULL_BACKOFF_MIN_MS 500u
#define PULL_BACKOFF_MAX_MS 10000u
#define PULL_TIMEOUT_US (5u * 1000u * 1000u)
#define PULL_SNIFF_BYTES 4096u

enum pull_state { PULL_WAIT, PULL_RESOLVE, PULL_CONNECT, PULL_HEAD, PULL_BODY };

typedef struct http_pull {
    ingest_source_t base;
    enum pull_state state;
    uv_getaddrinfo_t resolver;
    bool resolving;
    uv_tcp_t tcp;
    bool tcp_open;            /* initialised and not yet closed */
    uv_connect_t connect;
    uv_write_t write;
    uv_timer_t timer;
    unsigned handles;         /* open libuv handles and requests */
    uint64_t backoff_ms;
    uint64_t since_us;        /* last progress */
    char request[1400];
    char head[HTTP_MAX_HEAD_BYTES];
    size_t head_len;
    bool chunked;
    http_chunked_t chunk_state;
    uint8_t sniff[PULL_SNIFF_BYTES]; /* first body bytes, to tell TS from not */
    size_t sniff_len;
    bool sniffed;
    uint8_t readbuf[64 * 1024];
} http_pull_t;

static void pull_connect_next(http_pull_t *pull);

static void pull_release(http_pull_t *pull)
{
    if (--pull->handles == 0 && pull->base.stopped)
        ingest_source_free(&pull->base);
}

static void pull_on_handle_closed(uv_handle_t *handle)
{
    http_pull_t *pull = handle->data;
    if (handle == (uv_handle_t *)&pull->tcp)
        pull->tcp_open = false;
    pull_release(pull);
}

static void pull_close_tcp(http_pull_t *pull)
{
    if (pull->tcp_open && !uv_is_closing((uv_handle_t *)&pull->tcp))
        uv_close((uv_handle_t *)&pull->tcp, pull_on_handle_closed);
}

static void pull_on_timer(uv_timer_t *timer);

/* Reports the failure and schedules the next attempt. */
static void pull_fail(http_pull_t *pull, const char *fmt, const char *detail)
{
    ingest_report_failure(&pull->base, fmt, detail);
    pull_close_tcp(pull);
    pull->state = PULL_WAIT;
    uv_timer_start(&pull->timer, pull_on_timer, pull->backoff_ms, 0);
    pull->backoff_ms = MIN(pull->backoff_ms * 2, PULL_BACKOFF_MAX_MS);
}

static bool looks_like_ts(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i + 188 < len && i < 188; i++)
        if (data[i] == 0x47 && data[i + 188] == 0x47 && (i + 376 >= len || data[i + 376] == 0x47))
            return true;
    return false;
}

static void pull_body(http_pull_t *pull, uint8_t *data, size_t len)
{
    if (pull->chunked) {
        size_t out;
        int rc = http_chunked_decode(&pull->chunk_state, data, len, &out);
        if (rc < 0) {
            pull_fail(pull, "%s", "malformed chunked encoding in the response");
            return;
        }
        len = out;
    }
    if (!len)
        return;
    pull->since_us = clock_mono_us();
    if (!pull->sniffed) {
        size_t n = MIN(len, sizeof(pull->sniff) - pull->sniff_len);
        memcpy(pull->sniff + pull->sniff_len, data, n);
        pull->sniff_len += n;
        if (pull->sniff_len < sizeof(pull->sniff))
            return;
        pull->sniffed = true;
        if (!looks_like_ts(pull->sniff, pull->sniff_len)) {
            char start[40];
            size_t k = 0;
            for (size_t i = 0; i < pull->sniff_len && k < sizeof(start) - 1; i++)
                start[k++] = pull->sniff[i] >= 0x20 && pull->sniff[i] < 0x7f ? (char)pull->sniff[i] : '.';
            start[k] = '\0';
            pull_fail(pull, "answer is not MPEG-TS (no sync bytes; starts with \"%s\")", start);
            return;
        }
        pull->backoff_ms = PULL_BACKOFF_MIN_MS;
        ingest_emit_status(&pull->base, INGEST_RECEIVING, "receiving from %s", pull->base.url_text);
        ingest_emit_data(&pull->base, pull->sniff, pull->sniff_len);
        data += n;
        len -= n;
        if (!len)
            return;
    }
    ingest_emit_data(&pull->base, data, len);
}

static void pull_head(http_pull_t *pull, uint8_t *data, size_t len)
{
    size_t n = MIN(len, sizeof(pull->head) - pull->head_len);
    memcpy(pull->head + pull->head_len, data, n);
    pull->head_len += n;
    http_response_t res;
    const char *why;
    int rc = http_parse_response(pull->head, pull->head_len, &res, &why);
    if (rc == HTTP_PARSE_INCOMPLETE)
        return;
    if (rc < 0) {
        pull_fail(pull, "bad HTTP answer: %s", why);
        return;
    }
    if (res.status != 200) {
        char detail[64];
        snprintf(detail, sizeof(detail), "%d %s", res.status, http_status_text(res.status));
        pull_fail(pull, "server answered %s", detail);
        return;
    }
    const http_slice_t *type = http_header_get(res.headers, res.header_count, "Content-Type");
    if (type && type->len >= 9 && (strncasecmp(type->ptr, "text/html", 9) == 0)) {
        pull_fail(pull, "server answered %s, not MPEG-TS", "text/html");
        return;
    }
    pull->chunked = res.chunked;
    memset(&pull->chunk_state, 0, sizeof(pull->chunk_state));
    pull->state = PULL_BODY;
    /* The body starts after the head: first what the head buffer holds
     * beyond it, then the rest of this read that did not fit there. */
    size_t body = pull->head_len - (size_t)rc;
    uint8_t rest[sizeof(pull->head)];
    memcpy(rest, pull->head + rc, body);
    if (body)
        pull_body(pull, rest, body);
    if (n < len && pull->state == PULL_BODY)
        pull_body(pull, (uint8_t *)data + n, len - n);
}

static void pull_on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    http_pull_t *pull = handle->data;
    (void)suggested;
    *buf = uv_buf_init((char *)pull->readbuf, sizeof(pull->readbuf));
}

static void pull_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    http_pull_t *pull = stream->data;
    if (pull->base.stopped || pull->state == PULL_WAIT)
        return;
    if (nread < 0) {
        pull_fail(pull, "%s", nread == UV_EOF ? "server closed the connection" : uv_strerror((int)nread));
        return;
    }
    if (pull->state == PULL_HEAD)
        pull_head(pull, (uint8_t *)buf->base, (size_t)nread);
    else if (pull->state == PULL_BODY)
        pull_body(pull, (uint8_t *)buf->base, (size_t)nread);
}

static void pull_on_write(uv_write_t *req, int status)
{
    http_pull_t *pull = req->data;
    if (status < 0 && status != UV_ECANCELED && pull->state == PULL_HEAD)
        pull_fail(pull, "sending the request failed: %s", uv_strerror(status));
    pull_release(pull);
}

static void pull_on_connect(uv_connect_t *req, int status)
{
    http_pull_t *pull = req->data;
    pull_release(pull);
    if (pull->base.stopped || status == UV_ECANCELED)
        return;
    if (status < 0) {
        pull_fail(pull, "connect failed: %s", uv_strerror(status));
        return;
    }
    pull->state = PULL_HEAD;
    pull->since_us = clock_mono_us();
    const ingest_url_t *url = &pull->base.url;
    int n = snprintf(pull->request, sizeof(pull->request),
                     "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: antenne/" ANTENNE_VERSION
                     "\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                     url->path, url->host, url->port);
    uv_buf_t buf = uv_buf_init(pull->request, (unsigned)n);
    pull->write.data = pull;
    if (uv_write(&pull->write, (uv_stream_t *)&pull->tcp, &buf, 1, pull_on_write) == 0)
        pull->handles++;
    uv_read_start((uv_stream_t *)&pull->tcp, pull_on_alloc, pull_on_read);
}

static void pull_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    http_pull_t *pull = req->data;
    pull->resolving = false;
    pull_release(pull);
    if (pull->base.stopped || status == UV_ECANCELED) {
        uv_freeaddrinfo(res);
        return;
    }
    if (status < 0) {
        pull_fail(pull, "cannot resolve host: %s", uv_strerror(status));
        return;
    }
    uv_tcp_init(pull->base.loop, &pull->tcp);
    pull->tcp.data = pull;
    pull->tcp_open = true;
    pull->handles++;
    pull->connect.data = pull;
    pull->state = PULL_CONNECT;
    int rc = uv_tcp_connect(&pull->connect, &pull->tcp, res->ai_addr, pull_on_connect);
    uv_freeaddrinfo(res);
    if (rc < 0) {
        pull_fail(pull, "connect failed: %s", uv_strerror(rc));
        return;
    }
    pull->handles++;
}

static void pull_connect_next(http_pull_t *pull)
{
    if (pull->tcp_open) {
        /* The last connection is still closing: try again shortly. */
        uv_timer_start(&pull->timer, pull_on_timer, 50, 0);
        return;
    }
    pull->state = PULL_RESOLVE;
    pull->since_us = clock_mono_us();
    pull->head_len = 0;
    pull->sniff_len = 0;
    pull->sniffed = false;
    ingest_emit_status(&pull->base, INGEST_CONNECTING, "connecting to %s", pull->base.url_text);
    char port[8];
    snprintf(port, sizeof(port), "%u", pull->base.url.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    pull->resolver.data = pull;
    int rc = uv_getaddrinfo(pull->base.loop, &pull->resolver, pull_on_resolved, pull->base.url.host, port, &hints);
    if (rc < 0) {
        pull_fail(pull, "cannot resolve host: %s", uv_strerror(rc));
        return;
    }
    pull->resolving = true;
    pull->handles++;
    /* The watchdog below catches a server that accepts and never answers. */
    uv_timer_start(&pull->timer, pull_on_timer, 1000, 1000);
}

static void pull_on_timer(uv_timer_t *timer)
{
    http_pull_t *pull = timer->data;
    if (pull->state == PULL_WAIT) {
        pull_connect_next(pull);
        return;
    }
    if (clock_mono_us() - pull->since_us > PULL_TIMEOUT_US) {
        static const char *const what[] = {"", "resolving the host", "connecting", "waiting for the answer",
                                           "waiting for data"};
        pull_fail(pull, "timed out %s (5 s)", what[pull->state]);
    }
}

static void pull_stop(ingest_source_t *base)
{
    http_pull_t *pull = (http_pull_t *)base;
    if (pull->resolving)
        uv_cancel((uv_req_t *)&pull->resolver);
    pull_close_tcp(pull);
    uv_close((uv_handle_t *)&pull->timer, pull_on_handle_closed);
}

static const ingest_ops_t pull_ops = {pull_stop};

int ingest_http_start(const ingest_start_t *start, ingest_source_t **out, char *err, size_t err_size)
{
    http_pull_t *pull = (http_pull_t *)ingest_source_alloc(sizeof(*pull), start);
    if (!pull) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    pull->base.ops = &pull_ops;
    pull->backoff_ms = PULL_BACKOFF_MIN_MS;
    uv_timer_init(start->loop, &pull->timer);
    pull->timer.data = pull;
    pull->handles = 1;
    pull_connect_next(pull);
    *out = &pull->base;
    return 0;
}
