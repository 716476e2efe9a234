// SPDX-License-Identifier: MIT
// test_analyze.c -- tests for src/ts/analyze.c: a synthetic multiplex
// (analyze_build.h) with injected faults, checked against exact TR 101 290
// counter values, plus random input and a per-packet cost measurement.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ts/ts.h"
#include "analyze_build.h"

#define START_US 1000000000u  /* an arbitrary monotonic origin */
#define SECOND 1000000u

typedef struct fixture {
    ts_analyzer_t *an;
    ab_stream_t st;
    ts_analysis_t out;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->an = ts_analyzer_new(NULL);
    if (!f->an) {
        free(f);
        return -1;
    }
    ab_init(&f->st, START_US);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    ts_analyzer_free(f->an);
    free(f);
    return 0;
}

/* Feeds the stream until (not including) stream time `until_us`. */
static void run_until(fixture_t *f, uint64_t until_us)
{
    uint8_t pkt[TB_PKT];
    while (ab_time(&f->st) < until_us) {
        uint64_t now = ab_next(&f->st, pkt);
        ts_analyzer_packet(f->an, pkt, now);
    }
}

static void run_for(fixture_t *f, uint64_t us) { run_until(f, ab_time(&f->st) + us); }

/* Makes the next packet of `pid` and returns its time; packets of other PIDs
 * on the way are fed. */
static uint64_t next_of(fixture_t *f, uint16_t pid, uint8_t *pkt)
{
    for (;;) {
        uint64_t now = ab_next(&f->st, pkt);
        if (((pkt[1] & 0x1f) << 8 | pkt[2]) == pid)
            return now;
        ts_analyzer_packet(f->an, pkt, now);
    }
}

static const ts_analysis_t *get(fixture_t *f)
{
    ts_analyzer_get(f->an, &f->out);
    return &f->out;
}

static const ts_analysis_pid_t *pid_of(const ts_analysis_t *a, uint16_t pid)
{
    for (size_t i = 0; i < a->pid_count; i++)
        if (a->pids[i].pid == pid)
            return &a->pids[i];
    return NULL;
}

/* Every counter is zero except those listed as (error, value) pairs, ended
 * by -1. */
static void assert_errors(const ts_analysis_t *a, ...)
{
    uint64_t want[TS_TR_COUNT] = {0};
    va_list ap;
    va_start(ap, a);
    for (int e = va_arg(ap, int); e >= 0; e = va_arg(ap, int))
        want[e] = (uint64_t)va_arg(ap, int);
    va_end(ap);
    for (int e = 0; e < TS_TR_COUNT; e++) {
        if (a->errors[e] != want[e])
            fail_msg("%s: %llu, want %llu", ts_tr_error_name((ts_tr_error_t)e),
                     (unsigned long long)a->errors[e], (unsigned long long)want[e]);
    }
}

static void assert_within_1pct(uint64_t got, uint64_t want)
{
    uint64_t diff = got > want ? got - want : want - got;
    if (diff * 100 > want)
        fail_msg("bitrate %llu, want %llu (+-1%%)", (unsigned long long)got, (unsigned long long)want);
}

static void test_clean_stream_has_no_errors(void **state)
{
    fixture_t *f = *state;
    run_for(f, 10 * SECOND);
    const ts_analysis_t *a = get(f);
    assert_errors(a, -1);
    assert_int_equal(a->state, TS_HEALTH_OK);
    assert_string_equal(a->reason, "");
    assert_true(a->in_sync);
    assert_int_equal(a->packets, 100000);
    assert_int_equal(a->pid_count, 5);
    assert_int_equal(a->pids[0].pid, 0);
    assert_int_equal(a->pids[1].pid, AB_PMT_PID);
    assert_int_equal(a->pids[4].pid, AB_NULL_PID);
    const ts_analysis_pid_t *video = pid_of(a, AB_VIDEO_PID);
    assert_non_null(video);
    assert_true(video->referenced);
    assert_true(video->pcr);
    assert_int_equal(video->packets, 56250);
    assert_int_equal(a->scrambled_pids, 0);
    assert_int_equal(a->other_packets, 0);
}

