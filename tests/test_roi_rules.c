/*
 * Suite "roi", part two: the worked examples of spec §8 literally (the
 * roi_pool rounding example and its float32-versus-double case, the
 * RoIAlign aligned, unaligned and degenerate boxes), bad batch indices (a
 * host error with nothing written; NaN and index -1 from the device, which
 * never reads outside the input), every invalid parameter with its status
 * and one log sentence, and empty box lists.
 */
#include "roi_suite.h"
#include "storage.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A case of K boxes over an (N, C, 4, 4) input holding sign * arange per plane. */
static void arange_case(roi_case *c, clpool_roi_op op, clpool_dtype dtype, clpool_layout layout,
                        size_t n, size_t ch, int ph, int pw, size_t k, double sign)
{
    memset(c, 0, sizeof *c);
    c->d.op = op;
    c->d.output_size[0] = ph;
    c->d.output_size[1] = pw;
    c->d.num_rois = k;
    c->d.rois_dtype = dtype == CLPOOL_FLOAT64 ? CLPOOL_FLOAT64 : CLPOOL_FLOAT32;
    c->in = roi_tensor(dtype, layout, n, ch, 4, 4);
    roi_case_alloc(c);
    for (size_t b = 0; b < n; b++)
        for (size_t q = 0; q < ch; q++)
            for (size_t s = 0; s < 16; s++) {
                size_t i = layout == CLPOOL_NHWC ? (b * 16 + s) * ch + q : (b * ch + q) * 16 + s;
                roi_case_put(c, i, sign * (double)(s + 16 * q));
            }
}

static void set_box(roi_case *c, size_t k, double b, double x1, double y1, double x2, double y2)
{
    const double v[5] = {b, x1, y1, x2, y2};
    for (int j = 0; j < 5; j++)
        roi_case_box(c, k, j, v[j]);
}

/* Runs the case on the host call, checks it against the reference too, and
 * returns the output of box 0, channel 0 (bins row-major) and its indices. */
static void run_example(roi_case *c, double *y, int64_t *idx, const char *label)
{
    clpool_context *ctx = roi_context(0, 0, NULL);
    roi_case_reference(c);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_roi(ctx, &c->d, &c->in, &plan), CLPOOL_SUCCESS);
    roi_result res;
    test_rng r = {1};
    ck_assert_int_eq(roi_run(ctx, plan, c, 0, &r, &res, label), CLPOOL_SUCCESS);
    int budget = 10;
    ck_assert_msg(roi_compare(c, &res, label, &budget) == 0, "%s: differs from the reference",
                  label);
    size_t bins = (size_t)c->d.output_size[0] * (size_t)c->d.output_size[1];
    for (size_t i = 0; i < bins; i++) {
        size_t at = c->in.layout == CLPOOL_NHWC ? i * c->in.c : i;
        y[i] = storage_load(c->in.dtype, res.y, at);
        idx[i] = res.idx[at];
    }
    roi_result_free(&res);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}

/* §8.1: x = arange(16) as 4x4, box [0, 0.5,0.5, 2.5,2.5], 2x2, scale 1. */
START_TEST(test_roi_pool_rounding_example)
{
    for (int v = 0; v < 4; v++) {
        roi_case c;
        clpool_layout layout = v & 1 ? CLPOOL_NHWC : CLPOOL_NCHW;
        arange_case(&c, CLPOOL_ROI_MAX, CLPOOL_FLOAT32, layout, 1, v & 1 ? 2 : 1, 2, 2, 1, 1);
        c.d.indices = v & 2 ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_INT32;
        set_box(&c, 0, 0, 0.5, 0.5, 2.5, 2.5);
        double y[4];
        int64_t idx[4];
        run_example(&c, y, idx, "roi_pool example");
        const double want[4] = {10, 11, 14, 15};
        for (int i = 0; i < 4; i++) {
            ck_assert_msg(y[i] == want[i], "bin %d: got %g, want %g", i, y[i], want[i]);
            ck_assert_msg(idx[i] == (int64_t)want[i], "bin %d: index %lld, want %g", i,
                          (long long)idx[i], want[i]);
        }
        roi_case_free(&c);
    }
}
END_TEST

