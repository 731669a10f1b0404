/*
 * What the Check suites share about their surroundings: the environment
 * switches (CLPOOL_TEST_SMALL, CLPOOL_TEST_SCALE), contexts made with the
 * options a test varies, and a log sink that keeps the library's last
 * error sentence. Failures are Check assertions, so these run inside a test.
 */
#ifndef CLPOOL_TESTS_TEST_ENV_H
#define CLPOOL_TESTS_TEST_ENV_H

#include "clpool.h"

#include <stddef.h>

/* CLPOOL_TEST_SMALL=1: a suite keeps a few tiny cases (for Oclgrind). */
int test_small_mode(void);

/* CLPOOL_TEST_SCALE=P: the first P% of @p count parameter sets (at least
 * one; all of them when unset or outside 1..100). */
int test_scaled(int count);

/* The library's error sentences: how many, and the last one. */
typedef struct test_log {
    int count;
    char last[1024];
} test_log;

/* A clpool_log_fn for test_log (user): records CLPOOL_LOG_ERROR messages. */
void test_log_errors(void *user, clpool_log_level level, const char *message);

/* A context on the default device with these options (0: the library's
 * choice), logging errors to @p log when not NULL; asserts success. */
clpool_context *test_context(test_log *log, size_t work_group_size, size_t max_planes);

/* Whether the context's device has cl_khr_fp64. */
int test_has_fp64(const clpool_context *ctx);

#endif
