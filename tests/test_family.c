/*
 * Suite "family": the window pooling family (max, avg, lp, gem, mixed,
 * softmax, stochastic) in 1-D/2-D/3-D, NCHW and NHWC, every dtype, against
 * the double reference (reference_ops.c): seeded random sweeps that reuse
 * each compiled program over many shapes, NCHW against NHWC on the same
 * data, float16/bfloat16 rounding and range, float64 support, and the
 * statuses of invalid parameters. The reference's own checks and the spec's
 * examples are in test_family_reference.c, the stochastic draws in
 * test_family_stochastic.c. CLPOOL_TEST_SCALE=P runs P% of the sweeps;
 * CLPOOL_TEST_SMALL=1 keeps a few tiny cases (for oclgrind).
 */
#include "family_gen.h"
#include "family_suite.h"
#include "storage.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Shared helpers (family_suite.h).                                         */

clpool_window_desc family_win(clpool_op kind, int k, int s, int p, int d, int ceil_mode)
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

clpool_tensor_desc family_tensor(clpool_dtype dtype, clpool_layout layout, int dims, size_t n,
                                 size_t c, size_t s0, size_t s1, size_t s2)
{
    clpool_tensor_desc t = tensor(dims, n, c, s0, s1, s2);
    t.dtype = dtype;
    t.layout = layout;
    return t;
}

int family_device_has_fp64(void)
{
    static int known = -1;
    if (known < 0) {
        clpool_context *ctx = test_context(NULL, 0, 0);
        clpool_device_info info;
        ck_assert_int_eq(clpool_context_device_info(ctx, &info), CLPOOL_SUCCESS);
        known = info.has_fp64;
        clpool_context_destroy(ctx);
    }
    return known;
}

static const char *op_label(clpool_op kind)
{
    static const char *names[] = {"?", "max", "avg", "lp", "gem", "mixed", "softmax", "stochastic"};
    return kind >= CLPOOL_OP_MAX && kind <= CLPOOL_OP_STOCHASTIC ? names[kind] : "?";
}

/* Results that must not depend on the work-group size or batch split: a
 * selected input value (max, training stochastic) or an integer. The sums
 * of the other operators may be ordered differently; they are held to the
 * reference's band only. */
static int exact_op(const clpool_window_desc *op, clpool_dtype dtype)
{
    return op->op == CLPOOL_OP_MAX || (op->op == CLPOOL_OP_STOCHASTIC && op->train) ||
           !storage_is_float(dtype);
}

/* ------------------------------------------------------------------------ */
/* The random differential sweep.                                           */

typedef struct sweep_stats {
    size_t configs, skipped, sets, bad_configs, bad_elements, enqueued, unequal, compared;
    int budget; /* failure lines still to print */
} sweep_stats;

/*
 * Every shape of set @p fs in context @p a (the device's choices) and @p b
 * (work-groups of 8, 3 planes a launch): both against the reference, and
 * bitwise against each other where the result is a selection or integer.
 * The per-run kernel arguments (p, seed) change from shape to shape.
 */
static void sweep_set(clpool_context *a, clpool_context *b, const family_set *fs, int shapes,
                      int small, const char *tune, test_rng *r, sweep_stats *st)
{
    st->sets++;
    for (int v = 0; v < shapes; v++) {
        family_case c;
        memset(&c, 0, sizeof c);
        c.op = fs->op;
        if (v > 0)
            family_gen_run_params(r, &c.op);
        family_gen_shape(r, fs, v, small, &c.in);
        clpool_tensor_desc out;
        if (ref_window_check(&c.op, &c.in, &out) != CLPOOL_SUCCESS) {
            st->skipped++;
            continue;
        }
        family_fill(r, &c, family_pick_values(r, &c.op, c.in.dtype, v + (int)st->configs));
        ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
        st->configs++;
        family_result res[2];
        memset(res, 0, sizeof res);
        size_t bad = 0;
        clpool_context *ctxs[2] = {a, b};
        for (int which = 0; which < 2; which++) {
            /* Mostly the host call; every fourth configuration (alternating
             * between the contexts) through enqueue on caller buffers. */
            int use_enqueue = (st->configs % 4) == (size_t)(which ? 2 : 0);
            char label[128];
            snprintf(label, sizeof label, "ctx%c(%s%s)", 'A' + which,
                     use_enqueue ? "enqueue" : "host", tune);
            clpool_status s =
                family_run(ctxs[which], &c, use_enqueue, which, r, &res[which], label);
            st->enqueued += use_enqueue;
            if (s != CLPOOL_SUCCESS) {
                bad++;
                family_result_free(&res[which]);
                continue;
            }
            size_t e = family_compare(&c, &res[which], label, &st->budget);
            st->bad_elements += e;
            bad += e;
        }
        if (res[0].y && res[1].y) {
            int silent = 0;
            int *budget = exact_op(&c.op, c.in.dtype) ? &st->budget : &silent;
            size_t e = family_compare_bitwise(&c, &res[0], &res[1], "ctxA vs ctxB", budget);
            st->compared += c.out_elems;
            if (exact_op(&c.op, c.in.dtype)) {
                st->bad_elements += e;
                bad += e;
            } else {
                st->unequal += e;
            }
        }
        st->bad_configs += bad != 0;
        family_result_free(&res[0]);
        family_result_free(&res[1]);
        family_case_free(&c);
    }
}

