// SPDX-License-Identifier: MIT
// rtp.c -- the RTP fixed header (RFC 3550 5.1) in front of MPEG-TS
// (RFC 2250 payload type 33, though senders use dynamic types too):
// its length, so it can be stripped, and sequence gaps, counted as losses.
#include "ingest/ingest.h"

int ingest_rtp_header_len(const uint8_t *data, size_t len)
{
    if (len < 12 || (data[0] & 0xc0) != 0x80)
        return -1;
    size_t header = 12 + 4u * (data[0] & 0x0f);   /* CSRC list */
    if (data[0] & 0x10) {                          /* header extension */
        if (len < header + 4)
            return -1;
        header += 4 + 4u * (((size_t)data[header + 2] << 8) | data[header + 3]);
    }
    size_t padding = (data[0] & 0x20) ? data[len - 1] : 0;
    if (header + padding > len)
        return -1;
    /* What follows must look like TS, or this is not TS over RTP. */
    if (header < len && data[header] != 0x47)
        return -1;
    return (int)header;
}

unsigned ingest_rtp_track(ingest_rtp_seq_t *seq, const uint8_t *rtp)
{
    uint16_t number = (uint16_t)((rtp[2] << 8) | rtp[3]);
    if (!seq->started) {
        seq->started = true;
        seq->last = number;
        return 0;
    }
    uint16_t gap = (uint16_t)(number - seq->last);
    if (gap == 0 || gap > 0x8000)
        return 0; /* duplicate or late (reordered) packet */
    seq->last = number;
    /* A huge jump is a restarted sender, not thousands of losses. */
    return gap > 1 && gap < 1000 ? gap - 1u : 0;
}
