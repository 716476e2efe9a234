// SPDX-License-Identifier: MIT
// analyze.c -- ETSI TR 101 290 (V1.2.1, 5.2.1 first priority and 5.2.2
// second priority) measurements on one source's packets, with per-PID packet
// counts and bitrates. ts.h says what each counter counts exactly.
//
// Invariants:
// - slot_of[pid] is 0 (no slot yet), SLOT_OTHERS (counted in "others") or
//   1 + the index of the PID's entry in pids[]; pids[0..pid_used) are live.
// - A PID referenced by the PAT or a PMT always has a slot: when the table is
//   full the unreferenced slot with the fewest packets is folded into
//   "others" (only referenced PIDs beyond TS_ANALYZE_MAX_PIDS go without).
// - Every "missing" check (PAT, PMT, PID) keeps the time it was last seen and
//   whether this absence has been counted; an absence is counted once, by
//   whichever notices it first: the periodic scan (from packet or tick) or
//   the arrival that ends it.
// - A PID a PMT names as PCR_PID has ROLE_PCR; its PCR gap runs from the
//   later of its last PCR and the moment it was named, so that a stream
//   whose PCRs never came (or went before the analyzer first saw one) is
//   not taken for one that has no clock to check.
// - psi[] holds the section reassembly buffers; a slot's psi is 1 + index.
// Per packet the work is a few table look-ups; the scan of timeouts runs at
// most every SCAN_US and the bitrate window closes once a second.
#include "ts/ts.h"

#include <bitstream/mpeg/ts.h>
#include <bitstream/mpeg/pes.h>
#include <bitstream/mpeg/psi.h>
#include <bitstream/mpeg/psi/pat.h>
#include <bitstream/mpeg/psi/pmt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_OTHERS 0xff
#define SCAN_US 100000u
#define WINDOW_US 1000000u
#define SYNC_GOOD_TO_LOCK 5   /* TR 101 290 5.2.1, TS_sync_loss note */
#define SYNC_BAD_TO_LOSE 2
#define PCR_WRAP ((UINT64_C(1) << 33) * 300)  /* 27 MHz PCR wraps here */
#define MAX_PSI (TS_ANALYZE_MAX_PROGRAMS + 6)

#define CC_VALID 0x10
#define CC_REPEATED 0x20      /* the last packet was a first repeat */

enum role {
    ROLE_PAT = 1 << 0,
    ROLE_PMT = 1 << 1,
    ROLE_ES = 1 << 2,         /* listed in a PMT (stream or PCR PID) */
    ROLE_SI = 1 << 3,         /* DVB SI / CAT: sections checked for CRC only */
    ROLE_PCR = 1 << 4,        /* a PMT names it PCR_PID (with ROLE_ES) */
};

typedef struct an_pid {
    uint16_t pid;
    uint8_t role;
    uint8_t psi;              /* 1 + index into psi[], or 0 */
    uint8_t program;          /* 1 + index of the program listing it (ROLE_ES) */
    bool missing_counted;
    bool stale;               /* scratch while a PMT is applied */
    bool scrambled;
    bool pcr_valid;
    bool pts_valid;
    bool has_pcr;
    uint64_t packets;
    uint64_t window_packets;
    uint64_t cc_errors;
    uint64_t cc_mark[2];      /* cc_errors when the last two windows began */
    uint64_t scrambled_packets;
    uint64_t bitrate;
    uint64_t last_seen_us;
    uint64_t last_pcr;        /* 27 MHz */
    uint64_t last_pcr_us;
    uint64_t pcr_named_us;    /* when it last became a program's PCR_PID */
    uint64_t last_pts_us;
} an_pid_t;

typedef struct an_program {
    uint16_t number;
    uint16_t pmt_pid;
    bool missing_counted;
    bool have_crc;
    uint32_t crc;             /* of the PMT applied last */
    uint64_t last_seen_us;
} an_program_t;

typedef struct an_psi {
    uint16_t pid;             /* TS_PID_NULL when free */
    ts_section_buf_t buf;
} an_psi_t;

struct ts_analyzer {
    ts_analyzer_options_t opt;      /* as given; the same in microseconds below */
    uint64_t pat_timeout_us, pmt_timeout_us, pid_timeout_us;
    uint64_t pcr_interval_us, pcr_jump_us, pts_interval_us;

