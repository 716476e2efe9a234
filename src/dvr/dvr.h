// SPDX-License-Identifier: MIT
// dvr.h -- a channel's archive: its complete HLS segments appended to large
// files on disk, indexed by wall-clock time, crash-safe and trimmed by age
// and size; and what players fetch from it (catch-up playlists, segments).
#ifndef ANTENNE_DVR_H
#define ANTENNE_DVR_H

#include "core/core.h"
#include "hls/hls.h"
#include "http/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* ---- index.c: the archive on disk and in memory ---------------------------------------
 *
 * A channel's folder holds chunks: NNNN.ts (segments, back to back) and
 * NNNN.idx (one 48-byte record per segment, written after its bytes), NNNN
 * being the wall-clock milliseconds of the chunk's first segment. A record
 * is only written once its segment is on disk, so a crash leaves at most one
 * segment's bytes past the last record: loading cuts them off. */

#define DVR_RECORD_SIZE 48
#define DVR_DISCONTINUITY 1u   /* a new timeline starts with the segment */

typedef struct dvr_entry {
    uint64_t start_ms;         /* wall clock of its first byte (its PROGRAM-DATE-TIME) */
    uint32_t duration_ms;
    uint32_t length;           /* bytes */
    uint64_t offset;           /* in its chunk's .ts file */
    uint64_t chunk;            /* the chunk's id (its name) */
    uint32_t flags;
} dvr_entry_t;

typedef struct dvr_chunk {
    uint64_t id;
    uint64_t bytes;            /* of its .ts file that the index covers */
    uint64_t end_ms;           /* end of its last segment */
} dvr_chunk_t;

/* Entries in time order; chunks likewise. Owned by one thread (the loop). */
typedef struct dvr_index {
    dvr_entry_t *entries;
    size_t first, count, cap;  /* live entries are [first, count) */
    uint64_t dropped;          /* entries dropped from the front so far: entry i is
                                * number dropped + i, for media sequence numbers */
    dvr_chunk_t *chunks;
    size_t chunk_first, chunk_count, chunk_cap;
    uint64_t bytes;            /* of every live chunk */
} dvr_index_t;

/* What loading found wrong and put right. */
typedef struct dvr_repair {
    uint32_t chunks;           /* chunks loaded */
    uint32_t torn_records;     /* records cut off the end of an index */
    uint64_t torn_bytes;       /* segment bytes past the last good record, cut off */
    uint32_t removed_chunks;   /* chunks with nothing valid, deleted */
} dvr_repair_t;

void dvr_index_init(dvr_index_t *index);
void dvr_index_free(dvr_index_t *index);
/* Reads (creating it if needed) the folder's chunks, checking every record
 * against its file: the first bad one and everything after it are cut off,
 * the data file truncated to match. Returns 0 or -errno with err set. */
int dvr_index_load(dvr_index_t *index, const char *dir, dvr_repair_t *repair, char *err, size_t err_size);
int dvr_index_append(dvr_index_t *index, const dvr_entry_t *entry);
/* Forgets the oldest chunk and its entries (the caller deletes the files). */
void dvr_index_drop_oldest(dvr_index_t *index);
size_t dvr_index_size(const dvr_index_t *index);
const dvr_entry_t *dvr_index_at(const dvr_index_t *index, size_t i);
/* The first entry that ends after at_ms (the one playing at at_ms, or the
 * next one), as an index for dvr_index_at; dvr_index_size() when none. */
size_t dvr_index_find(const dvr_index_t *index, uint64_t at_ms);
/* The entry starting exactly at start_ms, or NULL. */
const dvr_entry_t *dvr_index_exact(const dvr_index_t *index, uint64_t start_ms);

void dvr_record_encode(const dvr_entry_t *entry, uint8_t out[DVR_RECORD_SIZE]);
/* Returns 0, or -EINVAL when the record is not one (magic, CRC). */
int dvr_record_decode(const uint8_t in[DVR_RECORD_SIZE], uint64_t chunk, dvr_entry_t *entry);
/* "DIR/%016llu.ts" or ".idx" */
void dvr_chunk_path(const char *dir, uint64_t chunk, const char *suffix, char *out, size_t out_size);

/* ---- writer.c: recording ------------------------------------------------------------- */

typedef void (*dvr_event_fn)(void *ctx, const char *kind, const char *message);

typedef struct dvr_options {
    const char *dir;           /* the channel's folder */
    const char *name;          /* the channel, for logs */
    uint64_t max_age_s;        /* retention by age; 0: no limit */
    uint64_t max_bytes;        /* retention by size; 0: no limit */
    uint32_t chunk_s;          /* a new chunk every chunk_s seconds [3600] */
    bool no_sync;              /* skip fdatasync (tests and benchmarks of CPU cost only) */
    uint32_t retry_ms;         /* a stopped archive tries again this often [5000] */
    dvr_event_fn on_event;     /* "archive": stopped, resumed, repaired */
    void *event_ctx;
} dvr_options_t;

typedef enum dvr_state {
    DVR_RECORDING = 0,
    DVR_STOPPED,               /* a write failed (e.g. disk full); retried every few seconds */
} dvr_state_t;

typedef struct dvr_info {
    dvr_state_t state;
    const char *reason;        /* why it stopped, or "" */
    uint64_t first_ms, last_ms;/* what the archive covers (0, 0 when empty) */
    size_t segments;
    uint64_t bytes;
    uint64_t dropped;          /* segments not recorded (stopped, or too many pending) */
} dvr_info_t;

typedef struct dvr dvr_t;

/* Loads the archive (repairing it) and gets ready to record. Returns NULL
 * with err set on failure. */
dvr_t *dvr_open(uv_loop_t *loop, const dvr_options_t *options, char *err, size_t err_size);
/* Stops recording; the memory goes once the write under way has finished. */
void dvr_close(dvr_t *dvr);
/* Records a complete segment (an hls_segment_fn: ctx is the dvr). */
void dvr_record(void *dvr, const hls_segment_view_t *segment);
/* Retention settings may change while it runs. */
void dvr_set_retention(dvr_t *dvr, uint64_t max_age_s, uint64_t max_bytes);
void dvr_get_info(const dvr_t *dvr, dvr_info_t *info);
const dvr_index_t *dvr_index(const dvr_t *dvr);
const char *dvr_dir(const dvr_t *dvr);
uv_loop_t *dvr_loop(const dvr_t *dvr);

/* ---- serve.c: playback ----------------------------------------------------------------- */

/* Serves the archive URLs under /live/<channel>/ (rest is what follows):
 * index-FROM-DUR.m3u8, archive-FROM-DUR.m3u8, index-FROM-now.m3u8 and the
 * segments they list. Returns false when rest is not an archive URL. */
bool dvr_serve(dvr_t *dvr, http_conn_t *conn, const http_request_t *req, const char *rest);

#endif
