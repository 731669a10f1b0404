/*
 * Suite "adaptive": adaptive, global and spatial pyramid pooling against the
 * double reference (reference_adaptive.c): the spec's worked examples,
 * seeded random sweeps through each of the three ways a plan may run (the
 * window family's plan, adaptive_bins.cl, adaptive_tree.cl, forced through
 * $CLPOOL_TUNE_ADAPTIVE), planes of 1x1 and of 2^20 elements (with §11's
 * tree error bound), Out > In, batched small planes, tree work-group sizes,
 * pyramids, and the status and log sentence of every invalid parameter.
 * Every run goes through clpool_enqueue() at element offsets inside guarded,
 * poisoned buffers. CLPOOL_TEST_SMALL=1 keeps a few tiny cases (oclgrind).
 */
#include "harness.h"
#include "test_env.h"
#include "reference_adaptive.h"
#include "storage.h"

#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which way plans take: "window", "bins", "tree" or NULL (the library's choice). */
static void force_way(const char *way)
{
    if (way)
        setenv("CLPOOL_TUNE_ADAPTIVE", way, 1);
    else
        unsetenv("CLPOOL_TUNE_ADAPTIVE");
}

static clpool_tensor_desc make_tensor(clpool_dtype t, clpool_layout layout, int dims, size_t n,
                                      size_t c, size_t s0, size_t s1, size_t s2)
{
    clpool_tensor_desc d;
    memset(&d, 0, sizeof d);
    d.dtype = t;
    d.layout = layout;
    d.spatial_dims = dims;
    d.n = n;
    d.c = c;
    d.spatial[0] = s0;
    d.spatial[1] = s1;
    d.spatial[2] = s2;
    return d;
}

static adaptive_case adaptive(clpool_op op, clpool_tensor_desc in, int o0, int o1, int o2,
                              clpool_index_type indices)
{
    adaptive_case c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.in = in;
    c.out[0] = o0;
    c.out[1] = o1;
    c.out[2] = o2;
    c.indices = indices;
    return c;
}

/* ---- input values ------------------------------------------------------- */

typedef enum fill_mode {
    FILL_TIES,
    FILL_UNIFORM,
    FILL_SPECIAL,
    FILL_NEG_INF,
    FILL_COUNT
} fill_mode;

static double uniform(test_rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1p-53;
}

/* Writes @p count elements of dtype @p t: small integers with many ties,
 * uniform values, values with NaN/+-inf/-0 injected, or mostly -inf. */
static void fill(test_rng *r, clpool_dtype t, void *x, size_t count, fill_mode mode)
{
    int integer = t == CLPOOL_UINT8 || t == CLPOOL_INT8;
    double offset = (double)rng_range(r, -3, 3) * 10;
    for (size_t i = 0; i < count; i++) {
        double v;
        if (integer) {
            v = mode == FILL_TIES   ? rng_range(r, 0, 3)
                : t == CLPOOL_UINT8 ? rng_range(r, 0, 255)
                                    : rng_range(r, -128, 127);
        } else if (mode == FILL_TIES) {
            v = rng_range(r, -3, 3);
        } else if (mode == FILL_UNIFORM) {
            v = uniform(r) * 20 - 10 + offset;
        } else {
            v = rng_range(r, -3, 3);
            uint32_t pick = rng_below(r, 100);
            if (mode == FILL_NEG_INF)
                v = pick < 85 ? -INFINITY : v;
            else if (pick < 5)
                v = NAN;
            else if (pick < 8)
                v = INFINITY;
            else if (pick < 11)
                v = -INFINITY;
            else if (pick < 14)
                v = -0.0;
        }
        storage_store(t, x, i, v);
    }
}

/* ---- running one case --------------------------------------------------- */

static clpool_status plan_case(clpool_context *ctx, const adaptive_case *c, clpool_plan **plan)
{
    if (c->spp) {
        clpool_spp_desc d;
        memset(&d, 0, sizeof d);
        d.op = c->op;
        d.level_count = c->level_count;
        d.indices = c->indices;
        memcpy(d.levels, c->levels, sizeof d.levels);
        return clpool_plan_spp(ctx, &d, &c->in, plan);
    }
    clpool_adaptive_desc d;
    memset(&d, 0, sizeof d);
    d.op = c->op;
    d.indices = c->indices;
    memcpy(d.output_size, c->out, sizeof d.output_size);
    return clpool_plan_adaptive(ctx, &d, &c->in, plan);
}

static int same_tensor(const clpool_tensor_desc *a, const clpool_tensor_desc *b)
{
    if (a->dtype != b->dtype || a->layout != b->layout || a->spatial_dims != b->spatial_dims ||
        a->n != b->n || a->c != b->c)
        return 0;
    for (int i = 0; i < a->spatial_dims; i++)
        if (a->spatial[i] != b->spatial[i])
            return 0;
    return 1;
}

/*
 * Plans and runs @p c on input @p x through clpool_enqueue() (at element
 * offsets, in poisoned and guarded buffers; integer dtypes twice, with both
 * poisons) and compares with the reference. @p launches_max > 0 also checks
 * the plan's launch count. Returns the number of bad elements (a failure of
 * the plan or run counts as one).
 */
