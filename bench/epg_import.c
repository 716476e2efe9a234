// SPDX-License-Identifier: MIT
// epg_import.c -- benchmark driver for the EPG area (bench/epg_import.sh):
// parses an XMLTV file (parse only), or imports it into a fresh SQLite
// store, then writes a subscriber's guide from that store, and prints what
// it measured as one line of key=value pairs per phase.
//
// Usage: epg_import [--parse-only] [--channels N] [--guide-channels N]
//                   [--days N] [--now UNIX] [--data DIR] FILE
// The store's channels are ch000..ch<N-1>, tvg_id chNNN.bench.example: the
// ids bench/make_xmltv.py writes.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "epg/epg.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int count_programme(void *ctx, const epg_programme_t *e, char *err, size_t err_size)
{
    (void)e, (void)err, (void)err_size;
    ++*(uint64_t *)ctx;
    return 0;
}

static int parse_only(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "epg_import: %s: %s\n", path, strerror(errno));
        return 1;
    }
    uint64_t programmes = 0;
    epg_xmltv_handler_t h = {.programme = count_programme, .ctx = &programmes};
    epg_xmltv_stats_t st;
    char err[512];
    double t0 = now_s();
    int rc = epg_xmltv_parse_fd(fd, &h, &st, err, sizeof(err));
    double dt = now_s() - t0;
    close(fd);
    if (rc != 0) {
        fprintf(stderr, "epg_import: %s: %s\n", path, err);
        return 1;
    }
    printf("phase=parse bytes_in=%llu bytes_xml=%llu channels=%llu programmes=%llu seconds=%.3f mb_per_s=%.1f "
           "peak_rss_kb=%ld\n",
           (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_xml, (unsigned long long)st.channels,
           (unsigned long long)programmes, dt, (double)st.bytes_in / 1e6 / dt, peak_rss_kb());
    return 0;
}

static int count_bytes(void *ctx, const void *bytes, size_t len)
{
    (void)bytes;
    *(uint64_t *)ctx += len;
    return 0;
}

int main(int argc, char **argv)
{
    bool only_parse = false;
    int channels = 500, guide_channels = 100, days = 14;
    int64_t now = 0;
    const char *data = NULL, *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--parse-only"))
            only_parse = true;
        else if (!strcmp(argv[i], "--channels") && i + 1 < argc)
            channels = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--guide-channels") && i + 1 < argc)
            guide_channels = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--days") && i + 1 < argc)
            days = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--now") && i + 1 < argc)
            now = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: epg_import [--parse-only] [--channels N] [--guide-channels N] [--days N] "
                            "[--now UNIX] [--data DIR] FILE\n");
            return 2;
        }
    }
    if (!path || channels < 1 || channels > 100000 || guide_channels < 0 || guide_channels > channels) {
        fprintf(stderr, "epg_import: a FILE and 1 <= guide channels <= channels <= 100000, please\n");
        return 2;
    }
    if (only_parse)
        return parse_only(path);

    char tmp[] = "/tmp/antenne-bench-epg-XXXXXX";
    if (!data && !(data = mkdtemp(tmp))) {
        perror("epg_import: mkdtemp");
        return 1;
    }
    char err[512];
    store_t *store;
    if (store_open(data, NULL, &store, err, sizeof(err)) != 0) {
        fprintf(stderr, "epg_import: store: %s\n", err);
        return 1;
    }
    epg_map_channel_t *map_channels = calloc((size_t)channels, sizeof(*map_channels));
    epg_out_channel_t *out_channels = calloc((size_t)channels, sizeof(*out_channels));
    char (*names)[16] = calloc((size_t)channels, sizeof(*names));
    char (*ids)[32] = calloc((size_t)channels, sizeof(*ids));
    for (int i = 0; i < channels; i++) {
        snprintf(names[i], sizeof(names[i]), "ch%03d", i);
        snprintf(ids[i], sizeof(ids[i]), "ch%03d.bench.example", i);
        map_channels[i] = (epg_map_channel_t){.name = names[i], .tvg_id = ids[i], .title = names[i]};
        out_channels[i] = (epg_out_channel_t){.name = names[i], .id = ids[i], .display_name = names[i]};
    }
    epg_channel_map_t map = {map_channels, (size_t)channels};
    epg_import_options_t options = {.now = now, .days = days};
    epg_report_t r;
    int rc = epg_import(store, "bench", path, &map, &options, &r, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "epg_import: %s\n", err);
        return 1;
    }
    printf("phase=import bytes_in=%llu bytes_xml=%llu channels_seen=%llu channels_mapped=%llu programmes_seen=%llu "
           "stored=%llu skipped_window=%llu skipped_unmapped=%llu seconds=%.3f mb_per_s=%.1f peak_rss_kb=%ld\n",
           (unsigned long long)r.bytes_in, (unsigned long long)r.bytes_xml, (unsigned long long)r.channels_seen,
           (unsigned long long)r.channels_mapped, (unsigned long long)r.programmes_seen,
           (unsigned long long)r.programmes_stored, (unsigned long long)r.skipped_window,
           (unsigned long long)r.skipped_unmapped, r.seconds, (double)r.bytes_in / 1e6 / r.seconds, peak_rss_kb());

    /* A subscriber's guide: the first guide_channels channels, a week from yesterday. */
    int64_t from = (now ? now : (int64_t)time(NULL)) - 86400, to = from + 8 * 86400;
    for (int gzip = 0; gzip < 2 && guide_channels > 0; gzip++) {
        uint64_t bytes = 0;
        double t0 = now_s();
        rc = epg_write_guide(store, out_channels, (size_t)guide_channels, from, to, gzip, count_bytes, &bytes, err,
                             sizeof(err));
        double dt = now_s() - t0;
        if (rc != 0) {
            fprintf(stderr, "epg_import: guide: %s\n", err);
            return 1;
        }
        printf("phase=guide gzip=%d channels=%d bytes=%llu seconds=%.3f peak_rss_kb=%ld\n", gzip, guide_channels,
               (unsigned long long)bytes, dt, peak_rss_kb());
    }
    store_close(store);
    if (data == tmp) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "epg_import: could not remove %s\n", tmp);
    }
    free(map_channels);
    free(out_channels);
    free(names);
    free(ids);
    return 0;
}
