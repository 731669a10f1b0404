/*
 * Part of the "family" suite: the reference's own checks, without OpenCL
 * (storage rounding, the generator against the library's host copy, the
 * spec's worked examples, layouts, cross-checks of every operator against
 * compositions of simpler ones, the band's width), and the worked examples
 * run through the library in several dtypes.
 */
#include "family_gen.h"
#include "family_suite.h"
#include "storage.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Storage rounding.                                                         */

START_TEST(test_storage_rounding)
{
    for (uint32_t h = 0; h < 0x10000; h++) {
        double v = half_value((uint16_t)h);
        if (isnan(v))
            continue;
        ck_assert_msg(half_bits(v) == h, "half 0x%04x -> %g -> 0x%04x", h, v, half_bits(v));
        ck_assert(storage_round(CLPOOL_FLOAT16, v) == v);
        double b = bf16_value((uint16_t)h);
        if (!isnan(b)) {
            ck_assert_msg(bf16_bits(b) == h, "bf16 0x%04x", h);
            ck_assert(storage_round(CLPOOL_BFLOAT16, b) == b);
        }
    }
    /* float16: ties to even, overflow at 65520, subnormals, signed zero */
    ck_assert(storage_round(CLPOOL_FLOAT16, 1.0 + 0x1p-11) == 1.0);
    ck_assert(storage_round(CLPOOL_FLOAT16, 1.0 + 0x1.8p-10) == 1.0 + 0x1p-9);
    ck_assert(storage_round(CLPOOL_FLOAT16, 1.0 + 0x1p-11 + 0x1p-30) == 1.0 + 0x1p-10);
    ck_assert(storage_round(CLPOOL_FLOAT16, 65519.0) == 65504.0);
    ck_assert(isinf(storage_round(CLPOOL_FLOAT16, 65520.0)));
    ck_assert(storage_round(CLPOOL_FLOAT16, -65519.99) == -65504.0);
    ck_assert(storage_round(CLPOOL_FLOAT16, 0x1p-25) == 0.0);
    ck_assert(storage_round(CLPOOL_FLOAT16, 0x1.8p-25) == 0x1p-24);
    ck_assert(storage_round(CLPOOL_FLOAT16, 0x1.8p-24) == 0x1p-23);
    ck_assert(signbit(storage_round(CLPOOL_FLOAT16, -0x1p-30)));
    ck_assert(half_bits(-0.0) == 0x8000u && half_bits(65504.0) == 0x7bffu);
    ck_assert(half_bits(0x1p-24) == 0x0001u && half_bits(0x1p-14) == 0x0400u);
    /* bfloat16: ties to even, and the bit-trick RNE on random floats */
    ck_assert(storage_round(CLPOOL_BFLOAT16, 1.0 + 0x1p-8) == 1.0);
    ck_assert(storage_round(CLPOOL_BFLOAT16, 1.0 + 0x1.8p-7) == 1.0 + 0x1p-6);
    test_rng r = {0x5707};
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)rng_next(&r);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (isnan(f))
            continue;
        uint16_t want = (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
        ck_assert_msg(bf16_bits(storage_round(CLPOOL_BFLOAT16, f)) == want, "bf16 of 0x%08x", bits);
        double d = (double)f * (1.0 + ldexp((double)(rng_next(&r) >> 11), -60));
        ck_assert(storage_round(CLPOOL_FLOAT32, d) == (double)(float)d);
    }
}
END_TEST

/* The reference's generator is the header's formula; the library's host
 * copy must give the same bits, spread over [0, 1). */
START_TEST(test_uniform_matches_header)
{
    test_rng r = {0x0417};
    double sum = 0.0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        uint64_t seed = rng_next(&r), plane = rng_below(&r, 1000), pos = rng_next(&r) >> 40;
        float a = ref_uniform(seed, plane, pos), b = clpool_uniform(seed, plane, pos);
        ck_assert_msg(a == b, "uniform(%llu, %llu, %llu): library %.9g, header formula %.9g",
                      (unsigned long long)seed, (unsigned long long)plane, (unsigned long long)pos,
                      b, a);
        ck_assert(a >= 0.0f && a < 1.0f);
        sum += a;
    }
    ck_assert_msg(fabs(sum / n - 0.5) < 0.005, "mean %g", sum / n);
    /* the value the formula gives for (0, 0, 0), worked out by hand */
    ck_assert(ref_uniform(0, 0, 0) == clpool_uniform(0, 0, 0));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The spec's worked examples.                                               */

typedef struct example {
    const char *name;
    clpool_window_desc op;
    int dims;
    size_t s[3];
    double x[16];
    size_t out_elems;
    double want[8];
    int integer; /* an integer-avg example: uint8 (when x >= 0) and int8 */
} example;

