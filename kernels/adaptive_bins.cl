/*
 * adaptive_bins.cl: adaptive max/avg pooling (spec section 4) and spatial pyramid
 * pooling (section 10.4), one output element per work-item: the work-item scans its
 * bin in row-major order. Used for bins of up to a few thousand cells
 * (larger ones take adaptive_tree.cl, a work-group per bin).
 *
 * Max follows spec section 2 (the first maximum wins, NaN propagates with the index
 * of the last NaN). Avg sums each bin row, then adds the row sums (error
 * about W + rows units, not W * rows), and divides by the bin's cell count;
 * integer dtypes sum exactly and divide with C division.
 *
 * Macros: those of adaptive_common.cl, and SPP (1: the output is a spatial
 * pyramid whose levels are a kernel argument, see below).
 */
#include "adaptive_common.cl"

#ifndef SPP
#define SPP 0
#endif

/* Arguments:
 *   run    (input, output and indices offsets in elements, the launch's first
 *          output element, its work-item count, C, S = output positions per
 *          plane (spp: sum of n^2 over the levels), unused)
 *   shape  (D, H, W, OD, OH, OW, unused, unused); 1-D and 2-D tensors have
 *          unit outer dimensions
 *   levels spp: bins per side of each level, in output order, 0 after the
 *          last level.
 * Adaptive output element g is at out[g] (NCHW or NHWC order, as the
 * input). A pyramid's sample n holds its levels one after the other, level
 * l as (C, n_l, n_l): NCHW order whatever the input's layout. */
__kernel void adaptive_bins(__global const data_t *restrict in, __global data_t *restrict out,
                            __global INDEX_T *restrict indices, ulong8 run, int8 shape,
                            int8 levels)
{
    const ulong gid = get_global_id(0);
    if (gid >= run.s4)
        return;
    const ulong C = run.s5, S = run.s6;
    const long D = shape.s0, H = shape.s1, W = shape.s2;
    ulong n, c, k;
#if SPP
    /* Items of one sample follow the input layout: (c, k) in NCHW, (k, c) in
     * NHWC, so neighbouring work-items read neighbouring planes or cells. */
    locate_output(run.s3 + gid, C, S, &n, &c, &k);
    const int level_bins[8] = {levels.s0, levels.s1, levels.s2, levels.s3,
                               levels.s4, levels.s5, levels.s6, levels.s7};
    ulong before = 0; /* positions of the earlier levels */
    long nb = level_bins[0];
    for (int l = 0; l < 8; l++) { /* k < S: the loop stops at k's level */
        nb = level_bins[l];
        const ulong count = (ulong)(nb * nb);
        if (k < before + count)
            break;
        before += count;
    }
    const ulong kk = k - before;
    const long OD = 1, OH = nb, OW = nb;
    const long iz = 0, iy = (long)(kk / (ulong)nb), ix = (long)(kk % (ulong)nb);
    const ulong o = n * C * S + before * C + c * (ulong)(nb * nb) + kk;
#else
    const ulong o = run.s3 + gid;
    locate_output(o, C, S, &n, &c, &k);
    const long OD = shape.s3, OH = shape.s4, OW = shape.s5;
    const long iz = (long)(k / (ulong)(OH * OW)), iy = (long)(k / (ulong)OW % (ulong)OH),
               ix = (long)(k % (ulong)OW);
#endif
    const long z0 = bin_start(iz, D, OD), z1 = bin_end(iz, D, OD);
    const long y0 = bin_start(iy, H, OH), y1 = bin_end(iy, H, OH);
    const long x0 = bin_start(ix, W, OW), x1 = bin_end(ix, W, OW);
    ulong step;
    const ulong base = plane_base(n, c, C, (ulong)(D * H * W), &step);
    __global const data_t *src = in + run.s0 + base;

#if POOL_OP == 1
    real_t m = -INFINITY;
    long best = (z0 * H + y0) * W + x0;
    for (long z = z0; z < z1; z++)
        for (long y = y0; y < y1; y++) {
            const long row = (z * H + y) * W;
            for (long x = x0; x < x1; x++) {
                const real_t v = LOAD1(src + (ulong)(row + x) * step);
                if (v > m || isnan(v)) {
                    m = v;
                    best = row + x;
                }
            }
        }
    STORE1(m, out + run.s1 + o);
#if HAS_INDICES
    indices[run.s2 + o] = (INDEX_T)best;
#endif
#else
    acc_t total = 0;
    for (long z = z0; z < z1; z++)
        for (long y = y0; y < y1; y++) {
            const long row = (z * H + y) * W;
            acc_t row_sum = 0;
            for (long x = x0; x < x1; x++)
                row_sum += TO_ACC(LOAD1(src + (ulong)(row + x) * step));
            total += row_sum;
        }
    const long cells = (z1 - z0) * (y1 - y0) * (x1 - x0);
#if IS_INTEGER
    STORE1((real_t)(total / cells), out + run.s1 + o);
#else
    STORE1(total / (real_t)cells, out + run.s1 + o);
#endif
#endif
}
