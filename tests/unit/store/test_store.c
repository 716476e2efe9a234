// SPDX-License-Identifier: MIT
// test_store.c -- tests for src/store/store.c (objects, revisions, opening by
// URL) against SQLite and PostgreSQL alike (see fixture.h).
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#include "auth/auth.h"
#include "channel/channel.h"

#define AUTO_GIVEN "1999-01-01T00:00:00Z"

/* ---- objects made from their description ---------------------------------------- */

/* Fills every field of a fresh object away from zero and from its default,
 * varied by seed, from the field table alone: a field added later is
 * covered without editing this test. Values are awkward on purpose. */
static void *make_object(const store_kind_t *kind, const char *name, int seed)
{
    char *object = calloc(1, kind->object_size);
    assert_non_null(object);
    for (size_t i = 0; i < kind->field_count; i++) {
        const field_t *field = &kind->fields[i];
        void *p = object + field->offset;
        if (i == 0) {
            *(char **)p = strdup(name);
            continue;
        }
        if (field->flags & FIELD_AUTO) {
            *(char **)p = strdup(AUTO_GIVEN); /* to be ignored */
            continue;
        }
        switch (field->type) {
        case FIELD_STRING: {
            char *s;
            assert_true(asprintf(&s, "%s #%d: l'\xc3\xa9t\xc3\xa9 \"x\" '); DROP TABLE meta; --\t\\N\n%%_", field->name,
                                 seed) > 0);
            *(char **)p = s;
            break;
        }
        case FIELD_INT: {
            uint64_t range = (uint64_t)field->max - (uint64_t)field->min;
            *(int64_t *)p = field->min + (int64_t)(range > 100000 ? (uint64_t)seed * 1000 + i + 1
                                                                  : ((uint64_t)seed + i + 1) % (range + 1));
            break;
        }
        case FIELD_BOOL:
            *(bool *)p = (seed + i) & 1;
            break;
        case FIELD_ENUM: {
            int n = 0;
            while (field->choices[n])
                n++;
            *(int *)p = (int)((seed + i) % (size_t)n);
            break;
        }
        case FIELD_STRINGS: {
            char item[64];
            snprintf(item, sizeof(item), "item-%d", seed);
            assert_int_equal(strlist_push(p, item), 0);
            assert_int_equal(strlist_push(p, "x'\"][,\\u0000 \xe2\x98\x80"), 0);
            break;
        }
        }
    }
    return object;
}

static void free_object(const store_kind_t *kind, void *object)
{
    fields_clear(kind->fields, kind->field_count, object);
    free(object);
}

static bool is_iso_utc(const char *s)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
    if (!s || strlen(s) != sizeof(pattern) - 1)
        return false;
    for (size_t i = 0; pattern[i]; i++)
        if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
            return false;
    return true;
}

