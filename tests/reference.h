/*
 * Plain-C reference for window max and avg pooling (spec/semantics.md §0-§3):
 * NCHW float32 input, every sum accumulated in double. The tests compare the
 * library against it element by element; it shares nothing with the library
 * but the public header's types.
 */
#ifndef CLPOOL_TESTS_REFERENCE_H
#define CLPOOL_TESTS_REFERENCE_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* floor_div(a, b) for b > 0: rounds toward -inf (ATen div_rtn, Python //). */
long ref_floor_div(long a, long b);

/* Output size of one dimension (spec §1.1), including the ceil-mode rule that
 * the last window starts inside the input or the left padding. May be < 1. */
long ref_output_size(long in, long k, long s, long p, long d, int ceil_mode);

/*
 * The window parameters of one dimension with every default resolved
 * (stride 0 -> kernel, dilation 0 -> 1). @p dim counts spatial dims of the
 * descriptor, outermost first.
 */
typedef struct ref_dim {
    long in, k, s, p, d, out;
} ref_dim;

/*
 * The status the library must return for @p op on @p input (spec §0.1, §1.2
 * and the header's status list), and on success the output description.
 * Checks, in order: enums (INVALID_ARGUMENT), rank and zero dims
 * (INVALID_SHAPE), kernel, stride, dilation (also dilation > 1 for avg),
 * padding against the dilated bound, indices asked of avg (INVALID_ARGUMENT),
 * a divisor given to max (INVALID_DIVISOR), output size. Only float32 NCHW is modelled: other
 * dtypes or layouts are reported as CLPOOL_ERROR_UNSUPPORTED so a caller can skip them.
 */
clpool_status ref_window_check(const clpool_window_desc *op, const clpool_tensor_desc *input,
                               clpool_tensor_desc *output);

/* Resolves the parameters of every spatial dim as a 3-d problem: leading
 * dims that @p input lacks get in = k = s = d = out = 1, p = 0. */
void ref_window_dims(const clpool_window_desc *op, const clpool_tensor_desc *input,
                     ref_dim dims[3]);

/*
 * Runs window pooling on @p x (NCHW, float32) for a configuration that
 * ref_window_check() accepted. Writes, per output element:
 *   y:    the value (max: exactly one input value or -inf; avg: sum / divisor
 *         in double),
 *   idx:  (max only, may be NULL) the flat in-plane index t*H*W + h*W + w of
 *         the maximum, -1 for a window with no element inside the input,
 *   atol: (avg only, may be NULL) the absolute tolerance of spec §11 for a
 *         float32 result: 8 u (1 + ceil(log2 n)) * sum|x| / |divisor|, with n
 *         the number of cells summed.
 */
void ref_window_run(const clpool_window_desc *op, const clpool_tensor_desc *input, const float *x,
                    double *y, int64_t *idx, double *atol);

#endif /* CLPOOL_TESTS_REFERENCE_H */
