/*
 * The window pooling family (max, avg, lp, gem, mixed, softmax, stochastic in
 * 1-D, 2-D and 3-D, NCHW and NHWC, every dtype): checks a clpool_window_desc
 * against the input, computes the output shape (spec §1), picks a kernel for
 * the operator, layout, dtype, shape and device and sets its arguments.
 *
 * Kernels:
 * - kernels/global_pool.cl: float32 NCHW max/avg whose window is the plane;
 * - kernels/window_pool.cl: NCHW max/avg (not float64), RUN outputs per
 *   work-item along a row (the CPU's preferred float vector width, whose
 *   loads and compares its compiler maps to SIMD; 1 on GPUs, where
 *   neighbouring work-items then read neighbouring addresses), with a
 *   cheap path per kind of border chunk; on CPUs a work-item takes a whole
 *   row, or, when window rows overlap, walks the chunk columns of a plane
 *   (a row's last chunk overlaps the one before it rather than storing a
 *   lane at a time);
 * - kernels/window_lanes.cl: everything else: VW channels (NHWC) or VW
 *   outputs of a row (NCHW) per work-item, any operator and dtype; on CPUs
 *   lp and softmax over overlapping NCHW rows walk columns of chunks
 *   (kernels/lanes_columns.cl).
 */
#include "internal.h"
#include "window_geometry.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bound on window, stride and dilation values: keeps every product the
 * kernels form in int range. */
#define PARAM_MAX (1 << 20)

/* The largest window row and row span window_pool.cl takes (see
 * row_kernel_fits). */
#define ROW_KERNEL_KW_MAX 32
#define ROW_KERNEL_SPAN_MAX 256

/* Integer averages sum in float: exact while 255 * cells < 2^24. */
#define INTEGER_AVG_CELLS_MAX 65536

const char *clp_window_op_name(clpool_op op)
{
    switch (op) {
    case CLPOOL_OP_MAX:
        return "max pooling";
    case CLPOOL_OP_AVG:
        return "avg pooling";
    case CLPOOL_OP_LP:
        return "lp pooling";
    case CLPOOL_OP_GEM:
        return "gem pooling";
    case CLPOOL_OP_MIXED:
        return "mixed pooling";
    case CLPOOL_OP_SOFTMAX:
        return "softmax pooling";
    case CLPOOL_OP_STOCHASTIC:
        return "stochastic pooling";
    }
    return NULL;
}

static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static long long ceil_div(long long a, long long b)
{
    return -floor_div(-a, b);
}

/* Output size of one dimension (spec §1.1). */
static long long output_size(long long in, int k, int s, int p, int d, int ceil_mode)
{
    long long eff = (long long)d * (k - 1) + 1;
    long long o = floor_div(in + 2LL * p - eff + (ceil_mode ? s - 1 : 0), s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p)
        o--;
    return o;
}

static bool is_integer(clpool_dtype dtype)
{
    return dtype == CLPOOL_UINT8 || dtype == CLPOOL_INT8;
}

static clpool_status check_input(const clpool_context *ctx, const char *opname,
                                 const clpool_tensor_desc *in)
{
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
    for (int i = 0; i < in->spatial_dims; i++)
        if (in->spatial[i] == 0 || in->spatial[i] > INT_MAX / 4)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                            "%s: input spatial[%d] = %zu, but it must be between 1 and %d", opname,
                            i, in->spatial[i], INT_MAX / 4);
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
    return CLPOOL_SUCCESS;
}

/* Validates the window parameters of every spatial dimension and fills the
 * 3-D geometry (absent outer dimensions are unit). */
