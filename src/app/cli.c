// SPDX-License-Identifier: MIT
// cli.c -- the command line: `antenne serve`, and `antenne <kind> add|list|
// show|set|rm` for every object the operator manages (channels,
// subscribers, packages, EPG sources, admin tokens). One set of generic
// commands serves every kind: a kind's options, its `show` and its JSON come
// from its field table, so the CLI, the store and the API always agree on
// what an object has. The CLI writes the database directly; a running server
// picks the change up within a second.
#include "admin/admin.h"
#include "app/app_private.h"
#include "channel/channel.h"
#include "core/core.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 1
#define EXIT_INTERNAL 2

/* How long a token made by `subscriber token` works, and the server's default. */
#define TOKEN_TTL_S (7u * 24u * 3600u)

typedef struct cli {
    const char *data_dir;
    const char *db_url;
    int argc;
    char **argv;
} cli_t;

typedef struct cli_kind cli_kind_t;

/* `antenne <kind> <name> ARGS...` */
typedef struct cli_command {
    const char *name;
    int (*run)(cli_t *cli, const cli_kind_t *kind, int argc, char **argv);
    const char *args; /* shown after the name in --help */
    const char *help; /* NULL: an alias, not shown */
} cli_command_t;

/* An option that is not a field, such as --password (hashed into a field). */
typedef struct cli_option {
    const char *flag;
    const char *arg; /* " PW" */
    const char *help;
    /* Applies value to the object. Returns 0, or a negative errno with a
     * message in err (which the caller leads with the flag). */
    int (*apply)(void *object, const char *value, char *err, size_t err_size);
} cli_option_t;

/* A column of `list`. */
typedef struct cli_column {
    const char *header;
    const char *field;
    int width;         /* < 0 left-aligned, > 0 right-aligned, 0 not padded (last) */
    int gap;           /* spaces before it */
    const char *label; /* booleans: this text when true, nothing when false, no header */
    bool first_only;   /* lists: the first item rather than all, comma-separated */
    const char *empty; /* shown for an empty value, or NULL */
} cli_column_t;

/* A kind of object on the command line. Its fields are those of its store
 * kind, so the two cannot disagree. */
struct cli_kind {
    const char *command; /* "subscriber" */
    const char *word;    /* in messages: "EPG source 'x' not found" */
    const char *about;   /* in `antenne --help` */
    const store_kind_t *(*kind)(void);
    void (*defaults)(void *object);
    /* After the options of add and set: fills what add makes itself, checks
     * the whole object. Returns 0, or a negative errno with a message in err
     * (-ENOMEM: not the user's fault). May be NULL. */
    int (*finish)(void *object, bool adding, char *err, size_t err_size);
    /* After rm: what else goes with the object. May be NULL. */
    void (*removed)(store_t *store, const char *name);
    const cli_option_t *options;
    size_t option_count;
    const cli_column_t *columns;
    size_t column_count;
    const cli_command_t *commands;
    size_t command_count;
    const char *notes; /* the end of --help */
};

static void print_version(void) { printf("antenne %s\n", ANTENNE_VERSION); }

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

