/*
 * RoI gradient rows of clpool-bench-backward (roi_backward.h). The check is
 * the adjoint identity: the gradient G of a pooling that is linear in x for
 * fixed boxes (roi align; roi max for fixed argmax) satisfies
 * <gy, F(x)> = <G(gy), x>, with F the forward pass, which clpool-bench
 * checks against its own reference (bench_check_roi) here too; both dot
 * products in double, within 1e-5 relative of sum |gy * F(x)|.
 */
#include "roi_backward.h"

#include "layers.h"
#include "roi.h"
#include "timing.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const roi_rows[][2] = {
    {"rcnn-roialign", "rcnn-roialign-bwd"},
    {"rcnn-roipool", "rcnn-roipool-bwd"},
};

typedef struct roi_bw {
    const bench_layer *layer;
    clpool_roi_desc desc;
    clpool_tensor_desc in;
    size_t in_elems, out_elems;
    float *x, *gy, *y, *gx;
    double want, scale; /* <gy, F(x)> and sum |gy * F(x)| */
    cl_command_queue queue;
    clpool_plan *plan;
    cl_mem gy_mem, idx_mem, rois_mem, gx_mem, ws_mem;
} roi_bw;

static int roi_run(void *self, size_t copy, char *err, size_t err_len)
{
    roi_bw *s = self;
    (void)copy;
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.grad_output.mem = s->gy_mem;
    io.indices.mem = s->idx_mem;
    io.rois.mem = s->rois_mem;
    io.grad_input.mem = s->gx_mem;
    io.workspace.mem = s->ws_mem;
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

static int roi_check(void *self, size_t copy, char *err, size_t err_len)
{
    roi_bw *s = self;
    (void)copy;
    if (clEnqueueReadBuffer(s->queue, s->gx_mem, CL_TRUE, 0, s->in_elems * 4, s->gx, 0, NULL,
                            NULL) != CL_SUCCESS) {
        snprintf(err, err_len, "clEnqueueReadBuffer failed");
        return -1;
    }
    double got = 0;
    for (size_t i = 0; i < s->in_elems; i++)
        got += (double)s->gx[i] * (double)s->x[i];
    if (!(fabs(got - s->want) <= 1e-5 * s->scale)) {
        snprintf(err, err_len, "<gx, x> = %.9g, but <gy, F(x)> = %.9g (tolerance %.3g)", got,
                 s->want, 1e-5 * s->scale);
        return -1;
    }
    return 0;
}

static cl_mem device_copy(clpool_context *ctx, const void *host, size_t bytes)
{
    cl_int e;
    cl_mem m = clCreateBuffer(clpool_context_cl_context(ctx),
                              CL_MEM_READ_WRITE | (host ? CL_MEM_COPY_HOST_PTR : 0),
                              bytes ? bytes : 16, (void *)(uintptr_t)host, &e);
    return e == CL_SUCCESS ? m : NULL;
}

/* The forward (checked against clpool-bench's reference) with int32 argmax
 * for roi max, then the gradient plan and its device buffers. */
static int roi_open(clpool_context *ctx, const bench_layer *layer, roi_bw *s, char *err,
                    size_t err_len)
{
    s->layer = layer;
    s->queue = clpool_context_cl_queue(ctx);
    bench_roi_desc(layer, &s->desc);
    bench_layer_input_desc(layer, &s->in);
    s->in_elems = bench_layer_input_elements(layer);
    s->out_elems = bench_layer_output_elements(layer);
    size_t k = layer->roi->boxes;
    float *boxes = malloc(5 * k * sizeof *boxes);
    int32_t *idx = malloc(s->out_elems * sizeof *idx);
    s->x = malloc(s->in_elems * 4);
    s->gx = malloc(s->in_elems * 4);
    s->gy = malloc(s->out_elems * 4);
    s->y = malloc(s->out_elems * 4);
    if (!boxes || !idx || !s->x || !s->gx || !s->gy || !s->y)
        abort();
    bench_roi_boxes(layer, boxes);
    bench_fill_random(s->x, s->in_elems, 20261124u);
    bench_fill_random(s->gy, s->out_elems, 20261125u);
    clpool_roi_desc fwd = s->desc;
    int is_max = fwd.op == CLPOOL_ROI_MAX;
    if (is_max)
        fwd.indices = CLPOOL_INDICES_INT32;
    clpool_plan *plan = NULL;
    clpool_host_io hio;
    memset(&hio, 0, sizeof hio);
    hio.input = s->x;
    hio.output = s->y;
    hio.indices = is_max ? idx : NULL;
    hio.rois = boxes;
    clpool_status st = clpool_plan_roi(ctx, &fwd, &s->in, &plan);
    if (st == CLPOOL_SUCCESS)
        st = clpool_run_host_io(plan, NULL, &hio);
    clpool_plan_destroy(plan);
    int rc = 0;
    if (st != CLPOOL_SUCCESS) {
        snprintf(err, err_len, "forward: %s", clpool_status_string(st));
        rc = -1;
    } else if (bench_check_roi(layer, s->x, s->y, err, err_len) != 0) {
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < s->out_elems; i++) {
        s->want += (double)s->gy[i] * (double)s->y[i];
        s->scale += fabs((double)s->gy[i] * (double)s->y[i]);
    }
    if (rc == 0) {
        s->desc.indices = is_max ? CLPOOL_INDICES_INT32 : CLPOOL_INDICES_NONE;
        st = clpool_plan_roi_backward(ctx, &s->desc, &s->in, &s->plan);
        if (st != CLPOOL_SUCCESS) {
            snprintf(err, err_len, "clpool_plan_roi_backward: %s", clpool_status_string(st));
            rc = -1;
        }
    }
    if (rc == 0) {
        size_t ws = clpool_plan_workspace_size(s->plan);
        s->gy_mem = device_copy(ctx, s->gy, s->out_elems * 4);
        s->rois_mem = device_copy(ctx, boxes, 5 * k * sizeof *boxes);
        s->gx_mem = device_copy(ctx, NULL, s->in_elems * 4);
        s->idx_mem = is_max ? device_copy(ctx, idx, s->out_elems * sizeof *idx) : NULL;
        s->ws_mem = ws ? device_copy(ctx, NULL, ws) : NULL;
        if (!s->gy_mem || !s->rois_mem || !s->gx_mem || (is_max && !s->idx_mem) ||
            (ws && !s->ws_mem)) {
            snprintf(err, err_len, "clCreateBuffer failed");
            rc = -1;
        }
    }
    free(boxes);
    free(idx);
    if (rc == 0)
        rc = roi_run(s, 0, err, err_len) || roi_check(s, 0, err, err_len) ? -1 : 0;
    return rc;
}

static void roi_close(roi_bw *s)
{
    cl_mem mems[] = {s->gy_mem, s->idx_mem, s->rois_mem, s->gx_mem, s->ws_mem};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i])
            clReleaseMemObject(mems[i]);
    clpool_plan_destroy(s->plan);
    free(s->x);
    free(s->gx);
    free(s->gy);
    free(s->y);
}

