// SPDX-License-Identifier: MIT
// test_writer.c -- tests for src/dvr/writer.c on a real loop and real files:
// segments land in chunks in order with their index, a second open finds
// them, retention removes whole chunks oldest first, and a write that fails
// (the file size limit standing in for a full disk) stops recording with an
// event, damages nothing, and recording resumes when writes work again.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dvr/dvr.h"

typedef struct fixture {
    char dir[64];
    uv_loop_t loop;
    char events[8][400];
    int event_count;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/antenne-dvr-writer-XXXXXX");
    if (!mkdtemp(f->dir) || uv_loop_init(&f->loop) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_loop_close(&f->loop);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void on_event(void *ctx, const char *kind, const char *message)
{
    fixture_t *f = ctx;
    assert_string_equal(kind, "archive");
    if (f->event_count < 8)
        snprintf(f->events[f->event_count++], sizeof(f->events[0]), "%s", message);
}

static dvr_t *open_dvr(fixture_t *f, uint64_t max_bytes, uint32_t chunk_s)
{
    dvr_options_t options = {.dir = f->dir, .name = "test", .max_bytes = max_bytes, .chunk_s = chunk_s,
                             .no_sync = true, .retry_ms = 1, .on_event = on_event, .event_ctx = f};
    char err[200];
    dvr_t *dvr = dvr_open(&f->loop, &options, err, sizeof(err));
    if (!dvr)
        fail_msg("dvr_open: %s", err);
    return dvr;
}

/* A segment of `blocks` ring blocks (the last one half full) plus a PSI
 * block, the bytes of segment k being k everywhere. */
static uint64_t record(dvr_t *dvr, uint64_t start_ms, uint8_t k, uint32_t blocks)
{
    block_t *psi = block_new(376, 0);
    memset(psi->data, 0x47, 376);
    psi->size = 376;
    block_t *list[8];
    uint64_t first_seq = 100u * k;
    for (uint32_t i = 0; i < blocks; i++) {
        list[i] = block_new(RING_BLOCK_SIZE, first_seq + i);
        memset(list[i]->data, k, RING_BLOCK_SIZE);
        list[i]->size = i + 1 < blocks ? RING_BLOCK_SIZE : RING_BLOCK_SIZE / 2;
    }
    /* the segment starts 188 bytes into its first block */
    uint64_t start = first_seq * RING_BLOCK_SIZE + 188;
    uint64_t end = (first_seq + blocks - 1) * RING_BLOCK_SIZE + RING_BLOCK_SIZE / 2;
    hls_segment_view_t view = {k, start_ms, 180000, k == 0, psi, list, blocks, start, end};
    dvr_record(dvr, &view);
    /* the recorder keeps its own references */
    block_unref(psi);
    for (uint32_t i = 0; i < blocks; i++)
        block_unref(list[i]);
    return 376 + (end - start);
}

static void run(fixture_t *f)
{
    uv_run(&f->loop, UV_RUN_DEFAULT);
}

static void test_segments_are_written_and_found_again(void **state)
{
    fixture_t *f = *state;
    dvr_t *dvr = open_dvr(f, 0, 3600);
    uint64_t sizes[5], total = 0;
    for (uint8_t k = 0; k < 5; k++) {
        sizes[k] = record(dvr, 1000000u + k * 2000u, k, 1 + k % 3);
        total += sizes[k];
        run(f);
    }
    dvr_info_t info;
    dvr_get_info(dvr, &info);
    assert_int_equal(info.segments, 5);
    assert_int_equal(info.bytes, total);
    assert_int_equal(info.first_ms, 1000000);
    assert_int_equal(info.last_ms, 1000000 + 4 * 2000 + 2000);
    const dvr_entry_t *e = dvr_index_at(dvr_index(dvr), 3);
    assert_int_equal(e->length, sizes[3]);
    assert_int_equal(e->duration_ms, 2000);
    assert_int_equal(e->preamble, 376);
    assert_true(dvr_index_at(dvr_index(dvr), 0)->flags & DVR_DISCONTINUITY);
    /* the bytes: PSI then the segment's part of the blocks */
    char path[256];
    dvr_chunk_path(f->dir, e->chunk, ".ts", path, sizeof(path));
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t *buf = malloc(e->length);
    fseek(fp, (long)e->offset, SEEK_SET);
    assert_int_equal(fread(buf, 1, e->length, fp), e->length);
    fclose(fp);
    assert_int_equal(buf[0], 0x47);
    assert_int_equal(buf[375], 0x47);
    for (uint32_t i = 376; i < e->length; i++)
        if (buf[i] != 3)
            fail_msg("byte %u of segment 3 is %u", i, buf[i]);
    free(buf);
    dvr_close(dvr);
    run(f);
    /* a second start finds the same archive, and nothing to repair */
    f->event_count = 0;
    dvr = open_dvr(f, 0, 3600);
    dvr_get_info(dvr, &info);
    assert_int_equal(info.segments, 5);
    assert_int_equal(f->event_count, 0);
    /* and goes on in a new chunk */
    record(dvr, 1010000, 5, 1);
    run(f);
    assert_int_equal(dvr_index(dvr)->chunk_count - dvr_index(dvr)->chunk_first, 2);
    dvr_close(dvr);
}

static void test_retention_by_size_drops_oldest_chunks(void **state)
{
    fixture_t *f = *state;
    /* a chunk every 4 s: two segments each; room for about 3 chunks */
    uint64_t one = 0;
    dvr_t *dvr = open_dvr(f, 0, 4);
    for (uint8_t k = 0; k < 10; k++) {
        one = record(dvr, 2000000u + k * 2000u, k, 2);
        run(f);
    }
    dvr_set_retention(dvr, 0, 6 * one + 1);
    record(dvr, 2000000u + 10u * 2000u, 10, 2);
    run(f);
    dvr_info_t info;
    dvr_get_info(dvr, &info);
    /* 11 segments in chunks of 2 (the last one open with 1): what is left
     * fits, whole chunks went first to last */
    assert_true(info.bytes <= 6 * one + 1);
    assert_int_equal(info.segments, 5);
    assert_int_equal(info.first_ms, 2000000u + 6u * 2000u);
    /* their files are gone with the next write */
    record(dvr, 2000000u + 11u * 2000u, 11, 2);
    run(f);
    char path[256];
    dvr_chunk_path(f->dir, 2000000, ".ts", path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    /* by age: these segments are from 1970; only the chunk being written stays */
    dvr_set_retention(dvr, 86400, 0);
    record(dvr, 2000000u + 12u * 2000u, 12, 1);
    run(f);
    dvr_get_info(dvr, &info);
    assert_int_equal(dvr_index(dvr)->chunk_count - dvr_index(dvr)->chunk_first, 1);
    assert_int_equal(info.first_ms, 2000000u + 12u * 2000u);
    dvr_close(dvr);
}

static void test_failed_write_stops_then_resumes(void **state)
{
    fixture_t *f = *state;
    dvr_t *dvr = open_dvr(f, 0, 3600);
    uint64_t size = record(dvr, 3000000, 0, 2);
    run(f);
    /* the "disk" fills up: no file may grow past what is written */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, tight;
    getrlimit(RLIMIT_FSIZE, &old);
    tight = old;
    tight.rlim_cur = size + 1000;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &tight), 0);
    record(dvr, 3002000, 1, 2);
    run(f);
    dvr_info_t info;
    dvr_get_info(dvr, &info);
    assert_int_equal(info.state, DVR_STOPPED);
    assert_non_null(strstr(info.reason, "writing a segment"));
    assert_int_equal(info.segments, 1);
    assert_int_equal(info.dropped, 1);
    assert_int_equal(f->event_count, 1);
    assert_non_null(strstr(f->events[0], "recording stopped"));
    /* nothing half-written stayed */
    const dvr_entry_t *e = dvr_index_at(dvr_index(dvr), 0);
    char path[256];
    dvr_chunk_path(f->dir, e->chunk, ".ts", path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, size);
    /* space comes back: the next segment is recorded, in a new chunk */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    usleep(2000);
    record(dvr, 3004000, 2, 2);
    run(f);
    dvr_get_info(dvr, &info);
    assert_int_equal(info.state, DVR_RECORDING);
    assert_int_equal(info.segments, 2);
    assert_int_equal(f->event_count, 2);
    assert_non_null(strstr(f->events[1], "recording again"));
    assert_int_not_equal(dvr_index_at(dvr_index(dvr), 1)->chunk, e->chunk);
    dvr_close(dvr);
    run(f);
    /* and the whole archive loads back clean */
    f->event_count = 0;
    dvr = open_dvr(f, 0, 3600);
    dvr_get_info(dvr, &info);
    assert_int_equal(info.segments, 2);
    assert_int_equal(f->event_count, 0);
    dvr_close(dvr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_segments_are_written_and_found_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_by_size_drops_oldest_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_stops_then_resumes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
