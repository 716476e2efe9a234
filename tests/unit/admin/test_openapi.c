// SPDX-License-Identifier: MIT
// test_openapi.c -- tests for src/admin/openapi.c
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "admin/admin.h"
#include "auth/auth.h"
#include "channel/channel.h"

static json_t *doc;

static int setup(void **state)
{
    (void)state;
    doc = admin_openapi();
    return doc ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(doc);
    return 0;
}

/* doc at a path of keys, e.g. at("components", "schemas", "Channel", NULL). */
static json_t *at(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    json_t *node = doc;
    for (const char *key = first; key && node; key = va_arg(ap, const char *))
        node = json_object_get(node, key);
    va_end(ap);
    return node;
}

static json_t *schema(const char *name) { return at("components", "schemas", name, NULL); }

/* Resolves a local reference ("#/components/schemas/Error"). */
static json_t *resolve(const char *pointer)
{
    if (strncmp(pointer, "#/", 2))
        return NULL;
    json_t *node = doc;
    char token[256];
    for (const char *p = pointer + 2; node && *p;) {
        size_t len = strcspn(p, "/"), n = 0;
        for (size_t i = 0; i < len && n + 1 < sizeof(token); i++) {
            if (p[i] == '~' && i + 1 < len && (p[i + 1] == '0' || p[i + 1] == '1'))
                token[n++] = p[++i] == '0' ? '~' : '/';
            else
                token[n++] = p[i];
        }
        token[n] = '\0';
        node = json_object_get(node, token);
        p += len + (p[len] == '/');
    }
    return node;
}

/* An object, or what its "$ref" points to. */
static json_t *deref(json_t *node)
{
    json_t *ref = json_object_get(node, "$ref");
    return ref ? resolve(json_string_value(ref)) : node;
}

/* ---- the document ------------------------------------------------------------------------------- */

static void test_document_is_valid_json(void **state)
{
    (void)state;
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    json_error_t error;
    json_t *again = json_loads(text, JSON_REJECT_DUPLICATES, &error);
    assert_non_null(again);
    assert_true(json_equal(again, doc));
    json_decref(again);
    free(text);
    assert_string_equal(json_string_value(at("openapi", NULL)), "3.1.0");
    assert_non_null(json_string_value(at("info", "title", NULL)));
    assert_string_equal(json_string_value(at("info", "version", NULL)), ANTENNE_VERSION);
    /* Each call builds a new document. */
    json_t *other = admin_openapi();
    assert_true(other != doc);
    assert_true(json_equal(other, doc));
    json_decref(other);
}

/* Every $ref in the document resolves. */
static void check_refs(json_t *node)
{
    if (json_is_object(node)) {
        json_t *ref = json_object_get(node, "$ref");
        if (ref) {
            assert_true(json_is_string(ref));
            if (!resolve(json_string_value(ref)))
                fail_msg("dangling $ref %s", json_string_value(ref));
        }
        const char *key;
        json_t *value;
        json_object_foreach (node, key, value)
            check_refs(value);
    } else if (json_is_array(node)) {
        size_t i;
        json_t *value;
        json_array_foreach (node, i, value)
            check_refs(value);
    }
}

static void test_every_reference_resolves(void **state)
{
    (void)state;
    check_refs(doc);
}

