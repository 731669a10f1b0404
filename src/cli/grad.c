/*
 * "clpool grad OP": the gradient of OP with respect to its input. INPUT and
 * the options describe the forward pass as for "clpool run"; GRAD_OUTPUT
 * holds the gradient of its output (the forward output's shape, the input's
 * dtype and layout) and --indices-in, for the OPs that select an element,
 * the forward's indices (int64, the output's shape; max-unpool: its
 * indices, the input's shape). The library plans the gradient
 * (clpool_plan_window_backward, clpool_plan_unpool_backward,
 * clpool_plan_adaptive_backward, clpool_plan_spp_backward,
 * clpool_plan_fractional_backward) and
 * GRAD_INPUT, in the input's shape, dtype and layout, is written atomically.
 */
#include "report.h"
#include "run.h"
#include "run_state.h"

#include <clpool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct grad_files {
    npy_array grad_output;
    npy_array indices;
    void *grad_input;
};

static int read_npy(const char *path, npy_array *a)
{
    char err[NPY_ERROR_SIZE];
    npy_status status = npy_read(path, a, err, sizeof err);
    if (status == NPY_OK)
        return CLI_EXIT_OK;
    return cli_fail(status == NPY_ERROR_MEMORY ? CLI_EXIT_DEVICE : CLI_EXIT_INPUT, "'%s': %s", path,
                    err);
}

/* @p a must hold @p dtype in the shape of @p want (in its layout). */
static int check_array(const char *path, const char *what, const npy_array *a, npy_dtype dtype,
                       const char *dtype_name, const clpool_tensor_desc *want_desc, enum cli_op op)
{
    size_t shape[2 + CLPOOL_MAX_SPATIAL_DIMS];
    /* spp's (N, C*sum(n^2), 1) is written (and read) as (N, C*sum(n^2)) */
    clpool_tensor_desc want = *want_desc;
    if (op == CLI_OP_SPP)
        want.spatial_dims = 0;
    int rank = cli_output_shape(&want, shape);
    char got_text[NPY_ERROR_SIZE], want_text[NPY_ERROR_SIZE];
    npy_format_shape(a->shape, a->rank, got_text, sizeof got_text);
    npy_format_shape(shape, rank, want_text, sizeof want_text);
    if (a->dtype != dtype)
        return cli_fail(CLI_EXIT_INPUT, "'%s': %s must hold %s (as INPUT), but it holds %s", path,
                        what, dtype_name, npy_dtype_name(a->dtype));
    int same = a->rank == rank;
    for (int i = 0; same && i < rank; i++)
        same = a->shape[i] == shape[i];
    if (!same)
        return cli_fail(CLI_EXIT_INPUT,
                        "'%s': %s has shape %s, but the forward pass of these options gives %s",
                        path, what, got_text, want_text);
    return CLI_EXIT_OK;
}

static int plan_gradient(struct run_state *s)
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
    if (s->args->op == CLI_OP_MAX_UNPOOL)
        status =
            clpool_plan_unpool_backward(s->context, &s->unpool.unpool, &s->input_desc, &s->plan);
    else if (s->args->op == CLI_OP_FRACTIONAL_MAX)
        status = clpool_plan_fractional_backward(s->context, &s->unpool.fractional, &s->input_desc,
                                                 &s->plan);
    else if (cli_is_adaptive_op(s->args->op))
        status = cli_adaptive_plan_backward(s->context, &s->adaptive, &s->input_desc, &s->plan);
    else
        status = clpool_plan_window_backward(s->context, &s->window, &s->input_desc, &s->plan);
    if (status == CLPOOL_SUCCESS)
        status = clpool_plan_output_desc(s->plan, &s->output_desc);
    if (status == CLPOOL_ERROR_UNSUPPORTED && !s->log.error[0])
        return cli_fail(CLI_EXIT_INPUT,
                        "the gradient of OP '%s' on dtype %s in layout %s is not supported",
                        cli_op_name(s->args->op), cli_input_dtype_name(s),
                        s->args->opt.layout == CLI_LAYOUT_NHWC ? "nhwc" : "nchw");
    if (status != CLPOOL_SUCCESS)
        return cli_library_failure(s, status, "planning the gradient failed");
    return CLI_EXIT_OK;
}

