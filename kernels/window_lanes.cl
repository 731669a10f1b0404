/*
 * window_lanes.cl: every window pooling operator (max, avg, lp, gem, mixed,
 * softmax, stochastic) for every dtype, in NCHW and NHWC, over 1-D, 2-D and
 * 3-D windows (run as 3-D with unit outer dimensions).
 *
 * A work-item computes VW outputs at once, one per vector lane:
 *   NHWC  VW consecutive channels of one output position: every lane reads
 *         the same window cells, whose loads are contiguous; cells in the
 *         padding are skipped for all lanes at once.
 *   NCHW  VW consecutive outputs of one output row (lane l starts its window
 *         l*SW further right): a chunk whose windows all lie in the row loads
 *         plain vectors; the other chunks gather lane by lane with checks.
 * On GPUs VW is 1 and neighbouring work-items take neighbouring channels
 * (NHWC) or outputs (NCHW), so their loads coalesce.
 *
 * Semantics (spec section 1-3, 5, 10 and the decisions of section 0; the
 * public header documents each operator): "real cells" are the window cells
 * inside the input. Sums run in row-major window order, one lane each.
 *
 * Macros (defaults let the file compile alone):
 *   POOL_OP       1 max, 2 avg, 3 lp, 4 gem, 5 mixed, 6 softmax, 7 stochastic
 *   DTYPE         see dtype.cl
 *   KD KH KW  SD SH SW  PD PH PW  DD DH DW   window, stride, padding, dilation
 *   COUNT_PAD     avg/mixed: padding cells count in the divisor
 *   DIVISOR       avg: fixed divisor, 0 for none
 *   TRAIN         stochastic: 1 samples, 0 takes the weighted average
 *   HAS_INDICES   write flat in-plane indices of type INDEX_T (max, stochastic)
 *   INDEX_T       int or long
 *   NHWC          1 for channels-last tensors
 *   VW            lanes per work-item: 1, 2, 4, 8 or 16
 *   ROW_ITEMS     1: a work-item takes a whole output row
 *   COLUMNS       1: lp and softmax on NCHW walk columns of chunks instead
 *                 (kernel window_lanes_columns, see lanes_columns.cl)
 */
#include "dtype.cl"

#include "window_params.cl"

#ifndef VW
#define VW 4
#endif
#ifndef ROW_ITEMS
#define ROW_ITEMS 0
#endif

#pragma OPENCL FP_CONTRACT OFF

#define OP_MAX 1
#define OP_AVG 2
#define OP_LP 3
#define OP_GEM 4
#define OP_MIXED 5
#define OP_SOFTMAX 6
#define OP_STOCHASTIC 7

#define USES_MAX (POOL_OP == OP_MAX || POOL_OP == OP_MIXED)
#define USES_DIVISOR (POOL_OP == OP_AVG || POOL_OP == OP_MIXED)
#define TWO_PASSES (POOL_OP == OP_SOFTMAX || (POOL_OP == OP_STOCHASTIC && TRAIN))
#define TRACKS_FIRST (POOL_OP == OP_MAX || POOL_OP == OP_STOCHASTIC)

/* RV: VW reals; IV: VW ints (lane masks and window cell numbers). Relational
 * results on double vectors are long vectors: RMASK/IMASK convert between
 * the two mask kinds (scalars compare to int for every type). */
#if VW == 1
typedef real_t RV;
typedef int IV;
#define LOADW(p) LOAD1(p)
#define STOREW(v, p) STORE1((v), (p))
#define PRIV_LOAD(a) ((a)[0])
#define PRIV_STORE(v, a) ((a)[0] = (v))
#define LANE_IDS 0
#define LANE_TRUE 1
#if DTYPE == DT_F64
#define RMASK(m) ((long)(m)) /* select(double, double, long) */
#else
#define RMASK(m) (m)
#endif
#define IMASK(m) (m)
#else
typedef CAT(REAL, VW) RV;
typedef CAT(int, VW) IV;
#define LOADW(p) LOADN(VW, (p))
#define STOREW(v, p) STOREN(VW, (v), (p))
#define PRIV_LOAD(a) CAT(vload, VW)(0, (a))
#define PRIV_STORE(v, a) CAT(vstore, VW)((v), 0, (a))
#define LANE_TRUE (-1)
#if VW == 2
#define LANE_IDS ((IV)(0, 1))
#elif VW == 4
#define LANE_IDS ((IV)(0, 1, 2, 3))
#elif VW == 8
#define LANE_IDS ((IV)(0, 1, 2, 3, 4, 5, 6, 7))
#else
#define LANE_IDS ((IV)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#endif
#if DTYPE == DT_F64
#define RMASK(m) CAT(convert_long, VW)(m)
#define IMASK(m) CAT(convert_int, VW)(m)
#else
#define RMASK(m) (m)
#define IMASK(m) (m)
#endif
#endif

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
 * the divisor: inside the padded extent (COUNT_PAD) or inside the input. */
