// SPDX-License-Identifier: MIT
// fuzz_rtp.c -- fuzz target for src/ingest/rtp.c: the input is a sequence of
// datagrams, each led by a 2-byte big-endian length (cut short by the end of
// the input), taken as src/ingest/udp.c takes them: a datagram not starting
// with 0x47 is offered as RTP, its header and padding stripped, its sequence
// number tracked across datagrams; what is left (the whole datagram when it
// is not RTP) goes on to the TS sync.
// The header length must stay inside the datagram and land on a TS packet,
// and the loss count must agree with a model of RFC 3550's 16-bit numbers.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ingest/ingest.h"
#include "ts/ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_packets(void *opaque, const uint8_t *packets, size_t count)
{
    uint64_t *aligned = opaque;
    for (size_t i = 0; i < count; i++)
        if (packets[i * TS_PACKET_SIZE] != 0x47)
            abort();
    *aligned += count;
}

/* One datagram, as udp_take_datagram() handles it. */
static void take_datagram(ingest_rtp_seq_t *seq, ts_sync_t *sync, uint64_t *aligned, uint64_t *lost,
                          const uint8_t *data, size_t len)
{
    int header = len && data[0] != 0x47 ? ingest_rtp_header_len(data, len) : -1;
    if (header >= 0) {
        size_t h = (size_t)header;
        /* 12 fixed bytes, the CSRC list, the extension: whole 32-bit words. */
        if (h < 12 || h % 4 || h < 12 + 4u * (data[0] & 0x0f))
            abort();
        size_t padding = (data[0] & 0x20) ? data[len - 1] : 0;
        if (h + padding > len)
            abort();
        if (h < len && data[h] != 0x47)
            abort();

        /* The model: the gap from the newest number seen, modulo 2^16. */
        bool started = seq->started;
        uint16_t last = seq->last, number = (uint16_t)((data[2] << 8) | data[3]);
        unsigned missing = ingest_rtp_track(seq, data);
        uint16_t gap = (uint16_t)(number - last);
        unsigned expected = !started || gap == 0 || gap > 0x8000 || gap >= 1000 ? 0 : gap - 1u;
        if (missing != expected || !seq->started)
            abort();
        if (seq->last != (started && (gap == 0 || gap > 0x8000) ? last : number))
            abort();
        *lost += missing;
        data += h;
        len -= h + padding;
    }
    ts_sync_feed(sync, data, len, on_packets, aligned);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ingest_rtp_seq_t seq = {0};
    ts_sync_t sync;
    ts_sync_init(&sync);
    uint64_t aligned = 0, lost = 0, datagrams = 0;
    size_t off = 0;
    while (off + 2 <= size) {
        size_t len = ((size_t)data[off] << 8) | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        /* Each datagram in a buffer of its own size, so a read past its end
         * is caught even when more input follows. */
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            return 0;
        for (size_t i = 0; i < len; i++)
            copy[i] = data[off + i];
        take_datagram(&seq, &sync, &aligned, &lost, copy, len);
        free(copy);
        off += len;
        datagrams++;
    }
    /* At most 998 losses per datagram after the first. */
    if (lost > 998 * datagrams || sync.packets != aligned || sync.pending_len > sizeof(sync.pending))
        abort();
    return 0;
}
