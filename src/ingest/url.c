// SPDX-License-Identifier: MIT
// url.c -- source URLs: udp://, rtp://, http://, file:// (forms in
// docs/configuration.md). Strict: every part is checked and an error says
// which one is wrong.
#include "ingest/ingest.h"
#include "core/core.h"
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define URL_ERR(...) (snprintf(err, err_size, __VA_ARGS__), -EINVAL)

static bool is_multicast(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 28) == 0xe;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return a6.s6_addr[0] == 0xff;
    return false;
}

static bool is_ip_literal(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    return inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
}

/* host[:port] or [v6]:port from [start, end). */
static int parse_authority(const char *url, const char *start, const char *end, ingest_url_t *out,
                           bool port_required, uint16_t default_port, char *err, size_t err_size)
{
    const char *host_end;
    const char *port_start = NULL;
    if (start < end && *start == '[') {
        const char *close = memchr(start, ']', (size_t)(end - start));
        if (!close)
            return URL_ERR("missing ']' after an IPv6 address (in '%.80s')", url);
        if ((size_t)(close - start - 1) >= sizeof(out->host))
            return URL_ERR("host too long (in '%.80s')", url);
        memcpy(out->host, start + 1, (size_t)(close - start - 1));
        out->host[close - start - 1] = '\0';
        host_end = close + 1;
        if (host_end < end && *host_end != ':')
            return URL_ERR("unexpected text after ']' (in '%.80s')", url);
        if (host_end < end)
            port_start = host_end + 1;
    } else {
        const char *colon = memrchr(start, ':', (size_t)(end - start));
        host_end = colon ? colon : end;
        if ((size_t)(host_end - start) >= sizeof(out->host))
            return URL_ERR("host too long (in '%.80s')", url);
        memcpy(out->host, start, (size_t)(host_end - start));
        out->host[host_end - start] = '\0';
        if (colon)
            port_start = colon + 1;
    }
    if (port_start) {
        uint64_t port;
        if (parse_u64_n(port_start, (size_t)(end - port_start), 1, 65535, &port) < 0)
            return URL_ERR("port must be a number from 1 to 65535 (in '%.80s')", url);
        out->port = (uint16_t)port;
    } else if (port_required) {
        return URL_ERR("a port is required (udp://@239.1.1.1:1234) (in '%.80s')", url);
    } else {
        out->port = default_port;
    }
    return 0;
}

/* key=value&... for udp/rtp/file options. */
static int parse_options(const char *url, const char *query, ingest_url_t *out, bool allow_udp, char *err,
                         size_t err_size)
{
    http_slice_t q = {query, strlen(query)};
    char value[128];
    int n;
    /* Reject unknown keys so a typo does not silently do nothing. */
    const char *p = query;
    while (*p) {
        size_t len = strcspn(p, "=&");
        bool known = (len == 7 && !strncmp(p, "program", 7)) ||
                     (allow_udp && ((len == 5 && !strncmp(p, "iface", 5)) || (len == 6 && !strncmp(p, "source", 6))));
        if (!known)
            return URL_ERR("unknown option '%.*s' (in '%.80s')", (int)len, p, url);
        p += strcspn(p, "&");
        if (*p == '&')
            p++;
    }
    if ((n = http_query_get(q, "program", value, sizeof(value))) != -ENOENT) {
        uint64_t program;
        if (n < 0 || parse_u64(value, 1, 65535, &program) < 0)
            return URL_ERR("program must be a number from 1 to 65535 (in '%.80s')", url);
        out->program = (uint16_t)program;
    }
    if (!allow_udp)
        return 0;
    if ((n = http_query_get(q, "iface", out->iface, sizeof(out->iface))) != -ENOENT && n <= 0)
        return URL_ERR("iface must be an interface name or address (in '%.80s')", url);
    if ((n = http_query_get(q, "source", out->ssm_source, sizeof(out->ssm_source))) != -ENOENT) {
        if (n <= 0 || !is_ip_literal(out->ssm_source))
            return URL_ERR("source must be the IP address of the multicast sender (in '%.80s')", url);
    }
    return 0;
}

