// SPDX-License-Identifier: MIT
// block.c -- reference-counted byte blocks shared between a channel's readers.
#include "core/core.h"

#include <assert.h>
#include <stdlib.h>

block_t *block_new(uint32_t capacity, uint64_t seq)
{
    block_t *block = malloc(sizeof(*block) + capacity);
    if (!block)
        return NULL;
    block->refs = 1;
    block->size = 0;
    block->capacity = capacity;
    block->seq = seq;
    return block;
}

block_t *block_ref(block_t *block)
{
    block->refs++;
    return block;
}

void block_unref(block_t *block)
{
    if (!block)
        return;
    assert(block->refs > 0);
    if (--block->refs == 0)
        free(block);
}
