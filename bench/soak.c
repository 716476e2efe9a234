// SPDX-License-Identifier: MIT
// soak.c -- soak load for antenne: UDP sources that fail on a schedule, and HTTP-TS viewers that come and go
//
// One single-threaded epoll loop does both sides of bench/soak.sh, so the
// client side costs little on a small machine:
//
//   Feeding. Each channel has a primary and a backup UDP source on
//   127.0.0.1. Both play one MPEG-TS file (a constant-rate mux) in real time,
//   paced by packet index at the file's own PCR rate, a few packets per
//   datagram; the backup starts half a file later, so a switch is a real
//   jump in the timeline. When the file loops, every PID's continuity
//   counter and every PCR, PTS and DTS carry on from the previous loop, so
//   the input is one continuous stream with no CC error and no time jump.
//   All datagrams due at a tick go out in one sendmmsg.
//
//   Outages. Every --outage-every seconds the primary of the next channel
//   (round robin) goes silent for --outage-s seconds: its datagrams are
//   built (counters and timestamps keep running, as on a live source whose
//   link dropped) but not sent. The backup is fed all the time.
//
//   Viewers. Up to --viewers connections at once, each to a random channel
//   (GET /live/NAME.ts), each closing after a random stay in
//   [--stay-min, --stay-max] seconds; a leaving viewer is replaced at once.
//   Every body byte is checked: TS sync (bench.h's framer) and continuity
//   per PID, where a packet with the adaptation field's
//   discontinuity_indicator may restart the counter (antenne sets it after a
//   source switch). Errors go to --error-log with the wall-clock time, so
//   soak.sh can tell those that follow a loss on the input from the server's.
//
// Phases. The run is a list of active phases (--phase S, repeated), with a
// checkpoint before the first, between two and after the last. At a
// checkpoint no viewer is connected and no outage is under way (none starts
// unless it and the failback after it fit in the phase); the feeding goes
// on. soak.c prints "CHECKPOINT n" and waits for SIGUSR1 before going on
// (at most --checkpoint-timeout seconds): soak.sh measures the server there.
// After the last checkpoint it prints its totals and a RESULT line. A STALL
// line says when the feeder itself was late (a busy machine), so that a
// failover it caused is not taken for the schedule's.
#ifndef _GNU_SOURCE /* the project passes -D_GNU_SOURCE; a standalone build does not */
#define _GNU_SOURCE
#endif
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    MAX_CHANNELS = 100,
    MAX_VIEWERS = 10000,
    MAX_PHASES = 8,
    MAX_DATAGRAM_PACKETS = 7, /* 1316 bytes: fits a 1500-byte MTU */
    SEND_BATCH = 64,
    READ_BUF = 64 * 1024,
    MAX_EVENTS = 256,
    PID_SLOTS = 16,
    ERROR_LOG_MAX = 100000, /* lines; the counters go on beyond it */
    CC_UNSEEN = 0xFF,
};

static const double TICK_S = 0.002;       /* feeding granularity */
static const double GAP_S = 2.0;          /* a gap between reads this long is counted */
static const double FEED_STALL_S = 0.2;   /* the feeder this late is reported (a STALL line) */
static const double OUTAGE_MARGIN_S = 5;  /* after outage + failback, before the phase ends */
static const int64_t PCR_WRAP = (INT64_C(1) << 33) * 300;
static const int64_t PTS_WRAP = INT64_C(1) << 33;

/* ---- media ---------------------------------------------------------------- */

/* The file in memory and its timing: a constant-rate mux, so packet k of the
   file is due k * ticks_per_packet (27 MHz) after the first. */
typedef struct {
    uint8_t *data;
    size_t packets;
    double ticks_per_packet;
    int64_t loop_ticks; /* 27 MHz: how much the timestamps advance per loop */
} media_t;

static int media_load(media_t *m, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    m->packets = (size_t)st.st_size / TS_SIZE;
    m->data = malloc(m->packets * TS_SIZE + 1);
    size_t got = m->data ? fread(m->data, TS_SIZE, m->packets, f) : 0;
    fclose(f);
    if (m->packets < 2 || got != m->packets) {
        snprintf(err, err_len, "%s: cannot read %zu TS packets", path, m->packets);
        return -1;
    }
    /* The rate comes from the first and the last PCR of the first PCR PID. */
    int64_t pcr0 = -1, pcr1 = -1;
    size_t i0 = 0, i1 = 0;
    unsigned pcr_pid = TS_PID_NULL;
    for (size_t i = 0; i < m->packets; i++) {
        const uint8_t *p = m->data + i * TS_SIZE;
        if (p[0] != TS_SYNC) {
            snprintf(err, err_len, "%s: no sync byte at packet %zu", path, i);
            return -1;
        }
        int64_t pcr = ts_pcr(p);
        if (pcr < 0 || (pcr_pid != TS_PID_NULL && ts_pid(p) != pcr_pid))
            continue;
        if (pcr0 < 0) {
            pcr0 = pcr;
            i0 = i;
            pcr_pid = ts_pid(p);
        } else {
            pcr1 = pcr;
            i1 = i;
        }
    }
    if (pcr1 <= pcr0 || i1 <= i0) {
        snprintf(err, err_len, "%s: needs at least two increasing PCRs to learn its rate", path);
        return -1;
    }
    m->ticks_per_packet = (double)(pcr1 - pcr0) / (double)(i1 - i0);
    m->loop_ticks = llround(m->ticks_per_packet * (double)m->packets);
    return 0;
}

