// SPDX-License-Identifier: MIT
// store.h -- the database behind everything an operator manages at run
// time. One interface; SQLite (WAL) is the embedded default. Objects are
// described by field tables (core.h), so one set of functions stores them all.
#ifndef ANTENNE_STORE_H
#define ANTENNE_STORE_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

/* A kind of stored object: its table, its fields (the first is the unique
 * name), and the size of its C struct. */
typedef struct store_kind {
    const char *table;
    const field_t *fields;
    size_t field_count;
    size_t object_size;
} store_kind_t;

/* Opens (creating if needed) <data_dir>/antenne.db and brings its schema up
 * to date. Returns 0 or a negative errno with a message in err. */
int store_open(const char *data_dir, store_t **out, char *err, size_t err_size);
void store_close(store_t *store);

/* A number that grows with every change, by any process. */
int store_revision(store_t *store, int64_t *revision);

/* All objects of a kind, ordered by name: a new array of *count structs that
 * the caller frees with store_free_list(). */
int store_list(store_t *store, const store_kind_t *kind, void **objects, size_t *count);
void store_free_list(const store_kind_t *kind, void *objects, size_t count);
/* Fills object (cleared by the caller afterwards). -ENOENT when absent. */
int store_get(store_t *store, const store_kind_t *kind, const char *name, void *object);
/* -EEXIST when the name is taken. */
int store_insert(store_t *store, const store_kind_t *kind, const void *object);
/* -ENOENT when absent. */
int store_update(store_t *store, const store_kind_t *kind, const void *object);
int store_delete(store_t *store, const store_kind_t *kind, const char *name);

/* The last database error, for logs. */
const char *store_last_error(store_t *store);

#endif
