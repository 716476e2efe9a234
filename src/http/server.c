// SPDX-License-Identifier: MIT
// server.c -- the HTTP/1.1 server on libuv: accepts connections, parses
// requests (parser.c), dispatches them to one handler, writes responses, and
// hands long-lived streams to their owners.
//
// A connection is READING a request, then either RESPONDING (a whole
// response is being written; keep-alive returns it to READING) or TAKEN by
// its handler (which answers later, or STREAMS an endless body). Reading
// stops while a response is pending, so pipelined requests are answered in
// order. A streaming connection keeps reading only to see the peer leave; its
// request buffer is freed, so a viewer costs little more than its socket.
#include "http/http.h"
#include "core/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_MAX_BODY (1024u * 1024u)
#define HTTP_HEADER_TIMEOUT_US (15u * 1000u * 1000u)
#define HTTP_IDLE_TIMEOUT_US (60u * 1000u * 1000u)

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t sweeper;       /* closes connections that stall before a request */
    http_handler_fn handler;
    void *ctx;
    http_conn_t *conns;
    http_server_stats_t stats;
    bool listening;
    bool closing;
    unsigned open_handles;
    uint64_t conn_serial;     /* the last connection's serial */
    size_t max_connections;   /* 0: no limit */
    size_t max_per_ip;        /* 0: no limit */
    uint64_t refused_warned_us;
    char scratch[4096];       /* reads on streaming connections are discarded here */
};

struct http_conn {
    uv_tcp_t tcp;
    http_server_t *server;
    http_conn_t *next;
    http_conn_t *prev;
    char *buf;                /* request bytes, while reading requests */
    size_t len;
    size_t cap;
    size_t consumed;          /* bytes of the request being answered */
    uint64_t since_us;        /* when the current request began (or the last one ended) */
    bool responding;
    bool taken;
    bool streaming;
    bool closing;
    bool is_head;
    bool keep_alive;
    http_close_fn on_close;
    void *opaque;
    char peer[64];
    uint64_t serial;          /* unique for the server's life: connections' addresses are reused */
    uint64_t body_bytes;      /* response bodies queued so far */
};

/* One response write. Bytes in data[] are ours; blocks are references held
 * until the kernel has taken the bytes that point into them. */
typedef struct http_write {
    uv_write_t req;
    http_conn_t *conn;
    block_t **blocks;
    size_t block_count;
    char data[];
} http_write_t;

/* Every answer may be read by a web player on another origin. */
#define HTTP_COMMON_HEADERS "Server: antenne/" ANTENNE_VERSION "\r\nAccess-Control-Allow-Origin: *\r\n"

static void conn_process(http_conn_t *conn);

const http_server_stats_t *http_server_stats(const http_server_t *server) { return &server->stats; }
uv_stream_t *http_conn_stream(http_conn_t *conn) { return (uv_stream_t *)&conn->tcp; }
bool http_conn_is_head(const http_conn_t *conn) { return conn->is_head; }
const char *http_conn_peer(const http_conn_t *conn) { return conn->peer; }
uint64_t http_conn_serial(const http_conn_t *conn) { return conn->serial; }
uint64_t http_conn_body_bytes(const http_conn_t *conn) { return conn->body_bytes; }

static void server_handle_closed(uv_handle_t *handle)
{
    http_server_t *server = handle->data;
    if (--server->open_handles == 0 && server->closing && !server->conns)
        free(server);
}

static void conn_on_closed(uv_handle_t *handle)
{
    http_conn_t *conn = handle->data;
    http_server_t *server = conn->server;
    if (conn->on_close)
        conn->on_close(conn->opaque);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        server->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    server->stats.open_connections--;
    free(conn->buf);
    free(conn);
    if (server->closing && !server->conns && server->open_handles == 0)
        free(server);
}

void http_conn_close(http_conn_t *conn)
{
    if (conn->closing)
        return;
    conn->closing = true;
    uv_close((uv_handle_t *)&conn->tcp, conn_on_closed);
}

void http_conn_take(http_conn_t *conn, http_close_fn on_close, void *opaque)
{
    conn->taken = true;
    conn->on_close = on_close;
    conn->opaque = opaque;
}

static void conn_after_response(http_conn_t *conn)
{
    conn->responding = false;
    if (conn->closing)
        return;
    if (!conn->keep_alive || conn->taken) {
        http_conn_close(conn);
        return;
    }
    /* Keep-alive: drop the answered request, serve any pipelined one. */
    memmove(conn->buf, conn->buf + conn->consumed, conn->len - conn->consumed);
    conn->len -= conn->consumed;
    conn->consumed = 0;
    conn->since_us = clock_mono_us();
    conn_process(conn);
}

