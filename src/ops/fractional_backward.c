/*
 * The gradient of fractional max pooling (clpool_plan_fractional_backward,
 * spec §6): the forward descriptor is checked and its geometry computed as
 * clpool_plan_fractional() does (clp_fractional_validate), then
 * kernels/fractional_backward.cl gathers each input cell's gradient from the
 * windows (the forward's samples and starts) that selected it.
 */
#include "fractional.h"

#include <stdio.h>
#include <stdlib.h>

#define OPNAME "fractional max pooling gradient"

/* Whether binding @p io_offset is one of the plan's (unused slots pass NULL). */
static bool bound(const clpool_plan *plan, size_t io_offset)
{
    for (int i = 0; i < plan->binding_count; i++)
        if (plan->bindings[i].io_offset == io_offset)
            return true;
    return false;
}

static cl_int set_shape_args(const clpool_plan *plan)
{
    const fractional_op *g = plan->op;
    cl_int8 shape = {
        {g->in[0], g->in[1], g->in[2], g->out[0], g->out[1], g->out[2], g->nd, g->samples_given}};
    cl_int4 pool = {{g->k[0], g->k[1], g->k[2], 0}};
    cl_int err = clSetKernelArg(plan->kernel, 6, sizeof shape, &shape);
    err |= clSetKernelArg(plan->kernel, 8, sizeof pool, &pool);
    if (g->dtype == CLPOOL_FLOAT64) {
        cl_double4 alpha = {{g->alpha[0], g->alpha[1], g->alpha[2], 0}};
        err |= clSetKernelArg(plan->kernel, 7, sizeof alpha, &alpha);
    } else {
        cl_float4 alpha = {{(float)g->alpha[0], (float)g->alpha[1], (float)g->alpha[2], 0}};
        err |= clSetKernelArg(plan->kernel, 7, sizeof alpha, &alpha);
    }
    return err;
}

static cl_int set_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const fractional_op *g = plan->op;
    cl_kernel k = plan->kernel;
    cl_mem x = bound(plan, offsetof(clpool_io, input)) ? io->input.mem : NULL;
    cl_mem idx = bound(plan, offsetof(clpool_io, indices)) ? io->indices.mem : NULL;
    cl_mem smp = bound(plan, offsetof(clpool_io, samples)) ? io->samples.mem : NULL;
    cl_ulong8 run = {{io->input.offset, io->grad_output.offset, io->indices.offset,
                      io->samples.offset, io->grad_input.offset, l->plane_begin, l->items,
                      g->channels}};
    cl_ulong seed = g->seed;
    cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), x ? &x : NULL);
    err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->grad_output.mem);
    err |= clSetKernelArg(k, 2, sizeof(cl_mem), idx ? &idx : NULL);
    err |= clSetKernelArg(k, 3, sizeof(cl_mem), smp ? &smp : NULL);
    err |= clSetKernelArg(k, 4, sizeof(cl_mem), &io->grad_input.mem);
    err |= clSetKernelArg(k, 5, sizeof run, &run);
    err |= clSetKernelArg(k, 9, sizeof seed, &seed);
    return err;
}

static clpool_status set_seed(clpool_plan *plan, uint64_t seed)
{
    fractional_op *g = plan->op;
    if (g->samples_given)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_set_seed: this " OPNAME
                        " plan reads its samples (samples_given = 1) and has no seed");
    g->seed = seed;
    return CLPOOL_SUCCESS;
}

static const clp_family fractional_backward_family = {
    .name = OPNAME,
    .set_shape_args = set_shape_args,
    .set_args = set_args,
    .set_seed = set_seed,
};

clpool_status clpool_plan_fractional_backward(clpool_context *ctx, const clpool_fractional_desc *f,
                                              const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !f || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_fractional_backward: %s is NULL",
                        !ctx  ? "context"
                        : !f  ? "op"
                        : !in ? "input"
                              : "plan");
    fractional_op geo;
    clpool_tensor_desc out;
    clpool_status status = clp_fractional_validate(ctx, f, in, &geo, &out);
    if (status != CLPOOL_SUCCESS)
        return status;
    if (in->dtype != CLPOOL_FLOAT32 && in->dtype != CLPOOL_FLOAT16 &&
        in->dtype != CLPOOL_BFLOAT16 && in->dtype != CLPOOL_FLOAT64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        OPNAME ": the gradient of dtype %s is not supported (float32, float16, "
                               "bfloat16 and float64 are)",
                        clp_dtype_name(in->dtype));
    clpool_plan *p = NULL;
    status = clp_plan_new(ctx, &fractional_backward_family, &p);
    if (status != CLPOOL_SUCCESS)
        return status;
    fractional_op *g = malloc(sizeof *g);
    if (!g) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    *g = geo;
    p->op = g;
    p->input = *in;
    p->output = out;
    int nd = in->spatial_dims;
    bool nhwc = in->layout == CLPOOL_NHWC;
    size_t in_elems = clpool_tensor_elements(in), out_elems = clpool_tensor_elements(&out);
    clp_plan_bind(p, "grad_output", offsetof(clpool_io, grad_output), CLP_READ, in->dtype,
                  out_elems);
    if (g->has_indices)
        clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_READ,
                      f->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, out_elems);
    else
        clp_plan_bind(p, "input", offsetof(clpool_io, input), CLP_READ, in->dtype, in_elems);
    if (g->samples_given)
        clp_plan_bind(p, "samples", offsetof(clpool_io, samples), CLP_READ,
                      in->dtype == CLPOOL_FLOAT64 ? CLPOOL_FLOAT64 : CLPOOL_FLOAT32,
                      in->n * in->c * (size_t)nd);
    clp_plan_bind(p, "grad_input", offsetof(clpool_io, grad_input), CLP_WRITE, in->dtype, in_elems);
    size_t plane = (size_t)g->in[0] * (size_t)g->in[1] * (size_t)g->in[2];
    char options[128];
    snprintf(options, sizeof options, "-DDTYPE=%d -DNHWC=%d -DHAS_INDICES=%d -DINDEX_T=%s",
             (int)in->dtype, nhwc, g->has_indices,
             f->indices == CLPOOL_INDICES_INT32 ? "int" : "long");
    status = clp_plan_finish(p, "fractional_backward.cl", "fractional_backward", options,
                             nhwc ? in->n : in->n * in->c, nhwc ? plane * in->c : plane);
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    clp_log(ctx, CLPOOL_LOG_DEBUG, OPNAME " planned: %s, %zu launch(es)", options, p->launch_count);
    *plan = p;
    return CLPOOL_SUCCESS;
}
