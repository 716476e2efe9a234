// SPDX-License-Identifier: MIT
// dvr_seek.c -- seek latency in an archive: time to first byte and total time
// of index-FROM-DUR.m3u8 for many FROM, and of the first segment each lists;
// beside nginx serving a playlist file and a segment file of the same sizes
// (and, optionally, the same kind of segment bytes out of the archive's own
// chunk files by Range request) in the same run. bench/dvr_seek.sh runs it.
//
// For each FROM (one per line of --from-file, Unix seconds), in turn:
//   antenne  GET BASE/index-FROM-DUR.m3u8, then the first dvr-MS.ts it lists
//   nginx    GET --static-playlist, GET --static-segment, and with
//            --range-file the next line's "PATH FIRST LAST" as a Range request
// antenne goes first for even FROMs, nginx for odd ones, so that whatever
// else the machine does falls on both alike. Each target has one keep-alive
// connection (a player keeps one too); if a server closes it (antenne does
// after each archive segment: "Connection: close"), the next request connects
// again and the connect counts in its times (column "conn": how many did).
//
// Time to first byte: from the send of the request to the first response
// byte read. Total: to the last body byte. Every answer is checked: the
// status (200, or 206 for Range), the body length against Content-Length;
// an antenne playlist must list segments and its first segment must be the
// one playing at FROM; a segment must start with the TS sync byte 0x47.
#ifndef _GNU_SOURCE /* the project passes -D_GNU_SOURCE; a standalone build does not */
#define _GNU_SOURCE
#endif
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

enum { HEAD_MAX = 16 * 1024, KEEP_MAX = 256 * 1024, READ_SIZE = 256 * 1024 };

typedef struct target {
    const char *name;
    bench_url_t url; /* host and base path */
    int fd;
    uint64_t connects;
} target_t;

typedef struct reply {
    int status;
    double ttfb_ms, total_ms;
    bool connected;           /* it had to connect first (counted in its times) */
    uint64_t length;          /* body bytes read */
    uint8_t *keep;            /* the first KEEP_MAX body bytes */
    size_t kept;
    char error[200];
} reply_t;

enum { ROW_A_PL, ROW_A_SEG, ROW_N_PL, ROW_N_SEG, ROW_N_RANGE, ROW_COUNT };
static const char *const row_names[ROW_COUNT] = {
    "antenne index-FROM-DUR.m3u8", "antenne first segment dvr-MS.ts", "nginx static playlist (same size)",
    "nginx static segment (same size)", "nginx Range, archive chunk file"};

typedef struct row {
    double *ttfb, *total;
    uint64_t *bytes;
    int n, errors, connects;
} row_t;

static row_t rows[ROW_COUNT];
static uint8_t *buf;

static int wait_fd(int fd, short events, double deadline)
{
    double left = deadline - bench_now();
    if (left <= 0)
        return 0;
    struct pollfd pfd = {.fd = fd, .events = events};
    int rc = poll(&pfd, 1, (int)ceil(left * 1000.0));
    return rc < 0 && errno == EINTR ? wait_fd(fd, events, deadline) : rc;
}

static int connect_target(target_t *t, double deadline, char *err, size_t err_len)
{
    int fd = socket(t->url.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1, e = 0;
    socklen_t len = sizeof(e);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)&t->url.addr, t->url.addr_len) < 0) {
        if (errno != EINPROGRESS)
            e = errno;
        else if (wait_fd(fd, POLLOUT, deadline) <= 0)
            e = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
            e = errno;
    }
    if (e) {
        snprintf(err, err_len, "connect: %s", strerror(e));
        close(fd);
        return -1;
    }
    t->fd = fd;
    t->connects++;
    return 0;
}

static void drop(target_t *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

/* The value of header NAME in head (NUL-terminated), or NULL. */
static const char *header(const char *head, const char *name, char *out, size_t out_len)
{
    size_t nlen = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (!strncasecmp(h, name, nlen) && h[nlen] == ':') {
            h += nlen + 1;
            while (*h == ' ' || *h == '\t')
                h++;
            size_t n = strcspn(h, "\r");
            snprintf(out, out_len, "%.*s", (int)n, h);
            return out;
        }
    }
    return NULL;
}