static time_t parse_iso(const char *s)
{
    struct tm tm = {0};
    assert_int_equal(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                            &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* Every field the caller sets survives; FIELD_AUTO ones hold a time the store set. */
static void assert_same_object(const store_kind_t *kind, const void *in, const void *out)
{
    for (size_t i = 0; i < kind->field_count; i++) {
        const field_t *field = &kind->fields[i];
        if (field->flags & FIELD_AUTO) {
            const char *t = *(char *const *)((const char *)out + field->offset);
            if (!is_iso_utc(t) || !strcmp(t, AUTO_GIVEN))
                fail_msg("%s.%s: '%s' is not a time the store set", kind->table, field->name, t ? t : "(null)");
            continue;
        }
        if (!fields_equal(field, in, out))
            fail_msg("%s.%s did not survive the round trip", kind->table, field->name);
    }
}

static void *get_object(store_t *store, const store_kind_t *kind, const char *name)
{
    void *out = calloc(1, kind->object_size);
    assert_non_null(out);
    int rc = store_get(store, kind, name, out);
    if (rc != 0)
        fail_msg("get %s '%s': %d %s", kind->table, name, rc, store_last_error(store));
    return out;
}

static const char *auto_field(const store_kind_t *kind, const void *object, const char *name)
{
    const field_t *field = fields_find(kind->fields, kind->field_count, name);
    return field ? *(char *const *)((const char *)object + field->offset) : NULL;
}

/* ---- opening ---------------------------------------------------------------------- */

static void test_open_creates_database_file(void **state)
{
    fixture_t *f = *state;
    if (fixture_pg)
        skip();
    char path[128];
    snprintf(path, sizeof(path), "%s/antenne.db", f->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(fixture_revision(f->store) >= 1);
}

static void test_open_creates_missing_folder(void **state)
{
    fixture_t *f = *state;
    char sub[128], err[256];
    snprintf(sub, sizeof(sub), "%s/data", f->dir);
    store_t *s = NULL;
    assert_int_equal(store_open(sub, NULL, &s, err, sizeof(err)), 0);
    assert_string_equal(store_backend(s), "sqlite");
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

static void test_open_sqlite_url_names_the_file(void **state)
{
    fixture_t *f = *state;
    char url[200], path[160], err[256] = "";
    snprintf(path, sizeof(path), "%s/elsewhere.db", f->dir);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    store_t *s = NULL;
    assert_int_equal(store_open("/nonexistent/unused", url, &s, err, sizeof(err)), 0);
    assert_string_equal(store_backend(s), "sqlite");
    store_close(s);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
}

static void test_open_backend_is_named(void **state)
{
    fixture_t *f = *state;
    assert_string_equal(store_backend(f->store), fixture_pg ? "postgresql" : "sqlite");
}

static void test_open_unknown_url_is_einval(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    store_t *s = NULL;
    assert_int_equal(store_open(f->dir, "mysql://root:hunter2@localhost/x", &s, err, sizeof(err)), -EINVAL);
    assert_null(strstr(err, "hunter2"));
    assert_non_null(strstr(err, "mysql://"));
}

/* Nothing listens on port 1: the connection fails, and the message must
 * name the server without its password, whichever way it was given. */
static void test_open_failure_never_shows_the_password(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "postgresql://antenne:hunter2@127.0.0.1:1/antenne",
        "postgres://antenne:hunter2@127.0.0.1:1/antenne?connect_timeout=2",
        "postgresql://antenne@127.0.0.1:1/antenne?password=hunter2&connect_timeout=2",
        "postgresql://127.0.0.1:1/antenne?user=x&password=hunter2",
    };
    for (size_t i = 0; i < ARRAY_SIZE(urls); i++) {
        char err[512] = "";
        store_t *s = NULL;
        int rc = store_open("/nonexistent", urls[i], &s, err, sizeof(err));
        assert_int_equal(rc, -EIO);
        assert_null(s);
        if (strstr(err, "hunter2"))
            fail_msg("password shown: %s", err);
        assert_non_null(strstr(err, "127.0.0.1"));
    }
}

/* ---- objects of every kind -------------------------------------------------------- */

static void test_every_kind_round_trips(void **state)
{
    fixture_t *f = *state;
    static const char *const names[] = {"k3", "k1", "k2"}; /* also valid token key names */
    for (size_t k = 0; k < ARRAY_SIZE(all_kinds); k++) {
        const store_kind_t *kind = all_kinds[k];
        void *objects[ARRAY_SIZE(names)];
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
            objects[i] = make_object(kind, names[i], (int)i + 1);
            int rc = store_insert(f->store, kind, objects[i]);
            if (rc != 0)
                fail_msg("insert into %s: %d %s", kind->table, rc, store_last_error(f->store));
        }
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
            void *out = get_object(f->store, kind, names[i]);
            assert_same_object(kind, objects[i], out);
            free_object(kind, out);
        }
        void *list = NULL;
        size_t count = 0;
        assert_int_equal(store_list(f->store, kind, &list, &count), 0);
        assert_int_equal(count, 3);
        for (size_t i = 0; i < count; i++) {
            char expected[24];
            snprintf(expected, sizeof(expected), "k%zu", i + 1);
            const void *item = (char *)list + i * kind->object_size;
            assert_string_equal(*(char *const *)item, expected);
            assert_same_object(kind, objects[(i + 1) % 3], item); /* k1 is objects[1] ... */
        }
        store_free_list(kind, list, count);

        /* Update with other values, then delete. */
        void *changed = make_object(kind, "k2", 40);
        assert_int_equal(store_update(f->store, kind, changed), 0);
        void *out = get_object(f->store, kind, "k2");
        assert_same_object(kind, changed, out);
        free_object(kind, out);
        free_object(kind, changed);
        assert_int_equal(store_delete(f->store, kind, "k2"), 0);
        void *gone = calloc(1, kind->object_size);
        assert_int_equal(store_get(f->store, kind, "k2", gone), -ENOENT);
        assert_int_equal(store_delete(f->store, kind, "k2"), -ENOENT);
        void *ghost = make_object(kind, "k9", 50);
        assert_int_equal(store_update(f->store, kind, ghost), -ENOENT);
        free_object(kind, ghost);
        free(gone);
        assert_int_equal(store_list(f->store, kind, &list, &count), 0);
        assert_int_equal(count, 2);
        store_free_list(kind, list, count);
        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
            free_object(kind, objects[i]);
    }
}

static void test_list_of_empty_tables(void **state)
{
    fixture_t *f = *state;
    for (size_t k = 0; k < ARRAY_SIZE(all_kinds); k++) {
        void *objects = (void *)1;
        size_t count = 99;
        assert_int_equal(store_list(f->store, all_kinds[k], &objects, &count), 0);
        assert_int_equal(count, 0);
        store_free_list(all_kinds[k], objects, count);
    }
}

static void test_auto_fields_are_set_by_the_store(void **state)
{
    fixture_t *f = *state;
    const store_kind_t *kinds[] = {&kind_subscribers, &kind_packages, &kind_epg_sources, &kind_token_keys,
                                   &kind_admin_tokens};
    time_t before = time(NULL);
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        void *in = make_object(kinds[k], "k7", 1);
        assert_int_equal(store_insert(f->store, kinds[k], in), 0);
        free_object(kinds[k], in);
    }
    sleep(1); /* the timestamps have whole seconds */
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        const store_kind_t *kind = kinds[k];
        void *first = get_object(f->store, kind, "k7");
        const char *created = auto_field(kind, first, "created_at");
        const char *updated = auto_field(kind, first, "updated_at");
        assert_true(is_iso_utc(created) && is_iso_utc(updated));
        assert_string_equal(created, updated);
        time_t t = parse_iso(created);
        if (t < before - 2 || t > time(NULL) + 2)
            fail_msg("%s.created_at %s is not now", kind->table, created);

        /* An update sets updated_at and keeps created_at, whatever the caller sent. */
        void *changed = make_object(kind, "k7", 2);
        assert_int_equal(store_update(f->store, kind, changed), 0);
        void *second = get_object(f->store, kind, "k7");
        assert_string_equal(auto_field(kind, second, "created_at"), created);
        const char *later = auto_field(kind, second, "updated_at");
        assert_true(is_iso_utc(later));
        if (strcmp(later, created) <= 0)
            fail_msg("%s.updated_at %s is not after created_at %s", kind->table, later, created);
        free_object(kind, changed);
        free_object(kind, second);
        free_object(kind, first);
    }
}

