// SPDX-License-Identifier: MIT
// api.c -- JSON views of field-described objects and of running channels.
#include "admin/admin.h"

json_t *admin_object_json(const field_t *fields, size_t count, const void *object)
{
    json_t *json = json_object();
    for (size_t i = 0; i < count; i++) {
        const field_t *f = &fields[i];
        if (f->flags & FIELD_SECRET)
            continue;
        const void *p = (const char *)object + f->offset;
        json_t *value = NULL;
        switch (f->type) {
        case FIELD_STRING: {
            const char *s = *(char *const *)p;
            value = json_string(s ? s : "");
            break;
        }
        case FIELD_INT:
            value = json_integer(*(const int64_t *)p);
            break;
        case FIELD_BOOL:
            value = json_boolean(*(const bool *)p);
            break;
        case FIELD_ENUM:
            value = json_string(f->choices[*(const int *)p]);
            break;
        case FIELD_STRINGS: {
            const strlist_t *list = p;
            value = json_array();
            for (size_t j = 0; j < list->count; j++)
                json_array_append_new(value, json_string(list->items[j]));
            break;
        }
        }
        json_object_set_new(json, f->name, value ? value : json_null());
    }
    return json;
}

/* TR 101 290 of the source in use: counters by their standard names. */
static json_t *analysis_json(const ts_analysis_t *a)
{
    static const char *const health[] = {"ok", "degraded", "down"};
    json_t *errors = json_object(), *recent = json_object(), *pids = json_array();
    for (int e = 0; e < TS_TR_COUNT; e++) {
        json_object_set_new(errors, ts_tr_error_name((ts_tr_error_t)e), json_integer((json_int_t)a->errors[e]));
        json_object_set_new(recent, ts_tr_error_name((ts_tr_error_t)e), json_integer((json_int_t)a->recent[e]));
    }
    for (size_t i = 0; i < a->pid_count; i++) {
        const ts_analysis_pid_t *p = &a->pids[i];
        json_array_append_new(pids, json_pack("{si sI sI sI sb sb}", "pid", p->pid, "packets", (json_int_t)p->packets,
                                              "cc_errors", (json_int_t)p->cc_errors, "bitrate",
                                              (json_int_t)p->bitrate, "scrambled", p->scrambled, "pcr", p->pcr));
    }
    json_t *out = json_pack("{ss ss sI sI so so so sI}", "state", health[a->state], "reason", a->reason, "packets",
                     (json_int_t)a->packets, "bitrate", (json_int_t)a->bitrate, "errors", errors, "recent", recent,
                     "pids", pids, "scrambled_pids", (json_int_t)a->scrambled_pids);
    json_object_set_new(out, "pcr_gap_ms", json_integer((json_int_t)(a->pcr_gap_us / 1000u)));
    return out;
}

json_t *admin_channel_json(const channel_t *channel)
{
    json_t *json = admin_object_json(channel_fields, channel_field_count, channel_config(channel));
    channel_info_t info;
    channel_get_info(channel, &info);
    json_object_set_new(json, "state", json_string(channel_state_name(info.state)));
    json_object_set_new(json, "state_reason", json_string(info.reason));
    json_object_set_new(json, "source", info.source_url ? json_string(info.source_url) : json_null());
    json_object_set_new(json, "input_bitrate", json_integer((json_int_t)info.input_bitrate));
    json_object_set_new(json, "output_bitrate", json_integer((json_int_t)info.output_bitrate));
    json_object_set_new(json, "on_slate", json_boolean(info.on_slate));
    json_object_set_new(json, "viewers", json_integer(info.viewers));
    const channel_stats_t *s = &info.stats;
    json_t *stats = json_pack("{sI sI sI sI sI sI sI sI sI sI sI sI}", "bytes_in", (json_int_t)s->bytes_in,
                              "packets_in", (json_int_t)s->packets_in, "cc_errors", (json_int_t)s->cc_errors,
                              "sync_losses", (json_int_t)s->sync_losses, "bytes_skipped",
                              (json_int_t)s->bytes_skipped, "rtp_lost", (json_int_t)s->rtp_lost,
                              "source_errors", (json_int_t)s->source_errors, "keyframes", (json_int_t)s->keyframes,
                              "psi_errors", (json_int_t)s->psi_errors, "viewers_skipped",
                              (json_int_t)s->viewers_skipped, "viewers_dropped", (json_int_t)s->viewers_dropped,
                              "bytes_out", (json_int_t)s->bytes_out);
    json_object_set_new(stats, "source_switches", json_integer((json_int_t)s->source_switches));
    json_object_set_new(json, "stats", stats);
    json_object_set_new(json, "source_index", json_integer(info.source_index));
    json_object_set_new(json, "analysis", analysis_json(&info.analysis));
    if (info.archived) {
        const dvr_info_t *a = &info.archive;
        json_object_set_new(json, "recording",
                            json_pack("{ss ss sI sI sI sI sI}", "state", a->state == DVR_RECORDING ? "recording" : "stopped",
                                      "reason", a->reason, "from", (json_int_t)(a->first_ms / 1000u), "to",
                                      (json_int_t)(a->last_ms / 1000u), "segments", (json_int_t)a->segments,
                                      "bytes", (json_int_t)a->bytes, "dropped", (json_int_t)a->dropped));
    } else {
        json_object_set_new(json, "recording", json_null());
    }
    json_object_set_new(json, "hls",
                        json_pack("{sI sI sI sI}", "target_duration", (json_int_t)info.hls.target_duration,
                                  "media_sequence", (json_int_t)info.hls.media_sequence, "segments",
                                  (json_int_t)info.hls.segments, "discontinuity_sequence",
                                  (json_int_t)info.hls.discontinuity_sequence));
    json_t *warnings = json_array();
    if (info.warning)
        json_array_append_new(warnings, json_string(info.warning));
    if (info.hls.warning && info.hls.warning[0])
        json_array_append_new(warnings, json_string(info.hls.warning));
    json_object_set_new(json, "warnings", warnings);
    return json;
}
