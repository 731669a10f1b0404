/*
 * Suite "fractional": fractional max pooling (spec §6) against the
 * reference (reference_unpool.c): the spec's 7x10 example and its
 * float32-versus-double interval case literally, a seeded random sweep over
 * 2-D/3-D, NCHW/NHWC, every dtype, output sizes and ratios, given and drawn
 * samples, index types, NaN/-inf/tie patterns, work-group sizes and plane
 * splits (clpool_run_host_io() and clpool_enqueue() with guards), the seed
 * and its replay as samples, and the statuses of invalid parameters.
 * CLPOOL_TEST_SMALL=1 keeps a few tiny cases (for oclgrind).
 */
#include "harness.h"
#include "test_env.h"
#include "reference_unpool.h"
#include "storage.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clpool_tensor_desc tdesc(clpool_dtype t, clpool_layout l, int dims, size_t n, size_t c,
                                size_t s0, size_t s1, size_t s2)
{
    clpool_tensor_desc d = tensor(dims, n, c, s0, s1, s2);
    d.dtype = t;
    d.layout = l;
    return d;
}

/* ---- the spec's examples ------------------------------------------------- */

START_TEST(test_spec_7x10)
{
    /* x = arange(70) as 7x10, k=(2,3), O=(4,5), samples [0.3, 0.8] */
    clpool_context *ctx = test_context(NULL, 0, 0);
    clpool_fractional_desc f;
    memset(&f, 0, sizeof f);
    f.kernel[0] = 2;
    f.kernel[1] = 3;
    f.output_size[0] = 4;
    f.output_size[1] = 5;
    f.samples_given = 1;
    f.indices = CLPOOL_INDICES_INT64;
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, 7, 10, 0);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_fractional(ctx, &f, &in, &plan), CLPOOL_SUCCESS);
    float x[70], y[20], s[2] = {0.3f, 0.8f};
    int64_t idx[20];
    for (int i = 0; i < 70; i++)
        x[i] = (float)i;
    poison_floats(y, 20);
    poison_indices(idx, CLPOOL_INDICES_INT64, 20);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = x;
    io.output = y;
    io.indices = idx;
    io.samples = s;
    ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_SUCCESS);
    const int want[20] = {12, 14, 16, 17, 19, 22, 24, 26, 27, 29,
                          42, 44, 46, 47, 49, 62, 64, 66, 67, 69};
    for (int i = 0; i < 20; i++) {
        ck_assert_msg(y[i] == (float)want[i], "out[%d] = %g, want %d", i, y[i], want[i]);
        ck_assert_msg(idx[i] == want[i], "idx[%d] = %lld, want %d", i, (long long)idx[i], want[i]);
    }
    /* the reference's windows: seqW [0,2,4,5,7], seqH [0,1,3,5] */
    int seq[5];
    const int seq_w[5] = {0, 2, 4, 5, 7}, seq_h[4] = {0, 1, 3, 5};
    ref_fractional_starts(CLPOOL_FLOAT32, 10, 5, 3, 0.3f, seq);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(seq[i], seq_w[i]);
    ref_fractional_starts(CLPOOL_FLOAT32, 7, 4, 2, 0.8f, seq);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(seq[i], seq_h[i]);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* In=84, O=25, k=1, u=float32(0.0843373): seq[19] = 66 in float32 (torch),
 * 65 in double. Run as a 1x84 plane pooled to 1x25 with a unit window: the
 * output is x at the window starts. */
