/*
 * Part of the "family" suite: stochastic pooling's draws. The sampled
 * positions follow a_i / sum a (a chi-square bound that a constant
 * generator fails), results are bit-identical across work-group sizes and
 * batch splits, the seed (also through clpool_plan_set_seed) changes the
 * draw, and the §10.1 example's pick happens for a seed whose u is 0.25.
 */
#include "family_gen.h"
#include "family_suite.h"
#include "storage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The chi-square value that @p dof degrees of freedom exceed with
 * probability ~1e-6 (Wilson-Hilferty, z = 4.75). */
static double chi_square_bound(int dof)
{
    double k = dof, z = 4.75;
    double t = 1.0 - 2.0 / (9.0 * k) + z * sqrt(2.0 / (9.0 * k));
    return k * t * t * t;
}

/* Pearson's statistic over bins whose expectation is at least 5 (the
 * others are pooled into one); *dof = bins used - 1. */
static double chi_square(const double *observed, const double *expected, int bins, int *dof)
{
    double stat = 0.0, pool_o = 0.0, pool_e = 0.0;
    int used = 0;
    for (int b = 0; b < bins; b++) {
        if (expected[b] < 5.0) {
            pool_o += observed[b];
            pool_e += expected[b];
            continue;
        }
        stat += (observed[b] - expected[b]) * (observed[b] - expected[b]) / expected[b];
        used++;
    }
    if (pool_e >= 5.0) {
        stat += (pool_o - pool_e) * (pool_o - pool_e) / pool_e;
        used++;
    } else if (pool_o > pool_e + 5.0) {
        stat += 1e9; /* picks where there is (almost) no weight */
    }
    *dof = used > 1 ? used - 1 : 1;
    return stat;
}

/*
 * The picks of a training case against their probabilities: every real cell
 * of every window with a positive finite weight sum goes into one of ten
 * bins by its probability a/sum a; a bin expects the sum of its
 * probabilities and observes the picks that fell in it. A pick of a cell of
 * weight 0 counts in *zero_picks.
 */
static double pick_statistic(const family_case *c, const int64_t *picks, int *dof,
                             size_t *zero_picks, size_t *draws)
{
    double observed[10] = {0}, expected[10] = {0};
    size_t S = plane_elements(&c->in), O = plane_elements(&c->out);
    int64_t *q = malloc((size_t)(c->op.kernel[0] * (c->op.kernel[1] ? c->op.kernel[1] : 1) *
                                 (c->op.kernel[2] ? c->op.kernel[2] : 1)) *
                        sizeof *q);
    *zero_picks = 0;
    *draws = 0;
    for (size_t e = 0; e < c->out_elems; e++) {
        const double *plane = c->x_nchw + (e / O) * S;
        size_t n = family_window_cells(c, e, q);
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += plane[q[i]] > 0 ? plane[q[i]] : 0.0;
        if (!(sum > 0.0) || !isfinite(sum))
            continue;
        (*draws)++;
        for (size_t i = 0; i < n; i++) {
            double a = plane[q[i]] > 0 ? plane[q[i]] : 0.0, p = a / sum;
            int b = p >= 1.0 ? 9 : (int)(p * 10.0);
            expected[b] += p;
            if (q[i] == picks[e]) {
                observed[b] += 1.0;
                *zero_picks += a == 0.0;
            }
        }
    }
    free(q);
    return chi_square(observed, expected, 10, dof);
}

/*
 * The probability integral transform of the picks: a window's cells, in
 * scan order, cut [0, 1) into intervals of length a/sum a, and a correct
 * draw lands in the picked cell's interval at a uniform point. Spreading
 * each pick evenly over its interval and histogramming into ten bins must
 * give a flat histogram; a generator stuck at one u piles the mass around
 * that u. (Spreading makes the counts less variable than multinomial ones,
 * so Pearson's bound is conservative.)
 */
