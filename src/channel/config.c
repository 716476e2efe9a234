// SPDX-License-Identifier: MIT
// config.c -- the channel object's description: one table drives the store
// columns, the API's JSON and the CLI's options.
#include "channel/channel.h"
#include "ingest/ingest.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const lag_policy_names[] = {"skip", "close", NULL};

static int check_source(const char *value, char *err, size_t err_size)
{
    ingest_url_t url;
    char why[200];
    if (ingest_url_parse(value, &url, why, sizeof(why)) == 0)
        return 0;
    snprintf(err, err_size, "source: %s", why);
    return -EINVAL;
}

static int check_slate(const char *value, char *err, size_t err_size)
{
    ingest_url_t url;
    char why[200];
    if (strncmp(value, "file://", 7) != 0) {
        snprintf(err, err_size, "slate: a file:// URL of a TS file or folder (not '%.80s')", value);
        return -EINVAL;
    }
    if (ingest_url_parse(value, &url, why, sizeof(why)) == 0)
        return 0;
    snprintf(err, err_size, "slate: %s", why);
    return -EINVAL;
}

#define CF(member) offsetof(channel_config_t, member)

const field_t channel_fields[] = {
    {"name", FIELD_STRING, CF(name), 0, 64, NULL, "channel name used in URLs (a-z 0-9 - _)", fields_check_name},
    {"title", FIELD_STRING, CF(title), 0, 200, NULL, "name viewers see", NULL},
    {"number", FIELD_INT, CF(number), 0, 99999, NULL, "channel number (tvg-chno)", NULL},
    {"group", FIELD_STRING, CF(group), 0, 200, NULL, "group-title in playlists", NULL},
    {"logo", FIELD_STRING, CF(logo), 0, 2000, NULL, "logo URL (tvg-logo)", NULL},
    {"tvg_id", FIELD_STRING, CF(tvg_id), 0, 200, NULL, "EPG id (tvg-id)", NULL},
    {"sources", FIELD_STRINGS, CF(sources), 0, 16, NULL, "source URL; repeat for backups", check_source},
    {"on_demand", FIELD_BOOL, CF(on_demand), 0, 0, NULL, "start with the first viewer, stop after the last", NULL},
    {"idle_timeout", FIELD_INT, CF(idle_timeout), 0, 86400, NULL, "seconds an on-demand channel outlives its last viewer", NULL},
    {"lag_policy", FIELD_ENUM, CF(lag_policy), 0, 0, lag_policy_names, "what happens to a viewer that falls behind: skip or close", NULL},
    {"hls_target", FIELD_INT, CF(hls_target), 1, 30, NULL, "HLS segment target duration in seconds", NULL},
    {"hls_window", FIELD_INT, CF(hls_window), 3, 60, NULL, "segments listed in HLS playlists", NULL},
    {"hls_part_ms", FIELD_INT, CF(hls_part_ms), 100, 2000, NULL, "LL-HLS part target in milliseconds", NULL},
    {"failover_ms", FIELD_INT, CF(failover_ms), 100, 60000, NULL,
     "switch to the next source after this many ms without packets, or unfit (no sync or PCR, scrambled, "
     "continuity errors)", NULL},
    {"failback_s", FIELD_INT, CF(failback_s), 0, 86400, NULL,
     "return to the first source once it has been healthy this many seconds (0: never)", NULL},
    {"failover_cc_errors", FIELD_INT, CF(failover_cc_errors), 0, 1000000, NULL,
     "continuity errors in a second that make a source unfit (0: never)", NULL},
    {"slate", FIELD_STRING, CF(slate), 0, 2000, NULL, "file:// URL of a TS file played while every source is down",
     check_slate},
    {"archive", FIELD_BOOL, CF(archive), 0, 0, NULL, "record the channel for catch-up and timeshift (it then always runs)",
     NULL},
    {"archive_days", FIELD_INT, CF(archive_days), 0, 3650, NULL, "days the archive keeps (0: no limit)", NULL},
    {"archive_max_mb", FIELD_INT, CF(archive_max_mb), 0, 1000000000, NULL, "MiB the archive may use (0: no limit)",
     NULL},
};
const size_t channel_field_count = sizeof(channel_fields) / sizeof(channel_fields[0]);

void channel_config_clear(channel_config_t *config)
{
    fields_clear(channel_fields, channel_field_count, config);
}

void channel_config_defaults(channel_config_t *config)
{
    memset(config, 0, sizeof(*config));
    config->idle_timeout = 10;
    config->lag_policy = LAG_SKIP;
    config->hls_target = 2;
    config->hls_window = 6;
    config->hls_part_ms = 333;
    config->failover_ms = 1000;
    config->failback_s = 10;
    config->failover_cc_errors = 20;
    config->archive_days = 7;
}

int channel_config_validate(const channel_config_t *config, char *err, size_t err_size)
{
    if (!config->name || !parse_name_valid(config->name)) {
        snprintf(err, err_size, "name: missing or invalid");
        return -EINVAL;
    }
    if (config->sources.count == 0) {
        snprintf(err, err_size, "sources: a channel needs at least one --source");
        return -EINVAL;
    }
    return 0;
}
