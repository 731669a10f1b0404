/*
 * Suite "roi-backward": the gradients of roi max (torchvision roi_pool)
 * and roi align against the plain-C reference (reference_roi_backward.c).
 * The spec's examples; seeded sweeps over dtypes, layouts, bins, sampling,
 * aligned, box dtypes and indices (int64, int32 with -1 entries, or the
 * argmax recomputed from inputs with ties, NaN and -inf), with boxes that
 * overlap, lie partly or wholly outside the map, are reversed or of zero
 * size, many on one plane, and 1x1 maps. grad_input is poisoned before
 * every run and every element is checked: roi max exactly (the reference
 * sums in T in the library's order), roi align within a float sum's
 * rounding. Every case runs by clpool_run_host_io in the library's context
 * and by clpool_enqueue on guarded buffers at offsets (workspace filled
 * with garbage) in a second context (work-groups of 1, one plane per
 * launch) with another band height and channel chunk
 * ($CLPOOL_TUNE_ROI_BAND_ROWS, $CLPOOL_TUNE_ROI_CHANNELS), and the two must
 * match bit for bit. Also a central-difference check of the roi
 * align reference, enqueue on guarded buffers with a bad box and a stray
 * index, and invalid descriptors and boxes (status and one log sentence).
 * CLPOOL_TEST_SMALL=1 keeps a few tiny cases (for Oclgrind).
 */
#include "harness.h"
#include "reference_roi.h"
#include "reference_roi_backward.h"
#include "storage.h"
#include "test_env.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clpool_tensor_desc tdesc(clpool_dtype t, clpool_layout l, size_t n, size_t c, size_t h,
                                size_t w)
{
    clpool_tensor_desc d = tensor(2, n, c, h, w, 0);
    d.dtype = t;
    d.layout = l;
    return d;
}

static void *to_storage(clpool_dtype t, const double *v, size_t count)
{
    void *p = malloc(count * clpool_dtype_size(t) + 8);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < count; i++)
        storage_store(t, p, i, v[i]);
    return p;
}

/* Boxes as the device reads them: float32 or float64. */
static void *boxes_storage(clpool_dtype t, const double *v, size_t count)
{
    void *p = malloc(count * 8 + 8);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < count; i++) {
        if (t == CLPOOL_FLOAT64)
            ((double *)p)[i] = v[i];
        else
            ((float *)p)[i] = (float)v[i];
    }
    return p;
}

/* Plans the gradient of @p d on @p ctx; with @p band_rows (not 0) that many
 * rows per band and chunks of 2 channels per work-item (the tuning
 * overrides; the library's default is 32 on CPUs, 1 on GPUs). */
static clpool_plan *plan_with_bands(clpool_context *ctx, const clpool_roi_desc *d,
                                    const clpool_tensor_desc *in, int band_rows)
{
    char rows[16];
    if (band_rows > 0) {
        snprintf(rows, sizeof rows, "%d", band_rows);
        setenv("CLPOOL_TUNE_ROI_BAND_ROWS", rows, 1);
        setenv("CLPOOL_TUNE_ROI_CHANNELS", "2", 1);
    }
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_roi_backward(ctx, d, in, &plan);
    if (band_rows > 0) {
        unsetenv("CLPOOL_TUNE_ROI_BAND_ROWS");
        unsetenv("CLPOOL_TUNE_ROI_CHANNELS");
    }
    ck_assert_msg(st == CLPOOL_SUCCESS, "clpool_plan_roi_backward: %s", clpool_status_string(st));
    return plan;
}

/* Runs @p plan through clpool_run_host_io with grad_input poisoned. */
static clpool_status run_host(clpool_plan *plan, clpool_dtype t, const void *x, const void *go,
                              const void *idx, const void *rois, void *gi, size_t in_elems)
{
    storage_poison(t, gi, in_elems, 0);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = x;
    io.grad_output = go;
    io.indices = (void *)idx; /* read only */
    io.rois = rois;
    io.grad_input = gi;
    return clpool_run_host_io(plan, NULL, &io);
}

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
 * Runs @p plan by clpool_enqueue on buffers of @p ctx made with
 * CL_MEM_COPY_HOST_PTR, each tensor OFF elements into its buffer between
 * 0x5a guards: grad_input poisoned, the workspace all 0x5a (neither may be
 * read before it is written). Copies grad_input to @p gi and checks the
 * guards. (Oclgrind's uninitialized-value plugin shadows a buffer only as
 * far as the host wrote it, so a kernel reading back what the device wrote
 * into a fresh clpool_run_host_io buffer can be reported falsely; these
 * buffers are written whole by the host.)
 */
