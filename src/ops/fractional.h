/*
 * What the fractional max pooling files share (src/ops/fractional.c, the
 * forward, and src/ops/fractional_backward.c, its gradient): the plan
 * geometry and the checks of the descriptor.
 */
#ifndef CLPOOL_OPS_FRACTIONAL_H
#define CLPOOL_OPS_FRACTIONAL_H

#include "internal.h"

typedef struct fractional_op {
    clpool_dtype dtype;
    int nd;
    int in[3], out[3], k[3]; /* depth, height, width; unit depth for 2-D */
    double alpha[3];         /* already rounded to float for non-float64 inputs */
    size_t channels, unit_size;
    int samples_given, has_indices;
    uint64_t seed;
} fractional_op;

/* Checks @p f against @p in exactly as clpool_plan_fractional() does and
 * gives the geometry (unit_size counts the forward's output per unit) and
 * the output's descriptor. */
clpool_status clp_fractional_validate(const clpool_context *ctx, const clpool_fractional_desc *f,
                                      const clpool_tensor_desc *in, fractional_op *geo,
                                      clpool_tensor_desc *out);

#endif /* CLPOOL_OPS_FRACTIONAL_H */
