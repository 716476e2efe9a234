// SPDX-License-Identifier: MIT
// probe.c -- what a multivariant playlist says about a stream (RFC 8216
// 4.3.4.2: CODECS, RESOLUTION, FRAME-RATE), read from a finished segment:
// the PMT's stream types, the H.264 SPS (ITU-T H.264 7.3.2.1.1) or H.265
// profile_tier_level (ITU-T H.265 7.3.3), and the AAC ADTS header
// (ISO/IEC 13818-7 6.2). Codec strings follow RFC 6381.
#include "hls/hls_private.h"
#include "ts/ts.h"

#include <bitstream/mpeg/psi.h>
#include <bitstream/mpeg/psi/pat.h>
#include <bitstream/mpeg/psi/pmt.h>
#include <bitstream/mpeg/ts.h>
#include <stdio.h>
#include <string.h>

#define PROBE_PES_MAX (64 * 1024)

typedef struct probe {
    uint16_t pmt_pid;
    uint16_t video_pid, audio_pid;
    uint8_t video_type, audio_type;
    ts_section_buf_t section;
    /* the first PES of each, as far as it goes */
    uint8_t video[PROBE_PES_MAX];
    size_t video_len;
    bool video_started, video_done;
    uint8_t audio[64];
    size_t audio_len;
    bool audio_started;
} probe_t;

static void probe_on_pat(void *opaque, const uint8_t *section, size_t len)
{
    probe_t *p = opaque;
    (void)len;
    uint8_t *pat = (uint8_t *)section;
    if (psi_get_tableid(pat) != PAT_TABLE_ID || !pat_validate(pat))
        return;
    const uint8_t *entry;
    for (uint8_t n = 0; (entry = pat_get_program(pat, n)) != NULL && n < 255; n++) {
        if (patn_get_program(entry)) {
            p->pmt_pid = patn_get_pid(entry);
            return;
        }
    }
}

static void probe_on_pmt(void *opaque, const uint8_t *section, size_t len)
{
    probe_t *p = opaque;
    (void)len;
    uint8_t *pmt = (uint8_t *)section;
    if (psi_get_tableid(pmt) != PMT_TABLE_ID || !pmt_validate(pmt))
        return;
    const uint8_t *es;
    for (uint8_t n = 0; (es = pmt_get_es(pmt, n)) != NULL && n < 255; n++) {
        uint8_t type = pmtn_get_streamtype(es);
        if (ts_video_codec_from_stream_type(type) != TS_VIDEO_NONE && p->video_pid == TS_PID_NULL) {
            p->video_pid = pmtn_get_pid(es);
            p->video_type = type;
        } else if ((type == 0x0f || type == 0x03 || type == 0x04 || type == 0x81) && p->audio_pid == TS_PID_NULL) {
            p->audio_pid = pmtn_get_pid(es);
            p->audio_type = type;
        }
    }
}

/* Appends a packet's PES bytes (the first PES only) to buf. */
static void collect(const uint8_t *pkt, uint8_t *buf, size_t cap, size_t *len, bool *started, bool *done)
{
    if (*done || !ts_has_payload(pkt))
        return;
    size_t off = TS_HEADER_SIZE + (ts_has_adaptation(pkt) ? 1u + ts_get_adaptation(pkt) : 0u);
    if (off >= TS_PACKET_SIZE)
        return;
    const uint8_t *payload = pkt + off;
    size_t n = TS_PACKET_SIZE - off;
    if (ts_get_unitstart(pkt)) {
        if (*started) {
            *done = true;
            return;
        }
        if (n < 9 || payload[0] || payload[1] || payload[2] != 1 || (size_t)9 + payload[8] > n)
            return;
        *started = true;
        payload += 9 + payload[8];
        n = TS_PACKET_SIZE - (size_t)(payload - pkt);
    } else if (!*started) {
        return;
    }
    n = MIN(n, cap - *len);
    memcpy(buf + *len, payload, n);
    *len += n;
    if (*len == cap)
        *done = true;
}

static void probe_packet(probe_t *p, const uint8_t *pkt)
{
    if (pkt[0] != 0x47)
        return;
    uint16_t pid = ts_get_pid(pkt);
    if (pid == TS_PID_PAT)
        ts_section_push(&p->section, pkt, probe_on_pat, p);
    else if (pid == p->pmt_pid && p->video_pid == TS_PID_NULL && p->audio_pid == TS_PID_NULL)
        ts_section_push(&p->section, pkt, probe_on_pmt, p);
    else if (pid == p->video_pid)
        collect(pkt, p->video, sizeof(p->video), &p->video_len, &p->video_started, &p->video_done);
    else if (pid == p->audio_pid && !p->audio_started) {
        bool done = false;
        collect(pkt, p->audio, sizeof(p->audio), &p->audio_len, &p->audio_started, &done);
    }
}

/* ---- bit reading over an RBSP (emulation prevention bytes removed) ---- */

typedef struct bits {
    uint8_t data[256];
    size_t len;
    size_t pos; /* in bits */
    bool overrun;
} bits_t;

