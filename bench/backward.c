/*
 * clpool-bench-backward: times the window family's gradient
 * (clpool_plan_window_backward) on real network layers of the bench's table
 * (resnet-stem max with the forward's indices, vgg max with indices,
 * inception avg) against oneDNN's pooling backward on the same layer in the
 * same run, and against the measured stream bandwidth for the bytes the pass
 * must move (grad_output, the indices, grad_input). Both sides are checked
 * against a plain-C scatter of the same gradient before they are timed.
 */
#include "layers.h"
#include "load.h"
#include "stream.h"
#include "timing.h"
#include "util.h"
#ifdef HAVE_ONEDNN
#include <dnnl.h>
#endif

#include "clpool.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_BYTES ((size_t)256 << 20)
#define TARGET_VS_ONEDNN 1.0
#define TARGET_BW_FRACTION 0.60

/* A backward row: a layer of the bench's table and the index type its max
 * gradient reads. */
typedef struct bw_row {
    const char *layer;
    clpool_index_type indices;
} bw_row;

static const bw_row rows[] = {
    {"resnet-stem", CLPOOL_INDICES_INT64},
    {"resnet-stem", CLPOOL_INDICES_INT32},
    {"vgg", CLPOOL_INDICES_INT64},
    {"inception", CLPOOL_INDICES_NONE},
};

/* The data of one row: input, output gradient, the forward's argmax (flat
 * in-plane, from clpool's forward pass) and the reference gradient. */
typedef struct bw_data {
    const bench_layer *layer;
    clpool_window_desc op;
    clpool_tensor_desc in;
    size_t in_elems, out_elems;
    float *x, *gy, *ref;
    int64_t *idx;
    size_t copies;
} bw_data;

/* The reference: each output's gradient scattered (max: to its index; avg:
 * over its window's real cells divided as the forward divides). */
static void reference(bw_data *d)
{
    const bench_layer *l = d->layer;
    size_t out[3];
    bench_layer_output_spatial(l, out);
    size_t H = l->in[0], W = l->in[1], OH = out[0], OW = out[1];
    size_t planes = l->n * l->c;
    double *acc = calloc(d->in_elems, sizeof *acc);
    if (!acc)
        abort();
    for (size_t pl = 0; pl < planes; pl++)
        for (size_t oy = 0; oy < OH; oy++)
            for (size_t ox = 0; ox < OW; ox++) {
                size_t o = (pl * OH + oy) * OW + ox;
                double g = d->gy[o];
                if (l->op == CLPOOL_OP_MAX) {
                    acc[pl * H * W + (size_t)d->idx[o]] += g;
                    continue;
                }
                long ys = (long)(oy * (size_t)l->stride[0]) - l->padding[0];
                long xs = (long)(ox * (size_t)l->stride[1]) - l->padding[1];
                long y0 = ys < 0 ? 0 : ys, x0 = xs < 0 ? 0 : xs;
                long y1 = ys + l->kernel[0] < (long)H ? ys + l->kernel[0] : (long)H;
                long x1 = xs + l->kernel[1] < (long)W ? xs + l->kernel[1] : (long)W;
                double div = (double)((y1 - y0) * (x1 - x0));
                for (long y = y0; y < y1; y++)
                    for (long x = x0; x < x1; x++)
                        acc[pl * H * W + (size_t)y * W + (size_t)x] += g / div;
            }
    for (size_t i = 0; i < d->in_elems; i++)
        d->ref[i] = (float)acc[i];
    free(acc);
}

static int check_grad(const bw_data *d, const float *got, char *err, size_t err_len)
{
    for (size_t i = 0; i < d->in_elems; i++)
        if (!(fabsf(got[i] - d->ref[i]) <= 1e-5f * (1 + fabsf(d->ref[i])))) {
            snprintf(err, err_len, "wrong gradient at element %zu: %.9g, want %.9g", i,
                     (double)got[i], (double)d->ref[i]);
            return -1;
        }
    return 0;
}