static clpool_status run_device(clpool_context *ctx, clpool_plan *plan, clpool_dtype t,
                                const void *x, size_t nx, const void *go, size_t ngo,
                                const void *idx, size_t idx_size, size_t nidx, const void *rois,
                                size_t rois_size, size_t nrois, void *gi, size_t ngi)
{
    cl_context cl = clpool_context_cl_context(ctx);
    cl_command_queue q = clpool_context_cl_queue(ctx);
    size_t esize = clpool_dtype_size(t);
    storage_poison(t, gi, ngi, 0);
    clpool_io io;
    memset(&io, 0, sizeof io);
    cl_mem mx = x ? buffer_of(cl, x, esize, nx) : NULL, mg = buffer_of(cl, go, esize, ngo);
    cl_mem mi = idx ? buffer_of(cl, idx, idx_size, nidx) : NULL;
    cl_mem mr = buffer_of(cl, rois, rois_size, nrois), mo = buffer_of(cl, gi, esize, ngi);
    size_t ws = clpool_plan_workspace_size(plan);
    cl_mem mw = ws ? buffer_of(cl, NULL, 16, ws / 16 + 1) : NULL;
    io.input = (clpool_buffer){mx, OFF};
    io.grad_output = (clpool_buffer){mg, OFF};
    io.indices = (clpool_buffer){mi, OFF};
    io.rois = (clpool_buffer){mr, OFF};
    io.grad_input = (clpool_buffer){mo, OFF};
    io.workspace = (clpool_buffer){mw, 16 * OFF}; /* bytes, a multiple of 16 */
    clpool_status st = clpool_enqueue(plan, q, &io, 0, NULL, NULL);
    size_t bytes = (ngi + 2 * OFF) * esize;
    unsigned char *all = malloc(bytes);
    ck_assert_ptr_nonnull(all);
    ck_assert_int_eq(clEnqueueReadBuffer(q, mo, CL_TRUE, 0, bytes, all, 0, NULL, NULL), CL_SUCCESS);
    for (size_t i = 0; i < OFF * esize; i++) {
        ck_assert_msg(all[i] == 0x5a, "guard byte %zu before grad_input changed", i);
        ck_assert_msg(all[bytes - 1 - i] == 0x5a, "guard byte %zu after grad_input changed", i);
    }
    memcpy(gi, all + OFF * esize, ngi * esize);
    free(all);
    cl_mem all_mems[] = {mx, mg, mi, mr, mo, mw};
    for (size_t i = 0; i < sizeof all_mems / sizeof *all_mems; i++)
        if (all_mems[i])
            clReleaseMemObject(all_mems[i]);
    return st;
}

/* The float32 examples: by clpool_run_host_io, or (small mode, Oclgrind)
 * by run_device. */
static clpool_status run_f32(clpool_context *ctx, clpool_plan *plan, const float *x, size_t nx,
                             const float *go, size_t ngo, const float *rois, size_t nrois,
                             float *gi, size_t ngi)
{
    if (!test_small_mode())
        return run_host(plan, CLPOOL_FLOAT32, x, go, NULL, rois, gi, ngi);
    return run_device(ctx, plan, CLPOOL_FLOAT32, x, nx, go, ngo, NULL, 8, 0, rois, 4, nrois, gi,
                      ngi);
}

/* Per-dtype rounding of the stored result: relative, and absolute (half
 * subnormals are 2^-24 apart). */
static double store_rtol(clpool_dtype t)
{
    return t == CLPOOL_FLOAT16 ? 0x1p-11 : t == CLPOOL_BFLOAT16 ? 0x1p-8 : 0;
}

static double store_atol(clpool_dtype t)
{
    return t == CLPOOL_FLOAT16 ? 0x1p-25 : 0;
}

/*
 * Checks @p got against @p want: exactly (after rounding want to storage)
 * when @p mag is NULL, else within (terms + 2) * u * mag + the storage's
 * rounding (u of the sum's type).
 */
