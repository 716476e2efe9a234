// SPDX-License-Identifier: MIT
// demux.c -- one source's view of a multiplex (ISO/IEC 13818-1 2.4.3, 2.4.4):
// follows the PAT and the PMT of the chosen program, keeps only that
// program's PIDs (rewriting the PAT to list it alone), counts continuity
// errors, reads PCRs and marks video PES starts that are keyframes.
//
// Keyframe rule: a video PES start whose adaptation field carries
// random_access_indicator is a keyframe at once; otherwise its first picture
// is read (es.c), which may take a few more packets. The caller remembers
// where the last video PES started and records it when told it is a keyframe.
#include "ts/ts.h"

#include <bitstream/mpeg/ts.h>
#include <bitstream/mpeg/psi.h>
#include <bitstream/mpeg/psi/pat.h>
#include <bitstream/mpeg/psi/pmt.h>
#include <stdlib.h>
#include <string.h>

enum pid_kind {
    PID_OTHER = 0,
    PID_PAT,
    PID_PMT,
    PID_ES,    /* an elementary stream or the PCR PID of the program */
};

#define CC_NONE 0xff

struct ts_demux {
    uint16_t program;         /* chosen program; 0 keeps them all */
    uint16_t program_in_use;  /* program whose PMT we follow */
    bool program_found;
    uint16_t pmt_pid;
    bool pmt_seen;
    uint16_t video_pid;
    uint16_t access_pid;
    ts_video_codec_t video_codec;
    uint16_t pcr_pid;
    bool scanning;
    ts_es_scan_t scan;
    uint8_t pat_packet[TS_PACKET_SIZE];
    bool pat_ready;
    uint8_t pat_cc;
    ts_section_buf_t pat_buf;
    ts_section_buf_t pmt_buf;
    ts_stats_t stats;
    uint8_t kind[TS_PID_COUNT];
    uint8_t last_cc[TS_PID_COUNT];
};

ts_demux_t *ts_demux_new(uint16_t program)
{
    ts_demux_t *demux = malloc(sizeof(*demux));
    if (!demux)
        return NULL;
    demux->program = program;
    ts_demux_reset(demux);
    return demux;
}

void ts_demux_free(ts_demux_t *demux) { free(demux); }

void ts_demux_reset(ts_demux_t *demux)
{
    uint16_t program = demux->program;
    memset(demux, 0, offsetof(ts_demux_t, kind));
    demux->program = program;
    memset(demux->kind, PID_OTHER, sizeof(demux->kind));
    memset(demux->last_cc, CC_NONE, sizeof(demux->last_cc));
    demux->kind[TS_PID_PAT] = PID_PAT;
    demux->pmt_pid = TS_PID_NULL;
    demux->pcr_pid = TS_PID_NULL;
    demux->video_pid = TS_PID_NULL;
    demux->access_pid = TS_PID_NULL;
    ts_section_buf_reset(&demux->pat_buf);
    ts_section_buf_reset(&demux->pmt_buf);
}

const ts_stats_t *ts_demux_stats(const ts_demux_t *demux) { return &demux->stats; }
uint16_t ts_demux_video_pid(const ts_demux_t *demux) { return demux->video_pid; }
uint16_t ts_demux_access_pid(const ts_demux_t *demux) { return demux->access_pid; }
ts_video_codec_t ts_demux_video_codec(const ts_demux_t *demux) { return demux->video_codec; }
bool ts_demux_has_pmt(const ts_demux_t *demux) { return demux->pmt_seen; }
bool ts_demux_program_found(const ts_demux_t *demux) { return demux->program == 0 || demux->program_found; }

static void demux_forget_program(ts_demux_t *demux)
{
    for (size_t pid = 0; pid < TS_PID_COUNT; pid++)
        if (demux->kind[pid] == PID_ES || demux->kind[pid] == PID_PMT)
            demux->kind[pid] = PID_OTHER;
    demux->pmt_seen = false;
    demux->video_pid = TS_PID_NULL;
    demux->access_pid = TS_PID_NULL;
    demux->video_codec = TS_VIDEO_NONE;
    demux->pcr_pid = TS_PID_NULL;
    demux->scanning = false;
    ts_section_buf_reset(&demux->pmt_buf);
}

