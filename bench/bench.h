// SPDX-License-Identifier: MIT
// bench.h -- helpers shared by the benchmark tools: clock, loopback URLs, HTTP response head, TS framing
//
// Header-only so each tool stays one executable built from one .c file.
// TS layout: ISO/IEC 13818-1, 2.4.3.2 (transport packet) and 2.4.3.4
// (adaptation field).
#ifndef ANTENNE_BENCH_H
#define ANTENNE_BENCH_H

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- URL ---------------------------------------------------------------- */

typedef struct {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[300]; /* as written in the URL, for the Host header */
    char path[1024];
} bench_url_t;

/*
 * Parses http://HOST[:PORT]/PATH. Only loopback targets are accepted: these
 * tools open thousands of connections and must never point that at a host
 * that did not ask for it. Returns 0, or -1 with a message in err.
 */
static inline int bench_url_parse(bench_url_t *u, const char *url, char *err, size_t err_len)
{
    memset(u, 0, sizeof(*u));
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, err_len, "URL must start with http://: '%s'", url);
        return -1;
    }
    const char *hp = url + 7;
    const char *slash = strchr(hp, '/');
    size_t hp_len = slash ? (size_t)(slash - hp) : strlen(hp);
    if (hp_len == 0 || hp_len >= sizeof(u->host)) {
        snprintf(err, err_len, "bad host in URL '%s'", url);
        return -1;
    }
    memcpy(u->host, hp, hp_len);
    snprintf(u->path, sizeof(u->path), "%s", slash ? slash : "/");

    /* Split HOST and PORT; an IPv6 literal is bracketed. */
    char name[300], port[8] = "80";
    const char *colon;
    if (u->host[0] == '[') {
        const char *close = strchr(u->host, ']');
        if (!close) {
            snprintf(err, err_len, "unterminated [ in URL '%s'", url);
            return -1;
        }
        snprintf(name, sizeof(name), "%.*s", (int)(close - u->host - 1), u->host + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strrchr(u->host, ':');
        snprintf(name, sizeof(name), "%.*s", (int)(colon ? (size_t)(colon - u->host) : hp_len), u->host);
    }
    if (colon && snprintf(port, sizeof(port), "%s", colon + 1) >= (int)sizeof(port)) {
        snprintf(err, err_len, "bad port in URL '%s'", url);
        return -1;
    }

    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(name, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "cannot resolve '%s': %s", name, gai_strerror(rc));
        return -1;
    }
    memcpy(&u->addr, res->ai_addr, res->ai_addrlen);
    u->addr_len = res->ai_addrlen;
    freeaddrinfo(res);

    bool loopback = false;
    if (u->addr.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&u->addr;
        loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (u->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&u->addr;
        loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    if (!loopback) {
        snprintf(err, err_len, "refusing non-loopback target '%s' (benchmarks run on 127.0.0.0/8 or ::1 only)", name);
        return -1;
    }
    return 0;
}

static inline int bench_request(const bench_url_t *u, const char *agent, char *buf, size_t len)
{
    int n = snprintf(buf, len,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                     u->path, u->host, agent);
    return n > 0 && (size_t)n < len ? n : -1;
}

/* ---- HTTP response head ------------------------------------------------- */

/*
 * Incremental reader of a response head: keeps the first bytes of the status
 * line and matches the blank line that ends the head across reads, so no
 * per-connection header buffer is needed.
 */
typedef struct {
    char line[32];
    uint8_t line_len;
    bool line_done;
    uint8_t crlf; /* bytes of "\r\n\r\n" matched so far */
    uint32_t size;
    int status; /* set when done; 0 if the status line was not HTTP/1.x NNN */
} bench_http_head_t;

enum { BENCH_HEAD_MAX = 16 * 1024 };

/*
 * Consumes head bytes from p. Returns how many bytes belonged to the head
 * (the rest is body) once the head is complete, -1 while it is not (all of
 * p consumed), -2 if the head is larger than BENCH_HEAD_MAX.
 */
static inline long bench_http_head_feed(bench_http_head_t *h, const uint8_t *p, size_t n)
{
    static const char end[] = "\r\n\r\n";
    for (size_t i = 0; i < n; i++) {
        if (++h->size > BENCH_HEAD_MAX)
            return -2;
        if (!h->line_done) {
            if (p[i] == '\n')
                h->line_done = true;
            else if (h->line_len < sizeof(h->line) - 1)
                h->line[h->line_len++] = (char)p[i];
        }
        h->crlf = p[i] == (uint8_t)end[h->crlf] ? h->crlf + 1 : (p[i] == '\r' ? 1 : 0);
        if (h->crlf == 4) {
            int minor, status;
            h->line[h->line_len] = '\0';
            h->status = sscanf(h->line, "HTTP/1.%d %3d", &minor, &status) == 2 ? status : 0;
            return (long)(i + 1);
        }
    }
    return -1;
}

/* ---- MPEG-TS packets ------------------------------------------------------ */

enum { TS_SIZE = 188, TS_SYNC = 0x47, TS_PID_NULL = 0x1FFF };
enum { TS_AF_DISCONTINUITY = 0x80, TS_AF_RANDOM_ACCESS = 0x40 };

static inline unsigned ts_pid(const uint8_t *p) { return ((p[1] & 0x1Fu) << 8) | p[2]; }
static inline bool ts_pusi(const uint8_t *p) { return p[1] & 0x40; }
static inline bool ts_has_payload(const uint8_t *p) { return p[3] & 0x10; }
static inline bool ts_has_af(const uint8_t *p) { return p[3] & 0x20; }
static inline unsigned ts_cc(const uint8_t *p) { return p[3] & 0x0Fu; }

/* Adaptation-field flags byte, or 0 when there is none or it is empty. */
static inline unsigned ts_af_flags(const uint8_t *p) { return ts_has_af(p) && p[4] > 0 ? p[5] : 0; }

/* PCR in 27 MHz ticks (2.4.3.5), or -1 when the packet carries none. */
static inline int64_t ts_pcr(const uint8_t *p)
{
    if (!ts_has_af(p) || p[4] < 7 || !(p[5] & 0x10))
        return -1;
    int64_t base = ((int64_t)p[6] << 25) | ((int64_t)p[7] << 17) | ((int64_t)p[8] << 9) | ((int64_t)p[9] << 1) |
                   (p[10] >> 7);
    return base * 300 + (((p[10] & 1) << 8) | p[11]);
}

/* Payload of a packet; NULL when it has none or the adaptation field overruns the packet. */
static inline const uint8_t *ts_payload(const uint8_t *p, size_t *len)
{
    size_t off = 4;
    if (ts_has_af(p))
        off += 1u + p[4];
    if (!ts_has_payload(p) || off >= TS_SIZE)
        return NULL;
    *len = TS_SIZE - off;
    return p + off;
}

/*
 * Cuts a byte stream into 188-byte packets whatever the read boundaries. A
 * packet split across reads is completed in carry. When an expected packet
 * start is not 0x47 one sync loss is counted and the framer hunts for the
 * next 0x47; it counts again only after three good packets, so hunting
 * through false sync bytes is not counted as many losses.
 */
typedef struct {
    uint8_t carry[TS_SIZE];
    uint8_t carry_len;
    uint8_t good_run;
    bool lost;
} ts_framer_t;

typedef void ts_packet_fn(void *ctx, const uint8_t *pkt);

/* Calls fn for each complete packet; returns the number of sync losses in p. */
static inline unsigned ts_framer_feed(ts_framer_t *f, const uint8_t *p, size_t n, ts_packet_fn *fn, void *ctx)
{
    unsigned losses = 0;
    while (n > 0) {
        if (f->carry_len > 0) {
            size_t room = (size_t)TS_SIZE - f->carry_len, take = room < n ? room : n;
            memcpy(f->carry + f->carry_len, p, take);
            f->carry_len = (uint8_t)(f->carry_len + take);
            p += take;
            n -= take;
            if (f->carry_len < TS_SIZE)
                break;
            f->carry_len = 0;
            fn(ctx, f->carry);
        } else if (p[0] != TS_SYNC) {
            if (!f->lost)
                losses++;
            f->lost = true;
            f->good_run = 0;
            const uint8_t *s = memchr(p, TS_SYNC, n);
            if (!s)
                break;
            n -= (size_t)(s - p);
            p = s;
            continue;
        } else if (n >= TS_SIZE) {
            fn(ctx, p);
            p += TS_SIZE;
            n -= TS_SIZE;
        } else {
            memcpy(f->carry, p, n);
            f->carry_len = (uint8_t)n;
            break;
        }
        if (f->lost && ++f->good_run >= 3)
            f->lost = false;
    }
    return losses;
}

#endif
