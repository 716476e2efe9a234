// SPDX-License-Identifier: MIT
// lockout.c -- failed-login lockout per key (a client address or a
// username), in bounded memory, with time passed in by the caller.
//
// States of one key and the function for each transition:
//
//   (absent) --fail--> counting (failures < threshold)
//   counting --fail--> counting, or locked once failures reach threshold
//   locked   --fail--> locked again, for twice as long (up to max_ms)
//   locked   --time--> unlocked: remaining() says 0; the count is kept, so
//                      the next failure locks at once, for twice as long
//   any      --success--> (absent)
//   any      --quiet for max_ms after the lock ends (or after the last
//              failure when never locked)--> (absent): forgotten
//
// The lock after the n-th failure (n >= threshold) is
// min(base_ms * 2^(n - threshold), max_ms), counted from that failure.
//
// Invariants: at most max_keys entries are in use; entries are handed out
// in order (then from a free list), so the calloc'd table costs memory only
// as keys arrive. Each entry in use is in exactly one hash chain and in the
// staleness list, which runs from the entry whose last
// failure is oldest to the newest. When a new key finds the table full, the
// oldest entry is evicted. An attacker who can send max_keys different keys
// can thus push a locked key out; max_keys should be far above the number
// of clients that fail honestly at once. Keys hash with SipHash under a
// random key, so chains stay short whatever keys an attacker chooses.
//
// Keys are compared on their first LOCKOUT_KEY_MAX - 1 bytes: addresses
// and valid usernames are far shorter; longer (invented) usernames that
// share that prefix share an entry, which only locks them together.
//
// Not thread-safe: one loop owns a lockout.
#include "auth/auth.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define LOCKOUT_KEY_MAX 128
#define NONE UINT32_MAX

typedef struct lockout_entry {
    char key[LOCKOUT_KEY_MAX];
    uint64_t last_fail_ms;
    uint64_t locked_until_ms;  /* 0: never locked */
    uint32_t failures;
    uint32_t next;             /* hash chain, or free list when unused */
    uint32_t older, newer;     /* staleness list */
} lockout_entry_t;

struct auth_lockout {
    unsigned threshold;
    uint64_t base_ms, max_ms;
    lockout_entry_t *entries;  /* max_keys */
    uint32_t *buckets;         /* bucket_mask + 1 chain heads */
    size_t bucket_mask;
    size_t max_keys;
    uint32_t fresh;            /* entries[fresh..max_keys) never used yet */
    uint32_t free_list;        /* entries used once and freed since */
    uint32_t oldest, newest;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

auth_lockout_t *auth_lockout_new(unsigned threshold, uint64_t base_ms, uint64_t max_ms, size_t max_keys)
{
    if (threshold == 0 || base_ms == 0 || max_keys == 0 || max_keys >= NONE / 2)
        return NULL;
    auth_lockout_t *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    size_t buckets = 1;
    while (buckets < max_keys)
        buckets *= 2;
    l->entries = calloc(max_keys, sizeof(*l->entries));
    l->buckets = malloc(buckets * sizeof(*l->buckets));
    if (!l->entries || !l->buckets) {
        auth_lockout_free(l);
        return NULL;
    }
    for (size_t i = 0; i < buckets; i++)
        l->buckets[i] = NONE;
    l->threshold = threshold;
    l->base_ms = base_ms;
    l->max_ms = max_ms < base_ms ? base_ms : max_ms;
    l->bucket_mask = buckets - 1;
    l->max_keys = max_keys;
    l->free_list = NONE;
    l->oldest = l->newest = NONE;
    auth_random(l->hash_key, sizeof(l->hash_key));
    return l;
}

void auth_lockout_free(auth_lockout_t *lockout)
{
    if (!lockout)
        return;
    free(lockout->entries);
    free(lockout->buckets);
    free(lockout);
}

/* Copies the part of key that is compared into out. */
static void key_prepare(const char *key, char out[LOCKOUT_KEY_MAX])
{
    size_t len = strnlen(key, LOCKOUT_KEY_MAX - 1);
    memcpy(out, key, len);
    out[len] = '\0';
}

static uint32_t *bucket_of(auth_lockout_t *l, const char *key)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, (const unsigned char *)key, strlen(key), l->hash_key);
    return &l->buckets[h & l->bucket_mask];
}

