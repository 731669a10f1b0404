/*
 * Suite "roi": region pooling (roi max = torchvision roi_pool, roi align)
 * against the plain-C reference (reference_roi.c). Seeded random sweeps over
 * program parameter sets (dtype, layout, bins, sampling, aligned, indices,
 * box dtype), each reused over many shapes and box sets: boxes inside,
 * partly and wholly outside the map, reversed, zero-size, on rounding ties,
 * large, NaN and infinite corners; every element checked in two contexts
 * (the device's choices; work-groups of 8 with 3 boxes a launch), through
 * the host call and through enqueue on guarded buffers at offsets; meson
 * runs the suite again with other channel chunks per work-item
 * ($CLPOOL_TUNE_ROI_CHANNELS). Also
 * huge boxes (bounded work) and a detection head's 1000 boxes in one
 * launch. The spec's examples, bad batch indices and invalid parameters are
 * in test_roi_rules.c. CLPOOL_TEST_SMALL=1 keeps a few tiny cases.
 */
#include "roi_suite.h"
#include "storage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Shared helpers (roi_suite.h).                                            */

static void record(void *user, clpool_log_level level, const char *message)
{
    roi_log *log = user;
    if (level != CLPOOL_LOG_ERROR)
        return;
    log->errors++;
    snprintf(log->last, sizeof log->last, "%s", message);
}

clpool_context *roi_context(size_t work_group_size, size_t max_planes, roi_log *log)
{
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.work_group_size = work_group_size;
    o.max_planes_per_launch = max_planes;
    if (log) {
        o.log = record;
        o.log_user = log;
    }
    clpool_context *ctx = NULL;
    clpool_status st = clpool_context_create(&o, &ctx);
    ck_assert_msg(st == CLPOOL_SUCCESS, "clpool_context_create: %s", clpool_status_string(st));
    return ctx;
}

int roi_device_has_fp64(void)
{
    static int known = -1;
    if (known < 0) {
        clpool_context *ctx = roi_context(0, 0, NULL);
        clpool_device_info info;
        ck_assert_int_eq(clpool_context_device_info(ctx, &info), CLPOOL_SUCCESS);
        known = info.has_fp64;
        clpool_context_destroy(ctx);
    }
    return known;
}

clpool_tensor_desc roi_tensor(clpool_dtype dtype, clpool_layout layout, size_t n, size_t c,
                              size_t h, size_t w)
{
    clpool_tensor_desc t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.layout = layout;
    t.spatial_dims = 2;
    t.n = n;
    t.c = c;
    t.spatial[0] = h;
    t.spatial[1] = w;
    return t;
}

size_t roi_check_case(clpool_context *ctx, roi_case *c, int use_enqueue, test_rng *r,
                      const char *label, int *budget)
{
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_roi(ctx, &c->d, &c->in, &plan);
    if (st != CLPOOL_SUCCESS) {
        char desc[256];
        roi_describe(desc, sizeof desc, c);
        fprintf(stderr, "%s %s: clpool_plan_roi: %s\n", label, desc, clpool_status_string(st));
        return c->ref.out_elems ? c->ref.out_elems : 1;
    }
    roi_result res;
    memset(&res, 0, sizeof res);
    size_t bad = 0;
    st = roi_run(ctx, plan, c, use_enqueue, r, &res, label);
    if (st != CLPOOL_SUCCESS)
        bad = c->ref.out_elems ? c->ref.out_elems : 1;
    else
        bad = roi_compare(c, &res, label, budget);
    roi_result_free(&res);
    clpool_plan_destroy(plan);
    return bad;
}

/* ------------------------------------------------------------------------ */
/* Random cases.                                                            */

/* One program: everything baked into the kernel; shapes and boxes vary. */
typedef struct roi_set {
    clpool_roi_op op;
    clpool_dtype dtype;
    clpool_layout layout;
    int ph, pw, sampling, aligned;
    clpool_index_type indices;
    clpool_dtype rois_dtype;
} roi_set;

#define F32 CLPOOL_FLOAT32
#define F16 CLPOOL_FLOAT16
#define BF16 CLPOOL_BFLOAT16
#define F64 CLPOOL_FLOAT64
#define NCHW CLPOOL_NCHW
#define NHWC CLPOOL_NHWC
#define I32 CLPOOL_INDICES_INT32
#define I64 CLPOOL_INDICES_INT64
#define NOI CLPOOL_INDICES_NONE

