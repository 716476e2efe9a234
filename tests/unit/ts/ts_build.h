// SPDX-License-Identifier: MIT
// ts_build.h -- builds MPEG-TS packets and PSI sections for the ts/ tests,
// by hand from ISO/IEC 13818-1 (2.4.3.2 packet header, 2.4.3.4 adaptation
// field, 2.4.4.3 PAT, 2.4.4.8 PMT, Annex A CRC_32) rather than through
// biTStream, so the tests do not share the code under test's assumptions.
#ifndef TESTS_TS_BUILD_H
#define TESTS_TS_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TB_PKT 188

/* CRC-32/MPEG-2: polynomial 0x04C11DB7, initial 0xFFFFFFFF, no reflection. */
static inline uint32_t tb_crc32(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint32_t)p[i] << 24;
        for (int b = 0; b < 8; b++)
            crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    }
    return crc;
}

/* A packet with payload only, filled with `fill`. Returns the payload offset. */
static inline size_t tb_packet(uint8_t *pkt, uint16_t pid, bool pusi, uint8_t cc, uint8_t fill)
{
    memset(pkt, fill, TB_PKT);
    pkt[0] = 0x47;
    pkt[1] = (uint8_t)((pusi ? 0x40 : 0) | ((pid >> 8) & 0x1f));
    pkt[2] = (uint8_t)pid;
    pkt[3] = (uint8_t)(0x10 | (cc & 0x0f));
    return 4;
}

#define TB_AF_DISCONTINUITY 0x80
#define TB_AF_RAI 0x40
#define TB_AF_PCR 0x10

/* A packet with an adaptation field of af_len bytes (after its length byte)
 * carrying `flags`, then payload when `payload`. Stuffing is 0xff, payload
 * bytes `fill`. Writes the PCR when flags has TB_AF_PCR (af_len >= 7).
 * Returns the payload offset (188 without payload). */
static inline size_t tb_packet_af(uint8_t *pkt, uint16_t pid, bool pusi, uint8_t cc, uint8_t af_len,
                                  uint8_t flags, bool payload, uint64_t pcr_base, uint16_t pcr_ext,
                                  uint8_t fill)
{
    tb_packet(pkt, pid, pusi, cc, fill);
    pkt[3] = (uint8_t)((payload ? 0x30 : 0x20) | (cc & 0x0f));
    pkt[4] = af_len;
    if (af_len) {
        memset(pkt + 5, 0xff, af_len);
        pkt[5] = flags;
        if (flags & TB_AF_PCR) {
            pkt[6] = (uint8_t)(pcr_base >> 25);
            pkt[7] = (uint8_t)(pcr_base >> 17);
            pkt[8] = (uint8_t)(pcr_base >> 9);
            pkt[9] = (uint8_t)(pcr_base >> 1);
            pkt[10] = (uint8_t)(((pcr_base & 1) << 7) | 0x7e | ((pcr_ext >> 8) & 1));
            pkt[11] = (uint8_t)pcr_ext;
        }
    }
    return payload ? 5u + af_len : TB_PKT;
}

/* Finishes a long-form section whose body is in s[8..len-4): sets
 * section_length and appends the CRC. `len` counts the whole section. */
static inline void tb_section_finish(uint8_t *s, size_t len)
{
    size_t section_length = len - 3;
    s[1] = (uint8_t)((s[1] & 0xf0) | ((section_length >> 8) & 0x0f));
    s[2] = (uint8_t)section_length;
    uint32_t crc = tb_crc32(s, len - 4);
    s[len - 4] = (uint8_t)(crc >> 24);
    s[len - 3] = (uint8_t)(crc >> 16);
    s[len - 2] = (uint8_t)(crc >> 8);
    s[len - 1] = (uint8_t)crc;
}

static inline void tb_long_header(uint8_t *s, uint8_t table_id, uint16_t ext, uint8_t version)
{
    s[0] = table_id;
    s[1] = 0xb0; /* section_syntax_indicator, '0', reserved */
    s[3] = (uint8_t)(ext >> 8);
    s[4] = (uint8_t)ext;
    s[5] = (uint8_t)(0xc1 | ((version & 0x1f) << 1)); /* current_next */
    s[6] = 0;    /* section_number */
    s[7] = 0;    /* last_section_number */
}

typedef struct tb_program {
    uint16_t number;
    uint16_t pmt_pid;
} tb_program_t;

/* A PAT section; returns its length. */
static inline size_t tb_pat(uint8_t *s, uint16_t tsid, uint8_t version, const tb_program_t *programs, size_t n)
{
    tb_long_header(s, 0x00, tsid, version);
    size_t off = 8;
    for (size_t i = 0; i < n; i++) {
        s[off++] = (uint8_t)(programs[i].number >> 8);
        s[off++] = (uint8_t)programs[i].number;
        s[off++] = (uint8_t)(0xe0 | (programs[i].pmt_pid >> 8));
        s[off++] = (uint8_t)programs[i].pmt_pid;
    }
    tb_section_finish(s, off + 4);
    return off + 4;
}

typedef struct tb_es {
    uint8_t stream_type;
    uint16_t pid;
} tb_es_t;

/* A PMT section; returns its length. */
static inline size_t tb_pmt(uint8_t *s, uint16_t program, uint8_t version, uint16_t pcr_pid, const tb_es_t *es,
                            size_t n)
{
    tb_long_header(s, 0x02, program, version);
    s[8] = (uint8_t)(0xe0 | (pcr_pid >> 8));
    s[9] = (uint8_t)pcr_pid;
    s[10] = 0xf0; /* program_info_length 0 */
    s[11] = 0x00;
    size_t off = 12;
    for (size_t i = 0; i < n; i++) {
        s[off++] = es[i].stream_type;
        s[off++] = (uint8_t)(0xe0 | (es[i].pid >> 8));
        s[off++] = (uint8_t)es[i].pid;
        s[off++] = 0xf0; /* ES_info_length 0 */
        s[off++] = 0x00;
    }
    tb_section_finish(s, off + 4);
    return off + 4;
}

/* One section in one packet: pointer_field 0, then the section, then 0xff. */
static inline void tb_section_packet(uint8_t *pkt, uint16_t pid, uint8_t cc, const uint8_t *s, size_t len)
{
    tb_packet(pkt, pid, true, cc, 0xff);
    pkt[4] = 0;
    memcpy(pkt + 5, s, len);
}

/* A video PES header (stream_id 0xe0) with a PTS; returns its length (14). */
static inline size_t tb_pes_header(uint8_t *p)
{
    static const uint8_t header[14] = {0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x80, 0x80,
                                       0x05, 0x21, 0x00, 0x01, 0x00, 0x01};
    memcpy(p, header, sizeof(header));
    return sizeof(header);
}

/* The 12-bit section_length of the section starting at s. */
static inline size_t tb_section_size(const uint8_t *s)
{
    return 3 + (((size_t)(s[1] & 0x0f) << 8) | s[2]);
}

#endif
