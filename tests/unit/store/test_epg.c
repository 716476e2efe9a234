// SPDX-License-Identifier: MIT
// test_epg.c -- tests for src/store/epg.c and the backends' bulk import,
// against SQLite and PostgreSQL alike (see fixture.h).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"

#include "auth/auth.h"

/* ---- what store_epg_each hands out, copied ---------------------------------------- */

typedef struct seen {
    char channel[64];
    int64_t start, stop;
    char *title, *subtitle, *description, *category, *episode, *icon;
} seen_t;

typedef struct seen_list {
    seen_t items[64];
    size_t count;
    size_t stop_after; /* 0: never */
} seen_list_t;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int collect(void *ctx, const store_programme_t *p)
{
    seen_list_t *list = ctx;
    assert_true(list->count < ARRAY_SIZE(list->items));
    seen_t *s = &list->items[list->count++];
    snprintf(s->channel, sizeof(s->channel), "%s", p->channel);
    s->start = p->start;
    s->stop = p->stop;
    s->title = dup_or_null(p->title);
    s->subtitle = dup_or_null(p->subtitle);
    s->description = dup_or_null(p->description);
    s->category = dup_or_null(p->category);
    s->episode = dup_or_null(p->episode);
    s->icon = dup_or_null(p->icon);
    return list->stop_after && list->count == list->stop_after ? 42 : 0;
}

static void seen_clear(seen_list_t *list)
{
    for (size_t i = 0; i < list->count; i++) {
        seen_t *s = &list->items[i];
        free(s->title), free(s->subtitle), free(s->description), free(s->category), free(s->episode), free(s->icon);
    }
    memset(list, 0, sizeof(*list));
}

static void each(store_t *store, const char *const *channels, size_t count, int64_t from, int64_t to,
                 seen_list_t *out)
{
    memset(out, 0, sizeof(*out));
    int rc = store_epg_each(store, channels, count, from, to, collect, out);
    if (rc != 0)
        fail_msg("store_epg_each: %d %s", rc, store_last_error(store));
}

/* Imports one programme per (channel, start) pair; titles name the source. */
static void import(store_t *store, const char *source, const char *channel, const int64_t *starts, size_t n,
                   int64_t length)
{
    store_epg_import_t *im = NULL;
    assert_int_equal(store_epg_begin(store, source, &im), 0);
    for (size_t i = 0; i < n; i++) {
        char title[64];
        snprintf(title, sizeof(title), "%s %lld", source, (long long)starts[i]);
        store_programme_t p = {.channel = channel, .start = starts[i], .stop = starts[i] + length, .title = title};
        assert_int_equal(store_epg_add(im, &p), 0);
    }
    int rc = store_epg_commit(im);
    if (rc != 0)
        fail_msg("commit: %d %s", rc, store_last_error(store));
}

static void test_import_then_read_back_every_field(void **state)
{
    fixture_t *f = *state;
    int64_t rev = fixture_revision(f->store);
    store_epg_import_t *im = NULL;
    assert_int_equal(store_epg_begin(f->store, "xmltv-a", &im), 0);
    const store_programme_t full = {
        .channel = "news",
        .start = 1700000000,
        .stop = 1700003600,
        .title = "Le Journal de l'\xc3\xa9t\xc3\xa9 \"20h\"",
        .subtitle = "tab\there, newline\nthere, backslash \\ and \\N and \\t",
        .description = "'); DELETE FROM programmes; -- $1 ?1 %s \r\n",
        .category = "News",
        .episode = "0.1/2.",
        .icon = "http://example.net/i.png?a=1&b=2",
    };
    const store_programme_t bare = {.channel = "news", .start = 1700003600, .stop = 1700007200, .title = "Bare"};
    assert_int_equal(store_epg_add(im, &bare), 0);
    assert_int_equal(store_epg_add(im, &full), 0);
    assert_int_equal(store_epg_commit(im), 0);
    assert_true(fixture_revision(f->store) > rev);

    seen_list_t got;
    const char *channels[] = {"news"};
    each(f->store, channels, 1, 0, INT64_MAX, &got);
    assert_int_equal(got.count, 2);
    seen_t *s = &got.items[0];
    assert_string_equal(s->channel, "news");
    assert_int_equal(s->start, full.start);
    assert_int_equal(s->stop, full.stop);
    assert_string_equal(s->title, full.title);
    assert_string_equal(s->subtitle, full.subtitle);
    assert_string_equal(s->description, full.description);
    assert_string_equal(s->category, full.category);
    assert_string_equal(s->episode, full.episode);
    assert_string_equal(s->icon, full.icon);
    s = &got.items[1];
    assert_string_equal(s->title, "Bare");
    assert_null(s->subtitle);
    assert_null(s->description);
    assert_null(s->category);
    assert_null(s->episode);
    assert_null(s->icon);
    seen_clear(&got);
}

