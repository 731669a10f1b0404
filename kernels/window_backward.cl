/*
 * window_backward.cl: the gradient of every window pooling operator (max,
 * avg, lp, gem, mixed, softmax, stochastic) with respect to its input, for
 * float32, float16/bfloat16 (storage; computed in float) and float64, NCHW
 * and NHWC, 1-D to 3-D windows (run as 3-D with unit outer dimensions).
 *
 * Deterministic by construction (a gather, no atomics): each work-item owns
 * input elements and, for each, visits the outputs whose windows contain it
 * in a fixed order (oz, oy, ox ascending), adding each output's contribution
 * (spec section 9, section 10) in the computation type. Nothing depends on the work-group
 * size or on how planes are split into launches.
 *
 * Contribution of output o (gradient g) to a real cell q of its window:
 *   max         g when q is o's index (the forward's, read from `indices`
 *               when HAS_INDICES, else recomputed: first maximum, last NaN,
 *               the first real cell when every cell is -inf); -1 or any
 *               index outside the window sends g nowhere
 *   avg         g / divisor, the forward's divisor (DIVISOR, COUNT_PAD)
 *   lp          g * (K/D) * y^(1-p) * x_q^(p-1), 0 when sum x^p is 0
 *   gem         g * (1/D) * y^(1-p) * max(x_q, eps)^(p-1), 0 where x_q < eps
 *   mixed       alpha*g at o's argmax (recomputed) + (1-alpha)*g / divisor
 *   softmax     g * w_q * (1 + beta*(x_q - y)), 0 where w_q is 0
 *   stochastic  TRAIN: g at the sampled cell (from `indices`, or the draw
 *               replayed with the seed); test: g * (2 a_q - y) / (FLT_MIN +
 *               sum a) where x_q > 0, a = max(x, 0)
 * (K: window cells, D: real cells, y: the forward's output recomputed here.)
 *
 * Macros (defaults let the file compile alone):
 *   POOL_OP       1 max, 2 avg, 3 lp, 4 gem, 5 mixed, 6 softmax, 7 stochastic
 *   DTYPE         see dtype.cl (float dtypes only)
 *   KD KH KW  SD SH SW  PD PH PW  DD DH DW   window, stride, padding, dilation
 *   COUNT_PAD     avg/mixed: padding cells count in the divisor
 *   DIVISOR       avg: fixed divisor, 0 for none
 *   TRAIN         stochastic: 1 the sampled cell, 0 the weighted average
 *   HAS_INDICES   read the forward's indices (INDEX_T) instead of recomputing
 *   INDEX_T       int or long
 *   NHWC          1 for channels-last tensors
 *   ROW_ITEMS     1: a work-item takes a whole input row (every channel of
 *                 it in NHWC); 0: one input element
 *   BLOCK_ROWS    > 0: the block variant below (float32/float64 avg and
 *                 indexed selections): a work-item takes this many rows
 *   VW            block variant, NCHW: lanes per vector of its vector paths
 *                 (avg with stride 1; indices with stride 2 or 2-column
 *                 windows tiling the plane); at most an input and an output
 *                 row (the host's choice), 1 for the scalar paths
 */
#include "dtype.cl"

#include "window_params.cl"

#ifndef ROW_ITEMS
#define ROW_ITEMS 1
#endif
#ifndef BLOCK_ROWS
#define BLOCK_ROWS 0
#endif
#ifndef VW
#define VW 1
#endif

/* The block variant's vector paths (NCHW; the host picks VW no larger than
 * an input or output row): avg with stride 1 (VW columns at once), the
 * selections read from indices (VW outputs of a row at once), and of
 * those, windows of 2 columns tiling the plane (DIRECT_PAIRS: every input
 * cell has one covering output, so the rows are written, not accumulated). */
#define VEC_AVG (BLOCK_ROWS && VW > 1 && POOL_OP == OP_AVG && !NHWC && SW == 1)
#define VEC_INDEXED (BLOCK_ROWS && VW > 1 && READS_INDICES && !NHWC)
#define DIRECT_PAIRS                                                                               \
    (VEC_INDEXED && KW == 2 && SW == 2 && PW == 0 && DW == 1 && KH == SH && PH == 0 && DH == 1 &&  \
     KD == 1 && SD == 1 && PD == 0)
#define VEC_STRIDE2 (VEC_INDEXED && !DIRECT_PAIRS && SW == 2 && DW == 1)
/* avg with stride 1 in both row and column, 2-D windows: each input row is
 * written once from the shares of its covering output rows (AVG_ROWS). */
#define AVG_ROWS (VEC_AVG && SH == 1 && KD == 1)
#if VW > 1
typedef CAT(REAL, VW) RV;
typedef CAT(int, VW) IV;
typedef CAT(uint, VW) UV;
typedef CAT(INDEX_T, VW) XV;
/* A row chunk of grad_in read and written as one unaligned vector (the
 * block variant's types are float and double, data_t = real_t): vstoreN
 * may store in pieces, and a whole-vector load of what was just stored in
 * pieces waits for them to reach the cache instead of taking the stored
 * value (the rows are updated again right after). */
typedef struct __attribute__((packed)) unaligned_rv {
    RV v;
} unaligned_rv;
#define LOAD_RV(p) (((__global const unaligned_rv *)(p))->v)
#define STORE_RV(x, p) (((__global unaligned_rv *)(p))->v = (x))
/* MASK_OF: a select() mask for RV; SV: a shuffle mask for RV */
#if DTYPE == DT_F64
#define MASK_OF(m) CAT(convert_long, VW)(m)
#define SV CAT(ulong, VW)
#else
#define MASK_OF(m) CAT(convert_int, VW)(m)
#define SV CAT(uint, VW)
#endif
#if VW == 2
#define LANE_IDS ((IV)(0, 1))
#elif VW == 4
#define LANE_IDS ((IV)(0, 1, 2, 3))
#elif VW == 8
#define LANE_IDS ((IV)(0, 1, 2, 3, 4, 5, 6, 7))
#else
#define LANE_IDS ((IV)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#endif
/* The lanes of a and b interleaved (a0 b0 a1 b1 ...): the first and the
 * second half, as shuffle2 masks. */
