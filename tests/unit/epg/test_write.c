// SPDX-License-Identifier: MIT
// test_write.c -- tests for src/epg/write.c: the XMLTV it writes (escaping,
// order, times with offsets), its gzip variant, errors, and validation of
// the output by tv_validate_file and xmllint against the XMLTV DTD, and a
// subscriber's guide written from a real (SQLite) store.
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
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "epg/epg.h"

/* Where Debian's libxmltv-perl installs the DTD; xmltv-util has tv_validate_file. */
#define XMLTV_DTD "/usr/share/xmltv/xmltv.dtd"

static const epg_out_channel_t channels[] = {
    {.name = "one", .id = "one.example", .display_name = "One & \"Only\"", .icon = "http://logo/1.png?a=1&b=2"},
    {.name = "two", .id = "two.example", .display_name = NULL, .icon = NULL},
};

static const store_programme_t programmes[] = {
    {.channel = "one", .start = 1795874400, .stop = 1795878000, .title = "News <& Weather>",
     .subtitle = "Tab\there, newline\nthere", .description = "Line one.\r\nLine \"two\".\x01\x7f",
     .category = "News", .episode = "0.1/10.", .icon = "http://img/p.jpg"},
    /* Bytes that are not UTF-8, C1 controls, non-characters: dropped. */
    {.channel = "one", .start = 1795878000, .stop = 1795881600, .title = "Caf\xc3\xa9 \xff\xfe\xc2\x85\xef\xbf\xbfok",
     .episode = "S01E02"},
    {.channel = "two", .start = 1795878000, .stop = 1795881600, .title = "\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x93\xba",
     .description = "  "},
};

static char *render(bool gzip, size_t *len)
{
    strbuf_t out;
    strbuf_init(&out);
    epg_writer_t *w;
    assert_int_equal(epg_writer_new(gzip, epg_sink_strbuf, &out, &w), 0);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(epg_writer_channel(w, &channels[i]), 0);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(epg_writer_programme(w, i < 2 ? "one.example" : "two.example", &programmes[i]), 0);
    assert_int_equal(epg_writer_end(w), 0);
    return strbuf_steal(&out, len);
}

static const char expected[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE tv SYSTEM \"xmltv.dtd\">\n"
    "<tv generator-info-name=\"antenne\">\n"
    "  <channel id=\"one.example\">\n"
    "    <display-name>One &amp; &quot;Only&quot;</display-name>\n"
    "    <icon src=\"http://logo/1.png?a=1&amp;b=2\"/>\n"
    "  </channel>\n"
    "  <channel id=\"two.example\">\n"
    "    <display-name>two.example</display-name>\n"
    "  </channel>\n"
    "  <programme start=\"20261128140000 +0000\" stop=\"20261128150000 +0000\" channel=\"one.example\">\n"
    "    <title>News &lt;&amp; Weather&gt;</title>\n"
    "    <sub-title>Tab here, newline there</sub-title>\n"
    "    <desc>Line one.\nLine &quot;two&quot;.</desc>\n"
    "    <category>News</category>\n"
    "    <icon src=\"http://img/p.jpg\"/>\n"
    "    <episode-num system=\"xmltv_ns\">0.1/10.</episode-num>\n"
    "  </programme>\n"
    "  <programme start=\"20261128150000 +0000\" stop=\"20261128160000 +0000\" channel=\"one.example\">\n"
    "    <title>Caf\xc3\xa9 ok</title>\n"
    "  </programme>\n"
    "  <programme start=\"20261128150000 +0000\" stop=\"20261128160000 +0000\" channel=\"two.example\">\n"
    "    <title>\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x93\xba</title>\n"
    "  </programme>\n"
    "</tv>\n";

static void test_output(void **state)
{
    (void)state;
    size_t len;
    char *xml = render(false, &len);
    assert_string_equal(xml, expected);
    assert_int_equal(len, strlen(expected));
    free(xml);
}

/* What the writer writes, the parser reads back the same. */
typedef struct back {
    int programmes;
    char title[3][64];
    char desc[3][64];
    int64_t start[3], stop[3];
} back_t;

static int back_programme(void *ctx, const epg_programme_t *e, char *err, size_t err_size)
{
    back_t *b = ctx;
    (void)err, (void)err_size;
    int i = b->programmes++;
    if (i < 3) {
        snprintf(b->title[i], sizeof(b->title[i]), "%s", e->p.title);
        snprintf(b->desc[i], sizeof(b->desc[i]), "%s", e->p.description ? e->p.description : "(null)");
        b->start[i] = e->p.start;
        b->stop[i] = e->p.stop;
    }
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t len;
    char *xml = render(false, &len);
    back_t b = {0};
    epg_xmltv_handler_t h = {.programme = back_programme, .ctx = &b};
    char err[256];
    assert_int_equal(epg_xmltv_parse_mem(xml, len, &h, NULL, err, sizeof(err)), 0);
    assert_int_equal(b.programmes, 3);
    assert_string_equal(b.title[0], "News <& Weather>");
    assert_string_equal(b.desc[0], "Line one.\nLine \"two\".");
    assert_int_equal(b.start[0], programmes[0].start);
    assert_int_equal(b.stop[2], programmes[2].stop);
    assert_string_equal(b.desc[2], "(null)");
    free(xml);
}

static void test_gzip(void **state)
{
    (void)state;
    size_t len;
    char *gz = render(true, &len);
    assert_true(len > 20);
    assert_int_equal((uint8_t)gz[0], 0x1f);
    assert_int_equal((uint8_t)gz[1], 0x8b);
    char out[4096];
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
    z.next_in = (Bytef *)gz;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = sizeof(out);
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0); /* one member, nothing after it */
    assert_int_equal(sizeof(out) - z.avail_out, strlen(expected));
    assert_memory_equal(out, expected, strlen(expected));
    inflateEnd(&z);
    free(gz);
}