    /* From here on, reset clears everything. */
    uint64_t errors[TS_TR_COUNT];
    uint64_t error_mark[2][TS_TR_COUNT];
    uint64_t packets;
    uint64_t scrambled_packets;
    uint64_t other_packets, other_window_packets, other_bitrate;
    uint64_t window_packets, bitrate;
    bool started;
    bool in_sync;
    uint8_t good_run, bad_run;
    uint64_t first_us, last_packet_us, now_us;
    uint64_t window_start_us, next_scan_us;

    uint64_t pat_last_us;
    bool pat_missing_counted;
    bool pat_seen;
    bool pat_have_crc;
    uint32_t pat_crc;

    uint16_t cur_pid;               /* PID whose sections are being pushed */
    size_t program_count;
    an_program_t programs[TS_ANALYZE_MAX_PROGRAMS];
    size_t pid_used;
    an_pid_t pids[TS_ANALYZE_MAX_PIDS];
    uint8_t slot_of[TS_PID_COUNT];
    uint8_t cc[TS_PID_COUNT];       /* CC_VALID | CC_REPEATED | last cc */
    an_psi_t psi[MAX_PSI];
};

static const struct {
    const char *name;
    int priority;
} tr_errors[TS_TR_COUNT] = {
    [TS_TR_SYNC_LOSS] = {"TS_sync_loss", 1},
    [TS_TR_SYNC_BYTE_ERROR] = {"Sync_byte_error", 1},
    [TS_TR_PAT_ERROR] = {"PAT_error", 1},
    [TS_TR_CC_ERROR] = {"Continuity_count_error", 1},
    [TS_TR_PMT_ERROR] = {"PMT_error", 1},
    [TS_TR_PID_ERROR] = {"PID_error", 1},
    [TS_TR_TRANSPORT_ERROR] = {"Transport_error", 2},
    [TS_TR_CRC_ERROR] = {"CRC_error", 2},
    [TS_TR_PCR_REPETITION_ERROR] = {"PCR_repetition_error", 2},
    [TS_TR_PCR_DISCONTINUITY_ERROR] = {"PCR_discontinuity_indicator_error", 2},
    [TS_TR_PTS_ERROR] = {"PTS_error", 2},
};

const char *ts_tr_error_name(ts_tr_error_t error)
{
    return (unsigned)error < TS_TR_COUNT ? tr_errors[error].name : "unknown";
}

int ts_tr_error_priority(ts_tr_error_t error)
{
    return (unsigned)error < TS_TR_COUNT ? tr_errors[error].priority : 0;
}

static uint64_t ms_or(uint32_t ms, uint32_t fallback) { return (uint64_t)(ms ? ms : fallback) * 1000; }

/* Time from `then` to `now`, 0 when the caller's clock went backwards. */
static uint64_t since(uint64_t now, uint64_t then) { return now > then ? now - then : 0; }

ts_analyzer_t *ts_analyzer_new(const ts_analyzer_options_t *options)
{
    ts_analyzer_t *an = malloc(sizeof(*an));
    if (!an)
        return NULL;
    memset(&an->opt, 0, sizeof(an->opt));
    if (options)
        an->opt = *options;
    an->pat_timeout_us = ms_or(an->opt.pat_timeout_ms, 500);
    an->pmt_timeout_us = ms_or(an->opt.pmt_timeout_ms, 500);
    an->pid_timeout_us = ms_or(an->opt.pid_timeout_ms, 5000);
    an->pcr_interval_us = ms_or(an->opt.pcr_interval_ms, 100);
    an->pcr_jump_us = ms_or(an->opt.pcr_jump_ms, 100);
    an->pts_interval_us = ms_or(an->opt.pts_interval_ms, 700);
    ts_analyzer_reset(an);
    return an;
}

void ts_analyzer_free(ts_analyzer_t *an) { free(an); }

static an_psi_t *psi_claim(ts_analyzer_t *an, an_pid_t *slot)
{
    if (slot->psi)
        return &an->psi[slot->psi - 1];
    for (size_t i = 0; i < MAX_PSI; i++) {
        if (an->psi[i].pid == TS_PID_NULL) {
            an->psi[i].pid = slot->pid;
            ts_section_buf_reset(&an->psi[i].buf);
            slot->psi = (uint8_t)(i + 1);
            return &an->psi[i];
        }
    }
    return NULL;
}

