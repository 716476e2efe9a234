// SPDX-License-Identifier: MIT
// import.c -- puts a recorded TS file into a channel's archive as if it had
// been recorded from a given moment: cut at video keyframes about every
// target seconds (like the live segmenter), each segment led by the PAT and
// PMT, its wall-clock start the given start plus its DTS offset. For moving
// recordings from another system, and for building archives to test with.
// It runs in the CLI, with the server stopped (a running server would not
// see the new chunks until it restarts).
#include "dvr/dvr.h"
#include "ts/ts.h"

#include <bitstream/mpeg/ts.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define DTS_WRAP (1ull << 33)

typedef struct importer {
    dvr_t *dvr;
    ts_demux_t *demux;
    uint64_t start_ms;
    uint64_t target;            /* 90 kHz */
    uint8_t *buf;               /* the segment being cut: whole packets */
    size_t len, cap;
    uint8_t psi[TS_PACKET_SIZE * 8];
    size_t pat_len, pmt_len;    /* the newest PAT and PMT packets, at psi and psi + TS_PACKET_SIZE */
    bool have_first;
    uint64_t first_dts;         /* unwrapped */
    uint64_t last_dts;
    uint64_t seg_dts;           /* where the segment being cut starts */
    size_t video_pes_at;        /* the newest video PES start in buf */
    uint64_t video_pes_dts;
    bool video_pes_pending;
    uint64_t frame;             /* last DTS step, for the last segment's length */
    uint64_t first_existing_ms, last_existing_ms;
    dvr_import_report_t *report;
    char *err;
    size_t err_size;
    int rc;
} importer_t;

/* DTS unwrapped past 2^33 relative to the last one. */
static uint64_t unwrap(importer_t *im, uint64_t dts)
{
    if (!im->have_first)
        return dts;
    uint64_t base = im->last_dts & ~(DTS_WRAP - 1);
    uint64_t candidate = base | dts;
    if (candidate + DTS_WRAP / 2 < im->last_dts)
        candidate += DTS_WRAP;
    else if (candidate > im->last_dts + DTS_WRAP / 2 && candidate >= DTS_WRAP)
        candidate -= DTS_WRAP;
    return candidate;
}

static int emit(importer_t *im, size_t until, uint64_t end_dts)
{
    if (until == 0 || im->rc < 0)
        return im->rc;
    dvr_entry_t entry = {0};
    entry.start_ms = im->start_ms + (im->seg_dts - im->first_dts) / 90u;
    entry.duration_ms = (uint32_t)((end_dts > im->seg_dts ? end_dts - im->seg_dts : 1u) / 90u);
    entry.flags = im->report->segments == 0 ? DVR_DISCONTINUITY : 0;
    uint64_t end_ms = entry.start_ms + entry.duration_ms;
    if (im->last_existing_ms && !(end_ms <= im->first_existing_ms || entry.start_ms >= im->last_existing_ms)) {
        snprintf(im->err, im->err_size,
                 "the file from %llu ms overlaps what the archive holds (%llu to %llu ms); %u segments imported",
                 (unsigned long long)entry.start_ms, (unsigned long long)im->first_existing_ms,
                 (unsigned long long)im->last_existing_ms, im->report->segments);
        return im->rc = -EEXIST;
    }
    /* Each segment starts with the PSI unless it already does. */
    struct iovec iov[3];
    int n = 0;
    bool starts_with_pat = until >= TS_PACKET_SIZE && ts_get_pid(im->buf) == TS_PID_PAT;
    if (!starts_with_pat && im->pat_len && im->pmt_len) {
        iov[n++] = (struct iovec){im->psi, im->pat_len};
        iov[n++] = (struct iovec){im->psi + TS_PACKET_SIZE, im->pmt_len};
        entry.preamble = (uint32_t)(im->pat_len + im->pmt_len);
    }
    iov[n++] = (struct iovec){im->buf, until};
    int rc = dvr_write_now(im->dvr, &entry, iov, n, im->err, im->err_size);
    if (rc < 0)
        return im->rc = rc;
    if (!im->report->segments)
        im->report->first_ms = entry.start_ms;
    im->report->last_ms = end_ms;
    im->report->segments++;
    im->report->bytes += entry.length;
    memmove(im->buf, im->buf + until, im->len - until);
    im->len -= until;
    im->seg_dts = end_dts;
    return 0;
}

