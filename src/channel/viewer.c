// SPDX-License-Identifier: MIT
// viewer.c -- the output side of a channel: HTTP-TS viewers as cursors into
// the ring. Nothing is copied per viewer: writes gather iovecs straight from
// the shared blocks, and a write the socket cannot take at once keeps
// references to its blocks until it completes.
//
// A viewer is WAITING (no start point yet), then STREAMING. Each timer tick
// the channel writes every idle viewer all it has not sent, in one writev,
// once a batch is pending (batch_bytes, or data older than batch_max_ms):
// the cost of a write is mostly per call, not per byte, so few large writes
// are what lets one core feed thousands of viewers.
// A viewer whose position has left the ring skips to the newest keyframe or
// is closed (lag policy); one stuck for VIEWER_STALL_US is closed. Memory per
// viewer is this struct and its connection, whatever the viewer's speed.
#include "channel/channel_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIEWER_MAX_IOV 32
#define VIEWER_WAIT_US (5u * 1000u * 1000u)
#define VIEWER_STALL_US (30u * 1000u * 1000u)
#define VIEWER_SLICE_US 4000u

struct channel_viewer {
    viewer_t *next;
    viewer_t *prev;
    channel_t *channel;       /* NULL once the channel has let go */
    http_conn_t *conn;
    uint64_t pos;             /* next ring byte to send */
    block_t *preamble;        /* PSI to send before pos, or NULL */
    bool streaming;
    bool writing;
    bool closing;             /* asked to close; the close callback follows */
    uint64_t joined_us;
    uint64_t write_since_us;  /* in-flight write started, or the last write */
    uint64_t bytes_sent;      /* handed to the socket, for the session's audit */
    channel_watch_t watch;    /* told when the viewer ends */
    dvr_stream_t *timeshift;  /* a timeshift viewer reads the archive instead */
    uv_write_t req;
    block_t *held[VIEWER_MAX_IOV + 1];
    unsigned held_count;
};

static void viewer_release_held(viewer_t *viewer)
{
    for (unsigned i = 0; i < viewer->held_count; i++)
        block_unref(viewer->held[i]);
    viewer->held_count = 0;
}

static void viewer_unlink(viewer_t *viewer)
{
    channel_t *channel = viewer->channel;
    if (!channel)
        return;
    if (viewer->prev)
        viewer->prev->next = viewer->next;
    else
        channel->viewers = viewer->next;
    if (viewer->next)
        viewer->next->prev = viewer->prev;
    channel->viewer_count--;
    viewer->channel = NULL;
}

/* The connection is gone: every write callback has already run. */
static void viewer_on_close(void *opaque)
{
    viewer_t *viewer = opaque;
    viewer_unlink(viewer);
    viewer_release_held(viewer);
    block_unref(viewer->preamble);
    if (viewer->watch.on_end)
        viewer->watch.on_end(viewer->watch.opaque, viewer->bytes_sent);
    free(viewer);
}

static void viewer_close(viewer_t *viewer)
{
    viewer->closing = true;
    http_conn_close(viewer->conn);
}

static void viewer_on_write(uv_write_t *req, int status)
{
    viewer_t *viewer = req->data;
    viewer_release_held(viewer);
    viewer->writing = false;
    if (status < 0 && status != UV_ECANCELED) {
        log_debug("viewer", "%s: write failed: %s", http_conn_peer(viewer->conn), uv_strerror(status));
        viewer_close(viewer);
    }
}

/* Writes everything between pos and the ring's end. */
static void viewer_write(viewer_t *viewer)
{
    channel_t *channel = viewer->channel;
    uv_buf_t bufs[VIEWER_MAX_IOV + 1];
    block_t *blocks[VIEWER_MAX_IOV + 1];
    unsigned count = 0;
    size_t total = 0;
    if (viewer->preamble) {
        blocks[count] = viewer->preamble;
        bufs[count++] = uv_buf_init((char *)viewer->preamble->data, viewer->preamble->size);
        total += viewer->preamble->size;
    }
    uint64_t pos = viewer->pos;
    uint64_t end = ring_end(&channel->ring);
    while (pos < end && count < VIEWER_MAX_IOV + 1) {
        block_t *block = ring_block_at(&channel->ring, pos);
        if (!block)
            break;
        uint32_t offset = (uint32_t)(pos % RING_BLOCK_SIZE);
        uint32_t len = block->size - offset;
        blocks[count] = block;
        bufs[count++] = uv_buf_init((char *)block->data + offset, len);
        total += len;
        pos += len;
    }
    if (total == 0)
        return;
    uv_stream_t *stream = http_conn_stream(viewer->conn);
    int n = uv_try_write(stream, bufs, count);
    if (n < 0 && n != UV_EAGAIN) {
        log_debug("viewer", "%s: %s", http_conn_peer(viewer->conn), uv_strerror(n));
        viewer_close(viewer);
        return;
    }
    size_t written = n > 0 ? (size_t)n : 0;
    channel->stats.bytes_out += written;
    viewer->bytes_sent += total;
    viewer->pos = pos;
    viewer->write_since_us = clock_mono_us();
    block_t *preamble = viewer->preamble;
    viewer->preamble = NULL;
    if (written == total) {
        block_unref(preamble);
        return;
    }
    /* The socket is full: hand the rest to libuv with references held. */
    unsigned first = 0;
    while (written >= bufs[first].len) {
        written -= bufs[first].len;
        first++;
    }
    bufs[first].base += written;
    bufs[first].len -= written;
    for (unsigned i = first; i < count; i++) {
        viewer->held[viewer->held_count++] = blocks[i] == preamble ? preamble : block_ref(blocks[i]);
        if (blocks[i] == preamble)
            preamble = NULL;
    }
    block_unref(preamble);
    channel->stats.bytes_out += total - (size_t)(n > 0 ? n : 0);
    viewer->req.data = viewer;
    int rc = uv_write(&viewer->req, stream, bufs + first, count - first, viewer_on_write);
    if (rc < 0) {
        viewer_release_held(viewer);
        viewer_close(viewer);
        return;
    }
    viewer->writing = true;
}

