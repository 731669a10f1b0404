/*
 * The gradients of adaptive, global and spatial pyramid pooling
 * (clpool_plan_adaptive_backward, clpool_plan_spp_backward): the forward
 * descriptor is checked and its geometry computed exactly as the forward
 * plans do (adaptive_geometry, spp_geometry in adaptive.c and spp.c), then
 * kernels/adaptive_backward.cl gathers each input cell's contributions from
 * the bins that contain it (max without the forward's indices first
 * recomputes every bin's selection into a workspace of one long per
 * output: clpool_plan_workspace_size()).
 */
#include "adaptive.h"

#include <stdio.h>
#include <stdlib.h>

/* Max without the forward's indices recomputes the selections first
 * (kernel adaptive_argmax into the workspace, then the gather). */
static bool recomputes(const adaptive_op *g)
{
    return g->op == CLPOOL_OP_MAX && g->indices == CLPOOL_INDICES_NONE;
}

/* Pass 0 of a recomputing plan: adaptive_argmax; otherwise (and pass 1) the
 * gather adaptive_backward. */
static cl_int set_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const adaptive_op *g = plan->op;
    cl_kernel k = clp_launch_kernel(plan, l);
    cl_int8 shape = {{g->in[0], g->in[1], g->in[2], g->out[0], g->out[1], g->out[2], 0, 0}};
    cl_int8 levels = {{0}};
    for (int i = 0; i < g->level_count; i++)
        levels.s[i] = g->levels[i];
    bool rec = recomputes(g);
    cl_ulong ws = io->workspace.offset / 8;
    cl_int err = CL_SUCCESS;
    if (rec && l->stage == 0) {
        cl_ulong8 run = {
            {io->input.offset, ws, l->plane_begin, l->items, g->channels, g->positions, 0, 0}};
        err |= clSetKernelArg(k, 0, sizeof(cl_mem), &io->input.mem);
        err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->workspace.mem);
        err |= clSetKernelArg(k, 2, sizeof run, &run);
        err |= clSetKernelArg(k, 3, sizeof shape, &shape);
        err |= clSetKernelArg(k, 4, sizeof levels, &levels);
        return err;
    }
    cl_mem idx = rec ? io->workspace.mem : io->indices.mem;
    bool has_idx = rec || g->indices != CLPOOL_INDICES_NONE;
    cl_ulong8 run = {{0, io->grad_output.offset, rec ? ws : io->indices.offset,
                      io->grad_input.offset, l->plane_begin, l->items, g->channels, g->positions}};
    err |= clSetKernelArg(k, 0, sizeof(cl_mem), &io->grad_output.mem);
    err |= clSetKernelArg(k, 1, sizeof(cl_mem), has_idx ? &idx : NULL);
    err |= clSetKernelArg(k, 2, sizeof(cl_mem), &io->grad_input.mem);
    err |= clSetKernelArg(k, 3, sizeof run, &run);
    err |= clSetKernelArg(k, 4, sizeof shape, &shape);
    err |= clSetKernelArg(k, 5, sizeof levels, &levels);
    return err;
}

static const clp_family adaptive_backward_family = {
    .name = "adaptive pooling gradient",
    .set_args = set_args,
};
static const clp_family spp_backward_family = {
    .name = "spatial pyramid pooling gradient",
    .set_args = set_args,
};

