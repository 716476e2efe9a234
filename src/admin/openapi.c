// SPDX-License-Identifier: MIT
// openapi.c -- the admin REST API described as an OpenAPI 3.1 document
// (https://spec.openapis.org/oas/v3.1.0, schemas in JSON Schema 2020-12),
// served at /api/v1/openapi.json.
//
// The object schemas follow from the field tables (channel_fields,
// subscriber_fields, ...), so a new field shows up here by itself. The routes
// come from `routes[]` below, which must be kept in step with the router in
// src/app/: a route added, removed or answering another status there needs
// the same change here (tests/unit/admin/test_openapi.c lists them too).
#include "admin/admin.h"
#include "auth/auth.h"

#include <stdio.h>
#include <string.h>

/* ---- building JSON without losing allocation failures ----------------------------- */

/* jansson's setters take a NULL value quietly; every set goes through put()
 * so that a document missing a piece for lack of memory is never served. */
typedef struct doc {
    bool failed;
} doc_t;

/* Sets obj[key] = value (taking value); returns value, borrowed, to chain. */
static json_t *put(doc_t *doc, json_t *obj, const char *key, json_t *value)
{
    if (!value || !obj || json_object_set_new(obj, key, value) < 0) {
        doc->failed = true;
        return NULL;
    }
    return value;
}

static json_t *append(doc_t *doc, json_t *array, json_t *value)
{
    if (!value || !array || json_array_append_new(array, value) < 0) {
        doc->failed = true;
        return NULL;
    }
    return value;
}

static json_t *ref(const char *kind, const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "#/components/%s/%s", kind, name);
    return json_pack("{ss}", "$ref", path);
}

/* ---- schemas from field tables ------------------------------------------------------ */

static bool field_readonly(const field_t *f) { return f->flags & (FIELD_READONLY | FIELD_AUTO); }

/* The JSON Schema of one field's value, as admin_object_json writes it and
 * admin_object_from_json reads it. */
static json_t *field_schema(doc_t *doc, const field_t *f, bool is_name)
{
    json_t *s = json_object();
    switch (f->type) {
    case FIELD_STRING:
        /* null clears a string (never the name); answers carry "" then. */
        put(doc, s, "type", is_name || field_readonly(f) ? json_string("string") : json_pack("[ss]", "string", "null"));
        if (f->max > 0)
            put(doc, s, "maxLength", json_integer(f->max));
        if (is_name)
            put(doc, s, "minLength", json_integer(1));
        break;
    case FIELD_INT:
        put(doc, s, "type", json_string("integer"));
        put(doc, s, "minimum", json_integer(f->min));
        put(doc, s, "maximum", json_integer(f->max));
        break;
    case FIELD_BOOL:
        put(doc, s, "type", json_string("boolean"));
        break;
    case FIELD_ENUM: {
        put(doc, s, "type", json_string("string"));
        json_t *choices = put(doc, s, "enum", json_array());
        for (size_t i = 0; f->choices[i]; i++)
            append(doc, choices, json_string(f->choices[i]));
        break;
    }
    case FIELD_STRINGS:
        put(doc, s, "type", json_string("array"));
        put(doc, s, "items", json_pack("{ss}", "type", "string"));
        if (f->max > 0)
            put(doc, s, "maxItems", json_integer(f->max));
        break;
    }
    if (f->help)
        put(doc, s, "description", json_string(f->help));
    if (field_readonly(f))
        put(doc, s, "readOnly", json_true());
    if (f->flags & FIELD_SECRET)
        put(doc, s, "writeOnly", json_true());
    return s;
}

/* The schema of an object described by a field table. `update`: the body of
 * a PATCH, only what may be set and nothing required; else the object as
 * answered and as created (readOnly fields marked, the name required).
 * Secret fields never appear in answers: read-only ones are left out, the
 * others are writeOnly. */
static json_t *object_schema(doc_t *doc, const field_t *fields, size_t count, bool update)
{
    json_t *s = json_pack("{ss}", "type", "object");
    json_t *properties = put(doc, s, "properties", json_object());
    for (size_t i = 0; i < count; i++) {
        const field_t *f = &fields[i];
        if ((f->flags & FIELD_SECRET) && field_readonly(f))
            continue;
        if (update && (i == 0 || field_readonly(f)))
            continue; /* an object keeps its name (admin_object_from_json) */
        put(doc, properties, f->name, field_schema(doc, f, i == 0));
    }
    if (!update && count > 0)
        put(doc, s, "required", json_pack("[s]", fields[0].name));
    put(doc, s, "additionalProperties", json_false());
    return s;
}

/* ---- hand-written schemas --------------------------------------------------------- */

static json_t *typed(const char *type, const char *description)
{
    return json_pack("{ss ss sb}", "type", type, "description", description, "readOnly", 1);
}

static json_t *nullable(const char *type, const char *description)
{
    return json_pack("{s[ss] ss sb}", "type", type, "null", "description", description, "readOnly", 1);
}

