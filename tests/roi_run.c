/*
 * Region pooling test cases (roi_run.h): storage of inputs and boxes, runs
 * through the host call and through enqueue on guarded caller buffers, and
 * the comparison with the reference.
 */
#include "roi_run.h"

#include "storage.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 0xc3
#define GUARD_ELEMENTS 7

void roi_case_alloc(roi_case *c)
{
    c->in_elems = c->in.n * c->in.c * c->in.spatial[0] * c->in.spatial[1];
    size_t k = c->d.num_rois;
    c->x = calloc(c->in_elems + 1, clpool_dtype_size(c->in.dtype));
    c->xd = calloc(c->in_elems + 1, sizeof *c->xd);
    c->rois = calloc(5 * k + 1, clpool_dtype_size(c->d.rois_dtype));
    c->boxd = calloc(5 * k + 1, sizeof *c->boxd);
    ck_assert(c->x && c->xd && c->rois && c->boxd);
}

void roi_case_put(roi_case *c, size_t i, double v)
{
    storage_store(c->in.dtype, c->x, i, v);
    c->xd[i] = storage_load(c->in.dtype, c->x, i);
}

void roi_case_box(roi_case *c, size_t k, int j, double v)
{
    storage_store(c->d.rois_dtype, c->rois, 5 * k + (size_t)j, v);
    c->boxd[5 * k + (size_t)j] = storage_load(c->d.rois_dtype, c->rois, 5 * k + (size_t)j);
}

