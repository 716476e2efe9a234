// SPDX-License-Identifier: MIT
// fuzz_http.c -- fuzz target for src/http/parser.c: the same bytes as a
// request head, a response head, a chunked body (decoded in two pieces),
// a query string and a path; a request's Range header, and the bytes
// themselves, as a Range value.
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_slice(const char *buf, size_t len, http_slice_t s)
{
    if (s.len && (s.ptr < buf || s.ptr + s.len > buf + len))
        abort(); /* slices point into the input */
}

/* from_request: the slices come from a parsed request, whose target holds no
 * control bytes, so a decoded path can never contain a NUL. (Raw NUL bytes
 * handed straight to http_path_decode pass through: see the unit test
 * test_path_decode_rejects_raw_nul.) */
static void decode_queries(http_slice_t query, http_slice_t path, bool from_request)
{
    static const char *const names[] = {"program", "token", "a", ""};
    char out[64];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int n = http_query_get(query, names[i], out, sizeof(out));
        if (n >= 0 && (n >= (int)sizeof(out) || out[n] != '\0'))
            abort();
    }
    char decoded[256];
    int n = http_path_decode(path, decoded, sizeof(decoded));
    if (n >= 0 && (n >= (int)sizeof(decoded) || decoded[n] != '\0'))
        abort();
    if (n >= 0 && from_request && memchr(decoded, 0, (size_t)n))
        abort(); /* a request's decoded path never hides a NUL */
}

/* A range taken must lie inside the body; one refused is malformed or
 * unsatisfiable, nothing else. */
static void check_range(http_slice_t value)
{
    static const uint64_t sizes[] = {0, 1, 1000, UINT64_MAX};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t first = 1, last = 0;
        int rc = http_range_parse(value, sizes[i], &first, &last);
        if (rc == 0 ? first > last || last >= sizes[i] : rc != -EINVAL && rc != -ERANGE)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;

    http_request_t req;
    const char *why = NULL;
    int rc = http_parse_request(buf, size, &req, &why);
    if (why == NULL || rc > (int)size)
        abort();
    if (rc > 0) {
        check_slice(buf, size, req.target);
        check_slice(buf, size, req.path);
        check_slice(buf, size, req.query);
        for (size_t i = 0; i < req.header_count; i++) {
            check_slice(buf, size, req.headers[i].name);
            check_slice(buf, size, req.headers[i].value);
        }
        (void)http_header_get(req.headers, req.header_count, "Host");
        const http_slice_t *range = http_header_get(req.headers, req.header_count, "Range");
        if (range)
            check_range(*range);
        decode_queries(req.query, req.path, true);
    }

    http_response_t res;
    rc = http_parse_response(buf, size, &res, NULL);
    if (rc > (int)size || (rc > 0 && (res.status < 100 || res.status > 599)))
        abort();

    /* Chunked decoding in place, in two pieces cut in the middle. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    http_chunked_t ch = {0};
    size_t half = size / 2, out1 = 0, out2 = 0;
    rc = http_chunked_decode(&ch, copy, half, &out1);
    if (out1 > half)
        abort();
    if (rc == 0) {
        rc = http_chunked_decode(&ch, copy + half, size - half, &out2);
        if (out2 > size - half)
            abort();
    }
    free(copy);

    decode_queries((http_slice_t){buf, size}, (http_slice_t){buf, size}, false);
    check_range((http_slice_t){buf, size});
    return 0;
}
