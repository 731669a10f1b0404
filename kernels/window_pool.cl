/*
 * window_pool.cl: max and average pooling over 1-D, 2-D and 3-D windows of
 * NCHW planes (1-D and 2-D run as 3-D with unit outer dimensions).
 *
 * One work-item computes RUN consecutive outputs of one output row (a
 * "chunk"), or, with ROW_ITEMS, every chunk of the row. A chunk whose windows
 * all lie inside the row takes the fast path: one vector load per window
 * column and row, no bounds checks. Chunks that touch the left or right
 * padding (a thin frame of each row) take a scalar path with checks; padded
 * window rows are skipped as a whole in both paths.
 *
 * Semantics (spec section 1-section 3): max skips padding, the first maximum in row-major
 * window order wins, NaN propagates with the index of the last NaN; a window
 * without any element gives -inf and index -1. avg divides by the cells
 * inside the padded extent (COUNT_PAD), the real cells, or DIVISOR.
 *
 * Macros (defaults let the file compile alone):
 *   POOL_OP        1 max, 2 avg
 *   DTYPE          see dtype.cl (not float64: values are computed in float)
 *   KD KH KW       window size      SD SH SW  stride
 *   PD PH PW       padding          DD DH DW  dilation
 *   COUNT_PAD      avg: 1 counts padded cells in the divisor
 *   DIVISOR        avg: fixed divisor, 0 for none
 *   HAS_INDICES    max: 1 writes flat in-plane indices of type INDEX_T
 *   INDEX_T        int or long
 *   RUN            outputs per chunk: 1, 8 or 16
 *   ROW_ITEMS      1: a work-item loops over every chunk of its row
 *   DEPTH          1 when the tensor has an outer (depth) spatial dimension
 *   FP_DENORMS     1: the device compares float denormals exactly
 *                  (CL_FP_DENORM); float16 max then compares order keys
 *                  (see dtype.cl) instead of converted values
 *   COLUMNS        1: a work-item walks a column of chunks down a block of
 *                  output rows, keeping the last KH row reductions (2-D and
 *                  1-D windows with DH 1 and SH < KH: each input row is
 *                  reduced once instead of once per window that covers it)
 *   SHAPE_BAKED    1: the plane shape is BAKED_D, BAKED_H, BAKED_W, BAKED_OD,
 *                  BAKED_OH, BAKED_OW, BAKED_CHUNKS, BAKED_XR (the values of
 *                  the `shape` argument, which is then ignored)
 */
#include "window_params.cl"

#ifndef RUN
#define RUN 8
#endif
#ifndef ROW_ITEMS
#define ROW_ITEMS 1
#endif
#ifndef DEPTH
#define DEPTH 0
#endif
#ifndef COLUMNS
#define COLUMNS 0
#endif
#ifndef SHAPE_BAKED
#define SHAPE_BAKED 0
#endif
#ifndef FP_DENORMS
#define FP_DENORMS 0
#endif

/* max only compares and copies values: no need to convert them. */
#define ORDER_KEYS (POOL_OP == 1 && FP_DENORMS)
#include "dtype.cl"

#pragma OPENCL FP_CONTRACT OFF

/* Window loops have compile-time bounds; unrolling them lets the private
 * arrays of the fast path live in registers. Compilers that do not know the
 * pragma ignore it. */
#define UNROLL _Pragma("unroll")

#define POOL_MAX 1
#define POOL_AVG 2

/* VT: RUN floats; VI: the matching int vector (relational results, select
 * masks). LOADV_WITH(L1, LN, p) loads p[0], p[SW], ..., p[(RUN-1)*SW] with
 * the scalar and vector loads L1 and LN; VREAD is how many elements from p
 * it touches. */
