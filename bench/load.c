/*
 * Other processes' share of the CPUs during a measurement (see load.h).
 */
#include "load.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

void bench_load_mark_now(bench_load_mark *mark)
{
    unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
    long ticks = sysconf(_SC_CLK_TCK);
    struct rusage usage;
    FILE *f = fopen("/proc/stat", "r");
    mark->valid = 0;
    if (f == NULL)
        return;
    int fields = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                        &idle, &iowait, &irq, &softirq, &steal);
    fclose(f);
    if (fields != 8 || ticks <= 0 || getrusage(RUSAGE_SELF, &usage) != 0)
        return;
    double busy = (double)(user + nice + system + irq + softirq + steal);
    mark->busy_s = busy / (double)ticks;
    mark->total_s = (busy + (double)(idle + iowait)) / (double)ticks;
    mark->self_s = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec * 1e-6 +
                   (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec * 1e-6;
    mark->valid = 1;
}

double bench_load_other_percent(const bench_load_mark *a, const bench_load_mark *b)
{
    if (!a->valid || !b->valid || b->total_s <= a->total_s)
        return -1.0;
    double other = (b->busy_s - a->busy_s) - (b->self_s - a->self_s);
    if (other < 0.0) /* tick rounding on a quiet machine */
        other = 0.0;
    return 100.0 * other / (b->total_s - a->total_s);
}
