// SPDX-License-Identifier: MIT
// cli.c -- the command line: `antenne serve` and `antenne channel ...`.
// Channel options come from the channel field table, so the CLI, the store
// and the API always agree on what a channel has. The CLI writes the
// database directly; a running server picks the change up within a second.
#include "admin/admin.h"
#include "app/app_private.h"
#include "channel/channel.h"
#include "core/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 1
#define EXIT_INTERNAL 2

typedef struct cli {
    const char *data_dir;
    const char *db_url;
    int argc;
    char **argv;
} cli_t;

static void print_version(void) { printf("antenne %s\n", ANTENNE_VERSION); }

static void print_usage(FILE *out)
{
    fprintf(out,
            "antenne %s -- IPTV headend and delivery platform\n\n"
            "usage: antenne [--data DIR] <command> [options]\n\n"
            "commands:\n"
            "  serve                 run the server\n"
            "  channel add|list|show|set|rm   manage channels\n\n"
            "options:\n"
            "  --data DIR            data folder (default ./var, or $ANTENNE_DATA)\n"
            "  --db URL              database: postgres://... for a fleet, or sqlite:PATH\n"
            "                        (default: antenne.db in the data folder, or $ANTENNE_DB)\n"
            "  --version             print the version\n"
            "  -h, --help            this help; `antenne <command> --help` for a command's\n",
            ANTENNE_VERSION);
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("antenne: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* The CLI flag of a field: name with '-' for '_'; lists take one value per
 * flag, so their flag is the singular (--source for sources). */
static void field_flag(const field_t *field, char *out, size_t size)
{
    snprintf(out, size, "--%s", field->name);
    for (char *c = out; *c; c++)
        if (*c == '_')
            *c = '-';
    size_t len = strlen(out);
    if (field->type == FIELD_STRINGS && len > 3 && out[len - 1] == 's')
        out[len - 1] = '\0';
}

static void print_channel_options(FILE *out)
{
    for (size_t i = 1; i < channel_field_count; i++) {
        const field_t *f = &channel_fields[i];
        char flag[64];
        field_flag(f, flag, sizeof(flag));
        const char *arg = f->type == FIELD_BOOL ? "" : f->type == FIELD_INT ? " N" : " VALUE";
        char left[96];
        snprintf(left, sizeof(left), "%s%s", flag, arg);
        fprintf(out, "  %-22s %s", left, f->help);
        if (f->type == FIELD_ENUM) {
            fputs(" (", out);
            for (int c = 0; f->choices[c]; c++)
                fprintf(out, "%s%s", c ? "|" : "", f->choices[c]);
            fputs(")", out);
        }
        if (f->type == FIELD_BOOL)
            fprintf(out, " (--no-%s to unset)", flag + 2);
        fputc('\n', out);
    }
}

static void print_channel_usage(FILE *out)
{
    fprintf(out,
            "usage: antenne [--data DIR] channel <add|list|show|set|rm> ...\n\n"
            "  channel add NAME --source URL [options]   add a channel\n"
            "  channel list [--json]                     list channels\n"
            "  channel show NAME [--json]                show one channel\n"
            "  channel set NAME [options]                change a channel (--source replaces the list)\n"
            "  channel rm NAME                           remove a channel\n\n"
            "options:\n");
    print_channel_options(out);
    fprintf(out, "\nsource URLs: udp://[@]HOST:PORT[?iface=IF&source=ADDR&program=N], rtp://..., \n"
                 "             http://HOST[:PORT]/PATH[#program=N], file:///PATH.ts, file:///FOLDER/\n"
                 "A running server applies changes within a second.\n");
}

/* Applies --flag value options to a channel config. `replace_lists`: the
 * first value of a list field clears what was there (channel set). */
static int parse_channel_options(int argc, char **argv, channel_config_t *config, bool replace_lists)
{
    bool cleared[32] = {false};
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0)
            return fail(EXIT_USAGE, "unexpected argument '%s' (options start with --)", arg);
        char name[64];
        const char *eq = strchr(arg, '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
        const field_t *field = NULL;
        bool negate = false;
        for (size_t f = 1; f < channel_field_count && !field; f++) {
            char flag[64];
            field_flag(&channel_fields[f], flag, sizeof(flag));
            if (!strcmp(flag, name))
                field = &channel_fields[f];
            else if (channel_fields[f].type == FIELD_BOOL && !strncmp(name, "--no-", 5) && !strcmp(flag + 2, name + 5)) {
                field = &channel_fields[f];
                negate = true;
            }
        }
        if (!field)
            return fail(EXIT_USAGE, "unknown option '%s' (see antenne channel --help)", name);
        const char *value;
        if (field->type == FIELD_BOOL && !eq) {
            value = negate ? "false" : "true";
        } else if (eq) {
            value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return fail(EXIT_USAGE, "%s needs a value", name);
            value = argv[++i];
        }
        size_t index = (size_t)(field - channel_fields);
        if (field->type == FIELD_STRINGS && replace_lists && !cleared[index]) {
            strlist_clear((strlist_t *)((char *)config + field->offset));
            cleared[index] = true;
        }
        char err[512];
        if (fields_set(field, config, value, err, sizeof(err)) < 0) {
            /* Name the flag the user typed, not the internal field. */
            const char *colon = strchr(err, ':');
            return fail(EXIT_USAGE, "%s:%s", name, colon ? colon + 1 : err);
        }
    }
    return 0;
}

static int open_store(cli_t *cli, store_t **store)
{
    char err[512];
    if (store_open(cli->data_dir, cli->db_url, store, err, sizeof(err)) < 0)
        return fail(EXIT_INTERNAL, "%s", err);
    return 0;
}

static int store_error(store_t *store, int rc, const char *name)
{
    if (rc == -EEXIST)
        return fail(EXIT_USAGE, "channel '%s' already exists", name);
    if (rc == -ENOENT)
        return fail(EXIT_USAGE, "channel '%s' not found", name);
    return fail(EXIT_INTERNAL, "database: %s", store_last_error(store));
}

static void print_channel(const channel_config_t *c, bool json)
{
    if (json) {
        json_t *obj = admin_object_json(channel_fields, channel_field_count, c);
        char *text = json_dumps(obj, JSON_INDENT(2));
        json_decref(obj);
        if (text)
            puts(text);
        free(text);
        return;
    }
    for (size_t i = 0; i < channel_field_count; i++) {
        const field_t *f = &channel_fields[i];
        const void *p = (const char *)c + f->offset;
        printf("%-13s ", f->name);
        switch (f->type) {
        case FIELD_STRING:
            printf("%s\n", *(char *const *)p ? *(char *const *)p : "");
            break;
        case FIELD_INT:
            printf("%lld\n", (long long)*(const int64_t *)p);
            break;
        case FIELD_BOOL:
            printf("%s\n", *(const bool *)p ? "yes" : "no");
            break;
        case FIELD_ENUM:
            printf("%s\n", f->choices[*(const int *)p]);
            break;
        case FIELD_STRINGS: {
            const strlist_t *list = p;
            for (size_t j = 0; j < list->count; j++)
                printf("%s%s\n", j ? "              " : "", list->items[j]);
            if (!list->count)
                putchar('\n');
            break;
        }
        }
    }
}

static int cmd_channel_add(cli_t *cli, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "channel add: missing NAME (antenne channel add NAME --source URL)");
    channel_config_t config;
    channel_config_defaults(&config);
    char err[512];
    int code = 0;
    if (fields_set(&channel_fields[0], &config, argv[0], err, sizeof(err)) < 0)
        code = fail(EXIT_USAGE, "%s", err);
    if (!code)
        code = parse_channel_options(argc - 1, argv + 1, &config, false);
    if (!code && !config.title)
        code = fields_set(&channel_fields[1], &config, config.name, err, sizeof(err)) < 0 ? EXIT_INTERNAL : 0;
    if (!code && channel_config_validate(&config, err, sizeof(err)) < 0)
        code = fail(EXIT_USAGE, "%s", err);
    store_t *store = NULL;
    if (!code)
        code = open_store(cli, &store);
    if (!code) {
        int rc = store_insert(store, app_channel_kind(), &config);
        if (rc < 0)
            code = store_error(store, rc, config.name);
        else
            printf("channel %s added\n", config.name);
    }
    store_close(store);
    channel_config_clear(&config);
    return code;
}