#if VW == 2
#define ZIP_LO ((SV)(0, 2))
#define ZIP_HI ((SV)(1, 3))
#elif VW == 4
#define ZIP_LO ((SV)(0, 4, 1, 5))
#define ZIP_HI ((SV)(2, 6, 3, 7))
#elif VW == 8
#define ZIP_LO ((SV)(0, 8, 1, 9, 2, 10, 3, 11))
#define ZIP_HI ((SV)(4, 12, 5, 13, 6, 14, 7, 15))
#else
#define ZIP_LO ((SV)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23))
#define ZIP_HI ((SV)(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31))
#endif
#endif

#pragma OPENCL FP_CONTRACT OFF

#define OP_MAX 1
#define OP_AVG 2
#define OP_LP 3
#define OP_GEM 4
#define OP_MIXED 5
#define OP_SOFTMAX 6
#define OP_STOCHASTIC 7

#define SELECTS (POOL_OP == OP_MAX || (POOL_OP == OP_STOCHASTIC && TRAIN))
#define READS_INDICES (SELECTS && HAS_INDICES)
#define READS_INPUT (!READS_INDICES && POOL_OP != OP_AVG)
#define KCELLS (KD * KH * KW)
#define GEM_EPS ((real_t)1e-6) /* as window_lanes.cl: in the computation type */

/* The counter-based generator (src/random.c computes the same bits). */
inline ulong mix64(ulong z)
{
    z += 0x9E3779B97F4A7C15UL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
    return z ^ (z >> 31);
}

inline float uniform01(ulong seed, ulong plane, ulong position)
{
    return (float)(mix64(seed ^ mix64(plane ^ mix64(position))) >> 40) * 0x1p-24f;
}

/* Cells of the window [start, start + k) along one dimension that count in
 * the divisor: inside the padded extent (count_pad) or inside the input. */
inline int pooled_cells(int start, int k, int in, int pad, int count_pad)
{
    return count_pad ? min(start + k, in + pad) - start : min(start + k, in) - max(start, 0);
}

/* The divisor of the avg window whose depth and row factors are dzy and
 * whose columns start at xs (the forward's: DIVISOR, else the counted cells). */
inline real_t avg_divisor(int dzy, int xs, int W)
{
#if DIVISOR
    (void)dzy;
    (void)xs;
    (void)W;
    return (real_t)DIVISOR;
#else
    return (real_t)(dzy * pooled_cells(xs, KW, W, PW, COUNT_PAD));
#endif
}

/* The outputs along one dimension whose windows contain input position i:
 * [*lo, *hi] (empty when lo > hi); a dilated window contains i only when
 * (i + p - o*s) is a multiple of the dilation, checked by the caller. */
inline void covering(int i, int k, int s, int p, int d, int outs, int *lo, int *hi)
{
    const int t = i + p - (k - 1) * d;
    *lo = t <= 0 ? 0 : (t + s - 1) / s;
    *hi = min((i + p) / s, outs - 1);
}

/* Runs BODY over the real cells of the window starting at (zs, ys, xs) in
 * row-major order, with v the cell's value and cq its flat in-plane index;
 * xp points at the plane's first element, cs is the distance between
 * neighbouring cells (C in NHWC, 1 in NCHW). */
#define FOR_WINDOW_CELLS(BODY)                                                                    \
    for (int kz = 0; kz < KD; kz++) {                                                             \
        const int cz = zs + kz * DD;                                                              \
        if (cz < 0 || cz >= D)                                                                    \
            continue;                                                                             \
        for (int ky = 0; ky < KH; ky++) {                                                         \
            const int cy = ys + ky * DH;                                                          \
            if (cy < 0 || cy >= H)                                                                \
                continue;                                                                         \
            for (int kx = 0; kx < KW; kx++) {                                                     \
                const int cx = xs + kx * DW;                                                      \
                if (cx < 0 || cx >= W)                                                            \
                    continue;                                                                     \
                const long cq = ((long)cz * H + cy) * W + cx;                                     \
                const real_t v = LOAD1(xp + cq * cs);                                             \
                BODY                                                                              \
            }                                                                                     \
        }                                                                                         \
    }

/* What an output contributes to the cells of its window, from its window's
 * values: `pick` the selected cell (max, mixed, training stochastic), `a`
 * a factor common to every cell, `b`, `y` per-operator values. */
typedef struct window_stats {
    long pick;
    real_t a, b, y;
} window_stats;

#if READS_INPUT
#ifdef __clang__
#define STATS_FN __attribute__((always_inline)) inline
#else
#define STATS_FN inline
#endif
/* Recomputes what the forward computed over one window (the same float
 * operations in the same order where the result selects a cell). */
/* (The result goes through a plain pointer: a returned struct is an
 * implicit noalias pointer, whose inlining emits an intrinsic oclgrind
 * 21.10 cannot run.) */
