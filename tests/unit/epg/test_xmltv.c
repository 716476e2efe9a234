// SPDX-License-Identifier: MIT
// test_xmltv.c -- tests for src/epg/xmltv.c: XMLTV times, the streaming
// parser's output, every kind of bad input (each with its line), encodings,
// gzip input and files larger than one read.
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "epg/epg.h"

/* ---- times ------------------------------------------------------------------------ */

static int64_t t_of(const char *text)
{
    int64_t t = 0;
    assert_int_equal(epg_time_parse(text, &t), 0);
    return t;
}

static void test_time_parse(void **state)
{
    (void)state;
    /* Values from Python's calendar.timegm. */
    assert_int_equal(t_of("20261128140000 +0000"), 1795874400);
    assert_int_equal(t_of("20261128140000"), 1795874400);          /* no zone: UTC */
    assert_int_equal(t_of("202611281400"), 1795874400);            /* no seconds */
    assert_int_equal(t_of("202611281400 +0000"), 1795874400);
    assert_int_equal(t_of("20261128140000+0000"), 1795874400);     /* no space */
    assert_int_equal(t_of("  20261128140000 Z "), 1795874400);
    assert_int_equal(t_of("20261128140000 UTC"), 1795874400);
    assert_int_equal(t_of("20261128140000 GMT"), 1795874400);
    assert_int_equal(t_of("20261128140000 +0530"), 1795854600);    /* India */
    assert_int_equal(t_of("20261128140000 -0800"), 1795903200);    /* Pacific */
    assert_int_equal(t_of("20260101003000 +0100"), 1767223800);    /* back into last year */
    assert_int_equal(t_of("20240229120000"), 1709208000);          /* leap day */
    assert_int_equal(t_of("20000229000000"), 951782400);           /* 2000 is a leap year */
    assert_int_equal(t_of("19691231235959"), -1);
    assert_int_equal(t_of("99991231235959 +0000"), 253402300799LL);
    /* The spring-forward night in Europe: 01:30 +0100 and 03:30 +0200 are one hour apart. */
    assert_int_equal(t_of("20260329033000 +0200") - t_of("20260329013000 +0100"), 3600);

    static const char *const bad[] = {
        "", "2026", "20261128", "2026112814", "2026112814000", "202611281400000",
        "20261301000000", "20260001000000", "20261100000000", "20261131000000", "20230229000000",
        "21000229000000", "20261128240000", "20261128146000", "20261128140060", "2026-11-28 14:00",
        "20261128140000 +2400", "20261128140000 +0060", "20261128140000 +01", "20261128140000 CET",
        "20261128140000 BST", "20261128140000 +0100x", "x20261128140000", "20261128140000 ++0100",
        "2026112814000a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t t;
        if (epg_time_parse(bad[i], &t) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

static void test_time_format(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(epg_time_format(1795874400, out, sizeof(out)), 0);
    assert_string_equal(out, "20261128140000 +0000");
    assert_int_equal(epg_time_format(0, out, sizeof(out)), 0);
    assert_string_equal(out, "19700101000000 +0000");
    assert_int_equal(epg_time_format(-1, out, sizeof(out)), 0);
    assert_string_equal(out, "19691231235959 +0000");
    assert_int_equal(epg_time_format(253402300799LL, out, sizeof(out)), 0);
    assert_string_equal(out, "99991231235959 +0000");
    assert_int_equal(epg_time_format(253402300800LL, out, sizeof(out)), -ERANGE);
    assert_string_equal(out, "");
    assert_int_equal(epg_time_format(0, out, 20), -ERANGE);
    /* Round trips over four centuries, a step that is not a day. */
    for (int64_t t = -62167219200LL; t < 253402300799LL; t += 9876543) {
        assert_int_equal(epg_time_format(t, out, sizeof(out)), 0);
        assert_int_equal(t_of(out), t);
    }
}

/* ---- what the parser hands over ----------------------------------------------------- */

typedef struct seen {
    int channels, programmes;
    char ids[8][64];
    char names[8][EPG_NAMES_MAX][64];
    char langs[8][EPG_NAMES_MAX][16];
    size_t name_counts[8];
    char channel_icon[8][128];
    store_programme_t last;
    bool last_has_stop;
    char title[EPG_TEXT_MAX + 1], subtitle[256], desc[EPG_TEXT_MAX + 1], category[256], episode[64], icon[256],
        channel[256];
    int fail_at_programme;   /* > 0: the callback fails on that programme */
} seen_t;

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "(null)");
}

static int on_channel(void *ctx, const epg_channel_t *c, char *err, size_t err_size)
{
    seen_t *s = ctx;
    (void)err, (void)err_size;
    if (s->channels < 8) {
        int i = s->channels;
        copy(s->ids[i], sizeof(s->ids[i]), c->id);
        s->name_counts[i] = c->name_count;
        for (size_t n = 0; n < c->name_count; n++) {
            copy(s->names[i][n], sizeof(s->names[i][n]), c->names[n]);
            copy(s->langs[i][n], sizeof(s->langs[i][n]), c->langs[n]);
        }
        copy(s->channel_icon[i], sizeof(s->channel_icon[i]), c->icon);
    }
    s->channels++;
    return 0;
}

static int on_programme(void *ctx, const epg_programme_t *e, char *err, size_t err_size)
{
    seen_t *s = ctx;
    s->programmes++;
    if (s->fail_at_programme == s->programmes) {
        snprintf(err, err_size, "the store is full");
        return -ENOSPC;
    }
    s->last = e->p;
    s->last_has_stop = e->has_stop;
    copy(s->channel, sizeof(s->channel), e->p.channel);
    copy(s->title, sizeof(s->title), e->p.title);
    copy(s->subtitle, sizeof(s->subtitle), e->p.subtitle);
    copy(s->desc, sizeof(s->desc), e->p.description);
    copy(s->category, sizeof(s->category), e->p.category);
    copy(s->episode, sizeof(s->episode), e->p.episode);
    copy(s->icon, sizeof(s->icon), e->p.icon);
    return 0;
}

static char err[512];

static int parse(const char *xml, seen_t *s)
{
    memset(s, 0, sizeof(*s));
    epg_xmltv_handler_t h = {on_channel, on_programme, s};
    return epg_xmltv_parse_mem(xml, strlen(xml), &h, NULL, err, sizeof(err));
}

static int parse_n(const void *data, size_t size, seen_t *s)
{
    int fail = s->fail_at_programme;
    memset(s, 0, sizeof(*s));
    s->fail_at_programme = fail;
    epg_xmltv_handler_t h = {on_channel, on_programme, s};
    return epg_xmltv_parse_mem(data, size, &h, NULL, err, sizeof(err));
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE tv SYSTEM \"xmltv.dtd\">\n"

static const char good[] = HEAD
    "<tv generator-info-name=\"test\">\n"
    "  <channel id=\"one.example\">\n"
    "    <display-name lang=\"en\">  One  </display-name>\n"
    "    <display-name lang=\"fr\">Un</display-name>\n"
    "    <display-name>1</display-name>\n"
    "    <icon src=\"http://logo/one.png\"/>\n"
    "    <icon src=\"http://logo/second.png\"/>\n"
    "    <url>http://one.example</url>\n"
    "  </channel>\n"
    "  <channel id=\"two.example\"><display-name>Two</display-name></channel>\n"
    "  <programme start=\"20261128140000 +0100\" stop=\"20261128150000 +0100\" channel=\"one.example\">\n"
    "    <title lang=\"en\">\n  News &amp; Weather  \n</title>\n"
    "    <title lang=\"fr\">Nouvelles</title>\n"
    "    <sub-title>Caf&#233; &lt;late&gt; <![CDATA[<edition>]]></sub-title>\n"
    "    <desc lang=\"en\">Line one.\nLine two.</desc>\n"
    "    <credits><actor>Someone</actor></credits>\n"
    "    <category>News</category><category>Weather</category>\n"
    "    <icon src=\" http://img/p.jpg \"/>\n"
    "    <episode-num system=\"onscreen\">S01E02</episode-num>\n"
    "    <episode-num system=\"xmltv_ns\"> 0 . 1/10 . </episode-num>\n"
    "    <rating system=\"x\"><value>12</value><icon src=\"http://img/rating.png\"/></rating>\n"
    "  </programme>\n"
    "  <programme start=\"202611281500\" channel=\"two.example\"><title>Film</title>"
    "<episode-num system=\"xmltv_ns\">S01E02</episode-num></programme>\n"
    "</tv>\n";

static void test_parse_good(void **state)
{
    (void)state;
    seen_t s;
    assert_int_equal(parse(good, &s), 0);
    assert_int_equal(s.channels, 2);
    assert_string_equal(s.ids[0], "one.example");
    assert_int_equal(s.name_counts[0], 3);
    assert_string_equal(s.names[0][0], "One");
    assert_string_equal(s.langs[0][0], "en");
    assert_string_equal(s.names[0][1], "Un");
    assert_string_equal(s.langs[0][1], "fr");
    assert_string_equal(s.names[0][2], "1");
    assert_string_equal(s.langs[0][2], "(null)");
    assert_string_equal(s.channel_icon[0], "http://logo/one.png");
    assert_string_equal(s.ids[1], "two.example");
    assert_string_equal(s.channel_icon[1], "(null)");

    assert_int_equal(s.programmes, 2);
    /* The last one: no stop, an episode-num that is not xmltv_ns. */
    assert_string_equal(s.channel, "two.example");
    assert_string_equal(s.title, "Film");
    assert_int_equal(s.last.start, 1795878000);
    assert_false(s.last_has_stop);
    assert_int_equal(s.last.stop, 0);
    assert_string_equal(s.episode, "(null)");
    assert_string_equal(s.desc, "(null)");
}

/* The first programme, alone. */
static void test_parse_fields(void **state)
{
    (void)state;
    seen_t s;
    s.fail_at_programme = 0;
    const char *end = strstr(good, "  <programme start=\"202611281500\"");
    char *doc = strndup(good, (size_t)(end - good));
    char *full = NULL;
    assert_true(asprintf(&full, "%s</tv>\n", doc) > 0);
    assert_int_equal(parse(full, &s), 0);
    assert_int_equal(s.programmes, 1);
    assert_string_equal(s.channel, "one.example");
    assert_int_equal(s.last.start, 1795874400 - 3600);
    assert_int_equal(s.last.stop, 1795878000 - 3600);
    assert_true(s.last_has_stop);
    assert_string_equal(s.title, "News & Weather");
    assert_string_equal(s.subtitle, "Caf\xc3\xa9 <late> <edition>");
    assert_string_equal(s.desc, "Line one.\nLine two.");
    assert_string_equal(s.category, "News");
    assert_string_equal(s.icon, "http://img/p.jpg");
    assert_string_equal(s.episode, "0 . 1/10 .");
    free(doc);
    free(full);
}

static void test_parse_minimal(void **state)
{
    (void)state;
    seen_t s;
    /* No declaration, no channels, attributes in single quotes. */
    assert_int_equal(parse("<tv><programme channel='x' start='202601010000'><title>T</title></programme></tv>", &s),
                     0);
    assert_int_equal(s.programmes, 1);
    assert_int_equal(parse("<tv/>", &s), 0);
    assert_int_equal(s.programmes, 0);
    /* Unknown elements anywhere are ignored, with their text. */
    assert_int_equal(parse("<tv><foo><programme channel='x' start='202601010000'/></foo>"
                           "<programme channel='x' start='202601010000'><title>T<b>old</b>!</title>"
                           "<whatever><title>no</title></whatever></programme></tv>", &s),
                     0);
    assert_int_equal(s.programmes, 1);
    assert_string_equal(s.title, "T!");
    /* An empty desc counts as none; a channel without display-name is fine. */
    assert_int_equal(parse("<tv><channel id='c'/><programme channel='x' start='202601010000'><title>T</title>"
                           "<desc>  </desc></programme></tv>", &s),
                     0);
    assert_int_equal(s.channels, 1);
    assert_int_equal(s.name_counts[0], 0);
    assert_string_equal(s.desc, "(null)");
    /* Only the first EPG_NAMES_MAX display-names. */
    char doc[2048] = "<tv><channel id='c'>";
    for (int i = 0; i < EPG_NAMES_MAX + 3; i++)
        snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "<display-name>n%d</display-name>", i);
    strcat(doc, "</channel></tv>");
    assert_int_equal(parse(doc, &s), 0);
    assert_int_equal(s.name_counts[0], EPG_NAMES_MAX);
}

/* ---- bad input: each error names its line -------------------------------------------- */

static void expect_error(const char *xml, const char *where, const char *what)
{
    seen_t s;
    int rc = parse(xml, &s);
    if (rc != -EINVAL)
        fail_msg("expected an error for:\n%s\ngot %d", xml, rc);
    if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, what))
        fail_msg("error '%s' should start with '%s' and say '%s'", err, where, what);
}