static void psi_release(ts_analyzer_t *an, an_pid_t *slot)
{
    if (slot->psi)
        an->psi[slot->psi - 1].pid = TS_PID_NULL;
    slot->psi = 0;
}

/* PIDs whose sections are DVB SI or the CAT (EN 300 468 5.1.3): their CRC is
 * checked. TDT/TOT (0x14) is left out: the TDT has no CRC. */
static bool pid_is_si(uint16_t pid) { return pid == 0x01 || (pid >= 0x10 && pid <= 0x12); }

static an_pid_t *slot_new(ts_analyzer_t *an, uint16_t pid, uint64_t now)
{
    an_pid_t *slot = &an->pids[an->pid_used++];
    memset(slot, 0, sizeof(*slot));
    slot->pid = pid;
    slot->last_seen_us = now;
    an->slot_of[pid] = (uint8_t)an->pid_used;
    if (pid_is_si(pid)) {
        slot->role |= ROLE_SI;
        psi_claim(an, slot);
    }
    return slot;
}

/* A slot for a PID that the PAT or a PMT refers to; evicts the least used
 * unreferenced PID into "others" when the table is full. NULL when every
 * slot is referenced. */
static an_pid_t *slot_for_reference(ts_analyzer_t *an, uint16_t pid, uint64_t now)
{
    uint8_t s = an->slot_of[pid];
    if (s && s != SLOT_OTHERS)
        return &an->pids[s - 1];
    if (an->pid_used < TS_ANALYZE_MAX_PIDS)
        return slot_new(an, pid, now);
    an_pid_t *victim = NULL;
    for (size_t i = 0; i < an->pid_used; i++) {
        an_pid_t *p = &an->pids[i];
        if (!(p->role & (ROLE_PAT | ROLE_PMT | ROLE_ES)) && (!victim || p->packets < victim->packets))
            victim = p;
    }
    if (!victim)
        return NULL;
    an->other_packets += victim->packets;
    an->other_window_packets += victim->window_packets;
    an->slot_of[victim->pid] = SLOT_OTHERS;
    psi_release(an, victim);
    size_t index = (size_t)(victim - an->pids);
    memset(victim, 0, sizeof(*victim));
    victim->pid = pid;
    victim->last_seen_us = now;
    an->slot_of[pid] = (uint8_t)(index + 1);
    return victim;
}

void ts_analyzer_reset(ts_analyzer_t *an)
{
    memset(an->errors, 0, sizeof(*an) - offsetof(ts_analyzer_t, errors));
    for (size_t i = 0; i < MAX_PSI; i++)
        an->psi[i].pid = TS_PID_NULL;
    an_pid_t *pat = slot_new(an, TS_PID_PAT, 0);
    pat->role = ROLE_PAT;
    psi_claim(an, pat);
}

/* ---- absences ----------------------------------------------------------- */

/* Counts an absence longer than timeout once; true when it is one. */
static bool absence(ts_analyzer_t *an, ts_tr_error_t error, uint64_t last, bool *counted, uint64_t now,
                    uint64_t timeout)
{
    if (*counted || since(now, last) <= timeout)
        return false;
    *counted = true;
    an->errors[error]++;
    return true;
}

static void scan(ts_analyzer_t *an, uint64_t now)
{
    an->next_scan_us = now + SCAN_US;
    absence(an, TS_TR_PAT_ERROR, an->pat_last_us, &an->pat_missing_counted, now, an->pat_timeout_us);
    for (size_t i = 0; i < an->program_count; i++) {
        an_program_t *p = &an->programs[i];
        absence(an, TS_TR_PMT_ERROR, p->last_seen_us, &p->missing_counted, now, an->pmt_timeout_us);
    }
    for (size_t i = 0; i < an->pid_used; i++) {
        an_pid_t *p = &an->pids[i];
        if (p->role & ROLE_ES)
            absence(an, TS_TR_PID_ERROR, p->last_seen_us, &p->missing_counted, now, an->pid_timeout_us);
    }
}