#if RUN == 1
typedef float VT;
typedef int VI;
#define LOADV_WITH(L1, LN, p) L1(p)
#define STOREV(v, p) STORE1((v), (p))
#define STOREI(v, p) ((p)[0] = (v)) /* private int or float arrays */
#define LANES 0
#define TO_VT(x) ((float)(x))
#define TO_VI(x) ((int)(x))
#define VREAD 1
#elif RUN == 8
typedef float8 VT;
typedef int8 VI;
#define STOREV(v, p) STOREN(8, (v), (p))
#define STOREI(v, p) vstore8((v), 0, (p))
#define LANES ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#define TO_VT(x) convert_float8(x)
#define TO_VI(x) convert_int8(x)
#define TO_MASK(x) convert_uint8(x)
#if SW == 1
#define LOADV_WITH(L1, LN, p) LN(8, (p))
#define VREAD 8
#elif SW == 2
#define LOADV_WITH(L1, LN, p) (LN(16, (p)).even)
#define VREAD 16
#else
#define LOADV_WITH(L1, LN, p)                                                                 \
    ((float8)(L1(p), L1((p) + SW), L1((p) + 2 * SW), L1((p) + 3 * SW), L1((p) + 4 * SW),      \
              L1((p) + 5 * SW), L1((p) + 6 * SW), L1((p) + 7 * SW)))
#define VREAD (7 * SW + 1)
#endif
#elif RUN == 16
typedef float16 VT;
typedef int16 VI;
#define STOREV(v, p) STOREN(16, (v), (p))
#define STOREI(v, p) vstore16((v), 0, (p))
#define LANES ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define TO_VT(x) convert_float16(x)
#define TO_VI(x) convert_int16(x)
#define TO_MASK(x) convert_uint16(x)
#if SW == 1
#define LOADV_WITH(L1, LN, p) LN(16, (p))
#define VREAD 16
#elif SW == 2
#define LOADV_WITH(L1, LN, p) ((float16)(LN(16, (p)).even, LN(16, (p) + 16).even))
#define VREAD 32
#else
#define LOADV_WITH(L1, LN, p)                                                                 \
    ((float16)(L1(p), L1((p) + SW), L1((p) + 2 * SW), L1((p) + 3 * SW), L1((p) + 4 * SW),     \
               L1((p) + 5 * SW), L1((p) + 6 * SW), L1((p) + 7 * SW), L1((p) + 8 * SW),        \
               L1((p) + 9 * SW), L1((p) + 10 * SW), L1((p) + 11 * SW), L1((p) + 12 * SW),     \
               L1((p) + 13 * SW), L1((p) + 14 * SW), L1((p) + 15 * SW)))
#define VREAD (15 * SW + 1)
#endif
#else
#error "RUN must be 1, 8 or 16"
#endif

/* LOADV reads the tensor's dtype from global memory (stride 2 through the
 * dtype's own LOADN_STRIDE2 where it has one); LOADV_FLOAT reads the private
 * float staging buffer. */
#if defined(LOADN_STRIDE2) && SW == 2 && RUN > 1
#define LOADV(p) LOADN_STRIDE2(RUN, (p))
#else
#define LOADV(p) LOADV_WITH(LOAD1, LOADN, p)
#endif
#define FLOAT_LOAD1(p) ((p)[0])
#define FLOAT_LOADN(n, p) CAT(vload, n)(0, (p))
#define LOADV_FLOAT(p) LOADV_WITH(FLOAT_LOAD1, FLOAT_LOADN, p)

/* Elements past a chunk's first window start that a chunk reads per row. */
#define FAST_SPAN ((KW - 1) * DW + VREAD)

/* Chunk helpers must inline into the work-item loop: a call per chunk costs
 * as much as the chunk's arithmetic on CPU devices. */
#ifdef __clang__
#define CHUNK_FN __attribute__((always_inline)) inline
#else
#define CHUNK_FN inline
#endif

#if POOL_OP == POOL_MAX
#define PAD_VALUE (-INFINITY) /* never wins a merge: padding is not selected */
#else
#define PAD_VALUE 0.0f
#endif

/* Merges window element b (later in scan order) into a (earlier): b wins if
 * it is greater or NaN, which keeps the first maximum and the last NaN. The
 * merge is associative over ordered runs, so a tree of merges in scan order
 * gives the sequential result with a shorter dependency chain. */
