/*
 * The reference of every window operator on any dtype (see reference.h):
 * max, avg, lp, gem, mixed, softmax and stochastic over the real cells of
 * each window (the window cells inside the input), computed in double from
 * spec/semantics.md §2, §3, §5, §10 and the header's docs, with the band of
 * results that a float (or double) computation of the same formula may give
 * (spec §11).
 */
#include "reference.h"
#include "storage.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the generator, from the header's formula ---------------------------- */

/* splitmix64: z += golden gamma, then its finaliser. */
static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

float ref_uniform(uint64_t seed, uint64_t plane, uint64_t position)
{
    uint64_t h = mix(seed ^ mix(plane ^ mix(position)));
    return (float)(h >> 40) * 0x1p-24f; /* 24 bits: exact in float */
}

/* ---- precision of the computation the library does ----------------------- */

typedef struct precision {
    double u;        /* unit roundoff: float, or double for float64 */
    double rtol_sum; /* spec §11: avg, mixed, stochastic's average */
    double rtol_fn;  /* spec §11: lp, gem, softmax (pow and exp) */
    int is_f64, is_int;
} precision;

static precision precision_of(clpool_dtype t)
{
    precision p;
    memset(&p, 0, sizeof p);
    p.is_f64 = t == CLPOOL_FLOAT64;
    p.is_int = !storage_is_float(t);
    p.u = p.is_f64 ? 0x1p-53 : 0x1p-24;
    p.rtol_sum = p.is_f64 ? 1e-12 : 1e-5;
    p.rtol_fn = p.is_f64 ? 1e-12 : 2e-5;
    return p;
}

/* 1 + ceil(log2 n): the depth of a pairwise sum of n terms (spec §11). */
static double sum_depth(size_t n)
{
    return 1.0 + (n > 1 ? ceil(log2((double)n)) : 0.0);
}

static void set_exact(ref_elem *e, double y)
{
    e->y = e->lo = e->hi = y;
    e->flags = REF_EXACT;
}

/* y within +-tol; a non-finite y must come out exactly (NaN as any NaN). */
static void set_band(ref_elem *e, double y, double tol)
{
    if (!isfinite(y)) {
        set_exact(e, y);
        return;
    }
    e->y = y;
    e->lo = y - tol;
    e->hi = y + tol;
    e->flags = 0;
}

/*
 * y = pow(a, inv_p) where a float computation of a may land anywhere in
 * [a_lo, a_hi]: the band is the image of that interval (through 0 too when
 * it holds 0, where pow is not monotone for even 1/p), NaN allowed when part
 * of the interval has no real power, widened by pow's own error and that of
 * rounding 1/p (spec §11: rtol 2e-5 for float).
 */
static void pow_band(ref_elem *e, double y, double a, double a_lo, double a_hi, double inv_p,
                     const precision *pr)
{
    int through_zero = a_lo < 0.0 && a_hi > 0.0;
    double cand[4] = {pow(a_lo, inv_p), pow(a_hi, inv_p), y, pow(0.0, inv_p)};
    double lo = INFINITY, hi = -INFINITY;
    int nan = 0;
    for (int i = 0; i < (through_zero ? 4 : 3); i++) {
        if (isnan(cand[i])) {
            nan |= i < 2;
            continue;
        }
        lo = fmin(lo, cand[i]);
        hi = fmax(hi, cand[i]);
    }
    if (lo > hi) { /* no real power anywhere: NaN */
        set_exact(e, NAN);
        return;
    }
    double ln_a = a != 0.0 && isfinite(a) ? fabs(log(fabs(a))) : 0.0;
    double w = pr->rtol_fn + pr->u * (16.0 + ln_a * fabs(inv_p));
    e->y = y;
    e->lo = isfinite(lo) ? lo - w * fabs(lo) : lo;
    e->hi = isfinite(hi) ? hi + w * fabs(hi) : hi;
    e->flags = nan ? REF_NAN_OK : 0;
}

/* ---- one window ------------------------------------------------------------ */

typedef struct window {
    size_t n;          /* real cells */
    double *v;         /* their values, in row-major scan order */
    int64_t *q;        /* their flat in-plane indices */
    long pool;         /* cells inside the padded extent [-p, In + p) (avg's divisor) */
    long kernel;       /* K = prod(k) */
    uint64_t plane;    /* (first_sample + n)*C + c */
    uint64_t position; /* flat output index in its plane */
} window;

