/*
 * Region rows of the bench (roi.h). The boxes imitate a Faster R-CNN
 * second stage over an 800x1088 image (the 50x68 feature map of stride 16):
 * square-root areas log-uniform between 16 and 512 pixels, aspect ratios
 * 1:2, 1:1 or 2:1 with jitter, centres anywhere in the image, clipped to it
 * like proposals, over either sample of the batch. The reference follows
 * spec §8.1 and §8.2 with the box geometry in float (as torchvision does for
 * float32) and sums in double.
 */
#include "roi.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BOX_SEED 0x5eed0f20241105ull

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s, double lo, double hi)
{
    return lo + (double)(next(s) >> 11) * 0x1p-53 * (hi - lo);
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static long clampl(long v, long lo, long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void bench_roi_boxes(const bench_layer *layer, float *boxes)
{
    const double scale = layer->roi->spatial_scale;
    const double img_h = (double)layer->in[0] / scale, img_w = (double)layer->in[1] / scale;
    uint64_t s = BOX_SEED;
    static const double ratios[3] = {0.5, 1.0, 2.0};
    for (size_t k = 0; k < layer->roi->boxes; k++) {
        double side = exp(uniform(&s, log(16.0), log(512.0)));
        double ratio = ratios[next(&s) % 3] * uniform(&s, 0.8, 1.25); /* h / w */
        double w = side / sqrt(ratio), h = side * sqrt(ratio);
        double cx = uniform(&s, 0, img_w), cy = uniform(&s, 0, img_h);
        float *b = boxes + 5 * k;
        b[0] = (float)(next(&s) % layer->n);
        b[1] = (float)clampd(cx - w / 2, 0, img_w - 1);
        b[2] = (float)clampd(cy - h / 2, 0, img_h - 1);
        b[3] = (float)clampd(cx + w / 2, 0, img_w - 1);
        b[4] = (float)clampd(cy + h / 2, 0, img_h - 1);
    }
}

void bench_roi_desc(const bench_layer *layer, clpool_roi_desc *desc)
{
    const bench_roi *r = layer->roi;
    *desc = (clpool_roi_desc){0};
    desc->op = r->op;
    desc->output_size[0] = desc->output_size[1] = r->pooled;
    desc->num_rois = r->boxes;
    desc->rois_dtype = CLPOOL_FLOAT32;
    desc->spatial_scale = r->spatial_scale;
    desc->sampling_ratio = r->op == CLPOOL_ROI_ALIGN ? r->sampling : 0;
    desc->aligned = r->op == CLPOOL_ROI_ALIGN ? r->aligned : 0;
}

/* Element (sample b, channel c, y, x) of the row's input. */
static float at(const bench_layer *layer, const float *x, size_t b, size_t c, long y, long xx)
{
    size_t plane = layer->in[0] * layer->in[1];
    size_t s = (size_t)y * layer->in[1] + (size_t)xx;
    return x[bench_layer_offset(layer, plane, b, c, s)];
}

/* §8.1, for one bin. */
static double ref_max(const bench_layer *layer, const float *x, const float *b, size_t c, int ph,
                      int pw)
{
    const int P = layer->roi->pooled;
    const float scale = (float)layer->roi->spatial_scale;
    const long H = (long)layer->in[0], W = (long)layer->in[1];
    long sw = lroundf(b[1] * scale), sh = lroundf(b[2] * scale);
    long ew = lroundf(b[3] * scale), eh = lroundf(b[4] * scale);
    long rw = ew - sw + 1 > 1 ? ew - sw + 1 : 1, rh = eh - sh + 1 > 1 ? eh - sh + 1 : 1;
    float bw = (float)rw / (float)P, bh = (float)rh / (float)P;
    long hs = clampl((long)floorf((float)ph * bh) + sh, 0, H);
    long he = clampl((long)ceilf((float)(ph + 1) * bh) + sh, 0, H);
    long ws = clampl((long)floorf((float)pw * bw) + sw, 0, W);
    long we = clampl((long)ceilf((float)(pw + 1) * bw) + sw, 0, W);
    if (he <= hs || we <= ws)
        return 0;
    double m = -FLT_MAX;
    for (long y = hs; y < he; y++)
        for (long xx = ws; xx < we; xx++) {
            double v = at(layer, x, (size_t)b[0], c, y, xx);
            if (v > m)
                m = v;
        }
    return m;
}

/* §8.2, for one bin (a fixed sampling ratio, as the table's rows use). */
static double ref_align(const bench_layer *layer, const float *x, const float *b, size_t c, int ph,
                        int pw)
{
    const int P = layer->roi->pooled, g = layer->roi->sampling;
    const float scale = (float)layer->roi->spatial_scale;
    const float off = layer->roi->aligned ? 0.5f : 0.0f;
    const long H = (long)layer->in[0], W = (long)layer->in[1];
    float sw = b[1] * scale - off, sh = b[2] * scale - off;
    float rw = b[3] * scale - off - sw, rh = b[4] * scale - off - sh;
    if (!layer->roi->aligned) {
        rw = rw < 1 ? 1 : rw;
        rh = rh < 1 ? 1 : rh;
    }
    float bw = rw / (float)P, bh = rh / (float)P;
    double sum = 0;
    for (int iy = 0; iy < g; iy++) {
        float y = sh + (float)ph * bh + ((float)iy + 0.5f) * bh / (float)g;
        for (int ix = 0; ix < g; ix++) {
            float xx = sw + (float)pw * bw + ((float)ix + 0.5f) * bw / (float)g;
            if (!(y >= -1 && y <= (float)H && xx >= -1 && xx <= (float)W))
                continue;
            float yy = y <= 0 ? 0 : y, xv = xx <= 0 ? 0 : xx;
            long yl = (long)yy, xl = (long)xv, yh, xh;
            if (yl >= H - 1) {
                yl = yh = H - 1;
                yy = (float)yl;
            } else {
                yh = yl + 1;
            }
            if (xl >= W - 1) {
                xl = xh = W - 1;
                xv = (float)xl;
            } else {
                xh = xl + 1;
            }
            double ly = yy - (float)yl, lx = xv - (float)xl, hy = 1 - ly, hx = 1 - lx;
            size_t n = (size_t)b[0];
            sum += hy * hx * at(layer, x, n, c, yl, xl) + hy * lx * at(layer, x, n, c, yl, xh) +
                   ly * hx * at(layer, x, n, c, yh, xl) + ly * lx * at(layer, x, n, c, yh, xh);
        }
    }
    return sum / (double)(g * g > 1 ? g * g : 1);
}

int bench_check_roi(const bench_layer *layer, const float *input, const float *output, char *msg,
                    size_t msg_len)
{
    const bench_roi *r = layer->roi;
    const size_t K = r->boxes, C = layer->c, P = (size_t)r->pooled;
    float *boxes = malloc(5 * K * sizeof *boxes);
    if (boxes == NULL) {
        snprintf(msg, msg_len, "out of host memory for the reference");
        return -1;
    }
    bench_roi_boxes(layer, boxes);
    double max_abs = 0;
    for (size_t i = 0; i < bench_layer_input_elements(layer); i++)
        max_abs = fmax(max_abs, fabs((double)input[i]));
    size_t bad = 0;
    for (size_t k = 0; k < K; k++)
        for (size_t c = 0; c < C; c++)
            for (size_t ph = 0; ph < P; ph++)
                for (size_t pw = 0; pw < P; pw++) {
                    size_t s = ph * P + pw;
                    size_t o = layer->layout == CLPOOL_NHWC ? (k * P * P + s) * C + c
                                                            : (k * C + c) * P * P + s;
                    const float *b = boxes + 5 * k;
                    double want = r->op == CLPOOL_ROI_MAX
                                      ? ref_max(layer, input, b, c, (int)ph, (int)pw)
                                      : ref_align(layer, input, b, c, (int)ph, (int)pw);
                    double got = output[o];
                    int ok = r->op == CLPOOL_ROI_MAX
                                 ? got == (double)(float)want
                                 : fabs(got - want) <= 1e-5 * fabs(want) + 1e-5 * max_abs;
                    if (ok)
                        continue;
                    if (bad++ == 0)
                        snprintf(msg, msg_len,
                                 "box %zu [%g, %g, %g, %g, %g] channel %zu bin (%zu, %zu): got "
                                 "%.9g, want %.9g",
                                 k, b[0], b[1], b[2], b[3], b[4], c, ph, pw, got, want);
                }
    free(boxes);
    if (bad == 0)
        return 0;
    char first[300];
    snprintf(first, sizeof first, "%s", msg);
    snprintf(msg, msg_len, "%zu wrong elements; first: %s", bad, first);
    return -1;
}