/* One GET on t's connection; path is absolute, range NULL or "FIRST-LAST". */
static int get_once(target_t *t, const char *path, const char *range, double timeout_s, reply_t *r, bool *retry)
{
    char req[2048];
    char range_line[80] = "";
    *retry = false;
    if (range)
        snprintf(range_line, sizeof(range_line), "Range: bytes=%s\r\n", range);
    int req_len = snprintf(req, sizeof(req),
                           "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: antenne-dvr-seek\r\nAccept: */*\r\n%s\r\n",
                           path, t->url.host, range_line);
    if (req_len < 0 || (size_t)req_len >= sizeof(req)) {
        snprintf(r->error, sizeof(r->error), "path too long");
        return -1;
    }
    double t0 = bench_now(), deadline = t0 + timeout_s;
    bool fresh = t->fd < 0;
    r->connected = fresh;
    if (fresh && connect_target(t, deadline, r->error, sizeof(r->error)) < 0)
        return -1;
    if (send(t->fd, req, (size_t)req_len, MSG_NOSIGNAL) != req_len) {
        snprintf(r->error, sizeof(r->error), "send: %s", strerror(errno));
        drop(t);
        *retry = !fresh;
        return -1;
    }
    char head[HEAD_MAX + 1];
    size_t head_len = 0;
    long head_end = -1;
    uint64_t want = UINT64_MAX;
    bool close_after = false;
    r->kept = 0;
    r->length = 0;
    uint64_t got = 0;
    for (;;) {
        if (head_end >= 0 && r->length >= want)
            break;
        if (wait_fd(t->fd, POLLIN, deadline) <= 0) {
            snprintf(r->error, sizeof(r->error), "no complete answer within %.1f s (%llu bytes)", timeout_s,
                     (unsigned long long)got);
            drop(t);
            return -1;
        }
        ssize_t n = read(t->fd, buf, READ_SIZE);
        double now = bench_now();
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0) {
            if (head_end >= 0 && want == UINT64_MAX)
                break; /* a body up to the close */
            snprintf(r->error, sizeof(r->error), "%s after %llu bytes", n == 0 ? "connection closed" : strerror(errno),
                     (unsigned long long)got);
            drop(t);
            /* A kept-alive connection the server had closed: try once more. */
            *retry = !fresh && got == 0;
            return -1;
        }
        if (got == 0)
            r->ttfb_ms = (now - t0) * 1e3;
        got += (uint64_t)n;
        const uint8_t *p = buf;
        size_t left = (size_t)n;
        if (head_end < 0) {
            size_t take = left < HEAD_MAX - head_len ? left : HEAD_MAX - head_len;
            memcpy(head + head_len, p, take);
            head_len += take;
            head[head_len] = '\0';
            char *end = strstr(head, "\r\n\r\n");
            if (!end) {
                if (head_len >= HEAD_MAX) {
                    snprintf(r->error, sizeof(r->error), "response head over %d bytes", HEAD_MAX);
                    drop(t);
                    return -1;
                }
                continue;
            }
            size_t before = head_len - take; /* head bytes from earlier reads */
            head_end = (long)(end + 4 - head);
            end[2] = '\0';
            int minor;
            if (sscanf(head, "HTTP/1.%d %3d", &minor, &r->status) != 2) {
                snprintf(r->error, sizeof(r->error), "not an HTTP response: '%.40s'", head);
                drop(t);
                return -1;
            }
            char value[64];
            if (header(head, "Content-Length", value, sizeof(value)))
                want = strtoull(value, NULL, 10);
            if (header(head, "Transfer-Encoding", value, sizeof(value))) {
                snprintf(r->error, sizeof(r->error), "chunked answers are not supported");
                drop(t);
                return -1;
            }
            close_after = (header(head, "Connection", value, sizeof(value)) && !strcasecmp(value, "close")) ||
                          minor == 0;
            p += (size_t)head_end - before;
            left -= (size_t)head_end - before;
        }
        if (left) {
            if (r->kept < KEEP_MAX) {
                size_t k = left < KEEP_MAX - r->kept ? left : KEEP_MAX - r->kept;
                memcpy(r->keep + r->kept, p, k);
                r->kept += k;
            }
            r->length += left;
        }
        r->total_ms = (now - t0) * 1e3;
    }
    if (r->length == 0)
        r->total_ms = r->ttfb_ms;
    if (close_after)
        drop(t);
    return 0;
}