static void bits_from_nal(bits_t *b, const uint8_t *nal, size_t len)
{
    b->len = b->pos = 0;
    b->overrun = false;
    unsigned zeros = 0;
    for (size_t i = 0; i < len && b->len < sizeof(b->data); i++) {
        if (zeros >= 2 && nal[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        b->data[b->len++] = nal[i];
    }
}

static uint32_t bits_u(bits_t *b, unsigned n)
{
    uint32_t v = 0;
    while (n--) {
        if (b->pos >= b->len * 8) {
            b->overrun = true;
            return 0;
        }
        v = (v << 1) | ((b->data[b->pos / 8] >> (7 - b->pos % 8)) & 1u);
        b->pos++;
    }
    return v;
}

static uint32_t bits_ue(bits_t *b)
{
    unsigned zeros = 0;
    while (!b->overrun && bits_u(b, 1) == 0 && zeros < 31)
        zeros++;
    return ((1u << zeros) - 1) + bits_u(b, zeros);
}

static int32_t bits_se(bits_t *b)
{
    uint32_t v = bits_ue(b);
    return (v & 1) ? (int32_t)((v + 1) / 2) : -(int32_t)(v / 2);
}

static void skip_scaling_list(bits_t *b, int size)
{
    int last = 8, next = 8;
    for (int j = 0; j < size && !b->overrun; j++) {
        if (next != 0) {
            /* delta_scale is -128..127 (H.264 7.4.2.1.1.1); anything else is
             * a broken SPS, and would overflow the sum */
            int32_t delta = bits_se(b);
            if (delta < -128 || delta > 127) {
                b->overrun = true;
                break;
            }
            next = (last + delta + 256) % 256;
        }
        last = next == 0 ? last : next;
    }
}

/* H.264 SPS (after the NAL header byte): codec string and picture size. */
static bool parse_h264_sps(const uint8_t *nal, size_t len, hls_codecs_t *out, char *codec, size_t codec_size)
{
    bits_t b;
    bits_from_nal(&b, nal, len);
    uint32_t profile = bits_u(&b, 8), constraints = bits_u(&b, 8), level = bits_u(&b, 8);
    static const uint8_t profiles[] = {66, 77, 88, 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135};
    if (!memchr(profiles, (int)profile, sizeof(profiles)) || level < 9 || level > 62)
        return false; /* not an SPS this stream could carry: say nothing */
    bits_ue(&b); /* seq_parameter_set_id */
    uint32_t chroma = 1;
    if (profile == 100 || profile == 110 || profile == 122 || profile == 244 || profile == 44 || profile == 83 ||
        profile == 86 || profile == 118 || profile == 128 || profile == 138 || profile == 139 || profile == 134 ||
        profile == 135) {
        chroma = bits_ue(&b);
        if (chroma == 3)
            bits_u(&b, 1);
        bits_ue(&b);
        bits_ue(&b);
        bits_u(&b, 1);
        if (bits_u(&b, 1)) {
            for (int i = 0; i < (chroma != 3 ? 8 : 12); i++)
                if (bits_u(&b, 1))
                    skip_scaling_list(&b, i < 6 ? 16 : 64);
        }
    }
    bits_ue(&b); /* log2_max_frame_num_minus4 */
    uint32_t poc_type = bits_ue(&b);
    if (poc_type == 0) {
        bits_ue(&b);
    } else if (poc_type == 1) {
        bits_u(&b, 1);
        bits_se(&b);
        bits_se(&b);
        uint32_t cycle = bits_ue(&b);
        for (uint32_t i = 0; i < cycle && i < 256 && !b.overrun; i++)
            bits_se(&b);
    }
    bits_ue(&b);    /* max_num_ref_frames */
    bits_u(&b, 1);  /* gaps_in_frame_num_value_allowed_flag */
    uint32_t width_mbs = bits_ue(&b) + 1, height_units = bits_ue(&b) + 1;
    uint32_t frame_mbs_only = bits_u(&b, 1);
    if (!frame_mbs_only)
        bits_u(&b, 1);
    bits_u(&b, 1);
    uint32_t crop_l = 0, crop_r = 0, crop_t = 0, crop_b = 0;
    if (bits_u(&b, 1)) {
        crop_l = bits_ue(&b);
        crop_r = bits_ue(&b);
        crop_t = bits_ue(&b);
        crop_b = bits_ue(&b);
    }
    if (b.overrun || chroma > 3 || width_mbs > 1024 || height_units > 1024)
        return false;
    uint32_t crop_x = chroma == 0 || chroma == 3 ? 1 : 2;
    uint32_t crop_y = (chroma == 1 ? 2 : 1) * (2 - frame_mbs_only);
    uint32_t width = width_mbs * 16, height = height_units * 16 * (2 - frame_mbs_only);
    if (crop_x * (crop_l + crop_r) >= width || crop_y * (crop_t + crop_b) >= height)
        return false;
    out->width = width - crop_x * (crop_l + crop_r);
    out->height = height - crop_y * (crop_t + crop_b);
    snprintf(codec, codec_size, "avc1.%02x%02x%02x", profile, constraints, level);
    return true;
}

/* H.265 SPS (after the 2-byte NAL header): codec string from
 * profile_tier_level, as RFC 6381 / ISO/IEC 14496-15 E.3 spell it. */
static bool parse_hevc_sps(const uint8_t *nal, size_t len, char *codec, size_t codec_size)
{
    bits_t b;
    bits_from_nal(&b, nal, len);
    bits_u(&b, 8); /* vps id, max_sub_layers, temporal_id_nesting */
    uint32_t space = bits_u(&b, 2), tier = bits_u(&b, 1), profile = bits_u(&b, 5);
    uint32_t compat = bits_u(&b, 32);
    uint8_t constraint[6];
    for (int i = 0; i < 6; i++)
        constraint[i] = (uint8_t)bits_u(&b, 8);
    uint32_t level = bits_u(&b, 8);
    if (b.overrun)
        return false;
    uint32_t reversed = 0;
    for (int i = 0; i < 32; i++)
        reversed |= ((compat >> i) & 1u) << (31 - i);
    int n = snprintf(codec, codec_size, "hvc1.%s%u.%X.%c%u", space ? (space == 1 ? "A" : space == 2 ? "B" : "C") : "",
                     profile, reversed, tier ? 'H' : 'L', level);
    int last = 5;
    while (last >= 0 && constraint[last] == 0)
        last--;
    for (int i = 0; i <= last && n > 0 && (size_t)n < codec_size; i++)
        n += snprintf(codec + n, codec_size - (size_t)n, ".%X", constraint[i]);
    return true;
}

static void probe_video(probe_t *p, hls_codecs_t *out, char *codec, size_t codec_size)
{
    const uint8_t *d = p->video;
    size_t len = p->video_len;
    for (size_t i = 0; i + 4 < len; i++) {
        if (d[i] || d[i + 1] || d[i + 2] != 1)
            continue;
        const uint8_t *nal = d + i + 3;
        size_t rest = len - i - 3;
        if (p->video_type == 0x1b && (nal[0] & 0x1f) == 7) {
            parse_h264_sps(nal + 1, rest - 1, out, codec, codec_size);
            return;
        }
        if (p->video_type == 0x24 && ((nal[0] >> 1) & 0x3f) == 33 && rest > 2) {
            parse_hevc_sps(nal + 2, rest - 2, codec, codec_size);
            return;
        }
    }
    if (p->video_type == 0x02 || p->video_type == 0x01)
        snprintf(codec, codec_size, "mp4v.61");
}

static void probe_audio(probe_t *p, char *codec, size_t codec_size)
{
    switch (p->audio_type) {
    case 0x0f:
        if (p->audio_len >= 3 && p->audio[0] == 0xff && (p->audio[1] & 0xf0) == 0xf0)
            snprintf(codec, codec_size, "mp4a.40.%u", ((p->audio[2] >> 6) & 3u) + 1u);
        else
            snprintf(codec, codec_size, "mp4a.40.2");
        break;
    case 0x03:
    case 0x04:
        snprintf(codec, codec_size, "mp4a.40.34");
        break;
    case 0x81:
        snprintf(codec, codec_size, "ac-3");
        break;
    default:
        break;
    }
}

void hls_probe(const hls_segment_t *seg, hls_codecs_t *out)
{
    static probe_t p; /* 64 KiB: kept off the stack; used only on the loop thread */
    memset(&p, 0, offsetof(probe_t, video));
    p.pmt_pid = p.video_pid = p.audio_pid = TS_PID_NULL;
    p.video_len = p.audio_len = 0;
    p.video_started = p.video_done = p.audio_started = false;
    ts_section_buf_reset(&p.section);
    if (seg->psi)
        for (uint32_t off = 0; off + TS_PACKET_SIZE <= seg->psi->size; off += TS_PACKET_SIZE)
            probe_packet(&p, seg->psi->data + off);
    ts_section_buf_reset(&p.section);
    for (uint32_t i = 0; i < seg->block_count && !p.video_done; i++) {
        const block_t *block = seg->blocks[i];
        uint64_t base = block->seq * RING_BLOCK_SIZE;
        uint64_t from = MAX(base, seg->start), to = MIN(base + block->size, seg->end);
        for (uint64_t pos = from; pos + TS_PACKET_SIZE <= to; pos += TS_PACKET_SIZE)
            probe_packet(&p, block->data + (pos - base));
    }
    char video[64] = "", audio[32] = "";
    hls_codecs_t found = {0};
    probe_video(&p, &found, video, sizeof(video));
    probe_audio(&p, audio, sizeof(audio));
    snprintf(found.codecs, sizeof(found.codecs), "%s%s%s", video, video[0] && audio[0] ? "," : "", audio);
    if (p.video_pid != TS_PID_NULL && seg->duration)
        found.frame_rate = (double)seg->access_units * HLS_CLOCK / seg->duration;
    found.known = p.pmt_pid != TS_PID_NULL;
    *out = found;
}
