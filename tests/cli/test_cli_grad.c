/*
 * End-to-end tests of "clpool grad" (the window OPs' gradients): the spec's
 * worked examples, gradients from the forward's indices (--indices-in)
 * against the recomputed selection, NHWC against NCHW, float64 and float16,
 * and the failures (wrong GRAD_OUTPUT shape or dtype, --indices under grad,
 * --indices-in where no index applies) with their exit codes, one line and
 * no GRAD_INPUT left behind. Same harness as test_cli.c (files written
 * here, the program run through $CLPOOL_BIN); no OpenCL in this process.
 */
#include <check.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_harness.h"

/* ---- grad ---------------------------------------------------------------- */

static void expect_close(const char *what, const float *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= 1e-6 * (1 + fabs(want[i])),
                      "%s element %zu: got %.9g, want %.9g", what, i, (double)got[i], want[i]);
}

START_TEST(test_max_example)
{
    /* spec §9: x=[1,3,2], k=2, s=1 gives [0,2,0] */
    const float x[3] = {1, 3, 2}, g[2] = {1, 1};
    const double want[3] = {0, 2, 0};
    write_f32("x.npy", (size_t[]){1, 1, 3}, 3, x);
    write_f32("g.npy", (size_t[]){1, 1, 2}, 3, g);
    expect_success_free(
        RUN("grad", "max", "--kernel", "2", "--stride", "1", "x.npy", "g.npy", "gx.npy"));
    float *gx = read_npy("gx.npy", "<f4", "(1, 1, 3)", 3, 4);
    expect_close("max", gx, want, 3);
    free(gx);
    /* the same from the forward's indices */
    expect_success_free(RUN("run", "max", "--kernel", "2", "--stride", "1", "--indices", "i.npy",
                            "x.npy", "y.npy"));
    expect_success_free(RUN("grad", "max", "--kernel", "2", "--stride", "1", "--indices-in",
                            "i.npy", "x.npy", "g.npy", "gx2.npy"));
    gx = read_npy("gx2.npy", "<f4", "(1, 1, 3)", 3, 4);
    expect_close("max --indices-in", gx, want, 3);
    free(gx);
    /* indices -1 send nothing; each index its gradient */
    const int64_t idx[2] = {-1, 2};
    write_typed("j.npy", "<i8", 8, (size_t[]){1, 1, 2}, 3, idx);
    expect_success_free(RUN("grad", "max", "--kernel", "2", "--stride", "1", "--indices-in",
                            "j.npy", "x.npy", "g.npy", "gx3.npy"));
    gx = read_npy("gx3.npy", "<f4", "(1, 1, 3)", 3, 4);
    const double want3[3] = {0, 0, 1};
    expect_close("max, index -1", gx, want3, 3);
    free(gx);
}
END_TEST

START_TEST(test_avg_example)
{
    /* spec §9: ones(6), k=3, s=2, p=1, ceil gives [1/3, 2/3, 1/3, 2/3, 1/3, 5/6] */
    const float x[6] = {1, 1, 1, 1, 1, 1}, g[4] = {1, 1, 1, 1};
    const double want[6] = {1.0 / 3, 2.0 / 3, 1.0 / 3, 2.0 / 3, 1.0 / 3, 5.0 / 6};
    write_f32("x.npy", (size_t[]){1, 1, 6}, 3, x);
    write_f32("g.npy", (size_t[]){1, 1, 4}, 3, g);
    expect_success_free(RUN("grad", "avg", "--kernel", "3", "--stride", "2", "--padding", "1",
                            "--ceil-mode", "1", "x.npy", "g.npy", "gx.npy"));
    float *gx = read_npy("gx.npy", "<f4", "(1, 1, 6)", 6, 4);
    expect_close("avg", gx, want, 6);
    free(gx);
    /* --count-include-pad 0: divisors 2, 3, 3, 1 */
    const double want0[6] = {0.5, 0.5 + 1.0 / 3, 1.0 / 3, 2.0 / 3, 1.0 / 3, 4.0 / 3};
    expect_success_free(RUN("grad", "avg", "--kernel", "3", "--stride", "2", "--padding", "1",
                            "--ceil-mode", "1", "--count-include-pad", "0", "x.npy", "g.npy",
                            "gx.npy"));
    gx = read_npy("gx.npy", "<f4", "(1, 1, 6)", 6, 4);
    expect_close("avg cip=0", gx, want0, 6);
    free(gx);
}
END_TEST