static example *add(example *ex, size_t *n, const char *name, clpool_window_desc op, int dims,
                    size_t s0, size_t s1, const double *x, size_t out_elems, const double *want)
{
    example *e = &ex[(*n)++];
    memset(e, 0, sizeof *e);
    e->name = name;
    e->op = op;
    e->dims = dims;
    e->s[0] = s0;
    e->s[1] = s1;
    size_t count = s0 * (dims > 1 ? s1 : 1);
    memcpy(e->x, x, count * sizeof *x);
    e->out_elems = out_elems;
    memcpy(e->want, want, out_elems * sizeof *want);
    return e;
}

static clpool_window_desc with_p(clpool_window_desc op, double p)
{
    op.p = p;
    return op;
}

static const example *examples(size_t *count)
{
    static example ex[24];
    static size_t n;
    if (n) {
        *count = n;
        return ex;
    }
    const clpool_op LP = CLPOOL_OP_LP;
    const double x5[] = {1, 2, 3, 4, 5}, xs[] = {1, -2, 3, -4, 0.5, 0.25}, x4[] = {1, 2, 3, 4};
    /* §5 lp: the K/D scaling of a ceil-mode partial window, signed sums */
    add(ex, &n, "§5 lp p=2 ceil", with_p(family_win(LP, 2, 0, 0, 0, 1), 2), 1, 5, 0, x5, 3,
        (double[]){sqrt(5.0), 5.0, sqrt(50.0)});
    add(ex, &n, "§5 lp p=2", with_p(family_win(LP, 2, 0, 0, 0, 0), 2), 1, 6, 0, xs, 3,
        (double[]){sqrt(5.0), 5.0, sqrt(0.3125)});
    add(ex, &n, "§5 lp p=1 signed", with_p(family_win(LP, 2, 0, 0, 0, 0), 1), 1, 6, 0, xs, 3,
        (double[]){-1.0, -1.0, 0.75});
    add(ex, &n, "§5 lp p=3 negative sum", with_p(family_win(LP, 2, 0, 0, 0, 0), 3), 1, 6, 0, xs, 3,
        (double[]){NAN, NAN, cbrt(0.140625)});
    add(ex, &n, "§5 lp p=1.5 negative cell", with_p(family_win(LP, 2, 0, 0, 0, 0), 1.5), 1, 6, 0,
        xs, 3, (double[]){NAN, NAN, pow(pow(0.5, 1.5) + pow(0.25, 1.5), 1.0 / 1.5)});
    add(ex, &n, "§5 lp p=-1", with_p(family_win(LP, 2, 0, 0, 0, 0), -1), 2, 2, 4,
        (double[]){2, 2, 2, 2, 2, 2, 2, 2}, 2, (double[]){0.5, 0.5});
    /* §10.2 mixed, §10.3 softmax, §10.6 gem, §10.1 stochastic at test time */
    example *e = add(ex, &n, "§10.2 mixed alpha=0.3", family_win(CLPOOL_OP_MIXED, 4, 0, 0, 0, 0), 1,
                     4, 0, x4, 1, (double[]){2.95});
    e->op.alpha = 0.3;
    e = add(ex, &n, "§10.3 softmax beta=1", family_win(CLPOOL_OP_SOFTMAX, 4, 0, 0, 0, 0), 1, 4, 0,
            (double[]){0, 0, 0, log(3.0)}, 1, (double[]){log(3.0) / 2.0});
    e->op.beta = 1.0;
    add(ex, &n, "§10.3 softmax beta=0 is the average", family_win(CLPOOL_OP_SOFTMAX, 4, 0, 0, 0, 0),
        1, 4, 0, x4, 1, (double[]){2.5});
    e = add(ex, &n, "§10.3 softmax excludes padding", family_win(CLPOOL_OP_SOFTMAX, 3, 1, 1, 0, 0),
            1, 3, 0, (double[]){1, 2, 3}, 3, (double[]){1.5, 2.0, 2.5});
    add(ex, &n, "§10.6 gem p=3", with_p(family_win(CLPOOL_OP_GEM, 4, 0, 0, 0, 0), 3), 1, 4, 0, x4,
        1, (double[]){cbrt(25.0)});
    add(ex, &n, "§10.6 gem clamps at 1e-6", with_p(family_win(CLPOOL_OP_GEM, 4, 0, 0, 0, 0), 1), 1,
        4, 0, (double[]){-1, 0, 2, 2}, 1, (double[]){(4.0 + 2e-6) / 4.0});
    add(ex, &n, "§10.1 stochastic test time", family_win(CLPOOL_OP_STOCHASTIC, 4, 0, 0, 0, 0), 1, 4,
        0, x4, 1, (double[]){3.0});
    add(ex, &n, "§10.1 stochastic all-zero window", family_win(CLPOOL_OP_STOCHASTIC, 4, 0, 0, 0, 0),
        1, 4, 0, (double[]){0, -1, 0, -2}, 1, (double[]){0.0});
    /* §1.2: integer avg divides the integer sum with C division */
    e = add(ex, &n, "§1.2 integer avg 7/4", family_win(CLPOOL_OP_AVG, 2, 0, 0, 0, 0), 2, 2, 2,
            (double[]){1, 2, 3, 1}, 1, (double[]){1.0});
    e->integer = 1;
    e = add(ex, &n, "§1.2 integer avg -7/4", family_win(CLPOOL_OP_AVG, 2, 0, 0, 0, 0), 2, 2, 2,
            (double[]){-1, -2, -3, -1}, 1, (double[]){-1.0});
    e->integer = 1;
    e = add(ex, &n, "§1.2 integer avg 7/-2 (divisor)", family_win(CLPOOL_OP_AVG, 2, 0, 0, 0, 0), 2,
            2, 2, (double[]){-1, -2, -3, -1}, 1, (double[]){3.0});
    e->op.divisor_override = -2;
    e->integer = 2; /* int8 only */
    *count = n;
    return ex;
}

