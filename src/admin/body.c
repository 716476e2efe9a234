// SPDX-License-Identifier: MIT
// body.c -- JSON request bodies of the admin API: parsed strictly (RFC 8259,
// no duplicate keys, bounded size and depth), then applied to field-described
// objects through fields_set, so that the API and the CLI check values by the
// same rules and say the same things about them.
#include "admin/admin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Our objects nest two levels (an object of arrays of strings); 8 leaves
 * room and keeps a hostile body from making anyone recurse deeply. jansson's
 * own limit (JSON_PARSER_MAX_DEPTH) is 2048 and cannot be set per call. */
#define BODY_DEPTH_MAX 8

/* Unknown keys and values are quoted in messages at most this long. */
#define QUOTE_MAX 64

/* Messages end up in JSON answers ({"error": ...}) and logs: replaces what
 * is not valid UTF-8 (a sequence cut by truncation, say) and control
 * characters with '?', in place, so that json_string() accepts the text. */
static void text_make_safe(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        bool ok = n > 0;
        uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
        for (size_t i = 1; ok && i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                ok = false; /* also stops at the terminating NUL */
            else
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (ok && ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
                   (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff))
            ok = false; /* overlong, surrogate or out of range */
        if (ok && (cp < 0x20 || cp == 0x7f))
            ok = false;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

static int fail(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
        text_make_safe(err);
    }
    return -EINVAL;
}

/* ---- parsing ------------------------------------------------------------------------ */

/* 1-based line and column of byte `at`, columns counted in characters as
 * jansson counts them. */
static void text_position(const char *text, size_t at, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < at; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            ++*line;
            *column = 1;
        } else if ((c & 0xc0) != 0x80) {
            ++*column;
        }
    }
}

/* Finds the first bracket nested deeper than BODY_DEPTH_MAX, outside
 * strings, without parsing: returns its offset, or len when there is none.
 * On a body that is not JSON the count may be off; jansson then says why. */
static size_t body_too_deep(const char *body, size_t len)
{
    bool in_string = false, escaped = false;
    unsigned depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > BODY_DEPTH_MAX)
                return i;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return len;
}

static const char *json_type_text(const json_t *json)
{
    switch (json_typeof(json)) {
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    case JSON_OBJECT:
        break;
    }
    return "an object";
}

json_t *admin_body_parse(const char *body, size_t len, char *err, size_t err_size)
{
    int line, column;
    if (len > ADMIN_BODY_MAX) {
        fail(err, err_size, "body: larger than %d bytes", ADMIN_BODY_MAX);
        return NULL;
    }
    size_t start = 0;
    while (start < len && (body[start] == ' ' || body[start] == '\t' || body[start] == '\r' || body[start] == '\n'))
        start++;
    if (start == len) {
        fail(err, err_size, "body: empty (a JSON object was expected)");
        return NULL;
    }
    /* jansson refuses NUL bytes too, but outside a string it says "end of
     * file expected near end of file". */
    const char *nul = memchr(body, '\0', len);
    if (nul) {
        text_position(body, (size_t)(nul - body), &line, &column);
        fail(err, err_size, "body: line %d, column %d: NUL byte", line, column);
        return NULL;
    }
    size_t deep = body_too_deep(body, len);
    if (deep < len) {
        text_position(body, deep, &line, &column);
        fail(err, err_size, "body: line %d, column %d: nested deeper than %d levels", line, column, BODY_DEPTH_MAX);
        return NULL;
    }
    /* JSON_DECODE_ANY so that a scalar gets the same message as an array;
     * no JSON_DISABLE_EOF_CHECK: anything after the object is an error;
     * no JSON_ALLOW_NUL: "\u0000" in a string is refused. jansson refuses
     * invalid UTF-8 and lone surrogates itself. */
    json_error_t error;
    json_t *json = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
    if (!json) {
        fail(err, err_size, "body: line %d, column %d: %s", error.line, error.column, error.text);
        return NULL;
    }
    if (!json_is_object(json)) {
        fail(err, err_size, "body: must be a JSON object, not %s", json_type_text(json));
        json_decref(json);
        return NULL;
    }
    return json;
}

/* ---- applying to an object ------------------------------------------------------------ */

