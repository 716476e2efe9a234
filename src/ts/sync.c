// SPDX-License-Identifier: MIT
// sync.c -- finding 188-byte packet boundaries in an arbitrary byte stream
// (ISO/IEC 13818-1 2.4.3.2: sync_byte 0x47). Unlocked, a position is taken
// only when the bytes 188 and 376 further on are sync bytes too, so a stray
// 0x47 in garbage does not lock (random bytes lock falsely with odds of 1 in
// 2^16 per position). Data is handed out in place when it is aligned; only
// the edges of a read are copied.
#include "ts/ts.h"

#include <string.h>

void ts_sync_init(ts_sync_t *sync)
{
    memset(sync, 0, sizeof(*sync));
}

/* Emits what it can from buf; returns how many bytes it consumed (emitted or
 * skipped). It stops where it cannot decide without more bytes. */
static size_t sync_process(ts_sync_t *sync, const uint8_t *buf, size_t len, ts_packets_fn emit,
                           void *opaque)
{
    size_t off = 0;
    while (off < len) {
        if (!sync->locked) {
            const uint8_t *found = memchr(buf + off, 0x47, len - off);
            if (found != buf + off && !sync->loss_counted) {
                /* Bytes that are not packets: a sync loss, once per episode
                 * (TR 101 290 1.1 TS_sync_loss), also before the first lock. */
                sync->sync_losses++;
                sync->loss_counted = true;
            }
            if (!found) {
                sync->bytes_skipped += len - off;
                return len;
            }
            size_t p = (size_t)(found - buf);
            sync->bytes_skipped += p - off;
            off = p;
            if (p + 2 * TS_PACKET_SIZE >= len)
                return off; /* cannot confirm yet */
            if (buf[p + TS_PACKET_SIZE] != 0x47 || buf[p + 2 * TS_PACKET_SIZE] != 0x47) {
                sync->bytes_skipped++;
                off++;
                continue;
            }
            sync->locked = true;
            sync->loss_counted = false;
        }
        size_t run = 0;
        while (off + (run + 1) * TS_PACKET_SIZE <= len && buf[off + run * TS_PACKET_SIZE] == 0x47)
            run++;
        if (run) {
            sync->packets += run;
            emit(opaque, buf + off, run);
            off += run * TS_PACKET_SIZE;
        }
        /* A packet in place without its sync byte: if the next one has its
         * own, one byte was damaged and the lock holds; two in a row lose it. */
        if (off + 2 * TS_PACKET_SIZE > len)
            return off; /* cannot tell yet: wait for the rest */
        bool next_in_place = buf[off + TS_PACKET_SIZE] == 0x47;
        if (sync->on_corrupt)
            sync->on_corrupt(opaque, buf + off, next_in_place ? 1 : 2);
        sync->corrupt_packets += next_in_place ? 1 : 2;
        if (next_in_place) {
            off += TS_PACKET_SIZE;
            sync->bytes_skipped += TS_PACKET_SIZE;
            continue;
        }
        sync->locked = false;
        sync->sync_losses++;
        sync->loss_counted = true;
    }
    return off;
}

void ts_sync_feed(ts_sync_t *sync, const uint8_t *data, size_t len, ts_packets_fn emit, void *opaque)
{
    if (sync->pending_len) {
        size_t take = (len < sizeof(sync->pending) - sync->pending_len ? len : sizeof(sync->pending) - sync->pending_len);
        memcpy(sync->pending + sync->pending_len, data, take);
        size_t total = sync->pending_len + take;
        size_t used = sync_process(sync, sync->pending, total, emit, opaque);
        size_t left = total - used;
        if (left > take) {
            /* All new bytes are still undecided: keep them all pending. */
            memmove(sync->pending, sync->pending + used, left);
            sync->pending_len = left;
            return;
        }
        /* The undecided tail came from `data`: read it from there again. */
        sync->pending_len = 0;
        data += take - left;
        len -= take - left;
    }
    size_t used = sync_process(sync, data, len, emit, opaque);
    const uint8_t *tail = data + used;
    size_t left = len - used;
    if (left > sizeof(sync->pending)) {
        /* Cannot happen (an undecided tail is under three packets); keep the
         * newest bytes rather than overflow. */
        sync->bytes_skipped += left - sizeof(sync->pending);
        tail += left - sizeof(sync->pending);
        left = sizeof(sync->pending);
    }
    memcpy(sync->pending, tail, left);
    sync->pending_len = left;
}