/* ---- feeding ---------------------------------------------------------------- */

typedef struct {
    int port;
    size_t offset;  /* where in the file it started */
    uint64_t next;  /* its next packet, counted from its start */
    double t0;      /* when its packet 0 was due */
    bool silent;
    uint64_t sent, withheld; /* datagrams */
    struct sockaddr_in addr;
    uint8_t cc[8192]; /* last continuity counter sent per PID */
} feed_t;

/* Adds ticks (90 kHz) to the 33-bit timestamp at p (13818-1 2.4.3.7: 4 bits, 3 + marker, 15 + marker, 15 + marker). */
static void pes_ts_add(uint8_t *p, int64_t ticks)
{
    int64_t ts = ((int64_t)(p[0] & 0x0E) << 29) | ((int64_t)p[1] << 22) | ((int64_t)(p[2] & 0xFE) << 14) |
                 ((int64_t)p[3] << 7) | (p[4] >> 1);
    ts = (ts + ticks) % PTS_WRAP;
    p[0] = (uint8_t)((p[0] & 0xF1) | ((ts >> 29) & 0x0E));
    p[1] = (uint8_t)(ts >> 22);
    p[2] = (uint8_t)(((ts >> 14) & 0xFE) | 1);
    p[3] = (uint8_t)(ts >> 7);
    p[4] = (uint8_t)(((ts << 1) & 0xFE) | 1);
}

/* Shifts a packet's PCR and PES timestamps by loop * loop_ticks, so the
   file's next loop continues its timeline. */
static void retime_packet(uint8_t *p, int64_t pcr_add)
{
    if (ts_pcr(p) >= 0) { /* 2.4.3.5: 33-bit base at 90 kHz, 6 reserved bits, 9-bit extension */
        int64_t pcr = (ts_pcr(p) + pcr_add) % PCR_WRAP, base = pcr / 300, ext = pcr % 300;
        p[6] = (uint8_t)(base >> 25);
        p[7] = (uint8_t)(base >> 17);
        p[8] = (uint8_t)(base >> 9);
        p[9] = (uint8_t)(base >> 1);
        p[10] = (uint8_t)(((base & 1) << 7) | 0x7E | (ext >> 8));
        p[11] = (uint8_t)ext;
    }
    size_t n = 0;
    uint8_t *pl = ts_pusi(p) ? (uint8_t *)ts_payload(p, &n) : NULL;
    if (!pl || n < 14 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1)
        return;
    /* Streams without the optional PES header (2.4.3.7, table 2-22). */
    uint8_t sid = pl[3];
    if (sid == 0xBC || sid == 0xBE || sid == 0xBF || sid == 0xF0 || sid == 0xF1 || sid == 0xFF || sid == 0xF2 ||
        sid == 0xF8)
        return;
    unsigned flags = pl[7] >> 6;
    int64_t pts_add = pcr_add / 300;
    if (flags & 2)
        pes_ts_add(pl + 9, pts_add);
    if (flags == 3 && n >= 19)
        pes_ts_add(pl + 14, pts_add);
}

/* Copies the feed's next packet into out: continuity counters continue
   across the loop (2.4.3.3: they advance only on packets with payload), and
   from the second loop on the timestamps are shifted. */
static void feed_packet(feed_t *f, const media_t *m, uint8_t *out)
{
    uint64_t abs = f->offset + f->next++;
    uint64_t loop = abs / m->packets;
    memcpy(out, m->data + (abs % m->packets) * TS_SIZE, TS_SIZE);
    unsigned pid = ts_pid(out);
    if (pid == TS_PID_NULL)
        return;
    if (f->cc[pid] != CC_UNSEEN) {
        unsigned cc = ts_has_payload(out) ? (f->cc[pid] + 1u) & 0x0Fu : f->cc[pid];
        out[3] = (uint8_t)((out[3] & 0xF0) | cc);
    }
    f->cc[pid] = (uint8_t)ts_cc(out);
    if (loop > 0)
        retime_packet(out, (int64_t)((loop * (uint64_t)m->loop_ticks) % (uint64_t)PCR_WRAP));
}