/* What admin_channel_json adds to a channel's fields. */
static void channel_live(doc_t *doc, json_t *schema)
{
    json_t *p = json_object_get(schema, "properties");
    json_t *state = put(doc, p, "state", typed("string", "idle, starting, up, degraded or down"));
    json_t *states = put(doc, state, "enum", json_array());
    for (channel_state_t st = CHANNEL_IDLE; st <= CHANNEL_DOWN; st++)
        append(doc, states, json_string(channel_state_name(st)));
    put(doc, p, "state_reason", typed("string", "why it is in that state"));
    put(doc, p, "source", nullable("string", "the source in use"));
    put(doc, p, "source_index", typed("integer", "the source's place in sources (0: the first); the slate comes after "
                                              "the last"));
    put(doc, p, "on_slate", typed("boolean", "the slate plays because every source is down"));
    put(doc, p, "input_bitrate", typed("integer", "bits per second coming in"));
    put(doc, p, "output_bitrate", typed("integer", "bits per second sent to HTTP-TS viewers"));
    put(doc, p, "recording", nullable("object", "the archive, when the channel has one: state (recording, stopped), "
                                                "reason, from and to (Unix seconds), segments, bytes, dropped"));
    put(doc, p, "analysis", typed("object", "ETSI TR 101 290 analysis of the source in use: state (ok, degraded, "
                                            "down), reason, packets, bitrate, errors and recent (last 1-2 s) by the "
                                            "standard's names, pids, scrambled_pids, pcr_gap_ms"));
    put(doc, p, "viewers", typed("integer", "viewers now, on this server"));
    static const char *const stats[] = {"bytes_in", "packets_in", "cc_errors", "sync_losses", "bytes_skipped",
                                        "rtp_lost", "source_errors", "keyframes", "psi_errors", "viewers_skipped",
                                        "viewers_dropped", "bytes_out"};
    json_t *st = put(doc, p, "stats", typed("object", "counters since the channel started"));
    json_t *sp = put(doc, st, "properties", json_object());
    for (size_t i = 0; i < ARRAY_SIZE(stats); i++)
        put(doc, sp, stats[i], json_pack("{ss}", "type", "integer"));
    static const char *const hls[] = {"target_duration", "media_sequence", "segments", "discontinuity_sequence"};
    json_t *h = put(doc, p, "hls", typed("object", "the HLS segmenter"));
    json_t *hp = put(doc, h, "properties", json_object());
    for (size_t i = 0; i < ARRAY_SIZE(hls); i++)
        put(doc, hp, hls[i], json_pack("{ss}", "type", "integer"));
    json_t *w = put(doc, p, "warnings", typed("array", "what the operator should look at"));
    put(doc, w, "items", json_pack("{ss}", "type", "string"));
    /* From the guide (src/app/guide.c): what airs now and next, or null. */
    json_t *epg = put(doc, p, "epg", typed("object", "what airs now and next, from the EPG"));
    json_t *ep = put(doc, epg, "properties", json_object());
    static const char *const airings[] = {"now", "next"};
    for (size_t i = 0; i < ARRAY_SIZE(airings); i++) {
        json_t *a = put(doc, ep, airings[i],
                        json_pack("{s[ss] s{s{ss} s{ss ss} s{ss ss}}}", "type", "object", "null", "properties",
                                  "title", "type", "string", "start", "type", "string", "format", "date-time", "stop",
                                  "type", "string", "format", "date-time"));
        put(doc, a, "description", json_string(i == 0 ? "the programme airing, or null" : "the one after, or null"));
    }
}

/* A property the caller handles beside the field table (extra_keys). */
static void password_property(doc_t *doc, json_t *schema)
{
    json_t *p = json_object_get(schema, "properties");
    put(doc, p, "password",
        json_pack("{ss si si ss sb}", "type", "string", "minLength", 1, "maxLength", 200, "description",
                  "sets the password (stored as an argon2id hash, never shown)", "writeOnly", 1));
}

static json_t *event_schema(doc_t *doc)
{
    json_t *s = json_pack("{ss ss}", "type", "object", "description",
                          "something that happened to a channel: a state change or a source starting");
    json_t *p = put(doc, s, "properties", json_object());
    put(doc, p, "id", typed("integer", "1, 2, ...: ask for those after the last one seen"));
    put(doc, p, "time", typed("string", "ISO 8601 UTC"));
    put(doc, p, "channel", typed("string", "channel name"));
    put(doc, p, "kind", typed("string", "the new state (idle, starting, up, down) or source"));
    put(doc, p, "message", typed("string", "why"));
    put(doc, s, "required", json_pack("[sssss]", "id", "time", "channel", "kind", "message"));
    return s;
}