static const struct {
    const char *path;
    const char *methods; /* sorted, space-separated */
} expected_routes[] = {
    {"/api/v1/channels", "get post"},
    {"/api/v1/channels/{name}", "delete get patch"},
    {"/api/v1/channels/{name}/epg", "get"},
    {"/api/v1/channels/{name}/history", "get"},
    {"/api/v1/subscribers", "get post"},
    {"/api/v1/subscribers/{name}", "delete get patch"},
    {"/api/v1/subscribers/{name}/tokens", "post"},
    {"/api/v1/packages", "get post"},
    {"/api/v1/packages/{name}", "delete get patch"},
    {"/api/v1/epg-sources", "get post"},
    {"/api/v1/epg-sources/{name}", "delete get patch"},
    {"/api/v1/epg-sources/{name}/import", "post"},
    {"/api/v1/token-keys", "get post"},
    {"/api/v1/token-keys/{name}", "delete get patch"},
    {"/api/v1/sessions", "get"},
    {"/api/v1/sessions/{id}", "delete"},
    {"/api/v1/audit", "get"},
    {"/api/v1/events", "get"},
    {"/api/v1/portal/login", "post"},
    {"/api/v1/portal/me", "get"},
    {"/api/v1/portal/channels", "get"},
    {"/api/v1/portal/channels/{name}/epg", "get"},
    {"/api/v1/openapi.json", "get"},
};

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_every_route_with_its_methods(void **state)
{
    (void)state;
    json_t *paths = at("paths", NULL);
    assert_int_equal(json_object_size(paths), ARRAY_SIZE(expected_routes));
    for (size_t i = 0; i < ARRAY_SIZE(expected_routes); i++) {
        json_t *item = json_object_get(paths, expected_routes[i].path);
        if (!item)
            fail_msg("missing %s", expected_routes[i].path);
        const char *methods[8];
        size_t n = 0;
        const char *key;
        json_t *value;
        json_object_foreach (item, key, value) {
            assert_true(n < ARRAY_SIZE(methods));
            methods[n++] = key;
        }
        qsort(methods, n, sizeof(*methods), compare_strings);
        char list[64] = "";
        for (size_t j = 0; j < n; j++)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", j ? " " : "", methods[j]);
        assert_string_equal(list, expected_routes[i].methods);
    }
}

/* Calls fn for every operation. */
static void each_operation(void (*fn)(const char *path, const char *method, json_t *op))
{
    const char *path, *method;
    json_t *item, *op;
    json_object_foreach (at("paths", NULL), path, item)
        json_object_foreach (item, method, op)
            fn(path, method, op);
}

static json_t *operation_ids;