/* ---- the clpool side ---------------------------------------------------- */

typedef struct clpool_bw {
    const bw_data *d;
    cl_command_queue queue;
    clpool_plan *plan;
    cl_mem *gy, *idx, *gx; /* [copies] */
    float *out;
} clpool_bw;

static int clpool_run(void *self, size_t copy, char *err, size_t err_len)
{
    clpool_bw *s = self;
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.grad_output.mem = s->gy[copy];
    io.indices.mem = s->idx ? s->idx[copy] : NULL;
    io.grad_input.mem = s->gx[copy];
    clpool_status st = clpool_enqueue(s->plan, s->queue, &io, 0, NULL, NULL);
    if (st != CLPOOL_SUCCESS) {
        snprintf(err, err_len, "clpool_enqueue: %s", clpool_status_string(st));
        return -1;
    }
    if (clFinish(s->queue) != CL_SUCCESS) {
        snprintf(err, err_len, "clFinish failed");
        return -1;
    }
    return 0;
}

static int clpool_check(void *self, size_t copy, char *err, size_t err_len)
{
    clpool_bw *s = self;
    if (clEnqueueReadBuffer(s->queue, s->gx[copy], CL_TRUE, 0, s->d->in_elems * 4, s->out, 0, NULL,
                            NULL) != CL_SUCCESS) {
        snprintf(err, err_len, "clEnqueueReadBuffer failed");
        return -1;
    }
    return check_grad(s->d, s->out, err, err_len);
}

static cl_mem device_copy(clpool_context *ctx, const void *host, size_t bytes)
{
    cl_int e;
    cl_mem m = clCreateBuffer(clpool_context_cl_context(ctx),
                              CL_MEM_READ_WRITE | (host ? CL_MEM_COPY_HOST_PTR : 0), bytes,
                              (void *)(uintptr_t)host, &e);
    return e == CL_SUCCESS ? m : NULL;
}

static int clpool_open(clpool_context *ctx, const bw_data *d, clpool_bw *s, char *err,
                       size_t err_len)
{
    memset(s, 0, sizeof *s);
    s->d = d;
    s->queue = clpool_context_cl_queue(ctx);
    clpool_status st = clpool_plan_window_backward(ctx, &d->op, &d->in, &s->plan);
    if (st != CLPOOL_SUCCESS) {
        snprintf(err, err_len, "clpool_plan_window_backward: %s", clpool_status_string(st));
        return -1;
    }
    s->gy = calloc(d->copies, sizeof *s->gy);
    s->gx = calloc(d->copies, sizeof *s->gx);
    s->out = malloc(d->in_elems * 4);
    if (d->op.indices != CLPOOL_INDICES_NONE)
        s->idx = calloc(d->copies, sizeof *s->idx);
    size_t isz = d->op.indices == CLPOOL_INDICES_INT32 ? 4 : 8;
    void *idx = malloc(d->out_elems * isz);
    if (!s->gy || !s->gx || !s->out || !idx)
        abort();
    for (size_t i = 0; i < d->out_elems; i++) {
        if (isz == 4)
            ((int32_t *)idx)[i] = (int32_t)d->idx[i];
        else
            ((int64_t *)idx)[i] = d->idx[i];
    }
    for (size_t k = 0; k < d->copies; k++) {
        s->gy[k] = device_copy(ctx, d->gy, d->out_elems * 4);
        s->gx[k] = device_copy(ctx, NULL, d->in_elems * 4);
        if (s->idx)
            s->idx[k] = device_copy(ctx, idx, d->out_elems * isz);
        if (!s->gy[k] || !s->gx[k] || (s->idx && !s->idx[k])) {
            free(idx);
            snprintf(err, err_len, "clCreateBuffer failed");
            return -1;
        }
    }
    free(idx);
    return clpool_run(s, 0, err, err_len) || clpool_check(s, 0, err, err_len) ? -1 : 0;
}