/* §8.1: x1 = 1.6666666f, scale 0.3 on -arange(16): x1*scale is 0.5f in
 * float32 (column 1, value -1) but 0.49999998 in double (column 0, -0). */
START_TEST(test_roi_pool_precision_example)
{
    const double x1 = (double)1.6666666f;
    roi_case c;
    arange_case(&c, CLPOOL_ROI_MAX, CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 1, 1, 1, -1);
    c.d.spatial_scale = 0.3;
    c.d.indices = CLPOOL_INDICES_INT32;
    set_box(&c, 0, 0, x1, 0, x1, 0);
    double y;
    int64_t idx;
    run_example(&c, &y, &idx, "roi_pool float32 rounding");
    ck_assert_msg(y == -1 && idx == 1, "float32: got %g at %lld, want -1 at 1", y, (long long)idx);
    roi_case_free(&c);
    if (!roi_device_has_fp64())
        return;
    arange_case(&c, CLPOOL_ROI_MAX, CLPOOL_FLOAT64, CLPOOL_NCHW, 1, 1, 1, 1, 1, -1);
    c.d.spatial_scale = 0.3;
    c.d.indices = CLPOOL_INDICES_INT32;
    set_box(&c, 0, 0, x1, 0, x1, 0);
    run_example(&c, &y, &idx, "roi_pool float64 rounding");
    ck_assert_msg(y == 0 && idx == 0, "float64: got %g at %lld, want 0 at 0", y, (long long)idx);
    roi_case_free(&c);
}
END_TEST

/* §8.2: x = arange(16) as 4x4. */
START_TEST(test_roi_align_examples)
{
    struct {
        double box[4];
        int p, sampling, aligned;
        double want[4];
    } ex[] = {
        {{0, 0, 2, 2}, 1, 2, 0, {5.0}},
        {{0, 0, 2, 2}, 1, 2, 1, {2.5}},
        {{1, 1, 1, 1}, 2, 0, 1, {0, 0, 0, 0}},
        {{1, 1, 1, 1}, 2, 0, 0, {6.25, 6.75, 8.25, 8.75}},
    };
    for (size_t e = 0; e < sizeof ex / sizeof *ex; e++)
        for (int v = 0; v < 2; v++) {
            roi_case c;
            clpool_layout layout = v ? CLPOOL_NHWC : CLPOOL_NCHW;
            arange_case(&c, CLPOOL_ROI_ALIGN, CLPOOL_FLOAT32, layout, 1, v ? 3 : 1, ex[e].p,
                        ex[e].p, 1, 1);
            c.d.sampling_ratio = ex[e].sampling;
            c.d.aligned = ex[e].aligned;
            set_box(&c, 0, 0, ex[e].box[0], ex[e].box[1], ex[e].box[2], ex[e].box[3]);
            double y[4];
            int64_t idx[4];
            run_example(&c, y, idx, "roi_align example");
            for (int i = 0; i < ex[e].p * ex[e].p; i++)
                ck_assert_msg(fabs(y[i] - ex[e].want[i]) <= 1e-6,
                              "example %zu (%s) bin %d: got %.9g, want %g", e, v ? "NHWC" : "NCHW",
                              i, y[i], ex[e].want[i]);
            roi_case_free(&c);
        }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Bad batch indices.                                                       */

/* Batch indices for N = 2: what truncation toward zero keeps in [0, 2). */
static const double bad_batch[] = {NAN, 2, -1, 2.5, -1.5, 1e9, -1e9, INFINITY, -INFINITY};
static const double good_batch[] = {0, 1, 1.7, -0.5, -0.99, 1.999};

START_TEST(test_bad_batch_host)
{
    roi_log log;
    memset(&log, 0, sizeof log);
    clpool_context *ctx = roi_context(0, 0, &log);
    for (int op = CLPOOL_ROI_MAX; op <= CLPOOL_ROI_ALIGN; op++)
        for (size_t i = 0; i < sizeof bad_batch / sizeof *bad_batch; i++) {
            roi_case c;
            arange_case(&c, (clpool_roi_op)op, CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 3, 2, 2, 4, 1);
            for (size_t k = 0; k < 4; k++)
                set_box(&c, k, good_batch[k], 0, 0, 3, 3);
            set_box(&c, 2, bad_batch[i], 0, 0, 3, 3);
            clpool_plan *plan = NULL;
            ck_assert_int_eq(clpool_plan_roi(ctx, &c.d, &c.in, &plan), CLPOOL_SUCCESS);
            /* The public check and the host call both refuse, naming box 2. */
            log.errors = 0;
            ck_assert_int_eq(clpool_roi_check_boxes(plan, c.rois), CLPOOL_ERROR_INVALID_ROIS);
            ck_assert_int_eq(log.errors, 1);
            ck_assert_msg(strstr(log.last, "box 2 has batch index") != NULL, "log: %s", log.last);
            size_t out = 4 * 3 * 4;
            float y[48];
            int32_t idx[48];
            storage_poison(CLPOOL_FLOAT32, y, out, 0);
            memset(idx, 0x5a, sizeof idx);
            clpool_host_io io;
            memset(&io, 0, sizeof io);
            io.input = c.x;
            io.output = y;
            io.rois = c.rois;
            io.indices = idx;
            log.errors = 0;
            ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_ERROR_INVALID_ROIS);
            ck_assert_int_eq(log.errors, 1);
            for (size_t e = 0; e < out; e++)
                ck_assert_msg(storage_is_poison(CLPOOL_FLOAT32, y, e) && idx[e] == 0x5a5a5a5a,
                              "element %zu was written by a refused run", e);
            clpool_plan_destroy(plan);
            roi_case_free(&c);
        }
    /* The edge values that truncate into range are accepted. */
    roi_case c;
    arange_case(&c, CLPOOL_ROI_ALIGN, CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, 1, 6, 1);
    for (size_t k = 0; k < 6; k++)
        set_box(&c, k, good_batch[k], 0, 0, 3, 3);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_roi(ctx, &c.d, &c.in, &plan), CLPOOL_SUCCESS);
    ck_assert_int_eq(clpool_roi_check_boxes(plan, c.rois), CLPOOL_SUCCESS);
    clpool_plan_destroy(plan);
    roi_case_free(&c);
    clpool_context_destroy(ctx);
}
END_TEST