static void on_packets(void *opaque, const uint8_t *packets, size_t count)
{
    importer_t *im = opaque;
    for (size_t i = 0; i < count && im->rc == 0; i++) {
        const uint8_t *pkt = packets + i * TS_PACKET_SIZE;
        ts_packet_info_t info;
        ts_demux_packet(im->demux, pkt, &info);
        if (info.drop)
            continue;
        const uint8_t *out = info.replaced ? info.replaced : pkt;
        if (info.psi) {
            /* (a PMT spanning packets keeps only its first: enough for
             * the common single-packet PMT; players also read the in-band one) */
            bool pat = ts_get_pid(out) == TS_PID_PAT;
            memcpy(im->psi + (pat ? 0 : TS_PACKET_SIZE), out, TS_PACKET_SIZE);
            if (pat)
                im->pat_len = TS_PACKET_SIZE;
            else if (ts_get_unitstart(out))
                im->pmt_len = TS_PACKET_SIZE;
        }
        if (info.access_pes_start && info.has_dts) {
            uint64_t dts = unwrap(im, info.dts);
            if (!im->have_first) {
                im->have_first = true;
                im->first_dts = im->seg_dts = dts;
            } else if (dts > im->last_dts) {
                im->frame = dts - im->last_dts;
            }
            im->last_dts = dts;
            if (info.video_pes_start) {
                im->video_pes_at = im->len;
                im->video_pes_dts = dts;
                im->video_pes_pending = true;
            }
        }
        if (im->len + TS_PACKET_SIZE > im->cap) {
            size_t cap = im->cap ? im->cap * 2 : 1u << 20;
            uint8_t *bigger = realloc(im->buf, cap);
            if (!bigger) {
                snprintf(im->err, im->err_size, "out of memory");
                im->rc = -ENOMEM;
                return;
            }
            im->buf = bigger;
            im->cap = cap;
        }
        /* Without video every audio frame may start a segment. */
        if (info.access_pes_start && ts_demux_video_pid(im->demux) == TS_PID_NULL && im->have_first &&
            im->last_dts >= im->seg_dts + im->target && im->len > 0)
            emit(im, im->len, im->last_dts);
        memcpy(im->buf + im->len, out, TS_PACKET_SIZE);
        im->len += TS_PACKET_SIZE;
        /* A keyframe far enough from the segment's start ends the segment
         * just before its PES. */
        if (info.keyframe_decided && im->video_pes_pending) {
            im->video_pes_pending = false;
            if (im->video_pes_dts >= im->seg_dts + im->target && im->video_pes_at > 0)
                emit(im, im->video_pes_at, im->video_pes_dts);
        }
    }
}

int dvr_import_file(dvr_t *dvr, const char *path, uint64_t start_ms, uint32_t target_s, dvr_import_report_t *report,
                    char *err, size_t err_size)
{
    memset(report, 0, sizeof(*report));
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    importer_t im = {.dvr = dvr, .start_ms = start_ms, .target = (uint64_t)(target_s ? target_s : 2) * 90000u,
                     .report = report, .err = err, .err_size = err_size};
    dvr_info_t info;
    dvr_get_info(dvr, &info);
    im.first_existing_ms = info.first_ms;
    im.last_existing_ms = info.last_ms;
    im.demux = ts_demux_new(0);
    ts_sync_t sync;
    ts_sync_init(&sync);
    uint8_t chunk[TS_PACKET_SIZE * 512];
    size_t n;
    if (!im.demux) {
        snprintf(err, err_size, "out of memory");
        im.rc = -ENOMEM;
    }
    while (im.rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ts_sync_feed(&sync, chunk, n, on_packets, &im);
    if (im.rc == 0 && ferror(f)) {
        snprintf(err, err_size, "reading %s: %s", path, strerror(errno));
        im.rc = -EIO;
    }
    if (im.rc == 0 && im.len)
        emit(&im, im.len, im.last_dts + im.frame);
    if (im.rc == 0 && !report->segments) {
        snprintf(err, err_size, "%s: no timestamped MPEG-TS in it (%llu bytes without TS sync)", path,
                 (unsigned long long)sync.bytes_skipped);
        im.rc = -EINVAL;
    }
    fclose(f);
    ts_demux_free(im.demux);
    free(im.buf);
    return im.rc;
}
