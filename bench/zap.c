// SPDX-License-Identifier: MIT
// zap.c -- zap-time benchmark: how long a new viewer waits for a whole first keyframe
//
// A player can show the first picture once it holds one complete keyframe.
// For each of N viewers in turn (a fresh TCP connection each) this measures
// the time from sending the request to the read that delivers the packet
// ending that keyframe's PES, i.e. the packet carrying the next payload_unit_
// start on the video PID. The video PID comes from the stream itself:
// PAT -> first program's PMT -> first video elementary stream.
//
// Keyframe: the PES starts a random access point (adaptation field
// random_access_indicator, 13818-1 2.4.3.4) or carries an H.264 IDR NAL unit
// (type 5, H.264 7.4.1.2), an HEVC IRAP NAL unit (types 16..23, H.265 7.4.2.2)
// or, for MPEG-2 video, a sequence header (0xB3) before the first picture.
#ifndef _GNU_SOURCE /* the project passes -D_GNU_SOURCE; a standalone build does not */
#define _GNU_SOURCE
#endif
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

enum { SECTION_MAX = 1024 + TS_SIZE, READ_SIZE = 64 * 1024 };

enum stage { FIND_PAT, FIND_PMT, FIND_KEYFRAME, DONE };
enum pes_kind { PES_UNKNOWN, PES_KEY, PES_OTHER };

/* One viewer's parse of the stream. */
typedef struct {
    enum stage stage;
    unsigned pmt_pid, video_pid, video_type;
    /* PSI section being assembled (PAT, then PMT) */
    uint8_t section[SECTION_MAX];
    size_t section_len;
    bool section_open;
    /* video PES being scanned */
    bool in_pes;
    enum pes_kind kind;
    unsigned zeros;    /* zero bytes just before this one, for start codes */
    bool nal_next;     /* the next byte is a NAL header / start code value */
    unsigned pes_seen; /* video PES starts seen, keyframe included */
    uint64_t packets;  /* body packets so far: where in the body it ended */
    const char *error;
} zap_t;

/* CRC-32/MPEG-2 over a whole section including its CRC is 0 (13818-1 Annex A). */
static uint32_t crc32_mpeg2(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= (uint32_t)*p++ << 24;
        for (int i = 0; i < 8; i++)
            crc = crc & 0x80000000u ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
    }
    return crc;
}

static bool is_video_type(unsigned t) { return t == 0x1B || t == 0x24 || t == 0x02; }

/* A complete, CRC-checked section of section_length + 3 bytes. */
static void on_section(zap_t *z, const uint8_t *s, size_t len)
{
    if (z->stage == FIND_PAT && s[0] == 0x00) {
        for (size_t i = 8; i + 4 <= len - 4; i += 4) {
            unsigned program = ((unsigned)s[i] << 8) | s[i + 1];
            if (program != 0) { /* program 0 points at the NIT, not a PMT */
                z->pmt_pid = ((s[i + 2] & 0x1Fu) << 8) | s[i + 3];
                z->stage = FIND_PMT;
                return;
            }
        }
        z->error = "PAT lists no program";
    } else if (z->stage == FIND_PMT && s[0] == 0x02 && len >= 16) {
        size_t i = 12 + (((s[10] & 0x0Fu) << 8) | s[11]);
        while (i + 5 <= len - 4) {
            unsigned type = s[i], pid = ((s[i + 1] & 0x1Fu) << 8) | s[i + 2];
            if (is_video_type(type)) {
                z->video_pid = pid;
                z->video_type = type;
                z->stage = FIND_KEYFRAME;
                return;
            }
            i += 5 + (((s[i + 3] & 0x0Fu) << 8) | s[i + 4]);
        }
        z->error = "PMT has no H.264, HEVC or MPEG-2 video stream";
    }
}

/* Assembles PSI sections on pid; only the first section of each packet is
   needed, as PAT and PMT are one section each. */
