// SPDX-License-Identifier: MIT
// file.c -- file playout: a channel with no live source. Plays one TS file,
// or every *.ts file of a folder in name order, in a loop, in real time paced
// by the PCR (ISO/IEC 13818-1 2.4.2.2).
//
// Across a loop the output stays one continuous stream: every PCR, PTS and
// DTS of iteration k is shifted by the length of the k previous iterations
// (the longest of its elementary streams, from DTS or PTS plus one frame, so
// no stream overlaps its own next iteration), the
// continuity counters are rewritten to run on, and the first packet of each
// PID after the restart that has an adaptation field carries the
// discontinuity_indicator. Reads run on libuv's thread pool.
#include "ingest/ingest_private.h"
#include "ts/ts.h"

#include <bitstream/mpeg/ts.h>
#include <bitstream/mpeg/pes.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_READ_SIZE (TS_PACKET_SIZE * 1024u)
#define FILE_QUEUE_SIZE (FILE_READ_SIZE * 2u)
#define FILE_TICK_MS 10
#define FILE_RETRY_MS 5000
#define PTS_MASK ((1ull << 33) - 1)
#define PCR_MODULO ((1ull << 33) * 300ull)
#define FILE_TIMED_PIDS 8

typedef struct file_source {
    ingest_source_t base;
    uv_timer_t timer;
    uv_fs_t req;
    bool busy;                 /* a file request is in flight */
    uint64_t retry_at_us;      /* after a failure: when to try again */
    unsigned handles;
    strlist_t files;
    size_t file_index;
    uv_file fd;
    int64_t read_offset;
    bool eof;
    uint64_t file_packets;     /* aligned packets seen in the current file */
    ts_sync_t sync;
    uint8_t readbuf[FILE_READ_SIZE];
    uint8_t queue[FILE_QUEUE_SIZE]; /* aligned packets waiting for their time */
    size_t queue_len;
    size_t queue_pos;

    /* pacing: out_pcr (27 MHz, unwrapped) <-> monotonic microseconds */
    bool clock_started;
    uint64_t clock_us;
    uint64_t clock_pcr;
    uint16_t pcr_pid;
    /* loop continuity */
    uint64_t offset;           /* 27 MHz added to this iteration's timestamps */
    struct file_timing {
        uint16_t pid;
        uint64_t first, last, prev;  /* 90 kHz DTS (or PTS) */
    } timing[FILE_TIMED_PIDS];
    unsigned timed_count;
    bool pcr_started;
    uint64_t first_pcr, last_pcr;
    bool restart_marks;        /* a loop just restarted: mark discontinuities */
    uint8_t cc[TS_PID_COUNT];
    uint8_t flags[TS_PID_COUNT]; /* bit 0: CC seen; bit 1: discontinuity marked */
} file_source_t;

static void file_open_next(file_source_t *src);
static void file_read_more(file_source_t *src);

static void file_release(file_source_t *src)
{
    if (--src->handles == 0 && src->base.stopped) {
        strlist_clear(&src->files);
        ingest_source_free(&src->base);
    }
}

static void file_on_timer_closed(uv_handle_t *handle) { file_release(handle->data); }

static void file_close_fd(file_source_t *src)
{
    if (src->fd >= 0) {
        uv_fs_t req;
        uv_fs_close(NULL, &req, src->fd, NULL); /* close(2) does not block on a regular file */
        uv_fs_req_cleanup(&req);
        src->fd = -1;
    }
}

static void file_fail(file_source_t *src, const char *fmt, const char *detail)
{
    ingest_report_failure(&src->base, fmt, detail);
    file_close_fd(src);
    src->queue_len = src->queue_pos = 0;
    src->clock_started = false;
    src->file_index = 0;
    src->eof = false;
    src->retry_at_us = clock_mono_us() + FILE_RETRY_MS * 1000u;
}

