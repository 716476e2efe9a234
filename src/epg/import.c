// SPDX-License-Identifier: MIT
// import.c -- an XMLTV file into the store: channels matched to ours,
// programmes filtered to the window and stored in one import that commits
// whole or not at all.
//
// Memory is bounded by our channels, not by the file: the tables below hold
// one target per XMLTV channel that feeds ours (by tvg_id, or claimed by
// display-name), and each target at most one programme waiting for its
// stop time. Everything else flows from the parser to the store through a
// bounded queue.
//
// Parsing and storing each take about half of an import's time, so they run
// side by side: the parser (in the caller's thread) queues the programmes
// it keeps; a thread of the import's own adds them to the store. The queue
// holds at most QUEUE_BYTES (the parser waits while it is full, and the
// store thread takes it whole, so 2 x QUEUE_BYTES at most are in flight).
// The first store error stops the store thread; the parser sees it at its
// next programme and stops too. The store thread is joined before commit
// or abort, which the caller's thread then does.
#include "epg/epg_private.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- a small string-keyed table (open addressing, FNV-1a) --------------------------- */

typedef struct table {
    char **keys;
    void **values;
    size_t cap, count;   /* cap: a power of two, at least twice count */
} table_t;

static uint64_t hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void *table_get(const table_t *t, const char *key)
{
    if (!t->cap)
        return NULL;
    for (size_t i = hash(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->keys[i])
            return NULL;
        if (strcmp(t->keys[i], key) == 0)
            return t->values[i];
    }
}

/* Adds key (copied) -> value; the key must be absent. 0 or -ENOMEM. */
static int table_put(table_t *t, const char *key, void *value)
{
    if ((t->count + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        table_t bigger = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(void *)), cap, 0};
        if (!bigger.keys || !bigger.values) {
            free(bigger.keys);
            free(bigger.values);
            return -ENOMEM;
        }
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->keys[i])
                continue;
            size_t j = hash(t->keys[i]) & (cap - 1);
            while (bigger.keys[j])
                j = (j + 1) & (cap - 1);
            bigger.keys[j] = t->keys[i];
            bigger.values[j] = t->values[i];
        }
        bigger.count = t->count;
        free(t->keys);
        free(t->values);
        *t = bigger;
    }
    char *copy = strdup(key);
    if (!copy)
        return -ENOMEM;
    size_t i = hash(key) & (t->cap - 1);
    while (t->keys[i])
        i = (i + 1) & (t->cap - 1);
    t->keys[i] = copy;
    t->values[i] = value;
    t->count++;
    return 0;
}

static void table_free(table_t *t, void (*free_value)(void *))
{
    for (size_t i = 0; i < t->cap; i++) {
        if (t->keys[i] && free_value)
            free_value(t->values[i]);
        free(t->keys[i]);
    }
    free(t->keys);
    free(t->values);
}

/* ---- matching titles ---------------------------------------------------------------- */

/* A title folded for comparison: trimmed, runs of spaces made one, Latin
 * (ASCII and Latin-1), Greek and Cyrillic capitals made small. Byte
 * lengths do not change, so out needs strlen(in) + 1 bytes. */
static void fold_title(const char *in, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    bool space = false;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    for (; *s; s++) {
        unsigned char c = *s;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = true;
            continue;
        }
        if (space && o != (unsigned char *)out)
            *o++ = ' ';
        space = false;
        if (c >= 'A' && c <= 'Z') {
            *o++ = c + 32;
        } else if (c == 0xC3 && s[1] >= 0x80 && s[1] <= 0x9E && s[1] != 0x97) { /* À-Þ but × */
            *o++ = c, *o++ = s[1] + 0x20, s++;
        } else if (c == 0xCE && s[1] >= 0x91 && s[1] <= 0x9F) { /* Α-Ο */
            *o++ = c, *o++ = s[1] + 0x20, s++;
        } else if (c == 0xCE && s[1] >= 0xA0 && s[1] <= 0xA9 && s[1] != 0xA2) { /* Π-Ω */
            *o++ = 0xCF, *o++ = s[1] - 0x20, s++;
        } else if (c == 0xD0 && s[1] >= 0x90 && s[1] <= 0x9F) { /* А-П */
            *o++ = c, *o++ = s[1] + 0x20, s++;
        } else if (c == 0xD0 && s[1] >= 0xA0 && s[1] <= 0xAF) { /* Р-Я */
            *o++ = 0xD1, *o++ = s[1] - 0x20, s++;
        } else if (c == 0xD0 && s[1] >= 0x80 && s[1] <= 0x8F) { /* Ѐ-Џ */
            *o++ = 0xD1, *o++ = s[1] + 0x10, s++;
        } else {
            *o++ = c;
        }
    }
    *o = '\0';
}