static size_t run_case(clpool_context *ctx, const adaptive_case *c, const void *x, int strict,
                       size_t launches_max, const char *label, int *budget)
{
    char desc[256];
    adaptive_describe(desc, sizeof desc, c);
    adaptive_ref ref;
    ck_assert_int_eq(adaptive_ref_compute(&ref, c, x), 0);
    clpool_plan *plan = NULL;
    clpool_status st = plan_case(ctx, c, &plan);
    if (st != CLPOOL_SUCCESS) {
        fprintf(stderr, "%s %s: plan failed: %s\n", label, desc, clpool_status_string(st));
        adaptive_ref_free(&ref);
        return 1;
    }
    size_t bad = 0;
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
    if (!same_tensor(&out, &ref.out)) {
        fprintf(stderr, "%s %s: wrong output description\n", label, desc);
        bad++;
    }
    if (launches_max && clpool_plan_launch_count(plan) > launches_max) {
        fprintf(stderr, "%s %s: %zu launches, more than %zu\n", label, desc,
                clpool_plan_launch_count(plan), launches_max);
        bad++;
    }
    size_t esz = clpool_dtype_size(c->in.dtype), in_elems = clpool_tensor_elements(&c->in);
    if (c->in.n == 0)
        in_elems = 0;
    size_t cap = ref.out_elems ? ref.out_elems : 1;
    void *y = malloc(cap * esz);
    void *idx = malloc(cap * 8);
    ck_assert(y && idx);
    int integer = c->in.dtype == CLPOOL_UINT8 || c->in.dtype == CLPOOL_INT8;
    for (int variant = 0; variant < (integer ? 2 : 1) && bad == 0; variant++) {
        size_t offsets[3] = {3 + variant, 5, 7}, guard = 0;
        st = run_enqueue_typed(plan, clpool_context_cl_context(ctx), clpool_context_cl_queue(ctx),
                               c->in.dtype, x, in_elems, y, ref.out_elems,
                               c->indices != CLPOOL_INDICES_NONE ? idx : NULL, c->indices, variant,
                               offsets, &guard);
        if (st != CLPOOL_SUCCESS || guard) {
            fprintf(stderr, "%s %s: run %s, %zu guard bytes changed\n", label, desc,
                    clpool_status_string(st), guard);
            bad++;
            break;
        }
        bad += adaptive_compare(&ref, c, x, y, c->indices != CLPOOL_INDICES_NONE ? idx : NULL,
                                strict, label, budget);
    }
    free(y);
    free(idx);
    clpool_plan_destroy(plan);
    adaptive_ref_free(&ref);
    return bad;
}

/* Fills a fresh input for @p c and runs it. */
static size_t run_filled(clpool_context *ctx, const adaptive_case *c, test_rng *r, fill_mode mode,
                         const char *label, int *budget)
{
    size_t n = clpool_tensor_elements(&c->in);
    void *x = malloc((n ? n : 1) * clpool_dtype_size(c->in.dtype));
    ck_assert_ptr_nonnull(x);
    fill(r, c->in.dtype, x, n, mode);
    size_t bad = run_case(ctx, c, x, 0, 0, label, budget);
    free(x);
    return bad;
}

/* ---- the spec's worked examples ----------------------------------------- */

static const char *ways[] = {"bins", "tree", NULL};

START_TEST(test_worked_examples)
{
    force_way(ways[_i]);
    clpool_context *ctx = test_context(NULL, 0, 0);
    /* avg, [0,1,2,3,4] -> 3: windows [0,2), [1,4), [3,5), out [0.5, 2, 3.5] */
    float x5[5] = {0, 1, 2, 3, 4}, y3[3];
    clpool_adaptive_desc d;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_OP_AVG;
    d.output_size[0] = 3;
    clpool_tensor_desc in = make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 1, 5, 0, 0);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_adaptive(ctx, &d, &in, &plan), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_run_host(plan, NULL, x5, y3, NULL), CLPOOL_SUCCESS);
    ck_assert_msg(y3[0] == 0.5f && y3[1] == 2.0f && y3[2] == 3.5f, "avg [0..4] -> 3: %g %g %g",
                  y3[0], y3[1], y3[2]);
    clpool_plan_destroy(plan);
    /* max, [0,1,2] -> 5: windows [0,1), [0,2), [1,2), [1,3), [2,3),
     * out [0,1,1,2,2], idx [0,1,1,2,2] */
    float x3[3] = {0, 1, 2}, y5[5];
    int64_t i5[5];
    d.op = CLPOOL_OP_MAX;
    d.output_size[0] = 5;
    d.indices = CLPOOL_INDICES_INT64;
    in.spatial[0] = 3;
    ck_assert_int_eq(clpool_plan_adaptive(ctx, &d, &in, &plan), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_run_host(plan, NULL, x3, y5, i5), CLPOOL_SUCCESS);
    const float want[5] = {0, 1, 1, 2, 2};
    for (int i = 0; i < 5; i++)
        ck_assert_msg(y5[i] == want[i] && i5[i] == (int64_t)want[i],
                      "max [0,1,2] -> 5 at %d: %g index %lld", i, y5[i], (long long)i5[i]);
    clpool_plan_destroy(plan);
    /* §2's tie and NaN rules in one global bin: [1,3,3,2] gives index 1;
     * [1,NaN,3,NaN,2,2] gives NaN with index 3. */
    float ties[4] = {1, 3, 3, 2}, nans[6] = {1, NAN, 3, NAN, 2, 2}, y1;
    int64_t i1;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_OP_MAX;
    d.indices = CLPOOL_INDICES_INT64;
    in.spatial[0] = 4;
    ck_assert_int_eq(clpool_plan_adaptive(ctx, &d, &in, &plan), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_run_host(plan, NULL, ties, &y1, &i1), CLPOOL_SUCCESS);
    ck_assert_msg(y1 == 3 && i1 == 1, "ties: %g index %lld", y1, (long long)i1);
    clpool_plan_destroy(plan);
    in.spatial[0] = 6;
    ck_assert_int_eq(clpool_plan_adaptive(ctx, &d, &in, &plan), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_run_host(plan, NULL, nans, &y1, &i1), CLPOOL_SUCCESS);
    ck_assert_msg(isnan(y1) && i1 == 3, "NaN: %g index %lld", y1, (long long)i1);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
    force_way(NULL);
}
END_TEST

