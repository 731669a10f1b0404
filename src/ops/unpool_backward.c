/*
 * The gradient of max unpooling (clpool_plan_unpool_backward, spec §7): the
 * forward descriptor is checked exactly as clpool_plan_unpool() checks it
 * (clp_unpool_validate), then kernels/unpool_backward.cl gathers, for each
 * element of the pooled input, the output gradient its index points to.
 */
#include "internal.h"
#include "unpool.h"

#include <stdio.h>
#include <stdlib.h>

#define OPNAME "max unpooling gradient"

static cl_int set_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const unpool_op *g = plan->op;
    cl_ulong8 run = {{io->grad_output.offset, io->indices.offset, io->grad_input.offset,
                      l->plane_begin, l->items, g->in_plane, g->out_plane, g->channels}};
    cl_int err = clSetKernelArg(plan->kernel, 0, sizeof(cl_mem), &io->grad_output.mem);
    err |= clSetKernelArg(plan->kernel, 1, sizeof(cl_mem), &io->indices.mem);
    err |= clSetKernelArg(plan->kernel, 2, sizeof(cl_mem), &io->grad_input.mem);
    err |= clSetKernelArg(plan->kernel, 3, sizeof run, &run);
    return err;
}

static clpool_status check_host_io(const clpool_plan *plan, const clpool_host_io *io)
{
    if (!io->indices)
        return CLPOOL_SUCCESS; /* the NULL array is reported with the others */
    return clp_unpool_scan_indices(plan, io->indices);
}

static const clp_family unpool_backward_family = {
    .name = OPNAME,
    .set_args = set_args,
    .check_host_io = check_host_io,
};

clpool_status clpool_plan_unpool_backward(clpool_context *ctx, const clpool_unpool_desc *u,
                                          const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !u || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_unpool_backward: %s is NULL",
                        !ctx  ? "context"
                        : !u  ? "op"
                        : !in ? "input"
                              : "plan");
    clpool_tensor_desc out;
    size_t in_plane = 0, out_plane = 0;
    clpool_status status = clp_unpool_validate(ctx, u, in, &out, &in_plane, &out_plane);
    if (status != CLPOOL_SUCCESS)
        return status;
    if (in->dtype != CLPOOL_FLOAT32 && in->dtype != CLPOOL_FLOAT16 &&
        in->dtype != CLPOOL_BFLOAT16 && in->dtype != CLPOOL_FLOAT64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        OPNAME ": dtype %s has no gradient (float32, float16, bfloat16 and "
                               "float64 have)",
                        clp_dtype_name(in->dtype));
    bool nhwc = in->layout == CLPOOL_NHWC;
    clpool_plan *p = NULL;
    status = clp_plan_new(ctx, &unpool_backward_family, &p);
    if (status != CLPOOL_SUCCESS)
        return status;
    unpool_op *g = calloc(1, sizeof *g);
    if (!g) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    g->nd = in->spatial_dims;
    g->layout = in->layout;
    g->in_plane = in_plane;
    g->out_plane = out_plane;
    g->channels = in->c;
    g->in_units = nhwc ? in->n : in->n * in->c;
    g->in_unit_size = nhwc ? in_plane * in->c : in_plane;
    g->out_unit_size = nhwc ? out_plane * in->c : out_plane;
    g->index_type =
        u->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INDICES_INT32 : CLPOOL_INDICES_INT64;
    p->op = g;
    /* like the window gradient plans: input is the forward's input, output
     * the forward's output (the shape of grad_output) */
    p->input = *in;
    p->output = out;
    size_t in_elems = clpool_tensor_elements(in), out_elems = clpool_tensor_elements(&out);
    clp_plan_bind(p, "grad_output", offsetof(clpool_io, grad_output), CLP_READ, in->dtype,
                  out_elems);
    clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_READ,
                  g->index_type == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, in_elems);
    clp_plan_bind(p, "grad_input", offsetof(clpool_io, grad_input), CLP_WRITE, in->dtype, in_elems);
    char options[96];
    snprintf(options, sizeof options, "-DELEM_BYTES=%zu -DINDEX_T=%s -DNHWC=%d",
             clpool_dtype_size(in->dtype), g->index_type == CLPOOL_INDICES_INT32 ? "int" : "long",
             nhwc);
    status = clp_plan_finish(p, "unpool_backward.cl", "unpool_backward", options, g->in_units,
                             g->in_unit_size);
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    clp_log(ctx, CLPOOL_LOG_DEBUG, OPNAME " planned: %s, %zu launch(es)", options, p->launch_count);
    *plan = p;
    return CLPOOL_SUCCESS;
}
