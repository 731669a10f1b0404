/*
 * The double reference of the window family's gradients (see
 * reference_backward.h): for each output, its window's real cells and the
 * contribution each receives (spec §9: max scatter-add, avg with the
 * forward's divisor, lp with the K/D scale and no gradient for a zero sum;
 * §10: mixed, softmax, stochastic; GeM's clamp), scattered in double with
 * the condition of each contribution for the comparison band.
 */
#include "reference_backward.h"
#include "reference.h"
#include "storage.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


/* One window: its real cells (flat in-plane indices, values) in scan
 * order, and the cells of the divisor with and without padding. */
typedef struct window {
    size_t n;
    int64_t *q;
    double *v;
    long padded_cells, real_cells, all_cells;
} window;

static void gather(const ref_dim r[3], const long o[3], const double *plane, window *w)
{
    w->n = 0;
    w->padded_cells = 1;
    w->real_cells = 1;
    w->all_cells = r[0].k * r[1].k * r[2].k;
    for (int j = 0; j < 3; j++) {
        long start = o[j] * r[j].s - r[j].p;
        long end = start + r[j].k;
        if (end > r[j].in + r[j].p)
            end = r[j].in + r[j].p;
        long cs = start < 0 ? 0 : start, ce = start + r[j].k < r[j].in ? start + r[j].k : r[j].in;
        w->padded_cells *= end - start;
        w->real_cells *= ce > cs ? ce - cs : 0;
    }
    for (long a = 0; a < r[0].k; a++) {
        long t = o[0] * r[0].s - r[0].p + a * r[0].d;
        if (t < 0 || t >= r[0].in)
            continue;
        for (long b = 0; b < r[1].k; b++) {
            long h = o[1] * r[1].s - r[1].p + b * r[1].d;
            if (h < 0 || h >= r[1].in)
                continue;
            for (long c = 0; c < r[2].k; c++) {
                long x = o[2] * r[2].s - r[2].p + c * r[2].d;
                if (x < 0 || x >= r[2].in)
                    continue;
                int64_t q = ((int64_t)t * r[1].in + h) * r[2].in + x;
                w->q[w->n] = q;
                w->v[w->n] = plane[q];
                w->n++;
            }
        }
    }
}

/* The argmax of spec §2: the first maximum, the last NaN, else the first cell. */
static int64_t argmax(const window *w)
{
    double m = -INFINITY;
    int64_t best = -1;
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i] > m || isnan(w->v[i])) {
            m = w->v[i];
            best = w->q[i];
        }
    return best >= 0 ? best : w->n ? w->q[0] : -1;
}

/* Adds contribution @p c, whose float computation may be off by u * @p mag
 * (times the slack ref_grad_accepts applies). */
static void add(ref_grad *gx, int64_t q, double c, double mag)
{
    gx[q].g += c;
    gx[q].band += mag;
    gx[q].terms++;
}

/* The divisor of avg (and, without an override, mixed). */
static double divisor(const clpool_window_desc *op, const window *w)
{
    if (op->op == CLPOOL_OP_AVG && op->divisor_override)
        return op->divisor_override;
    return op->exclude_padding ? (double)w->real_cells : (double)w->padded_cells;
}

/* Scatters output gradient @p g of window @p w; @p gem_eps is GeM's clamp,
 * 1e-6 in the computation's type (the float 1e-6f unless float64). */
static void scatter(const clpool_window_desc *op, const window *w, double g, int64_t sel,
                    double gem_eps, ref_grad *gx)
{
    double slack = 1.0 + (double)w->n / 8.0;
    switch (op->op) {
    case CLPOOL_OP_MAX:
        for (size_t i = 0; i < w->n; i++)
            if (w->q[i] == sel)
                add(gx, w->q[i], g, fabs(g));
        return;
    case CLPOOL_OP_STOCHASTIC:
        if (op->train) {
            for (size_t i = 0; i < w->n; i++)
                if (w->q[i] == sel)
                    add(gx, w->q[i], g, fabs(g));
            return;
        } else {
            double s = 0, s2 = 0;
            for (size_t i = 0; i < w->n; i++) {
                double a = w->v[i] > 0 ? w->v[i] : 0;
                s += a;
                s2 += a * a;
            }
            double den = (double)FLT_MIN + s, y = s2 / den;
            for (size_t i = 0; i < w->n; i++)
                if (w->v[i] > 0)
                    add(gx, w->q[i], g * (2 * w->v[i] - y) / den,
                        4.0 * slack * fabs(g) * (2 * w->v[i] + fabs(y)) / den);
            return;
        }
    case CLPOOL_OP_AVG: {
        double c = g / divisor(op, w);
        for (size_t i = 0; i < w->n; i++)
            add(gx, w->q[i], c, fabs(c));
        return;
    }
    case CLPOOL_OP_MIXED: {
        int64_t am = argmax(w);
        double share = (1 - op->alpha) * g / divisor(op, w);
        for (size_t i = 0; i < w->n; i++)
            add(gx, w->q[i], w->q[i] == am ? op->alpha * g + share : share,
                2 * (fabs(op->alpha * g) + fabs(share)));
        return;
    }
    case CLPOOL_OP_LP:
    case CLPOOL_OP_GEM: {
        int gem = op->op == CLPOOL_OP_GEM;
        double p = op->p, sum = 0;
        for (size_t i = 0; i < w->n; i++)
            sum += pow(gem ? fmax(w->v[i], gem_eps) : w->v[i], p);
        if (w->n == 0)
            return;
        double D = (double)w->n, K = (double)w->all_cells;
        double t = gem ? sum / D : sum / D * K, y = pow(t, 1 / p);
        if (!gem && sum == 0)
            return; /* relu's mask: no gradient */
        double scale = gem ? 1 / D : K / D;
        double cond = (2 + fabs(p)) * (1 + fabs(1 - p)) * slack;
        for (size_t i = 0; i < w->n; i++) {
            if (gem && !(w->v[i] >= gem_eps))
                continue;
            double c = g * scale * pow(y, 1 - p) * pow(w->v[i], p - 1);
            add(gx, w->q[i], c, fabs(c) * cond);
        }
        return;
    }
    case CLPOOL_OP_SOFTMAX: {
        double beta = op->beta, m = -INFINITY, big = 0;
        for (size_t i = 0; i < w->n; i++) {
            double b = beta * w->v[i];
            if (b > m || isnan(b))
                m = b;
            big = fmax(big, fabs(w->v[i]));
        }
        double s = 0, ws = 0;
        for (size_t i = 0; i < w->n; i++) {
            double e = exp(beta * w->v[i] - m);
            s += e;
            ws += e == 0 ? 0 : e * w->v[i];
        }
        double y = ws / s;
        for (size_t i = 0; i < w->n; i++) {
            double wq = exp(beta * w->v[i] - m) / s;
            if (wq == 0)
                continue;
            double f = 1 + beta * (w->v[i] - y);
            double mag = 1 + fabs(beta) * (fabs(w->v[i]) + fabs(y));
            add(gx, w->q[i], g * wq * f, slack * (1 + fabs(beta) * big) * fabs(g) * wq * mag);
        }
        return;
    }
    }
}