/* ---- random sweeps ------------------------------------------------------ */

static clpool_dtype pick_dtype(test_rng *r, int fp64)
{
    static const clpool_dtype all[] = {CLPOOL_FLOAT32,  CLPOOL_FLOAT32, CLPOOL_FLOAT16,
                                       CLPOOL_BFLOAT16, CLPOOL_FLOAT64, CLPOOL_UINT8,
                                       CLPOOL_INT8};
    for (;;) {
        clpool_dtype t = all[rng_below(r, 7)];
        if (t != CLPOOL_FLOAT64 || fp64)
            return t;
    }
}

static clpool_index_type pick_indices(test_rng *r, clpool_op op)
{
    if (op != CLPOOL_OP_MAX)
        return CLPOOL_INDICES_NONE;
    uint32_t k = rng_below(r, 4);
    return k == 0 ? CLPOOL_INDICES_NONE : k == 1 ? CLPOOL_INDICES_INT32 : CLPOOL_INDICES_INT64;
}

/* An output size for input size @p in: 1, In, smaller, or larger. */
static int pick_out(test_rng *r, int in)
{
    switch (rng_below(r, 5)) {
    case 0:
        return rng_below(r, 2) ? 1 : 0; /* 0 means 1 */
    case 1:
        return in;
    case 2:
        return rng_range(r, 1, in);
    default:
        return rng_range(r, in, 2 * in + 3); /* Out > In */
    }
}

static adaptive_case random_case(test_rng *r, int fp64, int tree)
{
    int dims = rng_range(r, 1, 3);
    int hi = dims == 1 ? 40 : dims == 2 ? 17 : 7;
    if (tree)
        hi = dims == 1 ? 300 : dims == 2 ? 40 : 12;
    size_t n = rng_below(r, 12) == 0 ? 0 : (size_t)rng_range(r, 1, 3);
    size_t c = (size_t)rng_range(r, 1, 5);
    size_t s[3] = {0, 0, 0};
    for (int i = 0; i < dims; i++)
        s[i] = (size_t)rng_range(r, 1, hi);
    clpool_op op = rng_below(r, 2) ? CLPOOL_OP_MAX : CLPOOL_OP_AVG;
    clpool_tensor_desc in =
        make_tensor(pick_dtype(r, fp64), rng_below(r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW, dims, n, c,
                    s[0], s[1], s[2]);
    int o[3] = {0, 0, 0};
    for (int i = 0; i < dims; i++)
        o[i] = tree && rng_below(r, 2) ? rng_range(r, 1, 3) : pick_out(r, (int)s[i]);
    return adaptive(op, in, o[0], o[1], o[2], pick_indices(r, op));
}

/* Loop 0: adaptive_bins.cl as the device prefers (a plane per work-item on
 * CPUs); 1: one output per work-item (the GPU variant); 2: adaptive_tree.cl. */
START_TEST(test_sweep)
{
    const char *way = _i == 2 ? "tree" : "bins";
    force_way(way);
    if (_i == 1)
        setenv("CLPOOL_TUNE_ROWS", "0", 1);
    clpool_context *ctx = test_context(NULL, 0, 0);
    int fp64 = test_has_fp64(ctx);
    test_rng r = {0xada97u + (uint64_t)_i};
    int count = test_scaled(_i == 0 ? 300 : 150), budget = 20;
    size_t bad = 0, failing = 0;
    for (int i = 0; i < count; i++) {
        adaptive_case c = random_case(&r, fp64, _i == 2);
        size_t b = run_filled(ctx, &c, &r, (fill_mode)rng_below(&r, FILL_COUNT), way, &budget);
        bad += b;
        failing += b != 0;
    }
    clpool_context_destroy(ctx);
    force_way(NULL);
    unsetenv("CLPOOL_TUNE_ROWS");
    printf("sweep %s%s: %d configurations\n", way, _i == 1 ? " (one output per work-item)" : "",
           count);
    ck_assert_msg(bad == 0, "%s: %zu bad elements in %zu of %d configurations", way, bad, failing,
                  count);
}
END_TEST

/* Bins that are one window go to the window family; the same cases through
 * adaptive_bins.cl must give the same answers. */
START_TEST(test_window_way)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0x5eed};
    adaptive_case cases[] = {
        adaptive(CLPOOL_OP_AVG, make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 2, 8, 14, 14, 0), 7, 7,
                 0, CLPOOL_INDICES_NONE),
        adaptive(CLPOOL_OP_MAX, make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 2, 8, 14, 14, 0), 7, 7,
                 0, CLPOOL_INDICES_INT64),
        adaptive(CLPOOL_OP_AVG, make_tensor(CLPOOL_FLOAT16, CLPOOL_NHWC, 2, 2, 9, 14, 14, 0), 7, 7,
                 0, CLPOOL_INDICES_NONE),
        adaptive(CLPOOL_OP_AVG, make_tensor(CLPOOL_UINT8, CLPOOL_NCHW, 2, 2, 3, 14, 14, 0), 7, 7, 0,
                 CLPOOL_INDICES_NONE),
        adaptive(CLPOOL_OP_AVG, make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 4, 16, 7, 7, 0), 0, 0,
                 0, CLPOOL_INDICES_NONE),
        adaptive(CLPOOL_OP_MAX, make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 4, 16, 7, 7, 0), 1, 1,
                 0, CLPOOL_INDICES_INT32),
        adaptive(CLPOOL_OP_MAX, make_tensor(CLPOOL_BFLOAT16, CLPOOL_NCHW, 1, 2, 3, 12, 0, 0), 4, 0,
                 0, CLPOOL_INDICES_INT64),
        adaptive(CLPOOL_OP_AVG, make_tensor(CLPOOL_FLOAT32, CLPOOL_NHWC, 3, 1, 5, 4, 4, 4), 2, 2, 2,
                 CLPOOL_INDICES_NONE),
    };
    int budget = 20;
    size_t bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int w = 0; w < 2; w++) {
            force_way(w == 0 ? "window" : "bins");
            test_rng same = r;
            bad += run_filled(ctx, &cases[i], &same, i % 2 ? FILL_SPECIAL : FILL_UNIFORM,
                              w == 0 ? "window" : "bins", &budget);
        }
    force_way(NULL);
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* ---- planes of 1x1 and of 2^20 elements --------------------------------- */

