// SPDX-License-Identifier: MIT
// parser.c -- HTTP/1.1 message heads (RFC 9112 sections 2-3, 6; RFC 9110
// 5.6.2 tokens) and chunked transfer coding (RFC 9112 7.1), parsed from
// untrusted bytes without allocating. Hand-written because Debian ships no
// packaged HTTP parser library for C (llhttp lives only inside Node.js); it is
// small, strict, and fuzzed (tests/fuzz/fuzz_http.c).
#include "http/http.h"
#include "core/core.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const struct {
    const char *name;
    http_method_t method;
} methods[] = {
    {"GET", HTTP_GET},       {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},       {"PUT", HTTP_PUT},
    {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
};

const char *http_method_name(http_method_t method)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (methods[i].method == method)
            return methods[i].name;
    return "?";
}

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool http_slice_eq(http_slice_t s, const char *str)
{
    size_t len = strlen(str);
    return s.len == len && memcmp(s.ptr, str, len) == 0;
}

static bool slice_ieq(http_slice_t s, const char *str)
{
    size_t len = strlen(str);
    return s.len == len && strncasecmp(s.ptr, str, len) == 0;
}

const http_slice_t *http_header_get(const http_header_t *headers, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (slice_ieq(headers[i].name, name))
            return &headers[i].value;
    return NULL;
}

/* Finds the end of the head (blank line). Returns its length including the
 * blank line, or 0 when not there yet. Accepts LF alone as well as CRLF. */
static size_t head_length(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Next line in [*p, end): returns its slice without CR LF and moves *p. */
static http_slice_t next_line(const char **p, const char *end)
{
    const char *start = *p;
    const char *nl = memchr(start, '\n', (size_t)(end - start));
    if (!nl)
        nl = end;
    *p = nl < end ? nl + 1 : end;
    const char *stop = nl;
    if (stop > start && stop[-1] == '\r')
        stop--;
    return (http_slice_t){start, (size_t)(stop - start)};
}

/* Parses header lines into headers[]; returns 0 or a negative status. */
static int parse_headers(const char *p, const char *end, http_header_t *headers, size_t *count,
                         const char **why)
{
    *count = 0;
    while (p < end) {
        http_slice_t line = next_line(&p, end);
        if (line.len == 0)
            break;
        if (line.ptr[0] == ' ' || line.ptr[0] == '\t') {
            *why = "obsolete header line folding";
            return HTTP_PARSE_BAD;
        }
        const char *colon = memchr(line.ptr, ':', line.len);
        if (!colon || colon == line.ptr) {
            *why = "header line without a name and colon";
            return HTTP_PARSE_BAD;
        }
        for (const char *c = line.ptr; c < colon; c++) {
            if (!is_tchar((unsigned char)*c)) {
                *why = "invalid character in a header name";
                return HTTP_PARSE_BAD;
            }
        }
        const char *v = colon + 1;
        const char *vend = line.ptr + line.len;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        for (const char *c = v; c < vend; c++) {
            unsigned char ch = (unsigned char)*c;
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                *why = "control character in a header value";
                return HTTP_PARSE_BAD;
            }
        }
        if (*count == HTTP_MAX_HEADERS) {
            *why = "more than 64 header lines";
            return HTTP_PARSE_TOO_LARGE;
        }
        headers[*count].name = (http_slice_t){line.ptr, (size_t)(colon - line.ptr)};
        headers[*count].value = (http_slice_t){v, (size_t)(vend - v)};
        (*count)++;
    }
    return 0;
}

static bool slice_has_token(http_slice_t s, const char *token)
{
    size_t tlen = strlen(token);
    size_t i = 0;
    while (i < s.len) {
        while (i < s.len && (s.ptr[i] == ' ' || s.ptr[i] == ',' || s.ptr[i] == '\t'))
            i++;
        size_t start = i;
        while (i < s.len && s.ptr[i] != ',')
            i++;
        size_t stop = i;
        while (stop > start && (s.ptr[stop - 1] == ' ' || s.ptr[stop - 1] == '\t'))
            stop--;
        if (stop - start == tlen && strncasecmp(s.ptr + start, token, tlen) == 0)
            return true;
    }
    return false;
}