START_TEST(test_lp_float64)
{
    /* lp p=1 with a negative sum: K/D; the ceil window [3] alone is scaled by 2 */
    const double x[3] = {-1, -2, 3}, g[2] = {1, 1};
    write_typed("x.npy", "<f8", 8, (size_t[]){1, 1, 3}, 3, x);
    write_typed("g.npy", "<f8", 8, (size_t[]){1, 1, 2}, 3, g);
    struct result r = RUN("grad", "lp", "--kernel", "2", "--p", "1", "--ceil-mode", "1", "x.npy",
                          "g.npy", "gx.npy");
    if (r.status == 3 && strstr(r.err, "float64")) { /* a device without cl_khr_fp64 */
        result_free(&r);
        return;
    }
    expect_success_free(r);
    double *gx = read_npy("gx.npy", "<f8", "(1, 1, 3)", 3, 8);
    ck_assert(gx[0] == 1 && gx[1] == 1 && gx[2] == 2);
    free(gx);
}
END_TEST

/* NHWC gives the NCHW gradient transposed (2 channels, 2-D max and avg). */
START_TEST(test_nhwc)
{
    enum { C = 2, H = 4, W = 4, OH = 2, OW = 2 };
    float x[C * H * W], xt[H * W * C], g[C * OH * OW], gt[OH * OW * C];
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H * W; i++) {
            x[c * H * W + i] = (float)((i * 7 + c * 3) % 11);
            xt[i * C + c] = x[c * H * W + i];
        }
    for (int c = 0; c < C; c++)
        for (int i = 0; i < OH * OW; i++) {
            g[c * OH * OW + i] = (float)(i + 1) * (c ? -0.5f : 1.0f);
            gt[i * C + c] = g[c * OH * OW + i];
        }
    write_f32("x.npy", (size_t[]){1, C, H, W}, 4, x);
    write_f32("xt.npy", (size_t[]){1, H, W, C}, 4, xt);
    write_f32("g.npy", (size_t[]){1, C, OH, OW}, 4, g);
    write_f32("gt.npy", (size_t[]){1, OH, OW, C}, 4, gt);
    const char *ops[2] = {"max", "avg"};
    for (int k = 0; k < 2; k++) {
        expect_success_free(RUN("grad", ops[k], "--kernel", "3", "--stride", "2", "--padding", "1",
                                "x.npy", "g.npy", "a.npy"));
        expect_success_free(RUN("grad", ops[k], "--kernel", "3", "--stride", "2", "--padding", "1",
                                "--layout", "nhwc", "xt.npy", "gt.npy", "b.npy"));
        float *a = read_npy("a.npy", "<f4", "(1, 2, 4, 4)", C * H * W, 4);
        float *b = read_npy("b.npy", "<f4", "(1, 4, 4, 2)", C * H * W, 4);
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H * W; i++)
                ck_assert_msg(a[c * H * W + i] == b[i * C + c], "%s c=%d i=%d: %g vs %g", ops[k], c,
                              i, (double)a[c * H * W + i], (double)b[i * C + c]);
        free(a);
        free(b);
    }
}
END_TEST

/* stochastic --train 1: the replayed draw equals the forward's indices. */
START_TEST(test_stochastic_replay)
{
    float x[64], g[16];
    for (int i = 0; i < 64; i++)
        x[i] = (float)((i * 13) % 7);
    for (int i = 0; i < 16; i++)
        g[i] = (float)(i + 1);
    write_f32("x.npy", (size_t[]){1, 1, 8, 8}, 4, x);
    write_f32("g.npy", (size_t[]){1, 1, 4, 4}, 4, g);
    expect_success_free(RUN("run", "stochastic", "--kernel", "2", "--train", "1", "--seed", "77",
                            "--indices", "i.npy", "x.npy", "y.npy"));
    expect_success_free(RUN("grad", "stochastic", "--kernel", "2", "--train", "1", "--seed", "77",
                            "--indices-in", "i.npy", "x.npy", "g.npy", "a.npy"));
    expect_success_free(RUN("grad", "stochastic", "--kernel", "2", "--train", "1", "--seed", "77",
                            "x.npy", "g.npy", "b.npy"));
    float *a = read_npy("a.npy", "<f4", "(1, 1, 8, 8)", 64, 4);
    float *b = read_npy("b.npy", "<f4", "(1, 1, 8, 8)", 64, 4);
    int64_t *idx = read_npy("i.npy", "<i8", "(1, 1, 4, 4)", 16, 8);
    double sum = 0;
    for (int i = 0; i < 64; i++) {
        ck_assert_msg(a[i] == b[i], "element %d: %g vs %g", i, (double)a[i], (double)b[i]);
        sum += a[i];
    }
    ck_assert(sum == 136.0); /* every output's gradient lands once */
    for (int o = 0; o < 16; o++)
        ck_assert(a[idx[o]] != 0);
    free(a);
    free(b);
    free(idx);
}
END_TEST

