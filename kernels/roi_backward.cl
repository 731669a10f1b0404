/*
 * roi_backward.cl: the gradients of region pooling (spec section 8, the
 * backward rules of 8.1 and 8.2): roi max sends each bin's gradient to the
 * cell its argmax names; roi align sends g * w / count to the four cells of
 * each bilinear sample (w its weight, count = max(gh*gw, 1)).
 *
 * Deterministic without atomics, by ownership: boxes overlap, so a pure
 * gather (each cell finding the bins that reach it) would rescan every box
 * per cell. Instead a work-item owns a band of rows of one input plane
 * (b, c) for a chunk of CPB channels (the box and sample geometry then
 * serves every channel of the chunk): it zeroes its band, then walks the
 * boxes in ascending order (those of sample b), their bins in row-major order, the samples (iy, ix)
 * and the four corners in a fixed order, adding only what lands in its band. Every cell's sum then
 * has the same terms in the same order whatever the band height, channel chunk, work-group size or
 * plane split, so results are bit identical. Sums are in real_t without contraction: in grad_input
 * itself (float32, float64), or in a float workspace copy for float16 and bfloat16, stored rounded
 * once at the end (the band's owner converts its own band).
 *
 * The box geometry is the forward's (roi_pool.cl, included here: max_box_of,
 * max_bin, align_box_of, sample_range, sample_axis). Roi max without the
 * forward's indices first runs roi_pool built with ARGMAX_ONLY (one
 * work-item per bin, as the forward), which writes the argmax into the
 * workspace as longs; the gradient then reads them as indices. An index
 * outside its bin, or -1, sends nothing; a box whose batch index is NaN or
 * outside [0, N) matches no plane and sends nothing; nothing is read or
 * written outside the buffers whatever the boxes and indices hold.
 *
 * Macros: those of roi_pool.cl (ROI_OP, DTYPE, ROIS_DTYPE, POOLED_H,
 * POOLED_W, SAMPLING, ALIGNED, NHWC, HAS_INDICES, INDEX_T, CPB), and
 *   ACC_WS   1: sums in the float workspace (float16, bfloat16)
 *
 * Arguments of roi_backward: grad_output, indices (roi max), rois,
 * grad_input, acc (ACC_WS), run = (grad_output, indices, rois, grad_input
 * and acc element offsets, first unit (sample, channel chunk) of the
 * launch, work-items of the launch, N), the number of boxes K, shape = (C, H, W, rows per band),
 * the spatial scale in real_t.
 */
#define ARGMAX_ONLY 1
#include "roi_pool.cl"

#ifndef ACC_WS
#define ACC_WS 0
#endif

#if ACC_WS
typedef float acc_t;
#else
typedef data_t acc_t; /* real_t: float32 or float64 */
#endif