STATS_FN void window_scan(window_stats *out, __global const data_t *xp, long cs, int D, int H,
                          int W, int zs, int ys, int xs, real_t P, real_t INV_P, real_t BETA,
                          ulong seed, ulong plane, ulong out_pos)
{
    window_stats st;
    st.pick = -1;
    st.a = st.b = st.y = 0;
    (void)P;
    (void)INV_P;
    (void)BETA;
    (void)seed;
    (void)plane;
    (void)out_pos;
#if POOL_OP == OP_MAX || POOL_OP == OP_MIXED
    real_t m = -INFINITY;
    long best = -1, first = -1;
    FOR_WINDOW_CELLS({
        if (first < 0)
            first = cq;
        if (isgreater(v, m) || isnan(v)) {
            m = v;
            best = cq;
        }
    })
    st.pick = best >= 0 ? best : first;
#elif POOL_OP == OP_LP || POOL_OP == OP_GEM
    real_t sum = 0;
    int cells = 0;
#if POOL_OP == OP_LP
#define BASE(v) (v)
#else
#define BASE(v) (isless((v), GEM_EPS) ? GEM_EPS : (v))
#endif
    if (P == (real_t)1) {
        FOR_WINDOW_CELLS(sum += BASE(v); cells++;)
    } else if (P == (real_t)2) {
        FOR_WINDOW_CELLS(const real_t b_ = BASE(v); sum += b_ * b_; cells++;)
    } else if (P == (real_t)3) {
        FOR_WINDOW_CELLS(const real_t b_ = BASE(v); sum += b_ * b_ * b_; cells++;)
    } else if (P == (real_t)4) {
        FOR_WINDOW_CELLS(const real_t b_ = BASE(v); sum += (b_ * b_) * (b_ * b_); cells++;)
    } else {
        FOR_WINDOW_CELLS(sum += pow(BASE(v), P); cells++;)
    }
#if POOL_OP == OP_LP
    const real_t t = (sum / (real_t)cells) * (real_t)KCELLS;
#else
    const real_t t = sum / (real_t)cells;
#endif
    const real_t y = P == (real_t)1 ? t : P == (real_t)2 ? sqrt(t) : pow(t, INV_P);
    const real_t y_1mp = P == (real_t)1 ? (real_t)1 : P == (real_t)2 ? (real_t)1 / y : pow(y, (real_t)1 - P);
#if POOL_OP == OP_LP
    /* torch's relu on the average: no gradient where the sum is 0 */
    st.a = sum == (real_t)0 ? (real_t)0 : ((real_t)KCELLS / (real_t)cells) * y_1mp;
#else
    st.a = y_1mp / (real_t)cells;
#endif
    st.y = y;
#elif POOL_OP == OP_SOFTMAX
    real_t m = -INFINITY;
    FOR_WINDOW_CELLS({
        const real_t b_ = BETA * v;
        if (isgreater(b_, m) || isnan(b_))
            m = b_;
    })
    real_t sum = 0, wsum = 0;
    FOR_WINDOW_CELLS({
        const real_t e_ = exp(BETA * v - m);
        sum += e_;
        wsum += e_ == (real_t)0 ? (real_t)0 : e_ * v;
    })
    st.a = m;
    st.b = sum;
    st.y = wsum / sum;
#elif POOL_OP == OP_STOCHASTIC && TRAIN
    real_t sum = 0;
    long first = -1;
    FOR_WINDOW_CELLS({
        if (first < 0)
            first = cq;
        sum += isgreater(v, (real_t)0) ? v : (real_t)0;
    })
    const real_t thres = (real_t)uniform01(seed, plane, out_pos) * sum;
    real_t cum = 0;
    long best = -1;
    FOR_WINDOW_CELLS({
        cum += isgreater(v, (real_t)0) ? v : (real_t)0;
        if (best < 0 && cum >= thres)
            best = cq;
    })
    st.pick = best >= 0 ? best : first;
#elif POOL_OP == OP_STOCHASTIC
    real_t sum = 0, sum2 = 0;
    FOR_WINDOW_CELLS({
        const real_t a_ = isgreater(v, (real_t)0) ? v : (real_t)0;
        sum += a_;
        sum2 += a_ * a_;
    })
    st.a = (real_t)FLT_MIN + sum;
    st.y = sum2 / st.a;
#endif
    *out = st;
}
#endif

/* The gradient of one input element: plane `plane`, in-plane position
 * (iz, iy, ix) with flat index q and value xq (when the operator needs it);
 * xp, gp, ip point at the plane's first input, gradient and index elements,
 * cs is the distance between neighbouring cells (C in NHWC, 1 in NCHW).
 * oz/oy ranges come from the caller (shared by a row). */