static size_t compare(clpool_dtype t, const void *got, const double *want, const double *mag,
                      const double *terms, size_t count, const char *label)
{
    size_t bad = 0;
    double u = t == CLPOOL_FLOAT64 ? 0x1p-53 : 0x1p-24;
    for (size_t i = 0; i < count; i++) {
        double g = storage_load(t, got, i), w = storage_round(t, want[i]);
        double tol = 0;
        if (mag)
            tol = (terms[i] + 2) * u * mag[i] + store_rtol(t) * fabs(want[i]) + store_atol(t) +
                  1e-300;
        int ok = !storage_is_poison(t, got, i) &&
                 (mag ? fabs(g - want[i]) <= tol : (g == w && signbit(g) == signbit(w)));
        if (!ok && bad++ < 5)
            fprintf(stderr, "%s: grad_input[%zu] = %.9g, want %.9g (tol %.3g)\n", label, i, g,
                    mag ? want[i] : w, tol);
    }
    return bad;
}

/* ---- the spec's examples -------------------------------------------------- */

START_TEST(test_examples)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 4, 4);
    float x[16], gi[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    /* §8.1: box [0, .5,.5, 2.5,2.5], 2x2 -> argmax 10, 11, 14, 15 */
    clpool_roi_desc d;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_ROI_MAX;
    d.output_size[0] = d.output_size[1] = 2;
    d.num_rois = 1;
    const float box[5] = {0, 0.5f, 0.5f, 2.5f, 2.5f}, go[4] = {1, 2, 3, 4};
    clpool_plan *plan = plan_with_bands(ctx, &d, &in, 0);
    ck_assert_int_eq(run_f32(ctx, plan, x, 16, go, 4, box, 5, gi, 16), CLPOOL_SUCCESS);
    for (int i = 0; i < 16; i++) {
        float want = i == 10 ? 1 : i == 11 ? 2 : i == 14 ? 3 : i == 15 ? 4 : 0;
        ck_assert_msg(gi[i] == want, "roi max grad_input[%d] = %g, want %g", i, gi[i], want);
    }
    clpool_plan_destroy(plan);
    /* §8.2: box [0, 0,0, 2,2], 1x1, sampling 2: samples at .5 and 1.5 per
     * side, so the cells 0..2 of a side get 0.5, 1, 0.5 and the gradient
     * is their outer product over 4 samples. */
    d.op = CLPOOL_ROI_ALIGN;
    d.output_size[0] = d.output_size[1] = 1;
    d.sampling_ratio = 2;
    const float box2[5] = {0, 0, 0, 2, 2}, one = 1;
    plan = plan_with_bands(ctx, &d, &in, 0);
    ck_assert_int_eq(run_f32(ctx, plan, x, 16, &one, 1, box2, 5, gi, 16), CLPOOL_SUCCESS);
    const double side[4] = {0.5, 1, 0.5, 0};
    for (int y = 0; y < 4; y++)
        for (int xx = 0; xx < 4; xx++) {
            double want = side[y] * side[xx] / 4;
            ck_assert_msg(gi[y * 4 + xx] == (float)want, "roi align grad_input[%d] = %g, want %g",
                          y * 4 + xx, gi[y * 4 + xx], want);
        }
    clpool_plan_destroy(plan);
    /* aligned, degenerate box [0, 1,1, 1,1], adaptive: grid 0, nothing */
    d.aligned = 1;
    d.sampling_ratio = 0;
    d.output_size[0] = d.output_size[1] = 2;
    const float box3[5] = {0, 1, 1, 1, 1}, go3[4] = {1, 1, 1, 1};
    plan = plan_with_bands(ctx, &d, &in, 0);
    ck_assert_int_eq(run_f32(ctx, plan, x, 16, go3, 4, box3, 5, gi, 16), CLPOOL_SUCCESS);
    for (int i = 0; i < 16; i++)
        ck_assert_msg(gi[i] == 0, "degenerate roi align grad_input[%d] = %g", i, gi[i]);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- seeded sweep ----------------------------------------------------------- */

static const clpool_dtype float_dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16,
                                            CLPOOL_FLOAT64};

/* A coordinate: inside, around or far outside a side of @p size (image
 * coordinates are feature ones / scale), sometimes on a half. */
static double coordinate(test_rng *r, size_t size, double scale)
{
    double v = (double)rng_range(r, -2 * (int)size, 3 * (int)size) / 2.0;
    if (rng_below(r, 3) == 0)
        v += (double)rng_range(r, 0, 63) / 64.0;
    return v / scale;
}

typedef struct sweep_case {
    clpool_roi_desc d;
    clpool_tensor_desc in;
    size_t in_elems, out_elems;
    double *x, *go, *rois, *want, *mag, *terms;
    int64_t *idx;
} sweep_case;

