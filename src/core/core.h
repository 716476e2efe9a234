// SPDX-License-Identifier: MIT
// core.h -- what every area may use: logging, refcounted blocks, clocks,
// growable strings and strict number parsing.
#ifndef ANTENNE_CORE_H
#define ANTENNE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- logging ------------------------------------------------------------ */

typedef enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR,
} log_level_t;

/* The threshold is process-wide: it is set once at start-up from the command
 * line and read by every thread, so it is the one mutable global we keep. */
void log_set_level(log_level_t level);
log_level_t log_get_level(void);
int log_level_parse(const char *name, log_level_t *out);

/* One line to stderr: "<UTC time> <level> <area>: <message>". */
void log_msg(log_level_t level, const char *area, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(area, ...) do { if (log_get_level() <= LOG_DEBUG) log_msg(LOG_DEBUG, area, __VA_ARGS__); } while (0)
#define log_info(area, ...)  log_msg(LOG_INFO, area, __VA_ARGS__)
#define log_warn(area, ...)  log_msg(LOG_WARN, area, __VA_ARGS__)
#define log_error(area, ...) log_msg(LOG_ERROR, area, __VA_ARGS__)

/* ---- blocks ------------------------------------------------------------- */

/* A block is a run of bytes shared by every reader of a channel: the ring,
 * viewers' in-flight writes, and later segments and the archive writer.
 * Bytes below `size` never change once written; only the owner that appends
 * (the channel) may grow `size`.  Refcounts are plain integers: every block
 * lives on one event loop. */
typedef struct block {
    uint32_t refs;
    uint32_t size;
    uint32_t capacity;
    uint64_t seq;       /* position of the block in its ring, 0-based */
    uint8_t data[];
} block_t;

/* Returns a new block with one reference, or NULL when out of memory. */
block_t *block_new(uint32_t capacity, uint64_t seq);
/* Returns the same block with one more reference. */
block_t *block_ref(block_t *block);
/* Drops one reference; frees the block with the last one. NULL is allowed. */
void block_unref(block_t *block);

/* ---- clocks --------------------------------------------------------------- */

uint64_t clock_mono_us(void);   /* monotonic, microseconds */
uint64_t clock_wall_ms(void);   /* UTC wall clock, milliseconds since 1970 */
/* Formats `wall_ms` as 2026-11-28T14:00:00.123Z into out (at least 25 bytes). */
void clock_format_iso(uint64_t wall_ms, char *out, size_t out_size);

/* ---- busy.c: what the event loop is doing ------------------------------------------- */

#define BUSY_NAME_MAX 128

/* Marks a step of the loop's own work, e.g. ("channel", "news") or
 * ("request", "GET /live/news.ts"); name is copied. Loop thread only. */
void busy_begin(const char *what, const char *name);
void busy_end(void);
/* The step under way ("what name"), or "" between steps. */
const char *busy_current(void);
/* The longest step since the last call ("what name" into name) and how long
 * it took in microseconds (0 and "" when none ended); starts a new period. */
uint64_t busy_take_longest(char *name, size_t size);

/* ---- growable strings ------------------------------------------------------ */

/* An append-only string. On allocation failure `failed` is set, further
 * appends do nothing, and the caller reports -ENOMEM once at the end. */
typedef struct strbuf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} strbuf_t;

