// SPDX-License-Identifier: MIT
// dvr_private.h -- private to dvr/: the archive's state, shared by writer.c
// (recording), serve.c (playlists, segments) and stream.c (timeshift).
#ifndef ANTENNE_DVR_PRIVATE_H
#define ANTENNE_DVR_PRIVATE_H

#include "dvr/dvr.h"

#include <sys/uio.h>

typedef struct pending {
    struct pending *next;
    dvr_entry_t entry;              /* offset, length and chunk are set by the write */
    block_t *psi;
    block_t **blocks;
    uint32_t block_count;
    /* Its bytes, gathered on the loop (a block's size may grow there while
     * the worker writes; the bytes below it never change). */
    struct iovec *iov;
    int iov_count;
} pending_t;

struct dvr {
    uv_loop_t *loop;
    dvr_options_t options;
    char *dir, *name;
    dvr_index_t index;

    /* The chunk being written: the worker's while a write is under way. */
    int ts_fd, idx_fd;
    uint64_t chunk_id, chunk_start_ms, chunk_bytes, chunk_records;
    bool rotate;                    /* start a new chunk with the next segment */

    pending_t *head, *tail;
    size_t queued;
    pending_t *writing;             /* under way, or NULL */
    uint64_t *doomed;               /* chunks the write under way deletes first */
    size_t doomed_count;
    uv_work_t work;
    bool busy;
    int error;                      /* of the last write: 0 or -errno */
    char error_what[64];

    dvr_stream_t *streams;          /* timeshift viewers */

    dvr_state_t state;
    char reason[256];
    uint64_t retry_ms;              /* stopped: when to try again */
    uint64_t dropped;
    bool closing;
};

/* writer.c: the timeshift viewers of an archive */
void dvr_link_stream(dvr_t *dvr, dvr_stream_t *stream);
void dvr_unlink_stream(dvr_t *dvr, dvr_stream_t *stream);

/* stream.c */
dvr_stream_t *dvr_stream_next(const dvr_stream_t *stream);
dvr_stream_t **dvr_stream_next_ref(dvr_stream_t *stream);
void dvr_stream_set_next(dvr_stream_t *stream, dvr_stream_t *next);
/* The archive closes: the stream ends without it. */
void dvr_stream_orphan(dvr_stream_t *stream);

/* serve.c */
/* Reads the entry's bytes from path into a new block (on a worker thread).
 * Returns 0 or -errno. */
int dvr_read_segment(const char *path, const dvr_entry_t *entry, block_t **out);
/* "the archive covers A to B" (Unix seconds), or that it is empty. */
void dvr_describe(const dvr_index_t *index, char *out, size_t size);

#endif
