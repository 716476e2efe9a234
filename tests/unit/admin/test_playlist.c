// SPDX-License-Identifier: MIT
// test_playlist.c -- tests for src/admin/playlist.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "admin/admin.h"
#include "channel/channel.h"

/* A channel as the playlist sees it: its configuration. */
static channel_config_t *make(const char *name, const char *title, int64_t number, const char *group, const char *logo,
                              const char *tvg_id)
{
    channel_config_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    channel_config_defaults(c);
    c->name = strdup(name);
    c->title = title ? strdup(title) : NULL;
    c->number = number;
    c->group = group ? strdup(group) : NULL;
    c->logo = logo ? strdup(logo) : NULL;
    c->tvg_id = tvg_id ? strdup(tvg_id) : NULL;
    strlist_push(&c->sources, "udp://@239.1.1.1:1234");
    return c;
}

static char *render_as(channel_config_t *const *channels, size_t count, const char *base, bool hls)
{
    strbuf_t sb;
    strbuf_init(&sb);
    admin_playlist_t options = {.base_url = base, .hls = hls};
    admin_playlist_m3u((const channel_config_t *const *)channels, count, &options, &sb);
    assert_false(sb.failed);
    return strbuf_steal(&sb, NULL);
}

static char *render(channel_config_t *const *channels, size_t count, const char *base)
{
    return render_as(channels, count, base, false);
}

static void destroy(channel_config_t **channels, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        channel_config_clear(channels[i]);
        free(channels[i]);
    }
}

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return 0;
}

static void test_empty_playlist_is_just_the_header(void **state)
{
    (void)state;
    char *m3u = render(NULL, 0, "http://h:8080");
    assert_string_equal(m3u, "#EXTM3U\n");
    free(m3u);
}

static void test_full_entry_has_every_attribute(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("news", "World News", 5, "News", "http://x/logo.png", "news.example")};
    char *m3u = render(ch, 1, "http://tv.example:8080");
    assert_string_equal(m3u, "#EXTM3U\n"
                             "#EXTINF:-1 tvg-id=\"news.example\" tvg-name=\"World News\" "
                             "tvg-logo=\"http://x/logo.png\" tvg-chno=\"5\" group-title=\"News\",World News\n"
                             "http://tv.example:8080/live/news.ts\n");
    free(m3u);
    destroy(ch, 1);
}

static void test_archived_channels_offer_catch_up(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("news", "World News", 5, "News", "", ""), make("sport", "Sport", 6, "", "", "")};
    ch[0]->archive = true;
    ch[0]->archive_days = 3;
    char *m3u = render(ch, 2, "http://tv.example:8080");
    assert_non_null(strstr(m3u, "group-title=\"News\" catchup=\"append\" catchup-days=\"3\" "
                                "catchup-source=\"?utc={utc}&lutc={lutc}\",World News\n"));
    /* only there */
    assert_null(strstr(strstr(m3u, "Sport"), "catchup"));
    free(m3u);
    destroy(ch, 2);
}

static void test_hls_output_points_at_media_playlists(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("news", "World News", 5, "News", "", "")};
    char *m3u = render_as(ch, 1, "http://tv.example:8080", true);
    assert_non_null(strstr(m3u, "\nhttp://tv.example:8080/live/news/index.m3u8\n"));
    assert_null(strstr(m3u, "news.ts"));
    free(m3u);
    destroy(ch, 1);
}

static void test_missing_values_give_empty_attributes_and_no_number(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("bare", NULL, 0, NULL, NULL, NULL)};
    char *m3u = render(ch, 1, "http://h");
    assert_string_equal(m3u, "#EXTM3U\n"
                             "#EXTINF:-1 tvg-id=\"bare.antenne\" tvg-name=\"bare\" tvg-logo=\"\" group-title=\"\",bare\n"
                             "http://h/live/bare.ts\n");
    free(m3u);
    destroy(ch, 1);
}

static void test_empty_title_falls_back_to_name(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("fallback", "", 0, NULL, NULL, NULL)};
    char *m3u = render(ch, 1, "http://h");
    assert_non_null(strstr(m3u, "tvg-name=\"fallback\""));
    assert_non_null(strstr(m3u, ",fallback\n"));
    free(m3u);
    destroy(ch, 1);
}

