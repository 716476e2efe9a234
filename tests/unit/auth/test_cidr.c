// SPDX-License-Identifier: MIT
// test_cidr.c -- tests for src/auth/cidr.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/auth.h"

static char err[256];

static void assert_valid(const char *range)
{
    err[0] = '\0';
    int rc = auth_cidr_check(range, err, sizeof(err));
    if (rc != 0)
        fail_msg("'%s' rejected: %s", range, err);
}

/* Refused with -EINVAL and a message naming the field, the range and `part`. */
static void assert_invalid(const char *range, const char *part)
{
    err[0] = '\0';
    int rc = auth_cidr_check(range, err, sizeof(err));
    if (rc != -EINVAL)
        fail_msg("'%s': got %d, want -EINVAL", range, rc);
    if (strncmp(err, "allowed_ips: ", 13) != 0 || !strstr(err, part))
        fail_msg("'%s': message '%s' does not mention '%s'", range, err, part);
}

/* Whether ip is in the ranges, given as a NULL-terminated list. */
static bool in(const char *ip, const char *const *ranges)
{
    strlist_t list = {0};
    for (size_t i = 0; ranges[i]; i++)
        assert_int_equal(strlist_push(&list, ranges[i]), 0);
    bool result = auth_ip_in_ranges(ip, &list);
    strlist_clear(&list);
    return result;
}

#define RANGES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_valid_ranges(void **state)
{
    (void)state;
    assert_valid("192.0.2.0/24");
    assert_valid("10.0.0.0/8");
    assert_valid("10.128.0.0/9");
    assert_valid("0.0.0.0/0");
    assert_valid("192.0.2.7");
    assert_valid("192.0.2.7/32");
    assert_valid("255.255.255.255");
    assert_valid("2001:db8::/32");
    assert_valid("2001:DB8::/32");
    assert_valid("::/0");
    assert_valid("::1");
    assert_valid("::1/128");
    assert_valid("fe80::/10");
    assert_valid("::ffff:10.0.0.0/104");
    assert_valid("2001:db8:0:0:0:0:0:1");
}

static void test_prefix_out_of_range(void **state)
{
    (void)state;
    assert_invalid("10.0.0.0/33", "'10.0.0.0/33': prefix must be 0-32");
    assert_invalid("2001:db8::/129", "'2001:db8::/129': prefix must be 0-128");
    assert_invalid("10.0.0.0/", "prefix must be 0-32");
    assert_invalid("10.0.0.0/-1", "prefix must be 0-32");
    assert_invalid("10.0.0.0/+8", "prefix must be 0-32");
    assert_invalid("10.0.0.0/08", "prefix must be 0-32");
    assert_invalid("10.0.0.0/8/8", "prefix must be 0-32");
    assert_invalid("10.0.0.0/ 8", "prefix must be 0-32");
    assert_invalid("10.0.0.0/8 ", "prefix must be 0-32");
    assert_invalid("10.0.0.0/0x8", "prefix must be 0-32");
    assert_invalid("10.0.0.0/4294967304", "prefix must be 0-32"); /* 2^32 + 8 */
    assert_invalid("::/1000", "prefix must be 0-128");
}