/* Aligned packets from the reader are queued until their time. */
static void file_on_packets(void *opaque, const uint8_t *packets, size_t count)
{
    file_source_t *src = opaque;
    size_t len = count * TS_PACKET_SIZE;
    if (src->queue_pos) {
        memmove(src->queue, src->queue + src->queue_pos, src->queue_len - src->queue_pos);
        src->queue_len -= src->queue_pos;
        src->queue_pos = 0;
    }
    if (len > sizeof(src->queue) - src->queue_len)
        len = sizeof(src->queue) - src->queue_len; /* cannot happen: reads wait for room */
    memcpy(src->queue + src->queue_len, packets, len);
    src->queue_len += len;
    src->file_packets += count;
}

static void file_on_read(uv_fs_t *req)
{
    file_source_t *src = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    src->busy = false;
    if (src->base.stopped) {
        file_close_fd(src);
        file_release(src);
        return;
    }
    file_release(src);
    if (n < 0) {
        file_fail(src, "read failed: %s", uv_strerror((int)n));
        return;
    }
    if (n == 0) {
        src->eof = true;
        return;
    }
    src->read_offset += n;
    ts_sync_feed(&src->sync, src->readbuf, (size_t)n, file_on_packets, src);
    /* A TS file is packets from end to end; mostly skipped bytes is not TS. */
    if (src->read_offset >= (int64_t)(TS_PACKET_SIZE * 64) &&
        src->file_packets * TS_PACKET_SIZE * 2 < (uint64_t)src->read_offset) {
        char detail[64];
        snprintf(detail, sizeof(detail), "%lld", (long long)src->read_offset);
        file_fail(src, "not MPEG-TS: no 0x47 sync byte every 188 bytes in most of the first %s bytes", detail);
    }
}

static void file_read_more(file_source_t *src)
{
    if (src->busy || src->eof || src->fd < 0)
        return;
    if (src->queue_len - src->queue_pos > FILE_QUEUE_SIZE - FILE_READ_SIZE - TS_PACKET_SIZE * 4)
        return;
    uv_buf_t buf = uv_buf_init((char *)src->readbuf, sizeof(src->readbuf));
    src->req.data = src;
    if (uv_fs_read(src->base.loop, &src->req, src->fd, &buf, 1, src->read_offset, file_on_read) < 0) {
        file_fail(src, "read failed: %s", "cannot queue the read");
        return;
    }
    src->busy = true;
    src->handles++;
}

static void file_on_open(uv_fs_t *req)
{
    file_source_t *src = req->data;
    ssize_t fd = req->result;
    uv_fs_req_cleanup(req);
    src->busy = false;
    if (src->base.stopped) {
        if (fd >= 0) {
            src->fd = (uv_file)fd;
            file_close_fd(src);
        }
        file_release(src);
        return;
    }
    file_release(src);
    if (fd < 0) {
        file_fail(src, "cannot open: %s", uv_strerror((int)fd));
        return;
    }
    src->fd = (uv_file)fd;
    src->read_offset = 0;
    src->eof = false;
    src->file_packets = 0;
    ts_sync_init(&src->sync);
    file_read_more(src);
}

static void file_open_next(file_source_t *src)
{
    if (src->busy)
        return;
    file_close_fd(src);
    const char *path = src->files.items[src->file_index];
    src->req.data = src;
    if (uv_fs_open(src->base.loop, &src->req, path, O_RDONLY, 0, file_on_open) < 0) {
        file_fail(src, "cannot open %s", path);
        return;
    }
    src->busy = true;
    src->handles++;
}

/* The current file ended: the next one, or the first again (a new loop). */
static void file_advance(file_source_t *src)
{
    file_close_fd(src);
    src->file_index++;
    if (src->file_index < src->files.count) {
        file_open_next(src);
        return;
    }
    src->file_index = 0;
    src->base.counters.loops++;
    /* Shift the next iteration by this one's length so time runs on. */
    uint64_t length = 0;
    for (unsigned i = 0; i < src->timed_count; i++) {
        const struct file_timing *t = &src->timing[i];
        uint64_t frame = t->last - t->prev;
        if (t->last > t->first)
            length = MAX(length, (t->last - t->first + frame) * 300u);
    }
    if (!length && src->pcr_started && src->last_pcr > src->first_pcr)
        length = src->last_pcr - src->first_pcr + 27000000u / 25u;
    if (!length)
        length = 27000000u;
    src->offset += length;
    src->timed_count = 0;
    src->pcr_started = false;
    src->restart_marks = true;
    for (size_t pid = 0; pid < TS_PID_COUNT; pid++)
        src->flags[pid] &= (uint8_t)~2u;
    log_debug("ingest", "%s: loop %llu, timestamps shifted by %.3f s", src->base.url_text,
              (unsigned long long)src->base.counters.loops, (double)length / 27e6);
    file_open_next(src);
}

