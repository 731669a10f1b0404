/*
 * libFuzzer target: region pooling inputs, through the public API on a
 * context of the default device (PoCL's CPU device on CI). The first input
 * byte picks one of two parts:
 *
 * - descriptor (even): the bytes decode into a clpool_roi_desc and a
 *   clpool_tensor_desc, mostly small and boundary values, planned with
 *   clpool_plan_roi() while $CLPOOL_KERNEL_DIR names a missing folder, so no
 *   program is built. A plain reference of the rules of include/clpool.h
 *   judges each: one that breaks a rule must be refused by validation (a
 *   status other than BUILD_FAILED) with an error logged; one that is valid
 *   and modest (float32, sizes up to 2^20, bins up to 1024) must pass it.
 * - boxes (odd): N, K and K boxes of float32 or float64 values (NaN, +-inf,
 *   the edges of the batch index rule, raw bits), checked with
 *   clpool_roi_check_boxes() on plans of a few descriptors whose programs
 *   were built once at start-up. The status must say exactly whether a
 *   batch index is NaN or truncates outside [0, N) (valid: -1 < b < N), and
 *   a refusal must log one error naming the first bad box.
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

#define NO_KERNELS "/nonexistent/clpool-fuzz-no-kernels"
#define MAX_BOXES 64
#define KEPT_N 5

/* Plans of the box part by [align][float64 boxes][N][K], for N < KEPT_N. */
static clpool_plan *kept[2][2][KEPT_N][MAX_BOXES + 1];

static clpool_context *context;
static int has_fp64;
static unsigned long counts[2][3]; /* [part][refused, passed, undecided or bad boxes] */

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_roi_plan: %s\n", what);
    abort();
}

static int errors_logged;
static char last_error[1024];

static void count_log(void *user, clpool_log_level level, const char *message)
{
    (void)user;
    if (!message || !*message || strchr(message, '\n'))
        fail("a log message is empty or more than one line");
    if (level == CLPOOL_LOG_ERROR) {
        errors_logged++;
        snprintf(last_error, sizeof last_error, "%s", message);
    }
}