static void test_bitrates(void **state)
{
    fixture_t *f = *state;
    run_for(f, 3 * SECOND + 50000);
    const ts_analysis_t *a = get(f);
    assert_within_1pct(a->bitrate, 10000u * 188 * 8);
    assert_within_1pct(pid_of(a, AB_VIDEO_PID)->bitrate, 8460000);
    assert_within_1pct(pid_of(a, AB_AUDIO_PID)->bitrate, 1541600);
    assert_within_1pct(pid_of(a, 0)->bitrate, 10u * 188 * 8);
    assert_within_1pct(pid_of(a, AB_NULL_PID)->bitrate, (10000u - 5625 - 1025 - 20) * 188 * 8);

    /* The source stops: after a tick the last second carried nothing. */
    ts_analyzer_tick(f->an, ab_time(&f->st) + 1500000);
    ts_analyzer_tick(f->an, ab_time(&f->st) + 2600000);
    a = get(f);
    assert_int_equal(a->bitrate, 0);
    assert_int_equal(pid_of(a, AB_VIDEO_PID)->bitrate, 0);
    assert_int_equal(a->state, TS_HEALTH_DOWN);
    assert_non_null(strstr(a->reason, "no packets for"));
}

static void test_each_gap_is_one_cc_error(void **state)
{
    fixture_t *f = *state;
    uint8_t pkt[TB_PKT];
    run_for(f, SECOND);
    /* Seven single video packets lost, 20 ms apart. */
    for (int i = 0; i < 7; i++) {
        next_of(f, AB_VIDEO_PID, pkt);
        run_for(f, 20000);
    }
    /* Three in a row: one gap. */
    next_of(f, AB_VIDEO_PID, pkt);
    next_of(f, AB_VIDEO_PID, pkt);
    next_of(f, AB_VIDEO_PID, pkt);
    run_for(f, 100000);
    const ts_analysis_t *a = get(f);
    assert_errors(a, TS_TR_CC_ERROR, 8, -1);
    assert_int_equal(pid_of(a, AB_VIDEO_PID)->cc_errors, 8);
    assert_int_equal(pid_of(a, AB_AUDIO_PID)->cc_errors, 0);
    assert_int_equal(a->state, TS_HEALTH_DEGRADED);
    assert_string_equal(a->reason, "CC errors on PID 257");
    /* Errors age out of the state after two seconds. */
    run_for(f, 2100000);
    a = get(f);
    assert_int_equal(a->state, TS_HEALTH_OK);
    assert_int_equal(a->errors[TS_TR_CC_ERROR], 8);
}

static void test_duplicates(void **state)
{
    fixture_t *f = *state;
    uint8_t pkt[TB_PKT];
    run_for(f, SECOND);
    /* Sent twice: allowed. */
    uint64_t now = next_of(f, AB_AUDIO_PID, pkt);
    ts_analyzer_packet(f->an, pkt, now);
    ts_analyzer_packet(f->an, pkt, now);
    run_for(f, 50000);
    assert_errors(get(f), -1);
    /* Sent three times: one error. */
    now = next_of(f, AB_AUDIO_PID, pkt);
    for (int i = 0; i < 3; i++)
        ts_analyzer_packet(f->an, pkt, now);
    run_for(f, 50000);
    assert_errors(get(f), TS_TR_CC_ERROR, 1, -1);
    /* Four times: two errors. */
    now = next_of(f, AB_AUDIO_PID, pkt);
    for (int i = 0; i < 4; i++)
        ts_analyzer_packet(f->an, pkt, now);
    run_for(f, 50000);
    assert_errors(get(f), TS_TR_CC_ERROR, 3, -1);
    /* Adaptation-only packets do not advance the counter: no error. */
    now = ab_time(&f->st);
    tb_packet_af(pkt, AB_AUDIO_PID, false, f->st.cc[AB_AUDIO_PID] - 1, 183, 0, false, 0, 0, 0);
    ts_analyzer_packet(f->an, pkt, now);
    tb_packet_af(pkt, AB_AUDIO_PID, false, 9, 183, 0, false, 0, 0, 0);
    ts_analyzer_packet(f->an, pkt, now);
    /* A jump with discontinuity_indicator: no error. */
    f->st.cc[AB_AUDIO_PID] = (uint8_t)(f->st.cc[AB_AUDIO_PID] + 5);
    now = next_of(f, AB_AUDIO_PID, pkt);
    tb_packet_af(pkt, AB_AUDIO_PID, false, (uint8_t)(f->st.cc[AB_AUDIO_PID] - 1), 1, TB_AF_DISCONTINUITY, true, 0, 0,
                 0);
    ts_analyzer_packet(f->an, pkt, now);
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_CC_ERROR, 3, -1);
}

