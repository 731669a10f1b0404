/*
 * The adaptive OPs of "clpool run" (global-max, global-avg, adaptive-max,
 * adaptive-avg, spp): their options become a clpool_adaptive_desc or a
 * clpool_spp_desc, planned on the device. Internal to the program.
 */
#ifndef CLPOOL_CLI_RUN_ADAPTIVE_H
#define CLPOOL_CLI_RUN_ADAPTIVE_H

#include "args.h"

#include <clpool.h>

struct cli_adaptive_op {
    int spp;
    clpool_adaptive_desc adaptive;
    clpool_spp_desc pyramid;
};

/* 1 when @p op is one of the adaptive OPs. */
int cli_is_adaptive_op(enum cli_op op);

/* Checks the options of an adaptive OP against @p in and fills @p out;
 * returns an exit code, having printed the one line of a failure. */
int cli_adaptive_describe(const struct cli_args *args, const clpool_tensor_desc *in,
                          struct cli_adaptive_op *out);

/* The plan of @p op on @p in. */
clpool_status cli_adaptive_plan(clpool_context *context, const struct cli_adaptive_op *op,
                                const clpool_tensor_desc *in, clpool_plan **plan);

/* The gradient plan of @p op on @p in ("clpool grad"). */
clpool_status cli_adaptive_plan_backward(clpool_context *context, const struct cli_adaptive_op *op,
                                         const clpool_tensor_desc *in, clpool_plan **plan);

#endif /* CLPOOL_CLI_RUN_ADAPTIVE_H */