static uint64_t pes_shift(uint64_t ts, uint64_t offset_27mhz) { return (ts + offset_27mhz / 300u) & PTS_MASK; }

/* Rewrites one packet for output and learns the iteration's timing. */
static void file_rewrite(file_source_t *src, uint8_t *pkt)
{
    uint16_t pid = ts_get_pid(pkt);
    if (pid == TS_PID_NULL)
        return;
    /* Continuity counters run on across files and loops. */
    if (ts_has_payload(pkt)) {
        src->cc[pid] = (src->flags[pid] & 1) ? (uint8_t)((src->cc[pid] + 1) & 0x0f) : ts_get_cc(pkt);
        src->flags[pid] |= 1;
    }
    ts_set_cc(pkt, src->cc[pid]);
    bool af = ts_has_adaptation(pkt) && ts_get_adaptation(pkt) > 0 && ts_get_adaptation(pkt) <= 183;
    if (src->restart_marks && af && !(src->flags[pid] & 2)) {
        tsaf_set_discontinuity(pkt);
        src->flags[pid] |= 2;
    }
    if (af && ts_get_adaptation(pkt) >= 7 && tsaf_has_pcr(pkt)) {
        uint64_t pcr = tsaf_get_pcr(pkt) * 300u + tsaf_get_pcrext(pkt);
        if (!src->pcr_started) {
            src->pcr_started = true;
            src->first_pcr = pcr;
        }
        src->last_pcr = pcr;
        uint64_t out = (pcr + src->offset) % PCR_MODULO;
        tsaf_set_pcr(pkt, out / 300u);
        tsaf_set_pcrext(pkt, (uint16_t)(out % 300u));
    }
    if (!ts_get_unitstart(pkt) || !ts_has_payload(pkt))
        return;
    size_t off = TS_HEADER_SIZE + (ts_has_adaptation(pkt) ? 1u + ts_get_adaptation(pkt) : 0u);
    if (off + 19 > TS_PACKET_SIZE)
        return;
    uint8_t *pes = pkt + off;
    if (!pes_validate(pes) || !pes_validate_header(pes) || !pes_has_pts(pes))
        return;
    bool dts = pes_has_dts(pes) && pes_get_headerlength(pes) >= 10;
    uint64_t stamp = dts ? pes_get_dts(pes) : pes_get_pts(pes);
    struct file_timing *t = NULL;
    for (unsigned i = 0; i < src->timed_count && !t; i++)
        if (src->timing[i].pid == pid)
            t = &src->timing[i];
    if (!t && src->timed_count < FILE_TIMED_PIDS) {
        t = &src->timing[src->timed_count++];
        *t = (struct file_timing){pid, stamp, stamp, stamp};
    } else if (t && stamp > t->last) {
        t->prev = t->last;
        t->last = stamp;
    }
    if (src->offset) {
        pes_set_pts(pes, pes_shift(pes_get_pts(pes), src->offset));
        if (dts)
            pes_set_dts(pes, pes_shift(pes_get_dts(pes), src->offset));
    }
}

/* Due time of a PCR packet, in monotonic microseconds. */
static uint64_t file_due_us(file_source_t *src, uint64_t out_pcr)
{
    if (out_pcr < src->clock_pcr)
        return src->clock_us;
    return src->clock_us + (out_pcr - src->clock_pcr) / 27u;
}