/* Plans the gradient for checked geometry @p geo of forward output @p out. */
static clpool_status plan_gradient(clpool_context *ctx, const clp_family *family,
                                   const char *opname, const adaptive_op *geo,
                                   const clpool_tensor_desc *in, const clpool_tensor_desc *out,
                                   size_t out_elems, clpool_plan **plan)
{
    if (in->dtype != CLPOOL_FLOAT32 && in->dtype != CLPOOL_FLOAT16 &&
        in->dtype != CLPOOL_BFLOAT16 && in->dtype != CLPOOL_FLOAT64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: the gradient of dtype %s is not supported (float32, float16, "
                        "bfloat16 and float64 are)",
                        opname, clp_dtype_name(in->dtype));
    clpool_plan *p = NULL;
    clpool_status status = clp_plan_new(ctx, family, &p);
    if (status != CLPOOL_SUCCESS)
        return status;
    adaptive_op *g = malloc(sizeof *g);
    if (!g) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    *g = *geo;
    p->op = g;
    p->input = *in;
    p->output = *out;
    bool has_indices = g->indices != CLPOOL_INDICES_NONE, rec = recomputes(g);
    size_t in_elems = clpool_tensor_elements(in);
    clp_plan_bind(p, "grad_output", offsetof(clpool_io, grad_output), CLP_READ, in->dtype,
                  out_elems);
    if (has_indices)
        clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_READ,
                      g->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, out_elems);
    if (rec)
        clp_plan_bind(p, "input", offsetof(clpool_io, input), CLP_READ, in->dtype, in_elems);
    clp_plan_bind(p, "grad_input", offsetof(clpool_io, grad_input), CLP_WRITE, in->dtype, in_elems);
    bool nhwc = in->layout == CLPOOL_NHWC;
    size_t plane = (size_t)g->in[0] * (size_t)g->in[1] * (size_t)g->in[2];
    size_t units = nhwc ? in->n : in->n * in->c, unit_size = 0, sample_outputs = 0;
    if (clp_mul_overflow(plane, nhwc ? in->c : 1, &unit_size) ||
        clp_mul_overflow(g->positions, in->c, &sample_outputs) ||
        (rec && in->n > 0 && clp_mul_overflow(out_elems, 8, &p->workspace_size))) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED, "%s: a sample's size overflows size_t",
                        opname);
    }
    char options[192];
    snprintf(options, sizeof options,
             "-DDTYPE=%d -DPOOL_OP=%d -DHAS_INDICES=%d -DINDEX_T=%s -DNHWC=%d -DSPP=%d "
             "-DLEVELS=%d",
             (int)in->dtype, (int)g->op, has_indices || rec,
             g->indices == CLPOOL_INDICES_INT32 ? "int" : "long", nhwc, g->level_count > 0,
             g->level_count > 0 ? g->level_count : 1);
    if (rec) {
        status = clp_plan_finish(p, "adaptive_backward.cl", "adaptive_argmax", options, in->n,
                                 sample_outputs);
        if (status == CLPOOL_SUCCESS)
            status = clp_plan_add_stage(p, "adaptive_backward", units, unit_size);
    } else {
        status = clp_plan_finish(p, "adaptive_backward.cl", "adaptive_backward", options, units,
                                 unit_size);
    }
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    clp_log(ctx, CLPOOL_LOG_DEBUG, "%s planned: %s, %zu launch(es)", opname, options,
            p->launch_count);
    *plan = p;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_plan_adaptive_backward(clpool_context *ctx, const clpool_adaptive_desc *op,
                                            const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !op || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_adaptive_backward: %s is NULL",
                        !ctx  ? "context"
                        : !op ? "op"
                        : !in ? "input"
                              : "plan");
    const char *opname =
        op->op == CLPOOL_OP_AVG ? "adaptive avg pooling gradient" : "adaptive max pooling gradient";
    adaptive_op geo;
    clpool_tensor_desc out;
    size_t out_elems = 0;
    clpool_status status = adaptive_geometry(ctx, opname, op, in, &geo, &out, &out_elems);
    if (status != CLPOOL_SUCCESS)
        return status;
    return plan_gradient(ctx, &adaptive_backward_family, opname, &geo, in, &out, out_elems, plan);
}

clpool_status clpool_plan_spp_backward(clpool_context *ctx, const clpool_spp_desc *op,
                                       const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !op || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_plan_spp_backward: %s is NULL",
                        !ctx  ? "context"
                        : !op ? "op"
                        : !in ? "input"
                              : "plan");
    const char *opname = "spatial pyramid pooling gradient";
    adaptive_op geo;
    clpool_tensor_desc out;
    size_t out_elems = 0;
    clpool_status status = spp_geometry(ctx, opname, op, in, &geo, &out, &out_elems);
    if (status != CLPOOL_SUCCESS)
        return status;
    return plan_gradient(ctx, &spp_backward_family, opname, &geo, in, &out, out_elems, plan);
}
