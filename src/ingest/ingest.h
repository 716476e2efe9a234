// SPDX-License-Identifier: MIT
// ingest.h -- sources that bring a channel's bytes in: UDP/RTP (unicast and
// multicast), HTTP MPEG-TS pull and file playout. A source hands raw bytes to
// its owner; TS alignment and analysis happen in the channel.
#ifndef ANTENNE_INGEST_H
#define ANTENNE_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef enum ingest_kind {
    INGEST_UDP,
    INGEST_RTP,
    INGEST_HTTP,
    INGEST_FILE,
} ingest_kind_t;

/* A parsed source URL (see docs/configuration.md for the forms). */
typedef struct ingest_url {
    ingest_kind_t kind;
    char host[256];
    uint16_t port;
    char path[1024];     /* http: path and query sent; file: file or folder */
    char iface[64];      /* udp: interface name or address for multicast */
    char ssm_source[64]; /* udp: source-specific multicast sender */
    uint16_t program;    /* 0: all programs */
    bool multicast;
} ingest_url_t;

/* Parses and validates a source URL. On error returns -EINVAL and writes a
 * message naming what is wrong into err. */
int ingest_url_parse(const char *url, ingest_url_t *out, char *err, size_t err_size);

typedef enum ingest_status {
    INGEST_CONNECTING,  /* trying to reach the source */
    INGEST_RECEIVING,   /* bytes are flowing */
    INGEST_FAILED,      /* an error; the source retries by itself */
} ingest_status_t;

typedef struct ingest_callbacks {
    /* Bytes as they arrived: borrowed for the call. */
    void (*on_data)(void *opaque, const uint8_t *data, size_t len);
    /* State changes, with a message saying what happened and where. */
    void (*on_status)(void *opaque, ingest_status_t status, const char *message);
    void *opaque;
} ingest_callbacks_t;

typedef struct ingest_counters {
    uint64_t bytes;
    uint64_t datagrams;
    uint64_t rtp_lost;       /* RTP sequence gaps */
    uint64_t rtp_packets;
    uint64_t errors;         /* failed connects, bad answers, read errors */
    uint64_t reconnects;
    uint64_t loops;          /* file playout restarts */
} ingest_counters_t;

typedef struct ingest_source ingest_source_t;

/* Starts a source on loop. Returns 0 and *out, or a negative errno with a
 * message in err (and no callback is ever called). */
int ingest_source_start(uv_loop_t *loop, const char *url, const ingest_callbacks_t *callbacks,
                        ingest_source_t **out, char *err, size_t err_size);
/* Stops it: no callback runs after this returns; memory is released once
 * its handles have closed. */
void ingest_source_stop(ingest_source_t *source);
const ingest_counters_t *ingest_source_counters(const ingest_source_t *source);
const ingest_url_t *ingest_source_url(const ingest_source_t *source);

/* RTP (RFC 3550 5.1) for TS over RTP (RFC 2250): returns the header length
 * to strip, or -1 when the datagram is not RTP. */
int ingest_rtp_header_len(const uint8_t *data, size_t len);
/* Tracks sequence numbers; returns how many packets went missing before
 * this one (0 for the first, in order, or a reorder/duplicate). */
typedef struct ingest_rtp_seq {
    bool started;
    uint16_t last;
} ingest_rtp_seq_t;
unsigned ingest_rtp_track(ingest_rtp_seq_t *seq, const uint8_t *rtp);

#endif
