// SPDX-License-Identifier: MIT
// test_request.c -- tests for dvr_parse_request (src/dvr/serve.c): every
// archive URL form, and malformed ones refused with a message, never taken
// for something else.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dvr/dvr.h"

#define NOW 1795899000u

static dvr_request_t parse(const char *rest, int want_rc)
{
    dvr_request_t r;
    assert_int_equal(dvr_parse_request(rest, NOW, &r), want_rc);
    return r;
}

static void test_forms(void **state)
{
    (void)state;
    dvr_request_t r = parse("index-1795898000-120.m3u8", 0);
    assert_int_equal(r.kind, DVR_REQUEST_RANGE);
    assert_int_equal(r.from, 1795898000u);
    assert_int_equal(r.duration, 120);
    r = parse("archive-1795898000-43200.m3u8", 0);
    assert_int_equal(r.kind, DVR_REQUEST_RANGE);
    assert_int_equal(r.duration, 43200);
    r = parse("index-1795898000-now.m3u8", 0);
    assert_int_equal(r.kind, DVR_REQUEST_EVENT);
    r = parse("timeshift_rel-90.m3u8", 0);
    assert_int_equal(r.kind, DVR_REQUEST_TIMESHIFT);
    assert_int_equal(r.duration, 90);
    r = parse("dvr-1795898000123.ts", 0);
    assert_int_equal(r.kind, DVR_REQUEST_SEGMENT);
    assert_int_equal(r.from, 1795898000123u);
    /* live HLS names are not the archive's */
    assert_int_equal(parse("index.m3u8", 0).kind, DVR_REQUEST_NONE);
    assert_int_equal(parse("12.ts", 0).kind, DVR_REQUEST_NONE);
    assert_int_equal(parse("master.ll.m3u8", 0).kind, DVR_REQUEST_NONE);
    assert_int_equal(parse("dvr-12x.ts", 0).kind, DVR_REQUEST_NONE);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "index-abc-60.m3u8",     "index--5-60.m3u8",     "index-1e9-60.m3u8",  "index-+17-60.m3u8",
        "index-17-0.m3u8",       "index-17--5.m3u8",     "index-17-43201.m3u8", "index-17-60.m3u",
        "index-17-60.m3u8x",     "index-17-60",          "archive-17-now.m3u8", "index-99999999999-60.m3u8",
        "index-17-99999999999999999999999.m3u8",         "index-",             "archive-",
        "index-1795800000-now.m3u8", /* more than 12 h ago */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        dvr_request_t r;
        if (dvr_parse_request(bad[i], NOW, &r) != -EINVAL || r.kind != DVR_REQUEST_BAD || !r.error[0])
            fail_msg("'%s' was not refused (kind %d)", bad[i], r.kind);
    }
}

static void test_timeshift_ts(void **state)
{
    (void)state;
    assert_int_equal(dvr_timeshift_start("timeshift_abs-1795898000.ts"), 1795898000000u);
    uint64_t rel = dvr_timeshift_start("timeshift_rel-60.ts");
    uint64_t now = clock_wall_ms();
    assert_true(rel <= now - 60000 && rel >= now - 61000);
    assert_int_equal(dvr_timeshift_start("timeshift_abs-1795898000.m3u8"), 0);
    assert_int_equal(dvr_timeshift_start("timeshift_abs-.ts"), 0);
    assert_int_equal(dvr_timeshift_start("timeshift_abs-99999999999.ts"), 0);
    assert_int_equal(dvr_timeshift_start("index.m3u8"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_timeshift_ts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
