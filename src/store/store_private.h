// SPDX-License-Identifier: MIT
// store_private.h -- private to store/: the SQLite handle.
#ifndef ANTENNE_STORE_PRIVATE_H
#define ANTENNE_STORE_PRIVATE_H

#include "store/store.h"

#include <sqlite3.h>

struct store {
    sqlite3 *db;
    char error[256];
};

int store_migrate(store_t *store, char *err, size_t err_size);

#endif