static void case_free(sweep_case *s)
{
    free(s->x);
    free(s->go);
    free(s->rois);
    free(s->want);
    free(s->mag);
    free(s->terms);
    free(s->idx);
}

/* A program parameter set: everything the kernel's build options hold. */
typedef struct sweep_config {
    clpool_roi_desc d;
    clpool_dtype t;
    clpool_layout layout;
} sweep_config;

static sweep_config random_config(test_rng *r, int fp64, int small)
{
    sweep_config k;
    memset(&k, 0, sizeof k);
    k.t = float_dtypes[rng_below(r, fp64 ? 4 : 3)];
    k.layout = rng_below(r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW;
    k.d.op = rng_below(r, 2) ? CLPOOL_ROI_MAX : CLPOOL_ROI_ALIGN;
    k.d.output_size[0] = rng_range(r, 1, small ? 2 : 4);
    k.d.output_size[1] = rng_range(r, 1, small ? 2 : 4);
    k.d.rois_dtype = fp64 && rng_below(r, 3) == 0 ? CLPOOL_FLOAT64 : CLPOOL_FLOAT32;
    if (k.d.op == CLPOOL_ROI_ALIGN) {
        k.d.aligned = (int)rng_below(r, 2);
        k.d.sampling_ratio = rng_below(r, 2) ? 0 : rng_range(r, -1, 3);
    } else {
        k.d.indices = (clpool_index_type)rng_below(r, 3); /* none, int64, int32 */
    }
    return k;
}

static size_t sweep_case_run(clpool_context *const ctx[2], const sweep_config *k, test_rng *r,
                             int small, int number)
{
    sweep_case s;
    memset(&s, 0, sizeof s);
    clpool_dtype t = k->t;
    clpool_layout layout = k->layout;
    s.d = k->d;
    static const double scales[] = {1.0, 0.5, 0.25, 2.0, 0.3, 0.0};
    s.d.spatial_scale = scales[rng_below(r, 6)];
    int one_by_one = rng_below(r, 10) == 0;
    size_t n = (size_t)rng_range(r, 1, small ? 1 : 3), c = (size_t)rng_range(r, 1, small ? 2 : 4);
    size_t h = one_by_one ? 1 : (size_t)rng_range(r, 1, small ? 4 : 9);
    size_t w = one_by_one ? 1 : (size_t)rng_range(r, 1, small ? 4 : 9);
    s.in = tdesc(t, layout, n, c, h, w);
    s.d.num_rois = (size_t)rng_range(r, small ? 1 : 0, small ? 3 : 14);
    double scale = s.d.spatial_scale != 0 ? s.d.spatial_scale : 1.0;
    s.rois = malloc((s.d.num_rois * 5 + 1) * sizeof *s.rois);
    for (size_t k = 0; k < s.d.num_rois; k++) {
        double *b = s.rois + 5 * k;
        /* many boxes on one plane: batch 0 more often */
        b[0] = rng_below(r, 2) ? 0 : (double)rng_below(r, (uint32_t)n);
        if (rng_below(r, 4) == 0)
            b[0] += 0.75; /* truncated toward zero */
        for (int i = 1; i < 5; i++)
            b[i] = coordinate(r, i % 2 ? w : h, scale);
        int shape = (int)rng_below(r, 8);
        if (shape == 0) { /* zero size */
            b[3] = b[1];
            b[4] = b[2];
        } else if (shape <= 3 && b[3] < b[1]) { /* mostly ordered; else reversed */
            double tmp = b[1];
            b[1] = b[3];
            b[3] = tmp;
        }
        if (shape <= 3 && b[4] < b[2]) {
            double tmp = b[2];
            b[2] = b[4];
            b[4] = tmp;
        }
    }
    /* What the device reads: boxes rounded to their dtype. */
    for (size_t i = 0; s.d.rois_dtype == CLPOOL_FLOAT32 && i < s.d.num_rois * 5; i++)
        s.rois[i] = (double)(float)s.rois[i];

    s.in_elems = tensor_elements(&s.in);
    s.out_elems = s.d.num_rois * c * (size_t)s.d.output_size[0] * (size_t)s.d.output_size[1];
    s.x = malloc(s.in_elems * sizeof *s.x);
    s.go = malloc((s.out_elems + 1) * sizeof *s.go);
    s.want = malloc(s.in_elems * sizeof *s.want);
    s.mag = malloc(s.in_elems * sizeof *s.mag);
    s.terms = malloc(s.in_elems * sizeof *s.terms);
    s.idx = malloc((s.out_elems + 1) * sizeof *s.idx);
    int ties = rng_below(r, 2), specials = rng_below(r, 3) == 0;
    for (size_t i = 0; i < s.in_elems; i++) {
        s.x[i] = ties ? (double)rng_range(r, -3, 3) : (double)rng_range(r, -4000, 4000) / 64.0;
        if (specials && rng_below(r, 6) == 0)
            s.x[i] = rng_below(r, 2) ? NAN : -INFINITY;
        s.x[i] = storage_round(t, s.x[i]);
    }
    for (size_t i = 0; i < s.out_elems; i++)
        s.go[i] = storage_round(t, (double)rng_range(r, -4000, 4000) / 64.0);

    int band_rows = rng_range(r, 1, 3);
    clpool_plan *plans[2] = {plan_with_bands(ctx[0], &s.d, &s.in, 0),
                             plan_with_bands(ctx[1], &s.d, &s.in, band_rows)};
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plans[0], &out), CLPOOL_SUCCESS);
    ck_assert_uint_eq(tensor_elements(&out), s.out_elems);

    int is_max = s.d.op == CLPOOL_ROI_MAX;
    if (is_max) {
        roi_ref fwd;
        clpool_roi_desc fd = s.d;
        ck_assert_int_eq(roi_ref_compute(&fwd, &fd, &s.in, s.x, s.rois), 0);
        memcpy(s.idx, fwd.idx, s.out_elems * sizeof *s.idx);
        roi_ref_free(&fwd);
        for (size_t i = 0; s.d.indices != CLPOOL_INDICES_NONE && i < s.out_elems; i++)
            if (rng_below(r, 8) == 0)
                s.idx[i] = -1; /* sends nothing */
        ref_roi_max_backward(&s.d, &s.in, s.rois, s.go, s.idx, s.want);
    } else {
        ref_roi_align_backward(&s.d, &s.in, s.rois, s.go, s.want, s.mag, s.terms);
    }

    void *x_s = to_storage(t, s.x, s.in_elems), *go_s = to_storage(t, s.go, s.out_elems + 1);
    void *rois_s = boxes_storage(s.d.rois_dtype, s.rois, s.d.num_rois * 5 + 1);
    void *idx_s = NULL;
    if (s.d.indices != CLPOOL_INDICES_NONE) {
        idx_s = malloc(s.out_elems * 8 + 8);
        for (size_t i = 0; i < s.out_elems; i++) {
            if (s.d.indices == CLPOOL_INDICES_INT32)
                ((int32_t *)idx_s)[i] = (int32_t)s.idx[i];
            else
                ((int64_t *)idx_s)[i] = s.idx[i];
        }
    }
    char label[200];
    snprintf(label, sizeof label,
             "case %d (%s %s %s N=%zu C=%zu H=%zu W=%zu K=%zu P=%dx%d scale=%g sampling=%d "
             "aligned=%d idx=%d boxes %s, band rows %d)",
             number, is_max ? "max" : "align", storage_dtype_name(t),
             layout == CLPOOL_NHWC ? "NHWC" : "NCHW", n, c, h, w, s.d.num_rois, s.d.output_size[0],
             s.d.output_size[1], s.d.spatial_scale, s.d.sampling_ratio, s.d.aligned,
             (int)s.d.indices, storage_dtype_name(s.d.rois_dtype), band_rows);
    if (getenv("ROI_DEBUG"))
        fprintf(stderr, "RUN %s\n", label);
    size_t esize = clpool_dtype_size(t), bad = 0;
    unsigned char *gi[2] = {malloc(s.in_elems * esize + 8), malloc(s.in_elems * esize + 8)};
    size_t idx_size = s.d.indices == CLPOOL_INDICES_INT32 ? 4 : 8;
    size_t rois_size = s.d.rois_dtype == CLPOOL_FLOAT64 ? 8 : 4;
    for (int v = 0; v < 2; v++) {
        /* the host call, and enqueue on guarded buffers at offsets (both by
         * enqueue in small mode, see run_device) */
        clpool_status st = v == 0 && !small
                               ? run_host(plans[v], t, x_s, go_s, idx_s, rois_s, gi[v], s.in_elems)
                               : run_device(ctx[v], plans[v], t, x_s, s.in_elems, go_s, s.out_elems,
                                            idx_s, idx_size, s.out_elems, rois_s, rois_size,
                                            s.d.num_rois * 5, gi[v], s.in_elems);
        ck_assert_int_eq(st, CLPOOL_SUCCESS);
        bad += compare(t, gi[v], s.want, is_max ? NULL : s.mag, s.terms, s.in_elems, label);
    }
    if (memcmp(gi[0], gi[1], s.in_elems * esize) != 0) {
        fprintf(stderr, "%s: the two contexts / band heights differ\n", label);
        bad++;
    }
    free(gi[0]);
    free(gi[1]);
    free(x_s);
    free(go_s);
    free(rois_s);
    free(idx_s);
    clpool_plan_destroy(plans[0]);
    clpool_plan_destroy(plans[1]);
    case_free(&s);
    return bad;
}

