/*
 * adaptive_backward.cl: the gradients of adaptive max/avg pooling (spec
 * section 4; global pooling is output size 1) and of spatial pyramid pooling
 * (section 10.4: the levels' adaptive gradients summed in level order).
 *
 * A gather, no atomics: one work-item per grad_input element. Input cell j
 * of a dimension (input In, output Out) lies in the bins i with
 *   floor(j*Out/In) <= i < ceil((j+1)*Out/In),
 * the inverse of bin i = [floor(i*In/Out), ceil((i+1)*In/Out)). The
 * work-item visits those bins in row-major order (spp: level by level) and
 * adds avg: g / (cells of the bin); max: g when the bin selected this cell
 * (from the forward's indices, -1 selecting nothing). Max without the
 * forward's indices runs adaptive_argmax first: one work-item per output
 * recomputes its bin's selection with the forward's rule (first maximum,
 * last NaN) into a workspace of longs, which the gather then reads as
 * indices (each bin is scanned once, not once per cell). Sums in real_t without
 * contraction, stored (rounded) once: bit-identical for every work-group
 * size and batch split.
 *
 * Launches cover units (NCHW: planes of P cells; NHWC: samples of P*C).
 *
 * Macros: DTYPE, POOL_OP (1 max, 2 avg), HAS_INDICES, INDEX_T, NHWC
 * (adaptive_common.cl), SPP (1: the pyramid; LEVELS levels).
 */
#include "adaptive_common.cl"

#ifndef SPP
#define SPP 0
#endif
#ifndef LEVELS
#define LEVELS 1
#endif

/* The cell the forward selected in bin [lo, hi) of plane x (elements step
 * apart), as a flat in-plane index. */
inline long bin_argmax(__global const data_t *x, ulong step, const int4 in, const long *lo,
                       const long *hi)
{
    real_t m = 0;
    long mq = -1;
    for (long a = lo[0]; a < hi[0]; a++)
        for (long b = lo[1]; b < hi[1]; b++)
            for (long c = lo[2]; c < hi[2]; c++) {
                const long q = (a * in.s1 + b) * in.s2 + c;
                const real_t v = LOAD1(x + (ulong)q * step);
                if (mq < 0 || v > m || isnan(v)) {
                    m = v;
                    mq = q;
                }
            }
    return mq;
}

/*
 * Adds the contributions of one adaptive output grid (sizes o) to cell
 * j (coordinates jd, flat s): outputs at go[base + pos * pstride] (and
 * indices alike).
 */
inline real_t gather(real_t acc, __global const data_t *go, __global const INDEX_T *idx, ulong base,
                     ulong pstride, const int4 in, const int4 o, const long *jd, long s)
{
    long ilo[3], ihi[3];
    const int ins[3] = {in.s0, in.s1, in.s2}, os[3] = {o.s0, o.s1, o.s2};
    for (int d = 0; d < 3; d++) {
        ilo[d] = (jd[d] * os[d]) / ins[d];
        ihi[d] = ((jd[d] + 1) * os[d] + ins[d] - 1) / ins[d];
    }
    for (long a = ilo[0]; a < ihi[0]; a++)
        for (long b = ilo[1]; b < ihi[1]; b++)
            for (long c = ilo[2]; c < ihi[2]; c++) {
                const ulong pos = (ulong)((a * o.s1 + b) * o.s2 + c);
                const ulong at = base + pos * pstride;
                const real_t g = LOAD1(go + at);
#if POOL_OP == 2
                long lo[3], hi[3];
                const long oi[3] = {a, b, c};
                for (int d = 0; d < 3; d++) {
                    lo[d] = bin_start(oi[d], ins[d], os[d]);
                    hi[d] = bin_end(oi[d], ins[d], os[d]);
                }
                const real_t cells = (real_t)((hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]));
                acc += g / cells;
#else
                if ((long)idx[at] == s)
                    acc += g;
#endif
            }
    return acc;
}

/* run: s0 unused, s1 grad_output offset, s2 indices offset (the
 * workspace's, in longs, for a recomputed max), s3 grad_input
 * offset, s4 unit_begin, s5 items, s6 channels C, s7 output positions per
 * plane (spp: sum of n^2). shape: in (d, h, w), out (d, h, w). levels: the
 * pyramid's bins per side. */
