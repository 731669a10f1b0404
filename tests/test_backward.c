/*
 * Suite "backward": the gradients of the window family
 * (clpool_plan_window_backward) against the double reference of
 * reference_backward.c: the spec's worked examples, random sweeps per
 * operator (overlapping windows, ceil mode, padding, dilation, ties, empty
 * windows, damaged indices; every dtype and layout; poisoned outputs, every
 * element checked), central differences on the reference itself,
 * determinism across work-group sizes and batch splits (bit for bit), the
 * replayed selections against the forward's indices, and invalid requests.
 * CLPOOL_TEST_SMALL=1 keeps a few tiny cases (oclgrind); CLPOOL_TEST_SCALE=P
 * runs P% of the sweeps.
 */
#include "backward_run.h"
#include "family_gen.h"
#include "storage.h"
#include "test_env.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clpool_window_desc win(clpool_op kind, int k, int s, int p, int d, int ceil_mode)
{
    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = kind;
    op.ceil_mode = ceil_mode;
    for (int j = 0; j < CLPOOL_MAX_SPATIAL_DIMS; j++) {
        op.kernel[j] = k;
        op.stride[j] = s;
        op.padding[j] = p;
        op.dilation[j] = d;
    }
    return op;
}

static clpool_tensor_desc tens(clpool_dtype t, clpool_layout l, int dims, size_t n, size_t c,
                               size_t s0, size_t s1, size_t s2)
{
    clpool_tensor_desc d = tensor(dims, n, c, s0, s1, s2);
    d.dtype = t;
    d.layout = l;
    return d;
}

/* ---- the spec's worked examples ------------------------------------------ */

/* Runs the 1-D float32 case x -> gradient of ones, compares with want. */
static void example_1d(clpool_context *ctx, const clpool_window_desc *op, const float *x, size_t n,
                       const double *want, clpool_layout layout)
{
    clpool_tensor_desc in = tens(CLPOOL_FLOAT32, layout, 1, 1, 1, n, 0, 0);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_window_backward(ctx, op, &in, &plan), CLPOOL_SUCCESS);
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
    size_t no = out.spatial[0];
    float gy[16], gx[16];
    int64_t idx[16];
    for (size_t i = 0; i < no; i++)
        gy[i] = 1.0f;
    if (op->indices != CLPOOL_INDICES_NONE) {
        /* the forward's indices */
        clpool_window_desc fwd = *op;
        clpool_plan *fp = NULL;
        float y[16];
        ck_assert_int_eq(clpool_plan_window(ctx, &fwd, &in, &fp), CLPOOL_SUCCESS);
        ck_assert_int_eq(clpool_run_host(fp, NULL, x, y, idx), CLPOOL_SUCCESS);
        clpool_plan_destroy(fp);
    }
    poison_floats(gx, n);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = x;
    io.grad_output = gy;
    io.indices = idx;
    io.grad_input = gx;
    ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_SUCCESS);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(gx[i] - want[i]) <= 1e-7 * (1 + fabs(want[i])),
                      "element %zu: got %.9g, want %.9g", i, (double)gx[i], want[i]);
    clpool_plan_destroy(plan);
}