static clpool_status check_window(const clpool_context *ctx, const char *opname,
                                  const clpool_window_desc *w, const clpool_tensor_desc *in,
                                  window_op *g)
{
    int nd = in->spatial_dims, off = 3 - nd;
    for (int i = 0; i < 3; i++) {
        g->k[i] = g->s[i] = g->d[i] = g->in[i] = g->out[i] = 1;
        g->p[i] = 0;
    }
    for (int i = 0; i < nd; i++) {
        const int dn = i;
        int k = w->kernel[i], s = w->stride[i] ? w->stride[i] : k, p = w->padding[i];
        int d = w->dilation[i] ? w->dilation[i] : 1;
        if (k < 1 || k > PARAM_MAX)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_KERNEL,
                            "%s: kernel[%d] = %d, but it must be between 1 and %d", opname, dn, k,
                            PARAM_MAX);
        if (s < 1 || s > PARAM_MAX)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_STRIDE,
                            "%s: stride[%d] = %d, but it must be between 1 and %d (0 means the "
                            "kernel size)",
                            opname, dn, s, PARAM_MAX);
        if (d < 1 || d > PARAM_MAX)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_DILATION,
                            "%s: dilation[%d] = %d, but it must be between 1 and %d", opname, dn, d,
                            PARAM_MAX);
        bool dilates =
            w->op == CLPOOL_OP_MAX || w->op == CLPOOL_OP_SOFTMAX || w->op == CLPOOL_OP_STOCHASTIC;
        if (!dilates && d != 1)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_DILATION,
                            "%s: dilation[%d] = %d, but %s has no dilation (it must be 1)", opname,
                            dn, d, opname);
        if (w->op == CLPOOL_OP_LP && p != 0)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_PADDING,
                            "%s: padding[%d] = %d, but lp pooling has no padding (it must be 0)",
                            opname, dn, p);
        long long extent = (long long)(k - 1) * d + 1;
        if (extent > INT_MAX / 4)
            return clp_fail(ctx,
                            d > 1 ? CLPOOL_ERROR_INVALID_DILATION : CLPOOL_ERROR_INVALID_KERNEL,
                            "%s: the window of dimension %d spans (kernel-1)*dilation+1 = %lld "
                            "elements (kernel %d, dilation %d), more than %d",
                            opname, dn, extent, k, d, INT_MAX / 4);
        long long bound = extent / 2;
        if (p < 0 || p > bound)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_PADDING,
                            "%s: padding[%d] = %d, but it must be between 0 and half the dilated "
                            "window, ((kernel-1)*dilation+1)/2 = %lld (kernel %d, dilation %d)",
                            opname, dn, p, bound, k, d);
        long long o = output_size((long long)in->spatial[i], k, s, p, d, w->ceil_mode);
        if (o < 1)
            return clp_fail(ctx, CLPOOL_ERROR_OUTPUT_TOO_SMALL,
                            "%s: output size[%d] = %lld: input %zu, kernel %d, stride %d, padding "
                            "%d, dilation %d give no window (the dilated window must fit in the "
                            "padded input)",
                            opname, dn, o, in->spatial[i], k, s, p, d);
        g->k[off + i] = k;
        g->s[off + i] = s;
        g->p[off + i] = p;
        g->d[off + i] = d;
        g->in[off + i] = (int)in->spatial[i];
        g->out[off + i] = (int)o;
    }
    if ((long long)g->k[0] * g->k[1] * g->k[2] > INT_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_KERNEL,
                        "%s: the window has %lld elements, more than %d", opname,
                        (long long)g->k[0] * g->k[1] * g->k[2], INT_MAX);
    return CLPOOL_SUCCESS;
}

