/*
 * The interleaved timing loop (see timing.h).
 */
#include "timing.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNNERS 2

/* Pause before each block: long enough for the other runner's idle threads
 * (oneDNN's OpenMP workers spin for a while after a parallel region) to go
 * to sleep, so one runner's leftovers never cost the next one CPU time. */
#define BLOCK_PAUSE_NS 20000000L

typedef struct runner_state {
    size_t next; /* next copy of the rotation */
    size_t last; /* copy of the last timed run */
    int done;    /* timed runs so far */
    double *times;
} runner_state;

static void pause_between_blocks(void)
{
    struct timespec ts = {0, BLOCK_PAUSE_NS};
    nanosleep(&ts, NULL);
}

/* One run of @p r on its next copy; returns its wall time, or -1 on failure. */
static double run_next(const bench_runner *r, runner_state *s, bench_runner_result *res)
{
    size_t copy = s->next;
    s->next = (s->next + 1) % r->copies;
    double t0 = bench_now();
    int rc = r->run(r->self, copy, res->error, sizeof res->error);
    double t = bench_now() - t0;
    if (rc != 0) {
        res->ok = 0;
        return -1.0;
    }
    s->last = copy;
    return t;
}

void bench_time_runners(const bench_runner *runners, size_t count, const bench_timing *timing,
                        bench_runner_result *results)
{
    runner_state state[MAX_RUNNERS];
    memset(state, 0, sizeof state);
    if (count > MAX_RUNNERS)
        count = MAX_RUNNERS;
    for (size_t i = 0; i < count; i++) {
        results[i].ok = 1;
        results[i].error[0] = '\0';
        state[i].next = 1 % runners[i].copies; /* copy 0 held the set-up check */
        state[i].times = malloc((size_t)timing->runs * sizeof(double));
        if (state[i].times == NULL) {
            results[i].ok = 0;
            snprintf(results[i].error, sizeof results[i].error, "out of host memory");
        }
    }

    for (size_t i = 0; i < count; i++)
        for (int w = 0; w < timing->warmup && results[i].ok; w++)
            run_next(&runners[i], &state[i], &results[i]);

    for (int started = 0; started < timing->runs; started += timing->block) {
        int block = timing->runs - started < timing->block ? timing->runs - started
                                                           : timing->block;
        for (size_t i = 0; i < count; i++) {
            if (!results[i].ok)
                continue;
            pause_between_blocks();
            if (run_next(&runners[i], &state[i], &results[i]) < 0.0)
                continue;
            for (int b = 0; b < block && results[i].ok; b++) {
                double t = run_next(&runners[i], &state[i], &results[i]);
                if (t >= 0.0)
                    state[i].times[state[i].done++] = t;
            }
        }
    }

    for (size_t i = 0; i < count; i++) {
        if (results[i].ok) {
            char err[sizeof results[i].error - 32];
            if (runners[i].check(runners[i].self, state[i].last, err, sizeof err) != 0) {
                results[i].ok = 0;
                snprintf(results[i].error, sizeof results[i].error, "after timing: %s", err);
            } else {
                results[i].median_s = bench_median(state[i].times, (size_t)state[i].done);
                results[i].min_s = state[i].times[0]; /* sorted by bench_median */
            }
        }
        free(state[i].times);
    }
}