int http_parse_request(const char *buf, size_t len, http_request_t *req, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "";
    memset(req, 0, sizeof(*req));
    size_t head = head_length(buf, len);
    if (!head) {
        /* Reject early what can never become a valid head. */
        const char *nl = memchr(buf, '\n', len);
        size_t line = nl ? (size_t)(nl - buf) : len;
        if (line > HTTP_MAX_TARGET + 32) {
            *why = "request line too long";
            return HTTP_PARSE_URI_TOO_LONG;
        }
        if (len >= HTTP_MAX_HEAD_BYTES) {
            *why = "request head larger than 16 KiB";
            return HTTP_PARSE_TOO_LARGE;
        }
        for (size_t i = 0; i < len && i < 16; i++) {
            if (buf[i] == ' ')
                break;
            if (!is_tchar((unsigned char)buf[i]) && buf[i] != '\r' && buf[i] != '\n') {
                *why = "request line does not start with a method";
                return HTTP_PARSE_BAD;
            }
        }
        return HTTP_PARSE_INCOMPLETE;
    }
    if (head > HTTP_MAX_HEAD_BYTES) {
        *why = "request head larger than 16 KiB";
        return HTTP_PARSE_TOO_LARGE;
    }
    const char *p = buf;
    const char *end = buf + head;
    /* RFC 9112 2.2: ignore at least one empty line before the request line. */
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    http_slice_t line = next_line(&p, end);
    const char *sp1 = memchr(line.ptr, ' ', line.len);
    if (!sp1) {
        *why = "request line is not 'METHOD target HTTP/1.x'";
        return HTTP_PARSE_BAD;
    }
    http_slice_t method = {line.ptr, (size_t)(sp1 - line.ptr)};
    for (size_t i = 0; i < method.len; i++) {
        if (!is_tchar((unsigned char)method.ptr[i])) {
            *why = "invalid character in the method";
            return HTTP_PARSE_BAD;
        }
    }
    const char *rest = sp1 + 1;
    size_t rest_len = line.len - method.len - 1;
    const char *sp2 = memchr(rest, ' ', rest_len);
    if (!sp2 || sp2 == rest) {
        *why = "request line is not 'METHOD target HTTP/1.x'";
        return HTTP_PARSE_BAD;
    }
    req->target = (http_slice_t){rest, (size_t)(sp2 - rest)};
    http_slice_t version = {sp2 + 1, rest_len - req->target.len - 1};
    if (req->target.len > HTTP_MAX_TARGET) {
        *why = "request target longer than 8 KiB";
        return HTTP_PARSE_URI_TOO_LONG;
    }
    for (size_t i = 0; i < req->target.len; i++) {
        unsigned char c = (unsigned char)req->target.ptr[i];
        if (c <= 0x20 || c >= 0x7f) {
            *why = "invalid character in the request target";
            return HTTP_PARSE_BAD;
        }
    }
    if (memchr(version.ptr, ' ', version.len)) {
        *why = "request line has more than three parts";
        return HTTP_PARSE_BAD;
    }
    if (version.len != 8 || memcmp(version.ptr, "HTTP/1.", 7) != 0 ||
        (version.ptr[7] != '0' && version.ptr[7] != '1')) {
        if (version.len >= 5 && memcmp(version.ptr, "HTTP/", 5) == 0) {
            *why = "only HTTP/1.0 and HTTP/1.1 are supported";
            return HTTP_PARSE_BAD_VERSION;
        }
        *why = "request line does not end with HTTP/1.x";
        return HTTP_PARSE_BAD;
    }
    req->minor_version = version.ptr[7] - '0';
    bool known = false;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (http_slice_eq(method, methods[i].name)) {
            req->method = methods[i].method;
            known = true;
        }
    }
    if (req->target.ptr[0] != '/' && !(req->target.len == 1 && req->target.ptr[0] == '*')) {
        *why = "request target must start with '/'";
        return HTTP_PARSE_BAD;
    }
    const char *q = memchr(req->target.ptr, '?', req->target.len);
    req->path = (http_slice_t){req->target.ptr, q ? (size_t)(q - req->target.ptr) : req->target.len};
    req->query = q ? (http_slice_t){q + 1, req->target.len - req->path.len - 1} : (http_slice_t){q, 0};
    int rc = parse_headers(p, end, req->headers, &req->header_count, why);
    if (rc < 0)
        return rc;
    if (!known) {
        *why = "unknown method";
        return HTTP_PARSE_UNKNOWN_METHOD;
    }
    const http_slice_t *conn = http_header_get(req->headers, req->header_count, "Connection");
    req->keep_alive = req->minor_version == 1 ? !(conn && slice_has_token(*conn, "close"))
                                              : (conn && slice_has_token(*conn, "keep-alive"));
    if (req->minor_version == 1 && !http_header_get(req->headers, req->header_count, "Host")) {
        *why = "HTTP/1.1 request without Host";
        return HTTP_PARSE_BAD;
    }
    if (http_header_get(req->headers, req->header_count, "Transfer-Encoding")) {
        *why = "request bodies with Transfer-Encoding are not accepted";
        return HTTP_PARSE_BAD;
    }
    const http_slice_t *cl = http_header_get(req->headers, req->header_count, "Content-Length");
    if (cl && parse_u64_n(cl->ptr, cl->len, 0, UINT32_MAX, &req->content_length) < 0) {
        *why = "invalid Content-Length";
        return HTTP_PARSE_BAD;
    }
    return (int)head;
}

