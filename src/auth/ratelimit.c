// SPDX-License-Identifier: MIT
// ratelimit.c -- requests per client: a token bucket per key (usually a
// client address), in bounded memory, with time passed in by the caller.
//
// A bucket holds up to `burst` tokens and refills at `rate` a second; a
// request takes one token or is refused. A key seen for the first time
// starts with a full bucket, so forgetting a key whose bucket has refilled
// changes nothing. That is what bounds memory: at most max_keys buckets are
// kept (handed out in order, then from a free list, so the calloc'd table
// costs memory only as keys arrive), in a list from the least recently seen key to the most recent; a
// new key in a full table evicts the least recently seen one (whose bucket
// is, of all, the likeliest to be full again), and the oldest ones are
// dropped as soon as they have refilled. Keys hash with SipHash under a
// random key, so chains stay short whatever keys a client sends.
//
// Tokens are counted in billionths, in integers, so refills add up exactly
// (ten 100 ms refills at 10 a second are one whole request, not 0.99999).
//
// Keys are compared on their first RATELIMIT_KEY_MAX - 1 bytes (an IPv6
// address in text is at most 45). Not thread-safe: one loop owns a limiter.
#include "auth/auth.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define RATELIMIT_KEY_MAX 128
#define NONE UINT32_MAX
#define TOKEN 1000000000u     /* one request, in the units buckets count */

typedef struct bucket {
    char key[RATELIMIT_KEY_MAX];
    uint64_t tokens;          /* in TOKEN units */
    uint64_t last_ms;         /* when tokens was last brought up to date */
    uint32_t next;            /* hash chain, or free list when unused */
    uint32_t older, newer;    /* least recently seen first */
} bucket_t;

struct auth_ratelimit {
    uint64_t refill_per_ms;   /* TOKEN units */
    uint64_t burst;           /* TOKEN units */
    bucket_t *entries;        /* max_keys */
    uint32_t *heads;          /* mask + 1 chain heads */
    size_t mask;
    size_t max_keys;
    uint32_t fresh;           /* entries[fresh..max_keys) never used yet */
    uint32_t free_list;       /* entries used once and freed since */
    uint32_t oldest, newest;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

auth_ratelimit_t *auth_ratelimit_new(double rate, double burst, size_t max_keys)
{
    /* From a millionth of a request a second up to a million a second, and
     * bursts of 1 to a billion: the integers below stay far from overflow. */
    if (!(rate >= 1e-6 && rate <= 1e6) || !(burst >= 1 && burst <= 1e9) || max_keys == 0 || max_keys >= NONE / 2)
        return NULL;
    auth_ratelimit_t *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    size_t heads = 1;
    while (heads < max_keys)
        heads *= 2;
    r->entries = calloc(max_keys, sizeof(*r->entries));
    r->heads = malloc(heads * sizeof(*r->heads));
    if (!r->entries || !r->heads) {
        auth_ratelimit_free(r);
        return NULL;
    }
    for (size_t i = 0; i < heads; i++)
        r->heads[i] = NONE;
    r->refill_per_ms = (uint64_t)(rate * (TOKEN / 1000) + 0.5);
    r->burst = (uint64_t)(burst * TOKEN + 0.5);
    r->mask = heads - 1;
    r->max_keys = max_keys;
    r->free_list = NONE;
    r->oldest = r->newest = NONE;
    auth_random(r->hash_key, sizeof(r->hash_key));
    return r;
}

void auth_ratelimit_free(auth_ratelimit_t *limit)
{
    if (!limit)
        return;
    free(limit->entries);
    free(limit->heads);
    free(limit);
}

static uint32_t *head_of(auth_ratelimit_t *r, const char *key)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, (const unsigned char *)key, strlen(key), r->hash_key);
    return &r->heads[h & r->mask];
}

static void list_unlink(auth_ratelimit_t *r, uint32_t i)
{
    bucket_t *b = &r->entries[i];
    if (b->older != NONE)
        r->entries[b->older].newer = b->newer;
    else
        r->oldest = b->newer;
    if (b->newer != NONE)
        r->entries[b->newer].older = b->older;
    else
        r->newest = b->older;
}

static void list_push_newest(auth_ratelimit_t *r, uint32_t i)
{
    bucket_t *b = &r->entries[i];
    b->older = r->newest;
    b->newer = NONE;
    if (r->newest != NONE)
        r->entries[r->newest].newer = i;
    else
        r->oldest = i;
    r->newest = i;
}

static void bucket_remove(auth_ratelimit_t *r, uint32_t i)
{
    bucket_t *b = &r->entries[i];
    uint32_t *link = head_of(r, b->key);
    while (*link != i)
        link = &r->entries[*link].next;
    *link = b->next;
    list_unlink(r, i);
    memset(b, 0, sizeof(*b));
    b->next = r->free_list;
    r->free_list = i;
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
    char k[RATELIMIT_KEY_MAX];
    size_t len = strnlen(key, RATELIMIT_KEY_MAX - 1);
    memcpy(k, key, len);
    k[len] = '\0';

    /* A full bucket is as good as none: drop the oldest ones that are. */
    for (int n = 0; n < 2 && r->oldest != NONE && bucket_refill(r, &r->entries[r->oldest], now_ms) >= r->burst;
         n++)
        bucket_remove(r, r->oldest);

    uint32_t *head = head_of(r, k);
    uint32_t i = *head;
    while (i != NONE && strcmp(r->entries[i].key, k) != 0)
        i = r->entries[i].next;
    bucket_t *b;
    if (i == NONE) {
        if (r->free_list == NONE && r->fresh == r->max_keys)
            bucket_remove(r, r->oldest); /* full: forget the least recently seen */
        if (r->free_list != NONE) {
            i = r->free_list;
            r->free_list = r->entries[i].next;
        } else {
            i = r->fresh++;
        }
        b = &r->entries[i];
        memcpy(b->key, k, sizeof(b->key));
        b->tokens = r->burst;
        b->last_ms = now_ms;
        b->next = *head;
        *head = i;
    } else {
        b = &r->entries[i];
        b->tokens = bucket_refill(r, b, now_ms);
        if (now_ms > b->last_ms)
            b->last_ms = now_ms;
        list_unlink(r, i);
    }
    list_push_newest(r, i);
    if (b->tokens < TOKEN)
        return false;
    b->tokens -= TOKEN;
    return true;
}
