/*
 * Suite "region-backward": the gradients of the region families against the
 * double-precision references (reference_region_backward.c): max unpooling
 * (the spec's duplicates example, a seeded sweep over 1-D/2-D/3-D, NCHW and
 * NHWC, every float dtype, int32/int64 indices with heavy duplicates, an
 * out-of-range index refused with nothing written, integer dtypes refused),
 * adaptive and global max/avg (Out <, =, > In; max from indices, with -1
 * entries that send nothing, or recomputed; a central-difference check of
 * the avg reference). grad_input is poisoned before every run and every
 * element is checked; every case also runs with a second work-group size
 * and batch split and must match bit for bit.
 * CLPOOL_TEST_SMALL=1 keeps a few tiny cases (for oclgrind).
 */
#include "harness.h"
#include "reference_region_backward.h"
#include "reference_unpool.h"
#include "storage.h"
#include "test_env.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clpool_tensor_desc tdesc(clpool_dtype t, clpool_layout l, int dims, size_t n, size_t c,
                                const size_t *s)
{
    clpool_tensor_desc d = tensor(dims, n, c, s[0], dims > 1 ? s[1] : 0, dims > 2 ? s[2] : 0);
    d.dtype = t;
    d.layout = l;
    return d;
}

static const clpool_dtype float_dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16,
                                            CLPOOL_FLOAT64};

/* Rounds doubles to dtype @p t storage. */
static void *to_storage(clpool_dtype t, const double *v, size_t count)
{
    void *p = malloc(count * clpool_dtype_size(t) + 8);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < count; i++)
        storage_store(t, p, i, v[i]);
    return p;
}

/* Values rounded through dtype @p t (the reference sees what the device sees). */
static void round_to(clpool_dtype t, double *v, size_t count)
{
    for (size_t i = 0; i < count; i++)
        v[i] = storage_round(t, v[i]);
}

/* Small integers, some halves: ties and exact sums. */
static void random_values(test_rng *r, double *v, size_t count, int ties)
{
    for (size_t i = 0; i < count; i++)
        v[i] = ties ? (double)rng_range(r, -3, 3) : (double)rng_range(r, -4000, 4000) / 64.0;
}

/* The two contexts every case runs on: the library's choices, and work-group
 * size 1 with one plane per launch (another batch split). */
typedef struct ctx_pair {
    clpool_context *ctx[2];
    int fp64;
} ctx_pair;

static ctx_pair make_pair(void)
{
    ctx_pair p;
    p.ctx[0] = test_context(NULL, 0, 0);
    p.ctx[1] = test_context(NULL, 1, 1);
    p.fp64 = test_has_fp64(p.ctx[0]);
    return p;
}

static void free_pair(ctx_pair *p)
{
    clpool_context_destroy(p->ctx[0]);
    clpool_context_destroy(p->ctx[1]);
}

/*
 * Checks grad_input @p got (dtype @p t, @p count elements) against @p want
 * within rtol/atol (exact when both are 0); prints failures as "label: ...".
 */
static size_t compare(clpool_dtype t, const void *got, const double *want, size_t count,
                      double rtol, double atol, const char *label)
{
    size_t bad = 0;
    for (size_t i = 0; i < count; i++) {
        double g = storage_load(t, got, i), w = want[i];
        int ok = !storage_is_poison(t, got, i) &&
                 (g == w || (isnan(g) && isnan(w)) || fabs(g - w) <= atol + rtol * fabs(w));
        if (!ok && bad++ < 5)
            fprintf(stderr, "%s: grad_input[%zu] = %.9g, want %.9g\n", label, i, g, w);
    }
    return bad;
}

/* Runs @p plan by clpool_run_host_io with grad_input poisoned first. */
static clpool_status run_host_samples(clpool_plan *plan, clpool_dtype t, const void *x,
                                      const void *go, const void *idx, const void *samples,
                                      void *gi, size_t in_elems)
{
    storage_poison(t, gi, in_elems, 0);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = x;
    io.samples = samples;
    io.grad_output = go;
    io.indices = (void *)idx; /* read only: a gradient plan never writes them */
    io.grad_input = gi;
    return clpool_run_host_io(plan, NULL, &io);
}

static clpool_status run_host(clpool_plan *plan, clpool_dtype t, const void *x, const void *go,
                              const void *idx, void *gi, size_t in_elems)
{
    return run_host_samples(plan, t, x, go, idx, NULL, gi, in_elems);
}

/* ---- max unpooling ------------------------------------------------------- */

static clpool_unpool_desc unpool_desc(int k, int s, int p)
{
    clpool_unpool_desc u;
    memset(&u, 0, sizeof u);
    for (int i = 0; i < 3; i++) {
        u.kernel[i] = k;
        u.stride[i] = s;
        u.padding[i] = p;
    }
    return u;
}

