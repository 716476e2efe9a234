// SPDX-License-Identifier: MIT
// fuzz_analyze.c -- fuzz target for src/ts/analyze.c (with psi.c under it):
// the input is cut into 188-byte packets fed as they are, any first byte;
// arrival times advance by an amount the input picks (the last byte of each
// packet), so timeouts, PCR and PTS checks and bitrate windows all run. The
// report must stay consistent with what was fed.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ts/ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const ts_analyzer_t *an, uint64_t fed)
{
    ts_analysis_t a;
    ts_analyzer_get(an, &a);
    if (a.packets != fed || a.pid_count > TS_ANALYZE_MAX_PIDS || a.state > TS_HEALTH_DOWN)
        abort();
    if (!memchr(a.reason, '\0', sizeof(a.reason)))
        abort();
    uint64_t sum = a.other_packets;
    for (size_t i = 0; i < a.pid_count; i++) {
        sum += a.pids[i].packets;
        if (i && a.pids[i].pid <= a.pids[i - 1].pid)
            abort(); /* sorted, each PID once */
    }
    if (sum + a.errors[TS_TR_SYNC_BYTE_ERROR] != fed)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_analyzer_t *an = ts_analyzer_new(NULL);
    if (!an)
        abort();
    uint64_t now = 1000000, fed = 0;
    for (size_t off = 0; off + TS_PACKET_SIZE <= size; off += TS_PACKET_SIZE) {
        const uint8_t *pkt = data + off;
        /* 0..254 ms steps; 255 means a tick 2 s later instead of a step. */
        uint8_t step = pkt[TS_PACKET_SIZE - 1];
        if (step == 0xff) {
            now += 2000000;
            ts_analyzer_tick(an, now);
        } else {
            now += (uint64_t)step * 1000;
        }
        ts_analyzer_packet(an, pkt, now);
        fed++;
        if (fed % 64 == 0)
            check(an, fed);
    }
    check(an, fed);
    ts_analyzer_reset(an);
    check(an, 0);
    ts_analyzer_free(an);
    return 0;
}
