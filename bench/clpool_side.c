/*
 * The clpool side of a row (see clpool_side.h).
 */
#include "clpool_side.h"

#include "check.h"
#include "dtype.h"
#include "roi.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_clpool_side {
    const bench_layer *layer;
    const float *input; /* borrowed */
    void *packed;       /* the input in the layer's dtype */
    void *raw;          /* one result as the device wrote it */
    float *output;      /* the same as floats, for checks */
    size_t out_bytes;
    cl_command_queue queue;
    clpool_plan *plan;
    size_t copies;
    cl_mem *in;  /* [copies] */
    cl_mem *out; /* [copies] */
    cl_mem workspace;
    cl_mem rois; /* region rows: the boxes, shared by every copy */
};

int bench_clpool_enqueue_wait(clpool_plan *plan, cl_command_queue queue, const clpool_io *io,
                              char *err, size_t err_len)
{
    clpool_status st = clpool_enqueue(plan, queue, io, 0, NULL, NULL);
    if (st != CLPOOL_SUCCESS) {
        snprintf(err, err_len, "clpool_enqueue: %s", clpool_status_string(st));
        return -1;
    }
    cl_int rc = clFinish(queue);
    if (rc != CL_SUCCESS) {
        snprintf(err, err_len, "clFinish after clpool_enqueue failed with OpenCL error %d",
                 (int)rc);
        return -1;
    }
    return 0;
}

void bench_clpool_close(bench_clpool_side *s)
{
    if (s == NULL)
        return;
    for (size_t k = 0; k < s->copies; k++) {
        if (s->in && s->in[k])
            clReleaseMemObject(s->in[k]);
        if (s->out && s->out[k])
            clReleaseMemObject(s->out[k]);
    }
    if (s->workspace)
        clReleaseMemObject(s->workspace);
    if (s->rois)
        clReleaseMemObject(s->rois);
    clpool_plan_destroy(s->plan);
    free(s->in);
    free(s->out);
    free(s->packed);
    free(s->raw);
    free(s->output);
    free(s);
}

static int side_run(void *self, size_t copy, char *err, size_t err_len)
{
    bench_clpool_side *s = self;
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.input.mem = s->in[copy];
    io.output.mem = s->out[copy];
    io.workspace.mem = s->workspace;
    io.rois.mem = s->rois;
    return bench_clpool_enqueue_wait(s->plan, s->queue, &io, err, err_len);
}

static int side_check(void *self, size_t copy, char *err, size_t err_len)
{
    bench_clpool_side *s = self;
    char msg[400];
    cl_int rc = clEnqueueReadBuffer(s->queue, s->out[copy], CL_TRUE, 0, s->out_bytes, s->raw, 0,
                                    NULL, NULL);
    if (rc != CL_SUCCESS) {
        snprintf(err, err_len, "clEnqueueReadBuffer failed with OpenCL error %d", (int)rc);
        return -1;
    }
    bench_unpack(s->layer->dtype, s->raw, s->output, bench_layer_output_elements(s->layer));
    if (bench_check_output(s->layer, s->input, s->output, msg, sizeof msg) != 0) {
        snprintf(err, err_len, "wrong result: %s", msg);
        return -1;
    }
    return 0;
}

bench_runner bench_clpool_runner(bench_clpool_side *side)
{
    bench_runner r = {"clpool", side, side->copies, side_run, side_check};
    return r;
}

/* Which counter of the program cache the plan moved. */
static const char *plan_source(const clpool_cache_stats *a, const clpool_cache_stats *b)
{
    if (b->builds > a->builds)
        return "build";
    if (b->disk_hits > a->disk_hits)
        return "disk";
    if (b->memory_hits > a->memory_hits)
        return "memory";
    return "?";
}

