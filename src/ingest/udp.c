// SPDX-License-Identifier: MIT
// udp.c -- UDP and RTP sources, unicast or multicast (IGMP join, optional
// source-specific join and interface). Datagrams are read many per system
// call (recvmmsg through libuv) into one buffer that lives as long as the
// source.
#include "ingest/ingest_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UDP_DATAGRAM_MAX (64u * 1024u)
#define UDP_BATCH 16
#define UDP_RECV_BUFFER (8 * 1024 * 1024)

typedef struct udp_source {
    ingest_source_t base;
    uv_udp_t udp;
    ingest_rtp_seq_t rtp;
    uint64_t not_ts;          /* datagrams neither TS nor RTP */
    uint8_t buffer[UDP_DATAGRAM_MAX * UDP_BATCH];
} udp_source_t;

static void udp_on_closed(uv_handle_t *handle)
{
    ingest_source_free(handle->data);
}

static void udp_stop(ingest_source_t *base)
{
    udp_source_t *src = (udp_source_t *)base;
    uv_udp_recv_stop(&src->udp);
    uv_close((uv_handle_t *)&src->udp, udp_on_closed);
}

static const ingest_ops_t udp_ops = {udp_stop};

static void udp_on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    udp_source_t *src = handle->data;
    (void)suggested;
    *buf = uv_buf_init((char *)src->buffer, sizeof(src->buffer));
}

static void udp_take_datagram(udp_source_t *src, const uint8_t *data, size_t len)
{
    ingest_source_t *base = &src->base;
    base->counters.datagrams++;
    if (len && data[0] != 0x47) {
        int header = ingest_rtp_header_len(data, len);
        if (header >= 0) {
            base->counters.rtp_packets++;
            base->counters.rtp_lost += ingest_rtp_track(&src->rtp, data);
            size_t padding = (data[0] & 0x20) ? data[len - 1] : 0;
            data += header;
            len -= (size_t)header + padding;
        } else if (src->not_ts++ % 1000 == 0) {
            log_warn("ingest", "%s: datagram of %zu bytes is neither MPEG-TS nor RTP (first byte 0x%02x)",
                     base->url_text, len, data[0]);
        }
    } else if (base->url.kind == INGEST_RTP && len && src->not_ts++ % 1000 == 0) {
        log_warn("ingest", "%s: expected RTP, got plain MPEG-TS datagrams", base->url_text);
    }
    if (!base->receiving)
        ingest_emit_status(base, INGEST_RECEIVING, "receiving from %s", base->url_text);
    ingest_emit_data(base, data, len);
}

static void udp_on_recv(uv_udp_t *handle, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                        unsigned flags)
{
    udp_source_t *src = handle->data;
    if (flags & UV_UDP_MMSG_FREE)
        return; /* our buffer outlives the batch */
    if (nread < 0) {
        ingest_emit_status(&src->base, INGEST_FAILED, "%s: receive error: %s", src->base.url_text,
                           uv_strerror((int)nread));
        return;
    }
    if (nread == 0 && !addr)
        return;
    if (flags & UV_UDP_PARTIAL)
        log_warn("ingest", "%s: datagram larger than 64 KiB truncated", src->base.url_text);
    udp_take_datagram(src, (const uint8_t *)buf->base, (size_t)nread);
}

/* The interface option is an address or a name; returns an address. */
static int udp_iface_address(const char *iface, char *out, size_t out_size)
{
    struct in_addr a4;
    if (inet_pton(AF_INET, iface, &a4) == 1) {
        snprintf(out, out_size, "%s", iface);
        return 0;
    }
    uv_interface_address_t *addrs;
    int count;
    if (uv_interface_addresses(&addrs, &count) < 0)
        return -ENODEV;
    int rc = -ENODEV;
    for (int i = 0; i < count; i++) {
        if (!strcmp(addrs[i].name, iface) && addrs[i].address.address4.sin_family == AF_INET) {
            uv_ip4_name(&addrs[i].address.address4, out, out_size);
            rc = 0;
            break;
        }
    }
    uv_free_interface_addresses(addrs, count);
    return rc;
}

int ingest_udp_start(const ingest_start_t *start, ingest_source_t **out, char *err, size_t err_size)
{
    const ingest_url_t *url = start->url;
    struct sockaddr_storage addr;
    bool v6 = strchr(url->host, ':') != NULL;
    int rc = v6 ? uv_ip6_addr(url->host, url->port, (struct sockaddr_in6 *)&addr)
                : uv_ip4_addr(url->host, url->port, (struct sockaddr_in *)&addr);
    if (rc < 0) {
        snprintf(err, err_size, "%s: bad address: %s", start->url_text, uv_strerror(rc));
        return rc;
    }
    udp_source_t *src = (udp_source_t *)ingest_source_alloc(sizeof(*src), start);
    if (!src) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    src->base.ops = &udp_ops;
    uv_udp_init_ex(start->loop, &src->udp, (v6 ? AF_INET6 : AF_INET) | UV_UDP_RECVMMSG);
    src->udp.data = src;
    const char *step = "bind";
    rc = uv_udp_bind(&src->udp, (const struct sockaddr *)&addr, url->multicast ? UV_UDP_REUSEADDR : 0);
    char iface[64] = "";
    if (rc == 0 && url->iface[0]) {
        step = "find interface";
        rc = udp_iface_address(url->iface, iface, sizeof(iface));
    }
    if (rc == 0 && url->multicast) {
        step = url->ssm_source[0] ? "join source-specific group" : "join group";
        rc = url->ssm_source[0]
                 ? uv_udp_set_source_membership(&src->udp, url->host, iface[0] ? iface : NULL, url->ssm_source,
                                                UV_JOIN_GROUP)
                 : uv_udp_set_membership(&src->udp, url->host, iface[0] ? iface : NULL, UV_JOIN_GROUP);
    }
    if (rc == 0) {
        int size = UDP_RECV_BUFFER;
        uv_recv_buffer_size((uv_handle_t *)&src->udp, &size); /* best effort: capped by rmem_max */
        step = "receive";
        rc = uv_udp_recv_start(&src->udp, udp_on_alloc, udp_on_recv);
    }
    if (rc < 0) {
        snprintf(err, err_size, "%s: %s failed: %s", start->url_text, step, uv_strerror(rc));
        uv_close((uv_handle_t *)&src->udp, udp_on_closed);
        return rc;
    }
    log_info("ingest", "%s: listening%s%s", start->url_text, url->multicast ? " (joined group)" : "",
             uv_udp_using_recvmmsg(&src->udp) ? ", recvmmsg" : "");
    *out = &src->base;
    return 0;
}
