/*
 * Gradient cases for the backward tests (see backward_run.h): building the
 * output gradient and the forward's indices, the reference gradient, runs
 * through the host call or enqueue on guarded buffers, and comparisons.
 */
#include "backward_run.h"
#include "storage.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD_ELEMS 37
#define GUARD_BYTE 0xA7

static double uniform01(test_rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static void index_store(clpool_index_type t, void *base, size_t i, int64_t v)
{
    if (t == CLPOOL_INDICES_INT32)
        ((int32_t *)base)[i] = (int32_t)v;
    else
        ((int64_t *)base)[i] = v;
}

clpool_status bw_build(test_rng *r, bw_case *c, const clpool_window_desc *op,
                       const clpool_tensor_desc *in, family_values mode, int integer_grads,
                       int damage)
{
    memset(c, 0, sizeof *c);
    c->f.op = *op;
    c->f.in = *in;
    family_fill(r, &c->f, mode);
    clpool_status st = family_reference(&c->f, NULL);
    if (st != CLPOOL_SUCCESS)
        return st;
    size_t no = c->f.out_elems ? c->f.out_elems : 1, ni = c->f.in_elems ? c->f.in_elems : 1;
    clpool_dtype t = in->dtype;
    c->gy = calloc(no, clpool_dtype_size(t));
    c->gy64 = calloc(no, sizeof *c->gy64);
    c->gref = calloc(ni, sizeof *c->gref);
    if (!c->gy || !c->gy64 || !c->gref)
        abort();
    for (size_t e = 0; e < c->f.out_elems; e++) {
        double g = integer_grads ? rng_range(r, -3, 3) : uniform01(r) * 4.0 - 2.0;
        size_t at = family_storage_index(&c->f.out, e);
        storage_store(t, c->gy, at, g);
        c->gy64[e] = storage_load(t, c->gy, at);
    }
    int selects = op->op == CLPOOL_OP_MAX || (op->op == CLPOOL_OP_STOCHASTIC && op->train);
    if (selects && (op->indices != CLPOOL_INDICES_NONE || op->op == CLPOOL_OP_STOCHASTIC)) {
        c->sel = calloc(no, sizeof *c->sel);
        if (!c->sel)
            abort();
        size_t S = plane_elements(in);
        for (size_t e = 0; e < c->f.out_elems; e++) {
            int64_t v = c->f.ref[e].idx;
            if (damage && op->indices != CLPOOL_INDICES_NONE && rng_below(r, 8) == 0)
                v = rng_below(r, 2) ? -1 : (int64_t)rng_below(r, (uint32_t)S);
            c->sel[e] = v;
        }
    }
    if (op->indices != CLPOOL_INDICES_NONE) {
        c->idx = calloc(no, op->indices == CLPOOL_INDICES_INT32 ? 4 : 8);
        if (!c->idx)
            abort();
        for (size_t e = 0; e < c->f.out_elems; e++)
            index_store(op->indices, c->idx, family_storage_index(&c->f.out, e), c->sel[e]);
    }
    ref_backward_run(op, in, c->f.x_nchw, c->gy64, c->sel, c->gref);
    return CLPOOL_SUCCESS;
}

void bw_free(bw_case *c)
{
    family_case_free(&c->f);
    free(c->gy);
    free(c->gy64);
    free(c->idx);
    free(c->sel);
    free(c->gref);
    memset(c, 0, sizeof *c);
}

void *bw_alloc_grad(const bw_case *c)
{
    size_t n = c->f.in_elems ? c->f.in_elems : 1;
    void *gx = malloc(n * clpool_dtype_size(c->f.in.dtype));
    if (!gx)
        abort();
    storage_poison(c->f.in.dtype, gx, c->f.in_elems, 0);
    return gx;
}

/* ---- enqueue on guarded buffers ----------------------------------------- */

typedef struct guarded {
    cl_mem mem;
    unsigned char *host; /* the whole buffer as created */
    size_t bytes, offset, elems, esize;
} guarded;

static int guarded_make(cl_context ctx, guarded *g, size_t esize, size_t offset, size_t elems,
                        const void *data)
{
    g->esize = esize;
    g->offset = offset;
    g->elems = elems;
    g->bytes = (offset + elems + GUARD_ELEMS) * esize;
    g->host = malloc(g->bytes);
    if (!g->host)
        abort();
    memset(g->host, GUARD_BYTE, g->bytes);
    if (data)
        memcpy(g->host + offset * esize, data, elems * esize);
    cl_int err = CL_SUCCESS;
    g->mem = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, g->bytes, g->host, &err);
    return err == CL_SUCCESS;
}