inline int pooled_cells(int start, int k, int in, int pad, int count_pad)
{
    return count_pad ? min(start + k, in + pad) - start : min(start + k, in) - max(start, 0);
}

/* Loads window cell column kx of the current row for every lane into v,
 * with `valid` set in the lanes whose cell is a real cell. */
#if NHWC
#define LOAD_CELL(kx, v, valid)                                                                   \
    do {                                                                                          \
        __global const data_t *p_ = src + ((rowoff + xs + (kx) * DW) * (long)C);                  \
        if (full_group) {                                                                         \
            (v) = LOADW(p_);                                                                      \
        } else {                                                                                  \
            real_t t_[VW];                                                                        \
            for (int l_ = 0; l_ < VW; l_++)                                                       \
                t_[l_] = l_ < live ? LOAD1(p_ + l_) : (real_t)0;                                  \
            (v) = PRIV_LOAD(t_);                                                                  \
        }                                                                                         \
        (valid) = (IV)(LANE_TRUE);                                                                \
    } while (0)
#define CELL_IN_ROW(kx) (xs + (kx) * DW >= 0 && xs + (kx) * DW < W)
#else
/* Edge chunks still load a plain vector when its span lies inside the
 * tensor, and mask the lanes whose cell is outside the row; only chunks at
 * the tensor's ends gather lane by lane. */
#define LOAD_CELL(kx, v, valid)                                                                   \
    do {                                                                                          \
        const long at_ = rowoff + xs + (kx) * DW;                                                 \
        __global const data_t *p_ = src + at_;                                                    \
        if (SW == 1 && (interior || (src_off + at_ >= 0 && src_off + at_ + VW <= in_elems))) {    \
            (v) = LOADW(p_);                                                                      \
            if (interior) {                                                                       \
                (valid) = (IV)(LANE_TRUE);                                                        \
            } else {                                                                              \
                const IV x_ = xl + (kx) * DW;                                                     \
                (valid) = live_mask & (x_ >= 0) & (x_ < (IV)(W));                                 \
            }                                                                                     \
        } else {                                                                                  \
            real_t t_[VW];                                                                        \
            int m_[VW];                                                                           \
            for (int l_ = 0; l_ < VW; l_++) {                                                     \
                const int x_ = xs + l_ * SW + (kx) * DW;                                          \
                const bool ok_ = interior || (l_ < live && x_ >= 0 && x_ < W);                    \
                t_[l_] = ok_ ? LOAD1(p_ + l_ * SW) : (real_t)0;                                   \
                m_[l_] = ok_ ? LANE_TRUE : 0;                                                     \
            }                                                                                     \
            (v) = PRIV_LOAD(t_);                                                                  \
            (valid) = PRIV_LOAD(m_);                                                              \
        }                                                                                         \
    } while (0)
#define CELL_IN_ROW(kx) true
#endif

/* Runs BODY(v, valid, k) over the window's cells in row-major order (k: the
 * cell's number in the window), skipping rows and (NHWC) cells that lie
 * wholly in the padding. */
#define FOR_EACH_CELL(BODY)                                                                       \
    for (int kz = 0; kz < KD; kz++) {                                                             \
        const int iz = zs + kz * DD;                                                              \
        if (iz < 0 || iz >= D)                                                                    \
            continue;                                                                             \
        for (int ky = 0; ky < KH; ky++) {                                                         \
            const int iy = ys + ky * DH;                                                          \
            if (iy < 0 || iy >= H)                                                                \
                continue;                                                                         \
            const long rowoff = ((long)iz * H + iy) * W;                                          \
            for (int kx = 0; kx < KW; kx++) {                                                     \
                if (!CELL_IN_ROW(kx))                                                             \
                    continue;                                                                     \
                const int k = (kz * KH + ky) * KW + kx;                                           \
                RV v;                                                                             \
                IV valid;                                                                         \
                LOAD_CELL(kx, v, valid);                                                          \
                BODY(v, valid, k);                                                                \
            }                                                                                     \
        }                                                                                         \
    }