static void test_unique_violations_are_eexist(void **state)
{
    fixture_t *f = *state;
    for (size_t k = 0; k < ARRAY_SIZE(all_kinds); k++) {
        const store_kind_t *kind = all_kinds[k];
        void *a = make_object(kind, "k5", 1);
        assert_int_equal(store_insert(f->store, kind, a), 0);
        int64_t rev = fixture_revision(f->store);
        void *b = make_object(kind, "k5", 2);
        assert_int_equal(store_insert(f->store, kind, b), -EEXIST);
        assert_non_null(strstr(store_last_error(f->store), "k5"));
        assert_int_equal(fixture_revision(f->store), rev); /* a failed write changes nothing */
        void *out = get_object(f->store, kind, "k5");
        assert_same_object(kind, a, out); /* the first one is untouched */
        free_object(kind, out);
        free_object(kind, a);
        free_object(kind, b);
    }
    /* Two subscribers may not share a token id (tokens name it). */
    subscriber_t *s1 = make_object(&kind_subscribers, "one", 3);
    subscriber_t *s2 = make_object(&kind_subscribers, "two", 4);
    s2->token_id = s1->token_id;
    assert_int_equal(store_insert(f->store, &kind_subscribers, s1), 0);
    assert_int_equal(store_insert(f->store, &kind_subscribers, s2), -EEXIST);
    s2->token_id = s1->token_id + 1;
    assert_int_equal(store_insert(f->store, &kind_subscribers, s2), 0);
    s2->token_id = s1->token_id;
    assert_int_equal(store_update(f->store, &kind_subscribers, s2), -EEXIST);
    free_object(&kind_subscribers, s1);
    free_object(&kind_subscribers, s2);
}

