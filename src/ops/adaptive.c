/*
 * Adaptive and global pooling (spec §4, §10.5): checks a clpool_adaptive_desc
 * against the input, computes the output shape and picks one of three ways
 * to run it:
 * - every bin the same small size (In a multiple of Out, e.g. 14 -> 7, or a
 *   7x7 global head): the window family's plan with kernel = stride =
 *   In/Out, whose kernels are tuned for exactly that (identical results:
 *   same bins, same max rule, the divisor is the bin's size);
 * - bins of up to BINS_CELLS_MAX cells: kernels/adaptive_bins.cl, one output
 *   per work-item;
 * - larger bins (global pooling of big planes): kernels/adaptive_tree.cl, a
 *   work-group per output reducing its bin as a tree.
 * $CLPOOL_TUNE_ADAPTIVE=window|bins|tree forces a way where it applies (tests
 * compare them).
 */
#include "adaptive.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest output size per dimension: keeps i*In in the kernels' long range
 * and every size in int. */
#define OUTPUT_SIZE_MAX (1 << 29)
/* Bins up to this many cells take one work-item each. */
#define BINS_CELLS_MAX 2048
/* Bins the window family takes: every window side at most this, and at most
 * WINDOW_CELLS_MAX cells (its kernels unroll the window). */
#define WINDOW_SIDE_MAX 16
#define WINDOW_CELLS_MAX 1024
/* Cells per unit of the tree kernel on CPUs (a few KiB read contiguously);
 * GPUs take SEG_GPU so that neighbouring work-items read nearby addresses. */
#define SEG_CPU 256
#define SEG_GPU 4
/* Work-group size the tree kernel asks for. */
#define TREE_GROUP_CPU 64
#define TREE_GROUP_GPU 256
/* Integer sums stay exact in a long below this many cells. */
#define INTEGER_SUM_CELLS_MAX ((long long)1 << 54)

static bool is_gpu(const clpool_context *ctx)
{
    return ctx->info.type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR);
}

/* Whether the CPU variants of the kernels run: a whole plane per work-item
 * in adaptive_bins.cl (no index divisions per output), consecutive units per
 * work-item in adaptive_tree.cl (the group streams in address order). On
 * CPUs, unless $CLPOOL_TUNE_ROWS (0 or 1, as for the window kernels) says
 * otherwise; GPUs take one output, or interleaved units, per work-item. */
static int choose_cpu_variant(const clpool_context *ctx)
{
    const char *env = getenv("CLPOOL_TUNE_ROWS");
    if (env && (strcmp(env, "0") == 0 || strcmp(env, "1") == 0))
        return atoi(env);
    if (env)
        clp_log(ctx, CLPOOL_LOG_WARNING, "CLPOOL_TUNE_ROWS = '%s' is ignored (0 or 1)", env);
    return !is_gpu(ctx);
}

static const char *index_type_name(clpool_index_type t)
{
    return t == CLPOOL_INDICES_INT32 ? "int" : "long";
}

