// SPDX-License-Identifier: MIT
// test_store.c -- tests for src/store/store.c (and the schema it migrates to)
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "channel/channel.h"
#include "store/store.h"

/* Channels as the store sees them; set in main() because
 * channel_field_count is not a constant expression. */
static store_kind_t kind;

typedef struct fixture {
    char dir[64];
    store_t *store;
} fixture_t;

static int open_store(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/antenne-test-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char err[256] = "";
    if (store_open(f->dir, NULL, &f->store, err, sizeof(err)) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int close_store(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS); /* the folder and all in it */
    free(f);
    return 0;
}

/* A channel with every field set away from its default. */
static void make_channel(channel_config_t *c, const char *name)
{
    channel_config_defaults(c);
    char err[256];
    const struct { const char *field, *value; } values[] = {
        {"name", name},
        {"title", "Le \"Journal\" d'été ☀"},
        {"number", "42"},
        {"group", "News"},
        {"logo", "http://example.net/logo.png?a=1&b=2"},
        {"tvg_id", "journal.fr"},
        {"sources", "udp://@239.1.1.1:1234"},
        {"sources", "http://backup.example/live.ts#program=2"},
        {"on_demand", "true"},
        {"idle_timeout", "77"},
        {"lag_policy", "close"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
        const field_t *field = fields_find(channel_fields, channel_field_count, values[i].field);
        assert_non_null(field);
        if (fields_set(field, c, values[i].value, err, sizeof(err)) != 0)
            fail_msg("%s: %s", values[i].field, err);
    }
}

static void assert_same_channel(const channel_config_t *a, const channel_config_t *b)
{
    for (size_t i = 0; i < channel_field_count; i++)
        if (!fields_equal(&channel_fields[i], a, b))
            fail_msg("field '%s' differs after the round trip", channel_fields[i].name);
}

static int64_t revision(store_t *store)
{
    int64_t rev = -1;
    assert_int_equal(store_revision(store, &rev), 0);
    return rev;
}

static void test_open_creates_database_file(void **state)
{
    fixture_t *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/antenne.db", f->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(revision(f->store) >= 1);
}

static void test_open_creates_missing_folder(void **state)
{
    fixture_t *f = *state;
    char sub[128], err[256];
    snprintf(sub, sizeof(sub), "%s/data", f->dir);
    store_t *s = NULL;
    assert_int_equal(store_open(sub, NULL, &s, err, sizeof(err)), 0);
    store_close(s);
    struct stat st;
    assert_int_equal(stat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void test_open_unusable_folder_fails_with_message(void **state)
{
    fixture_t *f = *state;
    char file[128], below[160], err[256] = "";
    snprintf(file, sizeof(file), "%s/plain-file", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(below, sizeof(below), "%s/db", file);
    store_t *s = NULL;
    int rc = store_open(below, NULL, &s, err, sizeof(err));
    assert_true(rc < 0);
    assert_non_null(strstr(err, below));
}

static void test_insert_then_get_keeps_every_field(void **state)
{
    fixture_t *f = *state;
    channel_config_t in, out;
    make_channel(&in, "journal");
    assert_int_equal(store_insert(f->store, &kind, &in), 0);
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(f->store, &kind, "journal", &out), 0);
    assert_same_channel(&in, &out);
    assert_int_equal(out.sources.count, 2);
    assert_string_equal(out.sources.items[1], "http://backup.example/live.ts#program=2");
    assert_int_equal(out.lag_policy, LAG_CLOSE);
    channel_config_clear(&in);
    channel_config_clear(&out);
}

/* Sets a field away from its default from its description alone, so a
 * field added to channel_fields later is covered without editing this test. */
static void set_non_default(const field_t *field, void *object)
{
    void *p = (char *)object + field->offset;
    switch (field->type) {
    case FIELD_STRING:
        free(*(char **)p);
        *(char **)p = strdup("non-default value");
        break;
    case FIELD_INT:
        *(int64_t *)p = field->max;
        break;
    case FIELD_BOOL:
        *(bool *)p = !*(bool *)p;
        break;
    case FIELD_ENUM: {
        int last = 0;
        while (field->choices[last + 1])
            last++;
        *(int *)p = last;
        break;
    }
    case FIELD_STRINGS:
        strlist_push(p, "udp://@239.1.1.1:1234");
        strlist_push(p, "second");
        break;
    }
}

/* Each field on its own away from the default: proves each has a column
 * that is written and read back (a field without one fails the insert). */
static void test_every_field_has_a_column(void **state)
{
    fixture_t *f = *state;
    channel_config_t defaults;
    channel_config_defaults(&defaults);
    for (size_t i = 1; i < channel_field_count; i++) {
        const field_t *field = &channel_fields[i];
        channel_config_t in, out;
        channel_config_defaults(&in);
        in.name = strdup(field->name); /* field names are valid channel names */
        set_non_default(field, &in);
        assert_false(fields_equal(field, &in, &defaults));
        if (store_insert(f->store, &kind, &in) != 0)
            fail_msg("insert with '%s' set: %s", field->name, store_last_error(f->store));
        memset(&out, 0, sizeof(out));
        assert_int_equal(store_get(f->store, &kind, in.name, &out), 0);
        if (!fields_equal(field, &in, &out))
            fail_msg("field '%s' did not survive the round trip", field->name);
        channel_config_clear(&in);
        channel_config_clear(&out);
    }
}

static void test_insert_existing_name_is_eexist(void **state)
{
    fixture_t *f = *state;
    channel_config_t c;
    make_channel(&c, "dup");
    assert_int_equal(store_insert(f->store, &kind, &c), 0);
    int64_t rev = revision(f->store);
    assert_int_equal(store_insert(f->store, &kind, &c), -EEXIST);
    assert_int_equal(revision(f->store), rev); /* a failed write changes nothing */
    channel_config_clear(&c);
}

static void test_get_absent_is_enoent(void **state)
{
    fixture_t *f = *state;
    channel_config_t out;
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(f->store, &kind, "nobody", &out), -ENOENT);
}

static void test_list_is_ordered_by_name(void **state)
{
    fixture_t *f = *state;
    static const char *const names[] = {"bravo", "alpha", "charlie", "a-1"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        channel_config_t c;
        make_channel(&c, names[i]);
        assert_int_equal(store_insert(f->store, &kind, &c), 0);
        channel_config_clear(&c);
    }
    void *objects = NULL;
    size_t count = 0;
    assert_int_equal(store_list(f->store, &kind, &objects, &count), 0);
    assert_int_equal(count, 4);
    channel_config_t *list = objects;
    assert_string_equal(list[0].name, "a-1");
    assert_string_equal(list[1].name, "alpha");
    assert_string_equal(list[2].name, "bravo");
    assert_string_equal(list[3].name, "charlie");
    assert_int_equal(list[3].number, 42);
    store_free_list(&kind, objects, count);
}

static void test_list_of_empty_table(void **state)
{
    fixture_t *f = *state;
    void *objects = (void *)1;
    size_t count = 99;
    assert_int_equal(store_list(f->store, &kind, &objects, &count), 0);
    assert_int_equal(count, 0);
    store_free_list(&kind, objects, count);
}

static void test_update_changes_fields(void **state)
{
    fixture_t *f = *state;
    channel_config_t c, out;
    make_channel(&c, "upd");
    assert_int_equal(store_insert(f->store, &kind, &c), 0);
    free(c.title);
    c.title = strdup("New title");
    c.number = 7;
    c.on_demand = false;
    strlist_clear(&c.sources);
    strlist_push(&c.sources, "rtp://@239.9.9.9:5004");
    assert_int_equal(store_update(f->store, &kind, &c), 0);
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(f->store, &kind, "upd", &out), 0);
    assert_same_channel(&c, &out);
    channel_config_clear(&c);
    channel_config_clear(&out);
}

static void test_update_absent_is_enoent(void **state)
{
    fixture_t *f = *state;
    channel_config_t c;
    make_channel(&c, "ghost");
    int64_t rev = revision(f->store);
    assert_int_equal(store_update(f->store, &kind, &c), -ENOENT);
    assert_int_equal(revision(f->store), rev);
    channel_config_clear(&c);
}

static void test_delete_removes_and_absent_is_enoent(void **state)
{
    fixture_t *f = *state;
    channel_config_t c, out;
    make_channel(&c, "gone");
    assert_int_equal(store_insert(f->store, &kind, &c), 0);
    assert_int_equal(store_delete(f->store, &kind, "gone"), 0);
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(f->store, &kind, "gone", &out), -ENOENT);
    assert_int_equal(store_delete(f->store, &kind, "gone"), -ENOENT);
    channel_config_clear(&c);
}

static void test_revision_grows_on_every_write(void **state)
{
    fixture_t *f = *state;
    channel_config_t c;
    make_channel(&c, "rev");
    int64_t r0 = revision(f->store);
    assert_int_equal(store_insert(f->store, &kind, &c), 0);
    int64_t r1 = revision(f->store);
    assert_true(r1 > r0);
    assert_int_equal(store_update(f->store, &kind, &c), 0); /* even with nothing changed */
    int64_t r2 = revision(f->store);
    assert_true(r2 > r1);
    assert_int_equal(store_delete(f->store, &kind, "rev"), 0);
    assert_true(revision(f->store) > r2);
    channel_config_clear(&c);
}

static void test_revision_seen_by_another_handle(void **state)
{
    fixture_t *f = *state;
    store_t *other = NULL;
    char err[256];
    assert_int_equal(store_open(f->dir, NULL, &other, err, sizeof(err)), 0);
    int64_t before = revision(other);
    channel_config_t c;
    make_channel(&c, "shared");
    assert_int_equal(store_insert(f->store, &kind, &c), 0);
    assert_true(revision(other) > before);
    channel_config_t out;
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(other, &kind, "shared", &out), 0);
    channel_config_clear(&out);
    channel_config_clear(&c);
    store_close(other);
}