/* Rewrites a message from fields_set or a field's check so that it begins
 * with `label` (the JSON key, or "key[i]" for an item of a list): a leading
 * "word: " (the field's or the CLI flag's name, as in "source: ...") is
 * replaced, anything else gets the label in front. */
static int relabel(char *err, size_t err_size, const char *label, int rc)
{
    if (rc == -ENOMEM) {
        fail(err, err_size, "%s: out of memory", label);
        return rc;
    }
    if (err_size == 0)
        return rc;
    char message[512];
    snprintf(message, sizeof(message), "%s", err);
    const char *rest = message;
    size_t word = strspn(message, "abcdefghijklmnopqrstuvwxyz0123456789_-");
    if (word > 0 && message[word] == ':' && message[word + 1] == ' ')
        rest = message + word + 2;
    fail(err, err_size, "%s: %s", label, *rest ? rest : "invalid value");
    return rc;
}

/* Optimal string alignment distance (edits, with swapping two neighbours as
 * one), for "did you mean"; both strings at most QUOTE_MAX bytes. */
static unsigned edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d[QUOTE_MAX + 1][QUOTE_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1u < best)
                best = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < best)
                best = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1u < best)
                best = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)best;
        }
    }
    return d[la][lb];
}

static bool field_writable(const field_t *f) { return !(f->flags & (FIELD_READONLY | FIELD_AUTO)); }

/* Keeps `candidate` if it is nearer to `key` than *best: at most 2 edits,
 * and fewer than half the candidate's length (so "id" suggests nothing). */
static void consider(const char *key, const char *candidate, const char **best, unsigned *best_distance)
{
    size_t len = strlen(candidate);
    if (len > QUOTE_MAX)
        return;
    unsigned distance = edit_distance(key, candidate);
    if (distance < *best_distance && distance * 2 < len) {
        *best = candidate;
        *best_distance = distance;
    }
}

/* The settable key nearest to an unknown one, if it looks like a typo. */
static const char *nearest_key(const field_t *fields, size_t count, const char *const *extra_keys, const char *key)
{
    size_t len = strlen(key);
    if (len > QUOTE_MAX)
        return NULL;
    char lower[QUOTE_MAX + 1];
    for (size_t i = 0; i <= len; i++)
        lower[i] = key[i] >= 'A' && key[i] <= 'Z' ? (char)(key[i] - 'A' + 'a') : key[i];
    const char *best = NULL;
    unsigned best_distance = 3;
    for (size_t i = 0; i < count; i++)
        if (field_writable(&fields[i]))
            consider(lower, fields[i].name, &best, &best_distance);
    for (size_t i = 0; extra_keys && extra_keys[i]; i++)
        consider(lower, extra_keys[i], &best, &best_distance);
    return best;
}

/* The value as a C string for fields_set; a string holding "\u0000" (which
 * the parser refuses, but a caller may build one) is refused like any other
 * control character. */
static int string_value(const json_t *value, const char *label, const char **out, char *err, size_t err_size)
{
    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    size_t nul = strlen(s);
    if (nul != len)
        return fail(err, err_size, "%s: control character at offset %zu", label, nul);
    *out = s;
    return 0;
}

/* FIELD_STRINGS: builds the new list aside (a copy of the field that lives
 * at offset 0 of a lone strlist_t), so the old one stays whole on error. */
static int set_strings(const field_t *f, void *object, const json_t *value, char *err, size_t err_size)
{
    size_t size = json_is_array(value) ? json_array_size(value) : 0;
    bool ok = json_is_array(value) && (f->max <= 0 || size <= (size_t)f->max);
    for (size_t i = 0; ok && i < size; i++)
        ok = json_is_string(json_array_get(value, i));
    if (!ok) {
        if (f->max > 0)
            return fail(err, err_size, "%s: must be an array of strings (at most %lld)", f->name, (long long)f->max);
        return fail(err, err_size, "%s: must be an array of strings", f->name);
    }
    field_t one = *f;
    one.offset = 0;
    strlist_t list = {0};
    for (size_t i = 0; i < size; i++) {
        char label[QUOTE_MAX + 24];
        snprintf(label, sizeof(label), "%s[%zu]", f->name, i);
        const char *s = NULL;
        int rc = string_value(json_array_get(value, i), label, &s, err, err_size);
        if (rc == 0) {
            if (err_size > 0)
                err[0] = '\0'; /* in case a check fails without a word */
            rc = fields_set(&one, &list, s, err, err_size);
            if (rc < 0)
                rc = relabel(err, err_size, label, rc);
        }
        if (rc < 0) {
            strlist_clear(&list);
            return rc;
        }
    }
    strlist_t *target = (strlist_t *)((char *)object + f->offset);
    strlist_clear(target);
    *target = list;
    return 0;
}