void strbuf_init(strbuf_t *sb);
void strbuf_free(strbuf_t *sb);
void strbuf_append(strbuf_t *sb, const char *bytes, size_t len);
void strbuf_puts(strbuf_t *sb, const char *str);
void strbuf_printf(strbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (who frees them); the strbuf is left empty. */
char *strbuf_steal(strbuf_t *sb, size_t *len);

/* ---- strict parsing --------------------------------------------------------- */

/* Parses a whole decimal string into [min, max]. Returns 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *str, uint64_t min, uint64_t max, uint64_t *out);
/* The same over a non-terminated slice. */
int parse_u64_n(const char *str, size_t len, uint64_t min, uint64_t max, uint64_t *out);
/* A channel or object name: [a-z0-9_-]{1,64}. */
bool parse_name_valid(const char *name);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

/* ---- described objects ---------------------------------------------------- */

/* Each managed object (channel, later subscriber, package) is described once
 * by a table of fields; the store's columns, the API's JSON and the CLI's
 * options all follow from that table instead of four hand-written copies. */
typedef enum field_type {
    FIELD_STRING,   /* char * (NULL or owned) */
    FIELD_INT,      /* int64_t */
    FIELD_BOOL,     /* bool */
    FIELD_ENUM,     /* int: index into choices */
    FIELD_STRINGS,  /* strlist_t */
} field_type_t;

typedef struct strlist {
    char **items;
    size_t count;
} strlist_t;

/* Field flags. */
#define FIELD_READONLY 1u  /* shown, stored, but never set by the API or CLI (only by the server itself) */
#define FIELD_SECRET 2u    /* never shown in JSON or listings (password hashes, keys) */
#define FIELD_AUTO 4u      /* filled by the store (created_at, updated_at): ignored on insert and update */

typedef struct field {
    const char *name;             /* column, JSON key; CLI flag with '_' as '-' */
    field_type_t type;
    size_t offset;
    int64_t min, max;             /* ints: range; strings: max length */
    const char *const *choices;   /* enums, NULL-terminated */
    const char *help;
    /* Checks a value beyond type and range; returns 0 or -EINVAL with a
     * message in err. May be NULL. */
    int (*check)(const char *value, char *err, size_t err_size);
    unsigned flags;               /* FIELD_READONLY, FIELD_SECRET */
} field_t;

/* Sets a field from text (FIELD_STRINGS appends). Returns 0, or -EINVAL with
 * a message naming the field and what is wrong. */
int fields_set(const field_t *field, void *object, const char *value, char *err, size_t err_size);
/* Frees what the fields own and zeroes them. */
void fields_clear(const field_t *fields, size_t count, void *object);
/* Deep copy; returns 0 or -ENOMEM (dst is then cleared). */
int fields_copy(const field_t *fields, size_t count, void *dst, const void *src);
bool fields_equal(const field_t *field, const void *a, const void *b);
const field_t *fields_find(const field_t *fields, size_t count, const char *name);
/* The check of a `name` field: parse_name_valid(), with the message. */
int fields_check_name(const char *value, char *err, size_t err_size);

int strlist_push(strlist_t *list, const char *item);
void strlist_clear(strlist_t *list);

/* ---- rings ---------------------------------------------------------------- */

/* The ring of shared blocks a channel writes once and every reader uses.
 *
 * Invariants:
 *  - Bytes are addressed by an absolute position that only grows. A block
 *    holds RING_BLOCK_SIZE bytes (a whole number of TS packets) and block
 *    number s covers [s * RING_BLOCK_SIZE, (s + 1) * RING_BLOCK_SIZE).
 *  - The ring keeps blocks first_seq..current->seq; older ones are released
 *    (a reader's in-flight write may still hold them by reference).
 *  - Keyframes are remembered by position, each with the PAT/PMT packets
 *    last seen before it, so a reader can start there with a clean picture.
 */

#define RING_BLOCK_SIZE (188u * 348u) /* 65424 bytes: whole TS packets */
#define RING_KEYFRAMES 64
#define RING_PSI_MAX (188u * 4u)

typedef struct ring_keyframe {
    uint64_t pos;
    block_t *psi;  /* PAT + PMT packets to send before pos; owned */
    bool complete; /* the next picture has started: the keyframe is whole */
} ring_keyframe_t;

typedef struct ring {
    block_t **slots;
    size_t slot_count;
    uint64_t first_seq;
    block_t *current;        /* block being written, also in slots */
    ring_keyframe_t keyframes[RING_KEYFRAMES];
    unsigned keyframe_count;
    unsigned keyframe_next;  /* where the next one is stored */
} ring_t;

/* Keeps at least max_bytes of history. Returns 0 or -ENOMEM. */
int ring_init(ring_t *ring, size_t max_bytes);
void ring_clear(ring_t *ring);
/* Appends whole packets (len a multiple of 188). Returns 0 or -ENOMEM. */
int ring_append(ring_t *ring, const uint8_t *data, size_t len);
/* Absolute position of the next byte to be written. */
uint64_t ring_end(const ring_t *ring);
/* Position of the oldest byte still in the ring. */
uint64_t ring_start(const ring_t *ring);
/* The block holding pos (borrowed), or NULL if it has left the ring. */
block_t *ring_block_at(const ring_t *ring, uint64_t pos);
/* Records a keyframe at pos with the PSI that precedes it (copied).
 * Returns that PSI as a block (borrowed: ref it to keep it), or NULL when
 * out of memory. */
block_t *ring_add_keyframe(ring_t *ring, uint64_t pos, const uint8_t *psi, size_t psi_len);
/* The next video PES began: the newest keyframe is now whole. */
void ring_keyframe_completed(ring_t *ring);
/* The newest whole keyframe still inside the ring (else the newest one), so
 * a new reader gets a complete picture at once; NULL when there is none. */
const ring_keyframe_t *ring_newest_keyframe(const ring_t *ring);
/* Forgets keyframes (a new source starts with different PIDs). */
void ring_forget_keyframes(ring_t *ring);

#endif