int ingest_url_parse(const char *url, ingest_url_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(url);
    if (len == 0 || len > 2000)
        return URL_ERR("source URL is empty or longer than 2000 characters");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return URL_ERR("spaces or control characters are not allowed (in '%.80s')", url);
    const char *rest;
    if (!strncmp(url, "udp://", 6)) {
        out->kind = INGEST_UDP;
        rest = url + 6;
    } else if (!strncmp(url, "rtp://", 6)) {
        out->kind = INGEST_RTP;
        rest = url + 6;
    } else if (!strncmp(url, "http://", 7)) {
        out->kind = INGEST_HTTP;
        rest = url + 7;
    } else if (!strncmp(url, "file://", 7)) {
        out->kind = INGEST_FILE;
        rest = url + 7;
    } else {
        return URL_ERR("unsupported URL '%.80s': use udp://, rtp://, http:// or file://", url);
    }

    if (out->kind == INGEST_FILE) {
        if (rest[0] != '/')
            return URL_ERR("a file URL needs an absolute path (file:///path/to/file.ts) (in '%.80s')", url);
        const char *q = strchr(rest, '?');
        size_t path_len = q ? (size_t)(q - rest) : strlen(rest);
        if (path_len >= sizeof(out->path))
            return URL_ERR("path too long (in '%.80s')", url);
        memcpy(out->path, rest, path_len);
        out->path[path_len] = '\0';
        return q ? parse_options(url, q + 1, out, false, err, err_size) : 0;
    }

    if (out->kind == INGEST_HTTP) {
        const char *frag = strchr(rest, '#');
        const char *end = frag ? frag : rest + strlen(rest);
        const char *slash = memchr(rest, '/', (size_t)(end - rest));
        const char *auth_end = slash ? slash : end;
        if (auth_end == rest)
            return URL_ERR("missing host (in '%.80s')", url);
        if (memchr(rest, '@', (size_t)(auth_end - rest)))
            return URL_ERR("user:password in source URLs is not supported (in '%.80s')", url);
        int rc = parse_authority(url, rest, auth_end, out, false, 80, err, err_size);
        if (rc < 0)
            return rc;
        if (!out->host[0])
            return URL_ERR("missing host (in '%.80s')", url);
        size_t path_len = (size_t)(end - auth_end);
        if (path_len + 2 >= sizeof(out->path))
            return URL_ERR("path too long (in '%.80s')", url);
        if (path_len == 0)
            strcpy(out->path, "/");
        else {
            memcpy(out->path, auth_end, path_len);
            out->path[path_len] = '\0';
        }
        if (frag) {
            uint64_t program;
            if (strncmp(frag, "#program=", 9) || parse_u64(frag + 9, 1, 65535, &program) < 0)
                return URL_ERR("the only fragment understood is #program=N (in '%.80s')", url);
            out->program = (uint16_t)program;
        }
        return 0;
    }

    /* udp:// and rtp:// */
    if (*rest == '@')
        rest++;
    const char *q = strchr(rest, '?');
    const char *end = q ? q : rest + strlen(rest);
    if (memchr(rest, '/', (size_t)(end - rest)))
        return URL_ERR("a UDP URL has no path (udp://@239.1.1.1:1234) (in '%.80s')", url);
    int rc = parse_authority(url, rest, end, out, true, 0, err, err_size);
    if (rc < 0)
        return rc;
    if (!out->host[0])
        strcpy(out->host, "0.0.0.0");
    if (!is_ip_literal(out->host))
        return URL_ERR("'%s' is not an IP address (in '%.80s')", out->host, url);
    out->multicast = is_multicast(out->host);
    if (q) {
        rc = parse_options(url, q + 1, out, true, err, err_size);
        if (rc < 0)
            return rc;
    }
    if (out->ssm_source[0] && !out->multicast)
        return URL_ERR("source= needs a multicast group address (in '%.80s')", url);
    return 0;
}
