// SPDX-License-Identifier: MIT
// stream.c -- timeshift over HTTP-TS: the archive from a past moment, sent
// as one endless TS stream paced in real time (a few seconds ahead, so the
// player's buffer fills at once). Segments are read on the thread pool one
// at a time; a gap in the recording is not waited out; once it reaches the
// newest recorded segment the stream goes on as the channel is recorded,
// i.e. live with a delay.
#include "dvr/dvr_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STREAM_TICK_MS 100
#define STREAM_LEAD_MS 3000        /* sent ahead of real time */
#define STREAM_EARLY_MS (3600u * 1000u) /* how long before the archive a start may be */

struct dvr_stream {
    dvr_stream_t *next;
    dvr_t *dvr;                    /* NULL once the archive has closed */
    http_conn_t *conn;             /* NULL once closed */
    dvr_stream_watch_t watch;
    uv_timer_t timer;
    uv_work_t work;
    uv_write_t write;
    char path[4200];
    dvr_entry_t entry;             /* the segment being read */
    block_t *data;
    int read_error;
    uint64_t next_ms;              /* the next segment starts at or after this */
    uint64_t origin_wall_ms;       /* when the stream began */
    uint64_t media_ms;             /* of the segments sent so far */
    uint64_t bytes;
    bool reading, writing, closing, timer_closed;
};

static void stream_maybe_free(dvr_stream_t *s);

static void stream_on_timer_closed(uv_handle_t *handle)
{
    dvr_stream_t *s = handle->data;
    if (s->dvr)
        dvr_unlink_stream(s->dvr, s);
    if (s->watch.on_end)
        s->watch.on_end(s->watch.opaque, s->bytes);
    free(s);
}

static void stream_maybe_free(dvr_stream_t *s)
{
    if (!s->closing || s->reading || s->writing || s->timer_closed)
        return;
    s->timer_closed = true;
    uv_close((uv_handle_t *)&s->timer, stream_on_timer_closed);
}

static void stream_on_conn_close(void *opaque)
{
    dvr_stream_t *s = opaque;
    s->conn = NULL;
    s->closing = true;
    stream_maybe_free(s);
}

void dvr_stream_close(dvr_stream_t *s)
{
    if (s->conn)
        http_conn_close(s->conn);
}

uint64_t dvr_stream_bytes(const dvr_stream_t *s) { return s->bytes; }

static void stream_on_write(uv_write_t *req, int status)
{
    dvr_stream_t *s = req->data;
    s->writing = false;
    block_unref(s->data);
    s->data = NULL;
    if (status < 0 && s->conn)
        http_conn_close(s->conn);
    stream_maybe_free(s);
}

static void stream_read_work(uv_work_t *req)
{
    dvr_stream_t *s = req->data;
    s->read_error = dvr_read_segment(s->path, &s->entry, &s->data);
}

static void stream_read_done(uv_work_t *req, int status)
{
    dvr_stream_t *s = req->data;
    s->reading = false;
    if (status < 0 && !s->read_error)
        s->read_error = status;
    if (s->closing || !s->conn) {
        block_unref(s->data);
        s->data = NULL;
        stream_maybe_free(s);
        return;
    }
    if (s->read_error < 0) {
        /* (it may have just left the archive: go on with the next one) */
        log_debug("dvr", "timeshift: %s: %s", s->path, uv_strerror(s->read_error));
        block_unref(s->data);
        s->data = NULL;
        return;
    }
    /* One stream: the first segment brings its PAT and PMT along, the
     * others' copies would repeat continuity counters. */
    uint32_t skip = s->media_ms ? MIN(s->entry.preamble, s->data->size) : 0;
    uv_buf_t buf = uv_buf_init((char *)s->data->data + skip, s->data->size - skip);
    s->write.data = s;
    int rc = uv_write(&s->write, http_conn_stream(s->conn), &buf, 1, stream_on_write);
    if (rc < 0) {
        block_unref(s->data);
        s->data = NULL;
        http_conn_close(s->conn);
        return;
    }
    s->writing = true;
    s->bytes += buf.len;
    s->media_ms += s->entry.duration_ms;
}

static void stream_on_timer(uv_timer_t *timer)
{
    dvr_stream_t *s = timer->data;
    if (s->closing || !s->dvr || s->reading || s->writing)
        return;
    uint64_t now = clock_wall_ms();
    if (now + STREAM_LEAD_MS < s->origin_wall_ms + s->media_ms)
        return; /* far enough ahead */
    const dvr_index_t *ix = dvr_index(s->dvr);
    size_t i = dvr_index_starting(ix, s->next_ms);
    if (i == dvr_index_size(ix))
        return; /* at the live edge: the next segment is being recorded */
    s->entry = *dvr_index_at(ix, i);
    s->next_ms = s->entry.start_ms + 1;
    dvr_chunk_path(s->dvr->dir, s->entry.chunk, ".ts", s->path, sizeof(s->path));
    s->work.data = s;
    s->read_error = 0;
    if (uv_queue_work(s->dvr->loop, &s->work, stream_read_work, stream_read_done) == 0)
        s->reading = true;
}

dvr_stream_t *dvr_stream_start(dvr_t *dvr, http_conn_t *conn, uint64_t from_ms, const dvr_stream_watch_t *watch)
{
    const dvr_index_t *ix = dvr_index(dvr);
    uint64_t now = clock_wall_ms();
    size_t i = dvr_index_find(ix, from_ms);
    if (from_ms > now) {
        http_respond_text(conn, 404, "%llu is in the future", (unsigned long long)(from_ms / 1000u));
        return NULL;
    }
    /* Shortly before the archive begins is its beginning; long before is a
     * mistake (a wrong clock, a wrong unit). */
    bool long_before = i < dvr_index_size(ix) && from_ms + STREAM_EARLY_MS < dvr_index_at(ix, i)->start_ms;
    if (i == dvr_index_size(ix) || long_before) {
        char what[120];
        dvr_describe(ix, what, sizeof(what));
        http_respond_text(conn, 404, "nothing recorded from %llu: %s", (unsigned long long)(from_ms / 1000u), what);
        return NULL;
    }
    if (http_conn_is_head(conn)) {
        if (http_stream_begin(conn, 200, "video/mp2t", "Cache-Control: no-cache\r\n") < 0)
            http_conn_close(conn);
        return NULL;
    }
    dvr_stream_t *s = calloc(1, sizeof(*s));
    if (!s) {
        http_respond_text(conn, 503, "out of memory");
        return NULL;
    }
    s->dvr = dvr;
    s->conn = conn;
    if (watch)
        s->watch = *watch;
    s->next_ms = dvr_index_at(ix, i)->start_ms;
    s->origin_wall_ms = now;
    uv_timer_init(dvr->loop, &s->timer);
    s->timer.data = s;
    http_conn_take(conn, stream_on_conn_close, s);
    if (http_stream_begin(conn, 200, "video/mp2t", "Cache-Control: no-cache\r\n") < 0) {
        http_conn_close(conn);
    } else {
        uv_timer_start(&s->timer, stream_on_timer, 0, STREAM_TICK_MS);
    }
    dvr_link_stream(dvr, s);
    return s;
}

void dvr_stream_orphan(dvr_stream_t *s)
{
    s->dvr = NULL;
    dvr_stream_close(s);
}

dvr_stream_t *dvr_stream_next(const dvr_stream_t *s) { return s->next; }

dvr_stream_t **dvr_stream_next_ref(dvr_stream_t *s) { return &s->next; }

void dvr_stream_set_next(dvr_stream_t *s, dvr_stream_t *next) { s->next = next; }
