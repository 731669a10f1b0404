/*
 * The fractional max pooling family (spec §6): checks a
 * clpool_fractional_desc against the input, computes the output size (given
 * or from the ratio), divides each dimension's alpha in the computation type
 * and plans kernels/fractional_pool.cl, which computes the windows from the
 * samples (given, or drawn from the counter-based generator) on the device.
 */
#include "fractional.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPNAME "fractional max pooling"

static clpool_status check_input(const clpool_context *ctx, const clpool_tensor_desc *in)
{
    if (in->spatial_dims != 2 && in->spatial_dims != 3)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        OPNAME ": spatial_dims = %d, but it must be 2 or 3", in->spatial_dims);
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
    if (in->dtype == CLPOOL_FLOAT64 && !ctx->info.has_fp64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        OPNAME ": float64 needs cl_khr_fp64, which device '%s' does not have",
                        ctx->info.device_name);
    if (in->c == 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        OPNAME ": the input has C = 0 channels; only N may be 0");
    for (int i = 0; i < in->spatial_dims; i++)
        if (in->spatial[i] == 0 || in->spatial[i] > INT_MAX / 4)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                            OPNAME ": input spatial[%d] = %zu, but it must be between 1 and %d", i,
                            in->spatial[i], INT_MAX / 4);
    if (in->n > 0 && clpool_tensor_elements(in) == 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        OPNAME ": the input's element count overflows size_t");
    return CLPOOL_SUCCESS;
}

static const char *dim_name(int nd, int i)
{
    static const char *const names3[] = {"time", "height", "width"};
    return names3[i + 3 - nd];
}

/* Output sizes (given, or (int)(In * r)) and torch's size rules. */
static clpool_status check_sizes(const clpool_context *ctx, const clpool_fractional_desc *f,
                                 const clpool_tensor_desc *in, fractional_op *g)
{
    int nd = in->spatial_dims, off = 3 - nd, given = 0, ratios = 0;
    for (int i = 0; i < nd; i++) {
        given += f->output_size[i] != 0;
        ratios += f->output_ratio[i] != 0;
    }
    if (given == 0 && ratios == 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        OPNAME " requires either an output_size or an output_ratio");
    if (given != 0 && given != nd)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        OPNAME ": output_size gives %d of %d dimensions; give all of them", given,
                        nd);
    if (given == 0 && ratios != nd)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        OPNAME ": output_ratio gives %d of %d dimensions; give all of them", ratios,
                        nd);
    for (int i = 0; i < 3; i++)
        g->in[i] = g->out[i] = 1;
    for (int i = 0; i < nd; i++) {
        long long In = (long long)in->spatial[i], k = f->kernel[i], o;
        if (k < 1 || k > In)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_KERNEL,
                            OPNAME ": kernel[%d] = %lld, but it must be between 1 and the input "
                                   "size %lld",
                            i, k, In);
        if (given) {
            o = f->output_size[i];
        } else {
            double r = f->output_ratio[i];
            if (!(r > 0 && r < 1))
                return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                                OPNAME ": output_ratio[%d] = %g, but it must be between 0 and 1 "
                                       "(exclusive)",
                                i, r);
            o = (long long)((double)In * r);
        }
        if (o < 1)
            return clp_fail(ctx, CLPOOL_ERROR_OUTPUT_TOO_SMALL,
                            OPNAME ": output size[%d] = %lld, but it must be at least 1%s", i, o,
                            given ? "" : " (input size times output_ratio, truncated)");
        bool fits = nd == 2 ? o + k - 1 <= In : o + k - 1 < In;
        if (!fits)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_KERNEL,
                            OPNAME ": pool %s %lld too large relative to input %s %lld (output "
                                   "%lld + pool - 1 must be %s the input size)",
                            dim_name(nd, i), k, dim_name(nd, i), In, o,
                            nd == 2 ? "at most" : "less than");
        g->in[off + i] = (int)In;
        g->out[off + i] = (int)o;
    }
    return CLPOOL_SUCCESS;
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