static int load_gradient_inputs(struct run_state *s, struct grad_files *f)
{
    const struct cli_args *args = s->args;
    npy_dtype dtype;
    if (!cli_npy_dtype_of(s->input_desc.dtype, &dtype))
        return cli_fail(CLI_EXIT_INPUT, "'%s': dtype %s has no gradient", args->paths[0],
                        cli_input_dtype_name(s));
    int rc = read_npy(args->paths[1], &f->grad_output);
    if (rc == CLI_EXIT_OK)
        rc = check_array(args->paths[1], "GRAD_OUTPUT", &f->grad_output, dtype,
                         cli_input_dtype_name(s), &s->output_desc, args->op);
    /* max-unpool's indices (the input's shape) were read by cli_unpool_prepare */
    if (rc == CLI_EXIT_OK && args->opt.indices_in && args->op != CLI_OP_MAX_UNPOOL) {
        rc = read_npy(args->opt.indices_in, &f->indices);
        if (rc == CLI_EXIT_OK)
            rc = check_array(args->opt.indices_in, "--indices-in", &f->indices, NPY_INT64, "int64",
                             &s->output_desc, args->op);
    }
    return rc;
}

static int compute_and_save(struct run_state *s, struct grad_files *f)
{
    const char *path = s->args->paths[2];
    size_t bytes = s->input.nbytes;
    f->grad_input = malloc(bytes ? bytes : 1);
    if (!f->grad_input)
        return cli_fail(CLI_EXIT_DEVICE, "out of host memory for the %zu-byte gradient", bytes);
    if (s->input.count > 0) {
        clpool_host_io io;
        memset(&io, 0, sizeof io);
        io.input = s->input.data;
        io.grad_output = f->grad_output.data;
        io.indices = f->indices.data;
        cli_unpool_host_io(&s->unpool, &io); /* max-unpool's indices, fractional-max's samples */
        io.grad_input = f->grad_input;
        cli_forget_log(s);
        clpool_status status = clpool_run_host_io(s->plan, NULL, &io);
        if (status != CLPOOL_SUCCESS)
            return cli_library_failure(s, status, "running the gradient failed");
    }
    npy_dtype dtype;
    cli_npy_dtype_of(s->input_desc.dtype, &dtype);
    struct cli_outfile out = CLI_OUTFILE_INIT;
    char err[NPY_ERROR_SIZE + 64];
    int rc = cli_write_temp(&out, path, dtype, &s->input_desc, f->grad_input);
    if (rc == CLI_EXIT_OK && cli_outfile_publish(&out, err, sizeof err) != 0)
        rc = cli_fail(CLI_EXIT_INPUT, "%s", err);
    cli_outfile_discard(&out);
    return rc;
}

/* The forward's descriptor from the options (and max-unpool's indices). */
static int describe_forward(struct run_state *s)
{
    const struct cli_args *args = s->args;
    if (cli_unpool_is_op(args->op)) {
        int rc = cli_unpool_prepare(args, &s->input_desc, &s->unpool);
        /* fractional-max: the forward's indices are read, never written */
        s->unpool.fractional.indices =
            args->opt.indices_in ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE;
        return rc;
    }
    if (cli_is_adaptive_op(args->op)) {
        int rc = cli_adaptive_describe(args, &s->input_desc, &s->adaptive);
        clpool_index_type it = args->opt.indices_in ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE;
        if (rc == CLI_EXIT_OK && it != CLPOOL_INDICES_NONE && s->adaptive.spp &&
            s->adaptive.pyramid.op != CLPOOL_OP_MAX)
            return cli_fail(CLI_EXIT_USAGE, "--indices-in goes with --spp-mode max only (an "
                                            "average selects no element)");
        s->adaptive.adaptive.indices = it;
        s->adaptive.pyramid.indices = it;
        return rc;
    }
    int rc = cli_describe_window(s);
    /* the forward's indices are read, never written, by grad */
    s->window.indices = args->opt.indices_in ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE;
    return rc;
}

int cli_grad(const struct cli_args *args)
{
    if (!cli_library_op(args->op) && !cli_unpool_is_op(args->op) && !cli_is_adaptive_op(args->op))
        return cli_fail(CLI_EXIT_INPUT, "the gradient of OP '%s' is not supported yet",
                        cli_op_name(args->op));
    struct run_state s;
    struct grad_files f;
    memset(&s, 0, sizeof s);
    memset(&f, 0, sizeof f);
    s.args = args;
    s.log.verbosity = cli_verbosity_from_env();
    int rc = cli_load_input(&s);
    if (rc == CLI_EXIT_OK)
        rc = cli_describe_input(&s);
    if (rc == CLI_EXIT_OK)
        rc = describe_forward(&s);
    if (rc == CLI_EXIT_OK)
        rc = plan_gradient(&s);
    if (rc == CLI_EXIT_OK)
        rc = load_gradient_inputs(&s, &f);
    if (rc == CLI_EXIT_OK)
        rc = compute_and_save(&s, &f);
    free(f.grad_input);
    npy_release(&f.grad_output);
    npy_release(&f.indices);
    cli_unpool_release(&s.unpool);
    clpool_plan_destroy(s.plan);
    clpool_context_destroy(s.context);
    npy_release(&s.input);
    return rc;
}