START_TEST(test_spec_float_intervals)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    int seq[25];
    const float u = 0.0843373f;
    ref_fractional_starts(CLPOOL_FLOAT32, 84, 25, 1, u, seq);
    ck_assert_int_eq(seq[19], 66);
    ref_fractional_starts(CLPOOL_FLOAT64, 84, 25, 1, (double)u, seq);
    ck_assert_int_eq(seq[19], 65);
    clpool_fractional_desc f;
    memset(&f, 0, sizeof f);
    f.kernel[0] = f.kernel[1] = 1;
    f.output_size[0] = 1;
    f.output_size[1] = 25;
    f.samples_given = 1;
    f.indices = CLPOOL_INDICES_INT32;
    for (int t = 0; t < 2; t++) {
        clpool_dtype dtype = t ? CLPOOL_FLOAT64 : CLPOOL_FLOAT32;
        if (dtype == CLPOOL_FLOAT64 && !test_has_fp64(ctx))
            continue;
        clpool_tensor_desc in = tdesc(dtype, CLPOOL_NCHW, 2, 1, 1, 1, 84, 0);
        clpool_plan *plan = NULL;
        ck_assert_int_eq(clpool_plan_fractional(ctx, &f, &in, &plan), CLPOOL_SUCCESS);
        double x64[84], y64[25];
        float x32[84], y32[25];
        for (int i = 0; i < 84; i++)
            x64[i] = x32[i] = (float)i;
        int32_t idx[25];
        poison_indices(idx, CLPOOL_INDICES_INT32, 25);
        float s32[2] = {u, 0.5f};
        double s64[2] = {(double)u, 0.5};
        clpool_host_io io;
        memset(&io, 0, sizeof io);
        io.input = t ? (void *)x64 : (void *)x32;
        io.output = t ? (void *)y64 : (void *)y32;
        io.indices = idx;
        io.samples = t ? (void *)s64 : (void *)s32;
        ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_SUCCESS);
        int want = t ? 65 : 66;
        double got = t ? y64[19] : y32[19];
        ck_assert_msg(got == want && idx[19] == want, "%s: out[19] = %g, idx %d, want %d",
                      t ? "float64" : "float32", got, idx[19], want);
        clpool_plan_destroy(plan);
    }
    clpool_context_destroy(ctx);
}
END_TEST

/* Samples outside [0, 1) (torch does not check them): every window stays
 * inside the input: each output is the input at its index, which lies in
 * the plane (Oclgrind also checks that nothing outside is read). */
START_TEST(test_bad_samples)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    clpool_fractional_desc f;
    memset(&f, 0, sizeof f);
    f.kernel[0] = f.kernel[1] = f.kernel[2] = 2;
    f.output_size[0] = 2;
    f.output_size[1] = f.output_size[2] = 3;
    f.samples_given = 1;
    f.indices = CLPOOL_INDICES_INT64;
    const float bad[] = {-0.5f, 1.5f, NAN, 7.0f, 1.0f, -INFINITY, INFINITY, 1e30f, -1e30f};
    enum { P = 3 * 2, X = 5 * 6 * 7, Y = 2 * 3 * 3 };
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 3, 3, 2, 5, 6, 7);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_fractional(ctx, &f, &in, &plan), CLPOOL_SUCCESS);
    float x[P * X], y[P * Y], s[P * 3];
    int64_t idx[P * Y];
    for (int i = 0; i < P * X; i++)
        x[i] = (float)((i * 37) % 101);
    for (int i = 0; i < P * 3; i++)
        s[i] = bad[i % 9];
    poison_floats(y, P * Y);
    poison_indices(idx, CLPOOL_INDICES_INT64, P * Y);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = x;
    io.output = y;
    io.indices = idx;
    io.samples = s;
    ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_SUCCESS);
    for (int e = 0; e < P * Y; e++) {
        int p = e / Y;
        ck_assert_msg(idx[e] >= 0 && idx[e] < X, "element %d: index %lld outside the plane", e,
                      (long long)idx[e]);
        ck_assert_msg(y[e] == x[p * X + idx[e]], "element %d: %g is not the input at its index", e,
                      y[e]);
    }
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- the random sweep ---------------------------------------------------- */

static const clpool_dtype sweep_dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16,
                                            CLPOOL_FLOAT64, CLPOOL_UINT8,   CLPOOL_INT8};

typedef struct sweep_case {
    clpool_tensor_desc in;
    clpool_fractional_desc op;
    int out[3]; /* the sizes the case expects */
} sweep_case;

/* A random valid case: sizes first, then output sizes or ratios that meet
 * torch's rules. */
