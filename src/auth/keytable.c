// SPDX-License-Identifier: MIT
// keytable.c -- a bounded table of string keys in order of use, for the
// per-client state of lockout.c and ratelimit.c (see auth_private.h).
//
// Invariants: at most max_keys entries are in use; entries are handed out
// in order (entries[fresh..max_keys) have never been used), then from a free
// list, so the calloc'd table, and a caller's array indexed by slot, cost
// memory only as keys arrive. Each entry in use is in exactly one hash chain
// and in the list of use, which runs from the least recently used entry
// (oldest) to the most recent (newest); an unused entry is in neither, and
// is all zero but for its free-list link. A new key in a full table evicts
// the oldest. Keys hash with SipHash under a random key, so chains stay
// short whatever keys a client chooses.
#include "auth/auth_private.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct keytable_entry {
    char key[AUTH_KEY_MAX];
    uint32_t next;             /* hash chain, or free list when unused */
    uint32_t older, newer;     /* list of use */
} keytable_entry_t;

struct auth_keytable {
    keytable_entry_t *entries; /* max_keys */
    uint32_t *chains;          /* chain_mask + 1 chain heads */
    size_t chain_mask;
    size_t max_keys;
    uint32_t fresh;            /* entries[fresh..max_keys) never used yet */
    uint32_t free_list;        /* entries used once and freed since */
    uint32_t oldest, newest;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

auth_keytable_t *auth_keytable_new(size_t max_keys)
{
    if (max_keys == 0 || max_keys >= AUTH_SLOT_NONE / 2)
        return NULL;
    auth_keytable_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    size_t chains = 1;
    while (chains < max_keys)
        chains *= 2;
    t->entries = calloc(max_keys, sizeof(*t->entries));
    t->chains = malloc(chains * sizeof(*t->chains));
    if (!t->entries || !t->chains) {
        auth_keytable_free(t);
        return NULL;
    }
    for (size_t i = 0; i < chains; i++)
        t->chains[i] = AUTH_SLOT_NONE;
    t->chain_mask = chains - 1;
    t->max_keys = max_keys;
    t->free_list = AUTH_SLOT_NONE;
    t->oldest = t->newest = AUTH_SLOT_NONE;
    auth_random(t->hash_key, sizeof(t->hash_key));
    return t;
}

void auth_keytable_free(auth_keytable_t *table)
{
    if (!table)
        return;
    free(table->entries);
    free(table->chains);
    free(table);
}

/* Copies the part of key that is compared into out. */
static void key_prepare(const char *key, char out[AUTH_KEY_MAX])
{
    size_t len = strnlen(key, AUTH_KEY_MAX - 1);
    memcpy(out, key, len);
    out[len] = '\0';
}

static uint32_t *chain_of(const auth_keytable_t *t, const char *key)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, (const unsigned char *)key, strlen(key), t->hash_key);
    return &t->chains[h & t->chain_mask];
}

static uint32_t chain_find(const auth_keytable_t *t, const uint32_t *chain, const char *key)
{
    for (uint32_t i = *chain; i != AUTH_SLOT_NONE; i = t->entries[i].next)
        if (strcmp(t->entries[i].key, key) == 0)
            return i;
    return AUTH_SLOT_NONE;
}

static void use_unlink(auth_keytable_t *t, uint32_t i)
{
    keytable_entry_t *e = &t->entries[i];
    if (e->older != AUTH_SLOT_NONE)
        t->entries[e->older].newer = e->newer;
    else
        t->oldest = e->newer;
    if (e->newer != AUTH_SLOT_NONE)
        t->entries[e->newer].older = e->older;
    else
        t->newest = e->older;
}

static void use_push_newest(auth_keytable_t *t, uint32_t i)
{
    keytable_entry_t *e = &t->entries[i];
    e->older = t->newest;
    e->newer = AUTH_SLOT_NONE;
    if (t->newest != AUTH_SLOT_NONE)
        t->entries[t->newest].newer = i;
    else
        t->oldest = i;
    t->newest = i;
}

uint32_t auth_keytable_find(const auth_keytable_t *table, const char *key)
{
    char k[AUTH_KEY_MAX];
    key_prepare(key, k);
    return chain_find(table, chain_of(table, k), k);
}

uint32_t auth_keytable_use(auth_keytable_t *table, const char *key, bool *added)
{
    auth_keytable_t *t = table;
    char k[AUTH_KEY_MAX];
    key_prepare(key, k);
    uint32_t *chain = chain_of(t, k);
    uint32_t i = chain_find(t, chain, k);
    *added = i == AUTH_SLOT_NONE;
    if (*added) {
        if (t->free_list == AUTH_SLOT_NONE && t->fresh == t->max_keys)
            auth_keytable_remove(t, t->oldest); /* full: evict the least recently used */
        if (t->free_list != AUTH_SLOT_NONE) {
            i = t->free_list;
            t->free_list = t->entries[i].next;
        } else {
            i = t->fresh++;
        }
        keytable_entry_t *e = &t->entries[i];
        memcpy(e->key, k, sizeof(e->key));
        e->next = *chain; /* read after the eviction, which may have changed it */
        *chain = i;
    } else {
        use_unlink(t, i);
    }
    use_push_newest(t, i);
    return i;
}

void auth_keytable_remove(auth_keytable_t *table, uint32_t slot)
{
    auth_keytable_t *t = table;
    keytable_entry_t *e = &t->entries[slot];
    uint32_t *link = chain_of(t, e->key);
    while (*link != slot)
        link = &t->entries[*link].next;
    *link = e->next;
    use_unlink(t, slot);
    memset(e, 0, sizeof(*e));
    e->next = t->free_list;
    t->free_list = slot;
}

uint32_t auth_keytable_oldest(const auth_keytable_t *table)
{
    return table->oldest;
}
