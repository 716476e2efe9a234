// SPDX-License-Identifier: MIT
// test_index.c -- tests for src/dvr/index.c: records, lookups, and loading
// an archive that a crash left torn (each repair cuts exactly what is not
// backed by a good record, and nothing else).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dvr/dvr.h"

typedef struct fixture {
    char dir[64];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/antenne-dvr-index-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* A chunk of n segments of `len` bytes, 2 s each from start_ms. */
static void write_chunk(const char *dir, uint64_t id, uint64_t start_ms, int n, uint32_t len)
{
    char path[256];
    dvr_chunk_path(dir, id, ".ts", path, sizeof(path));
    FILE *ts = fopen(path, "wb");
    dvr_chunk_path(dir, id, ".idx", path, sizeof(path));
    FILE *idx = fopen(path, "wb");
    assert_non_null(ts);
    assert_non_null(idx);
    uint8_t *bytes = malloc(len);
    memset(bytes, 0x47, len);
    for (int i = 0; i < n; i++) {
        dvr_entry_t e = {start_ms + (uint64_t)i * 2000u, 2000, len, (uint64_t)i * len, id, i == 0 ? DVR_DISCONTINUITY : 0};
        uint8_t rec[DVR_RECORD_SIZE];
        dvr_record_encode(&e, rec);
        assert_int_equal(fwrite(bytes, 1, len, ts), len);
        assert_int_equal(fwrite(rec, 1, sizeof(rec), idx), sizeof(rec));
    }
    free(bytes);
    fclose(ts);
    fclose(idx);
}

static void test_record_round_trip_and_crc(void **state)
{
    (void)state;
    dvr_entry_t e = {1795898331473u, 2002, 987654, 123456789012u, 7, DVR_DISCONTINUITY, 376}, back;
    uint8_t rec[DVR_RECORD_SIZE];
    dvr_record_encode(&e, rec);
    assert_int_equal(dvr_record_decode(rec, 7, &back), 0);
    assert_int_equal(back.start_ms, e.start_ms);
    assert_int_equal(back.duration_ms, e.duration_ms);
    assert_int_equal(back.length, e.length);
    assert_int_equal(back.offset, e.offset);
    assert_int_equal(back.chunk, 7);
    assert_int_equal(back.flags, e.flags);
    assert_int_equal(back.preamble, 376);
    for (size_t i = 0; i < DVR_RECORD_SIZE; i++) {
        rec[i] ^= 0x01;
        assert_int_equal(dvr_record_decode(rec, 7, &back), -EINVAL);
        rec[i] ^= 0x01;
    }
}

static void test_load_and_find(void **state)
{
    fixture_t *f = *state;
    write_chunk(f->dir, 1000000, 1000000, 5, 1000);
    write_chunk(f->dir, 1020000, 1020000, 3, 500);
    dvr_index_t ix;
    dvr_index_init(&ix);
    dvr_repair_t repair;
    char err[200];
    assert_int_equal(dvr_index_load(&ix, f->dir, &repair, err, sizeof(err)), 0);
    assert_int_equal(repair.chunks, 2);
    assert_int_equal(repair.torn_records + repair.torn_bytes + repair.removed_chunks, 0);
    assert_int_equal(dvr_index_size(&ix), 8);
    assert_int_equal(ix.bytes, 5 * 1000 + 3 * 500);
    /* the segment playing at a time, the next one in a gap, none after */
    assert_int_equal(dvr_index_find(&ix, 0), 0);
    assert_int_equal(dvr_index_find(&ix, 1000000), 0);
    assert_int_equal(dvr_index_find(&ix, 1001999), 0);
    assert_int_equal(dvr_index_find(&ix, 1002000), 1);
    assert_int_equal(dvr_index_find(&ix, 1015000), 5); /* in the gap: the next chunk's first */
    assert_int_equal(dvr_index_find(&ix, 1025999), 7);
    assert_int_equal(dvr_index_find(&ix, 1026000), 8);
    assert_non_null(dvr_index_exact(&ix, 1004000));
    assert_non_null(dvr_index_exact(&ix, 1000000));
    assert_null(dvr_index_exact(&ix, 999999));
    assert_null(dvr_index_exact(&ix, 2000000));
    assert_null(dvr_index_exact(&ix, 1004001));
    const dvr_entry_t *e = dvr_index_at(&ix, 6);
    assert_int_equal(e->chunk, 1020000);
    assert_int_equal(e->offset, 500);
    /* retention drops whole chunks from the front; entry numbers go on */
    dvr_index_drop_oldest(&ix);
    assert_int_equal(dvr_index_size(&ix), 3);
    assert_int_equal(ix.dropped, 5);
    assert_int_equal(ix.bytes, 1500);
    assert_int_equal(dvr_index_at(&ix, 0)->start_ms, 1020000);
    dvr_index_free(&ix);
}

static void test_torn_tail_is_cut(void **state)
{
    fixture_t *f = *state;
    write_chunk(f->dir, 2000000, 2000000, 4, 1000);
    char ts[256], idx[256];
    dvr_chunk_path(f->dir, 2000000, ".ts", ts, sizeof(ts));
    dvr_chunk_path(f->dir, 2000000, ".idx", idx, sizeof(idx));
    /* a crash mid-write: half a segment past the last record, and a record
     * cut short */
    FILE *fp = fopen(ts, "ab");
    for (int i = 0; i < 700; i++)
        fputc(i, fp);
    fclose(fp);
    fp = fopen(idx, "ab");
    fwrite("ADVR\0\0\0\0\0\0", 1, 10, fp);
    fclose(fp);
    dvr_index_t ix;
    dvr_index_init(&ix);
    dvr_repair_t repair;
    char err[200];
    assert_int_equal(dvr_index_load(&ix, f->dir, &repair, err, sizeof(err)), 0);
    assert_int_equal(dvr_index_size(&ix), 4);
    assert_int_equal(repair.torn_records, 1);
    assert_int_equal(repair.torn_bytes, 700);
    assert_int_equal(file_size(ts), 4000);
    assert_int_equal(file_size(idx), 4 * DVR_RECORD_SIZE);
    dvr_index_free(&ix);
    /* loading again finds nothing to repair */
    dvr_index_init(&ix);
    assert_int_equal(dvr_index_load(&ix, f->dir, &repair, err, sizeof(err)), 0);
    assert_int_equal(repair.torn_records + repair.torn_bytes, 0);
    dvr_index_free(&ix);
}

static void test_bad_record_cuts_the_rest(void **state)
{
    fixture_t *f = *state;
    write_chunk(f->dir, 3000000, 3000000, 6, 100);
    char ts[256], idx[256];
    dvr_chunk_path(f->dir, 3000000, ".ts", ts, sizeof(ts));
    dvr_chunk_path(f->dir, 3000000, ".idx", idx, sizeof(idx));
    /* record 3 damaged: 3, 4 and 5 and their bytes go */
    FILE *fp = fopen(idx, "r+b");
    fseek(fp, 3 * DVR_RECORD_SIZE + 9, SEEK_SET);
    fputc(0xff, fp);
    fclose(fp);
    /* and a second chunk whose data file lost its end: its records beyond
     * the file are cut */
    write_chunk(f->dir, 4000000, 4000000, 3, 100);
    char ts2[256];
    dvr_chunk_path(f->dir, 4000000, ".ts", ts2, sizeof(ts2));
    assert_int_equal(truncate(ts2, 150), 0);
    dvr_index_t ix;
    dvr_index_init(&ix);
    dvr_repair_t repair;
    char err[200];
    assert_int_equal(dvr_index_load(&ix, f->dir, &repair, err, sizeof(err)), 0);
    assert_int_equal(dvr_index_size(&ix), 3 + 1);
    assert_int_equal(repair.torn_records, 3 + 2);
    assert_int_equal(repair.torn_bytes, 300 + 50);
    assert_int_equal(file_size(ts), 300);
    assert_int_equal(file_size(ts2), 100);
    dvr_index_free(&ix);
}

static void test_empty_and_stray_chunks_go(void **state)
{
    fixture_t *f = *state;
    write_chunk(f->dir, 5000000, 5000000, 2, 100);
    /* a chunk created just before a crash: data, no record */
    char path[256];
    dvr_chunk_path(f->dir, 6000000, ".ts", path, sizeof(path));
    FILE *fp = fopen(path, "wb");
    fputs("partial", fp);
    fclose(fp);
    /* files that are not chunks are left alone */
    snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
    fp = fopen(path, "wb");
    fclose(fp);
    dvr_index_t ix;
    dvr_index_init(&ix);
    dvr_repair_t repair;
    char err[200];
    assert_int_equal(dvr_index_load(&ix, f->dir, &repair, err, sizeof(err)), 0);
    assert_int_equal(dvr_index_size(&ix), 2);
    assert_int_equal(repair.removed_chunks, 1);
    dvr_chunk_path(f->dir, 6000000, ".ts", path, sizeof(path));
    assert_int_equal(file_size(path), -1);
    snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
    assert_int_equal(file_size(path), 0);
    dvr_index_free(&ix);
}

static void test_missing_folder_is_created(void **state)
{
    fixture_t *f = *state;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/a/b/news", f->dir);
    dvr_index_t ix;
    dvr_index_init(&ix);
    dvr_repair_t repair;
    char err[200];
    assert_int_equal(dvr_index_load(&ix, dir, &repair, err, sizeof(err)), 0);
    assert_int_equal(dvr_index_size(&ix), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    dvr_index_free(&ix);
    assert_int_equal(dvr_index_load(&ix, "/proc/no/such/place", &repair, err, sizeof(err)) < 0, 1);
    assert_non_null(strstr(err, "/proc/no"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_round_trip_and_crc),
        cmocka_unit_test_setup_teardown(test_load_and_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_is_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_record_cuts_the_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_stray_chunks_go, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_folder_is_created, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