static void test_not_an_address(void **state)
{
    (void)state;
    assert_invalid("", "empty");
    assert_invalid("/8", "no address");
    assert_invalid("10.0.0", "'10.0.0' is not an IPv4 or IPv6 address");
    assert_invalid("256.0.0.0/8", "not an IPv4 or IPv6 address");
    assert_invalid("010.0.0.0/8", "not an IPv4 or IPv6 address");
    assert_invalid("example.com", "not an IPv4 or IPv6 address");
    assert_invalid(" 10.0.0.0/8", "not an IPv4 or IPv6 address");
    assert_invalid("fe80::1%eth0", "not an IPv4 or IPv6 address");
    assert_invalid("[2001:db8::]/32", "not an IPv4 or IPv6 address");
    assert_invalid("2001:db8:::/32", "not an IPv4 or IPv6 address");
    assert_invalid("1.2.3.4.5", "not an IPv4 or IPv6 address");
    char long_text[200];
    memset(long_text, '1', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    assert_invalid(long_text, "not an IPv4 or IPv6 address");
    assert_int_equal(auth_cidr_check(NULL, err, sizeof(err)), -EINVAL);
}

static void test_host_bits(void **state)
{
    (void)state;
    assert_invalid("192.0.2.7/24", "host bits are set; the range is 192.0.2.0/24");
    assert_invalid("10.200.0.0/9", "the range is 10.128.0.0/9");
    assert_invalid("2001:db8::1/32", "the range is 2001:db8::/32");
    assert_invalid("0.0.0.1/0", "the range is 0.0.0.0/0");
}

static void test_message_buffer(void **state)
{
    (void)state;
    char small[12];
    memset(small, 'x', sizeof(small));
    assert_int_equal(auth_cidr_check("10.0.0.0/33", small, sizeof(small)), -EINVAL);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_int_equal(auth_cidr_check("10.0.0.0/33", NULL, 0), -EINVAL);
    assert_int_equal(auth_cidr_check("10.0.0.0/8", NULL, 0), 0);
}

static void test_ipv4_matching(void **state)
{
    (void)state;
    assert_true(in("192.0.2.0", RANGES("192.0.2.0/24")));
    assert_true(in("192.0.2.255", RANGES("192.0.2.0/24")));
    assert_false(in("192.0.3.0", RANGES("192.0.2.0/24")));
    assert_false(in("192.0.1.255", RANGES("192.0.2.0/24")));
    assert_true(in("10.127.255.255", RANGES("10.0.0.0/9")));
    assert_false(in("10.128.0.0", RANGES("10.0.0.0/9")));
    assert_true(in("10.128.0.0", RANGES("10.128.0.0/9")));
    assert_true(in("192.0.2.7", RANGES("192.0.2.7")));
    assert_false(in("192.0.2.8", RANGES("192.0.2.7")));
    assert_true(in("203.0.113.9", RANGES("0.0.0.0/0")));
    assert_false(in("2001:db8::1", RANGES("0.0.0.0/0")));
    assert_true(in("192.0.2.7", RANGES("10.0.0.0/8", "192.0.2.6/31", "172.16.0.0/12")));
    assert_false(in("192.0.2.8", RANGES("10.0.0.0/8", "192.0.2.6/31", "172.16.0.0/12")));
}

static void test_ipv6_matching(void **state)
{
    (void)state;
    assert_true(in("2001:db8:1::5", RANGES("2001:db8::/32")));
    assert_false(in("2001:db9::1", RANGES("2001:db8::/32")));
    assert_true(in("2001:db9::1", RANGES("2001:db8::/31")));
    assert_false(in("2001:dba::1", RANGES("2001:db8::/31")));
    assert_true(in("::1", RANGES("::1")));
    assert_false(in("::2", RANGES("::1")));
    assert_true(in("2001:DB8::1", RANGES("2001:db8::1/128")));
    assert_true(in("fe80::1", RANGES("fe80::/10")));
    assert_true(in("febf::1", RANGES("fe80::/10")));
    assert_false(in("fec0::1", RANGES("fe80::/10")));
    assert_true(in("2001:db8::1", RANGES("::/0")));
    /* ::/0 is every address, IPv4 ones too. */
    assert_true(in("192.0.2.1", RANGES("::/0")));
    assert_false(in("192.0.2.1", RANGES("2001:db8::/32")));
}

static void test_ipv4_mapped(void **state)
{
    (void)state;
    assert_true(in("::ffff:192.0.2.7", RANGES("192.0.2.0/24")));
    assert_true(in("::FFFF:c000:0207", RANGES("192.0.2.0/24")));
    assert_false(in("::ffff:192.0.3.7", RANGES("192.0.2.0/24")));
    assert_true(in("::ffff:192.0.2.7", RANGES("192.0.2.7")));
    assert_true(in("192.0.2.7", RANGES("::ffff:192.0.2.0/120")));
    assert_true(in("10.1.2.3", RANGES("::ffff:10.0.0.0/104")));
    /* IPv4-compatible (::a.b.c.d) is not IPv4. */
    assert_false(in("::192.0.2.7", RANGES("192.0.2.0/24")));
}

static void test_bad_input_matches_nothing(void **state)
{
    (void)state;
    assert_false(in("not an address", RANGES("0.0.0.0/0")));
    assert_false(in("", RANGES("::/0")));
    assert_false(in("192.0.2.7/32", RANGES("192.0.2.0/24")));
    assert_false(in("192.0.2.7", RANGES("garbage", "192.0.2.0/33", "")));
    assert_true(in("192.0.2.7", RANGES("garbage", "192.0.2.0/33", "192.0.2.0/24")));
    /* Host bits in a stored range are ignored. */
    assert_true(in("10.2.3.4", RANGES("10.0.0.1/8")));
    strlist_t empty = {0};
    assert_false(auth_ip_in_ranges("192.0.2.7", &empty));
    assert_false(auth_ip_in_ranges(NULL, &empty));
    assert_false(auth_ip_in_ranges("192.0.2.7", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_ranges),
        cmocka_unit_test(test_prefix_out_of_range),
        cmocka_unit_test(test_not_an_address),
        cmocka_unit_test(test_host_bits),
        cmocka_unit_test(test_message_buffer),
        cmocka_unit_test(test_ipv4_matching),
        cmocka_unit_test(test_ipv6_matching),
        cmocka_unit_test(test_ipv4_mapped),
        cmocka_unit_test(test_bad_input_matches_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