static void test_reopen_keeps_data(void **state)
{
    fixture_t *f = *state;
    channel_config_t c, out;
    make_channel(&c, "kept");
    assert_int_equal(store_insert(f->store, &kind, &c), 0);
    int64_t rev = revision(f->store);
    store_close(f->store);
    char err[256];
    assert_int_equal(store_open(f->dir, NULL, &f->store, err, sizeof(err)), 0);
    assert_int_equal(revision(f->store), rev);
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(f->store, &kind, "kept", &out), 0);
    assert_same_channel(&c, &out);
    channel_config_clear(&c);
    channel_config_clear(&out);
}

static void test_sql_looking_values_are_stored_verbatim(void **state)
{
    fixture_t *f = *state;
    static const char *const names[] = {"x'; DROP TABLE channels; --", "\" OR 1=1 --", "a\"b", "%_*?"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        channel_config_t c, out;
        channel_config_defaults(&c);
        c.name = strdup(names[i]);
        c.title = strdup("'); DELETE FROM meta; --");
        strlist_push(&c.sources, "udp://@239.1.1.1:1234?x='\"]");
        assert_int_equal(store_insert(f->store, &kind, &c), 0);
        memset(&out, 0, sizeof(out));
        assert_int_equal(store_get(f->store, &kind, names[i], &out), 0);
        assert_same_channel(&c, &out);
        channel_config_clear(&c);
        channel_config_clear(&out);
    }
    void *objects;
    size_t count;
    assert_int_equal(store_list(f->store, &kind, &objects, &count), 0);
    assert_int_equal(count, ARRAY_SIZE(names));
    store_free_list(&kind, objects, count);
    assert_true(revision(f->store) > 0);
    channel_config_t out;
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(f->store, &kind, "x", &out), -ENOENT); /* no wildcard matching */
    assert_int_equal(store_get(f->store, &kind, "%", &out), -ENOENT);
}

