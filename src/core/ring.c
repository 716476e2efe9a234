// SPDX-License-Identifier: MIT
// ring.c -- a channel's history as a circular list of shared blocks and the
// keyframes inside it (invariants in core.h).
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ring_init(ring_t *ring, size_t max_bytes)
{
    memset(ring, 0, sizeof(*ring));
    /* +2: the block being written and one that readers may be finishing. */
    ring->slot_count = max_bytes / RING_BLOCK_SIZE + 2;
    ring->slots = calloc(ring->slot_count, sizeof(*ring->slots));
    if (!ring->slots)
        return -ENOMEM;
    ring->current = block_new(RING_BLOCK_SIZE, 0);
    if (!ring->current) {
        free(ring->slots);
        ring->slots = NULL;
        return -ENOMEM;
    }
    ring->slots[0] = ring->current;
    return 0;
}

void ring_forget_keyframes(ring_t *ring)
{
    for (unsigned i = 0; i < RING_KEYFRAMES; i++) {
        block_unref(ring->keyframes[i].psi);
        ring->keyframes[i].psi = NULL;
    }
    ring->keyframe_count = 0;
    ring->keyframe_next = 0;
}

void ring_clear(ring_t *ring)
{
    if (!ring->slots)
        return;
    ring_forget_keyframes(ring);
    for (size_t i = 0; i < ring->slot_count; i++)
        block_unref(ring->slots[i]);
    free(ring->slots);
    ring->slots = NULL;
    ring->current = NULL;
}

uint64_t ring_end(const ring_t *ring)
{
    return ring->current->seq * RING_BLOCK_SIZE + ring->current->size;
}

uint64_t ring_start(const ring_t *ring) { return ring->first_seq * RING_BLOCK_SIZE; }

block_t *ring_block_at(const ring_t *ring, uint64_t pos)
{
    uint64_t seq = pos / RING_BLOCK_SIZE;
    if (seq < ring->first_seq || seq > ring->current->seq)
        return NULL;
    return ring->slots[seq % ring->slot_count];
}

static int ring_next_block(ring_t *ring)
{
    uint64_t seq = ring->current->seq + 1;
    block_t *block = block_new(RING_BLOCK_SIZE, seq);
    if (!block)
        return -ENOMEM;
    size_t slot = seq % ring->slot_count;
    if (ring->slots[slot]) {
        /* The slot holds the oldest block: it leaves the ring now. */
        block_unref(ring->slots[slot]);
        ring->first_seq++;
    }
    ring->slots[slot] = block;
    ring->current = block;
    return 0;
}

int ring_append(ring_t *ring, const uint8_t *data, size_t len)
{
    while (len) {
        if (ring->current->size == RING_BLOCK_SIZE) {
            int rc = ring_next_block(ring);
            if (rc < 0)
                return rc;
        }
        size_t room = RING_BLOCK_SIZE - ring->current->size;
        size_t n = len < room ? len : room;
        memcpy(ring->current->data + ring->current->size, data, n);
        ring->current->size += (uint32_t)n;
        data += n;
        len -= n;
    }
    return 0;
}

block_t *ring_add_keyframe(ring_t *ring, uint64_t pos, const uint8_t *psi, size_t psi_len)
{
    if (psi_len > RING_PSI_MAX)
        psi_len = RING_PSI_MAX;
    block_t *copy = block_new((uint32_t)psi_len, 0);
    if (!copy)
        return NULL;
    memcpy(copy->data, psi, psi_len);
    copy->size = (uint32_t)psi_len;
    ring_keyframe_t *kf = &ring->keyframes[ring->keyframe_next];
    block_unref(kf->psi);
    kf->pos = pos;
    kf->psi = copy;
    kf->complete = false;
    ring->keyframe_next = (ring->keyframe_next + 1) % RING_KEYFRAMES;
    if (ring->keyframe_count < RING_KEYFRAMES)
        ring->keyframe_count++;
    return copy;
}

void ring_keyframe_completed(ring_t *ring)
{
    if (ring->keyframe_count)
        ring->keyframes[(ring->keyframe_next + RING_KEYFRAMES - 1) % RING_KEYFRAMES].complete = true;
}

const ring_keyframe_t *ring_newest_keyframe(const ring_t *ring)
{
    const ring_keyframe_t *fallback = NULL;
    for (unsigned i = 1; i <= ring->keyframe_count && i <= 2; i++) {
        const ring_keyframe_t *kf = &ring->keyframes[(ring->keyframe_next + RING_KEYFRAMES - i) % RING_KEYFRAMES];
        if (kf->pos < ring_start(ring))
            break;
        if (kf->complete)
            return kf;
        if (!fallback)
            fallback = kf;
    }
    return fallback;
}