static void sweep_report(const char *name, const sweep_stats *st, clpool_context *a)
{
    clpool_cache_stats cs;
    memset(&cs, 0, sizeof cs);
    clpool_context_cache_stats(a, &cs);
    printf("%s: %zu configurations (%zu runs through enqueue) from %zu parameter sets, %zu "
           "skipped as invalid, %zu failing configurations, %zu bad elements; %zu of %zu "
           "elements of sum-based results differ bitwise between the contexts (allowed); "
           "context A: %llu builds, %llu disk hits\n",
           name, st->configs, st->enqueued, st->sets, st->skipped, st->bad_configs,
           st->bad_elements, st->unequal, st->compared, (unsigned long long)cs.builds,
           (unsigned long long)cs.disk_hits);
    fflush(stdout);
    ck_assert_msg(st->bad_configs == 0, "%s: %zu of %zu configurations failed (%zu elements)", name,
                  st->bad_configs, st->configs, st->bad_elements);
}

/*
 * The kernel variant a parameter set pins through the library's test knobs,
 * so that all its shapes share one program: $CLPOOL_TUNE_VW (lanes per
 * work-item of window_lanes.cl; left to the device in every sixth set,
 * where it follows the shape and so compiles a program per width) and, for
 * some NCHW max/avg sets, $CLPOOL_TUNE_LANES=1 (window_lanes.cl instead of
 * the row kernels). Knobs already set in the environment (a meson variant
 * run) are left alone. Writes a label such as ", VW=8" to @p tune.
 */
static void pin_variant(int i, clpool_op kind, char *tune, size_t cap)
{
    static const char *widths[] = {"8", NULL, "1", "4", "16", "2"};
    static int outer_vw = -1, outer_lanes = -1;
    if (outer_vw < 0) {
        outer_vw = getenv("CLPOOL_TUNE_VW") != NULL;
        outer_lanes = getenv("CLPOOL_TUNE_LANES") != NULL;
    }
    const char *vw = widths[i % 6];
    int lanes = (kind == CLPOOL_OP_MAX || kind == CLPOOL_OP_AVG) && i % 4 == 1;
    tune[0] = 0;
    if (!outer_vw) {
        if (vw)
            setenv("CLPOOL_TUNE_VW", vw, 1);
        else
            unsetenv("CLPOOL_TUNE_VW");
        if (vw)
            snprintf(tune, cap, ", VW=%s", vw);
    }
    if (!outer_lanes) {
        if (lanes)
            setenv("CLPOOL_TUNE_LANES", "1", 1);
        else
            unsetenv("CLPOOL_TUNE_LANES");
        if (lanes)
            snprintf(tune + strlen(tune), cap - strlen(tune), ", lanes kernel");
    }
}

static void unpin_variant(void)
{
    char tune[64];
    pin_variant(0, CLPOOL_OP_LP, tune, sizeof tune); /* the device's choices */
}

typedef struct sweep_plan {
    clpool_op kind;
    uint64_t seed;
    int sets;
} sweep_plan;

/* 38 parameter sets of 32 shapes each (~1200 configurations, 160-190 per
 * operator, ~70 programs), plus the whole-plane sets below. */
static const sweep_plan sweeps[] = {
    {CLPOOL_OP_MAX, 0xf11, 6},        {CLPOOL_OP_AVG, 0xfa7, 6},   {CLPOOL_OP_LP, 0xf19, 5},
    {CLPOOL_OP_GEM, 0xf6e, 5},        {CLPOOL_OP_MIXED, 0xf31, 5}, {CLPOOL_OP_SOFTMAX, 0xf50, 5},
    {CLPOOL_OP_STOCHASTIC, 0xf57, 6},
};
#define SHAPES_PER_SET 32

/* The dtype of set @p i of an operator: every dtype it takes in turn. */
static clpool_dtype set_dtype(clpool_op kind, int i)
{
    static const clpool_dtype all[] = {CLPOOL_FLOAT32,  CLPOOL_FLOAT16, CLPOOL_UINT8,
                                       CLPOOL_BFLOAT16, CLPOOL_FLOAT64, CLPOOL_INT8};
    static const clpool_dtype floats[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16,
                                          CLPOOL_FLOAT64};
    if (kind == CLPOOL_OP_MAX || kind == CLPOOL_OP_AVG)
        return all[i % 6];
    return floats[i % 4];
}

/* float64 on a device without it: every plan must say UNSUPPORTED. */
static int refuse_fp64(clpool_context *ctx, const family_set *fs, test_rng *r)
{
    family_case c;
    memset(&c, 0, sizeof c);
    c.op = fs->op;
    family_gen_shape(r, fs, 1, 1, &c.in);
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_window(ctx, &c.op, &c.in, &plan);
    if (st == CLPOOL_SUCCESS)
        clpool_plan_destroy(plan);
    return st == CLPOOL_ERROR_UNSUPPORTED;
}

START_TEST(test_sweep)
{
    const sweep_plan *sp = &sweeps[_i];
    clpool_context *a = test_context(NULL, 0, 0);
    clpool_context *b = test_context(NULL, 8, 3);
    int has_fp64 = family_device_has_fp64();
    test_rng r = {sp->seed};
    sweep_stats st = {.budget = 40};
    static const int dims_of[] = {2, 1, 3};
    for (int i = 0; i < test_scaled(sp->sets); i++) {
        family_set fs;
        clpool_dtype dtype = set_dtype(sp->kind, i);
        family_gen_set(&r, sp->kind, dims_of[i % 3], dtype, i % 2 ? CLPOOL_NHWC : CLPOOL_NCHW, &fs);
        if (dtype == CLPOOL_FLOAT64 && !has_fp64) {
            ck_assert_msg(refuse_fp64(a, &fs, &r), "float64 without cl_khr_fp64 must be refused");
            continue;
        }
        char tune[64];
        pin_variant(i + (int)sp->kind, sp->kind, tune, sizeof tune);
        sweep_set(a, b, &fs, SHAPES_PER_SET, 0, tune, &r, &st);
    }
    unpin_variant();
    char name[64];
    snprintf(name, sizeof name, "sweep %s", op_label(sp->kind));
    sweep_report(name, &st, a);
    clpool_context_destroy(b);
    clpool_context_destroy(a);
}
END_TEST

