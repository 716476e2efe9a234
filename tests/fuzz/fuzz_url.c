// SPDX-License-Identifier: MIT
// fuzz_url.c -- fuzz target for src/ingest/url.c: each input, as a
// NUL-terminated string, is parsed; the result and the message must be
// terminated strings whatever the input.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    ingest_url_t out;
    char err[200];
    memset(err, 'x', sizeof(err));
    int rc = ingest_url_parse(url, &out, err, sizeof(err));
    if (rc == 0) {
        if (!memchr(out.host, 0, sizeof(out.host)) || !memchr(out.path, 0, sizeof(out.path)) ||
            !memchr(out.iface, 0, sizeof(out.iface)) || !memchr(out.ssm_source, 0, sizeof(out.ssm_source)))
            abort();
        if (out.kind != INGEST_FILE && out.kind != INGEST_HTTP && out.port == 0)
            abort(); /* udp and rtp always have a port */
    } else if (rc != -EINVAL || !memchr(err, 0, sizeof(err)) || err[0] == '\0') {
        abort(); /* every error says something */
    }
    free(url);
    return 0;
}