/* A guide bigger than a flush, gzip: the pieces join into the same bytes. */
static void test_big(void **state)
{
    (void)state;
    strbuf_t plain, gz;
    strbuf_init(&plain);
    strbuf_init(&gz);
    epg_writer_t *wp, *wg;
    assert_int_equal(epg_writer_new(false, epg_sink_strbuf, &plain, &wp), 0);
    assert_int_equal(epg_writer_new(true, epg_sink_strbuf, &gz, &wg), 0);
    assert_int_equal(epg_writer_channel(wp, &channels[0]), 0);
    assert_int_equal(epg_writer_channel(wg, &channels[0]), 0);
    for (int i = 0; i < 5000; i++) {
        store_programme_t p = programmes[0];
        p.start += i * 3600;
        p.stop += i * 3600;
        assert_int_equal(epg_writer_programme(wp, "one.example", &p), 0);
        assert_int_equal(epg_writer_programme(wg, "one.example", &p), 0);
    }
    assert_int_equal(epg_writer_end(wp), 0);
    assert_int_equal(epg_writer_end(wg), 0);
    assert_true(plain.len > 5000 * 300);
    uLongf n = plain.len + 1;
    char *out = malloc(n);
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
    z.next_in = (Bytef *)gz.data;
    z.avail_in = (uInt)gz.len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)n;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(n - z.avail_out, plain.len);
    assert_memory_equal(out, plain.data, plain.len);
    inflateEnd(&z);
    free(out);
    strbuf_free(&plain);
    strbuf_free(&gz);
}

static int failing_sink(void *ctx, const void *bytes, size_t len)
{
    (void)bytes, (void)len;
    ++*(int *)ctx;
    return -EPIPE;
}

