// SPDX-License-Identifier: MIT
// token_verify.c -- how many signed tokens one core verifies a second
// (src/auth/token.c), next to what raw libsodium HMAC-SHA256 does over the
// same bytes.
//
// Every segment request of every viewer carries a token, so verification
// is on the hot path of the HTTP loop. Cases, each timed for --seconds:
//
//   valid            tokens bound to no address (the common case)
//   valid, IPv4      bound to 192.0.2.x
//   valid, IPv6      bound to 2001:db8::x (address text normalised first)
//   bad signature    one character of the tag changed
//   malformed        a character outside base64url
//   unknown key      signed by a key the verifier does not hold
//
// and the references, over the same 19 payload bytes:
//
//   hmac (key each time)  crypto_auth_hmacsha256(): 4 SHA-256 blocks
//   hmac (state kept)     copy of a keyed state, update, final: 2 blocks,
//                         what token.c does; the floor for it
//
// Usage: token_verify [--seconds S] [--tokens N]
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "bench.h"

#define NOW 1800000000u

/* Where results go, so the compiler cannot drop the work. */
static volatile uint64_t sink;

typedef struct sample {
    char token[AUTH_TOKEN_MAX];
    char ip[48];
    size_t len;
} sample_t;

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Verifies the samples round and round for `seconds`; prints and returns
 * verifications per second of CPU time. Aborts if a sample's status is not
 * `want`, so a broken token cannot pass for a fast one. */
static double run_verify(const char *name, const auth_keyring_t *keyring, const sample_t *samples, size_t count,
                         auth_token_status_t want, double seconds)
{
    uint64_t done = 0, sum = 0;
    double wall0 = bench_now(), cpu0 = thread_cpu(), wall;
    do {
        for (size_t i = 0; i < count; i++) {
            auth_claims_t claims;
            auth_token_status_t status =
                auth_token_verify(keyring, samples[i].token, samples[i].len, samples[i].ip, NOW, &claims);
            if (status != want) {
                fprintf(stderr, "token_verify: %s: sample %zu: %s, want %s\n", name, i,
                        auth_token_status_text(status), auth_token_status_text(want));
                exit(1);
            }
            sum += claims.subscriber;
        }
        done += count;
        wall = bench_now();
    } while (wall - wall0 < seconds);
    double cpu = thread_cpu() - cpu0;
    double rate = (double)done / cpu;
    sink += sum;
    printf("%-26s %12.0f /s  %8.1f ns each  (%.0f /s of wall time)\n", name, rate, 1e9 / rate,
           (double)done / (wall - wall0));
    return rate;
}

static double run_hmac(const char *name, const uint8_t key[32], const uint8_t *payloads, size_t count, bool kept,
                       double seconds)
{
    crypto_auth_hmacsha256_state keyed;
    crypto_auth_hmacsha256_init(&keyed, key, 32);
    uint64_t done = 0, sum = 0;
    double wall0 = bench_now(), cpu0 = thread_cpu(), wall;
    do {
        for (size_t i = 0; i < count; i++) {
            uint8_t mac[32];
            if (kept) {
                crypto_auth_hmacsha256_state state = keyed;
                crypto_auth_hmacsha256_update(&state, payloads + 19 * i, 19);
                crypto_auth_hmacsha256_final(&state, mac);
            } else {
                crypto_auth_hmacsha256(mac, payloads + 19 * i, 19, key);
            }
            sum += mac[0];
        }
        done += count;
        wall = bench_now();
    } while (wall - wall0 < seconds);
    double cpu = thread_cpu() - cpu0;
    double rate = (double)done / cpu;
    sink += sum;
    printf("%-26s %12.0f /s  %8.1f ns each  (%.0f /s of wall time)\n", name, rate, 1e9 / rate,
           (double)done / (wall - wall0));
    return rate;
}

static void sign_or_die(const auth_keyring_t *keyring, auth_claims_t *claims, sample_t *s)
{
    int len = auth_token_sign(keyring, claims, s->ip, s->token, sizeof(s->token));
    if (len < 0) {
        fprintf(stderr, "token_verify: cannot sign: %d\n", len);
        exit(1);
    }
    s->len = (size_t)len;
}