static void print_json(json_t *json)
{
    char *text = json ? json_dumps(json, JSON_INDENT(2)) : NULL;
    json_decref(json);
    if (text)
        puts(text);
    free(text);
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

/* ---- options from the field table ------------------------------------------------------ */

/* Fields the user sets: not the name (an argument), nor what the server
 * fills, nor secrets (a value on the command line is seen in the process
 * list; secrets come through options of their own, such as --password). */
static bool field_settable(const store_kind_t *kind, const field_t *field)
{
    return field != &kind->fields[0] && !(field->flags & (FIELD_READONLY | FIELD_AUTO | FIELD_SECRET));
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

static void print_option(FILE *out, const char *flag, const char *arg, const char *help)
{
    char left[96];
    snprintf(left, sizeof(left), "%s%s", flag, arg);
    fprintf(out, "  %-22s %s", left, help);
}

static void print_options(const cli_kind_t *k, FILE *out)
{
    for (size_t i = 0; i < k->option_count; i++) {
        print_option(out, k->options[i].flag, k->options[i].arg, k->options[i].help);
        fputc('\n', out);
    }
    const store_kind_t *kind = k->kind();
    for (size_t i = 0; i < kind->field_count; i++) {
        const field_t *f = &kind->fields[i];
        if (!field_settable(kind, f))
            continue;
        char flag[64];
        field_flag(f, flag, sizeof(flag));
        print_option(out, flag, f->type == FIELD_BOOL ? "" : f->type == FIELD_INT ? " N" : " VALUE", f->help);
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

static bool kind_has_options(const cli_kind_t *k)
{
    const store_kind_t *kind = k->kind();
    for (size_t i = 0; i < kind->field_count; i++)
        if (field_settable(kind, &kind->fields[i]))
            return true;
    return k->option_count > 0;
}

static void print_kind_usage(const cli_kind_t *k, FILE *out)
{
    fprintf(out, "usage: antenne [--data DIR] %s <", k->command);
    int width = 0;
    bool first = true;
    for (size_t i = 0; i < k->command_count; i++) {
        const cli_command_t *c = &k->commands[i];
        if (!c->help)
            continue;
        fprintf(out, "%s%s", first ? "" : "|", c->name);
        first = false;
        int len = (int)(strlen(k->command) + 1 + strlen(c->name) + (*c->args ? 1 + strlen(c->args) : 0));
        width = MAX(width, len);
    }
    fputs("> ...\n\n", out);
    for (size_t i = 0; i < k->command_count; i++) {
        const cli_command_t *c = &k->commands[i];
        if (!c->help)
            continue;
        char left[160];
        snprintf(left, sizeof(left), "%s %s%s%s", k->command, c->name, *c->args ? " " : "", c->args);
        fprintf(out, "  %-*s %s\n", width + 2, left, c->help);
    }
    if (kind_has_options(k)) {
        fputs("\noptions:\n", out);
        print_options(k, out);
    }
    if (k->notes)
        fputs(k->notes, out);
}

/* Prints a field's or an option's complaint as the flag the user typed:
 * "max_streams: 5000 is outside 0..1000" becomes "--max-streams: 5000 ...". */
static int flag_error(const char *flag, const char *err)
{
    const char *rest = err;
    while ((*rest >= 'a' && *rest <= 'z') || (*rest >= '0' && *rest <= '9') || *rest == '_')
        rest++;
    if (rest > err && *rest == ':')
        rest++;
    else
        rest = err;
    return fail(EXIT_USAGE, "%s:%s%s", flag, *rest == ' ' ? "" : " ", rest);
}

/* Applies --flag value options to an object. `replace_lists`: the first
 * value of a list field clears what was there (set). */
static int parse_options(const cli_kind_t *k, int argc, char **argv, void *object, bool replace_lists)
{
    const store_kind_t *kind = k->kind();
    bool *cleared = calloc(kind->field_count, sizeof(bool));
    if (!cleared)
        return fail(EXIT_INTERNAL, "out of memory");
    int code = 0;
    for (int i = 0; i < argc && !code; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            code = fail(EXIT_USAGE, "unexpected argument '%s' (options start with --)", arg);
            break;
        }
        char name[64];
        const char *eq = strchr(arg, '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
        const cli_option_t *option = NULL;
        for (size_t o = 0; o < k->option_count && !option; o++)
            if (!strcmp(k->options[o].flag, name))
                option = &k->options[o];
        const field_t *field = NULL;
        bool negate = false;
        for (size_t f = 1; f < kind->field_count && !field && !option; f++) {
            char flag[64];
            field_flag(&kind->fields[f], flag, sizeof(flag));
            if (!strcmp(flag, name)) {
                field = &kind->fields[f];
            } else if (kind->fields[f].type == FIELD_BOOL && !strncmp(name, "--no-", 5) && !strcmp(flag + 2, name + 5)) {
                field = &kind->fields[f];
                negate = true;
            }
        }
        if (!option && !field) {
            code = fail(EXIT_USAGE, "unknown option '%s' (see antenne %s --help)", name, k->command);
            break;
        }
        if (field && !field_settable(kind, field)) {
            code = fail(EXIT_USAGE, "%s: %s is set by antenne itself, not by an option", name, field->name);
            break;
        }
        const char *value;
        if (field && field->type == FIELD_BOOL && !eq) {
            value = negate ? "false" : "true";
        } else if (eq) {
            value = eq + 1;
        } else {
            if (i + 1 >= argc) {
                code = fail(EXIT_USAGE, "%s needs a value", name);
                break;
            }
            value = argv[++i];
        }
        char err[512] = "";
        if (option) {
            int rc = option->apply(object, value, err, sizeof(err));
            if (rc < 0)
                code = rc == -ENOMEM ? fail(EXIT_INTERNAL, "%s: out of memory", name) : flag_error(name, err);
            continue;
        }
        size_t index = (size_t)(field - kind->fields);
        if (field->type == FIELD_STRINGS && replace_lists && !cleared[index]) {
            strlist_clear((strlist_t *)((char *)object + field->offset));
            cleared[index] = true;
        }
        if (fields_set(field, object, value, err, sizeof(err)) < 0)
            code = flag_error(name, err); /* the flag the user typed, not the internal field */
    }
    free(cleared);
    return code;
}

/* ---- the generic commands --------------------------------------------------------------- */

static int open_store(cli_t *cli, store_t **store)
{
    char err[512];
    if (store_open(cli->data_dir, cli->db_url, store, err, sizeof(err)) < 0)
        return fail(EXIT_INTERNAL, "%s", err);
    return 0;
}

static int store_error(const cli_kind_t *k, store_t *store, int rc, const char *name)
{
    if (rc == -EEXIST)
        return fail(EXIT_USAGE, "%s '%s' already exists", k->word, name);
    if (rc == -ENOENT)
        return fail(EXIT_USAGE, "%s '%s' not found", k->word, name);
    return fail(EXIT_INTERNAL, "database: %s", store_last_error(store));
}

/* A new object of the kind with its defaults, or NULL when out of memory. */
static void *object_new(const cli_kind_t *k)
{
    void *object = calloc(1, k->kind()->object_size);
    if (object)
        k->defaults(object);
    return object;
}

static void object_free(const cli_kind_t *k, void *object)
{
    if (!object)
        return;
    const store_kind_t *kind = k->kind();
    fields_clear(kind->fields, kind->field_count, object);
    free(object);
}

static const char *object_name(const cli_kind_t *k, const void *object)
{
    const char *name = *(char *const *)((const char *)object + k->kind()->fields[0].offset);
    return name ? name : "";
}

static int finish(const cli_kind_t *k, void *object, bool adding)
{
    char err[512] = "";
    int rc = k->finish ? k->finish(object, adding, err, sizeof(err)) : 0;
    if (rc == -ENOMEM)
        return fail(EXIT_INTERNAL, "out of memory");
    return rc < 0 ? fail(EXIT_USAGE, "%s", err) : 0;
}

/* A field's value as text; lists comma-separated (or their first item). */
static void field_text(const field_t *f, const void *object, bool first_only, strbuf_t *out)
{
    const void *p = (const char *)object + f->offset;
    switch (f->type) {
    case FIELD_STRING:
        strbuf_puts(out, *(char *const *)p ? *(char *const *)p : "");
        break;
    case FIELD_INT:
        strbuf_printf(out, "%lld", (long long)*(const int64_t *)p);
        break;
    case FIELD_BOOL:
        strbuf_puts(out, *(const bool *)p ? "yes" : "no");
        break;
    case FIELD_ENUM:
        strbuf_puts(out, f->choices[*(const int *)p]);
        break;
    case FIELD_STRINGS: {
        const strlist_t *list = p;
        for (size_t j = 0; j < list->count && !(first_only && j); j++) {
            strbuf_puts(out, j ? "," : "");
            strbuf_puts(out, list->items[j]);
        }
        break;
    }
    }
}

static void print_object(const cli_kind_t *k, const void *object, bool json)
{
    const store_kind_t *kind = k->kind();
    if (json) {
        print_json(admin_object_json(kind->fields, kind->field_count, object)); /* skips FIELD_SECRET */
        return;
    }
    for (size_t i = 0; i < kind->field_count; i++) {
        const field_t *f = &kind->fields[i];
        if (f->flags & FIELD_SECRET)
            continue;
        printf("%-13s ", f->name);
        if (f->type == FIELD_STRINGS) {
            const strlist_t *list = (const void *)((const char *)object + f->offset);
            for (size_t j = 0; j < list->count; j++)
                printf("%s%s\n", j ? "              " : "", list->items[j]);
            if (!list->count)
                putchar('\n');
            continue;
        }
        strbuf_t text;
        strbuf_init(&text);
        field_text(f, object, false, &text);
        printf("%s\n", text.data ? text.data : "");
        strbuf_free(&text);
    }
}

static void print_row(const cli_kind_t *k, const void *object)
{
    const store_kind_t *kind = k->kind();
    for (size_t i = 0; i < k->column_count; i++) {
        const cli_column_t *c = &k->columns[i];
        const field_t *f = fields_find(kind->fields, kind->field_count, c->field);
        if (f && c->label) {
            if (*(const bool *)((const char *)object + f->offset))
                printf("%*s%s", c->gap, "", c->label);
            continue;
        }
        strbuf_t text;
        strbuf_init(&text);
        if (f)
            field_text(f, object, c->first_only, &text);
        const char *shown = text.data && *text.data ? text.data : c->empty ? c->empty : "";
        printf("%*s%*s", c->gap, "", c->width, shown);
        strbuf_free(&text);
    }
    putchar('\n');
}

static void print_header(const cli_kind_t *k)
{
    for (size_t i = 0; i < k->column_count; i++)
        if (!k->columns[i].label)
            printf("%*s%*s", k->columns[i].gap, "", k->columns[i].width, k->columns[i].header);
    putchar('\n');
}

static int cmd_add(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    const char *args = k->commands[0].args; /* add comes first (GENERIC_COMMANDS) */
    const char *optional = strstr(args, " [");
    if (argc < 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "%s add: missing NAME (antenne %s add %.*s)", k->command, k->command,
                    (int)(optional ? (size_t)(optional - args) : strlen(args)), args);
    const store_kind_t *kind = k->kind();
    void *object = object_new(k);
    if (!object)
        return fail(EXIT_INTERNAL, "out of memory");
    char err[512];
    int code = 0;
    if (fields_set(&kind->fields[0], object, argv[0], err, sizeof(err)) < 0)
        code = fail(EXIT_USAGE, "%s", err);
    if (!code)
        code = parse_options(k, argc - 1, argv + 1, object, false);
    if (!code)
        code = finish(k, object, true);
    store_t *store = NULL;
    if (!code)
        code = open_store(cli, &store);
    if (!code) {
        int rc = store_insert(store, kind, object);
        if (rc < 0)
            code = store_error(k, store, rc, object_name(k, object));
        else
            printf("%s %s added\n", k->word, object_name(k, object));
    }
    store_close(store);
    object_free(k, object);
    return code;
}

static int cmd_set(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "%s set: missing NAME", k->command);
    if (!parse_name_valid(argv[0]))
        return fail(EXIT_USAGE, "%s '%s' not found", k->word, argv[0]);
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    void *object = object_new(k);
    int rc = object ? store_get(store, k->kind(), argv[0], object) : -ENOMEM;
    if (rc == -ENOMEM) {
        code = fail(EXIT_INTERNAL, "out of memory");
    } else if (rc < 0) {
        code = store_error(k, store, rc, argv[0]);
    } else {
        code = parse_options(k, argc - 1, argv + 1, object, true);
        if (!code)
            code = finish(k, object, false);
        if (!code && (rc = store_update(store, k->kind(), object)) < 0)
            code = store_error(k, store, rc, argv[0]);
        if (!code)
            printf("%s %s updated\n", k->word, argv[0]);
    }
    object_free(k, object);
    store_close(store);
    return code;
}

static int cmd_show(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    bool json = argc > 1 && !strcmp(argv[1], "--json");
    if (argc < 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "%s show: missing NAME", k->command);
    if (argc > (json ? 2 : 1))
        return fail(EXIT_USAGE, "%s show: unexpected argument '%s'", k->command, argv[json ? 2 : 1]);
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    void *object = object_new(k);
    int rc = !object ? -ENOMEM : parse_name_valid(argv[0]) ? store_get(store, k->kind(), argv[0], object) : -ENOENT;
    if (rc == -ENOMEM)
        code = fail(EXIT_INTERNAL, "out of memory");
    else if (rc < 0)
        code = store_error(k, store, rc, argv[0]);
    else
        print_object(k, object, json);
    object_free(k, object);
    store_close(store);
    return code;
}

static int cmd_list(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    bool json = argc > 0 && !strcmp(argv[0], "--json");
    if (argc > (json ? 1 : 0))
        return fail(EXIT_USAGE, "%s list: unexpected argument '%s'", k->command, argv[json ? 1 : 0]);
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    const store_kind_t *kind = k->kind();
    void *list;
    size_t count;
    int rc = store_list(store, kind, &list, &count);
    if (rc < 0) {
        code = store_error(k, store, rc, "");
        store_close(store);
        return code;
    }
    if (json) {
        json_t *array = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(array, admin_object_json(kind->fields, kind->field_count,
                                                           (char *)list + i * kind->object_size));
        print_json(json_pack("{so}", kind->table, array)); /* {"channels": [...]}, as the API */
    } else {
        print_header(k);
        for (size_t i = 0; i < count; i++)
            print_row(k, (char *)list + i * kind->object_size);
    }
    store_free_list(kind, list, count);
    store_close(store);
    return 0;
}

static int cmd_rm(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "%s rm: give exactly one NAME", k->command);
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    int rc = parse_name_valid(argv[0]) ? store_delete(store, k->kind(), argv[0]) : -ENOENT;
    if (rc < 0) {
        code = store_error(k, store, rc, argv[0]);
    } else {
        if (k->removed)
            k->removed(store, argv[0]);
        printf("%s %s removed\n", k->word, argv[0]);
    }
    store_close(store);
    return code;
}

/* ---- channels ----------------------------------------------------------------------------- */

static void channel_defaults_any(void *object) { channel_config_defaults(object); }

static int channel_finish(void *object, bool adding, char *err, size_t err_size)
{
    channel_config_t *config = object;
    if (adding && !config->title && config->name && !(config->title = strdup(config->name)))
        return -ENOMEM;
    return channel_config_validate(config, err, err_size);
}

/* ---- subscribers ---------------------------------------------------------------------------- */

static void subscriber_defaults_any(void *object) { subscriber_defaults(object); }

/* --password PW, or "-" to read it from the first line of stdin (so it is
 * not seen in the process list); stored as an argon2id hash only. */
static int subscriber_password(void *object, const char *value, char *err, size_t err_size)
{
    subscriber_t *sub = object;
    char line[256];
    if (!strcmp(value, "-")) {
        if (!fgets(line, sizeof(line), stdin)) {
            snprintf(err, err_size, "nothing to read on stdin");
            return -EINVAL;
        }
        line[strcspn(line, "\r\n")] = '\0';
        value = line;
    }
    size_t len = strlen(value);
    int rc = 0;
    char hash[AUTH_PASSWORD_HASH_MAX];
    if (len < 1 || len > 200) {
        snprintf(err, err_size, "must be 1 to 200 characters");
        rc = -EINVAL;
    } else if ((rc = auth_password_hash(value, hash, sizeof(hash))) < 0) {
        snprintf(err, err_size, "cannot hash it: %s", strerror(-rc));
    } else {
        char *copy = strdup(hash);
        if (copy) {
            free(sub->password_hash);
            sub->password_hash = copy;
        }
        rc = copy ? 0 : -ENOMEM;
    }
    sodium_memzero(line, sizeof(line));
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

static int subscriber_finish(void *object, bool adding, char *err, size_t err_size)
{
    subscriber_t *sub = object;
    if (!adding)
        return 0;
    if (!sub->password_hash) {
        snprintf(err, err_size, "--password: a subscriber needs one (antenne subscriber add NAME --password PW)");
        return -EINVAL;
    }
    /* Positive: it is stored as a signed integer; 0 would mean "none". */
    do {
        auth_random(&sub->token_id, sizeof(sub->token_id));
        sub->token_id &= INT64_MAX;
    } while (!sub->token_id);
    return 0;
}

/* A deleted subscriber's streams end at once on every server, and the audit
 * log says why (as when deleted through the API). */
static void subscriber_removed(store_t *store, const char *name)
{
    if (store_session_end_subscriber(store, name, (int64_t)clock_wall_ms(), "revoked: subscriber deleted") < 0)
        fprintf(stderr, "antenne: warning: could not end the streams of '%s': %s\n", name, store_last_error(store));
}

/* `subscriber token NAME [--base-url URL]`: a signed token and the personal
 * playlist URL, as the API's POST /subscribers/NAME/token gives. */
static int cmd_subscriber_token(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "subscriber token: missing NAME (antenne subscriber token NAME [--base-url URL])");
    const char *base = "http://127.0.0.1:8080";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--base-url") && i + 1 < argc)
            base = argv[++i];
        else if (!strncmp(argv[i], "--base-url=", 11))
            base = argv[i] + 11;
        else if (!strcmp(argv[i], "--base-url"))
            return fail(EXIT_USAGE, "--base-url needs a value");
        else if (!strncmp(argv[i], "--", 2))
            return fail(EXIT_USAGE, "unknown option '%s' (see antenne subscriber --help)", argv[i]);
        else
            return fail(EXIT_USAGE, "subscriber token: unexpected argument '%s'", argv[i]);
    }
    size_t base_len = strlen(base);
    while (base_len && base[base_len - 1] == '/')
        base_len--;
    bool base_ok = (!strncmp(base, "http://", 7) || !strncmp(base, "https://", 8)) && base_len < 256 &&
                   base_len > (size_t)(base[4] == 's' ? 8 : 7);
    for (size_t i = 0; i < base_len && base_ok; i++)
        base_ok = (unsigned char)base[i] > 0x20 && (unsigned char)base[i] < 0x7f;
    if (!base_ok)
        return fail(EXIT_USAGE, "--base-url: '%s' is not http(s)://HOST[:PORT]", base);

    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    subscriber_t sub;
    subscriber_defaults(&sub);
    access_snapshot_t *access = NULL;
    int rc = parse_name_valid(argv[0]) ? store_get(store, k->kind(), argv[0], &sub) : -ENOENT;
    if (rc < 0)
        code = store_error(k, store, rc, argv[0]);
    else if ((rc = access_signing_key_ensure(store)) < 0 || (rc = access_snapshot_load(store, &access)) < 0)
        code = fail(EXIT_INTERNAL, "database: %s", store_last_error(store));
    if (!code) {
        uint64_t now = clock_wall_ms() / 1000;
        auth_claims_t claims = {.subscriber = (uint64_t)sub.token_id, .expires = now + TOKEN_TTL_S, .ip_bound = false};
        char token[AUTH_TOKEN_MAX], expires[32];
        rc = auth_token_sign(access->keyring, &claims, NULL, token, sizeof(token));
        if (rc == -ENOKEY) {
            code = fail(EXIT_USAGE, "no token signing key yet: start the server once (antenne serve) to make one");
        } else if (rc < 0) {
            code = fail(EXIT_INTERNAL, "cannot sign a token: %s", strerror(-rc));
        } else {
            int64_t ends;
            if (!sub.enabled)
                fprintf(stderr, "antenne: warning: subscriber '%s' is disabled: the token is refused until it is "
                                "enabled\n", sub.name);
            else if (subscriber_expiry(&sub, &ends) == 0 && ends && (int64_t)now >= ends)
                fprintf(stderr, "antenne: warning: the subscription of '%s' has expired: the token is refused\n",
                        sub.name);
            if (sub.bind_ip)
                fprintf(stderr, "antenne: note: '%s' has --bind-ip, but this token is not bound to an address (the "
                                "CLI does not know the viewer's)\n", sub.name);
            clock_format_iso(claims.expires * 1000, expires, sizeof(expires));
            printf("token: %s\nexpires: %s\nplaylist: %.*s/get/playlist.m3u?token=%s\n", token, expires,
                   (int)base_len, base, token);
        }
        sodium_memzero(token, sizeof(token));
    }
    access_snapshot_free(access);
    fields_clear(subscriber_fields, subscriber_field_count, &sub);
    store_close(store);
    return code;
}

/* ---- packages and EPG sources ------------------------------------------------------------------ */

static void package_defaults_any(void *object) { package_defaults(object); }
static void epg_source_defaults_any(void *object) { epg_source_defaults(object); }

static int epg_source_finish(void *object, bool adding, char *err, size_t err_size)
{
    (void)adding;
    if (((epg_source_t *)object)->url)
        return 0;
    snprintf(err, err_size, "--url: an EPG source needs one (antenne epg add NAME --url URL)");
    return -EINVAL;
}

/* ---- admin API tokens ----------------------------------------------------------------------------- */

static void admin_token_defaults(void *object) { memset(object, 0, sizeof(admin_token_t)); }

/* `admin-token create NAME`: the token goes to stdout alone, so that a
 * script can capture it; only its digest is stored. */
static int cmd_admin_token_create(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strncmp(argv[i], "--", 2))
            return fail(EXIT_USAGE, "unknown option '%s' (see antenne admin-token --help)", argv[i]);
    if (argc != 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "admin-token create: give exactly one NAME");
    admin_token_t check = {0};
    char err[512];
    int rc = fields_set(&k->kind()->fields[0], &check, argv[0], err, sizeof(err));
    fields_clear(k->kind()->fields, k->kind()->field_count, &check);
    if (rc < 0)
        return fail(EXIT_USAGE, "%s", err);
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    char token[ACCESS_ADMIN_TOKEN_SIZE];
    rc = access_admin_token_create(store, argv[0], token, sizeof(token));
    if (rc < 0) {
        code = store_error(k, store, rc, argv[0]);
    } else {
        printf("%s\n", token);
        fprintf(stderr, "antenne: admin token '%s' created; it is shown only this once\n", argv[0]);
    }
    sodium_memzero(token, sizeof(token));
    store_close(store);
    return code;
}

