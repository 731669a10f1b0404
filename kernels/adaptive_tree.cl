/*
 * adaptive_tree.cl: adaptive (and global) max/avg pooling of large bins, one
 * work-group per output element, reduced as a tree (spec section 11: a sum's error
 * grows like log2 of the bin size, not like the bin size).
 *
 * The bin is cut into units of at most SEG cells that lie in one row of
 * contiguous flat indices (rows of full-width bins join, so a whole NCHW
 * plane is one row). Work-item l takes units l, l + L, l + 2L, ... (GPUs:
 * neighbouring work-items read neighbouring units) or, with CONTIG_UNITS,
 * the l-th of L consecutive runs of units (CPUs, which run a work-group's
 * work-items one after another: the whole group then streams through the
 * bin in address order). A unit is
 * summed with VW-wide vector loads (NCHW) into VW lanes that are then added
 * pairwise, unit sums are merged in a binary cascade (a sum of 2^j units is
 * only added to another of 2^j units), and the work-items' results meet in a
 * pairwise tree in local memory. Max merges (value, flat index) pairs with
 * max_takes(), which reproduces spec section 2's row-major scan. Integer dtypes sum
 * exactly.
 *
 * Macros: those of adaptive_common.cl, and VW (1, 2, 4, 8 or 16: vector
 * width of NCHW unit loads), SEG (cells per unit, a multiple of VW),
 * CONTIG_UNITS (see above).
 */
#include "adaptive_common.cl"

#ifndef VW
#define VW 8
#endif
#ifndef SEG
#define SEG 256
#endif
#ifndef CONTIG_UNITS
#define CONTIG_UNITS 0
#endif

#if VW > 1
typedef CAT(REAL, VW) VT;
#endif

/* The sum of a vector's lanes, halves added pairwise. */
#if VW == 16
#define LANE_SUM(v) lane_sum8((v).lo + (v).hi)
#elif VW == 8
#define LANE_SUM(v) lane_sum8(v)
#elif VW == 4
#define LANE_SUM(v) lane_sum4(v)
#elif VW == 2
#define LANE_SUM(v) ((v).lo + (v).hi)
#elif VW != 1
#error "VW must be 1, 2, 4, 8 or 16"
#endif
#if VW >= 4
inline real_t lane_sum4(CAT(REAL, 4) v)
{
    const CAT(REAL, 2) h = v.lo + v.hi;
    return h.lo + h.hi;
}
#endif
#if VW >= 8
inline real_t lane_sum8(CAT(REAL, 8) v)
{
    return lane_sum4(v.lo + v.hi);
}
#endif

/* Arguments:
 *   run    (input, output and indices offsets in elements, the launch's first
 *          output element, C, S = output positions per plane, unused x2)
 *   shape  (D, H, W, OD, OH, OW, unused, unused)
 *   sums   local: one partial sum per work-item (avg)
 *   vals, idxs  local: one partial (value, index) per work-item (max)
 * Output element g (memory order of the output) is computed by work-group
 * g - run.s3 of the launch. */
