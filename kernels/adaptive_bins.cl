/*
 * adaptive_bins.cl: adaptive max/avg pooling (spec section 4) and spatial
 * pyramid pooling (section 10.4) of bins of up to a few thousand cells
 * (larger ones take adaptive_tree.cl, a work-group per bin). A work-item
 * scans each of its bins in row-major order:
 *   PER_PLANE 0  one output element per work-item (GPUs: neighbouring
 *                work-items read neighbouring cells or planes);
 *   PER_PLANE 1  every output of one plane (every level of a pyramid) per
 *                work-item (CPUs: the bin bounds follow from loop counters,
 *                with no index divisions per output).
 *
 * Max follows section 2 (the first maximum wins, NaN propagates with the
 * index of the last NaN). Avg sums each bin row, then adds the row sums
 * (error about W + rows units, not W * rows), and divides by the bin's cell
 * count; integer dtypes sum exactly and divide with C division.
 *
 * Macros: those of adaptive_common.cl, and SPP (1: the output is a spatial
 * pyramid whose levels are a kernel argument, see below), PER_PLANE.
 */
#include "adaptive_common.cl"

#ifndef SPP
#define SPP 0
#endif
#ifndef PER_PLANE
#define PER_PLANE 0
#endif

/* Reduces bin [z0,z1) x [y0,y1) x [x0,x1) of the plane at src (cells step
 * apart) and stores the result (and its index) at element o. */
inline void pool_bin(__global const data_t *src, ulong step, long H, long W, long z0, long z1,
                     long y0, long y1, long x0, long x1, __global data_t *out,
                     __global INDEX_T *indices, ulong o, ulong idx_off)
{
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
    STORE1(m, out + o);
#if HAS_INDICES
    indices[idx_off + o] = (INDEX_T)best;
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
    STORE1((real_t)(total / cells), out + o);
#else
    STORE1(total / (real_t)cells, out + o);
#endif
#endif
}

/* Arguments:
 *   run    (input, output and indices offsets in elements, the launch's first
 *          output element (PER_PLANE: first plane n*C + c), its work-item
 *          count, C, S = output positions per plane (spp: sum of n^2 over the
 *          levels), unused)
 *   shape  (D, H, W, OD, OH, OW, unused, unused); 1-D and 2-D tensors have
 *          unit outer dimensions
 *   levels spp: bins per side of each level, in output order, 0 after the
 *          last level.
 * Adaptive output position k of plane (n, c) is at out[(n*C + c)*S + k]
 * (NCHW) or out[(n*S + k)*C + c] (NHWC), as the input. A pyramid's sample n
 * holds its levels one after the other, level l as (C, n_l, n_l): NCHW order
 * whatever the input's layout. */
__kernel void adaptive_bins(__global const data_t *restrict in, __global data_t *restrict out,
                            __global INDEX_T *restrict indices, ulong8 run, int8 shape,
                            int8 levels)
{
    const ulong gid = get_global_id(0);
    if (gid >= run.s4)
        return;
    const ulong C = run.s5, S = run.s6;
    const long D = shape.s0, H = shape.s1, W = shape.s2;
    __global data_t *dst = out + run.s1;
    ulong n, c, step;
#if SPP
    const int level_bins[8] = {levels.s0, levels.s1, levels.s2, levels.s3,
                               levels.s4, levels.s5, levels.s6, levels.s7};
#endif
#if PER_PLANE
    const ulong plane = run.s3 + gid;
    n = plane / C;
    c = plane - n * C;
    __global const data_t *src = in + run.s0 + plane_base(n, c, C, (ulong)(D * H * W), &step);
#if SPP
    ulong before = 0; /* positions of the earlier levels */
    for (int l = 0; l < 8 && level_bins[l] > 0; l++) {
        const long nb = level_bins[l];
        ulong o = n * C * S + before * C + c * (ulong)(nb * nb);
        for (long iy = 0; iy < nb; iy++) {
            const long y0 = bin_start(iy, H, nb), y1 = bin_end(iy, H, nb);
            for (long ix = 0; ix < nb; ix++, o++)
                pool_bin(src, step, H, W, 0, 1, y0, y1, bin_start(ix, W, nb), bin_end(ix, W, nb),
                         dst, indices, o, run.s2);
        }
        before += (ulong)(nb * nb);
    }
#else
    const long OD = shape.s3, OH = shape.s4, OW = shape.s5;
#if NHWC
    ulong o = n * S * C + c;
    const ulong o_step = C;
#else
    ulong o = plane * S;
    const ulong o_step = 1;
#endif
    for (long iz = 0; iz < OD; iz++) {
        const long z0 = bin_start(iz, D, OD), z1 = bin_end(iz, D, OD);
        for (long iy = 0; iy < OH; iy++) {
            const long y0 = bin_start(iy, H, OH), y1 = bin_end(iy, H, OH);
            for (long ix = 0; ix < OW; ix++, o += o_step)
                pool_bin(src, step, H, W, z0, z1, y0, y1, bin_start(ix, W, OW),
                         bin_end(ix, W, OW), dst, indices, o, run.s2);
        }
    }
#endif
#else /* one output per work-item */
    ulong k;
    locate_output(run.s3 + gid, C, S, &n, &c, &k);
    __global const data_t *src = in + run.s0 + plane_base(n, c, C, (ulong)(D * H * W), &step);
#if SPP
    /* Items of one sample follow the input layout: (c, k) in NCHW, (k, c) in
     * NHWC, so neighbouring work-items read neighbouring planes or cells. */
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
    const long iy = (long)(kk / (ulong)nb), ix = (long)(kk % (ulong)nb);
    pool_bin(src, step, H, W, 0, 1, bin_start(iy, H, nb), bin_end(iy, H, nb), bin_start(ix, W, nb),
             bin_end(ix, W, nb), dst, indices, n * C * S + before * C + c * (ulong)(nb * nb) + kk,
             run.s2);
#else
    const long OD = shape.s3, OH = shape.s4, OW = shape.s5;
    const long iz = (long)(k / (ulong)(OH * OW)), iy = (long)(k / (ulong)OW % (ulong)OH),
               ix = (long)(k % (ulong)OW);
    pool_bin(src, step, H, W, bin_start(iz, D, OD), bin_end(iz, D, OD), bin_start(iy, H, OH),
             bin_end(iy, H, OH), bin_start(ix, W, OW), bin_end(ix, W, OW), dst, indices,
             run.s3 + gid, run.s2);
#endif
#endif
}