static sweep_case random_case(test_rng *r, int small, int fp64)
{
    sweep_case c;
    memset(&c, 0, sizeof c);
    int dims = rng_range(r, 2, 3);
    clpool_dtype dt = sweep_dtypes[rng_below(r, 6)];
    if (!fp64 && dt == CLPOOL_FLOAT64)
        dt = CLPOOL_FLOAT32;
    int smax = small ? 6 : dims == 3 ? 9 : 40;
    c.in = tdesc(dt, rng_below(r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW, dims,
                 (size_t)rng_range(r, 1, small ? 1 : 3), (size_t)rng_range(r, 1, small ? 2 : 5), 1,
                 1, 1);
    int use_ratio = rng_below(r, 3) == 0;
    for (int i = 0; i < dims; i++) {
        int strict = dims == 3;
        int in = rng_range(r, 2 + strict, smax);
        int k = rng_range(r, 1, in - strict < 4 ? in - strict : 4);
        int omax = in - k + 1 - strict; /* O + k - 1 <= In (2-D), < In (3-D) */
        if (omax < 1) {
            k = 1;
            omax = in - strict;
        }
        int o = rng_range(r, 1, omax);
        if (use_ratio && o >= in) /* a ratio is below 1 */
            o = in - 1;
        c.in.spatial[i] = (size_t)in;
        c.op.kernel[i] = k;
        if (use_ratio) {
            /* a ratio whose truncated product is o: (o + 0.5) / in */
            double ratio = ((double)o + 0.5) / (double)in;
            c.op.output_ratio[i] = ratio;
            o = (int)((double)in * ratio);
        } else {
            c.op.output_size[i] = o;
        }
        c.out[i] = o;
    }
    c.op.samples_given = rng_below(r, 2);
    c.op.seed = rng_next(r);
    uint32_t it = rng_below(r, 3);
    c.op.indices = it == 0   ? CLPOOL_INDICES_NONE
                   : it == 1 ? CLPOOL_INDICES_INT64
                             : CLPOOL_INDICES_INT32;
    return c;
}

static void describe(char *buf, size_t cap, const sweep_case *c)
{
    snprintf(buf, cap,
             "%s %s N=%zu C=%zu in=%zux%zux%zu k=%d,%d,%d out=%d,%d,%d%s samples=%s seed=0x%llx "
             "idx=%d",
             storage_dtype_name(c->in.dtype), c->in.layout == CLPOOL_NHWC ? "NHWC" : "NCHW",
             c->in.n, c->in.c, c->in.spatial[0], c->in.spatial[1], c->in.spatial[2],
             c->op.kernel[0], c->op.kernel[1], c->op.kernel[2], c->out[0], c->out[1], c->out[2],
             c->op.output_ratio[0] != 0 ? " (ratio)" : "", c->op.samples_given ? "given" : "drawn",
             (unsigned long long)c->op.seed, (int)c->op.indices);
}

/* Input values of the dtype: ties, NaN/-inf patterns for floats. */
static void fill_input(test_rng *r, clpool_dtype dt, void *x, size_t count)
{
    value_mode mode = (value_mode)rng_below(r, VALUES_COUNT);
    float *f = malloc(count * sizeof *f + 4);
    ck_assert_ptr_nonnull(f);
    fill_values(r, f, count, mode);
    for (size_t i = 0; i < count; i++) {
        double v = f[i];
        if (dt == CLPOOL_UINT8)
            v = (double)rng_below(r, rng_below(r, 2) ? 4 : 256);
        else if (dt == CLPOOL_INT8)
            v = (double)rng_range(r, -128, 127) / (rng_below(r, 2) ? 32 : 1);
        storage_store(dt, x, i, dt == CLPOOL_INT8 ? (double)(int)v : v);
    }
    free(f);
}

/* Samples in T: random, with 0 and the largest value below 1 now and then. */
static void fill_samples(test_rng *r, clpool_dtype dt, double *s, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint32_t pick = rng_below(r, 10);
        double u = pick == 0   ? 0.0
                   : pick == 1 ? (dt == CLPOOL_FLOAT64 ? 1.0 - 0x1p-53 : (double)(1.0f - 0x1p-24f))
                               : (double)(rng_next(r) >> 11) * 0x1p-53;
        s[i] = dt == CLPOOL_FLOAT64 ? u : (double)(float)u;
    }
}

static size_t compare(const sweep_case *c, const void *got, const void *got_idx, const double *want,
                      const int64_t *want_idx, size_t count, const char *label)
{
    size_t bad = 0;
    for (size_t e = 0; e < count; e++) {
        double g = storage_load(c->in.dtype, got, e);
        int same =
            (isnan(g) && isnan(want[e]) && !storage_is_poison(c->in.dtype, got, e)) || g == want[e];
        int64_t gi = want_idx[e];
        if (got_idx)
            gi = c->op.indices == CLPOOL_INDICES_INT32 ? ((const int32_t *)got_idx)[e]
                                                       : ((const int64_t *)got_idx)[e];
        if (!same || gi != want_idx[e]) {
            if (bad < 5)
                fprintf(stderr, "%s: element %zu: got %g (index %lld), want %g (index %lld)\n",
                        label, e, g, (long long)gi, want[e], (long long)want_idx[e]);
            bad++;
        }
    }
    return bad;
}