static void clpool_close(clpool_bw *s)
{
    for (size_t k = 0; k < (s->d ? s->d->copies : 0); k++) {
        if (s->gy && s->gy[k])
            clReleaseMemObject(s->gy[k]);
        if (s->gx && s->gx[k])
            clReleaseMemObject(s->gx[k]);
        if (s->idx && s->idx[k])
            clReleaseMemObject(s->idx[k]);
    }
    free(s->gy);
    free(s->gx);
    free(s->idx);
    free(s->out);
    clpool_plan_destroy(s->plan);
}

/* ---- the oneDNN side ----------------------------------------------------- */

#ifdef HAVE_ONEDNN
typedef struct onednn_bw {
    const bw_data *d;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t fwd_pd, bwd_pd;
    dnnl_primitive_t bwd;
    float **gy, **gx; /* [copies] */
    void *ws;
    dnnl_memory_t *mem; /* [3 * copies] */
    dnnl_exec_arg_t *args;
    int nargs;
    char impl[128];
} onednn_bw;

static int onednn_run(void *self, size_t copy, char *err, size_t err_len)
{
    onednn_bw *p = self;
    dnnl_status_t st =
        dnnl_primitive_execute(p->bwd, p->stream, p->nargs, &p->args[(size_t)p->nargs * copy]);
    if (st == dnnl_success)
        st = dnnl_stream_wait(p->stream);
    if (st != dnnl_success) {
        snprintf(err, err_len, "oneDNN backward failed with status %d", (int)st);
        return -1;
    }
    return 0;
}

static int onednn_check(void *self, size_t copy, char *err, size_t err_len)
{
    onednn_bw *p = self;
    return check_grad(p->d, p->gx[copy], err, err_len);
}

static void *aligned(size_t bytes)
{
    void *ptr = NULL;
    return posix_memalign(&ptr, 64, bytes) == 0 ? ptr : NULL;
}

/* Forward training (the hint, and for max the workspace its backward
 * reads), then the backward primitive; the workspace is filled once by a
 * forward run on the same input. */