START_TEST(test_examples)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    for (int l = 0; l < 2; l++) {
        clpool_layout layout = l ? CLPOOL_NHWC : CLPOOL_NCHW;
        /* §9: x=[1,3,2], k=2, s=1 gives [0,2,0], with and without indices */
        const float x[3] = {1, 3, 2};
        const double want_max[3] = {0, 2, 0};
        clpool_window_desc op = win(CLPOOL_OP_MAX, 2, 1, 0, 1, 0);
        example_1d(ctx, &op, x, 3, want_max, layout);
        op.indices = CLPOOL_INDICES_INT64;
        example_1d(ctx, &op, x, 3, want_max, layout);
        op.indices = CLPOOL_INDICES_INT32;
        example_1d(ctx, &op, x, 3, want_max, layout);
        /* §9: ones(6), k=3, s=2, p=1, ceil gives [1/3, 2/3, 1/3, 2/3, 1/3, 5/6] */
        const float ones[6] = {1, 1, 1, 1, 1, 1};
        const double want_avg[6] = {1.0 / 3, 2.0 / 3, 1.0 / 3, 2.0 / 3, 1.0 / 3, 5.0 / 6};
        op = win(CLPOOL_OP_AVG, 3, 2, 1, 1, 1);
        example_1d(ctx, &op, ones, 6, want_avg, layout);
        /* The same windows with exclude_padding: divisors 2, 3, 3, 1. */
        const double want_excl[6] = {0.5, 0.5 + 1.0 / 3, 1.0 / 3, 2.0 / 3, 1.0 / 3, 1.0 / 3 + 1};
        op.exclude_padding = 1;
        example_1d(ctx, &op, ones, 6, want_excl, layout);
        /* divisor_override 4 */
        const double want_div[6] = {0.25, 0.5, 0.25, 0.5, 0.25, 0.5};
        op.exclude_padding = 0;
        op.divisor_override = 4;
        example_1d(ctx, &op, ones, 6, want_div, layout);
        /* §9 lp: p=1 with a negative sum gives K/D: x=[-1,-2,3], k=2, ceil: the
         * last window [3] alone is scaled by K/D = 2. */
        const float xl[3] = {-1, -2, 3};
        const double want_lp[3] = {1, 1, 2};
        op = win(CLPOOL_OP_LP, 2, 2, 0, 1, 1);
        op.p = 1;
        example_1d(ctx, &op, xl, 3, want_lp, layout);
        /* lp with an all-zero window: no gradient (relu's mask) */
        const float xz[4] = {0, 0, 3, 4};
        const double want_lpz[4] = {0, 0, 0.6, 0.8};
        op.ceil_mode = 0;
        op.p = 2;
        example_1d(ctx, &op, xz, 4, want_lpz, layout);
    }
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- random sweeps -------------------------------------------------------- */

typedef struct sweep_stats {
    size_t configs, skipped, bad_configs, bad_elements, enqueued, elements;
    int budget;
} sweep_stats;

/* The value pattern for case @p i of an operator: selections take every
 * pattern (NaN, inf, ties), the smooth operators values where their
 * formulas are real. */
static family_values pick_values(test_rng *r, const clpool_window_desc *op, int i)
{
    static const family_values any[] = {FV_TIES,    FV_UNIFORM,  FV_SPECIAL,
                                        FV_NEG_INF, FV_POSITIVE, FV_SPARSE};
    static const family_values smooth[] = {FV_UNIFORM, FV_TIES, FV_POSITIVE, FV_SPARSE};
    int j = (i + (int)rng_below(r, 6));
    switch (op->op) {
    case CLPOOL_OP_LP:
        if (op->p != floor(op->p) || op->p < 0 || op->p == 3)
            return FV_POSITIVE;
        return smooth[j % 3];
    case CLPOOL_OP_GEM:
    case CLPOOL_OP_SOFTMAX:
        return smooth[j % 4];
    case CLPOOL_OP_STOCHASTIC:
        return op->train ? any[j % 6] : smooth[j % 4];
    default:
        return any[j % 6];
    }
}

static const clpool_dtype float_dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16,
                                            CLPOOL_FLOAT64};