/* A failure: the exit code, one line, no GRAD_INPUT. */
START_TEST(test_unpool_grad)
{
    /* spec §7's duplicates: x=[[1,2],[3,4]], idx=[[0,0],[5,5]], k=2; the
     * gradient gathers grad_out at each index */
    const float x[4] = {1, 2, 3, 4};
    const int64_t idx[4] = {0, 0, 5, 5}, bad[4] = {0, 0, 5, 16};
    float g[16];
    for (int i = 0; i < 16; i++)
        g[i] = (float)(10 + i);
    write_f32("x.npy", (size_t[]){1, 1, 2, 2}, 4, x);
    write_f32("g.npy", (size_t[]){1, 1, 4, 4}, 4, g);
    write_typed("i.npy", "<i8", 8, (size_t[]){1, 1, 2, 2}, 4, idx);
    write_typed("bad.npy", "<i8", 8, (size_t[]){1, 1, 2, 2}, 4, bad);
    expect_success_free(RUN("grad", "max-unpool", "--kernel", "2", "--indices-in", "i.npy", "x.npy",
                            "g.npy", "gx.npy"));
    float *gx = read_npy("gx.npy", "<f4", "(1, 1, 2, 2)", 4, 4);
    const double want[4] = {10, 10, 15, 15};
    expect_close("max-unpool", gx, want, 4);
    free(gx);
    /* an index outside the 16-element plane: refused, nothing written */
    struct result r = RUN("grad", "max-unpool", "--kernel", "2", "--indices-in", "bad.npy", "x.npy",
                          "g.npy", "gy.npy");
    expect_one_line(&r, 3, "index 16");
    ck_assert(!exists("gy.npy"));
    result_free(&r);
    /* GRAD_OUTPUT must have the unpooled shape */
    r = RUN("grad", "max-unpool", "--kernel", "2", "--indices-in", "i.npy", "x.npy", "x.npy",
            "gz.npy");
    expect_one_line(&r, 3, "GRAD_OUTPUT has shape (1, 1, 2, 2)");
    result_free(&r);
}
END_TEST

START_TEST(test_adaptive_grad)
{
    /* adaptive-avg 1-D In=5 -> Out=3: bins [0,2), [1,4), [3,5) */
    const float x[5] = {1, 5, 2, 5, 0}, g[3] = {1, 1, 1};
    write_f32("x.npy", (size_t[]){1, 1, 5}, 3, x);
    write_f32("g.npy", (size_t[]){1, 1, 3}, 3, g);
    expect_success_free(
        RUN("grad", "adaptive-avg", "--output-size", "3", "x.npy", "g.npy", "gx.npy"));
    float *gx = read_npy("gx.npy", "<f4", "(1, 1, 5)", 5, 4);
    const double want[5] = {0.5, 0.5 + 1.0 / 3, 1.0 / 3, 1.0 / 3 + 0.5, 0.5};
    expect_close("adaptive-avg", gx, want, 5);
    free(gx);
    /* adaptive-max: recomputed (first maximum) and from the forward's indices */
    const double want_max[5] = {0, 2, 0, 1, 0};
    expect_success_free(
        RUN("grad", "adaptive-max", "--output-size", "3", "x.npy", "g.npy", "gx2.npy"));
    gx = read_npy("gx2.npy", "<f4", "(1, 1, 5)", 5, 4);
    expect_close("adaptive-max", gx, want_max, 5);
    free(gx);
    expect_success_free(
        RUN("run", "adaptive-max", "--output-size", "3", "--indices", "i.npy", "x.npy", "y.npy"));
    expect_success_free(RUN("grad", "adaptive-max", "--output-size", "3", "--indices-in", "i.npy",
                            "x.npy", "g.npy", "gx3.npy"));
    gx = read_npy("gx3.npy", "<f4", "(1, 1, 5)", 5, 4);
    expect_close("adaptive-max --indices-in", gx, want_max, 5);
    free(gx);
    /* global-avg: g / 5 everywhere */
    const float g1[1] = {5};
    write_f32("g1.npy", (size_t[]){1, 1, 1}, 3, g1);
    expect_success_free(RUN("grad", "global-avg", "x.npy", "g1.npy", "gx4.npy"));
    gx = read_npy("gx4.npy", "<f4", "(1, 1, 5)", 5, 4);
    const double ones[5] = {1, 1, 1, 1, 1};
    expect_close("global-avg", gx, ones, 5);
    free(gx);
}
END_TEST