static int onednn_open(const bw_data *d, onednn_bw *p, char *err, size_t err_len)
{
    memset(p, 0, sizeof *p);
    p->d = d;
    const bench_layer *l = d->layer;
    size_t out[3];
    bench_layer_output_spatial(l, out);
    dnnl_dims_t src_dims = {(dnnl_dim_t)l->n, (dnnl_dim_t)l->c, (dnnl_dim_t)l->in[0],
                            (dnnl_dim_t)l->in[1]};
    dnnl_dims_t dst_dims = {(dnnl_dim_t)l->n, (dnnl_dim_t)l->c, (dnnl_dim_t)out[0],
                            (dnnl_dim_t)out[1]};
    dnnl_dims_t strides = {l->stride[0], l->stride[1]}, kernel = {l->kernel[0], l->kernel[1]};
    dnnl_dims_t dil = {0, 0}, pad = {l->padding[0], l->padding[1]};
    dnnl_alg_kind_t alg = l->op == CLPOOL_OP_MAX ? dnnl_pooling_max
                          : l->exclude_padding   ? dnnl_pooling_avg_exclude_padding
                                                 : dnnl_pooling_avg_include_padding;
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_pooling_v2_desc_t fd, bd;
    dnnl_status_t st = dnnl_engine_create(&p->engine, dnnl_cpu, 0);
    if (st == dnnl_success)
        st = dnnl_stream_create(&p->stream, p->engine, dnnl_stream_default_flags);
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, dnnl_nchw);
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, dnnl_nchw);
    if (st == dnnl_success)
        st = dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, alg, &src_md, &dst_md,
                                               strides, kernel, dil, pad, pad);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&p->fwd_pd, &fd, NULL, p->engine, NULL);
    if (st == dnnl_success)
        st = dnnl_pooling_v2_backward_desc_init(&bd, alg, &src_md, &dst_md, strides, kernel, dil,
                                                pad, pad);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&p->bwd_pd, &bd, NULL, p->engine, p->fwd_pd);
    if (st == dnnl_success)
        st = dnnl_primitive_create(&p->bwd, p->bwd_pd);
    if (st != dnnl_success) {
        snprintf(err, err_len, "oneDNN setup failed with status %d", (int)st);
        return -1;
    }
    const char *name = NULL;
    if (dnnl_primitive_desc_query(p->bwd_pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success &&
        name)
        snprintf(p->impl, sizeof p->impl, "%s", name);
    const dnnl_memory_desc_t *ws_md =
        dnnl_primitive_desc_query_md(p->fwd_pd, dnnl_query_workspace_md, 0);
    int has_ws = ws_md && ws_md->ndims > 0;
    dnnl_memory_t ws_mem = NULL;
    if (has_ws) {
        /* one forward training run fills the workspace */
        size_t ws_bytes = dnnl_memory_desc_get_size(ws_md);
        p->ws = aligned(ws_bytes);
        float *y = aligned(d->out_elems * 4);
        dnnl_primitive_t fwd = NULL;
        dnnl_memory_t xm = NULL, ym = NULL;
        st = dnnl_primitive_create(&fwd, p->fwd_pd);
        if (st == dnnl_success)
            st = dnnl_memory_create(&ws_mem, ws_md, p->engine, p->ws);
        if (st == dnnl_success)
            st = dnnl_memory_create(&xm, &src_md, p->engine, d->x);
        if (st == dnnl_success)
            st = dnnl_memory_create(&ym, &dst_md, p->engine, y);
        dnnl_exec_arg_t fa[3] = {
            {DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}, {DNNL_ARG_WORKSPACE, ws_mem}};
        if (st == dnnl_success)
            st = dnnl_primitive_execute(fwd, p->stream, 3, fa);
        if (st == dnnl_success)
            st = dnnl_stream_wait(p->stream);
        if (xm)
            dnnl_memory_destroy(xm);
        if (ym)
            dnnl_memory_destroy(ym);
        if (fwd)
            dnnl_primitive_destroy(fwd);
        free(y);
        if (st != dnnl_success) {
            snprintf(err, err_len, "oneDNN forward training failed with status %d", (int)st);
            return -1;
        }
    }
    p->nargs = has_ws ? 3 : 2;
    p->gy = calloc(d->copies, sizeof *p->gy);
    p->gx = calloc(d->copies, sizeof *p->gx);
    p->mem = calloc(3 * d->copies, sizeof *p->mem);
    p->args = calloc(3 * d->copies, sizeof *p->args);
    if (!p->gy || !p->gx || !p->mem || !p->args)
        abort();
    for (size_t k = 0; k < d->copies; k++) {
        p->gy[k] = aligned(d->out_elems * 4);
        p->gx[k] = aligned(d->in_elems * 4);
        if (!p->gy[k] || !p->gx[k])
            abort();
        memcpy(p->gy[k], d->gy, d->out_elems * 4);
        for (size_t i = 0; i < d->in_elems; i++)
            p->gx[k][i] = NAN;
        dnnl_memory_create(&p->mem[3 * k], &dst_md, p->engine, p->gy[k]);
        dnnl_memory_create(&p->mem[3 * k + 1], &src_md, p->engine, p->gx[k]);
        dnnl_exec_arg_t *a = &p->args[(size_t)p->nargs * k];
        a[0].arg = DNNL_ARG_DIFF_DST;
        a[0].memory = p->mem[3 * k];
        a[1].arg = DNNL_ARG_DIFF_SRC;
        a[1].memory = p->mem[3 * k + 1];
        if (has_ws) {
            if (k == 0)
                p->mem[2] = ws_mem;
            a[2].arg = DNNL_ARG_WORKSPACE;
            a[2].memory = ws_mem;
        }
    }
    return onednn_run(p, 0, err, err_len) || onednn_check(p, 0, err, err_len) ? -1 : 0;
}

