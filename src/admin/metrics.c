// SPDX-License-Identifier: MIT
// metrics.c -- the Prometheus text exposition format (version 0.0.4): one
// family per metric, HELP and TYPE first, then a sample per channel.
// Counters end in _total; bit rates are gauges in bits per second.
#include "admin/admin.h"

#include <stdio.h>
#include <stdlib.h>

typedef enum { GAUGE, COUNTER } kind_t;

typedef struct family {
    const char *name;
    kind_t kind;
    const char *help;
} family_t;

static void header(strbuf_t *out, const family_t *f)
{
    strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                  f->kind == COUNTER ? "counter" : "gauge");
}

/* A channel's value of one family; NULL family members are skipped. */
typedef uint64_t (*channel_value_fn)(const channel_info_t *info);

#define STAT(field)                                                                                         \
    static uint64_t value_##field(const channel_info_t *info) { return info->stats.field; }
STAT(bytes_in)
STAT(packets_in)
STAT(bytes_out)
STAT(cc_errors)
STAT(sync_losses)
STAT(bytes_skipped)
STAT(rtp_lost)
STAT(source_errors)
STAT(keyframes)
STAT(psi_errors)
STAT(viewers_skipped)
STAT(viewers_dropped)
STAT(source_switches)
static uint64_t value_viewers(const channel_info_t *info) { return info->viewers; }
static uint64_t value_input_bitrate(const channel_info_t *info) { return info->input_bitrate; }
static uint64_t value_output_bitrate(const channel_info_t *info) { return info->output_bitrate; }
static uint64_t value_up(const channel_info_t *info)
{
    return info->state == CHANNEL_UP || info->state == CHANNEL_DEGRADED;
}
static uint64_t value_on_slate(const channel_info_t *info) { return info->on_slate; }
static uint64_t value_hls_segments(const channel_info_t *info) { return info->hls.segments; }

static const struct {
    family_t family;
    channel_value_fn value;
} channel_families[] = {
    {{"antenne_channel_up", GAUGE, "1 while the channel's source delivers (up or degraded)"}, value_up},
    {{"antenne_channel_on_slate", GAUGE, "1 while the slate plays because every source is down"}, value_on_slate},
    {{"antenne_channel_viewers", GAUGE, "HTTP-TS viewers connected"}, value_viewers},
    {{"antenne_channel_input_bitrate_bits", GAUGE, "input bit rate over the last seconds, bits/s"},
     value_input_bitrate},
    {{"antenne_channel_output_bitrate_bits", GAUGE, "bit rate sent to HTTP-TS viewers over the last second, bits/s"},
     value_output_bitrate},
    {{"antenne_channel_input_bytes_total", COUNTER, "bytes received from the source"}, value_bytes_in},
    {{"antenne_channel_input_packets_total", COUNTER, "TS packets received from the source"}, value_packets_in},
    {{"antenne_channel_output_bytes_total", COUNTER, "bytes sent to HTTP-TS viewers"}, value_bytes_out},
    {{"antenne_channel_cc_errors_total", COUNTER, "continuity counter errors in the input"}, value_cc_errors},
    {{"antenne_channel_sync_losses_total", COUNTER, "times TS sync was lost"}, value_sync_losses},
    {{"antenne_channel_bytes_skipped_total", COUNTER, "input bytes that were not TS packets"}, value_bytes_skipped},
    {{"antenne_channel_rtp_lost_total", COUNTER, "RTP packets lost"}, value_rtp_lost},
    {{"antenne_channel_source_errors_total", COUNTER, "source failures (reconnects)"}, value_source_errors},
    {{"antenne_channel_keyframes_total", COUNTER, "keyframes seen"}, value_keyframes},
    {{"antenne_channel_psi_errors_total", COUNTER, "malformed PSI sections"}, value_psi_errors},
    {{"antenne_channel_viewers_skipped_total", COUNTER, "times a slow viewer was moved ahead"},
     value_viewers_skipped},
    {{"antenne_channel_viewers_dropped_total", COUNTER, "slow viewers disconnected"}, value_viewers_dropped},
    {{"antenne_channel_hls_segments", GAUGE, "segments in the HLS playlist"}, value_hls_segments},
    {{"antenne_channel_source_switches_total", COUNTER, "failovers to another source and returns to the first"},
     value_source_switches},
};

void admin_metrics_channels(channel_t *const *channels, size_t count, strbuf_t *out)
{
    channel_info_t *infos = calloc(count + 1, sizeof(*infos));
    if (!infos) {
        out->failed = true;
        return;
    }
    for (size_t i = 0; i < count; i++)
        channel_get_info(channels[i], &infos[i]);
    for (size_t f = 0; f < ARRAY_SIZE(channel_families); f++) {
        header(out, &channel_families[f].family);
        for (size_t i = 0; i < count; i++)
            strbuf_printf(out, "%s{channel=\"%s\"} %llu\n", channel_families[f].family.name,
                          channel_config(channels[i])->name,
                          (unsigned long long)channel_families[f].value(&infos[i]));
    }
    static const family_t tr = {"antenne_channel_tr101290_errors_total", COUNTER,
                                "ETSI TR 101 290 errors of the source in use, by error (counted since it started)"};
    header(out, &tr);
    for (size_t i = 0; i < count; i++)
        for (int e = 0; e < TS_TR_COUNT; e++)
            strbuf_printf(out, "antenne_channel_tr101290_errors_total{channel=\"%s\",error=\"%s\",priority=\"%d\"} %llu\n",
                          channel_config(channels[i])->name, ts_tr_error_name((ts_tr_error_t)e),
                          ts_tr_error_priority((ts_tr_error_t)e), (unsigned long long)infos[i].analysis.errors[e]);
    /* The state as one series per possible value (the usual enum idiom). */
    static const family_t state = {"antenne_channel_state", GAUGE, "1 for the channel's current state"};
    header(out, &state);
    static const channel_state_t states[] = {CHANNEL_IDLE, CHANNEL_STARTING, CHANNEL_UP, CHANNEL_DEGRADED,
                                             CHANNEL_DOWN};
    for (size_t i = 0; i < count; i++)
        for (size_t s = 0; s < ARRAY_SIZE(states); s++)
            strbuf_printf(out, "antenne_channel_state{channel=\"%s\",state=\"%s\"} %d\n",
                          channel_config(channels[i])->name, channel_state_name(states[s]),
                          infos[i].state == states[s]);
    free(infos);
}

void admin_metric(strbuf_t *out, const char *name, bool counter, const char *help, double value)
{
    family_t f = {name, counter ? COUNTER : GAUGE, help};
    header(out, &f);
    strbuf_printf(out, "%s %.17g\n", name, value);
}