static void psi_packet(zap_t *z, const uint8_t *p)
{
    size_t n = 0;
    const uint8_t *pl = ts_payload(p, &n);
    if (!pl)
        return;
    if (ts_pusi(p)) {
        size_t ptr = pl[0];
        if (1 + ptr >= n)
            return;
        pl += 1 + ptr;
        n -= 1 + ptr;
        z->section_len = 0;
        z->section_open = true;
    } else if (!z->section_open) {
        return;
    }
    if (z->section_len + n > sizeof(z->section))
        n = sizeof(z->section) - z->section_len;
    memcpy(z->section + z->section_len, pl, n);
    z->section_len += n;
    if (z->section_len < 3)
        return;
    size_t need = 3 + (((z->section[1] & 0x0Fu) << 8) | z->section[2]);
    if (need > sizeof(z->section) || need < 12) {
        z->section_open = false;
        return;
    }
    if (z->section_len < need)
        return;
    z->section_open = false;
    if (crc32_mpeg2(z->section, need) != 0) {
        z->error = z->stage == FIND_PAT ? "PAT CRC mismatch" : "PMT CRC mismatch";
        return;
    }
    on_section(z, z->section, need);
}

/* Classifies the PES from the first NAL unit / start code that decides it. */
static void scan_es(zap_t *z, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && z->kind == PES_UNKNOWN; i++) {
        uint8_t b = p[i];
        if (z->nal_next) {
            z->nal_next = false;
            if (z->video_type == 0x1B) {
                unsigned t = b & 0x1Fu;
                if (t == 5)
                    z->kind = PES_KEY;
                else if (t >= 1 && t <= 4)
                    z->kind = PES_OTHER;
            } else if (z->video_type == 0x24) {
                unsigned t = (b >> 1) & 0x3Fu;
                if (t >= 16 && t <= 23)
                    z->kind = PES_KEY;
                else if (t <= 9)
                    z->kind = PES_OTHER;
            } else {
                if (b == 0xB3)
                    z->kind = PES_KEY;
                else if (b == 0x00)
                    z->kind = PES_OTHER;
            }
        }
        if (b == 1 && z->zeros >= 2)
            z->nal_next = true;
        z->zeros = b == 0 ? z->zeros + 1 : 0;
    }
}

/* Returns true when this packet completes the first keyframe. */
static bool video_packet(zap_t *z, const uint8_t *p)
{
    size_t n = 0;
    const uint8_t *pl = ts_payload(p, &n);
    if (ts_pusi(p)) {
        if (z->in_pes && z->kind == PES_KEY)
            return true;
        z->in_pes = true;
        z->pes_seen++;
        z->kind = ts_af_flags(p) & TS_AF_RANDOM_ACCESS ? PES_KEY : PES_UNKNOWN;
        z->zeros = 0;
        z->nal_next = false;
        /* Skip the PES header (13818-1 2.4.3.6): 9 bytes plus its data length. */
        if (!pl || n < 9 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1 || 9u + pl[8] > n)
            return false;
        size_t header = 9u + pl[8];
        pl += header;
        n -= header;
    }
    if (pl && z->in_pes)
        scan_es(z, pl, n);
    return false;
}

static void on_packet(void *ctx, const uint8_t *p)
{
    zap_t *z = ctx;
    if (z->error || z->stage == DONE)
        return;
    z->packets++;
    unsigned pid = ts_pid(p);
    if ((z->stage == FIND_PAT && pid == 0) || (z->stage == FIND_PMT && pid == z->pmt_pid))
        psi_packet(z, p);
    else if (z->stage == FIND_KEYFRAME && pid == z->video_pid && video_packet(z, p))
        z->stage = DONE;
}

typedef struct {
    const char *url_text;
    bench_url_t url;
    int viewers;
    double pause_s;
    double timeout_s;
    bool verbose;
} options_t;

typedef struct {
    double ttfb_ms; /* request sent -> first response byte */
    double key_ms;  /* request sent -> read completing the first keyframe */
    uint64_t bytes;
    uint64_t key_end; /* body offset just past the packet that completed the keyframe */
    unsigned pes_before; /* video PES that were not keyframes, before it */
    char error[160];
} sample_t;

/* Waits for events on fd until deadline; 0 on timeout. */
static int wait_fd(int fd, short events, double deadline)
{
    double left = deadline - bench_now();
    if (left <= 0)
        return 0;
    struct pollfd pfd = {.fd = fd, .events = events};
    int rc = poll(&pfd, 1, (int)ceil(left * 1000.0));
    return rc < 0 && errno == EINTR ? wait_fd(fd, events, deadline) : rc;
}

