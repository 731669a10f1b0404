/*
 * libFuzzer target: window descriptor and shape validation, through the
 * public clpool_plan_window() on a context of the default device (PoCL's CPU
 * device on CI). No program is ever built: $CLPOOL_KERNEL_DIR points to a
 * folder that does not exist, so a descriptor that passes validation fails
 * when its kernel source is read (CLPOOL_ERROR_BUILD_FAILED).
 *
 * The input decodes into a clpool_window_desc and a clpool_tensor_desc,
 * mostly small values (which often break a rule) and boundary values. A
 * plain reference of the rules (spec §1, include/clpool.h) judges each:
 *   - breaks a rule: the plan must be refused by validation (a status other
 *     than BUILD_FAILED), with an error logged;
 *   - valid and well inside the implementation's limits (float32, windows
 *     and strides up to 1024, sizes up to 2^20): it must pass validation,
 *     i.e. fail only when its kernel source is read;
 *   - anything else: only the sanitizers judge.
 */
#include "clpool.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__extension__ typedef __int128 i128;

static clpool_context *context;

/* Inputs per verdict and per status, printed at exit: how many passed
 * validation tells whether the inputs still reach the code after it. */
static unsigned long verdict_count[3], status_count[16], other_status_count;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_window_plan: %s\n", what);
    abort();
}

/* ---- log sink: counts the messages of one call ------------------------- */

static int errors_logged;

static void count_log(void *user, clpool_log_level level, const char *message)
{
    (void)user;
    if (!message || !*message || strchr(message, '\n'))
        fail("a log message is empty or more than one line");
    if (level == CLPOOL_LOG_ERROR)
        errors_logged++;
}

static void print_counts(void)
{
    fprintf(stderr,
            "fuzz_window_plan: verdicts: %lu break a rule, %lu valid and modest, %lu undecided\n",
            verdict_count[0], verdict_count[1], verdict_count[2]);
    for (int i = 0; i < 16; i++)
        if (status_count[i])
            fprintf(stderr, "fuzz_window_plan: %lu x %s\n", status_count[i],
                    clpool_status_string((clpool_status)i));
    if (other_status_count)
        fprintf(stderr, "fuzz_window_plan: %lu x another status\n", other_status_count);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("CLPOOL_KERNEL_DIR", "/nonexistent/clpool-fuzz-no-kernels", 1);
    clpool_context_options options;
    memset(&options, 0, sizeof options);
    options.log = count_log;
    options.disable_disk_cache = 1;
    if (clpool_context_create(&options, &context) != CLPOOL_SUCCESS)
        fail("no OpenCL device (the target needs one, PoCL on CI)");
    clpool_device_info info;
    clpool_context_device_info(context, &info);
    fprintf(stderr, "fuzz_window_plan: device '%s' of '%s'\n", info.device_name,
            info.platform_name);
    atexit(print_counts);
    return 0;
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static uint8_t byte(reader *r)
{
    return r->p < r->end ? *r->p++ : 0;
}

static uint64_t raw(reader *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)byte(r) << (8 * i);
    return v;
}

static const int int_edges[] = {
    0,       1,     -1,   INT_MAX, INT_MIN, INT_MAX / 2, 1 << 16, 1 << 20, (1 << 20) + 1,
    1 << 30, 46341, 1291, 65535,   32768,   1024,        1025,    -2,      INT_MAX / 4 + 1,
};

/* < 0x80: -2..13; < 0xC0: an edge value; else 4 raw bytes. */
static int pick_int(reader *r)
{
    uint8_t b = byte(r);
    if (b < 0x80)
        return (int)(b % 16) - 2;
    if (b < 0xC0)
        return int_edges[(b - 0x80) % (sizeof int_edges / sizeof int_edges[0])];
    return (int)(uint32_t)raw(r, 4);
}

static const size_t size_edges[] = {
    0,
    1,
    INT_MAX / 4,
    INT_MAX / 4 + 1,
    INT_MAX,
    (size_t)INT_MAX + 1,
    UINT32_MAX,
    (size_t)1 << 32,
    SIZE_MAX,
    SIZE_MAX / 2,
    SIZE_MAX / 2 + 1,
    46341,
    (size_t)1 << 20,
    3037000500u,
    (size_t)1 << 21,
    65536,
};

/* < 0x80: 0..23; < 0xC0: an edge value; else 8 raw bytes. */
static size_t pick_size(reader *r)
{
    uint8_t b = byte(r);
    if (b < 0x80)
        return b % 24;
    if (b < 0xC0)
        return size_edges[(b - 0x80) % (sizeof size_edges / sizeof size_edges[0])];
    return (size_t)raw(r, 8);
}

static const double double_small[] = {0,    1,   2, -1,   0.5, 3,  1e-6, -0.5,
                                      0.25, 1.5, 4, 0.75, -2,  10, 0.1,  1e-300};

