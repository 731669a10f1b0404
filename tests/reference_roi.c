/*
 * The region pooling reference (reference_roi.h). Geometry follows the
 * formulas of spec §8.1 and §8.2 operation by operation in T: every
 * operation is done in double and, when T is float, rounded back to float
 * (for +, -, *, / of floats that gives exactly the float result). Sums of
 * roi align run in double over every sample of the grid (not the library's
 * binary search for the samples inside the map), except for grids too large
 * to walk (huge boxes), whose stretch inside [-1, H] is found by a scan in
 * from both ends.
 */
#include "reference_roi.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Grids of more samples than this per side are not walked whole. */
#define WALK_MAX 256

typedef struct tctx {
    int is_float; /* T is float */
} tctx;

/* The result of one operation of T. */
static double R(const tctx *t, double v)
{
    return t->is_float ? (double)(float)v : v;
}

int roi_ref_batch_valid(double b, clpool_dtype rois_dtype, size_t n)
{
    if (rois_dtype == CLPOOL_FLOAT64)
        return b > -1.0 && b < (double)n;
    float f = (float)b;
    return f > -1.0f && f < (float)n;
}

/* Offset of (plane n*C + c, y, x) in the input's layout. */
static size_t in_at(const clpool_tensor_desc *in, size_t b, size_t c, long long y, long long x)
{
    size_t H = in->spatial[0], W = in->spatial[1], C = in->c;
    size_t s = (size_t)y * W + (size_t)x;
    return in->layout == CLPOOL_NHWC ? (b * H * W + s) * C + c : (b * C + c) * H * W + s;
}

/* Offset of output element (box k, channel c, bin ph, pw) in the layout. */
static size_t out_at(const clpool_tensor_desc *out, size_t k, size_t c, int ph, int pw)
{
    size_t PH = out->spatial[0], PW = out->spatial[1], C = out->c;
    return out->layout == CLPOOL_NHWC ? ((k * PH + (size_t)ph) * PW + (size_t)pw) * C + c
                                      : ((k * C + c) * PH + (size_t)ph) * PW + (size_t)pw;
}