/* ---- the operators' accumulation steps ------------------------------------ */

/* b wins if greater or NaN: the first maximum and the last NaN are kept. */
#define MAX_STEP(v, valid, k)                                                                     \
    do {                                                                                          \
        const IV take_ = (valid) & IMASK(isgreater((v), m) | isnan(v));                           \
        m = select(m, (v), RMASK(take_));                                                         \
        best = select(best, (IV)(k), take_);                                                      \
    } while (0)
#define FIRST_STEP(valid, k) (first = select(first, (IV)(k), (valid) & (first < 0)))
#define MASKED(v, valid) select((RV)(0), (v), RMASK(valid))

#if POOL_OP == OP_MAX
#define PASS1(v, valid, k)                                                                        \
    MAX_STEP(v, valid, k);                                                                        \
    FIRST_STEP(valid, k);
#elif POOL_OP == OP_AVG
#define PASS1(v, valid, k) sum += MASKED(v, valid);
#elif POOL_OP == OP_LP || POOL_OP == OP_GEM
/* x^p: small integer exponents multiply (pow costs tens of instructions a
 * lane and would make the operator compute-bound); the exponent is a
 * run-time value, so each case has its own copy of the window loop. */
#define POW_1(x) (x)
#define POW_2(x) ((x) * (x))
#define POW_3(x) ((x) * (x) * (x))
#define POW_4(x) (((x) * (x)) * ((x) * (x)))
#define POW_ANY(x) pow((x), (RV)(P))
#if POOL_OP == OP_LP
#define POWER_BASE(v) (v)
#else
/* max(x, eps) that keeps NaN */
#define POWER_BASE(v) select((v), (RV)(GEM_EPS), RMASK(IMASK(isless((v), (RV)(GEM_EPS)))))
#endif
#define PASS_POW1(v, valid, k) sum += MASKED(POW_1(POWER_BASE(v)), valid);
#define PASS_POW2(v, valid, k) sum += MASKED(POW_2(POWER_BASE(v)), valid);
#define PASS_POW3(v, valid, k) sum += MASKED(POW_3(POWER_BASE(v)), valid);
#define PASS_POW4(v, valid, k) sum += MASKED(POW_4(POWER_BASE(v)), valid);
#define PASS1(v, valid, k) sum += MASKED(POW_ANY(POWER_BASE(v)), valid);
#elif POOL_OP == OP_MIXED
#define PASS1(v, valid, k)                                                                        \
    MAX_STEP(v, valid, k);                                                                        \
    sum += MASKED(v, valid);
#elif POOL_OP == OP_SOFTMAX
/* Pass 1: the maximum of beta*x (NaN sticks); pass 2: the weighted sums. */
#define PASS1(v, valid, k)                                                                        \
    {                                                                                             \
        const RV b_ = (RV)(BETA) * (v);                                                           \
        const IV take_ = (valid) & IMASK(isgreater(b_, m) | isnan(b_));                           \
        m = select(m, b_, RMASK(take_));                                                          \
        any |= (valid);                                                                           \
    }
#define PASS2(v, valid, k)                                                                        \
    {                                                                                             \
        const RV e_ = MASKED(exp((RV)(BETA) * (v)-m), valid);                                     \
        sum += e_;                                                                                \
        wsum += select(e_ * (v), (RV)(0), RMASK(IMASK(e_ == (RV)(0))));                           \
    }
#elif POOL_OP == OP_STOCHASTIC
#define WEIGHT(v, valid) MASKED(v, (valid) & IMASK(isgreater((v), (RV)(0))))
#if TRAIN
#define PASS1(v, valid, k)                                                                        \
    sum += WEIGHT(v, valid);                                                                      \
    FIRST_STEP(valid, k);                                                                         \
    firstv = select(firstv, (v), RMASK((valid) & (first == (IV)(k))));