START_TEST(test_unpool_spec_example)
{
    /* forward: x=[[1,2],[3,4]], idx=[[0,0],[5,5]], k=2 (4x4 output); the
     * gradient gathers grad_out[0], grad_out[0], grad_out[5], grad_out[5] */
    clpool_context *ctx = test_context(NULL, 0, 0);
    clpool_unpool_desc u = unpool_desc(2, 0, 0);
    size_t s[2] = {2, 2};
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, s);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_unpool_backward(ctx, &u, &in, &plan), CLPOOL_SUCCESS);
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
    ck_assert_uint_eq(out.spatial[0], 4);
    ck_assert_uint_eq(out.spatial[1], 4);
    float go[16], gi[4];
    for (int i = 0; i < 16; i++)
        go[i] = (float)(10 + i);
    int64_t idx[4] = {0, 0, 5, 5};
    ck_assert_int_eq(run_host(plan, CLPOOL_FLOAT32, NULL, go, idx, gi, 4), CLPOOL_SUCCESS);
    float want[4] = {10, 10, 15, 15};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(gi[i] == want[i], "grad_input[%d] = %g, want %g", i, gi[i], want[i]);
    /* an index outside the 16-element plane: refused, nothing written */
    idx[3] = 16;
    poison_floats(gi, 4);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.grad_output = go;
    io.indices = idx;
    io.grad_input = gi;
    ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_ERROR_INVALID_INDICES);
    for (int i = 0; i < 4; i++)
        ck_assert(storage_is_poison(CLPOOL_FLOAT32, gi, (size_t)i));
    idx[3] = -1;
    ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_ERROR_INVALID_INDICES);
    clpool_plan_destroy(plan);
    /* integer dtypes have no gradient */
    in.dtype = CLPOOL_UINT8;
    ck_assert_int_eq(clpool_plan_unpool_backward(ctx, &u, &in, &plan), CLPOOL_ERROR_UNSUPPORTED);
    /* the forward's checks apply */
    in.dtype = CLPOOL_FLOAT32;
    u.kernel[0] = 0;
    ck_assert_int_eq(clpool_plan_unpool_backward(ctx, &u, &in, &plan), CLPOOL_ERROR_INVALID_KERNEL);
    clpool_context_destroy(ctx);
}
END_TEST