/* ---- the kinds -------------------------------------------------------------------------------------- */

/* add, list, show, set, rm: the same for every kind but for their words. */
#define GENERIC_COMMANDS(a_word, word, plural, add_args, set_note)                                                \
    {"add", cmd_add, add_args " [options]", "add " a_word}, {"list", cmd_list, "[--json]", "list " plural},       \
        {"ls", cmd_list, "", NULL}, {"show", cmd_show, "NAME [--json]", "show one " word},                         \
        {"set", cmd_set, "NAME [options]", "change " a_word set_note}, {"rm", cmd_rm, "NAME", "remove " a_word}

#define APPLIES_SOON "A running server applies changes within a second.\n"

/* `channel archive-import NAME FILE --start UNIX [--archive-dir DIR]` */
static int cmd_channel_archive_import(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    const char *archive_dir = NULL, *start_text = NULL;
    if (argc < 2 || argv[0][0] == '-' || argv[1][0] == '-')
        return fail(EXIT_USAGE, "channel archive-import: give NAME FILE --start UNIX_SECONDS");
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc)
            return fail(EXIT_USAGE, "channel archive-import: %s needs a value", argv[i]);
        if (!strcmp(argv[i], "--start"))
            start_text = argv[i + 1];
        else if (!strcmp(argv[i], "--archive-dir"))
            archive_dir = argv[i + 1];
        else
            return fail(EXIT_USAGE, "channel archive-import: unknown option '%s'", argv[i]);
    }
    uint64_t start;
    if (!start_text || parse_u64(start_text, 1, 4102444800u, &start) < 0)
        return fail(EXIT_USAGE, "channel archive-import: --start must be Unix seconds (when the file's first "
                                "frame was shown)");
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    channel_config_t config;
    channel_config_defaults(&config);
    int rc = parse_name_valid(argv[0]) ? store_get(store, k->kind(), argv[0], &config) : -ENOENT;
    store_close(store);
    if (rc < 0) {
        channel_config_clear(&config);
        return fail(EXIT_USAGE, "channel '%s' not found", argv[0]);
    }
    char dir[4096], err[512];
    if (archive_dir)
        snprintf(dir, sizeof(dir), "%s/%s", archive_dir, config.name);
    else
        snprintf(dir, sizeof(dir), "%s/archive/%s", cli->data_dir, config.name);
    uv_loop_t loop;
    uv_loop_init(&loop);
    dvr_options_t options = {.dir = dir, .name = config.name};
    dvr_t *dvr = dvr_open(&loop, &options, err, sizeof(err));
    dvr_import_report_t report;
    if (!dvr) {
        code = fail(EXIT_INTERNAL, "%s", err);
    } else if (dvr_import_file(dvr, argv[1], start * 1000u, (uint32_t)config.hls_target, &report, err,
                               sizeof(err)) < 0) {
        code = fail(EXIT_USAGE, "channel archive-import: %s", err);
    } else {
        printf("imported %u segments (%llu bytes) into %s: %llu to %llu\n", report.segments,
               (unsigned long long)report.bytes, dir, (unsigned long long)(report.first_ms / 1000u),
               (unsigned long long)(report.last_ms / 1000u));
        if (!config.archive)
            printf("note: channel %s does not record (--archive): a server serves its archive only once it does\n",
                   config.name);
    }
    dvr_close(dvr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    channel_config_clear(&config);
    return code;
}