static int cmd_channel_set(cli_t *cli, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "channel set: missing NAME");
    if (!parse_name_valid(argv[0]))
        return fail(EXIT_USAGE, "channel '%s' not found", argv[0]);
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    channel_config_t config;
    channel_config_defaults(&config);
    int rc = store_get(store, app_channel_kind(), argv[0], &config);
    if (rc < 0) {
        code = store_error(store, rc, argv[0]);
    } else {
        char err[512];
        code = parse_channel_options(argc - 1, argv + 1, &config, true);
        if (!code && channel_config_validate(&config, err, sizeof(err)) < 0)
            code = fail(EXIT_USAGE, "%s", err);
        if (!code && (rc = store_update(store, app_channel_kind(), &config)) < 0)
            code = store_error(store, rc, argv[0]);
        if (!code)
            printf("channel %s updated\n", config.name);
    }
    channel_config_clear(&config);
    store_close(store);
    return code;
}

static int cmd_channel_show(cli_t *cli, int argc, char **argv)
{
    bool json = argc > 1 && !strcmp(argv[1], "--json");
    if (argc < 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "channel show: missing NAME");
    if (argc > (json ? 2 : 1))
        return fail(EXIT_USAGE, "channel show: unexpected argument '%s'", argv[json ? 2 : 1]);
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    channel_config_t config;
    channel_config_defaults(&config);
    int rc = parse_name_valid(argv[0]) ? store_get(store, app_channel_kind(), argv[0], &config) : -ENOENT;
    if (rc < 0)
        code = store_error(store, rc, argv[0]);
    else
        print_channel(&config, json);
    channel_config_clear(&config);
    store_close(store);
    return code;
}