static json_t *session_schema(doc_t *doc)
{
    json_t *s = json_pack("{ss ss}", "type", "object", "description",
                          "one subscriber watching one channel from one device; kept after it ends (the audit log)");
    json_t *p = put(doc, s, "properties", json_object());
    put(doc, p, "id", typed("integer", "session id"));
    put(doc, p, "subscriber", typed("string", "subscriber name"));
    put(doc, p, "channel", typed("string", "channel name"));
    put(doc, p, "device", typed("string", "the viewer's device: a digest of client address and user agent"));
    put(doc, p, "client_ip", typed("string", "client address"));
    put(doc, p, "user_agent", typed("string", "client user agent"));
    put(doc, p, "server", typed("string", "id of the server that delivers it"));
    json_t *kind = put(doc, p, "kind", typed("string", "ts (HTTP-TS) or hls"));
    put(doc, kind, "enum", json_pack("[ss]", "ts", "hls"));
    put(doc, p, "started_at", typed("integer", "Unix milliseconds"));
    put(doc, p, "last_seen", typed("integer", "Unix milliseconds of the last delivery"));
    put(doc, p, "ended_at", typed("integer", "Unix milliseconds; 0 while it runs"));
    put(doc, p, "end_reason", nullable("string", "why it ended (\"replaced\", \"timed out\", ...); null while it runs"));
    put(doc, p, "bytes", typed("integer", "bytes delivered"));
    put(doc, s, "required",
        json_pack("[sssssssssssss]", "id", "subscriber", "channel", "device", "client_ip", "user_agent", "server",
                  "kind", "started_at", "last_seen", "ended_at", "end_reason", "bytes"));
    return s;
}

static json_t *programme_schema(doc_t *doc)
{
    json_t *s = json_pack("{ss ss}", "type", "object", "description",
                          "one programme of the EPG; optional fields are absent when the guide has none");
    json_t *p = put(doc, s, "properties", json_object());
    json_t *start = put(doc, p, "start", typed("string", "ISO 8601 UTC"));
    put(doc, start, "format", json_string("date-time"));
    json_t *stop = put(doc, p, "stop", typed("string", "ISO 8601 UTC"));
    put(doc, stop, "format", json_string("date-time"));
    put(doc, p, "start_unix", typed("integer", "Unix seconds"));
    put(doc, p, "stop_unix", typed("integer", "Unix seconds"));
    put(doc, p, "title", typed("string", "title"));
    put(doc, p, "subtitle", typed("string", "episode title"));
    put(doc, p, "description", typed("string", "synopsis"));
    put(doc, p, "category", typed("string", "category"));
    put(doc, p, "episode", typed("string", "episode number, xmltv_ns"));
    put(doc, p, "icon", typed("string", "image URL"));
    put(doc, p, "catchup", typed("object", "when the channel's archive holds the programme (in part): its paths, "
                                           "hls (archive-START-DURATION.m3u8) and ts (timeshift_abs-START.ts), "
                                           "under the viewer's base URL and token prefix"));
    put(doc, s, "required", json_pack("[sssss]", "start", "stop", "start_unix", "stop_unix", "title"));
    return s;
}

