/*
 * The window family's gradient plans (clpool_plan_window_backward): the
 * forward descriptor is checked exactly as clpool_plan_window() checks it
 * (window.c), then kernels/window_backward.cl is built for the operator,
 * dtype, layout and geometry; the plan reads grad_output (and the forward's
 * indices or its input, as the operator needs) and writes grad_input.
 */
#include "internal.h"
#include "window_geometry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the plan takes the forward's indices instead of recomputing the
 * selection from the input. */
static bool reads_indices(const clpool_window_desc *w)
{
    return w->indices != CLPOOL_INDICES_NONE;
}

/* Every operator but avg, and the selecting ones given no indices, reads x. */
static bool reads_input(const clpool_window_desc *w)
{
    return w->op != CLPOOL_OP_AVG && !reads_indices(w);
}

/* Rows per work-item of the block variant (kernels/window_backward.cl), 0
 * for the gather: on CPUs (work-items taking rows), for float32 and float64
 * (grad_input accumulates in place, in the computation type), for avg and
 * the selections read from indices (each output then scatters into the
 * block; the others recompute their window per output). About eight output
 * rows' worth of input rows, so each output is read ~1.1-1.3 times instead
 * of once per window cell. $CLPOOL_TUNE_BACKWARD_BLOCK=0 turns it off (tests
 * compare the variants). */
static int choose_block_rows(const clpool_window_desc *w, const clpool_tensor_desc *in,
                             const window_op *g, int row_items)
{
    const char *env = getenv("CLPOOL_TUNE_BACKWARD_BLOCK");
    if (env && strcmp(env, "0") == 0)
        return 0;
    bool float_acc = in->dtype == CLPOOL_FLOAT32 || in->dtype == CLPOOL_FLOAT64;
    bool scatters = w->op == CLPOOL_OP_AVG || reads_indices(w);
    if (!row_items || !float_acc || !scatters)
        return 0;
    int rows = 8 * g->s[1] > 8 ? 8 * g->s[1] : 8;
    return rows < g->in[1] ? rows : g->in[1];
}

/* Columns per vector of the block variant's NCHW stride-1 avg path: the
 * CPU's preferred float vector (half as many doubles), 1 otherwise (the
 * kernel then takes the scalar path; the program is the same otherwise). */
static int vector_width(const clpool_context *ctx, const clpool_window_desc *w,
                        const clpool_tensor_desc *in, const window_op *g, int block_rows)
{
    if (!block_rows || w->op != CLPOOL_OP_AVG || in->layout != CLPOOL_NCHW || g->s[2] != 1)
        return 1;
    int width = ctx->info.preferred_vector_width_float >= 16 ? 16 : 8;
    return in->dtype == CLPOOL_FLOAT64 ? width / 2 : width;
}

static cl_int set_shape_args(const clpool_plan *plan)
{
    return clp_window_set_lanes_params(plan->kernel, 5, plan->op);
}

/* Whether binding @p name is one of the plan's (unused slots pass NULL). */
static bool bound(const clpool_plan *plan, size_t io_offset)
{
    for (int i = 0; i < plan->binding_count; i++)
        if (plan->bindings[i].io_offset == io_offset)
            return true;
    return false;
}

static cl_int set_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const window_op *g = plan->op;
    cl_kernel k = plan->kernel;
    cl_mem x = bound(plan, offsetof(clpool_io, input)) ? io->input.mem : NULL;
    cl_mem idx = bound(plan, offsetof(clpool_io, indices)) ? io->indices.mem : NULL;
    cl_ulong8 run = {{io->input.offset, io->grad_output.offset, io->indices.offset,
                      io->grad_input.offset, l->plane_begin, l->items, g->channels, g->seed}};
    cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), x ? &x : NULL);
    err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->grad_output.mem);
    err |= clSetKernelArg(k, 2, sizeof(cl_mem), idx ? &idx : NULL);
    err |= clSetKernelArg(k, 3, sizeof(cl_mem), &io->grad_input.mem);
    err |= clSetKernelArg(k, 4, sizeof run, &run);
    return err;
}

static clpool_status set_seed(clpool_plan *plan, uint64_t seed)
{
    window_op *g = plan->op;
    if (g->op != CLPOOL_OP_STOCHASTIC)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_set_seed: a %s gradient plan has no generator seed",
                        clp_window_op_name(g->op));
    g->seed = seed;
    return CLPOOL_SUCCESS;
}

static const clp_family backward_family = {
    .name = "window pooling gradient",
    .set_shape_args = set_shape_args,
    .set_args = set_args,
    .set_seed = set_seed,
};