static void test_bad_xml(void **state)
{
    (void)state;
    /* Malformed XML. */
    expect_error(HEAD "<tv>\n<programme channel=\"a\" start=\"202601010000\">\n<title>x</title>\n",
                 "line 6,", "the file ends inside <programme> opened at line 4");
    expect_error(HEAD "<tv>\n<channel id=\"a\">\n<display-name>A</channel>\n</tv>\n", "line 5,", "mismatched tag");
    expect_error(HEAD "<tv>\n\n<channel id=\"a\" id=\"b\"/>\n</tv>\n", "line 5,", "duplicate attribute");
    expect_error(HEAD "<tv>\n<channel id=\"a\"/>\n</tv>\n<tv/>\n", "line 6,", "junk after document element");
    expect_error(HEAD "<tv>\n<programme channel=a>\n", "line 4,", "not well-formed");
    expect_error("", "line 1,", "no element found");
    expect_error("   \n  \n", "line 3,", "empty or truncated");
    expect_error(HEAD "<tv>\n<title>\x01</title>\n</tv>", "line 4,", "not well-formed");
    expect_error(HEAD "<tv>&#1;</tv>", "line 3,", "reference to invalid character number");
    /* Not XMLTV. */
    expect_error(HEAD "\n<rss/>\n", "line 4, column 1:", "the root element is <rss>, not <tv>");
    /* Nesting. */
    char deep[1024] = "<tv>\n";
    for (int i = 0; i < 70; i++)
        strcat(deep, "<a>");
    expect_error(deep, "line 2,", "nested more than 64 deep");
}

