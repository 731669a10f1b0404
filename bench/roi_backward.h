/*
 * The RoI gradient rows of clpool-bench-backward (rcnn-roialign-bwd,
 * rcnn-roipool-bwd): the forward rows' layers and boxes, the gradient
 * timed with its boxes per second (no peer: oneDNN has no RoI pooling).
 */
#ifndef BENCH_ROI_BACKWARD_H
#define BENCH_ROI_BACKWARD_H

#include "clpool.h"

/* Prints one row per RoI layer of the table (after the window rows'
 * header); returns 0, or 1 when a row failed its check or its runs. */
int bench_roi_backward_rows(clpool_context *ctx, int runs, int warmup);

#endif /* BENCH_ROI_BACKWARD_H */