#define MERGE_MAX(a, ai, b, bi)                                                                 \
    do {                                                                                        \
        const VI take_ = isgreater((b), (a)) | isnan(b);                                        \
        (a) = select((a), (b), take_);                                                          \
        MERGE_INDEX((ai), (bi), take_);                                                         \
    } while (0)
#if HAS_INDICES
#define MERGE_INDEX(ai, bi, take) ((ai) = select((ai), (bi), (take)))
#else
#define MERGE_INDEX(ai, bi, take) ((void)0)
#endif

/* Reduces one window row for every lane: KW vector loads (LOAD(kx)), a tree
 * of merges (or sums) in scan order; the row's result goes to outv and (max)
 * the winning column to outi. */
#if POOL_OP == POOL_MAX
#define ROW_TREE(LOAD, outv, outi)                                                              \
    do {                                                                                        \
        VT r[KW];                                                                               \
        VI ri[KW];                                                                              \
        UNROLL for (int kx = 0; kx < KW; kx++)                                                  \
        {                                                                                       \
            r[kx] = LOAD(kx);                                                                   \
            ri[kx] = (VI)(kx);                                                                  \
        }                                                                                       \
        UNROLL for (int step = 1; step < KW; step *= 2)                                         \
            UNROLL for (int kx = 0; kx + step < KW; kx += 2 * step)                             \
                MERGE_MAX(r[kx], ri[kx], r[kx + step], ri[kx + step]);                          \
        (outv) = r[0];                                                                          \
        (outi) = ri[0];                                                                         \
    } while (0)
#else
#define ROW_TREE(LOAD, outv, outi)                                                              \
    do {                                                                                        \
        VT r[KW];                                                                               \
        UNROLL for (int kx = 0; kx < KW; kx++) r[kx] = LOAD(kx);                                \
        UNROLL for (int step = 1; step < KW; step *= 2)                                         \
            UNROLL for (int kx = 0; kx + step < KW; kx += 2 * step) r[kx] += r[kx + step];      \
        (outv) = r[0];                                                                          \
        (void)(outi);                                                                           \
    } while (0)
#endif

#if POOL_OP == POOL_AVG
/* The divisor of a window along one dimension: cells inside the padded
 * extent, or real cells; _V for a vector of window starts (its bounds are
 * broadcast explicitly: Oclgrind 21.10 evaluates min(intN, int) wrongly). */
#if COUNT_PAD
#define POOLED_CELLS(start, k, in, pad) (min((start) + (k), (in) + (pad)) - (start))
#define POOLED_CELLS_V(start, k, in, pad) (min((start) + (k), (VI)((in) + (pad))) - (start))
#else
#define POOLED_CELLS(start, k, in, pad) (min((start) + (k), (in)) - max((start), 0))
#define POOLED_CELLS_V(start, k, in, pad) (min((start) + (k), (VI)(in)) - max((start), (VI)(0)))
#endif
#endif

/* u with its lanes moved up by s (a compile-time constant once inlined) and
 * PAD_VALUE shifted in at lane 0. */
CHUNK_FN VT shift_in_pad(VT u, int s)
{
#if RUN == 1
    return s > 0 ? PAD_VALUE : u;
#else
    const VI from = select(LANES - s, (VI)(RUN), LANES < s);
    return shuffle2(u, (VT)(PAD_VALUE), TO_MASK(from));
#endif
}

/* Window column kx of a chunk at the left edge (window start xs = -PW):
 * lanes left of the row are padding; the rest is one shifted vector load. */
CHUNK_FN VT load_left(__global const data_t *row, int kx)
{
    const int off = kx * DW - PW;
    if (off >= 0)
        return LOADV(row + off);
    const int s = (-off + SW - 1) / SW;
    return shift_in_pad(LOADV(row + off + s * SW), s);
}

/* The chunk kinds, picked per chunk at run time, each compiled separately:
 * INTERIOR  every window inside the row: plain vector loads;
 * LEFT      the first chunk of a padded row: loads shifted at compile time;
 * RIGHT     some windows pass the row's end: lanes past W masked to padding;
 * STAGED    anything else (padding wider than a chunk, or loads that would
 *           pass the tensor's end): each row span is copied with bounds
 *           checks into a private buffer filled with padding. */
