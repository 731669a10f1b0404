/*
 * "clpool run OP": the input file becomes a clpool_tensor_desc, the options a
 * clpool_window_desc (or, for fractional-max and max-unpool, the descriptor
 * and extra files of run_unpool.c; for roi-max and roi-align a
 * clpool_roi_desc with the --rois boxes, see roi.c); a context, a plan and
 * clpool_run_host_io() compute the result, which is written atomically
 * (with the indices, when asked). The
 * library's sentences reach the user through a log callback that keeps the
 * last error, so each failure still prints one line.
 */
#include "run.h"
#include "run_state.h"

#include "npy.h"
#include "outfile.h"
#include "report.h"
#include "roi.h"
#include "run_adaptive.h"
#include "run_unpool.h"

#include <clpool.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the library's messages -------------------------------------------- */

/* Errors are kept for the one failure line (the library must not print them
 * itself); warnings and chatter are printed only when $CLPOOL_LOG asks, as
 * the library's own sink would. When it asks, an error that a later one
 * replaces (such as a kernel build log before "failed to build") is printed
 * too instead of being lost. */
void cli_record_log(void *user, clpool_log_level level, const char *message)
{
    struct log_record *log = user;
    if (level == CLPOOL_LOG_ERROR) {
        if (log->error[0] && log->verbosity >= CLPOOL_LOG_WARNING)
            fprintf(stderr, "clpool: %s\n", log->error);
        snprintf(log->error, sizeof log->error, "%s", message);
    } else if ((int)level <= log->verbosity) {
        fprintf(stderr, "clpool: %s\n", message);
    }
}

int cli_verbosity_from_env(void)
{
    const char *env = getenv("CLPOOL_LOG");
    if (!env)
        return -1;
    if (strcmp(env, "warning") == 0)
        return CLPOOL_LOG_WARNING;
    if (strcmp(env, "info") == 0)
        return CLPOOL_LOG_INFO;
    if (strcmp(env, "debug") == 0)
        return CLPOOL_LOG_DEBUG;
    return -1;
}

/* Called before each library call, so a sentence belongs to the call that
 * failed. */
void cli_forget_log(struct run_state *s)
{
    s->log.error[0] = '\0';
}

/* The one line of a failed library call: its own sentence, else @p what. */
int cli_library_failure(struct run_state *s, clpool_status status, const char *what)
{
    int code = cli_exit_code(status);
    if (s->log.error[0])
        return cli_fail(code, "%s", s->log.error);
    return cli_fail(code, "%s: %s", what, clpool_status_string(status));
}

/* ---- input -------------------------------------------------------------- */

int cli_load_input(struct run_state *s)
{
    char err[NPY_ERROR_SIZE];
    const char *path = s->args->paths[0];
    npy_status status = npy_read(path, &s->input, err, sizeof err);
    if (status == NPY_OK)
        return CLI_EXIT_OK;
    return cli_fail(status == NPY_ERROR_MEMORY ? CLI_EXIT_DEVICE : CLI_EXIT_INPUT, "'%s': %s", path,
                    err);
}

/* The input's dtype as the user means it: --dtype bfloat16 reads uint16 bits. */
const char *cli_input_dtype_name(const struct run_state *s)
{
    if (cli_given(&s->args->opt, CLI_OPT_DTYPE) && s->input.dtype == NPY_UINT16)
        return "bfloat16";
    return npy_dtype_name(s->input.dtype);
}