static double pit_statistic(const family_case *c, const int64_t *picks, int *dof)
{
    double observed[10] = {0}, expected[10];
    size_t S = plane_elements(&c->in), O = plane_elements(&c->out), draws = 0;
    int64_t *q = malloc((size_t)(c->op.kernel[0] * (c->op.kernel[1] ? c->op.kernel[1] : 1) *
                                 (c->op.kernel[2] ? c->op.kernel[2] : 1)) *
                        sizeof *q);
    for (size_t e = 0; e < c->out_elems; e++) {
        const double *plane = c->x_nchw + (e / O) * S;
        size_t n = family_window_cells(c, e, q);
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += plane[q[i]] > 0 ? plane[q[i]] : 0.0;
        if (!(sum > 0.0) || !isfinite(sum))
            continue;
        double lo = 0.0, hi = 0.0;
        for (size_t i = 0; i < n; i++) {
            double a = plane[q[i]] > 0 ? plane[q[i]] / sum : 0.0;
            hi = lo + a;
            if (q[i] == picks[e])
                break;
            lo = hi;
        }
        if (!(hi > lo))
            continue;
        draws++;
        for (int b = 0; b < 10; b++) {
            double overlap = fmin(hi, (b + 1) / 10.0) - fmax(lo, b / 10.0);
            if (overlap > 0)
                observed[b] += overlap / (hi - lo);
        }
    }
    free(q);
    for (int b = 0; b < 10; b++)
        expected[b] = (double)draws / 10.0;
    return chi_square(observed, expected, 10, dof);
}

/* A training case with int64 indices. */
static void training_case(family_case *c, clpool_dtype dtype, clpool_layout layout, int dims,
                          size_t n, size_t ch, size_t s0, size_t s1, int k, int s, int p, int d)
{
    memset(c, 0, sizeof *c);
    c->op = family_win(CLPOOL_OP_STOCHASTIC, k, s, p, d, 0);
    c->op.train = 1;
    c->op.indices = CLPOOL_INDICES_INT64;
    c->op.seed = 0x5eed;
    c->in = family_tensor(dtype, layout, dims, n, ch, s0, s1, 0);
}

static float constant_half(uint64_t seed, uint64_t plane, uint64_t position)
{
    (void)seed, (void)plane, (void)position;
    return 0.5f;
}

/* The indices the reference picked, NCHW order. */
static int64_t *ref_picks(const family_case *c)
{
    int64_t *p = malloc((c->out_elems ? c->out_elems : 1) * sizeof *p);
    for (size_t e = 0; e < c->out_elems; e++)
        p[e] = c->ref[e].idx;
    return p;
}

/* Both statistics accept the header's generator; the transform rejects a
 * constant one (which the probability bins cannot see: a fixed u picks the
 * cell straddling it, which is likelier the heavier it is). */
START_TEST(test_chi_square_self_check)
{
    test_rng r = {0xc41};
    family_case c;
    training_case(&c, CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 2, 6, 60, 61, 3, 2, 1, 0);
    family_fill(&r, &c, FV_POSITIVE);
    int dof, dof2;
    size_t zeros, draws;
    ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
    int64_t *picks = ref_picks(&c);
    double good = pick_statistic(&c, picks, &dof, &zeros, &draws);
    double good_pit = pit_statistic(&c, picks, &dof2);
    printf("chi-square self-check: header generator %.1f (%d dof, bound %.1f, %zu draws), "
           "transform %.1f (bound %.1f)",
           good, dof, chi_square_bound(dof), draws, good_pit, chi_square_bound(dof2));
    ck_assert_msg(good < chi_square_bound(dof), "the header's generator fails: %g", good);
    ck_assert_msg(good_pit < chi_square_bound(dof2), "the header's generator fails: %g", good_pit);
    ck_assert_uint_eq(zeros, 0);
    free(picks);
    free(c.ref);
    c.ref = NULL;
    ck_assert_int_eq(family_reference(&c, constant_half), CLPOOL_SUCCESS);
    picks = ref_picks(&c);
    double bad = pit_statistic(&c, picks, &dof2);
    printf("; constant 0.5: transform %.1f\n", bad);
    ck_assert_msg(bad > chi_square_bound(dof2), "a constant generator passes: %g", bad);
    free(picks);
    family_case_free(&c);
}
END_TEST