#define PASS2(v, valid, k)                                                                        \
    {                                                                                             \
        cum += WEIGHT(v, valid);                                                                  \
        const IV pick_ = (valid) & (best < 0) & IMASK(cum >= thres);                              \
        best = select(best, (IV)(k), pick_);                                                      \
        m = select(m, (v), RMASK(pick_));                                                         \
    }
#else
#define PASS1(v, valid, k)                                                                        \
    {                                                                                             \
        const RV a_ = WEIGHT(v, valid);                                                           \
        sum += a_;                                                                                \
        sum2 += a_ * a_;                                                                          \
    }
#endif
#endif

#define GEM_EPS ((real_t)1e-6) /* in the computation type: float64 clamps at the double 1e-6 */

/* Flat in-plane index of window cell k for a window starting at (zs, ys,
 * x0), or -1 for k < 0. */
inline long cell_index(int k, int zs, int ys, int x0, int H, int W)
{
    if (k < 0)
        return -1;
    const int kz = k / (KH * KW), ky = (k / KW) % KH, kx = k % KW;
    return ((long)(zs + kz * DD) * H + (ys + ky * DH)) * W + x0 + kx * DW;
}

#ifdef __clang__
#define OUTPUT_FN __attribute__((always_inline)) inline
#else
#define OUTPUT_FN inline
#endif

/* Computes the `live` lanes of one work unit and stores them at dst (and
 * idx): NHWC, lanes are channels c0 .. c0+live-1 of the output position
 * whose window starts at (zs, ys, xs), src points at channel c0 of the
 * sample and the plane of lane l is plane + l; NCHW, lanes are outputs
 * out_pos .. out_pos+live-1 of one row, lane l's window starts at xs + l*SW,
 * src points at the plane, which starts src_off elements into the tensor.
 * `fast`: NHWC every lane is live; NCHW every lane's window is inside the
 * row. */