/* Windows covering the whole plane (the global-reduction variants): for
 * every operator a few plane shapes, dtypes and layouts, each for several
 * batch and channel counts. */
START_TEST(test_sweep_global)
{
    static const int shapes[][4] = {
        /* dims, s0, s1, s2 */
        {2, 7, 7, 0}, {1, 300, 0, 0}, {3, 3, 4, 5}, {2, 1, 1, 0}, {2, 24, 33, 0}, {1, 5, 0, 0},
    };
    clpool_op kind = (clpool_op)(CLPOOL_OP_MAX + _i);
    clpool_context *a = test_context(NULL, 0, 0);
    clpool_context *b = test_context(NULL, 8, 3);
    int has_fp64 = family_device_has_fp64();
    test_rng r = {0x610ba1 + (uint64_t)_i};
    sweep_stats st = {.budget = 40};
    int count = test_scaled(2);
    for (int i = 0; i < count; i++) {
        const int *sh = shapes[(i + _i) % 6];
        clpool_dtype dtype = set_dtype(kind, i + _i);
        if (dtype == CLPOOL_FLOAT64 && !has_fp64)
            dtype = CLPOOL_FLOAT32;
        family_set fs;
        family_gen_global(&r, kind, sh[0], &sh[1], dtype, (i + _i) % 2 ? CLPOOL_NHWC : CLPOOL_NCHW,
                          &fs);
        char tune[64];
        pin_variant(i + _i, kind, tune, sizeof tune);
        sweep_set(a, b, &fs, 4, 0, tune, &r, &st);
    }
    unpin_variant();
    char name[64];
    snprintf(name, sizeof name, "global %s", op_label(kind));
    sweep_report(name, &st, a);
    clpool_context_destroy(b);
    clpool_context_destroy(a);
}
END_TEST

/* CLPOOL_TEST_SMALL: two tiny configurations per operator (2-D NCHW
 * float32, and 1-D or 3-D NHWC in another dtype) and one whole plane. */