/* Closes the bitrate window when a second has passed. */
static void window(ts_analyzer_t *an, uint64_t now)
{
    uint64_t elapsed = since(now, an->window_start_us);
    if (elapsed < WINDOW_US)
        return;
    const uint64_t bits = TS_PACKET_SIZE * 8;
    an->bitrate = an->window_packets * bits * 1000000 / elapsed;
    an->window_packets = 0;
    an->other_bitrate = an->other_window_packets * bits * 1000000 / elapsed;
    an->other_window_packets = 0;
    for (size_t i = 0; i < an->pid_used; i++) {
        an_pid_t *p = &an->pids[i];
        p->bitrate = p->window_packets * bits * 1000000 / elapsed;
        p->window_packets = 0;
        p->cc_mark[0] = p->cc_mark[1];
        p->cc_mark[1] = p->cc_errors;
    }
    memcpy(an->error_mark[0], an->error_mark[1], sizeof(an->error_mark[0]));
    memcpy(an->error_mark[1], an->errors, sizeof(an->errors));
    an->window_start_us = now;
}

static void start(ts_analyzer_t *an, uint64_t now)
{
    an->started = true;
    an->first_us = now;
    an->window_start_us = now;
    an->next_scan_us = now + SCAN_US;
    an->pat_last_us = now;
    an->pids[0].last_seen_us = now;
}

void ts_analyzer_tick(ts_analyzer_t *an, uint64_t now)
{
    if (!an->started)
        return;
    if (now > an->now_us)
        an->now_us = now;
    scan(an, now);
    window(an, now);
}

/* ---- PSI ---------------------------------------------------------------- */

static uint32_t section_crc(const uint8_t *section)
{
    const uint8_t *c = section + psi_get_length(section) + PSI_HEADER_SIZE - PSI_CRC_SIZE;
    return ((uint32_t)c[0] << 24) | ((uint32_t)c[1] << 16) | ((uint32_t)c[2] << 8) | c[3];
}

/* Drops the PMT role of a PID that no program uses any more. */
static void pmt_pid_maybe_unused(ts_analyzer_t *an, uint16_t pid)
{
    for (size_t i = 0; i < an->program_count; i++)
        if (an->programs[i].pmt_pid == pid)
            return;
    uint8_t s = an->slot_of[pid];
    if (!s || s == SLOT_OTHERS)
        return;
    an_pid_t *slot = &an->pids[s - 1];
    slot->role &= (uint8_t)~ROLE_PMT;
    if (!(slot->role & (ROLE_PAT | ROLE_SI)))
        psi_release(an, slot);
}

static void on_pat(ts_analyzer_t *an, uint8_t *pat)
{
    uint64_t now = an->now_us;
    if (psi_get_tableid(pat) != PAT_TABLE_ID) {
        an->errors[TS_TR_PAT_ERROR]++;
        return;
    }
    if (!pat_validate(pat))
        return; /* unusable: counts as not seen */
    absence(an, TS_TR_PAT_ERROR, an->pat_last_us, &an->pat_missing_counted, now, an->pat_timeout_us);
    an->pat_last_us = now;
    an->pat_missing_counted = false;
    an->pat_seen = true;
    uint32_t crc = section_crc(pat);
    if (an->pat_have_crc && crc == an->pat_crc)
        return;
    an->pat_have_crc = true;
    an->pat_crc = crc;

    /* A PAT in one section replaces the program list; the sections of a
     * longer one only add to it. */
    bool whole = psi_get_lastsection(pat) == 0;
    an_program_t old[TS_ANALYZE_MAX_PROGRAMS];
    size_t old_count = an->program_count;
    memcpy(old, an->programs, sizeof(old));
    bool kept[TS_ANALYZE_MAX_PROGRAMS] = {false};
    if (whole)
        an->program_count = 0;
    const uint8_t *entry;
    for (uint8_t n = 0; (entry = pat_get_program(pat, n)) != NULL; n++) {
        uint16_t number = patn_get_program(entry), pid = patn_get_pid(entry);
        if (number != 0 && pid != TS_PID_NULL && pid != TS_PID_PAT) {
            size_t found = old_count;
            for (size_t i = 0; i < old_count; i++)
                if (old[i].number == number && old[i].pmt_pid == pid)
                    found = i;
            bool present = false;
            for (size_t i = 0; i < an->program_count; i++)
                present |= an->programs[i].number == number;
            if (!present && an->program_count < TS_ANALYZE_MAX_PROGRAMS) {
                an_program_t *p = &an->programs[an->program_count++];
                if (found < old_count) {
                    *p = old[found];
                    kept[found] = true;
                } else {
                    memset(p, 0, sizeof(*p));
                    p->number = number;
                    p->pmt_pid = pid;
                    p->last_seen_us = now;
                }
                an_pid_t *slot = slot_for_reference(an, pid, now);
                if (slot) {
                    slot->role |= ROLE_PMT;
                    psi_claim(an, slot);
                }
            }
        }
        if (n == 255)
            break;
    }
    if (!whole)
        return;
    /* Streams were tied to old program indexes: re-tie or drop them. */
    for (size_t i = 0; i < an->pid_used; i++) {
        an_pid_t *p = &an->pids[i];
        if (!(p->role & ROLE_ES))
            continue;
        size_t was = p->program - 1;
        uint8_t pcr = p->role & ROLE_PCR;
        p->program = 0;
        p->role &= (uint8_t)~(ROLE_ES | ROLE_PCR);
        if (was < old_count && kept[was])
            for (size_t j = 0; j < an->program_count; j++)
                if (an->programs[j].number == old[was].number) {
                    p->program = (uint8_t)(j + 1);
                    p->role |= ROLE_ES | pcr;
                }
    }
    for (size_t i = 0; i < old_count; i++)
        if (!kept[i])
            pmt_pid_maybe_unused(an, old[i].pmt_pid);
}

