/*
 * roi-max and roi-align of "clpool run" (roi.h): checks the --rois file, an
 * (K, 5) array of float rows [batch_index, x1, y1, x2, y2], and turns
 * --output-size, --spatial-scale, --sampling-ratio, --aligned and --indices
 * into a clpool_roi_desc. Boxes whose batch index is NaN or out of range are
 * refused by the library's host check when the plan runs.
 */
#include "roi.h"

#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int cli_is_roi_op(enum cli_op op)
{
    return op == CLI_OP_ROI_MAX || op == CLI_OP_ROI_ALIGN;
}

/* float16 bits to float32, exactly (subnormals, infinities and NaN too). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    float v;
    if (exp == 0) {
        v = ldexpf((float)man, -24);
    } else if (exp == 31) {
        v = man ? NAN : INFINITY;
    } else {
        v = ldexpf((float)(man | 0x400u), (int)exp - 25);
    }
    return sign ? -v : v;
}

static int widen_half(npy_array *a)
{
    float *f = malloc(a->count ? a->count * sizeof *f : 1);
    if (!f)
        return cli_fail(CLI_EXIT_DEVICE, "out of host memory for %zu boxes", a->count / 5);
    const uint16_t *h = a->data;
    for (size_t i = 0; i < a->count; i++)
        f[i] = half_to_float(h[i]);
    free(a->data);
    a->data = f;
    a->dtype = NPY_FLOAT32;
    a->nbytes = a->count * sizeof *f;
    return CLI_EXIT_OK;
}

static int load_rois(const char *path, npy_array *rois, clpool_dtype *dtype)
{
    char err[NPY_ERROR_SIZE];
    npy_status status = npy_read(path, rois, err, sizeof err);
    if (status != NPY_OK)
        return cli_fail(status == NPY_ERROR_MEMORY ? CLI_EXIT_DEVICE : CLI_EXIT_INPUT,
                        "--rois '%s': %s", path, err);
    if (rois->rank != 2 || rois->shape[1] != 5) {
        char shape[NPY_ERROR_SIZE];
        npy_format_shape(rois->shape, rois->rank, shape, sizeof shape);
        return cli_fail(CLI_EXIT_INPUT,
                        "--rois '%s': shape %s is not (K, 5): each row is batch_index, x1, y1, "
                        "x2, y2",
                        path, shape);
    }
    switch (rois->dtype) {
    case NPY_FLOAT32:
        *dtype = CLPOOL_FLOAT32;
        return CLI_EXIT_OK;
    case NPY_FLOAT64:
        *dtype = CLPOOL_FLOAT64;
        return CLI_EXIT_OK;
    case NPY_FLOAT16:
        *dtype = CLPOOL_FLOAT32;
        return widen_half(rois);
    default:
        return cli_fail(CLI_EXIT_INPUT,
                        "--rois '%s': dtype %s is not a box dtype (float32, float64 or float16)",
                        path, npy_dtype_name(rois->dtype));
    }
}

int cli_roi_describe(const struct cli_args *args, const clpool_tensor_desc *input, npy_array *rois,
                     clpool_roi_desc *desc)
{
    const struct cli_options *o = &args->opt;
    memset(desc, 0, sizeof *desc);
    desc->op = args->op == CLI_OP_ROI_MAX ? CLPOOL_ROI_MAX : CLPOOL_ROI_ALIGN;
    if (input->spatial_dims != 2)
        return cli_fail(CLI_EXIT_INPUT,
                        "OP '%s' pools 2-D feature maps: the input must have rank 4, %s, not "
                        "rank %d",
                        cli_op_name(args->op),
                        input->layout == CLPOOL_NHWC ? "(N, H, W, C)" : "(N, C, H, W)",
                        input->spatial_dims + 2);
    const struct cli_ints *size = &o->output_size;
    if (size->count != 1 && size->count != 2)
        return cli_fail(CLI_EXIT_INPUT,
                        "--output-size has %d values, but OP '%s' takes 1 (square bins) or 2 "
                        "(PH,PW)",
                        size->count, cli_op_name(args->op));
    for (int i = 0; i < 2; i++) {
        desc->output_size[i] = size->values[size->count == 1 ? 0 : i];
        if (desc->output_size[i] < 1)
            return cli_fail(CLI_EXIT_INPUT, "--output-size: every size must be at least 1, not %d",
                            desc->output_size[i]);
    }
    if (!isfinite(o->spatial_scale) || o->spatial_scale == 0)
        return cli_fail(CLI_EXIT_INPUT,
                        "--spatial-scale %g: the scale from box to feature coordinates must be "
                        "finite and non-zero",
                        o->spatial_scale);
    desc->spatial_scale = o->spatial_scale;
    if (desc->op == CLPOOL_ROI_ALIGN) {
        desc->sampling_ratio = o->sampling_ratio > 0 ? o->sampling_ratio : 0;
        desc->aligned = o->aligned;
    }
    desc->indices = o->indices ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE;
    int rc = load_rois(o->rois, rois, &desc->rois_dtype);
    if (rc != CLI_EXIT_OK) {
        npy_release(rois);
        return rc;
    }
    desc->num_rois = rois->shape[0];
    return CLI_EXIT_OK;
}