START_TEST(test_one_by_one)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    int fp64 = test_has_fp64(ctx);
    test_rng r = {0x11};
    int budget = 20;
    size_t bad = 0;
    static const clpool_dtype dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16,
                                          CLPOOL_FLOAT64, CLPOOL_UINT8,   CLPOOL_INT8};
    for (size_t t = 0; t < 6; t++) {
        if (dtypes[t] == CLPOOL_FLOAT64 && !fp64)
            continue;
        for (int layout = 0; layout < 2; layout++)
            for (int op = CLPOOL_OP_MAX; op <= CLPOOL_OP_AVG; op++) {
                clpool_tensor_desc in =
                    make_tensor(dtypes[t], (clpool_layout)layout, 2, 2, 3, 1, 1, 0);
                clpool_index_type idx =
                    op == CLPOOL_OP_MAX ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE;
                adaptive_case one = adaptive((clpool_op)op, in, 0, 0, 0, idx);
                adaptive_case up = adaptive((clpool_op)op, in, 3, 3, 0, idx);
                bad += run_filled(ctx, &one, &r, FILL_SPECIAL, "1x1", &budget);
                bad += run_filled(ctx, &up, &r, FILL_SPECIAL, "1x1->3x3", &budget);
            }
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* Sums a plane sequentially in float32, as a one-work-item kernel would. */
static float sequential_mean(const float *x, size_t n)
{
    float s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (float)n;
}

/* A plane of 2^20 elements is one launch; the average meets §11's tree bound
 * 8u(1 + log2 n) mean|x| (which a sequential float sum of these values
 * misses: checked too, so the test can tell them apart); the maximum keeps
 * the first of two equal maxima and the last of two NaNs. */
START_TEST(test_big_planes)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    const size_t P = (size_t)1 << 20;
    const clpool_tensor_desc shapes[] = {
        make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 2, 1024, 1024, 0),
        make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 2, P, 0, 0),
        make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 3, 1, 2, 64, 128, 128),
        make_tensor(CLPOOL_FLOAT32, CLPOOL_NHWC, 2, 1, 2, 1024, 1024, 0),
    };
    float *x = malloc(2 * P * sizeof *x);
    ck_assert_ptr_nonnull(x);
    test_rng r = {0xb16};
    int budget = 20;
    size_t bad = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        clpool_tensor_desc in = shapes[s];
        for (size_t i = 0; i < 2 * P; i++)
            x[i] = (float)(999.0 + 2.0 * uniform(&r));
        if (s == 0) {
            float seq = sequential_mean(x, P);
            double exact = 0;
            for (size_t i = 0; i < P; i++)
                exact += x[i];
            exact /= (double)P;
            double bound = 8 * 0x1p-24 * 21 * 1000.0;
            printf("2^20 plane: a sequential float sum is off by %.3g, the tree bound is %.3g\n",
                   fabs(seq - exact), bound);
            ck_assert_msg(fabs(seq - exact) > bound,
                          "the data do not tell a sequential sum from a tree");
        }
        adaptive_case avg = adaptive(CLPOOL_OP_AVG, in, 0, 0, 0, CLPOOL_INDICES_NONE);
        bad += run_case(ctx, &avg, x, 1, 1, "2^20 avg", &budget);
        /* plane 0: two equal maxima (the first wins); plane 1: two NaNs (the
         * last wins), at flat positions far apart */
        size_t a = 12345, b = P - 777;
        size_t oa0 = layout_offset(&in, 0, a), ob0 = layout_offset(&in, 0, b);
        size_t oa1 = layout_offset(&in, 1, a), ob1 = layout_offset(&in, 1, b);
        x[oa0] = x[ob0] = 5000.0f;
        x[oa1] = x[ob1] = NAN;
        adaptive_case max = adaptive(CLPOOL_OP_MAX, in, 0, 0, 0, CLPOOL_INDICES_INT64);
        bad += run_case(ctx, &max, x, 1, 1, "2^20 max", &budget);
    }
    /* float16 and uint8 planes of 2^20: float accumulation, one rounding;
     * integer sums exact */
    clpool_tensor_desc h = make_tensor(CLPOOL_FLOAT16, CLPOOL_NCHW, 2, 1, 2, 1024, 1024, 0);
    uint16_t *xh = malloc(2 * P * sizeof *xh);
    ck_assert_ptr_nonnull(xh);
    for (size_t i = 0; i < 2 * P; i++)
        storage_store(CLPOOL_FLOAT16, xh, i, 1.0 + uniform(&r));
    adaptive_case havg = adaptive(CLPOOL_OP_AVG, h, 0, 0, 0, CLPOOL_INDICES_NONE);
    bad += run_case(ctx, &havg, xh, 1, 1, "2^20 f16 avg", &budget);
    clpool_tensor_desc u = make_tensor(CLPOOL_UINT8, CLPOOL_NCHW, 2, 1, 2, 1024, 1024, 0);
    fill(&r, CLPOOL_UINT8, xh, 2 * P, FILL_UNIFORM);
    adaptive_case uavg = adaptive(CLPOOL_OP_AVG, u, 0, 0, 0, CLPOOL_INDICES_NONE);
    bad += run_case(ctx, &uavg, xh, 1, 1, "2^20 u8 avg", &budget);
    free(xh);
    free(x);
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* 64x2048 planes of 7x7 (a ResNet-50 head) are one launch. */
START_TEST(test_batched_head)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0x4ead};
    int budget = 20;
    size_t bad = 0;
    for (int layout = 0; layout < 2; layout++) {
        adaptive_case c = adaptive(
            CLPOOL_OP_AVG, make_tensor(CLPOOL_FLOAT32, (clpool_layout)layout, 2, 64, 2048, 7, 7, 0),
            0, 0, 0, CLPOOL_INDICES_NONE);
        size_t n = clpool_tensor_elements(&c.in);
        float *x = malloc(n * sizeof *x);
        ck_assert_ptr_nonnull(x);
        fill(&r, CLPOOL_FLOAT32, x, n, FILL_UNIFORM);
        bad += run_case(ctx, &c, x, 0, 1, "head", &budget);
        free(x);
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* The tree kernel with work-group sizes of 1, odd sizes and powers of two,
 * with consecutive and (odd loops) interleaved units per work-item: exact
 * maxima and indices, averages within their tolerance. */
START_TEST(test_tree_group_sizes)
{
    static const size_t sizes[] = {1, 3, 7, 16, 64};
    force_way("tree");
    if (_i % 2) /* interleaved units (the GPU variant) */
        setenv("CLPOOL_TUNE_ROWS", "0", 1);
    clpool_context *ctx = test_context(NULL, sizes[_i], 0);
    test_rng r = {0x7ee + (uint64_t)_i};
    int budget = 20;
    size_t bad = 0;
    for (int i = 0; i < 12; i++) {
        int dims = 1 + i % 3;
        size_t s0 = dims == 1   ? 3000
                    : dims == 2 ? 70
                                : 17,
               s1 = dims == 1 ? 0 : 45, s2 = dims == 3 ? 19 : 0;
        clpool_op op = i % 2 ? CLPOOL_OP_AVG : CLPOOL_OP_MAX;
        clpool_tensor_desc in =
            make_tensor(i % 4 == 1 ? CLPOOL_BFLOAT16 : CLPOOL_FLOAT32,
                        i % 3 == 2 ? CLPOOL_NHWC : CLPOOL_NCHW, dims, 2, 3, s0, s1, s2);
        adaptive_case c =
            adaptive(op, in, i % 4 == 0 ? 2 : 0, i % 5 == 0 ? 3 : 0, 0,
                     op == CLPOOL_OP_MAX ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE);
        bad += run_filled(ctx, &c, &r,
                          i % 4 == 0   ? FILL_SPECIAL
                          : i % 4 == 2 ? FILL_TIES
                                       : FILL_UNIFORM,
                          "tree", &budget);
    }
    clpool_context_destroy(ctx);
    force_way(NULL);
    unsetenv("CLPOOL_TUNE_ROWS");
    ck_assert_msg(bad == 0, "work-group size %zu: %zu bad elements", sizes[_i], bad);
}
END_TEST

START_TEST(test_empty_batch)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    clpool_adaptive_desc d;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_OP_MAX;
    d.output_size[0] = 3;
    d.output_size[1] = 5;
    clpool_tensor_desc in = make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 0, 4, 9, 9, 0);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_adaptive(ctx, &d, &in, &plan), CLPOOL_SUCCESS);
    ck_assert_uint_eq(clpool_plan_launch_count(plan), 0);
    clpool_tensor_desc out;
    clpool_plan_output_desc(plan, &out);
    ck_assert(out.n == 0 && out.c == 4 && out.spatial[0] == 3 && out.spatial[1] == 5);
    float dummy = 0;
    ck_assert_int_eq(clpool_run_host(plan, NULL, &dummy, &dummy, NULL), CLPOOL_SUCCESS);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- spatial pyramid pooling -------------------------------------------- */