static clpool_status check_options(const clpool_context *ctx, const char *opname,
                                   const clpool_window_desc *w, const clpool_tensor_desc *in,
                                   const window_op *g)
{
    bool has_indices = w->op == CLPOOL_OP_MAX || (w->op == CLPOOL_OP_STOCHASTIC && w->train);
    if (w->indices != CLPOOL_INDICES_NONE && w->indices != CLPOOL_INDICES_INT64 &&
        w->indices != CLPOOL_INDICES_INT32)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: indices = %d is not a clpool_index_type", opname, (int)w->indices);
    if (!has_indices && w->indices != CLPOOL_INDICES_NONE)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: indices were asked for, but only max pooling and stochastic pooling "
                        "with train = 1 return them",
                        opname);
    if (w->op != CLPOOL_OP_AVG && w->divisor_override != 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_DIVISOR,
                        "%s: divisor_override = %d, but only average pooling takes a divisor",
                        opname, w->divisor_override);
    if ((w->op == CLPOOL_OP_LP || w->op == CLPOOL_OP_GEM) && (!isfinite(w->p) || w->p == 0))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: p = %g, but it must be finite and non-zero%s", opname, w->p,
                        isinf(w->p) ? " (p = inf is max pooling: use CLPOOL_OP_MAX)" : "");
    if (w->op == CLPOOL_OP_MIXED && !(w->alpha >= 0 && w->alpha <= 1))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: alpha = %g, but it must be between 0 and 1", opname, w->alpha);
    if (w->op == CLPOOL_OP_SOFTMAX && !isfinite(w->beta))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "%s: beta = %g, but it must be finite",
                        opname, w->beta);
    if (w->op == CLPOOL_OP_STOCHASTIC && w->train != 0 && w->train != 1)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "%s: train = %d, but it must be 0 or 1",
                        opname, w->train);
    if (is_integer(in->dtype) && w->op != CLPOOL_OP_MAX && w->op != CLPOOL_OP_AVG)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: dtype %s is only pooled by max and avg (use a floating-point dtype)",
                        opname, clp_dtype_name(in->dtype));
    long long cells = (long long)g->k[0] * g->k[1] * g->k[2];
    if (is_integer(in->dtype) && w->op == CLPOOL_OP_AVG && cells > INTEGER_AVG_CELLS_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: %s averages windows of at most %d elements (this one has %lld)",
                        opname, clp_dtype_name(in->dtype), INTEGER_AVG_CELLS_MAX, cells);
    /* The generator's planes run up to (first_sample + N) * C - 1. */
    uint64_t end_sample = 0, end_plane = 0;
    if (__builtin_add_overflow((uint64_t)w->first_sample, (uint64_t)in->n, &end_sample) ||
        __builtin_mul_overflow(end_sample, (uint64_t)in->c, &end_plane))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: first_sample = %zu is too large: (first_sample + N) * C with N = %zu "
                        "and C = %zu overflows 64 bits",
                        opname, w->first_sample, in->n, in->c);
    if (w->indices == CLPOOL_INDICES_INT32 && (long long)g->in[0] * g->in[1] * g->in[2] > INT_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: int32 indices cannot address a plane of %lld elements (at most %d); "
                        "ask for int64 indices",
                        opname, (long long)g->in[0] * g->in[1] * g->in[2], INT_MAX);
    return CLPOOL_SUCCESS;
}

clpool_status clp_window_validate(const clpool_context *ctx, const clpool_window_desc *w,
                                  const clpool_tensor_desc *in, window_op *geo)
{
    const char *opname = clp_window_op_name(w->op);
    memset(geo, 0, sizeof *geo);
    clpool_status status = check_input(ctx, opname, in);
    if (status == CLPOOL_SUCCESS)
        status = check_window(ctx, opname, w, in, geo);
    if (status == CLPOOL_SUCCESS)
        status = check_options(ctx, opname, w, in, geo);
    if (status != CLPOOL_SUCCESS)
        return status;
    geo->op = w->op;
    geo->dtype = in->dtype;
    geo->channels = in->c;
    geo->power = w->p;
    geo->alpha = w->alpha;
    geo->beta = w->beta;
    geo->seed = w->seed;
    geo->first_plane = (uint64_t)w->first_sample * in->c; /* checked by check_options */
    return CLPOOL_SUCCESS;
}

static bool is_whole_plane(const window_op *g)
{
    for (int i = 0; i < 3; i++)
        if (g->out[i] != 1 || g->k[i] != g->in[i] || g->p[i] != 0)
            return false;
    return true;
}

/* The kernels take their buffers, one ulong8 of per-run values and (window
 * pool) one int8 of shape values: few arguments keep launches cheap. */
static cl_int set_run_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io,
                           cl_ulong extent, cl_ulong rows)
{
    cl_kernel k = plan->kernel;
    cl_mem idx = io->indices.mem;
    cl_ulong8 run = {{io->input.offset, io->output.offset, io->indices.offset, l->plane_begin,
                      l->items, extent, rows, 0}};
    cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), &io->input.mem);
    err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->output.mem);
    err |= clSetKernelArg(k, 2, sizeof(cl_mem), plan->binding_count > 2 ? &idx : NULL);
    err |= clSetKernelArg(k, 3, sizeof run, &run);
    return err;
}

static cl_int set_window_shape_args(const clpool_plan *plan)
{
    const window_op *g = plan->op;
    cl_int8 shape = {
        {g->in[0], g->in[1], g->in[2], g->out[0], g->out[1], g->out[2], g->chunks, g->xr}};
    return clSetKernelArg(plan->kernel, 4, sizeof shape, &shape);
}

static cl_int set_window_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const window_op *g = plan->op;
    return set_run_args(plan, l, io, g->in_elems, (cl_ulong)g->column_rows);
}