static void test_revision_grows_on_every_write(void **state)
{
    fixture_t *f = *state;
    for (size_t k = 0; k < ARRAY_SIZE(all_kinds); k++) {
        const store_kind_t *kind = all_kinds[k];
        void *o = make_object(kind, "k4", 1);
        int64_t r0 = fixture_revision(f->store);
        assert_int_equal(store_insert(f->store, kind, o), 0);
        int64_t r1 = fixture_revision(f->store);
        assert_true(r1 > r0);
        assert_int_equal(store_update(f->store, kind, o), 0); /* even with nothing changed */
        int64_t r2 = fixture_revision(f->store);
        assert_true(r2 > r1);
        assert_int_equal(store_delete(f->store, kind, "k4"), 0);
        int64_t r3 = fixture_revision(f->store);
        assert_true(r3 > r2);
        /* Writes that change nothing do not count. */
        assert_int_equal(store_delete(f->store, kind, "k4"), -ENOENT);
        assert_int_equal(store_update(f->store, kind, o), -ENOENT);
        assert_int_equal(fixture_revision(f->store), r3);
        free_object(kind, o);
    }
}

static void test_revision_seen_by_another_handle(void **state)
{
    fixture_t *f = *state;
    store_t *other = fixture_open(f);
    int64_t before = fixture_revision(other);
    void *c = make_object(&kind_channels, "shared", 1);
    assert_int_equal(store_insert(f->store, &kind_channels, c), 0);
    assert_true(fixture_revision(other) > before);
    void *out = get_object(other, &kind_channels, "shared");
    assert_same_object(&kind_channels, c, out);
    free_object(&kind_channels, out);
    free_object(&kind_channels, c);
    store_close(other);
}

static void test_reopen_keeps_data(void **state)
{
    fixture_t *f = *state;
    void *c = make_object(&kind_packages, "kept", 1);
    assert_int_equal(store_insert(f->store, &kind_packages, c), 0);
    int64_t rev = fixture_revision(f->store);
    store_close(f->store);
    f->store = fixture_open(f);
    assert_int_equal(fixture_revision(f->store), rev);
    void *out = get_object(f->store, &kind_packages, "kept");
    assert_same_object(&kind_packages, c, out);
    free_object(&kind_packages, out);
    free_object(&kind_packages, c);
}

static void test_null_strings_and_empty_lists_round_trip(void **state)
{
    fixture_t *f = *state;
    channel_config_t c, out;
    channel_config_defaults(&c);
    c.name = strdup("bare");
    assert_int_equal(store_insert(f->store, &kind_channels, &c), 0);
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(f->store, &kind_channels, "bare", &out), 0);
    assert_null(out.title);
    assert_null(out.logo);
    assert_int_equal(out.sources.count, 0);
    assert_int_equal(out.idle_timeout, 10);
    assert_int_equal(out.lag_policy, LAG_SKIP);
    channel_config_clear(&c);
    channel_config_clear(&out);

    subscriber_t s, got;
    subscriber_defaults(&s);
    s.name = strdup("plain");
    assert_int_equal(store_insert(f->store, &kind_subscribers, &s), 0);
    memset(&got, 0, sizeof(got));
    assert_int_equal(store_get(f->store, &kind_subscribers, "plain", &got), 0);
    assert_true(got.enabled);
    assert_false(got.bind_ip);
    assert_int_equal(got.max_streams, 1);
    assert_null(got.password_hash);
    assert_int_equal(got.packages.count, 0);
    fields_clear(subscriber_fields, subscriber_field_count, &s);
    fields_clear(subscriber_fields, subscriber_field_count, &got);
}

/* ---- hostile input ------------------------------------------------------------------- */

