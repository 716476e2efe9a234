// SPDX-License-Identifier: MIT
// index.c -- the archive's chunks on disk and its index in memory: loading
// with repair, records, lookups by time. Pure file and memory work: no loop.
//
// A record (little-endian, 48 bytes):
//   0 magic "ADVR"   4 flags      8 start_ms (u64)   16 duration_ms (u32)
//  20 length (u32)   24 offset (u64)   32 preamble (u32)   36 reserved (8 bytes, zero)
//  44 CRC-32 (zlib) of bytes 0..43
// Records of a chunk describe its .ts file back to back from offset 0: a
// record is good when its CRC holds, it starts where the previous one ended,
// its bytes are in the file and its time does not go back.
#include "dvr/dvr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define RECORD_MAGIC 0x52564441u /* "ADVR" little-endian */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void dvr_record_encode(const dvr_entry_t *entry, uint8_t out[DVR_RECORD_SIZE])
{
    memset(out, 0, DVR_RECORD_SIZE);
    put_u32(out, RECORD_MAGIC);
    put_u32(out + 4, entry->flags);
    put_u64(out + 8, entry->start_ms);
    put_u32(out + 16, entry->duration_ms);
    put_u32(out + 20, entry->length);
    put_u64(out + 24, entry->offset);
    put_u32(out + 32, entry->preamble);
    put_u32(out + 44, (uint32_t)crc32(0, out, 44));
}

int dvr_record_decode(const uint8_t in[DVR_RECORD_SIZE], uint64_t chunk, dvr_entry_t *entry)
{
    if (get_u32(in) != RECORD_MAGIC || get_u32(in + 44) != (uint32_t)crc32(0, in, 44))
        return -EINVAL;
    entry->flags = get_u32(in + 4);
    entry->start_ms = get_u64(in + 8);
    entry->duration_ms = get_u32(in + 16);
    entry->length = get_u32(in + 20);
    entry->offset = get_u64(in + 24);
    entry->preamble = get_u32(in + 32);
    entry->chunk = chunk;
    return 0;
}

void dvr_chunk_path(const char *dir, uint64_t chunk, const char *suffix, char *out, size_t out_size)
{
    snprintf(out, out_size, "%s/%016llu%s", dir, (unsigned long long)chunk, suffix);
}

void dvr_index_init(dvr_index_t *index)
{
    memset(index, 0, sizeof(*index));
}

void dvr_index_free(dvr_index_t *index)
{
    free(index->entries);
    free(index->chunks);
    dvr_index_init(index);
}

static int grow(void **array, size_t *cap, size_t count, size_t item)
{
    if (count < *cap)
        return 0;
    size_t wanted = *cap ? *cap * 2 : 1024;
    void *bigger = realloc(*array, wanted * item);
    if (!bigger)
        return -ENOMEM;
    *array = bigger;
    *cap = wanted;
    return 0;
}

/* Dropped entries at the front are reclaimed once they are half the array. */
static void compact(dvr_index_t *index)
{
    if (index->first > 4096 && index->first * 2 > index->count) {
        memmove(index->entries, index->entries + index->first,
                (index->count - index->first) * sizeof(*index->entries));
        index->count -= index->first;
        index->first = 0;
    }
    if (index->chunk_first > 64 && index->chunk_first * 2 > index->chunk_count) {
        memmove(index->chunks, index->chunks + index->chunk_first,
                (index->chunk_count - index->chunk_first) * sizeof(*index->chunks));
        index->chunk_count -= index->chunk_first;
        index->chunk_first = 0;
    }
}

static dvr_chunk_t *chunk_of(dvr_index_t *index, uint64_t id)
{
    if (index->chunk_count > index->chunk_first && index->chunks[index->chunk_count - 1].id == id)
        return &index->chunks[index->chunk_count - 1];
    if (grow((void **)&index->chunks, &index->chunk_cap, index->chunk_count, sizeof(*index->chunks)) < 0)
        return NULL;
    dvr_chunk_t *chunk = &index->chunks[index->chunk_count++];
    memset(chunk, 0, sizeof(*chunk));
    chunk->id = id;
    return chunk;
}

int dvr_index_append(dvr_index_t *index, const dvr_entry_t *entry)
{
    if (grow((void **)&index->entries, &index->cap, index->count, sizeof(*index->entries)) < 0)
        return -ENOMEM;
    dvr_chunk_t *chunk = chunk_of(index, entry->chunk);
    if (!chunk)
        return -ENOMEM;
    index->entries[index->count++] = *entry;
    chunk->bytes = entry->offset + entry->length;
    chunk->end_ms = entry->start_ms + entry->duration_ms;
    index->bytes += entry->length;
    return 0;
}

void dvr_index_drop_oldest(dvr_index_t *index)
{
    if (index->chunk_first == index->chunk_count)
        return;
    const dvr_chunk_t *chunk = &index->chunks[index->chunk_first++];
    while (index->first < index->count && index->entries[index->first].chunk == chunk->id) {
        index->bytes -= index->entries[index->first].length;
        index->first++;
        index->dropped++;
    }
    compact(index);
}

size_t dvr_index_size(const dvr_index_t *index) { return index->count - index->first; }

const dvr_entry_t *dvr_index_at(const dvr_index_t *index, size_t i) { return &index->entries[index->first + i]; }