/* Through enqueue the device sees the bad boxes: their outputs are NaN and
 * their indices -1, the other boxes are right, and (under oclgrind) nothing
 * outside the input is read. */
START_TEST(test_bad_batch_device)
{
    clpool_context *ctx = roi_context(0, 0, NULL);
    test_rng r = {0xbad};
    size_t bad = 0;
    int budget = 10;
    for (int op = CLPOOL_ROI_MAX; op <= CLPOOL_ROI_ALIGN; op++)
        for (int layout = 0; layout < 2; layout++) {
            const size_t k = sizeof bad_batch / sizeof *bad_batch + 2;
            roi_case c;
            arange_case(&c, (clpool_roi_op)op, CLPOOL_FLOAT32, (clpool_layout)layout, 2, 2, 2, 2, k,
                        1);
            if (op == CLPOOL_ROI_MAX)
                c.d.indices = CLPOOL_INDICES_INT32;
            for (size_t i = 0; i < k; i++)
                set_box(&c, i, i < k - 2 ? bad_batch[i] : good_batch[i % 4], -1, 0.5, 3.5, 3);
            roi_case_reference(&c);
            bad += roi_check_case(ctx, &c, 1, &r, "bad batch (enqueue)", &budget);
            roi_case_free(&c);
        }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "bad batch indices through enqueue: %zu bad elements", bad);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Invalid parameters: each its status, one log sentence, no plan.          */

typedef struct bad_param {
    const char *what;
    clpool_status want;
} bad_param;