int main(int argc, char **argv)
{
    double seconds = 2;
    size_t count = 1024;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc)
            count = (size_t)atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--tokens N]\n", argv[0]);
            return 2;
        }
    }
    if (seconds <= 0 || count == 0 || count > 1000000) {
        fprintf(stderr, "token_verify: bad --seconds or --tokens\n");
        return 2;
    }

    /* Two live keys, as during a rotation; key 2 signs. */
    uint8_t k1[AUTH_KEY_BYTES], k2[AUTH_KEY_BYTES], k9[AUTH_KEY_BYTES];
    auth_random(k1, sizeof(k1));
    auth_random(k2, sizeof(k2));
    auth_random(k9, sizeof(k9));
    auth_keyring_t *keyring = auth_keyring_new(), *stranger = auth_keyring_new();
    if (!keyring || !stranger || auth_keyring_add(keyring, 1, k1, false) < 0 ||
        auth_keyring_add(keyring, 2, k2, false) < 0 || auth_keyring_add(stranger, 9, k9, false) < 0) {
        fprintf(stderr, "token_verify: keyring set-up failed\n");
        return 1;
    }

    sample_t *plain = calloc(count, sizeof(*plain)), *v4 = calloc(count, sizeof(*v4)),
             *v6 = calloc(count, sizeof(*v6)), *bad_mac = calloc(count, sizeof(*bad_mac)),
             *malformed = calloc(count, sizeof(*malformed)), *unknown = calloc(count, sizeof(*unknown));
    uint8_t *payloads = calloc(count, 19);
    if (!plain || !v4 || !v6 || !bad_mac || !malformed || !unknown || !payloads) {
        fprintf(stderr, "token_verify: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < count; i++) {
        auth_claims_t claims = {.subscriber = 0x5eed0000u + i, .expires = NOW + 3600 + i};
        sign_or_die(keyring, &claims, &plain[i]);
        sign_or_die(stranger, &claims, &unknown[i]);
        bad_mac[i] = plain[i];
        bad_mac[i].token[30] = bad_mac[i].token[30] == 'A' ? 'B' : 'A';
        malformed[i] = plain[i];
        malformed[i].token[i % malformed[i].len] = '.';
        claims.ip_bound = true;
        snprintf(v4[i].ip, sizeof(v4[i].ip), "192.0.2.%zu", i % 256);
        sign_or_die(keyring, &claims, &v4[i]);
        snprintf(v6[i].ip, sizeof(v6[i].ip), "2001:db8::%zx", i);
        sign_or_die(keyring, &claims, &v6[i]);
        /* The reference hashes the same 19 bytes the token carries. */
        uint8_t raw[64];
        size_t raw_len;
        if (sodium_base642bin(raw, sizeof(raw), plain[i].token, plain[i].len, NULL, &raw_len, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || raw_len != 35) {
            fprintf(stderr, "token_verify: token %zu is not 35 bytes of base64url\n", i);
            return 1;
        }
        memcpy(payloads + 19 * i, raw, 19);
    }

    printf("token verification, one thread, %zu distinct tokens, %.1f s per case (rates per CPU-second)\n", count,
           seconds);
    double valid = run_verify("valid", keyring, plain, count, AUTH_TOKEN_OK, seconds);
    run_verify("valid, bound to IPv4", keyring, v4, count, AUTH_TOKEN_OK, seconds);
    run_verify("valid, bound to IPv6", keyring, v6, count, AUTH_TOKEN_OK, seconds);
    double invalid = run_verify("bad signature", keyring, bad_mac, count, AUTH_TOKEN_BAD_SIGNATURE, seconds);
    run_verify("malformed", keyring, malformed, count, AUTH_TOKEN_MALFORMED, seconds);
    run_verify("unknown key", keyring, unknown, count, AUTH_TOKEN_UNKNOWN_KEY, seconds);
    double full = run_hmac("ref: hmac (key each time)", k2, payloads, count, false, seconds);
    double kept = run_hmac("ref: hmac (state kept)", k2, payloads, count, true, seconds);
    printf("summary: valid %.0f/s, bad signature %.0f/s; libsodium HMAC-SHA256 of the same 19 bytes %.0f/s "
           "(keyed state kept: %.0f/s); verify is %.0f%% of the kept-state floor; goal 1000000/s: %s\n",
           valid, invalid, full, kept, 100 * valid / kept, valid >= 1e6 && invalid >= 1e6 ? "met" : "NOT met");

    free(plain);
    free(v4);
    free(v6);
    free(bad_mac);
    free(malformed);
    free(unknown);
    free(payloads);
    auth_keyring_free(keyring);
    auth_keyring_free(stranger);
    return 0;
}