int http_parse_response(const char *buf, size_t len, http_response_t *res, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "";
    memset(res, 0, sizeof(*res));
    size_t head = head_length(buf, len);
    if (!head) {
        if (len >= HTTP_MAX_HEAD_BYTES) {
            *why = "response head larger than 16 KiB";
            return HTTP_PARSE_BAD;
        }
        if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0) {
            *why = "answer is not HTTP";
            return HTTP_PARSE_BAD;
        }
        return HTTP_PARSE_INCOMPLETE;
    }
    if (head > HTTP_MAX_HEAD_BYTES) {
        *why = "response head larger than 16 KiB";
        return HTTP_PARSE_BAD;
    }
    const char *p = buf;
    const char *end = buf + head;
    http_slice_t line = next_line(&p, end);
    uint64_t status;
    if (line.len < 12 || memcmp(line.ptr, "HTTP/1.", 7) != 0 || line.ptr[8] != ' ' ||
        parse_u64_n(line.ptr + 9, 3, 100, 599, &status) < 0 || (line.len > 12 && line.ptr[12] != ' ')) {
        *why = "status line is not 'HTTP/1.x NNN reason'";
        return HTTP_PARSE_BAD;
    }
    res->status = (int)status;
    int rc = parse_headers(p, end, res->headers, &res->header_count, why);
    if (rc < 0)
        return HTTP_PARSE_BAD;
    const http_slice_t *te = http_header_get(res->headers, res->header_count, "Transfer-Encoding");
    res->chunked = te && slice_has_token(*te, "chunked");
    const http_slice_t *cl = http_header_get(res->headers, res->header_count, "Content-Length");
    if (cl && !res->chunked) {
        if (parse_u64_n(cl->ptr, cl->len, 0, UINT64_MAX / 2, &res->content_length) < 0) {
            *why = "invalid Content-Length";
            return HTTP_PARSE_BAD;
        }
        res->has_length = true;
    }
    return (int)head;
}