OUTPUT_FN void pool_lanes(__global const data_t *src, __global data_t *dst,
                          __global INDEX_T *idx, int D, int H, int W, int zs, int ys, int xs,
                          int live, bool fast, long C, long src_off, long in_elems, ulong plane,
                          ulong out_pos, ulong seed, CAT(REAL, 4) params)
{
    const real_t P = params.s0, INV_P = params.s1, ALPHA = params.s2, BETA = params.s3;
    (void)P;
    (void)INV_P;
    (void)ALPHA;
    (void)BETA;
    (void)seed;
    (void)plane;
    (void)out_pos;
    (void)src_off;
    (void)in_elems;
#if NHWC
    const bool full_group = fast;
#else
    const bool interior = fast;
    const IV xl = (IV)(xs) + LANE_IDS * SW;
    const IV live_mask = LANE_IDS < (IV)(live);
    (void)C;
#endif

#if USES_MAX || POOL_OP == OP_SOFTMAX || (POOL_OP == OP_STOCHASTIC && TRAIN)
    RV m = (RV)(-INFINITY);
#endif
#if USES_MAX || (POOL_OP == OP_STOCHASTIC && TRAIN)
    IV best = (IV)(-1);
#endif
#if TRACKS_FIRST
    IV first = (IV)(-1);
#endif
#if POOL_OP != OP_MAX
    RV sum = (RV)(0);
#endif
#if POOL_OP == OP_SOFTMAX
    RV wsum = (RV)(0);
    IV any = (IV)(0);
#endif
#if POOL_OP == OP_STOCHASTIC && !TRAIN
    RV sum2 = (RV)(0);
#endif
#if POOL_OP == OP_STOCHASTIC && TRAIN
    RV firstv = (RV)(0), cum = (RV)(0);
#endif

#if POOL_OP == OP_LP || POOL_OP == OP_GEM
    if (P == (real_t)1) {
        FOR_EACH_CELL(PASS_POW1)
    } else if (P == (real_t)2) {
        FOR_EACH_CELL(PASS_POW2)
    } else if (P == (real_t)3) {
        FOR_EACH_CELL(PASS_POW3)
    } else if (P == (real_t)4) {
        FOR_EACH_CELL(PASS_POW4)
    } else {
        FOR_EACH_CELL(PASS1)
    }
#else
    FOR_EACH_CELL(PASS1)
#endif

#if POOL_OP == OP_STOCHASTIC && TRAIN
    /* thres = u * sum per lane, u drawn for (plane, output position). */
    real_t u[VW];
    for (int l = 0; l < VW; l++) {
#if NHWC
        u[l] = uniform01(seed, plane + (ulong)l, out_pos);
#else
        u[l] = uniform01(seed, plane, out_pos + (ulong)l);
#endif
    }
    const RV thres = PRIV_LOAD(u) * sum;
#endif
#if TWO_PASSES
    FOR_EACH_CELL(PASS2)
#endif

    /* Per-lane window geometry: divisors and real-cell counts. */
#if USES_DIVISOR || POOL_OP == OP_LP || POOL_OP == OP_GEM
    real_t cells[VW];
    {
        const int dzy = pooled_cells(zs, KD, D, PD, USES_DIVISOR && COUNT_PAD) *
                        pooled_cells(ys, KH, H, PH, USES_DIVISOR && COUNT_PAD);
        for (int l = 0; l < VW; l++) {
#if NHWC
            const int x0 = xs;
#else
            const int x0 = xs + l * SW;
#endif
            cells[l] = (real_t)(dzy * pooled_cells(x0, KW, W, PW, USES_DIVISOR && COUNT_PAD));
        }
    }
    const RV ncells = PRIV_LOAD(cells);
#endif

#if POOL_OP == OP_MAX
    const RV r = m;
#elif POOL_OP == OP_AVG
#if DIVISOR
    const RV div = (RV)((real_t)DIVISOR);
#else
    const RV div = ncells;
#endif
#if IS_INTEGER
    /* C integer division of the integer sum (exact in float: the plan
     * bounds the window). */
    real_t s_[VW], d_[VW];
    PRIV_STORE(sum, s_);
    PRIV_STORE(div, d_);
    for (int l = 0; l < VW; l++)
        s_[l] = (real_t)((int)s_[l] / (int)d_[l]);
    const RV r = PRIV_LOAD(s_);
#else
    const RV r = sum / div;
#endif
#elif POOL_OP == OP_LP
    /* torch: (avg_pool(x^p) * K)^(1/p), the avg over the real cells. */
    const RV t = (sum / ncells) * (RV)((real_t)(KD * KH * KW));
#elif POOL_OP == OP_GEM
    const RV t = sum / ncells;
#endif
#if POOL_OP == OP_LP || POOL_OP == OP_GEM
    /* t^(1/p); sqrt is exact where pow may be off by ulps */
    const RV r = P == (real_t)1 ? t : P == (real_t)2 ? sqrt(t) : pow(t, (RV)(INV_P));
#elif POOL_OP == OP_MIXED
    const RV r = (RV)(ALPHA)*m + (RV)((real_t)1 - ALPHA) * (sum / ncells);
#elif POOL_OP == OP_SOFTMAX
    const RV r = select((RV)(0), wsum / sum, RMASK(any));
#elif POOL_OP == OP_STOCHASTIC && TRAIN
    const RV r = select(m, firstv, RMASK(best < 0));
#elif POOL_OP == OP_STOCHASTIC
    const RV r = sum2 / ((RV)(FLT_MIN) + sum);
#endif

    if (live == VW) {
        STOREW(r, dst);
    } else {
        real_t t[VW];
        PRIV_STORE(r, t);
        for (int l = 0; l < live; l++)
            STORE1(t[l], dst + l);
    }
#if HAS_INDICES
    /* The selected cell, else the first real cell (max: every element
     * -inf; stochastic: no running sum reached the threshold). */
    int k[VW];
    PRIV_STORE(select(first, best, best >= 0), k);
    for (int l = 0; l < live; l++) {
#if NHWC
        const int x0 = xs;
#else
        const int x0 = xs + l * SW;
#endif
        idx[l] = (INDEX_T)cell_index(k[l], zs, ys, x0, H, W);
    }
#else
    (void)idx;
#endif
}