static void test_each_orders_by_channel_as_given_then_start(void **state)
{
    fixture_t *f = *state;
    const int64_t a_starts[] = {300, 100, 200};
    const int64_t b_starts[] = {150, 50};
    store_epg_import_t *im = NULL;
    assert_int_equal(store_epg_begin(f->store, "src", &im), 0);
    for (size_t i = 0; i < 3; i++) {
        store_programme_t p = {.channel = "alpha", .start = a_starts[i], .stop = a_starts[i] + 100, .title = "a"};
        assert_int_equal(store_epg_add(im, &p), 0);
    }
    for (size_t i = 0; i < 2; i++) {
        store_programme_t p = {.channel = "zulu", .start = b_starts[i], .stop = b_starts[i] + 100, .title = "z"};
        assert_int_equal(store_epg_add(im, &p), 0);
    }
    assert_int_equal(store_epg_commit(im), 0);

    seen_list_t got;
    const char *channels[] = {"zulu", "nobody", "alpha"};
    each(f->store, channels, 3, 0, 1000, &got);
    assert_int_equal(got.count, 5);
    const struct { const char *channel; int64_t start; } expected[] = {
        {"zulu", 50}, {"zulu", 150}, {"alpha", 100}, {"alpha", 200}, {"alpha", 300},
    };
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(got.items[i].channel, expected[i].channel);
        assert_int_equal(got.items[i].start, expected[i].start);
    }
    seen_clear(&got);

    /* fn's non-zero answer stops the walk and comes back. */
    memset(&got, 0, sizeof(got));
    got.stop_after = 2;
    assert_int_equal(store_epg_each(f->store, channels, 3, 0, 1000, collect, &got), 42);
    assert_int_equal(got.count, 2);
    seen_clear(&got);

    /* No channels: nothing. */
    each(f->store, channels, 0, 0, 1000, &got);
    assert_int_equal(got.count, 0);
}

static void test_each_returns_what_overlaps_the_window(void **state)
{
    fixture_t *f = *state;
    /* [0,100) [100,200) [200,300) [300,400) and one long [50,350) */
    const int64_t starts[] = {0, 100, 200, 300};
    store_epg_import_t *im = NULL;
    assert_int_equal(store_epg_begin(f->store, "src", &im), 0);
    for (size_t i = 0; i < 4; i++) {
        store_programme_t p = {.channel = "c", .start = starts[i], .stop = starts[i] + 100, .title = "short"};
        assert_int_equal(store_epg_add(im, &p), 0);
    }
    store_programme_t longer = {.channel = "c", .start = 50, .stop = 350, .title = "long"};
    assert_int_equal(store_epg_add(im, &longer), 0);
    assert_int_equal(store_epg_commit(im), 0);

    const char *channels[] = {"c"};
    seen_list_t got;
    /* [100, 200): exactly the second one, plus the long one; the first ends
     * at 100 and the third starts at 200, so neither overlaps. */
    each(f->store, channels, 1, 100, 200, &got);
    assert_int_equal(got.count, 2);
    assert_int_equal(got.items[0].start, 50);
    assert_int_equal(got.items[1].start, 100);
    seen_clear(&got);
    /* A point inside one programme. */
    each(f->store, channels, 1, 120, 121, &got);
    assert_int_equal(got.count, 2);
    seen_clear(&got);
    /* Before and after everything. */
    each(f->store, channels, 1, -1000, 0, &got);
    assert_int_equal(got.count, 0);
    each(f->store, channels, 1, 400, 500, &got);
    assert_int_equal(got.count, 0);
    /* Everything. */
    each(f->store, channels, 1, 0, 400, &got);
    assert_int_equal(got.count, 5);
    seen_clear(&got);
}