/* One new viewer. Returns 0 with s filled, or -1 with s->error set. */
static int zap_one(const options_t *o, const char *req, int req_len, zap_t *z, uint8_t *buf, sample_t *s)
{
    memset(s, 0, sizeof(*s));
    int fd = socket(o->url.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(s->error, sizeof(s->error), "socket: %s", strerror(errno));
        return -1;
    }
    double deadline = bench_now() + o->timeout_s;
    int err = 0;
    socklen_t len = sizeof(err);
    if (connect(fd, (const struct sockaddr *)&o->url.addr, o->url.addr_len) < 0) {
        if (errno != EINPROGRESS)
            err = errno;
        else if (wait_fd(fd, POLLOUT, deadline) <= 0)
            err = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
    }
    if (err) {
        snprintf(s->error, sizeof(s->error), "connect: %s", strerror(err));
        close(fd);
        return -1;
    }

    *z = (zap_t){.stage = FIND_PAT};
    ts_framer_t framer = {0};
    bench_http_head_t head = {0};
    bool in_body = false;

    const double t0 = bench_now();
    if (send(fd, req, (size_t)req_len, MSG_NOSIGNAL) != req_len) {
        snprintf(s->error, sizeof(s->error), "send: %s", strerror(errno));
        close(fd);
        return -1;
    }
    while (z->stage != DONE && !z->error && !s->error[0]) {
        if (wait_fd(fd, POLLIN, deadline) <= 0) {
            snprintf(s->error, sizeof(s->error), "no complete keyframe within %.1f s (%llu bytes, stage %d)",
                     o->timeout_s, (unsigned long long)s->bytes, (int)z->stage);
            break;
        }
        ssize_t r = read(fd, buf, READ_SIZE);
        double t = bench_now();
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0) {
            snprintf(s->error, sizeof(s->error), "%s after %llu bytes, before a complete keyframe",
                     r == 0 ? "connection closed" : strerror(errno), (unsigned long long)s->bytes);
            break;
        }
        if (s->bytes == 0)
            s->ttfb_ms = (t - t0) * 1e3;
        s->bytes += (uint64_t)r;
        const uint8_t *p = buf;
        size_t n = (size_t)r;
        if (!in_body) {
            long used = bench_http_head_feed(&head, p, n);
            if (used == -1)
                continue;
            if (used == -2 || head.status != 200) {
                snprintf(s->error, sizeof(s->error), "HTTP response '%s'", head.line);
                break;
            }
            in_body = true;
            p += used;
            n -= (size_t)used;
        }
        if (ts_framer_feed(&framer, p, n, on_packet, z) > 0)
            snprintf(s->error, sizeof(s->error), "TS sync lost within the first %llu bytes",
                     (unsigned long long)s->bytes);
        else if (z->stage == DONE)
            s->key_ms = (t - t0) * 1e3;
    }
    close(fd);
    if (z->error && !s->error[0])
        snprintf(s->error, sizeof(s->error), "%s", z->error);
    s->pes_before = z->pes_seen > 0 ? z->pes_seen - 1 : 0;
    s->key_end = z->packets * TS_SIZE;
    return s->error[0] ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v. */