/* @p sets parameter sets of @p kind, @p shapes shapes each. */
static void sweep(clpool_op kind, int sets, int shapes, uint64_t seed)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    int fp64 = test_has_fp64(ctx), small = test_small_mode();
    if (small) {
        sets = 2;
        shapes = 2;
    } else {
        sets = test_scaled(sets);
    }
    test_rng r = {seed};
    sweep_stats st;
    memset(&st, 0, sizeof st);
    st.budget = 20;
    for (int s = 0; s < sets; s++) {
        clpool_dtype dtype = float_dtypes[rng_below(&r, fp64 ? 4 : 3)];
        clpool_layout layout = rng_below(&r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW;
        int dims = 1 + (int)rng_below(&r, 3);
        family_set fs;
        family_gen_set(&r, kind, dims, dtype, layout, &fs);
        for (int v = 0; v < shapes; v++) {
            clpool_window_desc op = fs.op;
            if (v > 0)
                family_gen_run_params(&r, &op);
            clpool_tensor_desc in;
            family_gen_shape(&r, &fs, v, small, &in);
            clpool_tensor_desc out;
            if (ref_window_check(&op, &in, &out) != CLPOOL_SUCCESS) {
                st.skipped++;
                continue;
            }
            bw_case c;
            family_values mode = pick_values(&r, &op, v + (int)st.configs);
            ck_assert_int_eq(bw_build(&r, &c, &op, &in, mode, rng_below(&r, 3) == 0, 1),
                             CLPOOL_SUCCESS);
            st.configs++;
            int use_enqueue = st.configs % 4 == 1;
            st.enqueued += use_enqueue;
            void *gx = bw_alloc_grad(&c);
            size_t bad = 0;
            if (bw_run(ctx, &c, use_enqueue, &r, gx, use_enqueue ? "enqueue" : "host") !=
                CLPOOL_SUCCESS)
                bad = 1;
            else
                bad = bw_compare(&c, gx, use_enqueue ? "enqueue" : "host", &st.budget);
            st.elements += c.f.in_elems;
            st.bad_elements += bad;
            st.bad_configs += bad != 0;
            free(gx);
            bw_free(&c);
        }
    }
    printf("backward sweep %d: %zu configurations (%zu through enqueue), %zu skipped, %zu "
           "elements checked, %zu failing configurations, %zu bad elements\n",
           (int)kind, st.configs, st.enqueued, st.skipped, st.elements, st.bad_configs,
           st.bad_elements);
    fflush(stdout);
    ck_assert_msg(st.bad_configs == 0, "%zu of %zu configurations failed", st.bad_configs,
                  st.configs);
    clpool_context_destroy(ctx);
}

START_TEST(test_sweep_max)
{
    sweep(CLPOOL_OP_MAX, 40, 8, 0x6d617800);
}
END_TEST

START_TEST(test_sweep_avg)
{
    sweep(CLPOOL_OP_AVG, 40, 8, 0x61766700);
}
END_TEST

START_TEST(test_sweep_smooth)
{
    static const clpool_op kinds[] = {CLPOOL_OP_LP, CLPOOL_OP_GEM, CLPOOL_OP_MIXED,
                                      CLPOOL_OP_SOFTMAX, CLPOOL_OP_STOCHASTIC};
    sweep(kinds[_i], 30, 8, 0x736d6f00 + (uint64_t)_i);
}
END_TEST

/* ---- the reference against central differences of the forward reference -- */

START_TEST(test_numerical_gradient)
{
    static const clpool_op kinds[] = {CLPOOL_OP_AVG,     CLPOOL_OP_LP,    CLPOOL_OP_GEM,
                                      CLPOOL_OP_SOFTMAX, CLPOOL_OP_MIXED, CLPOOL_OP_STOCHASTIC};
    test_rng r = {0x6e756d};
    int checked = 0;
    for (int t = 0; t < 120; t++) {
        clpool_op kind = kinds[t % 6];
        int dims = 1 + (int)rng_below(&r, 2);
        clpool_window_desc op = win(kind, 1 + (int)rng_below(&r, 3), 1 + (int)rng_below(&r, 2), 0,
                                    1, (int)rng_below(&r, 2));
        if (kind != CLPOOL_OP_LP)
            for (int j = 0; j < dims; j++)
                op.padding[j] = (int)rng_below(&r, (unsigned)op.kernel[j] / 2 + 1);
        if (kind == CLPOOL_OP_AVG || kind == CLPOOL_OP_MIXED)
            op.exclude_padding = (int)rng_below(&r, 2);
        if (kind == CLPOOL_OP_AVG && rng_below(&r, 3) == 0)
            op.divisor_override = (int)rng_below(&r, 7) + 1;
        static const double ps[] = {1, 2, 3, 1.5, 2.5, 4, 0.5, -1};
        op.p = ps[rng_below(&r, 8)];
        op.beta = (double)rng_range(&r, -3, 3) * 0.5;
        op.alpha = 0.25 * rng_below(&r, 5);
        clpool_tensor_desc in = tens(CLPOOL_FLOAT64, CLPOOL_NCHW, dims, 1, 2, 3 + rng_below(&r, 4),
                                     3 + rng_below(&r, 4), 0);
        clpool_tensor_desc out;
        if (ref_window_check(&op, &in, &out) != CLPOOL_SUCCESS)
            continue;
        size_t ni = tensor_elements(&in), no = tensor_elements(&out);
        double *x = malloc(ni * sizeof *x), *gy = malloc(no * sizeof *gy);
        double *y1 = malloc(no * sizeof *y1), *y2 = malloc(no * sizeof *y2);
        ref_grad *g = malloc(ni * sizeof *g);
        ck_assert(x && gy && y1 && y2 && g);
        /* Distinct positive values away from kinks (max ties, the GeM clamp,
         * stochastic's zero weight). */
        for (size_t i = 0; i < ni; i++)
            x[i] = 0.5 + (double)i * 0.37 + 0.1 * (double)rng_below(&r, 1000) / 1000.0;
        for (size_t i = 0; i < ni; i++) {
            size_t j = rng_below(&r, (uint32_t)ni);
            double t2 = x[i];
            x[i] = x[j];
            x[j] = t2;
        }
        for (size_t i = 0; i < no; i++)
            gy[i] = (double)rng_range(&r, -20, 20) / 8.0;
        ref_backward_run(&op, &in, x, gy, NULL, g);
        for (size_t i = 0; i < ni; i++) {
            const double h = 1e-6 * (1 + fabs(x[i]));
            double keep = x[i];
            x[i] = keep + h;
            ref_backward_forward(&op, &in, x, y1);
            x[i] = keep - h;
            ref_backward_forward(&op, &in, x, y2);
            x[i] = keep;
            double num = 0, mag = 0;
            for (size_t o = 0; o < no; o++) {
                num += gy[o] * (y1[o] - y2[o]) / (2 * h);
                mag += fabs(gy[o]) * (fabs(y1[o]) + fabs(y2[o]));
            }
            char desc[256];
            describe_case(desc, sizeof desc, &op, &in);
            ck_assert_msg(fabs(num - g[i].g) <= 1e-6 * (1 + fabs(num)) + 1e-9 * mag / h,
                          "%s element %zu: reference %.12g, central difference %.12g", desc, i,
                          g[i].g, num);
            checked++;
        }
        free(x);
        free(gy);
        free(y1);
        free(y2);
        free(g);
    }
    printf("numerical gradient: %d elements agree with central differences\n", checked);
    ck_assert_int_gt(checked, 500);
}
END_TEST