static void test_commit_replaces_only_that_source(void **state)
{
    fixture_t *f = *state;
    const int64_t old_starts[] = {0, 100, 200};
    const int64_t new_starts[] = {1000};
    import(f->store, "one", "c", old_starts, 3, 100);
    import(f->store, "two", "c", old_starts, 2, 50);
    import(f->store, "one", "c", new_starts, 1, 100);

    const char *channels[] = {"c"};
    seen_list_t got;
    each(f->store, channels, 1, 0, 10000, &got);
    assert_int_equal(got.count, 3);
    assert_string_equal(got.items[0].title, "two 0");
    assert_string_equal(got.items[1].title, "two 100");
    assert_string_equal(got.items[2].title, "one 1000");
    seen_clear(&got);

    /* An empty import empties its source. */
    import(f->store, "two", "c", NULL, 0, 0);
    each(f->store, channels, 1, 0, 10000, &got);
    assert_int_equal(got.count, 1);
    seen_clear(&got);
}

static void test_abort_keeps_the_old_programmes(void **state)
{
    fixture_t *f = *state;
    const int64_t starts[] = {0, 100};
    import(f->store, "src", "c", starts, 2, 100);
    int64_t rev = fixture_revision(f->store);

    store_epg_import_t *im = NULL;
    assert_int_equal(store_epg_begin(f->store, "src", &im), 0);
    for (int i = 0; i < 1000; i++) {
        store_programme_t p = {.channel = "c", .start = 5000 + i, .stop = 5001 + i, .title = "new"};
        assert_int_equal(store_epg_add(im, &p), 0);
    }
    /* Meanwhile, readers see the old programmes and other writes go on. */
    const char *channels[] = {"c"};
    seen_list_t got;
    each(f->store, channels, 1, 0, 100000, &got);
    assert_int_equal(got.count, 2);
    assert_string_equal(got.items[0].title, "src 0");
    seen_clear(&got);
    package_t p = {.name = "during", .title = "the import"};
    assert_int_equal(store_insert(f->store, &kind_packages, &p), 0);
    rev = fixture_revision(f->store);
    store_epg_abort(im);

    each(f->store, channels, 1, 0, 100000, &got);
    assert_int_equal(got.count, 2);
    assert_string_equal(got.items[1].title, "src 100");
    seen_clear(&got);
    assert_int_equal(fixture_revision(f->store), rev); /* an abort changes nothing */
    store_epg_abort(NULL);

    /* After an abort, the next import works. */
    const int64_t more[] = {7};
    import(f->store, "src", "c", more, 1, 1);
    each(f->store, channels, 1, 0, 100000, &got);
    assert_int_equal(got.count, 1);
    seen_clear(&got);
}

static void test_one_import_at_a_time(void **state)
{
    fixture_t *f = *state;
    store_epg_import_t *first = NULL, *second = (store_epg_import_t *)1;
    assert_int_equal(store_epg_begin(f->store, "a", &first), 0);
    assert_int_equal(store_epg_begin(f->store, "b", &second), -EBUSY);
    assert_null(second);
    store_epg_abort(first);
    assert_int_equal(store_epg_begin(f->store, "b", &second), 0);
    assert_int_equal(store_epg_commit(second), 0);
}

/* Two servers import the same source at once: never both sets of rows. */
static void test_two_servers_import_one_source(void **state)
{
    fixture_t *f = *state;
    store_t *other = fixture_open(f);
    store_epg_import_t *a = NULL, *b = NULL;
    assert_int_equal(store_epg_begin(f->store, "shared", &a), 0);
    int rc = store_epg_begin(other, "shared", &b);
    /* PostgreSQL tells the second to come back later; SQLite lets the
     * later commit win. */
    assert_int_equal(rc, fixture_pg ? -EBUSY : 0);
    for (int i = 0; i < 10; i++) {
        store_programme_t p = {.channel = "c", .start = i * 10, .stop = i * 10 + 10, .title = "from a"};
        assert_int_equal(store_epg_add(a, &p), 0);
        p.title = "from b";
        if (b)
            assert_int_equal(store_epg_add(b, &p), 0);
    }
    assert_int_equal(store_epg_commit(a), 0);
    if (b)
        assert_int_equal(store_epg_commit(b), 0);
    const char *channels[] = {"c"};
    seen_list_t got;
    each(f->store, channels, 1, 0, 1000, &got);
    assert_int_equal(got.count, 10);
    assert_string_equal(got.items[0].title, b ? "from b" : "from a");
    assert_string_equal(got.items[9].title, b ? "from b" : "from a");
    seen_clear(&got);
    /* Once it is done, the other server may import. */
    const int64_t starts[] = {5};
    import(other, "shared", "c", starts, 1, 1);
    each(f->store, channels, 1, 0, 1000, &got);
    assert_int_equal(got.count, 1);
    seen_clear(&got);
    store_close(other);
}

