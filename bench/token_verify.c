// SPDX-License-Identifier: MIT
// token_verify.c -- how many signed tokens one core verifies a second
// (src/auth/token.c), next to what raw libsodium HMAC-SHA256 does over the
// same bytes.
//
// Every segment request of every viewer carries a token, so verification
// is on the hot path of the HTTP loop. Cases:
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
// The cases take turns, in short rounds, so that noise from elsewhere on
// the machine (a shared VM) falls on all of them alike; each figure is the
// median of the rounds, per second of this thread's CPU time, with the best
// round beside it.
//
// Usage: token_verify [--seconds S] [--rounds R] [--tokens N]
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

/* One measured case: token verifications with an expected status, or the
 * reference HMAC over raw payloads. */
typedef struct bench_case {
    const char *name;
    const sample_t *samples;       /* NULL: the HMAC reference */
    auth_token_status_t want;
    bool kept;                     /* reference: keyed state kept */
    double rates[64];              /* per round, per CPU-second */
} bench_case_t;

typedef struct bench_ctx {
    const auth_keyring_t *keyring;
    const uint8_t *key;            /* of the reference */
    const uint8_t *payloads;       /* 19 bytes each */
    size_t count;
} bench_ctx_t;

/* Runs a case round and round through its samples for `seconds`; returns
 * how many per second of this thread's CPU time. Aborts if a token's status
 * is not the one wanted, so a broken token cannot pass for a fast one. */
static double run_case(const bench_ctx_t *ctx, const bench_case_t *c, double seconds)
{
    crypto_auth_hmacsha256_state keyed;
    crypto_auth_hmacsha256_init(&keyed, ctx->key, 32);
    uint64_t done = 0, sum = 0;
    double wall0 = bench_now(), cpu0 = thread_cpu();
    do {
        for (size_t i = 0; i < ctx->count; i++) {
            if (c->samples) {
                const sample_t *s = &c->samples[i];
                auth_claims_t claims;
                auth_token_status_t status = auth_token_verify(ctx->keyring, s->token, s->len, s->ip, NOW, &claims);
                if (status != c->want) {
                    fprintf(stderr, "token_verify: %s: sample %zu: %s, want %s\n", c->name, i,
                            auth_token_status_text(status), auth_token_status_text(c->want));
                    exit(1);
                }
                sum += claims.subscriber;
            } else {
                uint8_t mac[32];
                if (c->kept) {
                    crypto_auth_hmacsha256_state state = keyed;
                    crypto_auth_hmacsha256_update(&state, ctx->payloads + 19 * i, 19);
                    crypto_auth_hmacsha256_final(&state, mac);
                } else {
                    crypto_auth_hmacsha256(mac, ctx->payloads + 19 * i, 19, ctx->key);
                }
                sum += mac[0];
            }
        }
        done += ctx->count;
    } while (bench_now() - wall0 < seconds);
    sink += sum;
    return (double)done / (thread_cpu() - cpu0);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *values, int n)
{
    double sorted[64];
    memcpy(sorted, values, (size_t)n * sizeof(*values));
    qsort(sorted, (size_t)n, sizeof(*sorted), compare_doubles);
    return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static double best(const double *values, int n)
{
    double b = values[0];
    for (int i = 1; i < n; i++)
        b = values[i] > b ? values[i] : b;
    return b;
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
    int rounds = 8;
    size_t count = 1024;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc)
            count = (size_t)atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--rounds R] [--tokens N]\n", argv[0]);
            return 2;
        }
    }
    if (seconds <= 0 || rounds < 1 || rounds > 64 || count == 0 || count > 1000000) {
        fprintf(stderr, "token_verify: bad --seconds, --rounds or --tokens\n");
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

    bench_case_t cases[] = {
        {"valid", plain, AUTH_TOKEN_OK, false, {0}},
        {"valid, bound to IPv4", v4, AUTH_TOKEN_OK, false, {0}},
        {"valid, bound to IPv6", v6, AUTH_TOKEN_OK, false, {0}},
        {"bad signature", bad_mac, AUTH_TOKEN_BAD_SIGNATURE, false, {0}},
        {"malformed", malformed, AUTH_TOKEN_MALFORMED, false, {0}},
        {"unknown key", unknown, AUTH_TOKEN_UNKNOWN_KEY, false, {0}},
        {"ref: hmac (key each time)", NULL, AUTH_TOKEN_OK, false, {0}},
        {"ref: hmac (state kept)", NULL, AUTH_TOKEN_OK, true, {0}},
    };
    enum { CASES = sizeof(cases) / sizeof(cases[0]) };
    bench_ctx_t ctx = {.keyring = keyring, .key = k2, .payloads = payloads, .count = count};
    printf("token verification, one thread, %zu distinct tokens, %d rounds of %.2f s per case\n", count, rounds,
           seconds / rounds);
    for (int r = 0; r < rounds; r++)
        for (size_t c = 0; c < CASES; c++)
            cases[c].rates[r] = run_case(&ctx, &cases[c], seconds / rounds);
    printf("%-26s %14s %10s %14s\n", "case", "median /s", "ns each", "best round /s");
    double med[CASES];
    for (size_t c = 0; c < CASES; c++) {
        med[c] = median(cases[c].rates, rounds);
        printf("%-26s %14.0f %10.1f %14.0f\n", cases[c].name, med[c], 1e9 / med[c], best(cases[c].rates, rounds));
    }
    printf("summary: valid %.0f/s, bad signature %.0f/s (medians); libsodium HMAC-SHA256 of the same 19 bytes "
           "%.0f/s (keyed state kept: %.0f/s); verify is %.0f%% of the kept-state floor; goal 1000000/s: %s\n",
           med[0], med[3], med[6], med[7], 100 * med[0] / med[7], med[0] >= 1e6 && med[3] >= 1e6 ? "met" : "NOT met");

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