__kernel void adaptive_tree(__global const data_t *restrict in, __global data_t *restrict out,
                            __global INDEX_T *restrict indices, ulong8 run, int8 shape,
                            __local acc_t *sums, __local real_t *vals, __local long *idxs)
{
    const uint lid = get_local_id(0), L = get_local_size(0);
    const ulong o = run.s3 + get_group_id(0);
    const ulong C = run.s4, S = run.s5;
    const long D = shape.s0, H = shape.s1, W = shape.s2;
    const long OD = shape.s3, OH = shape.s4, OW = shape.s5;
    ulong n, c, k;
    locate_output(o, C, S, &n, &c, &k);
    const long iz = (long)(k / (ulong)(OH * OW)), iy = (long)(k / (ulong)OW % (ulong)OH),
               ix = (long)(k % (ulong)OW);
    const long z0 = bin_start(iz, D, OD), z1 = bin_end(iz, D, OD);
    const long y0 = bin_start(iy, H, OH), y1 = bin_end(iy, H, OH);
    const long x0 = bin_start(ix, W, OW), x1 = bin_end(ix, W, OW);
    ulong step;
    const ulong base = plane_base(n, c, C, (ulong)(D * H * W), &step);
    __global const data_t *src = in + run.s0 + base;

    /* Rows of contiguous flat indices: whole planes, whole-width slabs, or
     * the bin's own rows. */
    const long bh = y1 - y0;
    long rows, row_len;
    int joined;
    if (x0 == 0 && x1 == W && y0 == 0 && y1 == H) {
        joined = 2;
        rows = 1;
        row_len = (z1 - z0) * H * W;
    } else if (x0 == 0 && x1 == W) {
        joined = 1;
        rows = z1 - z0;
        row_len = bh * W;
    } else {
        joined = 0;
        rows = (z1 - z0) * bh;
        row_len = x1 - x0;
    }
    const long segs = (row_len + SEG - 1) / SEG;
    const long units = rows * segs;

#if POOL_OP == 1
    real_t m = -INFINITY;
    long mq = -1;
#elif IS_INTEGER
    acc_t total = 0;
#else
    acc_t stack[40]; /* stack[j]: a sum of 2^j units, when bit j of done is set */
    uint done = 0;
#endif
#if CONTIG_UNITS
    const long u_end = (long)((ulong)units * (lid + 1) / L);
    for (long u = (long)((ulong)units * lid / L); u < u_end; u++) {
#else
    for (long u = lid; u < units; u += L) {
#endif
        const long r = u / segs, s = u - r * segs;
        long q; /* flat index of the unit's first cell */
        if (joined == 2)
            q = z0 * H * W;
        else if (joined == 1)
            q = ((z0 + r) * H + y0) * W;
        else
            q = ((z0 + r / bh) * H + y0 + r % bh) * W + x0;
        q += s * SEG;
        const long len = min((long)SEG, row_len - s * SEG);
        __global const data_t *p = src + (ulong)q * step;
#if POOL_OP == 1
        real_t um = -INFINITY;
        long uq = q;
        for (long e = 0; e < len; e++) {
            const real_t v = LOAD1(p + (ulong)e * step);
            if (v > um || isnan(v)) {
                um = v;
                uq = q + e;
            }
        }
        if (max_takes(um, uq, m, mq)) {
            m = um;
            mq = uq;
        }
#else
        real_t unit = 0;
        long e = 0;
#if VW > 1 && !NHWC
        VT lanes = (VT)(0);
        for (; e + VW <= len; e += VW)
            lanes += LOADN(VW, p + e);
        unit = LANE_SUM(lanes);
#endif
        for (; e < len; e++)
            unit += LOAD1(p + (ulong)e * step);
#if IS_INTEGER
        total += (long)unit; /* exact: SEG * 255 < 2^24 */
#else
        acc_t x = unit;
        uint j = 0;
        for (uint bits = done; bits & 1u; bits >>= 1, j++)
            x = stack[j] + x;
        stack[j] = x;
        done++;
#endif
#endif
    }

#if POOL_OP == 1
    vals[lid] = m;
    idxs[lid] = mq;
#elif IS_INTEGER
    sums[lid] = total;
#else
    acc_t total = 0;
    for (uint j = 0; j < 32; j++)
        if ((done >> j) & 1u)
            total = stack[j] + total;
    sums[lid] = total;
#endif

    uint span = 1;
    while (span < L)
        span <<= 1;
    for (uint gap = span >> 1; gap > 0; gap >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < gap && lid + gap < L) {
#if POOL_OP == 1
            const long q2 = idxs[lid + gap];
            if (q2 >= 0 && max_takes(vals[lid + gap], q2, vals[lid], idxs[lid])) {
                vals[lid] = vals[lid + gap];
                idxs[lid] = q2;
            }
#else
            sums[lid] = sums[lid] + sums[lid + gap];
#endif
        }
    }
    if (lid != 0)
        return;
#if POOL_OP == 1
    STORE1(vals[0], out + run.s1 + o);
#if HAS_INDICES
    indices[run.s2 + o] = (INDEX_T)idxs[0];
#endif
#else
    const long cells = (z1 - z0) * bh * (x1 - x0);
#if IS_INTEGER
    STORE1((real_t)(sums[0] / cells), out + run.s1 + o);
#else
    STORE1(sums[0] / (real_t)cells, out + run.s1 + o);
#endif
#endif
}