/* One random unpooling gradient; returns bad elements. */
static size_t unpool_case(ctx_pair *cp, test_rng *r, int small, int number)
{
    int dims = rng_range(r, 1, 3);
    clpool_dtype t = float_dtypes[rng_below(r, 4)];
    clpool_layout layout = rng_below(r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW;
    int k = rng_range(r, 1, 3), st = rng_range(r, 1, 3), pad = rng_range(r, 0, (k - 1) / 2);
    clpool_unpool_desc u = unpool_desc(k, st, pad);
    u.indices = rng_below(r, 2) ? CLPOOL_INDICES_INT32 : CLPOOL_INDICES_INT64;
    size_t s[3];
    for (int i = 0; i < dims; i++)
        s[i] = (size_t)rng_range(r, 1, small ? 3 : (dims == 3 ? 4 : 7));
    size_t n = (size_t)rng_range(r, 1, small ? 1 : 3), c = (size_t)rng_range(r, 1, small ? 2 : 5);
    clpool_tensor_desc in = tdesc(t, layout, dims, n, c, s);
    clpool_plan *plan[2] = {NULL, NULL};
    clpool_status st0 = clpool_plan_unpool_backward(cp->ctx[0], &u, &in, &plan[0]);
    if (st0 == CLPOOL_ERROR_OUTPUT_TOO_SMALL)
        return 0;
    ck_assert_int_eq(st0, CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_plan_unpool_backward(cp->ctx[1], &u, &in, &plan[1]), CLPOOL_SUCCESS);
    clpool_tensor_desc out;
    clpool_plan_output_desc(plan[0], &out);
    size_t in_elems = tensor_elements(&in), out_elems = tensor_elements(&out);
    size_t os = plane_elements(&out);
    double *go = malloc(out_elems * sizeof *go), *want = malloc(in_elems * sizeof *want);
    int64_t *idx = malloc(in_elems * sizeof *idx);
    int32_t *idx32 = malloc(in_elems * sizeof *idx32);
    random_values(r, go, out_elems, 0);
    round_to(t, go, out_elems);
    /* heavy duplicates: indices from a few positions */
    size_t spread = rng_below(r, 2) ? 2 : os;
    for (size_t i = 0; i < in_elems; i++) {
        idx[i] = (int64_t)rng_below(r, (uint32_t)(spread < os ? spread : os));
        idx32[i] = (int32_t)idx[i];
    }
    ref_unpool_backward(&in, &out, go, idx, want);
    void *go_s = to_storage(t, go, out_elems);
    size_t esize = clpool_dtype_size(t);
    unsigned char *gi[2] = {malloc(in_elems * esize), malloc(in_elems * esize)};
    const void *ip = u.indices == CLPOOL_INDICES_INT32 ? (const void *)idx32 : (const void *)idx;
    size_t bad = 0;
    char label[96];
    snprintf(label, sizeof label, "unpool case %d (%s, %dD, %s)", number, storage_dtype_name(t),
             dims, layout == CLPOOL_NHWC ? "NHWC" : "NCHW");
    for (int v = 0; v < 2; v++) {
        ck_assert_int_eq(run_host(plan[v], t, NULL, go_s, ip, gi[v], in_elems), CLPOOL_SUCCESS);
        bad += compare(t, gi[v], want, in_elems, 0, 0, label);
    }
    if (memcmp(gi[0], gi[1], in_elems * esize) != 0) {
        fprintf(stderr, "%s: the two work-group sizes / batch splits differ\n", label);
        bad++;
    }
    clpool_plan_destroy(plan[0]);
    clpool_plan_destroy(plan[1]);
    free(go);
    free(want);
    free(idx);
    free(idx32);
    free(go_s);
    free(gi[0]);
    free(gi[1]);
    return bad;
}

START_TEST(test_unpool_sweep)
{
    ctx_pair cp = make_pair();
    test_rng r = {0x756e706f6f6cULL + (uint64_t)_i};
    int small = test_small_mode(), cases = small ? 4 : test_scaled(300);
    size_t bad = 0;
    for (int i = 0; i < cases; i++)
        bad += unpool_case(&cp, &r, small, i);
    free_pair(&cp);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* ---- adaptive and global max/avg ------------------------------------------ */

/* Per-dtype relative tolerance of a gradient summed in float (double for
 * float64) and rounded once to storage. */
static double dtype_rtol(clpool_dtype t)
{
    return t == CLPOOL_FLOAT64    ? 1e-12
           : t == CLPOOL_FLOAT16  ? 2e-3
           : t == CLPOOL_BFLOAT16 ? 1.6e-2
                                  : 2e-6;
}

/* Compares against want with tolerance rtol * mag[i] (mag: the gradient of
 * |grad_output|, the scale of the sum's rounding) and the dtype's rounding. */
static size_t compare_scaled(clpool_dtype t, const void *got, const double *want, const double *mag,
                             size_t count, const char *label)
{
    size_t bad = 0;
    double rtol = dtype_rtol(t);
    for (size_t i = 0; i < count; i++) {
        double g = storage_load(t, got, i), w = want[i];
        double tol = rtol * (mag[i] + fabs(w)) + 1e-30;
        int ok = !storage_is_poison(t, got, i) && (isnan(w) ? isnan(g) : fabs(g - w) <= tol);
        if (!ok && bad++ < 5)
            fprintf(stderr, "%s: grad_input[%zu] = %.9g, want %.9g (tol %.3g)\n", label, i, g, w,
                    tol);
    }
    return bad;
}

typedef struct grad_case {
    clpool_tensor_desc in, out;
    clpool_dtype t;
    clpool_index_type it;
    size_t in_elems, out_elems;
    double *x, *go, *want, *mag;
    int64_t *idx;
} grad_case;

static void grad_case_free(grad_case *g)
{
    free(g->x);
    free(g->go);
    free(g->want);
    free(g->mag);
    free(g->idx);
}

/* Runs plans[0] and plans[1] (the two contexts) on case @p g and checks both
 * against the reference and each other; returns bad elements. */
static size_t run_pair_samples(clpool_plan *const plans[2], const grad_case *g, const void *samples,
                               const char *label)
{
    clpool_dtype t = g->t;
    size_t esize = clpool_dtype_size(t);
    void *x_s = to_storage(t, g->x, g->in_elems), *go_s = to_storage(t, g->go, g->out_elems);
    void *idx_s = NULL;
    if (g->it != CLPOOL_INDICES_NONE) {
        idx_s = malloc(g->out_elems * 8 + 8);
        for (size_t i = 0; i < g->out_elems; i++) {
            if (g->it == CLPOOL_INDICES_INT32)
                ((int32_t *)idx_s)[i] = (int32_t)g->idx[i];
            else
                ((int64_t *)idx_s)[i] = g->idx[i];
        }
    }
    unsigned char *gi[2] = {malloc(g->in_elems * esize + 8), malloc(g->in_elems * esize + 8)};
    size_t bad = 0;
    for (int v = 0; v < 2; v++) {
        ck_assert_int_eq(
            run_host_samples(plans[v], t, x_s, go_s, idx_s, samples, gi[v], g->in_elems),
            CLPOOL_SUCCESS);
        bad += compare_scaled(t, gi[v], g->want, g->mag, g->in_elems, label);
    }
    if (memcmp(gi[0], gi[1], g->in_elems * esize) != 0) {
        fprintf(stderr, "%s: the two work-group sizes / batch splits differ\n", label);
        bad++;
    }
    free(x_s);
    free(go_s);
    free(idx_s);
    free(gi[0]);
    free(gi[1]);
    return bad;
}

/* Random input values of a case: ties, a few NaNs in some cases. */
static void case_values(test_rng *r, grad_case *g)
{
    int nans = rng_below(r, 4) == 0;
    random_values(r, g->x, g->in_elems, 1);
    for (size_t i = 0; nans && i < g->in_elems; i++)
        if (rng_below(r, 16) == 0)
            g->x[i] = NAN;
    round_to(g->t, g->x, g->in_elems);
    random_values(r, g->go, g->out_elems, 0);
    round_to(g->t, g->go, g->out_elems);
}

static size_t adaptive_case(ctx_pair *cp, test_rng *r, int small, int number)
{
    grad_case g;
    memset(&g, 0, sizeof g);
    int dims = rng_range(r, 1, 3);
    g.t = float_dtypes[rng_below(r, cp->fp64 ? 4 : 3)];
    clpool_layout layout = rng_below(r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW;
    clpool_adaptive_desc op;
    memset(&op, 0, sizeof op);
    op.op = rng_below(r, 2) ? CLPOOL_OP_MAX : CLPOOL_OP_AVG;
    int global = rng_below(r, 6) == 0;
    size_t s[3];
    int o[3] = {1, 1, 1};
    for (int i = 0; i < dims; i++) {
        int in = rng_range(r, 1, small ? 4 : (dims == 3 ? 5 : 9));
        s[i] = (size_t)in;
        /* Out below, equal to or above In */
        int pick = rng_below(r, 3);
        o[i] = pick == 0 ? rng_range(r, 1, in) : pick == 1 ? in : rng_range(r, in, 2 * in + 1);
        op.output_size[i] = global ? 0 : o[i];
        if (global)
            o[i] = 1;
    }
    if (op.op == CLPOOL_OP_MAX)
        op.indices = (clpool_index_type)rng_below(r, 3); /* none, int64, int32 */
    g.it = op.indices;
    size_t n = (size_t)rng_range(r, 1, small ? 1 : 3), c = (size_t)rng_range(r, 1, small ? 2 : 4);
    g.in = tdesc(g.t, layout, dims, n, c, s);
    clpool_plan *plans[2] = {NULL, NULL};
    for (int v = 0; v < 2; v++)
        ck_assert_int_eq(clpool_plan_adaptive_backward(cp->ctx[v], &op, &g.in, &plans[v]),
                         CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_plan_output_desc(plans[0], &g.out), CLPOOL_SUCCESS);
    for (int i = 0; i < dims; i++)
        ck_assert_uint_eq(g.out.spatial[i], (size_t)o[i]);
    g.in_elems = tensor_elements(&g.in);
    g.out_elems = tensor_elements(&g.out);
    g.x = malloc(g.in_elems * sizeof *g.x);
    g.go = malloc(g.out_elems * sizeof *g.go);
    g.want = malloc(g.in_elems * sizeof *g.want);
    g.mag = malloc(g.in_elems * sizeof *g.mag);
    g.idx = malloc(g.out_elems * sizeof *g.idx);
    case_values(r, &g);
    double *y = malloc(g.out_elems * sizeof *y);
    ref_adaptive_forward(op.op, &g.in, o, g.x, y, g.idx);
    free(y);
    /* index -1 sends nothing */
    for (size_t i = 0; g.it != CLPOOL_INDICES_NONE && i < g.out_elems; i++)
        if (rng_below(r, 8) == 0)
            g.idx[i] = -1;
    const int64_t *idx = g.it != CLPOOL_INDICES_NONE ? g.idx : NULL;
    ref_adaptive_backward(op.op, &g.in, o, g.x, g.go, idx, g.want);
    double *ago = malloc(g.out_elems * sizeof *ago);
    for (size_t i = 0; i < g.out_elems; i++)
        ago[i] = fabs(g.go[i]);
    ref_adaptive_backward(op.op, &g.in, o, g.x, ago, idx, g.mag);
    free(ago);
    char label[128];
    snprintf(label, sizeof label, "adaptive case %d (%s %s, %dD, %s, idx %d)", number,
             op.op == CLPOOL_OP_MAX ? "max" : "avg", storage_dtype_name(g.t), dims,
             layout == CLPOOL_NHWC ? "NHWC" : "NCHW", (int)g.it);
    size_t bad = run_pair_samples(plans, &g, NULL, label);
    clpool_plan_destroy(plans[0]);
    clpool_plan_destroy(plans[1]);
    grad_case_free(&g);
    return bad;
}

START_TEST(test_adaptive_sweep)
{
    ctx_pair cp = make_pair();
    test_rng r = {0x616461707469ULL + (uint64_t)_i};
    int small = test_small_mode(), cases = small ? 6 : test_scaled(400);
    size_t bad = 0;
    for (int i = 0; i < cases; i++)
        bad += adaptive_case(&cp, &r, small, i);
    free_pair(&cp);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

START_TEST(test_adaptive_examples)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    /* 1-D In=5 -> Out=3: bins [0,2), [1,4), [3,5); avg with g = 1, 1, 1
     * gives 1/2, 1/2+1/3, 1/3, 1/3+1/2, 1/2 */
    size_t s5[1] = {5};
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 1, s5);
    clpool_adaptive_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_AVG;
    op.output_size[0] = 3;
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_adaptive_backward(ctx, &op, &in, &plan), CLPOOL_SUCCESS);
    float go[3] = {1, 1, 1}, gi[5];
    ck_assert_int_eq(run_host(plan, CLPOOL_FLOAT32, NULL, go, NULL, gi, 5), CLPOOL_SUCCESS);
    const double want[5] = {0.5, 0.5 + 1.0 / 3, 1.0 / 3, 1.0 / 3 + 0.5, 0.5};
    for (int i = 0; i < 5; i++)
        ck_assert_msg(fabs(gi[i] - want[i]) < 1e-6, "avg grad_input[%d] = %g, want %g", i, gi[i],
                      want[i]);
    clpool_plan_destroy(plan);
    /* global max from indices: [3, -1] over two planes of x; -1 sends nothing */
    op.op = CLPOOL_OP_MAX;
    op.output_size[0] = 0;
    op.indices = CLPOOL_INDICES_INT64;
    in.c = 2;
    ck_assert_int_eq(clpool_plan_adaptive_backward(ctx, &op, &in, &plan), CLPOOL_SUCCESS);
    int64_t idx[2] = {3, -1};
    float g2[2] = {7, 9}, gi2[10];
    ck_assert_int_eq(run_host(plan, CLPOOL_FLOAT32, NULL, g2, idx, gi2, 10), CLPOOL_SUCCESS);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(gi2[i] == (i == 3 ? 7.0f : 0.0f), "global max grad_input[%d] = %g", i,
                      gi2[i]);
    clpool_plan_destroy(plan);
    /* recomputed: ties go to the first maximum, NaN to the last NaN */
    op.indices = CLPOOL_INDICES_NONE;
    ck_assert_int_eq(clpool_plan_adaptive_backward(ctx, &op, &in, &plan), CLPOOL_SUCCESS);
    float x[10] = {1, 4, 2, 4, 0, NAN, 1, NAN, 2, 3};
    ck_assert_int_eq(run_host(plan, CLPOOL_FLOAT32, x, g2, NULL, gi2, 10), CLPOOL_SUCCESS);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(gi2[i] == (i == 1   ? 7.0f
                                 : i == 7 ? 9.0f
                                          : 0.0f),
                      "recomputed grad_input[%d] = %g", i, gi2[i]);
    clpool_plan_destroy(plan);
    /* integer dtypes have no gradient; the forward's checks apply */
    in.dtype = CLPOOL_INT8;
    ck_assert_int_eq(clpool_plan_adaptive_backward(ctx, &op, &in, &plan), CLPOOL_ERROR_UNSUPPORTED);
    in.dtype = CLPOOL_FLOAT32;
    op.output_size[0] = -1;
    ck_assert_int_eq(clpool_plan_adaptive_backward(ctx, &op, &in, &plan),
                     CLPOOL_ERROR_OUTPUT_TOO_SMALL);
    op.output_size[0] = 2;
    op.op = CLPOOL_OP_AVG;
    op.indices = CLPOOL_INDICES_INT64;
    ck_assert_int_eq(clpool_plan_adaptive_backward(ctx, &op, &in, &plan),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_context_destroy(ctx);
}
END_TEST

/* The avg reference against central differences of L(x) = sum(go * y(x)). */
START_TEST(test_adaptive_avg_numerical)
{
    test_rng r = {0x6e756d6572ULL};
    for (int t = 0; t < 40; t++) {
        int dims = rng_range(&r, 1, 3);
        size_t s[3];
        int o[3];
        for (int i = 0; i < dims; i++) {
            s[i] = (size_t)rng_range(&r, 1, dims == 3 ? 4 : 6);
            o[i] = rng_range(&r, 1, 2 * (int)s[i] + 1);
        }
        clpool_tensor_desc in = tdesc(CLPOOL_FLOAT64, rng_below(&r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW,
                                      dims, 1, (size_t)rng_range(&r, 1, 3), s);
        clpool_tensor_desc out = in;
        for (int i = 0; i < dims; i++)
            out.spatial[i] = (size_t)o[i];
        size_t ni = tensor_elements(&in), no = tensor_elements(&out);
        double *x = malloc(ni * sizeof *x), *go = malloc(no * sizeof *go), *gi = malloc(ni * 8);
        double *y = malloc(no * sizeof *y);
        int64_t *idx = malloc(no * sizeof *idx);
        for (size_t i = 0; i < ni; i++)
            x[i] = (double)rng_range(&r, -1000, 1000) / 100.0;
        for (size_t i = 0; i < no; i++)
            go[i] = (double)rng_range(&r, -1000, 1000) / 100.0;
        ref_adaptive_backward(CLPOOL_OP_AVG, &in, o, x, go, NULL, gi);
        const double h = 1e-4;
        for (size_t i = 0; i < ni; i++) {
            double keep = x[i], lp = 0, lm = 0;
            x[i] = keep + h;
            ref_adaptive_forward(CLPOOL_OP_AVG, &in, o, x, y, idx);
            for (size_t k = 0; k < no; k++)
                lp += go[k] * y[k];
            x[i] = keep - h;
            ref_adaptive_forward(CLPOOL_OP_AVG, &in, o, x, y, idx);
            for (size_t k = 0; k < no; k++)
                lm += go[k] * y[k];
            x[i] = keep;
            double num = (lp - lm) / (2 * h);
            ck_assert_msg(fabs(num - gi[i]) <= 1e-6 * (1 + fabs(gi[i])),
                          "case %d element %zu: numerical %.12g, reference %.12g", t, i, num,
                          gi[i]);
        }
        free(x);
        free(go);
        free(gi);
        free(y);
        free(idx);
    }
}
END_TEST

/* ---- spatial pyramid pooling ---------------------------------------------- */

static size_t spp_case(ctx_pair *cp, test_rng *r, int small, int number)
{
    grad_case g;
    memset(&g, 0, sizeof g);
    g.t = float_dtypes[rng_below(r, cp->fp64 ? 4 : 3)];
    clpool_layout layout = rng_below(r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW;
    clpool_spp_desc op;
    memset(&op, 0, sizeof op);
    op.op = rng_below(r, 3) == 0 ? (clpool_op)0 : rng_below(r, 2) ? CLPOOL_OP_MAX : CLPOOL_OP_AVG;
    clpool_op mode = op.op == 0 ? CLPOOL_OP_MAX : op.op;
    op.level_count = rng_range(r, 1, small ? 2 : 4);
    for (int l = 0; l < op.level_count; l++)
        op.levels[l] = rng_range(r, 1, small ? 3 : 6);
    if (mode == CLPOOL_OP_MAX)
        op.indices = (clpool_index_type)rng_below(r, 3);
    g.it = op.indices;
    size_t s[2] = {(size_t)rng_range(r, 1, small ? 4 : 9), (size_t)rng_range(r, 1, small ? 4 : 9)};
    size_t n = (size_t)rng_range(r, 1, small ? 1 : 3), c = (size_t)rng_range(r, 1, small ? 2 : 4);
    g.in = tdesc(g.t, layout, 2, n, c, s);
    clpool_plan *plans[2] = {NULL, NULL};
    for (int v = 0; v < 2; v++)
        ck_assert_int_eq(clpool_plan_spp_backward(cp->ctx[v], &op, &g.in, &plans[v]),
                         CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_plan_output_desc(plans[0], &g.out), CLPOOL_SUCCESS);
    g.in_elems = tensor_elements(&g.in);
    g.out_elems = tensor_elements(&g.out);
    g.x = malloc(g.in_elems * sizeof *g.x);
    g.go = malloc(g.out_elems * sizeof *g.go);
    g.want = malloc(g.in_elems * sizeof *g.want);
    g.mag = malloc(g.in_elems * sizeof *g.mag);
    g.idx = malloc(g.out_elems * sizeof *g.idx);
    case_values(r, &g);
    ref_spp_indices(&g.in, op.levels, op.level_count, g.x, g.idx);
    for (size_t i = 0; g.it != CLPOOL_INDICES_NONE && i < g.out_elems; i++)
        if (rng_below(r, 8) == 0)
            g.idx[i] = -1;
    const int64_t *idx = g.it != CLPOOL_INDICES_NONE ? g.idx : NULL;
    ref_spp_backward(mode, &g.in, op.levels, op.level_count, g.x, g.go, idx, g.want);
    double *ago = malloc(g.out_elems * sizeof *ago);
    for (size_t i = 0; i < g.out_elems; i++)
        ago[i] = fabs(g.go[i]);
    ref_spp_backward(mode, &g.in, op.levels, op.level_count, g.x, ago, idx, g.mag);
    free(ago);
    char label[128];
    snprintf(label, sizeof label, "spp case %d (%s %s, %s, %d levels, idx %d)", number,
             mode == CLPOOL_OP_MAX ? "max" : "avg", storage_dtype_name(g.t),
             layout == CLPOOL_NHWC ? "NHWC" : "NCHW", op.level_count, (int)g.it);
    size_t bad = run_pair_samples(plans, &g, NULL, label);
    clpool_plan_destroy(plans[0]);
    clpool_plan_destroy(plans[1]);
    grad_case_free(&g);
    return bad;
}

START_TEST(test_spp_sweep)
{
    ctx_pair cp = make_pair();
    test_rng r = {0x737070ULL + (uint64_t)_i};
    int small = test_small_mode(), cases = small ? 4 : test_scaled(250);
    size_t bad = 0;
    for (int i = 0; i < cases; i++)
        bad += spp_case(&cp, &r, small, i);
    free_pair(&cp);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

START_TEST(test_spp_example)
{
    /* 2x2 input, levels 1 and 2, avg: level 1 sends g0/4 to every cell,
     * level 2 its bin's gradient to its own cell */
    clpool_context *ctx = test_context(NULL, 0, 0);
    size_t s[2] = {2, 2};
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, s);
    clpool_spp_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_AVG;
    op.levels[0] = 1;
    op.levels[1] = 2;
    op.level_count = 2;
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_spp_backward(ctx, &op, &in, &plan), CLPOOL_SUCCESS);
    float go[5] = {4, 1, 2, 3, 5}, gi[4];
    ck_assert_int_eq(run_host(plan, CLPOOL_FLOAT32, NULL, go, NULL, gi, 4), CLPOOL_SUCCESS);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(gi[i] == 1.0f + go[1 + i], "grad_input[%d] = %g", i, gi[i]);
    clpool_plan_destroy(plan);
    in.spatial_dims = 1;
    ck_assert_int_eq(clpool_plan_spp_backward(ctx, &op, &in, &plan), CLPOOL_ERROR_INVALID_SHAPE);
    in.spatial_dims = 2;
    in.dtype = CLPOOL_UINT8;
    ck_assert_int_eq(clpool_plan_spp_backward(ctx, &op, &in, &plan), CLPOOL_ERROR_UNSUPPORTED);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- fractional max ------------------------------------------------------- */

static size_t fractional_case(ctx_pair *cp, test_rng *r, int small, int number)
{
    grad_case g;
    memset(&g, 0, sizeof g);
    int dims = rng_range(r, 2, 3);
    g.t = float_dtypes[rng_below(r, cp->fp64 ? 4 : 3)];
    clpool_layout layout = rng_below(r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW;
    clpool_fractional_desc op;
    memset(&op, 0, sizeof op);
    size_t s[3];
    int o[3];
    for (int i = 0; i < dims; i++) {
        int in = rng_range(r, 2, small ? 5 : (dims == 3 ? 6 : 10));
        int k = rng_range(r, 1, in - 1 < 3 ? in - 1 : 3);
        int most = dims == 2 ? in - k + 1 : in - k;
        s[i] = (size_t)in;
        op.kernel[i] = k;
        o[i] = rng_range(r, 1, most);
        op.output_size[i] = o[i];
    }
    op.samples_given = (int)rng_below(r, 2);
    op.seed = rng_next(r);
    op.indices = (clpool_index_type)rng_below(r, 3);
    g.it = op.indices;
    size_t n = (size_t)rng_range(r, 1, small ? 1 : 3), c = (size_t)rng_range(r, 1, small ? 2 : 4);
    g.in = tdesc(g.t, layout, dims, n, c, s);
    clpool_plan *plans[2] = {NULL, NULL};
    for (int v = 0; v < 2; v++)
        ck_assert_int_eq(clpool_plan_fractional_backward(cp->ctx[v], &op, &g.in, &plans[v]),
                         CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_plan_output_desc(plans[0], &g.out), CLPOOL_SUCCESS);
    g.in_elems = tensor_elements(&g.in);
    g.out_elems = tensor_elements(&g.out);
    g.x = malloc(g.in_elems * sizeof *g.x);
    g.go = malloc(g.out_elems * sizeof *g.go);
    g.want = malloc(g.in_elems * sizeof *g.want);
    g.mag = malloc(g.in_elems * sizeof *g.mag);
    g.idx = malloc(g.out_elems * sizeof *g.idx);
    case_values(r, &g);
    size_t planes = n * c, count = planes * (size_t)dims;
    double *samples = malloc(count * sizeof *samples), *y = malloc(g.out_elems * sizeof *y);
    float *samples32 = malloc(count * sizeof *samples32);
    for (size_t p = 0; p < planes; p++)
        for (int j = 0; j < dims; j++) {
            double u = op.samples_given ? (double)(rng_next(r) >> 11) * 0x1p-53
                                        : (double)clpool_uniform(op.seed, p, (uint64_t)j);
            samples[p * (size_t)dims + (size_t)j] = g.t == CLPOOL_FLOAT64 ? u : (double)(float)u;
            samples32[p * (size_t)dims + (size_t)j] = (float)u;
        }
    void *x_s = to_storage(g.t, g.x, g.in_elems);
    ref_fractional(&g.in, op.kernel, o, samples, x_s, y, g.idx);
    free(x_s);
    free(y);
    for (size_t i = 0; g.it != CLPOOL_INDICES_NONE && i < g.out_elems; i++)
        if (rng_below(r, 8) == 0)
            g.idx[i] = -1;
    ref_select_backward(&g.in, &g.out, g.go, g.idx, g.want);
    double *ago = malloc(g.out_elems * sizeof *ago);
    for (size_t i = 0; i < g.out_elems; i++)
        ago[i] = fabs(g.go[i]);
    ref_select_backward(&g.in, &g.out, ago, g.idx, g.mag);
    free(ago);
    char label[160];
    snprintf(label, sizeof label, "fractional case %d (%s, %dD, %s, idx %d, samples %s)", number,
             storage_dtype_name(g.t), dims, layout == CLPOOL_NHWC ? "NHWC" : "NCHW", (int)g.it,
             op.samples_given ? "given" : "drawn");
    const void *smp = g.t == CLPOOL_FLOAT64 ? (const void *)samples : (const void *)samples32;
    size_t bad = run_pair_samples(plans, &g, op.samples_given ? smp : NULL, label);
    free(samples);
    free(samples32);
    clpool_plan_destroy(plans[0]);
    clpool_plan_destroy(plans[1]);
    grad_case_free(&g);
    return bad;
}

START_TEST(test_fractional_sweep)
{
    ctx_pair cp = make_pair();
    test_rng r = {0x6672616374ULL + (uint64_t)_i};
    int small = test_small_mode(), cases = small ? 4 : test_scaled(300);
    size_t bad = 0;
    for (int i = 0; i < cases; i++)
        bad += fractional_case(&cp, &r, small, i);
    free_pair(&cp);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

START_TEST(test_fractional_invalid)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    size_t s[2] = {5, 5};
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, s);
    clpool_fractional_desc op;
    memset(&op, 0, sizeof op);
    op.kernel[0] = op.kernel[1] = 2;
    op.output_size[0] = op.output_size[1] = 5; /* 5 + 2 - 1 > 5 */
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_fractional_backward(ctx, &op, &in, &plan),
                     CLPOOL_ERROR_INVALID_KERNEL);
    op.output_size[0] = op.output_size[1] = 3;
    in.dtype = CLPOOL_UINT8;
    ck_assert_int_eq(clpool_plan_fractional_backward(ctx, &op, &in, &plan),
                     CLPOOL_ERROR_UNSUPPORTED);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- clpool_enqueue with offsets ------------------------------------------ */

#define OFF 3 /* elements before each tensor in its buffer */

static cl_mem buffer_of(cl_context cl, const void *data, size_t esize, size_t count)
{
    size_t bytes = (count + 2 * OFF) * esize;
    unsigned char *host = malloc(bytes);
    ck_assert_ptr_nonnull(host);
    memset(host, 0x5a, bytes);
    if (data)
        memcpy(host + OFF * esize, data, count * esize);
    cl_int err = CL_SUCCESS;
    cl_mem m = clCreateBuffer(cl, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, host, &err);
    free(host);
    ck_assert_int_eq(err, CL_SUCCESS);
    return m;
}

/*
 * Enqueues @p plan on buffers holding each float32 tensor at element offset
 * OFF between 0x5a guards; returns grad_input as read back, after checking
 * that no guard changed.
 */
static void enqueue_f32(clpool_context *ctx, clpool_plan *plan, const float *x, size_t nx,
                        const float *go, size_t ngo, const int64_t *idx, size_t nidx, float *gi,
                        size_t ngi)
{
    cl_context cl = clpool_context_cl_context(ctx);
    cl_command_queue q = clpool_context_cl_queue(ctx);
    clpool_io io;
    memset(&io, 0, sizeof io);
    cl_mem mx = x ? buffer_of(cl, x, 4, nx) : NULL, mg = buffer_of(cl, go, 4, ngo);
    cl_mem mi = idx ? buffer_of(cl, idx, 8, nidx) : NULL, mo = buffer_of(cl, NULL, 4, ngi);
    io.input = (clpool_buffer){mx, OFF};
    io.grad_output = (clpool_buffer){mg, OFF};
    io.indices = (clpool_buffer){mi, OFF};
    io.grad_input = (clpool_buffer){mo, OFF};
    size_t ws = clpool_plan_workspace_size(plan);
    cl_mem mw = ws ? buffer_of(cl, NULL, 16, ws / 16 + 1) : NULL;
    io.workspace = (clpool_buffer){mw, 16 * OFF}; /* bytes, a multiple of 16 */
    ck_assert_int_eq(clpool_enqueue(plan, q, &io, 0, NULL, NULL), CLPOOL_SUCCESS);
    size_t bytes = (ngi + 2 * OFF) * 4;
    unsigned char *all = malloc(bytes);
    ck_assert_int_eq(clEnqueueReadBuffer(q, mo, CL_TRUE, 0, bytes, all, 0, NULL, NULL), CL_SUCCESS);
    for (size_t i = 0; i < OFF * 4; i++) {
        ck_assert_msg(all[i] == 0x5a, "guard byte %zu before grad_input changed", i);
        ck_assert_msg(all[bytes - 1 - i] == 0x5a, "guard byte %zu after grad_input changed", i);
    }
    memcpy(gi, all + OFF * 4, ngi * 4);
    free(all);
    if (mx)
        clReleaseMemObject(mx);
    if (mi)
        clReleaseMemObject(mi);
    if (mw)
        clReleaseMemObject(mw);
    clReleaseMemObject(mg);
    clReleaseMemObject(mo);
}

START_TEST(test_enqueue_offsets)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    /* unpool: an out-of-range index on the device gives 0 there */
    clpool_unpool_desc u = unpool_desc(2, 0, 0);
    size_t s2[2] = {2, 2};
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, s2);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_unpool_backward(ctx, &u, &in, &plan), CLPOOL_SUCCESS);
    float go[16], gi[4];
    for (int i = 0; i < 16; i++)
        go[i] = (float)(10 + i);
    int64_t idx[4] = {0, 99, 5, -1};
    enqueue_f32(ctx, plan, NULL, 0, go, 16, idx, 4, gi, 4);
    const float want_u[4] = {10, 0, 15, 0};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(gi[i] == want_u[i], "unpool grad_input[%d] = %g", i, gi[i]);
    clpool_plan_destroy(plan);
    /* adaptive max recomputed (through a workspace of one long per
     * output), 1-D In=5 -> Out=3 */
    size_t s5[1] = {5};
    in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 1, s5);
    clpool_adaptive_desc a;
    memset(&a, 0, sizeof a);
    a.op = CLPOOL_OP_MAX;
    a.output_size[0] = 3;
    ck_assert_int_eq(clpool_plan_adaptive_backward(ctx, &a, &in, &plan), CLPOOL_SUCCESS);
    ck_assert_uint_eq(clpool_plan_workspace_size(plan), 3 * 8);
    const float x[5] = {1, 5, 2, 5, 0}, g3[3] = {1, 2, 4};
    float gi5[5];
    enqueue_f32(ctx, plan, x, 5, g3, 3, NULL, 0, gi5, 5);
    const float want_a[5] = {0, 3, 0, 4, 0};
    for (int i = 0; i < 5; i++)
        ck_assert_msg(gi5[i] == want_a[i], "adaptive grad_input[%d] = %g", i, gi5[i]);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

static Suite *region_backward_suite(void)
{
    Suite *s = suite_create("region-backward");
    TCase *tc = tcase_create("unpool");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_unpool_spec_example);
    tcase_add_test(tc, test_unpool_sweep);
    tcase_add_test(tc, test_enqueue_offsets);
    suite_add_tcase(s, tc);
    tc = tcase_create("adaptive");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_adaptive_examples);
    tcase_add_test(tc, test_adaptive_sweep);
    if (!test_small_mode())
        tcase_add_test(tc, test_adaptive_avg_numerical);
    suite_add_tcase(s, tc);
    tc = tcase_create("spp");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_spp_example);
    tcase_add_test(tc, test_spp_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("fractional");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_fractional_invalid);
    tcase_add_test(tc, test_fractional_sweep);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(region_backward_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
