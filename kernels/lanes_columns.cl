/*
 * lanes_columns.cl: the column walk of window_lanes.cl (included at its end)
 * for lp and softmax pooling of NCHW planes on CPUs. A work-item takes one
 * chunk of CW outputs of every output row of a block of rows: it reduces each
 * input row of the chunk's span once and keeps the last KH row reductions,
 * as window_pool.cl's column variant does for max and avg.
 *
 * The VW lanes of a chunk hold the input cells [xs, xs + VW) of a row. The
 * cell function (lp: x^p; softmax: e = exp(beta*x - M) and e*x) is computed
 * once per cell, and output lane l sums it over cells l + kx*DW, shifted down
 * into lane l: a chunk has CW = VW - (KW-1)*DW outputs.
 *
 * softmax: M is the largest beta*x of the rows the work-item reads, one shift
 * shared by all its windows, so that each exp serves every window holding the
 * cell; the quotient sum(e*x) / sum(e) does not depend on the shift. A window
 * whose own maximum lies far below M (sum(e) < SOFTMAX_SUM_MIN: its terms
 * would lose precision or underflow) or whose sums are not finite (NaN or
 * inf involved) sends its output row of the chunk to pool_lanes, which
 * computes each window with its own maximum, so those results are exactly
 * window_lanes' per-window ones. With
 * sum(e) >= SOFTMAX_SUM_MIN the window maximum m is within ln(K /
 * SOFTMAX_SUM_MIN) of M (K the window's cells), which adds at most that many
 * units of roundoff to each term's argument beta*x - M: within spec section 11.
 *
 * Macros: those of window_lanes.cl, with COLUMNS 1, NHWC 0, POOL_OP lp or
 * softmax, KD 1, DH 1, SW 1, SH < KH and (KW-1)*DW < VW (src/ops/window.c
 * checks this when it picks the variant).
 */
#ifndef COLUMNS
#define COLUMNS 0
#endif

#if COLUMNS
#if NHWC || VW < 4 || KD != 1 || DH != 1 || SW != 1 || (KW - 1) * DW >= VW ||                     \
    (POOL_OP != OP_LP && POOL_OP != OP_SOFTMAX)
#error "COLUMNS: lp or softmax, NCHW, VW >= 4, 2-D windows with DH 1 and SW 1, (KW-1)*DW < VW"
#endif

/* Outputs per chunk. */
#define CW (VW - (KW - 1) * DW)

/* Below this sum of exp(beta*x - M) a softmax window is recomputed with its
 * own maximum: m >= M - ln(K) - 6.93. */
#define SOFTMAX_SUM_MIN ((real_t)0x1p-10)

/* A column whose beta*x spread over at most this (< ln(2^10)), all finite
 * and below SOFTMAX_X_MAX in magnitude, skips the per-row checks: every
 * window's sum(e) >= exp(-spread) > SOFTMAX_SUM_MIN and sum(e*x) cannot
 * overflow. Only without dilation along rows: with it a window may hold no
 * real cell (sum(e) = 0, where the result is 0). */
#define SOFTMAX_SPREAD ((real_t)6.5)
#if DTYPE == DT_F64
#define SOFTMAX_X_MAX (DBL_MAX / (4.0 * KH * KW))
#else
#define SOFTMAX_X_MAX (FLT_MAX / (4.0f * KH * KW))
#endif

/* Loops with compile-time bounds, unrolled so that the row reductions stay
 * in registers and every shift is a constant shuffle (compilers that do not
 * know the pragma ignore it). */
#define UNROLL _Pragma("unroll")

/* v with lane i + s moved into lane i (the top lanes wrap round); s is a
 * compile-time constant once inlined, which makes this one shuffle. */
#if DTYPE == DT_F64
#define SHIFT_MASK(s) CAT(convert_ulong, VW)((LANE_IDS + (s)) & (VW - 1))
#else
#define SHIFT_MASK(s) CAT(convert_uint, VW)((LANE_IDS + (s)) & (VW - 1))
#endif
#define shift_down(v, s) shuffle((v), SHIFT_MASK(s))

/* Whether any lane of the mask m is set: a tree of ors (any() may test the
 * lanes one by one). */