/* Plans the layer and checks the output shape against the table's. */
static int make_plan(clpool_context *ctx, bench_clpool_side *s, bench_plan_info *info, char *err,
                     size_t err_len)
{
    const bench_layer *layer = s->layer;
    clpool_window_desc op;
    clpool_adaptive_desc adaptive;
    clpool_spp_desc pyramid;
    clpool_tensor_desc in_desc, out_desc;
    clpool_cache_stats before, after;
    clpool_roi_desc roi;
    size_t out[3];
    bench_layer_window_desc(layer, &op);
    bench_layer_input_desc(layer, &in_desc);
    if (layer->roi)
        bench_roi_desc(layer, &roi);
    bench_layer_output_spatial(layer, out);
    memset(&adaptive, 0, sizeof adaptive);
    memset(&pyramid, 0, sizeof pyramid);
    adaptive.op = pyramid.op = layer->op;
    for (int i = 0; i < layer->dims; i++)
        adaptive.output_size[i] = (int)out[i];
    pyramid.level_count = layer->level_count;
    for (int l = 0; l < layer->level_count; l++)
        pyramid.levels[l] = layer->levels[l];
    clpool_context_cache_stats(ctx, &before);
    double t0 = bench_now();
    const char *call = layer->roi                        ? "clpool_plan_roi"
                       : layer->family == BENCH_ADAPTIVE ? "clpool_plan_adaptive"
                       : layer->family == BENCH_SPP      ? "clpool_plan_spp"
                                                         : "clpool_plan_window";
    clpool_status st =
        layer->roi                        ? clpool_plan_roi(ctx, &roi, &in_desc, &s->plan)
        : layer->family == BENCH_ADAPTIVE ? clpool_plan_adaptive(ctx, &adaptive, &in_desc, &s->plan)
        : layer->family == BENCH_SPP      ? clpool_plan_spp(ctx, &pyramid, &in_desc, &s->plan)
                                          : clpool_plan_window(ctx, &op, &in_desc, &s->plan);
    info->plan_s = bench_now() - t0;
    if (st != CLPOOL_SUCCESS) {
        info->unsupported = st == CLPOOL_ERROR_UNSUPPORTED;
        snprintf(err, err_len, "%s: %s", call, clpool_status_string(st));
        return -1;
    }
    clpool_context_cache_stats(ctx, &after);
    info->source = plan_source(&before, &after);
    info->launches = clpool_plan_launch_count(s->plan);

    int same = 1;
    memset(&out_desc, 0, sizeof out_desc);
    st = clpool_plan_output_desc(s->plan, &out_desc);
    size_t out_n = layer->roi ? layer->roi->boxes : layer->n;
    if (layer->family == BENCH_SPP) {
        /* (N, C*sum(n^2)) as (N, C*sum(n^2), 1) */
        same = st == CLPOOL_SUCCESS && out_desc.n == layer->n &&
               out_desc.c == layer->c * bench_layer_output_plane(layer) &&
               out_desc.spatial_dims == 1 && out_desc.spatial[0] == 1 &&
               out_desc.dtype == layer->dtype;
        out[0] = out[1] = out[2] = 1;
    } else {
        same = st == CLPOOL_SUCCESS && out_desc.n == out_n && out_desc.c == layer->c &&
               out_desc.spatial_dims == layer->dims && out_desc.dtype == layer->dtype &&
               out_desc.layout == layer->layout;
    }
    for (int i = 0; same && layer->family != BENCH_SPP && i < layer->dims; i++)
        same = out_desc.spatial[i] == out[i];
    if (!same) {
        snprintf(err, err_len,
                 "clpool_plan_output_desc gave %zux%zux%zux%zux%zu (rank %d, dtype %d, layout %d), "
                 "expected %zux%zux%zux%zux%zu (rank %d)",
                 out_desc.n, out_desc.c, out_desc.spatial[0], out_desc.spatial[1],
                 out_desc.spatial[2], out_desc.spatial_dims, (int)out_desc.dtype,
                 (int)out_desc.layout, out_n, layer->c, out[0], out[1], out[2], layer->dims);
        return -1;
    }
    return 0;
}

