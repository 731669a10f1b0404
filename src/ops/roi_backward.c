/*
 * The gradients of region pooling (clpool_plan_roi_backward): the forward
 * descriptor is checked exactly as clpool_plan_roi() checks it
 * (clp_roi_validate), then kernels/roi_backward.cl runs one work-item per
 * band of rows of a sample's chunk of channels (as many channels as the
 * forward's work-items take, clp_roi_channels), which walks the boxes in a
 * fixed order
 * and adds what lands in its band (deterministic, no atomics). Roi max
 * without the forward's indices first recomputes the argmax into the
 * workspace (the forward kernel built with ARGMAX_ONLY); float16 and
 * bfloat16 sum in a float workspace and round once.
 */
#include "roi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Work-items a plan wants in flight per compute unit: on GPUs enough to
 * hide memory latency, on CPUs a few per core (each band repeats the walk
 * over the boxes, so no more than needed). */
#define GPU_ITEMS_PER_UNIT 1024
#define CPU_ITEMS_PER_UNIT 8

/* Rows per band: the fewest bands for which units x bands fills the
 * device, at least one row each. $CLPOOL_TUNE_ROI_BAND_ROWS (a positive
 * number of rows) overrides it for tests and benchmarks. */
static size_t choose_band_rows(const clpool_context *ctx, size_t units, size_t h)
{
    const char *env = getenv("CLPOOL_TUNE_ROI_BAND_ROWS");
    if (env) {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        if (end != env && *end == '\0' && v > 0)
            return (size_t)v < h ? (size_t)v : h;
        clp_log(ctx, CLPOOL_LOG_WARNING,
                "CLPOOL_TUNE_ROI_BAND_ROWS = '%s' is ignored (a positive number of rows)", env);
    }
    bool gpu = ctx->info.type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR);
    size_t cus = ctx->info.compute_units ? ctx->info.compute_units : 1;
    size_t want = cus * (gpu ? GPU_ITEMS_PER_UNIT : CPU_ITEMS_PER_UNIT);
    size_t bands = units >= want || units == 0 ? 1 : (want + units - 1) / units;
    if (bands > h)
        bands = h;
    return (h + bands - 1) / bands;
}

static cl_int set_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const roi_op *g = plan->op;
    cl_kernel k = clp_launch_kernel(plan, l);
    cl_ulong argmax_at = (io->workspace.offset + g->argmax_offset) / 8;
    cl_int err = CL_SUCCESS;
    if (g->recompute && l->stage == 0) {
        /* the forward kernel, ARGMAX_ONLY: indices into the workspace */
        cl_ulong8 run = {
            {io->input.offset, 0, argmax_at, io->rois.offset, l->plane_begin, l->items, g->n, 0}};
        cl_int4 shape = {{(cl_int)g->c, (cl_int)g->h, (cl_int)g->w, (cl_int)g->chunks}};
        err |= clSetKernelArg(k, 0, sizeof(cl_mem), &io->input.mem);
        err |= clSetKernelArg(k, 1, sizeof(cl_mem), NULL);
        err |= clSetKernelArg(k, 2, sizeof(cl_mem), &io->workspace.mem);
        err |= clSetKernelArg(k, 3, sizeof(cl_mem), &io->rois.mem);
        err |= clSetKernelArg(k, 4, sizeof run, &run);
        err |= clSetKernelArg(k, 5, sizeof shape, &shape);
    } else {
        bool user_indices = g->op == CLPOOL_ROI_MAX && !g->recompute;
        const cl_mem *idx = g->recompute   ? &io->workspace.mem
                            : user_indices ? &io->indices.mem
                                           : NULL;
        cl_ulong8 run = {{io->grad_output.offset, g->recompute ? argmax_at : io->indices.offset,
                          io->rois.offset, io->grad_input.offset,
                          (io->workspace.offset + g->acc_offset) / 4, l->plane_begin, l->items,
                          g->n}};
        cl_ulong num_rois = g->k;
        cl_int4 shape = {{(cl_int)g->c, (cl_int)g->h, (cl_int)g->w, (cl_int)g->band_rows}};
        err |= clSetKernelArg(k, 0, sizeof(cl_mem), &io->grad_output.mem);
        err |= clSetKernelArg(k, 1, sizeof(cl_mem), idx);
        err |= clSetKernelArg(k, 2, sizeof(cl_mem), &io->rois.mem);
        err |= clSetKernelArg(k, 3, sizeof(cl_mem), &io->grad_input.mem);
        err |=
            clSetKernelArg(k, 4, sizeof(cl_mem), g->acc_in_workspace ? &io->workspace.mem : NULL);
        err |= clSetKernelArg(k, 5, sizeof run, &run);
        err |= clSetKernelArg(k, 6, sizeof num_rois, &num_rois);
        err |= clSetKernelArg(k, 7, sizeof shape, &shape);
    }
    int scale_arg = g->recompute && l->stage == 0 ? 6 : 8;
    if (g->dtype == CLPOOL_FLOAT64) {
        cl_double scale = g->scale;
        err |= clSetKernelArg(k, (cl_uint)scale_arg, sizeof scale, &scale);
    } else {
        cl_float scale = (cl_float)g->scale;
        err |= clSetKernelArg(k, (cl_uint)scale_arg, sizeof scale, &scale);
    }
    return err;
}

const clp_family clp_roi_backward_family = {
    .name = "region pooling gradient",
    .set_args = set_args,
    .check_host_io = clp_roi_check_host_io,
};