void roi_case_fill(test_rng *r, roi_case *c, value_mode mode)
{
    float *v = malloc((c->in_elems + 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    fill_values(r, v, c->in_elems, mode);
    for (size_t i = 0; i < c->in_elems; i++)
        roi_case_put(c, i, v[i]);
    free(v);
}

void roi_case_reference(roi_case *c)
{
    ck_assert_int_eq(roi_ref_compute(&c->ref, &c->d, &c->in, c->xd, c->boxd), 0);
}

void roi_case_free(roi_case *c)
{
    free(c->x);
    free(c->xd);
    free(c->rois);
    free(c->boxd);
    roi_ref_free(&c->ref);
    memset(c, 0, sizeof *c);
}

void roi_describe(char *buf, size_t cap, const roi_case *c)
{
    const clpool_roi_desc *d = &c->d;
    const char *idx = d->indices == CLPOOL_INDICES_INT32   ? "int32"
                      : d->indices == CLPOOL_INDICES_INT64 ? "int64"
                                                           : "none";
    snprintf(buf, cap,
             "%s N=%zu C=%zu H=%zu W=%zu %s %s out=%dx%d K=%zu scale=%.9g sr=%d aligned=%d "
             "rois=%s idx=%s",
             d->op == CLPOOL_ROI_MAX ? "roi-max" : "roi-align", c->in.n, c->in.c, c->in.spatial[0],
             c->in.spatial[1], storage_dtype_name(c->in.dtype),
             c->in.layout == CLPOOL_NHWC ? "NHWC" : "NCHW", d->output_size[0], d->output_size[1],
             d->num_rois, d->spatial_scale, d->sampling_ratio, d->aligned,
             storage_dtype_name(d->rois_dtype), idx);
}

/* ---- runs ---------------------------------------------------------------- */

/* A buffer holding @p count elements of @p esz bytes at element @p offset,
 * with guard bytes around them; @p data (NULL: poison of @p poison_dtype,
 * or 0x5a bytes for indices) fills the tensor. The host image is kept. */
static cl_mem guarded(cl_context ctx, cl_command_queue q, size_t esz, size_t offset, size_t count,
                      const void *data, int poison, clpool_dtype poison_dtype,
                      unsigned char **image, size_t *bytes)
{
    size_t total = (offset + count + GUARD_ELEMENTS) * esz;
    unsigned char *h = malloc(total);
    ck_assert_ptr_nonnull(h);
    memset(h, GUARD, total);
    if (data)
        memcpy(h + offset * esz, data, count * esz);
    else if (poison)
        storage_poison(poison_dtype, h + offset * esz, count, 0);
    else
        memset(h + offset * esz, 0x5a, count * esz);
    cl_int err = CL_SUCCESS;
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, total, h, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    (void)q;
    *image = h;
    *bytes = total;
    return m;
}

static size_t guard_damage(const unsigned char *h, size_t esz, size_t offset, size_t count,
                           size_t total)
{
    size_t bad = 0;
    for (size_t i = 0; i < offset * esz; i++)
        bad += h[i] != GUARD;
    for (size_t i = (offset + count) * esz; i < total; i++)
        bad += h[i] != GUARD;
    return bad;
}

static void widen_indices(const void *raw, clpool_index_type t, int64_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = t == CLPOOL_INDICES_INT32 ? ((const int32_t *)raw)[i] : ((const int64_t *)raw)[i];
}

static size_t index_bytes(clpool_index_type t)
{
    return t == CLPOOL_INDICES_INT32 ? 4 : t == CLPOOL_INDICES_INT64 ? 8 : 0;
}

static clpool_status report_failure(const roi_case *c, const char *label, const char *what,
                                    clpool_status st)
{
    char desc[256];
    roi_describe(desc, sizeof desc, c);
    fprintf(stderr, "%s %s: %s: %s\n", label, desc, what, clpool_status_string(st));
    return st;
}

static clpool_status enqueue_guarded(clpool_context *ctx, clpool_plan *plan, const roi_case *c,
                                     test_rng *r, void *y, void *idx_raw, const char *label)
{
    cl_context cl_ctx = clpool_context_cl_context(ctx);
    cl_command_queue q = clpool_context_cl_queue(ctx);
    size_t out = c->ref.out_elems, k5 = 5 * c->d.num_rois;
    size_t esz = clpool_dtype_size(c->in.dtype), rsz = clpool_dtype_size(c->d.rois_dtype);
    size_t isz = index_bytes(c->d.indices);
    size_t off[4];
    for (int i = 0; i < 4; i++)
        off[i] = rng_below(r, 5);
    unsigned char *hin, *hout, *hroi, *hidx = NULL;
    size_t bin, bout, broi, bidx = 0;
    cl_mem min = guarded(cl_ctx, q, esz, off[0], c->in_elems, c->x, 0, c->in.dtype, &hin, &bin);
    cl_mem mout = guarded(cl_ctx, q, esz, off[1], out, NULL, 1, c->in.dtype, &hout, &bout);
    cl_mem mroi = guarded(cl_ctx, q, rsz, off[2], k5, c->rois, 0, c->in.dtype, &hroi, &broi);
    cl_mem midx =
        isz ? guarded(cl_ctx, q, isz, off[3], out, NULL, 0, c->in.dtype, &hidx, &bidx) : NULL;
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.input = (clpool_buffer){min, off[0]};
    io.output = (clpool_buffer){mout, off[1]};
    io.rois = (clpool_buffer){mroi, off[2]};
    io.indices = (clpool_buffer){midx, off[3]};
    cl_event ev = NULL;
    clpool_status st = clpool_enqueue(plan, q, &io, 0, NULL, &ev);
    if (st == CLPOOL_SUCCESS) {
        ck_assert_int_eq(clWaitForEvents(1, &ev), CL_SUCCESS);
        clReleaseEvent(ev);
        ck_assert_int_eq(clEnqueueReadBuffer(q, min, CL_TRUE, 0, bin, hin, 0, NULL, NULL),
                         CL_SUCCESS);
        ck_assert_int_eq(clEnqueueReadBuffer(q, mout, CL_TRUE, 0, bout, hout, 0, NULL, NULL),
                         CL_SUCCESS);
        ck_assert_int_eq(clEnqueueReadBuffer(q, mroi, CL_TRUE, 0, broi, hroi, 0, NULL, NULL),
                         CL_SUCCESS);
        if (midx)
            ck_assert_int_eq(clEnqueueReadBuffer(q, midx, CL_TRUE, 0, bidx, hidx, 0, NULL, NULL),
                             CL_SUCCESS);
        size_t damage = guard_damage(hin, esz, off[0], c->in_elems, bin) +
                        guard_damage(hout, esz, off[1], out, bout) +
                        guard_damage(hroi, rsz, off[2], k5, broi) +
                        (midx ? guard_damage(hidx, isz, off[3], out, bidx) : 0);
        if (memcmp(hin + off[0] * esz, c->x, c->in_elems * esz) != 0 ||
            memcmp(hroi + off[2] * rsz, c->rois, k5 * rsz) != 0)
            damage++;
        memcpy(y, hout + off[1] * esz, out * esz);
        if (midx)
            memcpy(idx_raw, hidx + off[3] * isz, out * isz);
        if (damage)
            st = report_failure(c, label, "the guards around the buffers (or the inputs) changed",
                                CLPOOL_ERROR_INVALID_BUFFER);
    } else {
        report_failure(c, label, "clpool_enqueue", st);
    }
    clReleaseMemObject(min);
    clReleaseMemObject(mout);
    clReleaseMemObject(mroi);
    if (midx)
        clReleaseMemObject(midx);
    free(hin);
    free(hout);
    free(hroi);
    free(hidx);
    return st;
}

clpool_status roi_run(clpool_context *ctx, clpool_plan *plan, const roi_case *c, int use_enqueue,
                      test_rng *r, roi_result *res, const char *label)
{
    size_t out = c->ref.out_elems;
    size_t esz = clpool_dtype_size(c->in.dtype), isz = index_bytes(c->d.indices);
    clpool_tensor_desc od;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &od), CLPOOL_SUCCESS);
    if (od.n != c->ref.out.n || od.c != c->ref.out.c || od.spatial[0] != c->ref.out.spatial[0] ||
        od.spatial[1] != c->ref.out.spatial[1] || od.dtype != c->in.dtype ||
        od.layout != c->in.layout || od.spatial_dims != 2)
        return report_failure(c, label, "clpool_plan_output_desc gives another shape",
                              CLPOOL_ERROR_INVALID_SHAPE);
    res->y = malloc(out * esz + 1);
    res->idx = calloc(out + 1, sizeof *res->idx);
    void *raw = malloc(out * 8 + 1);
    ck_assert(res->y && res->idx && raw);
    storage_poison(c->in.dtype, res->y, out, 0);
    memset(raw, 0x5a, out * 8);
    clpool_status st;
    if (use_enqueue) {
        st = enqueue_guarded(ctx, plan, c, r, res->y, raw, label);
    } else {
        clpool_host_io io;
        memset(&io, 0, sizeof io);
        io.input = c->x;
        io.output = res->y;
        io.rois = c->rois;
        io.indices = isz ? raw : NULL;
        st = clpool_run_host_io(plan, NULL, &io);
        if (st != CLPOOL_SUCCESS)
            report_failure(c, label, "clpool_run_host_io", st);
    }
    if (isz)
        widen_indices(raw, c->d.indices, res->idx, out);
    free(raw);
    return st;
}