static void print_counts(void)
{
    fprintf(stderr,
            "fuzz_roi_plan: descriptors: %lu break a rule, %lu valid and modest, %lu undecided; "
            "box sets: %lu with a bad batch index, %lu valid\n",
            counts[0][0], counts[0][1], counts[0][2], counts[1][0], counts[1][1]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    clpool_context_options options;
    memset(&options, 0, sizeof options);
    options.log = count_log;
    options.disable_disk_cache = 1;
    if (clpool_context_create(&options, &context) != CLPOOL_SUCCESS)
        fail("no OpenCL device (the target needs one, PoCL on CI)");
    clpool_device_info info;
    clpool_context_device_info(context, &info);
    has_fp64 = info.has_fp64;
    fprintf(stderr, "fuzz_roi_plan: device '%s' of '%s'\n", info.device_name, info.platform_name);
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

static const int int_edges[] = {0,     1,     -1,    INT_MAX, INT_MIN, 1024, 1025,
                                65536, 65537, 46341, 1 << 16, -2,      7,    1 << 30};

static int pick_int(reader *r)
{
    uint8_t b = byte(r);
    if (b < 0x80)
        return (int)(b % 16) - 2;
    if (b < 0xC0)
        return int_edges[(b - 0x80) % (sizeof int_edges / sizeof int_edges[0])];
    return (int)(uint32_t)raw(r, 4);
}

static const size_t size_edges[] = {0,
                                    1,
                                    INT_MAX / 4,
                                    INT_MAX / 4 + 1,
                                    INT_MAX,
                                    UINT32_MAX,
                                    SIZE_MAX,
                                    SIZE_MAX / 5,
                                    SIZE_MAX / 2,
                                    46341,
                                    (size_t)1 << 20,
                                    65536,
                                    (size_t)1 << 31};

static size_t pick_size(reader *r)
{
    uint8_t b = byte(r);
    if (b < 0x80)
        return b % 24;
    if (b < 0xC0)
        return size_edges[(b - 0x80) % (sizeof size_edges / sizeof size_edges[0])];
    return (size_t)raw(r, 8);
}

static double pick_double(reader *r)
{
    uint8_t b = byte(r);
    static const double small[] = {0, 1, 0.5, 0.25, 0.0625, 2, -1, 0.3};
    if (b < 0x80)
        return small[b % 8];
    if (b < 0xC0) {
        const double edges[] = {NAN,  INFINITY, -INFINITY,    DBL_MAX,
                                -0.0, 1e-300,   DBL_TRUE_MIN, 1e300};
        return edges[(b - 0x80) % 8];
    }
    uint64_t bits = raw(r, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* ---- part 1: descriptors ------------------------------------------------- */

static void decode_desc(reader *r, clpool_roi_desc *d, clpool_tensor_desc *in)
{
    memset(d, 0, sizeof *d);
    memset(in, 0, sizeof *in);
    uint8_t b = byte(r);
    d->op = b < 0xE0 ? (clpool_roi_op)(1 + (b & 1)) : (clpool_roi_op)((int)(b - 0xE0) - 4);
    b = byte(r);
    in->dtype = b < 0xC0 ? CLPOOL_FLOAT32 : (clpool_dtype)((int)(b - 0xC0) - 2);
    b = byte(r);
    in->layout = b < 0x80 ? CLPOOL_NCHW : b < 0xE0 ? CLPOOL_NHWC : (clpool_layout)(b - 0xE0);
    b = byte(r);
    in->spatial_dims = b < 0xC0 ? 2 : (int)(b - 0xC0) - 8;
    in->n = pick_size(r);
    in->c = pick_size(r);
    for (int i = 0; i < 3; i++)
        in->spatial[i] = pick_size(r);
    d->output_size[0] = pick_int(r);
    d->output_size[1] = pick_int(r);
    d->num_rois = pick_size(r);
    b = byte(r);
    d->rois_dtype = b < 0x80   ? CLPOOL_FLOAT32
                    : b < 0xC0 ? CLPOOL_FLOAT64
                               : (clpool_dtype)(b - 0xC4);
    d->spatial_scale = pick_double(r);
    d->sampling_ratio = pick_int(r);
    d->aligned = pick_int(r);
    d->indices = (clpool_index_type)pick_int(r);
}

enum verdict { BREAKS_A_RULE, VALID_AND_MODEST, UNDECIDED };

/* The rules of include/clpool.h (clpool_roi_desc, clpool_plan_roi). */
static enum verdict judge(const clpool_roi_desc *d, const clpool_tensor_desc *in)
{
    if (d->op != CLPOOL_ROI_MAX && d->op != CLPOOL_ROI_ALIGN)
        return BREAKS_A_RULE;
    if (in->spatial_dims != 2 || (in->layout != CLPOOL_NCHW && in->layout != CLPOOL_NHWC))
        return BREAKS_A_RULE;
    if (in->dtype != CLPOOL_FLOAT32 && in->dtype != CLPOOL_FLOAT16 &&
        in->dtype != CLPOOL_BFLOAT16 && in->dtype != CLPOOL_FLOAT64)
        return BREAKS_A_RULE; /* other dtypes: unknown or unsupported */
    if (in->dtype == CLPOOL_FLOAT64 && !has_fp64)
        return BREAKS_A_RULE;
    if (in->c == 0 || in->spatial[0] == 0 || in->spatial[1] == 0 || in->spatial[0] > INT_MAX / 4 ||
        in->spatial[1] > INT_MAX / 4)
        return BREAKS_A_RULE;
    size_t total;
    bool total_big = __builtin_mul_overflow(in->n, in->c, &total) ||
                     __builtin_mul_overflow(total, in->spatial[0], &total) ||
                     __builtin_mul_overflow(total, in->spatial[1], &total);
    if (in->n > 0 && total_big)
        return BREAKS_A_RULE;
    for (int i = 0; i < 2; i++)
        if (d->output_size[i] < 1 || d->output_size[i] > 65536)
            return BREAKS_A_RULE;
    if (d->rois_dtype != CLPOOL_FLOAT32 && d->rois_dtype != CLPOOL_FLOAT64)
        return BREAKS_A_RULE;
    if (d->rois_dtype == CLPOOL_FLOAT64 && !has_fp64)
        return BREAKS_A_RULE;
    if (!isfinite(d->spatial_scale) || (d->aligned != 0 && d->aligned != 1))
        return BREAKS_A_RULE;
    if (d->op == CLPOOL_ROI_MAX && (d->aligned || d->sampling_ratio))
        return BREAKS_A_RULE;
    if (d->sampling_ratio > CLPOOL_ROI_SAMPLING_MAX)
        return BREAKS_A_RULE;
    if ((int)d->indices < CLPOOL_INDICES_NONE || (int)d->indices > CLPOOL_INDICES_INT32)
        return BREAKS_A_RULE;
    if (d->op == CLPOOL_ROI_ALIGN && d->indices != CLPOOL_INDICES_NONE)
        return BREAKS_A_RULE;
    if (d->indices == CLPOOL_INDICES_INT32 &&
        (unsigned long long)in->spatial[0] * in->spatial[1] > INT32_MAX)
        return BREAKS_A_RULE;
    unsigned __int128 per_box =
        (unsigned __int128)in->c * (unsigned)d->output_size[0] * (unsigned)d->output_size[1];
    if (per_box * d->num_rois > SIZE_MAX || (unsigned __int128)d->num_rois * 5 > SIZE_MAX)
        return BREAKS_A_RULE;
    if (per_box > ((size_t)1 << 31) - 4096)
        return BREAKS_A_RULE;
    if (in->n == 0 && d->num_rois > 0)
        return BREAKS_A_RULE;
    bool modest = in->dtype == CLPOOL_FLOAT32 && in->n <= (1u << 20) && in->c <= (1u << 20) &&
                  in->spatial[0] <= (1u << 20) && in->spatial[1] <= (1u << 20) &&
                  d->num_rois <= (1u << 20) && d->output_size[0] <= 1024 &&
                  d->output_size[1] <= 1024;
    return modest ? VALID_AND_MODEST : UNDECIDED;
}

static void print_desc(const char *what, const clpool_roi_desc *d, const clpool_tensor_desc *in,
                       clpool_status st)
{
    fprintf(stderr,
            "fuzz_roi_plan: %s: status %d (%s)\n  op=%d dtype=%d layout=%d dims=%d n=%zu c=%zu "
            "spatial=%zu,%zu out=%d,%d K=%zu rois_dtype=%d scale=%.17g sampling=%d aligned=%d "
            "indices=%d\n",
            what, (int)st, clpool_status_string(st), (int)d->op, (int)in->dtype, (int)in->layout,
            in->spatial_dims, in->n, in->c, in->spatial[0], in->spatial[1], d->output_size[0],
            d->output_size[1], d->num_rois, (int)d->rois_dtype, d->spatial_scale, d->sampling_ratio,
            d->aligned, (int)d->indices);
}

static void descriptor_part(reader *r)
{
    clpool_roi_desc d;
    clpool_tensor_desc in;
    decode_desc(r, &d, &in);
    setenv("CLPOOL_KERNEL_DIR", NO_KERNELS, 1);
    errors_logged = 0;
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_roi(context, &d, &in, &plan);
    unsetenv("CLPOOL_KERNEL_DIR");
    enum verdict v = judge(&d, &in);
    counts[0][v]++;
    if (getenv("FUZZ_ROI_PRINT"))
        print_desc(v == BREAKS_A_RULE      ? "breaks a rule"
                   : v == VALID_AND_MODEST ? "valid"
                                           : "?",
                   &d, &in, st);
    const char *bad = NULL;
    if (st == CLPOOL_SUCCESS)
        bad = "a plan was made although no kernel source can be read";
    else if (plan != NULL)
        bad = "a failed plan call wrote its out-parameter";
    else if (errors_logged == 0)
        bad = "a refusal logged no error";
    else if (v == BREAKS_A_RULE && st == CLPOOL_ERROR_BUILD_FAILED)
        bad = "a descriptor that breaks a rule passed validation";
    else if (v == VALID_AND_MODEST && st != CLPOOL_ERROR_BUILD_FAILED)
        bad = "a valid descriptor was refused";
    if (bad) {
        clpool_plan_destroy(plan);
        print_desc(bad, &d, &in, st);
        abort();
    }
}

/* ---- part 2: boxes --------------------------------------------------------- */

static double pick_box_value(reader *r, size_t n)
{
    uint8_t b = byte(r);
    if (b < 0x60)
        return (double)(b % 8) - 2;
    if (b < 0xC0) {
        const double nd = (double)n;
        const double edges[] = {NAN,
                                -NAN,
                                INFINITY,
                                -INFINITY,
                                -1,
                                -0.5,
                                -0.0,
                                nextafter(-1.0, 0.0),
                                (double)nextafterf(-1.0f, 0.0f),
                                nd,
                                nd - 0.5,
                                nextafter(nd, 0.0),
                                (double)nextafterf((float)nd, 0.0f),
                                nd + 0.5,
                                1e9,
                                -1e9,
                                1.7,
                                DBL_MAX,
                                16777217.0,
                                (double)FLT_MAX * 2};
        return edges[(b - 0x60) % (sizeof edges / sizeof edges[0])];
    }
    uint64_t bits = raw(r, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void boxes_part(reader *r)
{
    uint8_t b = byte(r);
    clpool_roi_desc d;
    memset(&d, 0, sizeof d);
    d.op = b & 1 ? CLPOOL_ROI_ALIGN : CLPOOL_ROI_MAX;
    d.rois_dtype = b & 2 && has_fp64 ? CLPOOL_FLOAT64 : CLPOOL_FLOAT32;
    d.output_size[0] = d.output_size[1] = 1;
    d.num_rois = byte(r) % (MAX_BOXES + 1);
    size_t n = 1 + byte(r) % 4;
    if (byte(r) >= 0xF0)
        n = (size_t)raw(r, 4) + 1; /* large N: float rounding of the bound */
    clpool_tensor_desc in;
    memset(&in, 0, sizeof in);
    in.dtype = CLPOOL_FLOAT32;
    in.spatial_dims = 2;
    in.n = n;
    in.c = 1;
    in.spatial[0] = in.spatial[1] = 1;
    double values[MAX_BOXES * 5];
    float f32[MAX_BOXES * 5];
    size_t first_bad = SIZE_MAX;
    for (size_t k = 0; k < d.num_rois; k++) {
        for (int j = 0; j < 5; j++) {
            double v = pick_box_value(r, n);
            values[5 * k + (size_t)j] = v;
            f32[5 * k + (size_t)j] = (float)v;
        }
        bool valid;
        if (d.rois_dtype == CLPOOL_FLOAT64) {
            double bi = values[5 * k];
            valid = bi > -1.0 && bi < (double)n;
        } else {
            float bi = f32[5 * k];
            valid = bi > -1.0f && bi < (float)n;
        }
        if (!valid && first_bad == SIZE_MAX)
            first_bad = k;
    }
    /* Plans of small N are kept (making one costs a kernel object); their
     * four programs are built by the first inputs that need them. */
    int op = d.op == CLPOOL_ROI_ALIGN, wide = d.rois_dtype == CLPOOL_FLOAT64;
    clpool_plan **slot = n < KEPT_N ? &kept[op][wide][n][d.num_rois] : NULL;
    clpool_plan *plan = slot ? *slot : NULL;
    clpool_status st = CLPOOL_SUCCESS;
    if (!plan) {
        errors_logged = 0;
        st = clpool_plan_roi(context, &d, &in, &plan);
        if (st != CLPOOL_SUCCESS)
            fail("a plan of the box part failed");
        if (slot)
            *slot = plan;
    }
    errors_logged = 0;
    st = clpool_roi_check_boxes(plan, wide ? (const void *)values : (const void *)f32);
    if (!slot)
        clpool_plan_destroy(plan);
    counts[1][first_bad == SIZE_MAX]++;
    char want[64];
    snprintf(want, sizeof want, "box %zu has batch index", first_bad);
    if (first_bad == SIZE_MAX && (st != CLPOOL_SUCCESS || errors_logged != 0)) {
        fprintf(stderr, "fuzz_roi_plan: valid boxes (N = %zu) refused: %s\n", n, last_error);
        abort();
    }
    if (first_bad != SIZE_MAX &&
        (st != CLPOOL_ERROR_INVALID_ROIS || errors_logged != 1 || !strstr(last_error, want))) {
        fprintf(stderr,
                "fuzz_roi_plan: box %zu (batch index %.17g, N = %zu) not refused as the first "
                "bad one: status %s, %d errors, last '%s'\n",
                first_bad, values[5 * first_bad], n, clpool_status_string(st), errors_logged,
                last_error);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, data + size};
    if (byte(&r) & 1)
        boxes_part(&r);
    else
        descriptor_part(&r);
    return 0;
}