static void test_bad_programmes_are_refused(void **state)
{
    fixture_t *f = *state;
    store_epg_import_t *im = NULL;
    assert_int_equal(store_epg_begin(f->store, "a", &im), 0);
    store_programme_t no_channel = {.start = 0, .stop = 10, .title = "x"};
    assert_int_equal(store_epg_add(im, &no_channel), -EINVAL);
    store_programme_t backwards = {.channel = "c", .start = 10, .stop = 0, .title = "x"};
    assert_int_equal(store_epg_add(im, &backwards), -EINVAL);
    store_programme_t fine = {.channel = "c", .start = 10, .stop = 10, .title = NULL};
    assert_int_equal(store_epg_add(im, &fine), 0);
    assert_int_equal(store_epg_commit(im), 0);
    store_epg_import_t *none = (store_epg_import_t *)1;
    assert_int_equal(store_epg_begin(f->store, "", &none), -EINVAL);
    assert_null(none);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 300,000 programmes in one import (an XMLTV file of a few hundred channels
 * over two weeks), then a second import of the same source replaces them. */
static void test_large_import(void **state)
{
    fixture_t *f = *state;
    enum { CHANNELS = 300, PER_CHANNEL = 1000 };
    char names[CHANNELS][16];
    for (int c = 0; c < CHANNELS; c++)
        snprintf(names[c], sizeof(names[c]), "channel-%03d", c);
    for (int round = 0; round < 2; round++) {
        double t0 = now_s();
        store_epg_import_t *im = NULL;
        assert_int_equal(store_epg_begin(f->store, "big", &im), 0);
        char description[200];
        for (int c = 0; c < CHANNELS; c++) {
            for (int i = 0; i < PER_CHANNEL; i++) {
                snprintf(description, sizeof(description),
                         "Episode %d of a programme on %.15s, with a description of ordinary length. Round %d.", i,
                         names[c], round);
                store_programme_t p = {
                    .channel = names[c],
                    .start = 1700000000 + (int64_t)i * 1800,
                    .stop = 1700000000 + (int64_t)(i + 1) * 1800,
                    .title = "A programme title",
                    .subtitle = i % 2 ? "Subtitle" : NULL,
                    .description = description,
                    .category = "Series",
                    .episode = "1.2.",
                };
                int rc = store_epg_add(im, &p);
                if (rc != 0)
                    fail_msg("add: %d %s", rc, store_last_error(f->store));
            }
        }
        double t1 = now_s();
        assert_int_equal(store_epg_commit(im), 0);
        double t2 = now_s();
        int rows = CHANNELS * PER_CHANNEL;
        print_message("%s: imported %d programmes in %.2f s (adds %.2f s, commit %.2f s): %.0f rows/s\n",
                      store_backend(f->store), rows, t2 - t0, t1 - t0, t2 - t1, rows / (t2 - t0));
    }
    const char *channels[] = {"channel-000", "channel-299"};
    seen_list_t got;
    each(f->store, channels, 2, 1700000000, 1700000000 + 10 * 1800, &got);
    assert_int_equal(got.count, 20);
    assert_string_equal(got.items[19].channel, "channel-299");
    assert_non_null(strstr(got.items[0].description, "Round 1."));
    seen_clear(&got);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(test_import_then_read_back_every_field),
        T(test_each_orders_by_channel_as_given_then_start),
        T(test_each_returns_what_overlaps_the_window),
        T(test_commit_replaces_only_that_source),
        T(test_abort_keeps_the_old_programmes),
        T(test_one_import_at_a_time),
        T(test_two_servers_import_one_source),
        T(test_bad_programmes_are_refused),
        T(test_large_import),
    };
    return fixture_main(argc, argv, "store_epg", tests, ARRAY_SIZE(tests));
}
