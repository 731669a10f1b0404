/*
 * Host conversions between float and the storage dtypes the bench feeds to
 * clpool and the peers (float32, float16, bfloat16), so that every side gets
 * the same values and the reference can work on floats.
 */
#ifndef BENCH_DTYPE_H
#define BENCH_DTYPE_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* 1 for the dtypes below (float32, float16, bfloat16), else 0. */
int bench_dtype_supported(clpool_dtype dtype);

/* IEEE binary16 and bfloat16 bits of @p f, rounded to nearest even; NaN stays NaN. */
uint16_t bench_float_to_half(float f);
float bench_half_to_float(uint16_t h);
uint16_t bench_float_to_bfloat(float f);
float bench_bfloat_to_float(uint16_t b);

/* Rounds @p data[0..count) in place to values @p dtype holds exactly. */
void bench_round_to_dtype(float *data, size_t count, clpool_dtype dtype);

/* Stores @p src[0..count) as @p dtype in @p dst (count * dtype size bytes). */
void bench_pack(clpool_dtype dtype, const float *src, void *dst, size_t count);
/* Loads @p count elements of @p dtype from @p src as floats into @p dst. */
void bench_unpack(clpool_dtype dtype, const void *src, float *dst, size_t count);

/* Fills @p dst with @p count NaNs of @p dtype (outputs start poisoned). */
void bench_fill_nan(clpool_dtype dtype, void *dst, size_t count);

/* The bytes of one NaN of @p dtype into @p pattern (at most 4 bytes), for
 * clEnqueueFillBuffer; returns the pattern size. */
size_t bench_nan_pattern(clpool_dtype dtype, void *pattern);

#endif /* BENCH_DTYPE_H */
