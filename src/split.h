/*
 * Internal declarations of a batch split over several devices (split.c,
 * split_host.c): the split object, one ordinary plan per part.
 */
#ifndef CLPOOL_SPLIT_H
#define CLPOOL_SPLIT_H

#include "internal.h"

/* One part: samples [first, first + n) of the batch, planned on ctx. */
typedef struct clp_split_part {
    clpool_context *ctx;
    size_t first;
    size_t n;
    clpool_plan *plan; /* a plan of n samples, owned by the split */
} clp_split_part;

struct clpool_split {
    clpool_tensor_desc input;  /* the whole batch */
    clpool_tensor_desc output; /* the whole batch */
    size_t part_count;
    clp_split_part *parts;
};

/* Elements of binding @p b per sample of a part of @p n samples (0 when n is
 * 0). Every tensor a window plan binds is n samples of equal size. */
static inline size_t clp_binding_per_sample(const clp_binding *b, size_t n)
{
    return n ? b->elements / n : 0;
}

/* The clpool_io slot of binding @p b in @p io. */
static inline clpool_buffer *clp_io_slot(clpool_io *io, const clp_binding *b)
{
    return (clpool_buffer *)(void *)((char *)io + b->io_offset);
}

#endif /* CLPOOL_SPLIT_H */
