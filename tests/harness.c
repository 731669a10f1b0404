/*
 * Shared test helpers (see harness.h): generator, input patterns, poisoning,
 * reference results, comparison with full failure reports, enqueue runner.
 */
#include "harness.h"
#include "storage.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t rng_next(test_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t rng_below(test_rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

int rng_range(test_rng *r, int lo, int hi)
{
    return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

static float bits_to_float(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static uint32_t float_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

const char *value_mode_name(value_mode mode)
{
    switch (mode) {
    case VALUES_TIES:
        return "ties";
    case VALUES_UNIFORM:
        return "uniform";
    case VALUES_SPECIAL:
        return "nan/inf";
    case VALUES_NEG_INF:
        return "mostly -inf";
    default:
        return "?";
    }
}

void fill_values(test_rng *r, float *x, size_t count, value_mode mode)
{
    static const float offsets[] = {0.0f, 3.0f, 100.0f};
    float offset = offsets[rng_below(r, 3)];
    for (size_t i = 0; i < count; i++) {
        uint32_t u = rng_below(r, 1000);
        float small = (float)rng_range(r, -3, 3);
        switch (mode) {
        case VALUES_TIES:
            x[i] = small;
            break;
        case VALUES_UNIFORM:
            x[i] = offset + (float)((double)(rng_next(r) >> 11) * 0x1.0p-53 * 20.0 - 10.0);
            break;
        case VALUES_SPECIAL:
            x[i] = u < 30 ? NAN : u < 60 ? INFINITY : u < 90 ? -INFINITY : u < 120 ? -0.0f : small;
            break;
        default:
            x[i] = u < 700 ? -INFINITY : u < 710 ? NAN : small;
            break;
        }
    }
}

void poison_floats(float *y, size_t count)
{
    float p = bits_to_float(POISON_F32_BITS);
    for (size_t i = 0; i < count; i++)
        y[i] = p;
}

size_t index_size(clpool_index_type type)
{
    return type == CLPOOL_INDICES_INT32 ? 4 : type == CLPOOL_INDICES_INT64 ? 8 : 0;
}

void poison_indices(void *idx, clpool_index_type type, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (type == CLPOOL_INDICES_INT32)
            ((int32_t *)idx)[i] = POISON_I32;
        else if (type == CLPOOL_INDICES_INT64)
            ((int64_t *)idx)[i] = POISON_I64;
    }
}

static const char *index_name(clpool_index_type t)
{
    return t == CLPOOL_INDICES_INT32 ? "int32" : t == CLPOOL_INDICES_INT64 ? "int64" : "none";
}

static void join(char *buf, size_t cap, const char *name, const int *v, int nd, int dflt,
                 const int *fallback)
{
    size_t len = strlen(buf);
    len += (size_t)snprintf(buf + len, cap - len, " %s=", name);
    for (int j = 0; j < nd && len < cap; j++) {
        int value = v[j] ? v[j] : fallback ? fallback[j] : dflt;
        len += (size_t)snprintf(buf + len, cap - len, "%s%d", j ? "x" : "", value);
    }
}

static const char *op_name(clpool_op kind)
{
    static const char *names[] = {"?", "max", "avg", "lp", "gem", "mixed", "softmax", "stochastic"};
    return kind >= CLPOOL_OP_MAX && kind <= CLPOOL_OP_STOCHASTIC ? names[kind] : "?";
}

void describe_case(char *buf, size_t cap, const clpool_window_desc *op,
                   const clpool_tensor_desc *in)
{
    static const char *names[3][3] = {{"L"}, {"H", "W"}, {"D", "H", "W"}};
    int nd = in->spatial_dims >= 1 && in->spatial_dims <= 3 ? in->spatial_dims : 1;
    size_t len = (size_t)snprintf(buf, cap, "N=%zu C=%zu", in->n, in->c);
    for (int j = 0; j < nd && len < cap; j++)
        len += (size_t)snprintf(buf + len, cap - len, " %s=%zu", names[nd - 1][j], in->spatial[j]);
    if (len < cap && (in->dtype != CLPOOL_FLOAT32 || in->layout != CLPOOL_NCHW))
        len += (size_t)snprintf(buf + len, cap - len, " %s %s", storage_dtype_name(in->dtype),
                                in->layout == CLPOOL_NHWC ? "NHWC" : "NCHW");
    if (len < cap)
        snprintf(buf + len, cap - len, " op=%s", op_name(op->op));
    join(buf, cap, "k", op->kernel, nd, 0, NULL);
    join(buf, cap, "s", op->stride, nd, 0, op->kernel);
    for (int j = 0; j < nd; j++)
        if (op->stride[j] == 0) {
            if (strlen(buf) + 10 < cap)
                strcat(buf, "(dflt)"); /* some stride left 0: the kernel size */
            break;
        }
    join(buf, cap, "p", op->padding, nd, 0, NULL);
    join(buf, cap, "d", op->dilation, nd, 1, NULL);
    len = strlen(buf);
    if (len < cap)
        len +=
            (size_t)snprintf(buf + len, cap - len, " ceil=%d cip=%d div=%d idx=%s", op->ceil_mode,
                             !op->exclude_padding, op->divisor_override, index_name(op->indices));
    if (len >= cap)
        return;
    switch (op->op) {
    case CLPOOL_OP_LP:
    case CLPOOL_OP_GEM:
        snprintf(buf + len, cap - len, " p=%.17g", op->p);
        break;
    case CLPOOL_OP_MIXED:
        snprintf(buf + len, cap - len, " alpha=%.17g", op->alpha);
        break;
    case CLPOOL_OP_SOFTMAX:
        snprintf(buf + len, cap - len, " beta=%.17g", op->beta);
        break;
    case CLPOOL_OP_STOCHASTIC:
        snprintf(buf + len, cap - len, " train=%d seed=0x%" PRIx64, op->train, op->seed);
        break;
    default:
        break;
    }
}

int window_ref_compute(window_ref *r, const clpool_window_desc *op, const clpool_tensor_desc *in,
                       const float *x)
{
    memset(r, 0, sizeof *r);
    if (ref_window_check(op, in, &r->out) != CLPOOL_SUCCESS)
        return -1;
    r->out_elems = r->out.n * r->out.c;
    for (int j = 0; j < r->out.spatial_dims; j++)
        r->out_elems *= r->out.spatial[j];
    size_t n = r->out_elems ? r->out_elems : 1;
    r->y = malloc(n * sizeof *r->y);
    r->idx = malloc(n * sizeof *r->idx);
    r->atol = malloc(n * sizeof *r->atol);
    if (!r->y || !r->idx || !r->atol) {
        window_ref_free(r);
        return -1;
    }
    ref_window_run(op, in, x, r->y, r->idx, r->atol);
    return 0;
}

void window_ref_free(window_ref *r)
{
    free(r->y);
    free(r->idx);
    free(r->atol);
    memset(r, 0, sizeof *r);
}

/* "(n,c,y,x)" of output element e. */
static void locate(char *buf, size_t cap, const clpool_tensor_desc *out, size_t e)
{
    size_t plane = 1;
    for (int j = 0; j < out->spatial_dims; j++)
        plane *= out->spatial[j];
    size_t pl = e / plane, rem = e % plane;
    size_t pos[3] = {0, 0, 0};
    for (int j = out->spatial_dims - 1; j >= 0; j--) {
        pos[j] = rem % out->spatial[j];
        rem /= out->spatial[j];
    }
    size_t len = (size_t)snprintf(buf, cap, "(%zu,%zu", pl / out->c, pl % out->c);
    for (int j = 0; j < out->spatial_dims && len < cap; j++)
        len += (size_t)snprintf(buf + len, cap - len, ",%zu", pos[j]);
    if (len < cap)
        snprintf(buf + len, cap - len, ")");
}

static int64_t got_index(const void *idx, clpool_index_type t, size_t e)
{
    return t == CLPOOL_INDICES_INT32 ? ((const int32_t *)idx)[e] : ((const int64_t *)idx)[e];
}

static void report(const char *label, const clpool_window_desc *op, const clpool_tensor_desc *in,
                   const clpool_tensor_desc *out, size_t e, const char *what, int *budget)
{
    if (*budget <= 0)
        return;
    (*budget)--;
    char c[512], at[96];
    describe_case(c, sizeof c, op, in);
    locate(at, sizeof at, out, e);
    fprintf(stderr, "%s %s at %s: %s\n", label, c, at, what);
}

size_t window_compare(const window_ref *r, const clpool_window_desc *op,
                      const clpool_tensor_desc *in, const float *got, const void *got_idx,
                      const char *label, int *budget)
{
    size_t bad = 0;
    char what[256];
    for (size_t e = 0; e < r->out_elems; e++) {
        float g = got[e];
        double want = r->y[e];
        int ok;
        if (float_bits(g) == POISON_F32_BITS) {
            ok = 0;
        } else if (isnan(want)) {
            ok = isnan(g);
        } else if (op->op == CLPOOL_OP_MAX || isinf(want)) {
            float w = (float)want;
            ok = float_bits(g) == float_bits(w);
        } else {
            ok = isfinite(g) && fabs((double)g - want) <= 1e-5 * fabs(want) + r->atol[e];
        }
        if (!ok) {
            snprintf(what, sizeof what, "got %.9g (0x%08" PRIx32 "), want %.9g (tol %.3g)", g,
                     float_bits(g), want,
                     op->op == CLPOOL_OP_MAX ? 0.0 : 1e-5 * fabs(want) + r->atol[e]);
            report(label, op, in, &r->out, e, what, budget);
            bad++;
            continue;
        }
        if (op->op == CLPOOL_OP_MAX && op->indices != CLPOOL_INDICES_NONE && got_idx) {
            int64_t gi = got_index(got_idx, op->indices, e);
            if (gi != r->idx[e]) {
                snprintf(what, sizeof what, "got index %" PRId64 ", want %" PRId64 " (value %.9g)",
                         gi, r->idx[e], want);
                report(label, op, in, &r->out, e, what, budget);
                bad++;
            }
        }
    }
    return bad;
}

size_t window_compare_bitwise(const window_ref *r, const clpool_window_desc *op,
                              const clpool_tensor_desc *in, const float *a, const void *a_idx,
                              const float *b, const void *b_idx, const char *label, int *budget)
{
    size_t bad = 0;
    char what[256];
    size_t isz = index_size(op->indices);
    for (size_t e = 0; e < r->out_elems; e++) {
        int same = float_bits(a[e]) == float_bits(b[e]);
        if (same && isz && a_idx && b_idx)
            same = memcmp((const char *)a_idx + e * isz, (const char *)b_idx + e * isz, isz) == 0;
        if (!same) {
            snprintf(what, sizeof what,
                     "runs differ: %.9g (0x%08" PRIx32 ") vs %.9g (0x%08" PRIx32 ")", a[e],
                     float_bits(a[e]), b[e], float_bits(b[e]));
            report(label, op, in, &r->out, e, what, budget);
            bad++;
        }
    }
    return bad;
}

/* Guard pattern around each sub-range: distinct from the poison. */
#define GUARD_ELEMS 16
#define GUARD_BYTE 0xc3

/* A buffer of @p count elements at element @p offset with guard bytes
 * around: @p data copied in, or (data NULL) the poison of @p dtype, or of
 * the index type @p itype when dtype is CLPOOL_INT64 and itype is set. */
static cl_mem make_guarded(cl_context ctx, cl_command_queue q, size_t elem, size_t offset,
                           size_t count, const void *data, clpool_dtype dtype,
                           clpool_index_type itype, int variant, unsigned char **host,
                           size_t *bytes)
{
    size_t total = (offset + count + GUARD_ELEMS) * elem;
    unsigned char *h = malloc(total);
    if (!h)
        return NULL;
    memset(h, GUARD_BYTE, total);
    if (data)
        memcpy(h + offset * elem, data, count * elem);
    else if (itype != CLPOOL_INDICES_NONE)
        poison_indices(h + offset * elem, itype, count);
    else
        storage_poison(dtype, h + offset * elem, count, variant);
    cl_int err;
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, total, NULL, &err);
    if (err == CL_SUCCESS)
        err = clEnqueueWriteBuffer(q, m, CL_TRUE, 0, total, h, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        if (m)
            clReleaseMemObject(m);
        free(h);
        return NULL;
    }
    *host = h;
    *bytes = total;
    return m;
}

