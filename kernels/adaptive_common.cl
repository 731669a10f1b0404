/*
 * adaptive_common.cl: what the adaptive kernels (adaptive_bins.cl,
 * adaptive_tree.cl) share: the element types (dtype.cl), the bins of spec section 4,
 * where an output element sits, and torch's max rule for merging partial
 * results.
 *
 * Macros: DTYPE (dtype.cl), POOL_OP (1 max, 2 avg), HAS_INDICES, INDEX_T
 * (int or long), NHWC (1: channels last).
 */
#include "dtype.cl"

#ifndef POOL_OP
#define POOL_OP 1
#endif
#ifndef HAS_INDICES
#define HAS_INDICES 0
#endif
#ifndef INDEX_T
#define INDEX_T long
#endif
#ifndef NHWC
#define NHWC 0
#endif

#pragma OPENCL FP_CONTRACT OFF

/* Sums of integer inputs are exact (C division at the end, as torch's
 * integer avg); every other dtype sums in real_t. */
#if IS_INTEGER
typedef long acc_t;
#define TO_ACC(v) ((long)(v))
#else
typedef real_t acc_t;
#define TO_ACC(v) (v)
#endif

/* Output i of a dimension of input size n and output size o covers
 * [floor(i*n/o), ceil((i+1)*n/o)) (spec section 4). */
inline long bin_start(long i, long n, long o)
{
    return (i * n) / o;
}

inline long bin_end(long i, long n, long o)
{
    return ((i + 1) * n + o - 1) / o;
}

/* Whether the candidate (v, q) replaces the result (m, mq) of another part of
 * the same bin (mq < 0: none yet): NaN wins, the last NaN (largest index)
 * among NaNs; otherwise the larger value, the smaller index on a tie. Within
 * one row-major scan this is the plain `v > m || isnan(v)` of spec section 2. */
inline bool max_takes(real_t v, long q, real_t m, long mq)
{
    if (mq < 0)
        return true;
    if (isnan(v))
        return !isnan(m) || q > mq;
    return !isnan(m) && (v > m || (v == m && q < mq));
}

/* Where output element g sits: g runs over the output in memory order,
 * (plane, position) for NCHW and (sample, position, channel) for NHWC, with
 * S positions per plane and C channels. Gives the sample, channel and
 * position. */
inline void locate_output(ulong g, ulong C, ulong S, ulong *n, ulong *c, ulong *k)
{
#if NHWC
    *n = g / (S * C);
    const ulong r = g - *n * S * C;
    *k = r / C;
    *c = r - *k * C;
#else
    const ulong plane = g / S;
    *k = g - plane * S;
    *n = plane / C;
    *c = plane - *n * C;
#endif
}

/* The first input element of plane (n, c) and the distance between
 * neighbouring elements of the plane, for a plane of P elements. */
inline ulong plane_base(ulong n, ulong c, ulong C, ulong P, ulong *step)
{
#if NHWC
    *step = C;
    return n * P * C + c;
#else
    *step = 1;
    return (n * C + c) * P;
#endif
}