static json_t *import_report_schema(doc_t *doc)
{
    json_t *s = json_pack("{ss ss}", "type", "object", "description", "what an EPG import did");
    json_t *p = put(doc, s, "properties", json_object());
    put(doc, p, "source", typed("string", "EPG source name"));
    put(doc, p, "result", typed("string", "the summary also kept in the source's last_result"));
    static const char *const counts[][2] = {
        {"channels_seen", "channels in the file"},
        {"channels_mapped", "of them, matched to one of our channels"},
        {"channels_without_guide", "our channels the file says nothing about"},
        {"programmes_seen", "programmes in the file"},
        {"programmes_stored", "programmes kept"},
        {"skipped_unmapped", "programmes of channels we do not carry"},
        {"bytes", "XML bytes parsed"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(counts); i++)
        put(doc, p, counts[i][0], typed("integer", counts[i][1]));
    put(doc, p, "seconds", typed("number", "how long it took"));
    put(doc, s, "required", json_pack("[ss]", "source", "result"));
    return s;
}

static json_t *issued_token_schema(doc_t *doc)
{
    json_t *s = json_pack("{ss ss}", "type", "object", "description", "a new token and the URLs that carry it");
    json_t *p = put(doc, s, "properties", json_object());
    put(doc, p, "token", typed("string", "signed token"));
    put(doc, p, "expires", typed("integer", "Unix seconds"));
    put(doc, p, "playlist_url", typed("string", "the subscriber's M3U playlist"));
    put(doc, p, "epg_url", typed("string", "the subscriber's XMLTV guide"));
    put(doc, s, "required", json_pack("[ssss]", "token", "expires", "playlist_url", "epg_url"));
    return s;
}

/* The channel history and the portal's answers. */
static json_t *int_array(const char *description)
{
    return json_pack("{ss s{ss} ss sb}", "type", "array", "items", "type", "integer", "description", description,
                     "readOnly", 1);
}

static void portal_schemas(doc_t *doc, json_t *schemas)
{
    json_t *h = put(doc, schemas, "ChannelHistory",
                    json_pack("{ss ss s[ssss]}", "type", "object", "description",
                              "samples oldest first, one each interval_s, the newest taken at end",
                              "required", "interval_s", "end", "input_bitrate", "viewers"));
    json_t *hp = put(doc, h, "properties", json_object());
    put(doc, hp, "interval_s", typed("integer", "seconds between samples"));
    put(doc, hp, "end", typed("integer", "Unix seconds of the newest sample"));
    put(doc, hp, "input_bitrate", int_array("bits/s"));
    put(doc, hp, "viewers", int_array("HTTP-TS viewers"));

    json_t *login = put(doc, schemas, "PortalLogin",
                        json_pack("{ss s[ss]}", "type", "object", "required", "username", "password"));
    put(doc, login, "properties",
        json_pack("{s{ss} s{ss sb}}", "username", "type", "string", "password", "type", "string", "writeOnly", 1));
    json_t *tok = put(doc, schemas, "PortalToken",
                      json_pack("{ss s[sss]}", "type", "object", "required", "token", "expires", "subscriber"));
    json_t *tp = put(doc, tok, "properties", json_object());
    put(doc, tp, "token", typed("string", "send as Authorization: Bearer <token>; streams take it as /t/<token>/"));
    put(doc, tp, "expires", typed("integer", "Unix seconds"));
    put(doc, tp, "subscriber", typed("string", "the subscriber's name"));

    json_t *me = put(doc, schemas, "PortalAccount",
                     json_pack("{ss s[sssss]}", "type", "object", "required", "name", "expires", "max_streams",
                               "playlist_url", "epg_url"));
    json_t *mp = put(doc, me, "properties", json_object());
    put(doc, mp, "name", typed("string", "username"));
    put(doc, mp, "expires", typed("string", "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ; empty: never"));
    put(doc, mp, "max_streams", typed("integer", "streams at once; 0: no limit"));
    put(doc, mp, "playlist_url", typed("string", "personal M3U playlist, for set-top box apps"));
    put(doc, mp, "epg_url", typed("string", "personal XMLTV guide"));

    json_t *ch = put(doc, schemas, "PortalChannel",
                     json_pack("{ss s[ssssssssss]}", "type", "object", "required", "name", "title", "number", "group",
                               "logo", "state", "archive", "archive_days", "hls", "epg"));
    json_t *cp = put(doc, ch, "properties", json_object());
    put(doc, cp, "name", typed("string", "channel name"));
    put(doc, cp, "title", typed("string", "name shown to viewers"));
    put(doc, cp, "number", typed("integer", "channel number"));
    put(doc, cp, "group", typed("string", "group (category)"));
    put(doc, cp, "logo", typed("string", "logo URL, or empty"));
    put(doc, cp, "state", typed("string", "idle, starting, up, degraded or down"));
    put(doc, cp, "archive", typed("boolean", "recorded: past programmes can be watched"));
    put(doc, cp, "archive_days", typed("integer", "days kept"));
    put(doc, cp, "hls", typed("string", "path of the HLS playlist, token included"));
    put(doc, cp, "epg", typed("object", "what airs now and next: {now, next}, each {title, start, stop} or null"));
}

/* ---- the routes ------------------------------------------------------------------------ */

typedef enum api_body {
    BODY_NONE,
    BODY_CREATE,   /* the object's schema, name required */
    BODY_UPDATE,   /* its "...Update" schema */
    BODY_LOGIN,    /* PortalLogin */
} api_body_t;

typedef enum api_answer {
    ANSWER_OBJECT,    /* 200, the schema */
    ANSWER_CREATED,   /* 201, the schema */
    ANSWER_LIST,      /* 200, {"<list>": [schema, ...]} */
    ANSWER_NONE,      /* 204 */
    ANSWER_DOCUMENT,  /* 200, this document */
} api_answer_t;

typedef struct api_route {
    const char *method;     /* lower case, as OpenAPI keys operations */
    const char *path;       /* {name} and {id} are path parameters */
    const char *operation;  /* operationId */
    const char *tag;
    const char *summary;
    const char *schema;     /* component schema of the body and answer */
    api_body_t body;
    api_answer_t answer;
    const char *list;       /* ANSWER_LIST: the key of the array */
    const char *query;      /* query parameters: names from query_params[], space-separated */
    unsigned errors;        /* beyond those implied (ERR_*) */
    const char *owner;      /* ANSWER_LIST: a string key beside the list naming whose it is */
} api_route_t;

/* Error answers a route gives besides the implied ones: 400 for a body or
 * query parameters, 401/403 unless public, 404 with a path parameter, 409
 * for a creation, 5XX always. */
#define ERR_400 1u   /* the work itself can fail on what it was given */
#define ERR_409 2u   /* the same work is already running */
#define ERR_429 4u   /* too many tries: Retry-After says when to come back */
#define AUTH_SUBSCRIBER 8u  /* a subscriber's token (the portal's routes), not an admin's */
#define AUTH_NONE 16u       /* no token at all */
#define PAGED 32u    /* a list that answers a page (q offset limit) with the total that matched */

static const api_route_t routes[] = {
    {"get", "/api/v1/channels", "listChannels", "channels", "All channels, by name, with their live state",
     "Channel", BODY_NONE, ANSWER_LIST, "channels", NULL},
    {"post", "/api/v1/channels", "createChannel", "channels", "Adds a channel (it starts at once unless on_demand)",
     "Channel", BODY_CREATE, ANSWER_CREATED, NULL, NULL},
    {"get", "/api/v1/channels/{name}", "getChannel", "channels", "One channel with its live state", "Channel",
     BODY_NONE, ANSWER_OBJECT, NULL, NULL},
    {"patch", "/api/v1/channels/{name}", "updateChannel", "channels",
     "Changes the fields given; lists are replaced whole", "Channel", BODY_UPDATE, ANSWER_OBJECT, NULL, NULL},
    {"delete", "/api/v1/channels/{name}", "deleteChannel", "channels", "Removes a channel; its viewers are cut off",
     NULL, BODY_NONE, ANSWER_NONE, NULL, NULL},
    {"get", "/api/v1/channels/{name}/epg", "getChannelEpg", "channels",
     "The channel's programmes overlapping [from, to) (default: the next 24 hours)", "Programme", BODY_NONE, ANSWER_LIST, "programmes", "from to", 0, "channel"},

    {"get", "/api/v1/channels/{name}/history", "getChannelHistory", "channels",
     "The last minutes of input bitrate and viewers, for graphs", "ChannelHistory", BODY_NONE, ANSWER_OBJECT, NULL,
     NULL},

    {"get", "/api/v1/subscribers", "listSubscribers", "subscribers",
     "Subscribers by name: all, or a page of those matching q", "Subscriber", BODY_NONE, ANSWER_LIST, "subscribers",
     "q offset limit", PAGED},
    {"post", "/api/v1/subscribers", "createSubscriber", "subscribers", "Adds a subscriber", "Subscriber",
     BODY_CREATE, ANSWER_CREATED, NULL, NULL},
    {"get", "/api/v1/subscribers/{name}", "getSubscriber", "subscribers", "One subscriber", "Subscriber", BODY_NONE,
     ANSWER_OBJECT, NULL, NULL},
    {"patch", "/api/v1/subscribers/{name}", "updateSubscriber", "subscribers",
     "Changes the fields given (disabling one ends its streams at once)", "Subscriber", BODY_UPDATE, ANSWER_OBJECT,
     NULL, NULL},
    {"delete", "/api/v1/subscribers/{name}", "deleteSubscriber", "subscribers",
     "Removes a subscriber and ends its streams", NULL, BODY_NONE, ANSWER_NONE, NULL, NULL},
    {"post", "/api/v1/subscribers/{name}/tokens", "issueToken", "subscribers",
     "Issues a token and the personal playlist and guide URLs that carry it", "IssuedToken", BODY_NONE,
     ANSWER_CREATED, NULL, NULL},

    {"get", "/api/v1/packages", "listPackages", "packages", "All packages, by name", "Package", BODY_NONE,
     ANSWER_LIST, "packages", "q offset limit", PAGED},
    {"post", "/api/v1/packages", "createPackage", "packages", "Adds a package", "Package", BODY_CREATE,
     ANSWER_CREATED, NULL, NULL},
    {"get", "/api/v1/packages/{name}", "getPackage", "packages", "One package", "Package", BODY_NONE, ANSWER_OBJECT,
     NULL, NULL},
    {"patch", "/api/v1/packages/{name}", "updatePackage", "packages", "Changes the fields given", "Package",
     BODY_UPDATE, ANSWER_OBJECT, NULL, NULL},
    {"delete", "/api/v1/packages/{name}", "deletePackage", "packages", "Removes a package", NULL, BODY_NONE,
     ANSWER_NONE, NULL, NULL},

    {"get", "/api/v1/epg-sources", "listEpgSources", "epg", "All EPG sources, by name", "EpgSource", BODY_NONE,
     ANSWER_LIST, "epg_sources", "q offset limit", PAGED},
    {"post", "/api/v1/epg-sources", "createEpgSource", "epg", "Adds an EPG source", "EpgSource", BODY_CREATE,
     ANSWER_CREATED, NULL, NULL},
    {"get", "/api/v1/epg-sources/{name}", "getEpgSource", "epg", "One EPG source", "EpgSource", BODY_NONE,
     ANSWER_OBJECT, NULL, NULL},
    {"patch", "/api/v1/epg-sources/{name}", "updateEpgSource", "epg", "Changes the fields given", "EpgSource",
     BODY_UPDATE, ANSWER_OBJECT, NULL, NULL},
    {"delete", "/api/v1/epg-sources/{name}", "deleteEpgSource", "epg", "Removes an EPG source and its programmes",
     NULL, BODY_NONE, ANSWER_NONE, NULL, NULL},
    {"post", "/api/v1/epg-sources/{name}/import", "importEpgSource", "epg",
     "Imports now and answers when done (last_import and last_result are updated too)", "ImportReport",
     BODY_NONE, ANSWER_OBJECT, NULL, NULL, ERR_400 | ERR_409},

    {"get", "/api/v1/token-keys", "listTokenKeys", "keys", "All keys that sign and verify tokens, by name", "TokenKey",
     BODY_NONE, ANSWER_LIST, "token_keys", "q offset limit", PAGED},
    {"post", "/api/v1/token-keys", "createTokenKey", "keys",
     "Adds a key (a random secret unless one is given); the newest key not retired signs", "TokenKey", BODY_CREATE,
     ANSWER_CREATED, NULL, NULL},
    {"get", "/api/v1/token-keys/{name}", "getTokenKey", "keys", "One key (never its secret)", "TokenKey", BODY_NONE,
     ANSWER_OBJECT, NULL, NULL},
    {"patch", "/api/v1/token-keys/{name}", "updateTokenKey", "keys",
     "Changes the fields given: retire a key once the tokens it signed have expired", "TokenKey", BODY_UPDATE,
     ANSWER_OBJECT, NULL, NULL},
    {"delete", "/api/v1/token-keys/{name}", "deleteTokenKey", "keys", "Removes a key: tokens it signed stop working",
     NULL, BODY_NONE, ANSWER_NONE, NULL, NULL},

    {"get", "/api/v1/sessions", "listSessions", "sessions", "Running sessions, newest first", "Session", BODY_NONE,
     ANSWER_LIST, "sessions", "subscriber channel from to limit"},
    {"delete", "/api/v1/sessions/{id}", "endSession", "sessions", "Ends a session (kicks the viewer)", NULL,
     BODY_NONE, ANSWER_NONE, NULL, NULL},
    {"get", "/api/v1/audit", "listAudit", "sessions", "Sessions, ended ones too, newest first", "Session",
     BODY_NONE, ANSWER_LIST, "sessions", "subscriber channel from to limit"},

    {"get", "/api/v1/events", "listEvents", "events", "What happened to channels, newest first (the last 1,000)",
     "Event", BODY_NONE, ANSWER_LIST, "events", "channel after limit"},

    {"post", "/api/v1/portal/login", "portalLogin", "portal",
     "A subscriber logs in with username and password and gets a token (failed logins lock out for a while)",
     "PortalToken", BODY_LOGIN, ANSWER_OBJECT, NULL, NULL, ERR_429 | AUTH_NONE},
    {"get", "/api/v1/portal/me", "portalAccount", "portal", "The subscriber's account and personal URLs",
     "PortalAccount", BODY_NONE, ANSWER_OBJECT, NULL, NULL, AUTH_SUBSCRIBER},
    {"get", "/api/v1/portal/channels", "portalChannels", "portal",
     "The channels the subscriber's packages hold, by number, with what is on", "PortalChannel", BODY_NONE,
     ANSWER_LIST, "channels", NULL, AUTH_SUBSCRIBER},
    {"get", "/api/v1/portal/channels/{name}/epg", "portalChannelEpg", "portal",
     "Programmes of one of the subscriber's channels overlapping [from, to) (Unix seconds; at most 31 days); "
     "catch-up paths carry the token",
     "Programme", BODY_NONE, ANSWER_LIST, "programmes", "from to", AUTH_SUBSCRIBER, "channel"},

    {"get", "/api/v1/openapi.json", "getOpenApi", "meta", "This document (no token needed)", NULL, BODY_NONE,
     ANSWER_DOCUMENT, NULL, NULL},
};

/* Query parameters, by name; all optional. */
typedef struct api_param {
    const char *name;
    const char *type;
    const char *description;
} api_param_t;

static const api_param_t query_params[] = {
    {"from", "string", "start: ISO 8601 UTC (2026-11-28T14:00:00Z) or Unix seconds"},
    {"to", "string", "end (excluded): ISO 8601 UTC or Unix seconds"},
    {"subscriber", "string", "only this subscriber's"},
    {"channel", "string", "only this channel's"},
    {"limit", "integer", "at most this many: sessions and audit newest first (default 1000), events (default 100), "
                         "a page of objects (1 to 10000; default: all)"},
    {"offset", "integer", "skip this many (paging; with limit)"},
    {"q", "string", "only those whose name contains this (case-insensitive)"},
    {"after", "integer", "only events with a greater id"},
};

/* The objects described by field tables: components NAME and NAMEUpdate. */
typedef struct api_object {
    const char *schema;
    const field_t *fields;
    const size_t *count;
    bool password;   /* takes a write-only password (an extra key) */
    bool update;     /* has a PATCH route */
} api_object_t;

static const api_object_t objects[] = {
    {"Channel", channel_fields, &channel_field_count, false, true},
    {"Subscriber", subscriber_fields, &subscriber_field_count, true, true},
    {"Package", package_fields, &package_field_count, false, true},
    {"EpgSource", epg_source_fields, &epg_source_field_count, false, true},
    {"TokenKey", token_key_fields, &token_key_field_count, false, true},
};

static json_t *json_content(json_t *schema)
{
    return json_pack("{s{so}}", "application/json", "schema", schema);
}

static json_t *response(const char *description, json_t *schema)
{
    if (!schema)
        return json_pack("{ss}", "description", description);
    return json_pack("{ss so}", "description", description, "content", json_content(schema));
}

static json_t *operation(doc_t *doc, const api_route_t *r)
{
    json_t *op = json_pack("{ss ss s[s]}", "operationId", r->operation, "summary", r->summary, "tags", r->tag);
    if (!op) {
        doc->failed = true;
        return NULL;
    }
    bool secured = r->answer != ANSWER_DOCUMENT && !(r->errors & AUTH_NONE);
    bool has_query = r->query != NULL;
    json_t *params = json_array();
    for (const char *p = strchr(r->path, '{'); p; p = strchr(p + 1, '{')) {
        char name[32];
        size_t len = strcspn(p + 1, "}");
        snprintf(name, sizeof(name), "%.*s", (int)len, p + 1);
        append(doc, params, ref("parameters", name));
    }
    for (const char *q = r->query; q && *q;) {
        size_t len = strcspn(q, " ");
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)len, q);
        append(doc, params, ref("parameters", name));
        q += len + (q[len] == ' ');
    }
    bool has_path_param = strchr(r->path, '{') != NULL;
    if (json_array_size(params) > 0)
        put(doc, op, "parameters", params);
    else
        json_decref(params);

    if (r->body != BODY_NONE) {
        char name[64];
        snprintf(name, sizeof(name), "%s%s", r->body == BODY_LOGIN ? "PortalLogin" : r->schema,
                 r->body == BODY_UPDATE ? "Update" : "");
        json_t *body = put(doc, op, "requestBody", json_pack("{sb}", "required", 1));
        put(doc, body, "content", json_content(ref("schemas", name)));
    }

    json_t *responses = put(doc, op, "responses", json_object());
    switch (r->answer) {
    case ANSWER_OBJECT:
        put(doc, responses, "200", response("OK", ref("schemas", r->schema)));
        break;
    case ANSWER_CREATED:
        put(doc, responses, "201", response("Created", ref("schemas", r->schema)));
        break;
    case ANSWER_LIST: {
        json_t *list = json_pack("{ss s[s] s{s{ss so}}}", "type", "object", "required", r->list, "properties",
                                 r->list, "type", "array", "items", ref("schemas", r->schema));
        if (r->owner) {
            put(doc, json_object_get(list, "properties"), r->owner, json_pack("{ss}", "type", "string"));
            append(doc, json_object_get(list, "required"), json_string(r->owner));
        }
        if (r->errors & PAGED) {
            put(doc, json_object_get(list, "properties"), "total",
                json_pack("{ss ss}", "type", "integer", "description", "how many match in all"));
            append(doc, json_object_get(list, "required"), json_string("total"));
        }
        put(doc, responses, "200", response("OK", list));
        break;
    }
    case ANSWER_NONE:
        put(doc, responses, "204", response("Done", NULL));
        break;
    case ANSWER_DOCUMENT:
        put(doc, responses, "200", response("This OpenAPI document", json_pack("{ss}", "type", "object")));
        break;
    }
    if (r->body != BODY_NONE || has_query || (r->errors & ERR_400))
        put(doc, responses, "400", ref("responses", "BadRequest"));
    if (secured) {
        put(doc, responses, "401", ref("responses", "Unauthorized"));
        if (!(r->errors & AUTH_SUBSCRIBER))
            put(doc, responses, "403", ref("responses", "Forbidden"));
    }
    if (r->body == BODY_LOGIN) { /* wrong password, and refused (disabled, expired) */
        put(doc, responses, "401", ref("responses", "Unauthorized"));
        put(doc, responses, "403", ref("responses", "Forbidden"));
    }
    if (r->errors & ERR_429)
        put(doc, responses, "429", ref("responses", "TooManyRequests"));
    if (has_path_param)
        put(doc, responses, "404", ref("responses", "NotFound"));
    if (r->body == BODY_CREATE || (r->errors & ERR_409))
        put(doc, responses, "409", ref("responses", "Conflict"));
    put(doc, responses, "5XX", ref("responses", "ServerError"));
    if (!secured)
        put(doc, op, "security", json_array()); /* no token needed */
    else if (r->errors & AUTH_SUBSCRIBER)
        put(doc, op, "security", json_pack("[{s[]}]", "subscriber"));
    return op;
}

