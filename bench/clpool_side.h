/*
 * The clpool side of a row: plans the layer, allocates its rotation of
 * device buffers, runs and checks it once, and then serves as a runner for
 * the timing loop.
 */
#ifndef BENCH_CLPOOL_SIDE_H
#define BENCH_CLPOOL_SIDE_H

#include "layers.h"
#include "timing.h"

#include "clpool.h"

#include <stddef.h>

typedef struct bench_clpool_side bench_clpool_side;

typedef struct bench_plan_info {
    double plan_s;      /* the first clpool_plan_window call, wall time */
    const char *source; /* where its program came from: build, disk, memory */
    size_t launches;
    int unsupported; /* 1: the plan returned CLPOOL_ERROR_UNSUPPORTED (not built yet) */
} bench_plan_info;

/*
 * Plans @p layer on @p context and sets up @p copies rotating input/output
 * buffer pairs, every input holding @p input (floats in the layer's layout,
 * already rounded to its dtype; borrowed until close), stored as the
 * layer's dtype. Runs
 * copy 0 once and checks every output element. Returns 0 with *side set, or
 * -1 with one sentence in @p err (including a wrong result). @p info is
 * filled as far as planning got, on failure too.
 */
int bench_clpool_open(clpool_context *context, const bench_layer *layer, const float *input,
                      size_t copies, bench_clpool_side **side, bench_plan_info *info, char *err,
                      size_t err_len);

/* The runner view of @p side for bench_time_runners(). */
bench_runner bench_clpool_runner(bench_clpool_side *side);

/* Releases everything; NULL is a no-op. */
void bench_clpool_close(bench_clpool_side *side);

/* Enqueues @p plan on @p queue and waits for it; on failure writes the
 * reason to @p err and returns -1. */
int bench_clpool_enqueue_wait(clpool_plan *plan, cl_command_queue queue, const clpool_io *io,
                              char *err, size_t err_len);

#endif /* BENCH_CLPOOL_SIDE_H */