#if NHWC && ROW_ITEMS
/* ---- NHWC on CPUs: a whole output row per work-item -------------------------
 *
 * A work-item walks its row's positions and, at each, the lane groups of all
 * channels, so it reads each input pixel's channels in one contiguous run.
 * The positions whose window lies inside the row along x (all but about
 * PW/SW at each end) take a fast path for full lane groups: no per-cell
 * checks, window loops unrolled, and window rows found once per work-item
 * (they are the same for the whole output row). Other positions, partial
 * lane groups and operators without a fast path go through pool_lanes.
 *
 * max (without indices): a chain of `v > m ? v : m` in scan order (a single
 * max instruction on x86; it keeps the earlier value on ties, so the first
 * maximum and the sign of zero come out right), and a NaN test per pair of
 * cells. When any window of the row held a NaN, pool_lanes redoes the fast
 * positions (there the last NaN wins). Window rows outside the input are
 * replaced by the nearest valid row before them in scan order (or the first
 * valid row): a row repeated next to itself changes neither the maximum nor
 * which element wins.
 * avg: the window's real rows summed in scan order, over one divisor shared
 * by every fast position of the row. */
#define NHWC_FAST_MAX (POOL_OP == OP_MAX && !HAS_INDICES)
#define NHWC_FAST_AVG (POOL_OP == OP_AVG)
#define NHWC_ROWS (KD * KH)
#define NHWC_FAST                                                                                 \
    ((NHWC_FAST_MAX || NHWC_FAST_AVG) && NHWC_ROWS <= 16 && KW <= 16 && NHWC_ROWS * KW <= 64)

#if VW == 1
#define ANY_LANE(m) ((m) != 0)
#else
#define ANY_LANE(m) any(m)
#endif

#if IS_INTEGER
/* C integer division of the integer sum, as pool_lanes does. */
#if VW == 1
#define AVG_DIVIDE(sum, d) ((real_t)((int)(sum) / (d)))
#else
#define AVG_DIVIDE(sum, d) CAT(convert_float, VW)(CAT(convert_int, VW)(sum) / (IV)(d))
#endif
#else
#define AVG_DIVIDE(sum, d) ((sum) / (RV)((real_t)(d)))
#endif

/* Whole lane groups of the fast path. Through vload/vstore PoCL 3.1 split
 * them, depending on the surrounding code, into 8-byte loads (measured: the
 * fast max as slow as pool_lanes) and into 16 + 16 + 32-byte stores; a
 * packed struct (OpenCL C 6.11.1) gives the compiler one vector access of
 * unknown alignment, which x86 does in one instruction. For the types
 * stored as themselves (float, double); the others convert through
 * LOADW/STOREW. */
#if VW > 1 && (DTYPE == DT_F32 || DTYPE == DT_F64)
typedef struct __attribute__((packed)) {
    RV lanes;
} unaligned_rv;
#define NHWC_LOAD(p) (((const __global unaligned_rv *)(p))->lanes)
#define NHWC_STORE(v, p) (((__global unaligned_rv *)(p))->lanes = (v))
#else
#define NHWC_LOAD(p) LOADW(p)
#define NHWC_STORE(v, p) STOREW(v, p)
#endif

/* Positions ox_begin .. ox_end - 1 of output row (zs, ys) of one sample:
 * src points at the sample, dst at the row's first output; lane group g
 * holds channels g*VW .. g*VW + VW - 1. */