kernel void roi_backward(global const data_t *restrict grad_output,
                         global const INDEX_T *restrict indices, global const roi_t *restrict rois,
                         global data_t *restrict grad_input, global float *restrict workspace,
                         ulong8 run, ulong num_rois, int4 shape, real_t scale)
{
    const ulong gid = get_global_id(0);
    if (gid >= run.s6)
        return;
    const ulong C = (ulong)shape.s0;
    const int H = shape.s1, W = shape.s2, rows = shape.s3;
    const ulong bands = (ulong)((H + rows - 1) / rows);
    const ulong chunks = (C + CPB - 1) / CPB;
    /* unit (b, chunk of CPB channels), band of rows [r0, r1) */
    const ulong unit = run.s5 + gid / bands;
    const int r0 = (int)(gid % bands) * rows, r1 = min(r0 + rows, H);
    const ulong b = unit / chunks, c0 = unit % chunks * CPB;
    const uint count = (uint)min((ulong)CPB, C - c0);
#if NHWC
    /* (N, H, W, C): cell (y, x) of channel c0 + i of sample b */
#define ELEM(i, y, x) (((b * (ulong)H + (ulong)(y)) * (ulong)W + (ulong)(x)) * C + c0 + (i))
#else
#define ELEM(i, y, x) (((b * C + c0 + (i)) * (ulong)H + (ulong)(y)) * (ulong)W + (ulong)(x))
#endif
#if ACC_WS
    global float *const acc = workspace + run.s4;
#else
    global data_t *const acc = grad_input + run.s3;
#endif
#define ADD(i, y, x, v) (acc[ELEM(i, y, x)] += (v))
    for (int y = r0; y < r1; y++)
        for (int x = 0; x < W; x++)
            for (uint i = 0; i < count; i++)
                acc[ELEM(i, y, x)] = 0;

    global const data_t *const go = grad_output + run.s0;
#if ROI_OP == 1
    global const INDEX_T *const idx = indices + run.s1;
#endif
    for (ulong k = 0; k < num_rois; k++) {
        global const roi_t *const r = rois + (run.s2 + k * 5);
        /* torchvision's C cast of the batch index: valid when -1 < b < N */
        const roi_t rb = r[0];
        if (!(rb > (roi_t)-1 && rb < (roi_t)run.s7) || (ulong)(long)rb != b)
            continue;
#if NHWC
            /* (K, PH, PW, C) */
#define OUT(i, ph, pw) ((k * (POOLED_H * POOLED_W) + (ulong)((ph)*POOLED_W + (pw))) * C + c0 + (i))
#else
#define OUT(i, ph, pw) ((k * C + c0 + (i)) * (POOLED_H * POOLED_W) + (ulong)((ph)*POOLED_W + (pw)))
#endif
#if ROI_OP == 1
        max_box m;
        if (!max_box_of(r, scale, &m))
            continue; /* a NaN corner: every bin is empty */
        for (int ph = 0; ph < POOLED_H; ph++) {
            long hs, he;
            max_bin(ph, m.bin_h, m.sh, (long)H, &hs, &he);
            /* the bin's rows inside the band */
            hs = max(hs, (long)r0);
            he = min(he, (long)r1);
            if (he <= hs)
                continue;
            for (int pw = 0; pw < POOLED_W; pw++) {
                long ws, we;
                max_bin(pw, m.bin_w, m.sw, (long)W, &ws, &we);
                if (we <= ws)
                    continue;
                for (uint i = 0; i < count; i++) {
                    const long q = (long)idx[OUT(i, ph, pw)];
                    if (q < 0)
                        continue;
                    const long y = q / W, x = q % W;
                    if (y < hs || y >= he || x < ws || x >= we)
                        continue;
                    ADD(i, y, x, LOAD1(go + OUT(i, ph, pw)));
                }
            }
        }
#else
        align_box a;
        align_box_of(r, scale, &a);
        const real_t grid_h = (real_t)a.gh, grid_w = (real_t)a.gw;
        for (int ph = 0; ph < POOLED_H; ph++) {
            const real_t base_y = a.sh + (real_t)ph * a.bin_h;
            long iy0, iy1;
            sample_range(base_y, a.bin_h, grid_h, a.gh, (real_t)H, &iy0, &iy1);
            if (iy1 <= iy0)
                continue;
            for (int pw = 0; pw < POOLED_W; pw++) {
                const real_t base_x = a.sw + (real_t)pw * a.bin_w;
                long ix0, ix1;
                sample_range(base_x, a.bin_w, grid_w, a.gw, (real_t)W, &ix0, &ix1);
                if (ix1 <= ix0)
                    continue;
                real_t g[CPB];
                for (uint i = 0; i < count; i++)
                    g[i] = LOAD1(go + OUT(i, ph, pw));
                for (long iy = iy0; iy < iy1; iy++) {
                    int yl, yh;
                    real_t ly;
                    if (!sample_axis(sample_at(base_y, a.bin_h, grid_h, iy), H, &yl, &yh, &ly))
                        continue;
                    const bool low = yl >= r0 && yl < r1, high = yh >= r0 && yh < r1;
                    if (!low && !high)
                        continue;
                    const real_t hy = 1 - ly;
                    for (long ix = ix0; ix < ix1; ix++) {
                        int xl, xh;
                        real_t lx;
                        if (!sample_axis(sample_at(base_x, a.bin_w, grid_w, ix), W, &xl, &xh, &lx))
                            continue;
                        const real_t hx = 1 - lx;
                        const real_t w1 = hy * hx, w2 = hy * lx, w3 = ly * hx, w4 = ly * lx;
                        /* torchvision: g * w / count, corners in this order */
                        for (uint i = 0; i < count; i++) {
                            if (low) {
                                ADD(i, yl, xl, g[i] * w1 / a.divisor);
                                ADD(i, yl, xh, g[i] * w2 / a.divisor);
                            }
                            if (high) {
                                ADD(i, yh, xl, g[i] * w3 / a.divisor);
                                ADD(i, yh, xh, g[i] * w4 / a.divisor);
                            }
                        }
                    }
                }
            }
        }
#endif
#undef OUT
    }
#if ACC_WS
    /* rounded once */
    for (int y = r0; y < r1; y++)
        for (int x = 0; x < W; x++)
            for (uint i = 0; i < count; i++)
                STORE1(acc[ELEM(i, y, x)], grad_input + run.s3 + ELEM(i, y, x));
#endif
#undef ADD
#undef ELEM
}
