/*
 * fractional-max and max-unpool for "clpool run" (see run_unpool.h): their
 * options as clpool_fractional_desc / clpool_unpool_desc, the --samples and
 * --indices-in files loaded and checked against the input (dtype, shape,
 * sample range) before anything runs.
 */
#include "run_unpool.h"

#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_unpool_is_op(enum cli_op op)
{
    return op == CLI_OP_FRACTIONAL_MAX || op == CLI_OP_MAX_UNPOOL;
}

/* --NAME as one value for every dimension or one per dimension. */
static int spread_ints(const char *name, const struct cli_ints *list, int dims, int min,
                       int out[CLPOOL_MAX_SPATIAL_DIMS])
{
    if (list->count == 0)
        return CLI_EXIT_OK;
    if (list->count != 1 && list->count != dims)
        return cli_fail(CLI_EXIT_INPUT,
                        "--%s has %d values, but the input has %d spatial dimensions: give 1 "
                        "value or %d",
                        name, list->count, dims, dims);
    for (int i = 0; i < dims; i++) {
        out[i] = list->values[list->count == 1 ? 0 : i];
        if (out[i] < min)
            return cli_fail(CLI_EXIT_INPUT, "--%s: every value must be at least %d (got %d)", name,
                            min, out[i]);
    }
    return CLI_EXIT_OK;
}

static int load(const char *option, const char *path, npy_array *a)
{
    char err[NPY_ERROR_SIZE];
    npy_status st = npy_read(path, a, err, sizeof err);
    if (st == NPY_OK)
        return CLI_EXIT_OK;
    return cli_fail(st == NPY_ERROR_MEMORY ? CLI_EXIT_DEVICE : CLI_EXIT_INPUT, "--%s '%s': %s",
                    option, path, err);
}

/* The input's shape as its file holds it (layout order). */
static int input_shape(const clpool_tensor_desc *in, size_t shape[5])
{
    int nhwc = in->layout == CLPOOL_NHWC;
    shape[0] = in->n;
    shape[nhwc ? 1 + in->spatial_dims : 1] = in->c;
    for (int i = 0; i < in->spatial_dims; i++)
        shape[nhwc ? 1 + i : 2 + i] = in->spatial[i];
    return 2 + in->spatial_dims;
}

static int prepare_unpool(const struct cli_args *args, const clpool_tensor_desc *in,
                          struct cli_unpool_extra *x)
{
    const struct cli_options *o = &args->opt;
    int dims = in->spatial_dims;
    clpool_unpool_desc *u = &x->unpool;
    u->indices = CLPOOL_INDICES_INT64;
    int sizes[CLPOOL_MAX_SPATIAL_DIMS] = {0, 0, 0};
    int rc = spread_ints("kernel", &o->kernel, dims, 1, u->kernel);
    if (rc == CLI_EXIT_OK)
        rc = spread_ints("stride", &o->stride, dims, 1, u->stride);
    if (rc == CLI_EXIT_OK)
        rc = spread_ints("padding", &o->padding, dims, 0, u->padding);
    if (rc == CLI_EXIT_OK)
        rc = spread_ints("output-size", &o->output_size, dims, 1, sizes);
    if (rc != CLI_EXIT_OK)
        return rc;
    for (int i = 0; i < dims; i++)
        u->output_size[i] = (size_t)sizes[i];
    rc = load("indices-in", o->indices_in, &x->indices_in);
    if (rc != CLI_EXIT_OK)
        return rc;
    const npy_array *a = &x->indices_in;
    size_t shape[5];
    int rank = input_shape(in, shape);
    char want[NPY_ERROR_SIZE], got[NPY_ERROR_SIZE];
    npy_format_shape(shape, rank, want, sizeof want);
    npy_format_shape(a->shape, a->rank, got, sizeof got);
    if (a->dtype != NPY_INT64)
        return cli_fail(CLI_EXIT_INPUT, "--indices-in '%s': dtype %s, but indices files are int64",
                        o->indices_in, npy_dtype_name(a->dtype));
    if (a->rank != rank || memcmp(a->shape, shape, (size_t)rank * sizeof shape[0]) != 0)
        return cli_fail(CLI_EXIT_INPUT,
                        "--indices-in '%s': shape %s, but max-unpool needs one index per input "
                        "element, shape %s",
                        o->indices_in, got, want);
    return CLI_EXIT_OK;
}

/* --samples: (N, C, dims) in [0, 1), converted exactly to the computation
 * type (double for a float64 input, else float). */