static int get(target_t *t, const char *path, const char *range, double timeout_s, reply_t *r)
{
    bool retry;
    memset(r->error, 0, sizeof(r->error));
    r->status = 0;
    int rc = get_once(t, path, range, timeout_s, r, &retry);
    if (rc < 0 && retry) {
        memset(r->error, 0, sizeof(r->error));
        rc = get_once(t, path, range, timeout_s, r, &retry);
    }
    return rc;
}

static void add(int row, const reply_t *r, bool ok, bool verbose, const char *what)
{
    row_t *w = &rows[row];
    if (!ok) {
        w->errors++;
        fprintf(stderr, "dvr_seek: %s %s: %s\n", row_names[row], what, r->error[0] ? r->error : "bad answer");
        return;
    }
    w->ttfb[w->n] = r->ttfb_ms;
    w->total[w->n] = r->total_ms;
    w->bytes[w->n] = r->length;
    w->connects += r->connected;
    w->n++;
    if (verbose)
        printf("%-34s %-40s %8.3f %8.3f ms %9llu B\n", row_names[row], what, r->ttfb_ms, r->total_ms,
               (unsigned long long)r->length);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v. */
static double pct(const double *v, int n, double q)
{
    int i = (int)ceil(q * n) - 1;
    return n == 0 ? NAN : v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dvr_seek --antenne http://127.0.0.1:PORT/live/NAME --from-file FILE [options]\n"
            "  --antenne URL          the channel's base URL (index-FROM-DUR.m3u8 and dvr-MS.ts are under it)\n"
            "  --from-file FILE       FROM values, Unix seconds, one a line: one seek each\n"
            "  --dur S                playlist duration (default 60)\n"
            "  --nginx URL            the reference server (http://127.0.0.1:PORT)\n"
            "  --static-playlist P    its playlist path (a copy of an antenne playlist)\n"
            "  --static-segment P     its segment path (a copy of an antenne segment)\n"
            "  --range-file FILE      lines 'PATH FIRST LAST': one Range request on nginx per FROM\n"
            "  --pause-ms MS          pause between seeks (default 20)\n"
            "  --timeout S            give up on one request after S seconds (default 10)\n"
            "  --goal-ms MS           the goal for the median time to first byte (default 10)\n"
            "  -v, --verbose          print every request\n"
            "Prints min / median / p90 / p99 / max per kind of request and a RESULT line;\n"
            "exit 1 if any request failed or any check did not hold.\n");
}

static double parse_num(const char *name, const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "dvr_seek: %s: '%s' is not a number in [%g, %g]\n", name, s, lo, hi);
        exit(1);
    }
    return v;
}

