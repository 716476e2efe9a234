// SPDX-License-Identifier: MIT
// es.c -- is this access unit a random access point? Finds the first coded
// picture after the PES header and reads its type:
//   H.264 (ITU-T H.264 7.4.1.2): nal_unit_type 5 is IDR, 1 a non-IDR slice;
//   H.265 (ITU-T H.265 7.4.2.2): nal_unit_type 16..23 are IRAP, 0..9 others;
//   MPEG-2 (ISO/IEC 13818-2 6.3.9): picture_coding_type 1 is an I picture.
// Used when the sender leaves random_access_indicator unset.
#include "ts/ts.h"

/* After this many bytes without a picture, give up: not a keyframe. */
#define ES_SCAN_LIMIT (512u * 1024u)

ts_video_codec_t ts_video_codec_from_stream_type(uint8_t stream_type)
{
    switch (stream_type) {
    case 0x01:
    case 0x02:
        return TS_VIDEO_MPEG2;
    case 0x1b:
        return TS_VIDEO_H264;
    case 0x24:
        return TS_VIDEO_HEVC;
    default:
        return TS_VIDEO_NONE;
    }
}

void ts_es_scan_start(ts_es_scan_t *scan, ts_video_codec_t codec)
{
    scan->codec = codec;
    scan->window = 0xffffffffu;
    scan->need = 0;
    scan->scanned = 0;
    scan->verdict = codec == TS_VIDEO_NONE ? 0 : -1;
}

/* The byte after a start code; returns a verdict or -1 to go on. */
static int es_after_start_code(ts_es_scan_t *scan, uint8_t b)
{
    switch (scan->codec) {
    case TS_VIDEO_H264: {
        unsigned type = b & 0x1f;
        if (type == 5)
            return 1;
        if (type >= 1 && type <= 4)
            return 0;
        return -1;
    }
    case TS_VIDEO_HEVC: {
        unsigned type = (b >> 1) & 0x3f;
        if (type >= 16 && type <= 23)
            return 1;
        if (type <= 9)
            return 0;
        return -1;
    }
    case TS_VIDEO_MPEG2:
        if (b == 0x00) /* picture_start_code: two header bytes follow */
            scan->need = 2;
        return -1;
    default:
        return 0;
    }
}

int ts_es_scan_feed(ts_es_scan_t *scan, const uint8_t *data, size_t len)
{
    if (scan->verdict >= 0)
        return scan->verdict;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = data[i];
        if (scan->need) {
            scan->header[2 - scan->need] = b;
            if (--scan->need == 0) {
                unsigned coding_type = (scan->header[1] >> 3) & 0x07;
                scan->verdict = coding_type == 1;
                return scan->verdict;
            }
        } else if ((scan->window & 0x00ffffffu) == 0x000001u) {
            int verdict = es_after_start_code(scan, b);
            if (verdict >= 0) {
                scan->verdict = verdict;
                return verdict;
            }
        }
        scan->window = (scan->window << 8) | b;
    }
    scan->scanned += (uint32_t)len;
    if (scan->scanned > ES_SCAN_LIMIT)
        scan->verdict = 0;
    return scan->verdict;
}
