// SPDX-License-Identifier: MIT
// auth.h -- who may watch what: subscribers and packages (described by
// field tables like channels), signed tokens, passwords, login lockout,
// request rate limits and client address ranges.
#ifndef ANTENNE_AUTH_H
#define ANTENNE_AUTH_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- objects.c: what the operator manages ------------------------------------ */

typedef enum limit_policy {
    LIMIT_REFUSE_NEW,   /* a stream over the limit gets 403 */
    LIMIT_END_OLDEST,   /* the oldest stream ends to make room */
} limit_policy_t;

typedef struct subscriber {
    char *name;            /* the username */
    char *password_hash;   /* argon2id (auth_password_hash); FIELD_SECRET */
    bool enabled;
    char *expires;         /* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ"; NULL or "": never */
    int64_t max_streams;   /* at once, across every server; 0: no limit */
    int limit_policy;      /* limit_policy_t */
    strlist_t packages;
    strlist_t allowed_ips; /* CIDR ranges; empty: anywhere */
    bool bind_ip;          /* tokens only work from the address they were issued to */
    char *notes;
    int64_t token_id;      /* random, carried in tokens; a new one invalidates them all */
    char *created_at;      /* FIELD_READONLY */
    char *updated_at;      /* FIELD_READONLY */
} subscriber_t;

typedef struct package {
    char *name;
    char *title;
    strlist_t channels;
    char *created_at;
    char *updated_at;
} package_t;

typedef struct epg_source {
    char *name;
    char *url;             /* http(s)://... or file path (file:// or absolute) */
    int64_t refresh_hours; /* 0: only on request */
    int64_t days;          /* programmes kept ahead */
    char *last_import;     /* FIELD_READONLY-like status, written by the importer */
    char *last_result;
    char *created_at;
    char *updated_at;
} epg_source_t;

/* Keys that sign tokens. The newest one not retired signs; every key not
 * retired verifies, so rotation is: add a key, then retire the old one once
 * the tokens it signed have expired. */
typedef struct token_key {
    char *name;            /* "k<id>", id 0..255 */
    char *secret;          /* 64 hex digits; FIELD_SECRET */
    bool retired;
    char *created_at;
    char *updated_at;
} token_key_t;

/* Bearer tokens of the admin API, stored hashed. */
typedef struct admin_token {
    char *name;
    char *hash;            /* hex SHA-256 of the token; FIELD_SECRET */
    char *created_at;
    char *updated_at;
} admin_token_t;

extern const field_t subscriber_fields[];
extern const size_t subscriber_field_count;
extern const field_t package_fields[];
extern const size_t package_field_count;
extern const field_t epg_source_fields[];
extern const size_t epg_source_field_count;
extern const field_t token_key_fields[];
extern const size_t token_key_field_count;
extern const field_t admin_token_fields[];
extern const size_t admin_token_field_count;

void subscriber_defaults(subscriber_t *subscriber);
void package_defaults(package_t *package);
void epg_source_defaults(epg_source_t *source);

/* Parses subscriber->expires into Unix seconds (end of that day for a bare
 * date); 0 with no expiry. Returns 0 or -EINVAL. */
int subscriber_expiry(const subscriber_t *subscriber, int64_t *expires);

/* ---- token.c: signed URLs ------------------------------------------------------- */

/* A token says: subscriber S may fetch until time E (and, when bound, only
 * from address A). It is HMAC-SHA256 signed with a key the verifier holds, so
 * any server or edge can check it without a database. Text-safe (base64url),
 * at most AUTH_TOKEN_MAX - 1 characters. */
#define AUTH_TOKEN_MAX 64
#define AUTH_KEY_BYTES 32
#define AUTH_MAX_KEYS 16

typedef struct auth_claims {
    uint64_t subscriber;   /* the subscriber's token_id */
    uint64_t expires;      /* Unix seconds */
    bool ip_bound;         /* signed over the client address too */
    uint8_t key_id;        /* filled by verify: the key that signed it */
} auth_claims_t;

typedef enum auth_token_status {
    AUTH_TOKEN_OK = 0,
    AUTH_TOKEN_MALFORMED,
    AUTH_TOKEN_UNKNOWN_KEY,     /* signed by a key we do not hold, or a retired one */
    AUTH_TOKEN_BAD_SIGNATURE,   /* tampered, or bound to another address */
    AUTH_TOKEN_EXPIRED,
} auth_token_status_t;

typedef struct auth_keyring auth_keyring_t;

auth_keyring_t *auth_keyring_new(void);
void auth_keyring_free(auth_keyring_t *keyring);
/* Adds a key (replacing one with the same id). The newest added key that is
 * not retired signs. A retired key neither signs nor verifies: adding one
 * only drops the key of that id and takes no room, so AUTH_MAX_KEYS bounds
 * the live keys. Returns 0, -EINVAL (no keyring, or a secret of all zeros),
 * or -ENOSPC past AUTH_MAX_KEYS live keys. Not thread-safe: build the
 * keyring, then share it read-only (sign and verify only read it). */
int auth_keyring_add(auth_keyring_t *keyring, uint8_t id, const uint8_t secret[AUTH_KEY_BYTES], bool retired);
/* Parses 64 hex digits. Returns 0 or -EINVAL. */
int auth_key_from_hex(const char *hex, uint8_t secret[AUTH_KEY_BYTES]);

