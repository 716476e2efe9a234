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

/* The M3U playlist of channels, in the order given, with stream URLs under
 * base_url (e.g. "http://host:8080"): HLS playlists when hls, else HTTP-TS.
 * Appends to out. */
void admin_playlist_m3u(channel_t *const *channels, size_t count, const char *base_url, bool hls, strbuf_t *out);

/* ---- body.c: JSON request bodies ------------------------------------------------- */

#define ADMIN_BODY_MAX (1024 * 1024)   /* larger bodies are refused */

/* Parses a request body as one JSON object (no duplicate keys, depth and
 * size bounded). Returns a new reference, or NULL with a message in err
 * ("body: line 3, column 7: ..."). */
json_t *admin_body_parse(const char *body, size_t len, char *err, size_t err_size);

/* Sets the fields of `object` from a JSON object. Every key must be a field
 * that the API may set (not FIELD_READONLY/FIELD_AUTO; `extra_keys`, a
 * NULL-terminated list, names keys the caller handles itself, e.g.
 * "password", which are skipped here). Values are type-checked against the
 * field (string, integer within min..max, boolean, one of an enum's choices,
 * array of strings), strings against their maximum length and the field's
 * check. FIELD_STRINGS values replace the list. `require_name`: the first
 * field must be present (creation). Returns 0, or -EINVAL with err naming
 * the field: "max_streams: must be an integer from 0 to 1000". On error
 * the object may be partly changed: apply it to a copy. */
int admin_object_from_json(const field_t *fields, size_t count, const json_t *json, void *object,
                           const char *const *extra_keys, bool require_name, char *err, size_t err_size);

/* ---- openapi.c: the API described --------------------------------------------------- */

/* The OpenAPI 3.1 document of /api/v1 (new reference). */
json_t *admin_openapi(void);

#endif