static void test_bad_programmes(void **state)
{
    (void)state;
    expect_error(HEAD "<tv>\n<channel id=\"a\"/>\n\n<programme start=\"2026-13-01 00:00\" channel=\"a\"><title>x</title>"
                      "</programme>\n</tv>\n",
                 "line 6, column 1:", "programme start '2026-13-01 00:00' is not an XMLTV time");
    expect_error(HEAD "<tv>\n<programme start=\"20260101000000\" stop=\"20261301000000\" channel=\"a\">"
                      "<title>x</title></programme>\n</tv>\n",
                 "line 4,", "programme stop '20261301000000' is not an XMLTV time");
    expect_error(HEAD "<tv>\n<programme start=\"20260101000000\" stop=\"20251231000000\" channel=\"a\">"
                      "<title>x</title></programme>\n</tv>\n",
                 "line 4,", "programme stop (20251231000000 +0000) is before its start (20260101000000 +0000)");
    expect_error(HEAD "<tv>\n\n\n<programme start=\"20260101000000\"><title>x</title></programme>\n</tv>\n",
                 "line 6,", "programme has no channel");
    expect_error(HEAD "<tv>\n<programme start=\"20260101000000\" channel=\" \"><title>x</title></programme>\n</tv>\n",
                 "line 4,", "programme has no channel");
    expect_error(HEAD "<tv>\n<programme channel=\"a\"><title>x</title></programme>\n</tv>\n", "line 4,",
                 "programme has no start");
    /* No title: the error points at the programme's start tag. */
    expect_error(HEAD "<tv>\n  <programme start=\"20260101000000\" channel=\"a\">\n<desc>d</desc>\n</programme>\n</tv>\n",
                 "line 4, column 3:", "programme of channel 'a' has no title");
    expect_error(HEAD "<tv>\n<programme start=\"20260101000000\" channel=\"a\"><title> </title></programme>\n</tv>\n",
                 "line 4,", "has no title");
    expect_error(HEAD "<tv>\n<channel>\n<display-name>x</display-name></channel>\n</tv>\n", "line 4,",
                 "channel has no id");
    /* A value too long for a message is cut. */
    char start[200];
    memset(start, '9', sizeof(start) - 1);
    start[sizeof(start) - 1] = '\0';
    char *doc = NULL;
    assert_true(asprintf(&doc, "<tv><programme channel='a' start='%s'/></tv>", start) > 0);
    expect_error(doc, "line 1,", "999...' is not an XMLTV time");
    free(doc);
}