/* Creates the rotation. Every input holds the same data and every output
 * starts as NaN; all are written here so that no timed run pays first-touch
 * page faults (PoCL allocates host memory lazily). */
static int make_buffers(cl_context cl_ctx, bench_clpool_side *s, char *err, size_t err_len)
{
    const char *what = "clCreateBuffer";
    size_t in_bytes = bench_layer_input_elements(s->layer) * bench_layer_elem_size(s->layer);
    size_t ws = clpool_plan_workspace_size(s->plan);
    unsigned char nan_value[4];
    size_t nan_size = bench_nan_pattern(s->layer->dtype, nan_value);
    cl_int rc = CL_SUCCESS;
    if (ws > 0)
        s->workspace = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, ws, NULL, &rc);
    if (rc == CL_SUCCESS && s->layer->roi) {
        size_t bytes = 5 * s->layer->roi->boxes * sizeof(float);
        float *boxes = malloc(bytes);
        if (boxes == NULL) {
            snprintf(err, err_len, "out of host memory for the boxes");
            return -1;
        }
        bench_roi_boxes(s->layer, boxes);
        s->rois =
            clCreateBuffer(cl_ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, boxes, &rc);
        free(boxes);
    }
    for (size_t k = 0; k < s->copies && rc == CL_SUCCESS; k++) {
        what = "clCreateBuffer";
        s->in[k] = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, in_bytes, NULL, &rc);
        if (rc == CL_SUCCESS)
            s->out[k] = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, s->out_bytes, NULL, &rc);
        if (rc != CL_SUCCESS)
            break;
        what = "clEnqueueWriteBuffer";
        rc = clEnqueueWriteBuffer(s->queue, s->in[k], CL_FALSE, 0, in_bytes, s->packed, 0, NULL,
                                  NULL);
        if (rc != CL_SUCCESS)
            break;
        what = "clEnqueueFillBuffer";
        rc = clEnqueueFillBuffer(s->queue, s->out[k], nan_value, nan_size, 0, s->out_bytes, 0, NULL,
                                 NULL);
    }
    if (rc == CL_SUCCESS) {
        what = "clFinish";
        rc = clFinish(s->queue);
    }
    if (rc != CL_SUCCESS) {
        snprintf(err, err_len, "%s failed with OpenCL error %d", what, (int)rc);
        return -1;
    }
    return 0;
}

int bench_clpool_open(clpool_context *context, const bench_layer *layer, const float *input,
                      size_t copies, bench_clpool_side **side, bench_plan_info *info, char *err,
                      size_t err_len)
{
    info->plan_s = 0.0;
    info->source = "-";
    info->launches = 0;
    info->unsupported = 0;
    bench_clpool_side *s = calloc(1, sizeof *s);
    if (s == NULL)
        goto no_memory;
    s->layer = layer;
    s->input = input;
    s->out_bytes = bench_layer_output_elements(layer) * bench_layer_elem_size(layer);
    s->queue = clpool_context_cl_queue(context);
    s->copies = copies;
    s->packed = malloc(bench_layer_input_elements(layer) * bench_layer_elem_size(layer));
    s->raw = malloc(s->out_bytes);
    s->output = malloc(bench_layer_output_elements(layer) * sizeof(float));
    s->in = calloc(copies, sizeof *s->in);
    s->out = calloc(copies, sizeof *s->out);
    if (!s->packed || !s->raw || !s->output || !s->in || !s->out)
        goto no_memory;
    bench_pack(layer->dtype, input, s->packed, bench_layer_input_elements(layer));
    if (make_plan(context, s, info, err, err_len) != 0 ||
        make_buffers(clpool_context_cl_context(context), s, err, err_len) != 0 ||
        side_run(s, 0, err, err_len) != 0 || side_check(s, 0, err, err_len) != 0)
        goto fail;
    *side = s;
    return 0;

no_memory:
    snprintf(err, err_len, "out of host memory setting up %s", layer->name);
fail:
    bench_clpool_close(s);
    return -1;
}