static void conn_on_written(uv_write_t *req, int status)
{
    http_write_t *w = (http_write_t *)req;
    http_conn_t *conn = w->conn;
    for (size_t i = 0; i < w->block_count; i++)
        block_unref(w->blocks[i]);
    free(w);
    if (status < 0) {
        http_conn_close(conn);
        return;
    }
    if (!conn->streaming)
        conn_after_response(conn);
}

/* Writes bytes (copied) on the connection; the response path continues in
 * conn_on_written. */
static int conn_write_copy(http_conn_t *conn, const char *head, size_t head_len, const void *body,
                           size_t body_len)
{
    http_write_t *w = malloc(sizeof(*w) + head_len + body_len);
    if (!w) {
        http_conn_close(conn);
        return -ENOMEM;
    }
    w->conn = conn;
    w->blocks = NULL;
    w->block_count = 0;
    memcpy(w->data, head, head_len);
    if (body_len)
        memcpy(w->data + head_len, body, body_len);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)(head_len + body_len));
    int rc = uv_write(&w->req, (uv_stream_t *)&conn->tcp, &buf, 1, conn_on_written);
    if (rc < 0) {
        free(w);
        http_conn_close(conn);
        return rc;
    }
    return 0;
}

int http_respond(http_conn_t *conn, int status, const char *content_type, const char *extra_headers,
                 const void *body, size_t len)
{
    if (conn->closing)
        return -ECONNRESET;
    if (conn->taken)
        conn->keep_alive = false;
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\n" HTTP_COMMON_HEADERS
                     "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n%s\r\n",
                     status, http_status_text(status), content_type ? content_type : "text/plain", len,
                     conn->keep_alive ? "keep-alive" : "close", extra_headers ? extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof(head)) {
        http_conn_close(conn);
        return -EINVAL;
    }
    conn->responding = true;
    conn->body_bytes += conn->is_head ? 0 : len;
    return conn_write_copy(conn, head, (size_t)n, body, conn->is_head ? 0 : len);
}

int http_respond_bufs(http_conn_t *conn, int status, const char *content_type, const char *extra_headers,
                      const uv_buf_t *bufs, size_t buf_count, block_t *const *blocks, size_t block_count)
{
    if (conn->closing)
        return -ECONNRESET;
    if (conn->taken)
        conn->keep_alive = false;
    size_t total = 0;
    for (size_t i = 0; i < buf_count; i++)
        total += bufs[i].len;
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\n" HTTP_COMMON_HEADERS
                     "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n%s\r\n",
                     status, http_status_text(status), content_type, total,
                     conn->keep_alive ? "keep-alive" : "close", extra_headers ? extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof(head)) {
        http_conn_close(conn);
        return -EINVAL;
    }
    if (conn->is_head)
        buf_count = block_count = 0;
    else
        conn->body_bytes += total;
    uv_buf_t iov[HTTP_MAX_BUFS + 1];
    if (buf_count > HTTP_MAX_BUFS) {
        http_conn_close(conn);
        return -E2BIG;
    }
    /* The head, then (aligned) the array of block references. */
    size_t head_room = ((size_t)n + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
    http_write_t *w = malloc(sizeof(*w) + head_room + block_count * sizeof(block_t *));
    if (!w) {
        http_conn_close(conn);
        return -ENOMEM;
    }
    w->conn = conn;
    w->blocks = (block_t **)(void *)(w->data + head_room);
    w->block_count = 0;
    memcpy(w->data, head, (size_t)n);
    iov[0] = uv_buf_init(w->data, (unsigned)n);
    for (size_t i = 0; i < buf_count; i++)
        iov[i + 1] = bufs[i];
    conn->responding = true;
    int rc = uv_write(&w->req, (uv_stream_t *)&conn->tcp, iov, (unsigned)buf_count + 1, conn_on_written);
    if (rc < 0) {
        free(w);
        http_conn_close(conn);
        return rc;
    }
    for (size_t i = 0; i < block_count; i++)
        w->blocks[w->block_count++] = block_ref(blocks[i]);
    return 0;
}

