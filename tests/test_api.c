/*
 * Suite "api": every error path of the public API (NULL arguments, bad
 * enums, bad shapes, each invalid window parameter with its status and its one
 * log sentence, enqueue buffer checks), the empty batch, status strings, and
 * embedding in a caller's own OpenCL context, queue, buffers and events.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "harness.h"
#include "reference.h"

#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* Counts error messages (a failing call sends exactly one); messages of
 * other levels (what a plan chose, at info/debug) are only counted apart. */
typedef struct log_capture {
    int count;
    int other;
    clpool_log_level level;
    char last[1024];
} log_capture;

static void capture_log(void *user, clpool_log_level level, const char *message)
{
    log_capture *c = user;
    if (level != CLPOOL_LOG_ERROR) {
        c->other++;
        return;
    }
    c->count++;
    c->level = level;
    snprintf(c->last, sizeof c->last, "%s", message ? message : "(null)");
}

static clpool_context *new_context(log_capture *cap)
{
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = capture_log;
    o.log_user = cap;
    clpool_context *ctx = NULL;
    clpool_status st = clpool_context_create(&o, &ctx);
    ck_assert_msg(st == CLPOOL_SUCCESS, "clpool_context_create: %s", clpool_status_string(st));
    return ctx;
}

static clpool_window_desc window2d(clpool_op kind, int k)
{
    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = kind;
    op.kernel[0] = op.kernel[1] = k;
    return op;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* @p number appears as a whole number token ("-1" in "got -1.", not "2" in "12"). */
static int contains_number(const char *hay, const char *number)
{
    size_t n = strlen(number);
    for (const char *p = hay; (p = strstr(p, number)) != NULL; p++) {
        int left_ok =
            p == hay || !(isdigit((unsigned char)p[-1]) || (number[0] != '-' && p[-1] == '-'));
        int right_ok = !isdigit((unsigned char)p[n]);
        if (left_ok && right_ok)
            return 1;
    }
    return 0;
}

/* Exactly one message, one line, naming @p name and every number of @p values
 * (NULL-terminated). */
static void expect_one_sentence(const log_capture *c, const char *what, const char *name,
                                const char *const *values)
{
    ck_assert_msg(c->count == 1, "%s: %d log messages, want 1 (last: \"%s\")", what, c->count,
                  c->last);
    ck_assert_msg(c->level == CLPOOL_LOG_ERROR, "%s: logged at level %d", what, (int)c->level);
    size_t len = strlen(c->last);
    ck_assert_msg(len > 10 && !strchr(c->last, '\n') && !isspace((unsigned char)c->last[len - 1]),
                  "%s: not one sentence on one line: \"%s\"", what, c->last);
    if (name)
        ck_assert_msg(contains_ci(c->last, name), "%s: \"%s\" does not name %s", what, c->last,
                      name);
    for (; values && *values; values++)
        ck_assert_msg(contains_number(c->last, *values), "%s: \"%s\" does not give the value %s",
                      what, c->last, *values);
}

#define SENTINEL_PLAN ((clpool_plan *)(uintptr_t)0x5eed)
#define SENTINEL_CTX ((clpool_context *)(uintptr_t)0x5eed)
#define SENTINEL_EVENT ((cl_event)(uintptr_t)0x5eed)

static cl_mem make_buffer(cl_context ctx, size_t bytes)
{
    cl_int err;
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err);
    ck_assert_msg(err == CL_SUCCESS, "clCreateBuffer(%zu): %d", bytes, err);
    return m;
}

/* ------------------------------------------------------------------------ */
/* Pure functions                                                           */

START_TEST(test_status_strings)
{
    const char *seen[CLPOOL_ERROR_INVALID_ROIS + 1];
    for (int s = CLPOOL_SUCCESS; s <= CLPOOL_ERROR_INVALID_ROIS; s++) {
        const char *str = clpool_status_string((clpool_status)s);
        ck_assert_msg(str && *str, "status %d has no string", s);
        ck_assert_msg(!contains_ci(str, "unknown"), "status %d is \"%s\"", s, str);
        for (int t = 0; t < s; t++)
            ck_assert_msg(strcmp(seen[t], str) != 0, "statuses %d and %d share \"%s\"", t, s, str);
        seen[s] = str;
    }
    ck_assert_str_eq(clpool_status_string(CLPOOL_ERROR_INVALID_PADDING), "invalid padding");
    ck_assert_str_eq(clpool_status_string(CLPOOL_SUCCESS), "success");
    const int unknown[] = {-1, CLPOOL_ERROR_INVALID_ROIS + 1, 1000};
    for (int i = 0; i < 3; i++) {
        const char *str = clpool_status_string((clpool_status)unknown[i]);
        ck_assert_msg(str && *str, "unknown status %d has no string", unknown[i]);
    }
}
END_TEST