/* head, n times fill, tail: a new string. */
static char *repeat(const char *head, char fill, size_t n, const char *tail)
{
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, head);
    char chunk[4096];
    memset(chunk, fill, sizeof(chunk));
    for (size_t done = 0; done < n; done += sizeof(chunk))
        strbuf_append(&sb, chunk, MIN(sizeof(chunk), n - done));
    strbuf_puts(&sb, tail);
    assert_false(sb.failed);
    return strbuf_steal(&sb, NULL);
}

static void test_bad_lengths(void **state)
{
    (void)state;
    size_t n = EPG_TEXT_MAX + 1;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    char *doc = NULL;
    /* Exactly the limit is fine, one more is not. */
    assert_true(asprintf(&doc, "<tv>\n<programme channel='a' start='202601010000'><title>%s</title></programme></tv>",
                         big + 1) > 0);
    seen_t s;
    assert_int_equal(parse(doc, &s), 0);
    assert_int_equal(strlen(s.title), EPG_TEXT_MAX);
    free(doc);
    assert_true(asprintf(&doc, "<tv>\n<programme channel='a' start='202601010000'>\n<title>%s</title></programme></tv>",
                         big) > 0);
    expect_error(doc, "line 3,", "programme title is longer than 8192 bytes");
    free(doc);
    assert_true(asprintf(&doc, "<tv>\n<programme channel='a' start='202601010000'><title>t</title>\n<desc>%s</desc>"
                               "</programme></tv>",
                         big) > 0);
    expect_error(doc, "line 3,", "programme desc is longer than 8192 bytes");
    free(doc);
    assert_true(asprintf(&doc, "<tv>\n<channel id='a'><display-name>%s</display-name></channel></tv>", big) > 0);
    expect_error(doc, "line 2,", "channel display-name is longer than 8192 bytes");
    free(doc);
    assert_true(asprintf(&doc, "<tv>\n<channel id='a'><icon src='%s'/></channel></tv>", big) > 0);
    expect_error(doc, "line 2,", "channel icon src is longer than 8192 bytes");
    free(doc);
    big[EPG_ID_MAX + 1] = '\0';
    assert_true(asprintf(&doc, "<tv>\n\n<channel id='%s'/></tv>", big) > 0);
    expect_error(doc, "line 3,", "channel id is longer than 255 bytes");
    free(doc);
    assert_true(asprintf(&doc, "<tv>\n<programme channel='%s' start='202601010000'/></tv>", big) > 0);
    expect_error(doc, "line 2,", "programme channel is longer than 255 bytes");
    free(doc);
    big[EPG_ID_MAX] = '\0';
    assert_true(asprintf(&doc, "<tv><channel id='%s'/></tv>", big) > 0);
    assert_int_equal(parse(doc, &s), 0);
    free(doc);
    free(big);

    /* One tag, comment or declaration may not take more than 1 MiB. */
    size_t huge = 3u << 20;
    char *blob = repeat("<tv>\n<!--", 'x', huge, "--></tv>");
    expect_error(blob, "line 2,", "a single tag, comment or declaration is longer than 1048576 bytes");
    free(blob);
    blob = repeat("<tv>\n\n<x a='", 'x', huge, "'/></tv>");
    expect_error(blob, "line 3,", "longer than 1048576 bytes");
    free(blob);
    /* Long text outside the fields kept is streamed, not held. */
    blob = repeat("<tv><x>", 'x', huge, "</x></tv>");
    assert_int_equal(parse(blob, &s), 0);
    free(blob);
}