static void onednn_close(onednn_bw *p)
{
    for (size_t i = 0; p->mem && i < 3 * p->d->copies; i++)
        if (p->mem[i])
            dnnl_memory_destroy(p->mem[i]);
    for (size_t k = 0; k < (p->d ? p->d->copies : 0); k++) {
        if (p->gy)
            free(p->gy[k]);
        if (p->gx)
            free(p->gx[k]);
    }
    free(p->gy);
    free(p->gx);
    free(p->mem);
    free(p->args);
    free(p->ws);
    if (p->bwd)
        dnnl_primitive_destroy(p->bwd);
    if (p->bwd_pd)
        dnnl_primitive_desc_destroy(p->bwd_pd);
    if (p->fwd_pd)
        dnnl_primitive_desc_destroy(p->fwd_pd);
    if (p->stream)
        dnnl_stream_destroy(p->stream);
    if (p->engine)
        dnnl_engine_destroy(p->engine);
}
#endif

/* ---- rows ---------------------------------------------------------------- */

/* Input, gradient and (max) the forward's indices from clpool's forward. */
static int prepare(clpool_context *ctx, const bw_row *row, bw_data *d, char *err, size_t err_len)
{
    memset(d, 0, sizeof *d);
    d->layer = bench_layer_find(row->layer);
    if (!d->layer) {
        snprintf(err, err_len, "no layer '%s'", row->layer);
        return -1;
    }
    bench_layer_window_desc(d->layer, &d->op);
    bench_layer_input_desc(d->layer, &d->in);
    d->in_elems = bench_layer_input_elements(d->layer);
    d->out_elems = bench_layer_output_elements(d->layer);
    d->x = malloc(d->in_elems * 4);
    d->gy = malloc(d->out_elems * 4);
    d->ref = malloc(d->in_elems * 4);
    d->idx = malloc(d->out_elems * 8);
    if (!d->x || !d->gy || !d->ref || !d->idx)
        abort();
    bench_fill_random(d->x, d->in_elems, 20261122u);
    bench_fill_random(d->gy, d->out_elems, 20261123u);
    if (d->layer->op == CLPOOL_OP_MAX) {
        clpool_window_desc fwd = d->op;
        fwd.indices = CLPOOL_INDICES_INT64;
        clpool_plan *plan = NULL;
        float *y = malloc(d->out_elems * 4);
        clpool_status st = clpool_plan_window(ctx, &fwd, &d->in, &plan);
        if (st == CLPOOL_SUCCESS)
            st = clpool_run_host(plan, NULL, d->x, y, d->idx);
        clpool_plan_destroy(plan);
        free(y);
        if (st != CLPOOL_SUCCESS) {
            snprintf(err, err_len, "forward: %s", clpool_status_string(st));
            return -1;
        }
        d->op.indices = row->indices;
    }
    reference(d);
    size_t isz = row->indices == CLPOOL_INDICES_INT32   ? 4
                 : row->indices == CLPOOL_INDICES_INT64 ? 8
                                                        : 0;
    d->copies = bench_rotation_copies(d->in_elems * 4 + d->out_elems * (4 + isz));
    return 0;
}

static void release(bw_data *d)
{
    free(d->x);
    free(d->gy);
    free(d->ref);
    free(d->idx);
}

