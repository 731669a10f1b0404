/*
 * Measurement helpers shared by the benchmark's parts: a monotonic clock, the
 * median of a sample, the seeded random fill and the rotation rule that keeps
 * timed runs from finding their data in the last-level cache.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes successive timed runs must touch before any buffer is reused: twice
 * the 32 MiB last-level cache of the reference machine. */
#define BENCH_ROTATION_BYTES ((size_t)64 << 20)

/* Seconds on CLOCK_MONOTONIC (arbitrary origin). */
double bench_now(void);

/* The median of @p values[0..count) (count >= 1); sorts the array in place. */
double bench_median(double *values, size_t count);

/* Fills @p dst with floats uniform in [-1, 1) from a splitmix64 stream seeded
 * by @p seed: the same seed gives the same data on every machine. */
void bench_fill_random(float *dst, size_t count, uint64_t seed);

/* How many copies of a working set of @p bytes to rotate through so that the
 * copies together exceed BENCH_ROTATION_BYTES (1 when one copy already does). */
size_t bench_rotation_copies(size_t bytes);

#endif /* BENCH_UTIL_H */
