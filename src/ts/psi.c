// SPDX-License-Identifier: MIT
// psi.c -- PSI section reassembly and packetisation (ISO/IEC 13818-1 2.4.4:
// pointer_field, section_length, CRC_32). Untrusted lengths are checked
// before any byte past them is read.
#include "ts/ts.h"

#include <bitstream/mpeg/ts.h>
#include <bitstream/mpeg/psi.h>
#include <string.h>

#define MIN_BYTES(a, b) ((a) < (b) ? (a) : (b))

void ts_section_buf_reset(ts_section_buf_t *buf)
{
    buf->used = 0;
    buf->active = false;
}

/* Appends to the open section; returns bytes taken. Sets *done to the
 * section's size when it is complete, or *bad when its length is invalid. */
static size_t section_append(ts_section_buf_t *buf, const uint8_t *p, size_t len, size_t *done, bool *bad)
{
    *done = 0;
    *bad = false;
    size_t took = 0;
    if (buf->used < 3) {
        took = MIN_BYTES(len, (size_t)(3 - buf->used));
        memcpy(buf->data + buf->used, p, took);
        buf->used += (uint16_t)took;
        if (buf->used < 3)
            return took;
    }
    size_t size = 3 + (((size_t)(buf->data[1] & 0x0f) << 8) | buf->data[2]);
    if (size > TS_SECTION_MAX) {
        *bad = true;
        return took;
    }
    size_t more = MIN_BYTES(len - took, size - buf->used);
    memcpy(buf->data + buf->used, p + took, more);
    buf->used += (uint16_t)more;
    took += more;
    if (buf->used == size)
        *done = size;
    return took;
}

static int section_finish(ts_section_buf_t *buf, size_t size, ts_section_fn fn, void *opaque)
{
    buf->active = false;
    buf->used = 0;
    const uint8_t *s = buf->data;
    bool syntax = psi_get_syntax(s);
    if (syntax && (size < PSI_HEADER_SIZE_SYNTAX1 + PSI_CRC_SIZE || !psi_check_crc(s)))
        return 1;
    fn(opaque, s, size);
    return 0;
}

int ts_section_push(ts_section_buf_t *buf, const uint8_t *pkt, ts_section_fn fn, void *opaque)
{
    if (!ts_has_payload(pkt))
        return 0;
    size_t start = TS_HEADER_SIZE;
    if (ts_has_adaptation(pkt))
        start += 1 + (size_t)ts_get_adaptation(pkt);
    if (start >= TS_SIZE)
        return 0;
    const uint8_t *p = pkt + start;
    size_t left = TS_SIZE - start;
    int errors = 0;
    size_t done;
    bool bad;

    if (ts_get_unitstart(pkt)) {
        size_t pointer = p[0];
        p++;
        left--;
        if (pointer > left) {
            ts_section_buf_reset(buf);
            return 1;
        }
        if (buf->active && pointer) {
            section_append(buf, p, pointer, &done, &bad);
            if (bad) {
                errors++;
                ts_section_buf_reset(buf);
            } else if (done) {
                errors += section_finish(buf, done, fn, opaque);
            }
        }
        /* A section still open here was cut short by its sender. */
        if (buf->active && buf->used)
            errors++;
        ts_section_buf_reset(buf);
        p += pointer;
        left -= pointer;
        while (left > 0 && p[0] != 0xff) {
            buf->active = true;
            buf->used = 0;
            size_t took = section_append(buf, p, left, &done, &bad);
            p += took;
            left -= took;
            if (bad) {
                ts_section_buf_reset(buf);
                return errors + 1;
            }
            if (!done)
                break; /* continues in the next packet */
            errors += section_finish(buf, done, fn, opaque);
        }
        return errors;
    }
    if (!buf->active)
        return 0;
    section_append(buf, p, left, &done, &bad);
    if (bad) {
        ts_section_buf_reset(buf);
        return 1;
    }
    if (done)
        errors += section_finish(buf, done, fn, opaque);
    return errors;
}

int ts_section_packetize(const uint8_t *section, size_t len, uint16_t pid, uint8_t cc, uint8_t *packet)
{
    if (len > TS_SIZE - TS_HEADER_SIZE - 1)
        return -1;
    ts_init(packet);
    ts_set_unitstart(packet);
    ts_set_pid(packet, pid);
    ts_set_cc(packet, cc & 0x0f);
    ts_set_payload(packet);
    packet[TS_HEADER_SIZE] = 0; /* pointer_field */
    memcpy(packet + TS_HEADER_SIZE + 1, section, len);
    memset(packet + TS_HEADER_SIZE + 1 + len, 0xff, TS_SIZE - TS_HEADER_SIZE - 1 - len);
    return 0;
}