int main(int argc, char **argv)
{
    int runs = 20, warmup = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            runs = 5;
            warmup = 1;
        } else {
            fprintf(stderr, "usage: clpool-bench-backward [--quick]\n");
            return 2;
        }
    }
    clpool_context *ctx = NULL;
    if (clpool_context_create(NULL, &ctx) != CLPOOL_SUCCESS) {
        fprintf(stderr, "clpool-bench-backward: no clpool context\n");
        return 1;
    }
    clpool_device_info info;
    clpool_context_device_info(ctx, &info);
    char err[BENCH_ERROR_MAX];
    bench_stream_result stream;
    if (bench_stream_bandwidth(clpool_context_cl_context(ctx), clpool_context_cl_device(ctx),
                               clpool_context_cl_queue(ctx), STREAM_BYTES, runs, &stream, err,
                               sizeof err) != 0) {
        fprintf(stderr, "clpool-bench-backward: %s\n", err);
        return 1;
    }
    printf("device: %s; stream copy %.2f GB/s\n", info.device_name, stream.gb_s);
    printf("%-22s %-10s %10s %8s %6s %10s %8s %6s %s\n", "backward row", "indices", "clpool ms",
           "GB/s", "of bw", "oneDNN ms", "vs 1DNN", "other", "targets");
    int failed = 0;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        bw_data d;
        clpool_bw cs;
        memset(&cs, 0, sizeof cs);
        if (prepare(ctx, &rows[r], &d, err, sizeof err) != 0 ||
            clpool_open(ctx, &d, &cs, err, sizeof err) != 0) {
            printf("%-22s failed: %s\n", rows[r].layer, err);
            failed = 1;
            clpool_close(&cs);
            release(&d);
            continue;
        }
        bench_runner runners[2] = {{"clpool", &cs, d.copies, clpool_run, clpool_check}};
        size_t count = 1;
#ifdef HAVE_ONEDNN
        onednn_bw od;
        int have_dnnl = onednn_open(&d, &od, err, sizeof err) == 0;
        if (have_dnnl) {
            bench_runner o = {"oneDNN", &od, d.copies, onednn_run, onednn_check};
            runners[count++] = o;
        } else {
            printf("  oneDNN: %s\n", err);
        }
#endif
        bench_timing timing = {warmup, runs, 5};
        bench_runner_result res[2];
        memset(res, 0, sizeof res);
        bench_load_mark before, after;
        bench_load_mark_now(&before);
        bench_time_runners(runners, count, &timing, res);
        bench_load_mark_now(&after);
        size_t isz = rows[r].indices == CLPOOL_INDICES_INT32   ? 4
                     : rows[r].indices == CLPOOL_INDICES_INT64 ? 8
                                                               : 0;
        double bytes = (double)d.in_elems * 4 + (double)d.out_elems * (4 + isz);
        double gbs = res[0].ok ? bytes / res[0].median_s / 1e9 : 0;
        double vs = count > 1 && res[0].ok && res[1].ok ? res[1].median_s / res[0].median_s : 0;
        double frac = gbs / stream.gb_s;
        char targets[96];
        snprintf(targets, sizeof targets, "bw %s, oneDNN %s",
                 frac >= TARGET_BW_FRACTION ? "met" : "MISSED",
                 count < 2                ? "n/a"
                 : vs >= TARGET_VS_ONEDNN ? "met"
                                          : "MISSED");
        printf("%-22s %-10s %10.3f %8.2f %6.2f %10.3f %8.2f %5.0f%% %s\n", d.layer->name,
               isz == 8   ? "int64"
               : isz == 4 ? "int32"
                          : "-",
               res[0].median_s * 1e3, gbs, frac, count > 1 ? res[1].median_s * 1e3 : 0, vs,
               bench_load_other_percent(&before, &after), targets);
        for (size_t i = 0; i < count; i++)
            if (!res[i].ok) {
                printf("  %s: %s\n", runners[i].label, res[i].error);
                failed |= i == 0;
            }
#ifdef HAVE_ONEDNN
        if (have_dnnl) {
            printf("  oneDNN implementation: %s\n", od.impl);
            onednn_close(&od);
        }
#endif
        clpool_close(&cs);
        release(&d);
        fflush(stdout);
    }
    clpool_context_destroy(ctx);
    return failed;
}
