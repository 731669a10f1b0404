/*
 * Element storage for the tests: every clpool dtype read from and written to
 * raw host arrays, rounding to float16 / bfloat16 / float32 with
 * round-to-nearest-even straight from double (no double rounding), output
 * poisoning, and the NCHW / NHWC element offsets. Written from IEEE 754 and
 * the bfloat16 definition; shares nothing with the library.
 */
#ifndef CLPOOL_TESTS_STORAGE_H
#define CLPOOL_TESTS_STORAGE_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* "f32", "f16", "bf16", "f64", "u8", "i8", "i32", "i64". */
const char *storage_dtype_name(clpool_dtype t);
int storage_is_float(clpool_dtype t);

/* @p v rounded once (nearest, ties to even) to a float dtype: overflow gives
 * +-inf, NaN stays NaN. Integers and float64 are returned unchanged. */
double storage_round(clpool_dtype t, double v);

/* float16 and bfloat16 bits of an already rounded value, and back. */
uint16_t half_bits(double v);
double half_value(uint16_t h);
uint16_t bf16_bits(double v);
double bf16_value(uint16_t b);

/* Element @p i of a raw array as a double, its raw bits (zero-extended), and
 * a store of @p v rounded to the dtype (integers: truncated toward zero; the
 * caller keeps them in range). */
double storage_load(clpool_dtype t, const void *base, size_t i);
uint64_t storage_bits(clpool_dtype t, const void *base, size_t i);
void storage_store(clpool_dtype t, void *base, size_t i, double v);

/*
 * Poison for outputs, so an element the library leaves unwritten fails:
 * for float dtypes a signalling NaN with a payload no computation produces
 * (variant ignored); for integer dtypes a plain value that differs between
 * variant 0 (0x5a) and 1 (0xa5), so a test must run twice, with both.
 */
void storage_poison(clpool_dtype t, void *base, size_t count, int variant);
/* 1 when element @p i holds the float poison (always 0 for integers). */
int storage_is_poison(clpool_dtype t, const void *base, size_t i);

/* Offset of element (plane = n*C + c, flat spatial index s) of a tensor in
 * its layout: NCHW plane*S + s, NHWC (n*S + s)*C + c. */
size_t layout_offset(const clpool_tensor_desc *t, size_t plane, size_t s);
/* prod(spatial) and n * c * prod(spatial). */
size_t plane_elements(const clpool_tensor_desc *t);
size_t tensor_elements(const clpool_tensor_desc *t);

#endif /* CLPOOL_TESTS_STORAGE_H */