static cl_int set_global_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const window_op *g = plan->op;
    return set_run_args(plan, l, io, (cl_ulong)g->in[0] * g->in[1] * g->in[2], 0);
}

cl_int clp_window_set_lanes_params(cl_kernel kernel, cl_uint first, const window_op *g)
{
    /* slot 7: the column walk's output rows per work-item (lanes_columns.cl,
     * NCHW) or the work-items per output row (window_lanes, NHWC) */
    const int slot7 = g->column_rows > 0 ? g->column_rows : g->row_parts;
    cl_int8 shape = {
        {g->in[0], g->in[1], g->in[2], g->out[0], g->out[1], g->out[2], g->groups, slot7}};
    cl_int err = clSetKernelArg(kernel, first, sizeof shape, &shape);
    double inv_p = g->power != 0 ? 1.0 / g->power : 0;
    if (g->dtype == CLPOOL_FLOAT64) {
        cl_double4 params = {{g->power, inv_p, g->alpha, g->beta}};
        err |= clSetKernelArg(kernel, first + 1, sizeof params, &params);
    } else {
        cl_float4 params = {{(float)g->power, (float)inv_p, (float)g->alpha, (float)g->beta}};
        err |= clSetKernelArg(kernel, first + 1, sizeof params, &params);
    }
    cl_ulong first_plane = g->first_plane;
    err |= clSetKernelArg(kernel, first + 2, sizeof first_plane, &first_plane);
    return err;
}

static cl_int set_lanes_shape_args(const clpool_plan *plan)
{
    return clp_window_set_lanes_params(plan->kernel, 4, plan->op);
}

static cl_int set_lanes_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const window_op *g = plan->op;
    cl_kernel k = plan->kernel;
    cl_mem idx = io->indices.mem;
    cl_ulong8 run = {{io->input.offset, io->output.offset, io->indices.offset, l->plane_begin,
                      l->items, g->channels, g->seed, g->in_elems}};
    cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), &io->input.mem);
    err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->output.mem);
    err |= clSetKernelArg(k, 2, sizeof(cl_mem), plan->binding_count > 2 ? &idx : NULL);
    err |= clSetKernelArg(k, 3, sizeof run, &run);
    return err;
}

static clpool_status set_lanes_seed(clpool_plan *plan, uint64_t seed)
{
    window_op *g = plan->op;
    if (g->op != CLPOOL_OP_STOCHASTIC)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_set_seed: a %s plan has no generator seed",
                        clp_window_op_name(g->op));
    g->seed = seed;
    return CLPOOL_SUCCESS;
}

static const clp_family lanes_family = {"window pooling", set_lanes_shape_args, set_lanes_args,
                                        set_lanes_seed, NULL};

static const clp_family window_family = {"window pooling", set_window_shape_args, set_window_args,
                                         NULL, NULL};
/* global_pool has no shape arguments: the plane size travels with the run values. */
static const clp_family global_family = {"global pooling", NULL, set_global_args, NULL, NULL};

/* Whole planes up to this size are baked into the global kernel as a
 * constant: its loops then unroll (a 7x7 head plane is 3 vector loads). */
#define GLOBAL_PLANE_BAKED_MAX 1024

/* Planes up to this size get their shape baked into window_pool.cl as
 * constants when the tensor holds at least WINDOW_BAKED_MIN_ELEMS elements:
 * the row arithmetic, the chunk kinds and the partial stores then fold at
 * compile time. On the 16x512x14x14 -> 7x7 layer that is 40% fewer
 * instructions per output row, which matters when rows are short and many;
 * one program per plane shape is the price, worth paying only for tensors
 * whose runs take long enough. */
#define WINDOW_PLANE_BAKED_MAX 4096
#define WINDOW_BAKED_MIN_ELEMS ((size_t)1 << 20)

/* Whether window_pool.cl gets the plane shape as constants (see above),
 * unless $CLPOOL_TUNE_BAKE says 0 (never) or 1 (always; tests). */
static bool bake_plane_shape(const window_op *g, size_t planes)
{
    const char *env = getenv("CLPOOL_TUNE_BAKE");
    if (env && (strcmp(env, "0") == 0 || strcmp(env, "1") == 0))
        return env[0] == '1';
    size_t plane_elems = (size_t)g->in[0] * (size_t)g->in[1] * (size_t)g->in[2];
    return plane_elems <= WINDOW_PLANE_BAKED_MAX &&
           planes >= (WINDOW_BAKED_MIN_ELEMS + plane_elems - 1) / plane_elems;
}