enum {
    CHUNK_SIZE = 0,   /* reading hex digits */
    CHUNK_EXT,        /* extension up to LF */
    CHUNK_DATA,
    CHUNK_DATA_CR,    /* CR LF after the data */
    CHUNK_DATA_LF,
    CHUNK_TRAILER,    /* after the last chunk */
    CHUNK_DONE,
};

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int http_chunked_decode(http_chunked_t *ch, uint8_t *buf, size_t len, size_t *out_len)
{
    size_t out = 0;
    size_t i = 0;
    while (i < len) {
        uint8_t c = buf[i];
        switch (ch->state) {
        case CHUNK_SIZE: {
            int v = hex_value(c);
            if (v >= 0) {
                if (++ch->digits > 15) {
                    *out_len = out;
                    return HTTP_PARSE_BAD;
                }
                ch->remaining = ch->remaining * 16 + (uint64_t)v;
            } else if (ch->digits && (c == ';' || c == ' ' || c == '\t' || c == '\r')) {
                ch->state = CHUNK_EXT;
            } else if (ch->digits && c == '\n') {
                ch->state = ch->remaining ? CHUNK_DATA : CHUNK_TRAILER;
                ch->digits = 0;
            } else {
                *out_len = out;
                return HTTP_PARSE_BAD;
            }
            i++;
            break;
        }
        case CHUNK_EXT:
            if (c == '\n') {
                ch->state = ch->remaining ? CHUNK_DATA : CHUNK_TRAILER;
                ch->digits = 0;
            }
            i++;
            break;
        case CHUNK_DATA: {
            size_t n = len - i;
            if (n > ch->remaining)
                n = (size_t)ch->remaining;
            memmove(buf + out, buf + i, n);
            out += n;
            i += n;
            ch->remaining -= n;
            if (!ch->remaining)
                ch->state = CHUNK_DATA_CR;
            break;
        }
        case CHUNK_DATA_CR:
            if (c == '\r') {
                ch->state = CHUNK_DATA_LF;
            } else if (c == '\n') {
                ch->state = CHUNK_SIZE;
                ch->digits = 0;
            } else {
                *out_len = out;
                return HTTP_PARSE_BAD;
            }
            i++;
            break;
        case CHUNK_DATA_LF:
            if (c != '\n') {
                *out_len = out;
                return HTTP_PARSE_BAD;
            }
            ch->state = CHUNK_SIZE;
            ch->digits = 0;
            i++;
            break;
        case CHUNK_TRAILER:
            /* Trailer fields are ignored; an empty line ends the body. */
            if (c == '\n' && ch->digits == 0) {
                ch->state = CHUNK_DONE;
            } else if (c == '\n') {
                ch->digits = 0;
            } else if (c != '\r') {
                ch->digits = 1;
            }
            i++;
            break;
        case CHUNK_DONE:
            *out_len = out;
            return 1;
        }
    }
    *out_len = out;
    return ch->state == CHUNK_DONE ? 1 : 0;
}

static int hex_digit(char c) { return hex_value((uint8_t)c); }

static int percent_decode(const char *in, size_t len, char *out, size_t out_size, bool plus_is_space)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -EINVAL;
            int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return -EINVAL;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '\0') {
            return -EINVAL;
        }
        if (n + 1 >= out_size)
            return -EINVAL;
        out[n++] = c;
    }
    out[n] = '\0';
    return (int)n;
}

int http_path_decode(http_slice_t path, char *out, size_t out_size)
{
    return percent_decode(path.ptr, path.len, out, out_size, false);
}

int http_query_get(http_slice_t query, const char *name, char *out, size_t out_size)
{
    size_t name_len = strlen(name);
    size_t i = 0;
    while (i < query.len) {
        size_t start = i;
        while (i < query.len && query.ptr[i] != '&')
            i++;
        const char *pair = query.ptr + start;
        size_t pair_len = i - start;
        i++;
        const char *eq = memchr(pair, '=', pair_len);
        size_t key_len = eq ? (size_t)(eq - pair) : pair_len;
        if (key_len != name_len || memcmp(pair, name, name_len) != 0)
            continue;
        if (!eq) {
            if (out_size)
                out[0] = '\0';
            return 0;
        }
        return percent_decode(eq + 1, pair_len - key_len - 1, out, out_size, true);
    }
    return -ENOENT;
}

void http_date(uint64_t wall_ms, char *out, size_t out_size)
{
    time_t secs = (time_t)(wall_ms / 1000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, out_size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

int http_range_parse(http_slice_t value, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (value.len < 7 || strncmp(value.ptr, "bytes=", 6) != 0)
        return -EINVAL;
    const char *p = value.ptr + 6;
    size_t len = value.len - 6;
    const char *dash = memchr(p, '-', len);
    if (!dash || memchr(p, ',', len))
        return -EINVAL; /* one range only; a multipart answer is not worth it for media */
    size_t a_len = (size_t)(dash - p), b_len = len - a_len - 1;
    uint64_t a, b;
    if (a_len == 0) {
        if (parse_u64_n(dash + 1, b_len, 1, UINT64_MAX, &b) < 0)
            return -EINVAL;
        if (size == 0)
            return -ERANGE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 0;
    }
    if (parse_u64_n(p, a_len, 0, UINT64_MAX, &a) < 0)
        return -EINVAL;
    if (b_len == 0) {
        b = UINT64_MAX;
    } else if (parse_u64_n(dash + 1, b_len, 0, UINT64_MAX, &b) < 0 || b < a) {
        return -EINVAL;
    }
    if (a >= size)
        return -ERANGE;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 0;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