static void reference_stream(ts_analyzer_t *an, uint16_t pid, size_t index, uint64_t now)
{
    if (pid == TS_PID_NULL)
        return;
    an_pid_t *slot = slot_for_reference(an, pid, now);
    if (!slot)
        return;
    if ((slot->role & ROLE_ES) && slot->program == index + 1) {
        slot->stale = false;
        return;
    }
    /* Newly listed: its absence is timed from now. */
    slot->role |= ROLE_ES;
    slot->program = (uint8_t)(index + 1);
    slot->last_seen_us = now;
    slot->missing_counted = false;
    slot->stale = false;
}

static void on_pmt(ts_analyzer_t *an, uint8_t *pmt)
{
    uint64_t now = an->now_us;
    uint8_t table_id = psi_get_tableid(pmt);
    if (table_id != PMT_TABLE_ID) {
        if (table_id < 0x40)
            an->errors[TS_TR_PMT_ERROR]++;
        return;
    }
    if (!pmt_validate(pmt))
        return;
    size_t index = an->program_count;
    for (size_t i = 0; i < an->program_count; i++)
        if (an->programs[i].pmt_pid == an->cur_pid && an->programs[i].number == psi_get_tableidext(pmt))
            index = i;
    if (index == an->program_count)
        return; /* a program the PAT does not list */
    an_program_t *prog = &an->programs[index];
    absence(an, TS_TR_PMT_ERROR, prog->last_seen_us, &prog->missing_counted, now, an->pmt_timeout_us);
    prog->last_seen_us = now;
    prog->missing_counted = false;
    uint32_t crc = section_crc(pmt);
    if (prog->have_crc && prog->crc == crc)
        return;
    prog->have_crc = true;
    prog->crc = crc;

    for (size_t i = 0; i < an->pid_used; i++)
        an->pids[i].stale = (an->pids[i].role & ROLE_ES) && an->pids[i].program == index + 1;
    const uint8_t *es;
    for (uint8_t n = 0; (es = pmt_get_es(pmt, n)) != NULL; n++) {
        reference_stream(an, pmtn_get_pid(es), index, now);
        if (n == 255)
            break;
    }
    uint16_t pcr_pid = pmt_get_pcrpid(pmt);
    if (pcr_pid != TS_PID_NULL)
        reference_stream(an, pcr_pid, index, now);
    for (size_t i = 0; i < an->pid_used; i++) {
        an_pid_t *p = &an->pids[i];
        if (p->stale) {
            p->role &= (uint8_t)~(ROLE_ES | ROLE_PCR);
            p->program = 0;
            p->stale = false;
        } else if ((p->role & ROLE_ES) && p->program == index + 1) {
            bool named = p->pid == pcr_pid;
            if (named && !(p->role & ROLE_PCR))
                p->pcr_named_us = now;
            p->role = named ? (uint8_t)(p->role | ROLE_PCR) : (uint8_t)(p->role & ~ROLE_PCR);
        }
    }
}