/* The float vector width a CPU device prefers, as 8 or 16. */
static int cpu_vector_width(const clpool_context *ctx)
{
    return ctx->info.preferred_vector_width_float >= 16 ? 16 : 8;
}

/* GPUs and accelerators get one output (or lane group) per work-item. */
static bool is_gpu(const clpool_context *ctx)
{
    return ctx->info.type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR);
}

/* Whether the device compares float denormals exactly: CL_FP_DENORM in its
 * single-precision config (no program is built with -cl-denorms-are-zero).
 * window_pool.cl's float16 max compares order keys then (some of them are
 * denormal floats) instead of converted values. */
static int compares_denormals(const clpool_context *ctx)
{
    cl_device_fp_config fp = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL) !=
        CL_SUCCESS)
        return 0;
    return (fp & CL_FP_DENORM) != 0;
}

/* Whether a work-item takes a whole output row: on CPUs (far fewer index
 * divisions per output), unless $CLPOOL_TUNE_ROWS (0 or 1) says otherwise. */
int clp_window_row_items(const clpool_context *ctx)
{
    const char *env = getenv("CLPOOL_TUNE_ROWS");
    if (env && (strcmp(env, "0") == 0 || strcmp(env, "1") == 0))
        return atoi(env);
    if (env)
        clp_log(ctx, CLPOOL_LOG_WARNING, "CLPOOL_TUNE_ROWS = '%s' is ignored (0 or 1)", env);
    return !is_gpu(ctx);
}

/* $CLPOOL_TUNE_LANES=1 sends every window plan to window_lanes.cl. */
static bool lanes_forced(void)
{
    const char *env = getenv("CLPOOL_TUNE_LANES");
    return env && strcmp(env, "1") == 0;
}

/* Outputs per work-item along a row, and whether a work-item takes a whole
 * row. $CLPOOL_TUNE_RUN (1, 8, 16) and $CLPOOL_TUNE_ROWS (0, 1) override the
 * choice, so that benchmarks can compare variants and the test suite can run
 * the GPU variant (RUN 1, one chunk per work-item) on a CPU device. */
static void choose_run(const clpool_context *ctx, const window_op *g, int *run, int *row_items)
{
    bool cpu = !is_gpu(ctx);
    /* A chunk as wide as the device's preferred vector, unless the row is
     * too short to fill most of it. */
    int width = cpu_vector_width(ctx);
    *run = !cpu || g->out[2] < 4 ? 1 : g->out[2] >= 12 ? width : 8;
    *row_items = clp_window_row_items(ctx);
    const char *env_run = getenv("CLPOOL_TUNE_RUN");
    if (env_run &&
        (strcmp(env_run, "1") == 0 || strcmp(env_run, "8") == 0 || strcmp(env_run, "16") == 0))
        *run = atoi(env_run);
    else if (env_run)
        clp_log(ctx, CLPOOL_LOG_WARNING, "CLPOOL_TUNE_RUN = '%s' is ignored (1, 8 or 16)", env_run);
}

/* Output rows per work-item of the column variant, or 0 for the row variant.
 * Columns pay off when window rows overlap (SH < KH) and apply to 1-D and
 * 2-D windows without row dilation; a work-item then takes every chunk
 * column of a whole plane (window_pool: @p columns_per_plane 1), or one of
 * the plane's @p columns_per_plane chunk columns (window_lanes' column
 * walk), unless that leaves too few work-items for the device (then blocks
 * of rows). $CLPOOL_TUNE_COLUMNS=0 turns the variant off (tests compare
 * both). */
static int choose_column_rows(const clpool_context *ctx, const window_op *g, int spatial_dims,
                              int row_items, size_t planes, int columns_per_plane)
{
    const char *env = getenv("CLPOOL_TUNE_COLUMNS");
    if (env && strcmp(env, "0") == 0)
        return 0;
    if (!row_items || spatial_dims > 2 || g->d[1] != 1 || g->s[1] >= g->k[1] || g->k[1] > 8)
        return 0;
    size_t columns = planes * (size_t)columns_per_plane;
    size_t want = 8 * (size_t)ctx->info.compute_units;
    if (columns == 0 || columns >= want)
        return g->out[1];
    size_t blocks = (want + columns - 1) / columns;
    if (blocks > (size_t)g->out[1])
        blocks = (size_t)g->out[1];
    return (int)(((size_t)g->out[1] + blocks - 1) / blocks);
}