START_TEST(test_small)
{
    clpool_context *a = test_context(NULL, 0, 0);
    clpool_context *b = test_context(NULL, 8, 3);
    test_rng r = {0x5a11};
    sweep_stats st = {.budget = 40};
    for (int kind = CLPOOL_OP_MAX; kind <= CLPOOL_OP_STOCHASTIC; kind++) {
        for (int i = 0; i < 2; i++) {
            family_set fs;
            clpool_dtype dtype = i == 0 ? CLPOOL_FLOAT32 : set_dtype((clpool_op)kind, kind + 1);
            family_gen_set(&r, (clpool_op)kind,
                           i == 0     ? 2
                           : kind % 2 ? 1
                                      : 3,
                           dtype, i ? CLPOOL_NHWC : CLPOOL_NCHW, &fs);
            sweep_set(a, b, &fs, 1, 1, "", &r, &st);
        }
        static const int plane[] = {5, 7};
        family_set fs;
        family_gen_global(&r, (clpool_op)kind, 2, plane, CLPOOL_FLOAT32, CLPOOL_NCHW, &fs);
        sweep_set(a, b, &fs, 1, 1, "", &r, &st);
    }
    sweep_report("small", &st, a);
    clpool_context_destroy(b);
    clpool_context_destroy(a);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* NCHW and NHWC on the same data.                                          */

START_TEST(test_layouts)
{
    clpool_op kind = (clpool_op)(CLPOOL_OP_MAX + _i);
    clpool_context *ctx = test_context(NULL, 0, 0);
    int has_fp64 = family_device_has_fp64();
    test_rng r = {0x1a7 + (uint64_t)_i};
    int budget = 30;
    size_t bad = 0, unequal = 0, elems = 0;
    for (int i = 0; i < test_scaled(1); i++) {
        clpool_dtype dtype = set_dtype(kind, i + 1 + _i);
        if (dtype == CLPOOL_FLOAT64 && !has_fp64)
            dtype = CLPOOL_FLOAT32;
        family_set fs;
        family_gen_set(&r, kind, 1 + i % 3, dtype, CLPOOL_NCHW, &fs);
        char tune[64];
        pin_variant(i + _i, kind, tune, sizeof tune);
        if (kind == CLPOOL_OP_STOCHASTIC && i % 2 == 0) {
            fs.op.train = 1;
            fs.op.indices = CLPOOL_INDICES_INT64;
        }
        for (int v = 4; v < 7; v++) {
            family_case nchw, nhwc;
            memset(&nchw, 0, sizeof nchw);
            nchw.op = fs.op;
            family_gen_shape(&r, &fs, v, 0, &nchw.in);
            if (ref_window_check(&nchw.op, &nchw.in, NULL) != CLPOOL_SUCCESS)
                continue;
            family_fill(&r, &nchw, family_pick_values(&r, &nchw.op, dtype, v));
            nhwc = nchw;
            nhwc.in.layout = CLPOOL_NHWC;
            family_alloc_input(&nhwc);
            size_t S = plane_elements(&nchw.in);
            for (size_t pl = 0; pl < nchw.in.n * nchw.in.c; pl++)
                for (size_t s = 0; s < S; s++)
                    family_put(&nhwc, pl, s, nchw.x_nchw[pl * S + s]);
            ck_assert_int_eq(family_reference(&nchw, NULL), CLPOOL_SUCCESS);
            ck_assert_int_eq(family_reference(&nhwc, NULL), CLPOOL_SUCCESS);
            family_result a, b;
            char la[80], lb[80];
            snprintf(la, sizeof la, "NCHW%s", tune);
            snprintf(lb, sizeof lb, "NHWC%s", tune);
            clpool_status s1 = family_run(ctx, &nchw, 0, 0, &r, &a, la);
            clpool_status s2 = family_run(ctx, &nhwc, 0, 1, &r, &b, lb);
            if (s1 != CLPOOL_SUCCESS || s2 != CLPOOL_SUCCESS) {
                bad++;
                family_result_free(&a);
                family_result_free(&b);
                family_case_free(&nchw);
                family_case_free(&nhwc);
                continue;
            }
            bad += family_compare(&nchw, &a, la, &budget);
            bad += family_compare(&nhwc, &b, lb, &budget);
            /* the same values and indices, element by element (NHWC read
             * back in NCHW order) */
            clpool_dtype t = nchw.out.dtype;
            for (size_t e = 0; e < nchw.out_elems; e++) {
                size_t ia = e, ib = family_storage_index(&nhwc.out, e);
                int same = storage_bits(t, a.y, ia) == storage_bits(t, b.y, ib);
                if (nchw.op.indices == CLPOOL_INDICES_INT64)
                    same = same && ((int64_t *)a.idx)[ia] == ((int64_t *)b.idx)[ib];
                else if (nchw.op.indices == CLPOOL_INDICES_INT32)
                    same = same && ((int32_t *)a.idx)[ia] == ((int32_t *)b.idx)[ib];
                elems++;
                if (same)
                    continue;
                if (exact_op(&nchw.op, dtype)) {
                    char desc[512];
                    describe_case(desc, sizeof desc, &nchw.op, &nchw.in);
                    if (budget-- > 0)
                        fprintf(stderr, "NCHW vs NHWC %s: element %zu: %.17g vs %.17g\n", desc, e,
                                storage_load(t, a.y, ia), storage_load(t, b.y, ib));
                    bad++;
                } else {
                    unequal++;
                }
            }
            family_result_free(&a);
            family_result_free(&b);
            family_case_free(&nchw);
            family_case_free(&nhwc);
        }
    }
    unpin_variant();
    printf("layouts %s: %zu elements compared, %zu bad, %zu sum-based elements not bitwise "
           "equal between the layouts (allowed)\n",
           op_label(kind), elems, bad, unequal);
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%s: %zu bad elements", op_label(kind), bad);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* float16 / bfloat16 rounding and range, float64.                          */

/* Windows of two values whose float sum is exact and falls on, just
 * beside, or beyond a tie of the storage type (avg with divisor 1): the
 * result must be that sum rounded once, to nearest even (not truncated,
 * not rounded half up). Both layouts, as they take different kernels. */
/*
 * float16 and bfloat16 max over NCHW 2-D rows, the row kernels' case (the
 * sweep gives those dtypes NHWC or 1-D windows): float16 max compares order
 * keys there on devices with float denormals (kernels/dtype.cl), so NaN of
 * either sign, infinities, -0, subnormal halves and ties must come out as
 * the reference says, values and indices alike.
 */
START_TEST(test_narrow_max_rows)
{
    static const clpool_dtype dtypes[] = {CLPOOL_FLOAT16, CLPOOL_BFLOAT16};
    clpool_context *a = test_context(NULL, 0, 0);
    clpool_context *b = test_context(NULL, 8, 3);
    test_rng r = {0x4a1f};
    sweep_stats st = {.budget = 40};
    unpin_variant();
    for (int i = 0; i < 4; i++) {
        family_set fs;
        family_gen_set(&r, CLPOOL_OP_MAX, 2, dtypes[i % 2], CLPOOL_NCHW, &fs);
        sweep_set(a, b, &fs, SHAPES_PER_SET, 0, ", row kernels", &r, &st);
    }
    sweep_report("narrow max rows", &st, a);
    clpool_context_destroy(b);
    clpool_context_destroy(a);
}
END_TEST

START_TEST(test_narrow_rounding)
{
    static const struct {
        clpool_dtype dtype;
        double a, b;
    } pairs[] = {
        {CLPOOL_FLOAT16, 1.0, 0x1p-11},             /* tie -> even 1 */
        {CLPOOL_FLOAT16, 1.0 + 0x1p-10, 0x1p-11},   /* tie -> even 1 + 2^-9 */
        {CLPOOL_FLOAT16, 1.0, 0x1p-11 + 0x1p-20},   /* just above a tie: up */
        {CLPOOL_FLOAT16, 1.0, 0x1p-11 - 0x1p-22},   /* just below a tie: down */
        {CLPOOL_FLOAT16, -1.0, -0x1p-11 - 0x1p-20}, /* negative, above the tie: away */
        {CLPOOL_FLOAT16, 65504.0, 8.0},             /* 65512 -> 65504 */
        {CLPOOL_FLOAT16, 65504.0, 16.0},            /* 65520: tie -> inf */
        {CLPOOL_FLOAT16, -65504.0, -32.0},          /* -65536 -> -inf */
        {CLPOOL_FLOAT16, 2048.0, 1.0},              /* 2049: tie -> even 2048 */
        {CLPOOL_FLOAT16, 2050.0, 1.0},              /* 2051: tie -> even 2052 */
        {CLPOOL_BFLOAT16, 1.0, 0x1p-8},             /* tie -> even 1 */
        {CLPOOL_BFLOAT16, 1.0 + 0x1p-7, 0x1p-8},    /* tie -> 1 + 2^-6 */
        {CLPOOL_BFLOAT16, 1.0, 0x1p-8 + 0x1p-15},   /* above a tie: up (not truncated) */
        {CLPOOL_BFLOAT16, -1.0, -0x1p-8 - 0x1p-15}, /* negative, above a tie: away */
        {CLPOOL_BFLOAT16, 0x1.fep127, 0x1p119},     /* below the overflow tie: max */
        {CLPOOL_BFLOAT16, 0x1.fep127, 0x1p120},     /* on it: inf */
    };
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0x40d};
    size_t bad = 0, npairs = sizeof pairs / sizeof pairs[0];
    for (int t = 0; t < 4; t++) {
        clpool_dtype dtype = t % 2 ? CLPOOL_BFLOAT16 : CLPOOL_FLOAT16;
        clpool_layout layout = t / 2 ? CLPOOL_NHWC : CLPOOL_NCHW;
        size_t n = 0, count = 0;
        double want[16];
        for (size_t i = 0; i < npairs; i++)
            count += pairs[i].dtype == dtype;
        family_case c;
        memset(&c, 0, sizeof c);
        c.op = family_win(CLPOOL_OP_AVG, 2, 0, 0, 0, 0);
        c.op.divisor_override = 1;
        /* NCHW: one plane of pairs; NHWC: one pair per channel */
        c.in = layout == CLPOOL_NCHW ? family_tensor(dtype, layout, 1, 1, 1, 2 * count, 0, 0)
                                     : family_tensor(dtype, layout, 1, 1, count, 2, 0, 0);
        family_alloc_input(&c);
        for (size_t i = 0; i < npairs; i++) {
            if (pairs[i].dtype != dtype)
                continue;
            ck_assert(storage_round(dtype, pairs[i].a) == pairs[i].a &&
                      storage_round(dtype, pairs[i].b) == pairs[i].b);
            size_t plane = layout == CLPOOL_NCHW ? 0 : n, s = layout == CLPOOL_NCHW ? 2 * n : 0;
            family_put(&c, plane, s, pairs[i].a);
            family_put(&c, plane, s + 1, pairs[i].b);
            want[n++] = storage_round(dtype, pairs[i].a + pairs[i].b);
        }
        ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
        family_result res;
        clpool_status st = family_run(ctx, &c, t % 2, 0, &r, &res, "rounding");
        ck_assert_msg(st == CLPOOL_SUCCESS, "run: %s", clpool_status_string(st));
        for (size_t i = 0; i < n; i++) {
            double got = storage_load(dtype, res.y, family_storage_index(&c.out, i));
            if (got != want[i] || signbit(got) != signbit(want[i])) {
                fprintf(stderr, "%s %s: %a + %a: got %a, want %a\n", storage_dtype_name(dtype),
                        layout == CLPOOL_NHWC ? "NHWC" : "NCHW",
                        layout == CLPOOL_NCHW ? c.x_nchw[2 * i] : c.x_nchw[2 * i],
                        c.x_nchw[2 * i + 1], got, want[i]);
                bad++;
            }
        }
        family_result_free(&res);
        family_case_free(&c);
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu wrongly rounded results", bad);
}
END_TEST

/* A 1-D window of 4096 float16 values of 60000 (and 65504): float
 * accumulation keeps every operator in range (lp's true result, 2.5e8, is
 * beyond float16 and must be inf). Five windows over 4100 cells (NHWC) for
 * every operator, the whole plane (NCHW) for max and avg. */
START_TEST(test_long_half_window)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    test_rng r = {0x10e6};
    size_t bad = 0;
    int budget = 20;
    static const double values[] = {60000.0, 65504.0};
    for (int kind = CLPOOL_OP_MAX; kind <= CLPOOL_OP_STOCHASTIC; kind++) {
        for (int shape = kind <= CLPOOL_OP_AVG ? 0 : 1; shape < 2; shape++) {
            family_case c;
            memset(&c, 0, sizeof c);
            c.op = family_win((clpool_op)kind, 4096, 1, 0, 0, 0);
            c.op.p = 1.0;
            c.op.alpha = 0.5;
            c.op.beta = 1.0;
            /* shape 0: the whole plane; 1: five windows over 4100 cells, NHWC */
            size_t len = shape ? 4100 : 4096;
            c.in = family_tensor(CLPOOL_FLOAT16, shape ? CLPOOL_NHWC : CLPOOL_NCHW, 1, 1, 2, len, 0,
                                 0);
            family_alloc_input(&c);
            for (size_t pl = 0; pl < 2; pl++)
                for (size_t i = 0; i < len; i++)
                    family_put(&c, pl, i, values[pl]);
            ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
            family_result res;
            clpool_status st = family_run(ctx, &c, 0, 0, &r, &res, "long f16 window");
            ck_assert_msg(st == CLPOOL_SUCCESS, "%s: %s", op_label((clpool_op)kind),
                          clpool_status_string(st));
            bad += family_compare(&c, &res, "long f16 window", &budget);
            for (size_t e = 0; e < c.out_elems; e++) {
                double got = storage_load(CLPOOL_FLOAT16, res.y, family_storage_index(&c.out, e));
                double want = kind == CLPOOL_OP_LP ? INFINITY : values[e / (c.out_elems / 2)];
                if (got != want && budget-- > 0) {
                    fprintf(stderr, "long f16 window %s shape %d element %zu: got %g, want %g\n",
                            op_label((clpool_op)kind), shape, e, got, want);
                    bad++;
                }
            }
            family_result_free(&res);
            family_case_free(&c);
        }
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* float64 plans succeed exactly when the device has cl_khr_fp64 (the sweeps
 * run them); without it every operator says UNSUPPORTED. */
START_TEST(test_float64_support)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    clpool_device_info info;
    ck_assert_int_eq(clpool_context_device_info(ctx, &info), CLPOOL_SUCCESS);
    clpool_tensor_desc in = family_tensor(CLPOOL_FLOAT64, CLPOOL_NCHW, 2, 1, 2, 6, 6, 0);
    for (int kind = CLPOOL_OP_MAX; kind <= CLPOOL_OP_STOCHASTIC; kind++) {
        if (info.has_fp64 && kind != CLPOOL_OP_MAX && kind != CLPOOL_OP_SOFTMAX)
            continue; /* the sweeps plan and run the others */
        clpool_window_desc op = family_win((clpool_op)kind, 2, 0, 0, 0, 0);
        op.p = 2.0;
        op.alpha = 0.5;
        op.beta = 1.0;
        clpool_plan *plan = NULL;
        clpool_status st = clpool_plan_window(ctx, &op, &in, &plan);
        clpool_status want = info.has_fp64 ? CLPOOL_SUCCESS : CLPOOL_ERROR_UNSUPPORTED;
        ck_assert_msg(st == want, "%s float64 on a device %s cl_khr_fp64: %s", op_label(op.op),
                      info.has_fp64 ? "with" : "without", clpool_status_string(st));
        if (st == CLPOOL_SUCCESS)
            clpool_plan_destroy(plan);
    }
    printf("float64: the device %s cl_khr_fp64\n", info.has_fp64 ? "has" : "lacks");
    clpool_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Invalid parameters get their specific status.                            */

/* The header does not say which of the two an integer dtype the operator
 * lacks gets; either is accepted (and counted). */
#define ALT_DTYPE_STATUS CLPOOL_ERROR_INVALID_ARGUMENT

/* Makes one fault in a valid configuration; returns the status it must
 * produce, or SUCCESS when the fault does not apply to this operator. */
static clpool_status inject_fault(test_rng *r, int fault, clpool_window_desc *op,
                                  clpool_tensor_desc *in)
{
    static const double bad_p[] = {0.0, -0.0, INFINITY, -INFINITY, NAN};
    static const double bad_alpha[] = {-0.25, 1.5, -1e-9, 1.0 + 1e-9, NAN, INFINITY};
    static const double bad_beta[] = {NAN, INFINITY, -INFINITY};
    int j = rng_below(r, (uint32_t)in->spatial_dims);
    clpool_op k = op->op;
    switch (fault) {
    case 0:
        if (k != CLPOOL_OP_LP && k != CLPOOL_OP_GEM)
            return CLPOOL_SUCCESS;
        op->p = bad_p[rng_below(r, 5)];
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    case 1:
        if (k != CLPOOL_OP_MIXED)
            return CLPOOL_SUCCESS;
        op->alpha = bad_alpha[rng_below(r, 6)];
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    case 2:
        if (k != CLPOOL_OP_SOFTMAX)
            return CLPOOL_SUCCESS;
        op->beta = bad_beta[rng_below(r, 3)];
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    case 3:
        if (k != CLPOOL_OP_LP)
            return CLPOOL_SUCCESS;
        op->padding[j] = 1; /* within the bound for kernels >= 2, and lp has none */
        return CLPOOL_ERROR_INVALID_PADDING;
    case 4:
        if (family_takes_dilation(k))
            return CLPOOL_SUCCESS;
        op->dilation[j] = rng_range(r, 2, 3);
        return CLPOOL_ERROR_INVALID_DILATION;
    case 5:
        if (k == CLPOOL_OP_MAX || (k == CLPOOL_OP_STOCHASTIC && op->train))
            return CLPOOL_SUCCESS;
        op->indices = rng_below(r, 2) ? CLPOOL_INDICES_INT32 : CLPOOL_INDICES_INT64;
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    case 6:
        if (k == CLPOOL_OP_AVG)
            return CLPOOL_SUCCESS;
        op->divisor_override = rng_below(r, 2) ? rng_range(r, 1, 9) : -rng_range(r, 1, 9);
        return CLPOOL_ERROR_INVALID_DIVISOR;
    case 7:
        if (family_takes_dtype(k, CLPOOL_UINT8))
            return CLPOOL_SUCCESS;
        in->dtype = rng_below(r, 2) ? CLPOOL_UINT8 : CLPOOL_INT8;
        return CLPOOL_ERROR_UNSUPPORTED;
    case 8:
        in->dtype = rng_below(r, 2) ? CLPOOL_INT32 : CLPOOL_INT64;
        return CLPOOL_ERROR_UNSUPPORTED;
    case 9:
        op->op = (clpool_op)(rng_below(r, 2) ? 0 : CLPOOL_OP_STOCHASTIC + 1);
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    case 10:
        op->kernel[j] = -(int)rng_below(r, 3);
        return CLPOOL_ERROR_INVALID_KERNEL;
    case 11: {
        long d = op->dilation[j] ? op->dilation[j] : 1;
        op->padding[j] = (int)(((op->kernel[j] - 1) * d + 1) / 2) + rng_range(r, 1, 3);
        return CLPOOL_ERROR_INVALID_PADDING;
    }
    case 12:
        if (rng_below(r, 2))
            in->dtype = (clpool_dtype)(CLPOOL_INT64 + rng_range(r, 1, 9));
        else
            in->layout = (clpool_layout)rng_range(r, 2, 9);
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    case 13:
        if (!(k == CLPOOL_OP_MAX || (k == CLPOOL_OP_STOCHASTIC && op->train)))
            return CLPOOL_SUCCESS;
        op->indices = (clpool_index_type)rng_range(r, 3, 9);
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    case 14:
        op->stride[j] = -rng_range(r, 1, 3);
        return CLPOOL_ERROR_INVALID_STRIDE;
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
    test_rng r = {0xbad5};
    int has_fp64 = family_device_has_fp64();
    size_t tested = 0, wrong = 0, alternative = 0;
    size_t per_fault[15] = {0};
    char desc[512];
    for (int i = 0; i < 2000; i++) {
        clpool_op kind = (clpool_op)(CLPOOL_OP_MAX + i % 7);
        int dims = 1 + (int)rng_below(&r, 3);
        clpool_dtype dtype = set_dtype(kind, (int)rng_below(&r, 6));
        if (dtype == CLPOOL_FLOAT64 && !has_fp64)
            dtype = CLPOOL_FLOAT32; /* the plan would say UNSUPPORTED first */
        family_set fs;
        family_gen_set(&r, kind, dims, dtype, rng_below(&r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW, &fs);
        clpool_tensor_desc in;
        family_gen_shape(&r, &fs, 1, 1, &in);
        if (ref_window_check(&fs.op, &in, NULL) != CLPOOL_SUCCESS)
            continue;
        int fault = (int)rng_below(&r, 15);
        clpool_status want = inject_fault(&r, fault, &fs.op, &in);
        if (want == CLPOOL_SUCCESS)
            continue;
        ck_assert_msg(ref_window_check(&fs.op, &in, NULL) == want,
                      "fault %d: the reference says %s", fault,
                      clpool_status_string(ref_window_check(&fs.op, &in, NULL)));
        tested++;
        per_fault[fault]++;
        cap.count = 0;
        clpool_plan *plan = (clpool_plan *)&cap; /* must stay untouched */
        clpool_status got = clpool_plan_window(ctx, &fs.op, &in, &plan);
        describe_case(desc, sizeof desc, &fs.op, &in);
        int dtype_fault = fault == 7 || fault == 8;
        int ok = got == want || (dtype_fault && got == ALT_DTYPE_STATUS);
        alternative += ok && got != want;
        if (!ok || plan != (clpool_plan *)&cap || cap.count != 1) {
            if (wrong++ < 25)
                fprintf(stderr, "fault %d: %s: got %s, want %s, %d log messages%s\n", fault, desc,
                        clpool_status_string(got), clpool_status_string(want), cap.count,
                        plan != (clpool_plan *)&cap ? ", plan written" : "");
            if (got == CLPOOL_SUCCESS && plan != (clpool_plan *)&cap)
                clpool_plan_destroy(plan);
        }
    }
    clpool_context_destroy(ctx);
    printf("invalid: %zu single-fault configurations, %zu wrong, %zu integer-dtype faults answered "
           "%s instead of %s; per fault:",
           tested, wrong, alternative, clpool_status_string(ALT_DTYPE_STATUS),
           clpool_status_string(CLPOOL_ERROR_UNSUPPORTED));
    for (int f = 0; f < 15; f++)
        printf(" %zu", per_fault[f]);
    printf("\n");
    for (int f = 0; f < 15; f++)
        ck_assert_msg(per_fault[f] > 5, "fault %d was injected only %zu times", f, per_fault[f]);
    ck_assert_msg(wrong == 0, "%zu of %zu invalid configurations got the wrong status", wrong,
                  tested);
}
END_TEST

/* The spec's named cases, each once, besides the random ones above. */
START_TEST(test_invalid_named)
{
    test_log cap = {0};
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = test_log_errors;
    o.log_user = &cap;
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    clpool_tensor_desc in = family_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 2, 8, 8, 0);
    struct {
        const char *name;
        clpool_window_desc op;
        clpool_status want;
    } cases[32];
    int n = 0;
#define CASE(label, kind, field, value, status)                                                    \
    do {                                                                                           \
        cases[n].name = label;                                                                     \
        cases[n].op = family_win(kind, 3, 0, 0, 0, 0);                                             \
        cases[n].op.p = 2.0;                                                                       \
        cases[n].op.alpha = 0.5;                                                                   \
        cases[n].op.beta = 1.0;                                                                    \
        cases[n].op.field = value;                                                                 \
        cases[n].want = status;                                                                    \
        n++;                                                                                       \
    } while (0)
    CASE("lp p = 0", CLPOOL_OP_LP, p, 0.0, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("lp p = inf (use max)", CLPOOL_OP_LP, p, INFINITY, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("lp p = NaN", CLPOOL_OP_LP, p, NAN, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("gem p = 0", CLPOOL_OP_GEM, p, 0.0, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("gem p = -inf", CLPOOL_OP_GEM, p, -INFINITY, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("gem p = NaN", CLPOOL_OP_GEM, p, NAN, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("mixed alpha = -0.5", CLPOOL_OP_MIXED, alpha, -0.5, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("mixed alpha = 1.5", CLPOOL_OP_MIXED, alpha, 1.5, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("mixed alpha = NaN", CLPOOL_OP_MIXED, alpha, NAN, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("softmax beta = NaN", CLPOOL_OP_SOFTMAX, beta, NAN, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("softmax beta = inf", CLPOOL_OP_SOFTMAX, beta, INFINITY, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("softmax beta = -inf", CLPOOL_OP_SOFTMAX, beta, -INFINITY, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("lp padding 1", CLPOOL_OP_LP, padding[1], 1, CLPOOL_ERROR_INVALID_PADDING);
    CASE("lp dilation 2", CLPOOL_OP_LP, dilation[0], 2, CLPOOL_ERROR_INVALID_DILATION);
    CASE("gem dilation 2", CLPOOL_OP_GEM, dilation[1], 2, CLPOOL_ERROR_INVALID_DILATION);
    CASE("mixed dilation 2", CLPOOL_OP_MIXED, dilation[0], 2, CLPOOL_ERROR_INVALID_DILATION);
    CASE("avg indices", CLPOOL_OP_AVG, indices, CLPOOL_INDICES_INT64,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("lp indices", CLPOOL_OP_LP, indices, CLPOOL_INDICES_INT64, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("gem indices", CLPOOL_OP_GEM, indices, CLPOOL_INDICES_INT32,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("mixed indices", CLPOOL_OP_MIXED, indices, CLPOOL_INDICES_INT64,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("softmax indices", CLPOOL_OP_SOFTMAX, indices, CLPOOL_INDICES_INT64,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("stochastic test-time indices", CLPOOL_OP_STOCHASTIC, indices, CLPOOL_INDICES_INT64,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("mixed divisor", CLPOOL_OP_MIXED, divisor_override, 2, CLPOOL_ERROR_INVALID_DIVISOR);
    CASE("softmax divisor", CLPOOL_OP_SOFTMAX, divisor_override, 2, CLPOOL_ERROR_INVALID_DIVISOR);
#undef CASE
    size_t wrong = 0;
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(ref_window_check(&cases[i].op, &in, NULL), cases[i].want);
        cap.count = 0;
        clpool_plan *plan = (clpool_plan *)&cap;
        clpool_status got = clpool_plan_window(ctx, &cases[i].op, &in, &plan);
        if (got != cases[i].want || plan != (clpool_plan *)&cap || cap.count != 1) {
            fprintf(stderr, "%s: got %s, want %s, %d log messages\n", cases[i].name,
                    clpool_status_string(got), clpool_status_string(cases[i].want), cap.count);
            wrong++;
            if (got == CLPOOL_SUCCESS && plan != (clpool_plan *)&cap)
                clpool_plan_destroy(plan);
        } else {
            printf("%s: %s (\"%s\")\n", cases[i].name, clpool_status_string(got), cap.last);
        }
    }
    /* integer dtypes for the operators that lack them */
    for (int kind = CLPOOL_OP_LP; kind <= CLPOOL_OP_STOCHASTIC; kind++) {
        for (int t = 0; t < 2; t++) {
            clpool_window_desc op = family_win((clpool_op)kind, 3, 0, 0, 0, 0);
            op.p = 2.0;
            op.alpha = 0.5;
            clpool_tensor_desc iin = in;
            iin.dtype = t ? CLPOOL_INT8 : CLPOOL_UINT8;
            ck_assert_int_eq(ref_window_check(&op, &iin, NULL), CLPOOL_ERROR_UNSUPPORTED);
            cap.count = 0;
            clpool_plan *plan = (clpool_plan *)&cap;
            clpool_status got = clpool_plan_window(ctx, &op, &iin, &plan);
            if ((got != CLPOOL_ERROR_UNSUPPORTED && got != ALT_DTYPE_STATUS) ||
                plan != (clpool_plan *)&cap || cap.count != 1) {
                fprintf(stderr, "%s %s: got %s, %d log messages\n", op_label(op.op),
                        storage_dtype_name(iin.dtype), clpool_status_string(got), cap.count);
                wrong++;
                if (got == CLPOOL_SUCCESS && plan != (clpool_plan *)&cap)
                    clpool_plan_destroy(plan);
            }
        }
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(wrong == 0, "%zu named invalid cases got the wrong answer", wrong);
}
END_TEST

static Suite *family_suite(void)
{
    Suite *s = suite_create("family");
    family_add_reference_tcases(s);
    if (test_small_mode()) {
        TCase *tc = tcase_create("small");
        tcase_set_timeout(tc, 3600);
        tcase_add_test(tc, test_small);
        suite_add_tcase(s, tc);
        family_add_nhwc_tcases(s);
        family_add_columns_tcases(s);
        return s;
    }
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, 2400); /* cold program caches */
    tcase_add_loop_test(tc, test_sweep, 0, (int)(sizeof sweeps / sizeof sweeps[0]));
    tcase_add_loop_test(tc, test_sweep_global, 0, CLPOOL_OP_STOCHASTIC - CLPOOL_OP_MAX + 1);
    suite_add_tcase(s, tc);

    tc = tcase_create("layouts");
    tcase_set_timeout(tc, 900);
    tcase_add_loop_test(tc, test_layouts, 0, CLPOOL_OP_STOCHASTIC - CLPOOL_OP_MAX + 1);
    suite_add_tcase(s, tc);

    tc = tcase_create("dtypes");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_narrow_rounding);
    tcase_add_test(tc, test_narrow_max_rows);
    tcase_add_test(tc, test_long_half_window);
    tcase_add_test(tc, test_float64_support);
    suite_add_tcase(s, tc);

    family_add_stochastic_tcases(s);
    family_add_nhwc_tcases(s);
    family_add_columns_tcases(s);

    tc = tcase_create("invalid");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_invalid_statuses);
    tcase_add_test(tc, test_invalid_named);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(family_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