void ref_backward_run(const clpool_window_desc *op, const clpool_tensor_desc *in, const double *x,
                      const double *gy, const int64_t *sel, ref_grad *gx)
{
    ref_dim r[3];
    ref_window_dims(op, in, r);
    size_t S = (size_t)(r[0].in * r[1].in * r[2].in), O = (size_t)(r[0].out * r[1].out * r[2].out);
    size_t planes = in->n * in->c, K = (size_t)(r[0].k * r[1].k * r[2].k);
    memset(gx, 0, planes * S * sizeof *gx);
    double gem_eps = in->dtype == CLPOOL_FLOAT64 ? 1e-6 : (double)1e-6f;
    window w;
    w.q = malloc(K * sizeof *w.q);
    w.v = malloc(K * sizeof *w.v);
    if (!w.q || !w.v)
        abort();
    for (size_t pl = 0; pl < planes; pl++) {
        for (size_t pos = 0; pos < O; pos++) {
            long o[3] = {(long)(pos / (size_t)(r[1].out * r[2].out)),
                         (long)(pos / (size_t)r[2].out % (size_t)r[1].out),
                         (long)(pos % (size_t)r[2].out)};
            gather(r, o, x + pl * S, &w);
            int64_t s = -1;
            if (op->op == CLPOOL_OP_MAX || op->op == CLPOOL_OP_STOCHASTIC)
                s = sel ? sel[pl * O + pos] : argmax(&w);
            scatter(op, &w, gy[pl * O + pos], s, gem_eps, gx + pl * S);
        }
    }
    free(w.q);
    free(w.v);
}

int ref_grad_accepts(clpool_dtype t, const ref_grad *e, const void *got, size_t i)
{
    if (storage_is_poison(t, got, i))
        return 0;
    double v = storage_load(t, got, i);
    if (isnan(e->g) || isnan(v))
        return isnan(e->g) && isnan(v);
    if (isinf(e->g))
        return v == e->g;
    /* a finite reference may still round to +-inf in float16 / bfloat16 */
    /* float64: pow and exp of OpenCL doubles may be off by ~1000 ulp (PoCL's
     * double pow measured at 2000; the family suite's float64 band is a
     * relative 1e-12 likewise), so the unit is 1e-13 rather than 2^-53. */
    double u = t == CLPOOL_FLOAT64 ? 1e-13 : 0x1p-24;
    /* plus the absolute error of a few operations per contribution that
     * underflow to subnormals (2^-149 in float, 2^-1074 in double) */
    double tiny = t == CLPOOL_FLOAT64 ? 0x1p-1074 : 0x1p-149;
    double tol = 8 * u * (4 + e->terms) * e->band + 16 * tiny * (1 + e->terms);
    if (isinf(tol) || isnan(tol))
        return 1; /* a contribution overflowed: any finite value */
    double lo = storage_round(t, e->g - tol);
    double hi = storage_round(t, e->g + tol);
    if (t != CLPOOL_FLOAT64) {
        lo = storage_round(t, (double)(float)(e->g - tol) <= e->g - tol
                                  ? (double)(float)(e->g - tol)
                                  : nextafterf((float)(e->g - tol), -INFINITY));
        hi = storage_round(t, (double)(float)(e->g + tol) >= e->g + tol
                                  ? (double)(float)(e->g + tol)
                                  : nextafterf((float)(e->g + tol), INFINITY));
    }
    return v >= lo && v <= hi;
}

void ref_backward_forward(const clpool_window_desc *op, const clpool_tensor_desc *in,
                          const double *x, double *y)
{
    clpool_tensor_desc out;
    if (ref_window_check(op, in, &out) != CLPOOL_SUCCESS)
        abort();
    size_t n = out.n * out.c;
    for (int j = 0; j < out.spatial_dims; j++)
        n *= out.spatial[j];
    ref_elem *e = calloc(n ? n : 1, sizeof *e);
    if (!e)
        abort();
    clpool_tensor_desc in64 = *in;
    in64.dtype = CLPOOL_FLOAT64;
    ref_family_run(op, &in64, x, e, NULL);
    for (size_t i = 0; i < n; i++)
        y[i] = e[i].y;
    free(e);
}
