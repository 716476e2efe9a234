// SPDX-License-Identifier: MIT
// fuzz_psi.c -- fuzz target for src/ts/psi.c: the input is cut into 188-byte
// packets of one PID (the last one padded with stuffing) and pushed through
// one section buffer; every delivered section is read to its end.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ts/ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_section(void *opaque, const uint8_t *section, size_t len)
{
    uint32_t *sum = opaque;
    if (len < 3 || len > TS_SECTION_MAX)
        abort();
    if (len != 3 + (((size_t)(section[1] & 0x0f) << 8) | section[2]))
        abort(); /* a section is exactly as long as it says */
    for (size_t i = 0; i < len; i++)
        *sum += section[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_section_buf_t buf;
    ts_section_buf_reset(&buf);
    uint32_t sum = 0;
    for (size_t off = 0; off < size; off += TS_PACKET_SIZE) {
        uint8_t pkt[TS_PACKET_SIZE];
        size_t n = size - off < TS_PACKET_SIZE ? size - off : TS_PACKET_SIZE;
        memset(pkt, 0xff, sizeof(pkt));
        memcpy(pkt, data + off, n);
        int rc = ts_section_push(&buf, pkt, on_section, &sum);
        if (rc < 0)
            abort();
        if (buf.used > TS_SECTION_MAX)
            abort();
    }
    /* A section that fits a packet comes back from packetize intact. */
    if (size >= 3 && size <= 183) {
        uint8_t pkt[TS_PACKET_SIZE];
        if (ts_section_packetize(data, size, 0x100, 0, pkt) != 0 || memcmp(pkt + 5, data, size) != 0)
            abort();
    }
    return 0;
}
