// SPDX-License-Identifier: MIT
// access.c -- who may watch what, answered from memory: a snapshot of
// subscribers, packages, signing keys and admin tokens, loaded off the loop
// whenever the database changes. A request is never held up by the database
// to learn whether it is allowed; only starting a stream is (the fleet-wide
// limit, sessions.c).
#include "app/app_private.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KIND(fn, table, type, fields, field_count)                                                    \
    const store_kind_t *fn(void)                                                                       \
    {                                                                                                  \
        static store_kind_t kind;                                                                      \
        kind = (store_kind_t){table, fields, field_count, sizeof(type)};                               \
        return &kind;                                                                                  \
    }

KIND(app_subscriber_kind, "subscribers", subscriber_t, subscriber_fields, subscriber_field_count)
KIND(app_package_kind, "packages", package_t, package_fields, package_field_count)
KIND(app_epg_source_kind, "epg_sources", epg_source_t, epg_source_fields, epg_source_field_count)
KIND(app_token_key_kind, "token_keys", token_key_t, token_key_fields, token_key_field_count)
KIND(app_admin_token_kind, "admin_tokens", admin_token_t, admin_token_fields, admin_token_field_count)

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int compare_token(const void *a, const void *b)
{
    int64_t x = (*(const subscriber_t *const *)a)->token_id, y = (*(const subscriber_t *const *)b)->token_id;
    return x < y ? -1 : x > y;
}

void access_snapshot_free(access_snapshot_t *snapshot)
{
    if (!snapshot)
        return;
    store_free_list(app_subscriber_kind(), snapshot->subscribers, snapshot->subscriber_count);
    store_free_list(app_package_kind(), snapshot->packages, snapshot->package_count);
    store_free_list(app_admin_token_kind(), snapshot->admin_tokens, snapshot->admin_token_count);
    store_free_list(app_epg_source_kind(), snapshot->epg_sources, snapshot->epg_source_count);
    free(snapshot->by_token);
    free(snapshot->packaged);
    auth_keyring_free(snapshot->keyring);
    free(snapshot);
}

static int load_keys(store_t *store, auth_keyring_t *keyring)
{
    void *list;
    size_t count;
    int rc = store_list(store, app_token_key_kind(), &list, &count);
    if (rc < 0)
        return rc;
    const token_key_t *keys = list;
    /* The newest key signs: add them oldest first. */
    for (size_t pass = 0; pass < count; pass++) {
        size_t oldest = count;
        for (size_t i = 0; i < count; i++) {
            if (keys[i].name[0] == '\0')
                continue;
            if (oldest == count || strcmp(keys[i].created_at ? keys[i].created_at : "",
                                          keys[oldest].created_at ? keys[oldest].created_at : "") < 0)
                oldest = i;
        }
        if (oldest == count)
            break;
        uint8_t secret[AUTH_KEY_BYTES];
        uint64_t id;
        if (parse_u64(keys[oldest].name + 1, 0, 255, &id) == 0 && auth_key_from_hex(keys[oldest].secret, secret) == 0)
            auth_keyring_add(keyring, (uint8_t)id, secret, keys[oldest].retired);
        sodium_memzero(secret, sizeof(secret));
        keys[oldest].name[0] = '\0'; /* taken */
    }
    store_free_list(app_token_key_kind(), list, count);
    return 0;
}

int access_snapshot_load(store_t *store, access_snapshot_t **out)
{
    access_snapshot_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    void *list;
    int rc = store_list(store, app_subscriber_kind(), &list, &s->subscriber_count);
    if (rc < 0)
        goto fail;
    s->subscribers = list;
    rc = store_list(store, app_package_kind(), &list, &s->package_count);
    if (rc < 0)
        goto fail;
    s->packages = list;
    rc = store_list(store, app_admin_token_kind(), &list, &s->admin_token_count);
    if (rc < 0)
        goto fail;
    s->admin_tokens = list;
    rc = store_list(store, app_epg_source_kind(), &list, &s->epg_source_count);
    if (rc < 0)
        goto fail;
    s->epg_sources = list;
    rc = -ENOMEM;
    s->keyring = auth_keyring_new();
    if (!s->keyring)
        goto fail;
    rc = load_keys(store, s->keyring);
    if (rc < 0)
        goto fail;
    rc = -ENOMEM;
    s->by_token = calloc(s->subscriber_count + 1, sizeof(*s->by_token));
    if (!s->by_token)
        goto fail;
    for (size_t i = 0; i < s->subscriber_count; i++)
        s->by_token[i] = &s->subscribers[i];
    qsort(s->by_token, s->subscriber_count, sizeof(*s->by_token), compare_token);
    size_t total = 0;
    for (size_t i = 0; i < s->package_count; i++) {
        strlist_t *channels = &s->packages[i].channels;
        if (channels->count)
            qsort(channels->items, channels->count, sizeof(char *), compare_strings);
        total += channels->count;
    }
    s->packaged = calloc(total + 1, sizeof(char *));
    if (!s->packaged)
        goto fail;
    for (size_t i = 0; i < s->package_count; i++)
        for (size_t j = 0; j < s->packages[i].channels.count; j++)
            s->packaged[s->packaged_count++] = s->packages[i].channels.items[j];
    if (s->packaged_count)
        qsort(s->packaged, s->packaged_count, sizeof(char *), compare_strings);
    *out = s;
    return 0;
fail:
    access_snapshot_free(s);
    return rc;
}