static size_t run_case(clpool_context *ctx, test_rng *r, const sweep_case *c, int via_enqueue)
{
    char label[320];
    describe(label, sizeof label, c);
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_fractional(ctx, &c->op, &c->in, &plan);
    ck_assert_msg(st == CLPOOL_SUCCESS, "%s: plan: %s", label, clpool_status_string(st));
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
    for (int i = 0; i < c->in.spatial_dims; i++)
        ck_assert_msg(out.spatial[i] == (size_t)c->out[i], "%s: output size[%d] = %zu", label, i,
                      out.spatial[i]);
    size_t in_elems = tensor_elements(&c->in), out_elems = tensor_elements(&out);
    size_t esize = clpool_dtype_size(c->in.dtype), planes = c->in.n * c->in.c;
    size_t nd = (size_t)c->in.spatial_dims;
    void *x = malloc(in_elems * esize), *y = malloc(out_elems * esize + 8);
    int64_t *idx = malloc(out_elems * 8), *want_idx = malloc(out_elems * 8);
    double *want = malloc(out_elems * sizeof *want), *samples = malloc(planes * nd * 8);
    float *samples32 = malloc(planes * nd * 4);
    ck_assert(x && y && idx && want_idx && want && samples && samples32);
    fill_input(r, c->in.dtype, x, in_elems);
    if (c->op.samples_given) {
        fill_samples(r, c->in.dtype, samples, planes * nd);
    } else {
        for (size_t p = 0; p < planes; p++)
            for (size_t j = 0; j < nd; j++)
                samples[p * nd + j] = clpool_uniform(c->op.seed, p, j);
    }
    for (size_t i = 0; i < planes * nd; i++)
        samples32[i] = (float)samples[i];
    ref_fractional(&c->in, c->op.kernel, c->out, samples, x, want, want_idx);
    clpool_index_type it = c->op.indices;
    void *got_idx = it == CLPOOL_INDICES_NONE ? NULL : idx;
    storage_poison(c->in.dtype, y, out_elems, 0);
    if (got_idx)
        poison_indices(idx, it, out_elems);
    size_t bad = 0;
    if (via_enqueue && !c->op.samples_given) {
        size_t offsets[3] = {3, 5, 7}, guard = 0;
        st = run_enqueue_typed(plan, clpool_context_cl_context(ctx), clpool_context_cl_queue(ctx),
                               c->in.dtype, x, in_elems, y, out_elems, got_idx, it, 0, offsets,
                               &guard);
        ck_assert_msg(st == CLPOOL_SUCCESS, "%s: enqueue: %s", label, clpool_status_string(st));
        ck_assert_msg(guard == 0, "%s: %zu guard elements changed", label, guard);
    } else {
        clpool_host_io io;
        memset(&io, 0, sizeof io);
        io.input = x;
        io.output = y;
        io.indices = got_idx;
        io.samples = c->in.dtype == CLPOOL_FLOAT64 ? (void *)samples : (void *)samples32;
        st = clpool_run_host_io(plan, NULL, &io);
        ck_assert_msg(st == CLPOOL_SUCCESS, "%s: run: %s", label, clpool_status_string(st));
    }
    bad = compare(c, y, got_idx, want, want_idx, out_elems, label);
    if (bad)
        fprintf(stderr, "FAILED %s\n", label);
    free(x);
    free(y);
    free(idx);
    free(want_idx);
    free(want);
    free(samples);
    free(samples32);
    clpool_plan_destroy(plan);
    return bad;
}

START_TEST(test_sweep)
{
    size_t wgs[] = {0, 1, 16, 0}, splits[] = {0, 0, 1, 2};
    int small = test_small_mode();
    int nctx = small ? 1 : 4, cases = small ? 6 : 300;
    clpool_context *ctx[4];
    for (int i = 0; i < nctx; i++)
        ctx[i] = test_context(NULL, wgs[i], splits[i]);
    int fp64 = test_has_fp64(ctx[0]);
    test_rng r = {0xf4ac0000u + (uint64_t)_i};
    size_t bad = 0;
    for (int t = 0; t < cases; t++) {
        sweep_case c = random_case(&r, small, fp64);
        bad += run_case(ctx[t % nctx], &r, &c, (t / nctx) % 2);
    }
    for (int i = 0; i < nctx; i++)
        clpool_context_destroy(ctx[i]);
    ck_assert_msg(bad == 0, "%zu elements differ from the reference", bad);
}
END_TEST

