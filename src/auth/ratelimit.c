// SPDX-License-Identifier: MIT
// ratelimit.c -- requests per client: a token bucket per key (usually a
// client address), in bounded memory, with time passed in by the caller.
//
// A bucket holds up to `burst` tokens and refills at `rate` a second; a
// request takes one token or is refused. A key seen for the first time
// starts with a full bucket, so forgetting a key whose bucket has refilled
// changes nothing. That is what bounds memory: the keys are in a bounded
// table (keytable.c) of max_keys, in order of use; a new key in a full table
// evicts the least recently seen one (whose bucket is, of all, the likeliest
// to be full again), and the oldest ones are dropped as soon as they have
// refilled.
//
// Tokens are counted in billionths, in integers, so refills add up exactly
// (ten 100 ms refills at 10 a second are one whole request, not 0.99999).
//
// Keys are compared on their first AUTH_KEY_MAX - 1 bytes (an IPv6 address
// in text is at most 45). Not thread-safe: one loop owns a limiter.
#include "auth/auth_private.h"

#include <stdlib.h>

#define TOKEN 1000000000u     /* one request, in the units buckets count */

/* The bucket of the key in the same slot of the key table. */
typedef struct bucket {
    uint64_t tokens;          /* in TOKEN units */
    uint64_t last_ms;         /* when tokens was last brought up to date */
} bucket_t;

struct auth_ratelimit {
    uint64_t refill_per_ms;   /* TOKEN units */
    uint64_t burst;           /* TOKEN units */
    auth_keytable_t *keys;
    bucket_t *buckets;        /* max_keys, indexed by slot */
};

auth_ratelimit_t *auth_ratelimit_new(double rate, double burst, size_t max_keys)
{
    /* From a millionth of a request a second up to a million a second, and
     * bursts of 1 to a billion: the integers below stay far from overflow. */
    if (!(rate >= 1e-6 && rate <= 1e6) || !(burst >= 1 && burst <= 1e9))
        return NULL;
    auth_ratelimit_t *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->keys = auth_keytable_new(max_keys); /* NULL for a max_keys of 0 */
    r->buckets = r->keys ? calloc(max_keys, sizeof(*r->buckets)) : NULL;
    if (!r->buckets) {
        auth_ratelimit_free(r);
        return NULL;
    }
    r->refill_per_ms = (uint64_t)(rate * (TOKEN / 1000) + 0.5);
    r->burst = (uint64_t)(burst * TOKEN + 0.5);
    return r;
}

void auth_ratelimit_free(auth_ratelimit_t *limit)
{
    if (!limit)
        return;
    auth_keytable_free(limit->keys);
    free(limit->buckets);
    free(limit);
}

/* Brings a bucket's tokens up to now; a clock that went back adds nothing. */
static uint64_t bucket_refill(const auth_ratelimit_t *r, const bucket_t *b, uint64_t now_ms)
{
    uint64_t elapsed = now_ms > b->last_ms ? now_ms - b->last_ms : 0;
    if (elapsed >= (r->burst - b->tokens) / r->refill_per_ms + 1)
        return r->burst;
    uint64_t tokens = b->tokens + elapsed * r->refill_per_ms;
    return tokens < r->burst ? tokens : r->burst;
}

bool auth_ratelimit_allow(auth_ratelimit_t *limit, const char *key, uint64_t now_ms)
{
    auth_ratelimit_t *r = limit;
    /* A full bucket is as good as none: drop the oldest ones that are. */
    for (int n = 0; n < 2; n++) {
        uint32_t oldest = auth_keytable_oldest(r->keys);
        if (oldest == AUTH_SLOT_NONE || bucket_refill(r, &r->buckets[oldest], now_ms) < r->burst)
            break;
        auth_keytable_remove(r->keys, oldest);
    }

    bool added;
    bucket_t *b = &r->buckets[auth_keytable_use(r->keys, key, &added)];
    if (added) {
        b->tokens = r->burst;
        b->last_ms = now_ms;
    } else {
        b->tokens = bucket_refill(r, b, now_ms);
        if (now_ms > b->last_ms)
            b->last_ms = now_ms;
    }
    if (b->tokens < TOKEN)
        return false;
    b->tokens -= TOKEN;
    return true;
}