int http_respond_text(http_conn_t *conn, int status, const char *fmt, ...)
{
    char body[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof(body) - 1, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : MIN((size_t)n, sizeof(body) - 2);
    body[len++] = '\n';
    return http_respond(conn, status, "text/plain; charset=utf-8", NULL, body, len);
}

int http_stream_begin(http_conn_t *conn, int status, const char *content_type, const char *extra_headers)
{
    if (conn->closing)
        return -ECONNRESET;
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\n" HTTP_COMMON_HEADERS
                     "Content-Type: %s\r\nConnection: close\r\n%s\r\n",
                     status, http_status_text(status), content_type, extra_headers ? extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof(head))
        return -EINVAL;
    if (conn->is_head) {
        /* HEAD: the same head, then the connection closes. */
        conn->keep_alive = false;
        conn->responding = true;
        return conn_write_copy(conn, head, (size_t)n, NULL, 0);
    }
    conn->streaming = true;
    conn->keep_alive = false;
    free(conn->buf);
    conn->buf = NULL;
    conn->len = conn->cap = 0;
    uv_buf_t buf = uv_buf_init(head, (unsigned)n);
    int written = uv_try_write((uv_stream_t *)&conn->tcp, &buf, 1);
    if (written == n)
        return 0;
    if (written < 0 && written != UV_EAGAIN)
        return written;
    size_t done = written > 0 ? (size_t)written : 0;
    return conn_write_copy(conn, head + done, (size_t)n - done, NULL, 0);
}

static void conn_fail(http_conn_t *conn, int status, const char *why)
{
    conn->server->stats.bad_requests++;
    log_info("http", "%s: %d %s: %s", conn->peer, status, http_status_text(status), why);
    conn->keep_alive = false;
    uv_read_stop((uv_stream_t *)&conn->tcp);
    http_respond_text(conn, status, "%s", why);
}

/* Parses what has been read; dispatches a complete request. */
static void conn_process(http_conn_t *conn)
{
    if (conn->responding || conn->taken || conn->closing || conn->len == 0)
        return;
    http_request_t req;
    const char *why;
    int rc = http_parse_request(conn->buf, conn->len, &req, &why);
    if (rc == HTTP_PARSE_INCOMPLETE)
        return;
    if (rc < 0) {
        conn_fail(conn, -rc, why);
        return;
    }
    size_t head = (size_t)rc;
    if (req.content_length > HTTP_MAX_BODY) {
        conn_fail(conn, 413, "request body larger than 1 MiB");
        return;
    }
    if (conn->len < head + req.content_length) {
        if (conn->cap < head + req.content_length) {
            char *grown = realloc(conn->buf, head + req.content_length);
            if (!grown) {
                conn_fail(conn, 503, "out of memory");
                return;
            }
            conn->buf = grown;
            conn->cap = head + req.content_length;
        }
        return; /* wait for the body */
    }
    req.body = (http_slice_t){conn->buf + head, (size_t)req.content_length};
    conn->consumed = head + (size_t)req.content_length;
    conn->keep_alive = req.keep_alive;
    conn->is_head = req.method == HTTP_HEAD;
    conn->server->stats.requests++;
    conn->responding = true; /* until the handler answers or takes it */
    conn->server->handler(conn->server->ctx, conn, &req);
    if (conn->taken)
        conn->responding = false;
}

static void conn_on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    http_conn_t *conn = handle->data;
    (void)suggested;
    if (conn->streaming || conn->taken) {
        buf->base = conn->server->scratch;
        buf->len = sizeof(conn->server->scratch);
        return;
    }
    if (!conn->buf) {
        conn->cap = 4096;
        conn->buf = malloc(conn->cap);
        if (!conn->buf) {
            conn->cap = 0;
            *buf = uv_buf_init(NULL, 0);
            return;
        }
    }
    if (conn->len == conn->cap && conn->cap < HTTP_MAX_HEAD_BYTES) {
        char *grown = realloc(conn->buf, HTTP_MAX_HEAD_BYTES);
        if (grown) {
            conn->buf = grown;
            conn->cap = HTTP_MAX_HEAD_BYTES;
        }
    }
    *buf = uv_buf_init(conn->buf + conn->len, (unsigned)(conn->cap - conn->len));
}

static void conn_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    http_conn_t *conn = stream->data;
    (void)buf;
    if (nread < 0) {
        http_conn_close(conn);
        return;
    }
    if (nread == 0 || conn->streaming || conn->taken)
        return; /* a viewer may send anything; it is not read */
    if (conn->len == 0)
        conn->since_us = clock_mono_us();
    conn->len += (size_t)nread;
    if (conn->responding)
        return;
    conn_process(conn);
    if (!conn->responding && !conn->taken && !conn->closing && conn->len == conn->cap &&
        conn->cap >= HTTP_MAX_HEAD_BYTES) {
        http_request_t req;
        if (http_parse_request(conn->buf, conn->len, &req, NULL) == HTTP_PARSE_INCOMPLETE)
            conn_fail(conn, 431, "request head larger than 16 KiB");
    }
}

