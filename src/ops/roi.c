/*
 * The region (RoI) pooling family: torchvision's roi_pool (CLPOOL_ROI_MAX)
 * and roi_align (CLPOOL_ROI_ALIGN) over (K, 5) boxes. Checks a
 * clpool_roi_desc against the input, plans kernels/roi_pool.cl (a work-item
 * per bin of a box and chunk of channels), and checks boxes held in host
 * memory (clpool_roi_check_boxes, and clpool_run_host_io through the
 * family's check_host_io hook).
 */
#include "internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most bins per box side: keeps PH*PW and every bin index in int range. */
#define POOLED_MAX 65536

/* Work-items one box may take (C*PH*PW): the scheduler's bound on a launch. */
#define ITEMS_PER_BOX_MAX (((size_t)1 << 31) - 4096)

/* Channels a work-item takes on CPUs (see kernels/roi_pool.cl). */
#define CPU_CHANNELS 32

typedef struct roi_op {
    clpool_roi_op op;
    clpool_dtype dtype;
    clpool_dtype rois_dtype;
    size_t n, c, h, w, k;
    size_t chunks; /* channel chunks per bin: ceil(C / channels per work-item) */
    double scale;
} roi_op;

static const char *op_name(clpool_roi_op op)
{
    switch (op) {
    case CLPOOL_ROI_MAX:
        return "roi max pooling";
    case CLPOOL_ROI_ALIGN:
        return "roi align";
    }
    return NULL;
}

