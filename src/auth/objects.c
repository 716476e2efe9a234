// SPDX-License-Identifier: MIT
// objects.c -- the subscriber, package, EPG source and key objects: one
// field table each drives the store's columns, the API's JSON and the CLI.
#include "auth/auth.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const limit_policy_names[] = {"refuse-new", "end-oldest", NULL};

static int check_member(const char *value, char *err, size_t err_size)
{
    if (parse_name_valid(value))
        return 0;
    snprintf(err, err_size, "'%.80s' is not a valid name (1-64 of a-z, 0-9, '-' and '_')", value);
    return -EINVAL;
}

/* Parses "YYYY-MM-DD" (the end of that day, UTC) or "YYYY-MM-DDTHH:MM:SSZ". */
static int parse_expiry(const char *text, int64_t *out)
{
    struct tm tm = {0};
    int n = 0;
    if (sscanf(text, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
        return -EINVAL;
    bool date_only = text[10] == '\0';
    if (!date_only) {
        int m = 0;
        if (sscanf(text + 10, "T%2d:%2d:%2dZ%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &m) != 3 || m != 10 ||
            text[20] != '\0')
            return -EINVAL;
    }
    if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -EINVAL;
    int day = tm.tm_mday;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    struct tm check;
    if (t == (time_t)-1 || !gmtime_r(&t, &check) || check.tm_mday != day)
        return -EINVAL; /* 2026-02-30 */
    *out = (int64_t)t + (date_only ? 86400 : 0);
    return 0;
}

static int check_expiry(const char *value, char *err, size_t err_size)
{
    int64_t t;
    if (!*value || parse_expiry(value, &t) == 0)
        return 0;
    snprintf(err, err_size, "expires: '%.40s' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", value);
    return -EINVAL;
}

int subscriber_expiry(const subscriber_t *subscriber, int64_t *expires)
{
    *expires = 0;
    if (!subscriber->expires || !*subscriber->expires)
        return 0;
    return parse_expiry(subscriber->expires, expires);
}

static int check_key_name(const char *value, char *err, size_t err_size)
{
    uint64_t id;
    if (value[0] == 'k' && parse_u64(value + 1, 0, 255, &id) == 0)
        return 0;
    snprintf(err, err_size, "name: '%.40s' must be k0 to k255", value);
    return -EINVAL;
}

static int check_key_secret(const char *value, char *err, size_t err_size)
{
    uint8_t secret[AUTH_KEY_BYTES];
    if (auth_key_from_hex(value, secret) == 0)
        return 0;
    snprintf(err, err_size, "secret: must be 64 hexadecimal digits");
    return -EINVAL;
}

static int check_epg_url(const char *value, char *err, size_t err_size)
{
    if (!strncmp(value, "http://", 7) || !strncmp(value, "https://", 8) || !strncmp(value, "file://", 7) ||
        value[0] == '/')
        return 0;
    snprintf(err, err_size, "url: '%.80s' must be http://, https://, file:// or an absolute path", value);
    return -EINVAL;
}

#define TIMESTAMPS(type)                                                                                        \
    {"created_at", FIELD_STRING, offsetof(type, created_at), 0, 40, NULL, "when it was created", NULL,          \
     FIELD_READONLY | FIELD_AUTO},                                                                                           \
    {"updated_at", FIELD_STRING, offsetof(type, updated_at), 0, 40, NULL, "when it last changed", NULL,         \
     FIELD_READONLY | FIELD_AUTO}

#define SF(member) offsetof(subscriber_t, member)
const field_t subscriber_fields[] = {
    {"name", FIELD_STRING, SF(name), 0, 64, NULL, "username (a-z 0-9 - _)", fields_check_name, 0},
    {"password_hash", FIELD_STRING, SF(password_hash), 0, AUTH_PASSWORD_HASH_MAX, NULL, "argon2id hash", NULL,
     FIELD_SECRET | FIELD_READONLY},
    {"enabled", FIELD_BOOL, SF(enabled), 0, 0, NULL, "may watch", NULL, 0},
    {"expires", FIELD_STRING, SF(expires), 0, 20, NULL, "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); empty: never",
     check_expiry, 0},
    {"max_streams", FIELD_INT, SF(max_streams), 0, 1000, NULL, "streams at once across all servers; 0: no limit",
     NULL, 0},
    {"limit_policy", FIELD_ENUM, SF(limit_policy), 0, 0, limit_policy_names,
     "over the limit: refuse-new (403) or end-oldest", NULL, 0},
    {"packages", FIELD_STRINGS, SF(packages), 0, 256, NULL, "package; repeat for more", check_member, 0},
    {"allowed_ips", FIELD_STRINGS, SF(allowed_ips), 0, 64, NULL, "address range (CIDR) allowed; repeat for more",
     auth_cidr_check, 0},
    {"bind_ip", FIELD_BOOL, SF(bind_ip), 0, 0, NULL, "tokens only work from the address they were issued to", NULL,
     0},
    {"notes", FIELD_STRING, SF(notes), 0, 2000, NULL, "free text for the operator", NULL, 0},
    {"token_id", FIELD_INT, SF(token_id), 0, INT64_MAX, NULL, "carried in tokens", NULL, FIELD_READONLY},
    TIMESTAMPS(subscriber_t),
};
const size_t subscriber_field_count = ARRAY_SIZE(subscriber_fields);

#define PF(member) offsetof(package_t, member)
const field_t package_fields[] = {
    {"name", FIELD_STRING, PF(name), 0, 64, NULL, "package name (a-z 0-9 - _)", fields_check_name, 0},
    {"title", FIELD_STRING, PF(title), 0, 200, NULL, "name subscribers see", NULL, 0},
    {"channels", FIELD_STRINGS, PF(channels), 0, 10000, NULL, "channel; repeat for more", check_member, 0},
    TIMESTAMPS(package_t),
};
const size_t package_field_count = ARRAY_SIZE(package_fields);

#define EF(member) offsetof(epg_source_t, member)
const field_t epg_source_fields[] = {
    {"name", FIELD_STRING, EF(name), 0, 64, NULL, "EPG source name (a-z 0-9 - _)", fields_check_name, 0},
    {"url", FIELD_STRING, EF(url), 0, 2000, NULL, "XMLTV file or URL (.xml or .xml.gz)", check_epg_url, 0},
    {"refresh_hours", FIELD_INT, EF(refresh_hours), 0, 720, NULL, "import every N hours; 0: only on request",
     NULL, 0},
    {"days", FIELD_INT, EF(days), 1, 60, NULL, "days of programmes kept ahead", NULL, 0},
    {"last_import", FIELD_STRING, EF(last_import), 0, 40, NULL, "when it was last imported", NULL, FIELD_READONLY},
    {"last_result", FIELD_STRING, EF(last_result), 0, 1000, NULL, "what the last import did", NULL,
     FIELD_READONLY},
    TIMESTAMPS(epg_source_t),
};
const size_t epg_source_field_count = ARRAY_SIZE(epg_source_fields);

#define KF(member) offsetof(token_key_t, member)
const field_t token_key_fields[] = {
    {"name", FIELD_STRING, KF(name), 0, 4, NULL, "key id: k0 to k255", check_key_name, 0},
    {"secret", FIELD_STRING, KF(secret), 0, 64, NULL, "64 hex digits", check_key_secret, FIELD_SECRET},
    {"retired", FIELD_BOOL, KF(retired), 0, 0, NULL, "no longer signs nor verifies", NULL, 0},
    TIMESTAMPS(token_key_t),
};
const size_t token_key_field_count = ARRAY_SIZE(token_key_fields);

#define AF(member) offsetof(admin_token_t, member)
const field_t admin_token_fields[] = {
    {"name", FIELD_STRING, AF(name), 0, 64, NULL, "token name", fields_check_name, 0},
    {"hash", FIELD_STRING, AF(hash), 0, 64, NULL, "SHA-256 of the token, hex", NULL, FIELD_SECRET},
    TIMESTAMPS(admin_token_t),
};
const size_t admin_token_field_count = ARRAY_SIZE(admin_token_fields);

void subscriber_defaults(subscriber_t *subscriber)
{
    memset(subscriber, 0, sizeof(*subscriber));
    subscriber->enabled = true;
    subscriber->max_streams = 1;
    subscriber->limit_policy = LIMIT_REFUSE_NEW;
}

void package_defaults(package_t *package) { memset(package, 0, sizeof(*package)); }

void epg_source_defaults(epg_source_t *source)
{
    memset(source, 0, sizeof(*source));
    source->refresh_hours = 12;
    source->days = 7;
}