static void gather(const ref_dim r[3], const long o[3], const double *plane, window *w)
{
    w->pool = 1;
    w->kernel = 1;
    for (int i = 0; i < 3; i++) {
        long start = o[i] * r[i].s - r[i].p;
        long end = start + r[i].k < r[i].in + r[i].p ? start + r[i].k : r[i].in + r[i].p;
        w->pool *= end - start; /* meaningful without dilation, the only case it is used */
        w->kernel *= r[i].k;
    }
    w->n = 0;
    for (long i0 = 0; i0 < r[0].k; i0++) {
        long t = o[0] * r[0].s - r[0].p + i0 * r[0].d;
        if (t < 0 || t >= r[0].in)
            continue;
        for (long i1 = 0; i1 < r[1].k; i1++) {
            long h = o[1] * r[1].s - r[1].p + i1 * r[1].d;
            if (h < 0 || h >= r[1].in)
                continue;
            for (long i2 = 0; i2 < r[2].k; i2++) {
                long x = o[2] * r[2].s - r[2].p + i2 * r[2].d;
                if (x < 0 || x >= r[2].in)
                    continue;
                int64_t q = ((int64_t)t * r[1].in + h) * r[2].in + x;
                w->v[w->n] = plane[q];
                w->q[w->n] = q;
                w->n++;
            }
        }
    }
}

/* §2: padding skipped, the first maximum wins, NaN wins and the last NaN is kept. */
static double window_max(const window *w, int64_t *at)
{
    double m = -INFINITY;
    *at = -1;
    for (size_t i = 0; i < w->n; i++) {
        if (*at < 0)
            *at = w->q[i];
        if (w->v[i] > m || isnan(w->v[i])) {
            m = w->v[i];
            *at = w->q[i];
        }
    }
    return m;
}

static void op_max(const window *w, const precision *pr, ref_elem *e)
{
    int64_t at;
    set_exact(e, window_max(w, &at));
    e->idx = at;
    if (w->n == 0 && pr->is_int)
        e->flags = REF_ANY_VALUE; /* -inf has no integer value: only the index -1 is checked */
}

/* §3: the divisor counts the padded extent, the real cells, or is the override. */
static double window_avg(const clpool_window_desc *op, const window *w, const precision *pr,
                         double *tol)
{
    double div = op->divisor_override  ? (double)op->divisor_override
                 : op->exclude_padding ? (double)w->n
                                       : (double)w->pool;
    double sum = 0.0, sum_abs = 0.0;
    for (size_t i = 0; i < w->n; i++) {
        sum += w->v[i];
        sum_abs += fabs(w->v[i]);
    }
    double y = sum / div;
    *tol = pr->rtol_sum * fabs(y) + 8.0 * pr->u * sum_depth(w->n) * sum_abs / fabs(div);
    return y;
}

static void op_avg(const clpool_window_desc *op, const window *w, const precision *pr, ref_elem *e)
{
    if (w->n == 0) { /* never with legal parameters (§3) */
        set_exact(e, 0.0);
        return;
    }
    if (pr->is_int) { /* the integer sum, C division (truncation) */
        long long sum = 0;
        for (size_t i = 0; i < w->n; i++)
            sum += (long long)w->v[i];
        long long div = op->divisor_override  ? op->divisor_override
                        : op->exclude_padding ? (long long)w->n
                                              : w->pool;
        set_exact(e, (double)(sum / div));
        return;
    }
    double tol;
    double y = window_avg(op, w, pr, &tol);
    set_band(e, y, tol);
}

/* Largest |ln|v|| over finite non-zero values: the error of pow(v, p) that
 * a rounded p causes, relative, is u*|p ln v|. */
static double max_abs_log(const double *v, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (v[i] != 0.0 && isfinite(v[i]))
            m = fmax(m, fabs(log(fabs(v[i]))));
    return m;
}

/* §5: ((K/D) * sum x^p)^(1/p), the signed sum of C pow over the D real cells. */
static void op_lp(const clpool_window_desc *op, const window *w, const precision *pr, ref_elem *e)
{
    double p = op->p, s = 0.0, s_abs = 0.0;
    for (size_t i = 0; i < w->n; i++) {
        double t = pow(w->v[i], p);
        s += t;
        s_abs += fabs(t);
    }
    double scale = (double)w->kernel / (double)w->n;
    double a = scale * s;
    double y = pow(a, 1.0 / p);
    if (!isfinite(a)) {
        set_exact(e, y);
        return;
    }
    double ds = pr->u * (8.0 * sum_depth(w->n) + 16.0 + fabs(p) * max_abs_log(w->v, w->n)) * s_abs;
    double da = scale * ds + 2.0 * pr->u * fabs(a);
    pow_band(e, y, a, a - da, a + da, 1.0 / p, pr);
}

