/*
 * Plain C references of max unpooling (spec §7) and fractional max pooling
 * (spec §6) for the tests, written from the spec alone: unpooling copies
 * element bits in row-major order of each input plane (the last duplicate
 * wins); fractional windows are computed in the input's type T (float, or
 * double for float64) as torch's generate_intervals, the max in double.
 */
#ifndef CLPOOL_TESTS_REFERENCE_UNPOOL_H
#define CLPOOL_TESTS_REFERENCE_UNPOOL_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* Default unpooled size of one dimension: (In-1)*s - 2p + k. */
long long ref_unpool_default_size(long long in, int k, int s, int p);

/*
 * Unpools @p x (tensor @p in) by @p indices (int32 when @p idx32, else int64,
 * in the input's layout) into @p y (tensor @p out, same dtype and layout):
 * zeros, then each element's bits at its index. Returns the element number
 * (in memory order) of the first index outside its plane, or -1 when all are
 * valid (then y is written; otherwise y is untouched).
 */
long long ref_unpool(const clpool_tensor_desc *in, const clpool_tensor_desc *out, const void *x,
                     const void *indices, int idx32, void *y);

/* Window starts seq[0..O-1] of one dimension, computed in T (float unless
 * @p dtype is float64) from sample @p u (already a T value). */
void ref_fractional_starts(clpool_dtype dtype, int in, int out, int k, double u, int *seq);

/*
 * Fractional max pooling of @p x (tensor @p in, 2 or 3 spatial dims) with
 * pool sizes @p k and output sizes @p o (outermost first) and samples
 * (N*C*dims values, already T values; sample j of plane p at [p*dims + j],
 * 2-D: j=0 W, j=1 H; 3-D: D, H, W). Writes y (doubles, in the output's
 * layout) and idx (flat in-plane) for every output element.
 */
void ref_fractional(const clpool_tensor_desc *in, const int *k, const int *o, const double *samples,
                    const void *x, double *y, int64_t *idx);

#endif /* CLPOOL_TESTS_REFERENCE_UNPOOL_H */