block_t *channel_psi_snapshot(channel_t *channel)
{
    if (!channel->pat_len || !channel->pmt_len)
        return NULL;
    block_t *psi = block_new((uint32_t)(channel->pat_len + channel->pmt_len), 0);
    if (!psi)
        return NULL;
    memcpy(psi->data, channel->pat, channel->pat_len);
    memcpy(psi->data + channel->pat_len, channel->pmt, channel->pmt_len);
    psi->size = (uint32_t)(channel->pat_len + channel->pmt_len);
    return psi;
}

/* Picks where a viewer starts: the newest keyframe, or for streams without
 * video (radio) the live edge after the PSI. Returns false to keep waiting. */
static bool viewer_find_start(viewer_t *viewer, bool waited_long)
{
    channel_t *channel = viewer->channel;
    /* A channel that is down has nothing to start with: its last pictures
     * are from before the outage (the viewer gets 503 once it waited). */
    if (!channel->running || !channel->demux || channel->state == CHANNEL_DOWN)
        return false;
    const ring_keyframe_t *kf = ring_newest_keyframe(&channel->ring);
    if (kf && kf->pos >= channel->fresh_from) {
        viewer->pos = kf->pos;
        viewer->preamble = block_ref(kf->psi);
        return true;
    }
    bool no_video = ts_demux_has_pmt(channel->demux) && ts_demux_video_pid(channel->demux) == TS_PID_NULL;
    if (no_video || (waited_long && (channel->state == CHANNEL_UP || channel->state == CHANNEL_DEGRADED))) {
        block_t *psi = channel_psi_snapshot(channel);
        if (!psi)
            return false;
        viewer->pos = ring_end(&channel->ring);
        viewer->preamble = psi;
        return true;
    }
    return false;
}

static void viewer_try_start(viewer_t *viewer, uint64_t now)
{
    channel_t *channel = viewer->channel;
    bool waited_long = now - viewer->joined_us >= VIEWER_WAIT_US;
    if (!viewer_find_start(viewer, waited_long)) {
        if (waited_long) {
            channel->stats.viewers_dropped++;
            /* The response closes the connection once it is written. */
            viewer->closing = true;
            http_respond_text(viewer->conn, 503, "channel '%s' is down: %s", channel->config.name,
                              *channel->reason ? channel->reason : "no signal");
        }
        return;
    }
    if (http_stream_begin(viewer->conn, 200, "video/mp2t", "Cache-Control: no-cache\r\n") < 0) {
        viewer_close(viewer);
        return;
    }
    viewer->streaming = true;
    viewer_write(viewer);
}

static void viewer_check_lag(viewer_t *viewer, uint64_t now)
{
    channel_t *channel = viewer->channel;
    if (viewer->writing) {
        if (now - viewer->write_since_us > VIEWER_STALL_US) {
            log_info("viewer", "%s: %s: closed, no progress for 30 s", channel->config.name,
                     http_conn_peer(viewer->conn));
            channel->stats.viewers_dropped++;
            viewer_close(viewer);
        }
        return;
    }
    if (viewer->pos >= ring_start(&channel->ring))
        return;
    if (channel->config.lag_policy == LAG_CLOSE) {
        log_info("viewer", "%s: %s: closed, fell behind the ring", channel->config.name,
                 http_conn_peer(viewer->conn));
        channel->stats.viewers_dropped++;
        viewer_close(viewer);
        return;
    }
    const ring_keyframe_t *kf = ring_newest_keyframe(&channel->ring);
    block_unref(viewer->preamble);
    if (kf && kf->pos >= channel->fresh_from) {
        viewer->pos = kf->pos;
        viewer->preamble = block_ref(kf->psi);
    } else {
        viewer->pos = ring_end(&channel->ring);
        viewer->preamble = channel_psi_snapshot(channel);
    }
    channel->stats.viewers_skipped++;
    log_debug("viewer", "%s: %s: fell behind, skipped to the newest keyframe", channel->config.name,
              http_conn_peer(viewer->conn));
}