START_TEST(test_version_and_sizes)
{
    ck_assert_str_eq(clpool_version(), CLPOOL_VERSION_STRING);
    static const size_t sizes[] = {4, 2, 2, 8, 1, 1, 4, 8};
    for (int d = CLPOOL_FLOAT32; d <= CLPOOL_INT64; d++)
        ck_assert_uint_eq(clpool_dtype_size((clpool_dtype)d), sizes[d]);
    ck_assert_uint_eq(clpool_dtype_size((clpool_dtype)8), 0);
    ck_assert_uint_eq(clpool_dtype_size((clpool_dtype)-1), 0);

    clpool_tensor_desc t = tensor(2, 2, 3, 5, 7, 0);
    ck_assert_uint_eq(clpool_tensor_elements(&t), 2 * 3 * 5 * 7);
    t = tensor(3, 1, 2, 3, 4, 5);
    ck_assert_uint_eq(clpool_tensor_elements(&t), 120);
    t = tensor(1, 0, 2, 3, 0, 0);
    ck_assert_uint_eq(clpool_tensor_elements(&t), 0);
    t = tensor(0, 1, 2, 3, 0, 0);
    ck_assert_uint_eq(clpool_tensor_elements(&t), 0);
    t = tensor(4, 1, 2, 3, 4, 5);
    ck_assert_uint_eq(clpool_tensor_elements(&t), 0);
    t = tensor(3, SIZE_MAX / 2, 2, 2, 1, 1);
    ck_assert_uint_eq(clpool_tensor_elements(&t), 0);
    t = tensor(2, 1, (size_t)1 << 40, (size_t)1 << 30, 1, 0);
    ck_assert_uint_eq(clpool_tensor_elements(&t), 0);
    ck_assert_uint_eq(clpool_tensor_elements(NULL), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Devices and contexts                                                     */

START_TEST(test_list_devices)
{
    size_t count = 0;
    ck_assert_int_eq(clpool_list_devices(NULL, 0, &count), CLPOOL_SUCCESS);
    ck_assert_uint_ge(count, 1);
    clpool_device_info *infos = calloc(count + 1, sizeof *infos);
    size_t again = 0;
    ck_assert_int_eq(clpool_list_devices(infos, count + 1, &again), CLPOOL_SUCCESS);
    ck_assert_uint_eq(again, count);
    int defaults = 0;
    for (size_t i = 0; i < count; i++) {
        defaults += infos[i].is_default;
        ck_assert_msg(infos[i].device_name[0], "device %zu has no name", i);
        ck_assert_int_ge(infos[i].platform_index, 0);
        ck_assert_int_ge(infos[i].device_index, 0);
        ck_assert_uint_ge(infos[i].max_work_group_size, 1);
    }
    ck_assert_int_eq(defaults, 1);
    /* A short array gets the first rows and the full count. */
    memset(infos, 0, sizeof *infos);
    ck_assert_int_eq(clpool_list_devices(infos, 1, &again), CLPOOL_SUCCESS);
    ck_assert_uint_eq(again, count);
    ck_assert_msg(infos[0].device_name[0], "first row not written");
    again = 12345;
    ck_assert_int_eq(clpool_list_devices(NULL, 0, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_list_devices(NULL, 2, &again), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_uint_eq(again, 12345);
    free(infos);
}
END_TEST

START_TEST(test_context_create)
{
    log_capture cap = {0};
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = capture_log;
    o.log_user = &cap;

    ck_assert_int_eq(clpool_context_create(&o, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(cap.count, 1);

    /* No such device: NO_DEVICE, one message naming the spec, out untouched. */
    clpool_context *ctx = SENTINEL_CTX;
    cap.count = 0;
    o.device = "no-such-device-xyzzy";
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_ERROR_NO_DEVICE);
    ck_assert_ptr_eq(ctx, SENTINEL_CTX);
    expect_one_sentence(&cap, "unknown device", "no-such-device-xyzzy", NULL);
    cap.count = 0;
    o.device = "99:0";
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_ERROR_NO_DEVICE);
    ck_assert_ptr_eq(ctx, SENTINEL_CTX);
    ck_assert_int_eq(cap.count, 1);

    /* Index and type specs. */
    const char *specs[] = {"0:0", "cpu", NULL};
    for (int i = 0; i < 3; i++) {
        o.device = specs[i];
        ctx = NULL;
        clpool_status st = clpool_context_create(&o, &ctx);
        ck_assert_msg(st == CLPOOL_SUCCESS, "device \"%s\": %s", specs[i] ? specs[i] : "(null)",
                      clpool_status_string(st));
        ck_assert_ptr_nonnull(clpool_context_cl_context(ctx));
        ck_assert_ptr_nonnull(clpool_context_cl_device(ctx));
        ck_assert_ptr_nonnull(clpool_context_cl_queue(ctx));
        clpool_device_info info;
        ck_assert_int_eq(clpool_context_device_info(ctx, &info), CLPOOL_SUCCESS);
        ck_assert_msg(info.device_name[0], "no device name");
        if (i == 0) {
            ck_assert_int_eq(info.platform_index, 0);
            ck_assert_int_eq(info.device_index, 0);
        }
        clpool_context_destroy(ctx);
    }

    /* NULL options: every default. */
    ctx = NULL;
    ck_assert_int_eq(clpool_context_create(NULL, &ctx), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_context_device_info(ctx, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_context_cache_stats(ctx, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_context_destroy(ctx);
    clpool_context_destroy(NULL); /* a no-op */

    clpool_device_info info;
    clpool_cache_stats stats;
    ck_assert_int_eq(clpool_context_device_info(NULL, &info), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_context_cache_stats(NULL, &stats), CLPOOL_ERROR_INVALID_ARGUMENT);

    /* Disk cache: off, or the folder given. */
    o.device = NULL;
    o.disable_disk_cache = 1;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    ck_assert_ptr_null(clpool_context_cache_dir(ctx));
    clpool_context_destroy(ctx);
    o.disable_disk_cache = 0;
    char dir[] = "/tmp/clpool-test-api-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    o.cache_dir = dir;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    ck_assert_ptr_nonnull(clpool_context_cache_dir(ctx));
    ck_assert_str_eq(clpool_context_cache_dir(ctx), dir);
    ck_assert_int_eq(clpool_context_cache_stats(ctx, &stats), CLPOOL_SUCCESS);
    ck_assert_uint_eq(stats.builds + stats.disk_hits + stats.memory_hits, 0);
    clpool_context_destroy(ctx);
    rmdir(dir); /* nothing was planned: nothing written */
}
END_TEST

START_TEST(test_context_wrap_errors)
{
    log_capture cap = {0};
    clpool_context *ctx = new_context(&cap);
    cl_context cl = clpool_context_cl_context(ctx);
    cl_device_id dev = clpool_context_cl_device(ctx);
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = capture_log;
    o.log_user = &cap;
    clpool_context *w = SENTINEL_CTX;
    ck_assert_int_eq(clpool_context_wrap(NULL, dev, &o, &w), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_context_wrap(cl, NULL, &o, &w), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_context_wrap(cl, dev, &o, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_eq(w, SENTINEL_CTX);
    /* The options' log callback is the only one the caller can give. */
    ck_assert_msg(cap.count == 3, "%d of 3 wrap failures reached the options' log callback",
                  cap.count);
    /* A wrapped context has no queue of its own. */
    ck_assert_int_eq(clpool_context_wrap(cl, dev, NULL, &w), CLPOOL_SUCCESS);
    ck_assert_ptr_eq(clpool_context_cl_context(w), cl);
    ck_assert_ptr_eq(clpool_context_cl_device(w), dev);
    ck_assert_ptr_null(clpool_context_cl_queue(w));
    clpool_context_destroy(w);
    clpool_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Plans                                                                    */

START_TEST(test_plan_null_and_enums)
{
    log_capture cap = {0};
    clpool_context *ctx = new_context(&cap);
    clpool_window_desc op = window2d(CLPOOL_OP_MAX, 2);
    clpool_tensor_desc in = tensor(2, 1, 2, 8, 8, 0);
    clpool_plan *plan = SENTINEL_PLAN;

    ck_assert_int_eq(clpool_plan_window(NULL, &op, &in, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    cap.count = 0;
    ck_assert_int_eq(clpool_plan_window(ctx, NULL, &in, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_int_eq(clpool_plan_window(ctx, &op, NULL, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_eq(plan, SENTINEL_PLAN);

    struct {
        const char *what, *name, *value;
        int field, value_int;
    } bad[] = {
        {"op 0", "op", "0", 0, 0},          {"op 8", "op", "8", 0, 8},
        {"op -1", "op", "-1", 0, -1},       {"indices 3", "indices", "3", 1, 3},
        {"dtype 99", "dtype", "99", 2, 99}, {"layout 2", "layout", "2", 3, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clpool_window_desc o = op;
        clpool_tensor_desc t = in;
        switch (bad[i].field) {
        case 0:
            o.op = (clpool_op)bad[i].value_int;
            break;
        case 1:
            o.indices = (clpool_index_type)bad[i].value_int;
            break;
        case 2:
            t.dtype = (clpool_dtype)bad[i].value_int;
            break;
        default:
            t.layout = (clpool_layout)bad[i].value_int;
            break;
        }
        cap.count = 0;
        clpool_status st = clpool_plan_window(ctx, &o, &t, &plan);
        ck_assert_msg(st == CLPOOL_ERROR_INVALID_ARGUMENT, "%s: %s", bad[i].what,
                      clpool_status_string(st));
        ck_assert_ptr_eq(plan, SENTINEL_PLAN);
        const char *values[] = {bad[i].value, NULL};
        expect_one_sentence(&cap, bad[i].what, bad[i].name, values);
    }

    /* Plan queries on NULL. */
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(NULL, &out), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_uint_eq(clpool_plan_workspace_size(NULL), 0);
    ck_assert_uint_eq(clpool_plan_launch_count(NULL), 0);
    clpool_plan_destroy(NULL);
    ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, &plan), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_plan_output_desc(plan, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

START_TEST(test_plan_shapes)
{
    log_capture cap = {0};
    clpool_context *ctx = new_context(&cap);
    clpool_window_desc op = window2d(CLPOOL_OP_MAX, 2);
    struct {
        const char *what;
        clpool_tensor_desc in;
        const char *value;
    } bad[] = {
        {"spatial_dims 0", tensor(0, 1, 2, 8, 8, 0), "0"},
        {"spatial_dims 4", tensor(4, 1, 2, 8, 8, 8), "4"},
        {"spatial_dims -1", tensor(-1, 1, 2, 8, 8, 0), "-1"},
        {"C=0", tensor(2, 1, 0, 8, 8, 0), "0"},
        {"H=0", tensor(2, 1, 2, 0, 8, 0), "0"},
        {"W=0", tensor(2, 1, 2, 8, 0, 0), "0"},
        {"L=0", tensor(1, 1, 2, 0, 0, 0), "0"},
        {"D=0", tensor(3, 1, 2, 0, 8, 8), "0"},
        {"overflow", tensor(2, SIZE_MAX / 4, 1024, 1024, 1024, 0), NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clpool_plan *plan = SENTINEL_PLAN;
        clpool_window_desc o = op;
        if (bad[i].in.spatial_dims == 1 || bad[i].in.spatial_dims == 3)
            o.kernel[2] = 2;
        cap.count = 0;
        clpool_status st = clpool_plan_window(ctx, &o, &bad[i].in, &plan);
        ck_assert_msg(st == CLPOOL_ERROR_INVALID_SHAPE, "%s: %s", bad[i].what,
                      clpool_status_string(st));
        ck_assert_ptr_eq(plan, SENTINEL_PLAN);
        const char *values[] = {bad[i].value, NULL};
        expect_one_sentence(&cap, bad[i].what, NULL, values);
    }
    /* int32 indices cannot address a plane of 2^31 elements or more. */
    clpool_window_desc o = op;
    o.indices = CLPOOL_INDICES_INT32;
    clpool_tensor_desc huge = tensor(2, 1, 1, 65536, 32768, 0);
    clpool_plan *plan = SENTINEL_PLAN;
    cap.count = 0;
    clpool_status st = clpool_plan_window(ctx, &o, &huge, &plan);
    /* The index type is an option out of range for this shape. */
    ck_assert_msg(st == CLPOOL_ERROR_INVALID_ARGUMENT, "int32 indices over a 2^31 plane: %s",
                  clpool_status_string(st));
    ck_assert_ptr_eq(plan, SENTINEL_PLAN);
    const char *limit[] = {"2147483648", NULL};
    expect_one_sentence(&cap, "int32 indices over a 2^31 plane", "int32", limit);
    /* One element less than 2^31 is fine (planned only, never run). */
    huge = tensor(2, 1, 1, 65536, 32767, 0);
    plan = NULL;
    st = clpool_plan_window(ctx, &o, &huge, &plan);
    ck_assert_msg(st == CLPOOL_SUCCESS, "int32 indices, 65536x32767 plane: %s",
                  clpool_status_string(st));
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* Each invalid window parameter: its own status and one sentence naming the
 * parameter and its value. */
START_TEST(test_plan_parameters)
{
    log_capture cap = {0};
    clpool_context *ctx = new_context(&cap);
    clpool_tensor_desc in = tensor(2, 1, 2, 8, 8, 0);
    struct {
        const char *what;
        clpool_op kind;
        int k, s, p, d, div; /* applied to dim 1 (W) */
        clpool_status want;
        const char *name;
        const char *values[3];
    } bad[] = {
        {"kernel 0", CLPOOL_OP_MAX, 0, 0, 0, 0, 0, CLPOOL_ERROR_INVALID_KERNEL, "kernel", {"0"}},
        {"kernel -2", CLPOOL_OP_AVG, -2, 1, 0, 0, 0, CLPOOL_ERROR_INVALID_KERNEL, "kernel", {"-2"}},
        {"stride -1", CLPOOL_OP_MAX, 3, -1, 0, 0, 0, CLPOOL_ERROR_INVALID_STRIDE, "stride", {"-1"}},
        {"padding -1",
         CLPOOL_OP_MAX,
         3,
         0,
         -1,
         0,
         0,
         CLPOOL_ERROR_INVALID_PADDING,
         "padding",
         {"-1"}},
        /* §0.1: the bound is ((k-1)*d+1)/2 and the message names it. */
        {"padding 3 > 2 (k=5)",
         CLPOOL_OP_AVG,
         5,
         0,
         3,
         0,
         0,
         CLPOOL_ERROR_INVALID_PADDING,
         "padding",
         {"3", "2"}},
        {"padding 4 > 3 (k=3 d=3)",
         CLPOOL_OP_MAX,
         3,
         0,
         4,
         3,
         0,
         CLPOOL_ERROR_INVALID_PADDING,
         "padding",
         {"4", "3"}},
        {"dilation -1",
         CLPOOL_OP_MAX,
         3,
         0,
         0,
         -1,
         0,
         CLPOOL_ERROR_INVALID_DILATION,
         "dilation",
         {"-1"}},
        {"avg dilation 2",
         CLPOOL_OP_AVG,
         3,
         0,
         0,
         2,
         0,
         CLPOOL_ERROR_INVALID_DILATION,
         "dilation",
         {"2"}},
        {"output too small",
         CLPOOL_OP_MAX,
         9,
         1,
         0,
         0,
         0,
         CLPOOL_ERROR_OUTPUT_TOO_SMALL,
         "output",
         {NULL}},
        {"output too small (dilated)",
         CLPOOL_OP_MAX,
         3,
         1,
         0,
         4,
         0,
         CLPOOL_ERROR_OUTPUT_TOO_SMALL,
         "output",
         {NULL}},
        /* Only avg takes a divisor (0 means none). */
        {"max with divisor 3",
         CLPOOL_OP_MAX,
         2,
         0,
         0,
         0,
         3,
         CLPOOL_ERROR_INVALID_DIVISOR,
         "divisor",
         {"3"}},
        {"max with divisor -5",
         CLPOOL_OP_MAX,
         2,
         0,
         0,
         0,
         -5,
         CLPOOL_ERROR_INVALID_DIVISOR,
         "divisor",
         {"-5"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clpool_window_desc op = window2d(bad[i].kind, 2);
        op.kernel[1] = bad[i].k;
        op.stride[1] = bad[i].s;
        op.padding[1] = bad[i].p;
        op.dilation[1] = bad[i].d;
        op.divisor_override = bad[i].div;
        ck_assert_int_eq(ref_window_check(&op, &in, NULL), bad[i].want);
        clpool_plan *plan = SENTINEL_PLAN;
        cap.count = 0;
        clpool_status st = clpool_plan_window(ctx, &op, &in, &plan);
        ck_assert_msg(st == bad[i].want, "%s: got %s, want %s", bad[i].what,
                      clpool_status_string(st), clpool_status_string(bad[i].want));
        ck_assert_ptr_eq(plan, SENTINEL_PLAN);
        expect_one_sentence(&cap, bad[i].what, bad[i].name, bad[i].values);
    }

    /* Only max returns indices. */
    clpool_window_desc avg_idx = window2d(CLPOOL_OP_AVG, 2);
    avg_idx.indices = CLPOOL_INDICES_INT64;
    ck_assert_int_eq(ref_window_check(&avg_idx, &in, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_plan *p0 = SENTINEL_PLAN;
    cap.count = 0;
    ck_assert_int_eq(clpool_plan_window(ctx, &avg_idx, &in, &p0), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_eq(p0, SENTINEL_PLAN);
    expect_one_sentence(&cap, "avg with indices", "indices", NULL);

    /* Limits that are valid: padding exactly at the bound, avg dilation 1,
     * negative divisors, N = 0. */
    clpool_window_desc ok = window2d(CLPOOL_OP_MAX, 3);
    ok.dilation[0] = ok.dilation[1] = 3;
    ok.padding[0] = ok.padding[1] = 3; /* ((3-1)*3+1)/2 = 3 > 3/2 (torch 1.13) */
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_window(ctx, &ok, &in, &plan), CLPOOL_SUCCESS);
    clpool_plan_destroy(plan);
    ok = window2d(CLPOOL_OP_AVG, 3);
    ok.dilation[0] = ok.dilation[1] = 1;
    ok.divisor_override = -2;
    ck_assert_int_eq(clpool_plan_window(ctx, &ok, &in, &plan), CLPOOL_SUCCESS);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* The empty batch: a valid plan whose enqueue writes nothing but still gives
 * a completed event. */
START_TEST(test_empty_batch)
{
    log_capture cap = {0};
    clpool_context *ctx = new_context(&cap);
    clpool_window_desc op = window2d(CLPOOL_OP_MAX, 2);
    op.indices = CLPOOL_INDICES_INT64;
    clpool_tensor_desc in = tensor(2, 0, 3, 6, 6, 0);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, &plan), CLPOOL_SUCCESS);
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
    ck_assert_uint_eq(out.n, 0);
    ck_assert_uint_eq(out.c, 3);
    ck_assert_uint_eq(out.spatial[0], 3);
    ck_assert_uint_eq(out.spatial[1], 3);

    cl_context cl = clpool_context_cl_context(ctx);
    cl_command_queue q = clpool_context_cl_queue(ctx);
    cl_mem mem = make_buffer(cl, 64);
    const unsigned char fill = 0xab;
    ck_assert_int_eq(clEnqueueFillBuffer(q, mem, &fill, 1, 0, 64, 0, NULL, NULL), CL_SUCCESS);
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.input.mem = io.output.mem = io.indices.mem = mem;
    cl_event ev = NULL;
    ck_assert_int_eq(clpool_enqueue(plan, q, &io, 0, NULL, &ev), CLPOOL_SUCCESS);
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(clWaitForEvents(1, &ev), CL_SUCCESS);
    cl_int status = -1;
    ck_assert_int_eq(
        clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL),
        CL_SUCCESS);
    ck_assert_int_eq(status, CL_COMPLETE);
    clReleaseEvent(ev);
    unsigned char host[64];
    ck_assert_int_eq(clEnqueueReadBuffer(q, mem, CL_TRUE, 0, 64, host, 0, NULL, NULL), CL_SUCCESS);
    for (int i = 0; i < 64; i++)
        ck_assert_uint_eq(host[i], fill);
    /* With a NULL event too, and the host call. */
    ck_assert_int_eq(clpool_enqueue(plan, q, &io, 0, NULL, NULL), CLPOOL_SUCCESS);
    float dummy = 0;
    int64_t dummy_idx = 0;
    ck_assert_int_eq(clpool_run_host(plan, NULL, &dummy, &dummy, &dummy_idx), CLPOOL_SUCCESS);
    ck_assert_int_eq(clFinish(q), CL_SUCCESS);
    ck_assert_msg(cap.count == 0, "%d unexpected log messages, last: \"%s\"", cap.count, cap.last);
    clReleaseMemObject(mem);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Enqueue and host-call checks                                             */

START_TEST(test_enqueue_errors)
{
    log_capture cap = {0};
    clpool_context *ctx = new_context(&cap);
    cl_context cl = clpool_context_cl_context(ctx);
    cl_command_queue q = clpool_context_cl_queue(ctx);
    clpool_window_desc op = window2d(CLPOOL_OP_MAX, 2);
    op.indices = CLPOOL_INDICES_INT64;
    clpool_tensor_desc in = tensor(2, 2, 3, 8, 8, 0);
    const size_t in_elems = 2 * 3 * 64, out_elems = 2 * 3 * 16;
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, &plan), CLPOOL_SUCCESS);

    cl_mem min = make_buffer(cl, in_elems * 4);
    cl_mem mout = make_buffer(cl, out_elems * 4);
    cl_mem midx = make_buffer(cl, out_elems * 8);
    cl_mem small_in = make_buffer(cl, in_elems * 4 - 4);
    cl_mem small_out = make_buffer(cl, out_elems * 4 - 4);
    cl_mem idx32 = make_buffer(cl, out_elems * 4); /* int32-sized for int64 indices */

    /* Another context of the same device: its buffer and its queue. */
    cl_device_id dev = clpool_context_cl_device(ctx);
    cl_int err;
    cl_context other = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_command_queue other_q = clCreateCommandQueue(other, dev, 0, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_mem foreign = make_buffer(other, in_elems * 4);

    clpool_io good;
    memset(&good, 0, sizeof good);
    good.input.mem = min;
    good.output.mem = mout;
    good.indices.mem = midx;

    cl_event ev = SENTINEL_EVENT;
    ck_assert_int_eq(clpool_enqueue(NULL, q, &good, 0, NULL, &ev), CLPOOL_ERROR_INVALID_ARGUMENT);
    cap.count = 0;
    ck_assert_int_eq(clpool_enqueue(plan, NULL, &good, 0, NULL, &ev),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one_sentence(&cap, "NULL queue", "queue", NULL);
    cap.count = 0;
    ck_assert_int_eq(clpool_enqueue(plan, q, NULL, 0, NULL, &ev), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(cap.count, 1);
    cap.count = 0;
    ck_assert_int_eq(clpool_enqueue(plan, q, &good, 1, NULL, &ev), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(cap.count, 1);
    cap.count = 0;
    ck_assert_int_eq(clpool_enqueue(plan, other_q, &good, 0, NULL, &ev),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one_sentence(&cap, "queue of another context", "queue", NULL);
    ck_assert_ptr_eq(ev, SENTINEL_EVENT);

    struct {
        const char *what, *name;
        int slot; /* 0 input, 1 output, 2 indices */
        cl_mem mem;
        size_t offset;
    } bad[] = {
        {"NULL input", "input", 0, NULL, 0},
        {"NULL output", "output", 1, NULL, 0},
        {"indices missing", "indices", 2, NULL, 0},
        {"input one element short", "input", 0, NULL, 0},
        {"output one element short", "output", 1, NULL, 0},
        {"input offset past the end", "input", 0, NULL, 1},
        {"output offset past the end", "output", 1, NULL, 1},
        {"indices offset past the end", "indices", 2, NULL, 1},
        {"int32-sized indices buffer", "indices", 2, NULL, 0},
        {"input of another context", "input", 0, NULL, 0},
        {"output of another context", "output", 1, NULL, 0},
        {"huge offset", "input", 0, NULL, SIZE_MAX / 2},
    };
    bad[3].mem = small_in;
    bad[4].mem = small_out;
    bad[5].mem = min;
    bad[6].mem = mout;
    bad[7].mem = midx;
    bad[8].mem = idx32;
    bad[9].mem = foreign;
    bad[10].mem = foreign;
    bad[11].mem = min;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clpool_io io = good;
        clpool_buffer *b = bad[i].slot == 0   ? &io.input
                           : bad[i].slot == 1 ? &io.output
                                              : &io.indices;
        b->mem = bad[i].mem;
        b->offset = bad[i].offset;
        cap.count = 0;
        ev = SENTINEL_EVENT;
        clpool_status st = clpool_enqueue(plan, q, &io, 0, NULL, &ev);
        ck_assert_msg(st == CLPOOL_ERROR_INVALID_BUFFER, "%s: %s", bad[i].what,
                      clpool_status_string(st));
        ck_assert_ptr_eq(ev, SENTINEL_EVENT);
        expect_one_sentence(&cap, bad[i].what, bad[i].name, NULL);
    }

    /* Exactly fitting buffers with offsets are fine. */
    cl_mem fit_in = make_buffer(cl, (in_elems + 5) * 4);
    clpool_io io = good;
    io.input.mem = fit_in;
    io.input.offset = 5;
    ev = NULL;
    ck_assert_int_eq(clpool_enqueue(plan, q, &io, 0, NULL, &ev), CLPOOL_SUCCESS);
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(clWaitForEvents(1, &ev), CL_SUCCESS);
    clReleaseEvent(ev);

    /* Host call: NULL pointers, missing indices. */
    float *x = calloc(in_elems, sizeof *x), *y = calloc(out_elems, sizeof *y);
    int64_t *idx = calloc(out_elems, sizeof *idx);
    ck_assert_int_eq(clpool_run_host(NULL, NULL, x, y, idx), CLPOOL_ERROR_INVALID_ARGUMENT);
    cap.count = 0;
    ck_assert_int_eq(clpool_run_host(plan, NULL, NULL, y, idx), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(cap.count, 1);
    cap.count = 0;
    ck_assert_int_eq(clpool_run_host(plan, NULL, x, NULL, idx), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(cap.count, 1);
    cap.count = 0;
    ck_assert_int_eq(clpool_run_host(plan, NULL, x, y, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one_sentence(&cap, "host call without indices", "indices", NULL);
    cap.count = 0;
    ck_assert_int_eq(clpool_run_host(plan, other_q, x, y, idx), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_int_eq(clpool_run_host(plan, q, x, y, idx), CLPOOL_SUCCESS);

    /* The general host call: same result as clpool_run_host, a NULL io or a
     * missing slot is refused with one sentence, unused slots are ignored. */
    {
        float *y2 = malloc(out_elems * sizeof *y2);
        int64_t *idx2 = malloc(out_elems * sizeof *idx2);
        for (size_t i = 0; i < out_elems; i++) {
            y2[i] = NAN;
            idx2[i] = -7;
        }
        clpool_host_io hio = {.input = x, .output = y2, .indices = idx2, .rois = x};
        ck_assert_int_eq(clpool_run_host_io(plan, q, &hio), CLPOOL_SUCCESS);
        ck_assert_mem_eq(y2, y, out_elems * sizeof *y);
        ck_assert_mem_eq(idx2, idx, out_elems * sizeof *idx);
        cap.count = 0;
        ck_assert_int_eq(clpool_run_host_io(plan, q, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
        ck_assert_int_eq(cap.count, 1);
        cap.count = 0;
        hio.indices = NULL;
        ck_assert_int_eq(clpool_run_host_io(plan, q, &hio), CLPOOL_ERROR_INVALID_ARGUMENT);
        expect_one_sentence(&cap, "host io without indices", "indices", NULL);
        free(y2);
        free(idx2);
    }

    /* An avg plan ignores the indices slot. */
    clpool_plan *avg = NULL;
    clpool_window_desc aop = window2d(CLPOOL_OP_AVG, 2);
    ck_assert_int_eq(clpool_plan_window(ctx, &aop, &in, &avg), CLPOOL_SUCCESS);
    io = good;
    io.indices.mem = NULL;
    ck_assert_int_eq(clpool_enqueue(avg, q, &io, 0, NULL, NULL), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_run_host(avg, NULL, x, y, NULL), CLPOOL_SUCCESS);
    ck_assert_int_eq(clFinish(q), CL_SUCCESS);
    clpool_plan_destroy(avg);

    free(x);
    free(y);
    free(idx);
    cl_mem all[] = {min, mout, midx, small_in, small_out, idx32, foreign, fit_in};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clReleaseMemObject(all[i]);
    clReleaseCommandQueue(other_q);
    clReleaseContext(other);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Embedding in the caller's own OpenCL objects                             */

static cl_uint context_refcount(cl_context ctx)
{
    cl_uint n = 0;
    ck_assert_int_eq(clGetContextInfo(ctx, CL_CONTEXT_REFERENCE_COUNT, sizeof n, &n, NULL),
                     CL_SUCCESS);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(test_embedding)
{
    /* The caller's platform, device, context and queue, found with plain
     * OpenCL calls. */
    cl_platform_id platforms[8];
    cl_uint nplat = 0;
    ck_assert_int_eq(clGetPlatformIDs(8, platforms, &nplat), CL_SUCCESS);
    ck_assert_uint_ge(nplat, 1);
    cl_device_id dev = NULL;
    for (cl_uint i = 0; i < nplat && !dev; i++)
        if (clGetDeviceIDs(platforms[i], CL_DEVICE_TYPE_ALL, 1, &dev, NULL) != CL_SUCCESS)
            dev = NULL;
    ck_assert_ptr_nonnull(dev);
    cl_int err;
    cl_context cl = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_command_queue q = clCreateCommandQueue(cl, dev, 0, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_uint refs_before = context_refcount(cl);

    log_capture cap = {0};
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = capture_log;
    o.log_user = &cap;
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_wrap(cl, dev, &o, &ctx), CLPOOL_SUCCESS);
    ck_assert_uint_gt(context_refcount(cl), refs_before);

    /* Max with int64 indices over (2, 3, 9, 11), k=3, s=2, p=1, ceil. */
    clpool_window_desc op = window2d(CLPOOL_OP_MAX, 3);
    op.stride[0] = op.stride[1] = 2;
    op.padding[0] = op.padding[1] = 1;
    op.ceil_mode = 1;
    op.indices = CLPOOL_INDICES_INT64;
    clpool_tensor_desc in = tensor(2, 2, 3, 9, 11, 0);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, &plan), CLPOOL_SUCCESS);
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
    size_t in_elems = clpool_tensor_elements(&in), out_elems = clpool_tensor_elements(&out);
    test_rng r = {42};
    float *x = malloc(in_elems * sizeof *x);
    fill_values(&r, x, in_elems, VALUES_SPECIAL);
    window_ref ref;
    ck_assert_int_eq(window_ref_compute(&ref, &op, &in, x), 0);

    /* One big buffer, in bytes: [guard | input | guard | output | guard |
     * indices | guard], each tensor at an element offset of its own type. */
    const size_t in_off = 7, out_off = in_off + in_elems + 9;
    const size_t idx_off = (out_off + out_elems + 5) / 2 + 3; /* in int64 elements */
    const size_t total = (idx_off + out_elems + 6) * 8;
    unsigned char *host = malloc(total), *back = malloc(total), *shared = NULL;
    ck_assert_int_eq(posix_memalign((void **)&shared, 4096, total), 0);
    memset(host, 0xc3, total);
    memcpy(host + in_off * 4, x, in_elems * 4);
    poison_floats((float *)(void *)(host + out_off * 4), out_elems);
    poison_indices(host + idx_off * 8, CLPOOL_INDICES_INT64, out_elems);
    memcpy(shared, host, total);
    /* USE_HOST_PTR: on CPU devices the kernel works in `shared` itself, so
     * an early write is visible there without an OpenCL call (a read on
     * another queue could wait on the gated kernel: PoCL orders commands on
     * the same buffer across queues). Elsewhere the check is vacuous. */
    cl_mem big = clCreateBuffer(cl, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, total, shared, &err);
    ck_assert_int_eq(err, CL_SUCCESS);

    clpool_io io;
    memset(&io, 0, sizeof io);
    io.input = (clpool_buffer){big, in_off};
    io.output = (clpool_buffer){big, out_off};
    io.indices = (clpool_buffer){big, idx_off};
    /* PoCL 3.1's single-threaded 'basic' device deadlocks inside
     * clSetUserEventStatus when a kernel waits on the user event (also with
     * plain OpenCL, no clpool involved): there the gate is a marker that is
     * already complete. */
    char dev_name[256] = "";
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof dev_name, dev_name, NULL);
    int user_gate = strncmp(dev_name, "basic-", 6) != 0;
    cl_event gate = NULL;
    if (user_gate) {
        gate = clCreateUserEvent(cl, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
    } else {
        ck_assert_int_eq(clEnqueueMarkerWithWaitList(q, 0, NULL, &gate), CL_SUCCESS);
        ck_assert_int_eq(clWaitForEvents(1, &gate), CL_SUCCESS);
        printf("embedding: no user-event gate on %s\n", dev_name);
    }
    cl_event done = NULL;
    ck_assert_int_eq(clpool_enqueue(plan, q, &io, 1, &gate, &done), CLPOOL_SUCCESS);
    ck_assert_ptr_nonnull(done);
    ck_assert_int_eq(clFlush(q), CL_SUCCESS);

    /* Gated: nothing written yet. */
    cl_int status = -1;
    if (user_gate) {
        sleep_ms(100);
        ck_assert_int_eq(
            clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL),
            CL_SUCCESS);
        ck_assert_int_ne(status, CL_COMPLETE);
        ck_assert_msg(memcmp(host, shared, total) == 0,
                      "the output was written before the gate opened");
        ck_assert_int_eq(clSetUserEventStatus(gate, CL_COMPLETE), CL_SUCCESS);
    }
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    ck_assert_int_eq(
        clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL),
        CL_SUCCESS);
    ck_assert_int_eq(status, CL_COMPLETE);
    ck_assert_int_eq(clEnqueueReadBuffer(q, big, CL_TRUE, 0, total, back, 0, NULL, NULL),
                     CL_SUCCESS);

    /* Results, and every byte outside the output and indices unchanged. */
    float *y = malloc(out_elems * sizeof *y);
    int64_t *idx = malloc(out_elems * sizeof *idx);
    memcpy(y, back + out_off * 4, out_elems * 4);
    memcpy(idx, back + idx_off * 8, out_elems * 8);
    int budget = 20;
    ck_assert_uint_eq(window_compare(&ref, &op, &in, y, idx, "embedded", &budget), 0);
    size_t changed = 0;
    for (size_t b = 0; b < total; b++) {
        int in_out = b >= out_off * 4 && b < (out_off + out_elems) * 4;
        int in_idx = b >= idx_off * 8 && b < (idx_off + out_elems) * 8;
        if (!in_out && !in_idx)
            changed += back[b] != host[b];
    }
    ck_assert_msg(changed == 0, "%zu bytes outside the output and indices changed", changed);

    /* The host call on a wrapped context, on its own temporary queue and on
     * the caller's. */
    float *y2 = malloc(out_elems * sizeof *y2);
    int64_t *idx2 = malloc(out_elems * sizeof *idx2);
    for (int k = 0; k < 2; k++) {
        poison_floats(y2, out_elems);
        poison_indices(idx2, CLPOOL_INDICES_INT64, out_elems);
        ck_assert_int_eq(clpool_run_host(plan, k ? q : NULL, x, y2, idx2), CLPOOL_SUCCESS);
        ck_assert_uint_eq(window_compare(&ref, &op, &in, y2, idx2, "wrapped host", &budget), 0);
    }
    ck_assert_msg(cap.count == 0, "%d unexpected log messages, last: \"%s\"", cap.count, cap.last);

    /* Release what the caller made since refs_before (buffers and events
     * may retain the context), then the library's objects: the count must
     * be back where it was (a temporary queue of run_host included). */
    clReleaseEvent(done);
    clReleaseEvent(gate);
    clReleaseMemObject(big);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
    ck_assert_uint_eq(context_refcount(cl), refs_before);

    /* The caller's context still works. */
    float probe[4] = {1, 2, 3, 4}, probe_back[4] = {0};
    cl_mem m =
        clCreateBuffer(cl, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof probe, probe, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    ck_assert_int_eq(clEnqueueReadBuffer(q, m, CL_TRUE, 0, sizeof probe, probe_back, 0, NULL, NULL),
                     CL_SUCCESS);
    ck_assert(memcmp(probe, probe_back, sizeof probe) == 0);
    clReleaseMemObject(m);

    clReleaseCommandQueue(q);
    clReleaseContext(cl);
    window_ref_free(&ref);
    free(x);
    free(y);
    free(idx);
    free(y2);
    free(idx2);
    free(host);
    free(back);
    free(shared);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, test_status_strings);
    tcase_add_test(tc, test_version_and_sizes);
    suite_add_tcase(s, tc);

    tc = tcase_create("context");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_list_devices);
    tcase_add_test(tc, test_context_create);
    tcase_add_test(tc, test_context_wrap_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("plan");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_plan_null_and_enums);
    tcase_add_test(tc, test_plan_shapes);
    tcase_add_test(tc, test_plan_parameters);
    tcase_add_test(tc, test_empty_batch);
    suite_add_tcase(s, tc);

    tc = tcase_create("enqueue");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_enqueue_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("embedding");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_embedding);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(api_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