START_TEST(test_sweep)
{
    clpool_context *ctx[2] = {test_context(NULL, 0, 0), test_context(NULL, 1, 1)};
    int fp64 = test_has_fp64(ctx[0]);
    test_rng r = {0x726f696772616455ULL + (uint64_t)_i};
    /* Program parameter sets (each a build), each over several shapes and
     * box sets: 56 x 8 = 448 cases. */
    int small = test_small_mode(), configs = small ? 4 : test_scaled(56), shapes = small ? 2 : 8;
    size_t bad = 0;
    for (int i = 0; i < configs; i++) {
        sweep_config k = random_config(&r, fp64, small);
        for (int j = 0; j < shapes; j++)
            bad += sweep_case_run(ctx, &k, &r, small, i * shapes + j);
    }
    clpool_context_destroy(ctx[0]);
    clpool_context_destroy(ctx[1]);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* ---- the roi align reference against central differences ------------------- */

START_TEST(test_align_numerical)
{
    test_rng r = {0x6e756d6572696331ULL};
    for (int number = 0; number < 40; number++) {
        clpool_roi_desc d;
        memset(&d, 0, sizeof d);
        d.op = CLPOOL_ROI_ALIGN;
        d.output_size[0] = rng_range(&r, 1, 3);
        d.output_size[1] = rng_range(&r, 1, 3);
        d.aligned = (int)rng_below(&r, 2);
        d.sampling_ratio = rng_range(&r, -1, 2);
        d.spatial_scale = rng_below(&r, 2) ? 1.0 : 0.5;
        d.rois_dtype = CLPOOL_FLOAT64;
        d.num_rois = (size_t)rng_range(&r, 1, 3);
        size_t h = (size_t)rng_range(&r, 1, 5), w = (size_t)rng_range(&r, 1, 5);
        clpool_tensor_desc in = tdesc(CLPOOL_FLOAT64, CLPOOL_NCHW, 1, 2, h, w);
        size_t ne = tensor_elements(&in);
        size_t no = d.num_rois * 2 * (size_t)d.output_size[0] * (size_t)d.output_size[1];
        double rois[15], x[50], go[2 * 3 * 3 * 3], want[50];
        for (size_t k = 0; k < d.num_rois; k++) {
            rois[5 * k] = 0;
            for (int i = 1; i < 5; i++)
                rois[5 * k + i] = (double)rng_range(&r, -8, 8 * (int)(i % 2 ? w : h)) / 7.0;
        }
        for (size_t i = 0; i < ne; i++)
            x[i] = (double)rng_range(&r, -100, 100) / 16.0;
        for (size_t i = 0; i < no; i++)
            go[i] = (double)rng_range(&r, -100, 100) / 16.0;
        ref_roi_align_backward(&d, &in, rois, go, want, NULL, NULL);
        const double step = 1e-3;
        for (size_t i = 0; i < ne; i++) {
            double f[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                double keep = x[i];
                x[i] = keep + (sgn ? -step : step);
                roi_ref fwd;
                ck_assert_int_eq(roi_ref_compute(&fwd, &d, &in, x, rois), 0);
                f[sgn] = 0;
                for (size_t o = 0; o < no; o++)
                    f[sgn] += go[o] * fwd.y[o];
                roi_ref_free(&fwd);
                x[i] = keep;
            }
            double num = (f[0] - f[1]) / (2 * step);
            ck_assert_msg(fabs(num - want[i]) <= 1e-7 * (1 + fabs(want[i])),
                          "numerical case %d: d/dx[%zu] = %.12g, the reference says %.12g", number,
                          i, num, want[i]);
        }
    }
}
END_TEST

/* ---- enqueue: a bad box and a stray index on the device --------------------- */

START_TEST(test_enqueue_device_boxes)
{
    clpool_context *ctx = test_context(NULL, 0, 0);
    cl_context cl = clpool_context_cl_context(ctx);
    cl_command_queue q = clpool_context_cl_queue(ctx);
    /* 1 x 1 x 3 x 3, roi max 1x1 bins; box 0 covers the map, box 1 has
     * batch index 5 (N = 1): it sends nothing; box 2 is box 0 again with
     * the index of a cell outside its bin (a stray index sends nothing). */
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 3, 3);
    clpool_roi_desc d;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_ROI_MAX;
    d.output_size[0] = d.output_size[1] = 1;
    d.num_rois = 3;
    d.indices = CLPOOL_INDICES_INT64;
    const float rois[15] = {0, 0, 0, 2, 2, 5, 0, 0, 2, 2, 0, 0, 0, 0, 0};
    const float go[3] = {1, 2, 4};
    const int64_t idx[3] = {4, 4, 8}; /* box 2's bin is cell 0 only */
    clpool_plan *plan = plan_with_bands(ctx, &d, &in, 0);
    clpool_io io;
    memset(&io, 0, sizeof io);
    cl_mem mr = buffer_of(cl, rois, 4, 15), mg = buffer_of(cl, go, 4, 3);
    cl_mem mi = buffer_of(cl, idx, 8, 3), mo = buffer_of(cl, NULL, 4, 9);
    io.rois = (clpool_buffer){mr, OFF};
    io.grad_output = (clpool_buffer){mg, OFF};
    io.indices = (clpool_buffer){mi, OFF};
    io.grad_input = (clpool_buffer){mo, OFF};
    ck_assert_int_eq(clpool_plan_workspace_size(plan), 0);
    ck_assert_int_eq(clpool_enqueue(plan, q, &io, 0, NULL, NULL), CLPOOL_SUCCESS);
    unsigned char all[(9 + 2 * OFF) * 4];
    ck_assert_int_eq(clEnqueueReadBuffer(q, mo, CL_TRUE, 0, sizeof all, all, 0, NULL, NULL),
                     CL_SUCCESS);
    for (size_t i = 0; i < OFF * 4; i++) {
        ck_assert_msg(all[i] == 0x5a, "guard byte %zu before grad_input changed", i);
        ck_assert_msg(all[sizeof all - 1 - i] == 0x5a, "guard byte %zu after changed", i);
    }
    float gi[9];
    memcpy(gi, all + OFF * 4, sizeof gi);
    for (int i = 0; i < 9; i++)
        ck_assert_msg(gi[i] == (i == 4 ? 1.0f : 0.0f), "grad_input[%d] = %g", i, gi[i]);
    /* the host check refuses box 1 and names it */
    test_log log;
    memset(&log, 0, sizeof log);
    clpool_context *lctx = test_context(&log, 0, 0);
    clpool_plan *lplan = plan_with_bands(lctx, &d, &in, 0);
    ck_assert_int_eq(clpool_roi_check_boxes(lplan, rois), CLPOOL_ERROR_INVALID_ROIS);
    ck_assert_int_eq(log.count, 1);
    ck_assert_msg(strstr(log.last, "box 1") != NULL, "log: %s", log.last);
    clpool_plan_destroy(lplan);
    clpool_context_destroy(lctx);
    clReleaseMemObject(mi);
    clReleaseMemObject(mo);
    clpool_plan_destroy(plan);
    /* recomputed argmax through a guarded workspace filled with 0x5a:
     * x = 0..8, box 0's bin selects cell 8; box 2 (cell 0 only) cell 0 */
    d.indices = CLPOOL_INDICES_NONE;
    plan = plan_with_bands(ctx, &d, &in, 0);
    size_t ws = clpool_plan_workspace_size(plan);
    ck_assert_uint_ge(ws, 3 * 8);
    float x[9];
    for (int i = 0; i < 9; i++)
        x[i] = (float)i;
    cl_mem mx = buffer_of(cl, x, 4, 9), mw = buffer_of(cl, NULL, 16, ws / 16 + 1);
    mo = buffer_of(cl, NULL, 4, 9);
    io.input = (clpool_buffer){mx, OFF};
    io.grad_input = (clpool_buffer){mo, OFF};
    io.workspace = (clpool_buffer){mw, 16 * OFF};
    ck_assert_int_eq(clpool_enqueue(plan, q, &io, 0, NULL, NULL), CLPOOL_SUCCESS);
    ck_assert_int_eq(clEnqueueReadBuffer(q, mo, CL_TRUE, 0, sizeof all, all, 0, NULL, NULL),
                     CL_SUCCESS);
    memcpy(gi, all + OFF * 4, sizeof gi);
    for (int i = 0; i < 9; i++)
        ck_assert_msg(gi[i] == (i == 8   ? 1.0f
                                : i == 0 ? 4.0f
                                         : 0.0f),
                      "recomputed grad_input[%d] = %g", i, gi[i]);
    clReleaseMemObject(mx);
    clReleaseMemObject(mw);
    clReleaseMemObject(mr);
    clReleaseMemObject(mg);
    clReleaseMemObject(mo);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- invalid descriptors and boxes -------------------------------------------- */

/* Plans and expects @p want with exactly one log sentence. */
static void expect_refused(const clpool_roi_desc *d, const clpool_tensor_desc *in,
                           clpool_status want, const char *what)
{
    test_log log;
    memset(&log, 0, sizeof log);
    clpool_context *ctx = test_context(&log, 0, 0);
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_roi_backward(ctx, d, in, &plan);
    ck_assert_msg(st == want, "%s: %s, want %s", what, clpool_status_string(st),
                  clpool_status_string(want));
    ck_assert_ptr_null(plan);
    ck_assert_msg(log.count == 1 && log.last[0], "%s: %d log sentences", what, log.count);
    clpool_context_destroy(ctx);
}

START_TEST(test_invalid)
{
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 2, 5, 5);
    clpool_roi_desc d;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_ROI_MAX;
    d.output_size[0] = d.output_size[1] = 2;
    d.num_rois = 1;
    clpool_roi_desc e = d;
    e.op = (clpool_roi_op)7;
    expect_refused(&e, &in, CLPOOL_ERROR_INVALID_ARGUMENT, "op 7");
    e = d;
    e.output_size[1] = 0;
    expect_refused(&e, &in, CLPOOL_ERROR_INVALID_ARGUMENT, "output size 0");
    e = d;
    e.aligned = 1;
    expect_refused(&e, &in, CLPOOL_ERROR_INVALID_ARGUMENT, "aligned roi max");
    e = d;
    e.op = CLPOOL_ROI_ALIGN;
    e.indices = CLPOOL_INDICES_INT64;
    expect_refused(&e, &in, CLPOOL_ERROR_INVALID_ARGUMENT, "roi align with indices");
    e = d;
    e.spatial_scale = INFINITY;
    expect_refused(&e, &in, CLPOOL_ERROR_INVALID_ARGUMENT, "infinite scale");
    clpool_tensor_desc bad = in;
    bad.dtype = CLPOOL_UINT8;
    expect_refused(&d, &bad, CLPOOL_ERROR_UNSUPPORTED, "uint8");
    bad.dtype = CLPOOL_INT8;
    expect_refused(&d, &bad, CLPOOL_ERROR_UNSUPPORTED, "int8");
    bad = tensor(1, 1, 2, 5, 0, 0);
    expect_refused(&d, &bad, CLPOOL_ERROR_INVALID_SHAPE, "1-D input");
    bad = in;
    bad.n = 0;
    expect_refused(&d, &bad, CLPOOL_ERROR_INVALID_SHAPE, "N = 0 with boxes");

    /* a NaN batch index through clpool_run_host_io: refused, nothing written */
    test_log log;
    memset(&log, 0, sizeof log);
    clpool_context *ctx = test_context(&log, 0, 0);
    clpool_plan *plan = plan_with_bands(ctx, &d, &in, 0);
    float x[50] = {0}, go[8] = {1, 1, 1, 1, 1, 1, 1, 1}, gi[50];
    const float box[5] = {NAN, 0, 0, 4, 4};
    ck_assert_int_eq(run_host(plan, CLPOOL_FLOAT32, x, go, NULL, box, gi, 50),
                     CLPOOL_ERROR_INVALID_ROIS);
    ck_assert_int_eq(log.count, 1);
    for (size_t i = 0; i < 50; i++)
        ck_assert_msg(storage_is_poison(CLPOOL_FLOAT32, gi, i), "grad_input[%zu] written", i);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

static Suite *roi_backward_suite(void)
{
    Suite *s = suite_create("roi-backward");
    TCase *tc = tcase_create("rules");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_examples);
    tcase_add_test(tc, test_enqueue_device_boxes);
    tcase_add_test(tc, test_invalid);
    if (!test_small_mode())
        tcase_add_test(tc, test_align_numerical);
    suite_add_tcase(s, tc);
    tc = tcase_create("sweep");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_sweep);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(roi_backward_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