static clpool_status check_input(const clpool_context *ctx, const char *opname,
                                 const clpool_tensor_desc *in)
{
    if (in->spatial_dims != 2)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: spatial_dims = %d, but region pooling takes 2-D inputs (N, C, H, W)",
                        opname, in->spatial_dims);
    if (clpool_dtype_size(in->dtype) == 0 ||
        (in->layout != CLPOOL_NCHW && in->layout != CLPOOL_NHWC))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: the input has an unknown %s value %d", opname,
                        clpool_dtype_size(in->dtype) == 0 ? "dtype" : "layout",
                        clpool_dtype_size(in->dtype) == 0 ? (int)in->dtype : (int)in->layout);
    if (in->c == 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: the input has C = 0 channels; only N may be 0", opname);
    for (int i = 0; i < 2; i++)
        if (in->spatial[i] == 0 || in->spatial[i] > INT_MAX / 4)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                            "%s: input spatial[%d] = %zu, but it must be between 1 and %d", opname,
                            i, in->spatial[i], INT_MAX / 4);
    if (in->n > 0 && clpool_tensor_elements(in) == 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: the input's element count overflows size_t", opname);
    if (in->dtype != CLPOOL_FLOAT32 && in->dtype != CLPOOL_FLOAT16 &&
        in->dtype != CLPOOL_BFLOAT16 && in->dtype != CLPOOL_FLOAT64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: input dtype %s is not supported (float32, float16, bfloat16 and "
                        "float64 are)",
                        opname, clp_dtype_name(in->dtype));
    if (in->dtype == CLPOOL_FLOAT64 && !ctx->info.has_fp64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: float64 needs cl_khr_fp64, which device '%s' does not have", opname,
                        ctx->info.device_name);
    return CLPOOL_SUCCESS;
}

static clpool_status check_options(const clpool_context *ctx, const char *opname,
                                   const clpool_roi_desc *r, const clpool_tensor_desc *in)
{
    for (int i = 0; i < 2; i++)
        if (r->output_size[i] < 1 || r->output_size[i] > POOLED_MAX)
            return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                            "%s: output_size[%d] = %d, but it must be between 1 and %d", opname, i,
                            r->output_size[i], POOLED_MAX);
    if (r->rois_dtype != CLPOOL_FLOAT32 && r->rois_dtype != CLPOOL_FLOAT64)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: rois_dtype = %s, but boxes are float32 or float64", opname,
                        clpool_dtype_size(r->rois_dtype) ? clp_dtype_name(r->rois_dtype)
                                                         : "an unknown value");
    if (r->rois_dtype == CLPOOL_FLOAT64 && !ctx->info.has_fp64)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: float64 boxes need cl_khr_fp64, which device '%s' does not have",
                        opname, ctx->info.device_name);
    if (!isfinite(r->spatial_scale))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: spatial_scale = %g, but it must be finite (0 means 1.0)", opname,
                        r->spatial_scale);
    if (r->aligned != 0 && r->aligned != 1)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: aligned = %d, but it must be 0 or 1", opname, r->aligned);
    if (r->op == CLPOOL_ROI_MAX && (r->aligned || r->sampling_ratio))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: %s = %d, but only roi align takes it (it must be 0)", opname,
                        r->aligned ? "aligned" : "sampling_ratio",
                        r->aligned ? r->aligned : r->sampling_ratio);
    if (r->sampling_ratio > CLPOOL_ROI_SAMPLING_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: sampling_ratio = %d, but it must be at most %d samples per bin side "
                        "(0 or less: adaptive)",
                        opname, r->sampling_ratio, CLPOOL_ROI_SAMPLING_MAX);
    if (r->indices != CLPOOL_INDICES_NONE && r->indices != CLPOOL_INDICES_INT64 &&
        r->indices != CLPOOL_INDICES_INT32)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: indices = %d is not a clpool_index_type", opname, (int)r->indices);
    if (r->op != CLPOOL_ROI_MAX && r->indices != CLPOOL_INDICES_NONE)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: indices were asked for, but only roi max pooling returns them",
                        opname);
    if (r->indices == CLPOOL_INDICES_INT32 &&
        (unsigned long long)in->spatial[0] * in->spatial[1] > INT32_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "%s: int32 indices cannot address a %zu x %zu plane (at most %d "
                        "elements); ask for int64 indices",
                        opname, in->spatial[0], in->spatial[1], INT32_MAX);
    size_t per_box = 0, out = 0, rois = 0;
    if (clp_mul_overflow(in->c, (size_t)r->output_size[0] * (size_t)r->output_size[1], &per_box) ||
        clp_mul_overflow(per_box, r->num_rois, &out) || clp_mul_overflow(r->num_rois, 5, &rois))
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: %zu boxes of C = %zu channels and %d x %d bins overflow size_t",
                        opname, r->num_rois, in->c, r->output_size[0], r->output_size[1]);
    if (per_box > ITEMS_PER_BOX_MAX)
        return clp_fail(ctx, CLPOOL_ERROR_UNSUPPORTED,
                        "%s: one box has C x PH x PW = %zu outputs, more than one launch may hold "
                        "(%zu)",
                        opname, per_box, ITEMS_PER_BOX_MAX);
    if (in->n == 0 && r->num_rois > 0)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_SHAPE,
                        "%s: the input has N = 0 samples, so none of the %zu boxes can have a "
                        "valid batch index",
                        opname, r->num_rois);
    return CLPOOL_SUCCESS;
}

/* ---- box checks on the host ---------------------------------------------- */

/* torchvision converts the batch index with a C cast (truncation toward
 * zero), so b is valid exactly when -1 < b < N; NaN fails both tests. The
 * kernel makes the same comparison in the boxes' own type. */
static bool batch_index_valid(const roi_op *g, const void *rois, size_t box, double *value)
{
    if (g->rois_dtype == CLPOOL_FLOAT64) {
        double b = ((const double *)rois)[box * 5];
        *value = b;
        return b > -1.0 && b < (double)g->n;
    }
    float b = ((const float *)rois)[box * 5];
    *value = b;
    return b > -1.0f && b < (float)g->n;
}

static clpool_status check_boxes(const clpool_plan *plan, const void *rois)
{
    const roi_op *g = plan->op;
    for (size_t i = 0; i < g->k; i++) {
        double b = 0;
        if (!batch_index_valid(g, rois, i, &b)) {
            char value[32];
            if (isnan(b))
                snprintf(value, sizeof value, "NaN");
            else
                snprintf(value, sizeof value, "%.9g", b);
            return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ROIS,
                            "%s: box %zu has batch index %s, but it must be a number whose "
                            "integer part (toward zero) is in [0, N) with N = %zu",
                            op_name(g->op), i, value, g->n);
        }
    }
    return CLPOOL_SUCCESS;
}

