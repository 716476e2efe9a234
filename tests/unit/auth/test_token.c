// SPDX-License-Identifier: MIT
// test_token.c -- tests for src/auth/token.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <sodium.h>

#include "auth/auth.h"

#define TOKEN_LEN 47
#define NOW 1800000000u
#define LATER 1900000000u

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void key_bytes(uint8_t secret[AUTH_KEY_BYTES], uint8_t seed)
{
    for (size_t i = 0; i < AUTH_KEY_BYTES; i++)
        secret[i] = (uint8_t)(seed + i);
}

static auth_keyring_t *keyring_with(uint8_t id, uint8_t seed)
{
    auth_keyring_t *keyring = auth_keyring_new();
    assert_non_null(keyring);
    uint8_t secret[AUTH_KEY_BYTES];
    key_bytes(secret, seed);
    assert_int_equal(auth_keyring_add(keyring, id, secret, false), 0);
    return keyring;
}

static void sign(const auth_keyring_t *keyring, uint64_t subscriber, uint64_t expires, const char *ip,
                 char out[AUTH_TOKEN_MAX])
{
    auth_claims_t claims = {.subscriber = subscriber, .expires = expires, .ip_bound = ip != NULL};
    assert_int_equal(auth_token_sign(keyring, &claims, ip, out, AUTH_TOKEN_MAX), TOKEN_LEN);
    assert_int_equal(strlen(out), TOKEN_LEN);
}

static auth_token_status_t verify(const auth_keyring_t *keyring, const char *token, const char *ip, uint64_t now)
{
    auth_claims_t claims;
    return auth_token_verify(keyring, token, strlen(token), ip, now, &claims);
}

/* The token the format says, built independently of token.c: payload, then
 * the first 16 bytes of HMAC-SHA256 over payload || ip, base64url. */