static void test_entities(void **state)
{
    (void)state;
    /* Billion laughs: refused at the first declaration, nothing expanded. */
    const char *lol = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE tv [\n"
                      "  <!ENTITY lol \"lol\">\n"
                      "  <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                      "  <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
                      "  <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
                      "  <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
                      "  <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
                      "  <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
                      "  <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
                      "  <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
                      "  <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
                      "]>\n"
                      "<tv><programme channel=\"a\" start=\"202601010000\"><title>&lol9;</title></programme></tv>\n";
    expect_error(lol, "line 3,", "entity declarations are refused (<!ENTITY lol>)");
    /* External entities: refused at the declaration too, never fetched. */
    expect_error("<!DOCTYPE tv [\n<!ENTITY ext SYSTEM \"file:///etc/passwd\">\n]>\n<tv>&ext;</tv>", "line 2,",
                 "<!ENTITY ext>");
    expect_error("<!DOCTYPE tv [\n<!ENTITY % pe SYSTEM \"http://example.com/x.dtd\"> %pe;\n]>\n<tv/>", "line 2,",
                 "<!ENTITY % pe>");
    /* An undeclared entity: an error whether or not there is an external DTD. */
    expect_error(HEAD "<tv>\n<programme channel=\"a\" start=\"202601010000\"><title>&nbsp;</title></programme></tv>",
                 "line 4,", "entity '&nbsp;' is not defined");
    expect_error("<tv>\n&nbsp;</tv>", "line 2,", "undefined entity");
    /* Other declarations are harmless, up to a point. */
    seen_t s;
    assert_int_equal(parse("<!DOCTYPE tv [\n<!ELEMENT tv ANY>\n<!ATTLIST tv date CDATA #IMPLIED>\n]>\n<tv/>", &s), 0);
    strbuf_t doc;
    strbuf_init(&doc);
    strbuf_puts(&doc, "<!DOCTYPE tv [\n");
    for (int i = 0; i < 1001; i++)
        strbuf_printf(&doc, "<!ELEMENT e%d ANY>\n", i);
    strbuf_puts(&doc, "]>\n<tv/>");
    expect_error(doc.data, "line 1002,", "more than 1000 declarations");
    strbuf_free(&doc);
}

static void test_callback_error(void **state)
{
    (void)state;
    seen_t s = {.fail_at_programme = 2};
    const char *doc = "<tv>\n<programme channel='a' start='202601010000'><title>1</title></programme>\n"
                      "  <programme channel='b' start='202601010000'><title>2</title></programme>\n"
                      "<programme channel='c' start='202601010000'><title>3</title></programme>\n</tv>";
    assert_int_equal(parse_n(doc, strlen(doc), &s), -ENOSPC);
    assert_string_equal(err, "line 3, column 3: programme of channel 'b': the store is full");
    assert_int_equal(s.programmes, 2); /* nothing after the failure */
}

/* ---- encodings ----------------------------------------------------------------------------- */

static void test_encodings(void **state)
{
    (void)state;
    seen_t s;
    /* ISO-8859-1: é is one byte in, two bytes of UTF-8 out. */
    assert_int_equal(parse("<?xml version='1.0' encoding='ISO-8859-1'?>\n<tv><programme channel='a' "
                           "start='202601010000'><title>Caf\xe9</title></programme></tv>", &s),
                     0);
    assert_string_equal(s.title, "Caf\xc3\xa9");
    /* windows-1252: 0x80 is the euro sign; 0x81 means nothing. */
    assert_int_equal(parse("<?xml version='1.0' encoding='windows-1252'?>\n<tv><programme channel='a' "
                           "start='202601010000'><title>5 \x80 \x93q\x94</title></programme></tv>", &s),
                     0);
    assert_string_equal(s.title, "5 \xe2\x82\xac \xe2\x80\x9cq\xe2\x80\x9d");
    expect_error("<?xml version='1.0' encoding='windows-1252'?>\n<tv>\x81</tv>", "line 2,", "not well-formed");
    /* ISO-8859-15: 0xA4 is the euro sign there. */
    assert_int_equal(parse("<?xml version='1.0' encoding='iso-8859-15'?>\n<tv><programme channel='a' "
                           "start='202601010000'><title>\xa4</title></programme></tv>", &s),
                     0);
    assert_string_equal(s.title, "\xe2\x82\xac");
    /* UTF-16LE with a byte order mark. */
    const char *ascii = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><tv><programme channel=\"a\" "
                        "start=\"202601010000\"><title>T\xe9</title></programme></tv>";
    size_t n = strlen(ascii);
    uint8_t *utf16 = malloc(2 * n + 2);
    utf16[0] = 0xFF, utf16[1] = 0xFE;
    for (size_t i = 0; i < n; i++)
        utf16[2 + 2 * i] = (uint8_t)ascii[i], utf16[3 + 2 * i] = 0;
    s.fail_at_programme = 0;
    assert_int_equal(parse_n(utf16, 2 * n + 2, &s), 0);
    assert_string_equal(s.title, "T\xc3\xa9");
    /* UTF-16BE without a declaration of its own, found by its BOM. */
    utf16[0] = 0xFE, utf16[1] = 0xFF;
    for (size_t i = 0; i < n; i++)
        utf16[2 + 2 * i] = 0, utf16[3 + 2 * i] = (uint8_t)ascii[i];
    assert_int_equal(parse_n(utf16, 2 * n + 2, &s), 0);
    assert_string_equal(s.title, "T\xc3\xa9");
    free(utf16);
    /* Unknown and wrong encodings. */
    expect_error("<?xml version=\"1.0\" encoding=\"KOI8-R\"?>\n<tv/>", "line 1,", "encoding 'KOI8-R' is not supported");
    expect_error("<?xml version=\"1.0\" encoding=\"bogus\"?>\n<tv/>", "line 1,", "encoding 'bogus' is not supported");
    expect_error("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tv>\n<programme channel=\"a\" start=\"202601010000\">"
                 "<title>Caf\xe9</title></programme></tv>",
                 "line 3,", "bytes that are not UTF-8");
    /* A UTF-16 byte order mark on a file that declares UTF-8. */
    const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><tv/>";
    n = strlen(decl);
    utf16 = malloc(2 * n + 2);
    utf16[0] = 0xFF, utf16[1] = 0xFE;
    for (size_t i = 0; i < n; i++)
        utf16[2 + 2 * i] = (uint8_t)decl[i], utf16[3 + 2 * i] = 0;
    assert_int_equal(parse_n(utf16, 2 * n + 2, &s), -EINVAL);
    assert_non_null(strstr(err, "the encoding declared (UTF-8) is not the file's"));
    free(utf16);
}

/* ---- gzip and files -------------------------------------------------------------------------- */

static void gzip_append(strbuf_t *out, const char *data, size_t len)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len) + 64;
    uint8_t *buf = malloc(cap);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    strbuf_append(out, (const char *)buf, cap - z.avail_out);
    deflateEnd(&z);
    free(buf);
}