typedef struct {
    int fd;
    struct mmsghdr msgs[SEND_BATCH];
    struct iovec iov[SEND_BATCH];
    uint8_t bufs[SEND_BATCH][MAX_DATAGRAM_PACKETS * TS_SIZE];
    unsigned count;
    uint64_t errors;
} sender_t;

static void sender_flush(sender_t *s)
{
    unsigned done = 0;
    while (done < s->count) {
        int n = sendmmsg(s->fd, s->msgs + done, s->count - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* the first of the rest failed: drop it, try the others */
            s->errors++;
            n = 1;
        }
        done += (unsigned)n;
    }
    s->count = 0;
}

/* ---- viewers ------------------------------------------------------------------ */

enum viewer_state { V_FREE, V_CONNECTING, V_HEAD, V_BODY };

typedef struct {
    uint16_t pid;
    uint8_t cc;
    bool seen;
    bool dup;     /* the last packet repeated the one before (allowed once, 2.4.3.3) */
    bool restart; /* a discontinuity_indicator came on a packet without payload */
} pid_cc_t;

typedef struct soak soak_t;

typedef struct {
    soak_t *soak; /* for the error log, from the packet callback */
    int fd;
    uint8_t state;
    uint16_t channel;
    uint32_t id;
    double started, leave_at, first_byte, last_read, max_gap;
    uint64_t bytes;
    uint32_t cc_errors, sync_errors, discontinuities;
    bench_http_head_t head;
    ts_framer_t framer;
    pid_cc_t pids[PID_SLOTS];
} viewer_t;

/* ---- the run ---------------------------------------------------------------- */

typedef struct {
    const char *server_text;
    bench_url_t server;
    const char *media_path;
    const char *prefix;
    int channels;
    int ports[2 * MAX_CHANNELS];
    int n_ports;
    int viewers;
    double stay_min, stay_max;
    double phases[MAX_PHASES];
    int n_phases;
    double outage_every, outage_s, failback_s;
    double checkpoint_timeout;
    int datagram_packets;
    const char *error_log;
    uint64_t seed;
} options_t;

typedef struct {
    uint64_t started, completed, failed_connect, failed_http, dropped, empty;
    uint64_t bytes, cc_errors, sync_errors, discontinuities, with_discontinuity, with_errors, long_gaps;
    double max_gap, ttfb_sum, ttfb_max;
    uint64_t ttfb_n;
} totals_t;

struct soak {
    const options_t *opt;
    media_t media;
    feed_t *feeds; /* 2 per channel: primary, backup */
    int n_feeds;
    sender_t *sender;
    viewer_t *viewers;
    int ep;
    uint8_t *buf;
    uint64_t rng;
    uint32_t next_viewer_id;
    totals_t tot;
    FILE *errlog;
    uint64_t errlog_lines;
    /* outages */
    int next_outage_channel;
    uint64_t outages;
    int outage_channel; /* -1: none under way */
    double outage_end;
    int64_t outage_start_ms;
    /* feeder timing: on a busy machine the feeder itself may not get the CPU
       in time, and the server then sees silence it did not cause */
    double max_lateness;
    uint64_t late_datagrams; /* sent more than 100 ms after due */
    uint64_t feed_stalls;    /* episodes of more than FEED_STALL_S */
    double stall_reported;
};

static volatile sig_atomic_t go_signal;

