// SPDX-License-Identifier: MIT
// fuzz_config.c -- fuzz target for the configuration values: src/core/fields.c
// and src/core/parse.c over the field tables of a channel (src/channel/
// config.c) and of the auth objects (src/auth/objects.c, with the checks of
// src/auth/cidr.c and the key parsing), which the CLI and the JSON API both
// set values through.
//
// Input: one byte picking the object (channel, subscriber, package, EPG
// source, token key, admin token), then lines "name=value" applied in turn
// as the CLI applies its options (a name may use '-' for '_'; an unknown
// name picks a field by its first byte, so values reach every field). Each
// accepted value must obey its field (type, range, length, no control
// characters) and what its check promised (a name is a valid name, a source
// parses as a URL, a range contains its own address, an expiry date
// parses); every refusal says why. The object must then copy and compare
// equal, and clear without a leak. The numbers of parse.c are compared with
// strtoull.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "channel/channel.h"
#include "core/core.h"
#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERR_SIZE 256

typedef union object {
    channel_config_t channel;
    subscriber_t subscriber;
    package_t package;
    epg_source_t epg_source;
    token_key_t token_key;
    admin_token_t admin_token;
} object_t;

typedef struct kind {
    const field_t *fields;
    const size_t *count;
    void (*defaults)(object_t *object);
} kind_t;

static void channel_defaults(object_t *o) { channel_config_defaults(&o->channel); }
static void subscriber_defaults_(object_t *o) { subscriber_defaults(&o->subscriber); }
static void package_defaults_(object_t *o) { package_defaults(&o->package); }
static void epg_source_defaults_(object_t *o) { epg_source_defaults(&o->epg_source); }
static void zero_defaults(object_t *o) { memset(o, 0, sizeof(*o)); }

static const kind_t kinds[] = {
    {channel_fields, &channel_field_count, channel_defaults},
    {subscriber_fields, &subscriber_field_count, subscriber_defaults_},
    {package_fields, &package_field_count, package_defaults_},
    {epg_source_fields, &epg_source_field_count, epg_source_defaults_},
    {token_key_fields, &token_key_field_count, zero_defaults},
    {admin_token_fields, &admin_token_field_count, zero_defaults},
};

/* What fields_set promises about a field's value. */
static void check_field(const field_t *f, const void *object)
{
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

/* What a field's check promised about a value it accepted. */
static void check_accepted(const field_t *f, const char *value)
{
    if (f->check == fields_check_name && !parse_name_valid(value))
        abort();
    if (!strcmp(f->name, "sources")) {
        ingest_url_t url;
        char why[200];
        if (ingest_url_parse(value, &url, why, sizeof(why)) != 0 || !memchr(url.host, 0, sizeof(url.host)) ||
            !memchr(url.path, 0, sizeof(url.path)))
            abort();
    } else if (f->check == auth_cidr_check) {
        /* A network contains its own address, as text and as a range. */
        char address[64];
        size_t len = strcspn(value, "/");
        if (len >= sizeof(address))
            abort();
        memcpy(address, value, len);
        address[len] = '\0';
        char *items[1] = {(char *)value};
        strlist_t ranges = {items, 1};
        if (!auth_ip_in_ranges(address, &ranges))
            abort();
    } else if (!strcmp(f->name, "expires") && *value) {
        subscriber_t s = {.expires = (char *)value};
        int64_t expires;
        if (subscriber_expiry(&s, &expires) != 0 || expires < 0)
            abort();
    } else if (!strcmp(f->name, "secret")) {
        uint8_t secret[AUTH_KEY_BYTES];
        if (auth_key_from_hex(value, secret) != 0)
            abort();
    }
}

/* parse_u64() against strtoull: digits only, 1 to 20 of them, in range;
 * -EINVAL for anything else, -ERANGE for digits out of range. */
static void check_parse_u64(const char *value)
{
    size_t len = strlen(value);
    bool digits = len >= 1 && len <= 20 && strspn(value, "0123456789") == len;
    errno = 0;
    unsigned long long ref = digits ? strtoull(value, NULL, 10) : 0;
    bool fits = digits && errno == 0;
    uint64_t got = 0;
    int rc = parse_u64(value, 0, UINT64_MAX, &got);
    if (rc != (fits ? 0 : digits ? -ERANGE : -EINVAL) || (fits && got != ref))
        abort();
    bool inside = fits && ref >= 10 && ref <= 99999;
    rc = parse_u64(value, 10, 99999, &got);
    if (rc != (inside ? 0 : digits ? -ERANGE : -EINVAL) || (inside && got != ref))
        abort();
}

/* One "name=value" line. */
static void apply(const kind_t *k, object_t *object, char *line)
{
    size_t count = *k->count;
    char *value = strchr(line, '=');
    if (value) {
        *value++ = '\0';
        for (char *c = line; *c; c++)
            if (*c == '-')
                *c = '_'; /* the CLI's spelling */
    } else {
        value = line; /* a value alone: the field is picked below */
    }
    const field_t *f = fields_find(k->fields, count, line);
    if (!f)
        f = &k->fields[(unsigned char)line[0] % count];
    char err[ERR_SIZE];
    memset(err, 0, sizeof(err));
    int rc = fields_set(f, object, value, err, sizeof(err));
    if (rc == 0) {
        check_accepted(f, value);
    } else if (rc != -EINVAL || !memchr(err, 0, sizeof(err)) || !err[0]) {
        abort(); /* a refusal says why */
    }
    for (size_t i = 0; i < count; i++)
        check_field(&k->fields[i], object);
    check_parse_u64(value);
    (void)parse_name_valid(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const kind_t *k = &kinds[data[0] % ARRAY_SIZE(kinds)];
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    object_t object, copy;
    k->defaults(&object);
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        apply(k, &object, line);
    }

    size_t count = *k->count;
    memset(&copy, 0, sizeof(copy));
    if (fields_copy(k->fields, count, &copy, &object) == 0) {
        for (size_t i = 0; i < count; i++)
            if (!fields_equal(&k->fields[i], &copy, &object))
                abort();
        fields_clear(k->fields, count, &copy);
    }
    if (k->fields == channel_fields) {
        char err[ERR_SIZE];
        const channel_config_t *c = &object.channel;
        bool valid = c->name && parse_name_valid(c->name) && c->sources.count > 0;
        if ((channel_config_validate(c, err, sizeof(err)) == 0) != valid)
            abort();
    }
    fields_clear(k->fields, count, &object);
    for (size_t i = 0; i < count; i++) {
        const void *p = (const char *)&object + k->fields[i].offset;
        if ((k->fields[i].type == FIELD_STRING && *(char *const *)p) ||
            (k->fields[i].type == FIELD_STRINGS && ((const strlist_t *)p)->count))
            abort();
    }
    free(text);
    return 0;
}