OUTPUT_FN void nhwc_row(__global const data_t *src, __global data_t *dst, __global INDEX_T *idx,
                        int D, int H, int W, int OW, int ox_begin, int ox_end, int zs, int ys,
                        int groups, long C, ulong plane, ulong row_pos, ulong seed,
                        CAT(REAL, 4) params)
{
    bool fast = false;
    int ox_lo = 0, ox_hi = 0, fast_groups = 0;
#if NHWC_FAST
    /* Positions [ox_lo, ox_hi) have windows inside the row along x. */
    ox_lo = min(OW, (PW + SW - 1) / SW);
    const int last = W - 1 + PW - (KW - 1) * DW;
    ox_hi = last < 0 ? ox_lo : max(ox_lo, min(OW, last / SW + 1));
    fast_groups = (int)(C / VW);
    __global const data_t *rows[NHWC_ROWS];
    int nrows = 0;
    {
        __global const data_t *first = NULL;
        for (int r = 0; r < NHWC_ROWS; r++) {
            const int iz = zs + (r / KH) * DD, iy = ys + (r % KH) * DH;
            if (iz >= 0 && iz < D && iy >= 0 && iy < H) {
                __global const data_t *p = src + ((long)iz * H + iy) * W * C;
#if NHWC_FAST_MAX
                if (!first) {
                    for (int q = 0; q < r; q++)
                        rows[q] = p;
                }
                rows[r] = p;
#else
                rows[nrows] = p;
#endif
                first = p;
                nrows++;
            } else {
#if NHWC_FAST_MAX
                rows[r] = first ? rows[r - 1] : src;
#endif
            }
        }
    }
    fast = nrows > 0 && fast_groups > 0 && ox_lo < ox_hi;
#if NHWC_FAST_AVG
    /* inside the row along x, the window's columns all count */
    const int div = DIVISOR ? DIVISOR
                            : pooled_cells(zs, KD, D, PD, COUNT_PAD) *
                                  pooled_cells(ys, KH, H, PH, COUNT_PAD) * KW;
#endif
#if NHWC_FAST_MAX
    IV nan_seen = (IV)(0);
#endif
#endif
    /* pass 1 (max, after a NaN): pool_lanes redoes the fast positions */
    int passes = 1;
    for (int pass = 0; pass < passes; pass++) {
        for (int ox = ox_begin; ox < ox_end; ox++) {
            const bool fast_ox = fast && ox >= ox_lo && ox < ox_hi;
            if (pass == 1 && !fast_ox)
                continue;
            const long at = (long)ox * C;
            int g = 0;
#if NHWC_FAST
            if (fast_ox && pass == 0) {
                const long xo = (long)(ox * SW - PW) * C;
                for (; g < fast_groups; g++) {
                    const long c0 = (long)g * VW;
#if NHWC_FAST_MAX
                    RV m = (RV)(0), prev = (RV)(0);
#pragma unroll
                    for (int r = 0; r < NHWC_ROWS; r++) {
#pragma unroll
                        for (int kx = 0; kx < KW; kx++) {
                            const int k = r * KW + kx;
                            const RV v = NHWC_LOAD(rows[r] + xo + c0 + (long)(kx * DW) * C);
                            if (k == 0)
                                m = v;
                            else
                                m = v > m ? v : m;
                            /* x != x: one unordered compare (the isnan
                             * builtin may be integer operations) */
                            if (k % 2 == 1)
                                nan_seen |= IMASK((prev != prev) | (v != v));
                            else if (k == NHWC_ROWS * KW - 1)
                                nan_seen |= IMASK(v != v);
                            prev = v;
                        }
                    }
                    NHWC_STORE(m, dst + at + c0);
#else
                    RV sum = (RV)(0);
                    for (int r = 0; r < nrows; r++) {
#pragma unroll
                        for (int kx = 0; kx < KW; kx++)
                            sum += NHWC_LOAD(rows[r] + xo + c0 + (long)kx * C);
                    }
                    NHWC_STORE(AVG_DIVIDE(sum, div), dst + at + c0);
#endif
                }
            }
#endif
            for (; g < groups; g++) {
                const long c0 = (long)g * VW;
                const int live = (int)min((long)VW, C - c0);
                pool_lanes(src + c0, dst + at + c0, idx + (HAS_INDICES ? at + c0 : 0), D, H, W, zs,
                           ys, ox * SW - PW, live, live == VW, C, 0, 0, plane + (ulong)c0,
                           row_pos + (ulong)ox, seed, params);
            }
        }
#if NHWC_FAST_MAX && NHWC_FAST
        if (pass == 0 && fast && ANY_LANE(nan_seen))
            passes = 2;
#endif
    }
}
#endif

/* Arguments: input, output and optional indices buffers; `run` = (input,
 * output and indices offsets in elements, the launch's first unit (a plane
 * for NCHW, a sample for NHWC), its work-item count, channels C, the seed,
 * the input's element count); `shape` = (input D, H, W, output OD, OH, OW,
 * lane groups per output row (NCHW) or per position (NHWC), work-items per
 * output row (NHWC with ROW_ITEMS; else unused));
 * `params` = (p, 1/p, alpha, beta); `first_plane` = first_sample * C, the
 * generator's plane of the tensor's first plane when the tensor is a
 * sub-batch of a larger batch (so a split batch draws as the whole one).
 *
 * Work-items: with ROW_ITEMS (CPUs) one per output row (NHWC: per run of
 * its positions), looping over the positions and lane groups (few index
 * divisions per output); else one per lane group. */