/* A case for example @p e in @p dtype (NCHW, one plane). */
static void example_case(const example *e, clpool_dtype dtype, family_case *c)
{
    memset(c, 0, sizeof *c);
    c->op = e->op;
    c->in = family_tensor(dtype, CLPOOL_NCHW, e->dims, 1, 1, e->s[0], e->s[1], 0);
    family_alloc_input(c);
    for (size_t i = 0; i < plane_elements(&c->in); i++)
        family_put(c, 0, i, e->x[i]);
    ck_assert_int_eq(family_reference(c, NULL), CLPOOL_SUCCESS);
    ck_assert_uint_eq(c->out_elems, e->out_elems);
}

/* The literal value, NaN-aware, within @p rtol. */
static int near(double want, double got, double rtol)
{
    if (isnan(want))
        return isnan(got);
    return fabs(got - want) <= rtol * fabs(want) + 1e-300;
}

/* A generator stuck at 0.25 (the §10.1 example's draw). */
static float quarter(uint64_t seed, uint64_t plane, uint64_t position)
{
    (void)seed, (void)plane, (void)position;
    return 0.25f;
}

START_TEST(test_reference_examples)
{
    size_t count;
    const example *ex = examples(&count);
    for (size_t i = 0; i < count; i++) {
        const example *e = &ex[i];
        clpool_dtype dtype = e->integer ? CLPOOL_INT8 : CLPOOL_FLOAT32;
        family_case c;
        example_case(e, dtype, &c);
        for (size_t j = 0; j < e->out_elems; j++)
            ck_assert_msg(near(e->want[j], c.ref[j].y, 1e-6), "%s: y[%zu] = %.9g, want %.9g",
                          e->name, j, c.ref[j].y, e->want[j]);
        family_case_free(&c);
    }
    /* §10.1 training: u = 0.25 on [1,2,3,4] gives thres 2.5, cumsum [1,3,6,10]: value 2 */
    family_case c;
    memset(&c, 0, sizeof c);
    c.op = family_win(CLPOOL_OP_STOCHASTIC, 4, 0, 0, 0, 0);
    c.op.train = 1;
    c.op.indices = CLPOOL_INDICES_INT64;
    c.in = family_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 1, 4, 0, 0);
    family_alloc_input(&c);
    for (int i = 0; i < 4; i++)
        family_put(&c, 0, (size_t)i, i + 1);
    ck_assert_int_eq(family_reference(&c, quarter), CLPOOL_SUCCESS);
    ck_assert(c.ref[0].y == 2.0 && c.ref[0].idx == 1);
    family_case_free(&c);
}
END_TEST

/* Example @p _i through the library: float32 (and another float dtype for
 * every third), or the integer dtypes that hold it. */
