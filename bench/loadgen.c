// SPDX-License-Identifier: MIT
// loadgen.c -- many HTTP MPEG-TS viewers on one machine, checking every byte they receive
//
// It answers "how many viewers of one channel can the server feed, and at
// what cost": N connections to one /live/NAME.ts URL, each read as fast as
// the kernel hands bytes over (or at a capped rate for --slow-readers), each
// checked for TS sync and per-PID continuity, so delivered bytes that are
// wrong do not count as delivered.
//
// A viewer "kept up" when, over the window, the stream's own clock (PCR)
// advanced by at least 99 % of the wall-clock time, with no CC or sync
// error (and, with --expect-bitrate, at least 99 % of that rate arrived).
// The clock rather than a byte count is the primary test because a server
// may drop the mux's null padding, after which the byte rate follows the
// content's variable rate while the clock still runs at exactly 1 s per s.
//
// Timeline (all times from start):
//   [0, ramp)              connects spread evenly (at most CONNECT_BURST per loop pass)
//   [ramp, ramp + settle)  the last viewers get their start-up burst (the
//                          server sends the newest keyframe and what follows it
//                          at once), which must not count as sustained rate
//   [W, W + duration)      measurement window, W = ramp + settle: byte
//                          counters are snapshotted at both ends, the
//                          server's /proc figures too
//   W + duration           every worker stops by itself and the summary prints
//
// Threads: --threads T workers, each owning a contiguous slice of the
// clients (no cache line is written by two threads) with its own epoll set
// and one READ_BUF read buffer; nothing is shared between workers while they
// run, so no locks. The main thread only sleeps until the
// window edges to sample the server and then joins the workers.
#ifndef _GNU_SOURCE /* the project passes -D_GNU_SOURCE; a standalone build does not */
#define _GNU_SOURCE
#endif
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

enum {
    READ_BUF = 256 * 1024,
    CONNECT_BURST = 256, /* new connects per loop pass: "a few hundred per ms" */
    MAX_EVENTS = 512,
    MAX_CLIENTS = 100000,
    PID_SLOTS = 16, /* PIDs tracked per client; a channel carries a handful */
};

/* Why a client stopped before the end of the run. */
enum client_end { END_NONE, END_CONNECT, END_HTTP, END_HEAD, END_DROPPED };
enum client_state { CL_IDLE, CL_CONNECTING, CL_HEAD, CL_BODY, CL_CLOSED };

typedef struct {
    uint16_t pid;
    uint8_t cc;
    bool seen; /* false: a free slot */
    bool dup;  /* the last packet repeated the one before */
} pid_cc_t;

typedef struct {
    int fd;
    uint8_t state; /* enum client_state */
    uint8_t end;   /* enum client_end */
    bool slow;
    bool paused;       /* slow reader out of budget: EPOLLIN disarmed */
    bool in_window;    /* was receiving the body when the window opened */
    bool pid_overflow; /* more PIDs than PID_SLOTS: the rest are not checked */
    uint16_t status;
    uint32_t cc_errors;
    uint32_t sync_errors;
    uint64_t bytes; /* body bytes */
    uint64_t bytes_at_window;
    uint64_t bytes_at_end;
    /* Stream time received (media_s): the sum of steps between successive
       PCRs of one PID; across a jump (a file's loop point, a discontinuity,
       a wrap) the previous step is assumed. */
    int64_t last_pcr;
    int64_t last_step;
    uint16_t pcr_pid;
    bool have_pcr;
    double media_s;
    /* Lag = wall time - stream time. A server sends in bursts (antenne: one
       every 200 ms), so the lag at one instant depends on where in a burst it
       falls; the least lag over the last one to two seconds (two one-second
       buckets) is the top of that staircase, steady while a viewer keeps up. */
    double lag_min[2];
    double lag_at_window;
    double lag_at_end;
    double body_start; /* slow readers: the token bucket's origin */
    double resume_at;
    bench_http_head_t head;
    ts_framer_t framer;
    pid_cc_t pids[PID_SLOTS];
} client_t;