static void reference_token(uint8_t version, uint8_t key_id, const uint8_t secret[AUTH_KEY_BYTES],
                            uint64_t subscriber, uint64_t expires, uint8_t flags, const char *ip,
                            char out[AUTH_TOKEN_MAX])
{
    uint8_t raw[35], mac[32];
    raw[0] = version;
    raw[1] = key_id;
    for (int i = 0; i < 8; i++) {
        raw[2 + i] = (uint8_t)(subscriber >> (56 - 8 * i));
        raw[10 + i] = (uint8_t)(expires >> (56 - 8 * i));
    }
    raw[18] = flags;
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, secret, AUTH_KEY_BYTES);
    crypto_auth_hmacsha256_update(&state, raw, 19);
    if (ip)
        crypto_auth_hmacsha256_update(&state, (const unsigned char *)ip, strlen(ip));
    crypto_auth_hmacsha256_final(&state, mac);
    memcpy(raw + 19, mac, 16);
    sodium_bin2base64(out, AUTH_TOKEN_MAX, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* ---- round trip and format ------------------------------------------------------ */

static void test_round_trip(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(7, 1);
    char token[AUTH_TOKEN_MAX];
    sign(keyring, 0x0102030405060708u, LATER, NULL, token);
    for (const char *p = token; *p; p++)
        assert_non_null(strchr(alphabet, *p));
    auth_claims_t claims;
    memset(&claims, 0xa5, sizeof(claims));
    assert_int_equal(auth_token_verify(keyring, token, TOKEN_LEN, NULL, NOW, &claims), AUTH_TOKEN_OK);
    assert_true(claims.subscriber == 0x0102030405060708u);
    assert_true(claims.expires == LATER);
    assert_false(claims.ip_bound);
    assert_int_equal(claims.key_id, 7);
    /* Not NUL-terminated: only len bytes are read. */
    char padded[TOKEN_LEN + 8];
    memcpy(padded, token, TOKEN_LEN);
    memset(padded + TOKEN_LEN, 'A', 8);
    assert_int_equal(auth_token_verify(keyring, padded, TOKEN_LEN, NULL, NOW, NULL), AUTH_TOKEN_OK);
    /* Extreme values survive. */
    sign(keyring, UINT64_MAX, UINT64_MAX, NULL, token);
    assert_int_equal(auth_token_verify(keyring, token, TOKEN_LEN, NULL, UINT64_MAX - 1, &claims), AUTH_TOKEN_OK);
    assert_true(claims.subscriber == UINT64_MAX && claims.expires == UINT64_MAX);
    auth_keyring_free(keyring);
}

static void test_matches_reference_format(void **state)
{
    (void)state;
    uint8_t secret[AUTH_KEY_BYTES];
    key_bytes(secret, 1);
    auth_keyring_t *keyring = keyring_with(42, 1);
    char token[AUTH_TOKEN_MAX], want[AUTH_TOKEN_MAX];
    sign(keyring, 123456789, LATER, NULL, token);
    reference_token(1, 42, secret, 123456789, LATER, 0, NULL, want);
    assert_string_equal(token, want);
    sign(keyring, 99, LATER, "192.0.2.7", token);
    reference_token(1, 42, secret, 99, LATER, 1, "192.0.2.7", want);
    assert_string_equal(token, want);
    /* The IPv6 text that is MACed is inet_ntop's. */
    sign(keyring, 99, LATER, "2001:DB8:0:0::1", token);
    reference_token(1, 42, secret, 99, LATER, 1, "2001:db8::1", want);
    assert_string_equal(token, want);
    auth_keyring_free(keyring);
}

static void test_tokens_differ_by_claims(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(1, 1);
    char a[AUTH_TOKEN_MAX], b[AUTH_TOKEN_MAX];
    sign(keyring, 1, LATER, NULL, a);
    sign(keyring, 2, LATER, NULL, b);
    assert_string_not_equal(a, b);
    sign(keyring, 1, LATER + 1, NULL, b);
    assert_string_not_equal(a, b);
    sign(keyring, 1, LATER, "192.0.2.1", b);
    assert_string_not_equal(a, b);
    auth_keyring_free(keyring);
}

/* ---- rejections ------------------------------------------------------------------- */

static void test_every_changed_character_is_rejected(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(3, 9);
    char token[AUTH_TOKEN_MAX];
    sign(keyring, 77, LATER, "192.0.2.7", token);
    assert_int_equal(verify(keyring, token, "192.0.2.7", NOW), AUTH_TOKEN_OK);
    static const char others[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. %\x7f\x80\xff";
    for (size_t i = 0; i < TOKEN_LEN; i++) {
        for (size_t j = 0; j < sizeof(others) - 1; j++) {
            if (others[j] == token[i])
                continue;
            char changed[AUTH_TOKEN_MAX];
            memcpy(changed, token, sizeof(changed));
            changed[i] = others[j];
            auth_claims_t claims;
            auth_token_status_t status = auth_token_verify(keyring, changed, TOKEN_LEN, "192.0.2.7", NOW, &claims);
            if (status == AUTH_TOKEN_OK || status == AUTH_TOKEN_EXPIRED)
                fail_msg("character %zu changed to '%c' still verifies: %s", i, others[j], changed);
            assert_true(claims.subscriber == 0 && claims.expires == 0);
        }
        /* A NUL inside is no base64url either. */
        char changed[AUTH_TOKEN_MAX];
        memcpy(changed, token, sizeof(changed));
        changed[i] = '\0';
        assert_int_equal(auth_token_verify(keyring, changed, TOKEN_LEN, "192.0.2.7", NOW, NULL),
                         AUTH_TOKEN_MALFORMED);
    }
    auth_keyring_free(keyring);
}

static void test_bad_characters_are_malformed(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(3, 9);
    char token[AUTH_TOKEN_MAX];
    sign(keyring, 77, LATER, NULL, token);
    const char bad[] = {'+', '/', '=', ' ', '.', '\n', '\x80', '\xc3'};
    for (size_t i = 0; i < sizeof(bad); i++) {
        char changed[AUTH_TOKEN_MAX];
        memcpy(changed, token, sizeof(changed));
        changed[10] = bad[i];
        assert_int_equal(verify(keyring, changed, NULL, NOW), AUTH_TOKEN_MALFORMED);
    }
    /* The last character carries 2 bits past the 35 bytes; they must be 0,
     * so a second spelling of the same token does not exist. */
    const char *at = strchr(alphabet, token[TOKEN_LEN - 1]);
    assert_non_null(at);
    size_t value = (size_t)(at - alphabet);
    assert_int_equal(value & 3, 0);
    for (size_t low = 1; low < 4; low++) {
        char changed[AUTH_TOKEN_MAX];
        memcpy(changed, token, sizeof(changed));
        changed[TOKEN_LEN - 1] = alphabet[value | low];
        assert_int_equal(verify(keyring, changed, NULL, NOW), AUTH_TOKEN_MALFORMED);
    }
    auth_keyring_free(keyring);
}

static void test_wrong_length_is_malformed(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(3, 9);
    char token[AUTH_TOKEN_MAX + 8];
    sign(keyring, 77, LATER, NULL, token);
    for (size_t len = 0; len < TOKEN_LEN; len++)
        assert_int_equal(auth_token_verify(keyring, token, len, NULL, NOW, NULL), AUTH_TOKEN_MALFORMED);
    strcat(token, "A");
    assert_int_equal(auth_token_verify(keyring, token, TOKEN_LEN + 1, NULL, NOW, NULL), AUTH_TOKEN_MALFORMED);
    /* With padding, as plain base64 would write it. */
    token[TOKEN_LEN] = '=';
    assert_int_equal(auth_token_verify(keyring, token, TOKEN_LEN + 1, NULL, NOW, NULL), AUTH_TOKEN_MALFORMED);
    assert_int_equal(auth_token_verify(keyring, NULL, 0, NULL, NOW, NULL), AUTH_TOKEN_MALFORMED);
    assert_int_equal(auth_token_verify(NULL, token, TOKEN_LEN, NULL, NOW, NULL), AUTH_TOKEN_MALFORMED);
    auth_keyring_free(keyring);
}

static void test_unknown_version_and_flags_are_malformed(void **state)
{
    (void)state;
    uint8_t secret[AUTH_KEY_BYTES];
    key_bytes(secret, 5);
    auth_keyring_t *keyring = keyring_with(9, 5);
    char token[AUTH_TOKEN_MAX];
    /* Correctly MACed, so only the version or the flags can be what is wrong. */
    reference_token(1, 9, secret, 5, LATER, 0, NULL, token);
    assert_int_equal(verify(keyring, token, NULL, NOW), AUTH_TOKEN_OK);
    reference_token(0, 9, secret, 5, LATER, 0, NULL, token);
    assert_int_equal(verify(keyring, token, NULL, NOW), AUTH_TOKEN_MALFORMED);
    reference_token(2, 9, secret, 5, LATER, 0, NULL, token);
    assert_int_equal(verify(keyring, token, NULL, NOW), AUTH_TOKEN_MALFORMED);
    reference_token(1, 9, secret, 5, LATER, 2, NULL, token);
    assert_int_equal(verify(keyring, token, NULL, NOW), AUTH_TOKEN_MALFORMED);
    reference_token(1, 9, secret, 5, LATER, 0x81, "192.0.2.1", token);
    assert_int_equal(verify(keyring, token, "192.0.2.1", NOW), AUTH_TOKEN_MALFORMED);
    auth_keyring_free(keyring);
}

static void test_expiry_boundary(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(1, 1);
    char token[AUTH_TOKEN_MAX];
    sign(keyring, 5, 1000, NULL, token);
    assert_int_equal(verify(keyring, token, NULL, 0), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, token, NULL, 999), AUTH_TOKEN_OK);
    auth_claims_t claims;
    assert_int_equal(auth_token_verify(keyring, token, TOKEN_LEN, NULL, 1000, &claims), AUTH_TOKEN_EXPIRED);
    /* An authentic but expired token still says whose it was. */
    assert_true(claims.subscriber == 5 && claims.expires == 1000);
    assert_int_equal(verify(keyring, token, NULL, 1001), AUTH_TOKEN_EXPIRED);
    assert_int_equal(verify(keyring, token, NULL, UINT64_MAX), AUTH_TOKEN_EXPIRED);
    sign(keyring, 5, 0, NULL, token);
    assert_int_equal(verify(keyring, token, NULL, 0), AUTH_TOKEN_EXPIRED);
    auth_keyring_free(keyring);
}

static void test_unknown_key(void **state)
{
    (void)state;
    auth_keyring_t *signer = keyring_with(7, 1);
    auth_keyring_t *other_id = keyring_with(8, 1);
    auth_keyring_t *other_secret = keyring_with(7, 2);
    char token[AUTH_TOKEN_MAX];
    sign(signer, 5, LATER, NULL, token);
    assert_int_equal(verify(other_id, token, NULL, NOW), AUTH_TOKEN_UNKNOWN_KEY);
    assert_int_equal(verify(other_secret, token, NULL, NOW), AUTH_TOKEN_BAD_SIGNATURE);
    auth_keyring_t *empty = auth_keyring_new();
    assert_non_null(empty);
    assert_int_equal(verify(empty, token, NULL, NOW), AUTH_TOKEN_UNKNOWN_KEY);
    auth_keyring_free(signer);
    auth_keyring_free(other_id);
    auth_keyring_free(other_secret);
    auth_keyring_free(empty);
}

static void test_retired_key_neither_signs_nor_verifies(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(7, 1);
    char token[AUTH_TOKEN_MAX];
    sign(keyring, 5, LATER, NULL, token);
    uint8_t secret[AUTH_KEY_BYTES];
    key_bytes(secret, 1);
    assert_int_equal(auth_keyring_add(keyring, 7, secret, true), 0);
    assert_int_equal(verify(keyring, token, NULL, NOW), AUTH_TOKEN_UNKNOWN_KEY);
    auth_claims_t claims = {.subscriber = 5, .expires = LATER};
    char out[AUTH_TOKEN_MAX];
    assert_int_equal(auth_token_sign(keyring, &claims, NULL, out, sizeof(out)), -ENOKEY);
    /* Retiring a key never added is fine and adds nothing. */
    assert_int_equal(auth_keyring_add(keyring, 9, secret, true), 0);
    assert_int_equal(auth_token_sign(keyring, &claims, NULL, out, sizeof(out)), -ENOKEY);
    /* Adding it back, not retired, brings the old tokens back. */
    assert_int_equal(auth_keyring_add(keyring, 7, secret, false), 0);
    assert_int_equal(verify(keyring, token, NULL, NOW), AUTH_TOKEN_OK);
    auth_keyring_free(keyring);
}

static void test_rotation(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(1, 1);
    char old_token[AUTH_TOKEN_MAX], new_token[AUTH_TOKEN_MAX];
    sign(keyring, 5, LATER, NULL, old_token);
    uint8_t k1[AUTH_KEY_BYTES], k2[AUTH_KEY_BYTES];
    key_bytes(k1, 1);
    key_bytes(k2, 2);
    assert_int_equal(auth_keyring_add(keyring, 2, k2, false), 0);
    sign(keyring, 5, LATER, NULL, new_token);
    auth_claims_t claims;
    assert_int_equal(auth_token_verify(keyring, new_token, TOKEN_LEN, NULL, NOW, &claims), AUTH_TOKEN_OK);
    assert_int_equal(claims.key_id, 2); /* the newest key signs */
    assert_int_equal(auth_token_verify(keyring, old_token, TOKEN_LEN, NULL, NOW, &claims), AUTH_TOKEN_OK);
    assert_int_equal(claims.key_id, 1); /* the old one still verifies */
    assert_int_equal(auth_keyring_add(keyring, 1, k1, true), 0);
    assert_int_equal(verify(keyring, old_token, NULL, NOW), AUTH_TOKEN_UNKNOWN_KEY);
    assert_int_equal(verify(keyring, new_token, NULL, NOW), AUTH_TOKEN_OK);
    auth_keyring_free(keyring);
}

static void test_newest_added_key_signs(void **state)
{
    (void)state;
    uint8_t secret[AUTH_KEY_BYTES];
    key_bytes(secret, 3);
    auth_keyring_t *keyring = keyring_with(200, 1);
    assert_int_equal(auth_keyring_add(keyring, 3, secret, false), 0);
    char token[AUTH_TOKEN_MAX];
    auth_claims_t claims;
    sign(keyring, 1, LATER, NULL, token);
    assert_int_equal(auth_token_verify(keyring, token, TOKEN_LEN, NULL, NOW, &claims), AUTH_TOKEN_OK);
    assert_int_equal(claims.key_id, 3); /* by order of addition, not by id */
    /* Replacing key 200 makes it the newest. */
    key_bytes(secret, 4);
    assert_int_equal(auth_keyring_add(keyring, 200, secret, false), 0);
    sign(keyring, 1, LATER, NULL, token);
    assert_int_equal(auth_token_verify(keyring, token, TOKEN_LEN, NULL, NOW, &claims), AUTH_TOKEN_OK);
    assert_int_equal(claims.key_id, 200);
    /* Retiring the signer hands signing back to the next newest. */
    assert_int_equal(auth_keyring_add(keyring, 200, secret, true), 0);
    sign(keyring, 1, LATER, NULL, token);
    assert_int_equal(auth_token_verify(keyring, token, TOKEN_LEN, NULL, NOW, &claims), AUTH_TOKEN_OK);
    assert_int_equal(claims.key_id, 3);
    auth_keyring_free(keyring);
}

static void test_keyring_limits(void **state)
{
    (void)state;
    auth_keyring_t *keyring = auth_keyring_new();
    assert_non_null(keyring);
    uint8_t secret[AUTH_KEY_BYTES];
    char tokens[AUTH_MAX_KEYS][AUTH_TOKEN_MAX];
    for (int i = 0; i < AUTH_MAX_KEYS; i++) {
        key_bytes(secret, (uint8_t)(10 + i));
        assert_int_equal(auth_keyring_add(keyring, (uint8_t)(240 + i), secret, false), 0);
        sign(keyring, (uint64_t)i, LATER, NULL, tokens[i]);
    }
    key_bytes(secret, 99);
    assert_int_equal(auth_keyring_add(keyring, 0, secret, false), -ENOSPC);
    /* Replacing one is not adding one. */
    key_bytes(secret, 10 + 5);
    assert_int_equal(auth_keyring_add(keyring, 245, secret, false), 0);
    /* Retiring one makes room. */
    assert_int_equal(auth_keyring_add(keyring, 240, secret, true), 0);
    key_bytes(secret, 99);
    assert_int_equal(auth_keyring_add(keyring, 0, secret, false), 0);
    for (int i = 0; i < AUTH_MAX_KEYS; i++) {
        auth_claims_t claims;
        auth_token_status_t want = i == 0 ? AUTH_TOKEN_UNKNOWN_KEY : AUTH_TOKEN_OK;
        assert_int_equal(auth_token_verify(keyring, tokens[i], TOKEN_LEN, NULL, NOW, &claims), want);
        if (want == AUTH_TOKEN_OK)
            assert_true(claims.subscriber == (uint64_t)i);
    }
    /* A key of zeros is a mistake, not a key. */
    memset(secret, 0, sizeof(secret));
    assert_int_equal(auth_keyring_add(keyring, 1, secret, false), -EINVAL);
    assert_int_equal(auth_keyring_add(NULL, 1, secret, false), -EINVAL);
    auth_keyring_free(keyring);
    auth_keyring_free(NULL);
}

static void test_sign_errors(void **state)
{
    (void)state;
    auth_claims_t claims = {.subscriber = 1, .expires = LATER};
    char out[AUTH_TOKEN_MAX];
    auth_keyring_t *empty = auth_keyring_new();
    assert_int_equal(auth_token_sign(empty, &claims, NULL, out, sizeof(out)), -ENOKEY);
    assert_int_equal(auth_token_sign(NULL, &claims, NULL, out, sizeof(out)), -ENOKEY);
    auth_keyring_t *keyring = keyring_with(1, 1);
    assert_int_equal(auth_token_sign(keyring, &claims, NULL, out, TOKEN_LEN), -ENOSPC);
    assert_int_equal(auth_token_sign(keyring, &claims, NULL, out, TOKEN_LEN + 1), TOKEN_LEN);
    claims.ip_bound = true;
    assert_int_equal(auth_token_sign(keyring, &claims, NULL, out, sizeof(out)), -EINVAL);
    assert_int_equal(auth_token_sign(keyring, &claims, "", out, sizeof(out)), -EINVAL);
    auth_keyring_free(keyring);
    auth_keyring_free(empty);
}

/* ---- client address ----------------------------------------------------------------- */

static void test_ip_bound(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(1, 1);
    char token[AUTH_TOKEN_MAX];
    sign(keyring, 5, LATER, "192.0.2.7", token);
    auth_claims_t claims;
    assert_int_equal(auth_token_verify(keyring, token, TOKEN_LEN, "192.0.2.7", NOW, &claims), AUTH_TOKEN_OK);
    assert_true(claims.ip_bound);
    assert_int_equal(verify(keyring, token, "192.0.2.8", NOW), AUTH_TOKEN_BAD_SIGNATURE);
    assert_int_equal(verify(keyring, token, "192.0.2.70", NOW), AUTH_TOKEN_BAD_SIGNATURE);
    assert_int_equal(verify(keyring, token, "2001:db8::7", NOW), AUTH_TOKEN_BAD_SIGNATURE);
    assert_int_equal(verify(keyring, token, "", NOW), AUTH_TOKEN_BAD_SIGNATURE);
    assert_int_equal(verify(keyring, token, NULL, NOW), AUTH_TOKEN_BAD_SIGNATURE);
    /* An expired token from the wrong address is a bad signature first. */
    sign(keyring, 5, 1000, "192.0.2.7", token);
    assert_int_equal(verify(keyring, token, "192.0.2.8", NOW), AUTH_TOKEN_BAD_SIGNATURE);
    assert_int_equal(verify(keyring, token, "192.0.2.7", NOW), AUTH_TOKEN_EXPIRED);
    auth_keyring_free(keyring);
}

static void test_unbound_works_from_anywhere(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(1, 1);
    char token[AUTH_TOKEN_MAX];
    sign(keyring, 5, LATER, NULL, token);
    assert_int_equal(verify(keyring, token, "192.0.2.7", NOW), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, token, "2001:db8::1", NOW), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, token, NULL, NOW), AUTH_TOKEN_OK);
    /* ip_bound false: client_ip at signing is ignored. */
    auth_claims_t claims = {.subscriber = 5, .expires = LATER};
    char other[AUTH_TOKEN_MAX];
    assert_int_equal(auth_token_sign(keyring, &claims, "192.0.2.1", other, sizeof(other)), TOKEN_LEN);
    assert_string_equal(token, other);
    auth_keyring_free(keyring);
}