static const cli_command_t channel_commands[] = {
    GENERIC_COMMANDS("a channel", "channel", "channels", "NAME --source URL", " (--source replaces the list)"),
    {"archive-import", cmd_channel_archive_import, "NAME FILE.ts --start UNIX [--archive-dir DIR]",
     "put a recording into the channel's archive as shown from that time on (with the server stopped)"},
};
static const cli_column_t channel_columns[] = {
    {"NAME", "name", -20, 0, NULL, false, NULL},
    {"NUMBER", "number", 6, 1, NULL, false, NULL},
    {"TITLE", "title", -24, 2, NULL, false, NULL},
    {"SOURCE", "sources", 0, 1, NULL, true, NULL},
    {"", "on_demand", 0, 2, "(on demand)", false, NULL},
};

static const cli_option_t subscriber_options[] = {
    {"--password", " PW", "password (hashed; - reads it from stdin)", subscriber_password},
};
static const cli_command_t subscriber_commands[] = {
    GENERIC_COMMANDS("a subscriber", "subscriber", "subscribers", "NAME --password PW",
                     " (--package, --allowed-ip replace their lists)"),
    {"token", cmd_subscriber_token, "NAME [--base-url URL]",
     "print a token and the personal playlist URL (valid 7 days)"},
};
static const cli_column_t subscriber_columns[] = {
    {"NAME", "name", -20, 0, NULL, false, NULL},
    {"ENABLED", "enabled", -7, 1, NULL, false, NULL},
    {"STREAMS", "max_streams", 7, 1, NULL, false, NULL},
    {"EXPIRES", "expires", -20, 2, NULL, false, "never"},
    {"PACKAGES", "packages", 0, 1, NULL, false, "-"},
};