typedef struct {
    const char *url_text;
    bench_url_t url;
    int clients;
    int threads;
    double duration;
    double ramp;
    double settle;
    double expect_bps;
    int slow_readers;
    double slow_bps;
    int cpu; /* -1: no pinning */
    int server_pid;
} options_t;

typedef struct {
    const options_t *opt;
    int id;
    client_t *clients; /* all clients; this worker owns [first, first + n_mine) */
    int first;
    int n_mine;
    int next_connect;
    int *slow; /* owned slow readers, scanned to resume */
    int n_slow;
    int ep;
    double t0;
    double window_start; /* actual snapshot times */
    double window_end;
    char request[1400];
    int request_len;
    uint8_t *buf;
} worker_t;

/* ---- per-packet checks ------------------------------------------------- */

static void check_packet(void *ctx, const uint8_t *p)
{
    client_t *c = ctx;
    unsigned pid = ts_pid(p);
    /* While the framer hunts for sync the "packets" may be garbage: the
       sync loss is already counted, do not add CC noise on top. */
    if (pid == TS_PID_NULL || c->framer.lost)
        return;

    pid_cc_t *slot = NULL;
    for (int i = 0; i < PID_SLOTS; i++) {
        if (!c->pids[i].seen || c->pids[i].pid == pid) {
            slot = &c->pids[i];
            break;
        }
    }
    if (!slot) {
        c->pid_overflow = true;
        return;
    }
    /* CC counts only packets with payload (13818-1, 2.4.3.3); a
       discontinuity_indicator announces a jump that is not an error. */
    if (!ts_has_payload(p))
        return;
    unsigned cc = ts_cc(p);
    bool dup = false;
    if (slot->seen && !(ts_af_flags(p) & TS_AF_DISCONTINUITY)) {
        /* A packet may be sent twice (same CC), but not three times. */
        dup = cc == slot->cc && !slot->dup;
        if (cc != ((slot->cc + 1u) & 0xF) && !dup)
            c->cc_errors++;
    }
    slot->dup = dup;
    slot->pid = (uint16_t)pid;
    slot->cc = (uint8_t)cc;
    slot->seen = true;
}

static void track_pcr(client_t *c, const uint8_t *p)
{
    int64_t pcr = ts_pcr(p);
    if (pcr < 0 || c->framer.lost)
        return;
    unsigned pid = ts_pid(p);
    if (!c->have_pcr) {
        c->pcr_pid = (uint16_t)pid; /* follow the first PCR PID seen */
        c->have_pcr = true;
    } else if (pid != c->pcr_pid) {
        return;
    } else {
        int64_t step = pcr - c->last_pcr;
        if (step > 0 && step < 27000000 && !(ts_af_flags(p) & TS_AF_DISCONTINUITY))
            c->last_step = step;
        else if (step == 0)
            return;
        c->media_s += (double)c->last_step / 27e6;
    }
    c->last_pcr = pcr;
}

static void on_packet(void *ctx, const uint8_t *p)
{
    check_packet(ctx, p);
    track_pcr(ctx, p);
}

static void feed_body(client_t *c, const uint8_t *p, size_t n, double now)
{
    c->bytes += n;
    unsigned losses = ts_framer_feed(&c->framer, p, n, on_packet, c);
    if (losses) {
        c->sync_errors += losses;
        /* Bytes were lost or inserted: continuity restarts from scratch. */
        memset(c->pids, 0, sizeof(c->pids));
    }
    if (c->have_pcr && now - c->media_s < c->lag_min[0])
        c->lag_min[0] = now - c->media_s;
}

static double client_lag(const client_t *c, double now)
{
    double lag = fmin(c->lag_min[0], c->lag_min[1]);
    return isinf(lag) ? now - c->media_s : lag;
}

/* ---- connection life --------------------------------------------------- */

static void client_close(worker_t *w, client_t *c, enum client_end why)
{
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->state = CL_CLOSED;
    if (c->end == END_NONE)
        c->end = (uint8_t)why;
    c->bytes_at_end = c->bytes;
}

