// SPDX-License-Identifier: MIT
// hls_build.h -- bytes for the hls/ tests: real parameter sets taken from
// ffmpeg's encoders (so the probe is checked against what encoders write,
// not against our reading of the specification), and PES packets that carry
// them, built by hand on top of ../ts/ts_build.h.
#ifndef TESTS_HLS_BUILD_H
#define TESTS_HLS_BUILD_H

#include "../ts/ts_build.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ffmpeg -f lavfi -i testsrc2=s=1280x720 -c:v libx264 -profile:v high
 * -level 3.1 -frames:v 1 -f h264 -: the SPS NAL (header byte 0x67 first).
 * High (100) @ 3.1, 80 x 45 macroblocks, no cropping: avc1.64001f, 1280x720. */
static const uint8_t hb_sps_720p[] = {
    0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00,
    0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x83, 0x19, 0x60,
};

/* The same encoder at 1920x1080, level 4.0: 68 macroblock rows (1088 lines)
 * cropped by frame_crop_bottom_offset 4 (8 lines): avc1.640028, 1920x1080. */
static const uint8_t hb_sps_1080p[] = {
    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00,
    0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xc8, 0x3c, 0x60, 0xc6, 0x58,
};

/* ffmpeg ... -c:v libx265 -f hevc -: the SPS NAL (2-byte header 0x42 0x01).
 * Main (1), compatibility flags 0x60000000 (1 and 2: "6" reversed), tier L,
 * level 93, constraint byte 0x90: hvc1.1.6.L93.90. */
static const uint8_t hb_hevc_sps_main[] = {
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
    0x03, 0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0,
    0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10,
};

/* libx265 -profile:v main10 -pix_fmt yuv420p10le at 1920x1080: Main 10 (2),
 * compatibility 0x20000000 ("4" reversed), level 120: hvc1.2.4.L120.90. */
static const uint8_t hb_hevc_sps_main10[] = {
    0x42, 0x01, 0x01, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
    0x03, 0x00, 0x78, 0xa0, 0x03, 0xc0, 0x80, 0x10, 0xe4, 0xd9, 0x65, 0x66, 0x92, 0x4c, 0xaf,
    0x01, 0x68, 0x08, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x00, 0xc8, 0x40,
};

/* ffmpeg -f lavfi -i sine -c:a aac -f adts -: the first frame's ADTS header.
 * profile 1 (AAC LC: mp4a.40.2), 44.1 kHz, stereo. */
static const uint8_t hb_adts[] = {0xff, 0xf1, 0x50, 0x40, 0x21, 0x3f, 0xfc};

/* Annex B pieces around a parameter set. */
static const uint8_t hb_start_code[] = {0x00, 0x00, 0x00, 0x01};
static const uint8_t hb_aud[] = {0x00, 0x00, 0x00, 0x01, 0x09, 0xf0};
static const uint8_t hb_pps[] = {0x00, 0x00, 0x00, 0x01, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};
static const uint8_t hb_idr_slice[] = {0x00, 0x00, 0x01, 0x65, 0x88, 0x84, 0x00, 0x33, 0xff};
static const uint8_t hb_p_slice[] = {0x00, 0x00, 0x00, 0x01, 0x09, 0x30, 0x00, 0x00, 0x01, 0x41, 0x9a, 0x21, 0x6c};

/* Appends bytes to an elementary-stream buffer; returns the new length. */
static inline size_t hb_cat(uint8_t *es, size_t len, const uint8_t *bytes, size_t n)
{
    memcpy(es + len, bytes, n);
    return len + n;
}

#define HB_PES_HEADER 14

/* A PES as TS packets on pid: a 14-byte PES header (stream_id sid, a PTS)
 * then es[0..len). The last packet is padded with adaptation-field stuffing
 * so the PES ends exactly with es. Writes at most max_packets packets into
 * out and returns how many it wrote. *cc counts on. */
static inline size_t hb_pes(uint8_t *out, size_t max_packets, uint16_t pid, uint8_t sid, uint8_t *cc,
                            const uint8_t *es, size_t len)
{
    const uint8_t header[HB_PES_HEADER] = {0x00, 0x00, 0x01, sid, 0x00, 0x00, 0x80, 0x80,
                                           0x05, 0x21, 0x00, 0x01, 0x00, 0x01};
    size_t total = HB_PES_HEADER + len, done = 0, count = 0;
    while (done < total && count < max_packets) {
        uint8_t *pkt = out + count * TB_PKT;
        size_t rest = total - done;
        size_t off;
        if (rest >= TB_PKT - 4)
            off = tb_packet(pkt, pid, done == 0, *cc, 0);
        else
            off = tb_packet_af(pkt, pid, done == 0, *cc, (uint8_t)(TB_PKT - 5 - rest), 0, true, 0, 0, 0);
        for (size_t i = off; i < TB_PKT; i++, done++)
            pkt[i] = done < HB_PES_HEADER ? header[done] : es[done - HB_PES_HEADER];
        *cc = (uint8_t)((*cc + 1) & 0x0f);
        count++;
    }
    return count;
}

/* PAT (program 1 -> pmt_pid) and a PMT listing the given streams, one
 * packet each, into out (2 packets). */
static inline void hb_psi(uint8_t *out, uint16_t pmt_pid, uint16_t pcr_pid, const tb_es_t *es, size_t n)
{
    uint8_t section[TB_PKT];
    tb_program_t program = {1, pmt_pid};
    size_t len = tb_pat(section, 1, 0, &program, 1);
    tb_section_packet(out, 0x0000, 0, section, len);
    len = tb_pmt(section, 1, 0, pcr_pid, es, n);
    tb_section_packet(out + TB_PKT, pmt_pid, 0, section, len);
}

#endif