static clpool_status check_host_io(const clpool_plan *plan, const clpool_host_io *io)
{
    const roi_op *g = plan->op;
    /* A NULL array is the shared code's to report, by its slot's name. */
    return io->rois && g->k > 0 ? check_boxes(plan, io->rois) : CLPOOL_SUCCESS;
}

/* ---- kernel arguments ----------------------------------------------------- */

static cl_int set_shape_args(const clpool_plan *plan)
{
    const roi_op *g = plan->op;
    cl_int4 shape = {{(cl_int)g->c, (cl_int)g->h, (cl_int)g->w, (cl_int)g->chunks}};
    cl_int err = clSetKernelArg(plan->kernel, 5, sizeof shape, &shape);
    if (g->dtype == CLPOOL_FLOAT64) {
        cl_double scale = g->scale;
        err |= clSetKernelArg(plan->kernel, 6, sizeof scale, &scale);
    } else {
        cl_float scale = (cl_float)g->scale;
        err |= clSetKernelArg(plan->kernel, 6, sizeof scale, &scale);
    }
    return err;
}

static cl_int set_args(const clpool_plan *plan, const clp_launch *l, const clpool_io *io)
{
    cl_kernel k = plan->kernel;
    const roi_op *g = plan->op;
    cl_ulong8 run = {{io->input.offset, io->output.offset, io->indices.offset, io->rois.offset,
                      l->plane_begin, l->items, g->n, 0}};
    bool has_indices = plan->binding_count > 3;
    cl_int err = clSetKernelArg(k, 0, sizeof(cl_mem), &io->input.mem);
    err |= clSetKernelArg(k, 1, sizeof(cl_mem), &io->output.mem);
    err |= clSetKernelArg(k, 2, sizeof(cl_mem), has_indices ? &io->indices.mem : NULL);
    err |= clSetKernelArg(k, 3, sizeof(cl_mem), &io->rois.mem);
    err |= clSetKernelArg(k, 4, sizeof run, &run);
    return err;
}

static const clp_family roi_family = {"region pooling", set_shape_args, set_args, NULL,
                                      check_host_io};

/* ---- public calls ------------------------------------------------------- */

/* Channels per work-item: CPU_CHANNELS on CPUs, where the bin geometry then
 * serves that many channels; 1 on GPUs, whose neighbouring work-items then
 * take neighbouring bins (NCHW) or channels (NHWC). $CLPOOL_TUNE_ROI_CHANNELS
 * (1, 2, 4, 8, 16, 32 or 64) overrides it for tests and benchmarks. */
static int choose_channels(const clpool_context *ctx)
{
    const char *env = getenv("CLPOOL_TUNE_ROI_CHANNELS");
    if (env) {
        static const char *const allowed[] = {"1", "2", "4", "8", "16", "32", "64"};
        for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
            if (strcmp(env, allowed[i]) == 0)
                return atoi(env);
        clp_log(ctx, CLPOOL_LOG_WARNING,
                "CLPOOL_TUNE_ROI_CHANNELS = '%s' is ignored (1, 2, 4, 8, 16, 32 or 64)", env);
    }
    return ctx->info.type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR) ? 1 : CPU_CHANNELS;
}