static void test_ipv4_mapped_is_ipv4(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(1, 1);
    char v4[AUTH_TOKEN_MAX], mapped[AUTH_TOKEN_MAX], mapped_hex[AUTH_TOKEN_MAX];
    sign(keyring, 5, LATER, "192.0.2.7", v4);
    sign(keyring, 5, LATER, "::ffff:192.0.2.7", mapped);
    sign(keyring, 5, LATER, "::FFFF:c000:207", mapped_hex);
    assert_string_equal(v4, mapped);
    assert_string_equal(v4, mapped_hex);
    assert_int_equal(verify(keyring, v4, "::ffff:192.0.2.7", NOW), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, v4, "0:0:0:0:0:ffff:c000:0207", NOW), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, mapped, "192.0.2.7", NOW), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, v4, "::ffff:192.0.2.8", NOW), AUTH_TOKEN_BAD_SIGNATURE);
    /* IPv4-compatible (::a.b.c.d) is an IPv6 address of its own. */
    assert_int_equal(verify(keyring, v4, "::192.0.2.7", NOW), AUTH_TOKEN_BAD_SIGNATURE);
    auth_keyring_free(keyring);
}

static void test_ipv6_spellings_agree(void **state)
{
    (void)state;
    auth_keyring_t *keyring = keyring_with(1, 1);
    char token[AUTH_TOKEN_MAX];
    sign(keyring, 5, LATER, "2001:db8::1", token);
    assert_int_equal(verify(keyring, token, "2001:db8::1", NOW), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, token, "2001:DB8:0:0:0:0:0:1", NOW), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, token, "2001:0db8::0001", NOW), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, token, "2001:db8::2", NOW), AUTH_TOKEN_BAD_SIGNATURE);
    /* Text that is no address is MACed as given (and bounded). */
    char long_ip[300];
    memset(long_ip, 'x', sizeof(long_ip) - 1);
    long_ip[sizeof(long_ip) - 1] = '\0';
    sign(keyring, 5, LATER, long_ip, token);
    assert_int_equal(verify(keyring, token, long_ip, NOW), AUTH_TOKEN_OK);
    sign(keyring, 5, LATER, "[::1]", token);
    assert_int_equal(verify(keyring, token, "[::1]", NOW), AUTH_TOKEN_OK);
    assert_int_equal(verify(keyring, token, "::1", NOW), AUTH_TOKEN_BAD_SIGNATURE);
    auth_keyring_free(keyring);
}

