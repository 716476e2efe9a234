// SPDX-License-Identifier: MIT
// cidr.c -- client address ranges ("192.0.2.0/24", "2001:db8::/32", or a
// single address; RFC 4632 section 3.1 for the notation, RFC 4291 section
// 2.5.5.2 for IPv4-mapped IPv6 addresses).
//
// Every address is held as 16 bytes, IPv4 as ::ffff:a.b.c.d with its prefix
// plus 96, so one comparison serves both families and an IPv4 client seen
// on a dual-stack socket (::ffff:192.0.2.7) matches "192.0.2.0/24".
//
// A range with host bits set ("192.0.2.7/24") is refused by the check: it is
// most often a typing slip for either the network or the single address,
// and the message names the network it would mean. Matching masks the host
// bits all the same, so a range stored before this check still works.
#include "auth/auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

typedef struct ip_range {
    uint8_t addr[16];
    unsigned prefix;   /* 0..128, in the 16-byte form */
} ip_range_t;

/* Parses len bytes of text as an IPv4 or IPv6 address into the 16-byte
 * form. Returns 4 or 6, the family as written, or 0 when it is neither. */
static int addr_parse(const char *text, size_t len, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN];
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        return 4;
    }
    return inet_pton(AF_INET6, buf, out) == 1 ? 6 : 0;
}

/* Whether addr and the range's address agree on the first prefix bits. */
static bool prefix_equal(const uint8_t a[16], const uint8_t b[16], unsigned prefix)
{
    unsigned whole = prefix / 8, bits = prefix % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (bits == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> bits);
    return ((a[whole] ^ b[whole]) & mask) == 0;
}

static void mask_host_bits(uint8_t addr[16], unsigned prefix)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = prefix > 8 * i ? prefix - 8 * i : 0;
        if (keep < 8)
            addr[i] &= (uint8_t)(0xff00u >> keep);
    }
}

/* Parses a range; host bits set are an error only when strict. Returns 0,
 * or -EINVAL with a message in err when err is not NULL. */
static int range_parse(const char *text, ip_range_t *range, bool strict, char *err, size_t err_size)
{
    if (!err)
        err_size = 0;
    if (!*text) {
        snprintf(err, err_size, "allowed_ips: empty; give an address or a range such as 192.0.2.0/24");
        return -EINVAL;
    }
    const char *slash = strchr(text, '/');
    size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
    int family = addr_parse(text, addr_len, range->addr);
    if (!family) {
        if (addr_len == 0)
            snprintf(err, err_size, "allowed_ips: '%.60s': no address before the '/'", text);
        else
            snprintf(err, err_size, "allowed_ips: '%.60s': '%.*s' is not an IPv4 or IPv6 address", text,
                     (int)(addr_len < 60 ? addr_len : 60), text);
        return -EINVAL;
    }
    unsigned max = family == 4 ? 32 : 128, prefix = max;
    if (slash) {
        const char *p = slash + 1;
        size_t digits = strspn(p, "0123456789");
        bool ok = digits >= 1 && digits <= 3 && p[digits] == '\0' && (digits == 1 || p[0] != '0');
        if (ok) {
            prefix = 0;
            for (size_t i = 0; i < digits; i++)
                prefix = prefix * 10 + (unsigned)(p[i] - '0');
        }
        if (!ok || prefix > max) {
            snprintf(err, err_size, "allowed_ips: '%.60s': prefix must be 0-%u", text, max);
            return -EINVAL;
        }
    }
    range->prefix = prefix + (family == 4 ? 96 : 0);
    uint8_t network[16];
    memcpy(network, range->addr, 16);
    mask_host_bits(network, range->prefix);
    if (strict && memcmp(network, range->addr, 16) != 0) {
        char shown[INET6_ADDRSTRLEN] = "";
        if (family == 4)
            inet_ntop(AF_INET, network + 12, shown, sizeof(shown));
        else
            inet_ntop(AF_INET6, network, shown, sizeof(shown));
        snprintf(err, err_size, "allowed_ips: '%.60s': host bits are set; the range is %s/%u", text, shown, prefix);
        return -EINVAL;
    }
    return 0;
}

int auth_cidr_check(const char *range, char *err, size_t err_size)
{
    ip_range_t parsed;
    if (!range) {
        snprintf(err, err ? err_size : 0, "allowed_ips: missing");
        return -EINVAL;
    }
    return range_parse(range, &parsed, true, err, err_size);
}

bool auth_ip_in_ranges(const char *ip, const strlist_t *ranges)
{
    uint8_t addr[16];
    if (!ip || !ranges || !addr_parse(ip, strlen(ip), addr))
        return false;
    for (size_t i = 0; i < ranges->count; i++) {
        ip_range_t range;
        if (ranges->items[i] && range_parse(ranges->items[i], &range, false, NULL, 0) == 0 &&
            prefix_equal(addr, range.addr, range.prefix))
            return true;
    }
    return false;
}
