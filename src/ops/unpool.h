/*
 * What the max unpooling files share (src/ops/unpool.c, the forward, and
 * src/ops/unpool_backward.c, its gradient): the plan geometry, the checks of
 * the descriptor and of host indices.
 */
#ifndef CLPOOL_OPS_UNPOOL_H
#define CLPOOL_OPS_UNPOOL_H

#include "internal.h"

typedef struct unpool_op {
    int nd;
    clpool_layout layout;
    size_t in_plane, out_plane, channels;
    size_t in_units, in_unit_size, out_unit_size; /* launches cover units */
    clpool_index_type index_type;
    int serial;        /* 1: the serial strategy (scatter), 0: winners */
    int channel_group; /* serial NHWC: channels per work-item */
} unpool_op;

/* Checks @p u against the pooled input @p in exactly as clpool_plan_unpool()
 * does and gives the unpooled tensor's descriptor and both plane sizes. */
clpool_status clp_unpool_validate(const clpool_context *ctx, const clpool_unpool_desc *u,
                                  const clpool_tensor_desc *in, clpool_tensor_desc *out_desc,
                                  size_t *in_plane, size_t *out_plane);

/* Checks every host index of a plan whose op is an unpool_op:
 * CLPOOL_ERROR_INVALID_INDICES naming the first one outside its plane. */
clpool_status clp_unpool_scan_indices(const clpool_plan *plan, const void *indices);

#endif /* CLPOOL_OPS_UNPOOL_H */
