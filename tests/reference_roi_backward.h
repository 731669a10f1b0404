/*
 * The plain-C reference of the region pooling gradients (spec §8.1 and
 * §8.2, their backward rules), written from the spec: roi max sums each
 * bin's gradient into the cell its argmax names, roi align adds
 * g * w / count to the four cells of every sample inside the map.
 */
#ifndef CLPOOL_TESTS_REFERENCE_ROI_BACKWARD_H
#define CLPOOL_TESTS_REFERENCE_ROI_BACKWARD_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Roi max: @p want (the input's elements and layout) receives, for every
 * box with a valid batch index in ascending order, every channel and bin in
 * row-major order, go of the bin at the cell idx names (-1: nothing). The
 * sum runs in T (float, double for float64 inputs) in that order, the
 * order the library promises, so float results must match bit for bit.
 * @p go and @p idx are in the output's layout, @p rois K*5 doubles.
 */
void ref_roi_max_backward(const clpool_roi_desc *d, const clpool_tensor_desc *in,
                          const double *rois, const double *go, const int64_t *idx, double *want);

/*
 * Roi align: @p want receives g * w / count per sample corner (geometry
 * and each term in T, as the forward reference computes it; the sum in
 * double). @p mag (may be NULL) receives the sum of the terms' absolute
 * values and @p terms (may be NULL) their number per element, the scale of
 * a float sum's rounding.
 */
void ref_roi_align_backward(const clpool_roi_desc *d, const clpool_tensor_desc *in,
                            const double *rois, const double *go, double *want, double *mag,
                            double *terms);

#endif /* CLPOOL_TESTS_REFERENCE_ROI_BACKWARD_H */