static int64_t *device_picks(clpool_context *ctx, const family_case *c, test_rng *r, size_t *bad)
{
    family_result res;
    int budget = 10;
    clpool_status st = family_run(ctx, c, 0, 0, r, &res, "frequencies");
    ck_assert_msg(st == CLPOOL_SUCCESS, "run: %s", clpool_status_string(st));
    *bad += family_compare(c, &res, "frequencies", &budget);
    int64_t *picks = malloc((c->out_elems ? c->out_elems : 1) * sizeof *picks);
    for (size_t e = 0; e < c->out_elems; e++)
        picks[e] = ((int64_t *)res.idx)[family_storage_index(&c->out, e)];
    family_result_free(&res);
    return picks;
}

/* Windows [1,2,3,4] (and [-2,1,0,3]) repeated along 1-D planes: the picks
 * of 20000 draws match p = a / sum a; then random 2-D weights in float32
 * and float16 NHWC, binned by probability. */
START_TEST(test_frequencies)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0xf4e9};
    size_t bad = 0;
    static const double patterns[2][4] = {{1, 2, 3, 4}, {-2, 1, 0, 3}};
    for (int pat = 0; pat < 2; pat++) {
        family_case c;
        training_case(&c, CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 4, 4 * 5000, 0, 4, 0, 0, 0);
        c.op.seed = 0xabcdef + (uint64_t)pat;
        family_alloc_input(&c);
        for (size_t pl = 0; pl < 4; pl++)
            for (size_t i = 0; i < 4 * 5000; i++)
                family_put(&c, pl, i, patterns[pat][i % 4]);
        ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
        int64_t *picks = device_picks(ctx, &c, &r, &bad);
        double counts[4] = {0}, expected[4];
        double sum = 0;
        for (int j = 0; j < 4; j++)
            sum += patterns[pat][j] > 0 ? patterns[pat][j] : 0;
        for (int j = 0; j < 4; j++)
            expected[j] = (double)c.out_elems * (patterns[pat][j] > 0 ? patterns[pat][j] : 0) / sum;
        for (size_t e = 0; e < c.out_elems; e++)
            counts[picks[e] % 4] += 1;
        int dof;
        double stat = chi_square(counts, expected, 4, &dof);
        printf(
            "frequencies [%g,%g,%g,%g]: picks %g %g %g %g, chi-square %.2f (%d dof, bound %.1f)\n",
            patterns[pat][0], patterns[pat][1], patterns[pat][2], patterns[pat][3], counts[0],
            counts[1], counts[2], counts[3], stat, dof, chi_square_bound(dof));
        ck_assert_msg(stat < chi_square_bound(dof), "pattern %d: chi-square %g", pat, stat);
        if (pat == 1)
            ck_assert_msg(counts[0] == 0 && counts[2] == 0, "a cell of weight 0 was sampled");
        free(picks);
        family_case_free(&c);
    }
    static const clpool_dtype dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16};
    for (int t = 0; t < 2; t++) {
        family_case c;
        training_case(&c, dtypes[t], CLPOOL_NHWC, 2, 2, 5, 64, 67, 3, 2, 1, 0);
        c.op.seed = 0x77 + (uint64_t)t;
        family_fill(&r, &c, t ? FV_SPARSE : FV_POSITIVE);
        ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
        int64_t *picks = device_picks(ctx, &c, &r, &bad);
        int dof;
        size_t zeros, draws;
        double stat = pick_statistic(&c, picks, &dof, &zeros, &draws);
        int dof2;
        double pit = pit_statistic(&c, picks, &dof2);
        printf("frequencies 2-D %s: chi-square %.2f (%d dof, bound %.1f, %zu draws), transform "
               "%.2f (bound %.1f)\n",
               storage_dtype_name(dtypes[t]), stat, dof, chi_square_bound(dof), draws, pit,
               chi_square_bound(dof2));
        ck_assert_msg(stat < chi_square_bound(dof), "%s: chi-square %g",
                      storage_dtype_name(dtypes[t]), stat);
        ck_assert_msg(pit < chi_square_bound(dof2), "%s: transform chi-square %g",
                      storage_dtype_name(dtypes[t]), pit);
        ck_assert_msg(zeros == 0, "%zu picks of weight-0 cells", zeros);
        free(picks);
        family_case_free(&c);
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu elements differ from the reference", bad);
}
END_TEST

