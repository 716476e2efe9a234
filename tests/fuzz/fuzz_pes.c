// SPDX-License-Identifier: MIT
// fuzz_pes.c -- fuzz target for what reads PES packets and elementary stream
// bytes: the PES header and PTS/DTS in src/ts/demux.c, the picture type scan
// of src/ts/es.c, and the SPS / ADTS reading of src/hls/probe.c.
//
// Input: one control byte, then PES packets, each led by a 2-byte big-endian
// word: the top bit puts it on the audio PID, the other 15 bits are its
// length (cut short by the end of the input). Control bits 0-1 pick the video
// stream_type (H.264, HEVC, MPEG-2, or no video stream), bits 2-3 the audio
// one, bit 4 sets random_access_indicator on video PES starts, bits 5-7 the
// piece size for a second, split scan. The PES packets are cut into TS
// packets behind a PAT and a PMT, then:
//   - demuxed (program 1): each access PES start must carry the PTS/DTS an
//     independent reading of ISO/IEC 13818-1 2.4.3.7 finds, and the keyframes
//     counted must be those the scan finds in each video PES;
//   - scanned by es.c whole and in pieces, which must agree;
//   - probed as an HLS segment, whose codec string and size must be sane.
#include <bitstream/mpeg/psi.h>
#include <bitstream/mpeg/psi/pat.h>
#include <bitstream/mpeg/psi/pmt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hls/hls_private.h"
#include "ts/ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PMT_PID 0x1000
#define VIDEO_PID 0x100
#define AUDIO_PID 0x101
#define MAX_PACKETS (RING_BLOCK_SIZE / TS_PACKET_SIZE)
#define MAX_UNITS 256

typedef struct unit {
    const uint8_t *data;
    size_t len;
    bool audio;
    bool random_access;
} unit_t;

static const uint8_t video_types[4] = {0x1b, 0x24, 0x02, 0x00};
static const uint8_t audio_types[4] = {0x0f, 0x03, 0x81, 0x04};
static const size_t pieces[8] = {1, 2, 3, 4, 7, 16, 100, 184};

/* Writes the PAT and PMT packets; returns 2. */
static size_t write_psi(uint8_t *out, uint8_t video_type, uint8_t audio_type)
{
    uint8_t pat[PSI_MAX_SIZE + PSI_HEADER_SIZE];
    pat_init(pat);
    pat_set_length(pat, PAT_PROGRAM_SIZE);
    pat_set_tsid(pat, 1);
    psi_set_version(pat, 0);
    psi_set_current(pat);
    psi_set_section(pat, 0);
    psi_set_lastsection(pat, 0);
    uint8_t *prog = pat_get_program(pat, 0);
    patn_init(prog);
    patn_set_program(prog, 1);
    patn_set_pid(prog, PMT_PID);
    psi_set_crc(pat);
    if (ts_section_packetize(pat, psi_get_length(pat) + PSI_HEADER_SIZE, TS_PID_PAT, 0, out) < 0)
        abort();

    uint8_t pmt[PSI_MAX_SIZE + PSI_HEADER_SIZE];
    uint8_t streams = video_type ? 2 : 1;
    pmt_init(pmt);
    pmt_set_length(pmt, streams * PMT_ES_SIZE);
    pmt_set_program(pmt, 1);
    psi_set_version(pmt, 0);
    psi_set_current(pmt);
    psi_set_section(pmt, 0);
    psi_set_lastsection(pmt, 0);
    pmt_set_pcrpid(pmt, video_type ? VIDEO_PID : AUDIO_PID);
    pmt_set_desclength(pmt, 0);
    uint8_t n = 0;
    if (video_type) {
        uint8_t *es = pmt_get_es(pmt, n++);
        pmtn_init(es);
        pmtn_set_streamtype(es, video_type);
        pmtn_set_pid(es, VIDEO_PID);
        pmtn_set_desclength(es, 0);
    }
    uint8_t *es = pmt_get_es(pmt, n);
    pmtn_init(es);
    pmtn_set_streamtype(es, audio_type);
    pmtn_set_pid(es, AUDIO_PID);
    pmtn_set_desclength(es, 0);
    psi_set_crc(pmt);
    if (ts_section_packetize(pmt, psi_get_length(pmt) + PSI_HEADER_SIZE, PMT_PID, 0, out + TS_PACKET_SIZE) < 0)
        abort();
    return 2;
}

