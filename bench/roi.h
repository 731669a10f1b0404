/*
 * The region pooling rows of the bench (rcnn-roialign, rcnn-roipool): their
 * deterministic boxes, their clpool descriptor and their reference check.
 */
#ifndef BENCH_ROI_H
#define BENCH_ROI_H

#include "layers.h"

#include "clpool.h"

#include <stddef.h>

/* Writes the row's layer->roi->boxes boxes, 5 floats each, to @p boxes:
 * Faster R-CNN-like proposals, the same on every run (fixed seed). */
void bench_roi_boxes(const bench_layer *layer, float *boxes);

/* The clpool descriptor of a region row. */
void bench_roi_desc(const bench_layer *layer, clpool_roi_desc *desc);

/*
 * Compares @p output with the reference of the region row (float32 input in
 * the row's layout): roi max exactly, roi align within spec §11 (rtol 1e-5,
 * atol 1e-5 max|x|). Returns 0, or -1 with the count of wrong elements and
 * the first one in @p msg.
 */
int bench_check_roi(const bench_layer *layer, const float *input, const float *output, char *msg,
                    size_t msg_len);

#endif /* BENCH_ROI_H */
