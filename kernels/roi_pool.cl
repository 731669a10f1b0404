/*
 * roi_pool.cl: region pooling over (K, 5) boxes [batch_index, x1, y1, x2, y2]:
 * torchvision 0.14's roi_pool (ROI_OP 1) and roi_align (ROI_OP 2), spec section 8
 * and decisions 0.9 and 0.10 (clpool.h documents both operators).
 *
 * A work-item computes one bin of a box for CPB consecutive channels: it
 * works out the bin's geometry (the cells, or the samples with their
 * bilinear weights) once and applies it to each channel, so a launch of
 * thousands of boxes of any mix of sizes keeps every work-item busy with
 * work of its own box. CPU plans take chunks of 32 channels (the geometry
 * costs as much as a few channels' loads); GPU plans take CPB 1, where
 * neighbouring work-items share a box and, in NHWC, read neighbouring
 * channels. The box arithmetic is in real_t without FMA contraction, as
 * torchvision's in T; the kernel never reads outside the input plane,
 * whatever the boxes hold: a box whose batch index is NaN or outside [0, N)
 * writes NaN (index -1) and reads nothing.
 *
 * Macros (defaults let the file compile alone):
 *   ROI_OP        1 roi max (roi_pool), 2 roi align
 *   DTYPE         see dtype.cl (float32, float16, bfloat16, float64)
 *   ROIS_DTYPE    0 float32 boxes, 3 float64 boxes
 *   POOLED_H POOLED_W   bins per box side
 *   SAMPLING      roi align: samples per bin side, 0 adaptive
 *   ALIGNED       roi align: 1 subtracts half a pixel
 *   NHWC          1 for channels-last tensors
 *   HAS_INDICES   roi max: write the flat in-plane argmax of type INDEX_T
 *   INDEX_T       int or long
 *   CPB           channels per work-item
 *
 * Arguments: input, output, indices (NULL without HAS_INDICES), rois;
 * run = (input, output, indices and rois element offsets, first box of the
 * launch, work-items of the launch, N, -); shape = (C, H, W, channel chunks
 * per bin); the spatial scale converted to real_t.
 */
#include "dtype.cl"

#ifndef ROI_OP
#define ROI_OP 1
#endif
#ifndef ROIS_DTYPE
#define ROIS_DTYPE 0
#endif
#ifndef POOLED_H
#define POOLED_H 7
#endif
#ifndef POOLED_W
#define POOLED_W 7
#endif
#ifndef SAMPLING
#define SAMPLING 0
#endif
#ifndef ALIGNED
#define ALIGNED 0
#endif
#ifndef NHWC
#define NHWC 0
#endif
#ifndef HAS_INDICES
#define HAS_INDICES 0
#endif
#ifndef INDEX_T
#define INDEX_T long
#endif
#ifndef CPB
#define CPB 1
#endif

#pragma OPENCL FP_CONTRACT OFF

#if ROIS_DTYPE == DT_F64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double roi_t;
#else
typedef float roi_t;
#endif

/* Rounded box corners are clamped here before their conversion to long
 * (torchvision's int conversion is undefined beyond int range). */
#define CORNER_LIMIT ((real_t)0x1p30)
/* Adaptive sampling grids are capped here (the sample count stays in long
 * range; torchvision's int grid overflows long before). */
#define GRID_LIMIT 0x1p30

#if ROI_OP == 2
/* Sample i of gridsize samples across a bin, as torchvision computes it:
 * base + T(i + .5f) * bin / T(grid). Non-decreasing in i for bin >= 0,
 * non-increasing for bin < 0 (every operation rounds monotonically). */
inline real_t sample_at(real_t base, real_t bin, real_t grid, long i)
{
    return base + (real_t)((float)i + 0.5f) * bin / grid;
}

/* The first i in [0, n) at which the monotone test of @p mode holds for
 * sample i (n when none does): 0 s >= bound, 1 s > bound, 2 s <= bound,
 * 3 s < bound. A NaN sample satisfies none. */