static const roi_set max_sets[] = {
    {CLPOOL_ROI_MAX, F32, NCHW, 2, 2, 0, 0, I32, F32},
    {CLPOOL_ROI_MAX, F32, NHWC, 7, 7, 0, 0, I64, F32},
    {CLPOOL_ROI_MAX, F32, NCHW, 3, 5, 0, 0, NOI, F32},
    {CLPOOL_ROI_MAX, F32, NCHW, 1, 1, 0, 0, I32, F32},
    {CLPOOL_ROI_MAX, F16, NCHW, 2, 3, 0, 0, I32, F32},
    {CLPOOL_ROI_MAX, BF16, NHWC, 4, 4, 0, 0, I64, F32},
    {CLPOOL_ROI_MAX, F64, NCHW, 3, 3, 0, 0, I32, F64},
    {CLPOOL_ROI_MAX, F32, NHWC, 5, 2, 0, 0, I32, F64},
};

static const roi_set align_sets[] = {
    {CLPOOL_ROI_ALIGN, F32, NCHW, 2, 2, 0, 0, NOI, F32},
    {CLPOOL_ROI_ALIGN, F32, NCHW, 2, 2, 0, 1, NOI, F32},
    {CLPOOL_ROI_ALIGN, F32, NHWC, 7, 7, 2, 0, NOI, F32},
    {CLPOOL_ROI_ALIGN, F32, NCHW, 3, 4, 1, 1, NOI, F32},
    {CLPOOL_ROI_ALIGN, F32, NCHW, 2, 3, 10, 1, NOI, F32}, /* fixed grid, searched */
    {CLPOOL_ROI_ALIGN, F16, NHWC, 3, 3, 0, 0, NOI, F32},
    {CLPOOL_ROI_ALIGN, BF16, NCHW, 2, 2, 2, 1, NOI, F32},
    {CLPOOL_ROI_ALIGN, F64, NCHW, 2, 2, 0, 1, NOI, F64},
    {CLPOOL_ROI_ALIGN, F32, NCHW, 1, 1, 3, 0, NOI, F64},
};

static double uniform(test_rng *r, double lo, double hi)
{
    return lo + (double)(rng_next(r) >> 11) * 0x1p-53 * (hi - lo);
}

/* One corner pair along a side of @p size feature cells, in feature
 * coordinates, of a kind drawn from @p r. */
static void corner_pair(test_rng *r, int size, int kind, double *a, double *b)
{
    double lo = uniform(r, -3, size + 2), len = uniform(r, 0, size);
    switch (kind) {
    case 0: /* reversed */
        *a = lo + len, *b = lo;
        return;
    case 1: /* zero size */
        *a = *b = lo;
        return;
    case 2: /* wholly outside, either side */
        lo = rng_below(r, 2) ? uniform(r, size + 1.5, size + 9) : uniform(r, -12, -2.5);
        *a = lo, *b = lo + uniform(r, 0, 3);
        return;
    case 3: /* on rounding ties: half-integers */
        *a = rng_range(r, -2, size) + 0.5, *b = *a + rng_range(r, 0, size);
        return;
    case 4: /* large: adaptive grids of hundreds of samples a side */
        *a = uniform(r, -400, 0), *b = uniform(r, size, size + 400);
        return;
    default: /* an ordinary box, partly outside now and then */
        *a = lo, *b = lo + len;
        return;
    }
}

static void gen_box(test_rng *r, roi_case *c, size_t k, double scale)
{
    size_t n = c->in.n;
    double b = (double)rng_below(r, (uint32_t)n);
    uint32_t bk = rng_below(r, 8);
    if (bk == 0)
        b += 0.7; /* truncated toward zero: the same sample */
    else if (bk == 1 && b == 0)
        b = -0.5; /* truncates to 0 */
    roi_case_box(c, k, 0, b);
    double v[4];
    for (int axis = 0; axis < 2; axis++) {
        uint32_t u = rng_below(r, 100);
        int kind = u < 8 ? 0 : u < 14 ? 1 : u < 22 ? 2 : u < 32 ? 3 : u < 36 ? 4 : 5;
        int size = (int)c->in.spatial[1 - axis]; /* x runs along W, y along H */
        corner_pair(r, size, kind, &v[axis], &v[axis + 2]);
    }
    for (int j = 0; j < 4; j++) {
        double img = v[j] / scale;
        uint32_t u = rng_below(r, 400);
        if (u < 3)
            img = NAN;
        else if (u < 6)
            img = u == 3 ? INFINITY : -INFINITY;
        else if (u < 8)
            img = (u == 6 ? 1 : -1) * 3e7;
        roi_case_box(c, k, 1 + j, img);
    }
}

static const double scales[] = {1, 0.5, 0.25, 0.0625, 0.3, 2, 1.0 / 3};

