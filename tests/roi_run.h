/*
 * Cases of the region pooling tests: an input of any float dtype and layout
 * and its boxes, with their double copies and reference result; runs of a
 * plan through clpool_run_host_io() or clpool_enqueue() on guarded caller
 * buffers with poisoned outputs; and the element-by-element comparison that
 * prints every failing element with the whole case and its box.
 */
#ifndef CLPOOL_TESTS_ROI_RUN_H
#define CLPOOL_TESTS_ROI_RUN_H

#include "clpool.h"
#include "harness.h"
#include "reference_roi.h"

#include <stddef.h>
#include <stdint.h>

typedef struct roi_case {
    clpool_roi_desc d;
    clpool_tensor_desc in;
    size_t in_elems;
    void *x;      /* the input in its dtype and layout */
    double *xd;   /* the same values as doubles, same layout */
    void *rois;   /* K*5 boxes of d.rois_dtype */
    double *boxd; /* the same values as doubles */
    roi_ref ref;
} roi_case;

/* Allocates the input and boxes of c->d and c->in (zeroed). */
void roi_case_alloc(roi_case *c);
/* Sets input element i (layout order) to @p v rounded to the dtype. */
void roi_case_put(roi_case *c, size_t i, double v);
/* Sets box value j (0..4) of box k, rounded to the boxes' dtype. */
void roi_case_box(roi_case *c, size_t k, int j, double v);
/* Fills the input from a value pattern of the harness. */
void roi_case_fill(test_rng *r, roi_case *c, value_mode mode);
/* Computes c->ref from the stored values; asserts success. */
void roi_case_reference(roi_case *c);
void roi_case_free(roi_case *c);

/* "roi-align N=2 C=3 H=7 W=5 f16 NHWC out=2x3 K=4 scale=0.5 sr=2 aligned=1 rois=f32 idx=int32" */
void roi_describe(char *buf, size_t cap, const roi_case *c);

/* The output and indices of one run (indices as int64 whatever their type). */
typedef struct roi_result {
    void *y;
    int64_t *idx;
} roi_result;

/*
 * Runs @p plan (made for @p c) once with a poisoned output (and indices):
 * through clpool_run_host_io(), or, with @p use_enqueue, through
 * clpool_enqueue() on caller buffers at element offsets drawn from @p r with
 * guard elements around every tensor (damage is reported as
 * CLPOOL_ERROR_INVALID_BUFFER). Allocates res; returns the first failing
 * status, printing "<label> <case>: <what>: <status>".
 */
clpool_status roi_run(clpool_context *ctx, clpool_plan *plan, const roi_case *c, int use_enqueue,
                      test_rng *r, roi_result *res, const char *label);
void roi_result_free(roi_result *res);

/*
 * Compares a result with c->ref: roi max values and indices exactly; roi
 * align within rtol 1e-5 plus the reference's atol, widened by the
 * rounding of float16/bfloat16 outputs, non-finite values exactly; a bad
 * box's elements must hold NaN (not the poison) and index -1. Prints each
 * failing element while *budget lasts; returns the count.
 */
size_t roi_compare(const roi_case *c, const roi_result *res, const char *label, int *budget);

#endif /* CLPOOL_TESTS_ROI_RUN_H */
