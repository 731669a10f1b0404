/*
 * Part of the "family" suite: the CPU fast path of channels-last max and avg
 * in window_lanes.cl (positions whose window lies inside the row along x,
 * full lane groups). Shapes with window rows in the top and bottom padding,
 * dilation, ceil mode and 3-D windows, channel counts that fill the lanes or
 * leave a partial group, every storage dtype, and values that test what the
 * fast path does differently from pool_lanes: ties of +0 and -0 (the first
 * maximum wins, bit for bit), and a few NaN, so that some rows are redone
 * after a NaN and the others are not. The CPU device takes the row variant
 * itself; oclgrind's small-mode pass that forces it runs a few shapes.
 */
#include "family_gen.h"
#include "family_suite.h"
#include "storage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nhwc_shape {
    clpool_op op;
    int dims, k, s, p, d, ceil_mode, exclude, divisor;
    size_t sp[3];
} nhwc_shape;

/* Each keeps windows in the padding at both ends of H (and D). */
static const nhwc_shape shapes[] = {
    {CLPOOL_OP_MAX, 2, 3, 2, 1, 1, 0, 0, 0, {9, 13, 0}}, /* stem-like, bottom padding */
    {CLPOOL_OP_MAX, 2, 3, 1, 1, 1, 0, 0, 0, {6, 11, 0}}, /* overlapping windows */
    {CLPOOL_OP_MAX, 2, 3, 1, 2, 2, 0, 0, 0, {7, 12, 0}}, /* dilated: rows skip */
    {CLPOOL_OP_MAX, 2, 2, 2, 0, 1, 1, 0, 0, {7, 9, 0}},  /* ceil mode, odd sizes */
    {CLPOOL_OP_MAX, 3, 3, 2, 1, 1, 0, 0, 0, {5, 6, 9}},  /* 3-D */
    {CLPOOL_OP_MAX, 1, 3, 1, 1, 1, 0, 0, 0, {17, 0, 0}}, /* 1-D */
    {CLPOOL_OP_AVG, 2, 3, 1, 1, 1, 0, 1, 0, {6, 11, 0}}, /* inception-like */
    {CLPOOL_OP_AVG, 2, 3, 2, 1, 1, 0, 0, 0, {9, 13, 0}}, /* padding counted */
    {CLPOOL_OP_AVG, 2, 3, 2, 1, 1, 1, 1, 0, {8, 12, 0}}, /* ceil mode, excluded */
    {CLPOOL_OP_AVG, 2, 2, 1, 1, 1, 0, 0, 5, {5, 10, 0}}, /* divisor override (not below the
                                                          * cells: integer sums fit) */
    {CLPOOL_OP_AVG, 3, 3, 2, 1, 1, 0, 1, 0, {5, 6, 9}},  /* 3-D */
};
#define SHAPE_COUNT ((int)(sizeof shapes / sizeof shapes[0]))

static const clpool_dtype dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16,
                                      CLPOOL_UINT8,   CLPOOL_INT8,    CLPOOL_FLOAT64};
/* Lane widths pinned through $CLPOOL_TUNE_VW (NULL: the device's choice). */
static const char *widths[] = {"16", "8", NULL, "4", "1"};
/* Channel counts: full lane groups, then a partial one. */
static const size_t channels[] = {32, 20};

/* A float input of 0, -0 and small integers; with @p nans, a NaN roughly
 * once every 400 elements. */
static double tie_value(test_rng *r, int nans)
{
    uint32_t u = rng_below(r, 1000);
    if (nans && u < 3)
        return NAN;
    if (u < 400)
        return u % 2 ? -0.0 : 0.0;
    return (double)rng_below(r, 5) - 2.0;
}

