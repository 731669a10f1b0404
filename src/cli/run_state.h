/*
 * What "clpool run" (run.c) and "clpool grad" (grad.c) share: the state of
 * one command, the library's log sink, reading and describing the input,
 * the window descriptor from the options, and writing .npy results
 * atomically. Internal to the program.
 */
#ifndef CLPOOL_CLI_RUN_STATE_H
#define CLPOOL_CLI_RUN_STATE_H

#include "args.h"
#include "npy.h"
#include "outfile.h"
#include "run_adaptive.h"
#include "run_unpool.h"

#include <clpool.h>
#include <stdint.h>

/* What the library said last, and how loud $CLPOOL_LOG wants it. */
struct log_record {
    char error[1024];
    int verbosity; /* highest non-error level to print now, -1: none */
};

struct run_state {
    const struct cli_args *args;
    npy_array input;
    clpool_tensor_desc input_desc;
    clpool_tensor_desc output_desc;
    clpool_window_desc window;
    clpool_roi_desc roi;            /* roi-max, roi-align */
    npy_array rois;                 /* their boxes */
    int want_indices;               /* --indices (window OPs, roi-max) */
    struct cli_unpool_extra unpool; /* fractional-max, max-unpool */
    struct cli_adaptive_op adaptive; /* global-*, adaptive-*, spp */
    struct log_record log;
    clpool_context *context;
    clpool_plan *plan;
    size_t output_count; /* elements of the output (and of the indices) */
    void *output;
    int64_t *indices;
};

/* The library's log callback (user: a struct log_record): keeps the last
 * error for the one failure line, prints the rest as $CLPOOL_LOG asks. */
void cli_record_log(void *user, clpool_log_level level, const char *message);
/* The level $CLPOOL_LOG asks for, -1 for none. */
int cli_verbosity_from_env(void);
/* Forgets the last error: called before each library call. */
void cli_forget_log(struct run_state *s);
/* The one line of a failed library call: its own sentence, else @p what. */
int cli_library_failure(struct run_state *s, clpool_status status, const char *what);

/* Reads INPUT (paths[0]) into s->input. */
int cli_load_input(struct run_state *s);
/* The input's dtype as the user means it ("bfloat16" with --dtype). */
const char *cli_input_dtype_name(const struct run_state *s);
/* s->input_desc from the file's shape, dtype and --layout. */
int cli_describe_input(struct run_state *s);
/* s->window from the options (indices as --indices asks). */
int cli_describe_window(struct run_state *s);
/* The library operator of a window OP, 0 for the other OPs. */
clpool_op cli_library_op(enum cli_op op);

/* The .npy dtype of a clpool dtype; 0 when there is none. */
int cli_npy_dtype_of(clpool_dtype dtype, npy_dtype *out);
/* The shape of @p d in its layout; returns the rank. */
int cli_output_shape(const clpool_tensor_desc *d, size_t shape[2 + CLPOOL_MAX_SPATIAL_DIMS]);
/* Writes one array into a finished (flushed, closed) temporary file. */
int cli_write_temp(struct cli_outfile *file, const char *path, npy_dtype dtype,
                   const clpool_tensor_desc *desc, const void *data);

#endif /* CLPOOL_CLI_RUN_STATE_H */