static int cmd_channel_list(cli_t *cli, int argc, char **argv)
{
    bool json = argc > 0 && !strcmp(argv[0], "--json");
    if (argc > (json ? 1 : 0))
        return fail(EXIT_USAGE, "channel list: unexpected argument '%s'", argv[json ? 1 : 0]);
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    void *list;
    size_t count;
    int rc = store_list(store, app_channel_kind(), &list, &count);
    if (rc < 0) {
        code = store_error(store, rc, "");
        store_close(store);
        return code;
    }
    channel_config_t *channels = list;
    if (json) {
        json_t *array = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(array, admin_object_json(channel_fields, channel_field_count, &channels[i]));
        json_t *doc = json_pack("{so}", "channels", array);
        char *text = json_dumps(doc, JSON_INDENT(2));
        json_decref(doc);
        if (text)
            puts(text);
        free(text);
    } else {
        printf("%-20s %6s  %-24s %s\n", "NAME", "NUMBER", "TITLE", "SOURCE");
        for (size_t i = 0; i < count; i++)
            printf("%-20s %6lld  %-24s %s%s\n", channels[i].name, (long long)channels[i].number,
                   channels[i].title ? channels[i].title : "", channels[i].sources.count ? channels[i].sources.items[0] : "",
                   channels[i].on_demand ? "  (on demand)" : "");
    }
    store_free_list(app_channel_kind(), list, count);
    store_close(store);
    return 0;
}

static int cmd_channel_rm(cli_t *cli, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "channel rm: give exactly one NAME");
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    int rc = parse_name_valid(argv[0]) ? store_delete(store, app_channel_kind(), argv[0]) : -ENOENT;
    if (rc < 0)
        code = store_error(store, rc, argv[0]);
    else
        printf("channel %s removed\n", argv[0]);
    store_close(store);
    return code;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

static int cmd_channel(cli_t *cli, int argc, char **argv)
{
    if (argc < 1 || wants_help(argc, argv)) {
        print_channel_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : 0;
    }
    static const struct {
        const char *name;
        int (*run)(cli_t *, int, char **);
    } commands[] = {
        {"add", cmd_channel_add},   {"list", cmd_channel_list}, {"ls", cmd_channel_list},
        {"show", cmd_channel_show}, {"set", cmd_channel_set},   {"rm", cmd_channel_rm},
    };
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (!strcmp(argv[0], commands[i].name))
            return commands[i].run(cli, argc - 1, argv + 1);
    return fail(EXIT_USAGE, "unknown channel command '%s' (add, list, show, set, rm)", argv[0]);
}

static void print_serve_usage(FILE *out)
{
    fprintf(out, "usage: antenne [--data DIR] serve [options]\n\n"
                 "  --listen ADDR:PORT    HTTP address (default 127.0.0.1:8080, or $ANTENNE_LISTEN);\n"
                 "                        0.0.0.0:8080 for every interface, [::]:8080 for IPv6\n"
                 "  --log-level LEVEL     debug, info, warn or error (default info)\n"
                 "  --ring-mb N           history kept per channel, MiB (default 8)\n"
                 "  --flush-ms N          how often viewers are looked at (default 50)\n"
                 "  --batch-kb N          write a viewer once N KiB are pending (default 64)...\n"
                 "  --batch-ms N          ...or its oldest unsent byte is N ms old (default 200)\n");
}

static int parse_listen(const char *text, app_options_t *options, char *host, size_t host_size)
{
    const char *colon = strrchr(text, ':');
    if (!colon)
        return -EINVAL;
    const char *h = text;
    size_t hlen = (size_t)(colon - text);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= host_size)
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    uint64_t port;
    if (parse_u64(colon + 1, 1, 65535, &port) < 0)
        return -EINVAL;
    options->listen_host = host;
    options->listen_port = (uint16_t)port;
    return 0;
}

