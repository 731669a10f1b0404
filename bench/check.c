/*
 * The reference checker (see check.h). It follows spec §2 (max: padding is
 * skipped, NaN wins, first maximum wins), §3 (avg: the divisor clipped to
 * the padded extent, then to the real input when padding is excluded), §5
 * (lp: ((K/D) sum x^p)^(1/p), a signed sum, no padding) and §10.3 (softmax:
 * sum softmax(beta x)_i x_i over the real cells, the window maximum
 * subtracted), for dilation 1 and no divisor override, which is all the
 * layer table uses. Absent spatial dimensions are unit.
 */
#include "check.h"

#include "roi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* One window, clipped: real cells [lo, hi) per dimension, padded extent
 * cells (for avg's divisor) and the full window size K. */
typedef struct window {
    long lo[3], hi[3];
    long padded; /* cells of the window clipped to the padded extent */
    long real;   /* cells inside the input */
    long full;   /* K: the product of the kernel */
} window;

/* The tensor geometry the reference walks: NCHW or NHWC, 3-D with unit
 * outer dimensions when the layer has fewer. */
typedef struct geometry {
    const bench_layer *layer;
    long in[3], out[3], k[3], s[3], p[3];
    size_t in_plane, out_plane;
} geometry;

static long clamp_long(long v, long lo, long hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static void make_geometry(const bench_layer *layer, geometry *g)
{
    size_t out[3];
    bench_layer_output_spatial(layer, out);
    int off = 3 - layer->dims;
    for (int i = 0; i < 3; i++) {
        int d = i - off; /* the layer's dimension, < 0 for a unit one */
        g->in[i] = d >= 0 ? (long)layer->in[d] : 1;
        g->out[i] = d >= 0 ? (long)out[d] : 1;
        g->k[i] = d >= 0 ? layer->kernel[d] : 1;
        g->s[i] = d >= 0 ? layer->stride[d] : 1;
        g->p[i] = d >= 0 ? layer->padding[d] : 0;
    }
    g->layer = layer;
    g->in_plane = bench_layer_input_plane(layer);
    g->out_plane = bench_layer_output_plane(layer);
}

static void make_window(const geometry *g, const long o[3], window *w)
{
    w->padded = w->real = w->full = 1;
    for (int i = 0; i < 3; i++) {
        long start = o[i] * g->s[i] - g->p[i];
        long end = start + g->k[i] < g->in[i] + g->p[i] ? start + g->k[i] : g->in[i] + g->p[i];
        w->lo[i] = clamp_long(start, 0, g->in[i]);
        w->hi[i] = clamp_long(end, 0, g->in[i]);
        w->padded *= end - start;
        w->real *= w->hi[i] - w->lo[i];
        w->full *= g->k[i];
    }
}

/* Copies the real cells of window @p w of plane (@p n, @p c) into @p cells
 * in row-major scan order; returns how many (w->real). */
static size_t gather(const geometry *g, const float *input, size_t n, size_t c, const window *w,
                     double *cells)
{
    size_t count = 0;
    for (long z = w->lo[0]; z < w->hi[0]; z++)
        for (long y = w->lo[1]; y < w->hi[1]; y++)
            for (long x = w->lo[2]; x < w->hi[2]; x++) {
                size_t s = (size_t)((z * g->in[1] + y) * g->in[2] + x);
                cells[count++] = input[bench_layer_offset(g->layer, g->in_plane, n, c, s)];
            }
    return count;
}

/* The reference value of one output from the @p count real cells of its
 * window @p w. */
static double reference(const bench_layer *layer, const double *cells, size_t count,
                        const window *w)
{
    double acc = 0.0, m = -INFINITY, weights = 0.0;
    switch (layer->op) {
    case CLPOOL_OP_MAX:
        for (size_t i = 0; i < count; i++)
            if (cells[i] > m || isnan(cells[i]))
                m = cells[i];
        return m;
    case CLPOOL_OP_AVG: {
        long divisor = layer->exclude_padding ? w->real : w->padded;
        for (size_t i = 0; i < count; i++)
            acc += cells[i];
        return divisor > 0 ? acc / (double)divisor : 0.0;
    }
    case CLPOOL_OP_LP:
        for (size_t i = 0; i < count; i++)
            acc += pow(cells[i], layer->p);
        return pow((double)w->full / (double)w->real * acc, 1.0 / layer->p);
    case CLPOOL_OP_SOFTMAX:
        if (count == 0)
            return 0.0;
        for (size_t i = 0; i < count; i++)
            if (layer->beta * cells[i] > m || isnan(cells[i]))
                m = layer->beta * cells[i];
        for (size_t i = 0; i < count; i++) {
            double e = exp(layer->beta * cells[i] - m);
            weights += e;
            acc += e * cells[i];
        }
        return acc / weights;
    default:
        return NAN;
    }
}

/* The relative tolerance of @p layer's op and dtype (check.h). */
static double relative_tolerance(const bench_layer *layer)
{
    double rtol = layer->op == CLPOOL_OP_AVG ? 1e-5 : 2e-5;
    if (layer->dtype == CLPOOL_FLOAT16)
        rtol += 1.0 / 2048.0;
    else if (layer->dtype == CLPOOL_BFLOAT16)
        rtol += 1.0 / 256.0;
    return rtol;
}

/* Spatial pyramid rows (spec §10.4): level l is adaptive pooling (§4) to
 * n_l x n_l bins; per sample the levels follow one another, each as
 * (C, n, n). */
static int check_spp(const bench_layer *layer, const float *input, const float *output, char *msg,
                     size_t msg_len)
{
    size_t H = layer->in[0], W = layer->in[1], plane = H * W;
    size_t S = bench_layer_output_plane(layer), bad = 0, first = 0;
    double first_got = 0, first_want = 0;
    for (size_t n = 0; n < layer->n; n++) {
        size_t before = 0;
        for (int l = 0; l < layer->level_count; l++) {
            size_t nb = (size_t)layer->levels[l];
            for (size_t c = 0; c < layer->c; c++)
                for (size_t i = 0; i < nb * nb; i++) {
                    size_t iy = i / nb, ix = i % nb;
                    size_t y0 = iy * H / nb, y1 = ((iy + 1) * H + nb - 1) / nb;
                    size_t x0 = ix * W / nb, x1 = ((ix + 1) * W + nb - 1) / nb;
                    double m = -INFINITY, sum = 0;
                    for (size_t y = y0; y < y1; y++)
                        for (size_t x = x0; x < x1; x++) {
                            double v = input[bench_layer_offset(layer, plane, n, c, y * W + x)];
                            if (v > m || isnan(v))
                                m = v;
                            sum += v;
                        }
                    double want =
                        layer->op == CLPOOL_OP_MAX ? m : sum / (double)((y1 - y0) * (x1 - x0));
                    size_t e = n * layer->c * S + before * layer->c + c * nb * nb + i;
                    double got = output[e];
                    int ok =
                        layer->op == CLPOOL_OP_MAX
                            ? (isnan(want) && isnan(got)) || got == want
                            : fabs(got - want) <= relative_tolerance(layer) * fabs(want) + 1e-6;
                    if (!ok && bad++ == 0) {
                        first = e;
                        first_got = got;
                        first_want = want;
                    }
                }
            before += nb * nb;
        }
    }
    if (bad == 0)
        return 0;
    snprintf(msg, msg_len,
             "%s: %zu of %zu outputs wrong; first at element %zu: got %.9g, expected %.9g",
             layer->name, bad, bench_layer_output_elements(layer), first, first_got, first_want);
    return -1;
}

int bench_check_output(const bench_layer *layer, const float *input, const float *output, char *msg,
                       size_t msg_len)
{
    if (layer->family == BENCH_SPP)
        return check_spp(layer, input, output, msg, msg_len);
    if (layer->roi)
        return bench_check_roi(layer, input, output, msg, msg_len);
    geometry g;
    make_geometry(layer, &g);
    double *cells = malloc((size_t)(g.k[0] * g.k[1] * g.k[2]) * sizeof *cells);
    if (cells == NULL) {
        snprintf(msg, msg_len, "%s: out of host memory for the reference", layer->name);
        return -1;
    }
    const double rtol = relative_tolerance(layer);
    double max_abs_x = 0.0;
    if (layer->op != CLPOOL_OP_MAX)
        for (size_t i = 0; i < bench_layer_input_elements(layer); i++)
            max_abs_x = fmax(max_abs_x, fabs((double)input[i]));

    size_t bad = 0, first_n = 0, first_c = 0, first_s = 0;
    double first_got = 0.0, first_want = 0.0;
    for (size_t n = 0; n < layer->n; n++)
        for (size_t c = 0; c < layer->c; c++) {
            size_t s = 0;
            long o[3];
            for (o[0] = 0; o[0] < g.out[0]; o[0]++)
                for (o[1] = 0; o[1] < g.out[1]; o[1]++)
                    for (o[2] = 0; o[2] < g.out[2]; o[2]++, s++) {
                        window w;
                        make_window(&g, o, &w);
                        size_t count = gather(&g, input, n, c, &w, cells);
                        double want = reference(layer, cells, count, &w);
                        double got = output[bench_layer_offset(layer, g.out_plane, n, c, s)];
                        int ok = layer->op == CLPOOL_OP_MAX
                                     ? (isnan(want) && isnan(got)) || got == want
                                     : (isnan(want) && isnan(got)) ||
                                           fabs(got - want) <= rtol * fabs(want) + 1e-6 * max_abs_x;
                        if (!ok && bad++ == 0) {
                            first_n = n;
                            first_c = c;
                            first_s = s;
                            first_got = got;
                            first_want = want;
                        }
                    }
        }
    free(cells);
    if (bad == 0)
        return 0;
    /* The first wrong output's spatial position, outermost first. */
    long pos[3];
    size_t rest = first_s;
    for (int i = 2; i >= 0; i--) {
        pos[i] = (long)(rest % (size_t)g.out[i]);
        rest /= (size_t)g.out[i];
    }
    snprintf(msg, msg_len,
             "%s: %zu of %zu outputs wrong; first at (n=%zu, c=%zu, z=%ld, y=%ld, x=%ld): got "
             "%.9g, expected %.9g",
             layer->name, bad, bench_layer_output_elements(layer), first_n, first_c, pos[0], pos[1],
             pos[2], first_got, first_want);
    return -1;
}
