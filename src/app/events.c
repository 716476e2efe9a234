// SPDX-License-Identifier: MIT
// events.c -- what happened to channels (state changes, sources), kept for
// the operator: the newest APP_EVENTS in memory, served at /api/v1/events.
// They are also in the log; this is the list a UI or a script polls.
#include "app/app_private.h"

#include <stdio.h>
#include <string.h>

void events_add(void *ctx, const char *channel, const char *kind, const char *message)
{
    app_t *app = ctx;
    app_event_t *e = &app->events[app->event_next % APP_EVENTS];
    e->id = ++app->event_next;
    e->wall_ms = clock_wall_ms();
    snprintf(e->channel, sizeof(e->channel), "%s", channel);
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    snprintf(e->message, sizeof(e->message), "%s", message ? message : "");
}

json_t *events_json(const app_t *app, const char *channel, uint64_t after, size_t limit)
{
    json_t *list = json_array();
    uint64_t first = app->event_next > APP_EVENTS ? app->event_next - APP_EVENTS : 0;
    for (uint64_t n = app->event_next; n > first && n > after && json_array_size(list) < limit; n--) {
        const app_event_t *e = &app->events[(n - 1) % APP_EVENTS];
        if (channel && strcmp(channel, e->channel))
            continue;
        char when[32];
        clock_format_iso(e->wall_ms, when, sizeof(when));
        json_array_append_new(list, json_pack("{sI ss ss ss ss}", "id", (json_int_t)e->id, "time", when, "channel",
                                              e->channel, "kind", e->kind, "message", e->message));
    }
    return json_pack("{so}", "events", list);
}