static int cmd_serve(cli_t *cli, int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        print_serve_usage(stdout);
        return 0;
    }
    static char host[256];
    app_options_t options = {cli->data_dir, cli->db_url, "127.0.0.1", 8080, 8u * 1024u * 1024u, 50, 64u * 1024u, 200, 500};
    const char *listen = getenv("ANTENNE_LISTEN");
    if (listen && parse_listen(listen, &options, host, sizeof(host)) < 0)
        return fail(EXIT_USAGE, "ANTENNE_LISTEN: '%s' is not ADDR:PORT", listen);
    /* Every serve option takes a value: they come in pairs. */
    for (int i = 0; i < argc; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (!strcmp(argv[i], "--listen") && value) {
            if (parse_listen(value, &options, host, sizeof(host)) < 0)
                return fail(EXIT_USAGE, "--listen: '%s' is not ADDR:PORT", value);
        } else if (!strcmp(argv[i], "--log-level") && value) {
            log_level_t level;
            if (log_level_parse(value, &level) < 0)
                return fail(EXIT_USAGE, "--log-level: '%s' is not debug, info, warn or error", value);
            log_set_level(level);
        } else if (!strcmp(argv[i], "--ring-mb") && value) {
            if (parse_u64(value, 1, 1024, &n) < 0)
                return fail(EXIT_USAGE, "--ring-mb: '%s' is not a number from 1 to 1024", value);
            options.ring_bytes = (uint32_t)(n * 1024u * 1024u);
        } else if (!strcmp(argv[i], "--flush-ms") && value) {
            if (parse_u64(value, 1, 1000, &n) < 0)
                return fail(EXIT_USAGE, "--flush-ms: '%s' is not a number from 1 to 1000", value);
            options.flush_ms = (uint32_t)n;
        } else if (!strcmp(argv[i], "--batch-kb") && value) {
            if (parse_u64(value, 0, 4096, &n) < 0)
                return fail(EXIT_USAGE, "--batch-kb: '%s' is not a number from 0 to 4096", value);
            options.batch_bytes = (uint32_t)(n * 1024u);
        } else if (!strcmp(argv[i], "--batch-ms") && value) {
            if (parse_u64(value, 0, 5000, &n) < 0)
                return fail(EXIT_USAGE, "--batch-ms: '%s' is not a number from 0 to 5000", value);
            options.batch_max_ms = (uint32_t)n;
        } else {
            print_serve_usage(stderr);
            return fail(EXIT_USAGE, "serve: unknown or incomplete option '%s'", argv[i]);
        }
    }
    return app_serve(&options);
}

int app_main(int argc, char **argv)
{
    cli_t cli = {0};
    cli.data_dir = getenv("ANTENNE_DATA") ? getenv("ANTENNE_DATA") : "./var";
    cli.db_url = getenv("ANTENNE_DB");
    /* Global options may come before the command, or after it. */
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    if (!rest)
        return EXIT_INTERNAL;
    int count = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data")) {
            if (i + 1 >= argc) {
                free(rest);
                return fail(EXIT_USAGE, "--data needs a folder");
            }
            cli.data_dir = argv[++i];
        } else if (!strncmp(argv[i], "--data=", 7)) {
            cli.data_dir = argv[i] + 7;
        } else if (!strcmp(argv[i], "--db")) {
            if (i + 1 >= argc) {
                free(rest);
                return fail(EXIT_USAGE, "--db needs a database URL");
            }
            cli.db_url = argv[++i];
        } else if (!strncmp(argv[i], "--db=", 5)) {
            cli.db_url = argv[i] + 5;
        } else {
            rest[count++] = argv[i];
        }
    }
    int code;
    if (count == 0) {
        print_usage(stderr);
        code = EXIT_USAGE;
    } else if (!strcmp(rest[0], "--version") || !strcmp(rest[0], "version")) {
        print_version();
        code = 0;
    } else if (!strcmp(rest[0], "--help") || !strcmp(rest[0], "-h") || !strcmp(rest[0], "help")) {
        print_usage(stdout);
        code = 0;
    } else if (!strcmp(rest[0], "serve")) {
        code = cmd_serve(&cli, count - 1, rest + 1);
    } else if (!strcmp(rest[0], "channel")) {
        code = cmd_channel(&cli, count - 1, rest + 1);
    } else {
        print_usage(stderr);
        code = fail(EXIT_USAGE, "unknown command '%s'", rest[0]);
    }
    free(rest);
    return code;
}