/* Cuts one PES packet into TS packets (stuffing the last one through its
 * adaptation field); returns how many were written, or 0 when it does not
 * fit in room packets (a PES cut short would not be the PES checked). */
static size_t packetize(const unit_t *u, uint8_t *cc, uint8_t *out, size_t room)
{
    /* With random_access_indicator, the flags byte takes room too. */
    size_t first_room = TS_PACKET_SIZE - 4 - (u->random_access ? 2u : 0u);
    size_t needed = 1 + (u->len > first_room ? (u->len - first_room + TS_PACKET_SIZE - 5) / (TS_PACKET_SIZE - 4) : 0);
    if (needed > room)
        return 0;
    uint16_t pid = u->audio ? AUDIO_PID : VIDEO_PID;
    size_t done = 0, count = 0;
    while (done < u->len) {
        uint8_t *pkt = out + count * TS_PACKET_SIZE;
        bool first = done == 0;
        size_t chunk = MIN(u->len - done, first ? first_room : TS_PACKET_SIZE - 4);
        size_t af = TS_PACKET_SIZE - 4 - chunk; /* adaptation field, length byte included */
        pkt[0] = 0x47;
        pkt[1] = (uint8_t)((first ? 0x40 : 0) | (pid >> 8));
        pkt[2] = (uint8_t)pid;
        pkt[3] = (uint8_t)((af ? 0x30 : 0x10) | *cc);
        *cc = (*cc + 1) & 0x0f;
        if (af) {
            pkt[4] = (uint8_t)(af - 1);
            if (af > 1) {
                pkt[5] = first && u->random_access ? 0x40 : 0x00;
                memset(pkt + 6, 0xff, af - 2);
            }
        }
        memcpy(pkt + 4 + af, u->data + done, chunk);
        done += chunk;
        count++;
    }
    if (count != needed)
        abort();
    return count;
}

/* The PTS, or the DTS when there is one, of a PES header read from the
 * first packet's payload (ISO/IEC 13818-1 2.4.3.7); false when it has none
 * or its header does not fit there. */
static bool expected_dts(const uint8_t *p, size_t len, uint64_t *out)
{
    if (len < 9 || p[0] || p[1] || p[2] != 1 || (p[6] & 0xc0) != 0x80)
        return false;
    unsigned flags = p[7] >> 6;
    size_t header = 9u + p[8];
    if (flags < 2 || header > len || p[8] < (flags == 3 ? 10 : 5))
        return false;
    const uint8_t *t = p + (flags == 3 ? 14 : 9);
    *out = ((uint64_t)(t[0] >> 1 & 7) << 30) | ((uint64_t)t[1] << 22) | ((uint64_t)(t[2] >> 1) << 15) |
           ((uint64_t)t[3] << 7) | (uint64_t)(t[4] >> 1);
    return true;
}

/* The verdict of es.c on a video PES, as the demux reads it: the PES header
 * skipped when it is whole in the first packet's payload (first_len bytes). */