clpool_status clpool_plan_roi(clpool_context *ctx, const clpool_roi_desc *r,
                              const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (!ctx || !r || !in || !plan)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT, "clpool_plan_roi: %s is NULL",
                        !ctx  ? "context"
                        : !r  ? "op"
                        : !in ? "input"
                              : "plan");
    const char *opname = op_name(r->op);
    if (!opname)
        return clp_fail(ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_plan_roi: op = %d is not a region pooling operator", (int)r->op);
    clpool_status status = check_input(ctx, opname, in);
    if (status == CLPOOL_SUCCESS)
        status = check_options(ctx, opname, r, in);
    if (status != CLPOOL_SUCCESS)
        return status;

    clpool_plan *p = NULL;
    status = clp_plan_new(ctx, &roi_family, &p);
    if (status != CLPOOL_SUCCESS)
        return status;
    roi_op *g = calloc(1, sizeof *g);
    if (!g) {
        clpool_plan_destroy(p);
        return clp_fail(ctx, CLPOOL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    g->op = r->op;
    g->dtype = in->dtype;
    g->rois_dtype = r->rois_dtype;
    g->n = in->n;
    g->c = in->c;
    g->h = in->spatial[0];
    g->w = in->spatial[1];
    g->k = r->num_rois;
    g->scale = r->spatial_scale != 0 ? r->spatial_scale : 1.0;
    p->op = g;
    p->input = *in;
    p->output = *in;
    p->output.n = r->num_rois;
    p->output.spatial[0] = (size_t)r->output_size[0];
    p->output.spatial[1] = (size_t)r->output_size[1];
    p->output.spatial[2] = 0;
    size_t bins = (size_t)r->output_size[0] * (size_t)r->output_size[1];
    size_t out_elems = in->c * bins * r->num_rois;
    int channels = choose_channels(ctx);
    g->chunks = (in->c + (size_t)channels - 1) / (size_t)channels;
    /* The shared code copies and checks bindings in this order; set_args
     * knows the indices binding as the fourth. */
    clp_plan_bind(p, "input", offsetof(clpool_io, input), CLP_READ, in->dtype,
                  in->n ? clpool_tensor_elements(in) : 0);
    clp_plan_bind(p, "rois", offsetof(clpool_io, rois), CLP_READ, r->rois_dtype, r->num_rois * 5);
    clp_plan_bind(p, "output", offsetof(clpool_io, output), CLP_WRITE, in->dtype, out_elems);
    if (r->indices != CLPOOL_INDICES_NONE)
        clp_plan_bind(p, "indices", offsetof(clpool_io, indices), CLP_WRITE,
                      r->indices == CLPOOL_INDICES_INT32 ? CLPOOL_INT32 : CLPOOL_INT64, out_elems);

    char options[256];
    snprintf(options, sizeof options,
             "-DROI_OP=%d -DDTYPE=%d -DROIS_DTYPE=%d -DPOOLED_H=%d -DPOOLED_W=%d -DSAMPLING=%d "
             "-DALIGNED=%d -DNHWC=%d -DHAS_INDICES=%d -DINDEX_T=%s -DCPB=%d",
             (int)r->op, (int)in->dtype, (int)r->rois_dtype, r->output_size[0], r->output_size[1],
             r->sampling_ratio > 0 ? r->sampling_ratio : 0, r->aligned, in->layout == CLPOOL_NHWC,
             r->indices != CLPOOL_INDICES_NONE, r->indices == CLPOOL_INDICES_INT32 ? "int" : "long",
             channels);
    status = clp_plan_finish(p, "roi_pool.cl", "roi_pool", options, r->num_rois, g->chunks * bins);
    if (status != CLPOOL_SUCCESS) {
        clpool_plan_destroy(p);
        return status;
    }
    clp_log(ctx, CLPOOL_LOG_DEBUG, "%s planned: %s, %zu launch(es) of local size %zu", opname,
            options, p->launch_count, p->launch_count ? p->launches[0].local_size : 0);
    *plan = p;
    return CLPOOL_SUCCESS;
}

clpool_status clpool_roi_check_boxes(const clpool_plan *plan, const void *rois)
{
    if (!plan)
        return clp_fail(NULL, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_roi_check_boxes: plan is NULL");
    if (plan->family != &roi_family)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_roi_check_boxes: a %s plan has no boxes", plan->family->name);
    const roi_op *g = plan->op;
    if (g->k == 0)
        return CLPOOL_SUCCESS;
    if (!rois)
        return clp_fail(plan->ctx, CLPOOL_ERROR_INVALID_ARGUMENT,
                        "clpool_roi_check_boxes: rois is NULL, but the plan has %zu boxes", g->k);
    return check_boxes(plan, rois);
}