static const cli_command_t package_commands[] = {
    GENERIC_COMMANDS("a package", "package", "packages", "NAME", " (--channel replaces the list)"),
};
static const cli_column_t package_columns[] = {
    {"NAME", "name", -20, 0, NULL, false, NULL},
    {"TITLE", "title", -24, 1, NULL, false, NULL},
    {"CHANNELS", "channels", 0, 1, NULL, false, "-"},
};

/* Imports an EPG source now, in this process, for the channels in the
 * database; a running server sees the new guide within a second. */
static int cmd_epg_import(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return fail(EXIT_USAGE, "epg import: give exactly one NAME");
    if (!parse_name_valid(argv[0]))
        return fail(EXIT_USAGE, "%s '%s' not found", k->word, argv[0]);
    store_t *store;
    int code = open_store(cli, &store);
    if (code)
        return code;
    void *list;
    size_t count;
    int rc = store_list(store, app_channel_kind(), &list, &count);
    if (rc < 0) {
        code = fail(EXIT_INTERNAL, "database: %s", store_last_error(store));
        store_close(store);
        return code;
    }
    channel_config_t *channels = list;
    const channel_config_t **configs = calloc(count + 1, sizeof(*configs));
    char err[1024] = "";
    json_t *report = NULL;
    if (!configs) {
        code = fail(EXIT_INTERNAL, "out of memory");
    } else {
        for (size_t i = 0; i < count; i++)
            configs[i] = &channels[i];
        rc = guide_import(store, argv[0], configs, count, &report, err, sizeof(err));
        if (rc == -ENOENT && strstr(err, "not found"))
            code = fail(EXIT_USAGE, "%s", err);
        else if (rc < 0)
            code = fail(EXIT_USAGE, "epg import %s: %s", argv[0], err);
        else
            printf("%s\n", json_string_value(json_object_get(report, "result")));
    }
    json_decref(report);
    free(configs);
    store_free_list(app_channel_kind(), list, count);
    store_close(store);
    return code;
}

