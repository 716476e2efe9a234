// SPDX-License-Identifier: MIT
// epg.h -- the electronic programme guide: XMLTV files in (a streaming
// parser and an import into the store), XMLTV out (a subscriber's guide,
// plain or gzip). Reference: the XMLTV DTD 0.5 (xmltv.dtd, Debian
// libxmltv-perl: /usr/share/xmltv/xmltv.dtd).
#ifndef ANTENNE_EPG_H
#define ANTENNE_EPG_H

#include "core/core.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits ------------------------------------------------------------------ */

/* Every field the parser keeps is capped, so memory stays bounded whatever
 * the file. A longer field is an error (not a truncation): a real guide
 * never comes close, and a file that does is broken or hostile, which the
 * operator should hear about rather than get a guide cut short. */
#define EPG_ID_MAX 255         /* bytes of a channel id (<channel id>, <programme channel>) */
#define EPG_TEXT_MAX 8192      /* bytes of any other field: titles, desc, URLs, ... */
#define EPG_LANG_MAX 32        /* bytes of a display-name's lang */
#define EPG_NAMES_MAX 8        /* display-names kept per channel; later ones are ignored */

/* ---- times ---------------------------------------------------------------------- */

/* Parses an XMLTV time, "YYYYMMDDhhmm[ss][ ][±hhmm|Z|UTC|GMT]" (no zone:
 * UTC, as the DTD says), into Unix seconds UTC. Surrounding whitespace is
 * allowed; the shorter date-only forms the DTD permits elsewhere are not
 * (a programme needs its minute). Returns 0 or -EINVAL. */
int epg_time_parse(const char *text, int64_t *out);
/* Formats Unix seconds as "YYYYMMDDhhmmss +0000" into out (at least 21
 * bytes). Returns 0, or -ERANGE outside years 0000-9999 (out is then ""). */
int epg_time_format(int64_t t, char *out, size_t out_size);

/* ---- xmltv.c: the streaming parser ---------------------------------------------- */

/* One <channel>. Strings are borrowed, valid during the callback only. */
typedef struct epg_channel {
    const char *id;                          /* never empty */
    const char *names[EPG_NAMES_MAX];        /* display-names in file order, trimmed */
    const char *langs[EPG_NAMES_MAX];        /* lang of each, or NULL */
    size_t name_count;                       /* may be 0 */
    const char *icon;                        /* src of the first <icon>, or NULL */
} epg_channel_t;

/* One <programme>: the fields antenne keeps, as the store takes them (its
 * `channel` is the XMLTV channel id here). Text is trimmed; optional fields
 * are NULL when absent or empty; of repeated elements the first is kept.
 * `episode` is the xmltv_ns episode-num, only when well-formed. When the
 * file gives no stop, `stop` is 0 (the importer then ends the programme at
 * the channel's next start). Valid during the callback only. */
typedef struct epg_programme {
    store_programme_t p;
    bool has_stop;
} epg_programme_t;

/* What the parser calls, in file order. Either callback may be NULL. A
 * callback returns 0 to go on, or a negative errno to stop the parse (no
 * callback follows); it may then write what was wrong into err, which the
 * parser prefixes with the line and column of the element and returns. */
typedef struct epg_xmltv_handler {
    int (*channel)(void *ctx, const epg_channel_t *channel, char *err, size_t err_size);
    int (*programme)(void *ctx, const epg_programme_t *programme, char *err, size_t err_size);
    void *ctx;
} epg_xmltv_handler_t;

typedef struct epg_xmltv_stats {
    uint64_t bytes_in;    /* bytes read (compressed when the input is gzip) */
    uint64_t bytes_xml;   /* XML bytes parsed (after gunzip) */
    uint64_t channels;
    uint64_t programmes;
} epg_xmltv_stats_t;

/* Parses XMLTV from fd (borrowed, read to its end, not closed) in 64 KiB
 * chunks, gunzipping transparently when the input starts with the gzip
 * magic, whatever its name. Memory stays under 2 MiB whatever the file
 * size: nothing of the document is kept past its callback.
 *
 * Encodings: UTF-8, UTF-16 (BOM or declaration), ISO-8859-1, US-ASCII,
 * ISO-8859-15 and windows-1252; any other is an error. Refused: malformed
 * XML, a root other than <tv>, entity declarations (<!ENTITY>: no
 * expansion attacks) and references to undeclared entities, external
 * entities (never loaded), more than 1000 DTD declarations, a single tag
 * or comment over 1 MiB, elements nested over 64 deep, fields over the
 * limits above, a channel without id, a programme without channel, start
 * or title, a start or stop that is not an XMLTV time, a stop before the
 * start, a gzip stream that is corrupt or cut short. Elements antenne does
 * not keep (credits, rating, ...) are skipped, whatever they hold.
 *
 * Returns 0 after the whole file, or: -EINVAL for bad input, -EIO for a
 * read error, -ENOMEM, or what a callback returned. On error err says
 * where and what, e.g. "line 1234, column 5: programme start '2026-13-01
 * 00:00' is not an XMLTV time (YYYYMMDDhhmmss +hhmm)". Callbacks made
 * before an error stand: the caller decides what an error undoes. stats
 * may be NULL; it is filled on success and on failure. */
int epg_xmltv_parse_fd(int fd, const epg_xmltv_handler_t *handler, epg_xmltv_stats_t *stats, char *err,
                       size_t err_size);
/* The same over bytes in memory (borrowed). */
int epg_xmltv_parse_mem(const void *data, size_t size, const epg_xmltv_handler_t *handler, epg_xmltv_stats_t *stats,
                        char *err, size_t err_size);

