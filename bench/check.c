/*
 * The reference checker (see check.h). It follows spec §2 (max: padding is
 * skipped, NaN wins, first maximum wins) and §3 (avg: the divisor clipped to
 * the padded extent, then to the real input when padding is excluded), for
 * dilation 1 and no divisor override, which is all the layer table uses.
 */
#include "check.h"

#include <math.h>
#include <stdio.h>

static double reference_max(const float *plane, const bench_layer *layer, long y0, long y1,
                            long x0, long x1)
{
    double m = -INFINITY;
    for (long y = y0; y < y1; y++)
        for (long x = x0; x < x1; x++) {
            double v = plane[(size_t)y * layer->w + (size_t)x];
            if (v > m || isnan(v))
                m = v;
        }
    return m;
}

static double reference_sum(const float *plane, const bench_layer *layer, long y0, long y1,
                            long x0, long x1)
{
    double s = 0.0;
    for (long y = y0; y < y1; y++)
        for (long x = x0; x < x1; x++)
            s += plane[(size_t)y * layer->w + (size_t)x];
    return s;
}

static long clamp_long(long v, long lo, long hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

int bench_check_output(const bench_layer *layer, const float *input, const float *output,
                       char *msg, size_t msg_len)
{
    size_t oh, ow;
    bench_layer_output_hw(layer, &oh, &ow);
    const long h = (long)layer->h, w = (long)layer->w;
    const long kh = layer->kernel[0], kw = layer->kernel[1];
    const long sh = layer->stride[0], sw = layer->stride[1];
    const long ph = layer->padding[0], pw = layer->padding[1];

    double max_abs_x = 0.0;
    if (layer->op == CLPOOL_OP_AVG)
        for (size_t i = 0; i < bench_layer_input_elements(layer); i++)
            max_abs_x = fmax(max_abs_x, fabs((double)input[i]));

    size_t bad = 0, first_plane = 0, first_y = 0, first_x = 0;
    double first_got = 0.0, first_want = 0.0;
    for (size_t plane = 0; plane < layer->n * layer->c; plane++) {
        const float *in = input + plane * layer->h * layer->w;
        const float *out = output + plane * oh * ow;
        for (size_t oy = 0; oy < oh; oy++) {
            long ys = (long)oy * sh - ph;
            long ye = ys + kh < h + ph ? ys + kh : h + ph; /* clipped to the padded extent */
            long y0 = clamp_long(ys, 0, h), y1 = clamp_long(ye, 0, h);
            for (size_t ox = 0; ox < ow; ox++) {
                long xs = (long)ox * sw - pw;
                long xe = xs + kw < w + pw ? xs + kw : w + pw;
                long x0 = clamp_long(xs, 0, w), x1 = clamp_long(xe, 0, w);
                double want, got = out[oy * ow + ox];
                int ok;
                if (layer->op == CLPOOL_OP_MAX) {
                    want = reference_max(in, layer, y0, y1, x0, x1);
                    ok = (isnan(want) && isnan(got)) || got == want;
                } else {
                    long count = layer->exclude_padding ? (y1 - y0) * (x1 - x0)
                                                        : (ye - ys) * (xe - xs);
                    want = count > 0 ? reference_sum(in, layer, y0, y1, x0, x1) / (double)count
                                     : 0.0;
                    ok = fabs(got - want) <= 1e-5 * fabs(want) + 1e-6 * max_abs_x;
                }
                if (!ok && bad++ == 0) {
                    first_plane = plane;
                    first_y = oy;
                    first_x = ox;
                    first_got = got;
                    first_want = want;
                }
            }
        }
    }
    if (bad == 0)
        return 0;
    snprintf(msg, msg_len,
             "%s: %zu of %zu outputs wrong; first at (n=%zu, c=%zu, y=%zu, x=%zu): got %.9g, "
             "expected %.9g",
             layer->name, bad, layer->n * layer->c * oh * ow, first_plane / layer->c,
             first_plane % layer->c, first_y, first_x, first_got, first_want);
    return -1;
}