/* Writes a token for claims (signed with the signing key; client_ip is used
 * only when claims->ip_bound) into out, NUL-terminated. Returns its length,
 * or -ENOKEY when the keyring has no signing key, -EINVAL when the claims
 * are bound but client_ip is NULL or empty, -ENOSPC when out is too small
 * (AUTH_TOKEN_MAX always suffices). */
int auth_token_sign(const auth_keyring_t *keyring, const auth_claims_t *claims, const char *client_ip, char *out,
                    size_t out_size);
/* Checks a token (len bytes, not necessarily NUL-terminated) in constant
 * time over its signature; allocates nothing. client_ip: the requester's
 * address as text (IPv4-mapped IPv6 counts as the IPv4 address). A token
 * is expired when claims.expires <= now. claims (may be NULL) is filled when
 * the signature is good (AUTH_TOKEN_OK and AUTH_TOKEN_EXPIRED), zeroed
 * otherwise. */
auth_token_status_t auth_token_verify(const auth_keyring_t *keyring, const char *token, size_t len,
                                      const char *client_ip, uint64_t now, auth_claims_t *claims);
/* "malformed token", "expired token", ... */
const char *auth_token_status_text(auth_token_status_t status);

/* ---- password.c ------------------------------------------------------------------ */

#define AUTH_PASSWORD_HASH_MAX 128
/* argon2id (libsodium crypto_pwhash_str; m = 19 MiB, t = 2: tens of ms, so
 * call it off the loop). Writes a NUL-terminated string into out, which must
 * hold AUTH_PASSWORD_HASH_MAX bytes. Returns 0, -EINVAL (NULL argument),
 * -ENOSPC (out too small) or -ENOMEM. */
int auth_password_hash(const char *password, char *out, size_t out_size);
/* Whether password matches hash (any argon2 string libsodium reads); false
 * for a NULL, empty or malformed hash. As slow as hashing: off the loop. */
bool auth_password_verify(const char *hash, const char *password);
/* A keyed digest of (username, password) for remembering a verified login
 * without running argon2id again on every request. */
void auth_password_fingerprint(const uint8_t key[32], const char *username, const char *password, uint8_t out[32]);
/* Fills buf with len random bytes (libsodium; aborts if the system has no
 * random source at all, as libsodium itself would). */
void auth_random(void *buf, size_t len);

/* ---- lockout.c: failed logins ----------------------------------------------------- */

/* After `threshold` failures for a key (an IP address or a username), further
 * attempts are refused for base_ms, doubling with each further failure up
 * to max_ms. Memory is bounded: at most max_keys keys are remembered (a new
 * key evicts the one whose last failure is oldest). A key is forgotten once
 * it has been unlocked, or has had no failure, for max_ms; success forgets
 * it at once. Time is the caller's (a monotonic clock in ms). Not
 * thread-safe: one loop owns it. */
typedef struct auth_lockout auth_lockout_t;

/* Returns NULL when threshold, base_ms or max_keys is 0, or out of memory.
 * A max_ms below base_ms counts as base_ms. */
auth_lockout_t *auth_lockout_new(unsigned threshold, uint64_t base_ms, uint64_t max_ms, size_t max_keys);
void auth_lockout_free(auth_lockout_t *lockout);
/* Milliseconds the key stays locked (0: not locked). */
uint64_t auth_lockout_remaining(auth_lockout_t *lockout, const char *key, uint64_t now_ms);
/* Records a failure; returns the lock it started, in ms (0: none yet). */
uint64_t auth_lockout_fail(auth_lockout_t *lockout, const char *key, uint64_t now_ms);
void auth_lockout_success(auth_lockout_t *lockout, const char *key);

/* ---- ratelimit.c: requests per client ---------------------------------------------- */

/* A token bucket per key: `rate` requests a second, bursts of `burst`. A new
 * key starts with a full bucket; at most max_keys keys are remembered (a
 * new key evicts the least recently seen one). Time is the caller's (a
 * monotonic clock in ms). Not thread-safe: one loop owns it. */
typedef struct auth_ratelimit auth_ratelimit_t;

/* Returns NULL unless 1e-6 <= rate <= 1e6, 1 <= burst <= 1e9 and max_keys > 0,
 * or when out of memory. */
auth_ratelimit_t *auth_ratelimit_new(double rate, double burst, size_t max_keys);
void auth_ratelimit_free(auth_ratelimit_t *limit);
bool auth_ratelimit_allow(auth_ratelimit_t *limit, const char *key, uint64_t now_ms);

/* ---- cidr.c: address ranges --------------------------------------------------------- */

/* Validates "192.0.2.0/24", "2001:db8::/32" or a single address. Returns 0 or
 * -EINVAL with a message in err. (The signature of a field check.) A range
 * with host bits set ("192.0.2.7/24") is refused, the message naming the
 * network. */
int auth_cidr_check(const char *range, char *err, size_t err_size);
/* Whether the address (text, IPv4 or IPv6; IPv4-mapped IPv6 counts as IPv4)
 * lies in one of the ranges. Ranges that do not parse match nothing; host
 * bits in a range are ignored. No ranges: false (an empty allowed_ips means
 * "anywhere" by the caller's policy, not here). */
bool auth_ip_in_ranges(const char *ip, const strlist_t *ranges);

#endif
