// SPDX-License-Identifier: MIT
// epg.c -- EPG programmes: reading them per channel, and the backend-neutral
// half of an import. An import replaces all programmes of one source at
// once; each backend moves the rows in bulk on a connection of its own
// (sqlite.c stages them in a temporary table, pg.c streams them with COPY),
// so other store calls go on while an import runs.
#include "store/store_private.h"

#include <errno.h>

int store_epg_begin(store_t *store, const char *source, store_epg_import_t **import)
{
    *import = NULL;
    if (!source || !*source)
        return store_fail(store, -EINVAL, "an EPG import needs a source name");
    pthread_mutex_lock(&store->lock);
    bool busy = store->importing;
    store->importing = true;
    pthread_mutex_unlock(&store->lock);
    if (busy)
        return store_fail(store, -EBUSY, "an EPG import is already running on this store");
    int rc = store->backend->epg_begin(store, source, import);
    if (rc < 0) {
        pthread_mutex_lock(&store->lock);
        store->importing = false;
        pthread_mutex_unlock(&store->lock);
    }
    return rc;
}

int store_epg_add(store_epg_import_t *import, const store_programme_t *programme)
{
    if (!programme->channel || !*programme->channel || programme->stop < programme->start)
        return store_fail(import->store, -EINVAL, "a programme needs a channel and may not stop before it starts");
    return import->store->backend->epg_add(import, programme);
}

static void import_done(store_t *store)
{
    pthread_mutex_lock(&store->lock);
    store->importing = false;
    pthread_mutex_unlock(&store->lock);
}

int store_epg_commit(store_epg_import_t *import)
{
    store_t *store = import->store;
    int rc = store->backend->epg_commit(import);
    import_done(store);
    return rc;
}

void store_epg_abort(store_epg_import_t *import)
{
    if (!import)
        return;
    store_t *store = import->store;
    store->backend->epg_abort(import);
    import_done(store);
}

int store_epg_each(store_t *store, const char *const *channels, size_t channel_count, int64_t from, int64_t to,
                   int (*fn)(void *ctx, const store_programme_t *programme), void *ctx)
{
    int rc = 0, stop = 0;
    pthread_mutex_lock(&store->lock);
    /* One indexed range per channel keeps the order the caller asked for. */
    for (size_t c = 0; rc == 0 && !stop && c < channel_count; c++) {
        if (!channels[c])
            continue;
        const store_arg_t args[] = {store_arg_text(channels[c]), store_arg_int(from), store_arg_int(to)};
        store_rows_t *rows;
        rc = store->backend->query(store,
                                   "SELECT channel, start, stop, title, subtitle, description, category, episode, "
                                   "icon FROM programmes WHERE channel = ?1 AND start < ?3 AND stop > ?2 "
                                   "ORDER BY start, stop",
                                   args, ARRAY_SIZE(args), &rows);
        if (rc < 0)
            break;
        while (!stop && (rc = store->backend->next(rows)) > 0) {
            const store_programme_t programme = {
                .channel = store->backend->text(rows, 0),
                .start = store->backend->integer(rows, 1),
                .stop = store->backend->integer(rows, 2),
                .title = store->backend->text(rows, 3),
                .subtitle = store->backend->text(rows, 4),
                .description = store->backend->text(rows, 5),
                .category = store->backend->text(rows, 6),
                .episode = store->backend->text(rows, 7),
                .icon = store->backend->text(rows, 8),
            };
            stop = fn(ctx, &programme);
        }
        if (rc > 0)
            rc = 0;
        store->backend->done(rows);
    }
    pthread_mutex_unlock(&store->lock);
    return rc < 0 ? rc : stop;
}