static void test_sql_looking_values_are_stored_verbatim(void **state)
{
    fixture_t *f = *state;
    static const char *const names[] = {"x'; DROP TABLE channels; --", "\" OR 1=1 --", "a\"b", "%_*?",
                                        "$1", "?1", "\\", "line\nbreak\ttab", "\xc3\xa9t\xc3\xa9"};
    for (size_t k = 0; k < ARRAY_SIZE(all_kinds); k++) {
        const store_kind_t *kind = all_kinds[k];
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
            void *o = make_object(kind, names[i], (int)i);
            int rc = store_insert(f->store, kind, o);
            if (rc != 0)
                fail_msg("insert %s '%s': %d %s", kind->table, names[i], rc, store_last_error(f->store));
            void *out = get_object(f->store, kind, names[i]);
            assert_same_object(kind, o, out);
            free_object(kind, out);
            free_object(kind, o);
        }
        void *objects;
        size_t count;
        assert_int_equal(store_list(f->store, kind, &objects, &count), 0);
        assert_int_equal(count, ARRAY_SIZE(names));
        store_free_list(kind, objects, count);
        void *out = calloc(1, kind->object_size);
        assert_int_equal(store_get(f->store, kind, "x", out), -ENOENT); /* no wildcard matching */
        assert_int_equal(store_get(f->store, kind, "%", out), -ENOENT);
        assert_int_equal(store_get(f->store, kind, "", out), -ENOENT);
        free(out);
        assert_int_equal(store_delete(f->store, kind, "%_*?"), 0);
        assert_int_equal(store_delete(f->store, kind, "%"), -ENOENT);
    }
    assert_true(fixture_revision(f->store) > 0);
}

static void test_very_long_values_are_stored_verbatim(void **state)
{
    fixture_t *f = *state;
    const size_t len = 1 << 20;
    char *big = malloc(len + 1);
    assert_non_null(big);
    static const char pattern[] = "ab'\"\\;-\t\n xyz%_?$";
    for (size_t i = 0; i < len; i++)
        big[i] = pattern[i % (sizeof(pattern) - 1)];
    big[len] = '\0';
    channel_config_t c, out;
    channel_config_defaults(&c);
    c.name = strdup(big + len - 300); /* a 300-byte name */
    c.title = strdup(big);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(strlist_push(&c.sources, big + len - 1000 + (size_t)(i % 900)), 0);
    assert_int_equal(store_insert(f->store, &kind_channels, &c), 0);
    memset(&out, 0, sizeof(out));
    assert_int_equal(store_get(f->store, &kind_channels, c.name, &out), 0);
    assert_int_equal(strlen(out.title), len);
    assert_memory_equal(out.title, big, len);
    assert_int_equal(out.sources.count, 5000);
    for (size_t i = 0; i < channel_field_count; i++)
        assert_true(fields_equal(&channel_fields[i], &c, &out));
    channel_config_clear(&c);
    channel_config_clear(&out);
    free(big);
}

/* A page of a list: the UI's search over 100,000 subscribers. */
static void test_list_page_searches_and_pages(void **state)
{
    fixture_t *f = *state;
    const char *names[] = {"alice", "alina", "bob", "carol_1", "carol_x", "dave%"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        package_t p = {.name = (char *)names[i], .title = (char *)names[i]};
        assert_int_equal(store_insert(f->store, &kind_packages, &p), 0);
    }
    void *list;
    size_t count;
    int64_t total;
    /* part of the name, any case; ordered by name */
    assert_int_equal(store_list_page(f->store, &kind_packages, "AL", 0, 0, &list, &count, &total), 0);
    assert_int_equal(count, 2);
    assert_int_equal(total, 2);
    assert_string_equal(((package_t *)list)[0].name, "alice");
    assert_string_equal(((package_t *)list)[1].name, "alina");
    store_free_list(&kind_packages, list, count);
    /* LIKE's own characters are taken literally */
    assert_int_equal(store_list_page(f->store, &kind_packages, "_1", 0, 0, &list, &count, &total), 0);
    assert_int_equal(total, 1);
    assert_string_equal(((package_t *)list)[0].name, "carol_1");
    store_free_list(&kind_packages, list, count);
    assert_int_equal(store_list_page(f->store, &kind_packages, "%", 0, 0, &list, &count, &total), 0);
    assert_int_equal(total, 1);
    assert_string_equal(((package_t *)list)[0].name, "dave%");
    store_free_list(&kind_packages, list, count);
    /* a page: offset and limit, the total of all that match */
    assert_int_equal(store_list_page(f->store, &kind_packages, NULL, 2, 3, &list, &count, &total), 0);
    assert_int_equal(count, 3);
    assert_int_equal(total, 6);
    assert_string_equal(((package_t *)list)[0].name, "bob");
    assert_string_equal(((package_t *)list)[2].name, "carol_x");
    store_free_list(&kind_packages, list, count);
    assert_int_equal(store_list_page(f->store, &kind_packages, "", 6, 3, &list, &count, &total), 0);
    assert_int_equal(count, 0);
    assert_int_equal(total, 6);
    store_free_list(&kind_packages, list, count);
    assert_int_equal(store_list_page(f->store, &kind_packages, NULL, -1, 3, &list, &count, &total), -EINVAL);
}