static void gen_case(test_rng *r, const roi_set *s, int small, roi_case *c)
{
    memset(c, 0, sizeof *c);
    c->d.op = s->op;
    c->d.output_size[0] = s->ph;
    c->d.output_size[1] = s->pw;
    c->d.sampling_ratio = s->sampling;
    c->d.aligned = s->aligned;
    c->d.indices = s->indices;
    c->d.rois_dtype = s->rois_dtype;
    int hw = small ? 5 : 16;
    /* Now and then more channels than one work-item takes on a CPU (32). */
    int channels = !small && rng_below(r, 6) == 0 ? rng_range(r, 30, 40) : rng_range(r, 1, 5);
    c->in = roi_tensor(s->dtype, s->layout, (size_t)rng_range(r, 1, small ? 2 : 3),
                       (size_t)(small ? rng_range(r, 1, 2) : channels), (size_t)rng_range(r, 1, hw),
                       (size_t)rng_range(r, 1, hw));
    c->d.num_rois = (size_t)rng_range(r, 1, small ? 3 : 10);
    double scale =
        rng_below(r, 4) ? scales[rng_below(r, sizeof scales / sizeof *scales)] : uniform(r, 0.1, 2);
    /* 0 asks for the default scale 1. */
    c->d.spatial_scale = scale == 1 && rng_below(r, 2) ? 0 : scale;
    roi_case_alloc(c);
    for (size_t k = 0; k < c->d.num_rois; k++)
        gen_box(r, c, k, scale);
    value_mode mode = (value_mode)rng_below(r, s->op == CLPOOL_ROI_MAX ? VALUES_COUNT : 3);
    roi_case_fill(r, c, mode);
    roi_case_reference(c);
}

typedef struct sweep_stats {
    size_t configs, runs, enqueued, bad_configs, bad_elements, elements;
    int budget;
} sweep_stats;

static void sweep(const roi_set *sets, size_t count, int shapes, uint64_t seed, const char *name)
{
    const int small = test_small_mode();
    clpool_context *a = roi_context(0, 0, NULL);
    clpool_context *b = roi_context(8, 3, NULL);
    test_rng r = {seed};
    sweep_stats st;
    memset(&st, 0, sizeof st);
    st.budget = 30;
    int fp64 = roi_device_has_fp64();
    for (size_t i = 0; i < count; i++) {
        const roi_set *s = &sets[i];
        if (!fp64 && (s->dtype == F64 || s->rois_dtype == F64))
            continue;
        if (small && i % 3 != 0)
            continue;
        for (int v = 0; v < (small ? 2 : shapes); v++) {
            roi_case c;
            gen_case(&r, s, small, &c);
            size_t bad = 0;
            for (int which = 0; which < 2; which++) {
                int use_enqueue = (st.configs + (size_t)which) % 3 == 0;
                char label[64];
                snprintf(label, sizeof label, "%s ctx%c(%s)", name, 'A' + which,
                         use_enqueue ? "enqueue" : "host");
                bad += roi_check_case(which ? b : a, &c, use_enqueue, &r, label, &st.budget);
                st.runs++;
                st.enqueued += use_enqueue;
            }
            st.configs++;
            st.elements += c.ref.out_elems;
            st.bad_configs += bad != 0;
            st.bad_elements += bad;
            roi_case_free(&c);
        }
    }
    clpool_cache_stats cs;
    memset(&cs, 0, sizeof cs);
    clpool_context_cache_stats(a, &cs);
    printf("%s: %zu configurations, %zu runs (%zu through enqueue), %zu output elements, %zu "
           "failing configurations, %zu bad elements; context A: %llu builds, %llu disk hits\n",
           name, st.configs, st.runs, st.enqueued, st.elements, st.bad_configs, st.bad_elements,
           (unsigned long long)cs.builds, (unsigned long long)cs.disk_hits);
    fflush(stdout);
    clpool_context_destroy(a);
    clpool_context_destroy(b);
    ck_assert_msg(st.bad_configs == 0, "%s: %zu of %zu configurations failed (%zu elements)", name,
                  st.bad_configs, st.configs, st.bad_elements);
}

START_TEST(test_sweep_max)
{
    sweep(max_sets, sizeof max_sets / sizeof *max_sets, 30, 0x5201, "roi-max sweep");
}
END_TEST