/* ---- determinism and replayed selections ---------------------------------- */

/* Every operator, work-groups of 1 vs 8 (or the device's choice), one plane
 * per launch vs 3 vs all, and the kernel variants (block, row gather,
 * per-element gather): bit for bit. */
START_TEST(test_determinism)
{
    clpool_context *a = test_context(NULL, 1, 1), *b = test_context(NULL, 8, 0),
                   *c0 = test_context(NULL, 0, 3);
    int fp64 = test_has_fp64(a), small = test_small_mode();
    test_rng r = {0xde7e};
    size_t compared = 0, bad = 0;
    int budget = 20;
    for (int kind = CLPOOL_OP_MAX; kind <= CLPOOL_OP_STOCHASTIC; kind++) {
        for (int s = 0; s < (small ? 1 : 8); s++) {
            clpool_dtype dtype = float_dtypes[rng_below(&r, fp64 ? 4 : 3)];
            clpool_layout layout = s % 2 ? CLPOOL_NHWC : CLPOOL_NCHW;
            family_set fs;
            family_gen_set(&r, (clpool_op)kind, 2, dtype, layout, &fs);
            clpool_tensor_desc in;
            family_gen_shape(&r, &fs, 1 + s % 6, small, &in);
            clpool_tensor_desc out;
            if (ref_window_check(&fs.op, &in, &out) != CLPOOL_SUCCESS)
                continue;
            bw_case c;
            ck_assert_int_eq(bw_build(&r, &c, &fs.op, &in, pick_values(&r, &fs.op, s), 0, 0),
                             CLPOOL_SUCCESS);
            void *ga = bw_alloc_grad(&c), *gb = bw_alloc_grad(&c), *gc = bw_alloc_grad(&c);
            ck_assert_int_eq(bw_run(a, &c, 0, &r, ga, "wg1/split1"), CLPOOL_SUCCESS);
            ck_assert_int_eq(bw_run(b, &c, 1, &r, gb, "wg8"), CLPOOL_SUCCESS);
            ck_assert_int_eq(bw_run(c0, &c, 0, &r, gc, "split3"), CLPOOL_SUCCESS);
            bad += bw_compare(&c, ga, "wg1/split1", &budget);
            bad += bw_compare_bitwise(&c, ga, gb, "wg1/split1 vs wg8", &budget);
            bad += bw_compare_bitwise(&c, ga, gc, "wg1/split1 vs split3", &budget);
            /* the GPU variant (a work-item per element) and the row gather
             * without the block variant give the same bits */
            setenv("CLPOOL_TUNE_ROWS", "0", 1);
            ck_assert_int_eq(bw_run(c0, &c, 0, &r, gb, "per-element"), CLPOOL_SUCCESS);
            unsetenv("CLPOOL_TUNE_ROWS");
            bad += bw_compare_bitwise(&c, ga, gb, "device's variant vs per-element", &budget);
            setenv("CLPOOL_TUNE_BACKWARD_BLOCK", "0", 1);
            ck_assert_int_eq(bw_run(c0, &c, 0, &r, gc, "rows"), CLPOOL_SUCCESS);
            unsetenv("CLPOOL_TUNE_BACKWARD_BLOCK");
            bad += bw_compare_bitwise(&c, ga, gc, "device's variant vs row gather", &budget);
            compared += c.f.in_elems;
            free(ga);
            free(gb);
            free(gc);
            bw_free(&c);
        }
    }
    printf("determinism: %zu elements compared bit for bit across work-group sizes 1, 8, "
           "launches of 1, 3 and all planes and the block, row and per-element variants; %zu "
           "differ\n",
           compared, bad);
    fflush(stdout);
    ck_assert_uint_eq(bad, 0);
    clpool_context_destroy(a);
    clpool_context_destroy(b);
    clpool_context_destroy(c0);
}
END_TEST

