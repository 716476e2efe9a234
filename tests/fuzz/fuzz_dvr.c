// SPDX-License-Identifier: MIT
// fuzz_dvr.c -- fuzz target for the archive's parsers (src/dvr/): the first
// byte chooses what the rest is:
//   0  an archive URL (dvr_parse_request, dvr_timeshift_start): a request is
//      either not the archive's, refused with a message, or well formed;
//   1  index records (dvr_record_decode): what decodes re-encodes the same;
//   2  a chunk on disk (index bytes, then data bytes, split by the second
//      byte): loading repairs it into an index whose every entry lies inside
//      the data file, and loading again finds nothing more to repair.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dvr/dvr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_request(const uint8_t *data, size_t size)
{
    char *rest = malloc(size + 1);
    if (!rest)
        return;
    memcpy(rest, data, size);
    rest[size] = '\0';
    dvr_request_t r;
    int rc = dvr_parse_request(rest, 1795899000u, &r);
    if ((rc == 0) != (r.kind != DVR_REQUEST_BAD) || (r.kind == DVR_REQUEST_BAD && !r.error[0]))
        abort();
    if (r.kind == DVR_REQUEST_RANGE && (r.duration == 0 || r.duration > 43200))
        abort();
    (void)dvr_timeshift_start(rest);
    free(rest);
}

static void fuzz_records(const uint8_t *data, size_t size)
{
    for (size_t at = 0; at + DVR_RECORD_SIZE <= size; at += DVR_RECORD_SIZE) {
        dvr_entry_t e;
        if (dvr_record_decode(data + at, 7, &e) < 0)
            continue;
        /* With its reserved bytes zero (as written), a record re-encodes
         * to itself. */
        static const uint8_t zero[8];
        uint8_t again[DVR_RECORD_SIZE];
        dvr_record_encode(&e, again);
        if (memcmp(data + at + 36, zero, sizeof(zero)) == 0 && memcmp(again, data + at, DVR_RECORD_SIZE))
            abort();
    }
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
}

static void fuzz_chunk(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    size_t split = (size_t)data[0] * DVR_RECORD_SIZE / 4;
    data++;
    size--;
    if (split > size)
        split = size;
    char dir[] = "/tmp/fuzz-dvr-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char idx[128], ts[128];
    dvr_chunk_path(dir, 1000, ".idx", idx, sizeof(idx));
    dvr_chunk_path(dir, 1000, ".ts", ts, sizeof(ts));
    write_file(idx, data, split);
    write_file(ts, data + split, size - split);
    dvr_index_t ix;
    dvr_repair_t repair;
    char err[200];
    dvr_index_init(&ix);
    if (dvr_index_load(&ix, dir, &repair, err, sizeof(err)) == 0) {
        struct stat st;
        uint64_t ts_size = stat(ts, &st) == 0 ? (uint64_t)st.st_size : 0;
        for (size_t i = 0; i < dvr_index_size(&ix); i++) {
            const dvr_entry_t *e = dvr_index_at(&ix, i);
            if (e->offset + e->length > ts_size || !e->length)
                abort();
        }
        dvr_index_free(&ix);
        dvr_index_init(&ix);
        if (dvr_index_load(&ix, dir, &repair, err, sizeof(err)) != 0 || repair.torn_records || repair.torn_bytes)
            abort(); /* the repair is complete the first time */
    }
    dvr_index_free(&ix);
    unlink(idx);
    unlink(ts);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_request(data + 1, size - 1);
        break;
    case 1:
        fuzz_records(data + 1, size - 1);
        break;
    default:
        fuzz_chunk(data + 1, size - 1);
        break;
    }
    return 0;
}