#ifdef __clang__
#define GRAD_FN __attribute__((always_inline)) inline
#else
#define GRAD_FN inline
#endif
GRAD_FN real_t input_grad(__global const data_t *xp, __global const data_t *gp,
                          __global const INDEX_T *ip, long cs, int D, int H, int W, int OD, int OH,
                          int OW, int iz, int iy, int ix, int oz_lo, int oz_hi, int oy_lo,
                          int oy_hi, real_t xq, CAT(REAL, 4) params, ulong seed, ulong plane)
{
    const real_t P = params.s0, INV_P = params.s1, ALPHA = params.s2, BETA = params.s3;
    (void)D;
    (void)OD;
    (void)P;
    (void)INV_P;
    (void)ALPHA;
    (void)BETA;
    (void)xq;
    (void)xp;
    (void)ip;
    (void)seed;
    (void)plane;
    const long q = ((long)iz * H + iy) * W + ix;
    (void)q;
    int ox_lo, ox_hi;
    covering(ix, KW, SW, PW, DW, OW, &ox_lo, &ox_hi);
    real_t acc = 0;
    for (int oz = oz_lo; oz <= oz_hi; oz++) {
        const int zs = oz * SD - PD;
        if (DD > 1 && (iz - zs) % DD != 0)
            continue;
        for (int oy = oy_lo; oy <= oy_hi; oy++) {
            const int ys = oy * SH - PH;
            if (DH > 1 && (iy - ys) % DH != 0)
                continue;
            const long row = ((long)oz * OH + oy) * OW;
#if POOL_OP == OP_AVG
            /* the row's contributions are summed first, then added: the
             * block variant adds whole row sums in the same order */
            const int dzy = pooled_cells(zs, KD, D, PD, COUNT_PAD) *
                            pooled_cells(ys, KH, H, PH, COUNT_PAD);
            (void)dzy;
            real_t rs = 0;
#endif
            for (int ox = ox_lo; ox <= ox_hi; ox++) {
                const int xs = ox * SW - PW;
                if (DW > 1 && (ix - xs) % DW != 0)
                    continue;
                const long o = row + ox;
                const real_t g = LOAD1(gp + o * cs);
#if READS_INDICES
                if ((long)ip[o * cs] == q)
                    acc += g;
#elif READS_INPUT
                window_stats st;
                window_scan(&st, xp, cs, D, H, W, zs, ys, xs, P, INV_P, BETA, seed, plane,
                            (ulong)o);
#if SELECTS
                if (st.pick == q)
                    acc += g;
#elif POOL_OP == OP_MIXED
                const real_t div = (real_t)(pooled_cells(zs, KD, D, PD, COUNT_PAD) *
                                            pooled_cells(ys, KH, H, PH, COUNT_PAD) *
                                            pooled_cells(xs, KW, W, PW, COUNT_PAD));
                const real_t share = ((real_t)1 - ALPHA) * g / div;
                acc += st.pick == q ? ALPHA * g + share : share;
#elif POOL_OP == OP_LP || POOL_OP == OP_GEM
#if POOL_OP == OP_GEM
                if (isgreaterequal(xq, GEM_EPS))
#endif
                {
                    const real_t base = xq;
                    const real_t xp1 = P == (real_t)1   ? (real_t)1
                                       : P == (real_t)2 ? base
                                       : P == (real_t)3 ? base * base
                                       : P == (real_t)4 ? base * base * base
                                                        : pow(base, P - (real_t)1);
                    acc += g * st.a * xp1;
                }
#elif POOL_OP == OP_SOFTMAX
                const real_t e = exp(BETA * xq - st.a);
                if (e != (real_t)0)
                    acc += g * (e / st.b) * ((real_t)1 + BETA * (xq - st.y));
#elif POOL_OP == OP_STOCHASTIC
                if (isgreater(xq, (real_t)0))
                    acc += g * ((real_t)2 * xq - st.y) / st.a;
#endif
#elif POOL_OP == OP_AVG
                rs += g / avg_divisor(dzy, xs, W);
#endif
            }
#if POOL_OP == OP_AVG
            acc += rs;
#endif
        }
    }
    return acc;
}

#if VEC_AVG
#define FIRST_CHUNK 1 /* cx0 == 0 */
#define LAST_CHUNK 2  /* cx0 == W - VW */
/* The gather's row sums of the VW input columns cx0 .. cx0 + VW - 1 for the
 * output row at gp (stride 1): lane l adds g / divisor of the outputs
 * ox = cx0 + l + PW - KW + 1 + j, j = 0 .. KW-1 ascending (the forward's
 * divisor; dzy the window's depth and row factors); outputs outside the row
 * add +0, which leaves a sum (never -0) as is. Loads that would pass the
 * row's ends start inside it (OW >= VW) and shuffle their lanes into place:
 * `edge` (FIRST_CHUNK, LAST_CHUNK, a constant at each call) makes the shift
 * a compile-time constant at the row's ends (OW - W = 2*PW - KW + 1 for
 * stride 1); other chunks shift by a run-time amount when they must. */
GRAD_FN RV avg_chunk_sum(__global const data_t *gp, int cx0, int OW, int W, int dzy, int edge)
{
    (void)W;
    (void)dzy;
    RV rs = (RV)(0);
#pragma unroll
    for (int j = 0; j < KW; j++) {
        const int ox0 = cx0 + PW - (KW - 1) + j;
        const IV ox = (IV)(ox0) + LANE_IDS;
        const IV in_row = (ox >= (IV)(0)) & (ox < (IV)(OW));
        RV gv;
        if ((edge & FIRST_CHUNK) && PW - (KW - 1) + j < 0) {
            const SV from =
                CAT(convert_, SV)(clamp(LANE_IDS + (IV)(PW - (KW - 1) + j), (IV)(0), (IV)(VW - 1)));
            gv = select((RV)(0), shuffle(LOADN(VW, gp), from), MASK_OF(in_row));
        } else if ((edge & LAST_CHUNK) && j > PW) {
            /* ox0 - (OW - VW) = j - PW */
            const SV from =
                CAT(convert_, SV)(clamp(LANE_IDS + (IV)(j - PW), (IV)(0), (IV)(VW - 1)));
            gv = select((RV)(0), shuffle(LOADN(VW, gp + OW - VW), from), MASK_OF(in_row));
        } else if (ox0 >= 0 && ox0 <= OW - VW) {
            gv = LOADN(VW, gp + ox0);
        } else {
            const int at0 = clamp(ox0, 0, OW - VW);
            const SV from =
                CAT(convert_, SV)(clamp(LANE_IDS + (IV)(ox0 - at0), (IV)(0), (IV)(VW - 1)));
            gv = select((RV)(0), shuffle(LOADN(VW, gp + at0), from), MASK_OF(in_row));
        }
#if DIVISOR
        const RV dv = (RV)((real_t)DIVISOR);
#else
        const IV xs = ox - (IV)(PW);
        const IV cells = COUNT_PAD ? min(xs + (IV)(KW), (IV)(W + PW)) - xs
                                   : min(xs + (IV)(KW), (IV)(W)) - max(xs, (IV)(0));
        const RV dv = CAT(convert_, CAT(REAL, VW))((IV)(dzy)*select((IV)(1), cells, in_row));
#endif
        rs += gv / dv;
    }
    return rs;
}
#endif