OUTPUT_FN bool any_lane(IV m)
{
#if VW == 16
    const int8 m8 = m.lo | m.hi;
#elif VW == 8
    const int8 m8 = m;
#endif
#if VW >= 8
    const int4 m4 = m8.lo | m8.hi;
#else
    const int4 m4 = m;
#endif
    const int2 m2 = m4.lo | m4.hi;
    return (m2.x | m2.y) != 0;
}

/* Lanes [0, n) of v stored at p, n <= VW: a vector store, else pieces of 8,
 * 4, 2 and 1 lanes. */
OUTPUT_FN void store_head(RV v, int n, __global data_t *p)
{
    if (n == VW) {
        STOREW(v, p);
        return;
    }
#if VW == 16
    if (n & 8) {
        STOREN(8, v.s01234567, p);
        p += 8;
        v = shift_down(v, 8);
    }
#endif
#if VW >= 8
    if (n & 4) {
        STOREN(4, v.s0123, p);
        p += 4;
        v = shift_down(v, 4);
    }
#endif
#if VW >= 4
    if (n & 2) {
        STOREN(2, v.s01, p);
        p += 2;
        v = shift_down(v, 2);
    }
#endif
    if (n & 1)
        STORE1(v.s0, p);
}

/* The rows [lo, hi) of the plane at src (which starts src_off elements into a
 * tensor of in_elems) whose span [xs, xs + VW) lies inside the tensor: those
 * load one vector (lanes outside the row then hold its neighbours). */
typedef struct span_rows {
    int lo, hi;
} span_rows;

/* (An out-parameter, not a returned struct: inlining a struct return leaves
 * noalias scope intrinsics in unoptimised builds, which Oclgrind rejects.) */
OUTPUT_FN void vector_rows(int H, int W, int xs, long src_off, long in_elems, span_rows *r)
{
    /* iy*W + xs + src_off >= 0 and iy*W + xs + src_off + VW <= in_elems */
    const long first = -(src_off + xs), last = in_elems - VW - (src_off + xs);
    r->lo = first <= 0 ? 0 : (int)min((first + W - 1) / W, (long)H);
    r->hi = last < 0 ? 0 : (int)min(last / W + 1, (long)H);
}

/* Input cells [xs, xs + VW) of row iy (inside the plane): a vector load for
 * the rows of `vec`, else lane by lane with 0 outside the row. */
OUTPUT_FN RV load_span(__global const data_t *src, int iy, int W, int xs, span_rows vec)
{
    __global const data_t *p = src + (long)iy * W + xs;
    if (iy >= vec.lo && iy < vec.hi)
        return LOADW(p);
    real_t t[VW];
    for (int l = 0; l < VW; l++)
        t[l] = xs + l >= 0 && xs + l < W ? LOAD1(p + l) : (real_t)0;
    return PRIV_LOAD(t);
}

/* Lane l: the sum of f over cells l, l + DW, ..., l + (KW-1)*DW, left to right. */
OUTPUT_FN RV window_row_sum(RV f)
{
    RV h = f;
    UNROLL for (int kx = 1; kx < KW; kx++)
        h += shift_down(f, kx * DW);
    return h;
}

#if POOL_OP == OP_LP
/* x^p: integer exponents multiply (as window_lanes' PASS_POW*). */
OUTPUT_FN RV lp_power(RV x, real_t P)
{
    if (P == (real_t)2)
        return POW_2(x);
    if (P == (real_t)1)
        return POW_1(x);
    if (P == (real_t)3)
        return POW_3(x);
    if (P == (real_t)4)
        return POW_4(x);
    return POW_ANY(x);
}
#endif

/* The reductions of input row iy for the chunk: lp the sums of x^p, softmax
 * those of e and e*x (padding cells add nothing); 0 for rows outside the
 * plane. */