static void check_operation(const char *path, const char *method, json_t *op)
{
    const char *id = json_string_value(json_object_get(op, "operationId"));
    assert_non_null(id);
    assert_null(json_object_get(operation_ids, id)); /* unique */
    json_object_set_new(operation_ids, id, json_true());
    assert_non_null(json_string_value(json_object_get(op, "summary")));
    json_t *responses = json_object_get(op, "responses");
    assert_true(json_object_size(responses) > 0);
    bool public = !strcmp(path, "/api/v1/openapi.json") || !strcmp(path, "/api/v1/portal/login");
    bool portal = !strncmp(path, "/api/v1/portal/", 15) && !public;
    assert_non_null(json_object_get(responses, "5XX"));
    /* The admin bearer everywhere (the document's default) but on the
     * document itself and the portal login; the portal: a subscriber's. */
    json_t *security = json_object_get(op, "security");
    if (public) {
        assert_true(json_is_array(security) && json_array_size(security) == 0);
    } else if (portal) {
        assert_true(json_is_array(security) && json_array_size(security) == 1);
        assert_non_null(json_object_get(json_array_get(security, 0), "subscriber"));
        assert_non_null(json_object_get(responses, "401"));
    } else {
        assert_null(security);
        assert_non_null(json_object_get(responses, "401"));
        assert_non_null(json_object_get(responses, "403"));
    }
    /* Every error answer is an Error. */
    const char *status;
    json_t *response;
    json_object_foreach (responses, status, response) {
        json_t *r = deref(response);
        assert_non_null(json_string_value(json_object_get(r, "description")));
        if (status[0] == '4' || status[0] == '5')
            assert_string_equal(
                json_string_value(json_object_get(
                    json_object_get(json_object_get(json_object_get(r, "content"), "application/json"), "schema"),
                    "$ref")),
                "#/components/schemas/Error");
    }
    /* Path parameters name what the path has, and only that. */
    size_t in_path = 0;
    for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{'))
        in_path++;
    size_t declared = 0;
    size_t i;
    json_t *param;
    json_array_foreach (json_object_get(op, "parameters"), i, param) {
        json_t *p = deref(param);
        const char *name = json_string_value(json_object_get(p, "name"));
        const char *in = json_string_value(json_object_get(p, "in"));
        assert_non_null(name);
        assert_non_null(json_object_get(p, "schema"));
        if (!strcmp(in, "path")) {
            char brace[40];
            snprintf(brace, sizeof(brace), "{%s}", name);
            assert_non_null(strstr(path, brace));
            assert_true(json_is_true(json_object_get(p, "required")));
            declared++;
        } else {
            assert_string_equal(in, "query");
        }
    }
    assert_int_equal(declared, in_path);
    if (in_path > 0)
        assert_non_null(json_object_get(responses, "404"));
    /* Bodies: POST to a collection and PATCH; DELETE answers 204 without one. */
    json_t *body = json_object_get(op, "requestBody");
    if (!strcmp(method, "patch") || (!strcmp(method, "post") && !in_path)) {
        assert_non_null(body);
        assert_non_null(json_object_get(responses, "400"));
    } else {
        assert_null(body);
    }
    if (!strcmp(method, "delete")) {
        assert_non_null(json_object_get(responses, "204"));
        assert_null(json_object_get(json_object_get(responses, "204"), "content"));
    }
    if (!strcmp(method, "post") && !in_path && !public) {
        assert_non_null(json_object_get(responses, "201"));
        assert_non_null(json_object_get(responses, "409"));
    }
    if (!strcmp(path, "/api/v1/portal/login")) { /* a token, or why not */
        assert_non_null(json_object_get(responses, "200"));
        assert_non_null(json_object_get(responses, "401"));
        assert_non_null(json_object_get(responses, "429"));
    }
}

static void test_operations(void **state)
{
    (void)state;
    operation_ids = json_object();
    each_operation(check_operation);
    json_decref(operation_ids);
}

static void test_security_is_bearer(void **state)
{
    (void)state;
    json_t *scheme = at("components", "securitySchemes", "bearer", NULL);
    assert_string_equal(json_string_value(json_object_get(scheme, "type")), "http");
    assert_string_equal(json_string_value(json_object_get(scheme, "scheme")), "bearer");
    json_t *security = at("security", NULL);
    assert_int_equal(json_array_size(security), 1);
    assert_non_null(json_object_get(json_array_get(security, 0), "bearer"));
}

/* The schema an operation answers with (200/201/202), dereferenced. */
static json_t *answer(const char *path, const char *method, const char *status)
{
    json_t *r = deref(at("paths", path, method, "responses", status, NULL));
    return deref(json_object_get(json_object_get(json_object_get(r, "content"), "application/json"), "schema"));
}

static void test_answers(void **state)
{
    (void)state;
    static const struct {
        const char *path, *list, *schema;
    } lists[] = {
        {"/api/v1/channels", "channels", "Channel"},
        {"/api/v1/subscribers", "subscribers", "Subscriber"},
        {"/api/v1/packages", "packages", "Package"},
        {"/api/v1/epg-sources", "epg_sources", "EpgSource"},
        {"/api/v1/token-keys", "token_keys", "TokenKey"},
        {"/api/v1/sessions", "sessions", "Session"},
        {"/api/v1/audit", "sessions", "Session"},
        {"/api/v1/channels/{name}/epg", "programmes", "Programme"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        json_t *s = answer(lists[i].path, "get", "200");
        assert_non_null(s);
        assert_string_equal(json_string_value(json_array_get(json_object_get(s, "required"), 0)), lists[i].list);
        json_t *items = json_object_get(json_object_get(json_object_get(s, "properties"), lists[i].list), "items");
        assert_true(deref(items) == schema(lists[i].schema));
    }
    assert_true(answer("/api/v1/channels/{name}", "get", "200") == schema("Channel"));
    assert_true(answer("/api/v1/channels", "post", "201") == schema("Channel"));
    assert_true(answer("/api/v1/subscribers/{name}", "patch", "200") == schema("Subscriber"));
    /* An import answers when it is done, with what it did; one at a time. */
    json_t *report = answer("/api/v1/epg-sources/{name}/import", "post", "200");
    assert_true(report == schema("ImportReport"));
    assert_non_null(json_object_get(json_object_get(report, "properties"), "programmes_stored"));
    assert_non_null(at("paths", "/api/v1/epg-sources/{name}/import", "post", "responses", "409", NULL));
    assert_non_null(at("paths", "/api/v1/epg-sources/{name}/import", "post", "responses", "400", NULL));
    /* The guide names its channel beside the list. */
    json_t *epg = answer("/api/v1/channels/{name}/epg", "get", "200");
    assert_non_null(json_object_get(json_object_get(epg, "properties"), "channel"));
    assert_int_equal(json_array_size(json_object_get(epg, "required")), 2);
    json_t *token = answer("/api/v1/subscribers/{name}/tokens", "post", "201");
    assert_true(token == schema("IssuedToken"));
    static const char *const token_keys[] = {"token", "expires", "playlist_url", "epg_url"};
    for (size_t i = 0; i < ARRAY_SIZE(token_keys); i++)
        assert_non_null(json_object_get(json_object_get(token, "properties"), token_keys[i]));
    json_t *error = schema("Error");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(error, "properties"), "error"), "type")),
                        "string");
    assert_string_equal(json_string_value(json_array_get(json_object_get(error, "required"), 0)), "error");
}