static void test_errors(void **state)
{
    (void)state;
    /* A channel after a programme breaks the DTD's order. */
    strbuf_t out;
    strbuf_init(&out);
    epg_writer_t *w;
    assert_int_equal(epg_writer_new(false, epg_sink_strbuf, &out, &w), 0);
    assert_int_equal(epg_writer_programme(w, "one.example", &programmes[0]), 0);
    assert_int_equal(epg_writer_channel(w, &channels[0]), -EPROTO);
    assert_int_equal(epg_writer_programme(w, "one.example", &programmes[0]), -EPROTO);
    assert_int_equal(epg_writer_end(w), -EPROTO);
    strbuf_free(&out);

    /* Skipped, not written: no title, no channel id, stop before start, a year past 9999. */
    assert_int_equal(epg_writer_new(false, epg_sink_strbuf, &out, &w), 0);
    store_programme_t p = programmes[0];
    p.title = " \t ";
    assert_int_equal(epg_writer_programme(w, "one.example", &p), 0);
    p.title = NULL;
    assert_int_equal(epg_writer_programme(w, "one.example", &p), 0);
    p.title = "\xc2\x85\x01 \n"; /* nothing left once cleaned */
    assert_int_equal(epg_writer_programme(w, "one.example", &p), 0);
    p.title = "ok";
    assert_int_equal(epg_writer_programme(w, "\x02", &p), 0);
    p = programmes[0];
    assert_int_equal(epg_writer_programme(w, "", &p), 0);
    p.stop = p.start - 1;
    assert_int_equal(epg_writer_programme(w, "one.example", &p), 0);
    p = programmes[0];
    p.stop = 253402300800LL;
    assert_int_equal(epg_writer_programme(w, "one.example", &p), 0);
    assert_int_equal(epg_writer_end(w), 0);
    assert_null(strstr(out.data, "<programme"));
    strbuf_free(&out);
    assert_int_equal(epg_writer_new(false, epg_sink_strbuf, &out, &w), 0);
    epg_out_channel_t nameless = {.name = "x", .id = ""};
    assert_int_equal(epg_writer_channel(w, &nameless), 0);
    nameless.id = "\x7f";
    assert_int_equal(epg_writer_channel(w, &nameless), 0);
    epg_out_channel_t untitled = {.name = "x", .id = "x.example", .display_name = "\x01", .icon = " "};
    assert_int_equal(epg_writer_channel(w, &untitled), 0);
    assert_int_equal(epg_writer_end(w), 0);
    assert_string_equal(out.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                  "<!DOCTYPE tv SYSTEM \"xmltv.dtd\">\n"
                                  "<tv generator-info-name=\"antenne\">\n"
                                  "  <channel id=\"x.example\">\n"
                                  "    <display-name>x.example</display-name>\n"
                                  "  </channel>\n"
                                  "</tv>\n");
    strbuf_free(&out);

    /* The sink's error comes back, and nothing more is sent (gzip may
     * hold everything until the end). */
    for (int gzip = 0; gzip < 2; gzip++) {
        int calls = 0;
        assert_int_equal(epg_writer_new(gzip, failing_sink, &calls, &w), 0);
        int rc = 0;
        for (int i = 0; i < 5000 && rc == 0; i++)
            rc = epg_writer_programme(w, "one.example", &programmes[0]);
        assert_true(gzip ? rc == 0 || rc == -EPIPE : rc == -EPIPE);
        assert_int_equal(epg_writer_end(w), -EPIPE);
        assert_int_equal(calls, 1);
    }
    epg_writer_abort(NULL);
}

/* Runs a command on a file, its output kept in a log that is shown when
 * it fails; returns its exit status. */
static int run(const char *fmt, const char *path)
{
    char cmd[1024], log[256];
    snprintf(log, sizeof(log), "%s.log", path);
    int n = snprintf(cmd, sizeof(cmd), fmt, path);
    snprintf(cmd + n, sizeof(cmd) - (size_t)n, " >%s 2>&1", log);
    int status = system(cmd);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (rc != 0) {
        snprintf(cmd, sizeof(cmd), fmt, path);
        print_message("%s: exit %d\n", cmd, rc);
        snprintf(cmd, sizeof(cmd), "cat %s >&2", log);
        (void)!system(cmd);
    }
    unlink(log);
    return rc;
}

static bool have_validators(void)
{
    if (access(XMLTV_DTD, R_OK) == 0 && system("command -v xmllint >/dev/null") == 0 &&
        system("command -v tv_validate_file >/dev/null") == 0)
        return true;
    /* scripts/install-deps.sh --test installs them (libxml2-utils, xmltv-util). */
    print_message("xmllint, tv_validate_file or " XMLTV_DTD " missing: not validated\n");
    return false;
}

/* Both validators accept xml. */
static void validate(const char *xml, size_t len)
{
    char path[] = "/tmp/antenne-test-write-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, xml, len), (ssize_t)len);
    close(fd);
    int xmllint = run("xmllint --noout --dtdvalid " XMLTV_DTD " %s", path);
    int validate = run("tv_validate_file --dtd-file " XMLTV_DTD " %s", path);
    unlink(path);
    assert_int_equal(xmllint, 0);
    assert_int_equal(validate, 0);
}

static void test_validates(void **state)
{
    (void)state;
    if (!have_validators())
        skip();
    size_t len;
    char *xml = render(false, &len);
    validate(xml, len);
    free(xml);
}

