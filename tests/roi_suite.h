/*
 * The parts of the "roi" Check suite (test_roi.c: random sweeps against the
 * reference, huge boxes, one launch for a detection head; test_roi_rules.c:
 * the spec's worked examples, bad batch indices, invalid parameters) and
 * what they share.
 */
#ifndef CLPOOL_TESTS_ROI_SUITE_H
#define CLPOOL_TESTS_ROI_SUITE_H

#include "roi_run.h"

#include "test_env.h"

#include <check.h>

/* What a context's log sink received: error sentences and the last one. */
typedef struct roi_log {
    int errors;
    char last[1024];
} roi_log;

/* A context with the tuning overrides (0: the device's choice) whose errors
 * go to @p log (NULL: the default sink); asserts. */
clpool_context *roi_context(size_t work_group_size, size_t max_planes, roi_log *log);
/* 1 when the device of a default context has cl_khr_fp64. */
int roi_device_has_fp64(void);
/* A (N, C, H, W) tensor of @p dtype and @p layout. */
clpool_tensor_desc roi_tensor(clpool_dtype dtype, clpool_layout layout, size_t n, size_t c,
                              size_t h, size_t w);

/* Plans c->d for c->in, runs it (host or enqueue), compares with the
 * reference and returns the number of bad elements (a failing status
 * counts as every element bad). */
size_t roi_check_case(clpool_context *ctx, roi_case *c, int use_enqueue, test_rng *r,
                      const char *label, int *budget);

void roi_add_rules_tcases(Suite *s);

#endif /* CLPOOL_TESTS_ROI_SUITE_H */
