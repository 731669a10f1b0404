/*
 * The max unpooling family (spec §7): checks a clpool_unpool_desc against the
 * pooled input, computes the output size (default or explicit), plans the
 * three passes of kernels/unpool.cl (reset, check/claim, write or scatter;
 * see there for the two strategies), checks indices on the host and reads
 * the device's out-of-range flags back.
 */
#include "internal.h"
#include "unpool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPNAME "max unpooling"
/* Bound on kernel, stride and padding values. */
#define PARAM_MAX (1 << 20)
/* Most elements of an input or output plane: positions fit an int32 winner
 * and one plane stays within a launch. */
#define PLANE_MAX ((size_t)1 << 30)
/* Ints of flags before the winners (16 bytes, see unpool.cl). */
#define FLAG_INTS 4

/* NHWC channels one scatter work-item takes. */
#define CHANNEL_GROUP 16

static bool is_unpool_family(const clpool_plan *plan);

static clpool_status check_input(const clpool_context *ctx, const clpool_tensor_desc *in)
{
    if (in->spatial_dims < 1 || in->spatial_dims > 3)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        OPNAME ": spatial_dims = %d, but it must be 1, 2 or 3", in->spatial_dims);
    if (clpool_dtype_size(in->dtype) == 0 ||
        (in->layout != CLPOOL_NCHW && in->layout != CLPOOL_NHWC))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        OPNAME ": the input has an unknown %s value %d",
                        clpool_dtype_size(in->dtype) == 0 ? "dtype" : "layout",
                        clpool_dtype_size(in->dtype) == 0 ? (int)in->dtype : (int)in->layout);
    if (in->dtype == CLPOOL_INT32 || in->dtype == CLPOOL_INT64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        OPNAME ": input dtype %s is not supported (float32, float16, bfloat16, "
                               "float64, uint8 and int8 are)",
                        clp_dtype_name(in->dtype));
    if (in->c == 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        OPNAME ": the input has C = 0 channels; only N may be 0");
    for (int i = 0; i < in->spatial_dims; i++)
        if (in->spatial[i] == 0 || in->spatial[i] > INT_MAX / 4)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                            OPNAME ": input spatial[%d] = %zu, but it must be between 1 and %d", i,
                            in->spatial[i], INT_MAX / 4);
    return CLPOOL_SUCCESS;
}

/* The output size of each dimension: torch's default, or the given size
 * checked against it. */
static clpool_status output_sizes(const clpool_context *ctx, const clpool_unpool_desc *u,
                                  const clpool_tensor_desc *in, size_t out[3])
{
    int nd = in->spatial_dims, given = 0;
    for (int i = 0; i < nd; i++)
        given += u->output_size[i] != 0;
    if (given != 0 && given != nd)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        OPNAME ": output_size gives %d of %d dimensions; give all of them, or "
                               "none for the default size",
                        given, nd);
    for (int i = 0; i < nd; i++) {
        int k = u->kernel[i], s = u->stride[i] ? u->stride[i] : k, p = u->padding[i];
        if (k < 1 || k > PARAM_MAX)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_KERNEL,
                            OPNAME ": kernel[%d] = %d, but it must be between 1 and %d", i, k,
                            PARAM_MAX);
        if (s < 1 || s > PARAM_MAX)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_STRIDE,
                            OPNAME ": stride[%d] = %d, but it must be between 1 and %d (0 means "
                                   "the kernel size)",
                            i, s, PARAM_MAX);
        if (p < 0 || p > PARAM_MAX)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_PADDING,
                            OPNAME ": padding[%d] = %d, but it must be between 0 and %d", i, p,
                            PARAM_MAX);
        long long def = ((long long)in->spatial[i] - 1) * s - 2LL * p + k;
        if (given == 0) {
            if (def < 1)
                return clp_fail(ctx, CLPOOL_ERROR_OUTPUT_TOO_SMALL,
                                OPNAME ": the default output size[%d] = (%zu-1)*%d - 2*%d + %d = "
                                       "%lld is below 1",
                                i, in->spatial[i], s, p, k, def);
            out[i] = (size_t)def;
            continue;
        }
        size_t o = u->output_size[i];
        if ((long long)o <= def - s || (long long)o >= def + s || o > (size_t)INT_MAX)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                            OPNAME
                            ": output_size[%d] = %zu, but it must be between %lld and %lld "
                            "(strictly inside the default size %lld plus or minus stride %d)",
                            i, o, def - s + 1 > 1 ? def - s + 1 : 1, def + s - 1, def, s);
        out[i] = o;
    }
    return CLPOOL_SUCCESS;
}