__kernel void window_lanes(__global const data_t *restrict in, __global data_t *restrict out,
                           __global INDEX_T *restrict indices, ulong8 run, int8 shape,
                           CAT(REAL, 4) params, ulong first_plane)
{
    const ulong items = run.s4, C = run.s5, seed = run.s6, in_elems = run.s7;
    const int D = shape.s0, H = shape.s1, W = shape.s2, OD = shape.s3, OH = shape.s4;
    const int OW = shape.s5, groups = shape.s6;
#if NHWC && ROW_ITEMS
    /* work-items per output row (each a run of its positions) */
    const int parts = max(shape.s7, 1);
#endif
    const uint gid = (uint)get_global_id(0);
    if (gid >= items)
        return;
#if ROW_ITEMS && NHWC
    const int g_begin = 0, g_end = groups;
    const int part = (int)(gid % (uint)parts), per_part = (OW + parts - 1) / parts;
    uint rest = gid / (uint)parts;
#elif ROW_ITEMS
    const int g_begin = 0, g_end = groups;
    uint rest = gid;
#else
    const int g_begin = (int)(gid % (uint)groups), g_end = g_begin + 1;
    uint rest = gid / (uint)groups;
#endif
#if NHWC && !ROW_ITEMS
    const int ox_begin = (int)(rest % (uint)OW), ox_end = ox_begin + 1;
    rest /= (uint)OW;
#endif
    const int oy = (int)(rest % (uint)OH);
    rest /= (uint)OH;
    const int oz = (int)(rest % (uint)OD);
    const ulong unit = run.s3 + rest / (uint)OD;
    const ulong in_plane = (ulong)D * H * W, out_plane = (ulong)OD * OH * OW;
    const int zs = oz * SD - PD, ys = oy * SH - PH;
    const ulong row_pos = ((ulong)oz * OH + oy) * OW;
#if HAS_INDICES
    __global INDEX_T *idx_base = indices + run.s2;
#else
    __global INDEX_T *idx_base = indices;
#endif
#if NHWC && ROW_ITEMS
    /* Every lane group of output row (oz, oy) of sample `unit`. */
    {
        const ulong out_at = (unit * out_plane + row_pos) * C;
        (void)g_begin;
        (void)g_end;
        nhwc_row(in + run.s0 + unit * in_plane * C, out + run.s1 + out_at,
                 idx_base + (HAS_INDICES ? out_at : 0), D, H, W, OW, part * per_part,
                 min(OW, (part + 1) * per_part), zs, ys, groups, (long)C, first_plane + unit * C,
                 row_pos, seed, params);
    }
#elif NHWC
    /* Lanes: channels c0 .. c0 + live - 1 of sample `unit`. */
    for (int ox = ox_begin; ox < ox_end; ox++) {
        const int xs = ox * SW - PW;
        const ulong out_pos = row_pos + (ulong)ox;
        for (int g = g_begin; g < g_end; g++) {
            const ulong c0 = (ulong)g * VW;
            const int live = (int)min((ulong)VW, C - c0);
            const ulong out_at = (unit * out_plane + out_pos) * C + c0;
            pool_lanes(in + run.s0 + unit * in_plane * C + c0, out + run.s1 + out_at,
                       idx_base + (HAS_INDICES ? out_at : 0), D, H, W, zs, ys, xs, live,
                       live == VW, (long)C, 0, 0, first_plane + unit * C + c0, out_pos, seed,
                       params);
        }
    }
#else
    /* Lanes: outputs ox0 .. ox0 + live - 1 of row (oz, oy) of plane `unit`. */
    for (int g = g_begin; g < g_end; g++) {
        const int ox0 = g * VW;
        const int live = min(VW, OW - ox0);
        const int xs = ox0 * SW - PW;
        const bool interior = live == VW && xs >= 0 && xs + (VW - 1) * SW + (KW - 1) * DW < W;
        const ulong out_at = unit * out_plane + row_pos + (ulong)ox0;
        pool_lanes(in + run.s0 + unit * in_plane, out + run.s1 + out_at,
                   idx_base + (HAS_INDICES ? out_at : 0), D, H, W, zs, ys, xs, live, interior, 1,
                   (long)(unit * in_plane), (long)in_elems, first_plane + unit,
                   row_pos + (ulong)ox0, seed, params);
    }
#endif
}

#include "lanes_columns.cl"
