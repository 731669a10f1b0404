/*
 * The clpool side of a max-unpooling row (see unpool_side.h). Float32 only:
 * the rows of the table that unpool are float32.
 */
#include "unpool_side.h"

#include "clpool_side.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_unpool_side {
    const bench_layer *layer;
    cl_command_queue queue;
    clpool_plan *plan;
    size_t copies, pooled_elems, out_elems;
    float *pooled;    /* the max pooling's values */
    int64_t *indices; /* and indices */
    float *want;      /* the unpooled reference */
    float *got;
    cl_mem *in, *idx, *out; /* [copies] */
    cl_mem workspace;
};

double bench_unpool_bytes(const bench_layer *layer)
{
    return (double)bench_layer_output_elements(layer) * (4.0 + 8.0) +
           (double)bench_layer_input_elements(layer) * 4.0;
}

void bench_unpool_close(bench_unpool_side *s)
{
    if (s == NULL)
        return;
    for (size_t k = 0; k < s->copies; k++) {
        if (s->in && s->in[k])
            clReleaseMemObject(s->in[k]);
        if (s->idx && s->idx[k])
            clReleaseMemObject(s->idx[k]);
        if (s->out && s->out[k])
            clReleaseMemObject(s->out[k]);
    }
    if (s->workspace)
        clReleaseMemObject(s->workspace);
    clpool_plan_destroy(s->plan);
    free(s->in);
    free(s->idx);
    free(s->out);
    free(s->pooled);
    free(s->indices);
    free(s->want);
    free(s->got);
    free(s);
}

static int side_run(void *self, size_t copy, char *err, size_t err_len)
{
    bench_unpool_side *s = self;
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.input.mem = s->in[copy];
    io.indices.mem = s->idx[copy];
    io.output.mem = s->out[copy];
    io.workspace.mem = s->workspace;
    return bench_clpool_enqueue_wait(s->plan, s->queue, &io, err, err_len);
}

/* Every element bit for bit: the unpooled values are copies. */
static int side_check(void *self, size_t copy, char *err, size_t err_len)
{
    bench_unpool_side *s = self;
    cl_int rc = clEnqueueReadBuffer(s->queue, s->out[copy], CL_TRUE, 0, s->out_elems * 4, s->got, 0,
                                    NULL, NULL);
    if (rc != CL_SUCCESS) {
        snprintf(err, err_len, "clEnqueueReadBuffer failed with OpenCL error %d", (int)rc);
        return -1;
    }
    for (size_t i = 0; i < s->out_elems; i++)
        if (memcmp(&s->got[i], &s->want[i], 4) != 0) {
            snprintf(err, err_len, "wrong result: unpooled element %zu is %g, want %g", i,
                     (double)s->got[i], (double)s->want[i]);
            return -1;
        }
    return 0;
}

bench_runner bench_unpool_runner(bench_unpool_side *side)
{
    bench_runner r = {"clpool", side, side->copies, side_run, side_check};
    return r;
}

/* The layer's max pooling with indices, run once on the device. */
static int pool_once(clpool_context *ctx, bench_unpool_side *s, const float *input, char *err,
                     size_t err_len)
{
    const bench_layer *layer = s->layer;
    clpool_window_desc op;
    clpool_tensor_desc in_desc;
    bench_layer_window_desc(layer, &op);
    bench_layer_input_desc(layer, &in_desc);
    op.indices = CLPOOL_INDICES_INT64;
    clpool_plan *pool = NULL;
    clpool_status st = clpool_plan_window(ctx, &op, &in_desc, &pool);
    if (st == CLPOOL_SUCCESS)
        st = clpool_run_host(pool, NULL, input, s->pooled, s->indices);
    clpool_plan_destroy(pool);
    if (st != CLPOOL_SUCCESS) {
        snprintf(err, err_len, "max pooling with indices: %s", clpool_status_string(st));
        return -1;
    }
    return 0;
}

/* The reference: zeros, then each pooled value at its index, planes in
 * row-major order (the last duplicate wins). */
static int reference(bench_unpool_side *s, char *err, size_t err_len)
{
    const bench_layer *layer = s->layer;
    size_t in_plane = bench_layer_input_plane(layer), out_plane = bench_layer_output_plane(layer);
    memset(s->want, 0, s->out_elems * 4);
    for (size_t n = 0; n < layer->n; n++)
        for (size_t c = 0; c < layer->c; c++)
            for (size_t q = 0; q < out_plane; q++) {
                size_t e = bench_layer_offset(layer, out_plane, n, c, q);
                int64_t i = s->indices[e];
                if (i < 0 || (size_t)i >= in_plane) {
                    snprintf(err, err_len, "max pooling wrote index %lld outside its plane",
                             (long long)i);
                    return -1;
                }
                s->want[bench_layer_offset(layer, in_plane, n, c, (size_t)i)] = s->pooled[e];
            }
    return 0;
}

