/*
 * The reference checker: plain C, double-accumulating window pooling (max,
 * avg, lp, softmax; 1 to 3 spatial dimensions, NCHW or NHWC, padding, ceil
 * mode, count_include_pad) compared element by element with a result.
 */
#ifndef BENCH_CHECK_H
#define BENCH_CHECK_H

#include "layers.h"

#include <stddef.h>

/*
 * Compares @p output with the reference of @p layer on @p input, both as
 * floats in the layer's layout (16-bit dtypes converted; the input already
 * rounded to the dtype). Max must match exactly. Avg must satisfy
 * |y - ref| <= rtol |ref| + 1e-6 max|x| with rtol 1e-5; lp and softmax
 * with rtol 2e-5 (spec §11). A 16-bit dtype adds its output rounding to
 * rtol (2^-11 for float16, 2^-8 for bfloat16). Returns 0 when every element
 * passes, else -1 with one sentence in @p msg: the count of wrong elements
 * and the first one, by position, value and expected value.
 */
int bench_check_output(const bench_layer *layer, const float *input, const float *output, char *msg,
                       size_t msg_len);

#endif /* BENCH_CHECK_H */