#define INTERIOR 0
#define LEFT 1
#define RIGHT 2
#define LEFT_RIGHT 3
#define STAGED 4

#define LOAD_INTERIOR(kx) LOADV(row + xs + (kx) * DW)
#define LOAD_LEFT(kx) load_left(row, (kx))
#define MASK_RIGHT(v, kx) select((v), (VT)(PAD_VALUE), xsl + (kx) * DW >= W)
#define LOAD_RIGHT(kx) MASK_RIGHT(LOAD_INTERIOR(kx), (kx))
#define LOAD_LEFT_RIGHT(kx) MASK_RIGHT(LOAD_LEFT(kx), (kx))
#define LOAD_STAGED(kx) LOADV_FLOAT(buf + (kx) * DW)

/* One input row's reduction for the RUN lanes of a chunk of the given kind. */
CHUNK_FN void reduce_row(__global const data_t *row, int W, int xs, int kind, VT *outv, VI *outi)
{
    const VI xsl = xs + LANES * SW; /* each lane's window start */
    VT v;
    VI vi = (VI)(0);
    if (kind == INTERIOR) {
        ROW_TREE(LOAD_INTERIOR, v, vi);
    } else if (kind == LEFT) {
        ROW_TREE(LOAD_LEFT, v, vi);
    } else if (kind == RIGHT) {
        ROW_TREE(LOAD_RIGHT, v, vi);
    } else if (kind == LEFT_RIGHT) {
        ROW_TREE(LOAD_LEFT_RIGHT, v, vi);
    } else {
        float buf[FAST_SPAN];
        for (int j = 0; j < FAST_SPAN; j++) {
            const int ix = xs + j;
            buf[j] = ix >= 0 && ix < W ? LOAD1(row + ix) : PAD_VALUE;
        }
        ROW_TREE(LOAD_STAGED, v, vi);
    }
    *outv = v;
    *outi = vi;
}

/* Divides (avg), stores the valid lanes of a chunk and, for max with
 * indices, turns each lane's window-local index into a flat plane index
 * (every element -inf: the first in-range one, as torch). */
#if POOL_OP == POOL_MAX
CHUNK_FN void finish_chunk(__global data_t *dst, __global INDEX_T *idx, int D, int H, int W,
                           int OW, int zs, int ys, int ox0, int kind, VT m, VI best,
                           long first_row)
#else
CHUNK_FN void finish_chunk(__global data_t *dst, __global INDEX_T *idx, int D, int H, int W,
                           int OW, int zs, int ys, int ox0, int kind, VT sum)
#endif
{
    const int xs = ox0 * SW - PW;
    const int lanes = min(RUN, OW - ox0);
#if POOL_OP == POOL_AVG
#if DIVISOR
    const VT div = (VT)(DIVISOR);
#else
    const VI xsl = xs + LANES * SW;
    const int dzy = POOLED_CELLS(zs, KD, D, PD) * POOLED_CELLS(ys, KH, H, PH);
    const VT div = kind == INTERIOR ? (VT)((float)(dzy * KW))
                                    : TO_VT(dzy * POOLED_CELLS_V(xsl, KW, W, PW));
#endif
#if IS_INTEGER
    /* C integer division of the integer sum (exact in float: the plan
     * bounds the window). */
    const VT m = TO_VT(TO_VI(sum) / TO_VI(div));
#else
    const VT m = sum / div;
#endif
#endif
    if (lanes == RUN) {
        STOREV(m, dst + ox0);
    } else {
        float tmp[RUN];
        STOREI(m, tmp); /* a float array: the plain vector store */
        for (int i = 0; i < lanes; i++)
            STORE1(tmp[i], dst + ox0 + i);
    }
#if POOL_OP == POOL_MAX && HAS_INDICES
    int k[RUN];
    STOREI(best, k);
    for (int i = 0; i < lanes; i++) {
        const int xi = xs + i * SW;
        long q = -1;
        if (k[i] >= 0) {
            const int kz = k[i] / (KH * KW), ky = (k[i] / KW) % KH, kx = k[i] % KW;
            q = ((long)(zs + kz * DD) * H + (ys + ky * DH)) * W + xi + kx * DW;
        } else if (first_row >= 0) {
            const int kx = xi >= 0 ? 0 : (-xi + DW - 1) / DW;
            if (kx < KW && xi + kx * DW < W)
                q = first_row + xi + kx * DW;
        }
        idx[ox0 + i] = (INDEX_T)q;
    }
#else
    (void)idx;
#endif
}