static void client_connect(worker_t *w, int idx)
{
    client_t *c = &w->clients[idx];
    c->fd = socket(w->opt->url.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->state = CL_CLOSED;
        c->end = END_CONNECT;
        return;
    }
    int rc = connect(c->fd, (const struct sockaddr *)&w->opt->url.addr, w->opt->url.addr_len);
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)idx};
    if ((rc < 0 && errno != EINPROGRESS) || epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        close(c->fd);
        c->fd = -1;
        c->state = CL_CLOSED;
        c->end = END_CONNECT;
        return;
    }
    c->state = CL_CONNECTING;
}

static void on_connected(worker_t *w, client_t *c, int idx)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
        client_close(w, c, END_CONNECT);
        return;
    }
    /* The request is far smaller than an empty socket's send buffer, so
       one send either takes all of it or the connection is broken. */
    if (send(c->fd, w->request, (size_t)w->request_len, MSG_NOSIGNAL) != w->request_len) {
        client_close(w, c, END_CONNECT);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)idx};
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->state = CL_HEAD;
}

/* Bytes a slow reader may read now: its rate times its age, minus what it read. */
static size_t slow_budget(const worker_t *w, const client_t *c, double now)
{
    double allowed = w->opt->slow_bps / 8.0 * (now - c->body_start) + 16384.0 - (double)c->bytes;
    return allowed <= 0 ? 0 : (allowed > READ_BUF ? READ_BUF : (size_t)allowed);
}

static void slow_pause(worker_t *w, client_t *c, int idx, double now)
{
    struct epoll_event ev = {.events = 0, .data.u32 = (uint32_t)idx};
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->paused = true;
    /* Wake when 16 KiB of budget has accrued: fewer, larger reads. */
    c->resume_at = now + 16384.0 * 8.0 / w->opt->slow_bps;
}

static void on_readable(worker_t *w, client_t *c, int idx, double now, uint32_t events)
{
    size_t want = READ_BUF;
    /* A hang-up is reported even while disarmed: read it rather than spin. */
    if (c->slow && c->state == CL_BODY && !(events & (EPOLLHUP | EPOLLERR))) {
        want = slow_budget(w, c, now);
        if (want == 0) {
            slow_pause(w, c, idx, now);
            return;
        }
    }
    ssize_t r = read(c->fd, w->buf, want);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        client_close(w, c, c->state == CL_BODY ? END_DROPPED : END_HEAD);
        return;
    }
    const uint8_t *p = w->buf;
    size_t n = (size_t)r;
    if (c->state == CL_HEAD) {
        long used = bench_http_head_feed(&c->head, p, n);
        if (used == -1)
            return;
        if (used == -2) {
            client_close(w, c, END_HEAD);
            return;
        }
        c->status = (uint16_t)c->head.status;
        if (c->status != 200) {
            client_close(w, c, END_HTTP);
            return;
        }
        c->state = CL_BODY;
        c->body_start = now;
        p += used;
        n -= (size_t)used;
    }
    feed_body(c, p, n, now);
}

static void resume_slow(worker_t *w, double now)
{
    for (int i = 0; i < w->n_slow; i++) {
        client_t *c = &w->clients[w->slow[i]];
        if (c->paused && c->fd >= 0 && now >= c->resume_at) {
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)w->slow[i]};
            epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
            c->paused = false;
        }
    }
}

static void snapshot(worker_t *w, bool at_end, double now)
{
    for (int i = w->first; i < w->first + w->n_mine; i++) {
        client_t *c = &w->clients[i];
        if (at_end) {
            if (c->state != CL_CLOSED)
                c->bytes_at_end = c->bytes;
            c->lag_at_end = client_lag(c, now);
        } else {
            c->in_window = c->state == CL_BODY;
            c->bytes_at_window = c->bytes;
            c->lag_at_window = client_lag(c, now);
        }
    }
}