static void test_pat_missing_one_second_is_one_error(void **state)
{
    fixture_t *f = *state;
    run_for(f, SECOND);
    f->st.no_pat = true;
    run_for(f, 800000);
    const ts_analysis_t *a = get(f);
    assert_errors(a, TS_TR_PAT_ERROR, 1, -1);
    assert_int_equal(a->state, TS_HEALTH_DOWN);
    assert_non_null(strstr(a->reason, "PAT missing for 0."));
    run_for(f, 200000);
    f->st.no_pat = false;
    run_for(f, 3 * SECOND);
    a = get(f);
    assert_errors(a, TS_TR_PAT_ERROR, 1, -1);
    assert_int_equal(a->state, TS_HEALTH_OK);
}

static void test_pat_errors_without_scan(void **state)
{
    fixture_t *f = *state;
    /* A PAT after 0.6 s of nothing on PID 0: one error, found by the first
     * packet after the timeout (here the PAT itself). */
    ts_analyzer_options_t opt = {.pat_timeout_ms = 500};
    ts_analyzer_t *an = ts_analyzer_new(&opt);
    uint8_t pkt[TB_PKT];
    static const tb_program_t programs[] = {{1, 0x100}};
    uint8_t s[64];
    size_t len = tb_pat(s, 1, 0, programs, 1);
    tb_section_packet(pkt, 0, 0, s, len);
    ts_analyzer_packet(an, pkt, START_US);
    tb_section_packet(pkt, 0, 1, s, len);
    ts_analyzer_packet(an, pkt, START_US + 600000);
    ts_analysis_t a;
    ts_analyzer_get(an, &a);
    assert_int_equal(a.errors[TS_TR_PAT_ERROR], 1);
    /* Wrong table_id on PID 0, and a scrambled PAT packet: one each. */
    s[0] = 0x02;
    tb_section_finish(s, len);
    tb_section_packet(pkt, 0, 2, s, len);
    ts_analyzer_packet(an, pkt, START_US + 700000);
    tb_section_packet(pkt, 0, 3, s, len);
    pkt[3] |= 0x80;
    ts_analyzer_packet(an, pkt, START_US + 800000);
    ts_analyzer_get(an, &a);
    assert_int_equal(a.errors[TS_TR_PAT_ERROR], 3);
    assert_int_equal(a.errors[TS_TR_CRC_ERROR], 0);
    ts_analyzer_free(an);
    (void)f;
}

static void test_scrambled_pat_packets(void **state)
{
    fixture_t *f = *state;
    uint8_t pkt[TB_PKT];
    run_for(f, SECOND);
    for (int i = 0; i < 3; i++) {
        uint64_t now = next_of(f, 0, pkt);
        pkt[3] |= 0xc0;
        ts_analyzer_packet(f->an, pkt, now);
    }
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_PAT_ERROR, 3, -1);
}

static void test_pmt_and_pid_missing(void **state)
{
    fixture_t *f = *state;
    uint8_t pkt[TB_PKT];
    run_for(f, SECOND);
    f->st.no_pmt = true;
    run_for(f, SECOND);
    f->st.no_pmt = false;
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_PMT_ERROR, 1, -1);

    /* Audio disappears for 6 s: one PID_error, and one CC error when it
     * comes back (its packets were lost). */
    uint64_t until = ab_time(&f->st) + 6 * SECOND;
    while (ab_time(&f->st) < until) {
        uint64_t now = ab_next(&f->st, pkt);
        if (((pkt[1] & 0x1f) << 8 | pkt[2]) != AB_AUDIO_PID)
            ts_analyzer_packet(f->an, pkt, now);
    }
    const ts_analysis_t *a = get(f);
    assert_errors(a, TS_TR_PMT_ERROR, 1, TS_TR_PID_ERROR, 1, -1);
    assert_int_equal(a->state, TS_HEALTH_DEGRADED);
    assert_non_null(strstr(a->reason, "PID 258 missing for"));
    run_for(f, SECOND);
    /* The audio PTS gap (6 s) is a PTS_error too. */
    assert_errors(get(f), TS_TR_PMT_ERROR, 1, TS_TR_PID_ERROR, 1, TS_TR_CC_ERROR, 1, TS_TR_PTS_ERROR, 1, -1);
}