/* Lanes per work-item of window_lanes: the CPU's vector width when the row
 * (NCHW) or the channels (NHWC) fill most of it, 1 on GPUs. $CLPOOL_TUNE_VW
 * (1, 2, 4, 8, 16) overrides it for tests. */
static int choose_lanes(const clpool_context *ctx, const window_op *g, clpool_layout layout)
{
    /* float64 takes at most 4 lanes: PoCL 3.1 computes pow on double8 and
     * double16 wrongly (lp and gem results off by up to 4x, measured), and
     * 4 doubles fill an AVX2 register anyway. */
    int max_width = g->dtype == CLPOOL_FLOAT64 ? 4 : 16;
    const char *env = getenv("CLPOOL_TUNE_VW");
    if (env && (strcmp(env, "1") == 0 || strcmp(env, "2") == 0 || strcmp(env, "4") == 0 ||
                strcmp(env, "8") == 0 || strcmp(env, "16") == 0))
        return atoi(env) < max_width ? atoi(env) : max_width;
    if (env)
        clp_log(ctx, CLPOOL_LOG_WARNING, "CLPOOL_TUNE_VW = '%s' is ignored (1, 2, 4, 8 or 16)",
                env);
    if (is_gpu(ctx))
        return 1;
    int width = cpu_vector_width(ctx);
    if (width > max_width)
        width = max_width;
    size_t n = layout == CLPOOL_NHWC ? g->channels : (size_t)g->out[2];
    while (width > 1 && n * 4 < (size_t)width * 3)
        width /= 2;
    return width;
}

/* Whether window_pool.cl takes the plan: NCHW max/avg, not float64, not too
 * large a window. $CLPOOL_TUNE_LANES=1 sends everything to window_lanes.cl
 * (tests compare the kernels). */
static bool row_kernel_fits(const clpool_window_desc *w, const clpool_tensor_desc *in,
                            const window_op *g)
{
    if (lanes_forced())
        return false;
    /* window_pool unrolls each window row and may stage a row span of
     * (KW-1)*DW + 32 floats in private memory: large windows would build
     * for minutes, so they take the lanes kernel, whose loops stay loops. */
    bool small = g->k[2] <= ROW_KERNEL_KW_MAX && g->k[1] <= ROW_KERNEL_KW_MAX &&
                 (long long)(g->k[2] - 1) * g->d[2] <= ROW_KERNEL_SPAN_MAX;
    return small && in->layout == CLPOOL_NCHW &&
           (w->op == CLPOOL_OP_MAX || w->op == CLPOOL_OP_AVG) && in->dtype != CLPOOL_FLOAT64;
}

/* Whether global_pool.cl takes the plan: float32 NCHW max/avg whose window
 * is the whole plane. */
static bool global_kernel_fits(const clpool_window_desc *w, const clpool_tensor_desc *in,
                               const window_op *g)
{
    return !lanes_forced() && in->layout == CLPOOL_NCHW && in->dtype == CLPOOL_FLOAT32 &&
           (w->op == CLPOOL_OP_MAX || w->op == CLPOOL_OP_AVG) && is_whole_plane(g);
}

/* NHWC on CPUs: work-items per output row, each a run of its positions.
 * Rows alone may make few work-groups (inception-nhwc: 448 rows, 7 groups of
 * 64 for 2 cores, so one core takes 4 and the other waits for it); splitting
 * rows until there are 512 work-items per compute unit (8 groups of 64)
 * keeps the cores' shares within 1/8 of each other. */
static int choose_row_parts(const clpool_context *ctx, const window_op *g, size_t row_count)
{
    size_t want = 512 * (size_t)ctx->info.compute_units;
    int parts = 1;
    while (parts < 8 && parts * 2 <= g->out[2] && row_count * (size_t)parts < want)
        parts *= 2;
    return parts;
}

/* Outputs per chunk of window_lanes' column walk (lanes_columns.cl), or 0
 * when the plan does not take it: lp and softmax on NCHW planes on CPUs (a
 * work-item per row, VW >= 4) with 2-D windows whose rows overlap (the
 * column variant's conditions), stride 1 along rows, and a window row that
 * leaves at least half of the VW lanes as outputs (a chunk's lanes are VW
 * input cells, each cell's power or exp computed once). */
