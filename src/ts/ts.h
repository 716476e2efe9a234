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
    uint64_t corrupt_packets;/* packets in place whose sync byte was wrong */
    /* Optional (set after ts_sync_init): told of the packets in place whose
     * sync byte is wrong, which are not handed out. One such packet keeps
     * the lock (a damaged byte); two in a row lose it (TR 101 290 1.1). */
    ts_packets_fn on_corrupt;
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

/* ---- analyze.c: ETSI TR 101 290 stream analysis ---------------------------- */

/* Counters of one source, named as in TR 101 290 (V1.2.1) sections 5.2.1 and
 * 5.2.2. Each is a count of events; what one event is:
 *
 * TS_SYNC_LOSS      a packet starting without 0x47 when the previous one did
 *                   not either, while in sync (two corrupted sync bytes in a
 *                   row lose sync; five good ones in a row regain it, the
 *                   standard's hysteresis). Sync is first acquired after five.
 * SYNC_BYTE_ERROR   a packet whose first byte is not 0x47. Nothing else of
 *                   such a packet is read.
 * PAT_ERROR         PAT_error_2: a period without a valid (CRC-checked)
 *                   table_id 0x00 section on PID 0 longer than pat_timeout,
 *                   counted once per absence however long it lasts; a section
 *                   on PID 0 with another table_id; a PID 0 packet whose
 *                   transport_scrambling_control is not 00 (per packet).
 *                   The first period starts at the first packet.
 * CC_ERROR          a packet with payload whose continuity_counter is neither
 *                   the last one + 1 nor a first repeat of the last one (each
 *                   gap or reordering is one error whatever the number of
 *                   packets lost; each copy of a packet beyond the second is
 *                   one error). Not checked: null packets,
 *                   packets without payload, the first packet of a PID, and a
 *                   packet with discontinuity_indicator set (it re-bases the
 *                   counter). Duplicates are recognised by CC alone.
 * PMT_ERROR         PMT_error_2, per program listed in the PAT: a period
 *                   without its valid table_id 0x02 section (matching its
 *                   program_number) longer than pmt_timeout, once per absence,
 *                   the period starting when the PAT lists it; a scrambled
 *                   packet on its PMT PID; a section with table_id 0x00..0x3f
 *                   other than 0x02 there (private sections 0x40.. may share
 *                   the PID, ISO/IEC 13818-1 2.4.4.8).
 * PID_ERROR         a PID listed in a PMT (elementary streams and PCR PID) not
 *                   seen for pid_timeout (default 5 s), once per absence, the
 *                   period starting when a PMT lists it.
 * TRANSPORT_ERROR   a packet with transport_error_indicator set. Its payload
 *                   is not parsed; its header still counts for CC.
 * CRC_ERROR         a PSI/SI section (PAT, CAT, PMT, NIT, SDT/BAT, EIT) whose
 *                   CRC_32 is wrong, or that cannot be checked because its
 *                   length is impossible or it is cut short by the next one.
 * PCR_REPETITION_ERROR  two consecutive PCRs of a PID more than pcr_interval
 *                   (100 ms) apart. The interval is measured on the PCR values
 *                   when they agree with arrival time (within pcr_jump), which
 *                   is immune to network jitter; when the PCR jumped it is
 *                   measured on arrival time.
 * PCR_DISCONTINUITY_ERROR  PCR_discontinuity_indicator_error: consecutive PCRs
 *                   of a PID whose difference is negative, or is more than
 *                   pcr_interval and disagrees with arrival time by more than
 *                   pcr_jump, without discontinuity_indicator. A PCR gap whose
 *                   values follow arrival time is a repetition error only.
 * PTS_ERROR         two consecutive PES headers carrying a PTS on an audio or
 *                   video PID (stream_id 0xc0..0xef) arriving more than
 *                   pts_interval (700 ms) apart. Arrival time, because PTS
 *                   values are reordered by B-pictures.
 * PID_ERROR, PCR and PTS checks need per-PID state: they apply to the PIDs
 * with an entry of their own (see TS_ANALYZE_MAX_PIDS; PIDs the PAT or a PMT
 * names always get one while there is an unreferenced entry to give up). */
