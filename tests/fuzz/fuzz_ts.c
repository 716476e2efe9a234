// SPDX-License-Identifier: MIT
// fuzz_ts.c -- fuzz target for src/ts/sync.c and src/ts/demux.c (with es.c
// and psi.c underneath): arbitrary bytes are aligned into packets and every
// packet goes through a demux keeping all programs and one keeping program 1.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ts/ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_ts {
    ts_demux_t *all;
    ts_demux_t *one;
    uint32_t sum;
} fuzz_ts_t;

static void check_info(fuzz_ts_t *f, const ts_packet_info_t *info)
{
    if (info->replaced) {
        /* The rewritten PAT must be a whole readable packet. */
        if (info->replaced[0] != 0x47)
            abort();
        for (size_t i = 0; i < TS_PACKET_SIZE; i++)
            f->sum += info->replaced[i];
    }
}

static void on_packets(void *opaque, const uint8_t *packets, size_t count)
{
    fuzz_ts_t *f = opaque;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *pkt = packets + i * TS_PACKET_SIZE;
        if (pkt[0] != 0x47)
            abort(); /* the sync's promise to the demux */
        ts_packet_info_t info;
        ts_demux_packet(f->all, pkt, &info);
        check_info(f, &info);
        ts_demux_packet(f->one, pkt, &info);
        check_info(f, &info);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_ts_t f = {ts_demux_new(0), ts_demux_new(1), 0};
    if (!f.all || !f.one)
        abort();
    ts_sync_t sync;
    ts_sync_init(&sync);
    /* Three reads, cut where real reads would not be aligned. */
    size_t a = size / 3, b = size - size / 4;
    ts_sync_feed(&sync, data, a, on_packets, &f);
    ts_sync_feed(&sync, data + a, b - a, on_packets, &f);
    ts_sync_feed(&sync, data + b, size - b, on_packets, &f);
    if (sync.pending_len > sizeof(sync.pending))
        abort();
    (void)ts_demux_video_pid(f.one);
    (void)ts_demux_program_found(f.one);
    ts_demux_reset(f.one);
    ts_demux_free(f.all);
    ts_demux_free(f.one);
    return 0;
}