static int lanes_column_width(const window_op *g, bool nhwc, int vw, int row_items)
{
    bool op = g->op == CLPOOL_OP_LP || g->op == CLPOOL_OP_SOFTMAX;
    int width = vw - (g->k[2] - 1) * g->d[2];
    if (!op || nhwc || !row_items || vw < 4 || g->k[0] != 1 || g->s[2] != 1 || width < vw / 2)
        return 0;
    return width;
}

static clpool_status plan_lanes(clpool_context *ctx, clpool_plan *p, const clpool_window_desc *w,
                                const clpool_tensor_desc *in, window_op *g, char *options,
                                size_t options_size)
{
    int vw = choose_lanes(ctx, g, in->layout);
    bool nhwc = in->layout == CLPOOL_NHWC;
    int row_items = clp_window_row_items(ctx);
    size_t units = nhwc ? in->n : in->n * in->c;
    int column_width = lanes_column_width(g, nhwc, vw, row_items);
    size_t groups = nhwc ? (g->channels + (size_t)vw - 1) / (size_t)vw
                         : (size_t)ceil_div(g->out[2], column_width ? column_width : vw);
    if (groups > INT_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE, "%s: %zu channels are too many",
                        clp_window_op_name(w->op), g->channels);
    g->groups = (int)groups;
    g->column_rows =
        column_width ? choose_column_rows(ctx, g, in->spatial_dims, row_items, units, (int)groups)
                     : 0;
    snprintf(options, options_size,
             "-DPOOL_OP=%d -DDTYPE=%d -DKD=%d -DKH=%d -DKW=%d -DSD=%d -DSH=%d -DSW=%d -DPD=%d "
             "-DPH=%d -DPW=%d -DDD=%d -DDH=%d -DDW=%d -DCOUNT_PAD=%d -DDIVISOR=%d -DTRAIN=%d "
             "-DHAS_INDICES=%d -DINDEX_T=%s -DNHWC=%d -DVW=%d -DROW_ITEMS=%d -DCOLUMNS=%d",
             (int)w->op, (int)in->dtype, g->k[0], g->k[1], g->k[2], g->s[0], g->s[1], g->s[2],
             g->p[0], g->p[1], g->p[2], g->d[0], g->d[1], g->d[2], !w->exclude_padding,
             w->op == CLPOOL_OP_AVG ? w->divisor_override : 0,
             w->op == CLPOOL_OP_STOCHASTIC && w->train, w->indices != CLPOOL_INDICES_NONE,
             w->indices == CLPOOL_INDICES_INT32 ? "int" : "long", nhwc, vw, row_items,
             g->column_rows > 0);
    if (g->column_rows > 0) {
        size_t blocks = (size_t)ceil_div(g->out[1], g->column_rows);
        return clp_plan_finish(p, "window_lanes.cl", "window_lanes_columns", options, units,
                               blocks * groups);
    }
    size_t rows = (size_t)g->out[0] * (size_t)g->out[1];
    g->row_parts = 1;
    if (nhwc && row_items)
        g->row_parts = choose_row_parts(ctx, g, rows * units);
    size_t items = row_items ? rows * (size_t)g->row_parts
                             : rows * (nhwc ? (size_t)g->out[2] * groups : groups);
    return clp_plan_finish(p, "window_lanes.cl", "window_lanes", options, units, items);
}