/* ---- the import ---------------------------------------------------------------------- */

#define QUEUE_BYTES (4u << 20)

typedef struct target target_t;

/* A programme on its way to the store: one allocation, the strings after
 * the struct. */
typedef struct row {
    struct row *next;
    const target_t *target;   /* whose channels get it */
    size_t size;
    store_programme_t p;      /* p.channel: the XMLTV id */
    char text[];
} row_t;

/* An XMLTV channel that feeds channels of ours. */
struct target {
    size_t *channels;        /* indexes into the map */
    size_t count;
    bool seen;               /* its <channel> was in the file */
    uint64_t programmes;
    row_t *pending;          /* a programme without stop, waiting for the next start */
};

/* Our channels without tvg_id that share one folded title. */
typedef struct title_group {
    size_t *channels;
    size_t count;
    bool claimed;
} title_group_t;

/* The store thread and the queue it drains; the fields under lock are
 * shared with the parser. */
typedef struct writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* rows queued, or done */
    pthread_cond_t room;      /* the queue was taken */
    row_t *head, *tail;       /* under lock */
    size_t bytes;             /* under lock */
    bool done, cancel;        /* under lock */
    int rc;                   /* under lock: the first store error */
    char err[256];            /* set with rc */
    store_t *store;
    store_epg_import_t *txn;
    const epg_map_channel_t *channels;
    uint64_t stored;          /* the thread's own until joined */
} writer_t;

typedef struct import {
    store_t *store;
    const epg_channel_map_t *map;
    epg_report_t *report;
    int64_t keep_from, keep_to;
    table_t targets;         /* XMLTV id -> target_t */
    table_t titles;          /* folded title -> title_group_t */
    /* Programmes come grouped by channel: the last lookup, remembered. */
    char last_id[EPG_ID_MAX + 1];
    target_t *last_target;
    writer_t writer;
} import_t;

static size_t text_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *text_copy(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = memcpy(*at, s, n);
    *at += n;
    return copy;
}

static row_t *row_new(const store_programme_t *p, const target_t *target)
{
    size_t size = sizeof(row_t) + text_size(p->channel) + text_size(p->title) + text_size(p->subtitle) +
                  text_size(p->description) + text_size(p->category) + text_size(p->episode) + text_size(p->icon);
    row_t *row = malloc(size);
    if (!row)
        return NULL;
    char *at = row->text;
    row->next = NULL;
    row->target = target;
    row->size = size;
    row->p = (store_programme_t){
        .channel = text_copy(&at, p->channel),
        .start = p->start,
        .stop = p->stop,
        .title = text_copy(&at, p->title),
        .subtitle = text_copy(&at, p->subtitle),
        .description = text_copy(&at, p->description),
        .category = text_copy(&at, p->category),
        .episode = text_copy(&at, p->episode),
        .icon = text_copy(&at, p->icon),
    };
    return row;
}

static void rows_free(row_t *row)
{
    while (row) {
        row_t *next = row->next;
        free(row);
        row = next;
    }
}

static void target_free(void *value)
{
    target_t *t = value;
    rows_free(t->pending);
    free(t->channels);
    free(t);
}

static void title_group_free(void *value)
{
    title_group_t *g = value;
    free(g->channels);
    free(g);
}

static int push_index(size_t **list, size_t *count, size_t index)
{
    size_t *grown = realloc(*list, (*count + 1) * sizeof(**list));
    if (!grown)
        return -ENOMEM;
    grown[(*count)++] = index;
    *list = grown;
    return 0;
}

/* ---- the store thread ------------------------------------------------------------- */

/* Adds one row for each channel of its target; 0 or the store's error. */
static int writer_store(writer_t *w, const row_t *row)
{
    const target_t *t = row->target;
    for (size_t i = 0; i < t->count; i++) {
        store_programme_t p = row->p;
        p.channel = w->channels[t->channels[i]].name;
        int rc = store_epg_add(w->txn, &p);
        if (rc < 0) {
            pthread_mutex_lock(&w->lock);
            w->rc = rc;
            snprintf(w->err, sizeof(w->err), "storing it: %s", store_last_error(w->store));
            pthread_mutex_unlock(&w->lock);
            return rc;
        }
        w->stored++;
    }
    return 0;
}