/* clpool_plan_set_seed redraws; the same seed gives the same result. */
START_TEST(test_seed)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    clpool_fractional_desc f;
    memset(&f, 0, sizeof f);
    f.kernel[0] = f.kernel[1] = 2;
    f.output_size[0] = 5;
    f.output_size[1] = 6;
    f.seed = 42;
    f.indices = CLPOOL_INDICES_INT64;
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 2, 3, 11, 13, 0);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_fractional(ctx, &f, &in, &plan), CLPOOL_SUCCESS);
    float x[6 * 143], y[3][6 * 30];
    int64_t idx[3][6 * 30];
    for (int i = 0; i < 6 * 143; i++)
        x[i] = (float)((i * 7919) % 1000);
    uint64_t seeds[3] = {42, 43, 42};
    for (int t = 0; t < 3; t++) {
        ck_assert_int_eq(clpool_plan_set_seed(plan, seeds[t]), CLPOOL_SUCCESS);
        ck_assert_int_eq(clpool_run_host(plan, NULL, x, y[t], idx[t]), CLPOOL_SUCCESS);
        double want[6 * 30], samples[12];
        int64_t want_idx[6 * 30];
        for (int p = 0; p < 6; p++)
            for (int j = 0; j < 2; j++)
                samples[p * 2 + j] = clpool_uniform(seeds[t], (uint64_t)p, (uint64_t)j);
        ref_fractional(&in, f.kernel, f.output_size, samples, x, want, want_idx);
        for (int e = 0; e < 180; e++)
            ck_assert_msg(y[t][e] == want[e] && idx[t][e] == want_idx[e],
                          "seed %llu element %d: got %g/%lld, want %g/%lld",
                          (unsigned long long)seeds[t], e, y[t][e], (long long)idx[t][e], want[e],
                          (long long)want_idx[e]);
    }
    ck_assert_msg(memcmp(idx[0], idx[1], sizeof idx[0]) != 0, "seeds 42 and 43 drew alike");
    ck_assert_msg(memcmp(idx[0], idx[2], sizeof idx[0]) == 0, "seed 42 twice differs");
    clpool_plan_destroy(plan);
    /* a plan that reads its samples has no seed */
    f.samples_given = 1;
    ck_assert_int_eq(clpool_plan_fractional(ctx, &f, &in, &plan), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_plan_set_seed(plan, 1), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- invalid parameters -------------------------------------------------- */

START_TEST(test_invalid)
{
    test_log cap = {0};
    clpool_context *ctx = test_context(&cap, 0, 0);
    clpool_tensor_desc in2 = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 2, 7, 7, 0);
    clpool_tensor_desc in3 = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 3, 1, 2, 6, 6, 6);
    struct {
        const char *name;
        clpool_fractional_desc op;
        clpool_tensor_desc in;
        clpool_status want;
    } cases[32];
    int n = 0;
