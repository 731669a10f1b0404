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
 *   VW            block variant, NCHW avg with stride 1: columns per vector
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

/* The block variant's vector path: avg over NCHW rows with stride 1. */
#define VEC_AVG (BLOCK_ROWS && VW > 1 && POOL_OP == OP_AVG && !NHWC && SW == 1)
#if VW > 1
typedef CAT(REAL, VW) RV;
typedef CAT(int, VW) IV;
#if VW == 2
#define LANE_IDS ((IV)(0, 1))
#elif VW == 4
#define LANE_IDS ((IV)(0, 1, 2, 3))
#elif VW == 8
#define LANE_IDS ((IV)(0, 1, 2, 3, 4, 5, 6, 7))
#else
#define LANE_IDS ((IV)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
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
    const long cells = (long)(y1 - y0) * W * C;
    for (long i = 0; i < cells; i++)
        dst[row0 * C + i] = 0;
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
#if READS_INDICES
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
            /* VW columns at once (NCHW, stride 1): lane l of the chunk at cx0
             * is column cx0 + l, whose outputs are ox = cx0 + l + PW - KW + 1
             * + j, j = 0 .. KW-1 ascending as in the scalar loop; outputs
             * outside the row add +0, which leaves a sum (never -0) as is. */
            for (int cx0 = 0; cx0 < W; cx0 += VW) {
                RV rs = (RV)(0);
                for (int j = 0; j < KW; j++) {
                    const int ox0 = cx0 + PW - (KW - 1) + j;
                    const IV ox = (IV)(ox0) + LANE_IDS;
                    const IV in_row = (ox >= (IV)(0)) & (ox < (IV)(OW));
                    RV gv;
                    if (ox0 >= 0 && ox0 + VW <= OW) {
                        gv = LOADN(VW, gp + orow + ox0);
                    } else {
                        real_t t_[VW];
                        for (int l = 0; l < VW; l++)
                            t_[l] = ox0 + l >= 0 && ox0 + l < OW ? LOAD1(gp + orow + ox0 + l) : 0;
                        gv = CAT(vload, VW)(0, t_);
                    }
#if DIVISOR
                    const RV dv = (RV)((real_t)DIVISOR);
#else
                    const IV xs = ox - (IV)(PW);
                    const IV cells = COUNT_PAD ? min(xs + (IV)(KW), (IV)(W + PW)) - xs
                                               : min(xs + (IV)(KW), (IV)(W)) - max(xs, (IV)(0));
                    const RV dv = CAT(convert_, CAT(REAL, VW))((IV)(dzy) * select((IV)(1), cells, in_row));
#endif
                    rs += gv / dv;
                }
                __global data_t *at = rowp + cx0;
                if (cx0 + VW <= W) {
                    for (int ky = ky_lo; ky < ky_hi; ky++, at += W)
                        STOREN(VW, LOADN(VW, at) + rs, at);
                } else {
                    real_t r_[VW];
                    CAT(vstore, VW)(rs, 0, r_);
                    for (int ky = ky_lo; ky < ky_hi; ky++, at += W)
                        for (int l = 0; cx0 + l < W; l++)
                            STORE1(LOAD1(at + l) + r_[l], at + l);
                }
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