static const cli_command_t epg_source_commands[] = {
    GENERIC_COMMANDS("an EPG source", "EPG source", "EPG sources", "NAME --url URL", ""),
    {"import", cmd_epg_import, "NAME", "import the guide now (a file, or an http:// URL)"},
};
static const cli_column_t epg_source_columns[] = {
    {"NAME", "name", -20, 0, NULL, false, NULL},
    {"REFRESH_H", "refresh_hours", 9, 1, NULL, false, NULL},
    {"DAYS", "days", 4, 1, NULL, false, NULL},
    {"LAST_IMPORT", "last_import", -24, 2, NULL, false, "never"},
    {"URL", "url", 0, 1, NULL, false, NULL},
};

static const cli_command_t admin_token_commands[] = {
    {"create", cmd_admin_token_create, "NAME", "make a token for the admin API (printed once)"},
    {"list", cmd_list, "[--json]", "list tokens (names and dates; tokens are not kept)"},
    {"ls", cmd_list, "", NULL},
    {"rm", cmd_rm, "NAME", "revoke a token"},
};
static const cli_column_t admin_token_columns[] = {
    {"NAME", "name", -24, 0, NULL, false, NULL},
    {"CREATED", "created_at", 0, 1, NULL, false, NULL},
};

#define TABLE(a) a, ARRAY_SIZE(a)