static long long clamp_ll(long long v, long long lo, long long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* §8.1 for one (box, channel): every bin. */
static void roi_max_box(roi_ref *r, const tctx *t, const clpool_roi_desc *d,
                        const clpool_tensor_desc *in, const double *x, const double *box, size_t k,
                        size_t b, size_t c)
{
    const double scale = R(t, d->spatial_scale != 0 ? d->spatial_scale : 1.0);
    const long long H = (long long)in->spatial[0], W = (long long)in->spatial[1];
    const int PH = d->output_size[0], PW = d->output_size[1];
    double corner[4];
    int nan_corner = 0;
    for (int i = 0; i < 4; i++) {
        corner[i] = round(R(t, R(t, box[1 + i]) * scale)); /* half away from zero */
        nan_corner |= isnan(corner[i]);
    }
    long long sw = 0, sh = 0, ew = 0, eh = 0, roi_w = 1, roi_h = 1;
    if (!nan_corner) {
        const double lim = 1073741824.0; /* 2^30: the library's decision */
        long long v[4];
        for (int i = 0; i < 4; i++)
            v[i] = (long long)(corner[i] < -lim ? -lim : corner[i] > lim ? lim : corner[i]);
        sw = v[0], sh = v[1], ew = v[2], eh = v[3];
        roi_w = ew - sw + 1 > 1 ? ew - sw + 1 : 1;
        roi_h = eh - sh + 1 > 1 ? eh - sh + 1 : 1;
    }
    const double bin_h = R(t, R(t, (double)roi_h) / (double)PH);
    const double bin_w = R(t, R(t, (double)roi_w) / (double)PW);
    for (int ph = 0; ph < PH; ph++)
        for (int pw = 0; pw < PW; pw++) {
            size_t o = out_at(&r->out, k, c, ph, pw);
            if (nan_corner) {
                r->y[o] = 0;
                r->idx[o] = -1;
                continue;
            }
            long long hs = clamp_ll((long long)floor(R(t, (double)ph * bin_h)) + sh, 0, H);
            long long he = clamp_ll((long long)ceil(R(t, (double)(ph + 1) * bin_h)) + sh, 0, H);
            long long ws = clamp_ll((long long)floor(R(t, (double)pw * bin_w)) + sw, 0, W);
            long long we = clamp_ll((long long)ceil(R(t, (double)(pw + 1) * bin_w)) + sw, 0, W);
            int empty = he <= hs || we <= ws;
            double m = empty ? 0 : -FLT_MAX;
            int64_t arg = -1;
            for (long long y = hs; y < he; y++)
                for (long long xx = ws; xx < we; xx++) {
                    double v = x[in_at(in, b, c, y, xx)];
                    if (v > m) {
                        m = v;
                        arg = y * W + xx;
                    }
                }
            r->y[o] = m;
            r->idx[o] = arg;
        }
}

/* Sample i of a grid of n across a bin (§8.2), in T. */
static double sample_at(const tctx *t, double base, double bin, long long n, long long i)
{
    float half = (float)i + 0.5f;
    return R(t, base + R(t, R(t, (double)half * bin) / R(t, (double)n)));
}

/* Samples before and after the stretch inside [-1, limit]: positions are
 * monotone in i (increasing for bin >= 0), so each test holds on one end. */
static int sample_before(double v, double bin, long long limit)
{
    return bin >= 0 ? v < -1 : v > (double)limit;
}

static int sample_after(double v, double bin, long long limit)
{
    return bin >= 0 ? v > (double)limit : v < -1;
}

/* The samples [*first, *end) worth visiting: all of a walkable grid, else
 * the stretch inside [-1, limit], found by scanning in from both ends in
 * coarse steps, then single ones. Samples outside add nothing. */
static void visit_range(const tctx *t, double base, double bin, long long n, long long limit,
                        long long *first, long long *end)
{
    *first = 0;
    *end = n;
    if (n <= WALK_MAX)
        return;
    if (!isfinite(base) || !isfinite(bin)) { /* every sample is +-inf or NaN */
        *end = 0;
        return;
    }
    long long step = n / 1024 > 0 ? n / 1024 : 1, lo = 0, e = n;
    while (lo + step < n && sample_before(sample_at(t, base, bin, n, lo + step), bin, limit))
        lo += step;
    while (lo < n && sample_before(sample_at(t, base, bin, n, lo), bin, limit))
        lo++;
    while (e - step >= 0 && sample_after(sample_at(t, base, bin, n, e - step), bin, limit))
        e -= step;
    while (e - 1 >= 0 && sample_after(sample_at(t, base, bin, n, e - 1), bin, limit))
        e--;
    *first = lo;
    *end = e > lo ? e : lo;
}

static long long grid_size(const tctx *t, const clpool_roi_desc *d, double bin)
{
    (void)t;
    if (d->sampling_ratio > 0)
        return d->sampling_ratio;
    double g = ceil(bin);
    return g > 0 ? (long long)(g < 1073741824.0 ? g : 1073741824.0) : 0;
}

/* §8.2 for one (box, channel): every bin. */
static void roi_align_box(roi_ref *r, const tctx *t, const clpool_roi_desc *d,
                          const clpool_tensor_desc *in, const double *x, const double *box,
                          size_t k, size_t b, size_t c, double max_abs)
{
    const double scale = R(t, d->spatial_scale != 0 ? d->spatial_scale : 1.0);
    const long long H = (long long)in->spatial[0], W = (long long)in->spatial[1];
    const int PH = d->output_size[0], PW = d->output_size[1];
    const double off = d->aligned ? 0.5 : 0;
    const double sw = R(t, R(t, R(t, box[1]) * scale) - off);
    const double sh = R(t, R(t, R(t, box[2]) * scale) - off);
    const double ew = R(t, R(t, R(t, box[3]) * scale) - off);
    const double eh = R(t, R(t, R(t, box[4]) * scale) - off);
    double roi_w = R(t, ew - sw), roi_h = R(t, eh - sh);
    if (!d->aligned) { /* std::max(size, 1): NaN stays NaN */
        roi_w = roi_w < 1 ? 1 : roi_w;
        roi_h = roi_h < 1 ? 1 : roi_h;
    }
    const double bin_h = R(t, roi_h / (double)PH), bin_w = R(t, roi_w / (double)PW);
    const long long gh = grid_size(t, d, bin_h), gw = grid_size(t, d, bin_w);
    const double count = R(t, (double)(gh * gw > 1 ? gh * gw : 1));
    /* Rounding of a sequential sum in T: about n * u of the largest term. */
    const double u = t->is_float ? 0x1p-24 : 0x1p-53;
    for (int ph = 0; ph < PH; ph++)
        for (int pw = 0; pw < PW; pw++) {
            size_t o = out_at(&r->out, k, c, ph, pw);
            const double base_y = R(t, sh + R(t, (double)ph * bin_h));
            const double base_x = R(t, sw + R(t, (double)pw * bin_w));
            long long iy0, iy1, ix0, ix1;
            visit_range(t, base_y, bin_h, gh, H, &iy0, &iy1);
            visit_range(t, base_x, bin_w, gw, W, &ix0, &ix1);
            double sum = 0;
            size_t inside = 0;
            for (long long iy = iy0; iy < iy1; iy++) {
                double y = sample_at(t, base_y, bin_h, gh, iy);
                for (long long ix = ix0; ix < ix1; ix++) {
                    double xx = sample_at(t, base_x, bin_w, gw, ix);
                    /* Outside [-1, H] x [-1, W], or NaN: lost, adds 0. */
                    if (!(y >= -1 && y <= (double)H && xx >= -1 && xx <= (double)W))
                        continue;
                    inside++;
                    double yy = y <= 0 ? 0 : y, xv = xx <= 0 ? 0 : xx;
                    long long yl = (long long)yy, yh, xl = (long long)xv, xh;
                    if (yl >= H - 1) {
                        yl = yh = H - 1;
                        yy = (double)yl;
                    } else {
                        yh = yl + 1;
                    }
                    if (xl >= W - 1) {
                        xl = xh = W - 1;
                        xv = (double)xl;
                    } else {
                        xh = xl + 1;
                    }
                    const double ly = R(t, yy - (double)yl), lx = R(t, xv - (double)xl);
                    const double hy = R(t, 1 - ly), hx = R(t, 1 - lx);
                    const double w1 = R(t, hy * hx), w2 = R(t, hy * lx), w3 = R(t, ly * hx),
                                 w4 = R(t, ly * lx);
                    sum += w1 * x[in_at(in, b, c, yl, xl)] + w2 * x[in_at(in, b, c, yl, xh)] +
                           w3 * x[in_at(in, b, c, yh, xl)] + w4 * x[in_at(in, b, c, yh, xh)];
                }
            }
            r->y[o] = sum / count;
            r->samples[o] = inside;
            /* §11: rtol 1e-5 (the caller's) plus atol 1e-5 * max|x|, widened
             * by the sequential sum's rounding (4 terms a sample). */
            r->atol[o] = max_abs * (1e-5 + 8 * u * (double)(4 * inside + 1));
        }
}

int roi_ref_compute(roi_ref *r, const clpool_roi_desc *d, const clpool_tensor_desc *in,
                    const double *x, const double *rois)
{
    memset(r, 0, sizeof *r);
    r->out = *in;
    r->out.n = d->num_rois;
    r->out.spatial[0] = (size_t)d->output_size[0];
    r->out.spatial[1] = (size_t)d->output_size[1];
    r->out.spatial[2] = 0;
    r->out_elems = d->num_rois * in->c * (size_t)d->output_size[0] * (size_t)d->output_size[1];
    size_t n = r->out_elems ? r->out_elems : 1;
    r->y = calloc(n, sizeof *r->y);
    r->idx = calloc(n, sizeof *r->idx);
    r->atol = calloc(n, sizeof *r->atol);
    r->bad = calloc(n, sizeof *r->bad);
    r->samples = calloc(n, sizeof *r->samples);
    if (!r->y || !r->idx || !r->atol || !r->bad || !r->samples) {
        roi_ref_free(r);
        return -1;
    }
    tctx t = {in->dtype != CLPOOL_FLOAT64};
    double max_abs = 0;
    size_t in_elems = in->n * in->c * in->spatial[0] * in->spatial[1];
    for (size_t i = 0; i < in_elems; i++)
        if (isfinite(x[i]) && fabs(x[i]) > max_abs)
            max_abs = fabs(x[i]);
    const int PH = d->output_size[0], PW = d->output_size[1];
    for (size_t k = 0; k < d->num_rois; k++) {
        const double *box = rois + 5 * k;
        int valid = roi_ref_batch_valid(box[0], d->rois_dtype, in->n);
        /* The batch index as T holds it: float boxes are floats already. */
        size_t b = valid ? (size_t)(long long)box[0] : 0;
        for (size_t c = 0; c < in->c; c++) {
            if (!valid) {
                for (int ph = 0; ph < PH; ph++)
                    for (int pw = 0; pw < PW; pw++) {
                        size_t o = out_at(&r->out, k, c, ph, pw);
                        r->y[o] = NAN;
                        r->idx[o] = -1;
                        r->bad[o] = 1;
                    }
            } else if (d->op == CLPOOL_ROI_MAX) {
                roi_max_box(r, &t, d, in, x, box, k, b, c);
            } else {
                roi_align_box(r, &t, d, in, x, box, k, b, c, max_abs);
            }
        }
    }
    return 0;
}

void roi_ref_free(roi_ref *r)
{
    free(r->y);
    free(r->idx);
    free(r->atol);
    free(r->bad);
    free(r->samples);
    memset(r, 0, sizeof *r);
}
