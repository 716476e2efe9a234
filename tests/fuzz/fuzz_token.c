// SPDX-License-Identifier: MIT
// fuzz_token.c -- fuzz target for src/auth/token.c and src/auth/cidr.c:
// each input is verified as a token against a fixed keyring (never
// accepted, unless it is one of the seeds the fixed keys signed), then
// checked and matched as an address range; finally its first bytes become
// claims that must survive a sign/verify round trip.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The keys the seed corpus was signed with: k<n> is the 32 bytes
 * 32(n-1)+1, 32(n-1)+2, ...; k1 signs, k2 verifies, k3 is retired. */
static auth_keyring_t *fuzz_keyring(void)
{
    static auth_keyring_t *keyring;
    if (keyring)
        return keyring;
    keyring = auth_keyring_new();
    if (!keyring)
        abort();
    static const struct {
        uint8_t id;
        bool retired;
    } keys[] = {{2, false}, {1, false}, {3, true}};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        uint8_t secret[AUTH_KEY_BYTES];
        for (size_t i = 0; i < AUTH_KEY_BYTES; i++)
            secret[i] = (uint8_t)(32 * (keys[k].id - 1) + i + 1);
        if (auth_keyring_add(keyring, keys[k].id, secret, keys[k].retired) < 0)
            abort();
    }
    return keyring;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    auth_keyring_t *keyring = fuzz_keyring();

    /* 1. The bytes as a token, from a fixed address and from none. */
    auth_claims_t claims;
    auth_token_status_t status =
        auth_token_verify(keyring, (const char *)data, size, "192.0.2.7", 1800000000u, &claims);
    if (status > AUTH_TOKEN_EXPIRED || !auth_token_status_text(status))
        abort();
    if (status != AUTH_TOKEN_OK && status != AUTH_TOKEN_EXPIRED && (claims.subscriber || claims.expires))
        abort(); /* claims are only filled for a good signature */
    if ((status == AUTH_TOKEN_OK || status == AUTH_TOKEN_EXPIRED) && claims.key_id != 1 && claims.key_id != 2)
        abort(); /* only live keys verify */
    auth_token_verify(keyring, (const char *)data, size, NULL, 0, NULL);

    /* 2. The bytes as text: a range, an address, and a client address. */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[160];
    memset(err, 'x', sizeof(err));
    int rc = auth_cidr_check(text, err, sizeof(err));
    if (rc != 0 && (rc != -EINVAL || !memchr(err, 0, sizeof(err)) || strncmp(err, "allowed_ips: ", 13) != 0))
        abort();
    char *items[] = {text, "10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.0/120"};
    strlist_t ranges = {.items = items, .count = 4};
    bool matched = auth_ip_in_ranges(text, &ranges);
    strlist_t self = {.items = items, .count = 1};
    /* A valid single address lies in itself. */
    if (rc == 0 && !strchr(text, '/') && !auth_ip_in_ranges(text, &self))
        abort();
    (void)matched;

    /* 3. A round trip: whatever the claims and the address, what is signed
     * verifies, to the same claims. */
    if (size >= 17) {
        auth_claims_t in = {.subscriber = load64(data), .expires = load64(data + 8), .ip_bound = data[16] & 1};
        const char *ip = size > 17 ? text + 17 : "";
        char token[AUTH_TOKEN_MAX];
        int len = auth_token_sign(keyring, &in, ip, token, sizeof(token));
        if (in.ip_bound && !*ip) {
            if (len != -EINVAL)
                abort();
        } else {
            if (len <= 0 || (size_t)len >= sizeof(token) || strlen(token) != (size_t)len)
                abort();
            auth_claims_t out;
            status = auth_token_verify(keyring, token, (size_t)len, ip, 0, &out);
            if ((status != AUTH_TOKEN_OK && status != AUTH_TOKEN_EXPIRED) || out.subscriber != in.subscriber ||
                out.expires != in.expires || out.ip_bound != in.ip_bound || out.key_id != 1)
                abort();
            if ((status == AUTH_TOKEN_EXPIRED) != (in.expires == 0))
                abort();
        }
    }
    free(text);
    return 0;
}
