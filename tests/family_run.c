/*
 * Typed cases for the window family tests (see family_run.h): inputs of any
 * dtype and layout, reference results, poisoned runs and comparisons.
 */
#include "family_run.h"
#include "storage.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *family_values_name(family_values mode)
{
    static const char *names[] = {"ties",        "uniform",  "nan/inf",
                                  "mostly -inf", "positive", "sparse"};
    return mode < FV_COUNT ? names[mode] : "?";
}

static double uniform01(test_rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* A float value of @p mode; @p offset is per tensor. */
static double float_value(test_rng *r, family_values mode, double offset)
{
    uint32_t u = rng_below(r, 1000);
    double small = rng_range(r, -3, 3);
    switch (mode) {
    case FV_TIES:
        return small;
    case FV_UNIFORM:
        return offset + uniform01(r) * 20.0 - 10.0;
    case FV_SPECIAL:
        /* k * 2^-22, |k| <= 4: float16 subnormals (below 2^-14), exact in
         * every float dtype; they become float subnormals in order keys */
        return u < 15    ? NAN
               : u < 30  ? -NAN
               : u < 60  ? INFINITY
               : u < 90  ? -INFINITY
               : u < 120 ? -0.0
               : u < 150 ? ldexp((double)(u % 9) - 4.0, -22)
                         : small;
    case FV_NEG_INF:
        return u < 700 ? -INFINITY : u < 710 ? NAN : small;
    case FV_POSITIVE:
        return (offset == 100.0 ? 100.0 : 0.0) + 0.25 + 8.0 * uniform01(r);
    default:
        return u < 600 ? 0.0 : u < 800 ? -(double)rng_range(r, 1, 3) : 5.0 * uniform01(r);
    }
}

/* An integer value of @p mode in the range of @p t. */
static double int_value(test_rng *r, family_values mode, clpool_dtype t)
{
    int lo = t == CLPOOL_UINT8 ? 0 : -128, hi = t == CLPOOL_UINT8 ? 255 : 127;
    uint32_t u = rng_below(r, 1000);
    int small = t == CLPOOL_UINT8 ? rng_range(r, 0, 3) : rng_range(r, -3, 3);
    switch (mode) {
    case FV_TIES:
        return small;
    case FV_SPECIAL:
        return u < 150 ? lo : u < 300 ? hi : u < 400 ? 0 : small;
    case FV_NEG_INF:
        return u < 700 ? lo : small;
    case FV_POSITIVE:
        return rng_range(r, 1, hi);
    case FV_SPARSE:
        return u < 600 ? 0 : rng_range(r, lo, hi);
    default:
        return rng_range(r, lo, hi);
    }
}

void family_alloc_input(family_case *c)
{
    c->in_elems = tensor_elements(&c->in);
    size_t n = c->in_elems ? c->in_elems : 1;
    c->x = calloc(n, clpool_dtype_size(c->in.dtype));
    c->x_nchw = calloc(n, sizeof *c->x_nchw);
    if (!c->x || !c->x_nchw)
        abort();
}

void family_put(family_case *c, size_t plane, size_t s, double v)
{
    size_t at = layout_offset(&c->in, plane, s);
    storage_store(c->in.dtype, c->x, at, v);
    c->x_nchw[plane * plane_elements(&c->in) + s] = storage_load(c->in.dtype, c->x, at);
}

void family_fill(test_rng *r, family_case *c, family_values mode)
{
    static const double offsets[] = {0.0, 3.0, 100.0};
    double offset = offsets[rng_below(r, 3)];
    family_alloc_input(c);
    c->mode = mode;
    size_t planes = c->in.n * c->in.c, S = plane_elements(&c->in);
    int is_float = storage_is_float(c->in.dtype);
    for (size_t pl = 0; pl < planes; pl++)
        for (size_t s = 0; s < S; s++)
            family_put(c, pl, s,
                       is_float ? float_value(r, mode, offset) : int_value(r, mode, c->in.dtype));
}

clpool_status family_reference(family_case *c, ref_uniform_fn uniform)
{
    clpool_status st = ref_window_check(&c->op, &c->in, &c->out);
    if (st != CLPOOL_SUCCESS)
        return st;
    c->out_elems = tensor_elements(&c->out);
    c->ref = calloc(c->out_elems ? c->out_elems : 1, sizeof *c->ref);
    if (!c->ref)
        abort();
    ref_family_run(&c->op, &c->in, c->x_nchw, c->ref, uniform);
    return CLPOOL_SUCCESS;
}

void family_case_free(family_case *c)
{
    free(c->x);
    free(c->x_nchw);
    free(c->ref);
    c->x = NULL;
    c->x_nchw = NULL;
    c->ref = NULL;
}

size_t family_storage_index(const clpool_tensor_desc *t, size_t e)
{
    size_t S = plane_elements(t);
    return layout_offset(t, e / S, e % S);
}

static int same_shape(const clpool_tensor_desc *a, const clpool_tensor_desc *b)
{
    if (a->dtype != b->dtype || a->layout != b->layout || a->spatial_dims != b->spatial_dims ||
        a->n != b->n || a->c != b->c)
        return 0;
    for (int j = 0; j < a->spatial_dims; j++)
        if (a->spatial[j] != b->spatial[j])
            return 0;
    return 1;
}

clpool_status family_run_plan(clpool_context *ctx, clpool_plan *plan, const family_case *c,
                              int use_enqueue, int poison_variant, test_rng *r, family_result *res,
                              const char *label)
{
    char desc[512];
    describe_case(desc, sizeof desc, &c->op, &c->in);
    clpool_tensor_desc out;
    memset(res, 0, sizeof *res);
    if (clpool_plan_output_desc(plan, &out) != CLPOOL_SUCCESS || !same_shape(&out, &c->out)) {
        fprintf(stderr, "%s %s: output desc %s %s %zux%zux%zu, want %s %zux%zux%zu\n", label, desc,
                storage_dtype_name(out.dtype), out.layout == CLPOOL_NHWC ? "NHWC" : "NCHW",
                out.spatial[0], out.spatial[1], out.spatial[2], storage_dtype_name(c->out.dtype),
                c->out.spatial[0], c->out.spatial[1], c->out.spatial[2]);
        return CLPOOL_ERROR_INVALID_SHAPE;
    }
    size_t esz = clpool_dtype_size(c->in.dtype), isz = index_size(c->op.indices);
    size_t n = c->out_elems ? c->out_elems : 1;
    res->y = malloc(n * esz);
    res->idx = isz ? malloc(n * isz) : NULL;
    if (!res->y || (isz && !res->idx))
        abort();
    storage_poison(c->in.dtype, res->y, c->out_elems, poison_variant);
    if (isz)
        poison_indices(res->idx, c->op.indices, c->out_elems);
    clpool_status st;
    size_t guard = 0;
    if (!use_enqueue) {
        st = clpool_run_host(plan, NULL, c->x, res->y, res->idx);
    } else {
        size_t offsets[3] = {rng_below(r, 40), rng_below(r, 40), rng_below(r, 40)};
        st = run_enqueue_typed(plan, clpool_context_cl_context(ctx), clpool_context_cl_queue(ctx),
                               c->in.dtype, c->x, c->in_elems, res->y, c->out_elems, res->idx,
                               c->op.indices, poison_variant, offsets, &guard);
    }
    if (st != CLPOOL_SUCCESS) {
        fprintf(stderr, "%s %s: run (%s) failed: %s\n", label, desc,
                use_enqueue ? "enqueue" : "host", clpool_status_string(st));
        return st;
    }
    if (guard) {
        fprintf(stderr, "%s %s: enqueue changed %zu bytes outside the tensors (or the input)\n",
                label, desc, guard);
        return CLPOOL_ERROR_INVALID_BUFFER;
    }
    return CLPOOL_SUCCESS;
}

clpool_status family_run(clpool_context *ctx, const family_case *c, int use_enqueue,
                         int poison_variant, test_rng *r, family_result *res, const char *label)
{
    clpool_plan *plan = NULL;
    memset(res, 0, sizeof *res);
    clpool_status st = clpool_plan_window(ctx, &c->op, &c->in, &plan);
    if (st != CLPOOL_SUCCESS) {
        char desc[512];
        describe_case(desc, sizeof desc, &c->op, &c->in);
        fprintf(stderr, "%s %s: plan failed: %s\n", label, desc, clpool_status_string(st));
        return st;
    }
    st = family_run_plan(ctx, plan, c, use_enqueue, poison_variant, r, res, label);
    clpool_plan_destroy(plan);
    return st;
}

void family_result_free(family_result *res)
{
    free(res->y);
    free(res->idx);
    res->y = NULL;
    res->idx = NULL;
}

/* The flat in-plane indices of the real cells of output @p e's window. */
size_t family_window_cells(const family_case *c, size_t e, int64_t *q)
{
    ref_dim r[3];
    ref_window_dims(&c->op, &c->in, r);
    size_t O = plane_elements(&c->out), pos = e % O;
    long o[3] = {(long)(pos / (size_t)(r[1].out * r[2].out)),
                 (long)(pos / (size_t)r[2].out % (size_t)r[1].out), (long)(pos % (size_t)r[2].out)};
    size_t n = 0;
    for (long i0 = 0; i0 < r[0].k; i0++) {
        long t = o[0] * r[0].s - r[0].p + i0 * r[0].d;
        for (long i1 = 0; i1 < r[1].k && t >= 0 && t < r[0].in; i1++) {
            long h = o[1] * r[1].s - r[1].p + i1 * r[1].d;
            for (long i2 = 0; i2 < r[2].k && h >= 0 && h < r[1].in; i2++) {
                long w = o[2] * r[2].s - r[2].p + i2 * r[2].d;
                if (w >= 0 && w < r[2].in)
                    q[n++] = ((int64_t)t * r[1].in + h) * r[2].in + w;
            }
        }
    }
    return n;
}

/* "(n,c,y,x)" of NCHW output element e. */
static void locate(char *buf, size_t cap, const clpool_tensor_desc *out, size_t e)
{
    size_t S = plane_elements(out);
    size_t pl = e / S, rem = e % S;
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

static void report(const family_case *c, size_t e, const char *label, const char *what, int *budget)
{
    if (*budget <= 0)
        return;
    (*budget)--;
    char desc[512], at[96];
    describe_case(desc, sizeof desc, &c->op, &c->in);
    locate(at, sizeof at, &c->out, e);
    fprintf(stderr, "%s %s [%s] at %s: %s\n", label, desc, family_values_name(c->mode), at, what);
}

static int64_t index_at(const void *idx, clpool_index_type t, size_t i)
{
    return t == CLPOOL_INDICES_INT32 ? ((const int32_t *)idx)[i] : ((const int64_t *)idx)[i];
}

size_t family_compare(const family_case *c, const family_result *res, const char *label,
                      int *budget)
{
    size_t bad = 0;
    char what[400];
    clpool_dtype t = c->out.dtype;
    for (size_t e = 0; e < c->out_elems; e++) {
        size_t at = family_storage_index(&c->out, e);
        const ref_elem *r = &c->ref[e];
        if (!ref_accepts(t, r, res->y, at)) {
            snprintf(what, sizeof what,
                     "got %.17g (0x%" PRIx64 "%s), want %.17g in [%.17g, %.17g]%s%s (index %" PRId64
                     ")",
                     storage_load(t, res->y, at), storage_bits(t, res->y, at),
                     storage_is_poison(t, res->y, at) ? ", the poison" : "", r->y, r->lo, r->hi,
                     r->flags & REF_EXACT ? " exactly" : "", r->flags & REF_NAN_OK ? " or NaN" : "",
                     r->idx);
            report(c, e, label, what, budget);
            bad++;
            continue;
        }
        if (c->op.indices != CLPOOL_INDICES_NONE && res->idx) {
            int64_t g = index_at(res->idx, c->op.indices, at);
            if (g != r->idx) {
                snprintf(what, sizeof what,
                         "got index %" PRId64 ", want %" PRId64 " (value %.17g, stored %.17g)", g,
                         r->idx, r->y, storage_load(t, res->y, at));
                report(c, e, label, what, budget);
                bad++;
            }
        }
    }
    return bad;
}

size_t family_compare_bitwise(const family_case *c, const family_result *a, const family_result *b,
                              const char *label, int *budget)
{
    size_t bad = 0;
    char what[300];
    clpool_dtype t = c->out.dtype;
    for (size_t e = 0; e < c->out_elems; e++) {
        size_t at = family_storage_index(&c->out, e);
        int same = storage_bits(t, a->y, at) == storage_bits(t, b->y, at);
        int64_t ia = -2, ib = -2;
        if (c->op.indices != CLPOOL_INDICES_NONE && a->idx && b->idx) {
            ia = index_at(a->idx, c->op.indices, at);
            ib = index_at(b->idx, c->op.indices, at);
            same = same && ia == ib;
        }
        if (!same) {
            snprintf(what, sizeof what,
                     "runs differ: %.17g (0x%" PRIx64 ") index %" PRId64 " vs %.17g (0x%" PRIx64
                     ") index %" PRId64,
                     storage_load(t, a->y, at), storage_bits(t, a->y, at), ia,
                     storage_load(t, b->y, at), storage_bits(t, b->y, at), ib);
            report(c, e, label, what, budget);
            bad++;
        }
    }
    return bad;
}