size_t dvr_index_find(const dvr_index_t *index, uint64_t at_ms)
{
    size_t lo = 0, hi = dvr_index_size(index);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const dvr_entry_t *e = dvr_index_at(index, mid);
        if (e->start_ms + e->duration_ms <= at_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t dvr_index_starting(const dvr_index_t *index, uint64_t start_ms)
{
    size_t lo = 0, hi = dvr_index_size(index);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dvr_index_at(index, mid)->start_ms < start_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const dvr_entry_t *dvr_index_exact(const dvr_index_t *index, uint64_t start_ms)
{
    size_t i = dvr_index_starting(index, start_ms);
    if (i == dvr_index_size(index))
        return NULL;
    const dvr_entry_t *e = dvr_index_at(index, i);
    return e->start_ms == start_ms ? e : NULL;
}

/* ---- loading ---------------------------------------------------------------------------- */

static int compare_ids(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The ids of the folder's chunks (from their .ts or .idx names), sorted. */
static int list_chunks(const char *dir, uint64_t **ids, size_t *count, char *err, size_t err_size)
{
    DIR *d = opendir(dir);
    if (!d) {
        int rc = -errno;
        snprintf(err, err_size, "cannot open %s: %s", dir, strerror(errno));
        return rc;
    }
    size_t cap = 0;
    *ids = NULL;
    *count = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        char *end;
        unsigned long long id = strtoull(de->d_name, &end, 10);
        if (end != de->d_name + 16 || (strcmp(end, ".ts") && strcmp(end, ".idx")))
            continue;
        bool seen = false;
        for (size_t i = 0; i < *count && !seen; i++)
            seen = (*ids)[i] == id;
        if (seen)
            continue;
        if (grow((void **)ids, &cap, *count, sizeof(**ids)) < 0) {
            rc = -ENOMEM;
            break;
        }
        (*ids)[(*count)++] = id;
    }
    closedir(d);
    if (rc == 0 && *count)
        qsort(*ids, *count, sizeof(**ids), compare_ids);
    return rc;
}

static int make_dir(const char *dir, char *err, size_t err_size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    snprintf(err, err_size, "cannot create %s: %s", path, strerror(errno));
    return -errno;
}

/* Loads one chunk, cutting off what is not backed by good records. */
static int load_chunk(dvr_index_t *index, const char *dir, uint64_t id, dvr_repair_t *repair, char *err,
                      size_t err_size)
{
    char ts_path[4200], idx_path[4200];
    dvr_chunk_path(dir, id, ".ts", ts_path, sizeof(ts_path));
    dvr_chunk_path(dir, id, ".idx", idx_path, sizeof(idx_path));
    struct stat ts_st = {0}, idx_st = {0};
    bool have_ts = stat(ts_path, &ts_st) == 0, have_idx = stat(idx_path, &idx_st) == 0;
    FILE *f = have_idx ? fopen(idx_path, "rb") : NULL;
    uint64_t good_records = 0, good_bytes = 0;
    if (f) {
        uint8_t rec[DVR_RECORD_SIZE];
        size_t before = dvr_index_size(index);
        uint64_t prev_start = before ? dvr_index_at(index, before - 1)->start_ms : 0;
        while (fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
            dvr_entry_t e;
            if (dvr_record_decode(rec, id, &e) < 0 || e.offset != good_bytes || e.preamble >= e.length ||
                e.offset + e.length > (uint64_t)ts_st.st_size || e.length == 0 || e.start_ms < prev_start)
                break;
            int rc = dvr_index_append(index, &e);
            if (rc < 0) {
                fclose(f);
                snprintf(err, err_size, "out of memory loading the archive index");
                return rc;
            }
            good_records++;
            good_bytes = e.offset + e.length;
            prev_start = e.start_ms;
        }
        fclose(f);
    }
    /* (a record cut short counts as one) */
    uint64_t records_on_disk = have_idx ? ((uint64_t)idx_st.st_size + DVR_RECORD_SIZE - 1) / DVR_RECORD_SIZE : 0;
    bool idx_torn = have_idx && (uint64_t)idx_st.st_size != good_records * DVR_RECORD_SIZE;
    bool ts_torn = have_ts && (uint64_t)ts_st.st_size != good_bytes;
    if (!good_records) {
        /* Nothing in it can be played: the chunk goes. */
        unlink(ts_path);
        unlink(idx_path);
        repair->removed_chunks++;
        repair->torn_bytes += have_ts ? (uint64_t)ts_st.st_size : 0;
        repair->torn_records += (uint32_t)records_on_disk;
        return 0;
    }
    repair->chunks++;
    if (idx_torn) {
        repair->torn_records += (uint32_t)(records_on_disk - good_records);
        if (truncate(idx_path, (off_t)(good_records * DVR_RECORD_SIZE)) < 0) {
            snprintf(err, err_size, "cannot repair %s: %s", idx_path, strerror(errno));
            return -errno;
        }
    }
    if (ts_torn) {
        repair->torn_bytes += (uint64_t)ts_st.st_size - good_bytes;
        if (truncate(ts_path, (off_t)good_bytes) < 0) {
            snprintf(err, err_size, "cannot repair %s: %s", ts_path, strerror(errno));
            return -errno;
        }
    }
    return 0;
}

int dvr_index_load(dvr_index_t *index, const char *dir, dvr_repair_t *repair, char *err, size_t err_size)
{
    memset(repair, 0, sizeof(*repair));
    int rc = make_dir(dir, err, err_size);
    if (rc < 0)
        return rc;
    uint64_t *ids = NULL;
    size_t count = 0;
    rc = list_chunks(dir, &ids, &count, err, err_size);
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = load_chunk(index, dir, ids[i], repair, err, err_size);
    free(ids);
    return rc;
}