static size_t plane_size(const size_t *dims, int nd)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        if (clp_mul_overflow(n, dims[i], &n))
            return SIZE_MAX;
    return n;
}

/* Whether @p elements of @p esize bytes fit in one buffer of the device:
 * larger tensors cannot be bound, so they are refused when planned. */
static clpool_status check_fits(const clpool_context *ctx, const char *what, size_t elements,
                                size_t esize)
{
    size_t bytes = 0;
    if (clp_mul_overflow(elements, esize, &bytes) || bytes > ctx->info.max_mem_alloc_size)
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_DEVICE_MEMORY,
                        OPNAME ": the %s (%zu elements of %zu bytes) is larger than the device's "
                               "largest buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE = %llu bytes)",
                        what, elements, esize, (unsigned long long)ctx->info.max_mem_alloc_size);
    return CLPOOL_SUCCESS;
}

/* Pass 0 (reset), 1 (claim) and 2 (write); launch->stage says which. */
static cl_int set_unpool_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const unpool_op *g = plan->op;
    cl_kernel k = clp_launch_kernel(plan, l);
    cl_ulong ws = io->workspace.offset / 4;
    cl_int err = CL_SUCCESS;
    if (l->stage == 0) {
        cl_ulong8 run = {
            {ws, l->plane_begin, l->items, g->serial ? 0 : g->out_unit_size, 0, 0, 0, 0}};
        err |= clSetKernelArg(k, 0, sizeof(cl_mem), &io->workspace.mem);
        err |= clSetKernelArg(k, 1, sizeof run, &run);
    } else if (l->stage == 1) {
        cl_ulong8 run = {{io->indices.offset, ws, l->plane_begin, l->items, g->in_plane,
                          g->out_plane, g->channels, !g->serial}};
        err |= clSetKernelArg(k, 0, sizeof(cl_mem), &io->indices.mem);
        err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->workspace.mem);
        err |= clSetKernelArg(k, 2, sizeof run, &run);
    } else if (g->serial) {
        cl_ulong8 run = {{io->input.offset, io->output.offset, io->indices.offset, ws,
                          l->plane_begin, l->items, g->in_plane, g->out_plane}};
        cl_int2 cg = {{(cl_int)g->channels, g->channel_group}};
        err |= clSetKernelArg(k, 0, sizeof(cl_mem), &io->input.mem);
        err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->output.mem);
        err |= clSetKernelArg(k, 2, sizeof(cl_mem), &io->indices.mem);
        err |= clSetKernelArg(k, 3, sizeof(cl_mem), &io->workspace.mem);
        err |= clSetKernelArg(k, 4, sizeof run, &run);
        err |= clSetKernelArg(k, 5, sizeof cg, &cg);
    } else {
        cl_ulong8 run = {{io->input.offset, io->output.offset, ws, l->plane_begin, l->items,
                          g->in_plane, g->out_plane, g->channels}};
        err |= clSetKernelArg(k, 0, sizeof(cl_mem), &io->input.mem);
        err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->output.mem);
        err |= clSetKernelArg(k, 2, sizeof(cl_mem), &io->workspace.mem);
        err |= clSetKernelArg(k, 3, sizeof run, &run);
    }
    return err;
}

/* (n, c, position) of element @p e of the indices in the plan's layout. */
static void locate(const unpool_op *g, size_t e, size_t *n, size_t *c, size_t *pos)
{
    if (g->layout == CLPOOL_NHWC) {
        *c = e % g->channels;
        *pos = (e / g->channels) % g->in_plane;
        *n = e / g->channels / g->in_plane;
    } else {
        *pos = e % g->in_plane;
        *c = (e / g->in_plane) % g->channels;
        *n = e / g->in_plane / g->channels;
    }
}