static void components(doc_t *doc, json_t *root)
{
    json_t *c = put(doc, root, "components", json_object());
    json_t *schemas = put(doc, c, "schemas", json_object());
    for (size_t i = 0; i < ARRAY_SIZE(objects); i++) {
        const api_object_t *o = &objects[i];
        json_t *full = put(doc, schemas, o->schema, object_schema(doc, o->fields, *o->count, false));
        if (o->password)
            password_property(doc, full);
        if (o->fields == channel_fields)
            channel_live(doc, full);
        if (o->update) {
            char name[64];
            snprintf(name, sizeof(name), "%sUpdate", o->schema);
            json_t *update = put(doc, schemas, name, object_schema(doc, o->fields, *o->count, true));
            if (o->password)
                password_property(doc, update);
        }
    }
    put(doc, schemas, "Session", session_schema(doc));
    put(doc, schemas, "Event", event_schema(doc));
    put(doc, schemas, "Programme", programme_schema(doc));
    put(doc, schemas, "IssuedToken", issued_token_schema(doc));
    put(doc, schemas, "ImportReport", import_report_schema(doc));
    portal_schemas(doc, schemas);
    put(doc, schemas, "Error",
        json_pack("{ss s[s] s{s{ss ss}} ss}", "type", "object", "required", "error", "properties", "error", "type",
                  "string", "description", "what was wrong, e.g. \"max_streams: must be an integer from 0 to 1000\"",
                  "description", "every error answer"));

    json_t *params = put(doc, c, "parameters", json_object());
    put(doc, params, "name",
        json_pack("{ss ss sb ss s{ss ss}}", "name", "name", "in", "path", "required", 1, "description",
                  "the object's name", "schema", "type", "string", "pattern", "^[a-z0-9_-]{1,64}$"));
    put(doc, params, "id",
        json_pack("{ss ss sb ss s{ss si}}", "name", "id", "in", "path", "required", 1, "description", "session id",
                  "schema", "type", "integer", "minimum", 1));
    for (size_t i = 0; i < ARRAY_SIZE(query_params); i++) {
        const api_param_t *q = &query_params[i];
        json_t *schema = json_pack("{ss}", "type", q->type);
        if (!strcmp(q->name, "limit")) {
            put(doc, schema, "minimum", json_integer(1));
            put(doc, schema, "maximum", json_integer(100000));
        }
        put(doc, params, q->name,
            json_pack("{ss ss sb ss so}", "name", q->name, "in", "query", "required", 0, "description",
                      q->description, "schema", schema));
    }

    static const struct {
        const char *name, *status;
    } errors[] = {
        {"BadRequest", "the body or a parameter is wrong"},
        {"Unauthorized", "no valid bearer token"},
        {"Forbidden", "the token may not do this"},
        {"NotFound", "no such object"},
        {"Conflict", "the name is taken, or the same work is already running"},
        {"ServerError", "the server could not do it now (database, memory)"},
        {"TooManyRequests", "too many tries: the Retry-After header says in how many seconds to try again"},
    };
    json_t *responses = put(doc, c, "responses", json_object());
    for (size_t i = 0; i < ARRAY_SIZE(errors); i++)
        put(doc, responses, errors[i].name, response(errors[i].status, ref("schemas", "Error")));

    json_t *security = put(doc, c, "securitySchemes", json_object());
    put(doc, security, "bearer",
        json_pack("{ss ss ss}", "type", "http", "scheme", "bearer", "description", "an admin API token"));
    put(doc, security, "subscriber",
        json_pack("{ss ss ss}", "type", "http", "scheme", "bearer", "description",
                  "a subscriber's token, from POST /api/v1/portal/login (the same that playlists carry)"));
}

