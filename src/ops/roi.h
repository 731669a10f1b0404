/*
 * What the region pooling files share (src/ops/roi.c, the forward, and
 * src/ops/roi_backward.c, its gradients): the plan geometry, the checks of
 * the descriptor and of boxes held in host memory.
 */
#ifndef CLPOOL_OPS_ROI_H
#define CLPOOL_OPS_ROI_H

#include "internal.h"

typedef struct roi_op {
    clpool_roi_op op;
    const char *name; /* "roi max pooling", ... for messages */
    clpool_dtype dtype;
    clpool_dtype rois_dtype;
    clpool_index_type indices;
    size_t n, c, h, w, k;
    size_t chunks; /* channel chunks per bin: ceil(C / channels per work-item) */
    double scale;
    /* gradients only */
    size_t band_rows;     /* input rows a work-item owns */
    size_t bands;         /* ceil(H / band_rows) */
    size_t argmax_offset; /* workspace bytes: the recomputed argmax (longs) */
    size_t acc_offset;    /* workspace bytes: float sums of float16/bfloat16 */
    int recompute;        /* roi max without indices: argmax pass first */
    int acc_in_workspace; /* float16/bfloat16: sums in the workspace */
} roi_op;

/* The operator's name in messages ("roi max pooling", "roi align"), NULL
 * for a value that is no clpool_roi_op. */
const char *clp_roi_op_name(clpool_roi_op op);

/* Checks @p r against @p in exactly as clpool_plan_roi() does; messages
 * start with @p opname. */
clpool_status clp_roi_validate(const clpool_context *ctx, const char *opname,
                               const clpool_roi_desc *r, const clpool_tensor_desc *in);

/* Checks the host boxes of a plan whose op is a roi_op:
 * CLPOOL_ERROR_INVALID_ROIS naming the first bad batch index. */
clpool_status clp_roi_check_boxes(const clpool_plan *plan, const void *rois);

/* The family hook of clpool_run_host_io(): the boxes, when given. */
clpool_status clp_roi_check_host_io(const clpool_plan *plan, const clpool_host_io *io);

/* Channels per work-item of the forward kernel (and of the gradient's
 * argmax pass) on this device. */
int clp_roi_channels(const clpool_context *ctx);

/* The gradient family (roi_backward.c), which clpool_roi_check_boxes()
 * accepts too. */
extern const clp_family clp_roi_backward_family;

#endif /* CLPOOL_OPS_ROI_H */