static int scan_unit(ts_video_codec_t codec, const unit_t *u, size_t first_len, size_t piece)
{
    const uint8_t *p = u->data;
    size_t len = u->len;
    if (first_len >= 9 && !p[0] && !p[1] && p[2] == 1 && 9u + p[8] <= first_len) {
        size_t header = 9u + p[8];
        p += header;
        len -= header;
    }
    ts_es_scan_t whole, split;
    ts_es_scan_start(&whole, codec);
    ts_es_scan_start(&split, codec);
    int a = ts_es_scan_feed(&whole, p, len);
    int b = -1;
    for (size_t off = 0; off < len; off += piece)
        b = ts_es_scan_feed(&split, p + off, MIN(piece, len - off));
    if (len == 0)
        b = ts_es_scan_feed(&split, p, 0);
    if (a != b || a < -1 || a > 1)
        abort(); /* start codes cut between pieces must still be found */
    return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t control = data[0];
    uint8_t video_type = video_types[control & 3], audio_type = audio_types[(control >> 2) & 3];
    bool random_access = control & 0x10;
    size_t piece = pieces[control >> 5];

    unit_t units[MAX_UNITS];
    size_t unit_count = 0;
    for (size_t off = 1; off + 2 <= size && unit_count < MAX_UNITS;) {
        size_t len = ((size_t)(data[off] & 0x7f) << 8) | data[off + 1];
        bool audio = data[off] & 0x80;
        off += 2;
        len = MIN(len, size - off);
        if (len) /* an empty PES is no PES */
            units[unit_count++] = (unit_t){data + off, len, audio, random_access && !audio};
        off += len;
    }

    block_t *psi = block_new(2 * TS_PACKET_SIZE, 0);
    block_t *es = block_new(MAX_PACKETS * TS_PACKET_SIZE, 0);
    ts_demux_t *demux = ts_demux_new(1);
    if (!psi || !es || !demux)
        abort();
    psi->size = (uint32_t)(write_psi(psi->data, video_type, audio_type) * TS_PACKET_SIZE);

    /* Packets, with where each PES starts and what the demux should find. */
    uint8_t cc[2] = {0, 0};
    size_t start[MAX_UNITS], packets = 0, used = 0;
    for (; used < unit_count; used++) {
        size_t n = packetize(&units[used], &cc[units[used].audio], es->data + packets * TS_PACKET_SIZE,
                             MAX_PACKETS - packets);
        if (!n)
            break;
        start[used] = packets;
        packets += n;
    }
    es->size = (uint32_t)(packets * TS_PACKET_SIZE);

    ts_packet_info_t info;
    for (size_t off = 0; off < psi->size; off += TS_PACKET_SIZE)
        ts_demux_packet(demux, psi->data + off, &info);
    if (!ts_demux_has_pmt(demux) || !ts_demux_program_found(demux))
        abort();
    ts_video_codec_t codec = ts_video_codec_from_stream_type(video_type);
    uint64_t keyframes = 0;
    for (size_t i = 0; i < used; i++) {
        const unit_t *u = &units[i];
        /* Without a video stream its PID is not in the program: dropped. */
        bool dropped = !u->audio && !video_type;
        bool is_video = !u->audio && video_type;
        bool is_access = video_type ? is_video : u->audio; /* video, else the first stream */
        size_t first_len = MIN(u->len, TS_PACKET_SIZE - 4 - (u->random_access ? 2u : 0u));
        uint64_t dts = 0;
        bool has_dts = is_access && expected_dts(u->data, first_len, &dts);
        size_t end = i + 1 < used ? start[i + 1] : packets;
        for (size_t k = start[i]; k < end; k++) {
            ts_demux_packet(demux, es->data + k * TS_PACKET_SIZE, &info);
            bool first = k == start[i];
            if (info.drop != dropped || info.has_dts != (first && has_dts) || (first && has_dts && info.dts != dts))
                abort();
            if (info.access_pes_start != (first && is_access) || info.video_pes_start != (first && is_video))
                abort();
        }
        if (is_video)
            keyframes += u->random_access ? 1 : scan_unit(codec, u, first_len, piece) == 1;
    }
    if (ts_demux_stats(demux)->keyframes != keyframes || ts_demux_stats(demux)->cc_errors)
        abort();

    /* The same packets as a finished HLS segment. */
    block_t *blocks[1] = {es};
    hls_segment_t seg = {.end = es->size, .duration = 90000, .access_units = (uint32_t)used, .psi = psi,
                         .blocks = blocks, .block_count = 1, .block_cap = 1};
    hls_codecs_t found;
    hls_probe(&seg, &found);
    if (!found.known || !memchr(found.codecs, '\0', sizeof(found.codecs)))
        abort();
    if ((found.width == 0) != (found.height == 0) || found.width > 16384 || found.height > 32768)
        abort();

    ts_demux_free(demux);
    block_unref(psi);
    block_unref(es);
    return 0;
}