/* ---- a guide from the store -------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void add(store_epg_import_t *txn, const char *channel, int64_t start, const char *title)
{
    store_programme_t p = {.channel = channel, .start = start, .stop = start + 1800, .title = title,
                           .description = "Something & more", .episode = "1.2."};
    assert_int_equal(store_epg_add(txn, &p), 0);
}

static void test_guide(void **state)
{
    (void)state;
    char dir[] = "/tmp/antenne-test-guide-XXXXXX";
    assert_non_null(mkdtemp(dir));
    store_t *store;
    char err[256] = "";
    assert_int_equal(store_open(dir, NULL, &store, err, sizeof(err)), 0);
    store_epg_import_t *txn;
    assert_int_equal(store_epg_begin(store, "test", &txn), 0);
    const int64_t t0 = 1795874400;
    for (int i = 0; i < 4; i++) {
        add(txn, "bbc1", t0 + i * 1800, "BBC");
        add(txn, "bbc1hd", t0 + i * 1800, "BBC HD");
        add(txn, "zdf", t0 + i * 1800, "ZDF");
    }
    add(txn, "zdf", t0 + 86400, "ZDF tomorrow");
    add(txn, "other", t0, "Not asked for");
    assert_int_equal(store_epg_commit(txn), 0);

    /* An HD and an SD channel share an id: one <channel>, one set of programmes. */
    const epg_out_channel_t list[] = {
        {.name = "bbc1", .id = "bbc1.uk", .display_name = "BBC One", .icon = "http://logo/bbc1.png"},
        {.name = "bbc1hd", .id = "bbc1.uk", .display_name = "BBC One HD"},
        {.name = "zdf", .id = "zdf.de", .display_name = "ZDF"},
        {.name = "empty", .id = "empty.example", .display_name = "Empty"},
    };
    strbuf_t out;
    strbuf_init(&out);
    assert_int_equal(epg_write_guide(store, list, 4, t0, t0 + 7200, false, epg_sink_strbuf, &out, err, sizeof(err)), 0);
    const char *xml = out.data;
    assert_non_null(strstr(xml, "<channel id=\"bbc1.uk\">\n    <display-name>BBC One</display-name>"));
    assert_null(strstr(xml, "BBC One HD"));
    assert_null(strstr(xml, "<title>BBC HD</title>"));
    /* A channel without programmes in the window is left out (tv_validate_file
     * refuses a guide that lists one). */
    assert_null(strstr(xml, "empty.example"));
    int bbc = 0, zdf = 0;
    for (const char *c = xml; (c = strstr(c, "channel=\"bbc1.uk\"")); c++)
        bbc++;
    for (const char *c = xml; (c = strstr(c, "channel=\"zdf.de\"")); c++)
        zdf++;
    assert_int_equal(bbc, 4);
    assert_int_equal(zdf, 4); /* not tomorrow's */
    assert_null(strstr(xml, "Not asked for"));
    assert_non_null(strstr(xml, "<programme start=\"20261128140000 +0000\" stop=\"20261128143000 +0000\" "
                                "channel=\"bbc1.uk\">\n    <title>BBC</title>\n    <desc>Something &amp; more</desc>"));

    /* The gzip variant inflates to the same bytes. */
    strbuf_t gz;
    strbuf_init(&gz);
    assert_int_equal(epg_write_guide(store, list, 4, t0, t0 + 7200, true, epg_sink_strbuf, &gz, err, sizeof(err)), 0);
    char *plain = malloc(out.len + 1);
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
    z.next_in = (Bytef *)gz.data;
    z.avail_in = (uInt)gz.len;
    z.next_out = (Bytef *)plain;
    z.avail_out = (uInt)out.len + 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(out.len + 1 - z.avail_out, out.len);
    assert_memory_equal(plain, out.data, out.len);
    inflateEnd(&z);
    free(plain);
    strbuf_free(&gz);

    /* tv_validate_file also wants a programme for every channel. */
    if (have_validators()) {
        strbuf_t v;
        strbuf_init(&v);
        assert_int_equal(epg_write_guide(store, list, 3, t0, t0 + 7200, false, epg_sink_strbuf, &v, err, sizeof(err)),
                         0);
        validate(v.data, v.len);
        strbuf_free(&v);
    }

    /* No channels: a valid empty guide; a failing sink: its error. */
    strbuf_free(&out);
    assert_int_equal(epg_write_guide(store, list, 0, t0, t0 + 7200, false, epg_sink_strbuf, &out, err, sizeof(err)), 0);
    assert_non_null(strstr(out.data, "<tv generator-info-name=\"antenne\">\n</tv>\n"));
    strbuf_free(&out);
    int calls = 0;
    assert_int_equal(epg_write_guide(store, list, 3, t0, t0 + 7200, false, failing_sink, &calls, err, sizeof(err)),
                     -EPIPE);
    assert_non_null(strstr(err, "writing the guide"));

    store_close(store);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_big),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_validates),
        cmocka_unit_test(test_guide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
