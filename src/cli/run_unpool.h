/*
 * The OPs of "clpool run" that read more than the input: fractional-max
 * (--samples, or drawn from --seed; --indices out) and max-unpool
 * (--indices-in). Their options become a library descriptor, their extra
 * files are loaded and checked here; run.c does the rest.
 */
#ifndef CLPOOL_CLI_RUN_UNPOOL_H
#define CLPOOL_CLI_RUN_UNPOOL_H

#include "args.h"
#include "npy.h"

#include <clpool.h>

struct cli_unpool_extra {
    clpool_fractional_desc fractional;
    clpool_unpool_desc unpool;
    npy_array indices_in; /* max-unpool: --indices-in, int64 */
    npy_array samples;    /* fractional-max: --samples as read */
    void *samples_t;      /* the samples in the computation type (float or double) */
    int wants_indices;    /* fractional-max --indices */
};

/* True for fractional-max and max-unpool. */
int cli_unpool_is_op(enum cli_op op);

/* Turns the options into a descriptor and loads and checks the files for
 * input @p in; returns an exit code, having printed the one line of a
 * failure. */
int cli_unpool_prepare(const struct cli_args *args, const clpool_tensor_desc *in,
                       struct cli_unpool_extra *x);

/* Plans the OP on @p ctx. */
clpool_status cli_unpool_plan(const struct cli_args *args, const struct cli_unpool_extra *x,
                              clpool_context *ctx, const clpool_tensor_desc *in,
                              clpool_plan **plan);

/* The extra host arrays of clpool_run_host_io (indices read, samples). */
void cli_unpool_host_io(const struct cli_unpool_extra *x, clpool_host_io *io);

void cli_unpool_release(struct cli_unpool_extra *x);

#endif /* CLPOOL_CLI_RUN_UNPOOL_H */