#if AVG_ROWS
/* The share of output row oy (of depth oz, window depth factor dz) in the
 * VW columns from cx0: the gather's row sums (avg_chunk_sum), +0 for a row
 * outside [0, OH). */
GRAD_FN RV avg_row_share(__global const data_t *gp, int oz, int oy, int cx0, int OH, int OW,
                         int H, int W, int dz, int edge)
{
    if (oy < 0 || oy >= OH)
        return (RV)(0);
    const int dzy = dz * pooled_cells(oy - PH, KH, H, PH, COUNT_PAD);
    return avg_chunk_sum(gp + ((long)oz * OH + oy) * OW, cx0, OW, W, dzy, edge);
}

/* Input rows [y0, y1) of one depth slice, VW columns from cx0: row iy is the
 * sum, from +0 and in ascending oy (the gather's order), of the shares of
 * output rows iy + PH - KH + 1 .. iy + PH (rows outside the output add +0);
 * the KH shares slide down with iy, each computed once. Written, not
 * accumulated: an overlapping chunk writes the same sums. */
GRAD_FN void avg_rows_chunk(__global data_t *drow0, __global const data_t *gp, int oz, int y0,
                            int y1, int cx0, int OH, int OW, int H, int W, int dz, int edge)
{
    RV win[KH];
#pragma unroll
    for (int j = 1; j < KH; j++)
        win[j] = avg_row_share(gp, oz, y0 + PH - KH + j, cx0, OH, OW, H, W, dz, edge);
    __global data_t *at = drow0 + cx0;
    for (int iy = y0; iy < y1; iy++, at += W) {
#pragma unroll
        for (int j = 0; j + 1 < KH; j++)
            win[j] = win[j + 1];
        win[KH - 1] = avg_row_share(gp, oz, iy + PH, cx0, OH, OW, H, W, dz, edge);
        RV acc = (RV)(0);
#pragma unroll
        for (int j = 0; j < KH; j++)
            acc += win[j];
        STORE_RV(acc, at);
    }
}
#endif

#if VEC_STRIDE2 || AVG_ROWS
/* Writes +0 to `rows` rows of W cells from p. */
GRAD_FN void zero_rows(__global data_t *p, int rows, int W)
{
    const long cells = (long)max(rows, 0) * W;
    long i = 0;
    for (; i + VW <= cells; i += VW)
        STORE_RV((RV)(0), p + i);
    for (; i < cells; i++)
        p[i] = 0;
}
#endif

#if VEC_STRIDE2
/* Adds to input row `drow` (flat index rowbase of its first cell) the
 * gradients of the output row at gp/ip whose indices select a cell of the
 * row, for stride 2 without dilation: per cell in ascending ox (descending
 * kx), as the gather adds them. In a chunk of 2*VW columns starting where
 * cx0 + PW is even, the even (odd) column 2m (2m + 1) takes kx = 2j
 * (2j + 1) from output (cx0 + PW)/2 + m - j, so a kx reads VW consecutive
 * outputs, whose hits are spread to every other column and added to the
 * chunk; lanes whose output does not select the cell add +0 (the sum,
 * never -0, stays as it is). The last chunk overlaps the one before (its
 * repeated lanes add +0); the columns the chunks do not reach (the row's
 * ends) go one by one. `fresh`: the row's first visit, every cell starts
 * from +0 instead of its stored value (the chunks and columns cover the row;
 * a repeated lane stores +0 and the chunk after it, its owner, overwrites
 * it). */
GRAD_FN void stride2_row(__global data_t *drow, __global const data_t *gp,
                         __global const INDEX_T *ip, long rowbase, int W, int OW, bool fresh)
{
    const int JMAX = (KW - 1) / 2;
    /* vector chunks start at cx0 with cx0 + PW even, every output they read in [0, OW) */
    const int first = max(PW & 1, 2 * JMAX - PW);
    int last = min(W - 2 * VW, 2 * (OW - VW) - PW);
    last -= (last + PW) & 1;
    int scalar_from = 0, scalar_to = W; /* [0, first) and [end, W) when chunks run */
    if (last >= first) {
        scalar_to = first;
        scalar_from = last + 2 * VW;
        /* the last chunk first: a chunk's loads then never wait for the
         * stores of the chunk just before (the overlap) */
        const int chunks = (last - first) / (2 * VW) + 1 + ((last - first) % (2 * VW) != 0);
        for (int k = 0; k < chunks; k++) {
            const int c = first + (k == 0 ? chunks - 1 : k - 1) * 2 * VW;
            const int cx0 = min(c, last), a = (cx0 + PW) / 2;
            const IV own = LANE_IDS >= (IV)((c - cx0) / 2); /* not the chunk before's */
            RV lo = (RV)(0), hi = (RV)(0);
            if (!fresh) {
                lo = LOAD_RV(drow + cx0);
                hi = LOAD_RV(drow + cx0 + VW);
            }
            const XV at_even = (XV)((INDEX_T)(rowbase + cx0)) +
                               (XV)(2) * CAT(CAT(convert_, INDEX_T), VW)(LANE_IDS);
#pragma unroll
            for (int kx = KW - 1; kx >= 0; kx--) {
                const int o0 = a - kx / 2;
                const XV q = CAT(vload, VW)(0, ip + o0);
                const RV g = LOADN(VW, gp + o0);
                const IV hit = CAT(convert_int, VW)(q == at_even + (XV)((INDEX_T)(kx & 1))) & own;
                const RV e = select((RV)(0), g, MASK_OF(hit));
                /* e's lanes go to the even (odd) columns of the chunk */
                if (kx & 1) {
                    lo += shuffle2((RV)(0), e, ZIP_LO);
                    hi += shuffle2((RV)(0), e, ZIP_HI);
                } else {
                    lo += shuffle2(e, (RV)(0), ZIP_LO);
                    hi += shuffle2(e, (RV)(0), ZIP_HI);
                }
            }
            STORE_RV(lo, drow + cx0);
            STORE_RV(hi, drow + cx0 + VW);
        }
    }
    for (int cx = 0; cx < W; cx++) {
        if (cx == scalar_to)
            cx = max(cx, scalar_from);
        if (cx >= W)
            break;
        real_t acc = fresh ? (real_t)0 : LOAD1(drow + cx);
        for (int kx = KW - 1; kx >= 0; kx--) {
            const int t = cx + PW - kx, ox = t >> 1;
            if (t >= 0 && !(t & 1) && ox < OW && (long)ip[ox] == rowbase + cx)
                acc += LOAD1(gp + ox);
        }
        STORE1(acc, drow + cx);
    }
}
#endif