int bench_roi_backward_rows(clpool_context *ctx, int runs, int warmup)
{
    int failed = 0;
    for (size_t r = 0; r < sizeof roi_rows / sizeof roi_rows[0]; r++) {
        const bench_layer *layer = bench_layer_find(roi_rows[r][0]);
        char err[BENCH_ERROR_MAX];
        roi_bw s;
        memset(&s, 0, sizeof s);
        if (!layer || !layer->roi) {
            printf("%-22s failed: no region layer '%s'\n", roi_rows[r][1], roi_rows[r][0]);
            failed = 1;
            continue;
        }
        if (roi_open(ctx, layer, &s, err, sizeof err) != 0) {
            printf("%-22s failed: %s\n", roi_rows[r][1], err);
            failed = 1;
            roi_close(&s);
            continue;
        }
        bench_runner runner = {"clpool", &s, 1, roi_run, roi_check};
        bench_timing timing = {warmup, runs, 5};
        bench_runner_result res;
        memset(&res, 0, sizeof res);
        bench_time_runners(&runner, 1, &timing, &res);
        if (res.ok)
            printf("%-22s %-10s %10.3f  %.0f boxes/s (%zu boxes, no peer)\n", roi_rows[r][1],
                   s.desc.op == CLPOOL_ROI_MAX ? "int32" : "-", res.median_s * 1e3,
                   (double)layer->roi->boxes / res.median_s, layer->roi->boxes);
        else {
            printf("%-22s failed: %s\n", roi_rows[r][1], res.error);
            failed = 1;
        }
        roi_close(&s);
        fflush(stdout);
    }
    return failed;
}
