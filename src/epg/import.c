// SPDX-License-Identifier: MIT
// import.c -- an XMLTV file into the store: channels matched to ours,
// programmes filtered to the window and stored in one import that commits
// whole or not at all.
//
// Memory is bounded by our channels, not by the file: the tables below hold
// one target per XMLTV channel that feeds ours (by tvg_id, or claimed by
// display-name), and each target at most one programme waiting for its
// stop time. Everything else flows from the parser to the store.
#include "epg/epg_private.h"

#include <errno.h>
#include <fcntl.h>
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

/* An XMLTV channel that feeds channels of ours. */
typedef struct target {
    size_t *channels;        /* indexes into the map */
    size_t count;
    bool seen;               /* its <channel> was in the file */
    uint64_t programmes;
    store_programme_t *pending;   /* owned copy, waiting for its stop */
} target_t;

/* Our channels without tvg_id that share one folded title. */
typedef struct title_group {
    size_t *channels;
    size_t count;
    bool claimed;
} title_group_t;

typedef struct import {
    store_t *store;
    store_epg_import_t *txn;
    const epg_channel_map_t *map;
    epg_report_t *report;
    int64_t keep_from, keep_to;
    table_t targets;         /* XMLTV id -> target_t */
    table_t titles;          /* folded title -> title_group_t */
} import_t;

static void programme_free(store_programme_t *p)
{
    if (!p)
        return;
    free((char *)p->channel);
    free((char *)p->title);
    free((char *)p->subtitle);
    free((char *)p->description);
    free((char *)p->category);
    free((char *)p->episode);
    free((char *)p->icon);
    free(p);
}

static void target_free(void *value)
{
    target_t *t = value;
    programme_free(t->pending);
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

static char *dup_or_null(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *copy = strdup(s);
    if (!copy)
        *failed = true;
    return copy;
}

static store_programme_t *programme_copy(const store_programme_t *p)
{
    store_programme_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    bool failed = false;
    c->start = p->start;
    c->stop = p->stop;
    c->channel = dup_or_null(p->channel, &failed);
    c->title = dup_or_null(p->title, &failed);
    c->subtitle = dup_or_null(p->subtitle, &failed);
    c->description = dup_or_null(p->description, &failed);
    c->category = dup_or_null(p->category, &failed);
    c->episode = dup_or_null(p->episode, &failed);
    c->icon = dup_or_null(p->icon, &failed);
    if (failed) {
        programme_free(c);
        return NULL;
    }
    return c;
}

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

/* Stores p (complete, with its stop) for each channel of t, if it falls in
 * the window. */
static int keep(import_t *im, const target_t *t, const store_programme_t *p, char *err, size_t err_size)
{
    if (p->stop <= im->keep_from || p->start >= im->keep_to) {
        im->report->skipped_window++;
        return 0;
    }
    const epg_map_channel_t *channels = im->map->channels;
    for (size_t i = 0; i < t->count; i++) {
        store_programme_t row = *p;
        row.channel = channels[t->channels[i]].name;
        int rc = store_epg_add(im->txn, &row);
        if (rc < 0) {
            snprintf(err, err_size, "storing it: %s", store_last_error(im->store));
            return rc;
        }
        im->report->programmes_stored++;
    }
    return 0;
}

static int on_programme(void *ctx, const epg_programme_t *e, char *err, size_t err_size)
{
    import_t *im = ctx;
    im->report->programmes_seen++;
    target_t *t = table_get(&im->targets, e->p.channel);
    if (!t || t->count == 0) {
        im->report->skipped_unmapped++;
        return 0;
    }
    t->programmes++;
    int rc;
    /* The one before, if it had no stop, ends where this one starts. */
    if (t->pending) {
        store_programme_t *pending = t->pending;
        t->pending = NULL;
        if (e->p.start > pending->start) {
            pending->stop = e->p.start;
            rc = keep(im, t, pending, err, err_size);
        } else {
            im->report->skipped_no_stop++;
            rc = 0;
        }
        programme_free(pending);
        if (rc < 0)
            return rc;
    }
    if (e->has_stop)
        return keep(im, t, &e->p, err, err_size);
    if (!(t->pending = programme_copy(&e->p))) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
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
    if ((rc = store_epg_begin(store, source, &im.txn)) < 0) {
        snprintf(err, err_size, "cannot start the import: %s", store_last_error(store));
        goto done;
    }
    epg_xmltv_handler_t handler = {.channel = on_channel, .programme = on_programme, .ctx = &im};
    epg_xmltv_stats_t stats;
    rc = epg_xmltv_parse_fd(fd, &handler, &stats, err, err_size);
    report->bytes_in = stats.bytes_in;
    report->bytes_xml = stats.bytes_xml;
    if (rc < 0) {
        store_epg_abort(im.txn);
        goto done;
    }
    /* The last programme of a channel, if it has no stop, has nothing to end it. */
    for (size_t i = 0; i < im.targets.cap; i++) {
        target_t *t = im.targets.keys[i] ? im.targets.values[i] : NULL;
        if (t && t->pending) {
            report->skipped_no_stop++;
            programme_free(t->pending);
            t->pending = NULL;
        }
    }
    if ((rc = store_epg_commit(im.txn)) < 0) {
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