static void apply(int i, clpool_roi_desc *d, clpool_tensor_desc *in)
{
    switch (i) {
    case 0:
        d->op = (clpool_roi_op)0;
        break;
    case 1:
        d->op = (clpool_roi_op)3;
        break;
    case 2:
        in->spatial_dims = 1;
        break;
    case 3:
        in->spatial_dims = 3;
        in->spatial[2] = 4;
        break;
    case 4:
        in->c = 0;
        break;
    case 5:
        in->spatial[0] = 0;
        break;
    case 6:
        in->dtype = CLPOOL_UINT8;
        break;
    case 7:
        in->dtype = CLPOOL_INT64;
        break;
    case 8:
        in->dtype = (clpool_dtype)99;
        break;
    case 9:
        in->layout = (clpool_layout)5;
        break;
    case 10:
        d->output_size[0] = 0;
        break;
    case 11:
        d->output_size[1] = -3;
        break;
    case 12:
        d->output_size[1] = 65537;
        break;
    case 13:
        d->rois_dtype = CLPOOL_FLOAT16;
        break;
    case 14:
        d->rois_dtype = CLPOOL_INT32;
        break;
    case 15:
        d->spatial_scale = NAN;
        break;
    case 16:
        d->spatial_scale = -INFINITY;
        break;
    case 17:
        d->op = CLPOOL_ROI_ALIGN;
        d->aligned = 2;
        break;
    case 18:
        d->aligned = 1; /* roi max */
        break;
    case 19:
        d->sampling_ratio = 2; /* roi max */
        break;
    case 20:
        d->op = CLPOOL_ROI_ALIGN;
        d->sampling_ratio = CLPOOL_ROI_SAMPLING_MAX + 1;
        break;
    case 21:
        d->op = CLPOOL_ROI_ALIGN;
        d->indices = CLPOOL_INDICES_INT32;
        break;
    case 22:
        d->indices = (clpool_index_type)7;
        break;
    case 23:
        in->n = 0;
        break;
    case 24:
        d->num_rois = SIZE_MAX / 4;
        break;
    case 25:
        in->c = (size_t)1 << 20;
        d->output_size[0] = d->output_size[1] = 64;
        break;
    case 26:
        in->spatial[1] = (size_t)INT32_MAX;
        break;
    case 27:
        in->spatial[0] = in->spatial[1] = 50000;
        d->indices = CLPOOL_INDICES_INT32;
        break;
    default:
        break;
    }
}

static const bad_param bad_params[] = {
    {"op 0", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"op 3", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"1-D input", CLPOOL_ERROR_INVALID_SHAPE},
    {"3-D input", CLPOOL_ERROR_INVALID_SHAPE},
    {"C = 0", CLPOOL_ERROR_INVALID_SHAPE},
    {"H = 0", CLPOOL_ERROR_INVALID_SHAPE},
    {"uint8 input", CLPOOL_ERROR_UNSUPPORTED},
    {"int64 input", CLPOOL_ERROR_UNSUPPORTED},
    {"unknown dtype", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"unknown layout", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"output_size 0", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"output_size -3", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"output_size 65537", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"float16 boxes", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"int32 boxes", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"NaN scale", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"-inf scale", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"aligned 2", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"roi max with aligned", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"roi max with a sampling ratio", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"sampling ratio above the maximum", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"roi align with indices", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"unknown index type", CLPOOL_ERROR_INVALID_ARGUMENT},
    {"N = 0 with boxes", CLPOOL_ERROR_INVALID_SHAPE},
    {"K overflows", CLPOOL_ERROR_INVALID_SHAPE},
    {"C*PH*PW beyond a launch", CLPOOL_ERROR_UNSUPPORTED},
    {"W beyond INT_MAX/4", CLPOOL_ERROR_INVALID_SHAPE},
    {"int32 indices on a 2.5e9-element plane", CLPOOL_ERROR_INVALID_ARGUMENT},
};

