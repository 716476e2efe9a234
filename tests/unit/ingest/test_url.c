// SPDX-License-Identifier: MIT
// test_url.c -- tests for src/ingest/url.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"
#include "ingest/ingest.h"

static ingest_url_t url;
static char err[512];

static void assert_parses(const char *text)
{
    err[0] = '\0';
    int rc = ingest_url_parse(text, &url, err, sizeof(err));
    if (rc != 0)
        fail_msg("'%s' rejected: %s", text, err);
}

/* Rejected with -EINVAL and a message that contains `part`. */
static void assert_rejected(const char *text, const char *part)
{
    err[0] = '\0';
    int rc = ingest_url_parse(text, &url, err, sizeof(err));
    if (rc != -EINVAL)
        fail_msg("'%s': got %d, want -EINVAL", text, rc);
    if (!strstr(err, part))
        fail_msg("'%s': message '%s' does not mention '%s'", text, err, part);
}

/* ---- accepted forms ---------------------------------------------------------- */

static void test_udp_multicast_with_at(void **state)
{
    (void)state;
    assert_parses("udp://@239.1.1.1:1234");
    assert_int_equal(url.kind, INGEST_UDP);
    assert_string_equal(url.host, "239.1.1.1");
    assert_int_equal(url.port, 1234);
    assert_true(url.multicast);
    assert_int_equal(url.program, 0);
    assert_string_equal(url.iface, "");
    assert_string_equal(url.ssm_source, "");
}

static void test_udp_multicast_without_at(void **state)
{
    (void)state;
    assert_parses("udp://224.0.0.1:5000");
    assert_true(url.multicast);
    assert_parses("udp://239.255.255.255:65535");
    assert_true(url.multicast);
    assert_int_equal(url.port, 65535);
}

static void test_udp_unicast(void **state)
{
    (void)state;
    assert_parses("udp://10.0.0.1:5000");
    assert_string_equal(url.host, "10.0.0.1");
    assert_false(url.multicast);
    assert_parses("udp://240.0.0.1:5000");
    assert_false(url.multicast); /* just past 224.0.0.0/4 */
}

static void test_udp_any_address(void **state)
{
    (void)state;
    assert_parses("udp://@:1234");
    assert_string_equal(url.host, "0.0.0.0");
    assert_int_equal(url.port, 1234);
    assert_false(url.multicast);
    assert_parses("udp://:1234");
    assert_string_equal(url.host, "0.0.0.0");
}

static void test_udp_ipv6(void **state)
{
    (void)state;
    assert_parses("udp://@[ff02::1]:1234");
    assert_string_equal(url.host, "ff02::1");
    assert_true(url.multicast);
    assert_parses("udp://[::1]:1234");
    assert_string_equal(url.host, "::1");
    assert_false(url.multicast);
}

static void test_udp_options(void **state)
{
    (void)state;
    assert_parses("udp://@239.1.1.1:1234?iface=eth1");
    assert_string_equal(url.iface, "eth1");
    assert_parses("udp://@239.1.1.1:1234?iface=192.168.1.5&source=10.0.0.5&program=3");
    assert_string_equal(url.iface, "192.168.1.5");
    assert_string_equal(url.ssm_source, "10.0.0.5");
    assert_int_equal(url.program, 3);
    assert_parses("udp://@239.1.1.1:1234?program=65535");
    assert_int_equal(url.program, 65535);
    assert_parses("udp://@239.1.1.1:1234?");
    assert_int_equal(url.program, 0);
}

static void test_rtp_is_udp_with_rtp_kind(void **state)
{
    (void)state;
    assert_parses("rtp://@239.2.2.2:5004?program=2");
    assert_int_equal(url.kind, INGEST_RTP);
    assert_string_equal(url.host, "239.2.2.2");
    assert_int_equal(url.port, 5004);
    assert_int_equal(url.program, 2);
    assert_true(url.multicast);
}

static void test_http_default_port_and_path(void **state)
{
    (void)state;
    assert_parses("http://example.com/live/stream.ts");
    assert_int_equal(url.kind, INGEST_HTTP);
    assert_string_equal(url.host, "example.com");
    assert_int_equal(url.port, 80);
    assert_string_equal(url.path, "/live/stream.ts");
    assert_parses("http://example.com");
    assert_string_equal(url.path, "/");
    assert_parses("http://example.com:8080");
    assert_int_equal(url.port, 8080);
    assert_string_equal(url.path, "/");
}

