// SPDX-License-Identifier: MIT
// auth_private.h -- private to auth/: the bounded table of string keys that
// the lockout and the rate limiter keep their per-client state in.
#ifndef ANTENNE_AUTH_PRIVATE_H
#define ANTENNE_AUTH_PRIVATE_H

#include "auth/auth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keys are compared on their first AUTH_KEY_MAX - 1 bytes. */
#define AUTH_KEY_MAX 128
/* No slot: a key not in the table, or an empty table's oldest. */
#define AUTH_SLOT_NONE UINT32_MAX

/* Up to max_keys string keys, each given a slot in [0, max_keys) for as long
 * as it stays, and kept in order of use (the least recently used first).
 * It holds no values: a caller keeps its own array of max_keys, indexed by
 * slot. Slots are handed out from 0 upward, then reused, so a calloc'd array
 * costs memory only as keys arrive. Not thread-safe. */
typedef struct auth_keytable auth_keytable_t;

/* Returns NULL when max_keys is 0 or not below AUTH_SLOT_NONE / 2, or when
 * out of memory. */
auth_keytable_t *auth_keytable_new(size_t max_keys);
void auth_keytable_free(auth_keytable_t *table);
/* key's slot, or AUTH_SLOT_NONE; the order of use is left as it was. key is
 * borrowed for the call. */
uint32_t auth_keytable_find(const auth_keytable_t *table, const char *key);
/* key's slot, which becomes the most recently used. A key not in the table
 * is added (*added is then true and the caller's value for the slot is stale
 * until it sets it), after evicting the least recently used key if the
 * table is full. key is borrowed for the call. */
uint32_t auth_keytable_use(auth_keytable_t *table, const char *key, bool *added);
/* Removes the key in slot, which must be in use; the slot is free again. */
void auth_keytable_remove(auth_keytable_t *table, uint32_t slot);
/* The least recently used key's slot, or AUTH_SLOT_NONE when empty. */
uint32_t auth_keytable_oldest(const auth_keytable_t *table);

#endif
