// SPDX-License-Identifier: MIT
// test_import.c -- tests for src/epg/import.c on a real (SQLite) store:
// matching XMLTV channels to ours, the time window, programmes without
// stop, the report, gzip files, and atomicity (a bad file changes nothing).
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
#include <zlib.h>
#include <cmocka.h>

#include "epg/epg.h"

#define NOW 1795874400 /* 2026-11-28 14:00 UTC */
#define HOUR 3600
#define DAY 86400

typedef struct fixture {
    char dir[64];
    char file[128];
    store_t *store;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/antenne-test-import-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->file, sizeof(f->file), "%s/guide.xml", f->dir);
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

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text, bool gzip)
{
    if (gzip) {
        gzFile gz = gzopen(path, "wb");
        assert_non_null(gz);
        assert_int_equal(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
        assert_int_equal(gzclose(gz), Z_OK);
        return;
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Our channels: an HD and an SD channel share a tvg_id; two are matched by
 * title; one has a tvg_id nobody uses; one has a tvg_id that differs from
 * the guide's while its title matches (so it must not be matched). */
static const epg_map_channel_t ours[] = {
    {.name = "bbc1", .tvg_id = "bbc1.uk", .title = "BBC One"},
    {.name = "bbc1hd", .tvg_id = "bbc1.uk", .title = "BBC One HD"},
    {.name = "zdf", .tvg_id = NULL, .title = "ZDF"},
    {.name = "rossiya", .tvg_id = "", .title = "\xd0\xa0\xd0\xbe\xd1\x81\xd1\x81\xd0\xb8\xd1\x8f 1"}, /* Россия 1 */
    {.name = "nothing", .tvg_id = "none.example", .title = "Nothing"},
    {.name = "arte", .tvg_id = "arte.fr", .title = "Arte"},
};
static const epg_channel_map_t map = {ours, sizeof(ours) / sizeof(ours[0])};

/* XMLTV time for NOW + offset seconds, written in +0100. */
static const char *at(int64_t offset, char *buf)
{
    char utc[32];
    epg_time_format(NOW + offset + HOUR, utc, sizeof(utc));
    snprintf(buf, 32, "%.14s +0100", utc);
    return buf;
}

static char *make_guide(void)
{
    char a[32], b[32];
    strbuf_t s;
    strbuf_init(&s);
    strbuf_puts(&s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tv>\n"
                    "<channel id=\"bbc1.uk\"><display-name>BBC One</display-name></channel>\n"
                    "<channel id=\"zdf.de\"><display-name>Das Zweite</display-name><display-name> zdf </display-name>"
                    "</channel>\n"
                    "<channel id=\"zdf.other\"><display-name>ZDF</display-name></channel>\n"
                    "<channel id=\"rus.ru\"><display-name>\xd0\xa0\xd0\x9e\xd0\xa1\xd0\xa1\xd0\x98\xd0\xaf  1"
                    "</display-name></channel>\n" /* РОССИЯ  1 */
                    "<channel id=\"other.example\"><display-name>Other</display-name></channel>\n"
                    "<channel id=\"arte.de\"><display-name>Arte</display-name></channel>\n");
    /* bbc1.uk: one too old, three kept, one too far ahead. */
    int64_t bbc[][2] = {{-2 * DAY, -DAY - HOUR}, {-DAY - HOUR, -DAY + HOUR}, {0, HOUR}, {HOUR, 2 * HOUR},
                        {2 * DAY, 2 * DAY + HOUR}};
    for (size_t i = 0; i < 5; i++)
        strbuf_printf(&s, "<programme start=\"%s\" stop=\"%s\" channel=\"bbc1.uk\"><title>BBC %zu</title>"
                          "<desc>About %zu &amp; more</desc><episode-num system=\"xmltv_ns\">0.%zu.</episode-num>"
                          "</programme>\n",
                      at(bbc[i][0], a), at(bbc[i][1], b), i, i, i);
    /* zdf.de: no stops; the first ends where the second starts, the last has no end. */
    strbuf_printf(&s, "<programme start=\"%s\" channel=\"zdf.de\"><title>ZDF 0</title></programme>\n", at(0, a));
    strbuf_printf(&s, "<programme start=\"%s\" channel=\"zdf.de\"><title>ZDF 1</title></programme>\n", at(HOUR / 2, a));
    strbuf_printf(&s, "<programme start=\"%s\" stop=\"%s\" channel=\"rus.ru\"><title>R</title></programme>\n", at(0, a),
                  at(HOUR, b));
    strbuf_printf(&s, "<programme start=\"%s\" stop=\"%s\" channel=\"zdf.other\"><title>Z</title></programme>\n",
                  at(0, a), at(HOUR, b));
    for (int i = 0; i < 2; i++)
        strbuf_printf(&s, "<programme start=\"%s\" stop=\"%s\" channel=\"other.example\"><title>O</title></programme>\n",
                      at(i * HOUR, a), at((i + 1) * HOUR, b));
    strbuf_printf(&s, "<programme start=\"%s\" stop=\"%s\" channel=\"arte.de\"><title>A</title></programme>\n", at(0, a),
                  at(HOUR, b));
    strbuf_puts(&s, "</tv>\n");
    return strbuf_steal(&s, NULL);
}

typedef struct rows {
    int count;
    char channel[16][16];
    char title[16][32];
    int64_t start[16], stop[16];
    char desc[16][32];
    char episode[16][16];
} rows_t;

static int collect(void *ctx, const store_programme_t *p)
{
    rows_t *r = ctx;
    if (r->count < 16) {
        int i = r->count;
        snprintf(r->channel[i], sizeof(r->channel[i]), "%s", p->channel);
        snprintf(r->title[i], sizeof(r->title[i]), "%s", p->title);
        snprintf(r->desc[i], sizeof(r->desc[i]), "%s", p->description ? p->description : "(null)");
        snprintf(r->episode[i], sizeof(r->episode[i]), "%s", p->episode ? p->episode : "(null)");
        r->start[i] = p->start;
        r->stop[i] = p->stop;
    }
    r->count++;
    return 0;
}

static rows_t all_rows(store_t *store)
{
    static const char *const names[] = {"bbc1", "bbc1hd", "zdf", "rossiya", "nothing", "arte"};
    rows_t r = {0};
    assert_int_equal(store_epg_each(store, names, 6, 0, INT64_MAX / 2, collect, &r), 0);
    return r;
}

static const epg_import_options_t options = {.now = NOW, .days = 2};

static void test_mapping(void **state)
{
    fixture_t *f = *state;
    char *guide = make_guide();
    write_file(f->file, guide, false);
    epg_report_t report;
    char err[512] = "";
    int rc = epg_import(f->store, "guide", f->file, &map, &options, &report, err, sizeof(err));
    if (rc != 0)
        fail_msg("epg_import: %d %s", rc, err);
    assert_int_equal(report.channels_seen, 6);
    assert_int_equal(report.channels_mapped, 3); /* bbc1.uk, zdf.de, rus.ru */
    assert_int_equal(report.programmes_seen, 12);
    assert_int_equal(report.programmes_stored, 3 * 2 + 1 + 1);
    assert_int_equal(report.skipped_window, 2);
    assert_int_equal(report.skipped_no_stop, 1);
    assert_int_equal(report.skipped_unmapped, 4); /* zdf.other, other.example x2, arte.de */
    assert_int_equal(report.channels_unguided, 2); /* nothing, arte */
    assert_int_equal(report.bytes_in, strlen(guide));
    assert_int_equal(report.bytes_xml, strlen(guide));
    assert_true(report.seconds >= 0);

    rows_t r = all_rows(f->store);
    assert_int_equal(r.count, 8);
    /* Ordered by our channel, then start; the +0100 times come back in UTC. */
    assert_string_equal(r.channel[0], "bbc1");
    assert_string_equal(r.title[0], "BBC 1");
    assert_int_equal(r.start[0], NOW - DAY - HOUR);
    assert_int_equal(r.stop[0], NOW - DAY + HOUR);
    assert_string_equal(r.desc[0], "About 1 & more");
    assert_string_equal(r.episode[0], "0.1.");
    assert_string_equal(r.title[2], "BBC 3");
    assert_string_equal(r.channel[3], "bbc1hd");
    assert_string_equal(r.title[3], "BBC 1");
    assert_string_equal(r.channel[6], "zdf");
    assert_string_equal(r.title[6], "ZDF 0");
    assert_int_equal(r.start[6], NOW);
    assert_int_equal(r.stop[6], NOW + HOUR / 2); /* ended by the next one */
    assert_string_equal(r.channel[7], "rossiya");
    free(guide);
}

static void test_atomic(void **state)
{
    fixture_t *f = *state;
    char *guide = make_guide();
    write_file(f->file, guide, false);
    char err[512] = "";
    assert_int_equal(epg_import(f->store, "guide", f->file, &map, &options, NULL, err, sizeof(err)), 0);
    /* Another source's programmes are not touched by this one's imports. */
    char other[256];
    snprintf(other, sizeof(other), "%s/other.xml", f->dir);
    write_file(other,
               "<tv><programme channel='arte.fr' start='20261128140000' stop='20261128150000'><title>Arte</title>"
               "</programme></tv>",
               false);
    assert_int_equal(epg_import(f->store, "other", other, &map, &options, NULL, err, sizeof(err)), 0);
    assert_int_equal(all_rows(f->store).count, 9);

    /* A file that goes wrong on its last programme: nothing changes. */
    char *bad = strdup(guide);
    char *last = strstr(bad, "<programme start=\"20261128150000 +0100\" stop=\"20261128160000 +0100\" channel=\"arte.de\">");
    assert_non_null(last);
    memcpy(last + strlen("<programme start=\"2026112815"), "99", 2);
    write_file(f->file, bad, false);
    int line = 1;
    for (const char *c = bad; c < last; c++)
        line += *c == '\n';
    char where[64];
    snprintf(where, sizeof(where), "line %d, column 1: programme start", line);
    epg_report_t report;
    assert_int_equal(epg_import(f->store, "guide", f->file, &map, &options, &report, err, sizeof(err)), -EINVAL);
    if (!strstr(err, where))
        fail_msg("'%s' does not say '%s'", err, where);
    assert_true(report.programmes_seen > 10); /* it got that far, then threw it all away */
    assert_int_equal(all_rows(f->store).count, 9);
    free(bad);

    /* A truncated file, a missing one, a gzip file cut short. */
    write_file(f->file, "<tv><programme channel='bbc1.uk' start='20261128140000' stop='20261128150000'><title>x</title>",
               false);
    assert_int_equal(epg_import(f->store, "guide", f->file, &map, &options, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "the file ends inside"));
    assert_int_equal(epg_import(f->store, "guide", "/nonexistent/guide.xml", &map, &options, NULL, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/guide.xml"));
    write_file(f->file, guide, true);
    FILE *gz = fopen(f->file, "r+");
    fseek(gz, 0, SEEK_END);
    assert_int_equal(ftruncate(fileno(gz), ftell(gz) / 2), 0);
    fclose(gz);
    assert_int_equal(epg_import(f->store, "guide", f->file, &map, &options, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "gzip"));
    assert_int_equal(all_rows(f->store).count, 9);

    /* A good import replaces the source's programmes whole. */
    write_file(f->file,
               "<tv><programme channel='bbc1.uk' start='20261128140000' stop='20261128150000'><title>Only</title>"
               "</programme></tv>",
               false);
    assert_int_equal(epg_import(f->store, "guide", f->file, &map, &options, NULL, err, sizeof(err)), 0);
    rows_t r = all_rows(f->store);
    assert_int_equal(r.count, 3); /* bbc1, bbc1hd, and arte from the other source */
    assert_string_equal(r.title[0], "Only");
    assert_string_equal(r.title[2], "Arte");
    free(guide);
}

static void test_gzip(void **state)
{
    fixture_t *f = *state;
    char *guide = make_guide();
    write_file(f->file, guide, true);
    epg_report_t report;
    char err[512] = "";
    assert_int_equal(epg_import(f->store, "guide", f->file, &map, &options, &report, err, sizeof(err)), 0);
    assert_int_equal(report.programmes_stored, 8);
    assert_int_equal(report.bytes_xml, strlen(guide));
    assert_true(report.bytes_in < report.bytes_xml);
    free(guide);
}

static void test_defaults(void **state)
{
    fixture_t *f = *state;
    /* No map: everything is unmapped. No options: the wall clock, 7 days. */
    write_file(f->file,
               "<tv><programme channel='bbc1.uk' start='20261128140000' stop='20261128150000'><title>x</title>"
               "</programme></tv>",
               false);
    epg_report_t report;
    char err[256];
    assert_int_equal(epg_import(f->store, "guide", f->file, NULL, NULL, &report, err, sizeof(err)), 0);
    assert_int_equal(report.skipped_unmapped, 1);
    assert_int_equal(report.programmes_stored, 0);
    /* A store that refuses: an empty source name. */
    assert_true(epg_import(f->store, "", f->file, &map, &options, NULL, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "source"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