clpool_status clpool_plan_window_backward(clpool_context *ctx, const clpool_window_desc *w,
                                          const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !w || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_window_backward: %s is NULL",
                        !ctx  ? "context"
                        : !w  ? "op"
                        : !in ? "input"
                              : "plan");
    const char *opname = clp_window_op_name(w->op);
    if (!opname)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_window_backward: op = %d is not a window pooling operator",
                        (int)w->op);
    window_op geo;
    clpool_status status = clp_window_validate(ctx, w, in, &geo);
    if (status != CLPOOL_SUCCESS)
        return status;
    if (in->dtype != CLPOOL_FLOAT32 && in->dtype != CLPOOL_FLOAT16 &&
        in->dtype != CLPOOL_BFLOAT16 && in->dtype != CLPOOL_FLOAT64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: the gradient of dtype %s is not supported (float32, float16, "
                        "bfloat16 and float64 are)",
                        opname, clp_dtype_name(in->dtype));

    clpool_plan *p = NULL;
    status = clp_plan_new(ctx, &backward_family, &p);
    if (status != CLPOOL_SUCCESS)
        return status;
    window_op *g = malloc(sizeof *g);
    if (!g) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    *g = geo;
    p->op = g;
    p->input = *in;
    p->output = *in;
    for (int i = 0; i < in->spatial_dims; i++)
        p->output.spatial[i] = (size_t)g->out[3 - in->spatial_dims + i];
    g->in_elems = clpool_tensor_elements(in);
    size_t out_elems = clpool_tensor_elements(&p->output);
    clp_plan_bind(p, "grad_output", offsetof(clpool_io, grad_output), CLP_READ, in->dtype,
                  out_elems);
    if (reads_indices(w))
        clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_READ,
                      w->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, out_elems);
    if (reads_input(w))
        clp_plan_bind(p, "input", offsetof(clpool_io, input), CLP_READ, in->dtype, g->in_elems);
    clp_plan_bind(p, "grad_input", offsetof(clpool_io, grad_input), CLP_WRITE, in->dtype,
                  g->in_elems);

    bool nhwc = in->layout == CLPOOL_NHWC;
    int row_items = clp_window_row_items(ctx);
    int block_rows = choose_block_rows(w, in, g, row_items);
    /* the block variant's blocks per depth slice travel as g->groups */
    g->groups = block_rows ? (g->in[1] + block_rows - 1) / block_rows : 0;
    char options[512];
    snprintf(options, sizeof options,
             "-DPOOL_OP=%d -DDTYPE=%d -DKD=%d -DKH=%d -DKW=%d -DSD=%d -DSH=%d -DSW=%d -DPD=%d "
             "-DPH=%d -DPW=%d -DDD=%d -DDH=%d -DDW=%d -DCOUNT_PAD=%d -DDIVISOR=%d -DTRAIN=%d "
             "-DHAS_INDICES=%d -DINDEX_T=%s -DNHWC=%d -DROW_ITEMS=%d -DBLOCK_ROWS=%d -DVW=%d",
             (int)w->op, (int)in->dtype, g->k[0], g->k[1], g->k[2], g->s[0], g->s[1], g->s[2],
             g->p[0], g->p[1], g->p[2], g->d[0], g->d[1], g->d[2], !w->exclude_padding,
             w->op == CLPOOL_OP_AVG ? w->divisor_override : 0,
             w->op == CLPOOL_OP_STOCHASTIC && w->train, reads_indices(w),
             w->indices == CLPOOL_INDICES_INT32 ? "int" : "long", nhwc, row_items, block_rows,
             vector_width(ctx, w, in, g, block_rows));
    size_t rows = (size_t)g->in[0] * (size_t)g->in[1];
    size_t units = nhwc ? in->n : in->n * in->c;
    size_t items = rows, row_elems = (size_t)g->in[2] * (nhwc ? in->c : 1);
    if (block_rows)
        items = (size_t)g->in[0] * (size_t)g->groups;
    else if (!row_items && clp_mul_overflow(rows, row_elems, &items)) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: the gradient of one unit needs more than SIZE_MAX work-items", opname);
    }
    status = clp_plan_finish(p, "window_backward.cl", "window_backward", options, units, items);
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    clp_log(ctx, CLPOOL_LOG_DEBUG, "%s gradient planned: %s, %zu launch(es) of local size %zu",
            opname, options, p->launch_count, p->launch_count ? p->launches[0].local_size : 0);
    *plan = p;
    return CLPOOL_SUCCESS;
}