static void test_query_parameters(void **state)
{
    (void)state;
    static const struct {
        const char *path, *names;
    } expected[] = {
        {"/api/v1/channels/{name}/epg", "from to"},
        {"/api/v1/sessions", "subscriber channel from to limit"},
        {"/api/v1/audit", "subscriber channel from to limit"},
        {"/api/v1/channels", ""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(expected); i++) {
        char names[128] = "";
        size_t j;
        json_t *param;
        json_array_foreach (at("paths", expected[i].path, "get", "parameters", NULL), j, param) {
            json_t *p = deref(param);
            if (strcmp(json_string_value(json_object_get(p, "in")), "query"))
                continue;
            assert_false(json_is_true(json_object_get(p, "required")));
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", names[0] ? " " : "",
                     json_string_value(json_object_get(p, "name")));
        }
        assert_string_equal(names, expected[i].names);
    }
    json_t *limit = at("components", "parameters", "limit", "schema", NULL);
    assert_int_equal(json_integer_value(json_object_get(limit, "minimum")), 1);
    assert_int_equal(json_integer_value(json_object_get(limit, "maximum")), 100000);
}

/* ---- schemas against the field tables ---------------------------------------------------------------- */

static const struct {
    const char *schema;
    const field_t *fields;
    const size_t *count;
    bool has_update;
} tables[] = {
    {"Channel", channel_fields, &channel_field_count, true},
    {"Subscriber", subscriber_fields, &subscriber_field_count, true},
    {"Package", package_fields, &package_field_count, true},
    {"EpgSource", epg_source_fields, &epg_source_field_count, true},
    {"TokenKey", token_key_fields, &token_key_field_count, true},
};

static bool type_is(json_t *s, const char *type)
{
    json_t *t = json_object_get(s, "type");
    if (json_is_string(t))
        return !strcmp(json_string_value(t), type);
    size_t i;
    json_t *one;
    json_array_foreach (t, i, one)
        if (!strcmp(json_string_value(one), type))
            return true;
    return false;
}