typedef enum ts_tr_error {
    TS_TR_SYNC_LOSS = 0,
    TS_TR_SYNC_BYTE_ERROR,
    TS_TR_PAT_ERROR,
    TS_TR_CC_ERROR,
    TS_TR_PMT_ERROR,
    TS_TR_PID_ERROR,
    TS_TR_TRANSPORT_ERROR,
    TS_TR_CRC_ERROR,
    TS_TR_PCR_REPETITION_ERROR,
    TS_TR_PCR_DISCONTINUITY_ERROR,
    TS_TR_PTS_ERROR,
    TS_TR_COUNT
} ts_tr_error_t;

/* The standard's name ("Continuity_count_error") and priority (1 or 2). */
const char *ts_tr_error_name(ts_tr_error_t error);
int ts_tr_error_priority(ts_tr_error_t error);

/* Zero fields take the defaults in brackets. */
typedef struct ts_analyzer_options {
    uint32_t pat_timeout_ms;   /* [500] */
    uint32_t pmt_timeout_ms;   /* [500] */
    uint32_t pid_timeout_ms;   /* [5000] */
    uint32_t pcr_interval_ms;  /* [100] */
    uint32_t pcr_jump_ms;      /* [100] PCR vs arrival disagreement that is a jump */
    uint32_t pts_interval_ms;  /* [700] */
} ts_analyzer_options_t;

#define TS_ANALYZE_MAX_PIDS 64   /* PIDs counted one by one; the rest are "others" */
#define TS_ANALYZE_MAX_PROGRAMS 16

typedef struct ts_analysis_pid {
    uint16_t pid;
    bool referenced;          /* listed in the PAT (PMT PID) or a PMT */
    bool pcr;                 /* carries PCRs */
    bool scrambled;           /* its last packet was scrambled */
    uint64_t packets;
    uint64_t cc_errors;
    uint64_t scrambled_packets;
    uint64_t bitrate;         /* bits/s over the last complete second */
} ts_analysis_pid_t;

typedef enum ts_health {
    TS_HEALTH_OK = 0,
    TS_HEALTH_DEGRADED,       /* errors in the last 1-2 s, a PID missing, PCRs gone
                               * for 10 PCR intervals, or scrambled PIDs */
    TS_HEALTH_DOWN,           /* no packets, no sync, no PAT or no PMT */
} ts_health_t;

typedef struct ts_analysis {
    uint64_t errors[TS_TR_COUNT];       /* since new or reset */
    uint64_t recent[TS_TR_COUNT];       /* in the last 1-2 s */
    uint64_t packets;                   /* all packets, including bad sync */
    uint64_t scrambled_packets;
    uint64_t bitrate;                   /* bits/s over the last complete second */
    bool in_sync;
    size_t pid_count;                   /* entries used in pids[], by PID order */
    ts_analysis_pid_t pids[TS_ANALYZE_MAX_PIDS];
    uint64_t other_packets;             /* PIDs beyond the tracked ones */
    uint64_t other_bitrate;
    size_t scrambled_pids;              /* tracked PIDs whose last packet was scrambled */
    uint64_t pcr_gap_us;                /* the longest time since the last PCR of a PID that
                                         * carried PCRs or that the PMT names as PCR PID (counted
                                         * from when it named it); 0 when there is none */
    ts_health_t state;
    char reason[96];                    /* "" when ok, else e.g. "PAT missing for 0.8 s" */
} ts_analysis_t;

/* One source's analyzer. Pure: no I/O, no clock of its own, no allocation
 * after new. Times are the caller's monotonic microseconds. */
typedef struct ts_analyzer ts_analyzer_t;

/* options may be NULL (defaults); it is copied. Returns NULL when out of
 * memory. */
ts_analyzer_t *ts_analyzer_new(const ts_analyzer_options_t *options);
void ts_analyzer_free(ts_analyzer_t *analyzer);
/* Forgets everything (counters and stream state), keeps the options. */
void ts_analyzer_reset(ts_analyzer_t *analyzer);
/* One 188-byte packet as it arrived (any first byte). Borrows pkt. */
void ts_analyzer_packet(ts_analyzer_t *analyzer, const uint8_t *pkt, uint64_t now_us);
/* Timeouts and bitrate windows advance with packets; call this (e.g. once a
 * second) so that they also advance when packets stop coming. */
void ts_analyzer_tick(ts_analyzer_t *analyzer, uint64_t now_us);
/* Fills out (it need not be initialised). */
void ts_analyzer_get(const ts_analyzer_t *analyzer, ts_analysis_t *out);

#endif