static cl_int set_fractional_shape_args(const clpool_plan *plan)
{
    const fractional_op *g = plan->op;
    cl_int8 shape = {
        {g->in[0], g->in[1], g->in[2], g->out[0], g->out[1], g->out[2], g->nd, g->samples_given}};
    cl_int4 pool = {{g->k[0], g->k[1], g->k[2], 0}};
    cl_int err = clSetKernelArg(plan->kernel, 5, sizeof shape, &shape);
    err |= clSetKernelArg(plan->kernel, 7, sizeof pool, &pool);
    if (g->dtype == CLPOOL_FLOAT64) {
        cl_double4 alpha = {{g->alpha[0], g->alpha[1], g->alpha[2], 0}};
        err |= clSetKernelArg(plan->kernel, 6, sizeof alpha, &alpha);
    } else {
        cl_float4 alpha = {{(float)g->alpha[0], (float)g->alpha[1], (float)g->alpha[2], 0}};
        err |= clSetKernelArg(plan->kernel, 6, sizeof alpha, &alpha);
    }
    return err;
}

static cl_int set_fractional_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    const fractional_op *g = plan->op;
    cl_kernel k = plan->kernel;
    cl_ulong8 run = {{io->input.offset, io->output.offset, io->indices.offset, io->samples.offset,
                      l->plane_begin, l->items, g->channels, g->seed}};
    cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), &io->input.mem);
    err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->output.mem);
    err |= clSetKernelArg(k, 2, sizeof(cl_mem), g->has_indices ? &io->indices.mem : NULL);
    err |= clSetKernelArg(k, 3, sizeof(cl_mem), g->samples_given ? &io->samples.mem : NULL);
    err |= clSetKernelArg(k, 4, sizeof run, &run);
    return err;
}

static clpool_status set_fractional_seed(clpool_plan *plan, uint64_t seed)
{
    fractional_op *g = plan->op;
    if (g->samples_given)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_set_seed: this " OPNAME
                        " plan reads its samples (samples_given = 1) and has no seed");
    g->seed = seed;
    return CLPOOL_SUCCESS;
}

static const clp_family fractional_family = {OPNAME, set_fractional_shape_args, set_fractional_args,
                                             set_fractional_seed, NULL};

/* (T)(In - k) / (T)(O - 1), divided in T: float for every dtype but float64. */
static double alpha_of(clpool_dtype dtype, int in, int out, int k)
{
    if (out <= 1)
        return 0;
    if (dtype == CLPOOL_FLOAT64)
        return (double)(in - k) / (double)(out - 1);
    volatile float num = (float)(in - k), den = (float)(out - 1);
    volatile float a = num / den;
    return a;
}