static void check_field(const field_t *f, json_t *p, bool update)
{
    bool readonly = f->flags & (FIELD_READONLY | FIELD_AUTO);
    switch (f->type) {
    case FIELD_STRING:
        assert_true(type_is(p, "string"));
        if (f->max > 0)
            assert_int_equal(json_integer_value(json_object_get(p, "maxLength")), f->max);
        break;
    case FIELD_INT:
        assert_true(type_is(p, "integer"));
        assert_true(json_integer_value(json_object_get(p, "minimum")) == f->min);
        assert_true(json_integer_value(json_object_get(p, "maximum")) == f->max);
        break;
    case FIELD_BOOL:
        assert_true(type_is(p, "boolean"));
        break;
    case FIELD_ENUM: {
        assert_true(type_is(p, "string"));
        json_t *choices = json_object_get(p, "enum");
        size_t n = 0;
        for (; f->choices[n]; n++)
            assert_string_equal(json_string_value(json_array_get(choices, n)), f->choices[n]);
        assert_int_equal(json_array_size(choices), n);
        break;
    }
    case FIELD_STRINGS:
        assert_true(type_is(p, "array"));
        assert_true(type_is(json_object_get(p, "items"), "string"));
        if (f->max > 0)
            assert_int_equal(json_integer_value(json_object_get(p, "maxItems")), f->max);
        break;
    }
    assert_true(json_is_true(json_object_get(p, "readOnly")) == readonly);
    assert_false(update && readonly);
    assert_true(json_is_true(json_object_get(p, "writeOnly")) == !!(f->flags & FIELD_SECRET));
    if (f->help)
        assert_string_equal(json_string_value(json_object_get(p, "description")), f->help);
}

static void test_schemas_follow_the_field_tables(void **state)
{
    (void)state;
    for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
        json_t *s = schema(tables[t].schema);
        assert_non_null(s);
        assert_string_equal(json_string_value(json_object_get(s, "type")), "object");
        assert_true(json_is_false(json_object_get(s, "additionalProperties")));
        json_t *required = json_object_get(s, "required");
        assert_int_equal(json_array_size(required), 1);
        assert_string_equal(json_string_value(json_array_get(required, 0)), tables[t].fields[0].name);
        json_t *properties = json_object_get(s, "properties");
        for (size_t i = 0; i < *tables[t].count; i++) {
            const field_t *f = &tables[t].fields[i];
            json_t *p = json_object_get(properties, f->name);
            if ((f->flags & FIELD_SECRET) && (f->flags & (FIELD_READONLY | FIELD_AUTO))) {
                assert_null(p);
                continue;
            }
            if (!p)
                fail_msg("%s.%s missing", tables[t].schema, f->name);
            check_field(f, p, false);
        }
        char name[64];
        snprintf(name, sizeof(name), "%sUpdate", tables[t].schema);
        json_t *u = schema(name);
        if (!tables[t].has_update) {
            assert_null(u);
            continue;
        }
        assert_non_null(u);
        assert_null(json_object_get(u, "required"));
        assert_true(json_is_false(json_object_get(u, "additionalProperties")));
        json_t *uprops = json_object_get(u, "properties");
        for (size_t i = 0; i < *tables[t].count; i++) {
            const field_t *f = &tables[t].fields[i];
            json_t *p = json_object_get(uprops, f->name);
            if (i == 0 || (f->flags & (FIELD_READONLY | FIELD_AUTO)))
                assert_null(p); /* the name cannot change; read-only is not settable */
            else
                check_field(f, p, true);
        }
    }
}

static void test_known_values(void **state)
{
    (void)state;
    json_t *max_streams = at("components", "schemas", "Subscriber", "properties", "max_streams", NULL);
    assert_int_equal(json_integer_value(json_object_get(max_streams, "maximum")), 1000);
    assert_int_equal(json_integer_value(json_object_get(max_streams, "minimum")), 0);
    json_t *sources = at("components", "schemas", "Channel", "properties", "sources", NULL);
    assert_int_equal(json_integer_value(json_object_get(sources, "maxItems")), 16);
    json_t *policy = at("components", "schemas", "Subscriber", "properties", "limit_policy", "enum", NULL);
    assert_string_equal(json_string_value(json_array_get(policy, 0)), "refuse-new");
    assert_string_equal(json_string_value(json_array_get(policy, 1)), "end-oldest");
    json_t *created = at("components", "schemas", "Package", "properties", "created_at", NULL);
    assert_true(json_is_true(json_object_get(created, "readOnly")));
    /* The live state of a channel comes with it. */
    json_t *state_enum = at("components", "schemas", "Channel", "properties", "state", "enum", NULL);
    assert_int_equal(json_array_size(state_enum), 5);
    assert_string_equal(json_string_value(json_array_get(state_enum, 2)), "up");
    assert_string_equal(json_string_value(json_array_get(state_enum, 3)), "degraded");
    assert_true(json_is_true(at("components", "schemas", "Channel", "properties", "viewers", "readOnly", NULL)));
    assert_null(at("components", "schemas", "ChannelUpdate", "properties", "state", NULL));
}