static void on_usr1(int sig)
{
    (void)sig;
    go_signal = 1;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: a fixed seed gives the same run of choices. */
static double rnd(soak_t *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (double)((s->rng * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static void channel_name(const soak_t *s, int ch, char *out, size_t len)
{
    snprintf(out, len, "%s%02d", s->opt->prefix, ch + 1);
}

static void log_error(soak_t *s, const viewer_t *v, const char *kind, unsigned pid, unsigned want, unsigned got)
{
    if (!s->errlog || s->errlog_lines >= ERROR_LOG_MAX)
        return;
    char name[80];
    channel_name(s, v->channel, name, sizeof(name));
    fprintf(s->errlog, "%lld %s %u %s pid=%u expected=%u got=%u\n", (long long)wall_ms(), name, v->id, kind, pid, want,
            got);
    s->errlog_lines++;
}

/* ---- feeding and outages ------------------------------------------------------ */

static void feed_tick(soak_t *s, double now)
{
    const double dt = s->opt->datagram_packets * s->media.ticks_per_packet / 27e6;
    for (int i = 0; i < s->n_feeds; i++) {
        feed_t *f = &s->feeds[i];
        for (;;) {
            double due = f->t0 + (double)(f->next / (uint64_t)s->opt->datagram_packets) * dt;
            if (due > now)
                break;
            if (now - due > s->max_lateness)
                s->max_lateness = now - due;
            if (now - due > FEED_STALL_S && now - s->stall_reported > 1.0) {
                s->stall_reported = now;
                s->feed_stalls++;
                printf("STALL at_ms=%lld late_ms=%.0f\n", (long long)wall_ms(), (now - due) * 1e3);
                fflush(stdout);
            }
            sender_t *snd = s->sender;
            uint8_t *out = snd->bufs[snd->count];
            for (int k = 0; k < s->opt->datagram_packets; k++)
                feed_packet(f, &s->media, out + k * TS_SIZE);
            if (f->silent) {
                f->withheld++;
                continue;
            }
            s->late_datagrams += now - due > 0.1;
            f->sent++;
            snd->iov[snd->count] = (struct iovec){out, (size_t)s->opt->datagram_packets * TS_SIZE};
            snd->msgs[snd->count].msg_hdr = (struct msghdr){.msg_name = &f->addr,
                                                            .msg_namelen = sizeof(f->addr),
                                                            .msg_iov = &snd->iov[snd->count],
                                                            .msg_iovlen = 1};
            if (++snd->count == SEND_BATCH)
                sender_flush(snd);
        }
    }
    sender_flush(s->sender);
}

static void outage_end(soak_t *s)
{
    if (s->outage_channel < 0)
        return;
    char name[80];
    channel_name(s, s->outage_channel, name, sizeof(name));
    s->feeds[2 * s->outage_channel].silent = false;
    printf("OUTAGE channel=%s port=%d silent_ms=%lld back_ms=%lld\n", name, s->feeds[2 * s->outage_channel].port,
           (long long)s->outage_start_ms, (long long)wall_ms());
    fflush(stdout);
    s->outage_channel = -1;
}

/* Starts the next outage when it is due and it, plus the failback after it,
   ends before the phase does. One at a time. */
static void outage_tick(soak_t *s, double now, double *next_at, double phase_end)
{
    const options_t *o = s->opt;
    if (s->outage_channel >= 0 && now >= s->outage_end)
        outage_end(s);
    if (s->outage_channel >= 0 || now < *next_at || o->outage_every <= 0)
        return;
    *next_at += o->outage_every;
    if (now + o->outage_s + o->failback_s + OUTAGE_MARGIN_S > phase_end)
        return;
    s->outage_channel = s->next_outage_channel;
    s->next_outage_channel = (s->next_outage_channel + 1) % o->channels;
    s->feeds[2 * s->outage_channel].silent = true;
    s->outage_end = now + o->outage_s;
    s->outage_start_ms = wall_ms();
    s->outages++;
}

/* ---- viewers ----------------------------------------------------------------- */

static void check_packet(void *ctx, const uint8_t *p)
{
    viewer_t *v = ctx;
    unsigned pid = ts_pid(p);
    /* While the framer hunts for sync the "packets" may be garbage: the sync
       loss is already counted. */
    if (pid == TS_PID_NULL || v->framer.lost)
        return;
    pid_cc_t *slot = NULL;
    for (int i = 0; i < PID_SLOTS && !slot; i++)
        if (!v->pids[i].seen || v->pids[i].pid == pid)
            slot = &v->pids[i];
    if (!slot)
        return;
    /* The indicator may come on an adaptation-only packet (antenne marks a
       PID's first packet with an adaptation field after a switch): then the
       counter may restart on the next packet with payload. */
    bool discontinuity = ts_af_flags(p) & TS_AF_DISCONTINUITY;
    v->discontinuities += discontinuity;
    if (!ts_has_payload(p)) {
        if (slot->seen) /* (a PID not seen yet has no counter to restart) */
            slot->restart |= discontinuity;
        return;
    }
    unsigned cc = ts_cc(p);
    bool dup = false;
    if (slot->seen && !discontinuity && !slot->restart) {
        dup = cc == slot->cc && !slot->dup;
        if (cc != ((slot->cc + 1u) & 0x0Fu) && !dup) {
            v->cc_errors++;
            log_error(v->soak, v, "cc", pid, (slot->cc + 1u) & 0x0Fu, cc);
        }
    }
    slot->dup = dup;
    slot->restart = false;
    slot->pid = (uint16_t)pid;
    slot->cc = (uint8_t)cc;
    slot->seen = true;
}

static void viewer_close(soak_t *s, viewer_t *v, double now, bool early)
{
    epoll_ctl(s->ep, EPOLL_CTL_DEL, v->fd, NULL);
    close(v->fd);
    totals_t *t = &s->tot;
    if (v->state == V_CONNECTING)
        t->failed_connect++;
    else if (v->state == V_HEAD)
        t->failed_http++;
    else if (early)
        t->dropped++;
    else if (v->bytes == 0)
        t->empty++;
    else
        t->completed++;
    if (v->state == V_BODY) {
        double gap = now - v->last_read;
        if (!early && gap > v->max_gap) /* silence up to the leaving counts too */
            v->max_gap = gap;
        if (v->max_gap > t->max_gap)
            t->max_gap = v->max_gap;
        t->long_gaps += v->max_gap >= GAP_S;
        if (v->bytes > 0) {
            double ttfb = v->first_byte - v->started;
            t->ttfb_sum += ttfb;
            t->ttfb_n++;
            if (ttfb > t->ttfb_max)
                t->ttfb_max = ttfb;
        }
    }
    t->bytes += v->bytes;
    t->cc_errors += v->cc_errors;
    t->sync_errors += v->sync_errors;
    t->discontinuities += v->discontinuities;
    t->with_discontinuity += v->discontinuities > 0;
    t->with_errors += v->cc_errors || v->sync_errors;
    v->state = V_FREE;
    v->fd = -1;
}

static void viewer_start(soak_t *s, viewer_t *v, double now, double phase_end)
{
    const options_t *o = s->opt;
    double stay = o->stay_min + rnd(s) * (o->stay_max - o->stay_min);
    if (now + stay > phase_end)
        stay = phase_end - now;
    *v = (viewer_t){.soak = s, .fd = -1, .channel = (uint16_t)(rnd(s) * o->channels), .id = ++s->next_viewer_id,
                    .started = now, .leave_at = now + stay};
    if (v->channel >= o->channels)
        v->channel = (uint16_t)(o->channels - 1);
    s->tot.started++;
    v->fd = socket(o->server.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(v - s->viewers)};
    int rc = v->fd < 0 ? -1 : connect(v->fd, (const struct sockaddr *)&o->server.addr, o->server.addr_len);
    if (v->fd < 0 || (rc < 0 && errno != EINPROGRESS) || epoll_ctl(s->ep, EPOLL_CTL_ADD, v->fd, &ev) < 0) {
        if (v->fd >= 0)
            close(v->fd);
        v->fd = -1;
        s->tot.failed_connect++;
        return;
    }
    v->state = V_CONNECTING;
}

static void viewer_connected(soak_t *s, viewer_t *v, double now)
{
    int err = 0;
    socklen_t len = sizeof(err);
    char path[200], req[1400];
    char name[80];
    channel_name(s, v->channel, name, sizeof(name));
    snprintf(path, sizeof(path), "/live/%s.ts", name);
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: antenne-soak\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                     path, s->opt->server.host);
    if (getsockopt(v->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0 ||
        send(v->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        viewer_close(s, v, now, true);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(v - s->viewers)};
    epoll_ctl(s->ep, EPOLL_CTL_MOD, v->fd, &ev);
    v->state = V_HEAD;
}

static void viewer_readable(soak_t *s, viewer_t *v, double now)
{
    ssize_t r = read(v->fd, s->buf, READ_BUF);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) { /* the server closed it before the viewer left */
        viewer_close(s, v, now, true);
        return;
    }
    const uint8_t *p = s->buf;
    size_t n = (size_t)r;
    if (v->state == V_HEAD) {
        long used = bench_http_head_feed(&v->head, p, n);
        if (used == -1)
            return;
        if (used == -2 || v->head.status != 200) {
            viewer_close(s, v, now, true);
            return;
        }
        v->state = V_BODY;
        v->last_read = now;
        p += used;
        n -= (size_t)used;
        if (n == 0)
            return;
    }
    if (v->bytes == 0)
        v->first_byte = now;
    else if (now - v->last_read > v->max_gap)
        v->max_gap = now - v->last_read;
    v->last_read = now;
    v->bytes += n;
    unsigned losses = ts_framer_feed(&v->framer, p, n, check_packet, v);
    if (losses) {
        v->sync_errors += losses;
        log_error(s, v, "sync", TS_PID_NULL, 0, 0);
        memset(v->pids, 0, sizeof(v->pids)); /* bytes lost or inserted: continuity restarts */
    }
}

/* ---- main loop ----------------------------------------------------------------- */

/* Feeds until SIGUSR1 or the timeout; -1 on the timeout. */
static int checkpoint(soak_t *s, int n)
{
    printf("CHECKPOINT %d\n", n);
    fflush(stdout);
    double deadline = bench_now() + s->opt->checkpoint_timeout;
    while (!go_signal) {
        double now = bench_now();
        if (now > deadline) {
            fprintf(stderr, "soak: no SIGUSR1 within %.0f s of checkpoint %d\n", s->opt->checkpoint_timeout, n);
            return -1;
        }
        feed_tick(s, now);
        struct timespec ts = {0, (long)(TICK_S * 1e9)};
        nanosleep(&ts, NULL);
    }
    go_signal = 0;
    return 0;
}

static void run_phase(soak_t *s, double length)
{
    const options_t *o = s->opt;
    const double start = bench_now(), end = start + length;
    const double ramp = o->stay_min; /* the first viewers come over this long, not all at once */
    double next_outage = start + fmin(o->outage_every / 2, 10);
    struct epoll_event events[MAX_EVENTS];
    int active = 0;
    for (;;) {
        double now = bench_now();
        feed_tick(s, now);
        outage_tick(s, now, &next_outage, end);

        /* Leavers go, newcomers come while a whole minimum stay still fits. */
        int target = now - start >= ramp ? o->viewers : (int)(o->viewers * (now - start) / ramp);
        active = 0;
        for (int i = 0; i < o->viewers; i++) {
            viewer_t *v = &s->viewers[i];
            if (v->state != V_FREE && now >= v->leave_at)
                viewer_close(s, v, now, false);
            active += v->state != V_FREE;
        }
        for (int i = 0; i < o->viewers && active < target && now + o->stay_min <= end; i++) {
            if (s->viewers[i].state == V_FREE) {
                viewer_start(s, &s->viewers[i], now, end);
                active += s->viewers[i].state != V_FREE;
            }
        }
        if (now >= end && active == 0 && s->outage_channel < 0)
            break;

        int n = epoll_wait(s->ep, events, MAX_EVENTS, (int)(TICK_S * 1000));
        now = bench_now();
        for (int i = 0; i < n; i++) {
            viewer_t *v = &s->viewers[events[i].data.u32];
            if (v->state == V_CONNECTING)
                viewer_connected(s, v, now);
            else if (v->state == V_HEAD || v->state == V_BODY)
                viewer_readable(s, v, now);
        }
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: soak --server http://127.0.0.1:PORT --media FILE.ts --ports P1,B1,P2,B2,... [options]\n"
               "  --channels N          channels NAME = PREFIX01.. (default 20); 2N UDP ports, primary then backup\n"
               "  --prefix P            channel name prefix (default soak)\n"
               "  --viewers N           viewers at once (default 60)\n"
               "  --stay-min S / --stay-max S   each viewer's stay, uniform (default 3 / 20)\n"
               "  --phase S             an active phase of S seconds; repeat for more (default one of 60)\n"
               "  --outage-every S      a primary goes silent this often (default 60; 0: never)\n"
               "  --outage-s S          for this long (default 3)\n"
               "  --failback-s S        the server's failback time, to fit outages in a phase (default 5)\n"
               "  --datagram-packets N  TS packets per datagram (default 7)\n"
               "  --checkpoint-timeout S  wait at most S seconds for SIGUSR1 (default 300)\n"
               "  --error-log FILE      one line per viewer error: wall ms, channel, viewer, kind\n"
               "  --seed N              random seed (default 1)\n"
               "Prints CHECKPOINT n before the first phase, between phases and after the last,\n"
               "and waits there for SIGUSR1; OUTAGE lines, STALL lines when the feeder was late by\n"
               "more than 200 ms; at the end totals and a RESULT line.\n");
}

static double parse_num(const char *name, const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "soak: %s: '%s' is not a number in [%g, %g]\n", name, s, lo, hi);
        exit(1);
    }
    return v;
}

static void parse_ports(options_t *o, const char *text)
{
    char *copy = strdup(text), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->n_ports == 2 * MAX_CHANNELS) {
            fprintf(stderr, "soak: --ports: more than %d ports\n", 2 * MAX_CHANNELS);
            exit(1);
        }
        o->ports[o->n_ports++] = (int)parse_num("--ports", t, 1, 65535);
    }
    free(copy);
}