static void rotate_lag_buckets(worker_t *w)
{
    for (int i = w->first; i < w->first + w->n_mine; i++) {
        w->clients[i].lag_min[1] = w->clients[i].lag_min[0];
        w->clients[i].lag_min[0] = INFINITY;
    }
}

static void *worker_run(void *arg)
{
    worker_t *w = arg;
    const options_t *o = w->opt;

    if (o->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(o->cpu + w->id, &set);
        pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    }

    const double t_window = w->t0 + o->ramp + o->settle, t_end = t_window + o->duration;
    bool window_open = false;
    double next_rotate = w->t0 + 1.0;
    struct epoll_event events[MAX_EVENTS];
    double now = bench_now();

    while (now < t_end) {
        /* Connect on schedule: by time t, n_mine * t / ramp of them. */
        int due = o->ramp > 0 && now < w->t0 + o->ramp ? (int)(w->n_mine * ((now - w->t0) / o->ramp)) : w->n_mine;
        for (int made = 0; w->next_connect < due && made < CONNECT_BURST; made++)
            client_connect(w, w->first + w->next_connect++);

        if (!window_open && now >= t_window) {
            snapshot(w, false, now);
            w->window_start = now;
            window_open = true;
        }
        if (w->n_slow)
            resume_slow(w, now);
        if (now >= next_rotate) {
            rotate_lag_buckets(w);
            next_rotate = now + 1.0;
        }

        /* Sleep no further than the next thing to do, so the window edges are
           snapshotted on time. */
        double until = window_open ? t_end : t_window;
        if (w->next_connect < w->n_mine || w->n_slow)
            until = now + 0.001;
        int timeout_ms = (int)ceil((until - now) * 1000.0);
        if (timeout_ms > 100)
            timeout_ms = 100;

        int n = epoll_wait(w->ep, events, MAX_EVENTS, timeout_ms < 0 ? 0 : timeout_ms);
        now = bench_now();
        for (int i = 0; i < n; i++) {
            int idx = (int)events[i].data.u32;
            client_t *c = &w->clients[idx];
            if (c->state == CL_CONNECTING)
                on_connected(w, c, idx);
            else if (c->state == CL_HEAD || c->state == CL_BODY)
                on_readable(w, c, idx, now, events[i].events);
        }
    }
    if (!window_open) { /* duration 0: an empty window */
        snapshot(w, false, now);
        w->window_start = now;
    }
    snapshot(w, true, now);
    w->window_end = now;
    for (int i = w->first; i < w->first + w->n_mine; i++) {
        client_t *c = &w->clients[i];
        if (c->fd >= 0)
            close(c->fd);
    }
    return NULL;
}

/* ---- server sampling --------------------------------------------------- */

typedef struct {
    bool ok;
    double cpu_s; /* utime + stime of all its threads */
    long rss_kib;
} proc_sample_t;

static proc_sample_t proc_sample(int pid)
{
    proc_sample_t s = {0};
    char path[64], text[4096];
    if (pid <= 0)
        return s;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return s;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    /* The command name may hold spaces and ')': fields are counted from the last ')'. */
    const char *p = strrchr(text, ')');
    unsigned long long utime, stime;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return s;
    s.cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return s;
    while (fgets(text, sizeof(text), f))
        if (sscanf(text, "VmRSS: %ld kB", &s.rss_kib) == 1)
            break;
    fclose(f);
    s.ok = true;
    return s;
}

