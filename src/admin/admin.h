// SPDX-License-Identifier: MIT
// admin.h -- what operators and players read about channels: JSON for the
// API and CLI, and the M3U playlist.
#ifndef ANTENNE_ADMIN_H
#define ANTENNE_ADMIN_H

#include "channel/channel.h"
#include "core/core.h"

#include <jansson.h>

/* A field-described object as a JSON object (new reference). */
json_t *admin_object_json(const field_t *fields, size_t count, const void *object);
/* A running channel: its configuration plus live state (new reference). */
json_t *admin_channel_json(const channel_t *channel);

typedef struct admin_playlist {
    const char *base_url;      /* "http://host:8080" */
    const char *path_prefix;   /* before /live/...: "/t/<token>" in personal playlists, or NULL */
    const char *epg_url;       /* x-tvg-url, or NULL */
    bool hls;                  /* HLS playlist URLs, else HTTP-TS */
} admin_playlist_t;

/* The M3U playlist of channels, in the order given. Appends to out. */
void admin_playlist_m3u(const channel_config_t *const *channels, size_t count, const admin_playlist_t *options,
                        strbuf_t *out);
/* The channel's id in playlists and the EPG: its tvg_id, else "NAME.antenne"
 * written into buf (80 bytes hold any). */
const char *admin_epg_id(const channel_config_t *config, char *buf, size_t size);

/* ---- web.c: the web UI's files ------------------------------------------------- */

typedef struct admin_web admin_web_t;
/* Reads every servable file below dir (HTML, JS, CSS, images, fonts, JSON;
 * at most 32 MiB) into memory. Returns NULL with err set. */
admin_web_t *admin_web_load(const char *dir, char *err, size_t err_size);
void admin_web_free(admin_web_t *web);
size_t admin_web_count(const admin_web_t *web);
/* Answers GET/HEAD of path (decoded) when it names one of the files ("/x/"
 * is "/x/index.html"; "/admin" redirects to "/admin/"), with a
 * Content-Security-Policy. Returns false, answering nothing, otherwise. */
bool admin_web_serve(const admin_web_t *web, http_conn_t *conn, const http_request_t *req, const char *path);

/* ---- metrics.c: Prometheus text format ------------------------------------------ */

/* Every channel metric family (counters, gauges, the state) for these
 * channels. Appends to out. */
void admin_metrics_channels(channel_t *const *channels, size_t count, strbuf_t *out);
/* One unlabelled metric with its HELP and TYPE lines. */
void admin_metric(strbuf_t *out, const char *name, bool counter, const char *help, double value);

/* ---- body.c: JSON request bodies ------------------------------------------------- */

#define ADMIN_BODY_MAX (1024 * 1024)   /* larger bodies are refused */

/* Parses a request body as one JSON object: RFC 8259 with no duplicate
 * keys, nothing after the object, at most ADMIN_BODY_MAX bytes, nested at
 * most 8 deep, valid UTF-8 without NUL bytes (nor "\u0000"). Borrows body.
 * Returns a new reference, or NULL with a message in err ("body: line 3,
 * column 7: ...", "body: must be a JSON object, not an array", "body: larger
 * than 1048576 bytes"). */
json_t *admin_body_parse(const char *body, size_t len, char *err, size_t err_size);

/* Sets the fields of `object` from a JSON object (borrowed). Every key must
 * be a field that the API may set (not FIELD_READONLY/FIELD_AUTO: "NAME:
 * read-only"; unknown: "NAME: unknown field", maybe "(did you mean x?)");
 * `extra_keys`, a NULL-terminated list or NULL, names keys the caller
 * handles itself, e.g. "password", which are skipped here. Values are
 * type-checked against the field ("NAME: must be a string", "must be an
 * integer from MIN to MAX", "must be true or false", "must be one of: a, b",
 * "must be an array of strings (at most MAX)"; numbers with a fraction or
 * an exponent are not integers), then set through fields_set, so the CLI's
 * rules apply too: strings against their maximum length ("NAME: longer than
 * MAX characters", counted in bytes as fields_set does) and control
 * characters, the field's check (its message, led by the key: "sources[1]:
 * ..." for an item of a list). null clears a string field (not the name).
 * FIELD_STRINGS values replace the list. The first field is the name:
 * `require_name` (creation) means it must be present ("name: required");
 * otherwise the object is an existing one and a name in the body must equal
 * its current one ("name: cannot be changed").
 * Returns 0, or -EINVAL (-ENOMEM) with err naming the field: "max_streams:
 * must be an integer from 0 to 1000"; err is always valid UTF-8 without
 * control characters. Keys are applied in the body's order; on error the
 * object may be partly changed: apply it to a copy (fields_copy). */
int admin_object_from_json(const field_t *fields, size_t count, const json_t *json, void *object,
                           const char *const *extra_keys, bool require_name, char *err, size_t err_size);

/* ---- openapi.c: the API described --------------------------------------------------- */

/* The OpenAPI 3.1 document of /api/v1 (new reference), or NULL when out of
 * memory. Its schemas follow the field tables; its routes, a table in
 * openapi.c that must be kept in step with the router in src/app/. */
json_t *admin_openapi(void);

#endif