#if BLOCK_ROWS
/*
 * The block variant (CPUs, float32 and float64, avg and the selections read
 * from the forward's indices): a work-item owns BLOCK_ROWS input rows of one
 * depth slice of a unit (every channel of them in NHWC), zeroes them in
 * grad_in, then visits each output whose window reaches the block once, in
 * the gather's order (oz, oy, ox ascending), and adds its contribution to
 * the cells of the block it reaches. grad_in then accumulates in the
 * computation type (the storage type here), and every element receives the
 * same additions in the same order as in the per-element gather: the
 * results are bit for bit those of the gather, with each output read about
 * once per block instead of once per window cell.
 */
__kernel void window_backward(__global const data_t *restrict x,
                              __global const data_t *restrict grad_out,
                              __global const INDEX_T *restrict indices,
                              __global data_t *restrict grad_in, ulong8 run, int8 shape,
                              CAT(REAL, 4) params, ulong first_plane)
{
    const ulong items = run.s5, seed = run.s7;
    const int D = shape.s0, H = shape.s1, W = shape.s2, OD = shape.s3, OH = shape.s4;
    const int OW = shape.s5, blocks = shape.s6;
#if NHWC
    const int C = (int)run.s6;
#else
    const int C = 1;
#endif
    (void)x;
    (void)seed;
    (void)params;
    (void)indices;
    (void)first_plane;
    const uint gid = (uint)get_global_id(0);
    if (gid >= items)
        return;
    const int b = (int)(gid % (uint)blocks);
    uint rest = gid / (uint)blocks;
    const int iz = (int)(rest % (uint)D);
    const ulong unit = run.s4 + rest / (uint)D;
    const int y0 = b * BLOCK_ROWS, y1 = min(y0 + BLOCK_ROWS, H);
    const ulong in_plane = (ulong)D * H * W, out_plane = (ulong)OD * OH * OW;
    /* unit: a plane (NCHW) or a sample (NHWC, C channels per position) */
    __global data_t *dst = grad_in + run.s3 + unit * in_plane * C;
    __global const data_t *gp = grad_out + run.s1 + unit * out_plane * C;
#if READS_INDICES
    __global const INDEX_T *ip = indices + run.s2 + unit * out_plane * C;
#endif
    const long row0 = ((long)iz * H + y0) * W;
#if AVG_ROWS
    {
        int oz_lo, oz_hi;
        covering(iz, KD, SD, PD, DD, OD, &oz_lo, &oz_hi);
        if (oz_lo > oz_hi) { /* no output covers this slice */
            zero_rows(dst + row0, y1 - y0, W);
            return;
        }
        const int dz = pooled_cells(oz_lo * SD - PD, KD, D, PD, COUNT_PAD);
        const int chunks = (W + VW - 1) / VW;
        for (int k = 0; k < chunks; k++) {
            const int cx0 = min(k * VW, W - VW);
            if (cx0 == W - VW) {
                if (cx0 == 0)
                    avg_rows_chunk(dst + row0, gp, oz_lo, y0, y1, 0, OH, OW, H, W, dz,
                                   FIRST_CHUNK | LAST_CHUNK);
                else
                    avg_rows_chunk(dst + row0, gp, oz_lo, y0, y1, cx0, OH, OW, H, W, dz,
                                   LAST_CHUNK);
            } else if (cx0 == 0) {
                avg_rows_chunk(dst + row0, gp, oz_lo, y0, y1, 0, OH, OW, H, W, dz, FIRST_CHUNK);
            } else {
                avg_rows_chunk(dst + row0, gp, oz_lo, y0, y1, cx0, OH, OW, H, W, dz, 0);
            }
        }
        return;
    }
#endif
#if DIRECT_PAIRS
    /* Each input cell (iy, cx) has one covering output (iy / KH, cx / 2):
     * its gradient is 0 + g where that output's index is the cell, else 0
     * (the gather's sum of one term; 0 + g turns a -0 into +0 as it does). */
    for (int iy = y0; iy < y1; iy++) {
        __global data_t *drow = dst + ((long)iz * H + iy) * W;
        const long base = ((long)iz * H + iy) * W; /* the row's first cell */
        const int oy = iy / KH;
        int written = 0;
        if (oy < OH) {
            const long orow = ((long)iz * OH + oy) * OW;
            const int pairs = min(OW, W / 2); /* outputs with both cells in the row */
            int ox = 0;
            if (pairs >= VW) {
                for (int c0 = 0; c0 < pairs; c0 += VW) {
                    /* the last chunk overlaps the one before: it rewrites
                     * the same values */
                    const int ox0 = min(c0, pairs - VW);
                    const XV q = CAT(vload, VW)(0, ip + orow + ox0);
                    const XV left = (XV)(base + 2 * (long)ox0) +
                                    (XV)(2) * CAT(CAT(convert_, INDEX_T), VW)(LANE_IDS);
                    const RV g = LOADN(VW, gp + orow + ox0);
                    const RV e0 = select((RV)(0), g, MASK_OF(q == left)) + (RV)(0);
                    const RV e1 = select((RV)(0), g, MASK_OF(q == left + (XV)(1))) + (RV)(0);
                    STORE_RV(shuffle2(e0, e1, ZIP_LO), drow + 2 * ox0);
                    STORE_RV(shuffle2(e0, e1, ZIP_HI), drow + 2 * ox0 + VW);
                }
                ox = pairs;
            }
            for (; ox < OW; ox++) {
                const long q = (long)ip[orow + ox];
                const real_t g = LOAD1(gp + orow + ox);
                for (int kx = 0; kx < 2 && 2 * ox + kx < W; kx++)
                    STORE1((q == base + 2 * ox + kx ? g : (real_t)0) + (real_t)0,
                           drow + 2 * ox + kx);
            }
            written = min(2 * OW, W);
        }
        for (int cx = written; cx < W; cx++)
            STORE1((real_t)0, drow + cx);
    }
    return;
#endif
#if VEC_STRIDE2
    /* no zeroing pass: a row's first visit writes it (rows [y0, fresh_from)
     * hold values); the rows a visit skips are zeroed then */
    int fresh_from = y0;
#else
    const long cells = (long)(y1 - y0) * W * C;
    long i = 0;
#if VW > 1
    for (; i + VW <= cells; i += VW)
        STORE_RV((RV)(0), dst + row0 * C + i);
#endif
    for (; i < cells; i++)
        dst[row0 * C + i] = 0;
#endif
    int oz_lo, oz_hi, oy_lo, oy_hi, t;
    covering(iz, KD, SD, PD, DD, OD, &oz_lo, &oz_hi);
    covering(y0, KH, SH, PH, DH, OH, &oy_lo, &t);
    covering(y1 - 1, KH, SH, PH, DH, OH, &t, &oy_hi);
    for (int oz = oz_lo; oz <= oz_hi; oz++) {
        const int zs = oz * SD - PD;
        (void)zs;
        if (DD > 1 && (iz - zs) % DD != 0)
            continue;
        for (int oy = oy_lo; oy <= oy_hi; oy++) {
            const int ys = oy * SH - PH;
            const long orow = ((long)oz * OH + oy) * OW;
#if VEC_STRIDE2
            /* Stride 2 (NCHW): for each window row ky inside the block, the
             * row's cells take the outputs' gradients in the gather's order
             * (ox ascending, i.e. kx descending for a given cell). */
            for (int ky = 0; ky < KH; ky++) {
                const int cy = ys + ky * DH;
                if (cy < y0 || cy >= y1)
                    continue;
                const long rowbase = ((long)iz * H + cy) * W; /* flat index of (cy, 0) */
                const bool fresh = cy >= fresh_from;
                if (fresh) {
                    zero_rows(dst + row0 + (long)(fresh_from - y0) * W, cy - fresh_from, W);
                    fresh_from = cy + 1;
                }
                stride2_row(dst + rowbase, gp + orow, ip + orow, rowbase, W, OW, fresh);
            }
#elif READS_INDICES
            /* the rows of this window inside the block: the index must lie
             * in one of them, on a cell of the window */
            for (int ox = 0; ox < OW; ox++) {
                const int xs = ox * SW - PW;
                const long o = orow + ox;
                for (int c = 0; c < C; c++) {
                    const long q = (long)ip[o * C + c];
                    const long r = q - row0;
                    if (r < 0 || r >= (long)(y1 - y0) * W)
                        continue;
                    const int qy = y0 + (int)(r / W), qx = (int)(r % W);
                    const int dy = qy - ys, dx = qx - xs;
                    if (dy < 0 || dy > (KH - 1) * DH || dx < 0 || dx > (KW - 1) * DW ||
                        ((dy % DH) | (dx % DW)) != 0)
                        continue;
                    __global data_t *at = dst + q * C + c;
                    STORE1(LOAD1(at) + LOAD1(gp + o * C + c), at);
                }
            }
#elif POOL_OP == OP_AVG
            /* each input column's share of this output row (the gather's
             * row sum), added to the block rows the window row reaches */
            const int ky_lo = max(0, y0 - ys), ky_hi = min(KH, y1 - ys);
            if (ky_lo >= ky_hi)
                continue;
            const int dzy = pooled_cells(zs, KD, D, PD, COUNT_PAD) *
                            pooled_cells(ys, KH, H, PH, COUNT_PAD);
            (void)dzy;
            __global data_t *rowp = dst + (((long)iz * H + ys + ky_lo) * W) * C;
#if VEC_AVG
            /* VW columns at once (NCHW, stride 1, avg_chunk_sum). The last
             * chunk overlaps the one before (W >= VW): its repeated lanes add
             * +0; it goes first, so that no chunk's loads wait for the stores
             * of the one before. */
            const int chunks = (W + VW - 1) / VW;
            for (int k = 0; k < chunks; k++) {
                const int c0 = (k == 0 ? chunks - 1 : k - 1) * VW;
                const int cx0 = min(c0, W - VW);
                RV rs;
                if (cx0 == W - VW)
                    rs = cx0 == 0
                             ? avg_chunk_sum(gp + orow, 0, OW, W, dzy, FIRST_CHUNK | LAST_CHUNK)
                             : avg_chunk_sum(gp + orow, cx0, OW, W, dzy, LAST_CHUNK);
                else
                    rs = cx0 == 0 ? avg_chunk_sum(gp + orow, 0, OW, W, dzy, FIRST_CHUNK)
                                  : avg_chunk_sum(gp + orow, cx0, OW, W, dzy, 0);
                if (cx0 != c0)
                    rs = select((RV)(0), rs, MASK_OF(LANE_IDS >= (IV)(c0 - cx0)));
                __global data_t *at = rowp + cx0;
                for (int ky = ky_lo; ky < ky_hi; ky++, at += W)
                    STORE_RV(LOAD_RV(at) + rs, at);
            }
#else
            for (int cx = 0; cx < W; cx++) {
                int ox_lo, ox_hi;
                covering(cx, KW, SW, PW, DW, OW, &ox_lo, &ox_hi);
                for (int c = 0; c < C; c++) {
                    real_t rs = 0;
                    for (int ox = ox_lo; ox <= ox_hi; ox++)
                        rs += LOAD1(gp + (orow + ox) * C + c) / avg_divisor(dzy, ox * SW - PW, W);
                    __global data_t *at = rowp + (long)cx * C + c;
                    for (int ky = ky_lo; ky < ky_hi; ky++, at += (long)W * C)
                        STORE1(LOAD1(at) + rs, at);
                }
            }
#endif
#endif
        }
    }
#if VEC_STRIDE2
    zero_rows(dst + row0 + (long)(fresh_from - y0) * W, y1 - fresh_from, W);
#endif
}
#else
/* Arguments: the input (read by the operators that recompute their
 * window), the output gradient, the forward's indices (HAS_INDICES) and the
 * input gradient; `run` = (offsets in elements of input, grad_output,
 * indices and grad_input, the launch's first unit (a plane for NCHW, a
 * sample for NHWC), its work-item count, channels C, the seed); `shape` =
 * (input D, H, W, output OD, OH, OW, blocks per slice (block variant),
 * unused); `params` = (p, 1/p, alpha, beta); `first_plane` = the
 * generator's plane of the tensor's plane 0 (first_sample * C).
 *
 * Work-items: ROW_ITEMS, one per input row (z, y) of a unit, looping over
 * the row's elements (and, NHWC, every channel of each); else one per input
 * element (channel fastest in NHWC, so neighbouring items read neighbouring
 * addresses). */