START_TEST(test_sweep_align)
{
    sweep(align_sets, sizeof align_sets / sizeof *align_sets, 25, 0xa119, "roi-align sweep");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Huge boxes: the work stays bounded and the result matches.               */

START_TEST(test_huge_boxes)
{
    static const double corners[][4] = {
        {-1e6, 2, 1e6, 5},      {-1e30, -1e30, 1e30, 1e30},
        {-INFINITY, 1, 3, 4},   {1, -INFINITY, 3, INFINITY},
        {2, 2, 1e7, 3},         {NAN, 1, 3, 3},
        {-5e5, -5e5, 5e5, 5e5}, {1e9, 1e9, -1e9, -1e9},
        {3, 1, 3e9, 2},
    };
    const size_t nc = sizeof corners / sizeof *corners;
    static const roi_set sets[] = {
        {CLPOOL_ROI_ALIGN, F32, NCHW, 2, 3, 0, 0, NOI, F32},
        {CLPOOL_ROI_ALIGN, F32, NHWC, 3, 2, 0, 1, NOI, F32},
        {CLPOOL_ROI_ALIGN, F32, NCHW, 2, 2, CLPOOL_ROI_SAMPLING_MAX, 1, NOI, F32},
        {CLPOOL_ROI_MAX, F32, NCHW, 2, 3, 0, 0, I32, F32},
    };
    clpool_context *ctx = roi_context(0, 0, NULL);
    test_rng r = {0x6e};
    int budget = 20;
    size_t bad = 0;
    for (size_t si = 0; si < sizeof sets / sizeof *sets; si++) {
        roi_case c;
        memset(&c, 0, sizeof c);
        c.d.op = sets[si].op;
        c.d.output_size[0] = sets[si].ph;
        c.d.output_size[1] = sets[si].pw;
        c.d.sampling_ratio = sets[si].sampling;
        c.d.aligned = sets[si].aligned;
        c.d.indices = sets[si].indices;
        c.d.num_rois = nc;
        c.in = roi_tensor(F32, sets[si].layout, 1, 2, 9, 11);
        roi_case_alloc(&c);
        for (size_t k = 0; k < nc; k++) {
            roi_case_box(&c, k, 0, 0);
            for (int j = 0; j < 4; j++)
                roi_case_box(&c, k, 1 + j, corners[k][j]);
        }
        roi_case_fill(&r, &c, VALUES_UNIFORM);
        roi_case_reference(&c);
        bad += roi_check_case(ctx, &c, 0, &r, "huge boxes", &budget);
        roi_case_free(&c);
    }
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "huge boxes: %zu bad elements", bad);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* A detection head: 1000 boxes of 2..40 feature cells over a 256-channel   */
/* map are one launch, every element right.                                 */

static void detection_head(clpool_roi_op op, clpool_layout layout)
{
    clpool_context *ctx = roi_context(0, 0, NULL);
    roi_case c;
    memset(&c, 0, sizeof c);
    c.d.op = op;
    c.d.output_size[0] = c.d.output_size[1] = 7;
    c.d.num_rois = 1000;
    c.d.spatial_scale = 0.0625;
    c.d.sampling_ratio = op == CLPOOL_ROI_ALIGN ? 2 : 0;
    c.d.indices = op == CLPOOL_ROI_MAX ? I32 : NOI;
    c.in = roi_tensor(F32, layout, 2, 256, 50, 68);
    roi_case_alloc(&c);
    test_rng r = {0xde7};
    for (size_t k = 0; k < c.d.num_rois; k++) {
        double w = uniform(&r, 2, 40), h = uniform(&r, 2, 40);
        double x = uniform(&r, -2, 68 - w + 2), y = uniform(&r, -2, 50 - h + 2);
        double v[5] = {(double)rng_below(&r, 2), x * 16, y * 16, (x + w) * 16, (y + h) * 16};
        for (int j = 0; j < 5; j++)
            roi_case_box(&c, k, j, v[j]);
    }
    roi_case_fill(&r, &c, VALUES_UNIFORM);
    roi_case_reference(&c);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_roi(ctx, &c.d, &c.in, &plan), CLPOOL_SUCCESS);
    ck_assert_uint_eq(clpool_plan_launch_count(plan), 1);
    clpool_plan_destroy(plan);
    int budget = 10;
    size_t bad = roi_check_case(ctx, &c, 0, &r, "detection head", &budget);
    roi_case_free(&c);
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "detection head: %zu bad elements", bad);
}

START_TEST(test_detection_head)
{
    detection_head(CLPOOL_ROI_ALIGN, NCHW);
    detection_head(CLPOOL_ROI_MAX, NHWC);
}
END_TEST

static Suite *roi_suite(void)
{
    Suite *s = suite_create("roi");
    int small = test_small_mode();
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_sweep_max);
    tcase_add_test(tc, test_sweep_align);
    suite_add_tcase(s, tc);
    tc = tcase_create("huge boxes");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_huge_boxes);
    suite_add_tcase(s, tc);
    if (!small) {
        tc = tcase_create("detection head");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_detection_head);
        suite_add_tcase(s, tc);
    }
    roi_add_rules_tcases(s);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(roi_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