static void test_password_is_write_only(void **state)
{
    (void)state;
    static const char *const names[] = {"Subscriber", "SubscriberUpdate"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        json_t *p = at("components", "schemas", names[i], "properties", "password", NULL);
        assert_non_null(p);
        assert_true(json_is_true(json_object_get(p, "writeOnly")));
        assert_string_equal(json_string_value(json_object_get(p, "type")), "string");
        assert_int_equal(json_integer_value(json_object_get(p, "maxLength")), 200); /* as src/app/api.c checks */
    }
    assert_null(at("components", "schemas", "Package", "properties", "password", NULL));
}

/* No secret can be read: wherever a secret field's name appears as a
 * property, it is writeOnly; password_hash appears nowhere. */
static void check_no_secret(json_t *node)
{
    if (json_is_object(node)) {
        json_t *properties = json_object_get(node, "properties");
        for (size_t t = 0; json_is_object(properties) && t < ARRAY_SIZE(tables); t++) {
            for (size_t i = 0; i < *tables[t].count; i++) {
                const field_t *f = &tables[t].fields[i];
                json_t *p = json_object_get(properties, f->name);
                if ((f->flags & FIELD_SECRET) && p && !json_is_true(json_object_get(p, "writeOnly")))
                    fail_msg("secret %s readable", f->name);
            }
        }
        const char *key;
        json_t *value;
        json_object_foreach (node, key, value)
            check_no_secret(value);
    } else if (json_is_array(node)) {
        size_t i;
        json_t *value;
        json_array_foreach (node, i, value)
            check_no_secret(value);
    }
}

static void test_no_secret_is_readable(void **state)
{
    (void)state;
    check_no_secret(doc);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_null(strstr(text, "password_hash"));
    assert_null(strstr(text, "\"hash\""));
    free(text);
    static const char *const keys[] = {"TokenKey", "TokenKeyUpdate"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        json_t *secret = at("components", "schemas", keys[i], "properties", "secret", NULL);
        assert_non_null(secret);
        assert_true(json_is_true(json_object_get(secret, "writeOnly")));
    }
}

static void test_session_and_programme(void **state)
{
    (void)state;
    static const char *const session[] = {"id",         "subscriber", "channel",  "device",   "client_ip",
                                          "user_agent", "server",     "kind",     "started_at", "last_seen",
                                          "ended_at",   "end_reason", "bytes"};
    json_t *p = at("components", "schemas", "Session", "properties", NULL);
    assert_int_equal(json_object_size(p), ARRAY_SIZE(session));
    for (size_t i = 0; i < ARRAY_SIZE(session); i++)
        assert_non_null(json_object_get(p, session[i]));
    assert_true(type_is(json_object_get(p, "ended_at"), "integer")); /* 0 while it runs */
    assert_true(type_is(json_object_get(p, "end_reason"), "null"));  /* null while it runs */
    static const char *const programme[] = {"start", "stop", "start_unix", "stop_unix", "title", "subtitle"};
    p = at("components", "schemas", "Programme", "properties", NULL);
    for (size_t i = 0; i < ARRAY_SIZE(programme); i++)
        assert_non_null(json_object_get(p, programme[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document_is_valid_json),
        cmocka_unit_test(test_every_reference_resolves),
        cmocka_unit_test(test_every_route_with_its_methods),
        cmocka_unit_test(test_operations),
        cmocka_unit_test(test_security_is_bearer),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_query_parameters),
        cmocka_unit_test(test_schemas_follow_the_field_tables),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_password_is_write_only),
        cmocka_unit_test(test_no_secret_is_readable),
        cmocka_unit_test(test_session_and_programme),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