static adaptive_case pyramid(clpool_op op, clpool_tensor_desc in, const int *levels, int count,
                             clpool_index_type indices)
{
    adaptive_case c;
    memset(&c, 0, sizeof c);
    c.spp = 1;
    c.op = op;
    c.in = in;
    c.level_count = count;
    memcpy(c.levels, levels, (size_t)count * sizeof *levels);
    c.indices = indices;
    return c;
}

START_TEST(test_spp_named)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0x5bb};
    int budget = 20;
    size_t bad = 0;
    static const int caffe[] = {1, 2, 4}, paper[] = {4, 2, 1}, wide[] = {20, 1, 3, 6};
    for (int layout = 0; layout < 2; layout++) {
        clpool_tensor_desc in =
            make_tensor(CLPOOL_FLOAT32, (clpool_layout)layout, 2, 2, 5, 13, 13, 0);
        adaptive_case cases[] = {
            pyramid(CLPOOL_OP_MAX, in, caffe, 3, CLPOOL_INDICES_NONE),
            pyramid(CLPOOL_OP_MAX, in, paper, 3, CLPOOL_INDICES_INT64),
            pyramid(CLPOOL_OP_AVG, in, caffe, 3, CLPOOL_INDICES_NONE),
            pyramid(CLPOOL_OP_AVG, in, wide, 4,
                    CLPOOL_INDICES_NONE), /* a level finer than the map */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            size_t n = clpool_tensor_elements(&in);
            float *x = malloc(n * sizeof *x);
            fill(&r, CLPOOL_FLOAT32, x, n, i % 2 ? FILL_SPECIAL : FILL_UNIFORM);
            bad += run_case(ctx, &cases[i], x, 0, 1, "spp", &budget);
            free(x);
        }
    }
    /* a non-square map, op 0 = max */
    clpool_tensor_desc in = make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 2, 6, 11, 0);
    adaptive_case c = pyramid((clpool_op)0, in, caffe, 3, CLPOOL_INDICES_NONE);
    float x[132];
    fill(&r, CLPOOL_FLOAT32, x, 132, FILL_TIES);
    c.op = CLPOOL_OP_MAX; /* what the reference computes */
    {
        adaptive_ref ref;
        ck_assert_int_eq(adaptive_ref_compute(&ref, &c, x), 0);
        clpool_spp_desc d;
        memset(&d, 0, sizeof d);
        d.level_count = 3;
        memcpy(d.levels, caffe, sizeof caffe);
        clpool_plan *plan = NULL;
        ck_assert_int_eq(clpool_plan_spp(ctx, &d, &in, &plan), CLPOOL_SUCCESS);
        float y[42];
        ck_assert_int_eq(clpool_run_host(plan, NULL, x, y, NULL), CLPOOL_SUCCESS);
        bad += adaptive_compare(&ref, &c, x, y, NULL, 0, "spp op 0", &budget);
        clpool_plan_destroy(plan);
        adaptive_ref_free(&ref);
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* Loop 1 takes the one-output-per-work-item variant. */
START_TEST(test_spp_sweep)
{
    if (_i == 1)
        setenv("CLPOOL_TUNE_ROWS", "0", 1);
    clpool_context *ctx = test_context(NULL, 0, 0);
    int fp64 = test_has_fp64(ctx);
    test_rng r = {0x5bb5 + (uint64_t)_i};
    int count = test_scaled(_i == 0 ? 150 : 75), budget = 20;
    size_t bad = 0;
    for (int i = 0; i < count; i++) {
        clpool_op op = rng_below(&r, 2) ? CLPOOL_OP_MAX : CLPOOL_OP_AVG;
        clpool_tensor_desc in =
            make_tensor(pick_dtype(&r, fp64), rng_below(&r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW, 2,
                        (size_t)rng_range(&r, 0, 3), (size_t)rng_range(&r, 1, 6),
                        (size_t)rng_range(&r, 1, 24), (size_t)rng_range(&r, 1, 24), 0);
        int levels[CLPOOL_SPP_LEVELS_MAX], count_l = rng_range(&r, 1, CLPOOL_SPP_LEVELS_MAX);
        for (int l = 0; l < count_l; l++)
            levels[l] = rng_range(&r, 1, 9);
        adaptive_case c = pyramid(op, in, levels, count_l, pick_indices(&r, op));
        bad += run_filled(ctx, &c, &r, (fill_mode)rng_below(&r, FILL_COUNT), "spp", &budget);
    }
    clpool_context_destroy(ctx);
    unsetenv("CLPOOL_TUNE_ROWS");
    printf("spp sweep%s: %d configurations\n", _i ? " (one output per work-item)" : "", count);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* ---- invalid parameters ------------------------------------------------- */

START_TEST(test_invalid)
{
    test_log cap = {0};
    clpool_context *ctx = test_context(&cap, 0, 0);
    clpool_tensor_desc ok = make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 2, 8, 8, 0);
    struct {
        const char *name;
        clpool_adaptive_desc op;
        clpool_tensor_desc in;
        clpool_status want;
    } cases[24];
    int n = 0;
#define CASE(label, field, value, status)                                                          \
    do {                                                                                           \
        cases[n].name = label;                                                                     \
        memset(&cases[n].op, 0, sizeof cases[n].op);                                               \
        cases[n].op.op = CLPOOL_OP_MAX;                                                            \
        cases[n].op.output_size[0] = cases[n].op.output_size[1] = 3;                               \
        cases[n].in = ok;                                                                          \
        cases[n].field = value;                                                                    \
        cases[n].want = status;                                                                    \
        n++;                                                                                       \
    } while (0)
    CASE("op lp", op.op, CLPOOL_OP_LP, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("op 0", op.op, (clpool_op)0, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("output -1", op.output_size[1], -1, CLPOOL_ERROR_OUTPUT_TOO_SMALL);
    CASE("output 2^29+1", op.output_size[0], (1 << 29) + 1, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("avg with indices", op.op, CLPOOL_OP_AVG, CLPOOL_ERROR_INVALID_ARGUMENT);
    cases[n - 1].op.indices = CLPOOL_INDICES_INT64;
    CASE("indices 7", op.indices, (clpool_index_type)7, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("spatial_dims 0", in.spatial_dims, 0, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("spatial_dims 4", in.spatial_dims, 4, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("C 0", in.c, 0, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("H 0", in.spatial[0], 0, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("dtype int32", in.dtype, CLPOOL_INT32, CLPOOL_ERROR_UNSUPPORTED);
    CASE("dtype 99", in.dtype, (clpool_dtype)99, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("layout 5", in.layout, (clpool_layout)5, CLPOOL_ERROR_INVALID_ARGUMENT);
#undef CASE
    size_t wrong = 0;
    for (int i = 0; i < n; i++) {
        cap.count = 0;
        clpool_plan *plan = (clpool_plan *)&cap;
        clpool_status got = clpool_plan_adaptive(ctx, &cases[i].op, &cases[i].in, &plan);
        if (got != cases[i].want || plan != (clpool_plan *)&cap || cap.count != 1) {
            fprintf(stderr, "%s: got %s, want %s, %d log messages\n", cases[i].name,
                    clpool_status_string(got), clpool_status_string(cases[i].want), cap.count);
            wrong++;
            if (got == CLPOOL_SUCCESS && plan != (clpool_plan *)&cap)
                clpool_plan_destroy(plan);
        } else {
            printf("adaptive %s: %s (\"%s\")\n", cases[i].name, clpool_status_string(got),
                   cap.last);
        }
    }
    /* int32 indices of a plane over INT_MAX elements (planning fails before
     * anything is allocated) */
    {
        clpool_adaptive_desc d;
        memset(&d, 0, sizeof d);
        d.op = CLPOOL_OP_MAX;
        d.indices = CLPOOL_INDICES_INT32;
        clpool_tensor_desc big = make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, 65536, 65536, 0);
        cap.count = 0;
        clpool_plan *plan = (clpool_plan *)&cap;
        clpool_status got = clpool_plan_adaptive(ctx, &d, &big, &plan);
        if (got != CLPOOL_ERROR_INVALID_ARGUMENT || plan != (clpool_plan *)&cap || cap.count != 1)
            wrong++, fprintf(stderr, "int32 indices of 2^32: got %s\n", clpool_status_string(got));
        else
            printf("adaptive int32 indices of 2^32: %s (\"%s\")\n", clpool_status_string(got),
                   cap.last);
    }
    /* pyramids */
    struct {
        const char *name;
        int levels[CLPOOL_SPP_LEVELS_MAX];
        int count;
        clpool_op op;
        int dims;
        clpool_status want;
    } spp[] = {
        {"no levels", {1}, 0, CLPOOL_OP_MAX, 2, CLPOOL_ERROR_INVALID_ARGUMENT},
        {"9 levels", {1}, 9, CLPOOL_OP_MAX, 2, CLPOOL_ERROR_INVALID_ARGUMENT},
        {"level 0", {1, 0}, 2, CLPOOL_OP_MAX, 2, CLPOOL_ERROR_OUTPUT_TOO_SMALL},
        {"level -2", {-2}, 1, CLPOOL_OP_MAX, 2, CLPOOL_ERROR_OUTPUT_TOO_SMALL},
        {"level 65537", {65537}, 1, CLPOOL_OP_MAX, 2, CLPOOL_ERROR_INVALID_SHAPE},
        {"mode lp", {1}, 1, CLPOOL_OP_LP, 2, CLPOOL_ERROR_INVALID_ARGUMENT},
        {"1-D input", {1}, 1, CLPOOL_OP_MAX, 1, CLPOOL_ERROR_INVALID_SHAPE},
        {"3-D input", {1}, 1, CLPOOL_OP_AVG, 3, CLPOOL_ERROR_INVALID_SHAPE},
    };
    for (size_t i = 0; i < sizeof spp / sizeof spp[0]; i++) {
        clpool_spp_desc d;
        memset(&d, 0, sizeof d);
        d.op = spp[i].op;
        d.level_count = spp[i].count;
        memcpy(d.levels, spp[i].levels, sizeof d.levels);
        clpool_tensor_desc in =
            make_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, spp[i].dims, 1, 2, 8, 8, 8);
        cap.count = 0;
        clpool_plan *plan = (clpool_plan *)&cap;
        clpool_status got = clpool_plan_spp(ctx, &d, &in, &plan);
        if (got != spp[i].want || plan != (clpool_plan *)&cap || cap.count != 1) {
            fprintf(stderr, "spp %s: got %s, want %s, %d log messages\n", spp[i].name,
                    clpool_status_string(got), clpool_status_string(spp[i].want), cap.count);
            wrong++;
            if (got == CLPOOL_SUCCESS && plan != (clpool_plan *)&cap)
                clpool_plan_destroy(plan);
        } else {
            printf("spp %s: %s (\"%s\")\n", spp[i].name, clpool_status_string(got), cap.last);
        }
    }
    /* NULL arguments */
    clpool_adaptive_desc d;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_OP_AVG;
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_adaptive(ctx, NULL, &ok, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_adaptive(ctx, &d, NULL, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_adaptive(ctx, &d, &ok, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_spp(ctx, NULL, &ok, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_null(plan);
    clpool_context_destroy(ctx);
    ck_assert_msg(wrong == 0, "%zu invalid cases got the wrong answer", wrong);
}
END_TEST

/* float64 is refused with UNSUPPORTED on devices without cl_khr_fp64. */
START_TEST(test_float64_support)
{
    test_log cap = {0};
    clpool_context *ctx = test_context(&cap, 0, 0);
    clpool_adaptive_desc d;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_OP_AVG;
    clpool_tensor_desc in = make_tensor(CLPOOL_FLOAT64, CLPOOL_NCHW, 2, 1, 2, 5, 5, 0);
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_adaptive(ctx, &d, &in, &plan);
    if (test_has_fp64(ctx)) {
        ck_assert_int_eq(st, CLPOOL_SUCCESS);
        clpool_plan_destroy(plan);
    } else {
        ck_assert_int_eq(st, CLPOOL_ERROR_UNSUPPORTED);
        ck_assert_int_eq(cap.count, 1);
    }
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- small mode (oclgrind) ---------------------------------------------- */

START_TEST(test_small)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0x5a11};
    int budget = 20;
    size_t bad = 0;
    static const int levels[] = {1, 2, 3};
    for (int w = 0; w < 2; w++) {
        force_way(w == 0 ? "bins" : "tree");
        for (int layout = 0; layout < 2; layout++) {
            clpool_tensor_desc in =
                make_tensor(CLPOOL_FLOAT32, (clpool_layout)layout, 2, 1, 3, 5, 7, 0);
            adaptive_case max = adaptive(CLPOOL_OP_MAX, in, 3, 2, 0, CLPOOL_INDICES_INT64);
            adaptive_case avg = adaptive(CLPOOL_OP_AVG, in, 0, 9, 0, CLPOOL_INDICES_NONE);
            bad += run_filled(ctx, &max, &r, FILL_SPECIAL, "small", &budget);
            bad += run_filled(ctx, &avg, &r, FILL_UNIFORM, "small", &budget);
        }
        clpool_tensor_desc h = make_tensor(CLPOOL_FLOAT16, CLPOOL_NCHW, 1, 1, 2, 600, 0, 0);
        adaptive_case havg = adaptive(CLPOOL_OP_AVG, h, 0, 0, 0, CLPOOL_INDICES_NONE);
        bad += run_filled(ctx, &havg, &r, FILL_UNIFORM, "small", &budget);
        clpool_tensor_desc u = make_tensor(CLPOOL_UINT8, CLPOOL_NHWC, 3, 1, 2, 3, 4, 5);
        adaptive_case uavg = adaptive(CLPOOL_OP_AVG, u, 2, 1, 3, CLPOOL_INDICES_NONE);
        bad += run_filled(ctx, &uavg, &r, FILL_UNIFORM, "small", &budget);
    }
    force_way(NULL);
    for (int layout = 0; layout < 2; layout++) {
        clpool_tensor_desc in =
            make_tensor(CLPOOL_FLOAT32, (clpool_layout)layout, 2, 2, 3, 6, 5, 0);
        adaptive_case c = pyramid(CLPOOL_OP_MAX, in, levels, 3, CLPOOL_INDICES_INT32);
        bad += run_filled(ctx, &c, &r, FILL_SPECIAL, "small spp", &budget);
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

static Suite *adaptive_suite(void)
{
    Suite *s = suite_create("adaptive");
    if (test_small_mode()) {
        TCase *tc = tcase_create("small");
        tcase_set_timeout(tc, 3600);
        tcase_add_test(tc, test_small);
        suite_add_tcase(s, tc);
        return s;
    }
    TCase *tc = tcase_create("examples");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_worked_examples, 0, 3);
    suite_add_tcase(s, tc);

    tc = tcase_create("sweep");
    tcase_set_timeout(tc, 2400); /* cold program caches */
    tcase_add_loop_test(tc, test_sweep, 0, 3);
    tcase_add_test(tc, test_window_way);
    suite_add_tcase(s, tc);

    tc = tcase_create("planes");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_one_by_one);
    tcase_add_test(tc, test_big_planes);
    tcase_add_test(tc, test_batched_head);
    tcase_add_loop_test(tc, test_tree_group_sizes, 0, 5);
    tcase_add_test(tc, test_empty_batch);
    suite_add_tcase(s, tc);

    tc = tcase_create("spp");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_spp_named);
    tcase_add_loop_test(tc, test_spp_sweep, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_invalid);
    tcase_add_test(tc, test_float64_support);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(adaptive_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
