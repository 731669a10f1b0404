/*
 * What the window family's forward (window.c) and backward
 * (window_backward.c) plans share: the checked geometry of a
 * clpool_window_desc over an input, and the one validation both run, so a
 * gradient plan accepts exactly the descriptors its forward plan accepts.
 */
#ifndef CLPOOL_OPS_WINDOW_GEOMETRY_H
#define CLPOOL_OPS_WINDOW_GEOMETRY_H

#include "internal.h"

typedef struct window_op {
    clpool_op op;
    clpool_dtype dtype;
    int k[3], s[3], p[3], d[3]; /* depth, height, width; unit for absent dims */
    int in[3], out[3];
    int chunks, xr;  /* window_pool row split: chunks per row, outputs whose
                      * windows end inside the row */
    int column_rows; /* > 0: the column variant (window_pool, or window_lanes'
                      * lanes_columns), output rows per work-item */
    size_t in_elems;
    /* window_lanes: lane groups per output row (NCHW) or position (NHWC),
     * channels, the operator's parameters and the generator seed. */
    int groups;
    int row_parts; /* NHWC on CPUs: work-items per output row */
    size_t channels;
    double power, alpha, beta;
    uint64_t seed;
    uint64_t first_plane; /* first_sample * C: the generator's plane of plane 0 */
} window_op;

/* "max pooling", "avg pooling", ...; NULL for a value that is no window op. */
const char *clp_window_op_name(clpool_op op);

/* Checks @p w against @p in (spec §0, §1; the header's rules per operator)
 * and fills @p geo (3-D geometry, absent outer dims unit, the operator's
 * parameters). Logs the one sentence of a failure. @p w->op must be a
 * window operator (clp_window_op_name not NULL). */
clpool_status clp_window_validate(const clpool_context *ctx, const clpool_window_desc *w,
                                  const clpool_tensor_desc *in, window_op *geo);

/* True when work-items should take whole rows (CPUs; $CLPOOL_TUNE_ROWS). */
int clp_window_row_items(const clpool_context *ctx);

/* Sets the three arguments of a window_lanes.cl or window_backward.cl kernel
 * that follow its buffers, from argument @p first on: the shape (int8: in,
 * out, lane groups, then column_rows or row_parts), the operator's
 * parameters (p, 1/p, alpha, beta, as double4 for float64 and float4
 * otherwise) and the generator's first plane. */
cl_int clp_window_set_lanes_params(cl_kernel kernel, cl_uint first, const window_op *g);

#endif /* CLPOOL_OPS_WINDOW_GEOMETRY_H */