START_TEST(test_invalid_parameters)
{
    roi_log log;
    memset(&log, 0, sizeof log);
    clpool_context *ctx = roi_context(0, 0, &log);
    for (int i = 0; i < (int)(sizeof bad_params / sizeof *bad_params); i++) {
        clpool_roi_desc d;
        memset(&d, 0, sizeof d);
        d.op = CLPOOL_ROI_MAX;
        d.output_size[0] = d.output_size[1] = 2;
        d.num_rois = 3;
        clpool_tensor_desc in = roi_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 3, 8, 8);
        apply(i, &d, &in);
        clpool_plan *plan = NULL;
        log.errors = 0;
        log.last[0] = '\0';
        clpool_status st = clpool_plan_roi(ctx, &d, &in, &plan);
        ck_assert_msg(st == bad_params[i].want, "%s: status '%s', want '%s'", bad_params[i].what,
                      clpool_status_string(st), clpool_status_string(bad_params[i].want));
        ck_assert_msg(plan == NULL, "%s: the plan was written", bad_params[i].what);
        ck_assert_msg(log.errors == 1 && strlen(log.last) > 20, "%s: %d log sentences ('%s')",
                      bad_params[i].what, log.errors, log.last);
        printf("invalid %s: %s\n", bad_params[i].what, log.last);
    }
    /* NULL arguments. */
    clpool_roi_desc d;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_ROI_ALIGN;
    d.output_size[0] = d.output_size[1] = 2;
    clpool_tensor_desc in = roi_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 4, 4);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_roi(NULL, &d, &in, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_roi(ctx, NULL, &in, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_roi(ctx, &d, NULL, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_roi(ctx, &d, &in, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_roi_check_boxes(NULL, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_context_destroy(ctx);
}
END_TEST

/* No boxes: a plan with nothing to launch; N = 0 without boxes too. Box
 * checks refuse other plans and a missing array. */
START_TEST(test_empty_and_misuse)
{
    roi_log log;
    memset(&log, 0, sizeof log);
    clpool_context *ctx = roi_context(0, 0, &log);
    for (size_t n = 0; n < 2; n++) {
        clpool_roi_desc d;
        memset(&d, 0, sizeof d);
        d.op = CLPOOL_ROI_ALIGN;
        d.output_size[0] = d.output_size[1] = 7;
        clpool_tensor_desc in = roi_tensor(CLPOOL_FLOAT32, CLPOOL_NHWC, n, 4, 5, 5);
        clpool_plan *plan = NULL;
        ck_assert_int_eq(clpool_plan_roi(ctx, &d, &in, &plan), CLPOOL_SUCCESS);
        ck_assert_uint_eq(clpool_plan_launch_count(plan), 0);
        clpool_tensor_desc out;
        ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
        ck_assert_uint_eq(out.n, 0);
        ck_assert_uint_eq(out.c, 4);
        ck_assert_uint_eq(out.spatial[0], 7);
        float x[100] = {0};
        clpool_host_io io;
        memset(&io, 0, sizeof io);
        io.input = x;
        ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_SUCCESS);
        ck_assert_int_eq(clpool_roi_check_boxes(plan, NULL), CLPOOL_SUCCESS);
        clpool_plan_destroy(plan);
    }
    /* A missing boxes array: the host call names the slot. */
    clpool_roi_desc d;
    memset(&d, 0, sizeof d);
    d.op = CLPOOL_ROI_MAX;
    d.output_size[0] = d.output_size[1] = 2;
    d.num_rois = 1;
    clpool_tensor_desc in = roi_tensor(CLPOOL_FLOAT32, CLPOOL_NCHW, 1, 1, 4, 4);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_roi(ctx, &d, &in, &plan), CLPOOL_SUCCESS);
    float x[16] = {0}, y[4];
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = x;
    io.output = y;
    log.errors = 0;
    ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(log.last, "rois") != NULL, "log: %s", log.last);
    ck_assert_int_eq(clpool_roi_check_boxes(plan, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_plan_destroy(plan);
    /* A window plan has no boxes. */
    clpool_window_desc w;
    memset(&w, 0, sizeof w);
    w.op = CLPOOL_OP_MAX;
    w.kernel[0] = w.kernel[1] = 2;
    ck_assert_int_eq(clpool_plan_window(ctx, &w, &in, &plan), CLPOOL_SUCCESS);
    float box[5] = {0};
    log.errors = 0;
    ck_assert_int_eq(clpool_roi_check_boxes(plan, box), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(log.errors, 1);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

void roi_add_rules_tcases(Suite *s)
{
    TCase *tc = tcase_create("spec examples");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_roi_pool_rounding_example);
    tcase_add_test(tc, test_roi_pool_precision_example);
    tcase_add_test(tc, test_roi_align_examples);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad batch indices");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_bad_batch_host);
    tcase_add_test(tc, test_bad_batch_device);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid parameters");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_invalid_parameters);
    tcase_add_test(tc, test_empty_and_misuse);
    suite_add_tcase(s, tc);
}