/* Visits viewers round-robin from where the last call stopped, for at most
 * VIEWER_SLICE_US, so that thousands of viewers crossing their batch size at
 * the same moment never hold the loop (and the channel's own input) for
 * long. Returns true when every viewer was visited. */
bool channel_viewers_flush(channel_t *channel)
{
    uint64_t start = clock_mono_us();
    uint64_t now = start;
    viewer_t *viewer = channel->viewers;
    for (uint32_t i = 0; viewer && i < channel->flush_next; i++)
        viewer = viewer->next;
    uint32_t visited = 0;
    uint32_t count = channel->viewer_count;
    while (visited < count) {
        if (!viewer) {
            viewer = channel->viewers;
            channel->flush_next = 0;
            if (!viewer)
                break;
        }
        viewer_t *next = viewer->next; /* a close unlinks it later, not now */
        channel->flush_next++;
        visited++;
        if (!viewer->closing) {
            if (!viewer->streaming) {
                viewer_try_start(viewer, now);
            } else {
                viewer_check_lag(viewer, now);
                uint64_t pending = ring_end(&channel->ring) - viewer->pos;
                if (!viewer->writing && !viewer->closing &&
                    (viewer->preamble || pending >= channel->options.batch_bytes ||
                     (pending && now - viewer->write_since_us >= channel->options.batch_max_ms * 1000u)))
                    viewer_write(viewer);
            }
        }
        viewer = next;
        if ((visited & 31) == 0) {
            now = clock_mono_us();
            if (now - start > VIEWER_SLICE_US)
                return false;
        }
    }
    return true;
}

void channel_viewers_close_all(channel_t *channel, const char *why)
{
    viewer_t *next;
    for (viewer_t *viewer = channel->viewers; viewer; viewer = next) {
        next = viewer->next;
        log_info("viewer", "%s: %s: closed, %s", channel->config.name, http_conn_peer(viewer->conn), why);
        viewer_unlink(viewer);
        viewer_close(viewer);
    }
}

channel_viewer_t *channel_serve_ts(channel_t *channel, http_conn_t *conn, const channel_watch_t *watch)
{
    if (http_conn_is_head(conn)) {
        if (http_stream_begin(conn, 200, "video/mp2t", "Cache-Control: no-cache\r\n") < 0)
            http_conn_close(conn);
        return NULL;
    }
    viewer_t *viewer = calloc(1, sizeof(*viewer));
    if (!viewer) {
        http_respond_text(conn, 503, "out of memory");
        return NULL;
    }
    viewer->channel = channel;
    viewer->conn = conn;
    if (watch)
        viewer->watch = *watch;
    viewer->joined_us = clock_mono_us();
    http_conn_take(conn, viewer_on_close, viewer);
    viewer->next = channel->viewers;
    if (channel->viewers)
        channel->viewers->prev = viewer;
    channel->viewers = viewer;
    channel->viewer_count++;
    channel->idle_since_us = 0;
    if (!channel->running && channel_run(channel) < 0) {
        viewer->closing = true;
        http_respond_text(conn, 503, "channel '%s' could not start", channel->config.name);
        return viewer;
    }
    viewer_try_start(viewer, viewer->joined_us);
    return viewer;
}

uint64_t channel_viewer_bytes(const channel_viewer_t *viewer)
{
    return viewer->timeshift ? dvr_stream_bytes(viewer->timeshift) : viewer->bytes_sent;
}

void channel_viewer_close(channel_viewer_t *viewer)
{
    if (viewer->timeshift)
        dvr_stream_close(viewer->timeshift);
    else if (!viewer->closing)
        viewer_close(viewer);
}

static void timeshift_on_end(void *opaque, uint64_t bytes)
{
    viewer_t *viewer = opaque;
    if (viewer->watch.on_end)
        viewer->watch.on_end(viewer->watch.opaque, bytes);
    free(viewer);
}

channel_viewer_t *channel_serve_timeshift(channel_t *channel, http_conn_t *conn, const channel_watch_t *watch,
                                          uint64_t from_ms)
{
    if (!channel->dvr) {
        http_respond_text(conn, 404, "channel '%s' is not recorded: no timeshift", channel->config.name);
        return NULL;
    }
    viewer_t *viewer = calloc(1, sizeof(*viewer));
    if (!viewer) {
        http_respond_text(conn, 503, "out of memory");
        return NULL;
    }
    if (watch)
        viewer->watch = *watch;
    dvr_stream_watch_t on_end = {timeshift_on_end, viewer};
    viewer->timeshift = dvr_stream_start(channel->dvr, conn, from_ms, &on_end);
    if (!viewer->timeshift) {
        free(viewer);
        return NULL;
    }
    return viewer;
}
