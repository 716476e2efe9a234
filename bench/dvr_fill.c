// SPDX-License-Identifier: MIT
// dvr_fill.c -- writes a long archive of one channel in antenne's on-disk
// format (src/dvr/dvr.h) without writing its bytes, for bench/dvr_seek.sh.
//
// The archive is chunks of --chunk-s seconds (one hour, as the recorder
// makes them): NNNN.ts holding --segment-bytes per segment back to back, and
// NNNN.idx with one 48-byte record per segment (dvr_record_encode), NNNN the
// wall-clock milliseconds of the chunk's first segment. Each .ts is made its
// full size with ftruncate, so it is sparse: reading it costs no disk I/O,
// the kernel hands out zeroed pages. On top of that, optionally:
//
//   --head FILE --head-bytes N   the first N bytes of FILE (a TS file) are
//                                written at the start of every segment, so a
//                                segment starts like one (PAT, PMT, ...) and
//                                its first page is real data on disk;
//   --full-list FILE             the segments starting at the milliseconds
//                                listed in FILE (one a line) are written
//                                whole, from FILE given by --head (looping
//                                over it), so reading them reads the disk.
//
// Everything written is synced and then dropped from the page cache
// (posix_fadvise DONTNEED), so the first read of real data comes from the
// disk, as it would hours after it was recorded.
//
// Usage: dvr_fill --dir DIR --start UNIX_S [--hours H] [--segment-ms MS] [--segment-bytes B]
//                 [--chunk-s S] [--head FILE] [--head-bytes N] [--full-list FILE]
#include "dvr/dvr.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: dvr_fill --dir DIR --start UNIX_S [options]\n"
               "  --dir DIR            the channel's archive folder (created; must hold no chunk)\n"
               "  --start UNIX_S       wall clock of the first segment, Unix seconds\n"
               "  --hours H            length of the archive (default 24)\n"
               "  --segment-ms MS      each segment's duration (default 2000)\n"
               "  --segment-bytes B    each segment's size (default 999972: 4 Mbit/s x 2 s in whole TS packets)\n"
               "  --chunk-s S          seconds per chunk (default 3600, as the recorder)\n"
               "  --head FILE          a TS file: its first --head-bytes are written at each segment's start\n"
               "  --head-bytes N       (default 3760: 20 packets; 0: none)\n"
               "  --full-list FILE     start times (ms) of segments written whole, from --head's file\n"
               "Prints one RESULT line: segments, chunks, apparent and written bytes, seconds.\n");
}

static unsigned long long num(const char *name, const char *s, unsigned long long lo, unsigned long long hi)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "dvr_fill: %s: '%s' is not a number from %llu to %llu\n", name, s, lo, hi);
        exit(1);
    }
    return v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, const char *path)
{
    fprintf(stderr, "dvr_fill: %s %s: %s\n", what, path, strerror(errno));
    exit(2);
}