START_TEST(test_spp_grad)
{
    /* 2x2 input, levels 1,2 max: the output is (1, 5); level 1 selects the
     * maximum 4 (cell 3), level 2 each cell itself */
    const float x[4] = {1, 2, 3, 4}, g[5] = {10, 1, 2, 3, 4};
    write_f32("x.npy", (size_t[]){1, 1, 2, 2}, 4, x);
    write_f32("g.npy", (size_t[]){1, 5}, 2, g);
    expect_success_free(RUN("grad", "spp", "--levels", "1,2", "x.npy", "g.npy", "gx.npy"));
    float *gx = read_npy("gx.npy", "<f4", "(1, 1, 2, 2)", 4, 4);
    const double want[4] = {1, 2, 3, 14};
    expect_close("spp", gx, want, 4);
    free(gx);
    expect_success_free(
        RUN("run", "spp", "--levels", "1,2", "--indices", "i.npy", "x.npy", "y.npy"));
    expect_success_free(RUN("grad", "spp", "--levels", "1,2", "--indices-in", "i.npy", "x.npy",
                            "g.npy", "gx2.npy"));
    gx = read_npy("gx2.npy", "<f4", "(1, 1, 2, 2)", 4, 4);
    expect_close("spp --indices-in", gx, want, 4);
    free(gx);
    /* avg: level 1 sends 10/4 to every cell */
    expect_success_free(
        RUN("grad", "spp", "--levels", "1,2", "--spp-mode", "avg", "x.npy", "g.npy", "gx3.npy"));
    gx = read_npy("gx3.npy", "<f4", "(1, 1, 2, 2)", 4, 4);
    const double want_avg[4] = {3.5, 4.5, 5.5, 6.5};
    expect_close("spp avg", gx, want_avg, 4);
    free(gx);
    struct result r = RUN("grad", "spp", "--levels", "1,2", "--spp-mode", "avg", "--indices-in",
                          "i.npy", "x.npy", "g.npy", "gx4.npy");
    expect_one_line(&r, 2, "--spp-mode max");
    result_free(&r);
}
END_TEST

START_TEST(test_fractional_grad)
{
    /* 4x4 arange, k=2, output 2x2, samples 0.5: windows [0,2) and [2,4) per
     * side, maxima at cells 5, 7, 13, 15 */
    float x[16], s[2] = {0.5f, 0.5f}, g[4] = {1, 2, 3, 4};
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    write_f32("x.npy", (size_t[]){1, 1, 4, 4}, 4, x);
    write_f32("s.npy", (size_t[]){1, 1, 2}, 3, s);
    write_f32("g.npy", (size_t[]){1, 1, 2, 2}, 4, g);
    expect_success_free(RUN("grad", "fractional-max", "--kernel", "2", "--output-size", "2",
                            "--samples", "s.npy", "x.npy", "g.npy", "gx.npy"));
    float *gx = read_npy("gx.npy", "<f4", "(1, 1, 4, 4)", 16, 4);
    double want[16] = {0};
    want[5] = 1;
    want[7] = 2;
    want[13] = 3;
    want[15] = 4;
    expect_close("fractional-max", gx, want, 16);
    free(gx);
    /* drawn windows: recomputed from --seed equals the forward's indices */
    float x2[2 * 7 * 7];
    for (int i = 0; i < 98; i++)
        x2[i] = (float)((i * 37) % 23);
    float g2[2 * 3 * 3];
    for (int i = 0; i < 18; i++)
        g2[i] = (float)(i + 1);
    write_f32("x2.npy", (size_t[]){1, 2, 7, 7}, 4, x2);
    write_f32("g2.npy", (size_t[]){1, 2, 3, 3}, 4, g2);
    expect_success_free(RUN("run", "fractional-max", "--kernel", "2", "--output-size", "3",
                            "--seed", "7", "--indices", "i.npy", "x2.npy", "y.npy"));
    expect_success_free(RUN("grad", "fractional-max", "--kernel", "2", "--output-size", "3",
                            "--seed", "7", "x2.npy", "g2.npy", "ga.npy"));
    expect_success_free(RUN("grad", "fractional-max", "--kernel", "2", "--output-size", "3",
                            "--seed", "7", "--indices-in", "i.npy", "x2.npy", "g2.npy", "gb.npy"));
    float *ga = read_npy("ga.npy", "<f4", "(1, 2, 7, 7)", 98, 4);
    float *gb = read_npy("gb.npy", "<f4", "(1, 2, 7, 7)", 98, 4);
    double sum = 0;
    for (int i = 0; i < 98; i++) {
        ck_assert_msg(ga[i] == gb[i], "element %d: recomputed %g, from indices %g", i, ga[i],
                      gb[i]);
        sum += ga[i];
    }
    /* every output sends its gradient somewhere: 1 + ... + 18 */
    ck_assert_msg(sum == 171, "the gradient sums to %g, want 171", sum);
    free(ga);
    free(gb);
}
END_TEST