/* max and training stochastic: the gradient from the library forward's
 * indices equals the one that recomputes the selection (replayed draw). */
START_TEST(test_replay_matches_indices)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0x7e91};
    size_t bad = 0, compared = 0;
    int budget = 20, small = test_small_mode();
    for (int t = 0; t < (small ? 2 : 16); t++) {
        clpool_op kind = t % 2 ? CLPOOL_OP_STOCHASTIC : CLPOOL_OP_MAX;
        family_set fs;
        family_gen_set(&r, kind, 1 + t % 3, t % 3 == 2 ? CLPOOL_FLOAT16 : CLPOOL_FLOAT32,
                       t % 4 < 2 ? CLPOOL_NCHW : CLPOOL_NHWC, &fs);
        clpool_window_desc op = fs.op;
        op.train = 1;
        op.indices = CLPOOL_INDICES_INT64;
        op.first_sample = t % 3 == 1 ? (size_t)t * 5 : 0; /* a part of a split batch */
        clpool_tensor_desc in;
        family_gen_shape(&r, &fs, 1 + t % 5, small, &in);
        clpool_tensor_desc out;
        if (ref_window_check(&op, &in, &out) != CLPOOL_SUCCESS)
            continue;
        bw_case c;
        ck_assert_int_eq(bw_build(&r, &c, &op, &in, pick_values(&r, &op, t), 0, 0), CLPOOL_SUCCESS);
        /* indices from the library's forward pass */
        clpool_plan *fwd = NULL;
        ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, &fwd), CLPOOL_SUCCESS);
        void *y = malloc((c.f.out_elems + 1) * 8);
        ck_assert_ptr_nonnull(y);
        ck_assert_int_eq(clpool_run_host(fwd, NULL, c.f.x, y, c.idx), CLPOOL_SUCCESS);
        clpool_plan_destroy(fwd);
        free(y);
        void *g_idx = bw_alloc_grad(&c), *g_replay = bw_alloc_grad(&c);
        ck_assert_int_eq(bw_run(ctx, &c, 0, &r, g_idx, "indices"), CLPOOL_SUCCESS);
        bw_case replay = c;
        replay.f.op.indices = CLPOOL_INDICES_NONE;
        ck_assert_int_eq(bw_run(ctx, &replay, 0, &r, g_replay, "replay"), CLPOOL_SUCCESS);
        bad += bw_compare(&c, g_idx, "indices", &budget);
        bad += bw_compare_bitwise(&c, g_idx, g_replay, "indices vs replay", &budget);
        compared += c.f.in_elems;
        free(g_idx);
        free(g_replay);
        bw_free(&c);
    }
    printf("replay: %zu elements, gradient from the forward's indices == recomputed selection; "
           "%zu differ\n",
           compared, bad);
    ck_assert_uint_eq(bad, 0);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- invalid requests ----------------------------------------------------- */

