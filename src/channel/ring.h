// SPDX-License-Identifier: MIT
// ring.h -- private to channel/: the ring of shared blocks a channel writes
// once and every viewer reads.
//
// Invariants:
//  - Bytes are addressed by an absolute position that only grows. A block
//    holds RING_BLOCK_SIZE bytes (a whole number of TS packets) and block
//    number s covers [s * RING_BLOCK_SIZE, (s + 1) * RING_BLOCK_SIZE).
//  - The ring keeps blocks first_seq..current->seq; older ones are released
//    (a reader's in-flight write may still hold them by reference).
//  - Keyframes are remembered by position, each with the PAT/PMT packets
//    last seen before it, so a reader can start there with a clean picture.
#ifndef ANTENNE_CHANNEL_RING_H
#define ANTENNE_CHANNEL_RING_H

#include "core/core.h"
#include "ts/ts.h"

#define RING_BLOCK_SIZE (TS_PACKET_SIZE * 348u) /* 65424 bytes */
#define RING_KEYFRAMES 64
#define RING_PSI_MAX (TS_PACKET_SIZE * 4u)

typedef struct ring_keyframe {
    uint64_t pos;
    block_t *psi;  /* PAT + PMT packets to send before pos; owned */
    bool complete; /* the next picture has started: the keyframe is whole */
} ring_keyframe_t;

typedef struct ring {
    block_t **slots;
    size_t slot_count;
    uint64_t first_seq;
    block_t *current;        /* block being written, also in slots */
    ring_keyframe_t keyframes[RING_KEYFRAMES];
    unsigned keyframe_count;
    unsigned keyframe_next;  /* where the next one is stored */
} ring_t;

/* Keeps at least max_bytes of history. Returns 0 or -ENOMEM. */
int ring_init(ring_t *ring, size_t max_bytes);
void ring_clear(ring_t *ring);
/* Appends whole packets (len a multiple of 188). Returns 0 or -ENOMEM. */
int ring_append(ring_t *ring, const uint8_t *data, size_t len);
/* Absolute position of the next byte to be written. */
uint64_t ring_end(const ring_t *ring);
/* Position of the oldest byte still in the ring. */
uint64_t ring_start(const ring_t *ring);
/* The block holding pos (borrowed), or NULL if it has left the ring. */
block_t *ring_block_at(const ring_t *ring, uint64_t pos);
/* Records a keyframe at pos with the PSI that precedes it (copied).
 * Returns 0 or -ENOMEM. */
int ring_add_keyframe(ring_t *ring, uint64_t pos, const uint8_t *psi, size_t psi_len);
/* The next video PES began: the newest keyframe is now whole. */
void ring_keyframe_completed(ring_t *ring);
/* The newest whole keyframe still inside the ring (else the newest one), so
 * a new reader gets a complete picture at once; NULL when there is none. */
const ring_keyframe_t *ring_newest_keyframe(const ring_t *ring);
/* Forgets keyframes (a new source starts with different PIDs). */
void ring_forget_keyframes(ring_t *ring);

#endif
