/*
 * What the adaptive pooling files share (src/ops/adaptive.c, src/ops/spp.c):
 * the geometry of an adaptive or pyramid plan and the planner of the
 * one-work-item-per-output kernel (kernels/adaptive_bins.cl) both use.
 */
#ifndef CLPOOL_OPS_ADAPTIVE_H
#define CLPOOL_OPS_ADAPTIVE_H

#include "internal.h"

typedef struct adaptive_op {
    clpool_op op;
    clpool_dtype dtype;
    clpool_layout layout;
    int in[3], out[3]; /* depth, height, width; unit for absent dimensions */
    size_t channels;
    size_t positions;      /* output positions per plane (spp: sum of n^2) */
    size_t items_per_unit; /* work-items per scheduler unit: planes (NCHW) or samples (NHWC) */
    int levels[CLPOOL_SPP_LEVELS_MAX]; /* spp: bins per side, in output order */
    int level_count;                   /* spp: levels used; 0 for adaptive plans */
    clpool_index_type indices;
} adaptive_op;

/* The plan families of kernels/adaptive_bins.cl: adaptive pooling and the
 * spatial pyramid (one kernel, two names in messages). */
extern const clp_family adaptive_bins_family;
extern const clp_family spp_family;

/* Checks what every adaptive-family plan needs of its input (rank, dtype,
 * layout, sizes, the device's float64) and of op/indices; logs as @p opname. */
clpool_status adaptive_check_common(const clpool_context *ctx, const char *opname, clpool_op op,
                                    clpool_index_type indices, const clpool_tensor_desc *in);

/* Checks an adaptive descriptor against @p in as clpool_plan_adaptive()
 * does (logging as @p opname) and gives its geometry, output descriptor and
 * output element count; shared with the gradient plans. */
clpool_status adaptive_geometry(const clpool_context *ctx, const char *opname,
                                const clpool_adaptive_desc *op, const clpool_tensor_desc *in,
                                adaptive_op *geo, clpool_tensor_desc *out, size_t *out_elems);

/* The same for a spatial pyramid (clpool_plan_spp()): geo->levels and
 * level_count set, geo->out unit, the (N, C*sum(n^2), 1) NCHW output. */
clpool_status spp_geometry(const clpool_context *ctx, const char *opname, const clpool_spp_desc *op,
                           const clpool_tensor_desc *in, adaptive_op *geo, clpool_tensor_desc *out,
                           size_t *out_elems);

/* Plans kernels/adaptive_bins.cl for @p geo (copied) on @p in into @p p
 * (made with one of the families above, its output shape set): binds the
 * input, @p out_elems outputs and, when asked, as many indices. */
clpool_status adaptive_plan_bins(clpool_context *ctx, clpool_plan *p, const adaptive_op *geo,
                                 const clpool_tensor_desc *in, size_t out_elems);

#endif /* CLPOOL_OPS_ADAPTIVE_H */
