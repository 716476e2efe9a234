// SPDX-License-Identifier: MIT
// ingest_private.h -- private to ingest/: the part every source kind shares.
#ifndef ANTENNE_INGEST_PRIVATE_H
#define ANTENNE_INGEST_PRIVATE_H

#include "ingest/ingest.h"
#include "core/core.h"

typedef struct ingest_ops {
    /* Closes the kind's handles; frees the source when they are closed. */
    void (*stop)(ingest_source_t *source);
} ingest_ops_t;

/* First member of every kind's struct. */
struct ingest_source {
    const ingest_ops_t *ops;
    uv_loop_t *loop;
    ingest_callbacks_t callbacks;
    ingest_url_t url;
    char *url_text;
    ingest_counters_t counters;
    bool stopped;            /* no callbacks once set */
    bool receiving;          /* RECEIVING was reported since the last failure */
};

/* What a kind's start function gets; it allocates its struct through
 * ingest_source_alloc(). */
typedef struct ingest_start {
    uv_loop_t *loop;
    const char *url_text;
    const ingest_url_t *url;
    const ingest_callbacks_t *callbacks;
} ingest_start_t;

int ingest_udp_start(const ingest_start_t *start, ingest_source_t **out, char *err, size_t err_size);
int ingest_http_start(const ingest_start_t *start, ingest_source_t **out, char *err, size_t err_size);
int ingest_file_start(const ingest_start_t *start, ingest_source_t **out, char *err, size_t err_size);

/* Allocates size bytes (a kind's struct) with the common part filled in. */
ingest_source_t *ingest_source_alloc(size_t size, const ingest_start_t *start);
void ingest_source_free(ingest_source_t *source);

void ingest_emit_data(ingest_source_t *source, const uint8_t *data, size_t len);
/* Logs "<url>: <fmt with detail>" as a warning and reports FAILED with it. */
void ingest_report_failure(ingest_source_t *source, const char *fmt, const char *detail);
void ingest_emit_status(ingest_source_t *source, ingest_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