void roi_result_free(roi_result *res)
{
    free(res->y);
    free(res->idx);
    memset(res, 0, sizeof *res);
}

/* ---- comparison ------------------------------------------------------------ */

static int same_value(double got, double want)
{
    if (isnan(want))
        return isnan(got);
    return got == want && signbit(got) == signbit(want);
}

size_t roi_compare(const roi_case *c, const roi_result *res, const char *label, int *budget)
{
    const roi_ref *ref = &c->ref;
    const clpool_tensor_desc *o = &ref->out;
    const int nhwc = o->layout == CLPOOL_NHWC;
    const size_t C = o->c, PH = o->spatial[0], PW = o->spatial[1];
    const clpool_dtype t = c->in.dtype;
    const double srel = t == CLPOOL_FLOAT16 ? 0x1p-11 : t == CLPOOL_BFLOAT16 ? 0x1p-8 : 0;
    const double sabs = t == CLPOOL_FLOAT16 ? 0x1p-24 : 0;
    size_t bad = 0;
    for (size_t i = 0; i < ref->out_elems; i++) {
        double got = storage_load(t, res->y, i);
        int poisoned = storage_is_poison(t, res->y, i);
        double want = ref->y[i];
        int ok;
        int64_t want_idx = ref->idx[i];
        if (ref->bad[i]) {
            ok = isnan(got) && !poisoned;
        } else if (c->d.op == CLPOOL_ROI_MAX) {
            ok = !poisoned && same_value(got, storage_round(t, want));
        } else if (!isfinite(want)) {
            ok = !poisoned && same_value(got, want);
        } else {
            double tol = ref->atol[i] + fabs(want) * (1e-5 + srel) + sabs;
            ok = !poisoned && isfinite(got) && fabs(got - want) <= tol;
        }
        if (c->d.indices != CLPOOL_INDICES_NONE && res->idx[i] != want_idx)
            ok = 0;
        if (ok)
            continue;
        bad++;
        if (*budget <= 0)
            continue;
        (*budget)--;
        size_t k, ch, ph, pw, rest = i;
        if (nhwc) {
            ch = rest % C, rest /= C, pw = rest % PW, rest /= PW, ph = rest % PH, k = rest / PH;
        } else {
            pw = rest % PW, rest /= PW, ph = rest % PH, rest /= PH, ch = rest % C, k = rest / C;
        }
        const double *b = c->boxd + 5 * k;
        char desc[256];
        roi_describe(desc, sizeof desc, c);
        fprintf(stderr,
                "%s %s at (k=%zu,c=%zu,ph=%zu,pw=%zu) box [%.9g, %.9g, %.9g, %.9g, %.9g]: got "
                "%.9g%s idx %" PRId64 ", want %.9g idx %" PRId64 " (samples %zu, atol %.3g)\n",
                label, desc, k, ch, ph, pw, b[0], b[1], b[2], b[3], b[4], got,
                poisoned ? " (poison: unwritten)" : "", res->idx[i], want, want_idx,
                ref->samples[i], ref->atol[i]);
    }
    return bad;
}