static void parse_options(options_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 'S'},       {"media", required_argument, NULL, 'm'},
        {"ports", required_argument, NULL, 'P'},        {"channels", required_argument, NULL, 'c'},
        {"prefix", required_argument, NULL, 'x'},       {"viewers", required_argument, NULL, 'n'},
        {"stay-min", required_argument, NULL, 'a'},     {"stay-max", required_argument, NULL, 'b'},
        {"phase", required_argument, NULL, 'p'},        {"outage-every", required_argument, NULL, 'e'},
        {"outage-s", required_argument, NULL, 'o'},     {"failback-s", required_argument, NULL, 'f'},
        {"datagram-packets", required_argument, NULL, 'd'}, {"checkpoint-timeout", required_argument, NULL, 't'},
        {"error-log", required_argument, NULL, 'l'},    {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},               {0},
    };
    *o = (options_t){.prefix = "soak", .channels = 20, .viewers = 60, .stay_min = 3, .stay_max = 20,
                     .outage_every = 60, .outage_s = 3, .failback_s = 5, .checkpoint_timeout = 300,
                     .datagram_packets = MAX_DATAGRAM_PACKETS, .seed = 1};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'S': o->server_text = optarg; break;
        case 'm': o->media_path = optarg; break;
        case 'P': parse_ports(o, optarg); break;
        case 'c': o->channels = (int)parse_num("--channels", optarg, 1, MAX_CHANNELS); break;
        case 'x': o->prefix = optarg; break;
        case 'n': o->viewers = (int)parse_num("--viewers", optarg, 0, MAX_VIEWERS); break;
        case 'a': o->stay_min = parse_num("--stay-min", optarg, 0.1, 3600); break;
        case 'b': o->stay_max = parse_num("--stay-max", optarg, 0.1, 3600); break;
        case 'p':
            if (o->n_phases == MAX_PHASES) {
                fprintf(stderr, "soak: at most %d phases\n", MAX_PHASES);
                exit(1);
            }
            o->phases[o->n_phases++] = parse_num("--phase", optarg, 1, 86400);
            break;
        case 'e': o->outage_every = parse_num("--outage-every", optarg, 0, 86400); break;
        case 'o': o->outage_s = parse_num("--outage-s", optarg, 0.1, 600); break;
        case 'f': o->failback_s = parse_num("--failback-s", optarg, 0, 3600); break;
        case 'd': o->datagram_packets = (int)parse_num("--datagram-packets", optarg, 1, MAX_DATAGRAM_PACKETS); break;
        case 't': o->checkpoint_timeout = parse_num("--checkpoint-timeout", optarg, 1, 86400); break;
        case 'l': o->error_log = optarg; break;
        case 's': o->seed = (uint64_t)parse_num("--seed", optarg, 1, 1e15); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(1);
        }
    }
    if (!o->server_text || !o->media_path || optind != argc) {
        usage(stderr);
        exit(1);
    }
    if (o->n_ports != 2 * o->channels) {
        fprintf(stderr, "soak: --ports: %d ports for %d channels (a primary and a backup each)\n", o->n_ports,
                o->channels);
        exit(1);
    }
    if (o->stay_max < o->stay_min) {
        fprintf(stderr, "soak: --stay-max is below --stay-min\n");
        exit(1);
    }
    if (o->n_phases == 0)
        o->phases[o->n_phases++] = 60;
    char err[512];
    if (bench_url_parse(&o->server, o->server_text, err, sizeof(err)) < 0) {
        fprintf(stderr, "soak: %s\n", err);
        exit(1);
    }
}