static void on_section(void *opaque, const uint8_t *section, size_t len)
{
    ts_analyzer_t *an = opaque;
    (void)len;
    uint8_t s = an->slot_of[an->cur_pid];
    if (!s || s == SLOT_OTHERS)
        return;
    uint8_t role = an->pids[s - 1].role;
    /* biTStream's getters take non-const pointers but only read. */
    if (role & ROLE_PAT)
        on_pat(an, (uint8_t *)section);
    else if (role & ROLE_PMT)
        on_pmt(an, (uint8_t *)section);
}

/* ---- packets ------------------------------------------------------------ */

static void check_cc(ts_analyzer_t *an, an_pid_t *slot, const uint8_t *pkt, uint16_t pid, bool discontinuity)
{
    uint8_t cc = ts_get_cc(pkt);
    uint8_t last = an->cc[pid];
    if (!(last & CC_VALID) || discontinuity) {
        an->cc[pid] = CC_VALID | cc;
        return;
    }
    uint8_t last_cc = last & 0x0f;
    if (cc == ((last_cc + 1) & 0x0f)) {
        an->cc[pid] = CC_VALID | cc;
        return;
    }
    if (cc == last_cc && !(last & CC_REPEATED)) {
        an->cc[pid] = CC_VALID | CC_REPEATED | cc;  /* one duplicate is allowed */
        return;
    }
    /* Every further copy of a repeated packet is an error too. */
    an->cc[pid] = (uint8_t)(CC_VALID | cc | (cc == last_cc ? CC_REPEATED : 0));
    an->errors[TS_TR_CC_ERROR]++;
    if (slot)
        slot->cc_errors++;
}

static void check_pcr(ts_analyzer_t *an, an_pid_t *slot, const uint8_t *pkt, bool discontinuity, uint64_t now)
{
    uint64_t pcr = tsaf_get_pcr(pkt) * 300 + tsaf_get_pcrext(pkt);
    slot->has_pcr = true;
    if (slot->pcr_valid && !discontinuity) {
        /* Signed difference modulo the PCR's range. */
        uint64_t forward = (pcr + PCR_WRAP - slot->last_pcr) % PCR_WRAP;
        bool backwards = forward >= PCR_WRAP / 2;
        uint64_t pcr_us = forward / 27;
        uint64_t arrival_us = since(now, slot->last_pcr_us);
        uint64_t disagree = pcr_us > arrival_us ? pcr_us - arrival_us : arrival_us - pcr_us;
        bool jump = backwards || (pcr_us > an->pcr_interval_us && disagree > an->pcr_jump_us);
        if (jump)
            an->errors[TS_TR_PCR_DISCONTINUITY_ERROR]++;
        if ((jump ? arrival_us : pcr_us) > an->pcr_interval_us)
            an->errors[TS_TR_PCR_REPETITION_ERROR]++;
    }
    slot->pcr_valid = true;
    slot->last_pcr = pcr;
    slot->last_pcr_us = now;
}

static void check_pes(ts_analyzer_t *an, an_pid_t *slot, const uint8_t *p, size_t len, uint64_t now)
{
    if (len < PES_HEADER_SIZE_PTS || !pes_validate(p) || !pes_validate_header(p))
        return;
    uint8_t id = pes_get_streamid(p);
    if (id < 0xc0 || id > 0xef || !pes_has_pts(p))
        return;
    if (slot->pts_valid && since(now, slot->last_pts_us) > an->pts_interval_us)
        an->errors[TS_TR_PTS_ERROR]++;
    slot->pts_valid = true;
    slot->last_pts_us = now;
}