static void test_http_query_is_sent_and_fragment_picks_program(void **state)
{
    (void)state;
    assert_parses("http://10.1.1.1:8001/1:0:1:2?token=x&y=%20#program=7");
    assert_string_equal(url.host, "10.1.1.1");
    assert_int_equal(url.port, 8001);
    assert_string_equal(url.path, "/1:0:1:2?token=x&y=%20");
    assert_int_equal(url.program, 7);
}

static void test_http_ipv6(void **state)
{
    (void)state;
    assert_parses("http://[2001:db8::1]:8080/s.ts");
    assert_string_equal(url.host, "2001:db8::1");
    assert_int_equal(url.port, 8080);
    assert_string_equal(url.path, "/s.ts");
    assert_parses("http://[::1]/");
    assert_int_equal(url.port, 80);
}

static void test_file_and_folder(void **state)
{
    (void)state;
    assert_parses("file:///srv/media/demo.ts");
    assert_int_equal(url.kind, INGEST_FILE);
    assert_string_equal(url.path, "/srv/media/demo.ts");
    assert_parses("file:///srv/media/");
    assert_string_equal(url.path, "/srv/media/");
    assert_parses("file:///srv/mpts.ts?program=2");
    assert_string_equal(url.path, "/srv/mpts.ts");
    assert_int_equal(url.program, 2);
}

/* ---- errors, each naming what is wrong ---------------------------------------- */

static void test_empty_or_too_long(void **state)
{
    (void)state;
    assert_rejected("", "empty");
    char *big = malloc(2100);
    strcpy(big, "http://example.com/");
    memset(big + 19, 'a', 2001 - 19);
    big[2001] = '\0';
    assert_rejected(big, "longer than 2000");
    free(big);
}

static void test_spaces_and_control_characters(void **state)
{
    (void)state;
    assert_rejected("udp://@239.1.1.1:1234 ", "spaces or control characters");
    assert_rejected("http://a/b c", "spaces or control characters");
    assert_rejected("file:///a\tb", "spaces or control characters");
    assert_rejected("http://a/\x7f", "spaces or control characters");
}

static void test_unsupported_scheme(void **state)
{
    (void)state;
    assert_rejected("foo://bar", "unsupported URL 'foo://bar'");
    assert_rejected("https://example.com/", "use udp://, rtp://, http:// or file://");
    assert_rejected("UDP://@239.1.1.1:1234", "unsupported URL");
    assert_rejected("/srv/media/demo.ts", "unsupported URL");
}

static void test_udp_needs_a_port(void **state)
{
    (void)state;
    assert_rejected("udp://@239.1.1.1", "a port is required");
    assert_rejected("rtp://[ff02::1]", "a port is required");
}