clpool_status adaptive_check_common(const clpool_context *ctx, const char *opname, clpool_op op,
                                    clpool_index_type indices, const clpool_tensor_desc *in)
{
    if (op != CLPOOL_OP_MAX && op != CLPOOL_OP_AVG)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: op = %d, but it must be CLPOOL_OP_MAX or CLPOOL_OP_AVG", opname,
                        (int)op);
    if (indices != CLPOOL_INDICES_NONE && indices != CLPOOL_INDICES_INT64 &&
        indices != CLPOOL_INDICES_INT32)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: indices = %d is not a clpool_index_type", opname, (int)indices);
    if (indices != CLPOOL_INDICES_NONE && op != CLPOOL_OP_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: indices were asked for, but only max pooling returns them", opname);
    if (in->spatial_dims < 1 || in->spatial_dims > 3)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: spatial_dims = %d, but it must be 1, 2 or 3", opname,
                        in->spatial_dims);
    if (clpool_dtype_size(in->dtype) == 0 ||
        (in->layout != CLPOOL_NCHW && in->layout != CLPOOL_NHWC))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: the input has an unknown %s value %d", opname,
                        clpool_dtype_size(in->dtype) == 0 ? "dtype" : "layout",
                        clpool_dtype_size(in->dtype) == 0 ? (int)in->dtype : (int)in->layout);
    if (in->c == 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: the input has C = 0 channels; only N may be 0", opname);
    size_t plane = 1;
    for (int i = 0; i < in->spatial_dims; i++) {
        if (in->spatial[i] == 0 || in->spatial[i] > INT_MAX / 4)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                            "%s: input spatial[%d] = %zu, but it must be between 1 and %d", opname,
                            i, in->spatial[i], INT_MAX / 4);
        if (clp_mul_overflow(plane, in->spatial[i], &plane))
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                            "%s: the input plane's element count overflows size_t", opname);
    }
    if (in->n > 0 && clpool_tensor_elements(in) == 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: the input's element count overflows size_t", opname);
    if (in->dtype == CLPOOL_INT32 || in->dtype == CLPOOL_INT64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: input dtype %s is not supported (float32, float16, bfloat16, "
                        "float64, uint8 and int8 are)",
                        opname, clp_dtype_name(in->dtype));
    if (in->dtype == CLPOOL_FLOAT64 && !ctx->info.has_fp64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: float64 needs cl_khr_fp64, which device '%s' does not have", opname,
                        ctx->info.device_name);
    if (indices == CLPOOL_INDICES_INT32 && plane > INT_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: int32 indices cannot address a plane of %zu elements (at most %d); "
                        "ask for int64 indices",
                        opname, plane, INT_MAX);
    if ((in->dtype == CLPOOL_UINT8 || in->dtype == CLPOOL_INT8) && op == CLPOOL_OP_AVG &&
        (long long)plane >= INTEGER_SUM_CELLS_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: %s averages planes of fewer than 2^54 elements", opname,
                        clp_dtype_name(in->dtype));
    return CLPOOL_SUCCESS;
}

/* ---- kernel arguments ---------------------------------------------------- */

static cl_int set_shape(const clpool_plan *plan)
{
    const adaptive_op *g = plan->op;
    cl_int8 shape = {{g->in[0], g->in[1], g->in[2], g->out[0], g->out[1], g->out[2], 0, 0}};
    return clSetKernelArg(plan->kernel, 4, sizeof shape, &shape);
}

static cl_int set_buffers(const clpool_plan *plan, const clpool_io *io, const cl_ulong8 *run)
{
    cl_kernel k = plan->kernel;
    const adaptive_op *g = plan->op;
    cl_mem idx = io->indices.mem;
    cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), &io->input.mem);
    err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->output.mem);
    err |= clSetKernelArg(k, 2, sizeof(cl_mem), g->indices != CLPOOL_INDICES_NONE ? &idx : NULL);
    err |= clSetKernelArg(k, 3, sizeof *run, run);
    return err;
}

static cl_int set_bins_shape_args(const clpool_plan *plan)
{
    const adaptive_op *g = plan->op;
    cl_int8 levels = {{0}};
    for (int i = 0; i < g->level_count; i++)
        levels.s[i] = g->levels[i];
    cl_int err = set_shape(plan);
    err |= clSetKernelArg(plan->kernel, 5, sizeof levels, &levels);
    return err;
}

static cl_int set_bins_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const adaptive_op *g = plan->op;
    cl_ulong8 run = {{io->input.offset, io->output.offset, io->indices.offset,
                      l->plane_begin * g->items_per_unit, l->items, g->channels, g->positions, 0}};
    return set_buffers(plan, io, &run);
}

static size_t real_size(const adaptive_op *g)
{
    return g->dtype == CLPOOL_FLOAT64 ? 8 : 4;
}

static size_t acc_size(const adaptive_op *g)
{
    return g->dtype == CLPOOL_UINT8 || g->dtype == CLPOOL_INT8 ? 8 : real_size(g);
}