void ts_analyzer_packet(ts_analyzer_t *an, const uint8_t *pkt, uint64_t now)
{
    if (!an->started)
        start(an, now);
    if (now > an->now_us)
        an->now_us = now;
    now = an->now_us; /* never backwards */
    if (now >= an->next_scan_us) {
        scan(an, now);
        window(an, now); /* before counting: a window is [start, end) */
    }
    an->packets++;
    an->window_packets++;
    an->last_packet_us = now;

    if (!ts_validate(pkt)) { /* sync_byte is not 0x47 */
        an->errors[TS_TR_SYNC_BYTE_ERROR]++;
        an->good_run = 0;
        if (an->bad_run < SYNC_BAD_TO_LOSE && ++an->bad_run == SYNC_BAD_TO_LOSE && an->in_sync) {
            an->in_sync = false;
            an->errors[TS_TR_SYNC_LOSS]++;
        }
        return;
    }
    an->bad_run = 0;
    if (!an->in_sync && ++an->good_run >= SYNC_GOOD_TO_LOCK)
        an->in_sync = true;

    uint16_t pid = ts_get_pid(pkt);
    uint8_t s = an->slot_of[pid];
    an_pid_t *slot = NULL;
    if (s == 0)
        s = an->pid_used < TS_ANALYZE_MAX_PIDS ? (uint8_t)(slot_new(an, pid, now) - an->pids + 1) : SLOT_OTHERS;
    if (s == SLOT_OTHERS) {
        an->slot_of[pid] = SLOT_OTHERS;
        an->other_packets++;
        an->other_window_packets++;
    } else {
        slot = &an->pids[s - 1];
        slot->packets++;
        slot->window_packets++;
        if (slot->role & ROLE_ES) {
            absence(an, TS_TR_PID_ERROR, slot->last_seen_us, &slot->missing_counted, now, an->pid_timeout_us);
            slot->missing_counted = false;
        }
        slot->last_seen_us = now;
    }

    bool transport_error = ts_get_transporterror(pkt);
    if (transport_error)
        an->errors[TS_TR_TRANSPORT_ERROR]++;
    bool scrambled = ts_get_scrambling(pkt) != 0;
    if (scrambled) {
        an->scrambled_packets++;
        if (slot)
            slot->scrambled_packets++;
    }
    if (slot)
        slot->scrambled = scrambled;
    if (pid == TS_PID_NULL)
        return;

    bool has_af = ts_has_adaptation(pkt);
    size_t af_len = has_af ? ts_get_adaptation(pkt) : 0;
    bool has_payload = ts_has_payload(pkt);
    size_t payload = TS_HEADER_SIZE + (has_af ? 1 + af_len : 0);
    if (payload > TS_PACKET_SIZE || (has_payload && payload == TS_PACKET_SIZE))
        has_payload = false; /* impossible adaptation field length */
    bool discontinuity = !transport_error && af_len >= 1 && payload <= TS_PACKET_SIZE && tsaf_has_discontinuity(pkt);
    if (has_payload)
        check_cc(an, slot, pkt, pid, discontinuity);
    else if (discontinuity)
        an->cc[pid] = 0;  /* the next packet re-bases the counter */
    if (transport_error || !slot)
        return;

    if (af_len >= 7 && payload <= TS_PACKET_SIZE && tsaf_has_pcr(pkt))
        check_pcr(an, slot, pkt, discontinuity, now);
    else if (discontinuity)
        slot->pcr_valid = false;

    if (scrambled) {
        if (slot->role & ROLE_PAT)
            an->errors[TS_TR_PAT_ERROR]++;
        else if (slot->role & ROLE_PMT)
            an->errors[TS_TR_PMT_ERROR]++;
        return;
    }
    if (!has_payload)
        return;
    if (slot->psi) {
        an->cur_pid = pid;
        int bad = ts_section_push(&an->psi[slot->psi - 1].buf, pkt, on_section, an);
        an->errors[TS_TR_CRC_ERROR] += (uint64_t)bad;
    } else if (ts_get_unitstart(pkt)) {
        check_pes(an, slot, pkt + payload, TS_PACKET_SIZE - payload, now);
    }
}

/* ---- reading ------------------------------------------------------------ */

static int compare_pid(const void *a, const void *b)
{
    const ts_analysis_pid_t *x = a, *y = b;
    return (int)x->pid - (int)y->pid;
}

