// SPDX-License-Identifier: MIT
// test_body.c -- tests for src/admin/body.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "admin/admin.h"
#include "auth/auth.h"
#include "channel/channel.h"
#include "ingest/ingest.h"

#define ERR_SIZE 512

/* ---- helpers ----------------------------------------------------------------------------- */

static json_t *parse_ok(const char *text)
{
    char err[ERR_SIZE] = "";
    json_t *json = admin_body_parse(text, strlen(text), err, sizeof(err));
    if (!json)
        fail_msg("'%s' refused: %s", text, err);
    return json;
}

/* Parses len bytes (which may hold NULs) and expects `want` as the message. */
static void parse_fails_n(const char *text, size_t len, const char *want)
{
    char err[ERR_SIZE] = "";
    json_t *json = admin_body_parse(text, len, err, sizeof(err));
    assert_null(json);
    assert_string_equal(err, want);
    /* Every message can go into a JSON answer as it is. */
    json_t *s = json_string(err);
    assert_non_null(s);
    json_decref(s);
}

static void parse_fails(const char *text, const char *want) { parse_fails_n(text, strlen(text), want); }

/* Applies a JSON text to a subscriber (defaults first), expecting success. */
static void sub_apply_ok(subscriber_t *s, const char *text, bool require_name)
{
    static const char *const extra[] = {"password", NULL};
    json_t *json = parse_ok(text);
    char err[ERR_SIZE] = "";
    int rc = admin_object_from_json(subscriber_fields, subscriber_field_count, json, s, extra, require_name, err,
                                    sizeof(err));
    if (rc != 0)
        fail_msg("'%s' refused: %s", text, err);
    json_decref(json);
}

