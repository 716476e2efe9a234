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

#define DVR_RECORD_SIZE 48         /* see index.c for the layout */
#define DVR_DISCONTINUITY 1u   /* a new timeline starts with the segment */

typedef struct dvr_entry {
    uint64_t start_ms;         /* wall clock of its first byte (its PROGRAM-DATE-TIME) */
    uint32_t duration_ms;
    uint32_t length;           /* bytes */
    uint64_t offset;           /* in its chunk's .ts file */
    uint64_t chunk;            /* the chunk's id (its name) */
    uint32_t flags;
    uint32_t preamble;         /* its first bytes are a copy of the PAT and PMT, put
                                * there so it plays alone; a stream of segments skips it */
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
/* The first entry starting at or after start_ms (by start alone: a segment
 * may end a little after the next begins); dvr_index_size() when none. */
size_t dvr_index_starting(const dvr_index_t *index, uint64_t start_ms);
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
    uint64_t chunk_max_bytes;  /* ... or bytes [1 GiB]: retention removes whole chunks, so
                                * under a size limit they must be a fraction of it */
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
/* For a limit over every channel's archive: the start of the oldest chunk
 * that may go (not the one being written; UINT64_MAX when none), and
 * removing it. */
uint64_t dvr_oldest_chunk(const dvr_t *dvr);
void dvr_drop_oldest_chunk(dvr_t *dvr);
void dvr_get_info(const dvr_t *dvr, dvr_info_t *info);
const dvr_index_t *dvr_index(const dvr_t *dvr);

/* Writes one segment now, on the caller's thread (no write may be under way:
 * for import). entry's start_ms, duration_ms and flags are used; its bytes
 * are iov. Returns 0 or -errno with err set. */
struct iovec;
int dvr_write_now(dvr_t *dvr, dvr_entry_t *entry, const struct iovec *iov, int iov_count, char *err,
                  size_t err_size);

/* ---- import.c: recordings from elsewhere ----------------------------------------------- */

typedef struct dvr_import_report {
    uint32_t segments;
    uint64_t bytes;
    uint64_t first_ms, last_ms;
} dvr_import_report_t;

/* Appends a TS file to the archive as recorded from start_ms on, in
 * segments of about target_s. It must not overlap what the archive holds.
 * Returns 0 or -errno with err set. */
int dvr_import_file(dvr_t *dvr, const char *path, uint64_t start_ms, uint32_t target_s, dvr_import_report_t *report,
                    char *err, size_t err_size);

/* ---- serve.c: playback ----------------------------------------------------------------- */

/* Serves the archive URLs under /live/<channel>/ (rest is what follows):
 * index-FROM-DUR.m3u8, archive-FROM-DUR.m3u8, index-FROM-now.m3u8,
 * timeshift_rel-SECONDS.m3u8, the segments they list, and a live playlist
 * (index.m3u8, ...) asked for with ?utc=FROM (from FROM on). Returns false
 * when rest is not an archive URL. Timeshift TS (below) is not served here:
 * it is a stream, whose viewer the caller counts. */
bool dvr_serve(dvr_t *dvr, http_conn_t *conn, const http_request_t *req, const char *rest);
/* What an archive URL asks for (the parser behind dvr_serve, on its own for
 * tests and fuzzing). */
typedef enum dvr_request_kind {
    DVR_REQUEST_NONE = 0,      /* not an archive URL */
    DVR_REQUEST_BAD,           /* one, malformed: error says how */
    DVR_REQUEST_SEGMENT,       /* dvr-MS.ts: from = MS */
    DVR_REQUEST_RANGE,         /* index|archive-FROM-DUR.m3u8 */
    DVR_REQUEST_EVENT,         /* index-FROM-now.m3u8 */
    DVR_REQUEST_TIMESHIFT,     /* timeshift_rel-DUR.m3u8 */
} dvr_request_kind_t;
typedef struct dvr_request {
    dvr_request_kind_t kind;
    uint64_t from, duration;
    char error[160];
} dvr_request_t;
/* Returns 0, or -EINVAL for DVR_REQUEST_BAD. */
int dvr_parse_request(const char *rest, uint64_t now_s, dvr_request_t *out);
/* For timeshift_abs-UNIX.ts and timeshift_rel-SECONDS.ts: the moment the
 * stream starts from (ms), or 0 when rest is not one of them. */
uint64_t dvr_timeshift_start(const char *rest);

/* ---- stream.c: timeshift over HTTP-TS ------------------------------------------------------ */

typedef struct dvr_stream dvr_stream_t;
typedef struct dvr_stream_watch {
    void (*on_end)(void *opaque, uint64_t bytes);
    void *opaque;
} dvr_stream_watch_t;

/* Streams the archive from from_ms on conn (taking it), paced in real time.
 * Answers an error itself (and returns NULL) when nothing is recorded then,
 * as for HEAD; otherwise watch->on_end is called once when it ends. */
dvr_stream_t *dvr_stream_start(dvr_t *dvr, http_conn_t *conn, uint64_t from_ms, const dvr_stream_watch_t *watch);
void dvr_stream_close(dvr_stream_t *stream);
uint64_t dvr_stream_bytes(const dvr_stream_t *stream);

#endif