static void demux_on_pat(void *opaque, const uint8_t *section, size_t len)
{
    ts_demux_t *demux = opaque;
    (void)len;
    uint8_t *pat = (uint8_t *)section;
    if (!pat_validate(pat))
        return;
    uint16_t chosen_program = 0, chosen_pid = TS_PID_NULL;
    const uint8_t *entry;
    for (uint8_t n = 0; (entry = pat_get_program(pat, n)) != NULL; n++) {
        uint16_t program = patn_get_program(entry);
        if (program == 0)
            continue; /* network PID */
        if ((demux->program && program == demux->program) ||
            (!demux->program && (chosen_program == 0 || program < chosen_program))) {
            chosen_program = program;
            chosen_pid = patn_get_pid(entry);
        }
        if (n == 255)
            break;
    }
    demux->program_found = chosen_program != 0;
    if (!chosen_program)
        return;
    if (chosen_pid != demux->pmt_pid || chosen_program != demux->program_in_use) {
        demux_forget_program(demux);
        demux->pmt_pid = chosen_pid;
        demux->program_in_use = chosen_program;
        demux->kind[chosen_pid] = PID_PMT;
    }
    if (demux->program) {
        /* The PAT viewers see lists the chosen program alone. */
        uint8_t out[PSI_MAX_SIZE + PSI_HEADER_SIZE];
        pat_init(out);
        pat_set_length(out, PAT_PROGRAM_SIZE);
        pat_set_tsid(out, pat_get_tsid(pat));
        psi_set_version(out, psi_get_version(pat));
        psi_set_current(out);
        psi_set_section(out, 0);
        psi_set_lastsection(out, 0);
        uint8_t *prog = pat_get_program(out, 0);
        patn_init(prog);
        patn_set_program(prog, chosen_program);
        patn_set_pid(prog, chosen_pid);
        psi_set_crc(out);
        ts_section_packetize(out, psi_get_length(out) + PSI_HEADER_SIZE, TS_PID_PAT, demux->pat_cc,
                             demux->pat_packet);
        demux->pat_ready = true;
    }
}

static void demux_on_pmt(void *opaque, const uint8_t *section, size_t len)
{
    ts_demux_t *demux = opaque;
    (void)len;
    uint8_t *pmt = (uint8_t *)section;
    if (psi_get_tableid(pmt) != PMT_TABLE_ID || !pmt_validate(pmt)) {
        demux->stats.psi_errors++;
        return;
    }
    if (psi_get_tableidext(pmt) != demux->program_in_use)
        return; /* another program sharing the PID */
    for (size_t pid = 0; pid < TS_PID_COUNT; pid++)
        if (demux->kind[pid] == PID_ES)
            demux->kind[pid] = PID_OTHER;
    uint16_t video_pid = TS_PID_NULL;
    uint16_t first_pid = TS_PID_NULL;
    ts_video_codec_t video_codec = TS_VIDEO_NONE;
    const uint8_t *es;
    for (uint8_t n = 0; (es = pmt_get_es(pmt, n)) != NULL; n++) {
        uint16_t pid = pmtn_get_pid(es);
        if (demux->kind[pid] == PID_OTHER)
            demux->kind[pid] = PID_ES;
        if (first_pid == TS_PID_NULL)
            first_pid = pid;
        ts_video_codec_t codec = ts_video_codec_from_stream_type(pmtn_get_streamtype(es));
        if (codec != TS_VIDEO_NONE && video_pid == TS_PID_NULL) {
            video_pid = pid;
            video_codec = codec;
        }
        if (n == 255)
            break;
    }
    demux->pcr_pid = pmt_get_pcrpid(pmt);
    if (demux->pcr_pid != TS_PID_NULL && demux->kind[demux->pcr_pid] == PID_OTHER)
        demux->kind[demux->pcr_pid] = PID_ES;
    if (video_pid != demux->video_pid)
        demux->scanning = false;
    demux->video_pid = video_pid;
    demux->access_pid = video_pid != TS_PID_NULL ? video_pid : first_pid;
    demux->video_codec = video_codec;
    demux->pmt_seen = true;
}

/* Offset of the payload, or TS_PACKET_SIZE when there is none or the
 * adaptation field length is impossible. */
static size_t packet_payload_offset(const uint8_t *pkt)
{
    if (!ts_has_payload(pkt))
        return TS_PACKET_SIZE;
    if (!ts_has_adaptation(pkt))
        return TS_HEADER_SIZE;
    size_t off = TS_HEADER_SIZE + 1 + (size_t)ts_get_adaptation(pkt);
    return off > TS_PACKET_SIZE ? TS_PACKET_SIZE : off;
}

/* The DTS (or PTS) of a PES whose header starts in this payload. */
static void pes_read_dts(const uint8_t *p, size_t len, ts_packet_info_t *info)
{
    if (len < 14 || p[0] != 0 || p[1] != 0 || p[2] != 1 || (p[6] & 0xc0) != 0x80)
        return;
    bool pts = p[7] & 0x80, dts = (p[7] & 0xc0) == 0xc0;
    if (!pts || (size_t)9 + p[8] > len || p[8] < (dts ? 10 : 5))
        return;
    const uint8_t *t = dts ? p + 14 : p + 9;
    if (dts && len < 19)
        return;
    info->has_dts = true;
    info->dts = ((uint64_t)(t[0] & 0x0e) << 29) | ((uint64_t)t[1] << 22) | ((uint64_t)(t[2] & 0xfe) << 14) |
                ((uint64_t)t[3] << 7) | (t[4] >> 1);
}

