/*
 * fractional_backward.cl: the gradient of fractional max pooling (spec
 * section 6), 2-D and 3-D (2-D as 3-D with a unit depth), NCHW and NHWC.
 *
 * A gather, no atomics: one work-item per grad_input element. The windows
 * are the forward's (fractional_common.cl: same samples, given or drawn,
 * same starts in real_t); the starts are non-decreasing in the output
 * index, so the outputs whose window contains cell j of a dimension form
 * a range, found by one pass over the dimension's outputs.
 * The work-item visits those outputs in row-major order and adds g where
 * the output selected this cell: from the forward's indices (-1 selects
 * nothing) or recomputed with the forward's rule (first maximum, last NaN,
 * the window's first cell when all are -inf). Sums in real_t without
 * contraction, stored once.
 *
 * Macros: DTYPE (dtype.cl), NHWC, HAS_INDICES, INDEX_T (int or long).
 */
#include "dtype.cl"

#ifndef NHWC
#define NHWC 0
#endif
#ifndef HAS_INDICES
#define HAS_INDICES 0
#endif
#ifndef INDEX_T
#define INDEX_T long
#endif

#pragma OPENCL FP_CONTRACT OFF

#include "fractional_common.cl"

/* Whether output i's window of one dimension holds cell j. */
inline bool covers(int i, int j, int in, int out, int k, real_t alpha, real_t u)
{
    const int start = window_start(i, in, out, k, alpha, u);
    return start <= j && j < start + k;
}

/* The outputs [*lo, *hi) of one dimension among which those whose window
 * holds cell j lie (all of them for samples in [0, 1), whose starts are
 * non-decreasing; covers() is checked again for the others). */
inline void covering(int j, int in, int out, int k, real_t alpha, real_t u, int *lo, int *hi)
{
    *lo = out;
    *hi = 0;
    for (int i = 0; i < out; i++)
        if (covers(i, j, in, out, k, alpha, u)) {
            *lo = min(*lo, i);
            *hi = i + 1;
        }
}

/* run: s0 x offset, s1 grad_output offset, s2 indices offset, s3 samples
 * offset, s4 grad_input offset, s5 unit_begin, s6 items, s7 channels C.
 * shape: D H W OD OH OW, dims, samples given (as fractional_pool). pool:
 * KD KH KW. alpha: per dimension. seed: the generator's. */
__kernel void fractional_backward(__global const data_t *restrict x,
                                  __global const data_t *restrict grad_out,
                                  __global const INDEX_T *restrict indices,
                                  __global const real_t *restrict samples,
                                  __global data_t *restrict grad_in, ulong8 run, int8 shape,
                                  CAT(REAL, 4) alpha, int4 pool, ulong seed)
{
    const ulong gid = get_global_id(0);
    if (gid >= run.s6)
        return;
    const int D = shape.s0, H = shape.s1, W = shape.s2, OD = shape.s3, OH = shape.s4;
    const int OW = shape.s5, dims = shape.s6;
    const int KD = pool.s0, KH = pool.s1, KW = pool.s2;
    const ulong P = (ulong)D * H * W, OP = (ulong)OD * OH * OW;
#if NHWC
    const ulong C = run.s7, unit_size = P * C;
#else
    const ulong unit_size = P;
#endif
    const ulong e = run.s5 * unit_size + gid;
    const ulong unit = e / unit_size;
    ulong r = e % unit_size;
#if NHWC
    const ulong c = r % C;
    r /= C;
    const ulong plane = unit * C + c;
#else
    const ulong plane = unit;
#endif
    const long s = (long)r;
    const int jx = (int)(r % (ulong)W), jy = (int)((r / (ulong)W) % (ulong)H);
    const int jz = (int)(r / ((ulong)W * H));

    real_t u0, u1, u2 = 0;
    if (shape.s7) {
        __global const real_t *sp = samples + run.s3 + plane * (ulong)dims;
        u0 = sp[0];
        u1 = sp[1];
        if (dims == 3)
            u2 = sp[2];
    } else {
        u0 = (real_t)uniform01(seed, plane, 0);
        u1 = (real_t)uniform01(seed, plane, 1);
        if (dims == 3)
            u2 = (real_t)uniform01(seed, plane, 2);
    }
    const real_t ud = dims == 3 ? u0 : 0, uh = u1, uw = dims == 3 ? u2 : u0;
    int zlo, zhi, ylo, yhi, xlo, xhi;
    covering(jz, D, OD, KD, alpha.s0, ud, &zlo, &zhi);
    covering(jy, H, OH, KH, alpha.s1, uh, &ylo, &yhi);
    covering(jx, W, OW, KW, alpha.s2, uw, &xlo, &xhi);

#if NHWC
    const ulong obase = unit * OP * C + c, ostep = C;
    __global const data_t *xb = x ? x + run.s0 + unit * P * C + c : x;
#define AT(q) xb[(ulong)(q)*C]
#else
    const ulong obase = plane * OP, ostep = 1;
    __global const data_t *xb = x ? x + run.s0 + plane * P : x;
#define AT(q) xb[q]
#endif
    real_t acc = 0;
    for (int oz = zlo; oz < zhi; oz++)
        for (int oy = ylo; oy < yhi; oy++)
            for (int ox = xlo; ox < xhi; ox++) {
                if (!covers(oz, jz, D, OD, KD, alpha.s0, ud) ||
                    !covers(oy, jy, H, OH, KH, alpha.s1, uh) ||
                    !covers(ox, jx, W, OW, KW, alpha.s2, uw))
                    continue;
                const ulong o = obase + ((ulong)((oz * OH + oy) * OW + ox)) * ostep;
#if HAS_INDICES
                const long sel = (long)indices[run.s2 + o];
#else
                const int zs = window_start(oz, D, OD, KD, alpha.s0, ud);
                const int ys = window_start(oy, H, OH, KH, alpha.s1, uh);
                const int xs = window_start(ox, W, OW, KW, alpha.s2, uw);
                real_t m = -INFINITY;
                long sel = (long)((zs * H + ys) * W + xs);
                for (int z = zs; z < zs + KD; z++)
                    for (int y = ys; y < ys + KH; y++) {
                        const int row = (z * H + y) * W;
                        for (int xx = xs; xx < xs + KW; xx++) {
                            const real_t v = LOAD1(&AT(row + xx));
                            if (v > m || isnan(v)) {
                                m = v;
                                sel = row + xx;
                            }
                        }
                    }
#endif
                if (sel == s)
                    acc += LOAD1(grad_out + run.s1 + o);
            }
    STORE1(acc, grad_in + run.s4 + e);
}