static void test_source_stops_ticks_count_timeouts(void **state)
{
    fixture_t *f = *state;
    run_for(f, SECOND);
    uint64_t t = ab_time(&f->st);
    for (int i = 1; i <= 7; i++)
        ts_analyzer_tick(f->an, t + (uint64_t)i * SECOND);
    /* PAT, PMT once each; video and audio PIDs once each. */
    const ts_analysis_t *a = get(f);
    assert_errors(a, TS_TR_PAT_ERROR, 1, TS_TR_PMT_ERROR, 1, TS_TR_PID_ERROR, 2, -1);
    assert_int_equal(a->state, TS_HEALTH_DOWN);
}

static void test_pcr_gap_and_jumps(void **state)
{
    fixture_t *f = *state;
    run_for(f, SECOND);
    /* 200 ms without PCR: four PCRs missing. */
    f->st.no_pcr = true;
    run_for(f, 160000);
    f->st.no_pcr = false;
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_PCR_REPETITION_ERROR, 1, -1);
    /* The PCR jumps forward 5 s without discontinuity_indicator. */
    f->st.pcr_offset += 5 * 27000000LL;
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_PCR_REPETITION_ERROR, 1, TS_TR_PCR_DISCONTINUITY_ERROR, 1, -1);
    /* Backwards by 1 s. */
    f->st.pcr_offset -= 27000000LL;
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_PCR_REPETITION_ERROR, 1, TS_TR_PCR_DISCONTINUITY_ERROR, 2, -1);
    /* With the indicator: no error (nor a CC error). */
    f->st.pcr_offset += 123 * 27000000LL;
    f->st.pcr_discontinuity = true;
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_PCR_REPETITION_ERROR, 1, TS_TR_PCR_DISCONTINUITY_ERROR, 2, -1);
}

static void test_pts_gap(void **state)
{
    fixture_t *f = *state;
    run_for(f, SECOND);
    f->st.no_pts = true;
    run_for(f, 800000);
    f->st.no_pts = false;
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_PTS_ERROR, 1, -1);
    /* 600 ms is within the limit. */
    f->st.no_pts = true;
    run_for(f, 560000);
    f->st.no_pts = false;
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_PTS_ERROR, 1, -1);
}

static void test_crc_error_per_section(void **state)
{
    fixture_t *f = *state;
    run_for(f, SECOND);
    f->st.bad_pat_crc = 3;
    run_for(f, 2 * SECOND);
    /* Three bad PATs in a row leave a 400 ms gap: no PAT_error. */
    assert_errors(get(f), TS_TR_CRC_ERROR, 3, -1);
}

static void test_sync_bytes(void **state)
{
    fixture_t *f = *state;
    uint8_t pkt[TB_PKT];
    run_for(f, SECOND);
    /* One bad sync byte: an error, not a loss. */
    uint64_t now = next_of(f, AB_NULL_PID, pkt);
    pkt[0] = 0x48;
    ts_analyzer_packet(f->an, pkt, now);
    run_for(f, 100000);
    assert_errors(get(f), TS_TR_SYNC_BYTE_ERROR, 1, -1);
    /* Five in a row (null packets k 70..74, so no continuity is lost). */
    while (f->st.index % 100 != 70) {
        now = ab_next(&f->st, pkt);
        ts_analyzer_packet(f->an, pkt, now);
    }
    for (int i = 0; i < 5; i++) {
        now = ab_next(&f->st, pkt);
        assert_int_equal(pkt[2], 0xff);
        pkt[0] = 0x00;
        ts_analyzer_packet(f->an, pkt, now);
    }
    const ts_analysis_t *a = get(f);
    assert_false(a->in_sync);
    assert_int_equal(a->state, TS_HEALTH_DOWN);
    assert_string_equal(a->reason, "no TS sync");
    run_for(f, SECOND);
    a = get(f);
    assert_errors(a, TS_TR_SYNC_BYTE_ERROR, 6, TS_TR_SYNC_LOSS, 1, -1);
    assert_true(a->in_sync);
}

