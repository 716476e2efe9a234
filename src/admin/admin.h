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

#endif