static void expect_grad_failure(const char *const *args, int code, const char *needle)
{
    struct result r = run_argv(args);
    expect_one_line(&r, code, needle);
    ck_assert_msg(!exists("gx.npy"), "a failed run left gx.npy behind");
    result_free(&r);
}

#define FAILS(code, needle, ...)                                                                   \
    expect_grad_failure((const char *const[]){__VA_ARGS__, NULL}, code, needle)

START_TEST(test_grad_errors)
{
    const float x[3] = {1, 3, 2}, g[2] = {1, 1}, g3[3] = {1, 1, 1};
    const double g64[2] = {1, 1};
    const float fidx[2] = {0, 1};
    write_f32("x.npy", (size_t[]){1, 1, 3}, 3, x);
    write_f32("g.npy", (size_t[]){1, 1, 2}, 3, g);
    write_f32("g3.npy", (size_t[]){1, 1, 3}, 3, g3);
    write_typed("g64.npy", "<f8", 8, (size_t[]){1, 1, 2}, 3, g64);
    write_f32("fidx.npy", (size_t[]){1, 1, 2}, 3, fidx);
    FAILS(3, "GRAD_OUTPUT has shape (1, 1, 3)", "grad", "max", "--kernel", "2", "--stride", "1",
          "x.npy", "g3.npy", "gx.npy");
    FAILS(3, "float64", "grad", "max", "--kernel", "2", "--stride", "1", "x.npy", "g64.npy",
          "gx.npy");
    FAILS(3, "int64", "grad", "max", "--kernel", "2", "--stride", "1", "--indices-in", "fidx.npy",
          "x.npy", "g.npy", "gx.npy");
    FAILS(2, "--indices-in", "grad", "max", "--kernel", "2", "--indices", "i.npy", "x.npy", "g.npy",
          "gx.npy");
    FAILS(2, "does not apply", "grad", "avg", "--kernel", "2", "--indices-in", "fidx.npy", "x.npy",
          "g.npy", "gx.npy");
    FAILS(2, "--train 1", "grad", "stochastic", "--kernel", "2", "--indices-in", "fidx.npy",
          "x.npy", "g.npy", "gx.npy");
    FAILS(2, "GRAD_INPUT", "grad", "max", "--kernel", "2", "x.npy", "g.npy");
    FAILS(3, "padding", "grad", "max", "--kernel", "2", "--padding", "2", "x.npy", "g.npy",
          "gx.npy");
    FAILS(3, "not supported", "grad", "roi-max", "--rois", "x.npy", "--output-size", "1", "x.npy",
          "g.npy", "gx.npy");
    FAILS(3, "GRAD_OUTPUT has shape (1, 1, 2)", "grad", "global-max", "x.npy", "g.npy", "gx.npy");
    FAILS(2, "does not apply", "grad", "global-avg", "--indices-in", "fidx.npy", "x.npy", "g.npy",
          "gx.npy");
    FAILS(3, "missing.npy", "grad", "max", "--kernel", "2", "x.npy", "missing.npy", "gx.npy");
    const uint8_t u[3] = {1, 2, 3};
    write_typed("u.npy", "|u1", 1, (size_t[]){1, 1, 3}, 3, u);
    FAILS(3, "uint8", "grad", "max", "--kernel", "2", "--stride", "1", "u.npy", "g.npy", "gx.npy");
}
END_TEST

static Suite *grad_suite(void)
{
    Suite *s = suite_create("cli-grad");
    TCase *tc = tcase_create("grad");
    tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_max_example);
    tcase_add_test(tc, test_avg_example);
    tcase_add_test(tc, test_lp_float64);
    tcase_add_test(tc, test_nhwc);
    tcase_add_test(tc, test_stochastic_replay);
    tcase_add_test(tc, test_grad_errors);
    tcase_add_test(tc, test_unpool_grad);
    tcase_add_test(tc, test_adaptive_grad);
    tcase_add_test(tc, test_spp_grad);
    tcase_add_test(tc, test_fractional_grad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(grad_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