/* Outputs [ox0, ox0 + RUN) of output row (oz, oy); padded window rows are
 * skipped. Lanes outside [0, OW) are computed but not stored. */
CHUNK_FN void pool_chunk(__global const data_t *src, __global data_t *dst, __global INDEX_T *idx,
                         int D, int H, int W, int OW, int oz, int oy, int ox0, int kind)
{
    const int zs = oz * SD - PD, ys = oy * SH - PH, xs = ox0 * SW - PW;
#if POOL_OP == POOL_MAX
    VT m = (VT)(-INFINITY);
    VI best = (VI)(-1);
    long first_row = -1;
#else
    VT sum = (VT)(0.0f);
#endif
    for (int kz = 0; kz < KD; kz++) {
        const int iz = zs + kz * DD;
        if (iz < 0 || iz >= D)
            continue;
        for (int ky = 0; ky < KH; ky++) {
            const int iy = ys + ky * DH;
            if (iy < 0 || iy >= H)
                continue;
            __global const data_t *row = src + ((long)iz * H + iy) * W;
            VT v;
            VI vi;
            reduce_row(row, W, xs, kind, &v, &vi);
#if POOL_OP == POOL_MAX
            if (first_row < 0)
                first_row = ((long)iz * H + iy) * W;
            MERGE_MAX(m, best, v, vi + (kz * KH + ky) * KW);
#else
            sum += v;
#endif
        }
    }
#if POOL_OP == POOL_MAX
    finish_chunk(dst, idx, D, H, W, OW, zs, ys, ox0, kind, m, best, first_row);
#else
    finish_chunk(dst, idx, D, H, W, OW, zs, ys, ox0, kind, sum);
#endif
}

#if COLUMNS
/* Output rows [oy0, oy1) of chunk ox0 of a plane (DH == 1, KD == 1, SH <
 * KH). hr[j] holds the reduction of input row ys + j for the current output
 * row; moving down one output row drops the top SH rows and reduces SH new
 * ones. Rows are merged (or summed) top to bottom, as pool_chunk does, so the
 * results are the same bit for bit. */
CHUNK_FN void pool_column(__global const data_t *src, __global data_t *dst, __global INDEX_T *idx,
                          int H, int W, int OW, int oy0, int oy1, int ox0, int kind)
{
    const int xs = ox0 * SW - PW;
    VT hr[KH];
    VI hi[KH];
    /* Prime: after the first slide, hr[0 .. KH-SH) hold rows ys0 .. ys0+KH-SH. */
    const int ys0 = oy0 * SH - PH;
    UNROLL for (int j = 0; j + SH < KH; j++)
    {
        const int iy = ys0 + j;
        hr[j + SH] = (VT)(PAD_VALUE);
        hi[j + SH] = (VI)(0);
        if (iy >= 0 && iy < H)
            reduce_row(src + (long)iy * W, W, xs, kind, &hr[j + SH], &hi[j + SH]);
    }
    for (int oy = oy0; oy < oy1; oy++) {
        const int ys = oy * SH - PH;
        UNROLL for (int j = 0; j + SH < KH; j++)
        {
            hr[j] = hr[j + SH];
            hi[j] = hi[j + SH];
        }
        UNROLL for (int j = KH - SH; j < KH; j++)
        {
            const int iy = ys + j;
            hr[j] = (VT)(PAD_VALUE);
            hi[j] = (VI)(0);
            if (iy >= 0 && iy < H)
                reduce_row(src + (long)iy * W, W, xs, kind, &hr[j], &hi[j]);
        }
        __global data_t *dst_row = dst + (long)oy * OW;
#if HAS_INDICES
        __global INDEX_T *idx_row = idx + (long)oy * OW;
#else
        __global INDEX_T *idx_row = idx;
#endif
#if POOL_OP == POOL_MAX
        VT m = (VT)(-INFINITY);
        VI best = (VI)(-1);
        UNROLL for (int j = 0; j < KH; j++) MERGE_MAX(m, best, hr[j], hi[j] + j * KW);
        const int first_iy = max(ys, 0);
        const long first_row = first_iy < H && first_iy < ys + KH ? (long)first_iy * W : -1;
        finish_chunk(dst_row, idx_row, 1, H, W, OW, 0, ys, ox0, kind, m, best, first_row);
#else
        VT sum = (VT)(0.0f);
        UNROLL for (int j = 0; j < KH; j++) sum += hr[j];
        finish_chunk(dst_row, idx_row, 1, H, W, OW, 0, ys, ox0, kind, sum);
#endif
    }
}
#endif