static int load_samples(const struct cli_args *args, const clpool_tensor_desc *in,
                        struct cli_unpool_extra *x)
{
    const char *path = args->opt.samples;
    int rc = load("samples", path, &x->samples);
    if (rc != CLI_EXIT_OK)
        return rc;
    const npy_array *a = &x->samples;
    int dims = in->spatial_dims, f64 = in->dtype == CLPOOL_FLOAT64;
    size_t want_shape[3] = {in->n, in->c, (size_t)dims};
    char want[NPY_ERROR_SIZE], got[NPY_ERROR_SIZE];
    npy_format_shape(want_shape, 3, want, sizeof want);
    npy_format_shape(a->shape, a->rank, got, sizeof got);
    if (a->rank != 3 || memcmp(a->shape, want_shape, sizeof want_shape) != 0)
        return cli_fail(CLI_EXIT_INPUT, "--samples '%s': shape %s, but the input needs %s", path,
                        got, want);
    if (a->dtype != NPY_FLOAT32 && a->dtype != NPY_FLOAT16 && !(a->dtype == NPY_FLOAT64 && f64))
        return cli_fail(CLI_EXIT_INPUT,
                        "--samples '%s': dtype %s, but the samples of a %s input are %s (as "
                        "PyTorch's _random_samples, which have the input's dtype)",
                        path, npy_dtype_name(a->dtype), f64 ? "float64" : "non-float64",
                        f64 ? "float64 (or float32/float16)" : "float32 (or float16)");
    x->samples_t = malloc(a->count ? a->count * (f64 ? 8 : 4) : 1);
    if (!x->samples_t)
        return cli_fail(CLI_EXIT_DEVICE, "out of host memory for the samples");
    for (size_t i = 0; i < a->count; i++) {
        double v;
        if (a->dtype == NPY_FLOAT64) {
            v = ((const double *)a->data)[i];
        } else if (a->dtype == NPY_FLOAT32) {
            v = ((const float *)a->data)[i];
        } else { /* IEEE half, exact in float */
            uint16_t h = ((const uint16_t *)a->data)[i];
            int e = (h >> 10) & 0x1f, m = h & 0x3ff;
            v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
            v = (h & 0x8000) ? -v : v;
        }
        if (!(v >= 0 && v < 1))
            return cli_fail(CLI_EXIT_INPUT,
                            "--samples '%s': element %zu is %g, but samples must be in [0, 1)",
                            path, i, v);
        if (f64)
            ((double *)x->samples_t)[i] = v;
        else
            ((float *)x->samples_t)[i] = (float)v;
    }
    return CLI_EXIT_OK;
}

static int prepare_fractional(const struct cli_args *args, const clpool_tensor_desc *in,
                              struct cli_unpool_extra *x)
{
    const struct cli_options *o = &args->opt;
    int dims = in->spatial_dims;
    clpool_fractional_desc *f = &x->fractional;
    if (dims != 2 && dims != 3)
        return cli_fail(CLI_EXIT_INPUT,
                        "fractional-max pools 2-D and 3-D inputs (rank 4 or 5), but the input has "
                        "%d spatial dimension%s",
                        dims, dims == 1 ? "" : "s");
    int rc = spread_ints("kernel", &o->kernel, dims, 1, f->kernel);
    if (rc == CLI_EXIT_OK)
        rc = spread_ints("output-size", &o->output_size, dims, 1, f->output_size);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (cli_given(o, CLI_OPT_OUTPUT_RATIO)) {
        const struct cli_reals *r = &o->output_ratio;
        if (r->count != 1 && r->count != dims)
            return cli_fail(CLI_EXIT_INPUT,
                            "--output-ratio has %d values, but the input has %d spatial "
                            "dimensions: give 1 value or %d",
                            r->count, dims, dims);
        for (int i = 0; i < dims; i++) {
            f->output_ratio[i] = r->values[r->count == 1 ? 0 : i];
            if (!(f->output_ratio[i] > 0 && f->output_ratio[i] < 1))
                return cli_fail(CLI_EXIT_INPUT,
                                "--output-ratio: every ratio must be between 0 and 1, exclusive "
                                "(got %g)",
                                f->output_ratio[i]);
        }
    }
    f->seed = o->seed;
    x->wants_indices = o->indices != NULL;
    f->indices = x->wants_indices ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE;
    if (o->samples) {
        f->samples_given = 1;
        return load_samples(args, in, x);
    }
    return CLI_EXIT_OK;
}

int cli_unpool_prepare(const struct cli_args *args, const clpool_tensor_desc *in,
                       struct cli_unpool_extra *x)
{
    memset(x, 0, sizeof *x);
    if (args->op == CLI_OP_MAX_UNPOOL)
        return prepare_unpool(args, in, x);
    return prepare_fractional(args, in, x);
}

clpool_status cli_unpool_plan(const struct cli_args *args, const struct cli_unpool_extra *x,
                              clpool_context *ctx, const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (args->op == CLI_OP_MAX_UNPOOL)
        return clpool_plan_unpool(ctx, &x->unpool, in, plan);
    return clpool_plan_fractional(ctx, &x->fractional, in, plan);
}

void cli_unpool_host_io(const struct cli_unpool_extra *x, clpool_host_io *io)
{
    if (x->indices_in.data)
        io->indices = x->indices_in.data;
    io->samples = x->samples_t;
}

void cli_unpool_release(struct cli_unpool_extra *x)
{
    npy_release(&x->indices_in);
    npy_release(&x->samples);
    free(x->samples_t);
    x->samples_t = NULL;
}