/* A guide of n programmes, each about 300 bytes. */
static void make_guide(strbuf_t *out, int n)
{
    strbuf_puts(out, HEAD "<tv>\n<channel id=\"a.example\"><display-name>A</display-name></channel>\n");
    for (int i = 0; i < n; i++)
        strbuf_printf(out, "<programme start=\"%lld +0000\" stop=\"%lld +0000\" channel=\"a.example\">"
                           "<title>Programme %d</title><desc>A description that makes the programme take a few "
                           "hundred bytes, so that a thousand of them cross several 64 KiB reads; %d.</desc>"
                           "</programme>\n",
                      20260101000000LL + i % 24 * 10000, 20260101000000LL + i % 24 * 10000 + 3000, i, i);
    strbuf_puts(out, "</tv>\n");
}

static void test_gzip(void **state)
{
    (void)state;
    strbuf_t xml, gz;
    strbuf_init(&xml);
    strbuf_init(&gz);
    make_guide(&xml, 3000);
    gzip_append(&gz, xml.data, xml.len);
    seen_t s = {0};
    epg_xmltv_handler_t h = {on_channel, on_programme, &s};
    epg_xmltv_stats_t st;
    assert_int_equal(epg_xmltv_parse_mem(gz.data, gz.len, &h, &st, err, sizeof(err)), 0);
    assert_int_equal(s.programmes, 3000);
    assert_string_equal(s.title, "Programme 2999");
    assert_int_equal(st.bytes_in, gz.len);
    assert_int_equal(st.bytes_xml, xml.len);
    assert_int_equal(st.programmes, 3000);
    assert_int_equal(st.channels, 1);

    /* The same from a file descriptor, plain and gzip. */
    char path[] = "/tmp/antenne-test-xmltv-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, gz.data, gz.len), (ssize_t)gz.len);
    lseek(fd, 0, SEEK_SET);
    memset(&s, 0, sizeof(s));
    assert_int_equal(epg_xmltv_parse_fd(fd, &h, &st, err, sizeof(err)), 0);
    assert_int_equal(s.programmes, 3000);
    assert_int_equal(st.bytes_in, gz.len);
    assert_int_equal(ftruncate(fd, 0), 0);
    lseek(fd, 0, SEEK_SET);
    assert_int_equal(write(fd, xml.data, xml.len), (ssize_t)xml.len);
    lseek(fd, 0, SEEK_SET);
    memset(&s, 0, sizeof(s));
    assert_int_equal(epg_xmltv_parse_fd(fd, &h, &st, err, sizeof(err)), 0);
    assert_int_equal(s.programmes, 3000);
    assert_int_equal(st.bytes_in, xml.len);
    assert_int_equal(st.bytes_xml, xml.len);
    close(fd);

    /* Truncated and corrupt gzip. */
    assert_int_equal(parse_n(gz.data, gz.len / 2, &s), -EINVAL);
    assert_non_null(strstr(err, "the gzip data ends early"));
    gz.data[gz.len / 2] ^= 0x55;
    gz.data[gz.len / 2 + 1] ^= 0x55;
    assert_int_equal(parse_n(gz.data, gz.len, &s), -EINVAL);
    assert_true(strstr(err, "gzip data is corrupt") || strstr(err, "not well-formed") || strstr(err, "line"));
    assert_int_equal(parse_n("\x1f\x8b", 2, &s), -EINVAL);

    /* Two members, as `cat a.gz b.gz` makes; what follows the last is ignored. */
    strbuf_free(&gz);
    strbuf_init(&gz);
    gzip_append(&gz, xml.data, xml.len / 2);
    gzip_append(&gz, xml.data + xml.len / 2, xml.len - xml.len / 2);
    strbuf_append(&gz, "\0\0\0\0", 4);
    assert_int_equal(parse_n(gz.data, gz.len, &s), 0);
    assert_int_equal(s.programmes, 3000);

    /* An error deep in a big file names its line. */
    size_t at = xml.len - 200;
    while (xml.data[at] != '\n')
        at--;
    memcpy(xml.data + at + 1, "<programme channel=\"a.example\" start=\"x\">", 41);
    assert_int_equal(parse_n(xml.data, xml.len, &s), -EINVAL);
    assert_non_null(strstr(err, "line 3004, column 1: programme start 'x' is not an XMLTV time"));
    strbuf_free(&xml);
    strbuf_free(&gz);
}