clpool_status clp_fractional_validate(const clpool_context *ctx, const clpool_fractional_desc *f,
                                      const clpool_tensor_desc *in, fractional_op *geo_out,
                                      clpool_tensor_desc *out_out)
{
    fractional_op geo;
    memset(&geo, 0, sizeof geo);
    clpool_status status = check_input(ctx, in);
    if (status == CLPOOL_SUCCESS)
        status = check_sizes(ctx, f, in, &geo);
    if (status != CLPOOL_SUCCESS)
        return status;
    if (f->samples_given != 0 && f->samples_given != 1)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        OPNAME ": samples_given = %d, but it must be 0 or 1", f->samples_given);
    if (f->indices != CLPOOL_INDICES_NONE && f->indices != CLPOOL_INDICES_INT64 &&
        f->indices != CLPOOL_INDICES_INT32)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        OPNAME ": indices = %d is not a clpool_index_type", (int)f->indices);
    long long in_plane = (long long)geo.in[0] * geo.in[1] * geo.in[2];
    if (f->indices == CLPOOL_INDICES_INT32 && in_plane > INT_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        OPNAME ": int32 indices cannot address a plane of %lld elements (at most "
                               "%d); ask for int64 indices",
                        in_plane, INT_MAX);
    if (in_plane > INT_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        OPNAME ": input planes of %lld elements are more than %d", in_plane,
                        INT_MAX);
    int nd = in->spatial_dims;
    geo.dtype = in->dtype;
    geo.nd = nd;
    geo.channels = in->c;
    geo.samples_given = f->samples_given;
    geo.has_indices = f->indices != CLPOOL_INDICES_NONE;
    geo.seed = f->seed;
    for (int i = 0; i < 3; i++)
        geo.k[i] = i < 3 - nd ? 1 : f->kernel[i - (3 - nd)];
    for (int i = 0; i < 3; i++)
        geo.alpha[i] = alpha_of(in->dtype, geo.in[i], geo.out[i], geo.k[i]);
    size_t out_plane = (size_t)geo.out[0] * (size_t)geo.out[1] * (size_t)geo.out[2];
    bool nhwc = in->layout == CLPOOL_NHWC;
    geo.unit_size = nhwc ? out_plane * in->c : out_plane;
    if (geo.unit_size > ((size_t)1 << 31) - 4096 || out_plane > UINT_MAX / 2)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        OPNAME ": %zu output elements per %s are more than one launch holds",
                        geo.unit_size, nhwc ? "sample" : "plane");

    clpool_tensor_desc out_desc = *in;
    for (int i = 0; i < nd; i++)
        out_desc.spatial[i] = (size_t)geo.out[3 - nd + i];
    status = check_fits(ctx, "input", clpool_tensor_elements(in), clpool_dtype_size(in->dtype));
    if (status == CLPOOL_SUCCESS)
        status = check_fits(ctx, "output", clpool_tensor_elements(&out_desc),
                            f->indices == CLPOOL_INDICES_NONE ? clpool_dtype_size(in->dtype) : 8);
    if (status == CLPOOL_SUCCESS && f->samples_given)
        status = check_fits(ctx, "samples", in->n * in->c, (size_t)nd * 8);
    if (status != CLPOOL_SUCCESS)
        return status;

    *geo_out = geo;
    *out_out = out_desc;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_plan_fractional(clpool_context *ctx, const clpool_fractional_desc *f,
                                     const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !f || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_plan_fractional: %s is NULL",
                        !ctx  ? "context"
                        : !f  ? "op"
                        : !in ? "input"
                              : "plan");
    fractional_op geo;
    clpool_tensor_desc out_desc;
    clpool_status status = clp_fractional_validate(ctx, f, in, &geo, &out_desc);
    if (status != CLPOOL_SUCCESS)
        return status;
    int nd = in->spatial_dims;
    bool nhwc = in->layout == CLPOOL_NHWC;
    clpool_plan *p = NULL;
    status = clp_plan_new(ctx, &fractional_family, &p);
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
    p->output = *in;
    for (int i = 0; i < nd; i++)
        p->output.spatial[i] = (size_t)g->out[3 - nd + i];
    size_t in_elems = clpool_tensor_elements(in), out_elems = clpool_tensor_elements(&p->output);
    clpool_dtype sample_dtype = in->dtype == CLPOOL_FLOAT64 ? CLPOOL_FLOAT64 : CLPOOL_FLOAT32;
    clp_plan_bind(p, "input", offsetof(clpool_io, input), CLP_READ, in->dtype, in_elems);
    clp_plan_bind(p, "output", offsetof(clpool_io, output), CLP_WRITE, in->dtype, out_elems);
    if (f->samples_given)
        clp_plan_bind(p, "samples", offsetof(clpool_io, samples), CLP_READ, sample_dtype,
                      in->n * in->c * (size_t)nd);
    if (f->indices != CLPOOL_INDICES_NONE)
        clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_WRITE,
                      f->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, out_elems);

    char options[256];
    snprintf(options, sizeof options, "-DDTYPE=%d -DNHWC=%d -DHAS_INDICES=%d -DINDEX_T=%s",
             (int)in->dtype, nhwc, f->indices != CLPOOL_INDICES_NONE,
             f->indices == CLPOOL_INDICES_INT32 ? "int" : "long");
    status = clp_plan_finish(p, "fractional_pool.cl", "fractional_pool", options,
                             nhwc ? in->n : in->n * in->c, g->unit_size);
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    clp_log(ctx, CLPOOL_LOG_DEBUG, OPNAME " planned: %s, %zu launch(es)", options, p->launch_count);
    *plan = p;
    return CLPOOL_SUCCESS;
}
