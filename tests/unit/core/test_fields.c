// SPDX-License-Identifier: MIT
// test_fields.c -- tests for src/core/fields.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

/* An object with one field of every type. */
typedef struct gadget {
    char *label;      /* STRING, max 8, checked: no 'x' */
    char *note;       /* STRING, no limit */
    int64_t count;    /* INT, -5..100 */
    bool enabled;     /* BOOL */
    int colour;       /* ENUM */
    strlist_t tags;   /* STRINGS, at most 2 */
    strlist_t urls;   /* STRINGS, no limit */
} gadget_t;

static const char *const colours[] = {"red", "green", "blue", NULL};

static int check_no_x(const char *value, char *err, size_t err_size)
{
    if (!strchr(value, 'x'))
        return 0;
    snprintf(err, err_size, "label: no x please");
    return -EINVAL;
}

#define GF(m) offsetof(gadget_t, m)
static const field_t gadget_fields[] = {
    {"label", FIELD_STRING, GF(label), 0, 8, NULL, "a label", check_no_x},
    {"note", FIELD_STRING, GF(note), 0, 0, NULL, "free text", NULL},
    {"count", FIELD_INT, GF(count), -5, 100, NULL, "how many", NULL},
    {"enabled", FIELD_BOOL, GF(enabled), 0, 0, NULL, "on or off", NULL},
    {"colour", FIELD_ENUM, GF(colour), 0, 0, colours, "which colour", NULL},
    {"tags", FIELD_STRINGS, GF(tags), 0, 2, NULL, "up to two tags", NULL},
    {"urls", FIELD_STRINGS, GF(urls), 0, 0, NULL, "any number", NULL},
};
#define NFIELDS ARRAY_SIZE(gadget_fields)

static const field_t *F(const char *name)
{
    const field_t *f = fields_find(gadget_fields, NFIELDS, name);
    assert_non_null(f);
    return f;
}

static int set(gadget_t *g, const char *name, const char *value, char *err)
{
    err[0] = '\0';
    return fields_set(F(name), g, value, err, 200);
}

static void test_string_set_and_replace(void **state)
{
    (void)state;
    gadget_t g = {0};
    char err[200];
    assert_int_equal(set(&g, "label", "one", err), 0);
    assert_string_equal(g.label, "one");
    assert_int_equal(set(&g, "label", "two", err), 0); /* the old copy is freed */
    assert_string_equal(g.label, "two");
    assert_int_equal(set(&g, "label", "", err), 0);
    assert_string_equal(g.label, "");
    fields_clear(gadget_fields, NFIELDS, &g);
}

static void test_string_too_long_names_field(void **state)
{
    (void)state;
    gadget_t g = {0};
    char err[200];
    assert_int_equal(set(&g, "label", "12345678", err), 0);
    assert_int_equal(set(&g, "label", "123456789", err), -EINVAL);
    assert_string_equal(err, "label: longer than 8 characters");
    assert_string_equal(g.label, "12345678"); /* unchanged on error */
    fields_clear(gadget_fields, NFIELDS, &g);
}

static void test_string_without_max_takes_any_length(void **state)
{
    (void)state;
    gadget_t g = {0};
    char err[200], big[3000];
    memset(big, 'n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(set(&g, "note", big, err), 0);
    assert_int_equal(strlen(g.note), sizeof(big) - 1);
    fields_clear(gadget_fields, NFIELDS, &g);
}

static void test_string_control_character_rejected_with_offset(void **state)
{
    (void)state;
    gadget_t g = {0};
    char err[200];
    assert_int_equal(set(&g, "note", "ab\ncd", err), -EINVAL);
    assert_string_equal(err, "note: control character at offset 2");
    assert_int_equal(set(&g, "note", "\t", err), -EINVAL);
    assert_null(g.note);
    /* bytes >= 0x80 (UTF-8) are text, not control characters */
    assert_int_equal(set(&g, "note", "café ☕", err), 0);
    assert_string_equal(g.note, "café ☕");
    fields_clear(gadget_fields, NFIELDS, &g);
}

static void test_check_callback_runs_first(void **state)
{
    (void)state;
    gadget_t g = {0};
    char err[200];
    assert_int_equal(set(&g, "label", "box", err), -EINVAL);
    assert_string_equal(err, "label: no x please");
    assert_null(g.label);
}

static void test_int_parses_within_range(void **state)
{
    (void)state;
    gadget_t g = {0};
    char err[200];
    assert_int_equal(set(&g, "count", "42", err), 0);
    assert_int_equal(g.count, 42);
    assert_int_equal(set(&g, "count", "-5", err), 0);
    assert_int_equal(g.count, -5);
    assert_int_equal(set(&g, "count", "100", err), 0);
    assert_int_equal(g.count, 100);
}

static void test_int_outside_range_names_bounds(void **state)
{
    (void)state;
    gadget_t g = {.count = 7};
    char err[200];
    assert_int_equal(set(&g, "count", "101", err), -EINVAL);
    assert_string_equal(err, "count: 101 is outside -5..100");
    assert_int_equal(set(&g, "count", "-6", err), -EINVAL);
    assert_string_equal(err, "count: -6 is outside -5..100");
    assert_int_equal(g.count, 7);
}

static void test_int_rejects_non_numbers(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "abc", "12x", "1.5", "0x10x", "99999999999999999999999"};
    gadget_t g = {.count = 7};
    char err[200], want[200];
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(set(&g, "count", bad[i], err), -EINVAL);
        snprintf(want, sizeof(want), "count: '%s' is not a whole number", bad[i]);
        assert_string_equal(err, want);
    }
    assert_int_equal(g.count, 7);
}