static void file_on_tick(uv_timer_t *timer)
{
    file_source_t *src = timer->data;
    uint64_t now = clock_mono_us();
    if (src->retry_at_us) {
        if (now < src->retry_at_us || src->busy)
            return;
        src->retry_at_us = 0;
        file_open_next(src);
        return;
    }
    size_t start = src->queue_pos;
    while (src->queue_pos < src->queue_len) {
        uint8_t *pkt = src->queue + src->queue_pos;
        uint16_t pid = ts_get_pid(pkt);
        bool has_pcr = ts_has_adaptation(pkt) && ts_get_adaptation(pkt) >= 7 && ts_get_adaptation(pkt) <= 183 &&
                       tsaf_has_pcr(pkt);
        if (has_pcr && (src->pcr_pid == TS_PID_NULL || src->pcr_pid == pid)) {
            src->pcr_pid = pid;
            uint64_t pcr = tsaf_get_pcr(pkt) * 300u + tsaf_get_pcrext(pkt);
            uint64_t out = pcr + src->offset;
            if (!src->clock_started) {
                src->clock_started = true;
                src->clock_us = now;
                src->clock_pcr = out;
            }
            uint64_t due = file_due_us(src, out);
            if (due > now + 1000000u || now > due + 1000000u) {
                /* A jump in the file or a stalled loop: re-anchor the clock. */
                src->clock_us = now;
                src->clock_pcr = out;
            } else if (due > now) {
                break; /* not yet */
            }
        }
        file_rewrite(src, pkt);
        src->queue_pos += TS_PACKET_SIZE;
    }
    if (src->queue_pos > start) {
        if (!src->base.receiving)
            ingest_emit_status(&src->base, INGEST_RECEIVING, "playing %s", src->base.url_text);
        ingest_emit_data(&src->base, src->queue + start, src->queue_pos - start);
    }
    if (src->queue_pos == src->queue_len && src->eof && !src->busy) {
        if (src->file_packets == 0) {
            file_fail(src, "%s", "not MPEG-TS: no packets in the whole file");
            return;
        }
        src->queue_pos = src->queue_len = 0;
        file_advance(src);
        return;
    }
    file_read_more(src);
}

static void file_stop(ingest_source_t *base)
{
    file_source_t *src = (file_source_t *)base;
    if (!src->busy)
        file_close_fd(src);
    uv_close((uv_handle_t *)&src->timer, file_on_timer_closed);
}

static const ingest_ops_t file_ops = {file_stop};

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder plays its *.ts files in name order. */
static int file_list(const char *path, strlist_t *files, char *err, size_t err_size)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, err_size, "file://%s: %s", path, strerror(errno));
        return -errno;
    }
    if (!S_ISDIR(st.st_mode))
        return strlist_push(files, path);
    DIR *dir = opendir(path);
    if (!dir) {
        snprintf(err, err_size, "file://%s: %s", path, strerror(errno));
        return -errno;
    }
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (len < 4 || strcmp(entry->d_name + len - 3, ".ts") != 0)
            continue;
        char full[2048];
        snprintf(full, sizeof(full), "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", entry->d_name);
        if (strlist_push(files, full) < 0)
            break;
    }
    closedir(dir);
    if (files->count == 0) {
        snprintf(err, err_size, "file://%s: folder has no .ts files", path);
        return -ENOENT;
    }
    qsort(files->items, files->count, sizeof(char *), compare_names);
    return 0;
}

int ingest_file_start(const ingest_start_t *start, ingest_source_t **out, char *err, size_t err_size)
{
    file_source_t *src = (file_source_t *)ingest_source_alloc(sizeof(*src), start);
    if (!src) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    /* Listing a folder is a short metadata read, done once at start. */
    int rc = file_list(start->url->path, &src->files, err, err_size);
    if (rc < 0) {
        strlist_clear(&src->files);
        ingest_source_free(&src->base);
        return rc;
    }
    src->base.ops = &file_ops;
    src->fd = -1;
    src->pcr_pid = TS_PID_NULL;
    uv_timer_init(start->loop, &src->timer);
    src->timer.data = src;
    src->handles = 1;
    file_open_next(src);
    uv_timer_start(&src->timer, file_on_tick, FILE_TICK_MS, FILE_TICK_MS);
    *out = &src->base;
    return 0;
}