/* The text MACed for an IPv6 address is RFC 5952's, whatever the spelling. */
static void test_ipv6_text_is_rfc5952(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"::", "::"},
        {"::1", "::1"},
        {"1::", "1::"},
        {"1:0:0:0:0:0:0:0", "1::"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* one zero group stays */
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          /* the longest run */
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* the first of equal runs */
        {"0:0:1:0:0:0:0:0", "0:0:1::"},
        {"0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1"},
        {"ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
        {"2001:0db8:00a0:0b00:0000:0000:0000:0c00", "2001:db8:a0:b00::c00"},
        {"::1.2.3.4", "::102:304"},                       /* IPv4-compatible: plain IPv6 */
        {"::fffe:1.2.3.4", "::fffe:102:304"},
        {"::ffff:0:0", "0.0.0.0"},                        /* IPv4-mapped: the IPv4 address */
        {"::ffff:255.255.255.255", "255.255.255.255"},
        {"::ffff:10.0.0.1", "10.0.0.1"},
    };
    uint8_t secret[AUTH_KEY_BYTES];
    key_bytes(secret, 1);
    auth_keyring_t *keyring = keyring_with(1, 1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char token[AUTH_TOKEN_MAX], want[AUTH_TOKEN_MAX];
        sign(keyring, 5, LATER, cases[i][0], token);
        reference_token(1, 1, secret, 5, LATER, 1, cases[i][1], want);
        if (strcmp(token, want) != 0)
            fail_msg("'%s' is not MACed as '%s'", cases[i][0], cases[i][1]);
    }
    /* Where glibc's inet_ntop writes hex only, it writes RFC 5952 too: the
     * same text for random addresses, zero groups frequent. */
    uint32_t seed = 1;
    for (int n = 0; n < 20000; n++) {
        struct in6_addr a;
        for (int g = 0; g < 8; g++) {
            seed = seed * 1103515245u + 12345u;
            unsigned v = (seed >> 8) & 0xffff;
            v = (seed >> 28) < 8 ? 0 : (seed >> 28) < 10 ? v & 0xf : v;
            a.s6_addr[2 * g] = (uint8_t)(v >> 8);
            a.s6_addr[2 * g + 1] = (uint8_t)v;
        }
        char text[INET6_ADDRSTRLEN], token[AUTH_TOKEN_MAX], want[AUTH_TOKEN_MAX];
        assert_non_null(inet_ntop(AF_INET6, &a, text, sizeof(text)));
        if (strchr(text, '.'))
            continue;
        sign(keyring, 5, LATER, text, token);
        reference_token(1, 1, secret, 5, LATER, 1, text, want);
        if (strcmp(token, want) != 0)
            fail_msg("'%s' (inet_ntop) is MACed as some other text", text);
    }
    auth_keyring_free(keyring);
}