static int dtype_of(const struct run_state *s, clpool_dtype *dtype)
{
    const char *path = s->args->paths[0];
    if (cli_given(&s->args->opt, CLI_OPT_DTYPE)) {
        /* CLI_DTYPE_BFLOAT16, the only value of --dtype. */
        if (s->input.dtype != NPY_UINT16)
            return cli_fail(CLI_EXIT_INPUT,
                            "'%s': --dtype bfloat16 reads uint16 .npy files holding bfloat16 "
                            "bits, but this file holds %s (drop --dtype to pool it as %s)",
                            path, npy_dtype_name(s->input.dtype), npy_dtype_name(s->input.dtype));
        *dtype = CLPOOL_BFLOAT16;
        return CLI_EXIT_OK;
    }
    switch (s->input.dtype) {
    case NPY_FLOAT32:
        *dtype = CLPOOL_FLOAT32;
        return CLI_EXIT_OK;
    case NPY_FLOAT64:
        *dtype = CLPOOL_FLOAT64;
        return CLI_EXIT_OK;
    case NPY_FLOAT16:
        *dtype = CLPOOL_FLOAT16;
        return CLI_EXIT_OK;
    case NPY_UINT8:
        *dtype = CLPOOL_UINT8;
        return CLI_EXIT_OK;
    case NPY_INT8:
        *dtype = CLPOOL_INT8;
        return CLI_EXIT_OK;
    case NPY_INT64:
        return cli_fail(CLI_EXIT_INPUT,
                        "'%s': dtype int64 is not a pooling dtype (float32, float64, float16, "
                        "uint8 and int8 are; int64 files hold indices)",
                        path);
    case NPY_UINT16:
        return cli_fail(CLI_EXIT_INPUT,
                        "'%s': dtype uint16 is not a pooling dtype (float32, float64, float16, "
                        "uint8 and int8 are); if it holds bfloat16 bits, add --dtype bfloat16",
                        path);
    }
    return cli_fail(CLI_EXIT_INPUT, "'%s': dtype %s is not supported", path,
                    npy_dtype_name(s->input.dtype));
}

/* (N, C, *S) or, with --layout nhwc, (N, *S, C). */
int cli_describe_input(struct run_state *s)
{
    const npy_array *a = &s->input;
    int nhwc = s->args->opt.layout == CLI_LAYOUT_NHWC;
    clpool_tensor_desc *d = &s->input_desc;
    if (a->rank < 3 || a->rank > 2 + CLPOOL_MAX_SPATIAL_DIMS) {
        char shape[NPY_ERROR_SIZE];
        npy_format_shape(a->shape, a->rank, shape, sizeof shape);
        return cli_fail(CLI_EXIT_INPUT,
                        "'%s': shape %s has rank %d, but OP '%s' pools arrays of rank 3 to 5: %s",
                        s->args->paths[0], shape, a->rank, cli_op_name(s->args->op),
                        nhwc ? "(N, L, C), (N, H, W, C) or (N, D, H, W, C)"
                             : "(N, C, L), (N, C, H, W) or (N, C, D, H, W)");
    }
    int rc = dtype_of(s, &d->dtype);
    if (rc != CLI_EXIT_OK)
        return rc;
    d->layout = nhwc ? CLPOOL_NHWC : CLPOOL_NCHW;
    d->spatial_dims = a->rank - 2;
    d->n = a->shape[0];
    d->c = nhwc ? a->shape[a->rank - 1] : a->shape[1];
    for (int i = 0; i < d->spatial_dims; i++)
        d->spatial[i] = a->shape[nhwc ? 1 + i : 2 + i];
    return CLI_EXIT_OK;
}

/* ---- the operator ------------------------------------------------------- */