/* CPU time of this process, all threads. */
static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static void sleep_until(double t)
{
    for (double now = bench_now(); now < t; now = bench_now()) {
        double d = t - now;
        struct timespec ts = {.tv_sec = (time_t)d, .tv_nsec = (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* ---- summary ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v. */
static double pct(const double *v, int n, double q)
{
    if (n == 0)
        return 0;
    int i = (int)ceil(q * n) - 1;
    return v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

typedef struct {
    int total, connected, failed_connect, failed_http, failed_head, pending, late, dropped, kept_up;
    int with_errors, pid_overflow, no_pcr;
    uint64_t cc_errors, sync_errors;
    int n_rates;
    double *rates; /* bit/s over the window, clients that were in it */
    int n_clock;
    double *clock; /* stream time / wall time over the window, the same clients that had a PCR */
} group_t;

static void group_add(group_t *g, const client_t *c, double window, double expect_bps)
{
    g->total++;
    if (c->status == 200)
        g->connected++;
    switch (c->end) {
    case END_CONNECT: g->failed_connect++; break;
    case END_HTTP: g->failed_http++; break;
    case END_HEAD: g->failed_head++; break;
    case END_DROPPED: g->dropped++; break;
    default:
        if (c->state != CL_BODY)
            g->pending++;
    }
    g->cc_errors += c->cc_errors;
    g->sync_errors += c->sync_errors;
    g->with_errors += c->cc_errors || c->sync_errors;
    g->pid_overflow += c->pid_overflow;
    if (c->status == 200 && !c->in_window)
        g->late++;
    if (!c->in_window || window <= 0)
        return;
    double bps = (double)(c->bytes_at_end - c->bytes_at_window) * 8.0 / window;
    g->rates[g->n_rates++] = bps;
    bool ok = c->end == END_NONE && !c->cc_errors && !c->sync_errors;
    if (!c->have_pcr) {
        g->no_pcr++;
        ok = ok && expect_bps > 0; /* nothing else to judge by */
    } else if (c->end == END_NONE) {
        /* Stream time gained per second: 1 minus the lag added per second. */
        double clock = 1.0 - (c->lag_at_end - c->lag_at_window) / window;
        g->clock[g->n_clock++] = clock;
        ok = ok && clock >= 0.99;
    }
    if (expect_bps > 0)
        ok = ok && bps >= 0.99 * expect_bps;
    g->kept_up += ok;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: loadgen --url http://127.0.0.1:PORT/live/NAME.ts [options]\n"
            "  --clients N             connections (default 100, max %d)\n"
            "  --duration S            measurement window after the ramp (default 10)\n"
            "  --ramp S                spread the connects over S seconds (default 2)\n"
            "  --settle S              wait S more seconds before the window opens (default 1)\n"
            "  --expect-bitrate BPS    also require >= 99%% of BPS to keep up (default: judge by\n"
            "                          the stream clock, PCR, alone)\n"
            "  --slow-readers K        K of the N clients read at --slow-reader-rate (default 0,\n"
            "                          or N/100 when only the rate is given)\n"
            "  --slow-reader-rate BPS  their read rate in bit/s\n"
            "  --threads T             worker threads (default 1)\n"
            "  --cpu C                 pin worker t to CPU C+t\n"
            "  --server-pid PID        sample its CPU time and RSS from /proc around the window\n"
            "Runs ramp + settle + duration seconds, then prints a summary and a RESULT line.\n",
            MAX_CLIENTS);
}

static double parse_num(const char *name, const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "loadgen: %s: '%s' is not a number in [%g, %g]\n", name, s, lo, hi);
        exit(1);
    }
    return v;
}

static void parse_options(options_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"clients", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'},
        {"ramp", required_argument, NULL, 'r'},
        {"settle", required_argument, NULL, 'e'},
        {"expect-bitrate", required_argument, NULL, 'b'},
        {"slow-readers", required_argument, NULL, 'k'},
        {"slow-reader-rate", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"cpu", required_argument, NULL, 'c'},
        {"server-pid", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    *o = (options_t){.clients = 100, .threads = 1, .duration = 10, .ramp = 2, .settle = 1, .slow_readers = -1, .cpu = -1};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u': o->url_text = optarg; break;
        case 'n': o->clients = (int)parse_num("--clients", optarg, 1, MAX_CLIENTS); break;
        case 'd': o->duration = parse_num("--duration", optarg, 0, 3600); break;
        case 'r': o->ramp = parse_num("--ramp", optarg, 0, 600); break;
        case 'e': o->settle = parse_num("--settle", optarg, 0, 600); break;
        case 'b': o->expect_bps = parse_num("--expect-bitrate", optarg, 0, 1e11); break;
        case 'k': o->slow_readers = (int)parse_num("--slow-readers", optarg, 0, MAX_CLIENTS); break;
        case 's': o->slow_bps = parse_num("--slow-reader-rate", optarg, 1000, 1e11); break;
        case 't': o->threads = (int)parse_num("--threads", optarg, 1, 64); break;
        case 'c': o->cpu = (int)parse_num("--cpu", optarg, 0, CPU_SETSIZE - 1); break;
        case 'p': o->server_pid = (int)parse_num("--server-pid", optarg, 1, 1 << 30); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(1);
        }
    }
    if (!o->url_text || optind != argc) {
        usage(stderr);
        exit(1);
    }
    char err[512];
    if (bench_url_parse(&o->url, o->url_text, err, sizeof(err)) < 0) {
        fprintf(stderr, "loadgen: %s\n", err);
        exit(1);
    }
    if (o->slow_readers < 0)
        o->slow_readers = o->slow_bps > 0 ? o->clients / 100 : 0;
    if (o->slow_readers > o->clients)
        o->slow_readers = o->clients;
    if (o->slow_readers > 0 && o->slow_bps <= 0) {
        fprintf(stderr, "loadgen: --slow-readers needs --slow-reader-rate\n");
        exit(1);
    }
    if (o->threads > o->clients)
        o->threads = o->clients;
}

/* Each connection is a descriptor: ask for the hard limit, which is what
   10 000 clients need on a default system (soft 1024). */
static void raise_nofile(int clients)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)clients + 64)
        fprintf(stderr, "loadgen: warning: RLIMIT_NOFILE is %llu, some of %d connects will fail\n",
                (unsigned long long)rl.rlim_cur, clients);
}