/* §10.6 and the header: (mean over real cells of c^p)^(1/p), c = x clamped
 * below at eps (a NaN stays NaN); eps is 1e-6 in the computation's type. */
static void op_gem(const clpool_window_desc *op, const window *w, const precision *pr, ref_elem *e)
{
    if (w->n == 0) {
        set_exact(e, 0.0);
        return;
    }
    double eps = pr->is_f64 ? 1e-6 : (double)1e-6f;
    double p = op->p, s = 0.0, ln_max = 0.0;
    for (size_t i = 0; i < w->n; i++) {
        double c = w->v[i] < eps ? eps : w->v[i];
        s += pow(c, p);
        if (isfinite(c))
            ln_max = fmax(ln_max, fabs(log(c)));
    }
    double mean = s / (double)w->n;
    double y = pow(mean, 1.0 / p);
    if (!isfinite(mean)) {
        set_exact(e, y);
        return;
    }
    /* Positive terms: the sum's error is relative. */
    double dm = pr->u * (8.0 * sum_depth(w->n) + 18.0 + fabs(p) * ln_max) * mean;
    pow_band(e, y, mean, mean - dm, mean + dm, 1.0 / p, pr);
}

/* §10.2 and the header: alpha*max + (1-alpha)*avg, avg without divisor. */
static void op_mixed(const clpool_window_desc *op, const window *w, const precision *pr,
                     ref_elem *e)
{
    int64_t at;
    double alpha = op->alpha;
    double m = window_max(w, &at);
    clpool_window_desc avg = *op;
    avg.divisor_override = 0;
    double avg_tol;
    double a = window_avg(&avg, w, pr, &avg_tol);
    double y = alpha * m + (1.0 - alpha) * a;
    double round =
        pr->u * (4.0 * (fabs(alpha * m) + fabs((1.0 - alpha) * a)) + 2.0 * (fabs(m) + fabs(a)));
    set_band(e, y, (1.0 - alpha) * avg_tol + pr->rtol_sum * fabs(y) + round);
}

/*
 * §10.3 and the header: over the real cells, m = max(beta*x) (NaN if any
 * beta*x is NaN), e_i = exp(beta*x_i - m), y = sum(e_i*x_i) / sum(e_i) where
 * a term with e_i == 0 adds 0; no real cell gives 0. A float computation
 * perturbs each e_i by a relative u*(|beta*x_i| + |m|) (the rounded argument)
 * plus exp's error, which moves y by sum w_i*eps_i*(x_i - y).
 */
static void op_softmax(const clpool_window_desc *op, const window *w, const precision *pr,
                       ref_elem *e)
{
    if (w->n == 0) {
        set_exact(e, 0.0);
        return;
    }
    double beta = op->beta, m = -INFINITY;
    int any_nan = 0;
    for (size_t i = 0; i < w->n; i++) {
        double t = beta * w->v[i];
        if (isnan(t))
            any_nan = 1;
        else if (t > m)
            m = t;
    }
    if (any_nan) {
        set_exact(e, NAN);
        return;
    }
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < w->n; i++) {
        double ei = exp(beta * w->v[i] - m);
        den += ei;
        if (ei != 0.0)
            num += ei * w->v[i];
    }
    double y = num / den;
    if (!isfinite(y)) {
        set_exact(e, y);
        return;
    }
    double spread = 0.0, mean_abs = 0.0;
    for (size_t i = 0; i < w->n; i++) {
        double t = beta * w->v[i];
        double wi = exp(t - m) / den;
        if (wi == 0.0)
            continue;
        double eps = pr->u * (8.0 + 2.0 * fabs(t) + 2.0 * fabs(m));
        spread += wi * eps * fabs(w->v[i] - y);
        mean_abs += wi * fabs(w->v[i]);
    }
    double tol =
        spread + 8.0 * pr->u * sum_depth(w->n) * (mean_abs + fabs(y)) + pr->rtol_fn * fabs(y);
    set_band(e, y, tol);
}

/*
 * §10.1, §0.5 and the header. Weights a = x > 0 ? x : 0 (NaN weighs 0).
 * Test time: sum a^2 / (FLT_MIN + sum a). Training: s = the running sum of a
 * in scan order in float (double for float64), thres = u * s, the first real
 * cell whose running sum is >= thres, else the first real cell. No real
 * cell: 0 and index -1.
 */