static void test_bool_accepts_three_spellings_each(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "1", "yes"}, *const no[] = {"false", "0", "no"};
    gadget_t g = {0};
    char err[200];
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(set(&g, "enabled", yes[i], err), 0);
        assert_true(g.enabled);
        assert_int_equal(set(&g, "enabled", no[i], err), 0);
        assert_false(g.enabled);
    }
}

static void test_bool_rejects_anything_else(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "TRUE", "on", "2", "y", "true "};
    gadget_t g = {.enabled = true};
    char err[200], want[200];
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(set(&g, "enabled", bad[i], err), -EINVAL);
        snprintf(want, sizeof(want), "enabled: '%s' is not true or false", bad[i]);
        assert_string_equal(err, want);
    }
    assert_true(g.enabled);
}

static void test_enum_stores_index_of_choice(void **state)
{
    (void)state;
    gadget_t g = {0};
    char err[200];
    assert_int_equal(set(&g, "colour", "blue", err), 0);
    assert_int_equal(g.colour, 2);
    assert_int_equal(set(&g, "colour", "red", err), 0);
    assert_int_equal(g.colour, 0);
}

static void test_enum_rejects_unknown_choice(void **state)
{
    (void)state;
    gadget_t g = {.colour = 1};
    char err[200];
    assert_int_equal(set(&g, "colour", "Blue", err), -EINVAL);
    assert_string_equal(err, "colour: 'Blue' is not one of the choices");
    assert_int_equal(set(&g, "colour", "", err), -EINVAL);
    assert_int_equal(g.colour, 1);
}

static void test_strings_append_up_to_max(void **state)
{
    (void)state;
    gadget_t g = {0};
    char err[200];
    assert_int_equal(set(&g, "tags", "a", err), 0);
    assert_int_equal(set(&g, "tags", "b", err), 0);
    assert_int_equal(set(&g, "tags", "c", err), -EINVAL);
    assert_string_equal(err, "tags: at most 2 values");
    assert_int_equal(g.tags.count, 2);
    assert_string_equal(g.tags.items[0], "a");
    assert_string_equal(g.tags.items[1], "b");
    for (int i = 0; i < 50; i++)
        assert_int_equal(set(&g, "urls", "u", err), 0);
    assert_int_equal(g.urls.count, 50);
    fields_clear(gadget_fields, NFIELDS, &g);
}

static void fill(gadget_t *g)
{
    char err[200];
    assert_int_equal(set(g, "label", "lbl", err), 0);
    assert_int_equal(set(g, "note", "a note", err), 0);
    assert_int_equal(set(g, "count", "9", err), 0);
    assert_int_equal(set(g, "enabled", "yes", err), 0);
    assert_int_equal(set(g, "colour", "green", err), 0);
    assert_int_equal(set(g, "tags", "t1", err), 0);
    assert_int_equal(set(g, "urls", "udp://@239.1.1.1:1234", err), 0);
    assert_int_equal(set(g, "urls", "udp://@239.1.1.2:1234", err), 0);
}

static void test_copy_is_deep_and_equal(void **state)
{
    (void)state;
    gadget_t a = {0}, b;
    fill(&a);
    memset(&b, 0xa5, sizeof(b));
    assert_int_equal(fields_copy(gadget_fields, NFIELDS, &b, &a), 0);
    for (size_t i = 0; i < NFIELDS; i++)
        assert_true(fields_equal(&gadget_fields[i], &a, &b));
    assert_ptr_not_equal(a.label, b.label);
    assert_ptr_not_equal(a.urls.items, b.urls.items);
    assert_ptr_not_equal(a.urls.items[0], b.urls.items[0]);
    fields_clear(gadget_fields, NFIELDS, &a); /* b must not depend on a */
    assert_string_equal(b.label, "lbl");
    assert_string_equal(b.urls.items[1], "udp://@239.1.1.2:1234");
    fields_clear(gadget_fields, NFIELDS, &b);
}

static void test_copy_keeps_null_strings_null(void **state)
{
    (void)state;
    gadget_t a = {0}, b;
    memset(&b, 0xa5, sizeof(b));
    assert_int_equal(fields_copy(gadget_fields, NFIELDS, &b, &a), 0);
    assert_null(b.label);
    assert_null(b.note);
    assert_int_equal(b.tags.count, 0);
    assert_null(b.tags.items);
    fields_clear(gadget_fields, NFIELDS, &b);
}

