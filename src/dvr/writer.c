// SPDX-License-Identifier: MIT
// writer.c -- recording: each complete segment is queued with references to
// its blocks and written by libuv's thread pool, one write at a time per
// channel so that the files stay in order: its bytes appended to the chunk,
// synced, then its index record appended and synced. A record therefore never
// names bytes that are not on disk. A failed write (disk full) is cut back
// off the file, recording stops with an event and is tried again every few
// seconds. Retention deletes whole chunks, oldest first, never the one being
// written.
#include "dvr/dvr_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define DVR_MAX_QUEUE 16            /* segments waiting for the disk */

static void dvr_event(dvr_t *dvr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dvr_event(dvr_t *dvr, const char *fmt, ...)
{
    char message[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    log_warn("dvr", "%s: %s", dvr->name, message);
    if (dvr->options.on_event)
        dvr->options.on_event(dvr->options.event_ctx, "archive", message);
}

static void pending_free(pending_t *p)
{
    block_unref(p->psi);
    for (uint32_t i = 0; i < p->block_count; i++)
        block_unref(p->blocks[i]);
    free(p->blocks);
    free(p->iov);
    free(p);
}

/* ---- on the thread pool ------------------------------------------------------------------ */

static void close_chunk(dvr_t *dvr)
{
    if (dvr->ts_fd >= 0)
        close(dvr->ts_fd);
    if (dvr->idx_fd >= 0)
        close(dvr->idx_fd);
    dvr->ts_fd = dvr->idx_fd = -1;
}

static int fail(dvr_t *dvr, const char *what)
{
    int rc = -errno;
    snprintf(dvr->error_what, sizeof(dvr->error_what), "%s", what);
    return rc ? rc : -EIO;
}

static int open_chunk(dvr_t *dvr, uint64_t start_ms)
{
    close_chunk(dvr);
    char path[4200];
    uint64_t id = start_ms;
    for (;; id++) { /* (two chunks starting in the same millisecond: the next one) */
        dvr_chunk_path(dvr->dir, id, ".ts", path, sizeof(path));
        dvr->ts_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (dvr->ts_fd >= 0 || errno != EEXIST)
            break;
    }
    if (dvr->ts_fd < 0)
        return fail(dvr, "creating a chunk");
    dvr_chunk_path(dvr->dir, id, ".idx", path, sizeof(path));
    dvr->idx_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (dvr->idx_fd < 0) {
        int rc = fail(dvr, "creating a chunk index");
        dvr_chunk_path(dvr->dir, id, ".ts", path, sizeof(path));
        unlink(path);
        close_chunk(dvr);
        return rc;
    }
    /* The new names must survive a power cut too. */
    int dir_fd = dvr->options.no_sync ? -1 : open(dvr->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        fsync(dir_fd);
        close(dir_fd);
    }
    dvr->chunk_id = id;
    dvr->chunk_start_ms = start_ms;
    dvr->chunk_bytes = dvr->chunk_records = 0;
    dvr->rotate = false;
    return 0;
}

/* Writes iov[0..n) whole at offset, however the kernel splits it. */
static int write_all(dvr_t *dvr, struct iovec *iov, int n, uint64_t offset, uint64_t *written)
{
    int at = 0;
    while (at < n) {
        ssize_t w = pwritev(dvr->ts_fd, iov + at, MIN(n - at, IOV_MAX), (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return fail(dvr, "writing a segment");
        }
        offset += (uint64_t)w;
        *written += (uint64_t)w;
        while (at < n && (size_t)w >= iov[at].iov_len) {
            w -= (ssize_t)iov[at].iov_len;
            at++;
        }
        if (at < n) {
            iov[at].iov_base = (uint8_t *)iov[at].iov_base + w;
            iov[at].iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int write_segment(dvr_t *dvr, pending_t *p)
{
    int rc;
    bool old = p->entry.start_ms >= dvr->chunk_start_ms + (uint64_t)dvr->options.chunk_s * 1000u;
    if (dvr->ts_fd < 0 || dvr->rotate || old || dvr->chunk_bytes >= dvr->options.chunk_max_bytes) {
        rc = open_chunk(dvr, p->entry.start_ms);
        if (rc < 0)
            return rc;
    }
    uint64_t written = 0;
    rc = write_all(dvr, p->iov, p->iov_count, dvr->chunk_bytes, &written);
    if (rc == 0 && !dvr->options.no_sync && fdatasync(dvr->ts_fd) < 0)
        rc = fail(dvr, "syncing a segment");
    if (rc == 0 && (written == 0 || written > UINT32_MAX)) {
        errno = EINVAL;
        rc = fail(dvr, "sizing a segment");
    }
    uint8_t record[DVR_RECORD_SIZE];
    if (rc == 0) {
        p->entry.offset = dvr->chunk_bytes;
        p->entry.length = (uint32_t)written;
        p->entry.chunk = dvr->chunk_id;
        dvr_record_encode(&p->entry, record);
        off_t at = (off_t)(dvr->chunk_records * DVR_RECORD_SIZE);
        ssize_t w = pwrite(dvr->idx_fd, record, sizeof(record), at);
        if (w != (ssize_t)sizeof(record)) {
            if (w >= 0)
                errno = ENOSPC;
            rc = fail(dvr, "writing the index");
        } else if (!dvr->options.no_sync && fdatasync(dvr->idx_fd) < 0) {
            rc = fail(dvr, "syncing the index");
        }
    }
    if (rc < 0) {
        /* Nothing half-written stays: both files go back to what the index
         * said before, and the next segment starts a new chunk. */
        int saved = errno;
        if (ftruncate(dvr->ts_fd, (off_t)dvr->chunk_bytes) < 0 ||
            ftruncate(dvr->idx_fd, (off_t)(dvr->chunk_records * DVR_RECORD_SIZE)) < 0)
            log_error("dvr", "%s: cannot cut a failed write off chunk %016llu: %s", dvr->name,
                      (unsigned long long)dvr->chunk_id, strerror(errno));
        errno = saved;
        dvr->rotate = true;
        return rc;
    }
    dvr->chunk_bytes += written;
    dvr->chunk_records++;
    return 0;
}

static void write_work(uv_work_t *req)
{
    dvr_t *dvr = req->data;
    char path[4200];
    for (size_t i = 0; i < dvr->doomed_count; i++) {
        dvr_chunk_path(dvr->dir, dvr->doomed[i], ".ts", path, sizeof(path));
        unlink(path);
        dvr_chunk_path(dvr->dir, dvr->doomed[i], ".idx", path, sizeof(path));
        unlink(path);
    }
    dvr->error = dvr->writing ? write_segment(dvr, dvr->writing) : 0;
}

/* ---- on the loop ------------------------------------------------------------------------- */

static void write_done(uv_work_t *req, int status);
static void kick(dvr_t *dvr);

uint64_t dvr_oldest_chunk(const dvr_t *dvr)
{
    const dvr_index_t *ix = &dvr->index;
    if (ix->chunk_count == ix->chunk_first)
        return UINT64_MAX;
    const dvr_chunk_t *oldest = &ix->chunks[ix->chunk_first];
    if (oldest->id == dvr->chunk_id && dvr->ts_fd >= 0)
        return UINT64_MAX; /* the one being written */
    return oldest->id;
}

/* The oldest chunk leaves the index now (no new reads start) and the disk
 * with the next write. Returns false when there is none that may go. */
static bool doom_oldest(dvr_t *dvr, const char *why)
{
    uint64_t id = dvr_oldest_chunk(dvr);
    if (id == UINT64_MAX)
        return false;
    uint64_t *grown = realloc(dvr->doomed, (dvr->doomed_count + 1) * sizeof(*grown));
    if (!grown)
        return false;
    dvr->doomed = grown;
    dvr->doomed[dvr->doomed_count++] = id;
    log_info("dvr", "%s: removing chunk %016llu (%s)", dvr->name, (unsigned long long)id, why);
    dvr_index_drop_oldest(&dvr->index);
    return true;
}

static void apply_retention(dvr_t *dvr)
{
    dvr_index_t *ix = &dvr->index;
    uint64_t now = clock_wall_ms();
    while (ix->chunk_count > ix->chunk_first) {
        const dvr_chunk_t *oldest = &ix->chunks[ix->chunk_first];
        bool too_old = dvr->options.max_age_s && oldest->end_ms + dvr->options.max_age_s * 1000u < now;
        bool too_big = dvr->options.max_bytes && ix->bytes > dvr->options.max_bytes;
        if ((!too_old && !too_big) || !doom_oldest(dvr, too_old ? "older than the retention" : "over the size limit"))
            break;
    }
}

void dvr_drop_oldest_chunk(dvr_t *dvr)
{
    if (!dvr->closing && doom_oldest(dvr, "over the limit of all archives"))
        kick(dvr);
}

static void kick(dvr_t *dvr)
{
    if (dvr->busy || (!dvr->head && !dvr->doomed_count))
        return;
    dvr->writing = dvr->head;
    if (dvr->head) {
        dvr->head = dvr->head->next;
        if (!dvr->head)
            dvr->tail = NULL;
        dvr->queued--;
    }
    dvr->work.data = dvr;
    int rc = uv_queue_work(dvr->loop, &dvr->work, write_work, write_done);
    if (rc < 0) {
        log_error("dvr", "%s: cannot queue a write: %s", dvr->name, uv_strerror(rc));
        if (dvr->writing)
            pending_free(dvr->writing);
        dvr->writing = NULL;
        dvr->dropped++;
        return;
    }
    dvr->busy = true;
}

static void dvr_free(dvr_t *dvr)
{
    while (dvr->head) {
        pending_t *next = dvr->head->next;
        pending_free(dvr->head);
        dvr->head = next;
    }
    close_chunk(dvr);
    dvr_index_free(&dvr->index);
    free(dvr->doomed);
    free(dvr->dir);
    free(dvr->name);
    free(dvr);
}

static void write_done(uv_work_t *req, int status)
{
    dvr_t *dvr = req->data;
    pending_t *p = dvr->writing;
    dvr->writing = NULL;
    dvr->busy = false;
    free(dvr->doomed);
    dvr->doomed = NULL;
    dvr->doomed_count = 0;
    int error = status < 0 ? status : dvr->error;
    if (p && error == 0) {
        if (dvr_index_append(&dvr->index, &p->entry) < 0)
            log_error("dvr", "%s: out of memory indexing a segment (it is on disk; a restart finds it)", dvr->name);
        if (dvr->state == DVR_STOPPED) {
            dvr->state = DVR_RECORDING;
            dvr->reason[0] = '\0';
            dvr_event(dvr, "recording again after %llu segments were lost", (unsigned long long)dvr->dropped);
        }
    } else if (p) {
        dvr->dropped++;
        dvr->retry_ms = clock_wall_ms() + dvr->options.retry_ms;
        if (dvr->state == DVR_RECORDING) {
            dvr->state = DVR_STOPPED;
            snprintf(dvr->reason, sizeof(dvr->reason), "%s: %s", dvr->error_what, uv_strerror(error));
            dvr_event(dvr, "recording stopped: %s (live viewing goes on; recorded segments are intact; "
                           "retrying every %.1f s)", dvr->reason, dvr->options.retry_ms / 1000.0);
        }
    }
    if (p)
        pending_free(p);
    if (dvr->closing) {
        dvr_free(dvr);
        return;
    }
    apply_retention(dvr);
    kick(dvr);
}

void dvr_record(void *ctx, const hls_segment_view_t *seg)
{
    dvr_t *dvr = ctx;
    if (dvr->closing)
        return;
    if ((dvr->state == DVR_STOPPED && clock_wall_ms() < dvr->retry_ms) || dvr->queued >= DVR_MAX_QUEUE) {
        if (dvr->state == DVR_RECORDING && !(dvr->dropped++ % 100))
            log_warn("dvr", "%s: the disk is not keeping up: segment dropped", dvr->name);
        else if (dvr->state == DVR_STOPPED)
            dvr->dropped++;
        return;
    }
    /* The blocks must cover the segment (a failed allocation in the
     * segmenter could leave a hole). */
    uint64_t covered = seg->start;
    for (uint32_t i = 0; i < seg->block_count; i++) {
        uint64_t base = seg->blocks[i]->seq * RING_BLOCK_SIZE;
        if (base <= covered && base + seg->blocks[i]->size > covered)
            covered = base + seg->blocks[i]->size;
    }
    if (covered < seg->end || seg->end <= seg->start) {
        dvr->dropped++;
        return;
    }
    pending_t *p = calloc(1, sizeof(*p));
    block_t **blocks = calloc(seg->block_count, sizeof(*blocks));
    struct iovec *iov = calloc(seg->block_count + 1u, sizeof(*iov));
    if (!p || !blocks || !iov) {
        free(p);
        free(blocks);
        free(iov);
        dvr->dropped++;
        return;
    }
    p->entry.start_ms = seg->pdt_ms;
    p->entry.duration_ms = (uint32_t)(((uint64_t)seg->duration * 1000u + 45000u) / 90000u);
    p->entry.flags = seg->discontinuity ? DVR_DISCONTINUITY : 0;
    p->entry.preamble = seg->psi ? seg->psi->size : 0;
    p->psi = seg->psi ? block_ref(seg->psi) : NULL;
    if (p->psi)
        iov[p->iov_count++] = (struct iovec){p->psi->data, p->psi->size};
    for (uint32_t i = 0; i < seg->block_count; i++) {
        block_t *b = blocks[i] = block_ref(seg->blocks[i]);
        uint64_t base = b->seq * RING_BLOCK_SIZE;
        uint64_t from = MAX(base, seg->start), to = MIN(base + b->size, seg->end);
        if (from < to)
            iov[p->iov_count++] = (struct iovec){b->data + (from - base), (size_t)(to - from)};
    }
    p->blocks = blocks;
    p->block_count = seg->block_count;
    p->iov = iov;
    if (dvr->tail)
        dvr->tail->next = p;
    else
        dvr->head = p;
    dvr->tail = p;
    dvr->queued++;
    kick(dvr);
}

dvr_t *dvr_open(uv_loop_t *loop, const dvr_options_t *options, char *err, size_t err_size)
{
    dvr_t *dvr = calloc(1, sizeof(*dvr));
    if (!dvr || !(dvr->dir = strdup(options->dir)) || !(dvr->name = strdup(options->name))) {
        snprintf(err, err_size, "out of memory");
        if (dvr)
            free(dvr->dir);
        free(dvr);
        return NULL;
    }
    dvr->loop = loop;
    dvr->options = *options;
    dvr->options.dir = dvr->dir;
    dvr->options.name = dvr->name;
    if (!dvr->options.chunk_s)
        dvr->options.chunk_s = 3600;
    if (!dvr->options.retry_ms)
        dvr->options.retry_ms = 5000;
    if (!dvr->options.chunk_max_bytes)
        dvr->options.chunk_max_bytes = 1ull << 30;
    dvr->ts_fd = dvr->idx_fd = -1;
    dvr_index_init(&dvr->index);
    dvr_repair_t repair;
    if (dvr_index_load(&dvr->index, dvr->dir, &repair, err, err_size) < 0) {
        dvr_free(dvr);
        return NULL;
    }
    if (repair.torn_records || repair.torn_bytes || repair.removed_chunks)
        dvr_event(dvr, "archive repaired at start: %u index records and %llu bytes past the last complete segment "
                       "cut off, %u empty chunks removed; %zu segments in %u chunks kept",
                  repair.torn_records, (unsigned long long)repair.torn_bytes, repair.removed_chunks,
                  dvr_index_size(&dvr->index), repair.chunks);
    else
        log_info("dvr", "%s: archive of %zu segments in %u chunks", dvr->name, dvr_index_size(&dvr->index),
                 repair.chunks);
    apply_retention(dvr);
    kick(dvr);
    return dvr;
}

void dvr_close(dvr_t *dvr)
{
    if (!dvr)
        return;
    /* Timeshift viewers end; they let go of the archive now. */
    for (dvr_stream_t *st = dvr->streams, *next; st; st = next) {
        next = dvr_stream_next(st);
        dvr_stream_orphan(st);
    }
    dvr->streams = NULL;
    dvr->closing = true;
    if (!dvr->busy)
        dvr_free(dvr);
}

void dvr_set_retention(dvr_t *dvr, uint64_t max_age_s, uint64_t max_bytes)
{
    dvr->options.max_age_s = max_age_s;
    dvr->options.max_bytes = max_bytes;
}

void dvr_get_info(const dvr_t *dvr, dvr_info_t *info)
{
    memset(info, 0, sizeof(*info));
    info->state = dvr->state;
    info->reason = dvr->reason;
    info->segments = dvr_index_size(&dvr->index);
    info->bytes = dvr->index.bytes;
    info->dropped = dvr->dropped;
    if (info->segments) {
        info->first_ms = dvr_index_at(&dvr->index, 0)->start_ms;
        const dvr_entry_t *last = dvr_index_at(&dvr->index, info->segments - 1);
        info->last_ms = last->start_ms + last->duration_ms;
    }
}

int dvr_write_now(dvr_t *dvr, dvr_entry_t *entry, const struct iovec *iov, int iov_count, char *err, size_t err_size)
{
    if (dvr->busy) {
        snprintf(err, err_size, "the archive is being written");
        return -EBUSY;
    }
    pending_t p = {.entry = *entry, .iov = malloc((size_t)iov_count * sizeof(*iov)), .iov_count = iov_count};
    if (!p.iov) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    memcpy(p.iov, iov, (size_t)iov_count * sizeof(*iov));
    int rc = write_segment(dvr, &p);
    free(p.iov);
    if (rc < 0) {
        snprintf(err, err_size, "%s: %s", dvr->error_what, strerror(-rc));
        return rc;
    }
    *entry = p.entry;
    rc = dvr_index_append(&dvr->index, entry);
    if (rc < 0)
        snprintf(err, err_size, "out of memory");
    return rc;
}

const dvr_index_t *dvr_index(const dvr_t *dvr) { return &dvr->index; }

void dvr_link_stream(dvr_t *dvr, dvr_stream_t *stream)
{
    dvr_stream_set_next(stream, dvr->streams);
    dvr->streams = stream;
}

void dvr_unlink_stream(dvr_t *dvr, dvr_stream_t *stream)
{
    for (dvr_stream_t **p = &dvr->streams; *p; p = dvr_stream_next_ref(*p)) {
        if (*p == stream) {
            *p = dvr_stream_next(stream);
            return;
        }
    }
}
