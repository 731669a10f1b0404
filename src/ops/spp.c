/*
 * Spatial pyramid pooling (spec §10.4, §0.8): checks a clpool_spp_desc
 * against a 2-D input and plans every level as adaptive bins of one launch of
 * kernels/adaptive_bins.cl, writing the (N, C * sum(n^2)) result directly
 * (levels in the order given, each as (C, n, n)).
 */
#include "adaptive.h"

#include <stdio.h>
#include <string.h>

/* Most bins per side of a level. */
#define LEVEL_MAX 65536

clpool_status spp_geometry(const clpool_context *ctx, const char *opname, const clpool_spp_desc *op,
                           const clpool_tensor_desc *in, adaptive_op *geo_out,
                           clpool_tensor_desc *out_desc, size_t *out_elems_out)
{
    clpool_op mode = op->op == 0 ? CLPOOL_OP_MAX : op->op;
    clpool_status status = adaptive_check_common(ctx, opname, mode, op->indices, in);
    if (status != CLPOOL_SUCCESS)
        return status;
    if (in->spatial_dims != 2)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: spatial_dims = %d, but the pyramid pools 2-D maps (it must be 2)",
                        opname, in->spatial_dims);
    if (op->level_count < 1 || op->level_count > CLPOOL_SPP_LEVELS_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: level_count = %d, but it must be between 1 and %d", opname,
                        op->level_count, CLPOOL_SPP_LEVELS_MAX);
    adaptive_op geo;
    memset(&geo, 0, sizeof geo);
    size_t positions = 0;
    for (int l = 0; l < op->level_count; l++) {
        int n = op->levels[l];
        if (n < 1 || n > LEVEL_MAX)
            return clp_fail(ctx, n < 1 ? CLPOOL_ERROR_OUTPUT_TOO_SMALL : CLPOOL_ERROR_INVALID_SHAPE,
                            "%s: levels[%d] = %d, but bins per side must be between 1 and %d",
                            opname, l, n, LEVEL_MAX);
        positions += (size_t)n * (size_t)n;
        geo.levels[l] = n;
    }
    size_t features = 0;
    if (clp_mul_overflow(positions, in->c, &features))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE, "%s: C * sum(n^2) overflows size_t",
                        opname);
    geo.op = mode;
    geo.dtype = in->dtype;
    geo.layout = in->layout;
    geo.channels = in->c;
    geo.indices = op->indices;
    geo.level_count = op->level_count;
    geo.positions = positions;
    geo.in[0] = geo.out[0] = 1;
    geo.in[1] = (int)in->spatial[0];
    geo.in[2] = (int)in->spatial[1];
    geo.out[1] = geo.out[2] = 1; /* per level: the kernel takes the levels */

    clpool_tensor_desc out;
    memset(&out, 0, sizeof out);
    out.dtype = in->dtype;
    out.layout = CLPOOL_NCHW;
    out.spatial_dims = 1;
    out.n = in->n;
    out.c = features;
    out.spatial[0] = 1;
    size_t out_elems = clpool_tensor_elements(&out);
    if (out_elems == 0 && out.n > 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: the output's element count overflows size_t", opname);

    *geo_out = geo;
    *out_desc = out;
    *out_elems_out = out_elems;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_plan_spp(clpool_context *ctx, const clpool_spp_desc *op,
                              const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !op || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_plan_spp: %s is NULL",
                        !ctx  ? "context"
                        : !op ? "op"
                        : !in ? "input"
                              : "plan");
    const char *opname = "spatial pyramid pooling";
    adaptive_op geo;
    clpool_tensor_desc out;
    size_t out_elems = 0;
    clpool_status status = spp_geometry(ctx, opname, op, in, &geo, &out, &out_elems);
    if (status != CLPOOL_SUCCESS)
        return status;
    clpool_plan *p = NULL;
    status = clp_plan_new(ctx, &spp_family, &p);
    if (status != CLPOOL_SUCCESS)
        return status;
    p->input = *in;
    p->output = out;
    status = adaptive_plan_bins(ctx, p, &geo, in, out_elems);
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    *plan = p;
    return CLPOOL_SUCCESS;
}