static const cli_kind_t cli_kinds[] = {
    {"channel", "channel", "manage channels", app_channel_kind, channel_defaults_any, channel_finish, NULL, NULL, 0,
     TABLE(channel_columns), TABLE(channel_commands),
     "\nsource URLs: udp://[@]HOST:PORT[?iface=IF&source=ADDR&program=N], rtp://..., \n"
     "             http://HOST[:PORT]/PATH[#program=N], file:///PATH.ts, file:///FOLDER/\n" APPLIES_SOON},
    {"subscriber", "subscriber", "manage subscribers and their tokens", app_subscriber_kind, subscriber_defaults_any,
     subscriber_finish, subscriber_removed, TABLE(subscriber_options), TABLE(subscriber_columns),
     TABLE(subscriber_commands), "\n" APPLIES_SOON},
    {"package", "package", "manage packages (channels a subscriber may watch)", app_package_kind,
     package_defaults_any, NULL, NULL, NULL, 0, TABLE(package_columns), TABLE(package_commands),
     "\nA channel in no package is free to air. " APPLIES_SOON},
    {"epg", "EPG source", "manage EPG sources (XMLTV)", app_epg_source_kind, epg_source_defaults_any,
     epg_source_finish, NULL, NULL, 0, TABLE(epg_source_columns), TABLE(epg_source_commands), "\n" APPLIES_SOON},
    {"admin-token", "admin token", "manage admin API tokens", app_admin_token_kind, admin_token_defaults, NULL, NULL,
     NULL, 0, TABLE(admin_token_columns), TABLE(admin_token_commands), NULL},
};