/* The first output of chunk c of a row. When one work-item takes every chunk
 * of a row (ROW_ITEMS, COLUMNS) and the row's last chunk would have more
 * than RUN/2 lanes (fewer to recompute than to store one at a time), that
 * chunk ends at the row's end and overlaps the chunk before it: it stores a
 * whole vector (the overlapped outputs are written again with the same
 * values by the same work-item). */
CHUNK_FN int chunk_start(int c, int OW)
{
#if ROW_ITEMS
    return 2 * (OW % RUN) > RUN ? min(c * RUN, max(OW - RUN, 0)) : c * RUN;
#else
    (void)OW;
    return c * RUN;
#endif
}

/* The kind of chunk ox0, from where its windows fall in the row and whether
 * its vector loads stay inside the tensor. */
CHUNK_FN int chunk_kind(int ox0, int OW, int xr, ulong last_row_start, ulong in_elems)
{
    const int xs = ox0 * SW - PW;
    const bool reads_ok = last_row_start + max(xs, 0) + FAST_SPAN <= in_elems;
    const bool left = xs < 0, right = min(ox0 + RUN, OW) > xr;
    if (!reads_ok || (left && ox0 != 0))
        return STAGED;
    return left ? (right ? LEFT_RIGHT : LEFT) : (right ? RIGHT : INTERIOR);
}

/* Arguments (few of them: each costs launch latency on some devices): the
 * input, output and optional indices buffers; `run` = (input offset, output
 * offset, indices offset in elements, the launch's first plane, its
 * work-item count, the input tensor's element count); `shape` = (input plane
 * D, H, W, output plane OD, OH, OW, chunks per output row, and xr: outputs
 * before xr have windows that end inside the row). */
