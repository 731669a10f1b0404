/*
 * The reference checker: a plain C, double-accumulating 2-D max/avg pooling
 * (NCHW, padding, ceil mode, count_include_pad) compared with a result.
 */
#ifndef BENCH_CHECK_H
#define BENCH_CHECK_H

#include "layers.h"

#include <stddef.h>

/*
 * Compares @p output (N, C, OH, OW) with the reference of @p layer on
 * @p input. Max must match exactly; avg within
 * |y - ref| <= 1e-5 |ref| + 1e-6 max|x| (spec §11). Returns 0 when every
 * element passes, else -1 with one sentence in @p msg: the count of wrong
 * elements and the first one, by position, value and expected value.
 */
int bench_check_output(const bench_layer *layer, const float *input, const float *output,
                       char *msg, size_t msg_len);

#endif /* BENCH_CHECK_H */