OUTPUT_FN void reduce_span(__global const data_t *src, int iy, int H, int W, int xs, IV valid,
                           span_rows vec, real_t P, real_t BETA, real_t M, RV *h0, RV *h1)
{
    (void)valid;
    (void)P;
    (void)BETA;
    (void)M;
    if (iy < 0 || iy >= H) {
        *h0 = (RV)(0);
        *h1 = (RV)(0);
        return;
    }
    const RV x = load_span(src, iy, W, xs, vec);
#if POOL_OP == OP_LP
    /* lp has no padding: lanes past the row feed only lanes past the chunk */
    *h0 = window_row_sum(lp_power(x, P));
    *h1 = (RV)(0);
#else
    const RV e = select((RV)(0), exp((RV)(BETA)*x - (RV)(M)), RMASK(valid));
    *h0 = window_row_sum(e);
    /* padding lanes hold the row's neighbours, which may be inf or NaN; e = 0
     * with x = +-inf in the row gives NaN: the windows holding it take the
     * fallback, which weighs the cell 0 */
    *h1 = window_row_sum(e * select((RV)(0), x, RMASK(valid)));
#endif
}

#if POOL_OP == OP_SOFTMAX
/* The largest beta*x of input rows [iy0, iy1) in the lanes of `valid` (NaN
 * ignored): beta times the largest x, or the smallest for beta < 0 (the
 * product is monotone in x). *safe: the rows need no per-window checks (see
 * SOFTMAX_SPREAD). */
OUTPUT_FN real_t span_max(__global const data_t *src, int iy0, int iy1, int W, int xs, IV valid,
                          span_rows vec, real_t BETA, bool *safe)
{
    RV hi = (RV)(-INFINITY), lo = (RV)(INFINITY);
    for (int iy = iy0; iy < iy1; iy++) {
        const RV x = load_span(src, iy, W, xs, vec);
        hi = select(hi, x, RMASK(IMASK(isgreater(x, hi))));
        lo = select(lo, x, RMASK(IMASK(isless(x, lo))));
    }
    real_t th[VW], tl[VW];
    PRIV_STORE(select((RV)(-INFINITY), hi, RMASK(valid)), th);
    PRIV_STORE(select((RV)(INFINITY), lo, RMASK(valid)), tl);
    real_t h = th[0], l = tl[0];
    for (int i = 1; i < VW; i++) {
        h = fmax(h, th[i]);
        l = fmin(l, tl[i]);
    }
    /* NaN cells are skipped by both: their windows come out NaN, as they should */
    *safe = DW == 1 && fabs(h) <= SOFTMAX_X_MAX && fabs(l) <= SOFTMAX_X_MAX &&
            fabs(BETA) * (h - l) <= SOFTMAX_SPREAD;
    return BETA * (BETA >= (real_t)0 ? h : l);
}

/* A softmax output row computed again window by window (each with its own
 * maximum): rare, so kept out of line. */
__attribute__((noinline)) void softmax_rows_exact(__global const data_t *src,
                                                  __global data_t *dst, __global INDEX_T *idx,
                                                  int H, int W, int ys, int xs, int live,
                                                  long src_off, long in_elems, ulong unit,
                                                  ulong out_pos, CAT(REAL, 4) params)
{
    pool_lanes(src, dst, idx, 1, H, W, 0, ys, xs, live, false, 1, src_off, in_elems, unit,
               out_pos, 0, params);
}
#endif

/* Output rows [oy0, oy1) of the chunk at ox0 (live outputs) of one plane:
 * src and dst point at the plane's input and output, which start src_off
 * elements into an input tensor of in_elems; the other arguments are
 * pool_lanes' (its fallback). */