static void parse_target(target_t *t, const char *name, const char *url)
{
    char err[512];
    memset(t, 0, sizeof(*t));
    t->name = name;
    t->fd = -1;
    if (bench_url_parse(&t->url, url, err, sizeof(err)) < 0) {
        fprintf(stderr, "dvr_seek: %s\n", err);
        exit(1);
    }
    size_t n = strlen(t->url.path);
    while (n > 1 && t->url.path[n - 1] == '/')
        t->url.path[--n] = '\0';
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"antenne", required_argument, NULL, 'a'},        {"from-file", required_argument, NULL, 'f'},
        {"dur", required_argument, NULL, 'd'},            {"nginx", required_argument, NULL, 'N'},
        {"static-playlist", required_argument, NULL, 'P'}, {"static-segment", required_argument, NULL, 'S'},
        {"range-file", required_argument, NULL, 'R'},     {"pause-ms", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'},        {"goal-ms", required_argument, NULL, 'g'},
        {"verbose", no_argument, NULL, 'v'},              {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *antenne_url = NULL, *from_path = NULL, *nginx_url = NULL, *static_pl = NULL, *static_seg = NULL,
               *range_path = NULL;
    double dur = 60, pause_s = 0.02, timeout_s = 10, goal_ms = 10;
    bool verbose = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'a': antenne_url = optarg; break;
        case 'f': from_path = optarg; break;
        case 'd': dur = parse_num("--dur", optarg, 1, 43200); break;
        case 'N': nginx_url = optarg; break;
        case 'P': static_pl = optarg; break;
        case 'S': static_seg = optarg; break;
        case 'R': range_path = optarg; break;
        case 'p': pause_s = parse_num("--pause-ms", optarg, 0, 10000) / 1e3; break;
        case 't': timeout_s = parse_num("--timeout", optarg, 0.1, 600); break;
        case 'g': goal_ms = parse_num("--goal-ms", optarg, 0, 1e6); break;
        case 'v': verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (!antenne_url || !from_path || optind != argc || (nginx_url && (!static_pl || !static_seg))) {
        usage(stderr);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    target_t ant, ngx;
    parse_target(&ant, "antenne", antenne_url);
    if (nginx_url)
        parse_target(&ngx, "nginx", nginx_url);

    /* The FROM values, and the Range requests. */
    FILE *f = fopen(from_path, "r");
    if (!f) {
        fprintf(stderr, "dvr_seek: %s: %s\n", from_path, strerror(errno));
        return 1;
    }
    int cap = 1024, count = 0;
    unsigned long long *froms = malloc((size_t)cap * sizeof(*froms)), v;
    while (froms && fscanf(f, "%llu", &v) == 1) {
        if (count == cap)
            froms = realloc(froms, (size_t)(cap *= 2) * sizeof(*froms));
        if (froms)
            froms[count++] = v;
    }
    fclose(f);
    char (*ranges)[600] = NULL;
    int range_count = 0;
    if (range_path) {
        f = fopen(range_path, "r");
        if (!f) {
            fprintf(stderr, "dvr_seek: %s: %s\n", range_path, strerror(errno));
            return 1;
        }
        ranges = calloc((size_t)count, sizeof(*ranges));
        char line[600];
        while (ranges && range_count < count && fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\n")] = '\0';
            if (line[0])
                snprintf(ranges[range_count++], sizeof(ranges[0]), "%s", line);
        }
        fclose(f);
    }
    buf = malloc(READ_SIZE);
    reply_t r = {.keep = malloc(KEEP_MAX + 1)};
    for (int i = 0; i < ROW_COUNT; i++) {
        rows[i].ttfb = calloc((size_t)count + 1, sizeof(double));
        rows[i].total = calloc((size_t)count + 1, sizeof(double));
        rows[i].bytes = calloc((size_t)count + 1, sizeof(uint64_t));
        if (!rows[i].ttfb || !rows[i].total || !rows[i].bytes)
            froms = NULL;
    }
    if (!froms || !buf || !r.keep || (range_path && !ranges)) {
        fprintf(stderr, "dvr_seek: out of memory\n");
        return 2;
    }
    if (count == 0) {
        fprintf(stderr, "dvr_seek: %s holds no FROM\n", from_path);
        return 1;
    }

    int misplaced = 0, listed_min = INT32_MAX, listed_max = 0, not_ts = 0;
    char path[2048], what[720];
    double t_start = bench_now();
    for (int i = 0; i < count; i++) {
        if (i > 0 && pause_s > 0) {
            struct timespec ts = {.tv_sec = (time_t)pause_s, .tv_nsec = (long)((pause_s - (double)(time_t)pause_s) * 1e9)};
            nanosleep(&ts, NULL);
        }
        for (int turn = 0; turn < 2; turn++) {
            bool antenne_now = (turn == 0) == (i % 2 == 0);
            if (antenne_now) {
                /* The seek: the playlist, then its first segment. */
                snprintf(what, sizeof(what), "from %llu", froms[i]);
                snprintf(path, sizeof(path), "%s/index-%llu-%.0f.m3u8", ant.url.path, froms[i], dur);
                int rc = get(&ant, path, NULL, timeout_s, &r);
                bool ok = rc == 0 && r.status == 200 && r.kept > 7 && !memcmp(r.keep, "#EXTM3U", 7);
                unsigned long long first_ms = 0;
                int listed = 0;
                if (ok) {
                    r.keep[r.kept] = '\0';
                    for (char *s = (char *)r.keep; (s = strstr(s, "\ndvr-")); s++) {
                        if (listed++ == 0)
                            first_ms = strtoull(s + 5, NULL, 10);
                    }
                    if (!listed)
                        ok = false;
                    if (rc == 0 && !r.error[0] && !ok)
                        snprintf(r.error, sizeof(r.error), "HTTP %d, %llu bytes, no segment listed", r.status,
                                 (unsigned long long)r.length);
                } else if (rc == 0) {
                    snprintf(r.error, sizeof(r.error), "HTTP %d: %.80s", r.status, r.kept ? (char *)r.keep : "");
                }
                add(ROW_A_PL, &r, ok, verbose, what);
                if (!ok)
                    continue;
                listed_min = listed < listed_min ? listed : listed_min;
                listed_max = listed > listed_max ? listed : listed_max;
                /* The first segment must be the one playing at FROM. */
                if (!(first_ms <= froms[i] * 1000u && froms[i] * 1000u < first_ms + 10000u)) {
                    misplaced++;
                    fprintf(stderr, "dvr_seek: from %llu: the first segment starts at %llu ms\n", froms[i], first_ms);
                }
                snprintf(path, sizeof(path), "%s/dvr-%llu.ts", ant.url.path, first_ms);
                snprintf(what, sizeof(what), "dvr-%llu.ts", first_ms);
                rc = get(&ant, path, NULL, timeout_s, &r);
                ok = rc == 0 && r.status == 200 && r.length > 0;
                if (rc == 0 && !ok)
                    snprintf(r.error, sizeof(r.error), "HTTP %d", r.status);
                if (ok && r.keep[0] != 0x47)
                    not_ts++;
                add(ROW_A_SEG, &r, ok, verbose, what);
            } else if (nginx_url) {
                int rc = get(&ngx, static_pl, NULL, timeout_s, &r);
                bool ok = rc == 0 && r.status == 200;
                if (rc == 0 && !ok)
                    snprintf(r.error, sizeof(r.error), "HTTP %d", r.status);
                add(ROW_N_PL, &r, ok, verbose, static_pl);
                rc = get(&ngx, static_seg, NULL, timeout_s, &r);
                ok = rc == 0 && r.status == 200;
                if (rc == 0 && !ok)
                    snprintf(r.error, sizeof(r.error), "HTTP %d", r.status);
                add(ROW_N_SEG, &r, ok, verbose, static_seg);
                if (i < range_count) {
                    char rpath[600], range[80];
                    unsigned long long a, b;
                    if (sscanf(ranges[i], "%599s %llu %llu", rpath, &a, &b) != 3) {
                        fprintf(stderr, "dvr_seek: bad line in %s: '%s'\n", range_path, ranges[i]);
                        return 1;
                    }
                    snprintf(range, sizeof(range), "%llu-%llu", a, b);
                    rc = get(&ngx, rpath, range, timeout_s, &r);
                    ok = rc == 0 && r.status == 206 && r.length == b - a + 1;
                    if (rc == 0 && !ok)
                        snprintf(r.error, sizeof(r.error), "HTTP %d, %llu bytes", r.status,
                                 (unsigned long long)r.length);
                    snprintf(what, sizeof(what), "%s bytes %s", strrchr(rpath, '/') ? strrchr(rpath, '/') + 1 : rpath,
                             range);
                    add(ROW_N_RANGE, &r, ok, verbose, what);
                }
            }
        }
    }
    double elapsed = bench_now() - t_start;
    drop(&ant);
    if (nginx_url)
        drop(&ngx);

    printf("dvr_seek: %d seeks in %.1f s, playlists of %.0f s (%d to %d segments listed), %d first segments "
           "misplaced, %d segments not starting with 0x47; connections: antenne %llu",
           count, elapsed, dur, listed_min == INT32_MAX ? 0 : listed_min, listed_max, misplaced, not_ts,
           (unsigned long long)ant.connects);
    if (nginx_url)
        printf(", nginx %llu", (unsigned long long)ngx.connects);
    printf("\n\n%-34s %5s %4s %5s %9s | %-38s | %-38s\n", "", "", "", "", "", "time to first byte, ms",
           "total time, ms");
    printf("%-34s %5s %4s %5s %9s | %6s %6s %6s %6s %7s | %6s %6s %6s %6s %7s\n", "request", "n", "err", "conn",
           "bytes", "min",
           "median", "p90", "p99", "max", "min", "median", "p90", "p99", "max");
    int errors = misplaced + not_ts;
    double med[ROW_COUNT][2];
    for (int k = 0; k < ROW_COUNT; k++) {
        row_t *w = &rows[k];
        errors += w->errors;
        med[k][0] = med[k][1] = NAN;
        if (w->n == 0 && w->errors == 0)
            continue;
        qsort(w->ttfb, (size_t)w->n, sizeof(double), cmp_double);
        qsort(w->total, (size_t)w->n, sizeof(double), cmp_double);
        qsort(w->bytes, (size_t)w->n, sizeof(uint64_t), cmp_u64);
        med[k][0] = pct(w->ttfb, w->n, 0.5);
        med[k][1] = pct(w->total, w->n, 0.5);
        printf("%-34s %5d %4d %5d %9llu | %6.3f %6.3f %6.3f %6.3f %7.3f | %6.3f %6.3f %6.3f %6.3f %7.3f\n",
               row_names[k], w->n, w->errors, w->connects, w->n ? (unsigned long long)w->bytes[w->n / 2] : 0ull, pct(w->ttfb, w->n, 0),
               med[k][0], pct(w->ttfb, w->n, 0.9), pct(w->ttfb, w->n, 0.99), pct(w->ttfb, w->n, 1),
               pct(w->total, w->n, 0), med[k][1], pct(w->total, w->n, 0.9), pct(w->total, w->n, 0.99),
               pct(w->total, w->n, 1));
    }
    bool goal = med[ROW_A_PL][0] <= goal_ms && med[ROW_A_SEG][0] <= goal_ms;
    bool goal_total = med[ROW_A_PL][1] <= goal_ms && med[ROW_A_SEG][1] <= goal_ms;
    printf("\ngoal (median time to first byte <= %g ms for the playlist and for its first segment): %s "
           "(%.3f and %.3f ms); by total time: %s (%.3f and %.3f ms)\n",
           goal_ms, goal ? "MET" : "NOT MET", med[ROW_A_PL][0], med[ROW_A_SEG][0], goal_total ? "met" : "not met",
           med[ROW_A_PL][1], med[ROW_A_SEG][1]);
    printf("RESULT seeks=%d errors=%d misplaced=%d goal_met=%d", count, errors, misplaced, goal ? 1 : 0);
    static const char *const keys[ROW_COUNT] = {"a_pl", "a_seg", "n_pl", "n_seg", "n_range"};
    for (int k = 0; k < ROW_COUNT; k++) {
        row_t *w = &rows[k];
        if (w->n == 0)
            continue;
        printf(" %s_ttfb_med=%.3f %s_ttfb_p90=%.3f %s_ttfb_p99=%.3f %s_total_med=%.3f %s_total_p90=%.3f "
               "%s_total_p99=%.3f",
               keys[k], med[k][0], keys[k], pct(w->ttfb, w->n, 0.9), keys[k], pct(w->ttfb, w->n, 0.99), keys[k],
               med[k][1], keys[k], pct(w->total, w->n, 0.9), keys[k], pct(w->total, w->n, 0.99));
    }
    printf("\n");
    return errors ? 1 : 0;
}