json_t *admin_openapi(void)
{
    doc_t doc = {false};
    json_t *root = json_pack("{ss s{ss ss ss}}", "openapi", "3.1.0", "info", "title", "antenne admin API",
                             "version", ANTENNE_VERSION, "description",
                             "Channels, subscribers, packages, EPG sources and sessions of an antenne server. "
                             "Errors answer {\"error\": \"...\"}.");
    if (!root)
        return NULL;
    put(&doc, root, "security", json_pack("[{s[]}]", "bearer"));
    json_t *tags = put(&doc, root, "tags", json_array());
    static const char *const tag_names[] = {"channels", "subscribers", "packages", "epg", "keys", "sessions",
                                            "events", "portal", "meta"};
    for (size_t i = 0; i < ARRAY_SIZE(tag_names); i++)
        append(&doc, tags, json_pack("{ss}", "name", tag_names[i]));
    json_t *paths = put(&doc, root, "paths", json_object());
    for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
        json_t *item = json_object_get(paths, routes[i].path);
        if (!item)
            item = put(&doc, paths, routes[i].path, json_object());
        put(&doc, item, routes[i].method, operation(&doc, &routes[i]));
    }
    components(&doc, root);
    if (doc.failed) {
        json_decref(root);
        return NULL;
    }
    return root;
}