OUTPUT_FN void pool_column(__global const data_t *src, __global data_t *dst,
                           __global INDEX_T *idx, int H, int W, int OW, int oy0, int oy1, int ox0,
                           int live, long src_off, long in_elems, ulong unit,
                           CAT(REAL, 4) params)
{
    const real_t P = params.s0, INV_P = params.s1, BETA = params.s3;
    (void)INV_P;
    (void)BETA;
    (void)idx;
    (void)unit;
    const int xs = ox0 - PW;
    const IV xl = (IV)(xs) + LANE_IDS;
    const IV valid = (xl >= (IV)(0)) & (xl < (IV)(W));
    span_rows vec;
    vector_rows(H, W, xs, src_off, in_elems, &vec);
#if POOL_OP == OP_SOFTMAX
    const IV live_mask = LANE_IDS < (IV)(live);
    /* the shift: the largest beta*x the block's windows read */
    bool safe;
    const real_t M = span_max(src, max(oy0 * SH - PH, 0), min((oy1 - 1) * SH - PH + KH, H), W,
                              xs, valid, vec, BETA, &safe);
#else
    const real_t M = 0;
#endif
    RV h0[KH], h1[KH];
    /* Prime: after the first slide, rows ys0 .. ys0 + KH - SH are in place. */
    const int ys0 = oy0 * SH - PH;
    UNROLL for (int j = 0; j + SH < KH; j++)
        reduce_span(src, ys0 + j, H, W, xs, valid, vec, P, BETA, M, &h0[j + SH], &h1[j + SH]);
    for (int oy = oy0; oy < oy1; oy++) {
        const int ys = oy * SH - PH;
        UNROLL for (int j = 0; j + SH < KH; j++) {
            h0[j] = h0[j + SH];
            h1[j] = h1[j + SH];
        }
        UNROLL for (int j = KH - SH; j < KH; j++)
            reduce_span(src, ys + j, H, W, xs, valid, vec, P, BETA, M, &h0[j], &h1[j]);
        RV s0 = h0[0], s1 = h1[0];
        UNROLL for (int j = 1; j < KH; j++) {
            s0 += h0[j];
            s1 += h1[j];
        }
        __global data_t *out = dst + (long)oy * OW + ox0;
#if POOL_OP == OP_LP
        /* torch: (K/D) * sum x^p with D the real cells (rows here: SW 1
         * keeps every window whole along the row), then ^(1/p) */
        const int rows = min(ys + KH, H) - max(ys, 0);
        const RV t = rows == KH ? s0 : s0 * (RV)((real_t)KH / (real_t)rows);
        RV r;
        if (P == (real_t)2)
            r = sqrt(t);
        else if (P == (real_t)1)
            r = t;
        else
            r = pow(t, (RV)(INV_P));
        store_head(r, live, out);
#else
        if (safe) {
            store_head(s1 / s0, live, out);
            continue;
        }
        /* sum(e) <= K always (e <= 1), and NaN fails the comparison */
        const IV ok = IMASK(isgreaterequal(s0, (RV)(SOFTMAX_SUM_MIN))) & IMASK(isfinite(s1));
        if (any_lane(live_mask & ~ok))
            softmax_rows_exact(src, out, idx, H, W, ys, xs, live, src_off, in_elems, unit,
                               (ulong)oy * OW + ox0, params);
        else
            store_head(s1 / s0, live, out);
#endif
    }
}

/* window_lanes' arguments (`shape`.s6: chunks per output row, .s7: output
 * rows per work-item). Work-item: (plane, block of output rows, chunk). */
__kernel void window_lanes_columns(__global const data_t *restrict in,
                                   __global data_t *restrict out,
                                   __global INDEX_T *restrict indices, ulong8 run, int8 shape,
                                   CAT(REAL, 4) params, ulong first_plane)
{
    (void)first_plane; /* window_lanes' argument list; lp and softmax draw nothing */
    const ulong items = run.s4, in_elems = run.s7;
    const int H = shape.s1, W = shape.s2, OH = shape.s4, OW = shape.s5;
    const int groups = shape.s6, rows = shape.s7;
    const uint gid = (uint)get_global_id(0);
    if (gid >= items)
        return;
    const int blocks = (OH + rows - 1) / rows;
    const uint per_unit = (uint)blocks * (uint)groups;
    const uint unit_rel = gid / per_unit, rest = gid - unit_rel * per_unit;
    const uint block = rest / (uint)groups;
    const int g = (int)(rest - block * (uint)groups);
    const ulong unit = run.s3 + unit_rel;
    const ulong in_plane = (ulong)H * W, out_plane = (ulong)OH * OW;
    const int oy0 = (int)block * rows, oy1 = min(OH, oy0 + rows), ox0 = g * CW;
    pool_column(in + run.s0 + unit * in_plane, out + run.s1 + unit * out_plane, indices, H, W, OW,
                oy0, oy1, ox0, min(CW, OW - ox0), (long)(unit * in_plane), (long)in_elems, unit,
                params);
}
#endif