/* ---- texts and keys -------------------------------------------------------------------- */

static void test_status_texts(void **state)
{
    (void)state;
    const char *seen[5];
    for (int s = AUTH_TOKEN_OK; s <= AUTH_TOKEN_EXPIRED; s++) {
        seen[s] = auth_token_status_text((auth_token_status_t)s);
        assert_non_null(seen[s]);
        assert_true(strlen(seen[s]) > 0);
        for (int t = 0; t < s; t++)
            assert_string_not_equal(seen[s], seen[t]);
    }
    assert_string_equal(auth_token_status_text(AUTH_TOKEN_MALFORMED), "malformed token");
    assert_string_equal(auth_token_status_text(AUTH_TOKEN_EXPIRED), "expired token");
    assert_non_null(auth_token_status_text((auth_token_status_t)99));
}

static void test_key_from_hex(void **state)
{
    (void)state;
    uint8_t secret[AUTH_KEY_BYTES];
    assert_int_equal(auth_key_from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F", secret), 0);
    for (int i = 0; i < AUTH_KEY_BYTES; i++)
        assert_int_equal(secret[i], i);
    uint8_t before[AUTH_KEY_BYTES];
    memcpy(before, secret, sizeof(before));
    const char *bad[] = {
        "",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",   /* 63 */
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0", /* 65 */
        "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1 ",
        " 00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(auth_key_from_hex(bad[i], secret), -EINVAL);
        assert_memory_equal(secret, before, sizeof(before)); /* untouched on failure */
    }
    assert_int_equal(auth_key_from_hex(NULL, secret), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_matches_reference_format),
        cmocka_unit_test(test_tokens_differ_by_claims),
        cmocka_unit_test(test_every_changed_character_is_rejected),
        cmocka_unit_test(test_bad_characters_are_malformed),
        cmocka_unit_test(test_wrong_length_is_malformed),
        cmocka_unit_test(test_unknown_version_and_flags_are_malformed),
        cmocka_unit_test(test_expiry_boundary),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_retired_key_neither_signs_nor_verifies),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_newest_added_key_signs),
        cmocka_unit_test(test_keyring_limits),
        cmocka_unit_test(test_sign_errors),
        cmocka_unit_test(test_ip_bound),
        cmocka_unit_test(test_unbound_works_from_anywhere),
        cmocka_unit_test(test_ipv4_mapped_is_ipv4),
        cmocka_unit_test(test_ipv6_spellings_agree),
        cmocka_unit_test(test_ipv6_text_is_rfc5952),
        cmocka_unit_test(test_status_texts),
        cmocka_unit_test(test_key_from_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
