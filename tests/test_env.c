/*
 * The suites' environment switches, contexts and error log (test_env.h).
 */
#include "test_env.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_small_mode(void)
{
    const char *s = getenv("CLPOOL_TEST_SMALL");
    return s && strcmp(s, "1") == 0;
}

int test_scaled(int count)
{
    const char *s = getenv("CLPOOL_TEST_SCALE");
    int pct = s ? atoi(s) : 100;
    if (pct <= 0 || pct > 100)
        pct = 100;
    int n = count * pct / 100;
    return n < 1 ? 1 : n;
}

void test_log_errors(void *user, clpool_log_level level, const char *message)
{
    test_log *log = user;
    if (level != CLPOOL_LOG_ERROR)
        return;
    log->count++;
    snprintf(log->last, sizeof log->last, "%s", message ? message : "(null)");
}

clpool_context *test_context(test_log *log, size_t work_group_size, size_t max_planes)
{
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.work_group_size = work_group_size;
    o.max_planes_per_launch = max_planes;
    if (log) {
        o.log = test_log_errors;
        o.log_user = log;
    }
    clpool_context *ctx = NULL;
    clpool_status st = clpool_context_create(&o, &ctx);
    ck_assert_msg(st == CLPOOL_SUCCESS, "clpool_context_create: %s", clpool_status_string(st));
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

int test_has_fp64(const clpool_context *ctx)
{
    clpool_device_info info;
    ck_assert_int_eq(clpool_context_device_info(ctx, &info), CLPOOL_SUCCESS);
    return info.has_fp64;
}
