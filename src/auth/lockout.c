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
// The keys are in a bounded table (keytable.c) in order of failure: each
// failure makes its key the most recent, and when a new key finds the table
// full, the key whose last failure is oldest is evicted. An attacker who can
// send max_keys different keys can thus push a locked key out; max_keys
// should be far above the number of clients that fail honestly at once.
//
// Keys are compared on their first AUTH_KEY_MAX - 1 bytes: addresses and
// valid usernames are far shorter; longer (invented) usernames that share
// that prefix share an entry, which only locks them together.
//
// Not thread-safe: one loop owns a lockout.
#include "auth/auth_private.h"

#include <stdlib.h>

/* The state of the key in the same slot of the key table. */
typedef struct lockout_entry {
    uint64_t last_fail_ms;
    uint64_t locked_until_ms;  /* 0: never locked */
    uint32_t failures;
} lockout_entry_t;

struct auth_lockout {
    unsigned threshold;
    uint64_t base_ms, max_ms;
    auth_keytable_t *keys;
    lockout_entry_t *entries;  /* max_keys, indexed by slot */
};

auth_lockout_t *auth_lockout_new(unsigned threshold, uint64_t base_ms, uint64_t max_ms, size_t max_keys)
{
    if (threshold == 0 || base_ms == 0)
        return NULL;
    auth_lockout_t *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->keys = auth_keytable_new(max_keys); /* NULL for a max_keys of 0 */
    l->entries = l->keys ? calloc(max_keys, sizeof(*l->entries)) : NULL;
    if (!l->entries) {
        auth_lockout_free(l);
        return NULL;
    }
    l->threshold = threshold;
    l->base_ms = base_ms;
    l->max_ms = max_ms < base_ms ? base_ms : max_ms;
    return l;
}

void auth_lockout_free(auth_lockout_t *lockout)
{
    if (!lockout)
        return;
    auth_keytable_free(lockout->keys);
    free(lockout->entries);
    free(lockout);
}

static bool entry_forgotten(const auth_lockout_t *l, const lockout_entry_t *e, uint64_t now_ms)
{
    uint64_t quiet_from = e->locked_until_ms > e->last_fail_ms ? e->locked_until_ms : e->last_fail_ms;
    return now_ms >= quiet_from && now_ms - quiet_from >= l->max_ms;
}

uint64_t auth_lockout_remaining(auth_lockout_t *lockout, const char *key, uint64_t now_ms)
{
    uint32_t i = auth_keytable_find(lockout->keys, key);
    if (i == AUTH_SLOT_NONE)
        return 0;
    const lockout_entry_t *e = &lockout->entries[i];
    if (entry_forgotten(lockout, e, now_ms)) {
        auth_keytable_remove(lockout->keys, i);
        return 0;
    }
    return e->locked_until_ms > now_ms ? e->locked_until_ms - now_ms : 0;
}

uint64_t auth_lockout_fail(auth_lockout_t *lockout, const char *key, uint64_t now_ms)
{
    auth_lockout_t *l = lockout;
    /* Forget what has gone quiet, a little at a time: the oldest entries
     * are the likeliest. */
    for (int n = 0; n < 2; n++) {
        uint32_t oldest = auth_keytable_oldest(l->keys);
        if (oldest == AUTH_SLOT_NONE || !entry_forgotten(l, &l->entries[oldest], now_ms))
            break;
        auth_keytable_remove(l->keys, oldest);
    }

    bool added;
    lockout_entry_t *e = &l->entries[auth_keytable_use(l->keys, key, &added)];
    /* A key gone quiet starts again, as if it had been forgotten. */
    if (added || entry_forgotten(l, e, now_ms))
        *e = (lockout_entry_t){0};
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
    uint32_t i = auth_keytable_find(lockout->keys, key);
    if (i != AUTH_SLOT_NONE)
        auth_keytable_remove(lockout->keys, i);
}
