/*
 * global_pool.cl: max or average over whole planes, for windows that cover
 * the plane exactly (global pooling, e.g. a 7x7 head). One work-item reduces
 * one contiguous plane with VW-wide vector loads and per-lane partial
 * results, combined in a fixed order.
 *
 * Max keeps torch's rules across lanes: a NaN wins with the index of the
 * last NaN, otherwise the largest value with the smallest index, and an
 * all -inf plane gives index 0.
 *
 * Macros: POOL_OP (1 max, 2 avg), DIVISOR (avg: 0 = the plane size),
 * HAS_INDICES, INDEX_T (int or long), VW (1, 8 or 16), PLANE (the plane size
 * when it is small enough to bake in, so the loops unroll; 0: the
 * plane_elems argument).
 */
#ifndef POOL_OP
#define POOL_OP 1
#endif
#ifndef DIVISOR
#define DIVISOR 0
#endif
#ifndef HAS_INDICES
#define HAS_INDICES 0
#endif
#ifndef INDEX_T
#define INDEX_T long
#endif
#ifndef VW
#define VW 8
#endif
#ifndef PLANE
#define PLANE 0
#endif

#pragma OPENCL FP_CONTRACT OFF

/* Loops with compile-time bounds; compilers that do not know it ignore it. */
#define UNROLL _Pragma("unroll")

#if VW == 1
typedef float VT;
typedef int VI;
#define LOADV(j, p) ((p)[j])
#define STOREV(v, p) ((p)[0] = (v))
#define STOREI(v, p) ((p)[0] = (v))
#elif VW == 8
typedef float8 VT;
typedef int8 VI;
#define LOADV(j, p) vload8((j), (p))
#define STOREV(v, p) vstore8((v), 0, (p))
#define STOREI(v, p) vstore8((v), 0, (p))
#elif VW == 16
typedef float16 VT;
typedef int16 VI;
#define LOADV(j, p) vload16((j), (p))
#define STOREV(v, p) vstore16((v), 0, (p))
#define STOREI(v, p) vstore16((v), 0, (p))
#else
#error "VW must be 1, 8 or 16"
#endif

/* Arguments: the input, output and optional indices buffers, and `run` =
 * (input offset, output offset, indices offset in elements, the launch's
 * first plane, its work-item count, the plane size); one vector argument
 * instead of six scalars (each argument costs launch latency on PoCL). */
__kernel void global_pool(__global const float *restrict in, __global float *restrict out,
                          __global INDEX_T *restrict indices, ulong8 run)
{
    const ulong in_off = run.s0, out_off = run.s1, idx_off = run.s2, plane_begin = run.s3;
    const ulong items = run.s4;
    ulong plane_elems = run.s5;
    const ulong gid = get_global_id(0);
    if (gid >= items)
        return;
    const ulong plane = plane_begin + gid;
#if PLANE
    plane_elems = PLANE; /* equal to the argument; a constant unrolls the loops */
#endif
    __global const float *src = in + in_off + plane * plane_elems;
    const ulong vectors = plane_elems / VW;
#if POOL_OP == 1
    VT m = (VT)(-INFINITY);
    VI best = (VI)(-1);
    for (ulong j = 0; j < vectors; j++) {
        const VT v = LOADV(j, src);
        const VI take = isgreater(v, m) | isnan(v);
        m = select(m, v, take);
        best = select(best, (VI)(int)j, take);
    }
    float lane_m[VW];
    int lane_best[VW];
    STOREV(m, lane_m);
    STOREI(best, lane_best);
    float rm = -INFINITY;
    long rq = -1;
    UNROLL for (int l = 0; l < VW; l++) {
        if (lane_best[l] < 0)
            continue;
        const long q = (long)lane_best[l] * VW + l;
        const float v = lane_m[l];
        bool take;
        if (rq < 0)
            take = true;
        else if (isnan(v))
            take = !isnan(rm) || q > rq;
        else
            take = !isnan(rm) && (v > rm || (v == rm && q < rq));
        if (take) {
            rm = v;
            rq = q;
        }
    }
    for (ulong e = vectors * VW; e < plane_elems; e++) {
        const float v = src[e];
        if (v > rm || isnan(v)) {
            rm = v;
            rq = (long)e;
        }
    }
    out[out_off + plane] = rm;
#if HAS_INDICES
    indices[idx_off + plane] = (INDEX_T)(rq >= 0 ? rq : 0);
#endif
#else
    VT s = (VT)(0.0f);
    for (ulong j = 0; j < vectors; j++)
        s += LOADV(j, src);
    /* Pairwise over the lanes (halves added), then the tail. */
#if VW == 16
    const float8 h8 = s.lo + s.hi;
#elif VW == 8
    const float8 h8 = s;
#endif
#if VW >= 8
    const float4 h4 = h8.lo + h8.hi;
    const float2 h2 = h4.lo + h4.hi;
    const float lanes[1] = {h2.lo + h2.hi};
#else
    const float lanes[1] = {s};
#endif
    float sum = lanes[0];
    for (ulong e = vectors * VW; e < plane_elems; e++)
        sum += src[e];
#if DIVISOR
    out[out_off + plane] = sum / (float)DIVISOR;
#else
    out[out_off + plane] = sum / (float)plane_elems;
#endif
#endif
}