__kernel void adaptive_backward(__global const data_t *restrict grad_out,
                                __global const INDEX_T *restrict indices,
                                __global data_t *restrict grad_in, ulong8 run, int8 shape,
                                int8 levels)
{
    const ulong gid = get_global_id(0);
    if (gid >= run.s5)
        return;
    const int4 in = (int4)(shape.s0, shape.s1, shape.s2, 0);
    const ulong P = (ulong)in.s0 * (ulong)in.s1 * (ulong)in.s2, C = run.s6, PO = run.s7;
#if NHWC
    const ulong unit_size = P * C;
#else
    const ulong unit_size = P;
#endif
    const ulong e = run.s4 * unit_size + gid;
    ulong n, c, s;
    locate_output(e, C, P, &n, &c, &s);
    const long jd[3] = {(long)(s / ((ulong)in.s1 * in.s2)), (long)((s / (ulong)in.s2) % in.s1),
                        (long)(s % (ulong)in.s2)};
    __global const data_t *go = grad_out + run.s1;
    __global const INDEX_T *idx = indices ? indices + run.s2 : indices;
    real_t acc = 0;
#if SPP
    ulong prefix = 0;
    for (int l = 0; l < LEVELS; l++) {
        const int nl = levels.s0;
        levels = levels.s12345670;
        const int4 o = (int4)(1, nl, nl, 0);
        acc = gather(acc, go, idx, n * C * PO + C * prefix + c * (ulong)nl * nl, 1, in, o, jd,
                     (long)s);
        prefix += (ulong)nl * nl;
    }
#else
    const int4 o = (int4)(shape.s3, shape.s4, shape.s5, 0);
#if NHWC
    acc = gather(acc, go, idx, n * PO * C + c, C, in, o, jd, (long)s);
#else
    acc = gather(acc, go, idx, (n * C + c) * PO, 1, in, o, jd, (long)s);
#endif
#endif
    STORE1(acc, grad_in + run.s3 + e);
}

/* The recomputed selections of max without the forward's indices: one
 * work-item per output element o (memory order of grad_output; launches
 * cover samples of C*PO outputs) writes its bin's argmax to sel[o].
 * run: s0 x offset, s1 workspace offset (longs), s2 sample_begin, s3 items,
 * s4 channels C, s5 output positions per plane PO. */
__kernel void adaptive_argmax(__global const data_t *restrict x, __global long *restrict sel,
                              ulong8 run, int8 shape, int8 levels)
{
    const ulong gid = get_global_id(0);
    if (gid >= run.s3)
        return;
    const int4 in = (int4)(shape.s0, shape.s1, shape.s2, 0);
    const ulong P = (ulong)in.s0 * (ulong)in.s1 * (ulong)in.s2, C = run.s4, PO = run.s5;
    const ulong o = run.s2 * C * PO + gid;
    ulong n, c, pos;
    int4 out;
#if SPP
    n = o / (C * PO);
    ulong r = o - n * C * PO;
    for (int l = 0; l < LEVELS; l++) {
        const ulong nl = (ulong)levels.s0, cells = nl * nl;
        levels = levels.s12345670;
        if (r < C * cells) {
            c = r / cells;
            pos = r - c * cells;
            out = (int4)(1, (int)nl, (int)nl, 0);
            break;
        }
        r -= C * cells;
    }
#else
    locate_output(o, C, PO, &n, &c, &pos);
    out = (int4)(shape.s3, shape.s4, shape.s5, 0);
#endif
    const long oi[3] = {(long)(pos / ((ulong)out.s1 * out.s2)),
                        (long)((pos / (ulong)out.s2) % (ulong)out.s1), (long)(pos % (ulong)out.s2)};
    const int ins[3] = {in.s0, in.s1, in.s2}, os[3] = {out.s0, out.s1, out.s2};
    long lo[3], hi[3];
    for (int d = 0; d < 3; d++) {
        lo[d] = bin_start(oi[d], ins[d], os[d]);
        hi[d] = bin_end(oi[d], ins[d], os[d]);
    }
    ulong step;
    const ulong base = plane_base(n, c, C, P, &step);
    sel[run.s1 + o] = bin_argmax(x + run.s0 + base, step, in, lo, hi);
}