#define CASE(label, input, field, value, status)                                                   \
    do {                                                                                           \
        cases[n].name = label;                                                                     \
        memset(&cases[n].op, 0, sizeof cases[n].op);                                               \
        for (int j = 0; j < 3; j++) {                                                              \
            cases[n].op.kernel[j] = 2;                                                             \
            cases[n].op.output_size[j] = 4;                                                        \
        }                                                                                          \
        cases[n].in = input;                                                                       \
        field = value;                                                                             \
        cases[n].want = status;                                                                    \
        n++;                                                                                       \
    } while (0)
    /* 2-D: O + k - 1 <= In; 7 with k=2 allows O=6, not 7 (torch's example) */
    CASE("2-D pool too large", in2, cases[n].op.output_size[0], 7, CLPOOL_ERROR_INVALID_KERNEL);
    /* 3-D is strict: In 6, k 2 allows O 4, not 5 */
    CASE("3-D pool too large (strict)", in3, cases[n].op.output_size[0], 5,
         CLPOOL_ERROR_INVALID_KERNEL);
    CASE("kernel 0", in2, cases[n].op.kernel[1], 0, CLPOOL_ERROR_INVALID_KERNEL);
    CASE("kernel larger than the input", in2, cases[n].op.kernel[1], 8,
         CLPOOL_ERROR_INVALID_KERNEL);
    CASE("output size -1", in2, cases[n].op.output_size[0], -1, CLPOOL_ERROR_OUTPUT_TOO_SMALL);
    CASE("output size of one dimension", in2, cases[n].op.output_size[1], 0,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("neither size nor ratio", in2, cases[n].op.output_size[0] = cases[n].op.output_size[1], 0,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("samples_given 2", in2, cases[n].op.samples_given, 2, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("indices type 9", in2, cases[n].op.indices, (clpool_index_type)9,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("1-D input", in2, cases[n].in.spatial_dims, 1, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("C = 0", in2, cases[n].in.c, 0, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("dtype int64", in2, cases[n].in.dtype, CLPOOL_INT64, CLPOOL_ERROR_UNSUPPORTED);
    CASE("layout 3", in2, cases[n].in.layout, (clpool_layout)3, CLPOOL_ERROR_INVALID_ARGUMENT);
    int first_ratio = n;
    CASE("ratio 1.0", in2, cases[n].op.output_ratio[0], 1.0, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("ratio 0 in one dimension", in2, cases[n].op.output_ratio[0], 0.0,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("ratio NaN", in2, cases[n].op.output_ratio[0], NAN, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("ratio -0.5", in2, cases[n].op.output_ratio[0], -0.5, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("ratio giving 0 outputs", in2, cases[n].op.output_ratio[0], 0.1,
         CLPOOL_ERROR_OUTPUT_TOO_SMALL);
    CASE("ratio too large for the pool", in2, cases[n].op.output_ratio[0], 0.99,
         CLPOOL_ERROR_INVALID_KERNEL);
#undef CASE
    for (int i = first_ratio; i < n; i++) { /* ratio cases: no sizes, a valid ratio elsewhere */
        cases[i].op.output_size[0] = cases[i].op.output_size[1] = 0;
        cases[i].op.output_ratio[1] = 0.5;
    }
    cases[n - 1].op.kernel[0] = 3; /* int(7 * 0.99) = 6, and 6 + 3 - 1 > 7 */
    for (int i = 0; i < n; i++) {
        cap.count = 0;
        clpool_plan *plan = (clpool_plan *)&cap;
        clpool_status st = clpool_plan_fractional(ctx, &cases[i].op, &cases[i].in, &plan);
        ck_assert_msg(st == cases[i].want, "%s: got '%s', want '%s' (%s)", cases[i].name,
                      clpool_status_string(st), clpool_status_string(cases[i].want), cap.last);
        ck_assert_msg(cap.count == 1, "%s: %d log sentences", cases[i].name, cap.count);
        ck_assert_msg(plan == (clpool_plan *)&cap, "%s: plan was written", cases[i].name);
        fprintf(stderr, "  %s -> %s: %s\n", cases[i].name, clpool_status_string(st), cap.last);
    }
    /* the limits themselves are valid: 2-D O=6 with k=2 on 7; 3-D O=4 with k=2 on 6 */
    clpool_fractional_desc f;
    memset(&f, 0, sizeof f);
    f.kernel[0] = f.kernel[1] = f.kernel[2] = 2;
    f.output_size[0] = f.output_size[1] = 6;
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_fractional(ctx, &f, &in2, &plan), CLPOOL_SUCCESS);
    clpool_plan_destroy(plan);
    f.output_size[0] = f.output_size[1] = f.output_size[2] = 4;
    ck_assert_int_eq(clpool_plan_fractional(ctx, &f, &in3, &plan), CLPOOL_SUCCESS);
    clpool_plan_destroy(plan);
    /* the ratio truncates as Python's int(): 7 * 0.5 = 3.5 gives 3 */
    memset(&f, 0, sizeof f);
    f.kernel[0] = f.kernel[1] = 2;
    f.output_ratio[0] = f.output_ratio[1] = 0.5;
    ck_assert_int_eq(clpool_plan_fractional(ctx, &f, &in2, &plan), CLPOOL_SUCCESS);
    clpool_tensor_desc out;
    clpool_plan_output_desc(plan, &out);
    ck_assert_uint_eq(out.spatial[0], 3);
    ck_assert_uint_eq(out.spatial[1], 3);
    clpool_plan_destroy(plan);
    ck_assert_int_eq(clpool_plan_fractional(ctx, NULL, &in2, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_context_destroy(ctx);
}
END_TEST

static Suite *fractional_suite(void)
{
    Suite *s = suite_create("fractional");
    TCase *tc = tcase_create("examples");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_spec_7x10);
    tcase_add_test(tc, test_spec_float_intervals);
    tcase_add_test(tc, test_seed);
    tcase_add_test(tc, test_bad_samples);
    suite_add_tcase(s, tc);
    tc = tcase_create("sweep");
    tcase_set_timeout(tc, 1800);
    tcase_add_loop_test(tc, test_sweep, 0, test_small_mode() ? 1 : 2);
    suite_add_tcase(s, tc);
    if (!test_small_mode()) {
        tc = tcase_create("invalid");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_invalid);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fractional_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
