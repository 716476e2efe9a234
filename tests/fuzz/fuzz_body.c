// SPDX-License-Identifier: MIT
// fuzz_body.c -- fuzz target for src/admin/body.c: each input is a request
// body, parsed and then applied to a subscriber, a package and a channel,
// both as a creation and as an update. Whatever the input: no crash or leak,
// every error says something in valid UTF-8, and what is accepted obeys the
// field table and survives a round trip through admin_object_json.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "auth/auth.h"
#include "channel/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERR_SIZE 300

/* The error must be a terminated, non-empty, valid UTF-8 message. */
static void check_error(const char *err)
{
    if (!memchr(err, 0, ERR_SIZE) || err[0] == '\0')
        abort();
    json_t *s = json_string(err);
    if (!s)
        abort();
    json_decref(s);
}

/* What fields_set promises: lengths, ranges, counts. */
static void check_object(const field_t *fields, size_t count, const void *object)
{
    for (size_t i = 0; i < count; i++) {
        const field_t *f = &fields[i];
        const void *p = (const char *)object + f->offset;
        switch (f->type) {
        case FIELD_STRING: {
            const char *s = *(char *const *)p;
            if (s && f->max && strlen(s) > (size_t)f->max)
                abort();
            for (; s && *s; s++)
                if ((unsigned char)*s < 0x20)
                    abort();
            break;
        }
        case FIELD_INT:
            if (*(const int64_t *)p < f->min || *(const int64_t *)p > f->max)
                abort();
            break;
        case FIELD_ENUM: {
            int n = 0;
            while (f->choices[n])
                n++;
            if (*(const int *)p < 0 || *(const int *)p >= n)
                abort();
            break;
        }
        case FIELD_STRINGS:
            if (f->max && ((const strlist_t *)p)->count > (size_t)f->max)
                abort();
            break;
        case FIELD_BOOL:
            break;
        }
    }
}

/* Renders the object and applies that to a fresh one (minus what may not be
 * set, and strings left unset, which render as ""): the two must be equal. */
static void check_round_trip(const field_t *fields, size_t count, const void *object, size_t object_size,
                             void (*defaults)(void *))
{
    json_t *json = admin_object_json(fields, count, object);
    if (!json)
        abort();
    for (size_t i = 0; i < count; i++) {
        const field_t *f = &fields[i];
        if ((f->flags & (FIELD_READONLY | FIELD_AUTO | FIELD_SECRET)) ||
            (f->type == FIELD_STRING && !*(char *const *)((const char *)object + f->offset)))
            json_object_del(json, f->name);
    }
    void *copy = malloc(object_size);
    if (!copy)
        abort();
    defaults(copy);
    char err[ERR_SIZE];
    if (admin_object_from_json(fields, count, json, copy, NULL, true, err, sizeof(err)) != 0)
        abort();
    for (size_t i = 0; i < count; i++)
        if (!fields_equal(&fields[i], object, copy))
            abort();
    fields_clear(fields, count, copy);
    free(copy);
    json_decref(json);
}

static void subscriber_init(void *object) { subscriber_defaults(object); }
static void package_init(void *object) { package_defaults(object); }
static void channel_init(void *object) { channel_config_defaults(object); }

/* Applies json to a new object (require_name) and to an existing one. */
static void apply(const json_t *json, const field_t *fields, size_t count, size_t object_size,
                  void (*defaults)(void *), const char *const *extra)
{
    void *object = malloc(object_size);
    if (!object)
        abort();
    for (int update = 0; update < 2; update++) {
        defaults(object);
        if (update && (*(char **)((char *)object + fields[0].offset) = strdup("existing")) == NULL)
            abort();
        char err[ERR_SIZE];
        memset(err, 'x', sizeof(err));
        int rc = admin_object_from_json(fields, count, json, object, extra, !update, err, sizeof(err));
        if (rc == 0) {
            check_object(fields, count, object);
            const char *name = *(char **)((char *)object + fields[0].offset);
            if (!name || (update && strcmp(name, "existing")))
                abort(); /* a name is required, and kept */
            check_round_trip(fields, count, object, object_size, defaults);
        } else if (rc == -EINVAL) {
            check_error(err);
            check_object(fields, count, object); /* partly changed, but never broken */
        } else if (rc != -ENOMEM) {
            abort();
        }
        fields_clear(fields, count, object);
    }
    free(object);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ERR_SIZE];
    memset(err, 'x', sizeof(err));
    json_t *json = admin_body_parse((const char *)data, size, err, sizeof(err));
    if (!json) {
        check_error(err);
        return 0;
    }
    if (!json_is_object(json))
        abort();
    static const char *const extra[] = {"password", NULL};
    apply(json, subscriber_fields, subscriber_field_count, sizeof(subscriber_t), subscriber_init, extra);
    apply(json, package_fields, package_field_count, sizeof(package_t), package_init, NULL);
    apply(json, channel_fields, channel_field_count, sizeof(channel_config_t), channel_init, NULL);
    json_decref(json);
    return 0;
}