static long long index_at(const unpool_op *g, const void *indices, size_t e)
{
    if (g->index_type == CLPOOL_INDICES_INT32)
        return ((const int32_t *)indices)[e];
    return ((const int64_t *)indices)[e];
}

static clpool_status bad_index(const clpool_plan *plan, size_t e, long long q)
{
    const unpool_op *g = plan->op; /* forward and gradient plans hold an unpool_op */
    size_t n, c, pos;
    locate(g, e, &n, &c, &pos);
    return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_INDICES,
                    OPNAME ": index %lld at (n=%zu, c=%zu, position %zu) is outside the output "
                           "plane of %zu elements (it must be between 0 and %zu); nothing was "
                           "written",
                    q, n, c, pos, g->out_plane, g->out_plane - 1);
}

clpool_status clpool_unpool_check_indices(const clpool_plan *plan, const void *indices)
{
    if (!plan || !is_unpool_family(plan))
        return clp_fail(plan ? plan->ctx : NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_unpool_check_indices: %s",
                        plan ? "not a max unpooling plan" : "plan is NULL");
    if (!indices && ((const unpool_op *)plan->op)->in_units > 0)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_unpool_check_indices: indices is NULL");
    return clp_unpool_scan_indices(plan, indices);
}

clpool_status clp_unpool_scan_indices(const clpool_plan *plan, const void *indices)
{
    const unpool_op *g = plan->op;
    size_t count = g->in_units * g->in_unit_size;
    if (count == 0)
        return CLPOOL_SUCCESS;
    for (size_t e = 0; e < count; e++) {
        long long q = index_at(g, indices, e);
        if (q < 0 || (unsigned long long)q >= g->out_plane)
            return bad_index(plan, e, q);
    }
    return CLPOOL_SUCCESS;
}

static clpool_status check_host_io(const clpool_plan *plan, const clpool_host_io *io)
{
    const unpool_op *g = plan->op;
    if (g->in_units * g->in_unit_size == 0 || !io->indices)
        return CLPOOL_SUCCESS; /* the NULL array is reported with the others */
    return clp_unpool_scan_indices(plan, io->indices);
}

clpool_status clpool_unpool_check_workspace(const clpool_plan *plan, cl_command_queue queue,
                                            const clpool_io *io)
{
    if (!plan || !is_unpool_family(plan) || !queue || !io)
        return clp_fail(plan ? plan->ctx : NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_unpool_check_workspace: %s",
                        !plan                     ? "plan is NULL"
                        : !is_unpool_family(plan) ? "not a max unpooling plan"
                        : !queue                  ? "queue is NULL"
                                                  : "io is NULL");
    const unpool_op *g = plan->op;
    if (g->in_units * g->in_unit_size == 0)
        return CLPOOL_SUCCESS; /* nothing ran */
    if (!io->workspace.mem || !io->indices.mem)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_BUFFER,
                        "clpool_unpool_check_workspace: the %s buffer is NULL",
                        !io->workspace.mem ? "workspace" : "indices");
    cl_uint flags[2] = {0, 0};
    cl_int err = clEnqueueReadBuffer(queue, io->workspace.mem, CL_TRUE, io->workspace.offset,
                                     sizeof flags, flags, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return clp_cl_fail(plan->ctx, err, "clEnqueueReadBuffer(workspace)");
    if (flags[0] == 0)
        return CLPOOL_SUCCESS;
    if (flags[1] == 0xFFFFFFFFu)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_INDICES,
                        OPNAME ": an index beyond the first 2^32-1 input elements is outside "
                               "the output plane of %zu elements; nothing was written",
                        g->out_plane);
    /* flags[1] numbers elements plane by plane; find its place in memory */
    size_t plane = flags[1] / g->in_plane, pos = flags[1] % g->in_plane;
    size_t e = g->layout == CLPOOL_NHWC
                   ? ((plane / g->channels) * g->in_plane + pos) * g->channels + plane % g->channels
                   : (size_t)flags[1];
    size_t isize = g->index_type == CLPOOL_INDICES_INT32 ? 4 : 8;
    int64_t q64 = 0;
    int32_t q32 = 0;
    err = clEnqueueReadBuffer(queue, io->indices.mem, CL_TRUE, (io->indices.offset + e) * isize,
                              isize, isize == 4 ? (void *)&q32 : (void *)&q64, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return clp_cl_fail(plan->ctx, err, "clEnqueueReadBuffer(indices)");
    return bad_index(plan, e, isize == 4 ? q32 : q64);
}

