/*
 * The "clpool run" and "clpool grad" commands: read the input .npy, plan and
 * run the OP on a device through libclpool, write the results atomically.
 */
#ifndef CLPOOL_CLI_RUN_H
#define CLPOOL_CLI_RUN_H

#include "args.h"

/* Runs the forward pass @p args describes; returns an exit code, having
 * printed the one line of a failure. */
int cli_run(const struct cli_args *args);

/* The gradient command (grad.c): window OPs; returns an exit code likewise. */
int cli_grad(const struct cli_args *args);

#endif /* CLPOOL_CLI_RUN_H */
