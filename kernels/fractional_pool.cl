/*
 * fractional_pool.cl: fractional max pooling (spec section 6), 2-D and 3-D
 * (2-D runs as 3-D with a unit depth), NCHW and NHWC, every dtype of
 * dtype.cl. One work-item computes one output element: the window start of
 * each dimension from its sample, in real_t exactly as torch's
 * generate_intervals (float for float inputs: this decides some windows,
 * spec section 6), clamped into the input (samples outside [0, 1) never
 * read outside it), then the section 2 max (first maximum, last NaN).
 *
 * Launches cover whole units (NCHW: planes; NHWC: samples of C planes) from
 * run.s4; work-item g of a launch takes output element unit_begin*unit_size
 * + g in memory order.
 *
 * Pool sizes, the number of dimensions and whether samples are given are
 * kernel arguments: one program serves every shape of a dtype and layout.
 *
 * Macros (defaults let the file compile alone):
 *   DTYPE        see dtype.cl
 *   NHWC         1 for channels-last tensors
 *   HAS_INDICES  write the flat in-plane index, of type INDEX_T
 *   INDEX_T      int or long
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

/* Window starts must be computed as written: no contraction into fma. */
#pragma OPENCL FP_CONTRACT OFF

#include "fractional_common.cl"

/* run: s0 input offset, s1 output offset, s2 indices offset, s3 samples
 * offset, s4 unit_begin, s5 items, s6 channels C, s7 seed.
 * shape: D H W OD OH OW, dims (2 or 3: how the samples of a plane map to
 * dimensions, 2: [0] W, [1] H; 3: [0] D, [1] H, [2] W), samples given (1:
 * read dims real_t per plane; 0: draw them). pool: KD KH KW (KD 1 for 2-D).
 * alpha: per dimension D, H, W, (In-k)/(O-1) in real_t. */
__kernel void fractional_pool(__global const data_t *restrict in, __global data_t *restrict out,
                              __global INDEX_T *restrict indices,
                              __global const real_t *restrict samples, ulong8 run, int8 shape,
                              CAT(REAL, 4) alpha, int4 pool)
{
    const uint gid = (uint)get_global_id(0);
    if (gid >= run.s5)
        return;
    const int D = shape.s0, H = shape.s1, W = shape.s2, OD = shape.s3, OH = shape.s4;
    const int OW = shape.s5, dims = shape.s6;
    const int KD = pool.s0, KH = pool.s1, KW = pool.s2;
    const ulong in_plane = (ulong)D * H * W;
    const uint out_plane = (uint)OD * (uint)OH * (uint)OW;
#if NHWC
    const uint C = (uint)run.s6;
    const uint unit_size = out_plane * C;
#else
    const uint unit_size = out_plane;
#endif
    const ulong unit = run.s4 + gid / unit_size;
    uint r = gid % unit_size;
#if NHWC
    const uint c = r % C;
    r /= C;
    const ulong plane = unit * C + c;
#else
    const ulong plane = unit;
#endif
    const int ox = (int)(r % (uint)OW);
    const int oy = (int)((r / (uint)OW) % (uint)OH);
    const int oz = (int)(r / ((uint)OW * (uint)OH));

    real_t u0, u1, u2 = 0;
    if (shape.s7) {
        __global const real_t *s = samples + run.s3 + plane * (ulong)dims;
        u0 = s[0];
        u1 = s[1];
        if (dims == 3)
            u2 = s[2];
    } else {
        u0 = (real_t)uniform01(run.s7, plane, 0);
        u1 = (real_t)uniform01(run.s7, plane, 1);
        if (dims == 3)
            u2 = (real_t)uniform01(run.s7, plane, 2);
    }
    const real_t ud = dims == 3 ? u0 : 0, uh = u1, uw = dims == 3 ? u2 : u0;
    const int zs = window_start(oz, D, OD, KD, alpha.s0, ud);
    const int ys = window_start(oy, H, OH, KH, alpha.s1, uh);
    const int xs = window_start(ox, W, OW, KW, alpha.s2, uw);

#if NHWC
    __global const data_t *base = in + run.s0 + (plane / C) * in_plane * C + c;
#define AT(q) base[(ulong)(q) * C]
#else
    __global const data_t *base = in + run.s0 + plane * in_plane;
#define AT(q) base[q]
#endif
    real_t m = -INFINITY;
    int best = (zs * H + ys) * W + xs;
    for (int z = zs; z < zs + KD; z++)
        for (int y = ys; y < ys + KH; y++) {
            const int row = (z * H + y) * W;
            for (int x = xs; x < xs + KW; x++) {
                const real_t v = LOAD1(&AT(row + x));
                if (v > m || isnan(v)) {
                    m = v;
                    best = row + x;
                }
            }
        }
    const ulong o = run.s4 * unit_size + gid;
    STORE1(m, out + run.s1 + o);
#if HAS_INDICES
    indices[run.s2 + o] = (INDEX_T)best;
#endif
}