/* < 0x80: a small value; < 0xC0: an edge value; else 8 raw bytes. */
static double pick_double(reader *r)
{
    uint8_t b = byte(r);
    if (b < 0x80)
        return double_small[b % 16];
    if (b < 0xC0) {
        const double edges[] = {
            NAN,          INFINITY,        -INFINITY,           DBL_MAX, -DBL_MAX, DBL_MIN, -0.0,
            DBL_TRUE_MIN, 1 + DBL_EPSILON, 1 - DBL_EPSILON / 2, 1e308,   -1e-300};
        return edges[(b - 0x80) % (sizeof edges / sizeof edges[0])];
    }
    uint64_t bits = raw(r, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void decode(reader *r, clpool_window_desc *w, clpool_tensor_desc *in)
{
    memset(w, 0, sizeof *w);
    memset(in, 0, sizeof *in);
    uint8_t b = byte(r);
    w->op = b < 0xE0 ? (clpool_op)(1 + (b & 1)) : (clpool_op)((int)(b - 0xE0) - 4);
    b = byte(r);
    in->dtype = b < 0xC0 ? CLPOOL_FLOAT32 : (clpool_dtype)((int)(b - 0xC0) - 2);
    b = byte(r);
    in->layout = b < 0xE0 ? CLPOOL_NCHW : (clpool_layout)((int)(b - 0xE0) - 2);
    b = byte(r);
    in->spatial_dims = b < 0xC0 ? 1 + b % 3 : (int)(b - 0xC0) - 8;
    in->n = pick_size(r);
    in->c = pick_size(r);
    for (int i = 0; i < 3; i++)
        in->spatial[i] = pick_size(r);
    for (int i = 0; i < 3; i++)
        w->kernel[i] = pick_int(r);
    for (int i = 0; i < 3; i++)
        w->stride[i] = pick_int(r);
    for (int i = 0; i < 3; i++)
        w->padding[i] = pick_int(r);
    for (int i = 0; i < 3; i++)
        w->dilation[i] = pick_int(r);
    w->ceil_mode = pick_int(r);
    w->exclude_padding = pick_int(r);
    w->divisor_override = pick_int(r);
    w->indices = (clpool_index_type)pick_int(r);
    w->p = pick_double(r);
    w->alpha = pick_double(r);
    w->beta = pick_double(r);
    w->train = pick_int(r);
    w->seed = raw(r, 8);
}

/* ---- the reference judgement -------------------------------------------- */

enum verdict { BREAKS_A_RULE, VALID_AND_MODEST, UNDECIDED };

static i128 floor_div(i128 a, i128 b)
{
    i128 q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Spec §1.1, in exact arithmetic. */
static i128 output_size(i128 in, i128 k, i128 s, i128 p, i128 d, int ceil_mode)
{
    i128 eff = d * (k - 1) + 1;
    i128 o = floor_div(in + 2 * p - eff + (ceil_mode ? s - 1 : 0), s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p)
        o--;
    return o;
}

static bool is_integer(clpool_dtype dtype)
{
    return dtype == CLPOOL_UINT8 || dtype == CLPOOL_INT8;
}

/* The rules of include/clpool.h (clpool_op, clpool_window_desc) and spec §1. */
static enum verdict judge(const clpool_window_desc *w, const clpool_tensor_desc *in)
{
    clpool_op op = w->op;
    if ((int)op < CLPOOL_OP_MAX || (int)op > CLPOOL_OP_STOCHASTIC)
        return BREAKS_A_RULE;
    bool avg = op == CLPOOL_OP_AVG;
    bool dilates = op == CLPOOL_OP_MAX || op == CLPOOL_OP_SOFTMAX || op == CLPOOL_OP_STOCHASTIC;
    bool has_indices = op == CLPOOL_OP_MAX || (op == CLPOOL_OP_STOCHASTIC && w->train == 1);
    if (in->spatial_dims < 1 || in->spatial_dims > 3)
        return BREAKS_A_RULE;
    if ((int)in->dtype < CLPOOL_FLOAT32 || (int)in->dtype > CLPOOL_INT64 ||
        (in->layout != CLPOOL_NCHW && in->layout != CLPOOL_NHWC))
        return BREAKS_A_RULE;
    /* int32 and int64 are index dtypes, never pooled; uint8 and int8 are for
     * max and avg only. */
    if (in->dtype == CLPOOL_INT32 || in->dtype == CLPOOL_INT64 ||
        (is_integer(in->dtype) && op != CLPOOL_OP_MAX && !avg))
        return BREAKS_A_RULE;
    if (in->c == 0)
        return BREAKS_A_RULE;
    /* Elements of one plane and of the tensor; *_big: past size_t. */
    size_t plane = 1, total = 0;
    bool plane_big = false, total_big = __builtin_mul_overflow(in->n, in->c, &total);
    bool modest = in->n <= (1u << 20) && in->c <= (1u << 20);
    for (int i = 0; i < in->spatial_dims; i++) {
        if (in->spatial[i] == 0)
            return BREAKS_A_RULE;
        modest = modest && in->spatial[i] <= (1u << 20);
        plane_big = plane_big || __builtin_mul_overflow(plane, in->spatial[i], &plane);
        total_big = total_big || __builtin_mul_overflow(total, in->spatial[i], &total);
    }
    if (in->n > 0 && total_big)
        return BREAKS_A_RULE;
    i128 volume = 1;
    for (int i = 0; i < in->spatial_dims; i++) {
        i128 k = w->kernel[i], p = w->padding[i];
        i128 s = w->stride[i] ? w->stride[i] : k;
        i128 d = w->dilation[i] ? w->dilation[i] : 1;
        if (k < 1 || s < 1 || d < 1 || (!dilates && d != 1))
            return BREAKS_A_RULE;
        if (p < 0 || p > (d * (k - 1) + 1) / 2 || (op == CLPOOL_OP_LP && p != 0))
            return BREAKS_A_RULE;
        if (output_size(in->spatial[i], k, s, p, d, w->ceil_mode != 0) < 1)
            return BREAKS_A_RULE;
        modest = modest && k <= 1024 && s <= 1024 && d <= 1024;
        volume *= k;
    }
    if ((int)w->indices < CLPOOL_INDICES_NONE || (int)w->indices > CLPOOL_INDICES_INT32)
        return BREAKS_A_RULE;
    if (!has_indices && w->indices != CLPOOL_INDICES_NONE)
        return BREAKS_A_RULE;
    if (!avg && w->divisor_override != 0)
        return BREAKS_A_RULE;
    if (w->indices == CLPOOL_INDICES_INT32 && (plane_big || plane > INT_MAX))
        return BREAKS_A_RULE;
    if ((op == CLPOOL_OP_LP || op == CLPOOL_OP_GEM) && (!isfinite(w->p) || w->p == 0))
        return BREAKS_A_RULE;
    if (op == CLPOOL_OP_MIXED && !(w->alpha >= 0 && w->alpha <= 1))
        return BREAKS_A_RULE;
    if (op == CLPOOL_OP_SOFTMAX && !isfinite(w->beta))
        return BREAKS_A_RULE;
    if (op == CLPOOL_OP_STOCHASTIC && w->train != 0 && w->train != 1)
        return BREAKS_A_RULE;
    modest = modest && volume <= INT_MAX && in->dtype == CLPOOL_FLOAT32 &&
             (w->ceil_mode == 0 || w->ceil_mode == 1) &&
             (w->exclude_padding == 0 || w->exclude_padding == 1);
    return modest ? VALID_AND_MODEST : UNDECIDED;
}

/* ---- one input ----------------------------------------------------------- */

static void print_case(const char *what, const clpool_window_desc *w, const clpool_tensor_desc *in,
                       clpool_status st)
{
    fprintf(stderr,
            "fuzz_window_plan: %s: status %d (%s)\n  op=%d dtype=%d layout=%d dims=%d n=%zu "
            "c=%zu spatial=%zu,%zu,%zu\n  kernel=%d,%d,%d stride=%d,%d,%d padding=%d,%d,%d "
            "dilation=%d,%d,%d ceil=%d exclude_pad=%d divisor=%d indices=%d\n"
            "  p=%.17g alpha=%.17g beta=%.17g train=%d\n",
            what, (int)st, clpool_status_string(st), (int)w->op, (int)in->dtype, (int)in->layout,
            in->spatial_dims, in->n, in->c, in->spatial[0], in->spatial[1], in->spatial[2],
            w->kernel[0], w->kernel[1], w->kernel[2], w->stride[0], w->stride[1], w->stride[2],
            w->padding[0], w->padding[1], w->padding[2], w->dilation[0], w->dilation[1],
            w->dilation[2], w->ceil_mode, w->exclude_padding, w->divisor_override, (int)w->indices,
            w->p, w->alpha, w->beta, w->train);
}

static void report(const char *what, const clpool_window_desc *w, const clpool_tensor_desc *in,
                   clpool_status st)
{
    print_case(what, w, in, st);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, data + size};
    clpool_window_desc w;
    clpool_tensor_desc in;
    decode(&r, &w, &in);

    errors_logged = 0;
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_window(context, &w, &in, &plan);
    if (st == CLPOOL_SUCCESS) {
        clpool_plan_destroy(plan);
        report("a plan was made although no kernel source can be read", &w, &in, st);
    }
    if (plan != NULL)
        report("a failed plan call wrote its out-parameter", &w, &in, st);
    if (errors_logged == 0)
        report("a refusal logged no error", &w, &in, st);
    enum verdict v = judge(&w, &in);
    verdict_count[v]++;
    if (getenv("FUZZ_WINDOW_PRINT")) /* to look at what a seed or a crash decodes to */
        print_case(v == BREAKS_A_RULE      ? "breaks a rule"
                   : v == VALID_AND_MODEST ? "valid"
                                           : "undecided",
                   &w, &in, st);
    if ((unsigned)st < 16)
        status_count[st]++;
    else
        other_status_count++;
    if (v == BREAKS_A_RULE && st == CLPOOL_ERROR_BUILD_FAILED)
        report("a descriptor that breaks a rule passed validation", &w, &in, st);
    if (v == VALID_AND_MODEST && st != CLPOOL_ERROR_BUILD_FAILED)
        report("a valid descriptor was refused", &w, &in, st);
    return 0;
}