static void pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t at, const char *path)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            die("writing", path);
        }
        p += w;
        n -= (size_t)w;
        at += (uint64_t)w;
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},         {"start", required_argument, NULL, 's'},
        {"hours", required_argument, NULL, 'H'},       {"segment-ms", required_argument, NULL, 'm'},
        {"segment-bytes", required_argument, NULL, 'b'}, {"chunk-s", required_argument, NULL, 'c'},
        {"head", required_argument, NULL, 'f'},        {"head-bytes", required_argument, NULL, 'n'},
        {"full-list", required_argument, NULL, 'l'},   {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *dir = NULL, *head_path = NULL, *full_path = NULL;
    uint64_t start_s = 0, hours = 24, seg_ms = 2000, seg_bytes = 999972, chunk_s = 3600, head_bytes = 3760;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': dir = optarg; break;
        case 's': start_s = num("--start", optarg, 1, UINT32_MAX); break;
        case 'H': hours = num("--hours", optarg, 1, 24 * 366); break;
        case 'm': seg_ms = num("--segment-ms", optarg, 100, 60000); break;
        case 'b': seg_bytes = num("--segment-bytes", optarg, 188, UINT32_MAX); break;
        case 'c': chunk_s = num("--chunk-s", optarg, 1, 86400); break;
        case 'f': head_path = optarg; break;
        case 'n': head_bytes = num("--head-bytes", optarg, 0, 1u << 30); break;
        case 'l': full_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (!dir || !start_s || optind != argc) {
        usage(stderr);
        return 1;
    }
    if (head_bytes > seg_bytes)
        head_bytes = seg_bytes;
    if ((chunk_s * 1000u) % seg_ms) {
        fprintf(stderr, "dvr_fill: --chunk-s must be a whole number of segments\n");
        return 1;
    }
    if (!head_path && full_path) {
        fprintf(stderr, "dvr_fill: --full-list needs --head FILE for the bytes\n");
        return 1;
    }

    /* The source of real bytes: --head's file, read whole (a few MB). */
    uint8_t *media = NULL;
    size_t media_size = 0;
    if (head_path) {
        int fd = open(head_path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
            die("opening", head_path);
        media_size = (size_t)st.st_size / 188u * 188u;
        if (media_size < 188u || !(media = malloc(media_size)))
            die("reading", head_path);
        for (size_t got = 0; got < media_size;) {
            ssize_t r = read(fd, media + got, media_size - got);
            if (r <= 0)
                die("reading", head_path);
            got += (size_t)r;
        }
        close(fd);
    } else {
        head_bytes = 0;
    }
    uint8_t *segment = NULL;
    if (media) {
        /* One segment's worth of real bytes, looping over the file. */
        segment = malloc(seg_bytes);
        if (!segment)
            die("allocating", "a segment");
        for (uint64_t at = 0; at < seg_bytes;) {
            uint64_t n = seg_bytes - at < media_size ? seg_bytes - at : media_size;
            memcpy(segment + at, media, n);
            at += n;
        }
    }

    /* Segments written whole, by start time. */
    uint64_t *full = NULL;
    size_t full_count = 0, full_cap = 0;
    if (full_path) {
        FILE *f = fopen(full_path, "r");
        if (!f)
            die("opening", full_path);
        unsigned long long v;
        while (fscanf(f, "%llu", &v) == 1) {
            if (full_count == full_cap) {
                full_cap = full_cap ? full_cap * 2 : 1024;
                full = realloc(full, full_cap * sizeof(*full));
                if (!full)
                    die("allocating", "the list");
            }
            full[full_count++] = v;
        }
        fclose(f);
        qsort(full, full_count, sizeof(*full), cmp_u64);
        size_t unique = 0; /* (a segment listed twice is written once) */
        for (size_t i = 0; i < full_count; i++)
            if (!unique || full[unique - 1] != full[i])
                full[unique++] = full[i];
        full_count = unique;
    }

    char parents[4096];
    snprintf(parents, sizeof(parents), "%s", dir);
    for (char *p = parents + 1; *p; p++) { /* mkdir -p */
        if (*p == '/') {
            *p = '\0';
            if (mkdir(parents, 0755) < 0 && errno != EEXIST)
                die("creating", parents);
            *p = '/';
        }
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        die("creating", dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const uint64_t per_chunk = chunk_s * 1000u / seg_ms;
    const uint64_t total = hours * 3600u * 1000u / seg_ms;
    const uint64_t start_ms = start_s * 1000u;
    uint64_t written = 0, chunks = 0, full_written = 0, apparent = 0;
    size_t full_at = 0;
    uint8_t *records = malloc(per_chunk * DVR_RECORD_SIZE);
    if (!records)
        die("allocating", "records");
    for (uint64_t k = 0; k < total; k += per_chunk) {
        uint64_t n = total - k < per_chunk ? total - k : per_chunk;
        uint64_t id = start_ms + k * seg_ms;
        char ts_path[4200], idx_path[4200];
        dvr_chunk_path(dir, id, ".ts", ts_path, sizeof(ts_path));
        dvr_chunk_path(dir, id, ".idx", idx_path, sizeof(idx_path));
        int ts = open(ts_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (ts < 0)
            die("creating", ts_path);
        int idx = open(idx_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (idx < 0)
            die("creating", idx_path);
        if (ftruncate(ts, (off_t)(n * seg_bytes)) < 0)
            die("sizing", ts_path);
        for (uint64_t j = 0; j < n; j++) {
            dvr_entry_t e = {.start_ms = id + j * seg_ms,
                             .duration_ms = (uint32_t)seg_ms,
                             .length = (uint32_t)seg_bytes,
                             .offset = j * seg_bytes,
                             .chunk = id,
                             .flags = k + j == 0 ? DVR_DISCONTINUITY : 0,
                             .preamble = 0};
            dvr_record_encode(&e, records + j * DVR_RECORD_SIZE);
            while (full_at < full_count && full[full_at] < e.start_ms)
                full_at++;
            if (full_at < full_count && full[full_at] == e.start_ms) {
                pwrite_all(ts, segment, seg_bytes, e.offset, ts_path);
                written += seg_bytes;
                full_written++;
            } else if (head_bytes) {
                pwrite_all(ts, segment, head_bytes, e.offset, ts_path);
                written += head_bytes;
            }
        }
        pwrite_all(idx, records, n * DVR_RECORD_SIZE, 0, idx_path);
        written += n * DVR_RECORD_SIZE;
        apparent += n * seg_bytes + n * DVR_RECORD_SIZE;
        /* On disk, and out of the page cache: the first read goes to the disk. */
        if (fdatasync(ts) < 0 || fdatasync(idx) < 0)
            die("syncing", ts_path);
        posix_fadvise(ts, 0, 0, POSIX_FADV_DONTNEED);
        posix_fadvise(idx, 0, 0, POSIX_FADV_DONTNEED);
        close(ts);
        close(idx);
        chunks++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("RESULT segments=%llu chunks=%llu first_ms=%llu end_ms=%llu apparent_bytes=%llu written_bytes=%llu "
           "full_segments=%llu full_listed=%zu seconds=%.2f\n",
           (unsigned long long)total, (unsigned long long)chunks, (unsigned long long)start_ms,
           (unsigned long long)(start_ms + total * seg_ms), (unsigned long long)apparent,
           (unsigned long long)written, (unsigned long long)full_written, full_count, s);
    free(records);
    free(full);
    free(segment);
    free(media);
    return full_written == full_count ? 0 : 3;
}