static void test_bad_ports(void **state)
{
    (void)state;
    static const char *const bad[] = {"udp://@239.1.1.1:0", "udp://@239.1.1.1:65536", "udp://@239.1.1.1:",
                                      "udp://@239.1.1.1:12a", "udp://@239.1.1.1:-1", "http://host:99999/",
                                      "http://host:/x", "http://[::1]:x/"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_rejected(bad[i], "port must be a number from 1 to 65535");
}

static void test_udp_host_must_be_ip_literal(void **state)
{
    (void)state;
    assert_rejected("udp://@tv.example:1234", "'tv.example' is not an IP address");
    assert_rejected("udp://@239.1.1:1234", "is not an IP address");
}

static void test_udp_has_no_path(void **state)
{
    (void)state;
    assert_rejected("udp://@239.1.1.1:1234/stream", "has no path");
}

static void test_ipv6_brackets(void **state)
{
    (void)state;
    assert_rejected("udp://[ff02::1:1234", "missing ']'");
    assert_rejected("udp://[::1]x:1234", "unexpected text after ']'");
}

static void test_udp_options_errors(void **state)
{
    (void)state;
    assert_rejected("udp://@239.1.1.1:1234?foo=1", "unknown option 'foo'");
    assert_rejected("udp://@239.1.1.1:1234?program=1&prog=2", "unknown option 'prog'");
    assert_rejected("udp://@239.1.1.1:1234?program=0", "program must be a number from 1 to 65535");
    assert_rejected("udp://@239.1.1.1:1234?program=65536", "program must be");
    assert_rejected("udp://@239.1.1.1:1234?program=x", "program must be");
    assert_rejected("udp://@239.1.1.1:1234?program", "program must be");
    assert_rejected("udp://@239.1.1.1:1234?iface=", "iface must be an interface name or address");
    assert_rejected("udp://@239.1.1.1:1234?source=nowhere", "source must be the IP address of the multicast sender");
    assert_rejected("udp://10.0.0.1:1234?source=10.0.0.5", "source= needs a multicast group address");
}

static void test_http_errors(void **state)
{
    (void)state;
    assert_rejected("http://", "missing host");
    assert_rejected("http:///path", "missing host");
    assert_rejected("http://:8080/x", "missing host");
    assert_rejected("http://user:pass@example.com/", "user:password in source URLs is not supported");
    assert_rejected("http://example.com/#program=0", "the only fragment understood is #program=N");
    assert_rejected("http://example.com/#top", "the only fragment understood");
}

static void test_file_errors(void **state)
{
    (void)state;
    assert_rejected("file://relative/demo.ts", "absolute path");
    assert_rejected("file://", "absolute path");
    assert_rejected("file:///a.ts?iface=eth0", "unknown option 'iface'");
    assert_rejected("file:///a.ts?program=0", "program must be");
}

static void test_too_long_parts(void **state)
{
    (void)state;
    char text[2100];
    int n = snprintf(text, sizeof(text), "http://");
    memset(text + n, 'h', 300);
    strcpy(text + n + 300, "/x");
    assert_rejected(text, "host too long");

    n = snprintf(text, sizeof(text), "http://h/");
    memset(text + n, 'p', 1100);
    text[n + 1100] = '\0';
    assert_int_equal(ingest_url_parse(text, &url, err, sizeof(err)), -EINVAL);

    n = snprintf(text, sizeof(text), "file:///");
    memset(text + n, 'f', 1100);
    text[n + 1100] = '\0';
    assert_int_equal(ingest_url_parse(text, &url, err, sizeof(err)), -EINVAL);
}

/* The reason must reach the operator even when the URL is long: channel
 * config passes a 200-byte buffer (check_source in src/channel/config.c), and
 * "path too long" only ever happens with URLs over 1 KiB. */
static void test_reason_survives_a_long_url(void **state)
{
    (void)state;
    char text[2100], why[200];
    int n = snprintf(text, sizeof(text), "http://h/");
    memset(text + n, 'p', 1100);
    text[n + 1100] = '\0';
    assert_int_equal(ingest_url_parse(text, &url, why, sizeof(why)), -EINVAL);
    if (!strstr(why, "path too long"))
        fail_msg("reason lost behind the URL: '%s'", why);

    n = snprintf(text, sizeof(text), "udp://@239.1.1.1:1234?iface=eth0&program=");
    memset(text + n, '9', 250);
    text[n + 250] = '\0';
    assert_int_equal(ingest_url_parse(text, &url, why, sizeof(why)), -EINVAL);
    if (!strstr(why, "program must be"))
        fail_msg("reason lost behind the URL: '%s'", why);
}

static void test_error_message_fits_small_buffer(void **state)
{
    (void)state;
    char small[16];
    memset(small, 'z', sizeof(small));
    assert_int_equal(ingest_url_parse("foo://a-rather-long-url", &url, small, sizeof(small)), -EINVAL);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_multicast_with_at),
        cmocka_unit_test(test_udp_multicast_without_at),
        cmocka_unit_test(test_udp_unicast),
        cmocka_unit_test(test_udp_any_address),
        cmocka_unit_test(test_udp_ipv6),
        cmocka_unit_test(test_udp_options),
        cmocka_unit_test(test_rtp_is_udp_with_rtp_kind),
        cmocka_unit_test(test_http_default_port_and_path),
        cmocka_unit_test(test_http_query_is_sent_and_fragment_picks_program),
        cmocka_unit_test(test_http_ipv6),
        cmocka_unit_test(test_file_and_folder),
        cmocka_unit_test(test_empty_or_too_long),
        cmocka_unit_test(test_spaces_and_control_characters),
        cmocka_unit_test(test_unsupported_scheme),
        cmocka_unit_test(test_udp_needs_a_port),
        cmocka_unit_test(test_bad_ports),
        cmocka_unit_test(test_udp_host_must_be_ip_literal),
        cmocka_unit_test(test_udp_has_no_path),
        cmocka_unit_test(test_ipv6_brackets),
        cmocka_unit_test(test_udp_options_errors),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_too_long_parts),
        cmocka_unit_test(test_reason_survives_a_long_url),
        cmocka_unit_test(test_error_message_fits_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