static int make_plan(clpool_context *ctx, bench_unpool_side *s, bench_plan_info *info, char *err,
                     size_t err_len)
{
    const bench_layer *layer = s->layer;
    clpool_unpool_desc op;
    memset(&op, 0, sizeof op);
    clpool_tensor_desc pooled;
    bench_layer_input_desc(layer, &pooled);
    size_t out[3];
    bench_layer_output_spatial(layer, out);
    for (int i = 0; i < layer->dims; i++) {
        op.kernel[i] = layer->kernel[i];
        op.stride[i] = layer->stride[i];
        op.padding[i] = layer->padding[i];
        op.output_size[i] = layer->in[i]; /* back to the forward's input size */
        pooled.spatial[i] = out[i];
    }
    op.indices = CLPOOL_INDICES_INT64;
    clpool_cache_stats before, after;
    clpool_context_cache_stats(ctx, &before);
    double t0 = bench_now();
    clpool_status st = clpool_plan_unpool(ctx, &op, &pooled, &s->plan);
    info->plan_s = bench_now() - t0;
    if (st != CLPOOL_SUCCESS) {
        info->unsupported = st == CLPOOL_ERROR_UNSUPPORTED;
        snprintf(err, err_len, "clpool_plan_unpool: %s", clpool_status_string(st));
        return -1;
    }
    clpool_context_cache_stats(ctx, &after);
    info->source = after.builds > before.builds         ? "build"
                   : after.disk_hits > before.disk_hits ? "disk"
                                                        : "memory";
    info->launches = clpool_plan_launch_count(s->plan);
    return 0;
}

static int make_buffers(cl_context cl_ctx, bench_unpool_side *s, char *err, size_t err_len)
{
    cl_int rc = CL_SUCCESS;
    const float nan_value = NAN;
    size_t ws = clpool_plan_workspace_size(s->plan);
    if (ws > 0)
        s->workspace = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, ws, NULL, &rc);
    for (size_t k = 0; k < s->copies && rc == CL_SUCCESS; k++) {
        s->in[k] = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, s->pooled_elems * 4, NULL, &rc);
        if (rc == CL_SUCCESS)
            s->idx[k] = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, s->pooled_elems * 8, NULL, &rc);
        if (rc == CL_SUCCESS)
            s->out[k] = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, s->out_elems * 4, NULL, &rc);
        if (rc == CL_SUCCESS)
            rc = clEnqueueWriteBuffer(s->queue, s->in[k], CL_FALSE, 0, s->pooled_elems * 4,
                                      s->pooled, 0, NULL, NULL);
        if (rc == CL_SUCCESS)
            rc = clEnqueueWriteBuffer(s->queue, s->idx[k], CL_FALSE, 0, s->pooled_elems * 8,
                                      s->indices, 0, NULL, NULL);
        if (rc == CL_SUCCESS)
            rc = clEnqueueFillBuffer(s->queue, s->out[k], &nan_value, 4, 0, s->out_elems * 4, 0,
                                     NULL, NULL);
    }
    if (rc == CL_SUCCESS && ws > 0) /* touch the workspace's pages before timing */
        rc = clEnqueueFillBuffer(s->queue, s->workspace, &nan_value, 4, 0, ws, 0, NULL, NULL);
    if (rc == CL_SUCCESS)
        rc = clFinish(s->queue);
    if (rc != CL_SUCCESS) {
        snprintf(err, err_len, "setting up the unpooling buffers failed with OpenCL error %d",
                 (int)rc);
        return -1;
    }
    return 0;
}

int bench_unpool_open(clpool_context *context, const bench_layer *layer, const float *input,
                      size_t copies, bench_unpool_side **side, bench_plan_info *info, char *err,
                      size_t err_len)
{
    info->plan_s = 0.0;
    info->source = "-";
    info->launches = 0;
    info->unsupported = 0;
    bench_unpool_side *s = calloc(1, sizeof *s);
    if (s == NULL)
        goto no_memory;
    s->layer = layer;
    s->queue = clpool_context_cl_queue(context);
    s->copies = copies;
    s->pooled_elems = bench_layer_output_elements(layer);
    s->out_elems = bench_layer_input_elements(layer);
    s->pooled = malloc(s->pooled_elems * 4);
    s->indices = malloc(s->pooled_elems * 8);
    s->want = malloc(s->out_elems * 4);
    s->got = malloc(s->out_elems * 4);
    s->in = calloc(copies, sizeof *s->in);
    s->idx = calloc(copies, sizeof *s->idx);
    s->out = calloc(copies, sizeof *s->out);
    if (!s->pooled || !s->indices || !s->want || !s->got || !s->in || !s->idx || !s->out)
        goto no_memory;
    if (layer->dtype != CLPOOL_FLOAT32) {
        snprintf(err, err_len, "the bench unpools float32 only");
        goto fail;
    }
    if (pool_once(context, s, input, err, err_len) != 0 || reference(s, err, err_len) != 0 ||
        make_plan(context, s, info, err, err_len) != 0 ||
        make_buffers(clpool_context_cl_context(context), s, err, err_len) != 0 ||
        side_run(s, 0, err, err_len) != 0 || side_check(s, 0, err, err_len) != 0)
        goto fail;
    *side = s;
    return 0;

no_memory:
    snprintf(err, err_len, "out of host memory setting up %s", layer->name);
fail:
    bench_unpool_close(s);
    return -1;
}
