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
static clpool_status run_host(clpool_plan *plan, clpool_dtype t, const void *x, const void *go,
                              const void *idx, void *gi, size_t in_elems)
{
    storage_poison(t, gi, in_elems, 0);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = x;
    io.grad_output = go;
    io.indices = (void *)idx; /* read only: a gradient plan never writes them */
    io.grad_input = gi;
    return clpool_run_host_io(plan, NULL, &io);
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

static Suite *region_backward_suite(void)
{
    Suite *s = suite_create("region-backward");
    TCase *tc = tcase_create("unpool");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_unpool_spec_example);
    tcase_add_test(tc, test_unpool_sweep);
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
