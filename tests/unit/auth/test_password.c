// SPDX-License-Identifier: MIT
// test_password.c -- tests for src/auth/password.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "auth/auth.h"

static void test_hash_and_verify(void **state)
{
    (void)state;
    char hash[AUTH_PASSWORD_HASH_MAX];
    assert_int_equal(auth_password_hash("correct horse battery staple", hash, sizeof(hash)), 0);
    /* argon2id with the cost password.c chose: 19 MiB, 2 passes, 1 lane. */
    if (strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) != 0)
        fail_msg("unexpected hash '%s'", hash);
    assert_true(auth_password_verify(hash, "correct horse battery staple"));
    assert_false(auth_password_verify(hash, "correct horse battery stapler"));
    assert_false(auth_password_verify(hash, "Correct horse battery staple"));
    assert_false(auth_password_verify(hash, ""));
}

static void test_salted(void **state)
{
    (void)state;
    char a[AUTH_PASSWORD_HASH_MAX], b[AUTH_PASSWORD_HASH_MAX];
    assert_int_equal(auth_password_hash("same", a, sizeof(a)), 0);
    assert_int_equal(auth_password_hash("same", b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    assert_true(auth_password_verify(a, "same"));
    assert_true(auth_password_verify(b, "same"));
}

static void test_empty_password(void **state)
{
    (void)state;
    char hash[AUTH_PASSWORD_HASH_MAX];
    assert_int_equal(auth_password_hash("", hash, sizeof(hash)), 0);
    assert_true(auth_password_verify(hash, ""));
    assert_false(auth_password_verify(hash, " "));
}

static void test_bad_hashes_never_verify(void **state)
{
    (void)state;
    char hash[AUTH_PASSWORD_HASH_MAX];
    assert_int_equal(auth_password_hash("pw", hash, sizeof(hash)), 0);
    assert_false(auth_password_verify(NULL, "pw"));
    assert_false(auth_password_verify(hash, NULL));
    assert_false(auth_password_verify("", "pw"));
    assert_false(auth_password_verify("pw", "pw"));
    assert_false(auth_password_verify("$argon2id$", "pw"));
    /* A changed character anywhere in the digest. */
    char changed[AUTH_PASSWORD_HASH_MAX];
    memcpy(changed, hash, sizeof(changed));
    size_t last = strlen(changed) - 2;
    changed[last] = changed[last] == 'A' ? 'B' : 'A';
    assert_false(auth_password_verify(changed, "pw"));
    /* Not terminated within AUTH_PASSWORD_HASH_MAX bytes. */
    char unterminated[AUTH_PASSWORD_HASH_MAX + 16];
    memset(unterminated, 'a', sizeof(unterminated) - 1);
    memcpy(unterminated, hash, strlen(hash));
    unterminated[sizeof(unterminated) - 1] = '\0';
    assert_false(auth_password_verify(unterminated, "pw"));
}

static void test_hash_errors(void **state)
{
    (void)state;
    char hash[AUTH_PASSWORD_HASH_MAX];
    assert_int_equal(auth_password_hash("pw", hash, AUTH_PASSWORD_HASH_MAX - 1), -ENOSPC);
    assert_int_equal(auth_password_hash(NULL, hash, sizeof(hash)), -EINVAL);
    assert_int_equal(auth_password_hash("pw", NULL, sizeof(hash)), -EINVAL);
}

static void test_fingerprint(void **state)
{
    (void)state;
    uint8_t key[32], other_key[32];
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)i;
        other_key[i] = (uint8_t)(i + 1);
    }
    uint8_t a[32], b[32];
    auth_password_fingerprint(key, "alice", "secret", a);
    auth_password_fingerprint(key, "alice", "secret", b);
    assert_memory_equal(a, b, 32);
    /* The same as keyed BLAKE2b over "alice\0secret", computed here. */
    uint8_t want[32];
    crypto_generichash(want, 32, (const unsigned char *)"alice\0secret", 12, key, 32);
    assert_memory_equal(a, want, 32);
    auth_password_fingerprint(other_key, "alice", "secret", b);
    assert_memory_not_equal(a, b, 32);
    auth_password_fingerprint(key, "alicf", "secret", b);
    assert_memory_not_equal(a, b, 32);
    auth_password_fingerprint(key, "alice", "secreT", b);
    assert_memory_not_equal(a, b, 32);
    /* The separator keeps the two apart. */
    auth_password_fingerprint(key, "ab", "c", a);
    auth_password_fingerprint(key, "a", "bc", b);
    assert_memory_not_equal(a, b, 32);
}

static void test_random(void **state)
{
    (void)state;
    uint8_t a[32], b[32], zero[32] = {0};
    auth_random(a, sizeof(a));
    auth_random(b, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, sizeof(a));
    auth_random(a, 0);
    /* Every bit position is set at least once in 64 draws (chance of a
     * false failure: 256 * 2^-64). */
    uint8_t seen[32] = {0};
    for (int i = 0; i < 64; i++) {
        auth_random(a, sizeof(a));
        for (int j = 0; j < 32; j++)
            seen[j] |= a[j];
    }
    for (int j = 0; j < 32; j++)
        assert_int_equal(seen[j], 0xff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_verify),
        cmocka_unit_test(test_salted),
        cmocka_unit_test(test_empty_password),
        cmocka_unit_test(test_bad_hashes_never_verify),
        cmocka_unit_test(test_hash_errors),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