START_TEST(test_nhwc_fast_rows)
{
    const nhwc_shape *sh = &shapes[_i];
    clpool_context *ctx = test_context(NULL, 0, 0);
    int has_fp64 = family_device_has_fp64();
    test_rng r = {0x5eed + (uint64_t)_i};
    size_t bad = 0, checked = 0;
    int budget = 20;
    /* small mode (oclgrind, a "GPU" whose own choice is VW=1): float32 and
     * float16 at 16 and 8 lanes */
    int small = test_small_mode();
    size_t ntypes = small ? 2 : sizeof dtypes / sizeof dtypes[0];
    for (size_t t = 0; t < ntypes; t++) {
        clpool_dtype dtype = dtypes[t];
        if (dtype == CLPOOL_FLOAT64 && !has_fp64)
            continue;
        const char *vw =
            small ? widths[t] : widths[(t + (size_t)_i) % (sizeof widths / sizeof widths[0])];
        if (vw)
            setenv("CLPOOL_TUNE_VW", vw, 1);
        else
            unsetenv("CLPOOL_TUNE_VW");
        for (size_t ci = 0; ci < sizeof channels / sizeof channels[0]; ci++) {
            family_case c;
            memset(&c, 0, sizeof c);
            c.op = family_win(sh->op, sh->k, sh->s, sh->p, sh->d, sh->ceil_mode);
            c.op.exclude_padding = sh->exclude;
            c.op.divisor_override = sh->divisor;
            c.in = family_tensor(dtype, CLPOOL_NHWC, sh->dims, 2, channels[ci], sh->sp[0],
                                 sh->sp[1], sh->sp[2]);
            ck_assert_int_eq(ref_window_check(&c.op, &c.in, NULL), CLPOOL_SUCCESS);
            if (storage_is_float(dtype)) {
                family_alloc_input(&c);
                size_t planes = c.in.n * c.in.c, S = tensor_elements(&c.in) / planes;
                int nans = ci == 0;
                for (size_t pl = 0; pl < planes; pl++)
                    for (size_t s = 0; s < S; s++)
                        family_put(&c, pl, s, tie_value(&r, nans));
            } else {
                family_fill(&r, &c, ci ? FV_TIES : FV_SPECIAL);
            }
            ck_assert_int_eq(family_reference(&c, NULL), CLPOOL_SUCCESS);
            char label[96];
            snprintf(label, sizeof label, "nhwc fast rows (VW=%s)", vw ? vw : "device");
            family_result res;
            memset(&res, 0, sizeof res);
            clpool_status st = family_run(ctx, &c, (int)ci, (int)(t % 2), &r, &res, label);
            if (st == CLPOOL_SUCCESS)
                bad += family_compare(&c, &res, label, &budget);
            else
                bad++;
            checked += c.out_elems;
            family_result_free(&res);
            family_case_free(&c);
        }
    }
    unsetenv("CLPOOL_TUNE_VW");
    printf("nhwc fast rows, shape %d (%s %dd k=%d s=%d p=%d d=%d): %zu elements, %zu bad\n", _i,
           sh->op == CLPOOL_OP_MAX ? "max" : "avg", sh->dims, sh->k, sh->s, sh->p, sh->d, checked,
           bad);
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu bad elements", bad);
}
END_TEST

/* Small mode: a 2-D and a 3-D max and the overlapping avg (the fast path
 * runs on oclgrind when its pass forces the row variant). */
void family_add_nhwc_tcases(Suite *s)
{
    TCase *tc = tcase_create("nhwc-rows");
    tcase_set_timeout(tc, test_small_mode() ? 3600 : 900);
    if (test_small_mode()) {
        tcase_add_loop_test(tc, test_nhwc_fast_rows, 0, 1);
        tcase_add_loop_test(tc, test_nhwc_fast_rows, 4, 5);
        tcase_add_loop_test(tc, test_nhwc_fast_rows, 6, 7);
    } else {
        tcase_add_loop_test(tc, test_nhwc_fast_rows, 0, SHAPE_COUNT);
    }
    suite_add_tcase(s, tc);
}