/* The same results, bit for bit, with the device's work-group size and
 * batching, work-groups of 8 and 3 planes a launch, and of 16 and one plane
 * a launch; each equal to the reference. */
START_TEST(test_determinism)
{
    clpool_context *ctx[3] = {test_context(NULL, 0, 0), test_context(NULL, 8, 3),
                              test_context(NULL, 16, 1)};
    int has_fp64 = family_device_has_fp64();
    test_rng r = {0xde7};
    size_t bad = 0;
    int budget = 30;
    family_case cases[6];
    training_case(&cases[0], CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 2, 5, 17, 23, 3, 2, 1, 0);
    training_case(&cases[1], CLPOOL_FLOAT16, CLPOOL_NHWC, 1, 3, 7, 101, 0, 5, 3, 0, 2);
    cases[1].op.indices = CLPOOL_INDICES_INT32;
    training_case(&cases[2], has_fp64 ? CLPOOL_FLOAT64 : CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 9, 12,
                  10, 2, 1, 0, 0);
    cases[2].op.indices = CLPOOL_INDICES_NONE;
    training_case(&cases[3], CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 2, 6, 9, 13, 1, 0, 0, 0);
    cases[3].op.kernel[0] = 9, cases[3].op.kernel[1] = 13; /* the whole plane */
    training_case(&cases[4], CLPOOL_BFLOAT16, CLPOOL_NHWC, 2, 2, 4, 15, 11, 3, 1, 1, 2);
    cases[4].op.train = 0;
    cases[4].op.indices = CLPOOL_INDICES_NONE;
    training_case(&cases[5], CLPOOL_FLOAT32, CLPOOL_NHWC, 2, 1, 3, 1, 1, 1, 0, 0, 0);
    for (int i = 0; i < 6; i++) {
        family_case *c = &cases[i];
        family_fill(&r, c, i % 2 ? FV_SPARSE : FV_UNIFORM);
        ck_assert_int_eq(family_reference(c, NULL), CLPOOL_SUCCESS);
        family_result res[3];
        for (int k = 0; k < 3; k++) {
            char label[32];
            snprintf(label, sizeof label, "context %d", k);
            clpool_status st = family_run(ctx[k], c, k == 1, k % 2, &r, &res[k], label);
            ck_assert_msg(st == CLPOOL_SUCCESS, "case %d context %d: %s", i, k,
                          clpool_status_string(st));
            bad += family_compare(c, &res[k], label, &budget);
        }
        bad += family_compare_bitwise(c, &res[0], &res[1], "default vs (8, 3)", &budget);
        bad += family_compare_bitwise(c, &res[0], &res[2], "default vs (16, 1)", &budget);
        for (int k = 0; k < 3; k++)
            family_result_free(&res[k]);
        family_case_free(c);
    }
    for (int k = 0; k < 3; k++)
        clpool_context_destroy(ctx[k]);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* The seed changes the draw; clpool_plan_set_seed changes it back and
 * forth without a new plan and refuses other plans. */
START_TEST(test_seed)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0x5eed5};
    size_t bad = 0;
    int budget = 20;
    family_case c;
    training_case(&c, CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 2, 3, 30, 31, 3, 3, 0, 0);
    family_fill(&r, &c, FV_POSITIVE);
    const uint64_t s1 = 1, s2 = 2;
    c.op.seed = s1;
    ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_window(ctx, &c.op, &c.in, &plan);
    ck_assert_msg(st == CLPOOL_SUCCESS, "plan: %s", clpool_status_string(st));
    family_result r1, r2, r3, r4;
    ck_assert_int_eq(family_run_plan(ctx, plan, &c, 0, 0, &r, &r1, "seed 1"), CLPOOL_SUCCESS);
    bad += family_compare(&c, &r1, "seed 1", &budget);

    ck_assert_int_eq(clpool_plan_set_seed(plan, s2), CLPOOL_SUCCESS);
    family_case c2 = c;
    c2.op.seed = s2;
    c2.ref = NULL;
    ck_assert_int_eq(family_reference(&c2, NULL), CLPOOL_SUCCESS);
    ck_assert_int_eq(family_run_plan(ctx, plan, &c2, 1, 0, &r, &r2, "set_seed 2"), CLPOOL_SUCCESS);
    bad += family_compare(&c2, &r2, "set_seed 2", &budget);
    size_t differ = 0;
    for (size_t e = 0; e < c.out_elems; e++)
        differ += c.ref[e].idx != c2.ref[e].idx;
    int silent = 0;
    size_t changed = family_compare_bitwise(&c, &r1, &r2, "(expected)", &silent);
    printf("seed: %zu of %zu picks differ between seeds 1 and 2 (reference %zu)\n", changed,
           c.out_elems, differ);
    ck_assert_msg(changed * 2 > c.out_elems, "seed 2 changed only %zu of %zu picks", changed,
                  c.out_elems);

    ck_assert_int_eq(clpool_plan_set_seed(plan, s1), CLPOOL_SUCCESS);
    ck_assert_int_eq(family_run_plan(ctx, plan, &c, 0, 0, &r, &r3, "back to seed 1"),
                     CLPOOL_SUCCESS);
    bad += family_compare_bitwise(&c, &r1, &r3, "seed 1 again", &budget);
    clpool_plan_destroy(plan);

    ck_assert_int_eq(family_run(ctx, &c2, 0, 0, &r, &r4, "new plan seed 2"), CLPOOL_SUCCESS);
    bad += family_compare_bitwise(&c2, &r2, &r4, "set_seed vs new plan", &budget);
    family_result_free(&r1);
    family_result_free(&r2);
    family_result_free(&r3);
    family_result_free(&r4);
    free(c2.ref);
    family_case_free(&c);

    /* other plans refuse a seed */
    clpool_window_desc max = family_win(CLPOOL_OP_MAX, 2, 0, 0, 0, 0);
    clpool_tensor_desc in = family_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, 4, 4, 0);
    st = clpool_plan_window(ctx, &max, &in, &plan);
    ck_assert_int_eq(st, CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_plan_set_seed(plan, 3), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_plan_destroy(plan);
    ck_assert_int_eq(clpool_plan_set_seed(NULL, 3), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* §10.1: [1,2,3,4] with u in [0.2, 0.3) (thres in [2, 3)) picks 2 at index
 * 1; with u in [0.65, 0.95) it picks 4 at index 3. Seeds found by search. */
START_TEST(test_example_pick)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    static const struct {
        float lo, hi;
        double value;
        int64_t index;
    } want[] = {{0.2f, 0.3f, 2.0, 1}, {0.65f, 0.95f, 4.0, 3}};
    test_rng r = {0x91c};
    for (int i = 0; i < 2; i++) {
        uint64_t seed = 0;
        while (!(ref_uniform(seed, 0, 0) >= want[i].lo && ref_uniform(seed, 0, 0) < want[i].hi))
            seed++;
        family_case c;
        training_case(&c, CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 1, 4, 0, 4, 0, 0, 0);
        c.op.seed = seed;
        family_alloc_input(&c);
        for (int j = 0; j < 4; j++)
            family_put(&c, 0, (size_t)j, j + 1);
        ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
        family_result res;
        clpool_status st = family_run(ctx, &c, 0, 0, &r, &res, "§10.1 pick");
        ck_assert_msg(st == CLPOOL_SUCCESS, "run: %s", clpool_status_string(st));
        float got = ((float *)res.y)[0];
        int64_t at = ((int64_t *)res.idx)[0];
        ck_assert_msg(got == want[i].value && at == want[i].index,
                      "seed %llu (u = %.6f): got %g at %lld, want %g at %lld",
                      (unsigned long long)seed, ref_uniform(seed, 0, 0), got, (long long)at,
                      want[i].value, (long long)want[i].index);
        family_result_free(&res);
        family_case_free(&c);
    }
    clpool_context_destroy(ctx);
}
END_TEST

void family_add_stochastic_tcases(Suite *s)
{
    TCase *tc = tcase_create("stochastic");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_chi_square_self_check);
    tcase_add_test(tc, test_example_pick);
    tcase_add_test(tc, test_frequencies);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_seed);
    suite_add_tcase(s, tc);
}