static void quiet(void *user, clpool_log_level level, const char *message)
{
    (void)user;
    (void)level;
    (void)message;
}

START_TEST(test_invalid)
{
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = quiet;
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    clpool_plan *plan = NULL;
    clpool_window_desc op = win(CLPOOL_OP_MAX, 2, 2, 0, 1, 0);
    clpool_tensor_desc in = tens(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, 4, 4, 0);
    ck_assert_int_eq(clpool_plan_window_backward(NULL, &op, &in, &plan),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_window_backward(ctx, NULL, &in, &plan),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_window_backward(ctx, &op, &in, NULL),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_null(plan);
    /* integer dtypes have no gradient */
    in.dtype = CLPOOL_UINT8;
    ck_assert_int_eq(clpool_plan_window_backward(ctx, &op, &in, &plan), CLPOOL_ERROR_UNSUPPORTED);
    in.dtype = CLPOOL_FLOAT32;
    /* the forward plan's rules, with its statuses (checked against the
     * reference by the window and family suites) */
    test_rng r = {0xbad};
    for (int t = 0; t < (test_small_mode() ? 12 : 200); t++) {
        clpool_window_desc w =
            win((clpool_op)rng_range(&r, 0, 8), rng_range(&r, -1, 4), rng_range(&r, -1, 3),
                rng_range(&r, -1, 3), rng_range(&r, 0, 3), rng_range(&r, 0, 1));
        w.indices = (clpool_index_type)rng_range(&r, 0, 2);
        w.divisor_override = rng_below(&r, 4) == 0 ? rng_range(&r, -2, 2) : 0;
        w.p = rng_below(&r, 4) ? 2 : 0;
        w.alpha = rng_below(&r, 4) ? 0.5 : 2;
        w.beta = 1;
        clpool_tensor_desc x =
            tens(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 2, rng_range(&r, 0, 5), rng_range(&r, 1, 5), 0);
        clpool_plan *fwd = NULL;
        clpool_status want = clpool_plan_window(ctx, &w, &x, &fwd);
        clpool_plan_destroy(fwd);
        clpool_status got = clpool_plan_window_backward(ctx, &w, &x, &plan);
        char desc[512];
        describe_case(desc, sizeof desc, &w, &x);
        ck_assert_msg(got == want, "%s: got %s, want %s", desc, clpool_status_string(got),
                      clpool_status_string(want));
        if (got == CLPOOL_SUCCESS) {
            /* the host call names a missing array */
            clpool_host_io io;
            memset(&io, 0, sizeof io);
            ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_ERROR_INVALID_ARGUMENT);
            clpool_plan_destroy(plan);
            plan = NULL;
        }
    }
    /* enqueue without the indices buffer the plan reads */
    op.indices = CLPOOL_INDICES_INT64;
    ck_assert_int_eq(clpool_plan_window_backward(ctx, &op, &in, &plan), CLPOOL_SUCCESS);
    cl_int err;
    cl_mem m = clCreateBuffer(clpool_context_cl_context(ctx), CL_MEM_READ_WRITE, 256, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.grad_output.mem = m;
    io.grad_input.mem = m;
    ck_assert_int_eq(clpool_enqueue(plan, clpool_context_cl_queue(ctx), &io, 0, NULL, NULL),
                     CLPOOL_ERROR_INVALID_BUFFER);
    clReleaseMemObject(m);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

static Suite *backward_suite(void)
{
    Suite *s = suite_create("backward");
    TCase *tc = tcase_create("examples");
    tcase_add_test(tc, test_examples);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    tc = tcase_create("sweep");
    tcase_add_test(tc, test_sweep_max);
    tcase_add_test(tc, test_sweep_avg);
    tcase_add_loop_test(tc, test_sweep_smooth, 0, 5);
    tcase_set_timeout(tc, 1800);
    suite_add_tcase(s, tc);
    tc = tcase_create("reference");
    tcase_add_test(tc, test_numerical_gradient);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    tc = tcase_create("determinism");
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_replay_matches_indices);
    tcase_set_timeout(tc, 1200);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, test_invalid);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(backward_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