static uint32_t find(auth_lockout_t *l, const uint32_t *bucket, const char *key)
{
    for (uint32_t i = *bucket; i != NONE; i = l->entries[i].next)
        if (strcmp(l->entries[i].key, key) == 0)
            return i;
    return NONE;
}

static void stale_unlink(auth_lockout_t *l, uint32_t i)
{
    lockout_entry_t *e = &l->entries[i];
    if (e->older != NONE)
        l->entries[e->older].newer = e->newer;
    else
        l->oldest = e->newer;
    if (e->newer != NONE)
        l->entries[e->newer].older = e->older;
    else
        l->newest = e->older;
}

static void stale_push_newest(auth_lockout_t *l, uint32_t i)
{
    lockout_entry_t *e = &l->entries[i];
    e->older = l->newest;
    e->newer = NONE;
    if (l->newest != NONE)
        l->entries[l->newest].newer = i;
    else
        l->oldest = i;
    l->newest = i;
}

static void entry_remove(auth_lockout_t *l, uint32_t i)
{
    lockout_entry_t *e = &l->entries[i];
    uint32_t *link = bucket_of(l, e->key);
    while (*link != i)
        link = &l->entries[*link].next;
    *link = e->next;
    stale_unlink(l, i);
    memset(e, 0, sizeof(*e));
    e->next = l->free_list;
    l->free_list = i;
}

static bool entry_forgotten(const auth_lockout_t *l, const lockout_entry_t *e, uint64_t now_ms)
{
    uint64_t quiet_from = e->locked_until_ms > e->last_fail_ms ? e->locked_until_ms : e->last_fail_ms;
    return now_ms >= quiet_from && now_ms - quiet_from >= l->max_ms;
}

uint64_t auth_lockout_remaining(auth_lockout_t *lockout, const char *key, uint64_t now_ms)
{
    char k[LOCKOUT_KEY_MAX];
    key_prepare(key, k);
    uint32_t i = find(lockout, bucket_of(lockout, k), k);
    if (i == NONE)
        return 0;
    const lockout_entry_t *e = &lockout->entries[i];
    if (entry_forgotten(lockout, e, now_ms)) {
        entry_remove(lockout, i);
        return 0;
    }
    return e->locked_until_ms > now_ms ? e->locked_until_ms - now_ms : 0;
}

uint64_t auth_lockout_fail(auth_lockout_t *lockout, const char *key, uint64_t now_ms)
{
    auth_lockout_t *l = lockout;
    char k[LOCKOUT_KEY_MAX];
    key_prepare(key, k);
    /* Forget what has gone quiet, a little at a time: the oldest entries
     * are the likeliest. */
    for (int n = 0; n < 2 && l->oldest != NONE && entry_forgotten(l, &l->entries[l->oldest], now_ms); n++)
        entry_remove(l, l->oldest);

    uint32_t *bucket = bucket_of(l, k);
    uint32_t i = find(l, bucket, k);
    if (i != NONE && entry_forgotten(l, &l->entries[i], now_ms)) {
        entry_remove(l, i);
        i = NONE;
    }
    if (i == NONE) {
        if (l->free_list == NONE && l->fresh == l->max_keys)
            entry_remove(l, l->oldest); /* full: evict the stalest */
        if (l->free_list != NONE) {
            i = l->free_list;
            l->free_list = l->entries[i].next;
        } else {
            i = l->fresh++;
        }
        lockout_entry_t *e = &l->entries[i];
        memcpy(e->key, k, sizeof(e->key));
        e->next = *bucket;
        *bucket = i;
    } else {
        stale_unlink(l, i);
    }
    stale_push_newest(l, i);

    lockout_entry_t *e = &l->entries[i];
    if (e->failures < UINT32_MAX)
        e->failures++;
    e->last_fail_ms = now_ms;
    if (e->failures < l->threshold)
        return 0;
    unsigned doublings = e->failures - l->threshold;
    uint64_t lock = doublings < 64 && l->base_ms <= (l->max_ms >> doublings) ? l->base_ms << doublings : l->max_ms;
    e->locked_until_ms = now_ms > UINT64_MAX - lock ? UINT64_MAX : now_ms + lock;
    return lock;
}

void auth_lockout_success(auth_lockout_t *lockout, const char *key)
{
    char k[LOCKOUT_KEY_MAX];
    key_prepare(key, k);
    uint32_t i = find(lockout, bucket_of(lockout, k), k);
    if (i != NONE)
        entry_remove(lockout, i);
}
