/*
 * Suite "window": window max and avg pooling against the spec's worked
 * examples and against the double-precision reference over a seeded random
 * sweep, plus the statuses of invalid configurations. CLPOOL_TEST_SMALL=1
 * keeps only a few tiny cases (for oclgrind).
 */
#include "harness.h"
#include "test_env.h"
#include "reference.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CLPOOL_TEST_ONLY_OP=max|avg restricts the examples and the small mode to
 * one operator (run_oclgrind.sh: oclgrind 21.10 computes min(intn, int)
 * wrongly, which the vector variants' avg divisors use). */
static int op_enabled(clpool_op kind)
{
    const char *s = getenv("CLPOOL_TEST_ONLY_OP");
    if (!s || !*s)
        return 1;
    return strcmp(s, kind == CLPOOL_OP_MAX ? "max" : "avg") == 0;
}

static size_t elements(const clpool_tensor_desc *t)
{
    size_t e = t->n * t->c;
    for (int j = 0; j < t->spatial_dims; j++)
        e *= t->spatial[j];
    return e;
}

/* ------------------------------------------------------------------------ */
/* The spec's worked examples, literally.                                   */

typedef struct example {
    const char *name;
    clpool_window_desc op;
    clpool_tensor_desc in;
    float x[36];
    size_t out_elems;
    double y[8];
    int64_t idx[8]; /* max only */
} example;

#define NINF (-INFINITY)

/* A window op with the same kernel, stride, padding and dilation in every
 * spatial dim. */
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

static example *add_example(example *ex, size_t *n, const char *name, clpool_window_desc op,
                            clpool_tensor_desc in, const float *x, size_t out_elems,
                            const double *y, const int64_t *idx)
{
    example *e = &ex[(*n)++];
    memset(e, 0, sizeof *e);
    e->name = name;
    e->op = op;
    e->in = in;
    memcpy(e->x, x, elements(&in) * sizeof *x);
    e->out_elems = out_elems;
    memcpy(e->y, y, out_elems * sizeof *y);
    if (idx)
        memcpy(e->idx, idx, out_elems * sizeof *idx);
    return e;
}

static const example *examples(size_t *count)
{
    static example ex[16];
    static size_t n;
    if (n) {
        *count = n;
        return ex;
    }
    const clpool_op MAX = CLPOOL_OP_MAX, AVG = CLPOOL_OP_AVG;
    /* §1.1 max_pool1d x=[0,1,2,3,4], k=2, s=2: floor, ceil, ceil with p=1 */
    const float x5[] = {0, 1, 2, 3, 4};
    add_example(ex, &n, "§1.1 max1d floor", win(MAX, 2, 2, 0, 0, 0), tensor(1, 1, 1, 5, 0, 0), x5,
                2, (double[]){1, 3}, (int64_t[]){1, 3});
    add_example(ex, &n, "§1.1 max1d ceil", win(MAX, 2, 2, 0, 0, 1), tensor(1, 1, 1, 5, 0, 0), x5, 3,
                (double[]){1, 3, 4}, (int64_t[]){1, 3, 4});
    add_example(ex, &n, "§1.1 max1d ceil p=1", win(MAX, 2, 2, 1, 0, 1), tensor(1, 1, 1, 5, 0, 0),
                x5, 3, (double[]){0, 2, 4}, (int64_t[]){0, 2, 4});
    /* §2 2-d, dilation, ties, NaN (the last NaN's index), all -inf */
    add_example(ex, &n, "§2 max2d", win(MAX, 2, 0, 0, 0, 0), tensor(2, 1, 1, 4, 4, 0),
                (float[]){1, 5, 2, 0, 3, 4, 8, 1, 0, 2, 7, 6, 9, 1, 3, 3}, 4,
                (double[]){5, 8, 9, 7}, (int64_t[]){1, 6, 12, 10});
    add_example(ex, &n, "§2 dilation", win(MAX, 3, 1, 0, 2, 0), tensor(1, 1, 1, 7, 0, 0),
                (float[]){0, 1, 2, 3, 4, 5, 6}, 3, (double[]){4, 5, 6}, (int64_t[]){4, 5, 6});
    add_example(ex, &n, "§2 ties", win(MAX, 4, 0, 0, 0, 0), tensor(1, 1, 1, 4, 0, 0),
                (float[]){1, 3, 3, 2}, 1, (double[]){3}, (int64_t[]){1});
    add_example(ex, &n, "§2 NaN", win(MAX, 6, 0, 0, 0, 0), tensor(1, 1, 1, 6, 0, 0),
                (float[]){1, NAN, 3, NAN, 2, 2}, 1, (double[]){NAN}, (int64_t[]){3});
    add_example(ex, &n, "§2 all -inf", win(MAX, 2, 0, 1, 0, 0), tensor(2, 1, 1, 3, 3, 0),
                (float[]){NINF, NINF, NINF, NINF, NINF, NINF, NINF, NINF, NINF}, 4,
                (double[]){NINF, NINF, NINF, NINF}, (int64_t[]){0, 1, 3, 4});
    /* §1.3 a dilated window with no element inside: -inf, index -1 (§0.2) */
    add_example(ex, &n, "§1.3 empty dilated window", win(MAX, 2, 0, 1, 5, 0),
                tensor(1, 1, 1, 4, 0, 0), (float[]){1, 2, 3, 4}, 1, (double[]){NINF},
                (int64_t[]){-1});
    /* §3 avg x=[1..5], k=3, s=2, p=1, ceil: include / exclude padding */
    const float x15[] = {1, 2, 3, 4, 5};
    add_example(ex, &n, "§3 avg cip=1", win(AVG, 3, 2, 1, 0, 1), tensor(1, 1, 1, 5, 0, 0), x15, 3,
                (double[]){1, 3, 3}, NULL);
    example *e = add_example(ex, &n, "§3 avg cip=0", win(AVG, 3, 2, 1, 0, 1),
                             tensor(1, 1, 1, 5, 0, 0), x15, 3, (double[]){1.5, 3, 4.5}, NULL);
    e->op.exclude_padding = 1;
    /* §3 ones(6), k=3, s=2, p=1, ceil, cip: the last divisor is 2 */
    const float ones[36] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                            1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    add_example(ex, &n, "§3 avg ones(6)", win(AVG, 3, 2, 1, 0, 1), tensor(1, 1, 1, 6, 0, 0), ones,
                4, (double[]){2.0 / 3.0, 1, 1, 0.5}, NULL);
    /* §3 ones(6x6), k=4, s=3, ceil, divisor_override=3 divides the clipped sum */
    e = add_example(ex, &n, "§3 avg divisor_override", win(AVG, 4, 3, 0, 0, 1),
                    tensor(2, 1, 1, 6, 6, 0), ones, 4, (double[]){16.0 / 3.0, 4, 4, 3}, NULL);
    e->op.divisor_override = 3;
    *count = n;
    return ex;
}

static int same_value(double want, float got, int exact)
{
    if (isnan(want))
        return isnan(got);
    if (exact || isinf(want))
        return (double)got == want;
    return fabs((double)got - want) <= 1e-6 * fabs(want);
}

/* The reference itself reproduces every literal example (no OpenCL). */
START_TEST(test_reference_examples)
{
    size_t count;
    const example *ex = examples(&count);
    for (size_t i = 0; i < count; i++) {
        const example *e = &ex[i];
        clpool_tensor_desc out;
        ck_assert_int_eq(ref_window_check(&e->op, &e->in, &out), CLPOOL_SUCCESS);
        ck_assert_uint_eq(elements(&out), e->out_elems);
        double y[8];
        int64_t idx[8];
        ref_window_run(&e->op, &e->in, e->x, y, idx, NULL);
        for (size_t j = 0; j < e->out_elems; j++) {
            ck_assert_msg(same_value(e->y[j], (float)y[j], 0), "%s: y[%zu] = %g, want %g", e->name,
                          j, y[j], e->y[j]);
            if (e->op.op == CLPOOL_OP_MAX)
                ck_assert_msg(idx[j] == e->idx[j], "%s: idx[%zu] = %lld, want %lld", e->name, j,
                              (long long)idx[j], (long long)e->idx[j]);
        }
    }
}
END_TEST

/* Output sizes of §1.1 and the ceil-mode rule, in the reference. */
START_TEST(test_reference_output_size)
{
    ck_assert_int_eq(ref_output_size(5, 2, 2, 0, 1, 0), 2);
    ck_assert_int_eq(ref_output_size(5, 2, 2, 0, 1, 1), 3);
    ck_assert_int_eq(ref_output_size(5, 2, 2, 1, 1, 1), 3); /* 4 without the rule */
    ck_assert_int_eq(ref_output_size(4, 2, 2, 1, 5, 0), 1);
    ck_assert_int_eq(ref_output_size(2, 3, 3, 0, 1, 0), 0);
    ck_assert_int_eq(ref_floor_div(-1, 2), -1);
    ck_assert_int_eq(ref_floor_div(-4, 2), -2);
    ck_assert_int_eq(ref_floor_div(3, 2), 1);
}
END_TEST

/* Runs example @p i through the library with every index type and both
 * run paths and checks the literal values. */
START_TEST(test_examples)
{
    size_t count;
    const example *ex = examples(&count);
    const example *e = &ex[_i];
    if (!op_enabled(e->op.op))
        return;
    clpool_context *ctx = test_context(NULL, 0, 0);
    static const clpool_index_type types[] = {CLPOOL_INDICES_INT64, CLPOOL_INDICES_INT32,
                                              CLPOOL_INDICES_NONE};
    int ntypes = e->op.op == CLPOOL_OP_MAX ? 3 : 1;
    for (int t = 0; t < ntypes; t++) {
        clpool_window_desc op = e->op;
        op.indices = e->op.op == CLPOOL_OP_MAX ? types[t] : CLPOOL_INDICES_NONE;
        clpool_plan *plan = NULL;
        clpool_status st = clpool_plan_window(ctx, &op, &e->in, &plan);
        ck_assert_msg(st == CLPOOL_SUCCESS, "%s: plan: %s", e->name, clpool_status_string(st));
        clpool_tensor_desc out;
        ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
        ck_assert_uint_eq(elements(&out), e->out_elems);
        for (int path = 0; path < 2; path++) {
            float y[8];
            int64_t idx64[8];
            void *idx = op.indices ? (void *)idx64 : NULL;
            poison_floats(y, 8);
            poison_indices(idx64, CLPOOL_INDICES_INT64, 8);
            if (path == 0) {
                st = clpool_run_host(plan, NULL, e->x, y, idx);
            } else {
                size_t offsets[3] = {3, 5, 7}, guard = 0;
                st = run_enqueue(plan, clpool_context_cl_context(ctx), clpool_context_cl_queue(ctx),
                                 e->x, elements(&e->in), y, e->out_elems, idx, op.indices, offsets,
                                 &guard);
                ck_assert_msg(guard == 0, "%s: %zu guard bytes changed", e->name, guard);
            }
            ck_assert_msg(st == CLPOOL_SUCCESS, "%s: run: %s", e->name, clpool_status_string(st));
            for (size_t j = 0; j < e->out_elems; j++) {
                ck_assert_msg(same_value(e->y[j], y[j], op.op == CLPOOL_OP_MAX),
                              "%s idx=%d path=%d: y[%zu] = %.9g, want %.9g", e->name, op.indices,
                              path, j, y[j], e->y[j]);
                if (!op.indices)
                    continue;
                int64_t got = op.indices == CLPOOL_INDICES_INT32 ? ((int32_t *)idx64)[j] : idx64[j];
                ck_assert_msg(got == e->idx[j], "%s idx=%d path=%d: idx[%zu] = %lld, want %lld",
                              e->name, op.indices, path, j, (long long)got, (long long)e->idx[j]);
            }
        }
        clpool_plan_destroy(plan);
    }
    clpool_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The random differential sweep.                                           */

/* One window parameter set (one program) and how its shapes are drawn. */
typedef struct param_set {
    clpool_window_desc op;
    int dims;
    int global; /* window = the whole plane: shapes are the kernel */
} param_set;

typedef struct sweep_stats {
    size_t configs, skipped, param_sets, bad_configs, bad_elements, enqueued;
    int budget; /* failure lines still to print */
} sweep_stats;

static void gen_params(test_rng *r, int dims, clpool_op kind, param_set *ps)
{
    memset(ps, 0, sizeof *ps);
    ps->dims = dims;
    clpool_window_desc *op = &ps->op;
    op->op = kind;
    int dilated = kind == CLPOOL_OP_MAX && rng_below(r, 3) == 0;
    for (int j = 0; j < dims; j++) {
        int k = rng_range(r, 1, 7);
        int d =
            dilated && rng_below(r, 2) ? rng_range(r, 2, 3) : (int)rng_below(r, 2); /* 0: dflt */
        int deff = d ? d : 1;
        int bound = ((k - 1) * deff + 1) / 2;
        int p = rng_below(r, 3) == 0 ? 0 : rng_below(r, 2) ? bound : rng_range(r, 0, bound);
        op->kernel[j] = k;
        op->dilation[j] = d;
        op->padding[j] = p;
        op->stride[j] = rng_below(r, 4) == 0 ? 0 : rng_range(r, 1, 4);
    }
    op->ceil_mode = (int)rng_below(r, 2);
    if (kind == CLPOOL_OP_MAX) {
        op->indices = (clpool_index_type)rng_below(r, 3);
    } else {
        op->exclude_padding = (int)rng_below(r, 2);
        if (rng_below(r, 4) == 0) {
            int div = rng_range(r, -7, 25);
            op->divisor_override = div ? div : 1;
        }
    }
}

/* A global parameter set: the window is the whole plane @p shape. */
static void gen_global(test_rng *r, int dims, clpool_op kind, const int *shape, param_set *ps)
{
    memset(ps, 0, sizeof *ps);
    ps->dims = dims;
    ps->global = 1;
    ps->op.op = kind;
    for (int j = 0; j < dims; j++)
        ps->op.kernel[j] = shape[j];
    if (kind == CLPOOL_OP_MAX)
        ps->op.indices = (clpool_index_type)rng_below(r, 3);
    else if (rng_below(r, 3) == 0)
        ps->op.divisor_override = rng_range(r, -9, 40) | 1;
    ps->op.ceil_mode = (int)rng_below(r, 2);
}

/* Shape @p variant of a parameter set: 0 the smallest valid plane, 1 small,
 * 2 wide (W > 64), 3 tall, 4 medium odd; @p small caps every size. */
static void gen_shape(test_rng *r, const param_set *ps, int variant, int small,
                      clpool_tensor_desc *in)
{
    int dims = ps->dims;
    size_t s[3] = {1, 1, 1};
    size_t max_planes = 40;
    for (int j = 0; j < dims; j++) {
        int last = j == dims - 1, first = j == 0;
        int lo = 1, hi = 12;
        switch (small ? (variant == 2 ? 2 : 1) : variant) {
        case 0:
            lo = hi = 1;
            break;
        case 1:
            lo = 1, hi = 12;
            break;
        case 2:
            if (last)
                lo = small ? 24 : 65, hi = small ? 40 : 140;
            else
                lo = 1, hi = dims == 3 ? 3 : 6;
            max_planes = small ? 3 : 8;
            break;
        case 3:
            if (dims == 1)
                lo = 300, hi = 1100;
            else if (first && dims == 2)
                lo = 257, hi = 300;
            else if (dims == 3 && j == 1)
                lo = 40, hi = 70;
            else
                lo = 1, hi = 6;
            max_planes = 6;
            break;
        default:
            lo = 13, hi = dims == 3 ? 20 : 40;
            max_planes = dims == 3 ? 6 : 12;
            break;
        }
        if (small && hi > 40)
            hi = 40;
        s[j] = (size_t)rng_range(r, lo, hi);
        if (ps->global) {
            s[j] = (size_t)ps->op.kernel[j];
        } else {
            /* The smallest extent whose output has at least one element. */
            long d = ps->op.dilation[j] ? ps->op.dilation[j] : 1;
            long need = (ps->op.kernel[j] - 1) * d + 1 - 2L * ps->op.padding[j];
            if ((long)s[j] < need)
                s[j] = (size_t)need;
        }
    }
    if (small)
        max_planes = variant == 2 ? 2 : 4;
    size_t n = (size_t)rng_range(r, 1, 3);
    size_t c = 1 + rng_below(r, (uint32_t)(max_planes / n > 1 ? max_planes / n : 1));
    if (variant == 0 && !small)
        n = 1, c = 1;
    *in = tensor(dims, n, c, s[0], s[1], s[2]);
}

static value_mode pick_mode(test_rng *r, clpool_op kind, int i)
{
    if (kind == CLPOOL_OP_MAX)
        return (value_mode)((i + rng_below(r, 2)) % VALUES_COUNT);
    static const value_mode avg_modes[] = {VALUES_UNIFORM, VALUES_TIES,    VALUES_UNIFORM,
                                           VALUES_SPECIAL, VALUES_UNIFORM, VALUES_NEG_INF};
    return avg_modes[(i + rng_below(r, 6)) % 6];
}

/* The result of one run of one configuration. */
typedef struct run_result {
    float *y;
    void *idx;
} run_result;

static clpool_status run_one(clpool_context *ctx, clpool_plan *plan, const clpool_window_desc *op,
                             const float *x, size_t in_elems, size_t out_elems, int use_enqueue,
                             test_rng *r, run_result *res, size_t *guard)
{
    size_t isz = index_size(op->indices);
    res->y = malloc((out_elems ? out_elems : 1) * sizeof(float));
    res->idx = isz ? malloc((out_elems ? out_elems : 1) * isz) : NULL;
    ck_assert_ptr_nonnull(res->y);
    poison_floats(res->y, out_elems);
    if (isz)
        poison_indices(res->idx, op->indices, out_elems);
    *guard = 0;
    if (!use_enqueue)
        return clpool_run_host(plan, NULL, x, res->y, res->idx);
    size_t offsets[3] = {rng_below(r, 40), rng_below(r, 40), rng_below(r, 40)};
    return run_enqueue(plan, clpool_context_cl_context(ctx), clpool_context_cl_queue(ctx), x,
                       in_elems, res->y, out_elems, res->idx, op->indices, offsets, guard);
}

static void free_result(run_result *res)
{
    free(res->y);
    free(res->idx);
    res->y = NULL;
    res->idx = NULL;
}

/*
 * Runs every shape of @p ps in context @p a (default options) and @p b
 * (work_group_size 8, at most 3 planes a launch): both against the
 * reference, and bitwise against each other.
 */
static void sweep_param_set(clpool_context *a, clpool_context *b, const param_set *ps, int shapes,
                            int small, test_rng *r, sweep_stats *st)
{
    char desc[512];
    st->param_sets++;
    for (int v = 0; v < shapes; v++) {
        clpool_tensor_desc in;
        gen_shape(r, ps, v, small, &in);
        clpool_tensor_desc want_out;
        if (ref_window_check(&ps->op, &in, &want_out) != CLPOOL_SUCCESS) {
            st->skipped++; /* invalid per spec: not counted here */
            continue;
        }
        size_t in_elems = elements(&in), out_elems = elements(&want_out);
        float *x = malloc(in_elems * sizeof *x);
        ck_assert_ptr_nonnull(x);
        value_mode mode = pick_mode(r, ps->op.op, v + (int)st->configs);
        fill_values(r, x, in_elems, mode);
        window_ref ref;
        ck_assert_int_eq(window_ref_compute(&ref, &ps->op, &in, x), 0);
        describe_case(desc, sizeof desc, &ps->op, &in);
        st->configs++;

        run_result res[2] = {{0}};
        size_t bad = 0;
        clpool_context *ctxs[2] = {a, b};
        for (int which = 0; which < 2; which++) {
            clpool_plan *plan = NULL;
            clpool_status s = clpool_plan_window(ctxs[which], &ps->op, &in, &plan);
            if (s != CLPOOL_SUCCESS) {
                fprintf(stderr, "ctx%c %s: plan failed: %s\n", 'A' + which, desc,
                        clpool_status_string(s));
                bad++;
                continue;
            }
            clpool_tensor_desc out;
            if (clpool_plan_output_desc(plan, &out) != CLPOOL_SUCCESS ||
                memcmp(out.spatial, want_out.spatial, sizeof out.spatial) != 0 ||
                out.n != want_out.n || out.c != want_out.c ||
                out.spatial_dims != want_out.spatial_dims) {
                fprintf(stderr, "ctx%c %s: output shape %zux%zux%zu, want %zux%zux%zu\n",
                        'A' + which, desc, out.spatial[0], out.spatial[1], out.spatial[2],
                        want_out.spatial[0], want_out.spatial[1], want_out.spatial[2]);
                bad++;
            }
            size_t planes = in.n * in.c;
            size_t launches = clpool_plan_launch_count(plan);
            if (which == 1 && launches < (planes + 2) / 3) {
                fprintf(stderr, "ctxB %s: %zu launches for %zu planes at 3 planes a launch\n", desc,
                        launches, planes);
                bad++;
            }
            /* Mostly the host call; every fourth configuration (alternating
             * between the contexts) through enqueue on caller buffers. */
            int use_enqueue = (st->configs % 4) == (size_t)(which ? 2 : 0);
            size_t guard = 0;
            s = run_one(ctxs[which], plan, &ps->op, x, in_elems, out_elems, use_enqueue, r,
                        &res[which], &guard);
            st->enqueued += use_enqueue;
            clpool_plan_destroy(plan);
            if (s != CLPOOL_SUCCESS) {
                fprintf(stderr, "ctx%c %s: run (%s) failed: %s\n", 'A' + which, desc,
                        use_enqueue ? "enqueue" : "host", clpool_status_string(s));
                bad++;
                free_result(&res[which]);
                continue;
            }
            if (guard) {
                fprintf(stderr, "ctx%c %s: enqueue changed %zu bytes outside the tensors\n",
                        'A' + which, desc, guard);
                bad++;
            }
            char label[64];
            snprintf(label, sizeof label, "ctx%c(%s,%s)", 'A' + which,
                     use_enqueue ? "enqueue" : "host", value_mode_name(mode));
            size_t e = window_compare(&ref, &ps->op, &in, res[which].y, res[which].idx, label,
                                      &st->budget);
            st->bad_elements += e;
            bad += e;
        }
        if (res[0].y && res[1].y) {
            size_t e = window_compare_bitwise(&ref, &ps->op, &in, res[0].y, res[0].idx, res[1].y,
                                              res[1].idx, "ctxA vs ctxB", &st->budget);
            st->bad_elements += e;
            bad += e;
        }
        st->bad_configs += bad != 0;
        free_result(&res[0]);
        free_result(&res[1]);
        window_ref_free(&ref);
        free(x);
    }
}

static void sweep_report(const char *name, const sweep_stats *st)
{
    printf("%s: %zu configurations (%zu through enqueue) from %zu parameter sets, %zu skipped "
           "as invalid, %zu failing configurations, %zu bad elements\n",
           name, st->configs, st->enqueued, st->param_sets, st->skipped, st->bad_configs,
           st->bad_elements);
    fflush(stdout);
    ck_assert_msg(st->bad_configs == 0, "%s: %zu of %zu configurations failed (%zu elements)", name,
                  st->bad_configs, st->configs, st->bad_elements);
}

typedef struct sweep_plan {
    const char *name;
    uint64_t seed;
    int dims;
    clpool_op kind;
    int sets;
} sweep_plan;

/* 94 parameter sets x 5 shapes, plus the global sets below: ~550
 * configurations and ~200 programs. */
static const sweep_plan sweeps[] = {
    {"2d max", 0x2d11, 2, CLPOOL_OP_MAX, 38}, {"2d avg", 0x2da7, 2, CLPOOL_OP_AVG, 30},
    {"1d max", 0x1d11, 1, CLPOOL_OP_MAX, 8},  {"1d avg", 0x1da7, 1, CLPOOL_OP_AVG, 6},
    {"3d max", 0x3d11, 3, CLPOOL_OP_MAX, 6},  {"3d avg", 0x3da7, 3, CLPOOL_OP_AVG, 6},
};
#define SHAPES_PER_SET 5

START_TEST(test_sweep)
{
    const sweep_plan *sp = &sweeps[_i];
    clpool_context *a = test_context(NULL, 0, 0);
    clpool_context *b = test_context(NULL, 8, 3);
    test_rng r = {sp->seed};
    sweep_stats st = {.budget = 40};
    for (int i = 0; i < test_scaled(sp->sets); i++) {
        param_set ps;
        gen_params(&r, sp->dims, sp->kind, &ps);
        sweep_param_set(a, b, &ps, SHAPES_PER_SET, 0, &r, &st);
    }
    clpool_context_destroy(b);
    clpool_context_destroy(a);
    sweep_report(sp->name, &st);
}
END_TEST

/* Windows covering the whole plane (the global-reduction variant), for
 * several plane counts each. */
START_TEST(test_sweep_global)
{
    static const int shapes[][4] = {
        /* dims, s0, s1, s2 */
        {2, 7, 7, 0},   {2, 24, 24, 0}, {2, 9, 33, 0},  {2, 56, 56, 0}, {2, 1, 100, 0},
        {2, 64, 3, 0},  {2, 13, 64, 0}, {2, 30, 40, 0}, {2, 1, 1, 0},   {1, 100, 0, 0},
        {1, 257, 0, 0}, {3, 4, 5, 6},   {3, 2, 9, 17},
    };
    clpool_context *a = test_context(NULL, 0, 0);
    clpool_context *b = test_context(NULL, 8, 3);
    test_rng r = {0x610ba1};
    sweep_stats st = {.budget = 40};
    size_t count = (size_t)test_scaled((int)(sizeof shapes / sizeof shapes[0]));
    for (size_t i = 0; i < count; i++) {
        for (int kind = CLPOOL_OP_MAX; kind <= CLPOOL_OP_AVG; kind++) {
            param_set ps;
            gen_global(&r, shapes[i][0], (clpool_op)kind, &shapes[i][1], &ps);
            sweep_param_set(a, b, &ps, 3, 0, &r, &st);
        }
    }
    clpool_context_destroy(b);
    clpool_context_destroy(a);
    sweep_report("global", &st);
}
END_TEST

/* CLPOOL_TEST_SMALL: ~24 tiny configurations over every dims, op and
 * kernel variant (short and long rows, whole-plane windows). */
START_TEST(test_small)
{
    clpool_context *a = test_context(NULL, 0, 0);
    clpool_context *b = test_context(NULL, 8, 3);
    test_rng r = {0x5a11};
    sweep_stats st = {.budget = 40};
    static const int dims_of[] = {2, 2, 1, 3};
    for (int i = 0; i < 16; i++) {
        param_set ps;
        gen_params(&r, dims_of[i % 4], i % 2 ? CLPOOL_OP_AVG : CLPOOL_OP_MAX, &ps);
        if (!op_enabled(ps.op.op))
            continue;
        for (int j = 0; j < ps.dims; j++)
            if (ps.op.kernel[j] > 4)
                ps.op.kernel[j] -= 3, ps.op.padding[j] = 0;
        sweep_param_set(a, b, &ps, i < 8 ? 2 : 1, 1, &r, &st);
    }
    static const int global_shapes[][4] = {
        {2, 5, 7, 0}, {2, 3, 24, 0}, {1, 30, 0, 0}, {3, 2, 3, 9}};
    for (int i = 0; i < 4; i++) {
        param_set ps;
        gen_global(&r, global_shapes[i][0], i % 2 ? CLPOOL_OP_AVG : CLPOOL_OP_MAX,
                   &global_shapes[i][1], &ps);
        if (!op_enabled(ps.op.op))
            continue;
        sweep_param_set(a, b, &ps, 1, 1, &r, &st);
    }
    clpool_context_destroy(b);
    clpool_context_destroy(a);
    sweep_report("small", &st);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Invalid configurations get their specific status.                        */

/* Makes one fault in a valid configuration; returns the status it must
 * produce, or SUCCESS when this fault cannot be made here. */
static clpool_status inject_fault(test_rng *r, int fault, clpool_window_desc *op,
                                  clpool_tensor_desc *in)
{
    int j = rng_below(r, (uint32_t)in->spatial_dims);
    long d = op->dilation[j] ? op->dilation[j] : 1;
    switch (fault) {
    case 0:
        op->kernel[j] = -(int)rng_below(r, 3);
        return CLPOOL_ERROR_INVALID_KERNEL;
    case 1:
        op->stride[j] = -rng_range(r, 1, 3);
        return CLPOOL_ERROR_INVALID_STRIDE;
    case 2:
        op->padding[j] = -rng_range(r, 1, 2);
        return CLPOOL_ERROR_INVALID_PADDING;
    case 3:
        op->padding[j] = (int)(((op->kernel[j] - 1) * d + 1) / 2) + rng_range(r, 1, 3);
        return CLPOOL_ERROR_INVALID_PADDING;
    case 4:
        op->dilation[j] = -rng_range(r, 1, 2);
        return CLPOOL_ERROR_INVALID_DILATION;
    case 5:
        if (op->op != CLPOOL_OP_AVG)
            return CLPOOL_SUCCESS;
        op->dilation[j] = rng_range(r, 2, 3);
        op->padding[j] = 0;
        return CLPOOL_ERROR_INVALID_DILATION;
    case 6: {
        /* Shrink the input below the (padded) dilated window. */
        long need = (op->kernel[j] - 1) * d + 1 - 2L * op->padding[j];
        if (need <= 1)
            return CLPOOL_SUCCESS;
        in->spatial[j] = (size_t)rng_range(r, 1, (int)need - 1);
        op->ceil_mode = 0; /* a ceil-mode partial window could still fit */
        return CLPOOL_ERROR_OUTPUT_TOO_SMALL;
    }
    case 7:
        in->spatial[j] = 0;
        return CLPOOL_ERROR_INVALID_SHAPE;
    case 8:
        in->c = 0;
        return CLPOOL_ERROR_INVALID_SHAPE;
    case 9:
        in->spatial_dims = rng_below(r, 2) ? 0 : 4;
        return CLPOOL_ERROR_INVALID_SHAPE;
    case 10:
        op->op = (clpool_op)(rng_below(r, 2) ? 0 : 8); /* 1..7 are operators */
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    case 11:
        if (op->op != CLPOOL_OP_MAX)
            return CLPOOL_SUCCESS;
        op->indices = (clpool_index_type)rng_range(r, 3, 9);
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    case 12:
        /* Only max returns indices; only avg takes a divisor. */
        if (op->op == CLPOOL_OP_AVG) {
            op->indices = rng_below(r, 2) ? CLPOOL_INDICES_INT32 : CLPOOL_INDICES_INT64;
            return CLPOOL_ERROR_INVALID_ARGUMENT;
        }
        op->divisor_override = rng_below(r, 2) ? rng_range(r, 1, 9) : -rng_range(r, 1, 9);
        return CLPOOL_ERROR_INVALID_DIVISOR;
    default:
        return CLPOOL_SUCCESS;
    }
}

START_TEST(test_invalid_statuses)
{
    test_log cap = {0};
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = test_log_errors;
    o.log_user = &cap;
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    test_rng r = {0xbad};
    size_t tested = 0, wrong = 0;
    char desc[512];
    for (int i = 0; i < 600; i++) {
        param_set ps;
        int dims = 1 + (int)rng_below(&r, 3);
        gen_params(&r, dims, i % 2 ? CLPOOL_OP_AVG : CLPOOL_OP_MAX, &ps);
        clpool_tensor_desc in;
        gen_shape(&r, &ps, 1, 1, &in);
        int fault = (int)rng_below(&r, 13);
        clpool_status want = inject_fault(&r, fault, &ps.op, &in);
        if (want == CLPOOL_SUCCESS)
            continue;
        ck_assert_int_eq(ref_window_check(&ps.op, &in, NULL), want);
        tested++;
        cap.count = 0;
        clpool_plan *plan = (clpool_plan *)&cap; /* must stay untouched */
        clpool_status got = clpool_plan_window(ctx, &ps.op, &in, &plan);
        describe_case(desc, sizeof desc, &ps.op, &in);
        if (got != want || plan != (clpool_plan *)&cap || cap.count != 1) {
            if (wrong++ < 20)
                fprintf(stderr, "fault %d: %s (dims=%d): got %s, want %s, %d log messages%s\n",
                        fault, desc, in.spatial_dims, clpool_status_string(got),
                        clpool_status_string(want), cap.count,
                        plan != (clpool_plan *)&cap ? ", plan written" : "");
            if (got == CLPOOL_SUCCESS && plan != (clpool_plan *)&cap)
                clpool_plan_destroy(plan);
        }
    }
    clpool_context_destroy(ctx);
    printf("invalid: %zu single-fault configurations, %zu wrong\n", tested, wrong);
    ck_assert_msg(wrong == 0, "%zu of %zu invalid configurations got the wrong status", wrong,
                  tested);
}
END_TEST

static Suite *window_suite(void)
{
    Suite *s = suite_create("window");
    size_t nex;
    examples(&nex);

    TCase *tc = tcase_create("reference");
    tcase_add_test(tc, test_reference_examples);
    tcase_add_test(tc, test_reference_output_size);
    suite_add_tcase(s, tc);

    tc = tcase_create("examples");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_examples, 0, (int)nex);
    suite_add_tcase(s, tc);

    if (test_small_mode()) {
        tc = tcase_create("small");
        tcase_set_timeout(tc, 3600);
        tcase_add_test(tc, test_small);
        suite_add_tcase(s, tc);
    } else {
        tc = tcase_create("sweep");
        tcase_set_timeout(tc, 1800); /* cold program caches */
        tcase_add_loop_test(tc, test_sweep, 0, (int)(sizeof sweeps / sizeof sweeps[0]));
        tcase_add_test(tc, test_sweep_global);
        suite_add_tcase(s, tc);

        tc = tcase_create("invalid");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_invalid_statuses);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(window_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
