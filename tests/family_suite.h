/*
 * The parts of the "family" Check suite (test_family.c: sweeps, layouts,
 * dtypes, invalid parameters; test_family_reference.c: the reference's own
 * checks and the spec's worked examples; test_family_stochastic.c: the
 * generator, determinism and sampling frequencies; test_family_nhwc.c: the
 * channels-last fast path of max and avg; test_family_columns.c: the lp and
 * softmax column walk of window_lanes.cl) and what they share.
 */
#ifndef CLPOOL_TESTS_FAMILY_SUITE_H
#define CLPOOL_TESTS_FAMILY_SUITE_H

#include "family_run.h"
#include "test_env.h"

#include <check.h>

/* An operator with the same kernel, stride, padding and dilation in every dim. */
clpool_window_desc family_win(clpool_op kind, int k, int s, int p, int d, int ceil_mode);
/* A tensor of @p dtype and @p layout with `dims` spatial dims s0, s1, s2. */
clpool_tensor_desc family_tensor(clpool_dtype dtype, clpool_layout layout, int dims, size_t n,
                                 size_t c, size_t s0, size_t s1, size_t s2);
/* 1 when the device of a default context has cl_khr_fp64. */
int family_device_has_fp64(void);

void family_add_reference_tcases(Suite *s);
void family_add_stochastic_tcases(Suite *s);
void family_add_nhwc_tcases(Suite *s);
void family_add_columns_tcases(Suite *s);

#endif /* CLPOOL_TESTS_FAMILY_SUITE_H */
