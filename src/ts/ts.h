// SPDX-License-Identifier: MIT
// ts.h -- MPEG-TS (ISO/IEC 13818-1) as antenne reads it: packet alignment,
// PAT/PMT tracking, program selection, continuity and keyframe detection.
// Field access goes through VideoLAN biTStream; this area adds the state.
#ifndef ANTENNE_TS_H
#define ANTENNE_TS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_PACKET_SIZE 188
#define TS_PID_COUNT 8192
#define TS_PID_NULL 0x1fff
#define TS_PID_PAT 0

/* ---- sync.c: a byte stream into aligned packets ---------------------------- */

/* Called with `count` consecutive aligned packets. */
typedef void (*ts_packets_fn)(void *opaque, const uint8_t *packets, size_t count);

/* Finds packet boundaries in a stream of bytes that may start mid-packet,
 * carry garbage or be cut anywhere. Lock needs three sync bytes 188 apart. */
typedef struct ts_sync {
    uint8_t pending[TS_PACKET_SIZE * 4];
    size_t pending_len;
    bool locked;
    bool loss_counted;       /* this unlocked episode is already counted */
    uint64_t sync_losses;    /* episodes of bytes that are not packets */
    uint64_t bytes_skipped;  /* bytes thrown away while searching */
    uint64_t packets;        /* aligned packets handed out */
} ts_sync_t;

void ts_sync_init(ts_sync_t *sync);
/* Borrows data for the call; calls emit zero or more times. */
void ts_sync_feed(ts_sync_t *sync, const uint8_t *data, size_t len, ts_packets_fn emit, void *opaque);

/* ---- psi.c: sections and tables ------------------------------------------- */

#define TS_SECTION_MAX 4096

/* Reassembles PSI sections of one PID across packets. */
typedef struct ts_section_buf {
    uint8_t data[TS_SECTION_MAX + TS_PACKET_SIZE];
    uint16_t used;
    bool active;
} ts_section_buf_t;

/* Called for each complete section whose CRC is valid. */
typedef void (*ts_section_fn)(void *opaque, const uint8_t *section, size_t len);

void ts_section_buf_reset(ts_section_buf_t *buf);
/* Feeds one packet of the PID. Returns the number of sections rejected for a
 * bad length or CRC in this packet (0 when all is well). */
int ts_section_push(ts_section_buf_t *buf, const uint8_t *packet, ts_section_fn fn, void *opaque);

/* Writes one section (at most 183 bytes) as a single TS packet on `pid`. */
int ts_section_packetize(const uint8_t *section, size_t len, uint16_t pid, uint8_t cc, uint8_t *packet);

/* ---- es.c: picture types from elementary stream bytes -------------------- */

typedef enum ts_video_codec {
    TS_VIDEO_NONE = 0,
    TS_VIDEO_MPEG2,
    TS_VIDEO_H264,
    TS_VIDEO_HEVC,
} ts_video_codec_t;

/* The video codec a PMT stream_type announces, or TS_VIDEO_NONE. */
ts_video_codec_t ts_video_codec_from_stream_type(uint8_t stream_type);

/* Scans an access unit's bytes for the first picture and says whether it is
 * a random access point. Fed in pieces; keeps start-code state across them. */
typedef struct ts_es_scan {
    ts_video_codec_t codec;
    uint32_t window;      /* last bytes seen, to find 00 00 01 across pieces */
    uint8_t need;         /* bytes still wanted after a start code (MPEG-2) */
    uint8_t header[2];
    uint32_t scanned;
    int verdict;          /* -1 undecided, 0 not a keyframe, 1 keyframe */
} ts_es_scan_t;

void ts_es_scan_start(ts_es_scan_t *scan, ts_video_codec_t codec);
/* Returns the verdict so far: -1 undecided, 0 no, 1 keyframe. */
int ts_es_scan_feed(ts_es_scan_t *scan, const uint8_t *data, size_t len);

/* ---- demux.c: one source's view of the multiplex -------------------------- */

typedef struct ts_stats {
    uint64_t packets;
    uint64_t cc_errors;
    uint64_t transport_errors;
    uint64_t psi_errors;      /* sections with a bad CRC or length */
    uint64_t keyframes;
    uint64_t scrambled;       /* packets with scrambling bits set */
} ts_stats_t;

/* What the demux decided about one packet. */
typedef struct ts_packet_info {
    bool drop;               /* not part of the selected program, or a null packet */
    const uint8_t *replaced; /* when set, send these 188 bytes instead (rewritten PAT) */
    bool psi;                /* PAT or PMT of the selected program */
    bool video_pes_start;    /* starts a video PES (a possible keyframe) */
    bool access_pes_start;   /* starts a PES of the stream that paces cutting:
                              * video, or the first stream when there is none */
    bool has_dts;
    uint64_t dts;            /* 90 kHz, 33 bits: DTS, or PTS when there is no DTS */
    bool keyframe_decided;   /* the most recent video PES start is a keyframe, known now */
    bool has_pcr;
    uint64_t pcr;            /* 27 MHz */
} ts_packet_info_t;

typedef struct ts_demux ts_demux_t;

/* program 0 keeps every program. Returns NULL when out of memory. */
ts_demux_t *ts_demux_new(uint16_t program);
void ts_demux_free(ts_demux_t *demux);
/* Forgets the stream (a new source); keeps nothing but the program choice. */
void ts_demux_reset(ts_demux_t *demux);
/* Looks at one aligned packet (pkt[0] == 0x47 is the caller's promise). */
void ts_demux_packet(ts_demux_t *demux, const uint8_t *pkt, ts_packet_info_t *info);
const ts_stats_t *ts_demux_stats(const ts_demux_t *demux);
uint16_t ts_demux_video_pid(const ts_demux_t *demux);
/* The PID that paces segment cutting: video, else the first stream. */
uint16_t ts_demux_access_pid(const ts_demux_t *demux);
ts_video_codec_t ts_demux_video_codec(const ts_demux_t *demux);
bool ts_demux_has_pmt(const ts_demux_t *demux);
/* Whether the selected program was found in the PAT (always true for 0). */
bool ts_demux_program_found(const ts_demux_t *demux);

#endif
