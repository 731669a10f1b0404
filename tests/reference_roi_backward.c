/*
 * The region pooling gradient reference (reference_roi_backward.h). Box
 * geometry follows spec §8.2 operation by operation in T (each operation
 * in double, rounded back to float when T is float, which gives the float
 * result exactly); batch indices follow §0.9 (-1 < b < N, truncated).
 */
#include "reference_roi_backward.h"

#include "reference_roi.h"

#include <math.h>
#include <string.h>

static double R(int is_float, double v)
{
    return is_float ? (double)(float)v : v;
}

static size_t in_at(const clpool_tensor_desc *in, size_t b, size_t c, long long y, long long x)
{
    size_t H = in->spatial[0], W = in->spatial[1], C = in->c;
    size_t s = (size_t)y * W + (size_t)x;
    return in->layout == CLPOOL_NHWC ? (b * H * W + s) * C + c : (b * C + c) * H * W + s;
}

static size_t out_at(const clpool_roi_desc *d, const clpool_tensor_desc *in, size_t k, size_t c,
                     int ph, int pw)
{
    size_t PH = (size_t)d->output_size[0], PW = (size_t)d->output_size[1], C = in->c;
    return in->layout == CLPOOL_NHWC ? ((k * PH + (size_t)ph) * PW + (size_t)pw) * C + c
                                     : ((k * C + c) * PH + (size_t)ph) * PW + (size_t)pw;
}

static size_t in_elements(const clpool_tensor_desc *in)
{
    return in->n * in->c * in->spatial[0] * in->spatial[1];
}

void ref_roi_max_backward(const clpool_roi_desc *d, const clpool_tensor_desc *in,
                          const double *rois, const double *go, const int64_t *idx, double *want)
{
    int is_float = in->dtype != CLPOOL_FLOAT64;
    size_t H = in->spatial[0], W = in->spatial[1];
    memset(want, 0, in_elements(in) * sizeof *want);
    for (size_t k = 0; k < d->num_rois; k++) {
        const double *box = rois + 5 * k;
        if (!roi_ref_batch_valid(box[0], d->rois_dtype, in->n))
            continue;
        size_t b = (size_t)(long long)box[0];
        for (size_t c = 0; c < in->c; c++)
            for (int ph = 0; ph < d->output_size[0]; ph++)
                for (int pw = 0; pw < d->output_size[1]; pw++) {
                    size_t o = out_at(d, in, k, c, ph, pw);
                    if (idx[o] < 0)
                        continue;
                    long long y = idx[o] / (long long)W, x = idx[o] % (long long)W;
                    if ((size_t)y >= H)
                        continue;
                    size_t e = in_at(in, b, c, y, x);
                    want[e] = R(is_float, want[e] + go[o]);
                }
    }
}

/* Sample i of a grid of n across a bin, in T: base + T(i + .5f) * bin / n. */
static double sample_at(int is_float, double base, double bin, long long n, long long i)
{
    float half = (float)i + 0.5f;
    return R(is_float,
             base + R(is_float, R(is_float, (double)half * bin) / R(is_float, (double)n)));
}

/* One coordinate of a sample: 0 when lost, else its cells and the weight of hi. */
static int axis(int is_float, double v, long long size, long long *lo, long long *hi, double *frac)
{
    if (!(v >= -1 && v <= (double)size))
        return 0;
    if (v <= 0)
        v = 0;
    *lo = (long long)v;
    if (*lo >= size - 1) {
        *lo = *hi = size - 1;
        v = (double)*lo;
    } else {
        *hi = *lo + 1;
    }
    *frac = R(is_float, v - (double)*lo);
    return 1;
}

static long long grid(const clpool_roi_desc *d, double bin)
{
    if (d->sampling_ratio > 0)
        return d->sampling_ratio;
    double g = ceil(bin);
    return g > 0 ? (long long)g : 0; /* NaN: 0 */
}

void ref_roi_align_backward(const clpool_roi_desc *d, const clpool_tensor_desc *in,
                            const double *rois, const double *go, double *want, double *mag,
                            double *terms)
{
    int f = in->dtype != CLPOOL_FLOAT64;
    size_t elems = in_elements(in);
    memset(want, 0, elems * sizeof *want);
    if (mag)
        memset(mag, 0, elems * sizeof *mag);
    if (terms)
        memset(terms, 0, elems * sizeof *terms);
    const long long H = (long long)in->spatial[0], W = (long long)in->spatial[1];
    const int PH = d->output_size[0], PW = d->output_size[1];
    const double scale = R(f, d->spatial_scale != 0 ? d->spatial_scale : 1.0);
    const double off = d->aligned ? 0.5 : 0;
    for (size_t k = 0; k < d->num_rois; k++) {
        const double *box = rois + 5 * k;
        if (!roi_ref_batch_valid(box[0], d->rois_dtype, in->n))
            continue;
        size_t b = (size_t)(long long)box[0];
        const double sw = R(f, R(f, R(f, box[1]) * scale) - off);
        const double sh = R(f, R(f, R(f, box[2]) * scale) - off);
        const double ew = R(f, R(f, R(f, box[3]) * scale) - off);
        const double eh = R(f, R(f, R(f, box[4]) * scale) - off);
        double roi_w = R(f, ew - sw), roi_h = R(f, eh - sh);
        if (!d->aligned) {
            roi_w = roi_w < 1 ? 1 : roi_w;
            roi_h = roi_h < 1 ? 1 : roi_h;
        }
        const double bin_h = R(f, roi_h / PH), bin_w = R(f, roi_w / PW);
        const long long gh = grid(d, bin_h), gw = grid(d, bin_w);
        const double count = R(f, (double)(gh * gw > 1 ? gh * gw : 1));
        for (size_t c = 0; c < in->c; c++)
            for (int ph = 0; ph < PH; ph++)
                for (int pw = 0; pw < PW; pw++) {
                    const double g = go[out_at(d, in, k, c, ph, pw)];
                    const double base_y = R(f, sh + R(f, (double)ph * bin_h));
                    const double base_x = R(f, sw + R(f, (double)pw * bin_w));
                    for (long long iy = 0; iy < gh; iy++) {
                        long long yl, yh;
                        double ly;
                        if (!axis(f, sample_at(f, base_y, bin_h, gh, iy), H, &yl, &yh, &ly))
                            continue;
                        const double hy = R(f, 1 - ly);
                        for (long long ix = 0; ix < gw; ix++) {
                            long long xl, xh;
                            double lx;
                            if (!axis(f, sample_at(f, base_x, bin_w, gw, ix), W, &xl, &xh, &lx))
                                continue;
                            const double hx = R(f, 1 - lx);
                            const double w[4] = {R(f, hy * hx), R(f, hy * lx), R(f, ly * hx),
                                                 R(f, ly * lx)};
                            const size_t at[4] = {in_at(in, b, c, yl, xl), in_at(in, b, c, yl, xh),
                                                  in_at(in, b, c, yh, xl), in_at(in, b, c, yh, xh)};
                            for (int j = 0; j < 4; j++) {
                                double term = R(f, R(f, g * w[j]) / count);
                                want[at[j]] += term;
                                if (mag)
                                    mag[at[j]] += fabs(term);
                                if (terms)
                                    terms[at[j]] += 1;
                            }
                        }
                    }
                }
    }
}