static void test_transport_errors(void **state)
{
    fixture_t *f = *state;
    uint8_t pkt[TB_PKT];
    run_for(f, SECOND);
    for (int i = 0; i < 3; i++) {
        uint64_t now = next_of(f, AB_VIDEO_PID, pkt);
        pkt[1] |= 0x80;
        ts_analyzer_packet(f->an, pkt, now);
        run_for(f, 10000);
    }
    run_for(f, SECOND);
    assert_errors(get(f), TS_TR_TRANSPORT_ERROR, 3, -1);
}

static void test_scrambled_pid_reported(void **state)
{
    fixture_t *f = *state;
    f->st.audio_scrambling = 2;
    run_for(f, 2 * SECOND);
    const ts_analysis_t *a = get(f);
    assert_errors(a, -1);
    assert_int_equal(a->scrambled_pids, 1);
    const ts_analysis_pid_t *audio = pid_of(a, AB_AUDIO_PID);
    assert_true(audio->scrambled);
    assert_int_equal(audio->scrambled_packets, 2050);
    assert_int_equal(a->scrambled_packets, 2050);
    assert_false(pid_of(a, AB_VIDEO_PID)->scrambled);
    /* No player can decode it: the source is degraded, and says why. */
    assert_int_equal(a->state, TS_HEALTH_DEGRADED);
    assert_string_equal(a->reason, "1 PID scrambled");
    f->st.audio_scrambling = 0;
    run_for(f, 3 * SECOND);
    assert_int_equal(get(f)->state, TS_HEALTH_OK);
}

static void test_pcr_gone_is_degraded(void **state)
{
    fixture_t *f = *state;
    run_for(f, SECOND);
    assert_true(get(f)->pcr_gap_us <= 40000);
    f->st.no_pcr = true;
    run_for(f, 900000);
    const ts_analysis_t *a = get(f);
    assert_true(a->pcr_gap_us >= 880000 && a->pcr_gap_us <= 940000);
    /* (the 100 ms repetition error is only counted when a PCR comes) */
    assert_int_equal(a->errors[TS_TR_PCR_REPETITION_ERROR], 0);
    assert_int_equal(a->state, TS_HEALTH_OK);
    run_for(f, 300000);
    a = get(f);
    assert_int_equal(a->state, TS_HEALTH_DEGRADED);
    assert_memory_equal(a->reason, "no PCR for 1.", 13);
    f->st.no_pcr = false;
    run_for(f, 3 * SECOND);
    a = get(f);
    assert_int_equal(a->state, TS_HEALTH_OK);
    assert_errors(a, TS_TR_PCR_REPETITION_ERROR, 1, -1);
}

/* A PCR_PID that has carried no PCR since the PMT named it has no clock
 * either: its gap runs from the PMT (a source that lost its PCRs before the
 * analyzer first saw one must not pass for a clean one). */
static void test_pcr_never_seen_is_degraded(void **state)
{
    fixture_t *f = *state;
    f->st.no_pcr = true;
    run_for(f, 50000);
    const ts_analysis_t *a = get(f);
    assert_true(a->pcr_gap_us <= 50000);
    assert_false(pid_of(a, AB_VIDEO_PID)->pcr);
    run_for(f, 1100000);
    a = get(f);
    /* (named by the PMT at stream time 100 us) */
    assert_true(a->pcr_gap_us >= 1100000 && a->pcr_gap_us <= 1150000);
    assert_int_equal(a->state, TS_HEALTH_DEGRADED);
    assert_memory_equal(a->reason, "no PCR for 1.", 13);
    f->st.no_pcr = false;
    run_for(f, 3 * SECOND);
    a = get(f);
    assert_true(a->pcr_gap_us <= 40000);
    assert_int_equal(a->state, TS_HEALTH_OK);
}