static void test_null_strings_and_empty_lists_round_trip(void **state)
{
    fixture_t *f = *state;
    channel_config_t c, out;
    channel_config_defaults(&c);
    c.name = strdup("bare");
    assert_int_equal(store_insert(f->store, &kind, &c), 0);
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(f->store, &kind, "bare", &out), 0);
    assert_null(out.title);
    assert_null(out.logo);
    assert_int_equal(out.sources.count, 0);
    assert_int_equal(out.idle_timeout, 10);
    assert_int_equal(out.lag_policy, LAG_SKIP);
    channel_config_clear(&c);
    channel_config_clear(&out);
}

int main(void)
{
    kind = (store_kind_t){"channels", channel_fields, channel_field_count, sizeof(channel_config_t)};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_database_file, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_open_creates_missing_folder, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_open_unusable_folder_fails_with_message, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_insert_then_get_keeps_every_field, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_every_field_has_a_column, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_insert_existing_name_is_eexist, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_get_absent_is_enoent, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_list_is_ordered_by_name, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_list_of_empty_table, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_update_changes_fields, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_update_absent_is_enoent, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_delete_removes_and_absent_is_enoent, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_revision_grows_on_every_write, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_revision_seen_by_another_handle, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_sql_looking_values_are_stored_verbatim, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_null_strings_and_empty_lists_round_trip, open_store, close_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
