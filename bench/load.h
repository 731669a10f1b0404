/*
 * How much of the machine other processes took while the bench ran: the
 * system's busy CPU time (Linux /proc/stat) minus this process's own
 * (getrusage), as a share of all CPU time. Steal time, which the hypervisor
 * gave to other guests, counts as taken.
 */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

typedef struct bench_load_mark {
    int valid;      /* 0 where /proc/stat cannot be read */
    double busy_s;  /* all CPUs' non-idle time so far */
    double total_s; /* all CPUs' time so far */
    double self_s;  /* this process's user + system time so far */
} bench_load_mark;

void bench_load_mark_now(bench_load_mark *mark);

/* Percent of all CPU time between @p a and @p b that other processes used,
 * or -1 when unknown. */
double bench_load_other_percent(const bench_load_mark *a, const bench_load_mark *b);

#endif /* BENCH_LOAD_H */
