/*
 * The adaptive OPs of "clpool run" (see run_adaptive.h): global-max and
 * global-avg are adaptive pooling to 1 along every dimension; adaptive-max
 * and adaptive-avg take --output-size (one value for every dimension or one
 * each); spp takes --levels and --spp-mode. --indices (int64) goes with the
 * max OPs and with spp in max mode.
 */
#include "run_adaptive.h"

#include "report.h"

#include <stdio.h>
#include <string.h>

int cli_is_adaptive_op(enum cli_op op)
{
    return op == CLI_OP_GLOBAL_MAX || op == CLI_OP_GLOBAL_AVG || op == CLI_OP_ADAPTIVE_MAX ||
           op == CLI_OP_ADAPTIVE_AVG || op == CLI_OP_SPP;
}

static void format_list(const struct cli_ints *list, char *buf, size_t size)
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

int cli_adaptive_describe(const struct cli_args *args, const clpool_tensor_desc *in,
                          struct cli_adaptive_op *out)
{
    const struct cli_options *o = &args->opt;
    clpool_index_type indices = o->indices ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE;
    char text[128];
    memset(out, 0, sizeof *out);
    if (args->op == CLI_OP_SPP) {
        out->spp = 1;
        out->pyramid.op = o->spp_mode == CLI_SPP_AVG ? CLPOOL_OP_AVG : CLPOOL_OP_MAX;
        format_list(&o->levels, text, sizeof text);
        if (in->spatial_dims != 2)
            return cli_fail(CLI_EXIT_INPUT,
                            "OP 'spp' pools 2-D maps, (N, C, H, W) (or (N, H, W, C) with --layout "
                            "nhwc), but the input has %d spatial dimension%s",
                            in->spatial_dims, in->spatial_dims == 1 ? "" : "s");
        if (o->levels.count > CLPOOL_SPP_LEVELS_MAX)
            return cli_fail(CLI_EXIT_INPUT, "--levels %s has %d levels, at most %d are allowed",
                            text, o->levels.count, CLPOOL_SPP_LEVELS_MAX);
        for (int l = 0; l < o->levels.count; l++) {
            if (o->levels.values[l] < 1)
                return cli_fail(CLI_EXIT_INPUT,
                                "--levels %s: every level must have at least 1 bin per side", text);
            out->pyramid.levels[l] = o->levels.values[l];
        }
        out->pyramid.level_count = o->levels.count;
        if (indices != CLPOOL_INDICES_NONE && out->pyramid.op != CLPOOL_OP_MAX)
            return cli_fail(CLI_EXIT_USAGE,
                            "--indices goes with --spp-mode max only (an average selects no "
                            "element)");
        out->pyramid.indices = indices;
        return CLI_EXIT_OK;
    }
    clpool_adaptive_desc *d = &out->adaptive;
    d->op = args->op == CLI_OP_GLOBAL_AVG || args->op == CLI_OP_ADAPTIVE_AVG ? CLPOOL_OP_AVG
                                                                             : CLPOOL_OP_MAX;
    d->indices = indices;
    if (args->op == CLI_OP_GLOBAL_MAX || args->op == CLI_OP_GLOBAL_AVG)
        return CLI_EXIT_OK; /* output size 1 everywhere */
    const struct cli_ints *list = &o->output_size;
    int dims = in->spatial_dims;
    format_list(list, text, sizeof text);
    if (list->count != 1 && list->count != dims)
        return cli_fail(CLI_EXIT_INPUT,
                        "--output-size %s has %d values, but the input has %d spatial "
                        "dimension%s: give 1 value or %d",
                        text, list->count, dims, dims == 1 ? "" : "s", dims);
    for (int i = 0; i < dims; i++) {
        d->output_size[i] = list->values[list->count == 1 ? 0 : i];
        if (d->output_size[i] < 1)
            return cli_fail(CLI_EXIT_INPUT,
                            "--output-size %s: every output size must be at least 1", text);
    }
    return CLI_EXIT_OK;
}

clpool_status cli_adaptive_plan(clpool_context *context, const struct cli_adaptive_op *op,
                                const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (op->spp)
        return clpool_plan_spp(context, &op->pyramid, in, plan);
    return clpool_plan_adaptive(context, &op->adaptive, in, plan);
}

clpool_status cli_adaptive_plan_backward(clpool_context *context, const struct cli_adaptive_op *op,
                                         const clpool_tensor_desc *in, clpool_plan **plan)
{
    if (op->spp)
        return clpool_plan_spp_backward(context, &op->pyramid, in, plan);
    return clpool_plan_adaptive_backward(context, &op->adaptive, in, plan);
}