static void test_pid_table_is_bounded(void **state)
{
    fixture_t *f = *state;
    uint8_t pkt[TB_PKT];
    /* 100 unrelated PIDs first fill the table; the program's PIDs still get
     * their own entries and checks when the PAT and PMT name them. */
    for (uint16_t pid = 0x800; pid < 0x800 + 100; pid++) {
        tb_packet(pkt, pid, false, 0, 0);
        ts_analyzer_packet(f->an, pkt, START_US);
    }
    run_for(f, 2 * SECOND);
    const ts_analysis_t *a = get(f);
    assert_int_equal(a->pid_count, TS_ANALYZE_MAX_PIDS);
    assert_non_null(pid_of(a, AB_VIDEO_PID));
    assert_non_null(pid_of(a, AB_AUDIO_PID));
    assert_non_null(pid_of(a, AB_PMT_PID));
    assert_null(pid_of(a, AB_NULL_PID));  /* came after the table was full */
    uint64_t sum = a->other_packets;
    for (size_t i = 0; i < a->pid_count; i++)
        sum += a->pids[i].packets;
    assert_int_equal(sum, a->packets);
    assert_errors(a, -1);
}

static void test_reset(void **state)
{
    fixture_t *f = *state;
    f->st.no_pat = true;
    run_for(f, 2 * SECOND);
    assert_int_equal(get(f)->errors[TS_TR_PAT_ERROR], 1);
    ts_analyzer_reset(f->an);
    const ts_analysis_t *a = get(f);
    assert_errors(a, -1);
    assert_int_equal(a->packets, 0);
    assert_int_equal(a->state, TS_HEALTH_DOWN);
    assert_string_equal(a->reason, "no packets");
    f->st.no_pat = false;
    run_for(f, 2 * SECOND);
    assert_errors(get(f), -1);
    assert_string_equal(ts_tr_error_name(TS_TR_CC_ERROR), "Continuity_count_error");
    assert_int_equal(ts_tr_error_priority(TS_TR_CRC_ERROR), 2);
}

static void test_random_packets_do_not_crash(void **state)
{
    (void)state;
    ts_analyzer_t *an = ts_analyzer_new(NULL);
    assert_non_null(an);
    uint8_t pkt[TB_PKT];
    uint32_t x = 12345;
    uint64_t now = START_US;
    for (int i = 0; i < 200000; i++) {
        for (size_t b = 0; b < TB_PKT; b++) {
            x = x * 1103515245u + 12345u;
            pkt[b] = (uint8_t)(x >> 16);
        }
        /* Mostly good sync bytes and a few PIDs, so tables get parsed. */
        if (i % 8)
            pkt[0] = 0x47;
        if (i % 3 == 0)
            pkt[1] = (uint8_t)(pkt[1] & 0xe0), pkt[2] = (uint8_t)(pkt[2] % 20);
        if (i % 50 == 0)
            now -= 1000; /* a clock that goes backwards now and then */
        now += (x >> 8) % 2000;
        ts_analyzer_packet(an, pkt, now);
        if (i % 1000 == 0)
            ts_analyzer_tick(an, now);
    }
    ts_analysis_t a;
    ts_analyzer_get(an, &a);
    assert_int_equal(a.packets, 200000);
    assert_true(a.pid_count <= TS_ANALYZE_MAX_PIDS);
    ts_analyzer_free(an);
}

/* Not an assertion: prints the cost per packet of a clean multiplex. */
static void test_cost_per_packet(void **state)
{
    fixture_t *f = *state;
    enum { N = 20000 };
    uint8_t *buf = malloc((size_t)N * TB_PKT);
    assert_non_null(buf);
    for (size_t i = 0; i < N; i++)
        ab_next(&f->st, buf + i * TB_PKT);
    struct timespec t0, t1;
    const int rounds = 100;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t now = START_US;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < N; i++, now += AB_PERIOD_US)
            ts_analyzer_packet(f->an, buf + i * TB_PKT, now);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    printf("# ts_analyzer_packet: %.1f ns/packet over %d packets\n", ns / ((double)N * rounds), N * rounds);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_stream_has_no_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bitrates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_gap_is_one_cc_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pat_missing_one_second_is_one_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pat_errors_without_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scrambled_pat_packets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmt_and_pid_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_stops_ticks_count_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcr_gap_and_jumps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pts_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_error_per_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transport_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scrambled_pid_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcr_gone_is_degraded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcr_never_seen_is_degraded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pid_table_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test(test_random_packets_do_not_crash),
        cmocka_unit_test_setup_teardown(test_cost_per_packet, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