static void *writer_main(void *arg)
{
    writer_t *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->done)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head)
            break;
        row_t *batch = w->head;
        w->head = w->tail = NULL;
        w->bytes = 0;
        bool skip = w->rc != 0 || w->cancel;
        pthread_cond_signal(&w->room);
        pthread_mutex_unlock(&w->lock);
        for (row_t *row = batch; row && !skip; row = row->next)
            skip = writer_store(w, row) != 0;
        rows_free(batch);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static int writer_start(writer_t *w)
{
    if (pthread_mutex_init(&w->lock, NULL) != 0)
        return -ENOMEM;
    if (pthread_cond_init(&w->wake, NULL) != 0) {
        pthread_mutex_destroy(&w->lock);
        return -ENOMEM;
    }
    if (pthread_cond_init(&w->room, NULL) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        return -ENOMEM;
    }
    int rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc != 0) {
        pthread_cond_destroy(&w->room);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        return -rc;
    }
    return 0;
}

/* Queues row (taken, also on failure); waits while the queue is full.
 * Returns 0 or the store thread's error, with its message. */
static int writer_push(writer_t *w, row_t *row, char *err, size_t err_size)
{
    pthread_mutex_lock(&w->lock);
    while (w->bytes >= QUEUE_BYTES && w->rc == 0)
        pthread_cond_wait(&w->room, &w->lock);
    int rc = w->rc;
    if (rc == 0) {
        if (w->tail)
            w->tail->next = row;
        else
            w->head = row;
        w->tail = row;
        w->bytes += row->size;
        pthread_cond_signal(&w->wake);
    } else {
        snprintf(err, err_size, "%s", w->err);
    }
    pthread_mutex_unlock(&w->lock);
    if (rc != 0)
        free(row);
    return rc;
}

/* No more rows: lets the thread finish what is queued (or drop it when
 * cancel) and joins it. Returns its error, if any, with the message. */
static int writer_finish(writer_t *w, bool cancel, char *err, size_t err_size)
{
    pthread_mutex_lock(&w->lock);
    w->done = true;
    w->cancel = cancel;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->room);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    if (w->rc != 0 && !cancel)
        snprintf(err, err_size, "%s", w->err);
    return w->rc;
}

/* ---- matching and filtering --------------------------------------------------------- */

/* Builds the tables from our channels. */
static int import_index(import_t *im)
{
    const epg_channel_map_t *map = im->map;
    for (size_t i = 0; map && i < map->count; i++) {
        const epg_map_channel_t *c = &map->channels[i];
        if (!c->name || !*c->name)
            continue;
        int rc;
        if (c->tvg_id && *c->tvg_id) {
            target_t *t = table_get(&im->targets, c->tvg_id);
            if (!t) {
                if (!(t = calloc(1, sizeof(*t))))
                    return -ENOMEM;
                if ((rc = table_put(&im->targets, c->tvg_id, t)) < 0) {
                    free(t);
                    return rc;
                }
            }
            if ((rc = push_index(&t->channels, &t->count, i)) < 0)
                return rc;
            continue;
        }
        const char *title = c->title && *c->title ? c->title : c->name;
        char *folded = malloc(strlen(title) + 1);
        if (!folded)
            return -ENOMEM;
        fold_title(title, folded);
        title_group_t *g = table_get(&im->titles, folded);
        if (!g) {
            if (!(g = calloc(1, sizeof(*g))) || (rc = table_put(&im->titles, folded, g)) < 0) {
                free(g);
                free(folded);
                return -ENOMEM;
            }
        }
        free(folded);
        if ((rc = push_index(&g->channels, &g->count, i)) < 0)
            return rc;
    }
    return 0;
}

static int on_channel(void *ctx, const epg_channel_t *c, char *err, size_t err_size)
{
    import_t *im = ctx;
    im->report->channels_seen++;
    target_t *t = table_get(&im->targets, c->id);
    if (t) {
        if (!t->seen)
            im->report->channels_mapped++;
        t->seen = true;
        return 0;
    }
    /* No channel of ours has this id: one without tvg_id may have its name. */
    for (size_t i = 0; i < c->name_count; i++) {
        char folded[EPG_TEXT_MAX + 1];
        fold_title(c->names[i], folded);
        title_group_t *g = table_get(&im->titles, folded);
        if (!g || g->claimed)
            continue;
        if (!(t = calloc(1, sizeof(*t))) || table_put(&im->targets, c->id, t) < 0) {
            free(t);
            snprintf(err, err_size, "out of memory");
            return -ENOMEM;
        }
        im->last_id[0] = '\0'; /* the remembered lookup may be this id's */
        /* The group's list moves to the target. */
        t->channels = g->channels;
        t->count = g->count;
        t->seen = true;
        g->channels = NULL;
        g->count = 0;
        g->claimed = true;
        im->report->channels_mapped++;
        return 0;
    }
    return 0;
}

/* Queues row (taken) for the store if it falls in the window (a programme
 * whose stop came from the next one's start). */
static int keep(import_t *im, row_t *row, char *err, size_t err_size)
{
    if (row->p.stop <= im->keep_from || row->p.start >= im->keep_to) {
        im->report->skipped_window++;
        free(row);
        return 0;
    }
    return writer_push(&im->writer, row, err, err_size);
}