static void demux_check_cc(ts_demux_t *demux, const uint8_t *pkt, uint16_t pid, bool has_af)
{
    uint8_t cc = ts_get_cc(pkt);
    uint8_t last = demux->last_cc[pid];
    if (!ts_has_payload(pkt)) {
        return; /* the counter does not advance without payload */
    }
    demux->last_cc[pid] = cc;
    if (last == CC_NONE)
        return;
    if (has_af && ts_get_adaptation(pkt) > 0 && tsaf_has_discontinuity(pkt))
        return;
    if (cc != ((last + 1) & 0x0f) && cc != last)
        demux->stats.cc_errors++;
}

static void demux_video(ts_demux_t *demux, const uint8_t *pkt, bool has_af, size_t payload_off,
                        ts_packet_info_t *info)
{
    const uint8_t *payload = pkt + payload_off;
    size_t len = TS_PACKET_SIZE - payload_off;
    if (ts_get_unitstart(pkt)) {
        info->video_pes_start = true;
        demux->scanning = false;
        if (has_af && ts_get_adaptation(pkt) > 0 && tsaf_has_randomaccess(pkt)) {
            info->keyframe_decided = true;
            demux->stats.keyframes++;
            return;
        }
        /* Skip the PES header when it is whole in this packet. */
        if (len >= 9 && payload[0] == 0 && payload[1] == 0 && payload[2] == 1 &&
            (size_t)9 + payload[8] <= len) {
            size_t header = (size_t)9 + payload[8];
            payload += header;
            len -= header;
        }
        ts_es_scan_start(&demux->scan, demux->video_codec);
        demux->scanning = true;
    } else if (!demux->scanning) {
        return;
    }
    int verdict = ts_es_scan_feed(&demux->scan, payload, len);
    if (verdict < 0)
        return;
    demux->scanning = false;
    if (verdict == 1) {
        info->keyframe_decided = true;
        demux->stats.keyframes++;
    }
}

void ts_demux_packet(ts_demux_t *demux, const uint8_t *pkt, ts_packet_info_t *info)
{
    memset(info, 0, sizeof(*info));
    uint16_t pid = ts_get_pid(pkt);
    demux->stats.packets++;
    if (pid == TS_PID_NULL) {
        info->drop = true;
        return;
    }
    if (ts_get_transporterror(pkt)) {
        demux->stats.transport_errors++;
        info->drop = demux->program != 0;
        return;
    }
    bool has_af = ts_has_adaptation(pkt);
    if (has_af && ts_get_adaptation(pkt) > 183) {
        demux->stats.transport_errors++;
        info->drop = true;
        return;
    }
    demux_check_cc(demux, pkt, pid, has_af);
    if (ts_get_scrambling(pkt))
        demux->stats.scrambled++;
    if (has_af && ts_get_adaptation(pkt) >= 7 && tsaf_has_pcr(pkt) &&
        (pid == demux->pcr_pid || demux->pcr_pid == TS_PID_NULL)) {
        info->has_pcr = true;
        info->pcr = tsaf_get_pcr(pkt) * 300 + tsaf_get_pcrext(pkt);
    }

    switch (demux->kind[pid]) {
    case PID_PAT:
        demux->stats.psi_errors += (uint64_t)ts_section_push(&demux->pat_buf, pkt, demux_on_pat, demux);
        info->psi = true;
        if (demux->program) {
            /* Replace the source's PAT with ours; drop continuation packets. */
            if (demux->pat_ready && ts_get_unitstart(pkt)) {
                ts_set_cc(demux->pat_packet, demux->pat_cc);
                demux->pat_cc = (demux->pat_cc + 1) & 0x0f;
                info->replaced = demux->pat_packet;
            } else {
                info->drop = true;
                info->psi = false;
            }
        }
        return;
    case PID_PMT:
        demux->stats.psi_errors += (uint64_t)ts_section_push(&demux->pmt_buf, pkt, demux_on_pmt, demux);
        info->psi = true;
        return;
    case PID_ES:
        if (pid == demux->access_pid && ts_get_unitstart(pkt)) {
            info->access_pes_start = true;
            pes_read_dts(pkt + packet_payload_offset(pkt), TS_PACKET_SIZE - packet_payload_offset(pkt), info);
        }
        if (pid == demux->video_pid)
            demux_video(demux, pkt, has_af, packet_payload_offset(pkt), info);
        return;
    default:
        /* With one program chosen, everything else in the multiplex goes. */
        info->drop = demux->program != 0;
        return;
    }
}