static void format_ints(const struct cli_ints *list, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < list->count && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%d", i ? "," : "", list->values[i]);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

/*
 * Spreads --NAME over the spatial dimensions: one value for all, or one per
 * dimension. A zero in the struct means "default", so a 0 the user typed for
 * a value that must be positive is refused here rather than silently
 * becoming the default.
 */
static int spread(const char *name, const struct cli_ints *list, int dims, int positive,
                  int out[CLPOOL_MAX_SPATIAL_DIMS])
{
    char text[64];
    format_ints(list, text, sizeof text);
    if (list->count == 0)
        return CLI_EXIT_OK;
    if (list->count != 1 && list->count != dims)
        return cli_fail(
            CLI_EXIT_INPUT,
            "--%s %s has %d values, but the input has %d spatial dimension%s: give 1 value or %d",
            name, text, list->count, dims, dims == 1 ? "" : "s", dims);
    for (int i = 0; i < dims; i++) {
        out[i] = list->values[list->count == 1 ? 0 : i];
        if (positive && out[i] == 0)
            return cli_fail(CLI_EXIT_INPUT, "--%s %s: every %s must be at least 1", name, text,
                            name);
    }
    return CLI_EXIT_OK;
}

clpool_op cli_library_op(enum cli_op op)
{
    switch (op) {
    case CLI_OP_MAX:
        return CLPOOL_OP_MAX;
    case CLI_OP_AVG:
        return CLPOOL_OP_AVG;
    case CLI_OP_LP:
        return CLPOOL_OP_LP;
    case CLI_OP_GEM:
        return CLPOOL_OP_GEM;
    case CLI_OP_MIXED:
        return CLPOOL_OP_MIXED;
    case CLI_OP_SOFTMAX:
        return CLPOOL_OP_SOFTMAX;
    case CLI_OP_STOCHASTIC:
        return CLPOOL_OP_STOCHASTIC;
    default:
        return (clpool_op)0; /* not a window OP; cli_run() refused it */
    }
}

/*
 * The ranges clpool.h gives for --p, --alpha and --beta, checked here so
 * that the message names the option as typed (the library checks them too,
 * in its own words). The parser let through only the options the OP takes.
 */
static int check_reals(const struct cli_options *o)
{
    if (cli_given(o, CLI_OPT_P) && (!isfinite(o->p) || o->p == 0))
        return cli_fail(CLI_EXIT_INPUT, "--p %g: the exponent must be finite and non-zero%s", o->p,
                        o->p == INFINITY ? " (for the maximum use OP 'max')" : "");
    if (cli_given(o, CLI_OPT_ALPHA) && !(o->alpha >= 0 && o->alpha <= 1))
        return cli_fail(CLI_EXIT_INPUT, "--alpha %g: the weight of max must be between 0 and 1",
                        o->alpha);
    if (cli_given(o, CLI_OPT_BETA) && !isfinite(o->beta))
        return cli_fail(CLI_EXIT_INPUT, "--beta %g: the softmax temperature must be finite",
                        o->beta);
    return CLI_EXIT_OK;
}

int cli_describe_window(struct run_state *s)
{
    const struct cli_options *o = &s->args->opt;
    clpool_window_desc *w = &s->window;
    int dims = s->input_desc.spatial_dims;
    w->op = cli_library_op(s->args->op);
    int rc = spread("kernel", &o->kernel, dims, 1, w->kernel);
    if (rc == CLI_EXIT_OK)
        rc = spread("stride", &o->stride, dims, 1, w->stride);
    if (rc == CLI_EXIT_OK)
        rc = spread("padding", &o->padding, dims, 0, w->padding);
    if (rc == CLI_EXIT_OK)
        rc = spread("dilation", &o->dilation, dims, 1, w->dilation);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (cli_given(o, CLI_OPT_DIVISOR) && o->divisor == 0)
        return cli_fail(CLI_EXIT_INPUT, "--divisor 0: the divisor must not be zero");
    rc = check_reals(o);
    if (rc != CLI_EXIT_OK)
        return rc;
    w->ceil_mode = o->ceil_mode;
    if (w->op == CLPOOL_OP_AVG || w->op == CLPOOL_OP_MIXED)
        w->exclude_padding = !o->count_include_pad;
    if (w->op == CLPOOL_OP_AVG)
        w->divisor_override = o->divisor;
    w->p = o->p;
    w->alpha = o->alpha;
    w->beta = o->beta;
    w->train = o->train;
    w->seed = o->seed;
    w->indices = o->indices ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE;
    return CLI_EXIT_OK;
}

static int describe_op(struct run_state *s)
{
    s->want_indices = s->args->opt.indices != NULL;
    if (cli_is_adaptive_op(s->args->op))
        return cli_adaptive_describe(s->args, &s->input_desc, &s->adaptive);
    if (cli_is_roi_op(s->args->op))
        return cli_roi_describe(s->args, &s->input_desc, &s->rois, &s->roi);
    return cli_describe_window(s);
}

/* ---- the device --------------------------------------------------------- */

static int plan_on_device(struct run_state *s)
{
    clpool_context_options options;
    memset(&options, 0, sizeof options);
    options.device = s->args->opt.device;
    options.log = cli_record_log;
    options.log_user = &s->log;
    cli_forget_log(s);
    clpool_status status = clpool_context_create(&options, &s->context);
    if (status != CLPOOL_SUCCESS)
        return cli_library_failure(s, status, "opening the OpenCL device failed");
    cli_forget_log(s);
    if (cli_is_adaptive_op(s->args->op))
        status = cli_adaptive_plan(s->context, &s->adaptive, &s->input_desc, &s->plan);
    else if (cli_is_roi_op(s->args->op))
        status = clpool_plan_roi(s->context, &s->roi, &s->input_desc, &s->plan);
    else if (cli_unpool_is_op(s->args->op))
        status = cli_unpool_plan(s->args, &s->unpool, s->context, &s->input_desc, &s->plan);
    else
        status = clpool_plan_window(s->context, &s->window, &s->input_desc, &s->plan);
    if (status == CLPOOL_SUCCESS)
        status = clpool_plan_output_desc(s->plan, &s->output_desc);
    if (status == CLPOOL_ERROR_UNSUPPORTED && !s->log.error[0])
        return cli_fail(CLI_EXIT_INPUT, "OP '%s' on dtype %s in layout %s is not supported yet",
                        cli_op_name(s->args->op), cli_input_dtype_name(s),
                        s->args->opt.layout == CLI_LAYOUT_NHWC ? "nhwc" : "nchw");
    if (status != CLPOOL_SUCCESS)
        return cli_library_failure(s, status, "planning the pooling failed");
    return CLI_EXIT_OK;
}

/* n * c * prod(spatial) of the output, refusing size_t overflow. */
static int count_output(struct run_state *s, size_t element_size, size_t *bytes)
{
    const clpool_tensor_desc *d = &s->output_desc;
    size_t count = d->n;
    size_t dims[2 + CLPOOL_MAX_SPATIAL_DIMS] = {d->c, d->spatial[0], d->spatial[1], d->spatial[2]};
    for (int i = 0; i < 1 + d->spatial_dims; i++) {
        if (dims[i] != 0 && count > SIZE_MAX / dims[i])
            return cli_fail(CLI_EXIT_DEVICE, "the output is larger than host memory can address");
        count *= dims[i];
    }
    /* The indices take 8 bytes per element, the output at most that. */
    if (count > SIZE_MAX / sizeof(int64_t) || element_size > sizeof(int64_t))
        return cli_fail(CLI_EXIT_DEVICE, "the output is larger than host memory can address");
    s->output_count = count;
    *bytes = count * element_size;
    return CLI_EXIT_OK;
}

static int compute(struct run_state *s)
{
    size_t bytes = 0;
    int rc = count_output(s, clpool_dtype_size(s->output_desc.dtype), &bytes);
    if (rc != CLI_EXIT_OK)
        return rc;
    s->output = malloc(bytes ? bytes : 1);
    int wants_indices = s->want_indices || s->unpool.wants_indices;
    if (wants_indices)
        s->indices = malloc(s->output_count ? s->output_count * sizeof *s->indices : 1);
    if (!s->output || (wants_indices && !s->indices))
        return cli_fail(CLI_EXIT_DEVICE, "out of host memory for the %zu-byte output", bytes);
    /* An empty batch has nothing to compute (and no buffer to create). */
    if (s->output_count == 0)
        return CLI_EXIT_OK;
    cli_forget_log(s);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = s->input.data;
    io.output = s->output;
    io.indices = s->indices;
    io.rois = s->rois.data;
    cli_unpool_host_io(&s->unpool, &io);
    clpool_status status = clpool_run_host_io(s->plan, NULL, &io);
    if (status != CLPOOL_SUCCESS)
        return cli_library_failure(s, status, "running the pooling failed");
    return CLI_EXIT_OK;
}

/* ---- output ------------------------------------------------------------- */

int cli_npy_dtype_of(clpool_dtype dtype, npy_dtype *out)
{
    switch (dtype) {
    case CLPOOL_FLOAT32:
        *out = NPY_FLOAT32;
        return 1;
    case CLPOOL_FLOAT64:
        *out = NPY_FLOAT64;
        return 1;
    case CLPOOL_FLOAT16:
        *out = NPY_FLOAT16;
        return 1;
    case CLPOOL_BFLOAT16:
        *out = NPY_UINT16;
        return 1;
    case CLPOOL_UINT8:
        *out = NPY_UINT8;
        return 1;
    case CLPOOL_INT8:
        *out = NPY_INT8;
        return 1;
    case CLPOOL_INT64:
        *out = NPY_INT64;
        return 1;
    case CLPOOL_INT32:
        break;
    }
    return 0;
}

/* The output shape in the input's layout; returns the rank. */
int cli_output_shape(const clpool_tensor_desc *d, size_t shape[2 + CLPOOL_MAX_SPATIAL_DIMS])
{
    int nhwc = d->layout == CLPOOL_NHWC;
    shape[0] = d->n;
    shape[nhwc ? 1 + d->spatial_dims : 1] = d->c;
    for (int i = 0; i < d->spatial_dims; i++)
        shape[nhwc ? 1 + i : 2 + i] = d->spatial[i];
    return 2 + d->spatial_dims;
}

/* Writes one array into a finished (flushed, closed) temporary file. */
int cli_write_temp(struct cli_outfile *file, const char *path, npy_dtype dtype,
                   const clpool_tensor_desc *desc, const void *data)
{
    char err[NPY_ERROR_SIZE + 64];
    size_t shape[2 + CLPOOL_MAX_SPATIAL_DIMS];
    int rank = cli_output_shape(desc, shape);
    if (cli_outfile_open(file, path, err, sizeof err) != 0)
        return cli_fail(CLI_EXIT_INPUT, "%s", err);
    if (npy_write(file->fd, dtype, rank, shape, data, err, sizeof err) != NPY_OK)
        return cli_fail(CLI_EXIT_INPUT, "'%s': %s", path, err);
    if (cli_outfile_finish(file, err, sizeof err) != 0)
        return cli_fail(CLI_EXIT_INPUT, "%s", err);
    return CLI_EXIT_OK;
}

/* Both files are complete on disk before either is renamed into place, so
 * a failure while writing leaves neither target touched. */
static int save_outputs(struct run_state *s)
{
    struct cli_outfile output = CLI_OUTFILE_INIT, indices = CLI_OUTFILE_INIT;
    char err[NPY_ERROR_SIZE + 64];
    npy_dtype dtype;
    int rc = CLI_EXIT_OK;
    if (!cli_npy_dtype_of(s->output_desc.dtype, &dtype)) {
        rc = cli_fail(CLI_EXIT_INPUT, "the library returned an output dtype (%d) .npy cannot hold",
                      (int)s->output_desc.dtype);
        goto done;
    }
    /* spp's (N, C*sum(n^2), 1) is written as (N, C*sum(n^2)) */
    clpool_tensor_desc desc = s->output_desc;
    if (s->args->op == CLI_OP_SPP)
        desc.spatial_dims = 0;
    rc = cli_write_temp(&output, s->args->paths[1], dtype, &desc, s->output);
    if (rc == CLI_EXIT_OK && s->indices)
        rc = cli_write_temp(&indices, s->args->opt.indices, NPY_INT64, &desc, s->indices);
    if (rc != CLI_EXIT_OK)
        goto done;
    if (cli_outfile_publish(&output, err, sizeof err) != 0 ||
        (s->indices && cli_outfile_publish(&indices, err, sizeof err) != 0))
        rc = cli_fail(CLI_EXIT_INPUT, "%s", err);
done:
    cli_outfile_discard(&output);
    cli_outfile_discard(&indices);
    return rc;
}

/* ---- commands ----------------------------------------------------------- */

static int op_supported(enum cli_op op)
{
    return cli_library_op(op) != (clpool_op)0 || cli_is_roi_op(op) || cli_is_adaptive_op(op);
}

int cli_run(const struct cli_args *args)
{
    if (!op_supported(args->op) && !cli_unpool_is_op(args->op))
        return cli_fail(CLI_EXIT_INPUT, "OP '%s' is not supported yet", cli_op_name(args->op));
    struct run_state s;
    memset(&s, 0, sizeof s);
    s.args = args;
    s.log.verbosity = cli_verbosity_from_env();
    int rc = cli_load_input(&s);
    if (rc == CLI_EXIT_OK)
        rc = cli_describe_input(&s);
    if (rc == CLI_EXIT_OK && cli_unpool_is_op(args->op))
        rc = cli_unpool_prepare(args, &s.input_desc, &s.unpool);
    else if (rc == CLI_EXIT_OK)
        rc = describe_op(&s);
    if (rc == CLI_EXIT_OK)
        rc = plan_on_device(&s);
    if (rc == CLI_EXIT_OK)
        rc = compute(&s);
    if (rc == CLI_EXIT_OK)
        rc = save_outputs(&s);
    free(s.indices);
    free(s.output);
    cli_unpool_release(&s.unpool);
    clpool_plan_destroy(s.plan);
    clpool_context_destroy(s.context);
    npy_release(&s.rois);
    npy_release(&s.input);
    return rc;
}
