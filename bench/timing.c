/*
 * The interleaved timing loop (see timing.h).
 */
#include "timing.h"

#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNNERS 3

/* Before each block the loop waits until the process is quiet again: the
 * previous runner's idle threads must be asleep, or they take CPU time from
 * the next one. (libgomp's OpenMP workers spin for 300000 rounds after a
 * parallel region, some 20 ms on this Xeon, and PoCL's workers spin too.)
 * At least SETTLE_MIN_NS, at most SETTLE_MAX_NS; a fixed SETTLE_FALLBACK_NS
 * where /proc/self/task is missing. */
#define SETTLE_MIN_NS 2000000L
#define SETTLE_MAX_NS 1000000000L
#define SETTLE_FALLBACK_NS 100000000L
#define SETTLE_POLL_NS 1000000L
#define SETTLE_QUIET_POLLS 3

typedef struct runner_state {
    size_t next; /* next copy of the rotation */
    size_t last; /* copy of the last timed run */
    int done;    /* timed runs so far */
    double *times;
} runner_state;

static void sleep_ns(long ns)
{
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    nanosleep(&ts, NULL);
}

/* Threads of this process in state R (running or runnable), the caller
 * included; -1 when Linux's /proc/self/task cannot be read. */
static int running_threads(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        return -1;
    int running = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        char path[300], stat[512];
        if (entry->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue; /* the thread ended meanwhile */
        size_t len = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[len] = '\0';
        /* "tid (comm) S ...": comm may hold spaces and parentheses. */
        const char *paren = strrchr(stat, ')');
        if (paren && paren[1] == ' ' && paren[2] == 'R')
            running++;
    }
    closedir(dir);
    return running;
}

/* Waits until no thread but the caller has run for SETTLE_QUIET_POLLS polls. */
static void settle(void)
{
    sleep_ns(SETTLE_MIN_NS);
    int quiet = 0;
    for (long waited = SETTLE_MIN_NS; waited < SETTLE_MAX_NS && quiet < SETTLE_QUIET_POLLS;
         waited += SETTLE_POLL_NS) {
        int running = running_threads();
        if (running < 0) {
            sleep_ns(SETTLE_FALLBACK_NS);
            return;
        }
        quiet = running <= 1 ? quiet + 1 : 0;
        sleep_ns(SETTLE_POLL_NS);
    }
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
            settle();
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