/* Local bytes per work-item of the tree kernel. */
static size_t tree_local_bytes(const adaptive_op *g)
{
    return g->op == CLPOOL_OP_MAX ? real_size(g) + 8 : acc_size(g);
}

static cl_int set_tree_shape_args(const clpool_plan *plan)
{
    const adaptive_op *g = plan->op;
    size_t L = plan->launch_count ? plan->launches[0].local_size : 1;
    bool max = g->op == CLPOOL_OP_MAX;
    /* The local arrays the operator does not use get a token size. */
    cl_int err = set_shape(plan);
    err |= clSetKernelArg(plan->kernel, 5, max ? 8 : L * acc_size(g), NULL);
    err |= clSetKernelArg(plan->kernel, 6, max ? L * real_size(g) : 8, NULL);
    err |= clSetKernelArg(plan->kernel, 7, max ? L * 8 : 8, NULL);
    return err;
}

static cl_int set_tree_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const adaptive_op *g = plan->op;
    cl_ulong8 run = {{io->input.offset, io->output.offset, io->indices.offset, l->plane_begin,
                      g->channels, g->positions, 0, 0}};
    return set_buffers(plan, io, &run);
}

const clp_family adaptive_bins_family = {
    .name = "adaptive pooling", .set_shape_args = set_bins_shape_args, .set_args = set_bins_args};
const clp_family spp_family = {.name = "spatial pyramid pooling",
                               .set_shape_args = set_bins_shape_args,
                               .set_args = set_bins_args};
static const clp_family tree_family = {
    .name = "adaptive pooling", .set_shape_args = set_tree_shape_args, .set_args = set_tree_args};

/* ---- planning ------------------------------------------------------------ */

static void bind_tensors(clpool_plan *p, const adaptive_op *g, const clpool_tensor_desc *in,
                         size_t out_elems)
{
    clp_plan_bind(p, "input", offsetof(clpool_io, input), CLP_READ, in->dtype,
                  clpool_tensor_elements(in));
    clp_plan_bind(p, "output", offsetof(clpool_io, output), CLP_WRITE, in->dtype, out_elems);
    if (g->indices != CLPOOL_INDICES_NONE)
        clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_WRITE,
                      g->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, out_elems);
}