static void print_group(const char *label, const group_t *g, double expect_bps)
{
    printf("%-13s %d clients: %d connected, failed %d (connect %d, http %d, head %d), "
           "still connecting %d, late %d, dropped by server %d\n",
           label, g->total, g->connected, g->failed_connect + g->failed_http + g->failed_head, g->failed_connect,
           g->failed_http, g->failed_head, g->pending, g->late, g->dropped);
    if (g->n_rates)
        printf("%-13s per-client Mbit/s over the window: min %.3f  p10 %.3f  median %.3f  max %.3f  (n=%d)\n", "",
               pct(g->rates, g->n_rates, 0) / 1e6, pct(g->rates, g->n_rates, 0.10) / 1e6,
               pct(g->rates, g->n_rates, 0.5) / 1e6, pct(g->rates, g->n_rates, 1) / 1e6, g->n_rates);
    if (g->n_clock)
        printf("%-13s stream clock (PCR) / wall clock over the window: min %.4f  p10 %.4f  median %.4f  (n=%d)\n", "",
               pct(g->clock, g->n_clock, 0), pct(g->clock, g->n_clock, 0.10), pct(g->clock, g->n_clock, 0.5),
               g->n_clock);
    if (g->no_pcr)
        printf("%-13s %d clients saw no PCR: only --expect-bitrate can judge them\n", "", g->no_pcr);
    char rate[64] = "";
    if (expect_bps > 0)
        snprintf(rate, sizeof(rate), ", >= 99%% of %.3f Mbit/s", expect_bps / 1e6);
    printf("%-13s kept up: %d of %d (%.2f %%): stream clock >= 99%% of wall clock%s, no CC or sync error\n", "",
           g->kept_up, g->total, g->total ? 100.0 * g->kept_up / g->total : 0.0, rate);
    printf("%-13s errors: CC %llu, sync %llu, clients with errors %d%s\n", "", (unsigned long long)g->cc_errors,
           (unsigned long long)g->sync_errors, g->with_errors,
           g->pid_overflow ? " (some clients saw more PIDs than tracked)" : "");
}

