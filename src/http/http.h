// SPDX-License-Identifier: MIT
// http.h -- the HTTP/1.1 server (RFC 9112) and the message parsers that the
// server and the HTTP pull source share.
#ifndef ANTENNE_HTTP_H
#define ANTENNE_HTTP_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* ---- parser.c: pure parsers over untrusted bytes ---------------------------- */

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_HEAD_BYTES (16 * 1024)  /* request line + headers */
#define HTTP_MAX_TARGET 8192

typedef struct http_slice {
    const char *ptr;
    size_t len;
} http_slice_t;

typedef enum http_method {
    HTTP_GET,
    HTTP_HEAD,
    HTTP_POST,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_OPTIONS,
} http_method_t;

typedef struct http_header {
    http_slice_t name;
    http_slice_t value;
} http_header_t;

typedef struct http_request {
    http_method_t method;
    http_slice_t target;     /* as sent: path and query */
    http_slice_t path;       /* target up to '?' (still percent-encoded) */
    http_slice_t query;      /* after '?', may be empty */
    int minor_version;       /* HTTP/1.x */
    http_header_t headers[HTTP_MAX_HEADERS];
    size_t header_count;
    uint64_t content_length;
    http_slice_t body;       /* filled by the server before dispatch */
    bool keep_alive;
} http_request_t;

/* Parse errors, each mapped to the status the client gets. */
#define HTTP_PARSE_INCOMPLETE (-1)  /* need more bytes */
#define HTTP_PARSE_BAD (-400)
#define HTTP_PARSE_URI_TOO_LONG (-414)
#define HTTP_PARSE_TOO_LARGE (-431)
#define HTTP_PARSE_UNKNOWN_METHOD (-501)
#define HTTP_PARSE_BAD_VERSION (-505)

/* Parses one request head from buf (borrowed: slices point into it).
 * Returns the head's length in bytes, HTTP_PARSE_INCOMPLETE, or a negative
 * status. `why` (optional) receives a short reason for errors. */
int http_parse_request(const char *buf, size_t len, http_request_t *req, const char **why);

/* Response head of an upstream (HTTP pull). Returns the head's length,
 * HTTP_PARSE_INCOMPLETE, or HTTP_PARSE_BAD. */
typedef struct http_response {
    int status;
    http_header_t headers[HTTP_MAX_HEADERS];
    size_t header_count;
    bool chunked;
    bool has_length;
    uint64_t content_length;
} http_response_t;
int http_parse_response(const char *buf, size_t len, http_response_t *res, const char **why);

/* Decodes chunked transfer coding (RFC 9112 7.1) in place over a stream. */
typedef struct http_chunked {
    int state;
    uint64_t remaining;
    unsigned digits;
} http_chunked_t;
/* Decodes buf[0..len) in place; *out_len gets the decoded byte count.
 * Returns 0, 1 at the last chunk, or HTTP_PARSE_BAD. */
int http_chunked_decode(http_chunked_t *ch, uint8_t *buf, size_t len, size_t *out_len);

/* Case-insensitive header lookup; returns NULL when absent. */
const http_slice_t *http_header_get(const http_header_t *headers, size_t count, const char *name);
bool http_slice_eq(http_slice_t s, const char *str);
/* Finds name=value in a query string and percent-decodes it into out.
 * Returns the value's length, -ENOENT when absent, -EINVAL when malformed
 * or longer than out_size - 1. */
int http_query_get(http_slice_t query, const char *name, char *out, size_t out_size);
/* Percent-decodes a path into out (NUL-terminated). Rejects NUL bytes and
 * overlong input. Returns the length or -EINVAL. */
int http_path_decode(http_slice_t path, char *out, size_t out_size);
const char *http_status_text(int status);
const char *http_method_name(http_method_t method);
/* An IMF-fixdate (RFC 9110 5.6.7) for wall_ms, into out (>= 30 bytes). */
void http_date(uint64_t wall_ms, char *out, size_t out_size);
/* Parses "bytes=a-b" / "bytes=a-" / "bytes=-n" against a body of `size`
 * bytes into [*first, *last]. Returns 0, or -EINVAL when malformed (ignore
 * the header) or -ERANGE when unsatisfiable (416). */
int http_range_parse(http_slice_t value, uint64_t size, uint64_t *first, uint64_t *last);

/* ---- server.c ----------------------------------------------------------------- */

typedef struct http_server http_server_t;
typedef struct http_conn http_conn_t;

/* Called once per request. The handler answers with http_respond*() now, or
 * takes the connection with http_conn_take() and answers later. */
typedef void (*http_handler_fn)(void *ctx, http_conn_t *conn, const http_request_t *req);
/* Called once when a taken connection closes (peer gone, error, or
 * http_conn_close); the connection memory is freed right after. */
typedef void (*http_close_fn)(void *opaque);

typedef struct http_server_stats {
    uint64_t connections;
    uint64_t requests;
    uint64_t open_connections;
    uint64_t bad_requests;
    uint64_t refused;          /* connections over a limit, answered 503 */
} http_server_stats_t;

http_server_t *http_server_new(uv_loop_t *loop, http_handler_fn handler, void *ctx);
/* Binds and listens (host may be an IPv4 or IPv6 literal). Returns 0 or a
 * negative errno. */
int http_server_listen(http_server_t *server, const char *host, uint16_t port);
/* Connections beyond max_connections in all, or max_per_ip from one
 * address, get a 503 and are closed at once (0: no limit). */
void http_server_set_limits(http_server_t *server, size_t max_connections, size_t max_per_ip);
/* Closes the listener and every connection; frees the server when done. */
void http_server_close(http_server_t *server);
const http_server_stats_t *http_server_stats(const http_server_t *server);

/* Sends a whole response (body copied). extra_headers: "Name: value\r\n"
 * lines or NULL. HEAD requests get the head only. Returns 0 or -errno; the
 * connection closes itself on error. */
int http_respond(http_conn_t *conn, int status, const char *content_type, const char *extra_headers,
                 const void *body, size_t len);
/* Sends a response whose body is gathered from bufs (not copied): each
 * buffer points into one of blocks, which are referenced until written.
 * At most HTTP_MAX_BUFS buffers. */
#define HTTP_MAX_BUFS 1024
int http_respond_bufs(http_conn_t *conn, int status, const char *content_type, const char *extra_headers,
                      const uv_buf_t *bufs, size_t buf_count, block_t *const *blocks, size_t block_count);
/* A short text/plain error body, one line. */
int http_respond_text(http_conn_t *conn, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The handler keeps the connection beyond its return. on_close is called
 * once when it closes. */
void http_conn_take(http_conn_t *conn, http_close_fn on_close, void *opaque);
/* Starts an endless response on a taken connection: sends the head
 * (Connection: close, no length) and stops request parsing. The body is then
 * written by the owner on http_conn_stream(). For HEAD requests only the head
 * is sent and the connection closes. Returns 0 or -errno. */
int http_stream_begin(http_conn_t *conn, int status, const char *content_type, const char *extra_headers);
uv_stream_t *http_conn_stream(http_conn_t *conn);
bool http_conn_is_head(const http_conn_t *conn);
/* Closes the connection; on_close follows. */
void http_conn_close(http_conn_t *conn);
/* "ip:port" of the peer. */
const char *http_conn_peer(const http_conn_t *conn);
/* A number no other connection of the server has had. */
uint64_t http_conn_serial(const http_conn_t *conn);
/* Bytes of response bodies queued on the connection so far. */
uint64_t http_conn_body_bytes(const http_conn_t *conn);

#endif