static double pct(const double *v, int n, double q)
{
    int i = (int)ceil(q * n) - 1;
    return n == 0 ? 0 : v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static void usage(FILE *f)
{
    fprintf(f, "usage: zap [options] http://127.0.0.1:PORT/live/NAME.ts\n"
               "  -n, --viewers N     new viewers, one after another (default 100)\n"
               "  -p, --pause-ms MS   pause between viewers (default 50)\n"
               "  -t, --timeout S     give up on one viewer after S seconds (default 10)\n"
               "  -v, --verbose       print every sample\n"
               "Prints min/median/p90/p99/max of the time from request to the end of the\n"
               "first complete keyframe, and a RESULT line. Exit 1 if any viewer failed.\n");
}

static double parse_num(const char *name, const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "zap: %s: '%s' is not a number in [%g, %g]\n", name, s, lo, hi);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},   {"viewers", required_argument, NULL, 'n'},
        {"pause-ms", required_argument, NULL, 'p'}, {"timeout", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},     {"help", no_argument, NULL, 'h'},
        {0},
    };
    options_t o = {.viewers = 100, .pause_s = 0.05, .timeout_s = 10};
    int ch;
    while ((ch = getopt_long(argc, argv, "u:n:p:t:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u': o.url_text = optarg; break;
        case 'n': o.viewers = (int)parse_num("--viewers", optarg, 1, 100000); break;
        case 'p': o.pause_s = parse_num("--pause-ms", optarg, 0, 60000) / 1e3; break;
        case 't': o.timeout_s = parse_num("--timeout", optarg, 0.1, 600); break;
        case 'v': o.verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (!o.url_text && optind < argc)
        o.url_text = argv[optind++];
    if (!o.url_text || optind != argc) {
        usage(stderr);
        return 1;
    }
    char err[512], req[1400];
    int req_len;
    if (bench_url_parse(&o.url, o.url_text, err, sizeof(err)) < 0) {
        fprintf(stderr, "zap: %s\n", err);
        return 1;
    }
    if ((req_len = bench_request(&o.url, "antenne-zap", req, sizeof(req))) < 0) {
        fprintf(stderr, "zap: URL too long\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    double *key = calloc((size_t)o.viewers, sizeof(double)), *ttfb = calloc((size_t)o.viewers, sizeof(double));
    uint8_t *buf = malloc(READ_SIZE);
    zap_t *z = malloc(sizeof(*z));
    if (!key || !ttfb || !buf || !z) {
        fprintf(stderr, "zap: out of memory\n");
        return 2;
    }
    int ok = 0, first_key = 0;
    for (int i = 0; i < o.viewers; i++) {
        if (i > 0 && o.pause_s > 0) {
            struct timespec ts = {.tv_sec = (time_t)o.pause_s,
                                  .tv_nsec = (long)((o.pause_s - (double)(time_t)o.pause_s) * 1e9)};
            nanosleep(&ts, NULL);
        }
        sample_t s;
        if (zap_one(&o, req, req_len, z, buf, &s) < 0) {
            fprintf(stderr, "zap: viewer %d: %s\n", i + 1, s.error);
            continue;
        }
        key[ok] = s.key_ms;
        ttfb[ok] = s.ttfb_ms;
        ok++;
        first_key += s.pes_before == 0;
        if (o.verbose)
            printf("viewer %d: first byte %.2f ms, keyframe complete %.2f ms at body byte %llu, %u PES before it\n",
                   i + 1, s.ttfb_ms, s.key_ms, (unsigned long long)s.key_end, s.pes_before);
    }
    qsort(key, (size_t)ok, sizeof(double), cmp_double);
    qsort(ttfb, (size_t)ok, sizeof(double), cmp_double);

    printf("zap: %s, %d viewers (%d ok, %d failed), %.0f ms apart\n", o.url_text, o.viewers, ok, o.viewers - ok,
           o.pause_s * 1e3);
    if (ok) {
        printf("first complete keyframe (ms): min %.2f  median %.2f  p90 %.2f  p99 %.2f  max %.2f\n", pct(key, ok, 0),
               pct(key, ok, 0.5), pct(key, ok, 0.9), pct(key, ok, 0.99), pct(key, ok, 1));
        printf("first byte (ms):              min %.2f  median %.2f  max %.2f\n", pct(ttfb, ok, 0), pct(ttfb, ok, 0.5),
               pct(ttfb, ok, 1));
        printf("first video PES was the keyframe for %d of %d viewers\n", first_key, ok);
    }
    printf("RESULT viewers=%d ok=%d failed=%d min_ms=%.3f median_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "ttfb_median_ms=%.3f first_pes_key=%d\n",
           o.viewers, ok, o.viewers - ok, pct(key, ok, 0), pct(key, ok, 0.5), pct(key, ok, 0.9), pct(key, ok, 0.99),
           pct(key, ok, 1), pct(ttfb, ok, 0.5), first_key);
    free(key);
    free(ttfb);
    free(buf);
    free(z);
    return ok == o.viewers ? 0 : 1;
}