static void test_quotes_in_values_do_not_end_attributes(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("q", "The \"Best\" Show", 1, "Kids \"&\" Family", NULL, "a\"b")};
    char *m3u = render(ch, 1, "http://h");
    assert_non_null(strstr(m3u, " tvg-name=\"The 'Best' Show\" "));
    assert_non_null(strstr(m3u, " group-title=\"Kids '&' Family\","));
    assert_non_null(strstr(m3u, " tvg-id=\"a'b\" "));
    /* After the comma the title is plain text and keeps its quotes. */
    assert_non_null(strstr(m3u, ",The \"Best\" Show\n"));
    free(m3u);
    destroy(ch, 1);
}

/* A line break in a title would start a line of its own: an injected URL. */
static void test_line_breaks_cannot_inject_lines(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("nl", "Evil\nhttp://pirate.example/x.ts\r", 1, "G\nx", NULL, NULL)};
    char *m3u = render(ch, 1, "http://h");
    size_t lines = 0;
    for (char *c = m3u; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 3);
    assert_null(strchr(m3u, '\r'));
    assert_non_null(strstr(m3u, ",Evil http://pirate.example/x.ts \n"));
    free(m3u);
    destroy(ch, 1);
}

/* A personal playlist: the token path before /live, and the guide's URL. */
static void test_personal_playlist_prefix_and_epg(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("news", "News", 3, NULL, NULL, "news.tv")};
    strbuf_t sb;
    strbuf_init(&sb);
    admin_playlist_t options = {.base_url = "http://h:1", .path_prefix = "/t/TOKEN", .epg_url =
                                "http://h:1/get/epg.xml.gz?token=TOKEN", .hls = true};
    admin_playlist_m3u((const channel_config_t *const *)ch, 1, &options, &sb);
    assert_string_equal(sb.data, "#EXTM3U x-tvg-url=\"http://h:1/get/epg.xml.gz?token=TOKEN\"\n"
                                 "#EXTINF:-1 tvg-id=\"news.tv\" tvg-name=\"News\" tvg-logo=\"\" tvg-chno=\"3\" "
                                 "group-title=\"\",News\n"
                                 "http://h:1/t/TOKEN/live/news/index.m3u8\n");
    strbuf_free(&sb);
    destroy(ch, 1);
}

static void test_channels_in_given_order(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("zeta", "Z", 2, NULL, NULL, NULL), make("alpha", "A", 1, NULL, NULL, NULL)};
    char *m3u = render(ch, 2, "http://h");
    char *z = strstr(m3u, "/live/zeta.ts"), *a = strstr(m3u, "/live/alpha.ts");
    assert_non_null(z);
    assert_non_null(a);
    assert_true(z < a);
    size_t lines = 0;
    for (char *c = m3u; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 5);
    free(m3u);
    destroy(ch, 2);
}

static void test_appends_to_existing_text(void **state)
{
    (void)state;
    strbuf_t sb;
    strbuf_init(&sb);
    strbuf_puts(&sb, "before\n");
    admin_playlist_t options = {.base_url = "http://h"};
    admin_playlist_m3u(NULL, 0, &options, &sb);
    assert_string_equal(sb.data, "before\n#EXTM3U\n");
    strbuf_free(&sb);
}

static void test_utf8_titles_pass_through(void **state)
{
    (void)state;
    channel_config_t *ch[] = {make("fr", "Télé Été ☀", 3, "Régions", NULL, NULL)};
    char *m3u = render(ch, 1, "http://h");
    assert_non_null(strstr(m3u, "tvg-name=\"Télé Été ☀\""));
    assert_non_null(strstr(m3u, "group-title=\"Régions\",Télé Été ☀\n"));
    free(m3u);
    destroy(ch, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_playlist_is_just_the_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_entry_has_every_attribute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hls_output_points_at_media_playlists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archived_channels_offer_catch_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_values_give_empty_attributes_and_no_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_title_falls_back_to_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quotes_in_values_do_not_end_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channels_in_given_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_breaks_cannot_inject_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_personal_playlist_prefix_and_epg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appends_to_existing_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_titles_pass_through, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