/* Bytes that differ from what was created, outside [offset, offset+elems)
 * (and inside too when @p whole, for buffers the plan only reads). */
static size_t guarded_damage(cl_command_queue q, guarded *g, int whole)
{
    if (!g->mem)
        return 0;
    unsigned char *now = malloc(g->bytes);
    if (!now)
        abort();
    size_t bad = 0;
    if (clEnqueueReadBuffer(q, g->mem, CL_TRUE, 0, g->bytes, now, 0, NULL, NULL) != CL_SUCCESS) {
        free(now);
        return 1;
    }
    size_t lo = g->offset * g->esize, hi = (g->offset + g->elems) * g->esize;
    for (size_t i = 0; i < g->bytes; i++)
        if ((whole || i < lo || i >= hi) && now[i] != g->host[i])
            bad++;
    memcpy(g->host, now, g->bytes);
    free(now);
    return bad;
}

static void guarded_release(guarded *g)
{
    if (g->mem)
        clReleaseMemObject(g->mem);
    free(g->host);
}

static clpool_status bw_enqueue(clpool_context *ctx, clpool_plan *plan, const bw_case *c,
                                test_rng *r, void *gx, size_t *damage)
{
    cl_context cl = clpool_context_cl_context(ctx);
    cl_command_queue q = clpool_context_cl_queue(ctx);
    size_t esz = clpool_dtype_size(c->f.in.dtype);
    guarded x, gy, idx, gi;
    memset(&x, 0, sizeof x);
    memset(&gy, 0, sizeof gy);
    memset(&idx, 0, sizeof idx);
    memset(&gi, 0, sizeof gi);
    clpool_status st = CLPOOL_ERROR_OPENCL;
    int ok = guarded_make(cl, &x, esz, rng_below(r, 40), c->f.in_elems, c->f.x) &&
             guarded_make(cl, &gy, esz, rng_below(r, 40), c->f.out_elems, c->gy) &&
             guarded_make(cl, &gi, esz, rng_below(r, 40), c->f.in_elems, gx);
    if (ok && c->idx)
        ok = guarded_make(cl, &idx, c->f.op.indices == CLPOOL_INDICES_INT32 ? 4 : 8,
                          rng_below(r, 40), c->f.out_elems, c->idx);
    if (ok) {
        clpool_io io;
        memset(&io, 0, sizeof io);
        io.input.mem = x.mem;
        io.input.offset = x.offset;
        io.grad_output.mem = gy.mem;
        io.grad_output.offset = gy.offset;
        io.indices.mem = idx.mem;
        io.indices.offset = idx.offset;
        io.grad_input.mem = gi.mem;
        io.grad_input.offset = gi.offset;
        cl_event ev = NULL;
        st = clpool_enqueue(plan, q, &io, 0, NULL, &ev);
        if (st == CLPOOL_SUCCESS && (!ev || clWaitForEvents(1, &ev) != CL_SUCCESS))
            st = CLPOOL_ERROR_OPENCL;
        if (ev)
            clReleaseEvent(ev);
    }
    if (st == CLPOOL_SUCCESS) {
        *damage = guarded_damage(q, &x, 1) + guarded_damage(q, &gy, 1) +
                  guarded_damage(q, &idx, 1) + guarded_damage(q, &gi, 0);
        memcpy(gx, gi.host + gi.offset * esz, c->f.in_elems * esz);
    }
    guarded_release(&x);
    guarded_release(&gy);
    guarded_release(&idx);
    guarded_release(&gi);
    return st;
}