clpool_status clpool_plan_window(clpool_context *ctx, const clpool_window_desc *w,
                                 const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !w || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_plan_window: %s is NULL",
                        !ctx  ? "context"
                        : !w  ? "op"
                        : !in ? "input"
                              : "plan");
    const char *opname = clp_window_op_name(w->op);
    if (!opname)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_window: op = %d is not a window pooling operator", (int)w->op);
    window_op geo;
    clpool_status status = clp_window_validate(ctx, w, in, &geo);
    if (status != CLPOOL_SUCCESS)
        return status;

    clpool_plan *p = NULL;
    bool global = global_kernel_fits(w, in, &geo);
    bool rows = !global && row_kernel_fits(w, in, &geo);
    status = clp_plan_new(ctx, global ? &global_family : rows ? &window_family : &lanes_family, &p);
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
    size_t planes = in->n * in->c;
    clp_plan_bind(p, "input", offsetof(clpool_io, input), CLP_READ, in->dtype, g->in_elems);
    clp_plan_bind(p, "output", offsetof(clpool_io, output), CLP_WRITE, in->dtype, out_elems);
    if (w->indices != CLPOOL_INDICES_NONE)
        clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_WRITE,
                      w->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, out_elems);

    const char *index_t = w->indices == CLPOOL_INDICES_INT32 ? "int" : "long";
    int has_indices = w->indices != CLPOOL_INDICES_NONE;
    int divisor = w->op == CLPOOL_OP_AVG ? w->divisor_override : 0;
    char options[512];
    if (!global && !rows) {
        status = plan_lanes(ctx, p, w, in, g, options, sizeof options);
    } else if (global) {
        bool gpu = is_gpu(ctx);
        size_t plane_elems = (size_t)g->in[0] * (size_t)g->in[1] * (size_t)g->in[2];
        snprintf(options, sizeof options,
                 "-DPOOL_OP=%d -DDIVISOR=%d -DHAS_INDICES=%d -DINDEX_T=%s -DVW=%d -DPLANE=%zu",
                 (int)w->op, divisor, has_indices, index_t, gpu ? 1 : cpu_vector_width(ctx),
                 plane_elems <= GLOBAL_PLANE_BAKED_MAX ? plane_elems : (size_t)0);
        status = clp_plan_finish(p, "global_pool.cl", "global_pool", options, planes, 1);
    } else {
        int run, row_items;
        choose_run(ctx, g, &run, &row_items);
        int W = g->in[2], OW = g->out[2], kw = g->k[2], sw = g->s[2], pw = g->p[2], dw = g->d[2];
        long long last = (long long)W - 1 + pw - (long long)(kw - 1) * dw;
        g->xr = last < 0 ? 0 : (int)(last / sw + 1 < OW ? last / sw + 1 : OW);
        g->chunks = (int)ceil_div(OW, run);
        g->column_rows = choose_column_rows(ctx, g, in->spatial_dims, row_items, planes, 1);
        snprintf(options, sizeof options,
                 "-DPOOL_OP=%d -DDTYPE=%d -DKD=%d -DKH=%d -DKW=%d -DSD=%d -DSH=%d -DSW=%d -DPD=%d "
                 "-DPH=%d -DPW=%d -DDD=%d -DDH=%d -DDW=%d -DCOUNT_PAD=%d -DDIVISOR=%d "
                 "-DHAS_INDICES=%d -DINDEX_T=%s -DRUN=%d -DROW_ITEMS=%d -DDEPTH=%d -DCOLUMNS=%d "
                 "-DFP_DENORMS=%d",
                 (int)w->op, (int)in->dtype, g->k[0], g->k[1], g->k[2], g->s[0], g->s[1], g->s[2],
                 g->p[0], g->p[1], g->p[2], g->d[0], g->d[1], g->d[2], !w->exclude_padding, divisor,
                 has_indices, index_t, run, row_items, in->spatial_dims == 3, g->column_rows > 0,
                 compares_denormals(ctx));
        if (bake_plane_shape(g, planes)) {
            size_t used = strlen(options);
            snprintf(options + used, sizeof options - used,
                     " -DSHAPE_BAKED=1 -DBAKED_D=%d -DBAKED_H=%d -DBAKED_W=%d -DBAKED_OD=%d "
                     "-DBAKED_OH=%d -DBAKED_OW=%d -DBAKED_CHUNKS=%d -DBAKED_XR=%d",
                     g->in[0], g->in[1], g->in[2], g->out[0], g->out[1], g->out[2], g->chunks,
                     g->xr);
        }
        size_t rows_n = (size_t)g->out[0] * (size_t)g->out[1];
        size_t items = row_items ? rows_n : rows_n * (size_t)g->chunks;
        if (g->column_rows > 0)
            items = (size_t)ceil_div(g->out[1], g->column_rows);
        status = clp_plan_finish(p, "window_pool.cl", "window_pool", options, planes, items);
    }
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    clp_log(ctx, CLPOOL_LOG_DEBUG, "%s planned: %s, %zu launch(es) of local size %zu", opname,
            options, p->launch_count, p->launch_count ? p->launches[0].local_size : 0);
    *plan = p;
    return CLPOOL_SUCCESS;
}
