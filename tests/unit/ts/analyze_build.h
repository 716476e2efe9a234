// SPDX-License-Identifier: MIT
// analyze_build.h -- a synthetic single-program multiplex for the analyzer
// tests, with switches to inject TR 101 290 faults at the source (so that a
// removed table does not also break continuity, unlike dropping packets).
//
// One packet every AB_PERIOD_US (10 000 packets/s, 15.04 Mbit/s). Packets
// come in frames of 100 (10 ms); in frame f, position k:
//   k 0   PAT on PID 0 when f % 10 == 0 (every 100 ms), else null
//   k 1   PMT on AB_PMT_PID when f % 10 == 0, else null
//   k 2   video PES start with PCR and PTS when f % 4 == 0 (every 40 ms), else null
//   k 3   audio PES start with PTS when f % 4 == 0, else null
//   k 4..59   video continuation (56)
//   k 60..69  audio continuation (10)
//   k 70..99  null
// So video is 56.25 packets per 10 ms (8 460 000 bit/s), audio 10.25
// (1 541 600 bit/s).
#ifndef TESTS_ANALYZE_BUILD_H
#define TESTS_ANALYZE_BUILD_H

#include "ts_build.h"

#define AB_PERIOD_US 100u
#define AB_PMT_PID 0x100
#define AB_VIDEO_PID 0x101
#define AB_AUDIO_PID 0x102
#define AB_NULL_PID 0x1fff
#define AB_PROGRAM 1

typedef struct ab_stream {
    uint64_t index;             /* packets made so far */
    uint64_t start_us;          /* time of packet 0 */
    uint8_t cc[8192];
    /* fault switches, read for each packet */
    bool no_pat;                /* PAT slots become null packets */
    bool no_pmt;
    bool no_pcr;                /* video PES starts carry no PCR */
    bool no_pts;                /* video PES headers carry no PTS */
    bool pcr_discontinuity;     /* set discontinuity_indicator on the next PCR */
    int64_t pcr_offset;         /* added to PCR values (27 MHz) */
    int bad_pat_crc;            /* corrupt the CRC of this many next PATs */
    uint8_t audio_scrambling;   /* transport_scrambling_control of audio */
} ab_stream_t;

static inline void ab_init(ab_stream_t *st, uint64_t start_us)
{
    memset(st, 0, sizeof(*st));
    st->start_us = start_us;
}

static inline void ab_pes_header(uint8_t *p, uint8_t stream_id, bool pts)
{
    static const uint8_t with_pts[14] = {0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x80, 0x80,
                                         0x05, 0x21, 0x00, 0x01, 0x00, 0x01};
    static const uint8_t without[9] = {0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x80, 0x00, 0x00};
    if (pts)
        memcpy(p, with_pts, sizeof(with_pts));
    else
        memcpy(p, without, sizeof(without));
    p[3] = stream_id;
}

static inline void ab_null(uint8_t *pkt)
{
    tb_packet(pkt, AB_NULL_PID, false, 0, 0xff);
}

/* Makes the next packet; returns its arrival time. */
static inline uint64_t ab_next(ab_stream_t *st, uint8_t *pkt)
{
    uint64_t i = st->index++;
    uint64_t now = st->start_us + i * AB_PERIOD_US;
    uint64_t f = i / 100, k = i % 100;
    if (k == 0 && f % 10 == 0 && !st->no_pat) {
        static const tb_program_t programs[] = {{AB_PROGRAM, AB_PMT_PID}};
        uint8_t s[64];
        size_t len = tb_pat(s, 0x0042, 0, programs, 1);
        if (st->bad_pat_crc > 0) {
            st->bad_pat_crc--;
            s[len - 1] ^= 0x5a;
        }
        tb_section_packet(pkt, 0, st->cc[0]++, s, len);
    } else if (k == 1 && f % 10 == 0 && !st->no_pmt) {
        tb_es_t es[] = {{0x1b, AB_VIDEO_PID}, {0x0f, AB_AUDIO_PID}};
        uint8_t s[64];
        size_t len = tb_pmt(s, AB_PROGRAM, 0, AB_VIDEO_PID, es, 2);
        tb_section_packet(pkt, AB_PMT_PID, st->cc[AB_PMT_PID]++, s, len);
    } else if (k == 2 && f % 4 == 0) {
        size_t off;
        uint8_t cc = st->cc[AB_VIDEO_PID]++;
        if (st->no_pcr) {
            off = tb_packet(pkt, AB_VIDEO_PID, true, cc, 0x00);
        } else {
            uint64_t pcr = (uint64_t)((int64_t)(now * 27) + st->pcr_offset);
            uint8_t flags = TB_AF_PCR | TB_AF_RAI;
            if (st->pcr_discontinuity) {
                flags |= TB_AF_DISCONTINUITY;
                st->pcr_discontinuity = false;
            }
            off = tb_packet_af(pkt, AB_VIDEO_PID, true, cc, 7, flags, true, pcr / 300, (uint16_t)(pcr % 300), 0x00);
        }
        ab_pes_header(pkt + off, 0xe0, !st->no_pts);
    } else if (k == 3 && f % 4 == 0) {
        size_t off = tb_packet(pkt, AB_AUDIO_PID, true, st->cc[AB_AUDIO_PID]++, 0x00);
        ab_pes_header(pkt + off, 0xc0, true);
        pkt[3] = (uint8_t)(pkt[3] | (st->audio_scrambling << 6));
    } else if (k >= 4 && k < 60) {
        tb_packet(pkt, AB_VIDEO_PID, false, st->cc[AB_VIDEO_PID]++, 0x00);
    } else if (k >= 60 && k < 70) {
        tb_packet(pkt, AB_AUDIO_PID, false, st->cc[AB_AUDIO_PID]++, 0x00);
        pkt[3] = (uint8_t)(pkt[3] | (st->audio_scrambling << 6));
    } else {
        ab_null(pkt);
    }
    return now;
}

/* The arrival time of the next packet, without making it. */
static inline uint64_t ab_time(const ab_stream_t *st)
{
    return st->start_us + st->index * AB_PERIOD_US;
}

#endif