static const clp_family unpool_family = {OPNAME, NULL, set_unpool_args, NULL, check_host_io};

static bool is_unpool_family(const clpool_plan *plan)
{
    return plan->family == &unpool_family;
}

/* The serial strategy on CPUs when the planes (NHWC: samples times channel
 * groups) give every compute unit several work-items: each work-item then
 * streams its plane, with no winners array and no atomics. GPUs, and few
 * large planes, take the winners. $CLPOOL_TUNE_UNPOOL = serial | winners
 * overrides the choice (tests run both). */
static int choose_serial(const clpool_context *ctx, size_t work_items)
{
    const char *env = getenv("CLPOOL_TUNE_UNPOOL");
    if (env && strcmp(env, "serial") == 0)
        return 1;
    if (env && strcmp(env, "winners") == 0)
        return 0;
    if (env)
        clp_log(ctx, CLPOOL_LOG_WARNING, "CLPOOL_TUNE_UNPOOL = '%s' is ignored (serial or winners)",
                env);
    bool gpu = ctx->info.type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR);
    size_t units = ctx->info.compute_units ? ctx->info.compute_units : 1;
    return !gpu && work_items >= 4 * units;
}

clpool_status clp_unpool_validate(const clpool_context *ctx, const clpool_unpool_desc *u,
                                  const clpool_tensor_desc *in, clpool_tensor_desc *out_desc,
                                  size_t *in_plane_out, size_t *out_plane_out)
{
    clpool_status status = check_input(ctx, in);
    if (status != CLPOOL_SUCCESS)
        return status;
    if (u->indices != CLPOOL_INDICES_NONE && u->indices != CLPOOL_INDICES_INT64 &&
        u->indices != CLPOOL_INDICES_INT32)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        OPNAME ": indices = %d is not a clpool_index_type", (int)u->indices);
    size_t out_dims[3] = {0, 0, 0};
    status = output_sizes(ctx, u, in, out_dims);
    if (status != CLPOOL_SUCCESS)
        return status;
    int nd = in->spatial_dims;
    size_t in_plane = plane_size(in->spatial, nd), out_plane = plane_size(out_dims, nd);
    if (in_plane > PLANE_MAX || out_plane > PLANE_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        OPNAME ": the %s plane has %zu elements, more than %zu",
                        in_plane > PLANE_MAX ? "input" : "output",
                        in_plane > PLANE_MAX ? in_plane : out_plane, PLANE_MAX);
    *out_desc = *in;
    for (int i = 0; i < nd; i++)
        out_desc->spatial[i] = out_dims[i];
    *in_plane_out = in_plane;
    *out_plane_out = out_plane;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_plan_unpool(clpool_context *ctx, const clpool_unpool_desc *u,
                                 const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !u || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_plan_unpool: %s is NULL",
                        !ctx  ? "context"
                        : !u  ? "op"
                        : !in ? "input"
                              : "plan");
    clpool_tensor_desc out;
    size_t in_plane = 0, out_plane = 0;
    clpool_status status = clp_unpool_validate(ctx, u, in, &out, &in_plane, &out_plane);
    if (status != CLPOOL_SUCCESS)
        return status;
    int nd = in->spatial_dims;
    size_t in_elems = clpool_tensor_elements(in), out_elems = clpool_tensor_elements(&out);
    size_t ws_bytes = 0;
    bool nhwc = in->layout == CLPOOL_NHWC;
    if (in->n > 0 && (in_elems == 0 || out_elems == 0 ||
                      clp_mul_overflow(out_elems + FLAG_INTS, sizeof(cl_int), &ws_bytes)))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        OPNAME ": the element count of the input or output overflows size_t");
    size_t esize = clpool_dtype_size(in->dtype);
    size_t isize = u->indices == CLPOOL_INDICES_INT32 ? 4 : 8;
    status = check_fits(ctx, "input", in_elems, esize);
    if (status == CLPOOL_SUCCESS)
        status = check_fits(ctx, "indices", in_elems, isize);
    if (status == CLPOOL_SUCCESS)
        status = check_fits(ctx, "output", out_elems, esize);
    size_t groups = nhwc ? (in->c + CHANNEL_GROUP - 1) / CHANNEL_GROUP : 1;
    size_t units = nhwc ? in->n : in->n * in->c;
    int serial = choose_serial(ctx, units * groups);
    if (serial)
        ws_bytes = in->n > 0 ? FLAG_INTS * sizeof(cl_int) : 0;
    if (status == CLPOOL_SUCCESS)
        status = check_fits(ctx, "workspace", ws_bytes, 1);
    if (status != CLPOOL_SUCCESS)
        return status;
    if (nhwc && (in_plane * in->c > PLANE_MAX || out_plane * in->c > PLANE_MAX))
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        OPNAME ": an NHWC sample of %zu channels and %zu output positions is more "
                               "than %zu elements",
                        in->c, out_plane, PLANE_MAX);

    clpool_plan *p = NULL;
    status = clp_plan_new(ctx, &unpool_family, &p);
    if (status != CLPOOL_SUCCESS)
        return status;
    unpool_op *g = calloc(1, sizeof *g);
    if (!g) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    g->nd = nd;
    g->layout = in->layout;
    g->in_plane = in_plane;
    g->out_plane = out_plane;
    g->channels = in->c;
    g->in_units = nhwc ? in->n : in->n * in->c;
    g->in_unit_size = nhwc ? in_plane * in->c : in_plane;
    g->out_unit_size = nhwc ? out_plane * in->c : out_plane;
    g->index_type =
        u->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INDICES_INT32 : CLPOOL_INDICES_INT64;
    g->serial = serial;
    g->channel_group = CHANNEL_GROUP;
    p->op = g;
    p->input = *in;
    p->output = out;
    p->workspace_size = in->n > 0 ? ws_bytes : 0;
    clp_plan_bind(p, "input", offsetof(clpool_io, input), CLP_READ, in->dtype, in_elems);
    clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_READ,
                  g->index_type == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, in_elems);
    clp_plan_bind(p, "output", offsetof(clpool_io, output), CLP_WRITE, in->dtype, out_elems);

    char options[128];
    snprintf(options, sizeof options, "-DELEM_BYTES=%zu -DINDEX_T=%s -DNHWC=%d",
             clpool_dtype_size(in->dtype), g->index_type == CLPOOL_INDICES_INT32 ? "int" : "long",
             nhwc);
    if (serial) /* one work-item clears the flags */
        status = clp_plan_finish(p, "unpool.cl", "unpool_reset", options, g->in_units ? 1 : 0, 1);
    else
        status =
            clp_plan_finish(p, "unpool.cl", "unpool_reset", options, g->in_units, g->out_unit_size);
    if (status == CLPOOL_SUCCESS)
        status = clp_plan_add_stage(p, "unpool_claim", g->in_units, g->in_unit_size);
    if (status == CLPOOL_SUCCESS && serial)
        status = clp_plan_add_stage(p, "unpool_scatter", g->in_units, groups);
    else if (status == CLPOOL_SUCCESS)
        status = clp_plan_add_stage(p, "unpool_write", g->in_units, g->out_unit_size);
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    clp_log(ctx, CLPOOL_LOG_DEBUG,
            OPNAME " planned: %s, %s strategy, %zu launch(es), workspace %zu bytes", options,
            serial ? "serial" : "winners", clpool_plan_launch_count(p), p->workspace_size);
    *plan = p;
    return CLPOOL_SUCCESS;
}