static int compare_subscriber_name(const void *key, const void *member)
{
    return strcmp(key, ((const subscriber_t *)member)->name);
}

static int compare_package_name(const void *key, const void *member)
{
    return strcmp(key, ((const package_t *)member)->name);
}

static int compare_key_string(const void *key, const void *member) { return strcmp(key, *(char *const *)member); }

const subscriber_t *access_subscriber(const access_snapshot_t *snapshot, const char *name)
{
    if (!snapshot->subscriber_count)
        return NULL;
    return bsearch(name, snapshot->subscribers, snapshot->subscriber_count, sizeof(subscriber_t),
                   compare_subscriber_name);
}

const subscriber_t *access_subscriber_by_token(const access_snapshot_t *snapshot, uint64_t token_id)
{
    size_t lo = 0, hi = snapshot->subscriber_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t id = (uint64_t)snapshot->by_token[mid]->token_id;
        if (id == token_id)
            return snapshot->by_token[mid];
        if (id < token_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool in_sorted(char *const *items, size_t count, const char *name)
{
    return count && bsearch(name, items, count, sizeof(char *), compare_key_string) != NULL;
}

bool access_channel_public(const access_snapshot_t *snapshot, const char *channel)
{
    return !in_sorted(snapshot->packaged, snapshot->packaged_count, channel);
}

bool access_entitled(const access_snapshot_t *snapshot, const subscriber_t *subscriber, const char *channel)
{
    for (size_t i = 0; i < subscriber->packages.count; i++) {
        const package_t *package = snapshot->package_count
                                       ? bsearch(subscriber->packages.items[i], snapshot->packages,
                                                 snapshot->package_count, sizeof(package_t), compare_package_name)
                                       : NULL;
        if (package && in_sorted(package->channels.items, package->channels.count, channel))
            return true;
    }
    return false;
}

const char *access_refusal(const subscriber_t *subscriber, const char *ip, int64_t now_s)
{
    if (!subscriber->enabled)
        return "subscriber is disabled";
    int64_t expires;
    if (subscriber_expiry(subscriber, &expires) < 0)
        return "subscriber has an unreadable expiry date";
    if (expires && now_s >= expires)
        return "subscription has expired";
    if (subscriber->allowed_ips.count && !auth_ip_in_ranges(ip, &subscriber->allowed_ips))
        return "not allowed from this address";
    return NULL;
}

static void sha256_hex(const char *text, size_t len, char out[65])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)text, len);
    sodium_bin2hex(out, 65, digest, sizeof(digest));
}

bool access_admin_ok(const access_snapshot_t *snapshot, const http_request_t *req)
{
    const http_slice_t *h = http_header_get(req->headers, req->header_count, "Authorization");
    if (!h || h->len < 8 || strncasecmp(h->ptr, "Bearer ", 7) != 0)
        return false;
    char hex[65];
    sha256_hex(h->ptr + 7, h->len - 7, hex);
    bool ok = false;
    for (size_t i = 0; i < snapshot->admin_token_count; i++) {
        const char *stored = snapshot->admin_tokens[i].hash;
        /* Constant time over the digest; which token matched does not leak. */
        if (stored && strlen(stored) == 64 && sodium_memcmp(stored, hex, 64) == 0)
            ok = true;
    }
    return ok;
}

int access_admin_token_create(store_t *store, const char *name, char *out, size_t out_size)
{
    uint8_t raw[24];
    if (out_size < ACCESS_ADMIN_TOKEN_SIZE)
        return -ENOSPC;
    auth_random(raw, sizeof(raw));
    sodium_bin2base64(out, out_size, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    char hex[65];
    sha256_hex(out, strlen(out), hex);
    admin_token_t admin = {.name = (char *)name, .hash = hex};
    int rc = store_insert(store, app_admin_token_kind(), &admin);
    if (rc < 0)
        sodium_memzero(out, out_size);
    return rc;
}

int access_signing_key_ensure(store_t *store)
{
    void *list;
    size_t count;
    int rc = store_list(store, app_token_key_kind(), &list, &count);
    if (rc < 0)
        return rc;
    store_free_list(app_token_key_kind(), list, count);
    if (count == 0) {
        uint8_t secret[AUTH_KEY_BYTES];
        char hex[2 * AUTH_KEY_BYTES + 1];
        auth_random(secret, sizeof(secret));
        sodium_bin2hex(hex, sizeof(hex), secret, sizeof(secret));
        sodium_memzero(secret, sizeof(secret));
        token_key_t key = {.name = "k1", .secret = hex};
        rc = store_insert(store, app_token_key_kind(), &key);
        sodium_memzero(hex, sizeof(hex));
        if (rc < 0 && rc != -EEXIST) /* another server made one first */
            return rc;
        if (rc == 0)
            log_info("auth", "created token signing key k1");
    }
    return 0;
}

int access_bootstrap(store_t *store)
{
    void *list;
    size_t count;
    int rc = access_signing_key_ensure(store);
    if (rc < 0)
        return rc;
    rc = store_list(store, app_admin_token_kind(), &list, &count);
    if (rc < 0)
        return rc;
    store_free_list(app_admin_token_kind(), list, count);
    if (count == 0) {
        char token[ACCESS_ADMIN_TOKEN_SIZE];
        rc = access_admin_token_create(store, "admin", token, sizeof(token));
        if (rc == 0)
            log_info("auth", "admin API token (shown once, keep it): %s", token);
        sodium_memzero(token, sizeof(token));
        if (rc < 0 && rc != -EEXIST)
            return rc;
    }
    return 0;
}
