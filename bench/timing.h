/*
 * The timing loop: runs up to three implementations of a layer in alternating
 * blocks, so that on a shared machine all see the same background load and
 * their ratios stay meaningful even when their absolute times drift.
 */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stddef.h>

/* One implementation of a layer, set up and checked once already, with
 * @p copies rotating input/output pairs. */
typedef struct bench_runner {
    const char *label; /* "clpool", "oneDNN", "XNNPACK": names it in messages */
    void *self;
    size_t copies;
    /* Runs copy @p copy and waits for the result; 0, or -1 with one
     * sentence in @p err. The call is what gets timed. */
    int (*run)(void *self, size_t copy, char *err, size_t err_len);
    /* Compares copy @p copy's output with the reference; 0 or -1 + err. */
    int (*check)(void *self, size_t copy, char *err, size_t err_len);
} bench_runner;

typedef struct bench_timing {
    int warmup; /* untimed runs of each runner before the first block */
    int runs;   /* timed runs of each runner */
    int block;  /* timed runs per block; each block waits for the process's other
                 * threads to go idle, then starts with one untimed run */
} bench_timing;

/* Room for one error sentence. */
#define BENCH_ERROR_MAX 512

typedef struct bench_runner_result {
    int ok;
    double median_s;
    double min_s;
    char error[BENCH_ERROR_MAX];
} bench_runner_result;

/*
 * Times @p count runners (1 to 3) by @p timing: warm-ups, then blocks of
 * runs taking turns, each run on the next copy of its rotation and timed as
 * wall time on the monotonic clock; afterwards the last timed output of each
 * is checked again (a race shows up under load). A runner that fails drops
 * out with its error in @p results; the others go on.
 */
void bench_time_runners(const bench_runner *runners, size_t count, const bench_timing *timing,
                        bench_runner_result *results);

#endif /* BENCH_TIMING_H */