__kernel void window_backward(__global const data_t *restrict x,
                              __global const data_t *restrict grad_out,
                              __global const INDEX_T *restrict indices,
                              __global data_t *restrict grad_in, ulong8 run, int8 shape,
                              CAT(REAL, 4) params, ulong first_plane)
{
    const ulong items = run.s5, C = run.s6, seed = run.s7;
    const int D = shape.s0, H = shape.s1, W = shape.s2, OD = shape.s3, OH = shape.s4;
    const int OW = shape.s5;
    (void)C;
    const uint gid = (uint)get_global_id(0);
    if (gid >= items)
        return;
    uint rest = gid;
#if ROW_ITEMS
    const int x_begin = 0, x_end = W;
#if NHWC
    const ulong c_begin = 0, c_end = C;
#endif
#else
#if NHWC
    const ulong c_begin = rest % (uint)C, c_end = c_begin + 1;
    rest /= (uint)C;
#endif
    const int x_begin = (int)(rest % (uint)W), x_end = x_begin + 1;
    rest /= (uint)W;
#endif
    const int iy = (int)(rest % (uint)H);
    rest /= (uint)H;
    const int iz = (int)(rest % (uint)D);
    const ulong unit = run.s4 + rest / (uint)D;
    const ulong in_plane = (ulong)D * H * W, out_plane = (ulong)OD * OH * OW;
    int oz_lo, oz_hi, oy_lo, oy_hi;
    covering(iz, KD, SD, PD, DD, OD, &oz_lo, &oz_hi);
    covering(iy, KH, SH, PH, DH, OH, &oy_lo, &oy_hi);
    const long row = ((long)iz * H + iy) * W;
#if READS_INDICES
    __global const INDEX_T *ibase = indices + run.s2;
#else
    __global const INDEX_T *ibase = indices;
#endif
#if READS_INPUT
    __global const data_t *xbase = x + run.s0;
#else
    __global const data_t *xbase = x;
#endif
#if NHWC
    /* unit = sample; element (x, c) of the row is at (row + x)*C + c. */
    __global const data_t *xs_ = xbase + (READS_INPUT ? unit * in_plane * C : 0);
    __global const data_t *gs = grad_out + run.s1 + unit * out_plane * C;
    __global const INDEX_T *is = ibase + (READS_INDICES ? unit * out_plane * C : 0);
    __global data_t *ds = grad_in + run.s3 + unit * in_plane * C;
    for (int ix = x_begin; ix < x_end; ix++) {
        for (ulong c = c_begin; c < c_end; c++) {
            const long at = (row + ix) * (long)C + (long)c;
            const real_t xq = READS_INPUT ? LOAD1(xs_ + at) : (real_t)0;
            const real_t r =
                input_grad(xs_ + c, gs + c, is + c, (long)C, D, H, W, OD, OH, OW, iz, iy, ix,
                           oz_lo, oz_hi, oy_lo, oy_hi, xq, params, seed,
                           first_plane + unit * C + c);
            STORE1(r, ds + at);
        }
    }
#else
    /* unit = plane. */
    __global const data_t *xp = xbase + (READS_INPUT ? unit * in_plane : 0);
    __global const data_t *gp = grad_out + run.s1 + unit * out_plane;
    __global const INDEX_T *ip = ibase + (READS_INDICES ? unit * out_plane : 0);
    __global data_t *dp = grad_in + run.s3 + unit * in_plane;
    for (int ix = x_begin; ix < x_end; ix++) {
        const real_t xq = READS_INPUT ? LOAD1(xp + row + ix) : (real_t)0;
        const real_t r = input_grad(xp, gp, ip, 1, D, H, W, OD, OH, OW, iz, iy, ix, oz_lo, oz_hi,
                                    oy_lo, oy_hi, xq, params, seed,
                                    first_plane + unit);
        STORE1(r, dp + row + ix);
    }
#endif
}
#endif