/* Applies a JSON object to `object` and expects the message `want`. */
static void apply_fails_json(const field_t *fields, size_t count, void *object, const json_t *json,
                             const char *const *extra, bool require_name, const char *want)
{
    char err[ERR_SIZE] = "";
    int rc = admin_object_from_json(fields, count, json, object, extra, require_name, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(err, want);
    json_t *s = json_string(err);
    assert_non_null(s); /* valid UTF-8 */
    json_decref(s);
}

static void apply_fails(const field_t *fields, size_t count, void *object, const char *text, bool require_name,
                        const char *want)
{
    static const char *const extra[] = {"password", NULL};
    json_t *json = parse_ok(text);
    apply_fails_json(fields, count, object, json, extra, require_name, want);
    json_decref(json);
}

/* A subscriber update that must be refused with `want`. */
static void sub_fails(const char *text, const char *want)
{
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    apply_fails(subscriber_fields, subscriber_field_count, &s, text, false, want);
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static char *repeat(const char *unit, size_t times)
{
    size_t len = strlen(unit);
    char *s = malloc(len * times + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * len, unit, len);
    s[len * times] = '\0';
    return s;
}

/* {"key": "value"} with value escaped by jansson. */
static json_t *one(const char *key, const char *value)
{
    json_t *json = json_object();
    json_object_set_new(json, key, json_string(value));
    return json;
}

/* ---- admin_body_parse ---------------------------------------------------------------------- */

static void test_parse_object(void **state)
{
    (void)state;
    json_t *json = parse_ok(" \r\n\t{\"name\": \"alice\", \"max_streams\": 2, \"packages\": [\"news\"]}\n");
    assert_true(json_is_object(json));
    assert_string_equal(json_string_value(json_object_get(json, "name")), "alice");
    assert_int_equal(json_integer_value(json_object_get(json, "max_streams")), 2);
    json_decref(json);
    json = parse_ok("{}");
    assert_int_equal(json_object_size(json), 0);
    json_decref(json);
}

static void test_parse_refuses_empty_body(void **state)
{
    (void)state;
    parse_fails("", "body: empty (a JSON object was expected)");
    parse_fails(" \n\t\r ", "body: empty (a JSON object was expected)");
}

static void test_parse_refuses_arrays_and_scalars(void **state)
{
    (void)state;
    parse_fails("[{\"name\": \"alice\"}]", "body: must be a JSON object, not an array");
    parse_fails("[]", "body: must be a JSON object, not an array");
    parse_fails("42", "body: must be a JSON object, not a number");
    parse_fails("4.5", "body: must be a JSON object, not a number");
    parse_fails("\"alice\"", "body: must be a JSON object, not a string");
    parse_fails("true", "body: must be a JSON object, not a boolean");
    parse_fails("null", "body: must be a JSON object, not null");
}

static void test_parse_refuses_duplicate_keys(void **state)
{
    (void)state;
    parse_fails("{\"a\":1, \"a\":2}", "body: line 1, column 11: duplicate object key near '\"a\"'");
    /* The second "name" would otherwise silently win over the first. */
    parse_fails("{\"name\": \"alice\",\n \"enabled\": true,\n \"name\": \"bob\"}",
                "body: line 3, column 7: duplicate object key near '\"name\"'");
    /* Nested objects too. */
    parse_fails("{\"x\": {\"k\": 1, \"k\": 1}}", "body: line 1, column 18: duplicate object key near '\"k\"'");
}

static void test_parse_errors_have_line_and_column(void **state)
{
    (void)state;
    parse_fails("{\"enabled\":\n  tru}", "body: line 2, column 5: invalid token near 'tru'");
    parse_fails("{\"a\": 1,}", "body: line 1, column 9: string or '}' expected near '}'");
    parse_fails("{\"a\" 1}", "body: line 1, column 6: ':' expected near '1'");
    parse_fails("{'a': 1}", "body: line 1, column 2: string or '}' expected near '''");
    parse_fails("{\"a\": 1", "body: line 1, column 7: '}' expected near end of file");
    /* Columns count characters, not bytes. */
    parse_fails("{\"é\":x}", "body: line 1, column 6: invalid token near 'x'");
}

static void test_parse_refuses_trailing_bytes(void **state)
{
    (void)state;
    parse_fails("{} x", "body: line 1, column 4: end of file expected near 'x'");
    parse_fails("{}{}", "body: line 1, column 3: end of file expected near '{'");
}

static void test_parse_refuses_nul_bytes(void **state)
{
    (void)state;
    parse_fails_n("{\"a\":1}\0", 8, "body: line 1, column 8: NUL byte");
    parse_fails_n("{\"a\":\"x\0y\"}", 11, "body: line 1, column 8: NUL byte");
    parse_fails_n("\0{}", 3, "body: line 1, column 1: NUL byte");
    parse_fails("{\"a\":\"\\u0000\"}",
                "body: line 1, column 13: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'");
}

static void test_parse_refuses_invalid_utf8(void **state)
{
    (void)state;
    parse_fails("{\"a\":\"\xff\"}", "body: line 1, column 6: unable to decode byte 0xff near '\"'");
    parse_fails("{\"a\":\"\xc0\xaf\"}", "body: line 1, column 6: unable to decode byte 0xc0 near '\"'"); /* overlong */
    parse_fails("{\"a\":\"\xed\xa0\x80\"}", "body: line 1, column 6: unable to decode byte 0xed near '\"'"); /* surrogate */
    parse_fails("{\"\xe2\x82\"}", "body: line 1, column 2: unable to decode byte 0xe2 near '\"'"); /* cut short */
    parse_fails("{\"a\":\"\\ud800\"}", "body: line 1, column 13: invalid Unicode '\\uD800' near '\"\\ud800\"'");
}

static void test_parse_accepts_unicode(void **state)
{
    (void)state;
    json_t *json = parse_ok("{\"t\":\"Télé 日本語 \\u00e9 \\ud83d\\ude00 😀\"}");
    assert_string_equal(json_string_value(json_object_get(json, "t")), "Télé 日本語 é 😀 😀");
    json_decref(json);
}

static void test_parse_size_limit(void **state)
{
    (void)state;
    /* {"notes":"xxx...x"}: exactly ADMIN_BODY_MAX bytes is fine, one more is not. */
    size_t len = ADMIN_BODY_MAX;
    char *body = malloc(len + 2);
    assert_non_null(body);
    memcpy(body, "{\"notes\":\"", 10);
    memset(body + 10, 'x', len - 12);
    memcpy(body + len - 2, "\"}", 3);
    char err[ERR_SIZE];
    json_t *json = admin_body_parse(body, len, err, sizeof(err));
    assert_non_null(json);
    assert_int_equal(json_string_length(json_object_get(json, "notes")), len - 12);
    json_decref(json);
    memcpy(body + len - 2, "x\"}", 4);
    parse_fails_n(body, len + 1, "body: larger than 1048576 bytes");
    free(body);
}

static void test_parse_depth_limit(void **state)
{
    (void)state;
    /* 8 levels deep, the object itself counted, is fine. */
    json_t *json = parse_ok("{\"a\":[[[[[[{\"b\":1}]]]]]]}");
    json_decref(json);
    parse_fails("{\"a\":[[[[[[[[1]]]]]]]]}", "body: line 1, column 13: nested deeper than 8 levels");
    parse_fails("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}}}}",
                "body: line 1, column 41: nested deeper than 8 levels");
    /* Brackets inside strings, escaped quotes included, do not count. */
    json = parse_ok("{\"a\":\"[[[[[[[[[[{{{{{{{{{{\\\"[[[[[[[[[[\"}");
    json_decref(json);
    /* A hostile body is refused before anything recurses over it. */
    size_t n = 200000;
    char *deep = malloc(n + 2);
    assert_non_null(deep);
    deep[0] = '{';
    memcpy(deep + 1, "\"a\":", 4);
    memset(deep + 5, '[', n - 5);
    deep[n] = '\0';
    parse_fails(deep, "body: line 1, column 13: nested deeper than 8 levels");
    free(deep);
}

static void test_parse_huge_numbers(void **state)
{
    (void)state;
    parse_fails("{\"max_streams\": 99999999999999999999}",
                "body: line 1, column 36: too big integer near '99999999999999999999'");
    parse_fails("{\"max_streams\": 1e999}", "body: line 1, column 21: real number overflow near '1e999'");
    json_t *json = parse_ok("{\"a\": 9223372036854775807, \"b\": -9223372036854775808}");
    assert_true(json_integer_value(json_object_get(json, "a")) == INT64_MAX);
    assert_true(json_integer_value(json_object_get(json, "b")) == INT64_MIN);
    json_decref(json);
}

/* ---- admin_object_from_json: subscribers ------------------------------------------------------------ */

static void test_create_subscriber(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    sub_apply_ok(&s,
                 "{\"name\":\"alice\",\"password\":\"ignored here\",\"enabled\":false,\"expires\":\"2027-01-31\","
                 "\"max_streams\":3,\"limit_policy\":\"end-oldest\",\"packages\":[\"news\",\"sport\"],"
                 "\"allowed_ips\":[\"192.0.2.0/24\",\"2001:db8::/32\"],\"bind_ip\":true,\"notes\":\"VIP\"}",
                 true);
    assert_string_equal(s.name, "alice");
    assert_null(s.password_hash); /* "password" is the caller's */
    assert_false(s.enabled);
    assert_string_equal(s.expires, "2027-01-31");
    assert_int_equal(s.max_streams, 3);
    assert_int_equal(s.limit_policy, LIMIT_END_OLDEST);
    assert_int_equal(s.packages.count, 2);
    assert_string_equal(s.packages.items[0], "news");
    assert_string_equal(s.packages.items[1], "sport");
    assert_int_equal(s.allowed_ips.count, 2);
    assert_true(s.bind_ip);
    assert_string_equal(s.notes, "VIP");
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_keys_not_given_are_kept(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    s.notes = strdup("keep me");
    strlist_push(&s.packages, "news");
    sub_apply_ok(&s, "{\"max_streams\": 0}", false);
    assert_int_equal(s.max_streams, 0);
    assert_string_equal(s.notes, "keep me");
    assert_int_equal(s.packages.count, 1);
    assert_true(s.enabled);
    sub_apply_ok(&s, "{}", false);
    assert_string_equal(s.notes, "keep me");
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_name_required_on_creation(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    apply_fails(subscriber_fields, subscriber_field_count, &s, "{\"max_streams\": 2}", true, "name: required");
    apply_fails(subscriber_fields, subscriber_field_count, &s, "{\"name\": null}", true, "name: required");
    apply_fails(subscriber_fields, subscriber_field_count, &s, "{\"name\": 7}", true, "name: must be a string");
    apply_fails(subscriber_fields, subscriber_field_count, &s, "{\"name\": \"\"}", true,
                "name: '' must be 1-64 of a-z, 0-9, '-' and '_'");
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_name_cannot_change_on_update(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    sub_apply_ok(&s, "{\"name\": \"alice\", \"max_streams\": 4}", false); /* repeating it is fine */
    assert_string_equal(s.name, "alice");
    assert_int_equal(s.max_streams, 4);
    sub_fails("{\"name\": \"bob\"}", "name: cannot be changed");
    sub_fails("{\"name\": null}", "name: cannot be changed");
    sub_fails("{\"name\": 1}", "name: cannot be changed");
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_unknown_fields(void **state)
{
    (void)state;
    sub_fails("{\"colour\": \"red\"}", "colour: unknown field");
    sub_fails("{\"id\": 1}", "id: unknown field");
    sub_fails("{\"\": 1}", ": unknown field");
    /* Near misses get a suggestion, among the keys that may be set. */
    sub_fails("{\"max_stream\": 1}", "max_stream: unknown field (did you mean max_streams?)");
    sub_fails("{\"Max_Streams\": 1}", "Max_Streams: unknown field (did you mean max_streams?)");
    sub_fails("{\"nmae\": \"x\"}", "nmae: unknown field (did you mean name?)");
    sub_fails("{\"enable\": true}", "enable: unknown field (did you mean enabled?)");
    sub_fails("{\"passwrd\": \"x\"}", "passwrd: unknown field (did you mean password?)");
    sub_fails("{\"allowed_ip\": []}", "allowed_ip: unknown field (did you mean allowed_ips?)");
    /* ... never a read-only one. */
    sub_fails("{\"token_ids\": 1}", "token_ids: unknown field");
    sub_fails("{\"created\": 1}", "created: unknown field");
    /* Without extra keys, "password" is unknown too. */
    subscriber_t s;
    subscriber_defaults(&s);
    json_t *json = parse_ok("{\"password\": \"secret\"}");
    apply_fails_json(subscriber_fields, subscriber_field_count, &s, json, NULL, false, "password: unknown field");
    json_decref(json);
}

static void test_unknown_keys_are_quoted_safely(void **state)
{
    (void)state;
    /* Long keys are cut at 64 bytes; a character cut in two becomes '?'. */
    char *key = repeat("é", 100);
    char text[400];
    snprintf(text, sizeof(text), "{\"a%s\": 1}", key);
    char want[200];
    snprintf(want, sizeof(want), "a%.62s?: unknown field", key);
    sub_fails(text, want);
    free(key);
    /* Control characters in a key do not reach the message. */
    sub_fails("{\"a\\nb\\u001b[31m\": 1}", "a?b?[31m: unknown field");
    sub_fails("{\"x'; DROP TABLE subscribers; --\": 1}", "x'; DROP TABLE subscribers; --: unknown field");
}

static void test_read_only_fields(void **state)
{
    (void)state;
    sub_fails("{\"created_at\": \"2026-01-01T00:00:00Z\"}", "created_at: read-only");
    sub_fails("{\"updated_at\": \"x\"}", "updated_at: read-only");
    sub_fails("{\"token_id\": 5}", "token_id: read-only");
    sub_fails("{\"password_hash\": \"$argon2id$...\"}", "password_hash: read-only");
    /* Even when the value would be wrong too: the key is checked first. */
    sub_fails("{\"token_id\": \"x\"}", "token_id: read-only");
}

static void test_type_errors(void **state)
{
    (void)state;
    sub_fails("{\"notes\": 5}", "notes: must be a string");
    sub_fails("{\"notes\": true}", "notes: must be a string");
    sub_fails("{\"notes\": [\"a\"]}", "notes: must be a string");
    sub_fails("{\"notes\": {}}", "notes: must be a string");
    sub_fails("{\"max_streams\": \"2\"}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": true}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": null}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": []}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"enabled\": \"true\"}", "enabled: must be true or false");
    sub_fails("{\"enabled\": 1}", "enabled: must be true or false");
    sub_fails("{\"enabled\": null}", "enabled: must be true or false");
    sub_fails("{\"limit_policy\": \"refuse\"}", "limit_policy: must be one of: refuse-new, end-oldest");
    sub_fails("{\"limit_policy\": \"REFUSE-NEW\"}", "limit_policy: must be one of: refuse-new, end-oldest");
    sub_fails("{\"limit_policy\": 0}", "limit_policy: must be one of: refuse-new, end-oldest");
    sub_fails("{\"limit_policy\": null}", "limit_policy: must be one of: refuse-new, end-oldest");
    sub_fails("{\"packages\": \"news\"}", "packages: must be an array of strings (at most 256)");
    sub_fails("{\"packages\": [\"news\", 1]}", "packages: must be an array of strings (at most 256)");
    sub_fails("{\"packages\": [[\"news\"]]}", "packages: must be an array of strings (at most 256)");
    sub_fails("{\"packages\": null}", "packages: must be an array of strings (at most 256)");
    sub_fails("{\"allowed_ips\": {\"a\": \"10.0.0.0/8\"}}", "allowed_ips: must be an array of strings (at most 64)");
}

static void test_integer_range(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    sub_apply_ok(&s, "{\"max_streams\": 1000}", false);
    assert_int_equal(s.max_streams, 1000);
    sub_apply_ok(&s, "{\"max_streams\": 0}", false);
    assert_int_equal(s.max_streams, 0);
    sub_apply_ok(&s, "{\"max_streams\": -0}", false);
    assert_int_equal(s.max_streams, 0);
    fields_clear(subscriber_fields, subscriber_field_count, &s);
    sub_fails("{\"max_streams\": 1001}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": -1}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": 9223372036854775807}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": -9223372036854775808}", "max_streams: must be an integer from 0 to 1000");
}

static void test_floats_are_not_integers(void **state)
{
    (void)state;
    sub_fails("{\"max_streams\": 2.0}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": 2.5}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": 1e2}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": 1E+1}", "max_streams: must be an integer from 0 to 1000");
    sub_fails("{\"max_streams\": 1e-400}", "max_streams: must be an integer from 0 to 1000");
}

static void test_check_messages_are_used(void **state)
{
    (void)state;
    sub_fails("{\"expires\": \"tomorrow\"}", "expires: 'tomorrow' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
    sub_fails("{\"expires\": \"2026-02-30\"}",
              "expires: '2026-02-30' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
    /* Items of a list are named by their index. */
    sub_fails("{\"packages\": [\"news\", \"Sport TV\"]}",
              "packages[1]: 'Sport TV' is not a valid name (1-64 of a-z, 0-9, '-' and '_')");
    sub_fails("{\"allowed_ips\": [\"10.0.0.0/33\"]}", "allowed_ips[0]: '10.0.0.0/33': prefix must be 0-32");
    sub_fails("{\"allowed_ips\": [\"\"]}",
              "allowed_ips[0]: empty; give an address or a range such as 192.0.2.0/24");
    subscriber_t s;
    subscriber_defaults(&s);
    apply_fails(subscriber_fields, subscriber_field_count, &s, "{\"name\": \"Alice\"}", true,
                "name: 'Alice' must be 1-64 of a-z, 0-9, '-' and '_'");
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_null_clears_strings(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    s.notes = strdup("old");
    s.expires = strdup("2027-01-01");
    sub_apply_ok(&s, "{\"notes\": null, \"expires\": null}", false);
    assert_null(s.notes);
    assert_null(s.expires);
    sub_apply_ok(&s, "{\"expires\": \"\"}", false); /* "" means never too */
    assert_string_equal(s.expires, "");
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_lists_are_replaced(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    strlist_push(&s.packages, "a");
    strlist_push(&s.packages, "b");
    sub_apply_ok(&s, "{\"packages\": [\"c\"]}", false);
    assert_int_equal(s.packages.count, 1);
    assert_string_equal(s.packages.items[0], "c");
    sub_apply_ok(&s, "{\"packages\": []}", false);
    assert_int_equal(s.packages.count, 0);
    /* A list refused halfway leaves the old one whole. */
    strlist_push(&s.packages, "keep");
    static const char *const extra[] = {"password", NULL};
    json_t *json = parse_ok("{\"packages\": [\"x\", \"y\", \"BAD\"]}");
    char err[ERR_SIZE];
    assert_int_equal(admin_object_from_json(subscriber_fields, subscriber_field_count, json, &s, extra, false, err,
                                            sizeof(err)),
                     -EINVAL);
    json_decref(json);
    assert_int_equal(s.packages.count, 1);
    assert_string_equal(s.packages.items[0], "keep");
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_list_length_limit(void **state)
{
    (void)state;
    /* allowed_ips takes at most 64. */
    char text[64 * 20 + 64] = "{\"allowed_ips\": [";
    for (int i = 0; i < 64; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\"10.0.%d.0/24\"", i ? "," : "", i);
    strcat(text, "]}");
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    sub_apply_ok(&s, text, false);
    assert_int_equal(s.allowed_ips.count, 64);
    text[strlen(text) - 2] = '\0';
    strcat(text, ",\"10.1.0.0/16\"]}");
    sub_fails(text, "allowed_ips: must be an array of strings (at most 64)");
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_strings_too_long(void **state)
{
    (void)state;
    char *notes = repeat("n", 2000);
    char *text = malloc(2100);
    assert_non_null(text);
    snprintf(text, 2100, "{\"notes\": \"%s\"}", notes);
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    sub_apply_ok(&s, text, false);
    assert_int_equal(strlen(s.notes), 2000);
    snprintf(text, 2100, "{\"notes\": \"%sn\"}", notes);
    sub_fails(text, "notes: longer than 2000 characters");
    fields_clear(subscriber_fields, subscriber_field_count, &s);
    free(text);
    free(notes);
    /* A name too long: the field's check says so first. */
    char *name = repeat("a", 65);
    char want[300];
    snprintf(want, sizeof(want), "name: '%s' must be 1-64 of a-z, 0-9, '-' and '_'", name);
    subscriber_defaults(&s);
    json_t *json = one("name", name);
    apply_fails_json(subscriber_fields, subscriber_field_count, &s, json, NULL, true, want);
    json_decref(json);
    free(name);
}

static void test_sql_looking_strings_are_kept_verbatim(void **state)
{
    (void)state;
    static const char *const values[] = {
        "'; DROP TABLE subscribers; --",
        "Robert'); DROP TABLE students;--",
        "1' OR '1'='1",
        "\" OR \"\"=\"",
        "%s%s%n %x",
        "\\\\server\\share",
    };
    for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
        subscriber_t s;
        subscriber_defaults(&s);
        s.name = strdup("alice");
        json_t *json = one("notes", values[i]);
        char err[ERR_SIZE];
        assert_int_equal(
            admin_object_from_json(subscriber_fields, subscriber_field_count, json, &s, NULL, false, err, sizeof(err)),
            0);
        assert_string_equal(s.notes, values[i]);
        json_decref(json);
        fields_clear(subscriber_fields, subscriber_field_count, &s);
    }
    /* Where a field has a check, it refuses them. */
    sub_fails("{\"packages\": [\"news'; DELETE FROM packages; --\"]}",
              "packages[0]: 'news'; DELETE FROM packages; --' is not a valid name (1-64 of a-z, 0-9, '-' and '_')");
    subscriber_t s;
    subscriber_defaults(&s);
    apply_fails(subscriber_fields, subscriber_field_count, &s, "{\"name\": \"x' OR 1=1 --\"}", true,
                "name: 'x' OR 1=1 --' must be 1-64 of a-z, 0-9, '-' and '_'");
}

static void test_control_characters_refused(void **state)
{
    (void)state;
    /* As on the command line (fields_set). */
    sub_fails("{\"notes\": \"line\\nbreak\"}", "notes: control character at offset 4");
    sub_fails("{\"notes\": \"\\u001b[2J\"}", "notes: control character at offset 0");
    /* A NUL inside a value built by a caller (the parser never makes one). */
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    json_t *json = json_object();
    json_object_set_new(json, "notes", json_stringn("a\0b", 3));
    apply_fails_json(subscriber_fields, subscriber_field_count, &s, json, NULL, false,
                     "notes: control character at offset 1");
    json_decref(json);
    json = json_object();
    json_object_set_new(json, "packages", json_pack("[s, o]", "news", json_stringn("x\0", 2)));
    apply_fails_json(subscriber_fields, subscriber_field_count, &s, json, NULL, false,
                     "packages[1]: control character at offset 1");
    json_decref(json);
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_unicode_values(void **state)
{
    (void)state;
    package_t p;
    package_defaults(&p);
    json_t *json = parse_ok("{\"name\":\"fr\",\"title\":\"Télé Été ☀ 日本 😀\",\"channels\":[\"tf1\"]}");
    char err[ERR_SIZE];
    assert_int_equal(admin_object_from_json(package_fields, package_field_count, json, &p, NULL, true, err,
                                            sizeof(err)),
                     0);
    json_decref(json);
    assert_string_equal(p.title, "Télé Été ☀ 日本 😀");
    /* Lengths are counted in bytes, as fields_set counts them: 100 × "é"
     * (200 bytes) fits a title of 200, one more does not. */
    char *title = repeat("é", 100);
    json = one("title", title);
    assert_int_equal(admin_object_from_json(package_fields, package_field_count, json, &p, NULL, false, err,
                                            sizeof(err)),
                     0);
    assert_string_equal(p.title, title);
    json_decref(json);
    free(title);
    title = repeat("é", 101);
    json = one("title", title);
    apply_fails_json(package_fields, package_field_count, &p, json, NULL, false, "title: longer than 200 characters");
    json_decref(json);
    free(title);
    /* A check's message quoting a cut value stays valid UTF-8. */
    char *e60 = repeat("é", 60), bad[200];
    snprintf(bad, sizeof(bad), "a%s", e60);
    json = json_pack("{s[s]}", "channels", bad);
    char want[400];
    snprintf(want, sizeof(want), "channels[0]: '%.79s?' is not a valid name (1-64 of a-z, 0-9, '-' and '_')", bad);
    apply_fails_json(package_fields, package_field_count, &p, json, NULL, false, want);
    json_decref(json);
    free(e60);
    fields_clear(package_fields, package_field_count, &p);
}

static void test_keys_apply_in_order_and_stop_at_the_first_error(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    apply_fails(subscriber_fields, subscriber_field_count, &s,
                "{\"max_streams\": 7, \"enabled\": \"no\", \"colour\": 1, \"notes\": \"x\"}", false,
                "enabled: must be true or false");
    /* Partly applied, as documented: callers work on a copy. */
    assert_int_equal(s.max_streams, 7);
    assert_null(s.notes);
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

static void test_not_an_object(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    json_t *json = json_array();
    apply_fails_json(subscriber_fields, subscriber_field_count, &s, json, NULL, true, "body: must be a JSON object");
    json_decref(json);
    apply_fails_json(subscriber_fields, subscriber_field_count, &s, NULL, NULL, true, "body: must be a JSON object");
}

/* The API and the CLI agree: the same values give the same object. */
static void test_same_result_as_fields_set(void **state)
{
    (void)state;
    subscriber_t a, b;
    subscriber_defaults(&a);
    subscriber_defaults(&b);
    sub_apply_ok(&a,
                 "{\"name\":\"bob\",\"enabled\":false,\"max_streams\":5,\"limit_policy\":\"end-oldest\","
                 "\"packages\":[\"p1\",\"p2\"],\"notes\":\"hi\"}",
                 true);
    static const char *const text[][2] = {{"name", "bob"},         {"enabled", "false"}, {"max_streams", "5"},
                                          {"limit_policy", "end-oldest"}, {"packages", "p1"},   {"packages", "p2"},
                                          {"notes", "hi"}};
    char err[ERR_SIZE];
    for (size_t i = 0; i < ARRAY_SIZE(text); i++)
        assert_int_equal(fields_set(fields_find(subscriber_fields, subscriber_field_count, text[i][0]), &b,
                                    text[i][1], err, sizeof(err)),
                         0);
    for (size_t i = 0; i < subscriber_field_count; i++)
        assert_true(fields_equal(&subscriber_fields[i], &a, &b));
    fields_clear(subscriber_fields, subscriber_field_count, &a);
    fields_clear(subscriber_fields, subscriber_field_count, &b);
}

/* ---- other objects ------------------------------------------------------------------------------- */

static void test_channel_fields(void **state)
{
    (void)state;
    channel_config_t c;
    channel_config_defaults(&c);
    json_t *json = parse_ok("{\"name\":\"news\",\"title\":\"News 24\",\"number\":5,\"sources\":"
                            "[\"udp://@239.1.1.1:1234\",\"http://backup.example/news.ts\"],\"on_demand\":true,"
                            "\"lag_policy\":\"close\",\"hls_target\":4}");
    char err[ERR_SIZE];
    assert_int_equal(admin_object_from_json(channel_fields, channel_field_count, json, &c, NULL, true, err,
                                            sizeof(err)),
                     0);
    json_decref(json);
    assert_string_equal(c.name, "news");
    assert_int_equal(c.sources.count, 2);
    assert_int_equal(c.lag_policy, LAG_CLOSE);
    assert_int_equal(c.hls_target, 4);
    assert_int_equal(channel_config_validate(&c, err, sizeof(err)), 0);
    apply_fails(channel_fields, channel_field_count, &c, "{\"hls_target\": 0}", false,
                "hls_target: must be an integer from 1 to 30");
    apply_fails(channel_fields, channel_field_count, &c, "{\"lag_policy\": \"drop\"}", false,
                "lag_policy: must be one of: skip, close");
    apply_fails(channel_fields, channel_field_count, &c, "{\"state\": \"up\"}", false,
                "state: unknown field (did you mean slate?)");
    apply_fails(channel_fields, channel_field_count, &c, "{\"source\": []}", false,
                "source: unknown field (did you mean sources?)");
    /* The URL check's message, named by the JSON key. */
    char want[ERR_SIZE];
    ingest_url_t url;
    char why[200];
    assert_int_not_equal(ingest_url_parse("ftp://x/y", &url, why, sizeof(why)), 0);
    snprintf(want, sizeof(want), "sources[1]: %s", why);
    apply_fails(channel_fields, channel_field_count, &c, "{\"sources\": [\"udp://@239.1.1.1:1234\", \"ftp://x/y\"]}",
                false, want);
    assert_int_equal(c.sources.count, 2); /* unchanged */
    char text[2048] = "{\"sources\": [";
    for (int i = 0; i < 17; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\"udp://@239.1.1.%d:1234\"", i ? "," : "",
                 i + 1);
    strcat(text, "]}");
    apply_fails(channel_fields, channel_field_count, &c, text, false, "sources: must be an array of strings (at most 16)");
    channel_config_clear(&c);
}

static void test_epg_source_fields(void **state)
{
    (void)state;
    epg_source_t e;
    epg_source_defaults(&e);
    json_t *json = parse_ok("{\"name\":\"tnt\",\"url\":\"https://example.org/tnt.xml.gz\",\"days\":3}");
    char err[ERR_SIZE];
    assert_int_equal(admin_object_from_json(epg_source_fields, epg_source_field_count, json, &e, NULL, true, err,
                                            sizeof(err)),
                     0);
    json_decref(json);
    assert_int_equal(e.days, 3);
    assert_int_equal(e.refresh_hours, 12);
    apply_fails(epg_source_fields, epg_source_field_count, &e, "{\"last_result\": \"ok\"}", false,
                "last_result: read-only");
    apply_fails(epg_source_fields, epg_source_field_count, &e, "{\"days\": 0}", false,
                "days: must be an integer from 1 to 60");
    apply_fails(epg_source_fields, epg_source_field_count, &e, "{\"url\": \"ftp://x\"}", false,
                "url: 'ftp://x' must be http://, https://, file:// or an absolute path");
    fields_clear(epg_source_fields, epg_source_field_count, &e);
}

/* A secret that is not read-only may be set (and is never shown). */
static void test_token_key_secret_is_writable(void **state)
{
    (void)state;
    token_key_t k = {0};
    char *hex = repeat("0f", 32);
    json_t *json = json_pack("{ss ss sb}", "name", "k1", "secret", hex, "retired", 0);
    char err[ERR_SIZE];
    assert_int_equal(admin_object_from_json(token_key_fields, token_key_field_count, json, &k, NULL, true, err,
                                            sizeof(err)),
                     0);
    json_decref(json);
    assert_string_equal(k.secret, hex);
    json_t *shown = admin_object_json(token_key_fields, token_key_field_count, &k);
    assert_null(json_object_get(shown, "secret"));
    json_decref(shown);
    free(hex);
    apply_fails(token_key_fields, token_key_field_count, &k, "{\"secret\": \"abc\"}", false,
                "secret: must be 64 hexadecimal digits");
    apply_fails(token_key_fields, token_key_field_count, &k, "{\"secret\": 12}", false, "secret: must be a string");
    apply_fails(token_key_fields, token_key_field_count, &k, "{\"created_at\": \"x\"}", false,
                "created_at: read-only");
    fields_clear(token_key_fields, token_key_field_count, &k);
}

/* A field table of our own for what the real ones do not have: a list
 * without a maximum, a check that says nothing. */
typedef struct widget {
    char *name;
    strlist_t tags;
    char *code;
} widget_t;

static int check_silent(const char *value, char *err, size_t err_size)
{
    (void)err;
    (void)err_size;
    return strcmp(value, "bad") ? 0 : -EINVAL;
}

static const field_t widget_fields[] = {
    {"name", FIELD_STRING, offsetof(widget_t, name), 0, 0, NULL, "name", NULL, 0},
    {"tags", FIELD_STRINGS, offsetof(widget_t, tags), 0, 0, NULL, "any number", NULL, 0},
    {"code", FIELD_STRING, offsetof(widget_t, code), 0, 0, NULL, "checked", check_silent, 0},
};

static void test_unbounded_list_and_silent_check(void **state)
{
    (void)state;
    widget_t w = {0};
    apply_fails(widget_fields, ARRAY_SIZE(widget_fields), &w, "{\"tags\": 3}", false,
                "tags: must be an array of strings");
    apply_fails(widget_fields, ARRAY_SIZE(widget_fields), &w, "{\"code\": \"bad\"}", false, "code: invalid value");
    json_t *json = parse_ok("{\"name\": \"w\", \"tags\": [\"a\", \"b\", \"c\", \"d\"], \"code\": \"good\"}");
    char err[ERR_SIZE];
    assert_int_equal(
        admin_object_from_json(widget_fields, ARRAY_SIZE(widget_fields), json, &w, NULL, true, err, sizeof(err)), 0);
    json_decref(json);
    assert_int_equal(w.tags.count, 4);
    fields_clear(widget_fields, ARRAY_SIZE(widget_fields), &w);
}

static void test_small_error_buffers(void **state)
{
    (void)state;
    subscriber_t s;
    subscriber_defaults(&s);
    s.name = strdup("alice");
    json_t *json = parse_ok("{\"max_streams\": \"é\"}");
    char err[8];
    assert_int_equal(
        admin_object_from_json(subscriber_fields, subscriber_field_count, json, &s, NULL, false, err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "max_str");
    assert_int_equal(
        admin_object_from_json(subscriber_fields, subscriber_field_count, json, &s, NULL, false, NULL, 0), -EINVAL);
    json_decref(json);
    assert_null(admin_body_parse("[]", 2, NULL, 0));
    char small[7];
    assert_null(admin_body_parse("{\"é\":x}", 8, small, sizeof(small)));
    assert_string_equal(small, "body: ");
    /* A cut "é" at the end becomes '?'. */
    json = one("éééé", "x");
    char cut[5];
    assert_int_equal(
        admin_object_from_json(subscriber_fields, subscriber_field_count, json, &s, NULL, false, cut, sizeof(cut)),
        -EINVAL);
    assert_string_equal(cut, "éé");
    char cut2[4];
    assert_int_equal(
        admin_object_from_json(subscriber_fields, subscriber_field_count, json, &s, NULL, false, cut2, sizeof(cut2)),
        -EINVAL);
    assert_string_equal(cut2, "é?");
    json_decref(json);
    fields_clear(subscriber_fields, subscriber_field_count, &s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_object),
        cmocka_unit_test(test_parse_refuses_empty_body),
        cmocka_unit_test(test_parse_refuses_arrays_and_scalars),
        cmocka_unit_test(test_parse_refuses_duplicate_keys),
        cmocka_unit_test(test_parse_errors_have_line_and_column),
        cmocka_unit_test(test_parse_refuses_trailing_bytes),
        cmocka_unit_test(test_parse_refuses_nul_bytes),
        cmocka_unit_test(test_parse_refuses_invalid_utf8),
        cmocka_unit_test(test_parse_accepts_unicode),
        cmocka_unit_test(test_parse_size_limit),
        cmocka_unit_test(test_parse_depth_limit),
        cmocka_unit_test(test_parse_huge_numbers),
        cmocka_unit_test(test_create_subscriber),
        cmocka_unit_test(test_keys_not_given_are_kept),
        cmocka_unit_test(test_name_required_on_creation),
        cmocka_unit_test(test_name_cannot_change_on_update),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_unknown_keys_are_quoted_safely),
        cmocka_unit_test(test_read_only_fields),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_integer_range),
        cmocka_unit_test(test_floats_are_not_integers),
        cmocka_unit_test(test_check_messages_are_used),
        cmocka_unit_test(test_null_clears_strings),
        cmocka_unit_test(test_lists_are_replaced),
        cmocka_unit_test(test_list_length_limit),
        cmocka_unit_test(test_strings_too_long),
        cmocka_unit_test(test_sql_looking_strings_are_kept_verbatim),
        cmocka_unit_test(test_control_characters_refused),
        cmocka_unit_test(test_unicode_values),
        cmocka_unit_test(test_keys_apply_in_order_and_stop_at_the_first_error),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_same_result_as_fields_set),
        cmocka_unit_test(test_channel_fields),
        cmocka_unit_test(test_epg_source_fields),
        cmocka_unit_test(test_token_key_secret_is_writable),
        cmocka_unit_test(test_unbounded_list_and_silent_check),
        cmocka_unit_test(test_small_error_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