static int cmd_kind(cli_t *cli, const cli_kind_t *k, int argc, char **argv)
{
    if (argc < 1 || wants_help(argc, argv)) {
        print_kind_usage(k, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : 0;
    }
    for (size_t i = 0; i < k->command_count; i++)
        if (!strcmp(argv[0], k->commands[i].name))
            return k->commands[i].run(cli, k, argc - 1, argv + 1);
    char names[160] = "";
    for (size_t i = 0, len = 0; i < k->command_count; i++)
        if (k->commands[i].help && len < sizeof(names))
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "", k->commands[i].name);
    return fail(EXIT_USAGE, "unknown %s command '%s' (%s)", k->command, argv[0], names);
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "antenne %s -- IPTV headend and delivery platform\n\n"
            "usage: antenne [--data DIR] <command> [options]\n\n"
            "commands:\n",
            ANTENNE_VERSION);
    char lines[ARRAY_SIZE(cli_kinds)][160];
    int width = (int)strlen("serve");
    for (size_t i = 0; i < ARRAY_SIZE(cli_kinds); i++) {
        const cli_kind_t *k = &cli_kinds[i];
        size_t len = (size_t)snprintf(lines[i], sizeof(lines[i]), "%s ", k->command);
        for (size_t c = 0, n = 0; c < k->command_count && len < sizeof(lines[i]); c++)
            if (k->commands[c].help)
                len += (size_t)snprintf(lines[i] + len, sizeof(lines[i]) - len, "%s%s", n++ ? "|" : "",
                                        k->commands[c].name);
        width = MAX(width, (int)strlen(lines[i]));
    }
    fprintf(out, "  %-*s   %s\n", width, "serve", "run the server");
    for (size_t i = 0; i < ARRAY_SIZE(cli_kinds); i++)
        fprintf(out, "  %-*s   %s\n", width, lines[i], cli_kinds[i].about);
    fprintf(out,
            "\noptions:\n"
            "  --data DIR            data folder (default ./var, or $ANTENNE_DATA)\n"
            "  --db URL              database: postgres://... for a fleet, or sqlite:PATH\n"
            "                        (default: antenne.db in the data folder, or $ANTENNE_DB)\n"
            "  --version             print the version\n"
            "  -h, --help            this help; `antenne <command> --help` for a command's\n");
}

/* ---- serve ---------------------------------------------------------------------------------------- */

static void print_serve_usage(FILE *out)
{
    fprintf(out, "usage: antenne [--data DIR] serve [options]\n\n"
                 "  --listen ADDR:PORT    HTTP address (default 127.0.0.1:8080, or $ANTENNE_LISTEN);\n"
                 "                        0.0.0.0:8080 for every interface, [::]:8080 for IPv6\n"
                 "  --log-level LEVEL     debug, info, warn or error (default info)\n"
                 "  --ring-mb N           history kept per channel, MiB (default 8)\n"
                 "  --flush-ms N          how often viewers are looked at (default 50)\n"
                 "  --batch-kb N          write a viewer once N KiB are pending (default 64)...\n"
                 "  --batch-ms N          ...or its oldest unsent byte is N ms old (default 200)\n"
                 "  --token-ttl SECONDS   how long subscribers' tokens work (default 604800: 7 days)\n"
                 "  --max-connections N   connections at once; more get 503 (default 100000; 0: no limit)\n"
                 "  --max-connections-per-ip N   from one address (default 0: no limit)\n"
                 "  --lag-warn-ms N       log what held the event loop up when it runs N ms late (default 100)\n"
                 "  --archive-dir DIR     where channels' archives go (default DATA/archive)\n"
                 "  --archive-max-mb N    all archives together, MiB; the oldest chunks go first (default 0: no limit)\n"
                 "  --web-dir DIR         serve the web UI's files from DIR (read at start)\n");
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
    app_options_t options = {cli->data_dir, cli->db_url, "127.0.0.1", 8080, 8u * 1024u * 1024u, 50, 64u * 1024u, 200, 500,
                             TOKEN_TTL_S, 100000u, 0u, 100u, NULL, 0, NULL};
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
        } else if (!strcmp(argv[i], "--max-connections") && value) {
            if (parse_u64(value, 0, 10000000, &n) < 0)
                return fail(EXIT_USAGE, "--max-connections: '%s' is not a number from 0 to 10000000", value);
            options.max_connections = (uint32_t)n;
        } else if (!strcmp(argv[i], "--max-connections-per-ip") && value) {
            if (parse_u64(value, 0, 10000000, &n) < 0)
                return fail(EXIT_USAGE, "--max-connections-per-ip: '%s' is not a number from 0 to 10000000", value);
            options.max_connections_per_ip = (uint32_t)n;
        } else if (!strcmp(argv[i], "--archive-dir") && value) {
            options.archive_dir = value;
        } else if (!strcmp(argv[i], "--web-dir") && value) {
            options.web_dir = value;
        } else if (!strcmp(argv[i], "--archive-max-mb") && value) {
            if (parse_u64(value, 0, 1000000000, &n) < 0)
                return fail(EXIT_USAGE, "--archive-max-mb: '%s' is not a number from 0 to 1000000000", value);
            options.archive_max_bytes = n << 20;
        } else if (!strcmp(argv[i], "--lag-warn-ms") && value) {
            if (parse_u64(value, 1, 60000, &n) < 0)
                return fail(EXIT_USAGE, "--lag-warn-ms: '%s' is not a number from 1 to 60000", value);
            options.lag_warn_ms = (uint32_t)n;
        } else if (!strcmp(argv[i], "--token-ttl") && value) {
            if (parse_u64(value, 1, 366u * 86400u, &n) < 0)
                return fail(EXIT_USAGE, "--token-ttl: '%s' is not a number of seconds from 1 to 31622400", value);
            options.token_ttl_s = (uint32_t)n;
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
    const cli_kind_t *kind = NULL;
    for (size_t i = 0; count > 0 && i < ARRAY_SIZE(cli_kinds) && !kind; i++)
        if (!strcmp(rest[0], cli_kinds[i].command))
            kind = &cli_kinds[i];
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
    } else if (kind) {
        code = cmd_kind(&cli, kind, count - 1, rest + 1);
    } else {
        print_usage(stderr);
        code = fail(EXIT_USAGE, "unknown command '%s'", rest[0]);
    }
    free(rest);
    return code;
}