static int on_programme(void *ctx, const epg_programme_t *e, char *err, size_t err_size)
{
    import_t *im = ctx;
    im->report->programmes_seen++;
    target_t *t;
    if (im->last_id[0] && strcmp(im->last_id, e->p.channel) == 0) {
        t = im->last_target;
    } else {
        t = table_get(&im->targets, e->p.channel);
        snprintf(im->last_id, sizeof(im->last_id), "%s", e->p.channel);
        im->last_target = t;
    }
    if (!t || t->count == 0) {
        im->report->skipped_unmapped++;
        return 0;
    }
    t->programmes++;
    /* The one before, if it had no stop, ends where this one starts. */
    if (t->pending) {
        row_t *pending = t->pending;
        t->pending = NULL;
        if (e->p.start > pending->p.start) {
            pending->p.stop = e->p.start;
            int rc = keep(im, pending, err, err_size);
            if (rc < 0)
                return rc;
        } else {
            im->report->skipped_no_stop++;
            free(pending);
        }
    }
    /* Out of the window (without a stop: whatever its stop will be). */
    if (e->p.start >= im->keep_to || (e->has_stop && e->p.stop <= im->keep_from)) {
        im->report->skipped_window++;
        return 0;
    }
    row_t *row = row_new(&e->p, t);
    if (!row) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    if (e->has_stop)
        return writer_push(&im->writer, row, err, err_size);
    t->pending = row;
    return 0;
}

int epg_import(store_t *store, const char *source, const char *path, const epg_channel_map_t *map,
               const epg_import_options_t *options, epg_report_t *report, char *err, size_t err_size)
{
    uint64_t t0 = clock_mono_us();
    epg_report_t local;
    if (!report)
        report = &local;
    memset(report, 0, sizeof(*report));
    if (err_size)
        err[0] = '\0';
    int64_t now = options && options->now ? options->now : (int64_t)time(NULL);
    int days = options && options->days > 0 ? options->days : 7;
    import_t im = {
        .store = store,
        .map = map,
        .report = report,
        .keep_from = now - 86400,
        .keep_to = now + (int64_t)days * 86400,
    };

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(-rc));
        return rc;
    }
    int rc = import_index(&im);
    if (rc < 0) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    if ((rc = store_epg_begin(store, source, &im.writer.txn)) < 0) {
        snprintf(err, err_size, "cannot start the import: %s", store_last_error(store));
        goto done;
    }
    im.writer.store = store;
    im.writer.channels = map ? map->channels : NULL;
    if ((rc = writer_start(&im.writer)) < 0) {
        store_epg_abort(im.writer.txn);
        snprintf(err, err_size, "cannot start the store thread: %s", strerror(-rc));
        goto done;
    }
    epg_xmltv_handler_t handler = {.channel = on_channel, .programme = on_programme, .ctx = &im};
    epg_xmltv_stats_t stats;
    rc = epg_xmltv_parse_fd(fd, &handler, &stats, err, err_size);
    report->bytes_in = stats.bytes_in;
    report->bytes_xml = stats.bytes_xml;
    /* The last programme of a channel, if it has no stop, has nothing to end it. */
    for (size_t i = 0; rc == 0 && i < im.targets.cap; i++) {
        target_t *t = im.targets.keys[i] ? im.targets.values[i] : NULL;
        if (t && t->pending) {
            report->skipped_no_stop++;
            free(t->pending);
            t->pending = NULL;
        }
    }
    /* A parse error has its message already; the store thread's comes from it. */
    int stored = writer_finish(&im.writer, rc < 0, err, err_size);
    report->programmes_stored = im.writer.stored;
    if (rc == 0)
        rc = stored;
    if (rc < 0) {
        store_epg_abort(im.writer.txn);
        goto done;
    }
    if ((rc = store_epg_commit(im.writer.txn)) < 0) {
        snprintf(err, err_size, "cannot commit the import: %s", store_last_error(store));
        goto done;
    }
    /* Our channels that got nothing from this file. */
    size_t guided = 0;
    for (size_t i = 0; i < im.targets.cap; i++) {
        target_t *t = im.targets.keys[i] ? im.targets.values[i] : NULL;
        if (t && t->programmes > 0)
            guided += t->count;
    }
    size_t ours = 0;
    for (size_t i = 0; map && i < map->count; i++)
        ours += map->channels[i].name && *map->channels[i].name;
    report->channels_unguided = ours - MIN(guided, ours);

done:
    close(fd);
    table_free(&im.targets, target_free);
    table_free(&im.titles, title_group_free);
    report->seconds = (double)(clock_mono_us() - t0) / 1e6;
    return rc;
}