inline long first_sample(real_t base, real_t bin, real_t grid, long n, real_t bound, int mode)
{
    long lo = 0, hi = n;
    while (lo < hi) {
        const long mid = lo + (hi - lo) / 2;
        const real_t s = sample_at(base, bin, grid, mid);
        const bool hit = mode == 0 ? s >= bound : mode == 1 ? s > bound : mode == 2 ? s <= bound
                                                                                  : s < bound;
        if (hit)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The samples [*first, *end) of a bin that lie in [-1, limit]: the others
 * add nothing, so huge boxes cost only the samples that touch the map. */
inline void sample_range(real_t base, real_t bin, real_t grid, long n, real_t limit, long *first,
                         long *end)
{
#if SAMPLING > 0 && SAMPLING <= 8
    /* A short fixed grid is cheaper to test sample by sample. */
    *first = 0;
    *end = n;
#else
    if (bin >= 0) {
        *first = first_sample(base, bin, grid, n, (real_t)-1, 0);
        *end = first_sample(base, bin, grid, n, limit, 1);
    } else {
        *first = first_sample(base, bin, grid, n, limit, 2);
        *end = first_sample(base, bin, grid, n, (real_t)-1, 3);
    }
    if (*end < *first)
        *end = *first;
#endif
}

/* Samples per bin side: fixed, or ceil(bin size) clamped at 0 (NaN: 0). */
inline long grid_size(real_t bin)
{
#if SAMPLING > 0
    return SAMPLING;
#else
    const real_t g = ceil(bin);
    return g > 0 ? (long)(g < GRID_LIMIT ? g : GRID_LIMIT) : 0;
#endif
}
#endif

kernel void roi_pool(global const data_t *restrict input, global data_t *restrict output,
                     global INDEX_T *restrict indices, global const roi_t *restrict rois,
                     ulong8 run, int4 shape, real_t scale)
{
    const uint gid = (uint)get_global_id(0);
    if (gid >= run.s5)
        return;
    const uint C = (uint)shape.s0, chunks = (uint)shape.s3;
    const int H = shape.s1, W = shape.s2;
#if NHWC
    const uint chunk = gid % chunks;
    uint t = gid / chunks;
    const int pw = (int)(t % POOLED_W);
    t /= POOLED_W;
    const int ph = (int)(t % POOLED_H);
    t /= POOLED_H;
#else
    const int pw = (int)(gid % POOLED_W);
    uint t = gid / POOLED_W;
    const int ph = (int)(t % POOLED_H);
    t /= POOLED_H;
    const uint chunk = t % chunks;
    t /= chunks;
#endif
    const ulong box = run.s4 + t;
    const uint c0 = chunk * CPB;
    /* The chunk's channels: c0 + i for i < count (the last chunk may be short). */
    const uint count = min((uint)CPB, C - c0);
    const ulong bin = (ulong)ph * POOLED_W + (ulong)pw;
#if NHWC
    /* Output (K, PH, PW, C): channel i of the chunk at first_out + i. */
    const ulong first_out = (box * (POOLED_H * POOLED_W) + bin) * C + c0;
#define OUT_STEP 1
#else
    /* Output (K, C, PH, PW): channel i of the chunk PH*PW further each. */
    const ulong first_out = (box * C + c0) * (POOLED_H * POOLED_W) + bin;
#define OUT_STEP (POOLED_H * POOLED_W)
#endif
    global data_t *const out = output + run.s1 + first_out;
#if HAS_INDICES
    global INDEX_T *const idx = indices + run.s2 + first_out;
#endif
    global const roi_t *const r = rois + (run.s3 + box * 5);

    /* The batch index, truncated toward zero as torchvision's C cast:
     * valid exactly when -1 < b < N (NaN fails). */
    const roi_t b = r[0];
    if (!(b > (roi_t)-1 && b < (roi_t)run.s6)) {
        for (uint i = 0; i < count; i++) {
            STORE1((real_t)NAN, out + i * OUT_STEP);
#if HAS_INDICES
            idx[i * OUT_STEP] = (INDEX_T)-1;
#endif
        }
        return;
    }
    const ulong plane_size = (ulong)H * (ulong)W;
    /* Element (channel i of the chunk, flat cell s) of the box's sample;
     * lanes past a short chunk read the last channel and are not stored. */
#if NHWC
    global const data_t *const base =
        input + (run.s0 + (ulong)(long)b * plane_size * C + c0);
#define AT(i, s) LOAD1(base + (ulong)(s) * C + min((uint)(i), count - 1))
#else
    global const data_t *const base = input + (run.s0 + ((ulong)(long)b * C + c0) * plane_size);
#define AT(i, s) LOAD1(base + (ulong)min((uint)(i), count - 1) * plane_size + (ulong)(s))
#endif
    const real_t x1 = (real_t)r[1], y1 = (real_t)r[2], x2 = (real_t)r[3], y2 = (real_t)r[4];

#if ROI_OP == 1
    /* roi_pool: corners rounded half away from zero (OpenCL round). */
    const real_t fsw = round(x1 * scale), fsh = round(y1 * scale);
    const real_t few = round(x2 * scale), feh = round(y2 * scale);
    long hs = 0, he = 0, ws = 0, we = 0;
    if (!(isnan(fsw) || isnan(fsh) || isnan(few) || isnan(feh))) {
        const long sw = (long)clamp(fsw, -CORNER_LIMIT, CORNER_LIMIT);
        const long sh = (long)clamp(fsh, -CORNER_LIMIT, CORNER_LIMIT);
        const long ew = (long)clamp(few, -CORNER_LIMIT, CORNER_LIMIT);
        const long eh = (long)clamp(feh, -CORNER_LIMIT, CORNER_LIMIT);
        const long roi_w = max(ew - sw + 1, 1L), roi_h = max(eh - sh + 1, 1L);
        const real_t bin_h = (real_t)roi_h / (real_t)POOLED_H;
        const real_t bin_w = (real_t)roi_w / (real_t)POOLED_W;
        hs = clamp((long)floor((real_t)ph * bin_h) + sh, 0L, (long)H);
        he = clamp((long)ceil((real_t)(ph + 1) * bin_h) + sh, 0L, (long)H);
        ws = clamp((long)floor((real_t)pw * bin_w) + sw, 0L, (long)W);
        we = clamp((long)ceil((real_t)(pw + 1) * bin_w) + sw, 0L, (long)W);
    }
    /* A box with a NaN corner keeps the empty bin above. */
    const bool empty = he <= hs || we <= ws;
    real_t best[CPB];
    long arg[CPB];
    for (int i = 0; i < CPB; i++) {
        best[i] = empty ? (real_t)0 : (real_t)-FLT_MAX;
        arg[i] = -1;
    }
    for (long y = hs; y < he; y++)
        for (long x = ws; x < we; x++) {
            const long cell = y * (long)W + x;
            for (int i = 0; i < CPB; i++) {
                const real_t v = AT(i, cell);
                if (v > best[i]) { /* NaN never wins: torchvision's plain '>' */
                    best[i] = v;
                    arg[i] = cell;
                }
            }
        }
    for (uint i = 0; i < count; i++) {
        STORE1(best[i], out + i * OUT_STEP);
#if HAS_INDICES
        idx[i * OUT_STEP] = (INDEX_T)arg[i];
#endif
    }
#else
    /* roi_align */
    const real_t offset = ALIGNED ? (real_t)0.5 : (real_t)0;
    const real_t sw = x1 * scale - offset, sh = y1 * scale - offset;
    const real_t ew = x2 * scale - offset, eh = y2 * scale - offset;
    real_t roi_w = ew - sw, roi_h = eh - sh;
#if !ALIGNED
    /* std::max(size, 1): a NaN size stays NaN. */
    roi_w = roi_w < 1 ? (real_t)1 : roi_w;
    roi_h = roi_h < 1 ? (real_t)1 : roi_h;
#endif
    const real_t bin_h = roi_h / (real_t)POOLED_H, bin_w = roi_w / (real_t)POOLED_W;
    const long gh = grid_size(bin_h), gw = grid_size(bin_w);
    const real_t divisor = (real_t)max(gh * gw, 1L);
    const real_t grid_h = (real_t)gh, grid_w = (real_t)gw;
    const real_t base_y = sh + (real_t)ph * bin_h, base_x = sw + (real_t)pw * bin_w;
    long iy0, iy1, ix0, ix1;
    sample_range(base_y, bin_h, grid_h, gh, (real_t)H, &iy0, &iy1);
    sample_range(base_x, bin_w, grid_w, gw, (real_t)W, &ix0, &ix1);
    real_t sum[CPB];
    for (int i = 0; i < CPB; i++)
        sum[i] = 0;
    for (long iy = iy0; iy < iy1; iy++) {
        real_t y = sample_at(base_y, bin_h, grid_h, iy);
        if (!(y >= -1 && y <= (real_t)H))
            continue;
        if (y <= 0)
            y = 0;
        int yl = (int)y, yh;
        if (yl >= H - 1) {
            yl = yh = H - 1;
            y = (real_t)yl;
        } else {
            yh = yl + 1;
        }
        const real_t ly = y - (real_t)yl, hy = 1 - ly;
        for (long ix = ix0; ix < ix1; ix++) {
            real_t x = sample_at(base_x, bin_w, grid_w, ix);
            if (!(x >= -1 && x <= (real_t)W))
                continue;
            if (x <= 0)
                x = 0;
            int xl = (int)x, xh;
            if (xl >= W - 1) {
                xl = xh = W - 1;
                x = (real_t)xl;
            } else {
                xh = xl + 1;
            }
            const real_t lx = x - (real_t)xl, hx = 1 - lx;
            const real_t w1 = hy * hx, w2 = hy * lx, w3 = ly * hx, w4 = ly * lx;
            const long s1 = (long)yl * W + xl, s2 = (long)yl * W + xh;
            const long s3 = (long)yh * W + xl, s4 = (long)yh * W + xh;
            for (int i = 0; i < CPB; i++)
                sum[i] += w1 * AT(i, s1) + w2 * AT(i, s2) + w3 * AT(i, s3) + w4 * AT(i, s4);
        }
    }
    for (uint i = 0; i < count; i++)
        STORE1(sum[i] / divisor, out + i * OUT_STEP);
#endif
#undef AT
#undef OUT_STEP
}