static void print_totals(const soak_t *s)
{
    const options_t *o = s->opt;
    const totals_t *t = &s->tot;
    uint64_t sent = 0, withheld = 0;
    for (int i = 0; i < s->n_feeds; i++) {
        sent += s->feeds[i].sent;
        withheld += s->feeds[i].withheld;
    }
    double phases = 0;
    for (int i = 0; i < o->n_phases; i++)
        phases += o->phases[i];
    printf("soak: %d channels x (primary + backup), %d packets per datagram, %.3f Mbit/s mux, %d phase(s), %.0f s active\n",
           o->channels, o->datagram_packets, TS_SIZE * 8 * 27.0 / s->media.ticks_per_packet, o->n_phases, phases);
    printf("feeder:  %llu datagrams sent, %llu withheld in %llu outages of %.1f s; send errors %llu; "
           "latest datagram %.1f ms after due, %llu more than 100 ms late, %llu stalls over %.0f ms\n",
           (unsigned long long)sent, (unsigned long long)withheld, (unsigned long long)s->outages, o->outage_s,
           (unsigned long long)s->sender->errors, s->max_lateness * 1e3, (unsigned long long)s->late_datagrams,
           (unsigned long long)s->feed_stalls, FEED_STALL_S * 1e3);
    printf("viewers: %llu sessions: %llu completed, %llu failed to connect, %llu no 200, %llu dropped by the server, "
           "%llu got no bytes\n",
           (unsigned long long)t->started, (unsigned long long)t->completed, (unsigned long long)t->failed_connect,
           (unsigned long long)t->failed_http, (unsigned long long)t->dropped, (unsigned long long)t->empty);
    printf("         %.1f MB received; CC errors %llu, sync errors %llu (sessions with errors %llu); "
           "discontinuity indicators %llu in %llu sessions\n",
           (double)t->bytes / 1e6, (unsigned long long)t->cc_errors, (unsigned long long)t->sync_errors,
           (unsigned long long)t->with_errors, (unsigned long long)t->discontinuities,
           (unsigned long long)t->with_discontinuity);
    printf("         first byte mean %.1f ms, max %.1f ms; longest gap between reads %.2f s; sessions with a gap >= "
           "%.0f s: %llu\n",
           t->ttfb_n ? 1e3 * t->ttfb_sum / (double)t->ttfb_n : 0, 1e3 * t->ttfb_max, t->max_gap, GAP_S,
           (unsigned long long)t->long_gaps);
    printf("RESULT sessions=%llu completed=%llu failed_connect=%llu failed_http=%llu dropped=%llu empty=%llu "
           "bytes=%llu cc_errors=%llu sync_errors=%llu with_errors=%llu discontinuities=%llu with_discontinuity=%llu "
           "max_gap_s=%.3f long_gaps=%llu ttfb_max_ms=%.1f outages=%llu datagrams=%llu withheld=%llu send_errors=%llu "
           "max_lateness_ms=%.1f late_datagrams=%llu feed_stalls=%llu\n",
           (unsigned long long)t->started, (unsigned long long)t->completed, (unsigned long long)t->failed_connect,
           (unsigned long long)t->failed_http, (unsigned long long)t->dropped, (unsigned long long)t->empty,
           (unsigned long long)t->bytes, (unsigned long long)t->cc_errors, (unsigned long long)t->sync_errors,
           (unsigned long long)t->with_errors, (unsigned long long)t->discontinuities,
           (unsigned long long)t->with_discontinuity, t->max_gap, (unsigned long long)t->long_gaps, 1e3 * t->ttfb_max,
           (unsigned long long)s->outages, (unsigned long long)sent, (unsigned long long)withheld,
           (unsigned long long)s->sender->errors, s->max_lateness * 1e3, (unsigned long long)s->late_datagrams,
           (unsigned long long)s->feed_stalls);
}