/* Writes the pieces to a pipe with pauses between them, so that reads
 * end where the pieces do; returns the reading end. */
static int pipe_pieces(const strbuf_t *data, const size_t *cuts, size_t count)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        size_t at = 0;
        for (size_t i = 0; i <= count; i++) {
            size_t end = i < count ? cuts[i] : data->len;
            if (write(fds[1], data->data + at, end - at) != (ssize_t)(end - at))
                _exit(1);
            at = end;
            usleep(30000);
        }
        _exit(0);
    }
    close(fds[1]);
    return fds[0];
}

static void test_gzip_pipe(void **state)
{
    (void)state;
    strbuf_t xml, gz;
    strbuf_init(&xml);
    strbuf_init(&gz);
    make_guide(&xml, 50);
    gzip_append(&gz, xml.data, xml.len / 2);
    size_t member = gz.len;
    gzip_append(&gz, xml.data + xml.len / 2, xml.len - xml.len / 2);
    /* The first magic byte alone, then a member that ends one byte into the next. */
    const size_t cuts[] = {1, member + 1};
    int fd = pipe_pieces(&gz, cuts, 2);
    seen_t s = {0};
    epg_xmltv_handler_t h = {on_channel, on_programme, &s};
    epg_xmltv_stats_t st;
    assert_int_equal(epg_xmltv_parse_fd(fd, &h, &st, err, sizeof(err)), 0);
    close(fd);
    assert_int_equal(s.programmes, 50);
    assert_int_equal(st.bytes_in, gz.len);
    assert_int_equal(st.bytes_xml, xml.len);
    int status;
    wait(&status);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    strbuf_free(&xml);
    strbuf_free(&gz);
}

static void test_read_error(void **state)
{
    (void)state;
    seen_t s;
    epg_xmltv_handler_t h = {on_channel, on_programme, &s};
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    /* A write-only descriptor cannot be read. */
    assert_int_equal(epg_xmltv_parse_fd(fds[1], &h, NULL, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "read error"));
    close(fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_parse_minimal),
        cmocka_unit_test(test_bad_xml),
        cmocka_unit_test(test_bad_programmes),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_callback_error),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_gzip_pipe),
        cmocka_unit_test(test_read_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