static void op_stochastic(const clpool_window_desc *op, const window *w, const precision *pr,
                          ref_uniform_fn uniform, ref_elem *e)
{
    if (w->n == 0) {
        set_exact(e, 0.0);
        e->idx = -1;
        return;
    }
    if (!op->train) {
        double s1 = 0.0, s2 = 0.0;
        for (size_t i = 0; i < w->n; i++) {
            double a = w->v[i] > 0.0 ? w->v[i] : 0.0;
            s1 += a;
            s2 += a * a;
        }
        double y = s2 / ((double)FLT_MIN + s1);
        set_band(e, y, fabs(y) * (pr->rtol_sum + pr->u * (16.0 * sum_depth(w->n) + 4.0)));
        return;
    }
    float u = uniform(op->seed, w->plane, w->position);
    size_t pick = 0;
    if (pr->is_f64) {
        double s = 0.0, run = 0.0;
        for (size_t i = 0; i < w->n; i++)
            s += w->v[i] > 0.0 ? w->v[i] : 0.0;
        double thres = (double)u * s;
        for (size_t i = 0; i < w->n; i++) {
            run += w->v[i] > 0.0 ? w->v[i] : 0.0;
            if (run >= thres) {
                pick = i;
                break;
            }
        }
    } else {
        float s = 0.0f, run = 0.0f;
        for (size_t i = 0; i < w->n; i++)
            s += w->v[i] > 0.0 ? (float)w->v[i] : 0.0f;
        float thres = u * s;
        for (size_t i = 0; i < w->n; i++) {
            run += w->v[i] > 0.0 ? (float)w->v[i] : 0.0f;
            if (run >= thres) {
                pick = i;
                break;
            }
        }
    }
    set_exact(e, w->v[pick]);
    e->idx = w->q[pick];
}

void ref_family_run(const clpool_window_desc *op, const clpool_tensor_desc *input, const double *x,
                    ref_elem *out, ref_uniform_fn uniform)
{
    ref_dim r[3];
    ref_window_dims(op, input, r);
    precision pr = precision_of(input->dtype);
    if (!uniform)
        uniform = ref_uniform;
    size_t planes = input->n * input->c;
    size_t in_plane = (size_t)(r[0].in * r[1].in * r[2].in);
    size_t out_plane = (size_t)(r[0].out * r[1].out * r[2].out);
    size_t cells = (size_t)(r[0].k * r[1].k * r[2].k);
    window w;
    w.v = malloc(cells * sizeof *w.v);
    w.q = malloc(cells * sizeof *w.q);
    if (!w.v || !w.q)
        abort(); /* a test helper: no way to go on */
    for (size_t pl = 0; pl < planes; pl++) {
        const double *plane = x + pl * in_plane;
        ref_elem *e = out + pl * out_plane;
        long o[3];
        w.plane = (uint64_t)op->first_sample * input->c + pl;
        w.position = 0;
        for (o[0] = 0; o[0] < r[0].out; o[0]++)
            for (o[1] = 0; o[1] < r[1].out; o[1]++)
                for (o[2] = 0; o[2] < r[2].out; o[2]++, e++, w.position++) {
                    gather(r, o, plane, &w);
                    e->idx = -1;
                    switch (op->op) {
                    case CLPOOL_OP_MAX:
                        op_max(&w, &pr, e);
                        break;
                    case CLPOOL_OP_AVG:
                        op_avg(op, &w, &pr, e);
                        break;
                    case CLPOOL_OP_LP:
                        op_lp(op, &w, &pr, e);
                        break;
                    case CLPOOL_OP_GEM:
                        op_gem(op, &w, &pr, e);
                        break;
                    case CLPOOL_OP_MIXED:
                        op_mixed(op, &w, &pr, e);
                        break;
                    case CLPOOL_OP_SOFTMAX:
                        op_softmax(op, &w, &pr, e);
                        break;
                    default:
                        op_stochastic(op, &w, &pr, uniform, e);
                        break;
                    }
                }
    }
    free(w.v);
    free(w.q);
}

int ref_accepts(clpool_dtype t, const ref_elem *e, const void *got, size_t i)
{
    if (storage_is_poison(t, got, i))
        return 0;
    if (e->flags & REF_ANY_VALUE)
        return 1;
    double g = storage_load(t, got, i);
    if (isnan(g))
        return isnan(e->y) || (e->flags & REF_NAN_OK);
    if (e->flags & REF_EXACT) {
        if (isnan(e->y))
            return 0;
        if (!storage_is_float(t))
            return g == e->y;
        union {
            double d;
            uint64_t bits;
        } want = {0};
        storage_store(t, &want, 0, e->y);
        return storage_bits(t, got, i) == storage_bits(t, &want, 0);
    }
    if (isnan(e->lo) || isnan(e->hi))
        return 0;
    return storage_round(t, e->lo) <= g && g <= storage_round(t, e->hi);
}
