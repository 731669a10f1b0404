/*
 * Measurement helpers shared by the benchmark's parts (see util.h).
 */
#include "util.h"

#include <stdlib.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *values, size_t count)
{
    qsort(values, count, sizeof *values, compare_double);
    if (count % 2 == 1)
        return values[count / 2];
    return 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

void bench_fill_random(float *dst, size_t count, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < count; i++) {
        /* splitmix64 (Steele, Lea, Flood 2014) */
        uint64_t z = (state += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        /* 24 random bits give every float in [-1, 1) on a 2^-23 grid exactly. */
        dst[i] = (float)((double)(z >> 40) * (1.0 / 8388608.0) - 1.0);
    }
}

size_t bench_rotation_copies(size_t bytes)
{
    if (bytes == 0 || bytes > BENCH_ROTATION_BYTES)
        return 1;
    return BENCH_ROTATION_BYTES / bytes + 1;
}