int main(int argc, char **argv)
{
    options_t o;
    parse_options(&o, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_usr1};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);

    soak_t s = {.opt = &o, .rng = o.seed * UINT64_C(0x9E3779B97F4A7C15) | 1, .outage_channel = -1};
    char err[600];
    if (media_load(&s.media, o.media_path, err, sizeof(err)) < 0) {
        fprintf(stderr, "soak: %s\n", err);
        return 1;
    }
    s.n_feeds = 2 * o.channels;
    s.feeds = calloc((size_t)s.n_feeds, sizeof(*s.feeds));
    s.sender = calloc(1, sizeof(*s.sender));
    s.viewers = calloc((size_t)(o.viewers > 0 ? o.viewers : 1), sizeof(*s.viewers));
    s.buf = malloc(READ_BUF);
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!s.feeds || !s.sender || !s.viewers || !s.buf || s.ep < 0) {
        fprintf(stderr, "soak: setup failed: %s\n", strerror(errno));
        return 2;
    }
    s.sender->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s.sender->fd < 0) {
        fprintf(stderr, "soak: socket: %s\n", strerror(errno));
        return 2;
    }
    if (o.error_log && !(s.errlog = fopen(o.error_log, "w"))) {
        fprintf(stderr, "soak: %s: %s\n", o.error_log, strerror(errno));
        return 1;
    }
    const double t0 = bench_now(), dt = o.datagram_packets * s.media.ticks_per_packet / 27e6;
    for (int i = 0; i < s.n_feeds; i++) {
        feed_t *f = &s.feeds[i];
        f->port = o.ports[i];
        /* Sources only ever go to loopback. */
        f->addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port),
                                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        f->offset = i % 2 ? s.media.packets / 2 : 0; /* the backup plays half a file ahead */
        f->t0 = t0 + dt * i / s.n_feeds;              /* spread the feeds over one datagram's time */
        memset(f->cc, CC_UNSEEN, sizeof(f->cc));
    }
    for (int i = 0; i < o.viewers; i++)
        s.viewers[i].state = V_FREE;

    for (int phase = 0; phase <= o.n_phases; phase++) {
        if (checkpoint(&s, phase) < 0)
            return 1;
        if (phase < o.n_phases)
            run_phase(&s, o.phases[phase]);
    }
    if (s.errlog)
        fclose(s.errlog);
    print_totals(&s);
    close(s.sender->fd);
    close(s.ep);
    free(s.media.data);
    free(s.feeds);
    free(s.sender);
    free(s.viewers);
    free(s.buf);
    return 0;
}