int main(int argc, char **argv)
{
    options_t o;
    parse_options(&o, argc, argv);
    raise_nofile(o.clients);
    signal(SIGPIPE, SIG_IGN);

    client_t *clients = calloc((size_t)o.clients, sizeof(*clients));
    worker_t *workers = calloc((size_t)o.threads, sizeof(*workers));
    int *slow_idx = calloc((size_t)o.clients, sizeof(int));
    if (!clients || !workers || !slow_idx) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 2;
    }
    for (int i = 0; i < o.clients; i++) {
        clients[i].fd = -1;
        clients[i].lag_min[0] = clients[i].lag_min[1] = INFINITY;
        /* K slow readers spread evenly over the N, so they connect throughout the ramp. */
        clients[i].slow = (long long)i * o.slow_readers / o.clients != (long long)(i + 1) * o.slow_readers / o.clients;
    }

    const double t0 = bench_now();
    int *next_slow = slow_idx;
    for (int t = 0; t < o.threads; t++) {
        worker_t *w = &workers[t];
        int first = (int)((long long)o.clients * t / o.threads), end = (int)((long long)o.clients * (t + 1) / o.threads);
        *w = (worker_t){.opt = &o, .id = t, .clients = clients, .first = first, .n_mine = end - first,
                        .slow = next_slow, .t0 = t0};
        for (int i = first; i < end; i++)
            if (clients[i].slow)
                w->slow[w->n_slow++] = i;
        next_slow += w->n_slow;
        w->request_len = bench_request(&o.url, "antenne-loadgen", w->request, sizeof(w->request));
        w->buf = malloc(READ_BUF);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        if (w->request_len < 0 || !w->buf || w->ep < 0) {
            fprintf(stderr, "loadgen: worker setup failed: %s\n", strerror(errno));
            return 2;
        }
    }

    proc_sample_t s0 = proc_sample(o.server_pid);
    pthread_t tids[64];
    for (int t = 0; t < o.threads; t++) {
        int rc = pthread_create(&tids[t], NULL, worker_run, &workers[t]);
        if (rc != 0) {
            fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(rc));
            return 2;
        }
    }
    sleep_until(t0 + o.ramp + o.settle);
    proc_sample_t s1 = proc_sample(o.server_pid);
    double lg_cpu0 = self_cpu();
    sleep_until(t0 + o.ramp + o.settle + o.duration);
    proc_sample_t s2 = proc_sample(o.server_pid);
    double lg_cpu = self_cpu() - lg_cpu0;
    for (int t = 0; t < o.threads; t++)
        pthread_join(tids[t], NULL);

    /* Per-worker windows differ by at most one loop pass; rates use each
       worker's own, the aggregate adds the per-worker rates. */
    group_t normal = {.rates = calloc((size_t)o.clients, sizeof(double)),
                      .clock = calloc((size_t)o.clients, sizeof(double))};
    group_t slow = {.rates = calloc((size_t)o.clients, sizeof(double)),
                    .clock = calloc((size_t)o.clients, sizeof(double))};
    if (!normal.rates || !normal.clock || !slow.rates || !slow.clock) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 2;
    }
    uint64_t total_bytes = 0, window_bytes = 0;
    double agg_bps = 0, window_s = 0;
    for (int t = 0; t < o.threads; t++) {
        worker_t *w = &workers[t];
        double win = w->window_end - w->window_start;
        uint64_t wb = 0;
        for (int i = w->first; i < w->first + w->n_mine; i++) {
            const client_t *c = &clients[i];
            group_add(c->slow ? &slow : &normal, c, win, o.expect_bps);
            total_bytes += c->bytes;
            wb += c->bytes_at_end - c->bytes_at_window;
        }
        window_bytes += wb;
        agg_bps += win > 0 ? (double)wb * 8.0 / win : 0;
        window_s += win / o.threads;
        close(w->ep);
        free(w->buf);
    }
    qsort(normal.rates, (size_t)normal.n_rates, sizeof(double), cmp_double);
    qsort(slow.rates, (size_t)slow.n_rates, sizeof(double), cmp_double);
    qsort(normal.clock, (size_t)normal.n_clock, sizeof(double), cmp_double);
    qsort(slow.clock, (size_t)slow.n_clock, sizeof(double), cmp_double);


    printf("loadgen: %s, %d clients (%d slow at %.0f bit/s), %d thread(s), ramp %.1f s + settle %.1f s, window %.2f s\n",
           o.url_text, o.clients, o.slow_readers, o.slow_bps, o.threads, o.ramp, o.settle, window_s);
    print_group("viewers", &normal, o.expect_bps);
    if (o.slow_readers)
        print_group("slow readers", &slow, 0);
    printf("%-13s %.3f Gbit/s aggregate over the window (%.1f MB in it, %.1f MB in all)\n", "throughput", agg_bps / 1e9,
           (double)window_bytes / 1e6, (double)total_bytes / 1e6);
    /* Near 100 % per thread, loadgen rather than the server may be the limit. */
    printf("%-13s loadgen CPU %.2f s in the window (%.0f %% of one core)\n", "", lg_cpu,
           window_s > 0 ? 100.0 * lg_cpu / window_s : 0);
    bool server = s0.ok && s1.ok && s2.ok;
    double srv_cpu = s2.cpu_s - s1.cpu_s, gbit = (double)window_bytes * 8.0 / 1e9;
    if (server)
        printf("%-13s CPU %.2f s in the window (%.3f CPU-s per delivered Gbit), RSS %ld -> %ld KiB "
               "(%.1f KiB per connected viewer)\n",
               "server", srv_cpu, gbit > 0 ? srv_cpu / gbit : 0, s0.rss_kib, s2.rss_kib,
               normal.connected + slow.connected ? (double)(s2.rss_kib - s0.rss_kib) / (normal.connected + slow.connected)
                                                 : 0);
    else if (o.server_pid)
        printf("%-13s could not read /proc/%d (did it exit?)\n", "server", o.server_pid);

    int all_failed = normal.failed_connect + normal.failed_http + normal.failed_head + slow.failed_connect +
                     slow.failed_http + slow.failed_head;
    printf("RESULT clients=%d connected=%d failed=%d pending=%d late=%d dropped=%d window_s=%.3f bytes=%llu "
           "window_bytes=%llu gbps=%.4f client_mbps_min=%.4f client_mbps_p10=%.4f client_mbps_median=%.4f "
           "client_mbps_max=%.4f",
           o.clients, normal.connected + slow.connected, all_failed, normal.pending + slow.pending,
           normal.late + slow.late, normal.dropped, window_s, (unsigned long long)total_bytes,
           (unsigned long long)window_bytes, agg_bps / 1e9, pct(normal.rates, normal.n_rates, 0) / 1e6,
           pct(normal.rates, normal.n_rates, 0.1) / 1e6, pct(normal.rates, normal.n_rates, 0.5) / 1e6,
           pct(normal.rates, normal.n_rates, 1) / 1e6);
    printf(" clock_min=%.4f clock_median=%.4f kept_up=%d kept_up_share=%.4f", pct(normal.clock, normal.n_clock, 0),
           pct(normal.clock, normal.n_clock, 0.5), normal.kept_up,
           normal.total ? (double)normal.kept_up / normal.total : 0);
    printf(" cc_errors=%llu sync_errors=%llu slow=%d slow_dropped=%d slow_cc_errors=%llu loadgen_cpu_s=%.3f",
           (unsigned long long)normal.cc_errors, (unsigned long long)normal.sync_errors, slow.total, slow.dropped,
           (unsigned long long)slow.cc_errors, lg_cpu);
    if (server)
        printf(" server_cpu_s=%.3f server_cpu_s_per_gbit=%.4f server_rss0_kib=%ld server_rss_kib=%ld", srv_cpu,
               gbit > 0 ? srv_cpu / gbit : 0, s0.rss_kib, s2.rss_kib);
    printf("\n");

    free(normal.rates);
    free(normal.clock);
    free(slow.rates);
    free(slow.clock);
    free(slow_idx);
    free(workers);
    free(clients);
    return normal.connected + slow.connected > 0 ? 0 : 1;
}