static clpool_status attach(clpool_plan *p, const adaptive_op *geo)
{
    adaptive_op *g = malloc(sizeof *g);
    if (!g)
        return clp_fail(p->ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    *g = *geo;
    p->op = g;
    return CLPOOL_SUCCESS;
}

clpool_status adaptive_plan_bins(clpool_context *ctx, clpool_plan *p, const adaptive_op *geo,
                                 const clpool_tensor_desc *in, size_t out_elems)
{
    clpool_status status = attach(p, geo);
    if (status != CLPOOL_SUCCESS)
        return status;
    adaptive_op *g = p->op;
    bool nhwc = in->layout == CLPOOL_NHWC;
    int per_plane = choose_cpu_variant(ctx);
    size_t units = nhwc && !per_plane ? in->n : in->n * in->c;
    g->items_per_unit = per_plane ? 1 : nhwc ? g->positions * in->c : g->positions;
    bind_tensors(p, g, in, out_elems);
    char options[256];
    snprintf(options, sizeof options,
             "-DDTYPE=%d -DPOOL_OP=%d -DHAS_INDICES=%d -DINDEX_T=%s -DNHWC=%d -DSPP=%d "
             "-DPER_PLANE=%d",
             (int)in->dtype, (int)g->op, g->indices != CLPOOL_INDICES_NONE,
             index_type_name(g->indices), nhwc, g->level_count > 0, per_plane);
    status =
        clp_plan_finish(p, "adaptive_bins.cl", "adaptive_bins", options, units, g->items_per_unit);
    if (status == CLPOOL_SUCCESS)
        clp_log(ctx, CLPOOL_LOG_DEBUG, "%s planned: adaptive_bins %s, %zu launch(es)",
                p->family->name, options, p->launch_count);
    return status;
}

/* An upper bound of the cells in one bin: a side of In/Out cells, two more
 * when Out does not divide In, at most In. */
static long long max_bin_cells(const adaptive_op *g)
{
    long long cells = 1;
    for (int i = 0; i < 3; i++) {
        long long side = g->in[i] / g->out[i] + (g->in[i] % g->out[i] != 0 ? 2 : 0);
        cells *= side < g->in[i] ? side : g->in[i];
    }
    return cells;
}

static clpool_status plan_tree(clpool_context *ctx, clpool_plan *p, const adaptive_op *geo,
                               const clpool_tensor_desc *in, size_t out_elems)
{
    clpool_status status = attach(p, geo);
    if (status != CLPOOL_SUCCESS)
        return status;
    adaptive_op *g = p->op;
    bind_tensors(p, g, in, out_elems);
    bool gpu = is_gpu(ctx);
    int vw = gpu ? 1 : ctx->info.preferred_vector_width_float >= 16 ? 16 : 8;
    if (g->dtype == CLPOOL_FLOAT64 && vw > 4)
        vw = 4;
    char options[256];
    snprintf(options, sizeof options,
             "-DDTYPE=%d -DPOOL_OP=%d -DHAS_INDICES=%d -DINDEX_T=%s -DNHWC=%d -DVW=%d -DSEG=%d "
             "-DCONTIG_UNITS=%d",
             (int)in->dtype, (int)g->op, g->indices != CLPOOL_INDICES_NONE,
             index_type_name(g->indices), in->layout == CLPOOL_NHWC, vw, gpu ? SEG_GPU : SEG_CPU,
             choose_cpu_variant(ctx));
    /* A group as large as the device likes, but not larger than the units
     * of a bin (a work-item without a unit only waits at the barriers). */
    size_t cells = (size_t)max_bin_cells(g);
    size_t units = (cells + (gpu ? SEG_GPU : SEG_CPU) - 1) / (gpu ? SEG_GPU : SEG_CPU);
    size_t want = gpu ? TREE_GROUP_GPU : TREE_GROUP_CPU;
    if (units < want)
        want = units;
    status = clp_plan_finish_groups(p, "adaptive_tree.cl", "adaptive_tree", options, out_elems,
                                    want, tree_local_bytes(g));
    if (status == CLPOOL_SUCCESS)
        clp_log(ctx, CLPOOL_LOG_DEBUG,
                "adaptive pooling planned: adaptive_tree %s, %zu launch(es) of work-groups of %zu",
                options, p->launch_count, p->launch_count ? p->launches[0].local_size : 0);
    return status;
}

/* The window family's plan for bins that are all one window (In a multiple
 * of Out in every dimension). */
static clpool_status plan_window(clpool_context *ctx, const clpool_adaptive_desc *op,
                                 const clpool_tensor_desc *in, const adaptive_op *g,
                                 clpool_plan **plan)
{
    clpool_window_desc w;
    memset(&w, 0, sizeof w);
    w.op = op->op;
    w.indices = op->indices;
    for (int i = 0; i < in->spatial_dims; i++) {
        int d = 3 - in->spatial_dims + i;
        w.kernel[i] = w.stride[i] = g->in[d] / g->out[d];
    }
    return clpool_plan_window(ctx, &w, in, plan);
}

typedef enum way { WAY_WINDOW, WAY_BINS, WAY_TREE } way;

static way choose_way(const clpool_context *ctx, const adaptive_op *g)
{
    bool divisible = true;
    int side = 1;
    for (int i = 0; i < 3; i++) {
        divisible = divisible && g->in[i] % g->out[i] == 0;
        if (g->in[i] / g->out[i] > side)
            side = g->in[i] / g->out[i];
    }
    long long most = max_bin_cells(g);
    bool window_fits = divisible && side <= WINDOW_SIDE_MAX && most <= WINDOW_CELLS_MAX;
    const char *env = getenv("CLPOOL_TUNE_ADAPTIVE");
    if (env && strcmp(env, "window") == 0 && divisible)
        return WAY_WINDOW;
    if (env && strcmp(env, "bins") == 0)
        return WAY_BINS;
    if (env && strcmp(env, "tree") == 0)
        return WAY_TREE;
    if (env && strcmp(env, "window") != 0)
        clp_log(ctx, CLPOOL_LOG_WARNING,
                "CLPOOL_TUNE_ADAPTIVE = '%s' is ignored (window, bins or tree)", env);
    if (window_fits)
        return WAY_WINDOW;
    return most > BINS_CELLS_MAX ? WAY_TREE : WAY_BINS;
}

clpool_status adaptive_geometry(const clpool_context *ctx, const char *opname,
                                const clpool_adaptive_desc *op, const clpool_tensor_desc *in,
                                adaptive_op *geo_out, clpool_tensor_desc *out_desc,
                                size_t *out_elems_out)
{
    clpool_status status = adaptive_check_common(ctx, opname, op->op, op->indices, in);
    if (status != CLPOOL_SUCCESS)
        return status;
    adaptive_op geo;
    memset(&geo, 0, sizeof geo);
    geo.op = op->op;
    geo.dtype = in->dtype;
    geo.layout = in->layout;
    geo.channels = in->c;
    geo.indices = op->indices;
    clpool_tensor_desc out = *in;
    int nd = in->spatial_dims;
    size_t positions = 1;
    for (int i = 0; i < 3; i++)
        geo.in[i] = geo.out[i] = 1;
    for (int i = 0; i < nd; i++) {
        int o = op->output_size[i] == 0 ? 1 : op->output_size[i];
        if (o < 0 || o > OUTPUT_SIZE_MAX)
            return clp_fail(ctx, o < 0 ? CLPOOL_ERROR_OUTPUT_TOO_SMALL : CLPOOL_ERROR_INVALID_SHAPE,
                            "%s: output_size[%d] = %d, but it must be between 1 and %d (0 means "
                            "1: global pooling)",
                            opname, i, o, OUTPUT_SIZE_MAX);
        geo.in[3 - nd + i] = (int)in->spatial[i];
        geo.out[3 - nd + i] = o;
        out.spatial[i] = (size_t)o;
        if (clp_mul_overflow(positions, (size_t)o, &positions))
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                            "%s: the output plane's element count overflows size_t", opname);
    }
    size_t out_elems = clpool_tensor_elements(&out);
    if (out_elems == 0 && out.n > 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: the output's element count overflows size_t", opname);
    geo.positions = positions;

    *geo_out = geo;
    *out_desc = out;
    *out_elems_out = out_elems;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_plan_adaptive(clpool_context *ctx, const clpool_adaptive_desc *op,
                                   const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !op || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_plan_adaptive: %s is NULL",
                        !ctx  ? "context"
                        : !op ? "op"
                        : !in ? "input"
                              : "plan");
    const char *opname = op->op == CLPOOL_OP_AVG ? "adaptive avg pooling" : "adaptive max pooling";
    adaptive_op geo;
    clpool_tensor_desc out;
    size_t out_elems = 0;
    clpool_status status = adaptive_geometry(ctx, opname, op, in, &geo, &out, &out_elems);
    if (status != CLPOOL_SUCCESS)
        return status;
    way w = choose_way(ctx, &geo);
    if (w == WAY_WINDOW) {
        clp_log(ctx, CLPOOL_LOG_DEBUG, "%s: every bin is one window; planned as window pooling",
                opname);
        return plan_window(ctx, op, in, &geo, plan);
    }
    clpool_plan *p = NULL;
    status = clp_plan_new(ctx, w == WAY_TREE ? &tree_family : &adaptive_bins_family, &p);
    if (status != CLPOOL_SUCCESS)
        return status;
    p->input = *in;
    p->output = out;
    status = w == WAY_TREE ? plan_tree(ctx, p, &geo, in, out_elems)
                           : adaptive_plan_bins(ctx, p, &geo, in, out_elems);
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    *plan = p;
    return CLPOOL_SUCCESS;
}