clpool_status bw_run_plan(clpool_context *ctx, clpool_plan *plan, const bw_case *c, int use_enqueue,
                          test_rng *r, void *gx, const char *label)
{
    char desc[512];
    storage_poison(c->f.in.dtype, gx, c->f.in_elems, 0);
    clpool_status st;
    size_t damage = 0;
    if (use_enqueue) {
        st = bw_enqueue(ctx, plan, c, r, gx, &damage);
    } else {
        clpool_host_io io;
        memset(&io, 0, sizeof io);
        io.input = c->f.x;
        io.grad_output = c->gy;
        io.indices = c->idx;
        io.grad_input = gx;
        st = clpool_run_host_io(plan, NULL, &io);
    }
    if (st != CLPOOL_SUCCESS || damage) {
        describe_case(desc, sizeof desc, &c->f.op, &c->f.in);
        if (st != CLPOOL_SUCCESS)
            fprintf(stderr, "%s %s: backward run (%s) failed: %s\n", label, desc,
                    use_enqueue ? "enqueue" : "host", clpool_status_string(st));
        else
            fprintf(stderr, "%s %s: enqueue changed %zu bytes it must not write\n", label, desc,
                    damage);
        return st != CLPOOL_SUCCESS ? st : CLPOOL_ERROR_INVALID_BUFFER;
    }
    return CLPOOL_SUCCESS;
}

clpool_status bw_run(clpool_context *ctx, const bw_case *c, int use_enqueue, test_rng *r, void *gx,
                     const char *label)
{
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_window_backward(ctx, &c->f.op, &c->f.in, &plan);
    if (st != CLPOOL_SUCCESS) {
        char desc[512];
        describe_case(desc, sizeof desc, &c->f.op, &c->f.in);
        fprintf(stderr, "%s %s: backward plan failed: %s\n", label, desc, clpool_status_string(st));
        return st;
    }
    st = bw_run_plan(ctx, plan, c, use_enqueue, r, gx, label);
    clpool_plan_destroy(plan);
    return st;
}

/* ---- comparisons -------------------------------------------------------- */

/* "(n,c,pos...)" of NCHW input element e. */
static void locate(char *buf, size_t cap, const clpool_tensor_desc *t, size_t e)
{
    size_t S = plane_elements(t), pl = e / S, rem = e % S, pos[3] = {0, 0, 0};
    for (int j = t->spatial_dims - 1; j >= 0; j--) {
        pos[j] = rem % t->spatial[j];
        rem /= t->spatial[j];
    }
    size_t len = (size_t)snprintf(buf, cap, "(%zu,%zu", pl / t->c, pl % t->c);
    for (int j = 0; j < t->spatial_dims && len < cap; j++)
        len += (size_t)snprintf(buf + len, cap - len, ",%zu", pos[j]);
    if (len < cap)
        snprintf(buf + len, cap - len, ")");
}

static void report(const bw_case *c, size_t e, const char *label, const char *what, int *budget)
{
    if (*budget <= 0)
        return;
    (*budget)--;
    char desc[512], at[96];
    describe_case(desc, sizeof desc, &c->f.op, &c->f.in);
    locate(at, sizeof at, &c->f.in, e);
    fprintf(stderr, "%s grad %s [%s] at %s: %s\n", label, desc, family_values_name(c->f.mode), at,
            what);
}

size_t bw_compare(const bw_case *c, const void *gx, const char *label, int *budget)
{
    size_t bad = 0;
    clpool_dtype t = c->f.in.dtype;
    for (size_t e = 0; e < c->f.in_elems; e++) {
        size_t at = family_storage_index(&c->f.in, e);
        const ref_grad *g = &c->gref[e];
        if (ref_grad_accepts(t, g, gx, at))
            continue;
        char what[300];
        snprintf(what, sizeof what,
                 "got %.17g (0x%" PRIx64 "%s), want %.17g (band %.3g, %d terms, x = %.17g)",
                 storage_load(t, gx, at), storage_bits(t, gx, at),
                 storage_is_poison(t, gx, at) ? ", the poison" : "", g->g, g->band, g->terms,
                 c->f.x_nchw[e]);
        report(c, e, label, what, budget);
        bad++;
    }
    return bad;
}

size_t bw_compare_bitwise(const bw_case *c, const void *a, const void *b, const char *label,
                          int *budget)
{
    size_t bad = 0;
    clpool_dtype t = c->f.in.dtype;
    for (size_t e = 0; e < c->f.in_elems; e++) {
        size_t at = family_storage_index(&c->f.in, e);
        if (storage_bits(t, a, at) == storage_bits(t, b, at))
            continue;
        char what[200];
        snprintf(what, sizeof what, "runs differ: 0x%" PRIx64 " vs 0x%" PRIx64,
                 storage_bits(t, a, at), storage_bits(t, b, at));
        report(c, e, label, what, budget);
        bad++;
    }
    return bad;
}