static int set_field(const field_t *f, void *object, const json_t *value, char *err, size_t err_size)
{
    char text[32];
    const char *s = NULL;
    switch (f->type) {
    case FIELD_STRING:
        if (json_is_null(value)) {
            char **p = (char **)((char *)object + f->offset);
            free(*p);
            *p = NULL;
            return 0;
        }
        if (!json_is_string(value))
            return fail(err, err_size, "%s: must be a string", f->name);
        if (string_value(value, f->name, &s, err, err_size) < 0)
            return -EINVAL;
        break;
    case FIELD_INT: {
        json_int_t n = json_is_integer(value) ? json_integer_value(value) : 0;
        if (!json_is_integer(value) || n < f->min || n > f->max)
            return fail(err, err_size, "%s: must be an integer from %lld to %lld", f->name, (long long)f->min,
                        (long long)f->max);
        snprintf(text, sizeof(text), "%lld", (long long)n);
        s = text;
        break;
    }
    case FIELD_BOOL:
        if (!json_is_boolean(value))
            return fail(err, err_size, "%s: must be true or false", f->name);
        s = json_is_true(value) ? "true" : "false";
        break;
    case FIELD_ENUM: {
        for (size_t i = 0; json_is_string(value) && f->choices[i]; i++)
            if (!strcmp(f->choices[i], json_string_value(value)))
                s = f->choices[i];
        if (!s) {
            char choices[256] = "";
            size_t used = 0;
            for (size_t i = 0; f->choices[i] && used < sizeof(choices); i++)
                used += (size_t)snprintf(choices + used, sizeof(choices) - used, "%s%s", i ? ", " : "",
                                         f->choices[i]);
            return fail(err, err_size, "%s: must be one of: %s", f->name, choices);
        }
        break;
    }
    case FIELD_STRINGS:
        return set_strings(f, object, value, err, err_size);
    }
    if (err_size > 0)
        err[0] = '\0';
    int rc = fields_set(f, object, s, err, err_size);
    return rc < 0 ? relabel(err, err_size, f->name, rc) : 0;
}

static bool key_listed(const char *const *keys, const char *key)
{
    for (size_t i = 0; keys && keys[i]; i++)
        if (!strcmp(keys[i], key))
            return true;
    return false;
}

int admin_object_from_json(const field_t *fields, size_t count, const json_t *json, void *object,
                           const char *const *extra_keys, bool require_name, char *err, size_t err_size)
{
    if (!json_is_object(json))
        return fail(err, err_size, "body: must be a JSON object");
    if (count == 0)
        return fail(err, err_size, "body: nothing can be set");
    const field_t *name = &fields[0];
    if (require_name) {
        const json_t *value = json_object_get(json, name->name);
        if (!value || json_is_null(value))
            return fail(err, err_size, "%s: required", name->name);
    }
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *)json, key, value) {
        if (key_listed(extra_keys, key))
            continue;
        const field_t *f = fields_find(fields, count, key);
        if (!f) {
            const char *near = nearest_key(fields, count, extra_keys, key);
            if (near)
                return fail(err, err_size, "%.*s: unknown field (did you mean %s?)", QUOTE_MAX, key, near);
            return fail(err, err_size, "%.*s: unknown field", QUOTE_MAX, key);
        }
        if (!field_writable(f))
            return fail(err, err_size, "%s: read-only", f->name);
        /* An existing object keeps its name: the store finds it by name, and
         * URLs and references use it. Repeating it is harmless. */
        if (f == name && !require_name && f->type == FIELD_STRING) {
            const char *current = *(char *const *)((const char *)object + f->offset);
            if (current) {
                if (json_is_string(value) && !strcmp(json_string_value(value), current))
                    continue;
                return fail(err, err_size, "%s: cannot be changed", f->name);
            }
        }
        if (f == name && json_is_null(value))
            return fail(err, err_size, "%s: must be a string", f->name);
        int rc = set_field(f, object, value, err, err_size);
        if (rc < 0)
            return rc;
    }
    return 0;
}