clpool_status clpool_plan_roi_backward(clpool_context *ctx, const clpool_roi_desc *r,
                                       const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !r || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_plan_roi_backward: %s is NULL",
                        !ctx  ? "context"
                        : !r  ? "op"
                        : !in ? "input"
                              : "plan");
    if (!clp_roi_op_name(r->op))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_roi_backward: op = %d is not a region pooling operator",
                        (int)r->op);
    const char *opname =
        r->op == CLPOOL_ROI_MAX ? "roi max pooling gradient" : "roi align gradient";
    clpool_status status = clp_roi_validate(ctx, opname, r, in);
    if (status != CLPOOL_SUCCESS)
        return status;

    clpool_plan *p = NULL;
    status = clp_plan_new(ctx, &clp_roi_backward_family, &p);
    if (status != CLPOOL_SUCCESS)
        return status;
    roi_op *g = calloc(1, sizeof *g);
    if (!g) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    p->op = g;
    g->op = r->op;
    g->name = opname;
    g->indices = r->indices;
    g->dtype = in->dtype;
    g->rois_dtype = r->rois_dtype;
    g->n = in->n;
    g->c = in->c;
    g->h = in->spatial[0];
    g->w = in->spatial[1];
    g->k = r->num_rois;
    g->scale = r->spatial_scale != 0 ? r->spatial_scale : 1.0;
    p->input = *in;
    p->output = *in;
    p->output.n = r->num_rois;
    p->output.spatial[0] = (size_t)r->output_size[0];
    p->output.spatial[1] = (size_t)r->output_size[1];
    p->output.spatial[2] = 0;
    size_t bins = (size_t)r->output_size[0] * (size_t)r->output_size[1];
    size_t out_elems = in->c * bins * r->num_rois;
    size_t in_elems = in->n ? clpool_tensor_elements(in) : 0;
    int channels = clp_roi_channels(ctx);
    g->chunks = (in->c + (size_t)channels - 1) / (size_t)channels;
    /* a work-item: a band of rows of one sample's chunk of channels */
    size_t units = in->n * g->chunks;
    g->recompute = r->op == CLPOOL_ROI_MAX && r->indices == CLPOOL_INDICES_NONE && g->k > 0;
    g->acc_in_workspace = in->dtype == CLPOOL_FLOAT16 || in->dtype == CLPOOL_BFLOAT16;
    g->band_rows = choose_band_rows(ctx, units, g->h);
    g->bands = (g->h + g->band_rows - 1) / g->band_rows;
    /* workspace: [argmax longs][floats of the sums], each at a 16-byte boundary */
    size_t argmax_bytes = 0, acc_bytes = 0;
    if ((g->recompute && clp_mul_overflow(out_elems, 16, &argmax_bytes)) ||
        (g->acc_in_workspace && clp_mul_overflow(in_elems, 8, &acc_bytes))) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED, "%s: the workspace size overflows size_t",
                        opname);
    }
    /* (twice the bytes were asked above: the sum below cannot overflow) */
    argmax_bytes /= 2;
    acc_bytes /= 2;
    g->argmax_offset = 0;
    g->acc_offset = (argmax_bytes + 15) / 16 * 16;
    p->workspace_size = g->acc_offset + acc_bytes;

    clp_plan_bind(p, "grad_output", offsetof(clpool_io, grad_output), CLP_READ, in->dtype,
                  out_elems);
    clp_plan_bind(p, "rois", offsetof(clpool_io, rois), CLP_READ, r->rois_dtype, r->num_rois * 5);
    if (r->op == CLPOOL_ROI_MAX && r->indices != CLPOOL_INDICES_NONE)
        clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_READ,
                      r->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, out_elems);
    if (g->recompute)
        clp_plan_bind(p, "input", offsetof(clpool_io, input), CLP_READ, in->dtype, in_elems);
    clp_plan_bind(p, "grad_input", offsetof(clpool_io, grad_input), CLP_WRITE, in->dtype, in_elems);

    char options[320];
    snprintf(options, sizeof options,
             "-DROI_OP=%d -DDTYPE=%d -DROIS_DTYPE=%d -DPOOLED_H=%d -DPOOLED_W=%d -DSAMPLING=%d "
             "-DALIGNED=%d -DNHWC=%d -DHAS_INDICES=%d -DINDEX_T=%s -DCPB=%d -DACC_WS=%d",
             (int)r->op, (int)in->dtype, (int)r->rois_dtype, r->output_size[0], r->output_size[1],
             r->sampling_ratio > 0 ? r->sampling_ratio : 0, r->aligned, in->layout == CLPOOL_NHWC,
             r->op == CLPOOL_ROI_MAX, r->indices == CLPOOL_INDICES_INT32 ? "int" : "long", channels,
             g->acc_in_workspace);
    if (g->recompute) {
        status = clp_plan_finish(p, "roi_backward.cl", "roi_pool", options, g->k, g->chunks * bins);
        if (status == CLPOOL_SUCCESS)
            status = clp_plan_add_stage(p, "roi_backward", units, g->bands);
    } else {
        status = clp_plan_finish(p, "roi_backward.cl", "roi_backward", options, units, g->bands);
    }
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    clp_log(ctx, CLPOOL_LOG_DEBUG, "%s planned: %s, %zu row(s) per band, %zu launch(es)", opname,
            options, g->band_rows, p->launch_count);
    *plan = p;
    return CLPOOL_SUCCESS;
}