static void set_state(const ts_analyzer_t *an, ts_analysis_t *out)
{
    uint64_t now = an->now_us;
    out->state = TS_HEALTH_DOWN;
    if (!an->started) {
        snprintf(out->reason, sizeof(out->reason), "no packets");
        return;
    }
    uint64_t quiet = since(now, an->last_packet_us);
    if (quiet > 1000000) {
        snprintf(out->reason, sizeof(out->reason), "no packets for %.1f s", (double)quiet / 1e6);
        return;
    }
    if (!an->in_sync) {
        snprintf(out->reason, sizeof(out->reason), "no TS sync");
        return;
    }
    uint64_t pat_gap = since(now, an->pat_last_us);
    if (pat_gap > an->pat_timeout_us) {
        snprintf(out->reason, sizeof(out->reason), "PAT missing for %.1f s", (double)pat_gap / 1e6);
        return;
    }
    for (size_t i = 0; i < an->program_count; i++) {
        const an_program_t *p = &an->programs[i];
        uint64_t gap = since(now, p->last_seen_us);
        if (gap > an->pmt_timeout_us) {
            snprintf(out->reason, sizeof(out->reason), "PMT of program %u (PID %u) missing for %.1f s",
                     p->number, p->pmt_pid, (double)gap / 1e6);
            return;
        }
    }
    out->state = TS_HEALTH_DEGRADED;
    for (size_t i = 0; i < an->pid_used; i++) {
        const an_pid_t *p = &an->pids[i];
        uint64_t gap = since(now, p->last_seen_us);
        if ((p->role & ROLE_ES) && gap > an->pid_timeout_us) {
            snprintf(out->reason, sizeof(out->reason), "PID %u missing for %.1f s", p->pid, (double)gap / 1e6);
            return;
        }
    }
    /* A player cannot decode what is scrambled, nor pace what has no clock. */
    if (out->scrambled_pids) {
        snprintf(out->reason, sizeof(out->reason), "%zu PID%s scrambled", out->scrambled_pids,
                 out->scrambled_pids == 1 ? "" : "s");
        return;
    }
    if (out->pcr_gap_us > an->pcr_interval_us * 10) {
        snprintf(out->reason, sizeof(out->reason), "no PCR for %.1f s", (double)out->pcr_gap_us / 1e6);
        return;
    }
    for (int e = 0; e < TS_TR_COUNT; e++) {
        if (!out->recent[e])
            continue;
        if (e == TS_TR_CC_ERROR) {
            const an_pid_t *worst = NULL;
            for (size_t i = 0; i < an->pid_used; i++) {
                const an_pid_t *p = &an->pids[i];
                if (p->cc_errors > p->cc_mark[0] &&
                    (!worst || p->cc_errors - p->cc_mark[0] > worst->cc_errors - worst->cc_mark[0]))
                    worst = p;
            }
            if (worst) {
                snprintf(out->reason, sizeof(out->reason), "CC errors on PID %u", worst->pid);
                return;
            }
        }
        snprintf(out->reason, sizeof(out->reason), "%s x%llu", tr_errors[e].name,
                 (unsigned long long)out->recent[e]);
        return;
    }
    out->state = TS_HEALTH_OK;
    out->reason[0] = '\0';
}

void ts_analyzer_get(const ts_analyzer_t *an, ts_analysis_t *out)
{
    memset(out, 0, sizeof(*out));
    for (int e = 0; e < TS_TR_COUNT; e++) {
        out->errors[e] = an->errors[e];
        out->recent[e] = an->errors[e] - an->error_mark[0][e];
    }
    out->packets = an->packets;
    out->scrambled_packets = an->scrambled_packets;
    out->bitrate = an->bitrate;
    out->in_sync = an->in_sync;
    out->other_packets = an->other_packets;
    out->other_bitrate = an->other_bitrate;
    for (size_t i = 0; i < an->pid_used; i++) {
        const an_pid_t *p = &an->pids[i];
        if (!p->packets && !(p->role & (ROLE_PMT | ROLE_ES)))
            continue;
        ts_analysis_pid_t *o = &out->pids[out->pid_count++];
        o->pid = p->pid;
        o->referenced = (p->role & (ROLE_PMT | ROLE_ES)) != 0;
        o->pcr = p->has_pcr;
        o->scrambled = p->scrambled;
        o->packets = p->packets;
        o->cc_errors = p->cc_errors;
        o->scrambled_packets = p->scrambled_packets;
        o->bitrate = p->bitrate;
        /* (only PIDs a PMT lists: bytes that merely pass for TS, a flood,
         * must not leave a phantom scrambled PID behind) */
        out->scrambled_pids += p->scrambled && (p->role & ROLE_ES);
        uint64_t last_pcr = p->has_pcr ? p->last_pcr_us : 0;
        if ((p->role & ROLE_PCR) && p->pcr_named_us > last_pcr)
            last_pcr = p->pcr_named_us;
        uint64_t pcr_gap = since(an->now_us, last_pcr);
        if ((p->has_pcr || (p->role & ROLE_PCR)) && (p->role & ROLE_ES) && pcr_gap > out->pcr_gap_us)
            out->pcr_gap_us = pcr_gap;
    }
    qsort(out->pids, out->pid_count, sizeof(out->pids[0]), compare_pid);
    set_state(an, out);
}
