/*
 * roi_pool.cl: region pooling over (K, 5) boxes [batch_index, x1, y1, x2, y2]:
 * torchvision 0.14's roi_pool (ROI_OP 1) and roi_align (ROI_OP 2), spec section 8
 * and decisions 0.9 and 0.10 (clpool.h documents both operators).
 *
 * A work-item computes one output element (box, channel, bin): a launch of
 * thousands of boxes of any mix of sizes keeps every work-item busy, and
 * neighbouring work-items share a box (and, in NHWC, read neighbouring
 * channels). Each work-item recomputes its box's geometry, a few dozen
 * operations. The box arithmetic is in real_t without FMA contraction, as
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
 *
 * Arguments: input, output, indices (NULL without HAS_INDICES), rois;
 * run = (input, output, indices and rois element offsets, first box of the
 * launch, work-items of the launch, N, -); shape = (C, H, W, -); the spatial
 * scale converted to real_t.
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
    const ulong gid = get_global_id(0);
    if (gid >= run.s5)
        return;
    const int C = shape.s0, H = shape.s1, W = shape.s2;
#if NHWC
    const int c = (int)(gid % (ulong)C);
    ulong t = gid / (ulong)C;
    const int pw = (int)(t % POOLED_W);
    t /= POOLED_W;
    const int ph = (int)(t % POOLED_H);
    t /= POOLED_H;
#else
    const int pw = (int)(gid % POOLED_W);
    ulong t = gid / POOLED_W;
    const int ph = (int)(t % POOLED_H);
    t /= POOLED_H;
    const int c = (int)(t % (ulong)C);
    t /= (ulong)C;
#endif
    const ulong box = run.s4 + t;
    const ulong per_box = (ulong)C * POOLED_H * POOLED_W;
    const ulong out_at = run.s1 + run.s4 * per_box + gid;
#if HAS_INDICES
    global INDEX_T *const index_at = indices + (run.s2 + run.s4 * per_box + gid);
#endif
    global const roi_t *const r = rois + (run.s3 + box * 5);

    /* The batch index, truncated toward zero as torchvision's C cast:
     * valid exactly when -1 < b < N (NaN fails). */
    const roi_t b = r[0];
    if (!(b > (roi_t)-1 && b < (roi_t)run.s6)) {
        STORE1((real_t)NAN, output + out_at);
#if HAS_INDICES
        *index_at = (INDEX_T)-1;
#endif
        return;
    }
    const ulong batch = (ulong)(long)b;
    const ulong plane_size = (ulong)H * (ulong)W;
#if NHWC
    global const data_t *const plane = input + (run.s0 + batch * plane_size * (ulong)C + (ulong)c);
#define AT(y, x) plane[((ulong)(y) * (ulong)W + (ulong)(x)) * (ulong)C]
#else
    global const data_t *const plane =
        input + (run.s0 + (batch * (ulong)C + (ulong)c) * plane_size);
#define AT(y, x) plane[(ulong)(y) * (ulong)W + (ulong)(x)]
#endif
    const real_t x1 = (real_t)r[1], y1 = (real_t)r[2], x2 = (real_t)r[3], y2 = (real_t)r[4];

#if ROI_OP == 1
    /* roi_pool: corners rounded half away from zero (OpenCL round). */
    const real_t fsw = round(x1 * scale), fsh = round(y1 * scale);
    const real_t few = round(x2 * scale), feh = round(y2 * scale);
    real_t best = 0;
    long arg = -1;
    if (!(isnan(fsw) || isnan(fsh) || isnan(few) || isnan(feh))) {
        const long sw = (long)clamp(fsw, -CORNER_LIMIT, CORNER_LIMIT);
        const long sh = (long)clamp(fsh, -CORNER_LIMIT, CORNER_LIMIT);
        const long ew = (long)clamp(few, -CORNER_LIMIT, CORNER_LIMIT);
        const long eh = (long)clamp(feh, -CORNER_LIMIT, CORNER_LIMIT);
        const long roi_w = max(ew - sw + 1, 1L), roi_h = max(eh - sh + 1, 1L);
        const real_t bin_h = (real_t)roi_h / (real_t)POOLED_H;
        const real_t bin_w = (real_t)roi_w / (real_t)POOLED_W;
        const long hs = clamp((long)floor((real_t)ph * bin_h) + sh, 0L, (long)H);
        const long he = clamp((long)ceil((real_t)(ph + 1) * bin_h) + sh, 0L, (long)H);
        const long ws = clamp((long)floor((real_t)pw * bin_w) + sw, 0L, (long)W);
        const long we = clamp((long)ceil((real_t)(pw + 1) * bin_w) + sw, 0L, (long)W);
        if (he > hs && we > ws) {
            best = (real_t)-FLT_MAX;
            for (long y = hs; y < he; y++)
                for (long x = ws; x < we; x++) {
                    const real_t v = LOAD1(&AT(y, x));
                    if (v > best) { /* NaN never wins: torchvision's plain '>' */
                        best = v;
                        arg = y * (long)W + x;
                    }
                }
        }
    }
    STORE1(best, output + out_at);
#if HAS_INDICES
    *index_at = (INDEX_T)arg;
#endif
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
    const real_t count = (real_t)max(gh * gw, 1L);
    const real_t grid_h = (real_t)gh, grid_w = (real_t)gw;
    const real_t base_y = sh + (real_t)ph * bin_h, base_x = sw + (real_t)pw * bin_w;
    long iy0, iy1, ix0, ix1;
    sample_range(base_y, bin_h, grid_h, gh, (real_t)H, &iy0, &iy1);
    sample_range(base_x, bin_w, grid_w, gw, (real_t)W, &ix0, &ix1);
    real_t sum = 0;
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
            sum += w1 * LOAD1(&AT(yl, xl)) + w2 * LOAD1(&AT(yl, xh)) + w3 * LOAD1(&AT(yh, xl)) +
                   w4 * LOAD1(&AT(yh, xh));
        }
    }
    STORE1(sum / count, output + out_at);
#endif
#undef AT
}