/* ---- import.c: a file into the store -------------------------------------------- */

/* One of our channels, as the importer matches it. Borrowed strings. */
typedef struct epg_map_channel {
    const char *name;     /* our channel name: the store's key */
    const char *tvg_id;   /* NULL or "": none */
    const char *title;    /* NULL: the name */
} epg_map_channel_t;

typedef struct epg_channel_map {
    const epg_map_channel_t *channels;
    size_t count;
} epg_channel_map_t;

typedef struct epg_import_options {
    int64_t now;   /* Unix seconds; 0: the wall clock */
    int days;      /* keep programmes that start before now + days; 0: 7 */
} epg_import_options_t;

typedef struct epg_report {
    uint64_t channels_seen;       /* <channel> elements */
    uint64_t channels_mapped;     /* ... that matched one of ours or more */
    size_t channels_unguided;     /* of our channels, those no XMLTV channel matched */
    uint64_t programmes_seen;
    uint64_t programmes_stored;   /* rows added (one per our channel it maps to) */
    uint64_t skipped_unmapped;    /* programmes of channels that are not ours */
    uint64_t skipped_window;      /* ending before now - 1 day or starting after now + days */
    uint64_t skipped_no_stop;     /* no stop and no later programme on the channel to end it */
    uint64_t bytes_in;            /* bytes read from the file (compressed if gzip) */
    uint64_t bytes_xml;           /* XML bytes parsed */
    double seconds;
} epg_report_t;

/* Replaces the programmes of EPG source `source` (a name of the caller's
 * choosing, e.g. the source's URL or id) with those of the XMLTV file at
 * `path` (plain or gzip; a local file: to import from http, the caller
 * downloads into a temporary file first).
 *
 * Matching: an XMLTV channel feeds every channel of ours whose tvg_id
 * equals its id (one guide channel may feed an HD and an SD channel). A
 * channel of ours without a tvg_id is fed instead by the first <channel>
 * with a display-name equal to its title (trimmed, case-insensitive for
 * Latin, Greek and Cyrillic letters). Programmes of other channels are
 * skipped; a programme without stop ends where the next one of its channel
 * starts.
 *
 * Kept: programmes ending after now - 1 day and starting before now + days.
 *
 * Atomic: on success every programme of the source is replaced at once;
 * on any error (bad file, store failure) nothing changes and err says why
 * (with the line and column for a bad file). Blocks (disk, store): call it
 * from a worker thread. report and options may be NULL. Returns 0 or a
 * negative errno as epg_xmltv_parse_fd, -ENOENT etc. when the file cannot
 * be opened, or the store's error. */
int epg_import(store_t *store, const char *source, const char *path, const epg_channel_map_t *map,
               const epg_import_options_t *options, epg_report_t *report, char *err, size_t err_size);

/* ---- write.c: XMLTV out --------------------------------------------------------- */

/* Where output goes: returns 0, or a negative errno that stops the writer. */
typedef int (*epg_sink_fn)(void *ctx, const void *bytes, size_t len);
/* A sink appending to the strbuf_t *ctx (-ENOMEM when it failed). */
int epg_sink_strbuf(void *ctx, const void *bytes, size_t len);

/* One channel of a guide. Borrowed strings. */
typedef struct epg_out_channel {
    const char *name;           /* our channel name: its programmes in the store */
    const char *id;             /* XMLTV id: the channel's tvg_id if set, else its
                                 * name -- the tvg-id the M3U playlist gives */
    const char *display_name;   /* its title */
    const char *icon;           /* logo URL, or NULL */
} epg_out_channel_t;

/* A streaming XMLTV writer: <tv generator-info-name="antenne">, then every
 * channel, then programmes, then </tv>. Text is escaped (& < > "), control
 * characters, non-characters and invalid UTF-8 are dropped, newlines are
 * kept only in <desc>; times are written with their offset
 * ("20261128140000 +0000"). Output goes to the sink in pieces of about
 * 64 KiB, deflated into one gzip member when gzip is set. */
typedef struct epg_writer epg_writer_t;

/* Writes the header. Returns 0 or -ENOMEM. */
int epg_writer_new(bool gzip, epg_sink_fn sink, void *ctx, epg_writer_t **out);
/* All channels before any programme (the DTD's order). A channel without
 * id is skipped. Returns 0 or the first error so far (sink, -ENOMEM,
 * -EPROTO for a channel after a programme). */
int epg_writer_channel(epg_writer_t *writer, const epg_out_channel_t *channel);
/* A programme of the channel with XMLTV id channel_id (programme->channel
 * is ignored). One without a usable title or time is skipped. */
int epg_writer_programme(epg_writer_t *writer, const char *channel_id, const store_programme_t *programme);
/* Writes </tv>, flushes and frees the writer. Returns 0 or the first error
 * the writer met (the output is then incomplete). */
int epg_writer_end(epg_writer_t *writer);
/* Frees the writer without finishing (NULL allowed). */
void epg_writer_abort(epg_writer_t *writer);

/* A subscriber's guide: the channels (each XMLTV id once: the first
 * channel with an id supplies its programmes), then their programmes that
 * overlap [from, to) from the store. Blocks (store): call it from a worker
 * thread. The sink runs while the store is being read (its lock held):
 * keep it quick, e.g. epg_sink_strbuf, and send the result afterwards.
 * Returns 0 or a negative errno with a message in err. */
int epg_write_guide(store_t *store, const epg_out_channel_t *channels, size_t count, int64_t from, int64_t to,
                    bool gzip, epg_sink_fn sink, void *ctx, char *err, size_t err_size);

#endif
