/*
 * The region pooling OPs of "clpool run" (roi-max, roi-align): the --rois
 * file and the RoI options become a clpool_roi_desc. Internal to the program.
 */
#ifndef CLPOOL_CLI_ROI_H
#define CLPOOL_CLI_ROI_H

#include "args.h"
#include "npy.h"

#include <clpool.h>

/* 1 for roi-max and roi-align. */
int cli_is_roi_op(enum cli_op op);

/*
 * Reads the --rois file into @p rois (float32 or float64 (K, 5) rows;
 * float16 files are widened to float32, exactly) and fills @p desc from the
 * options for the input @p input. Returns an exit code, having printed the
 * one line of a failure; @p rois holds no allocation after a failure.
 */
int cli_roi_describe(const struct cli_args *args, const clpool_tensor_desc *input, npy_array *rois,
                     clpool_roi_desc *desc);

#endif /* CLPOOL_CLI_ROI_H */