/* ---- threads and connections ------------------------------------------------------------ */

typedef struct writer {
    store_t *store;
    int id;
    int failures;
} writer_t;

static void *write_many(void *arg)
{
    writer_t *w = arg;
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof(name), "t%d-%d", w->id, i);
        package_t p = {.name = name, .title = name};
        if (store_insert(w->store, &kind_packages, &p) != 0)
            w->failures++;
        package_t out = {0};
        if (store_get(w->store, &kind_packages, name, &out) != 0 || strcmp(out.title, name) != 0)
            w->failures++;
        fields_clear(package_fields, package_field_count, &out);
    }
    return NULL;
}

/* One store_t used by several threads at once: calls are serialised inside. */
static void test_one_store_many_threads(void **state)
{
    fixture_t *f = *state;
    pthread_t threads[4];
    writer_t writers[4];
    int64_t before = fixture_revision(f->store);
    for (int i = 0; i < 4; i++) {
        writers[i] = (writer_t){f->store, i, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, write_many, &writers[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(writers[i].failures, 0);
    }
    void *list;
    size_t count;
    assert_int_equal(store_list(f->store, &kind_packages, &list, &count), 0);
    assert_int_equal(count, 160);
    store_free_list(&kind_packages, list, count);
    assert_int_equal(fixture_revision(f->store), before + 160);
}

/* PostgreSQL: a connection the server dropped is made again on the next call. */
static void test_reconnects_after_the_server_dropped_us(void **state)
{
    fixture_t *f = *state;
    if (!fixture_pg)
        skip();
    char name[64], url[sizeof(f->url) + 96];
    snprintf(name, sizeof(name), "antenne_reconnect_%ld", (long)getpid());
    snprintf(url, sizeof(url), "%s&application_name=%s", f->url, name);
    store_t *store = NULL;
    char err[512];
    assert_int_equal(store_open(f->dir, url, &store, err, sizeof(err)), 0);
    int64_t rev = fixture_revision(store);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '%s'", name);
    fixture_sql(f, sql);
    usleep(100 * 1000);
    assert_int_equal(fixture_revision(store), rev); /* reconnected, ran again */
    package_t p = {.name = "after", .title = "reconnect"};
    fixture_sql(f, sql);
    usleep(100 * 1000);
    assert_int_equal(store_insert(store, &kind_packages, &p), 0);
    assert_true(fixture_revision(store) > rev);
    store_close(store);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_open_creates_database_file),
        T(test_open_creates_missing_folder),
        T(test_open_unusable_folder_fails_with_message),
        T(test_open_sqlite_url_names_the_file),
        T(test_open_backend_is_named),
        T(test_open_unknown_url_is_einval),
        T(test_open_failure_never_shows_the_password),
        T(test_every_kind_round_trips),
        T(test_list_of_empty_tables),
        T(test_auto_fields_are_set_by_the_store),
        T(test_unique_violations_are_eexist),
        T(test_revision_grows_on_every_write),
        T(test_revision_seen_by_another_handle),
        T(test_reopen_keeps_data),
        T(test_null_strings_and_empty_lists_round_trip),
        T(test_sql_looking_values_are_stored_verbatim),
        T(test_very_long_values_are_stored_verbatim),
        T(test_list_page_searches_and_pages),
        T(test_one_store_many_threads),
        T(test_reconnects_after_the_server_dropped_us),
    };
    return fixture_main(argc, argv, "store", tests, ARRAY_SIZE(tests));
}