static size_t count_guard_damage(const unsigned char *h, size_t elem, size_t offset, size_t count,
                                 size_t total)
{
    size_t bad = 0;
    for (size_t i = 0; i < offset * elem; i++)
        bad += h[i] != GUARD_BYTE;
    for (size_t i = (offset + count) * elem; i < total; i++)
        bad += h[i] != GUARD_BYTE;
    return bad;
}

clpool_status run_enqueue_typed(clpool_plan *plan, cl_context cl_ctx, cl_command_queue queue,
                                clpool_dtype dtype, const void *x, size_t in_elems, void *y,
                                size_t out_elems, void *idx, clpool_index_type idx_type,
                                int poison_variant, size_t offsets[3], size_t *guard_errors)
{
    clpool_status st = CLPOOL_ERROR_OPENCL;
    unsigned char *hin = NULL, *hout = NULL, *hidx = NULL;
    size_t bin = 0, bout = 0, bidx = 0;
    size_t isz = index_size(idx_type), esz = clpool_dtype_size(dtype);
    cl_mem min = NULL, mout = NULL, midx = NULL;
    cl_event ev = NULL;
    *guard_errors = 0;

    min = make_guarded(cl_ctx, queue, esz, offsets[0], in_elems, x, dtype, CLPOOL_INDICES_NONE, 0,
                       &hin, &bin);
    mout = make_guarded(cl_ctx, queue, esz, offsets[1], out_elems, NULL, dtype, CLPOOL_INDICES_NONE,
                        poison_variant, &hout, &bout);
    if (!min || !mout)
        goto cleanup;
    if (isz) {
        midx = make_guarded(cl_ctx, queue, isz, offsets[2], out_elems, NULL, CLPOOL_INT64, idx_type,
                            0, &hidx, &bidx);
        if (!midx)
            goto cleanup;
    }
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.input.mem = min;
    io.input.offset = offsets[0];
    io.output.mem = mout;
    io.output.offset = offsets[1];
    io.indices.mem = midx;
    io.indices.offset = offsets[2];
    st = clpool_enqueue(plan, queue, &io, 0, NULL, &ev);
    if (st != CLPOOL_SUCCESS)
        goto cleanup;
    st = CLPOOL_ERROR_OPENCL;
    if (!ev || clWaitForEvents(1, &ev) != CL_SUCCESS)
        goto cleanup;
    if (clEnqueueReadBuffer(queue, min, CL_TRUE, 0, bin, hin, 0, NULL, NULL) != CL_SUCCESS ||
        clEnqueueReadBuffer(queue, mout, CL_TRUE, 0, bout, hout, 0, NULL, NULL) != CL_SUCCESS)
        goto cleanup;
    if (midx &&
        clEnqueueReadBuffer(queue, midx, CL_TRUE, 0, bidx, hidx, 0, NULL, NULL) != CL_SUCCESS)
        goto cleanup;
    *guard_errors += count_guard_damage(hin, esz, offsets[0], in_elems, bin);
    *guard_errors += count_guard_damage(hout, esz, offsets[1], out_elems, bout);
    if (memcmp(hin + offsets[0] * esz, x, in_elems * esz) != 0)
        *guard_errors += 1; /* the input was modified */
    memcpy(y, hout + offsets[1] * esz, out_elems * esz);
    if (midx) {
        *guard_errors += count_guard_damage(hidx, isz, offsets[2], out_elems, bidx);
        memcpy(idx, hidx + offsets[2] * isz, out_elems * isz);
    }
    st = CLPOOL_SUCCESS;
cleanup:
    if (ev)
        clReleaseEvent(ev);
    if (min)
        clReleaseMemObject(min);
    if (mout)
        clReleaseMemObject(mout);
    if (midx)
        clReleaseMemObject(midx);
    free(hin);
    free(hout);
    free(hidx);
    return st;
}

clpool_status run_enqueue(clpool_plan *plan, cl_context cl_ctx, cl_command_queue queue,
                          const float *x, size_t in_elems, float *y, size_t out_elems, void *idx,
                          clpool_index_type idx_type, size_t offsets[3], size_t *guard_errors)
{
    return run_enqueue_typed(plan, cl_ctx, queue, CLPOOL_FLOAT32, x, in_elems, y, out_elems, idx,
                             idx_type, 0, offsets, guard_errors);
}

clpool_tensor_desc tensor(int dims, size_t n, size_t c, size_t s0, size_t s1, size_t s2)
{
    clpool_tensor_desc t;
    memset(&t, 0, sizeof t);
    t.dtype = CLPOOL_FLOAT32;
    t.layout = CLPOOL_NCHW;
    t.spatial_dims = dims;
    t.n = n;
    t.c = c;
    t.spatial[0] = s0;
    t.spatial[1] = s1;
    t.spatial[2] = s2;
    return t;
}