__kernel void window_pool(__global const data_t *restrict in, __global data_t *restrict out,
                          __global INDEX_T *restrict indices, ulong8 run, int8 shape)
{
    const ulong in_off = run.s0, out_off = run.s1, idx_off = run.s2, plane_begin = run.s3;
    const ulong items = run.s4, in_elems = run.s5;
#if SHAPE_BAKED
    /* small planes: the plan bakes their shape, so the row arithmetic and
     * the chunk kinds fold at compile time */
    const int D = BAKED_D, H = BAKED_H, W = BAKED_W, OD = BAKED_OD, OH = BAKED_OH;
    const int OW = BAKED_OW, chunks = BAKED_CHUNKS, xr = BAKED_XR;
    (void)shape;
#else
    const int D = shape.s0, H = shape.s1, W = shape.s2, OD = shape.s3, OH = shape.s4;
    const int OW = shape.s5, chunks = shape.s6, xr = shape.s7;
#endif
    /* A launch holds fewer than 2^31 work-items (the scheduler's bound), so
     * the row arithmetic is 32-bit; plane offsets are 64-bit. */
    const uint gid = (uint)get_global_id(0);
    if (gid >= items)
        return;
#if COLUMNS
    /* Work-item: (plane, block of `rows` output rows); it walks the column of
     * each chunk of the row in turn. */
    const int rows = (int)run.s6, blocks = (OH + rows - 1) / rows;
    const uint plane_rel = gid / (uint)blocks, block = gid - plane_rel * (uint)blocks;
    const ulong plane = plane_begin + plane_rel;
    const ulong plane_elems = (ulong)H * W;
    const int oy0 = (int)block * rows, oy1 = min(OH, oy0 + rows);
    __global const data_t *src = in + in_off + plane * plane_elems;
    __global data_t *dst = out + out_off + plane * (ulong)OH * OW;
#if HAS_INDICES
    __global INDEX_T *idx = indices + idx_off + plane * (ulong)OH * OW;
#else
    __global INDEX_T *idx = indices;
#endif
    (void)D;
    (void)OD;
    for (int c = 0; c < chunks; c++) {
        const int ox0 = chunk_start(c, OW);
        const int kind = chunk_kind(ox0, OW, xr, plane * plane_elems + plane_elems - W, in_elems);
        if (kind == INTERIOR)
            pool_column(src, dst, idx, H, W, OW, oy0, oy1, ox0, INTERIOR);
        else if (kind == LEFT)
            pool_column(src, dst, idx, H, W, OW, oy0, oy1, ox0, LEFT);
        else if (kind == RIGHT)
            pool_column(src, dst, idx, H, W, OW, oy0, oy1, ox0, RIGHT);
        else if (kind == LEFT_RIGHT)
            pool_column(src, dst, idx, H, W, OW, oy0, oy1, ox0, LEFT_RIGHT);
        else
            pool_column(src, dst, idx, H, W, OW, oy0, oy1, ox0, STAGED);
    }
#else
#if ROW_ITEMS
    const uint row = gid;
    const int c_begin = 0, c_end = chunks;
#else
    const uint row = gid / (uint)chunks;
    const int c_begin = (int)(gid - row * (uint)chunks), c_end = c_begin + 1;
#endif
    const int oy = (int)(row % (uint)OH);
#if DEPTH
    const uint t = row / (uint)OH;
    const int oz = (int)(t % (uint)OD);
    const ulong plane = plane_begin + t / (uint)OD;
#else
    const int oz = 0;
    const ulong plane = plane_begin + row / (uint)OH;
#endif
    const ulong plane_elems = (ulong)D * H * W;
    __global const data_t *src = in + in_off + plane * plane_elems;
    const ulong out_row = ((plane * OD + oz) * OH + oy) * OW;
    __global data_t *dst = out + out_off + out_row;
#if HAS_INDICES
    __global INDEX_T *idx = indices + idx_off + out_row;
#else
    __global INDEX_T *idx = indices;
#endif
    /* Vector loads read up to FAST_SPAN elements from a window start; from
     * the plane's last row that must stay inside the tensor. */
    const ulong last_row_start = plane * plane_elems + plane_elems - W;

    for (int c = c_begin; c < c_end; c++) {
        const int ox0 = chunk_start(c, OW), kind = chunk_kind(ox0, OW, xr, last_row_start, in_elems);
        /* Each kind is its own inlined copy, with the kind a constant. */
        if (kind == STAGED)
            pool_chunk(src, dst, idx, D, H, W, OW, oz, oy, ox0, STAGED);
        else if (kind == LEFT_RIGHT)
            pool_chunk(src, dst, idx, D, H, W, OW, oz, oy, ox0, LEFT_RIGHT);
        else if (kind == LEFT)
            pool_chunk(src, dst, idx, D, H, W, OW, oz, oy, ox0, LEFT);
        else if (kind == RIGHT)
            pool_chunk(src, dst, idx, D, H, W, OW, oz, oy, ox0, RIGHT);
        else
            pool_chunk(src, dst, idx, D, H, W, OW, oz, oy, ox0, INTERIOR);
    }
#endif
}
