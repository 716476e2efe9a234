// SPDX-License-Identifier: MIT
// source.c -- starting and stopping sources of any kind, and the callbacks
// they share.
#include "ingest/ingest_private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ingest_source_t *ingest_source_alloc(size_t size, const ingest_start_t *start)
{
    ingest_source_t *source = calloc(1, size);
    if (!source)
        return NULL;
    source->url_text = strdup(start->url_text);
    if (!source->url_text) {
        free(source);
        return NULL;
    }
    source->loop = start->loop;
    source->url = *start->url;
    source->callbacks = *start->callbacks;
    return source;
}

void ingest_source_free(ingest_source_t *source)
{
    free(source->url_text);
    free(source);
}

int ingest_source_start(uv_loop_t *loop, const char *url, const ingest_callbacks_t *callbacks,
                        ingest_source_t **out, char *err, size_t err_size)
{
    ingest_url_t parsed;
    int rc = ingest_url_parse(url, &parsed, err, err_size);
    if (rc < 0)
        return rc;
    ingest_start_t start = {loop, url, &parsed, callbacks};
    ingest_source_t *source = NULL;
    switch (parsed.kind) {
    case INGEST_UDP:
    case INGEST_RTP:
        rc = ingest_udp_start(&start, &source, err, err_size);
        break;
    case INGEST_HTTP:
        rc = ingest_http_start(&start, &source, err, err_size);
        break;
    case INGEST_FILE:
        rc = ingest_file_start(&start, &source, err, err_size);
        break;
    default:
        rc = -EINVAL;
    }
    if (rc < 0)
        return rc;
    *out = source;
    return 0;
}

void ingest_source_stop(ingest_source_t *source)
{
    source->stopped = true;
    source->ops->stop(source);
}

const ingest_counters_t *ingest_source_counters(const ingest_source_t *source) { return &source->counters; }
const ingest_url_t *ingest_source_url(const ingest_source_t *source) { return &source->url; }

void ingest_emit_data(ingest_source_t *source, const uint8_t *data, size_t len)
{
    if (source->stopped)
        return;
    source->counters.bytes += len;
    source->callbacks.on_data(source->callbacks.opaque, data, len);
}

void ingest_emit_status(ingest_source_t *source, ingest_status_t status, const char *fmt, ...)
{
    if (source->stopped)
        return;
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (status == INGEST_FAILED) {
        source->counters.errors++;
        source->receiving = false;
    }
    if (status == INGEST_RECEIVING)
        source->receiving = true;
    source->callbacks.on_status(source->callbacks.opaque, status, message);
}

void ingest_report_failure(ingest_source_t *source, const char *fmt, const char *detail)
{
    char message[600];
    snprintf(message, sizeof(message), fmt, detail);
    log_warn("ingest", "%s: %s", source->url_text, message);
    ingest_emit_status(source, INGEST_FAILED, "%s: %s", source->url_text, message);
}
