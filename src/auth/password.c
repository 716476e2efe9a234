// SPDX-License-Identifier: MIT
// password.c -- subscriber and operator passwords (argon2id), a keyed
// fingerprint of a verified login, and random bytes; all from libsodium.
#include "auth/auth.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cost of a new hash: the OWASP Password Storage Cheat Sheet's first argon2id
 * setting, m = 19 MiB, t = 2, p = 1 (libsodium always uses p = 1). Each
 * verification then takes about 20-40 ms of one core and 19 MiB while it
 * runs: slow enough that a stolen database costs an attacker dearly, cheap
 * enough for logins, which happen once per session (later requests carry a
 * token or hit the fingerprint cache), run on the thread pool, and are
 * bounded by the lockout and the rate limit. Verification reads the cost
 * from the hash itself, so raising these later only affects new hashes. */
#define PASSWORD_OPSLIMIT 2
#define PASSWORD_MEMLIMIT (19u * 1024 * 1024)

_Static_assert(AUTH_PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES, "a hash string fits AUTH_PASSWORD_HASH_MAX");

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void sodium_start(void)
{
    sodium_status = sodium_init() < 0 ? -1 : 0;
}

/* sodium_init() fails only when the system has no random source; nothing in
 * this file can work then, and auth_random has no way to report it. */
static void sodium_ready(void)
{
    pthread_once(&sodium_once, sodium_start);
    if (sodium_status < 0) {
        fprintf(stderr, "antenne: libsodium cannot start (no random source?)\n");
        abort();
    }
}

int auth_password_hash(const char *password, char *out, size_t out_size)
{
    sodium_ready();
    if (!password || !out)
        return -EINVAL;
    if (out_size < crypto_pwhash_STRBYTES)
        return -ENOSPC;
    if (crypto_pwhash_str_alg(out, password, strlen(password), PASSWORD_OPSLIMIT, PASSWORD_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -ENOMEM; /* the only way it fails with these fixed limits */
    return 0;
}

bool auth_password_verify(const char *hash, const char *password)
{
    sodium_ready();
    /* crypto_pwhash_str_verify reads a NUL-terminated string of at most
     * crypto_pwhash_STRBYTES; a longer or empty one is no hash we wrote. */
    if (!hash || !password || !*hash || strnlen(hash, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void auth_password_fingerprint(const uint8_t key[32], const char *username, const char *password, uint8_t out[32])
{
    sodium_ready();
    /* The 0 byte between the two keeps ("ab", "c") and ("a", "bc") apart:
     * C strings hold no 0 byte of their own. */
    static const unsigned char zero = 0;
    crypto_generichash_state state;
    crypto_generichash_init(&state, key, 32, 32);
    crypto_generichash_update(&state, (const unsigned char *)username, strlen(username));
    crypto_generichash_update(&state, &zero, 1);
    crypto_generichash_update(&state, (const unsigned char *)password, strlen(password));
    crypto_generichash_final(&state, out, 32);
    sodium_memzero(&state, sizeof(state));
}

void auth_random(void *buf, size_t len)
{
    sodium_ready();
    randombytes_buf(buf, len);
}
