/*
 * The plain-C reference of the region pooling tests: torchvision 0.14's
 * roi_pool and roi_align as spec §8 and decisions §0.9-§0.10 state them,
 * written from the spec alone. Box geometry is computed in the operator's
 * type T (float, or double for float64 inputs) as torchvision does, sums
 * in double.
 */
#ifndef CLPOOL_TESTS_REFERENCE_ROI_H
#define CLPOOL_TESTS_REFERENCE_ROI_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* The reference result of one case, element i in the output's layout. */
typedef struct roi_ref {
    clpool_tensor_desc out;
    size_t out_elems;
    double *y;       /* the value before rounding to the output dtype */
    int64_t *idx;    /* roi max: the argmax (-1: none); else unused */
    double *atol;    /* roi align: the absolute tolerance of element i */
    uint8_t *bad;    /* 1 where the box's batch index is invalid (y NaN, idx -1) */
    size_t *samples; /* roi align: samples of the bin inside [-1, H] x [-1, W] */
} roi_ref;

/*
 * Computes the reference of @p d on @p in: @p x holds the input values as
 * doubles in the input's layout, @p rois the K*5 box values as doubles
 * (already of d->rois_dtype). Boxes whose batch index is NaN or outside
 * [0, N) after truncation give NaN (and index -1), as the kernel writes.
 * Returns 0, or -1 when out of memory.
 */
int roi_ref_compute(roi_ref *r, const clpool_roi_desc *d, const clpool_tensor_desc *in,
                    const double *x, const double *rois);
void roi_ref_free(roi_ref *r);

/* The batch index rule: -1 < b < N (torchvision truncates b toward zero). */
int roi_ref_batch_valid(double b, clpool_dtype rois_dtype, size_t n);

#endif /* CLPOOL_TESTS_REFERENCE_ROI_H */