START_TEST(test_examples)
{
    size_t count;
    const example *ex = examples(&count);
    const example *e = &ex[_i];
    clpool_dtype floats[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT64, CLPOOL_FLOAT16, CLPOOL_BFLOAT16};
    clpool_dtype ints[] = {CLPOOL_INT8, CLPOOL_UINT8};
    int has_fp64 = family_device_has_fp64();
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0xe8a + (uint64_t)_i};
    int budget = 20;
    size_t bad = 0;
    /* float32, and for every third example one of the other float dtypes in
     * turn (each dtype costs a program; the sweeps cover them all) */
    int ntypes = e->integer ? (e->integer == 2 || e->x[0] < 0 ? 1 : 2) : _i % 3 == 0 ? 2 : 1;
    for (int t = 0; t < ntypes; t++) {
        clpool_dtype dtype = e->integer ? ints[t] : floats[t ? 1 + (_i / 3) % 3 : 0];
        if (dtype == CLPOOL_FLOAT64 && !has_fp64)
            continue;
        family_case c;
        example_case(e, dtype, &c);
        for (int path = 0; path < 2; path++) {
            family_result res;
            clpool_status st = family_run(ctx, &c, path, path, &r, &res, e->name);
            ck_assert_msg(st == CLPOOL_SUCCESS, "%s %s: %s", e->name, storage_dtype_name(dtype),
                          clpool_status_string(st));
            bad += family_compare(&c, &res, e->name, &budget);
            /* float32 and float64 also against the literal values */
            double rtol = dtype == CLPOOL_FLOAT64 ? 1e-12 : dtype == CLPOOL_FLOAT32 ? 2e-6 : -1;
            for (size_t j = 0; rtol >= 0 && j < e->out_elems; j++) {
                double got = storage_load(dtype, res.y, j);
                if (!near(e->want[j], got, rtol)) {
                    fprintf(stderr, "%s %s path %d: y[%zu] = %.17g, want %.17g\n", e->name,
                            storage_dtype_name(dtype), path, j, got, e->want[j]);
                    bad++;
                }
            }
            family_result_free(&res);
        }
        family_case_free(&c);
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%s: %zu bad elements", e->name, bad);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Layouts in the reference.                                                 */

START_TEST(test_layout_offsets)
{
    clpool_tensor_desc t = family_tensor(CLPOOL_FLOAT32, CLPOOL_NHWC, 2, 2, 3, 2, 2, 0);
    /* (n=1, c=2, h=1, w=0): NHWC ((n*H + h)*W + w)*C + c = ((1*2+1)*2+0)*3+2 */
    ck_assert_uint_eq(layout_offset(&t, 1 * 3 + 2, 1 * 2 + 0), 20);
    t.layout = CLPOOL_NCHW;
    ck_assert_uint_eq(layout_offset(&t, 1 * 3 + 2, 2), 5 * 4 + 2);
    /* a bijection for random shapes, and one case filled in both layouts has
     * the same NCHW values and the same reference */
    test_rng r = {0x1a70};
    for (int i = 0; i < 200; i++) {
        int dims = 1 + (int)rng_below(&r, 3);
        family_set fs;
        clpool_op kind = (clpool_op)rng_range(&r, CLPOOL_OP_MAX, CLPOOL_OP_STOCHASTIC);
        family_gen_set(&r, kind, dims, CLPOOL_FLOAT32, CLPOOL_NHWC, &fs);
        family_case a = {0}, b = {0};
        a.op = b.op = fs.op;
        family_gen_shape(&r, &fs, (int)rng_below(&r, 7), 1, &a.in);
        size_t total = tensor_elements(&a.in);
        unsigned char *seen = calloc(total, 1);
        for (size_t pl = 0; pl < a.in.n * a.in.c; pl++)
            for (size_t s = 0; s < plane_elements(&a.in); s++) {
                size_t at = layout_offset(&a.in, pl, s);
                ck_assert(at < total && !seen[at]);
                seen[at] = 1;
            }
        free(seen);
        family_fill(&r, &a, family_pick_values(&r, &a.op, a.in.dtype, i));
        b.in = a.in;
        b.in.layout = CLPOOL_NCHW;
        family_alloc_input(&b);
        for (size_t pl = 0; pl < a.in.n * a.in.c; pl++)
            for (size_t s = 0; s < plane_elements(&a.in); s++)
                family_put(&b, pl, s, storage_load(a.in.dtype, a.x, layout_offset(&a.in, pl, s)));
        ck_assert(memcmp(a.x_nchw, b.x_nchw, total * sizeof(double)) == 0);
        ck_assert_int_eq(family_reference(&a, NULL), CLPOOL_SUCCESS);
        ck_assert_int_eq(family_reference(&b, NULL), CLPOOL_SUCCESS);
        for (size_t e = 0; e < a.out_elems; e++) {
            ck_assert(a.ref[e].idx == b.ref[e].idx);
            ck_assert(memcmp(&a.ref[e].y, &b.ref[e].y, sizeof(double)) == 0 ||
                      (isnan(a.ref[e].y) && isnan(b.ref[e].y)));
        }
        family_case_free(&a);
        family_case_free(&b);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Cross-checks: each operator against a composition of simpler ones, with a
 * float64 input so that no rounding of the storage type gets in between.    */

/* The reference of @p op on @p base's values transformed by @p f. */
static void run_on(const family_case *base, clpool_window_desc op, double (*f)(double, double),
                   double arg, ref_elem *out)
{
    size_t total = tensor_elements(&base->in);
    double *x = malloc((total ? total : 1) * sizeof *x);
    for (size_t i = 0; i < total; i++)
        x[i] = f ? f(base->x_nchw[i], arg) : base->x_nchw[i];
    clpool_tensor_desc in = base->in;
    in.dtype = CLPOOL_FLOAT64;
    ref_family_run(&op, &in, x, out, NULL);
    free(x);
}

static double f_pow(double x, double p)
{
    return pow(x, p);
}

static double f_gem(double x, double p)
{
    return pow(x < 1e-6 ? 1e-6 : x, p);
}

static double f_weight(double x, double square)
{
    double a = x > 0 ? x : 0;
    return square ? a * a : a;
}

/* @p v is a result the reference element allows (in double). */
static int in_band(const ref_elem *g, double v)
{
    if (isnan(v))
        return isnan(g->y) || (g->flags & REF_NAN_OK);
    if (g->flags & REF_EXACT)
        return v == g->y;
    return g->lo <= v && v <= g->hi;
}

static void cross_check_case(const family_case *c, size_t *checked)
{
    const clpool_window_desc *op = &c->op;
    size_t n = c->out_elems ? c->out_elems : 1;
    ref_elem *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    char desc[512];
    describe_case(desc, sizeof desc, op, &c->in);
    clpool_window_desc avg = *op, max = *op;
    avg.op = CLPOOL_OP_AVG;
    avg.divisor_override = 0;
    avg.indices = CLPOOL_INDICES_NONE;
    max.op = CLPOOL_OP_MAX;
    max.indices = CLPOOL_INDICES_NONE;
    switch (op->op) {
    case CLPOOL_OP_LP: /* torch: (K * avg_pool(x^p, padding 0, cip))^(1/p) */
        avg.exclude_padding = 0;
        run_on(c, avg, f_pow, op->p, a);
        for (size_t e = 0; e < c->out_elems; e++) {
            long K = op->kernel[0] * (c->in.spatial_dims > 1 ? op->kernel[1] : 1) *
                     (c->in.spatial_dims > 2 ? op->kernel[2] : 1);
            double want = pow(K * a[e].y, 1.0 / op->p);
            ck_assert_msg(in_band(&c->ref[e], want), "%s [%zu]: lp %.17g, via avg %.17g", desc, e,
                          c->ref[e].y, want);
        }
        break;
    case CLPOOL_OP_GEM: /* cirtorch: avg_pool(clamp(x)^p)^(1/p), padding excluded */
        avg.exclude_padding = 1;
        run_on(c, avg, f_gem, op->p, a);
        for (size_t e = 0; e < c->out_elems; e++) {
            double want = pow(a[e].y, 1.0 / op->p);
            ck_assert_msg(in_band(&c->ref[e], want), "%s [%zu]: gem %.17g, via avg %.17g", desc, e,
                          c->ref[e].y, want);
        }
        break;
    case CLPOOL_OP_MIXED:
        run_on(c, avg, NULL, 0, a);
        run_on(c, max, NULL, 0, b);
        for (size_t e = 0; e < c->out_elems; e++) {
            double want = op->alpha * b[e].y + (1.0 - op->alpha) * a[e].y;
            ck_assert_msg(in_band(&c->ref[e], want), "%s [%zu]: mixed %.17g, want %.17g", desc, e,
                          c->ref[e].y, want);
        }
        break;
    case CLPOOL_OP_SOFTMAX:
        /* beta = 0: the average of the real cells; large beta on integers: the max */
        if (op->beta == 0.0 && !op->dilation[0] && !op->dilation[1] && !op->dilation[2]) {
            avg.exclude_padding = 1;
            run_on(c, avg, NULL, 0, a);
            for (size_t e = 0; e < c->out_elems; e++)
                ck_assert_msg(!isfinite(a[e].y) || in_band(&c->ref[e], a[e].y),
                              "%s [%zu]: softmax %.17g, avg %.17g", desc, e, c->ref[e].y, a[e].y);
        }
        if (op->beta >= 10.0 && c->mode == FV_TIES) {
            run_on(c, max, NULL, 0, b);
            for (size_t e = 0; e < c->out_elems; e++)
                if (b[e].idx >= 0)
                    ck_assert_msg(fabs(b[e].y - c->ref[e].y) < 1e-3,
                                  "%s [%zu]: softmax %.17g, max %.17g", desc, e, c->ref[e].y,
                                  b[e].y);
        }
        break;
    case CLPOOL_OP_STOCHASTIC:
        if (!op->train && !op->dilation[0] && !op->dilation[1] && !op->dilation[2]) {
            /* sum a^2 / sum a as a ratio of two averages over the real cells */
            avg.exclude_padding = 1;
            run_on(c, avg, f_weight, 1.0, a);
            run_on(c, avg, f_weight, 0.0, b);
            for (size_t e = 0; e < c->out_elems; e++) {
                double want = b[e].y > 0 ? a[e].y / b[e].y : isnan(b[e].y) ? NAN : 0.0;
                ck_assert_msg(in_band(&c->ref[e], want), "%s [%zu]: stochastic %.17g, ratio %.17g",
                              desc, e, c->ref[e].y, want);
            }
        } else if (op->train) {
            /* the pick is a real cell holding the value; if any weight is
             * positive it has one, and the cumulative sums bracket u * s */
            size_t S = plane_elements(&c->in), O = plane_elements(&c->out);
            for (size_t e = 0; e < c->out_elems; e++) {
                if (c->ref[e].idx < 0)
                    continue;
                double v = c->x_nchw[(e / O) * S + (size_t)c->ref[e].idx];
                ck_assert(memcmp(&v, &c->ref[e].y, sizeof v) == 0 ||
                          (isnan(v) && isnan(c->ref[e].y)));
            }
        }
        break;
    case CLPOOL_OP_AVG:
        if (!storage_is_float(c->in.dtype)) { /* C division of the integer sum */
            run_on(c, *op, NULL, 0, a);
            for (size_t e = 0; e < c->out_elems; e++)
                ck_assert_msg(c->ref[e].y == trunc(a[e].y), "%s [%zu]: %.17g vs trunc(%.17g)", desc,
                              e, c->ref[e].y, a[e].y);
        }
        break;
    default:
        break;
    }
    (*checked)++;
    free(a);
    free(b);
}

START_TEST(test_reference_cross_checks)
{
    test_rng r = {0xc405 + (uint64_t)_i};
    clpool_op kind = (clpool_op)(CLPOOL_OP_AVG + _i);
    size_t checked = 0;
    for (int i = 0; i < 300; i++) {
        int dims = 1 + i % 3;
        clpool_dtype dtype =
            kind == CLPOOL_OP_AVG ? (i % 2 ? CLPOOL_INT8 : CLPOOL_UINT8) : CLPOOL_FLOAT64;
        family_set fs;
        family_gen_set(&r, kind, dims, dtype, CLPOOL_NCHW, &fs);
        if (kind == CLPOOL_OP_SOFTMAX && i % 3 == 0)
            fs.op.beta = i % 2 ? 0.0 : 60.0;
        family_case c = {0};
        c.op = fs.op;
        family_gen_shape(&r, &fs, i % 7, 1, &c.in);
        family_values mode = family_pick_values(&r, &c.op, dtype, i);
        if (kind == CLPOOL_OP_SOFTMAX && fs.op.beta == 60.0)
            mode = FV_TIES;
        family_fill(&r, &c, mode);
        if (family_reference(&c, NULL) == CLPOOL_SUCCESS)
            cross_check_case(&c, &checked);
        family_case_free(&c);
    }
    ck_assert_uint_gt(checked, 200);
}
END_TEST

/* The float32 max/avg path of test_window and the general path agree. */
START_TEST(test_reference_paths_agree)
{
    test_rng r = {0x0a9e};
    for (int i = 0; i < 300; i++) {
        family_set fs;
        family_gen_set(&r, i % 2 ? CLPOOL_OP_AVG : CLPOOL_OP_MAX, 1 + i % 3, CLPOOL_FLOAT32,
                       CLPOOL_NCHW, &fs);
        family_case c = {0};
        c.op = fs.op;
        family_gen_shape(&r, &fs, i % 7, 1, &c.in);
        family_fill(&r, &c, family_pick_values(&r, &c.op, CLPOOL_FLOAT32, i));
        if (family_reference(&c, NULL) != CLPOOL_SUCCESS) {
            family_case_free(&c);
            continue;
        }
        size_t n = c.out_elems ? c.out_elems : 1;
        double *y = malloc(n * sizeof *y), *atol = malloc(n * sizeof *atol);
        int64_t *idx = malloc(n * sizeof *idx);
        ref_window_run(&c.op, &c.in, (const float *)c.x, y, idx, atol);
        for (size_t e = 0; e < c.out_elems; e++) {
            const ref_elem *g = &c.ref[e];
            ck_assert(memcmp(&y[e], &g->y, sizeof(double)) == 0 || (isnan(y[e]) && isnan(g->y)));
            if (c.op.op == CLPOOL_OP_MAX)
                ck_assert(idx[e] == g->idx);
            else if (isfinite(g->y))
                ck_assert(fabs((g->hi - g->y) - (1e-5 * fabs(g->y) + atol[e])) <=
                          1e-9 * (g->hi - g->y));
        }
        free(y);
        free(atol);
        free(idx);
        family_case_free(&c);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The band against a float32 computation of each operator, as a kernel
 * would do it (sequential or pairwise sums, powf, expf): every such result
 * must be accepted, or the tests would fail correct kernels.               */

static float float_sum(const float *v, size_t n, int pairwise)
{
    if (pairwise && n > 2)
        return float_sum(v, n / 2, 1) + float_sum(v + n / 2, n - n / 2, 1);
    float s = 0.0f;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

/* Deliberate bugs of the model, which the reference must reject. */
enum {
    MUTANT_NONE,
    MUTANT_DIVISOR,   /* avg: one more in the divisor */
    MUTANT_ABS,       /* lp: |x|^p, not the signed sum */
    MUTANT_NO_CLAMP,  /* gem: no clamp at 1e-6 */
    MUTANT_SWAPPED,   /* mixed: (1-alpha)*max + alpha*avg */
    MUTANT_BETA_ONE,  /* softmax: beta ignored */
    MUTANT_PLAIN_AVG, /* stochastic: mean of a, not sum a^2 / sum a */
    MUTANT_COUNT
};

static clpool_op mutant_op(int mutant)
{
    static const clpool_op ops[] = {0,
                                    CLPOOL_OP_AVG,
                                    CLPOOL_OP_LP,
                                    CLPOOL_OP_GEM,
                                    CLPOOL_OP_MIXED,
                                    CLPOOL_OP_SOFTMAX,
                                    CLPOOL_OP_STOCHASTIC};
    return ops[mutant];
}

/* The float32 result of output @p e, or NAN with *skip set where the model
 * does not apply (max and training stochastic are exact; avg's padded
 * divisor is not modelled). */
static float float_model(const family_case *c, size_t e, int pairwise, int mutant, float *v,
                         float *t, int64_t *q, int *skip)
{
    const clpool_window_desc *op = &c->op;
    size_t S = plane_elements(&c->in), O = plane_elements(&c->out);
    const double *plane = c->x_nchw + (e / O) * S;
    size_t n = family_window_cells(c, e, q);
    int padded = op->padding[0] || op->padding[1] || op->padding[2];
    *skip = 0;
    for (size_t i = 0; i < n; i++)
        v[i] = (float)plane[q[i]];
    float pf = (float)op->p, m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (v[i] > m || isnan(v[i]))
            m = v[i];
    float avg_div = op->divisor_override ? (float)op->divisor_override : (float)n;
    int avg_skip = !op->divisor_override && !op->exclude_padding && padded;
    switch (op->op) {
    case CLPOOL_OP_AVG:
        *skip = avg_skip || n == 0;
        return float_sum(v, n, pairwise) / (avg_div + (mutant == MUTANT_DIVISOR));
    case CLPOOL_OP_LP: {
        long K = (long)op->kernel[0] * (op->kernel[1] ? op->kernel[1] : 1) *
                 (op->kernel[2] ? op->kernel[2] : 1);
        for (size_t i = 0; i < n; i++)
            t[i] = powf(mutant == MUTANT_ABS ? fabsf(v[i]) : v[i], pf);
        return powf((float)K / (float)n * float_sum(t, n, pairwise), 1.0f / pf);
    }
    case CLPOOL_OP_GEM:
        for (size_t i = 0; i < n; i++)
            t[i] = powf(v[i] < 1e-6f && mutant != MUTANT_NO_CLAMP ? 1e-6f : v[i], pf);
        return powf(float_sum(t, n, pairwise) / (float)n, 1.0f / pf);
    case CLPOOL_OP_MIXED: {
        *skip = avg_skip;
        float alpha = (float)(mutant == MUTANT_SWAPPED ? 1.0 - op->alpha : op->alpha);
        return alpha * m + (1.0f - alpha) * (float_sum(v, n, pairwise) / avg_div);
    }
    case CLPOOL_OP_SOFTMAX: {
        if (n == 0)
            return 0.0f;
        float beta = mutant == MUTANT_BETA_ONE ? 1.0f : (float)op->beta, mb = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            float b = beta * v[i];
            if (isnan(b))
                return NAN;
            mb = b > mb ? b : mb;
        }
        float *w = t + n;
        for (size_t i = 0; i < n; i++) {
            w[i] = expf(beta * v[i] - mb);
            t[i] = w[i] == 0.0f ? 0.0f : w[i] * v[i];
        }
        return float_sum(t, n, pairwise) / float_sum(w, n, pairwise);
    }
    case CLPOOL_OP_STOCHASTIC: {
        *skip = op->train || n == 0;
        float *w = t + n;
        for (size_t i = 0; i < n; i++) {
            w[i] = v[i] > 0.0f ? v[i] : 0.0f;
            t[i] = w[i] * w[i];
        }
        if (mutant == MUTANT_PLAIN_AVG)
            return float_sum(w, n, pairwise) / (float)n;
        return float_sum(t, n, pairwise) / (FLT_MIN + float_sum(w, n, pairwise));
    }
    default:
        *skip = 1;
        return NAN;
    }
}

START_TEST(test_reference_accepts_float_model)
{
    test_rng r = {0xf10a + (uint64_t)_i};
    clpool_op kind = (clpool_op)(CLPOOL_OP_AVG + _i);
    static const clpool_dtype dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16};
    size_t checked = 0, rejected = 0, mutants_checked = 0, mutants_rejected = 0;
    int mutant = 0;
    for (int m = 1; m < MUTANT_COUNT; m++)
        if (mutant_op(m) == kind)
            mutant = m;
    for (int i = 0; i < 240; i++) {
        clpool_dtype dtype = dtypes[i % 3];
        family_set fs;
        family_gen_set(&r, kind, 1 + i % 3, dtype, CLPOOL_NCHW, &fs);
        family_case c = {0};
        c.op = fs.op;
        family_gen_shape(&r, &fs, i % 7, 1, &c.in);
        family_fill(&r, &c, family_pick_values(&r, &c.op, dtype, i));
        if (family_reference(&c, NULL) != CLPOOL_SUCCESS) {
            family_case_free(&c);
            continue;
        }
        size_t K = (size_t)(c.op.kernel[0] * (c.op.kernel[1] ? c.op.kernel[1] : 1) *
                            (c.op.kernel[2] ? c.op.kernel[2] : 1));
        float *v = malloc(K * sizeof *v), *t = malloc(2 * K * sizeof *t);
        int64_t *q = malloc(K * sizeof *q);
        for (size_t e = 0; e < c.out_elems; e++) {
            for (int pairwise = 0; pairwise < 2; pairwise++) {
                int skip;
                if (mutant) {
                    float y = float_model(&c, e, pairwise, mutant, v, t, q, &skip);
                    union {
                        double d;
                        unsigned char b[8];
                    } got = {0};
                    storage_store(dtype, &got, 0, y);
                    mutants_checked += !skip;
                    mutants_rejected += !skip && !ref_accepts(dtype, &c.ref[e], &got, 0);
                }
                float y = float_model(&c, e, pairwise, MUTANT_NONE, v, t, q, &skip);
                if (skip)
                    continue;
                union {
                    double d;
                    unsigned char b[8];
                } got = {0};
                storage_store(dtype, &got, 0, y);
                checked++;
                if (!ref_accepts(dtype, &c.ref[e], &got, 0) && rejected++ < 10) {
                    char desc[512];
                    describe_case(desc, sizeof desc, &c.op, &c.in);
                    fprintf(stderr,
                            "%s [%s] element %zu: float model (%s) %.9g, reference %.17g "
                            "in [%.17g, %.17g] flags %u\n",
                            desc, family_values_name(c.mode), e,
                            pairwise ? "pairwise" : "sequential", y, c.ref[e].y, c.ref[e].lo,
                            c.ref[e].hi, c.ref[e].flags);
                }
            }
        }
        free(v);
        free(t);
        free(q);
        family_case_free(&c);
    }
    printf("float model %d: %zu results checked, %zu rejected; mutant %d: %zu of %zu rejected\n",
           (int)kind, checked, rejected, mutant, mutants_rejected, mutants_checked);
    ck_assert_uint_gt(checked, 1000);
    ck_assert_msg(mutants_rejected * 20 > mutants_checked, "mutant %d: %zu of %zu rejected", mutant,
                  mutants_rejected, mutants_checked);
    ck_assert_msg(rejected == 0, "the reference rejects %zu float32 results", rejected);
}
END_TEST

/* For float16 and bfloat16 the band's ends round to the same storage value
 * or to neighbours: at most one ulp of slack, where the float result may
 * fall on either side of a tie. */
START_TEST(test_reference_band_width)
{
    test_rng r = {0xba4d};
    size_t elems = 0, slack = 0;
    for (int i = 0; i < 400; i++) {
        clpool_dtype dtype = i % 2 ? CLPOOL_FLOAT16 : CLPOOL_BFLOAT16;
        clpool_op kind = (clpool_op)(CLPOOL_OP_AVG + i % 6);
        family_set fs;
        family_gen_set(&r, kind, 1 + i % 3, dtype, CLPOOL_NCHW, &fs);
        family_case c = {0};
        c.op = fs.op;
        family_gen_shape(&r, &fs, i % 7, 1, &c.in);
        family_fill(&r, &c, family_pick_values(&r, &c.op, dtype, i));
        if (family_reference(&c, NULL) == CLPOOL_SUCCESS) {
            for (size_t e = 0; e < c.out_elems; e++) {
                const ref_elem *g = &c.ref[e];
                /* well-conditioned elements: a relative band below 1e-4 */
                if (g->flags & REF_EXACT || isnan(g->lo) || !isfinite(g->y) ||
                    !(g->hi - g->lo <= 1e-4 * fabs(g->y)))
                    continue;
                double lo = storage_round(dtype, g->lo), hi = storage_round(dtype, g->hi);
                elems++;
                if (lo == hi)
                    continue;
                slack++;
                /* neighbours: nothing representable strictly between */
                double mid = storage_round(dtype, (lo + hi) / 2);
                ck_assert_msg(mid == lo || mid == hi || (isinf(lo) || isinf(hi)),
                              "%s op %d: band [%.9g, %.9g] spans several %s values", "band",
                              (int)kind, g->lo, g->hi, storage_dtype_name(dtype));
            }
        }
        family_case_free(&c);
    }
    printf("band width: %zu of %zu narrow-float elements have one ulp of slack\n", slack, elems);
    ck_assert_uint_gt(elems, 1000);
    ck_assert_msg(slack * 20 < elems, "%zu of %zu elements have slack", slack, elems);
}
END_TEST

void family_add_reference_tcases(Suite *s)
{
    TCase *tc = tcase_create("reference");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_storage_rounding);
    tcase_add_test(tc, test_uniform_matches_header);
    tcase_add_test(tc, test_reference_examples);
    tcase_add_test(tc, test_layout_offsets);
    tcase_add_loop_test(tc, test_reference_cross_checks, 0,
                        CLPOOL_OP_STOCHASTIC - CLPOOL_OP_AVG + 1);
    tcase_add_test(tc, test_reference_paths_agree);
    tcase_add_loop_test(tc, test_reference_accepts_float_model, 0,
                        CLPOOL_OP_STOCHASTIC - CLPOOL_OP_AVG + 1);
    tcase_add_test(tc, test_reference_band_width);
    suite_add_tcase(s, tc);

    size_t count;
    examples(&count);
    tc = tcase_create("examples");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_examples, 0, (int)count);
    suite_add_tcase(s, tc);
}
