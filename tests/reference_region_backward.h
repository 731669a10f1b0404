/*
 * Plain C references, in double, of the region families' gradients (spec
 * §9, §7, §4, §10.4, §6), written from the spec alone: max unpooling's
 * gather, adaptive max/avg (bins [floor(i*In/Out), ceil((i+1)*In/Out))),
 * spp as its levels' adaptive gradients summed in level order.
 */
#ifndef CLPOOL_TESTS_REFERENCE_REGION_BACKWARD_H
#define CLPOOL_TESTS_REFERENCE_REGION_BACKWARD_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* grad_in[e] = grad_out[plane].flat[idx[e]] for tensor @p in (pooled) and
 * @p out (unpooled); go, gi in the tensors' layouts as doubles. */
void ref_unpool_backward(const clpool_tensor_desc *in, const clpool_tensor_desc *out,
                         const double *go, const int64_t *idx, double *gi);

/* Adaptive max/avg forward of one plane-major (layout-aware) tensor:
 * out sizes @p o (outermost first); y and the in-plane argmax (max: first
 * maximum, last NaN) for every output element in the output's layout. */
void ref_adaptive_forward(clpool_op op, const clpool_tensor_desc *in, const int *o, const double *x,
                          double *y, int64_t *idx);

/* Adaptive max/avg gradient: gi (the input's shape and layout) from go (the
 * output's layout, sizes @p o). Max sends g to idx (the forward's, -1:
 * nothing) when @p idx is given, else to the recomputed argmax of x. */
void ref_adaptive_backward(clpool_op op, const clpool_tensor_desc *in, const int *o,
                           const double *x, const double *go, const int64_t *idx, double *gi);

/* Spatial pyramid gradient of a 2-D input: levels' adaptive gradients
 * summed in level order; go and idx (NULL: recompute) in the pyramid's
 * (N, C*sum(n^2)) layout, each level as (C, n, n). */
void ref_spp_backward(clpool_op op, const clpool_tensor_desc *in, const int *levels,
                      int level_count, const double *x, const double *go, const int64_t *idx,
                      double *gi);

/* The forward's max indices of a pyramid, in its (N, C*sum(n^2)) layout. */
void ref_spp_indices(const clpool_tensor_desc *in, const int *levels, int level_count,
                     const double *x, int64_t *idx);

/* The gradient of a selecting pooling (fractional max) given the selected
 * in-plane cell of each output (idx in the output's layout; -1: none):
 * g added to that cell, outputs in row-major order. */
void ref_select_backward(const clpool_tensor_desc *in, const clpool_tensor_desc *out,
                         const double *go, const int64_t *idx, double *gi);

#endif