/* Why a new connection from ip is over a limit, or NULL. */
static const char *server_refusal(http_server_t *server, const http_conn_t *conn, const char *ip)
{
    if (server->max_connections && server->stats.open_connections > server->max_connections)
        return "the server is full: too many connections";
    if (!server->max_per_ip)
        return NULL;
    size_t from_ip = 0, len = strlen(ip);
    for (const http_conn_t *c = server->conns; c; c = c->next)
        if (c != conn && !c->closing && !strncmp(c->peer, ip, len) && c->peer[len] == ':')
            from_ip++;
    return from_ip >= server->max_per_ip ? "too many connections from this address" : NULL;
}

void http_server_set_limits(http_server_t *server, size_t max_connections, size_t max_per_ip)
{
    server->max_connections = max_connections;
    server->max_per_ip = max_per_ip;
}

static void server_on_connection(uv_stream_t *listener, int status)
{
    http_server_t *server = listener->data;
    if (status < 0) {
        log_warn("http", "accept: %s", uv_strerror(status));
        return;
    }
    http_conn_t *conn = calloc(1, sizeof(*conn));
    if (!conn)
        return;
    uv_tcp_init(server->loop, &conn->tcp);
    conn->tcp.data = conn;
    conn->server = server;
    conn->serial = ++server->conn_serial;
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) < 0) {
        uv_close((uv_handle_t *)&conn->tcp, (uv_close_cb)free);
        return;
    }
    conn->next = server->conns;
    if (server->conns)
        server->conns->prev = conn;
    server->conns = conn;
    server->stats.connections++;
    server->stats.open_connections++;
    conn->since_us = clock_mono_us();
    uv_tcp_nodelay(&conn->tcp, 1);
    struct sockaddr_storage addr;
    int addr_len = sizeof(addr);
    char ip[48] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&addr, &addr_len) == 0) {
        if (addr.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&addr, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&addr, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
        }
    }
    snprintf(conn->peer, sizeof(conn->peer), "%s:%d", ip, port);
    const char *refusal = server_refusal(server, conn, ip);
    if (refusal) {
        /* Answered at once and closed: no request is read from it. */
        server->stats.refused++;
        uint64_t now = clock_mono_us();
        if (now - server->refused_warned_us > 1000000u) {
            server->refused_warned_us = now;
            log_warn("http", "%s: refused: %s (%llu refused so far)", conn->peer, refusal,
                     (unsigned long long)server->stats.refused);
        }
        http_respond_text(conn, 503, "%s", refusal);
        return;
    }
    uv_read_start((uv_stream_t *)&conn->tcp, conn_on_alloc, conn_on_read);
}

/* Closes connections that never finish a request (slow or silent clients)
 * and keep-alive connections left idle. */
static void server_on_sweep(uv_timer_t *timer)
{
    http_server_t *server = timer->data;
    uint64_t now = clock_mono_us();
    for (http_conn_t *conn = server->conns; conn; conn = conn->next) {
        if (conn->taken || conn->streaming || conn->responding || conn->closing)
            continue;
        uint64_t limit = conn->len ? HTTP_HEADER_TIMEOUT_US : HTTP_IDLE_TIMEOUT_US;
        if (now - conn->since_us > limit) {
            if (conn->len)
                log_info("http", "%s: closed, request not complete after 15 s", conn->peer);
            http_conn_close(conn);
        }
    }
}

http_server_t *http_server_new(uv_loop_t *loop, http_handler_fn handler, void *ctx)
{
    http_server_t *server = calloc(1, sizeof(*server));
    if (!server)
        return NULL;
    server->loop = loop;
    server->handler = handler;
    server->ctx = ctx;
    uv_timer_init(loop, &server->sweeper);
    server->sweeper.data = server;
    server->open_handles = 1;
    uv_timer_start(&server->sweeper, server_on_sweep, 1000, 1000);
    uv_unref((uv_handle_t *)&server->sweeper);
    return server;
}

int http_server_listen(http_server_t *server, const char *host, uint16_t port)
{
    struct sockaddr_storage addr;
    int rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (rc < 0)
        return rc;
    uv_tcp_init(server->loop, &server->listener);
    server->listener.data = server;
    server->open_handles++;
    server->listening = true;
    rc = uv_tcp_bind(&server->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server->listener, 4096, server_on_connection);
    return rc;
}

void http_server_close(http_server_t *server)
{
    server->closing = true;
    http_conn_t *next;
    for (http_conn_t *conn = server->conns; conn; conn = next) {
        next = conn->next;
        http_conn_close(conn);
    }
    uv_close((uv_handle_t *)&server->sweeper, server_handle_closed);
    if (server->listening)
        uv_close((uv_handle_t *)&server->listener, server_handle_closed);
}