static void test_equal_sees_each_difference(void **state)
{
    (void)state;
    gadget_t a = {0}, b = {0};
    char err[200];
    fill(&a);
    for (size_t i = 0; i < NFIELDS; i++) {
        assert_int_equal(fields_copy(gadget_fields, NFIELDS, &b, &a), 0);
        const field_t *f = &gadget_fields[i];
        switch (f->type) {
        case FIELD_STRING: assert_int_equal(fields_set(f, &b, "other", err, sizeof(err)), 0); break;
        case FIELD_INT: b.count++; break;
        case FIELD_BOOL: b.enabled = !b.enabled; break;
        case FIELD_ENUM: b.colour = 0; break;
        case FIELD_STRINGS: assert_int_equal(fields_set(f, &b, "more", err, sizeof(err)), 0); break;
        }
        for (size_t j = 0; j < NFIELDS; j++)
            assert_int_equal(fields_equal(&gadget_fields[j], &a, &b), i != j);
        fields_clear(gadget_fields, NFIELDS, &b);
    }
    fields_clear(gadget_fields, NFIELDS, &a);
}

static void test_equal_compares_list_items_in_order(void **state)
{
    (void)state;
    gadget_t a = {0}, b = {0};
    char err[200];
    assert_int_equal(set(&a, "urls", "x", err), 0);
    assert_int_equal(set(&a, "urls", "y", err), 0);
    assert_int_equal(set(&b, "urls", "y", err), 0);
    assert_int_equal(set(&b, "urls", "x", err), 0);
    assert_false(fields_equal(F("urls"), &a, &b));
    fields_clear(gadget_fields, NFIELDS, &a);
    fields_clear(gadget_fields, NFIELDS, &b);
}

static void test_equal_treats_null_string_as_empty(void **state)
{
    (void)state;
    gadget_t a = {0}, b = {0};
    char err[200];
    assert_int_equal(set(&b, "note", "", err), 0);
    assert_true(fields_equal(F("note"), &a, &b));
    fields_clear(gadget_fields, NFIELDS, &b);
}

static void test_clear_frees_and_zeroes_owned_fields(void **state)
{
    (void)state;
    gadget_t g = {0};
    fill(&g);
    fields_clear(gadget_fields, NFIELDS, &g);
    assert_null(g.label);
    assert_null(g.note);
    assert_null(g.tags.items);
    assert_int_equal(g.tags.count, 0);
    assert_int_equal(g.urls.count, 0);
    assert_int_equal(g.count, 9); /* plain values are left alone */
    fields_clear(gadget_fields, NFIELDS, &g); /* and clearing twice is fine */
}

static void test_find_by_name(void **state)
{
    (void)state;
    assert_ptr_equal(fields_find(gadget_fields, NFIELDS, "colour"), &gadget_fields[4]);
    assert_null(fields_find(gadget_fields, NFIELDS, "color"));
    assert_null(fields_find(gadget_fields, NFIELDS, ""));
}

static void test_strlist_push_copies_and_clear_empties(void **state)
{
    (void)state;
    strlist_t list = {0};
    char item[] = "abc";
    assert_int_equal(strlist_push(&list, item), 0);
    item[0] = 'X';
    assert_string_equal(list.items[0], "abc");
    assert_int_equal(strlist_push(&list, ""), 0);
    assert_int_equal(list.count, 2);
    strlist_clear(&list);
    assert_int_equal(list.count, 0);
    assert_null(list.items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_set_and_replace),
        cmocka_unit_test(test_string_too_long_names_field),
        cmocka_unit_test(test_string_without_max_takes_any_length),
        cmocka_unit_test(test_string_control_character_rejected_with_offset),
        cmocka_unit_test(test_check_callback_runs_first),
        cmocka_unit_test(test_int_parses_within_range),
        cmocka_unit_test(test_int_outside_range_names_bounds),
        cmocka_unit_test(test_int_rejects_non_numbers),
        cmocka_unit_test(test_bool_accepts_three_spellings_each),
        cmocka_unit_test(test_bool_rejects_anything_else),
        cmocka_unit_test(test_enum_stores_index_of_choice),
        cmocka_unit_test(test_enum_rejects_unknown_choice),
        cmocka_unit_test(test_strings_append_up_to_max),
        cmocka_unit_test(test_copy_is_deep_and_equal),
        cmocka_unit_test(test_copy_keeps_null_strings_null),
        cmocka_unit_test(test_equal_sees_each_difference),
        cmocka_unit_test(test_equal_compares_list_items_in_order),
        cmocka_unit_test(test_equal_treats_null_string_as_empty),
        cmocka_unit_test(test_clear_frees_and_zeroes_owned_fields),
        cmocka_unit_test(test_find_by_name),
        cmocka_unit_test(test_strlist_push_copies_and_clear_empties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
