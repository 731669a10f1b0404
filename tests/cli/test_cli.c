/*
 * End-to-end tests of the clpool program: each test writes its own .npy
 * files (with the small writer below, not the program's), runs the program
 * found through $CLPOOL_BIN with posix_spawn, and checks the exit code, the
 * one-line diagnostics, the results against a plain-C reference, and that a
 * failed run creates no file and leaves an existing output untouched.
 *
 * This process never touches OpenCL (only the spawned program does), so
 * Check's fork per test is safe.
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

#ifndef CLPOOL_EXPECTED_VERSION
#define CLPOOL_EXPECTED_VERSION "0.1.0"
#endif

#include "cli_harness.h"

/*
 * Runs @p args (which name "out.npy" as the output, and "idx.npy" for any
 * indices) twice: with no output file, which must not appear, and with
 * existing outputs, which must stay byte for byte; no other file (such as
 * a temporary one) may be left behind either time.
 */
static void expect_failure_args(const char *const *args, int code, const char *needle)
{
    ck_assert(!exists("out.npy") && !exists("idx.npy"));
    char *before = list_folder();
    struct result r = run_argv(args);
    expect_one_line(&r, code, needle);
    result_free(&r);
    char *after = list_folder();
    ck_assert_msg(strcmp(before, after) == 0, "files changed:\n%s\nbecame\n%s", before, after);
    free(after);

    static const char sentinel[] = "an earlier result that a failed run must keep";
    write_bytes("out.npy", sentinel, sizeof sentinel);
    write_bytes("idx.npy", sentinel, sizeof sentinel);
    r = run_argv(args);
    expect_one_line(&r, code, needle);
    result_free(&r);
    size_t len = 0;
    char *kept = read_bytes("out.npy", &len);
    ck_assert(kept && len == sizeof sentinel && memcmp(kept, sentinel, len) == 0);
    free(kept);
    kept = read_bytes("idx.npy", &len);
    ck_assert(kept && len == sizeof sentinel && memcmp(kept, sentinel, len) == 0);
    free(kept);
    unlink("out.npy");
    unlink("idx.npy");
    after = list_folder();
    ck_assert_msg(strcmp(before, after) == 0, "files changed:\n%s\nbecame\n%s", before, after);
    free(after);
    free(before);
}

#define EXPECT_FAILURE(code, needle, ...)                                                          \
    expect_failure_args((const char *const[]){__VA_ARGS__, NULL}, code, needle)

/* ---- plain-C reference (spec/semantics.md §1-§3), 2-D ------------------- */

struct pool2d {
    int n, c, h, w;
    int kh, kw, sh, sw, ph, pw;
    int ceil_mode, count_include_pad;
};

static int ref_out_size(int in, int k, int s, int p, int ceil_mode)
{
    int o = (in + 2 * p - k + (ceil_mode ? s - 1 : 0)) / s + 1;
    if (ceil_mode && (o - 1) * s >= in + p)
        o--;
    return o;
}

static int imin(int a, int b)
{
    return a < b ? a : b;
}

static int imax(int a, int b)
{
    return a > b ? a : b;
}

/* Max with the first maximum winning and NaN winning (last NaN). */
static void ref_max2d(const struct pool2d *g, const float *x, float *out, int64_t *idx)
{
    int oh = ref_out_size(g->h, g->kh, g->sh, g->ph, g->ceil_mode);
    int ow = ref_out_size(g->w, g->kw, g->sw, g->pw, g->ceil_mode);
    for (int plane = 0; plane < g->n * g->c; plane++) {
        const float *xp = x + (size_t)plane * g->h * g->w;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
                float m = -INFINITY;
                int64_t best = -1;
                for (int y = imax(y0, 0); y < imin(y0 + g->kh, g->h); y++)
                    for (int xx = imax(x0, 0); xx < imin(x0 + g->kw, g->w); xx++) {
                        float v = xp[y * g->w + xx];
                        if (best < 0 || v > m || isnan(v)) {
                            m = v;
                            best = y * g->w + xx;
                        }
                    }
                out[(plane * oh + oy) * ow + ox] = m;
                idx[(plane * oh + oy) * ow + ox] = best;
            }
    }
}

/* Average, the divisor clipped to the padded extent; sums in double. */
static void ref_avg2d(const struct pool2d *g, const float *x, float *out)
{
    int oh = ref_out_size(g->h, g->kh, g->sh, g->ph, g->ceil_mode);
    int ow = ref_out_size(g->w, g->kw, g->sw, g->pw, g->ceil_mode);
    for (int plane = 0; plane < g->n * g->c; plane++) {
        const float *xp = x + (size_t)plane * g->h * g->w;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
                int y1 = imin(y0 + g->kh, g->h + g->ph), x1 = imin(x0 + g->kw, g->w + g->pw);
                int pool = (y1 - y0) * (x1 - x0);
                int cy0 = imax(y0, 0), cx0 = imax(x0, 0);
                int cy1 = imin(y1, g->h), cx1 = imin(x1, g->w);
                double sum = 0;
                for (int y = cy0; y < cy1; y++)
                    for (int xx = cx0; xx < cx1; xx++)
                        sum += xp[y * g->w + xx];
                int valid = (cy1 - cy0) * (cx1 - cx0);
                out[(plane * oh + oy) * ow + ox] =
                    (float)(sum / (g->count_include_pad ? pool : valid));
            }
    }
}

/* ---- tcase: version, help, devices -------------------------------------- */

/* The first line is "clpool VERSION"; the next ones name the default device and
 * the cache folder for bug reports. */
START_TEST(test_version)
{
    static const char first[] = "clpool " CLPOOL_EXPECTED_VERSION "\n";
    struct result r = RUN("--version");
    expect_success(r);
    ck_assert_msg(strncmp(r.out, first, strlen(first)) == 0, "%s", r.out);
    static const char *const keys[] = {
        "\nplatform: ", "\ndevice:   ", "\ndriver:   ", "\nopencl:   OpenCL "};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(strstr(r.out, keys[i]), "no '%s' line: %s", keys[i] + 1, r.out);
    char cache[4200];
    snprintf(cache, sizeof cache, "\ncache:    %s\n", getenv("CLPOOL_CACHE_DIR"));
    ck_assert_msg(strstr(r.out, cache), "no '%s' line: %s", cache + 1, r.out);
    result_free(&r);

    /* Without a usable device it still prints the version and succeeds. */
    ck_assert_int_eq(setenv("CLPOOL_DEVICE", "no-such-device-anywhere", 1), 0);
    r = RUN("--version");
    ck_assert_int_eq(unsetenv("CLPOOL_DEVICE"), 0);
    expect_success(r);
    ck_assert_msg(strncmp(r.out, first, strlen(first)) == 0 &&
                      strncmp(r.out + strlen(first), "device:   none (", 16) == 0,
                  "%s", r.out);
    result_free(&r);
}
END_TEST

static void expect_help(const char *const *args, const char *needle)
{
    struct result r = run_argv(args);
    expect_success(r);
    ck_assert_msg(strncmp(r.out, "usage: clpool", 13) == 0, "%s: %s", args[0], r.out);
    ck_assert_msg(strstr(r.out, needle), "help of %s %s lacks %s: %s", args[0],
                  args[1] ? args[1] : "", needle, r.out);
    result_free(&r);
}

#define EXPECT_HELP(needle, ...) expect_help((const char *const[]){__VA_ARGS__, NULL}, needle)

START_TEST(test_help)
{
    EXPECT_HELP("clpool run  OP", "--help");
    EXPECT_HELP("--count-include-pad", "run", "--help");
    EXPECT_HELP("--indices", "max", "--help");
    EXPECT_HELP("--divisor", "avg", "--help");
    EXPECT_HELP("--p P", "run", "lp", "--help");
    EXPECT_HELP("GRAD_OUTPUT.npy", "grad", "--help");
    EXPECT_HELP("--json", "devices", "--help");
    /* The window family: per-OP options, their rules, the dtype extension. */
    EXPECT_HELP("--alpha A", "mixed", "--help");
    EXPECT_HELP("--indices only with --train 1", "stochastic", "--help");
    EXPECT_HELP("--seed S", "run", "stochastic", "--help");
    EXPECT_HELP("softmax temperature (required)", "softmax", "--help");
    EXPECT_HELP("no --padding", "lp", "--help");
    EXPECT_HELP("--dtype bfloat16", "--help");
    EXPECT_HELP("holding bfloat16 bit patterns", "run", "--help");
    EXPECT_HELP("--layout nhwc", "gem", "--help");
}
END_TEST

START_TEST(test_devices)
{
    struct result r = RUN("devices");
    expect_success(r);
    int lines = 0, marked = 0;
    for (const char *line = r.out; *line; line = strchr(line, '\n') + 1) {
        ck_assert_msg(strchr(line, '\n'), "unterminated line in %s", r.out);
        ck_assert_msg(line[0] == '*' || line[0] == ' ', "bad marker: %s", line);
        ck_assert_msg(line[1] == ' ' && line[2] >= '0' && line[2] <= '9', "bad line: %s", line);
        marked += line[0] == '*';
        lines++;
    }
    ck_assert_int_ge(lines, 1);
    ck_assert_int_eq(marked, 1);
    result_free(&r);

    r = RUN("devices", "--json");
    expect_success(r);
    ck_assert_msg(r.out[0] == '[' && strstr(r.out, "]\n"), "not a JSON list: %s", r.out);
    const char *first = strstr(r.out, "\"default\": true");
    ck_assert_msg(first && !strstr(first + 1, "\"default\": true"), "%s", r.out);
    int objects = 0;
    for (const char *p = r.out; (p = strstr(p, "\"platform_index\"")) != NULL; p++)
        objects++;
    ck_assert_int_eq(objects, lines); /* one object per device */
    /* Each object also carries what a bug report needs. */
    char cache[4200];
    snprintf(cache, sizeof cache, "\"cache_dir\": \"%s\"", getenv("CLPOOL_CACHE_DIR"));
    const char *const facts[] = {"\"library_version\": \"" CLPOOL_EXPECTED_VERSION "\"",
                                 "\"opencl_version\": \"", "\"driver_version\": \"", cache};
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        int found = 0;
        for (const char *p = r.out; (p = strstr(p, facts[i])) != NULL; p++)
            found++;
        ck_assert_msg(found == lines, "%d of %d objects have %s: %s", found, lines, facts[i],
                      r.out);
    }
    result_free(&r);
}
END_TEST

/* ---- tcase: max ---------------------------------------------------------- */

/* spec §2 worked example. */
START_TEST(test_max2d_worked_example)
{
    const float x[16] = {1, 5, 2, 0, 3, 4, 8, 1, 0, 2, 7, 6, 9, 1, 3, 3};
    write_f32("in.npy", (size_t[]){1, 1, 4, 4}, 4, x);
    struct result r =
        RUN("run", "max", "--kernel", "2", "--indices", "idx.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 1, 2, 2)", 4, 4);
    int64_t *idx = read_npy("idx.npy", "<i8", "(1, 1, 2, 2)", 4, 8);
    const float want[4] = {5, 8, 9, 7};
    const int64_t want_idx[4] = {1, 6, 12, 10};
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq(out[i], want[i]);
        ck_assert_int_eq(idx[i], want_idx[i]);
    }
    free(out);
    free(idx);
    char *files = list_folder();
    ck_assert_str_eq(files, "idx.npy\nin.npy\nout.npy\n"); /* no temporary left */
    free(files);
}
END_TEST

/* Per-dimension lists are outermost first: --kernel 3,2 is kh=3, kw=2. */
START_TEST(test_max2d_reference)
{
    struct pool2d g = {2, 3, 7, 5, 3, 2, 2, 1, 1, 0, 1, 1};
    size_t count = (size_t)g.n * g.c * g.h * g.w;
    float x[210];
    for (size_t i = 0; i < count; i++)
        x[i] = (float)((int)((i * 37) % 17) - 8); /* ties on purpose */
    write_f32("in.npy", (size_t[]){2, 3, 7, 5}, 4, x);
    struct result r = RUN("run", "max", "--kernel", "3,2", "--stride", "2,1", "--padding", "1,0",
                          "--ceil-mode", "1", "--indices", "idx.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    int oh = ref_out_size(g.h, g.kh, g.sh, g.ph, 1), ow = ref_out_size(g.w, g.kw, g.sw, g.pw, 1);
    size_t n_out = (size_t)g.n * g.c * oh * ow;
    char shape[64];
    snprintf(shape, sizeof shape, "(2, 3, %d, %d)", oh, ow);
    float *out = read_npy("out.npy", "<f4", shape, n_out, 4);
    int64_t *idx = read_npy("idx.npy", "<i8", shape, n_out, 8);
    float want[256];
    int64_t want_idx[256];
    ref_max2d(&g, x, want, want_idx);
    for (size_t i = 0; i < n_out; i++) {
        ck_assert_msg(
            out[i] == want[i] && idx[i] == want_idx[i],
            "N=2 C=3 H=7 W=5 k=3x2 s=2x1 p=1x0 ceil=1 at flat %zu: got %g @%lld, want %g @%lld", i,
            out[i], (long long)idx[i], want[i], (long long)want_idx[i]);
    }
    free(out);
    free(idx);
}
END_TEST

/* 3-D input (N, C, D, H, W): values increase, so each max is the window's
 * last element. */
START_TEST(test_max3d)
{
    float x[2 * 3 * 4 * 4];
    for (int i = 0; i < 96; i++)
        x[i] = (float)(i % 48) + 100.0f * (float)(i / 48);
    write_f32("in.npy", (size_t[]){1, 2, 3, 4, 4}, 5, x);
    struct result r =
        RUN("run", "max", "--kernel", "2", "--indices", "idx.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 2, 1, 2, 2)", 8, 4);
    int64_t *idx = read_npy("idx.npy", "<i8", "(1, 2, 1, 2, 2)", 8, 8);
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) {
                int64_t q = (1 * 4 + 2 * i + 1) * 4 + 2 * j + 1;
                ck_assert_int_eq(idx[c * 4 + i * 2 + j], q);
                ck_assert_float_eq(out[c * 4 + i * 2 + j], (float)q + 100.0f * (float)c);
            }
    free(out);
    free(idx);
}
END_TEST

/* An existing output is replaced by the result. */
START_TEST(test_output_replaced)
{
    const float x[4] = {1, 2, 3, 4};
    write_f32("in.npy", (size_t[]){1, 1, 4}, 3, x);
    write_bytes("out.npy", "old", 3);
    struct result r = RUN("run", "max", "--kernel", "2", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 1, 2)", 2, 4);
    ck_assert_float_eq(out[0], 2);
    ck_assert_float_eq(out[1], 4);
    free(out);
}
END_TEST

/* ---- tcase: avg ---------------------------------------------------------- */

static void check_avg_1d(const char *cip, const float want[3])
{
    struct result r = RUN("run", "avg", "--kernel", "3", "--stride", "2", "--padding", "1",
                          "--ceil-mode", "1", "--count-include-pad", cip, "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 1, 3)", 3, 4);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(fabsf(out[i] - want[i]) <= 1e-6f, "cip=%s [%d]: %g, want %g", cip, i, out[i],
                      want[i]);
    free(out);
}

/* spec §3 worked examples. */
START_TEST(test_avg_worked_examples)
{
    const float x[5] = {1, 2, 3, 4, 5};
    write_f32("in.npy", (size_t[]){1, 1, 5}, 3, x);
    check_avg_1d("1", (const float[]){1, 3, 3});
    check_avg_1d("0", (const float[]){1.5f, 3, 4.5f});

    float ones[36];
    for (int i = 0; i < 36; i++)
        ones[i] = 1;
    write_f32("in.npy", (size_t[]){1, 1, 6, 6}, 4, ones);
    struct result r = RUN("run", "avg", "--kernel", "4", "--stride", "3", "--ceil-mode", "1",
                          "--divisor", "3", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 1, 2, 2)", 4, 4);
    const float want[4] = {16.0f / 3, 4, 4, 3};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabsf(out[i] - want[i]) <= 1e-6f, "[%d]: %g, want %g", i, out[i], want[i]);
    free(out);
}
END_TEST

START_TEST(test_avg2d_reference)
{
    struct pool2d g = {2, 3, 7, 5, 3, 2, 2, 1, 1, 0, 1, 1};
    float x[210];
    for (int i = 0; i < 210; i++)
        x[i] = (float)((i * 29) % 23) * 0.25f - 2.0f;
    write_f32("in.npy", (size_t[]){2, 3, 7, 5}, 4, x);
    int oh = ref_out_size(g.h, g.kh, g.sh, g.ph, 1), ow = ref_out_size(g.w, g.kw, g.sw, g.pw, 1);
    size_t n_out = (size_t)g.n * g.c * oh * ow;
    char shape[64];
    snprintf(shape, sizeof shape, "(2, 3, %d, %d)", oh, ow);
    for (int cip = 0; cip <= 1; cip++) {
        g.count_include_pad = cip;
        struct result r =
            RUN("run", "avg", "--kernel", "3,2", "--stride", "2,1", "--padding", "1,0",
                "--ceil-mode", "1", "--count-include-pad", cip ? "1" : "0", "in.npy", "out.npy");
        expect_success(r);
        result_free(&r);
        float *out = read_npy("out.npy", "<f4", shape, n_out, 4);
        float want[256];
        ref_avg2d(&g, x, want);
        for (size_t i = 0; i < n_out; i++)
            ck_assert_msg(
                fabsf(out[i] - want[i]) <= 1e-5f * (1 + fabsf(want[i])),
                "N=2 C=3 H=7 W=5 k=3x2 s=2x1 p=1x0 ceil=1 cip=%d at flat %zu: %g, want %g", cip, i,
                out[i], want[i]);
        free(out);
    }
}
END_TEST

/* ---- tcase: usage errors (exit 2) ----------------------------------------- */

START_TEST(test_usage_errors)
{
    const float x[16] = {0};
    write_f32("in.npy", (size_t[]){1, 1, 4, 4}, 4, x);
    EXPECT_FAILURE(2, "unknown command", "frobnicate", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "unknown OP", "run", "median", "--kernel", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "unknown option", "run", "max", "--kernal", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "unknown option", "run", "max", "-k", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "needs --kernel", "run", "max", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "does not apply", "run", "max", "--kernel", "2", "--p", "2", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "needs a value", "run", "max", "in.npy", "out.npy", "--kernel");
    EXPECT_FAILURE(2, "expects", "run", "max", "--kernel", "2", "in.npy");
    EXPECT_FAILURE(2, "too many", "run", "max", "--kernel", "2", "in.npy", "out.npy", "a", "b");
    EXPECT_FAILURE(2, "twice", "run", "max", "--kernel", "2", "--kernel", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "not a command", "max", "--kernel", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "unknown option", "--kernel");
    EXPECT_FAILURE(2, "same file", "run", "max", "--kernel", "2", "--indices", "out.npy", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "nchw or nhwc", "run", "max", "--kernel", "2", "--layout", "chw", "in.npy",
                   "out.npy");
}
END_TEST

START_TEST(test_malformed_numbers)
{
    const float x[16] = {0};
    write_f32("in.npy", (size_t[]){1, 1, 4, 4}, 4, x);
    static const char *const bad_kernels[] = {"x",  "2x2", "2,,2", "2,",          ",2",     "1.5",
                                              " 2", "",    "+",    "99999999999", "2,2,2,2"};
    for (size_t i = 0; i < sizeof bad_kernels / sizeof bad_kernels[0]; i++)
        EXPECT_FAILURE(2, "--kernel", "run", "max", "--kernel", bad_kernels[i], "in.npy",
                       "out.npy");
    EXPECT_FAILURE(2, "0 or 1", "run", "max", "--kernel", "2", "--ceil-mode", "2", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "0 or 1", "run", "avg", "--kernel", "2", "--count-include-pad", "yes",
                   "in.npy", "out.npy");
    EXPECT_FAILURE(2, "--divisor", "run", "avg", "--kernel", "2", "--divisor", "3.5", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "--p", "run", "lp", "--kernel", "2", "--p", "two", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "--seed", "run", "stochastic", "--kernel", "2", "--seed", "-1", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "--alpha", "run", "mixed", "--kernel", "2", "--alpha", "1e999", "in.npy",
                   "out.npy");
}
END_TEST

/* ---- tcase: not supported yet (exit 3) ----------------------------------- */

START_TEST(test_unsupported_ops)
{
    const float x[16] = {0};
    write_f32("in.npy", (size_t[]){1, 1, 4, 4}, 4, x);
    EXPECT_FAILURE(3, "not supported yet", "grad", "roi-align", "--rois", "in.npy", "--output-size",
                   "2", "in.npy", "idx.npy", "out.npy");
    /* A missing required option is usage. */
    EXPECT_FAILURE(2, "needs --output-size", "run", "adaptive-max", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "exactly one", "run", "fractional-max", "--kernel", "2", "in.npy", "out.npy");
}
END_TEST

/* ---- tcase: malformed and unsupported .npy files (exit 3) ---------------- */

static const char good_dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4), }";

/* Writes in.npy with @p dict and @p data_len zero bytes, expects exit 3. */
static void expect_bad_dict(const char *dict, size_t data_len, const char *needle)
{
    void *zeros = calloc(1, data_len + 1);
    write_npy_raw("in.npy", 1, dict, zeros, data_len);
    free(zeros);
    EXPECT_FAILURE(3, needle, "run", "max", "--kernel", "2", "in.npy", "out.npy");
    unlink("in.npy");
}

START_TEST(test_npy_file_errors)
{
    EXPECT_FAILURE(3, "missing.npy", "run", "max", "--kernel", "2", "missing.npy", "out.npy");
    ck_assert_int_eq(mkdir("folder.npy", 0755), 0);
    EXPECT_FAILURE(3, "not a regular file", "run", "max", "--kernel", "2", "folder.npy", "out.npy");
    rmdir("folder.npy");
    write_bytes("in.npy", "", 0);
    EXPECT_FAILURE(3, "too short", "run", "max", "--kernel", "2", "in.npy", "out.npy");

    /* A good file, then damaged copies of it. */
    float data[16] = {0};
    write_npy_raw("in.npy", 1, good_dict, data, sizeof data);
    size_t len = 0;
    unsigned char *good = (unsigned char *)read_bytes("in.npy", &len);
    ck_assert_uint_eq(len, 128 + sizeof data);

    write_bytes("in.npy", good, 40); /* truncated inside the header */
    EXPECT_FAILURE(3, "past the end", "run", "max", "--kernel", "2", "in.npy", "out.npy");
    write_bytes("in.npy", good, 9); /* truncated inside the preamble */
    EXPECT_FAILURE(3, "too short", "run", "max", "--kernel", "2", "in.npy", "out.npy");

    good[1] = 'X'; /* wrong magic */
    write_bytes("in.npy", good, len);
    EXPECT_FAILURE(3, "not a .npy file", "run", "max", "--kernel", "2", "in.npy", "out.npy");
    good[1] = 'N';
    good[6] = 4; /* version 4.0 */
    write_bytes("in.npy", good, len);
    EXPECT_FAILURE(3, "version 4.0", "run", "max", "--kernel", "2", "in.npy", "out.npy");
    good[6] = 1;
    good[7] = 1; /* version 1.1 */
    write_bytes("in.npy", good, len);
    EXPECT_FAILURE(3, "version 1.1", "run", "max", "--kernel", "2", "in.npy", "out.npy");
    good[7] = 0;
    good[8] = 0xff; /* header length past the end of the file */
    good[9] = 0x7f;
    write_bytes("in.npy", good, len);
    EXPECT_FAILURE(3, "past the end", "run", "max", "--kernel", "2", "in.npy", "out.npy");
    good[8] = 118;
    good[9] = 0;
    write_bytes("in.npy", good, len - 1); /* data shorter than the shape */
    EXPECT_FAILURE(3, "shorter", "run", "max", "--kernel", "2", "in.npy", "out.npy");
    unsigned char *longer = calloc(1, len + 4);
    memcpy(longer, good, len);
    write_bytes("in.npy", longer, len + 4); /* data longer than the shape */
    EXPECT_FAILURE(3, "longer", "run", "max", "--kernel", "2", "in.npy", "out.npy");
    free(longer);
    free(good);
}
END_TEST

START_TEST(test_npy_header_errors)
{
    /* Versions 2.0 and 3.0 with a 4-byte header length are read. */
    float data[16] = {0};
    write_npy_raw("in.npy", 2, good_dict, data, sizeof data);
    struct result r = RUN("run", "max", "--kernel", "2", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    write_npy_raw("in.npy", 3, good_dict, data, sizeof data);
    r = RUN("run", "max", "--kernel", "2", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    unlink("out.npy");
    unlink("in.npy");

    expect_bad_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1, 4, 4), }", 64,
                    "big-endian");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1, 4, 4), }", 64,
                    "Fortran");
    expect_bad_dict("{'descr': '|O', 'fortran_order': False, 'shape': (1, 1, 4, 4), }", 128,
                    "object");
    expect_bad_dict("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 1, 4, 4), }", 128,
                    "'<c8' is not supported");
    expect_bad_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1, 1, 4, 4), }",
                    64, "structured");
    expect_bad_dict("{'descr': '<f4', 'shape': (1, 1, 4, 4), }", 64, "fortran_order");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4), 'x': 1}", 64,
                    "'x'");
    expect_bad_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (16,)}", 64,
                    "twice");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (16)}", 64, "not a tuple");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1, -1, 4, 4), }", 64,
                    "shape");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4), } x", 64,
                    "extra text");
    expect_bad_dict("['descr', '<f4']", 64, "not a valid dict");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (1, 1, 4, 4), }", 64,
                    "True or False");
    /* Huge but countable: refused by the file length, before any allocation. */
    expect_bad_dict(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000, 1000, 1000), }", 64,
        "shorter");
    /* Element count, byte size and a single dimension past size_t. */
    expect_bad_dict(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }", 64,
        "size_t");
    expect_bad_dict(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 1, 1), }", 64,
        "size_t");
    expect_bad_dict(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 99999999999999999999999), }", 64,
        "size_t");
}
END_TEST

START_TEST(test_dtype_and_rank)
{
    /* int64 is for indices, never a pooling input. */
    int64_t idata[16] = {0};
    write_npy_raw("in.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1, 4, 4), }",
                  idata, sizeof idata);
    EXPECT_FAILURE(3, "int64", "run", "max", "--kernel", "2", "in.npy", "out.npy");

    /* float64 is refused as not supported, or pooled correctly once it is. */
    double d[16];
    for (int i = 0; i < 16; i++)
        d[i] = i;
    write_npy_raw("in.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 4, 4), }",
                  d, sizeof d);
    struct result r = RUN("run", "max", "--kernel", "2", "in.npy", "out.npy");
    if (r.status == 0) {
        double *out = read_npy("out.npy", "<f8", "(1, 1, 2, 2)", 4, 8);
        ck_assert(out[0] == 5 && out[1] == 7 && out[2] == 13 && out[3] == 15);
        free(out);
        unlink("out.npy");
    } else {
        expect_one_line(&r, 3, "float64");
        ck_assert(!exists("out.npy"));
    }
    result_free(&r);

    float x[64] = {0};
    write_f32("in.npy", (size_t[]){4, 4}, 2, x);
    EXPECT_FAILURE(3, "rank 2", "run", "max", "--kernel", "2", "in.npy", "out.npy");
    write_f32("in.npy", (size_t[]){1, 1, 2, 2, 2, 2}, 6, x);
    EXPECT_FAILURE(3, "rank 6", "run", "max", "--kernel", "2", "in.npy", "out.npy");
}
END_TEST

/* ---- tcase: the malformed .npy corpus of tests/cli/bad_npy/ (exit 3) ----- */

/* Copies @p src to @p dst in the work folder. */
static void copy_file(const char *src, const char *dst)
{
    size_t len = 0;
    char *bytes = read_bytes(src, &len);
    ck_assert_msg(bytes != NULL, "cannot read %s", src);
    write_bytes(dst, bytes, len);
    free(bytes);
}

/* `clpool run max --kernel 2 BAD.npy out.npy` on one file of the corpus:
 * exit 3, one line "clpool: ...", nothing new in the folder, and an
 * existing out.npy kept byte for byte. */
static void expect_bad_npy(const char *name)
{
    char *before = list_folder();
    struct result r = RUN("run", "max", "--kernel", "2", name, "out.npy");
    size_t len = strlen(r.err);
    ck_assert_msg(r.status == 3, "%s: exit %d, want 3; stderr: %s", name, r.status, r.err);
    ck_assert_msg(strncmp(r.err, "clpool: ", 8) == 0 && len > 9 && r.err[len - 1] == '\n' &&
                      strchr(r.err, '\n') == r.err + len - 1,
                  "%s: stderr is not one line starting 'clpool: ': '%s'", name, r.err);
    ck_assert_msg(r.out[0] == '\0', "%s: stdout not empty: %s", name, r.out);
    result_free(&r);
    char *after = list_folder();
    ck_assert_msg(strcmp(before, after) == 0, "%s: files changed:\n%s\nbecame\n%s", name, before,
                  after);
    free(after);

    static const char sentinel[] = "an earlier result that a failed run must keep";
    write_bytes("out.npy", sentinel, sizeof sentinel);
    r = RUN("run", "max", "--kernel", "2", name, "out.npy");
    ck_assert_msg(r.status == 3, "%s (output exists): exit %d, want 3; stderr: %s", name, r.status,
                  r.err);
    result_free(&r);
    char *kept = read_bytes("out.npy", &len);
    ck_assert_msg(kept && len == sizeof sentinel && memcmp(kept, sentinel, len) == 0,
                  "%s: the existing output was changed", name);
    free(kept);
    unlink("out.npy");
    after = list_folder();
    ck_assert_msg(strcmp(before, after) == 0, "%s: files changed:\n%s\nbecame\n%s", name, before,
                  after);
    free(after);
    free(before);
}

START_TEST(test_bad_npy_corpus)
{
    const char *dir = getenv("CLPOOL_BAD_NPY_DIR");
    ck_assert_msg(dir && *dir, "CLPOOL_BAD_NPY_DIR is not set (meson's test() sets it)");
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s: %s", dir, strerror(errno));
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".npy") != 0)
            continue;
        char src[8192];
        snprintf(src, sizeof src, "%s/%s", dir, e->d_name);
        copy_file(src, e->d_name);
        expect_bad_npy(e->d_name);
        unlink(e->d_name);
        files++;
    }
    closedir(d);
    /* make_bad_npy.py writes 48; an emptied folder must not pass. */
    ck_assert_msg(files >= 40, "only %d .npy files in %s", files, dir);
}
END_TEST

/* ---- tcase: invalid parameters (exit 3) ---------------------------------- */

START_TEST(test_invalid_parameters)
{
    const float x[16] = {0};
    write_f32("in.npy", (size_t[]){1, 1, 4, 4}, 4, x);
    EXPECT_FAILURE(3, "padding", "run", "max", "--kernel", "2", "--padding", "2", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "stride", "run", "max", "--kernel", "2", "--stride", "0", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "stride", "run", "avg", "--kernel", "2", "--stride", "1,0", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "kernel", "run", "max", "--kernel", "0", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "dilation", "run", "max", "--kernel", "2", "--dilation", "0", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "divisor", "run", "avg", "--kernel", "2", "--divisor", "0", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "output size", "run", "max", "--kernel", "5", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "output size", "run", "avg", "--kernel", "5", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "spatial dimension", "run", "max", "--kernel", "2,2,2", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "kernel", "run", "max", "--kernel", "-1", "--indices", "idx.npy", "in.npy",
                   "out.npy");
}
END_TEST

/* ---- tcase: outputs that cannot be written (exit 3) ---------------------- */

START_TEST(test_output_errors)
{
    const float x[16] = {0};
    write_f32("in.npy", (size_t[]){1, 1, 4, 4}, 4, x);
    struct result r = RUN("run", "max", "--kernel", "2", "in.npy", "no-such-folder/out.npy");
    expect_one_line(&r, 3, "no-such-folder/out.npy");
    result_free(&r);
    ck_assert_int_eq(mkdir("dir.npy", 0755), 0);
    char *before = list_folder();
    r = RUN("run", "max", "--kernel", "2", "in.npy", "dir.npy");
    expect_one_line(&r, 3, "folder");
    result_free(&r);
    /* The indices cannot be written: the output must not appear either. */
    r = RUN("run", "max", "--kernel", "2", "--indices", "dir.npy", "in.npy", "out.npy");
    expect_one_line(&r, 3, "folder");
    result_free(&r);
    char *after = list_folder();
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
}
END_TEST

/* spec §2 worked example, channels last. */
START_TEST(test_layout_nhwc)
{
    const float x[16] = {1, 5, 2, 0, 3, 4, 8, 1, 0, 2, 7, 6, 9, 1, 3, 3};
    write_f32("in.npy", (size_t[]){1, 4, 4, 1}, 4, x);
    struct result r = RUN("run", "max", "--kernel", "2", "--layout", "nhwc", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 2, 2, 1)", 4, 4);
    ck_assert(out[0] == 5 && out[1] == 8 && out[2] == 9 && out[3] == 7);
    free(out);
}
END_TEST

/* ---- tcase: the window family (lp, gem, mixed, softmax, stochastic) ----- */

/* Runs @p args (ending in "in.npy", "out.npy"), expects success and returns
 * the float32 output of @p shape and @p count elements. */
static float *pool_f32(const char *const *args, const char *shape, size_t count)
{
    struct result r = run_argv(args);
    expect_success(r);
    result_free(&r);
    return read_npy("out.npy", "<f4", shape, count, sizeof(float));
}

#define POOL_F32(shape, count, ...) pool_f32((const char *const[]){__VA_ARGS__, NULL}, shape, count)

/* Each element within @p rel of @p want (relative, absolute below 1); NaN
 * must meet NaN. */
static void expect_close(const char *what, const float *got, const double *want, size_t count,
                         double rel)
{
    for (size_t i = 0; i < count; i++) {
        if (isnan(want[i])) {
            ck_assert_msg(isnan(got[i]), "%s [%zu]: %.9g, want NaN", what, i, got[i]);
            continue;
        }
        double tol = rel * (fabs(want[i]) > 1 ? fabs(want[i]) : 1);
        ck_assert_msg(fabs(got[i] - want[i]) <= tol, "%s [%zu]: %.9g, want %.9g", what, i, got[i],
                      want[i]);
    }
}

/* spec §5: the torch formula, signed sum, K/D scaling of ceil-mode windows. */
START_TEST(test_lp_worked_examples)
{
    const float x[6] = {1, -2, 3, -4, 0.5f, 0.25f};
    write_f32("in.npy", (size_t[]){1, 1, 6}, 3, x);
    float *out =
        POOL_F32("(1, 1, 3)", 3, "run", "lp", "--kernel", "2", "--p", "2", "in.npy", "out.npy");
    expect_close("lp p=2", out, (const double[]){sqrt(5), 5, sqrt(0.3125)}, 3, 2e-6);
    free(out);
    out = POOL_F32("(1, 1, 3)", 3, "run", "lp", "--kernel", "2", "--p", "1", "in.npy", "out.npy");
    expect_close("lp p=1 (signed sum)", out, (const double[]){-1, -1, 0.75}, 3, 2e-6);
    free(out);
    out = POOL_F32("(1, 1, 3)", 3, "run", "lp", "--kernel", "2", "--p", "3", "in.npy", "out.npy");
    expect_close("lp p=3", out, (const double[]){NAN, NAN, cbrt(0.140625)}, 3, 2e-6);
    free(out);

    const float y[5] = {1, 2, 3, 4, 5};
    write_f32("in.npy", (size_t[]){1, 1, 5}, 3, y);
    out = POOL_F32("(1, 1, 3)", 3, "run", "lp", "--kernel", "2", "--p", "2", "--ceil-mode", "1",
                   "in.npy", "out.npy");
    expect_close("lp p=2 ceil (K/D scaling)", out, (const double[]){sqrt(5), 5, sqrt(50)}, 3, 2e-6);
    free(out);
}
END_TEST

/* spec §10.6: [1,2,3,4], p=3 gives 25^(1/3); padded cells are excluded. */
START_TEST(test_gem_worked_examples)
{
    const float x[4] = {1, 2, 3, 4};
    write_f32("in.npy", (size_t[]){1, 1, 4}, 3, x);
    float *out =
        POOL_F32("(1, 1, 1)", 1, "run", "gem", "--kernel", "4", "--p", "3", "in.npy", "out.npy");
    expect_close("gem p=3", out, (const double[]){cbrt(25)}, 1, 2e-6);
    free(out);

    const float y[2] = {2, 2};
    write_f32("in.npy", (size_t[]){1, 1, 2}, 3, y);
    out = POOL_F32("(1, 1, 2)", 2, "run", "gem", "--kernel", "3", "--stride", "1", "--padding", "1",
                   "--p", "3", "in.npy", "out.npy");
    expect_close("gem padding excluded", out, (const double[]){2, 2}, 2, 2e-6);
    free(out);

    /* max(x, 1e-6) before the power: non-positive windows give 1e-6. */
    const float z[4] = {-3, 0, 1, 1};
    write_f32("in.npy", (size_t[]){1, 1, 4}, 3, z);
    out = POOL_F32("(1, 1, 2)", 2, "run", "gem", "--kernel", "2", "--p", "1", "in.npy", "out.npy");
    ck_assert_msg(fabs(out[0] - 1e-6) <= 1e-12 && out[1] == 1, "gem clamp: %.9g %.9g", out[0],
                  out[1]);
    free(out);
}
END_TEST

/* spec §10.2: [1,2,3,4], alpha 0.3 gives 2.95; avg follows --count-include-pad. */
START_TEST(test_mixed_worked_examples)
{
    const float x[4] = {1, 2, 3, 4};
    write_f32("in.npy", (size_t[]){1, 1, 4}, 3, x);
    float *out = POOL_F32("(1, 1, 1)", 1, "run", "mixed", "--kernel", "4", "--alpha", "0.3",
                          "in.npy", "out.npy");
    expect_close("mixed alpha=0.3", out, (const double[]){2.95}, 1, 2e-6);
    free(out);
    out = POOL_F32("(1, 1, 1)", 1, "run", "mixed", "--kernel", "4", "--alpha", "1", "in.npy",
                   "out.npy");
    expect_close("mixed alpha=1 (max)", out, (const double[]){4}, 1, 0);
    free(out);
    out = POOL_F32("(1, 1, 1)", 1, "run", "mixed", "--kernel", "4", "--alpha", "0", "in.npy",
                   "out.npy");
    expect_close("mixed alpha=0 (avg)", out, (const double[]){2.5}, 1, 0);
    free(out);

    /* Windows (pad, 4) and (2, pad): padding counts in the divisor by default. */
    const float y[2] = {4, 2};
    write_f32("in.npy", (size_t[]){1, 1, 2}, 3, y);
    out = POOL_F32("(1, 1, 2)", 2, "run", "mixed", "--kernel", "2", "--padding", "1", "--alpha",
                   "0.5", "in.npy", "out.npy");
    expect_close("mixed count-include-pad 1", out, (const double[]){3, 1.5}, 2, 2e-6);
    free(out);
    out = POOL_F32("(1, 1, 2)", 2, "run", "mixed", "--kernel", "2", "--padding", "1", "--alpha",
                   "0.5", "--count-include-pad", "0", "in.npy", "out.npy");
    expect_close("mixed count-include-pad 0", out, (const double[]){4, 2}, 2, 2e-6);
    free(out);
}
END_TEST

/* spec §10.3: [0,0,0,ln3], beta 1 gives ln3/2; beta 0 the average; padded
 * cells are excluded, not zeros. */
START_TEST(test_softmax_worked_examples)
{
    const float x[4] = {0, 0, 0, (float)log(3.0)};
    write_f32("in.npy", (size_t[]){1, 1, 4}, 3, x);
    float *out = POOL_F32("(1, 1, 1)", 1, "run", "softmax", "--kernel", "4", "--beta", "1",
                          "in.npy", "out.npy");
    expect_close("softmax beta=1", out, (const double[]){(double)x[3] / 2}, 1, 2e-6);
    ck_assert_msg(fabsf(out[0] - 0.5493f) < 1e-4f, "softmax beta=1: %.9g, want 0.5493", out[0]);
    free(out);
    out = POOL_F32("(1, 1, 1)", 1, "run", "softmax", "--kernel", "4", "--beta", "0", "in.npy",
                   "out.npy");
    expect_close("softmax beta=0 (avg)", out, (const double[]){(double)x[3] / 4}, 1, 2e-6);
    free(out);

    const float y[2] = {1, 1};
    write_f32("in.npy", (size_t[]){1, 1, 2}, 3, y);
    out = POOL_F32("(1, 1, 2)", 2, "run", "softmax", "--kernel", "3", "--stride", "1", "--padding",
                   "1", "--beta", "1", "in.npy", "out.npy");
    expect_close("softmax padding excluded", out, (const double[]){1, 1}, 2, 2e-6);
    free(out);
}
END_TEST

/* spec §10.1 test time: sum a^2 / sum a over a = max(x, 0); 0 for a window
 * without a positive weight. */
START_TEST(test_stochastic_test_time)
{
    const float x[8] = {1, 2, 3, 4, 0, -1, -5, 0};
    write_f32("in.npy", (size_t[]){1, 1, 8}, 3, x);
    float *out =
        POOL_F32("(1, 1, 2)", 2, "run", "stochastic", "--kernel", "4", "in.npy", "out.npy");
    expect_close("stochastic --train 0 (default)", out, (const double[]){3, 0}, 2, 2e-6);
    free(out);
    out = POOL_F32("(1, 1, 2)", 2, "run", "stochastic", "--kernel", "4", "--train", "0", "--seed",
                   "99", "in.npy", "out.npy");
    expect_close("stochastic --train 0", out, (const double[]){3, 0}, 2, 2e-6);
    free(out);
}
END_TEST

/* The generator documented in clpool.h, written again here so that the test
 * checks the documented formula, not the library's copy of it. */
static uint64_t splitmix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static float uniform_draw(uint64_t seed, uint64_t plane, uint64_t position)
{
    return (float)(splitmix(seed ^ splitmix(plane ^ splitmix(position))) >> 40) * 0x1p-24f;
}

/* Caffe's rule on 2x2 windows, stride 2, of (planes, 4, 4): the first cell
 * in row-major order whose running sum of max(x, 0) reaches u * sum. */
static void ref_stochastic_train(const float *x, int planes, uint64_t seed, float *out,
                                 int64_t *idx)
{
    for (int plane = 0; plane < planes; plane++)
        for (int pos = 0; pos < 4; pos++) {
            int oy = pos / 2, ox = pos % 2;
            int cells[4];
            float total = 0;
            for (int i = 0; i < 4; i++) {
                cells[i] = (2 * oy + i / 2) * 4 + 2 * ox + i % 2;
                total += fmaxf(x[plane * 16 + cells[i]], 0);
            }
            float thres = uniform_draw(seed, (uint64_t)plane, (uint64_t)pos) * total;
            int pick = cells[0];
            float run = 0;
            for (int i = 0; i < 4; i++) {
                run += fmaxf(x[plane * 16 + cells[i]], 0);
                if (run >= thres) {
                    pick = cells[i];
                    break;
                }
            }
            out[plane * 4 + pos] = x[plane * 16 + pick];
            idx[plane * 4 + pos] = pick;
        }
}

/* --train 1 replays exactly from --seed (any uint64), with --indices. */
START_TEST(test_stochastic_train_replay)
{
    enum { PLANES = 6 };
    float x[PLANES * 16];
    for (int i = 0; i < PLANES * 16; i++)
        x[i] = (float)((i * 7) % 11) - 3.0f; /* zeros, negatives, all-negative windows */
    write_f32("in.npy", (size_t[]){2, 3, 4, 4}, 4, x);
    static const char *const seeds[] = {"0", "1", "12345", "18446744073709551615"};
    int64_t first_idx[PLANES * 4];
    int differs = 0;
    for (int s = 0; s < 4; s++) {
        uint64_t seed = strtoull(seeds[s], NULL, 10);
        struct result r = RUN("run", "stochastic", "--kernel", "2", "--train", "1", "--seed",
                              seeds[s], "--indices", "idx.npy", "in.npy", "out.npy");
        expect_success(r);
        result_free(&r);
        float *out = read_npy("out.npy", "<f4", "(2, 3, 2, 2)", PLANES * 4, 4);
        int64_t *idx = read_npy("idx.npy", "<i8", "(2, 3, 2, 2)", PLANES * 4, 8);
        float want[PLANES * 4];
        int64_t want_idx[PLANES * 4];
        ref_stochastic_train(x, PLANES, seed, want, want_idx);
        for (int i = 0; i < PLANES * 4; i++) {
            ck_assert_msg(out[i] == want[i] && idx[i] == want_idx[i],
                          "seed %s at flat %d: got %g @%lld, want %g @%lld", seeds[s], i, out[i],
                          (long long)idx[i], want[i], (long long)want_idx[i]);
            if (s == 0)
                first_idx[i] = want_idx[i];
            else
                differs |= first_idx[i] != want_idx[i];
        }
        free(out);
        free(idx);
    }
    /* The seeds must matter, or this test could not see a lost --seed. */
    ck_assert(differs);
}
END_TEST

/* ---- tcase: dtypes ------------------------------------------------------- */

static float half_to_float(uint16_t h)
{
    int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float sign = (h & 0x8000) ? -1.0f : 1.0f;
    if (exponent == 0)
        return sign * ldexpf((float)mantissa, -24);
    if (exponent == 31)
        return mantissa ? NAN : sign * INFINITY;
    return sign * ldexpf((float)(mantissa | 0x400), exponent - 25);
}

START_TEST(test_float16_max_avg)
{
    /* 1.0, -inf, 0.5, 65504 (the largest half). */
    const uint16_t x[4] = {0x3C00, 0xFC00, 0x3800, 0x7BFF};
    write_typed("in.npy", "<f2", 2, (size_t[]){1, 1, 4}, 3, x);
    struct result r =
        RUN("run", "max", "--kernel", "2", "--indices", "idx.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    uint16_t *out = read_npy("out.npy", "<f2", "(1, 1, 2)", 2, 2);
    int64_t *idx = read_npy("idx.npy", "<i8", "(1, 1, 2)", 2, 8);
    ck_assert_msg(out[0] == 0x3C00 && out[1] == 0x7BFF, "float16 max: %04x %04x", out[0], out[1]);
    ck_assert(idx[0] == 0 && idx[1] == 3);
    free(out);
    free(idx);

    const uint16_t y[4] = {0x3C00, 0x4000, 0x4200, 0x4400}; /* 1, 2, 3, 4 */
    write_typed("in.npy", "<f2", 2, (size_t[]){1, 1, 4}, 3, y);
    r = RUN("run", "avg", "--kernel", "4", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<f2", "(1, 1, 1)", 1, 2);
    ck_assert_msg(out[0] == 0x4100, "float16 avg: %04x, want 4100 (2.5)", out[0]);
    free(out);
    r = RUN("run", "mixed", "--kernel", "4", "--alpha", "0.3", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<f2", "(1, 1, 1)", 1, 2);
    ck_assert_msg(fabsf(half_to_float(out[0]) - 2.95f) <= 0x1p-9f, "float16 mixed: %g",
                  half_to_float(out[0]));
    free(out);
}
END_TEST

/* Integer avg divides the integer sum with C division (truncation). */
START_TEST(test_integer_dtypes)
{
    const uint8_t u[8] = {255, 255, 10, 0, 255, 254, 3, 4};
    write_typed("in.npy", "|u1", 1, (size_t[]){1, 1, 2, 4}, 4, u);
    struct result r = RUN("run", "avg", "--kernel", "2", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    uint8_t *out8 = read_npy("out.npy", "|u1", "(1, 1, 1, 2)", 2, 1);
    ck_assert_msg(out8[0] == 254 && out8[1] == 4, "uint8 avg: %d %d, want 254 4", out8[0], out8[1]);
    free(out8);
    r = RUN("run", "max", "--kernel", "2", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    out8 = read_npy("out.npy", "|u1", "(1, 1, 1, 2)", 2, 1);
    ck_assert_msg(out8[0] == 255 && out8[1] == 10, "uint8 max: %d %d", out8[0], out8[1]);
    free(out8);

    const int8_t s[8] = {-1, -2, 127, 127, 0, 0, 127, 126};
    write_typed("in.npy", "|i1", 1, (size_t[]){1, 1, 2, 4}, 4, s);
    r = RUN("run", "avg", "--kernel", "2", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    int8_t *outs = read_npy("out.npy", "|i1", "(1, 1, 1, 2)", 2, 1);
    ck_assert_msg(outs[0] == 0 && outs[1] == 126, "int8 avg: %d %d, want 0 126", outs[0], outs[1]);
    free(outs);
    r = RUN("run", "max", "--kernel", "2", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    outs = read_npy("out.npy", "|i1", "(1, 1, 1, 2)", 2, 1);
    ck_assert_msg(outs[0] == 0 && outs[1] == 127, "int8 max: %d %d", outs[0], outs[1]);
    free(outs);

    /* The family beyond max and avg takes float dtypes only. */
    unlink("out.npy");
    EXPECT_FAILURE(3, "int8", "run", "lp", "--kernel", "2", "--p", "2", "in.npy", "out.npy");
}
END_TEST

/* float64 is pooled in float64, or refused by a device without it. */
START_TEST(test_float64_family)
{
    const double x[4] = {1, 2, 3, 4};
    write_typed("in.npy", "<f8", 8, (size_t[]){1, 1, 4}, 3, x);
    struct result r = RUN("run", "mixed", "--kernel", "4", "--alpha", "0.3", "in.npy", "out.npy");
    if (r.status == 0) {
        double *out = read_npy("out.npy", "<f8", "(1, 1, 1)", 1, 8);
        ck_assert_msg(fabs(out[0] - 2.95) <= 1e-12, "float64 mixed: %.17g", out[0]);
        free(out);
    } else {
        expect_one_line(&r, 3, "float64");
        ck_assert(!exists("out.npy"));
    }
    result_free(&r);
}
END_TEST

/* --dtype bfloat16: uint16 .npy files of bfloat16 bits in and out. */
START_TEST(test_bfloat16_round_trip)
{
    /* 1, -1.5, 3.140625, the smallest normal, the largest finite, -inf,
     * 0.15625, -123.5: kernel 1 must give every pattern back. */
    const uint16_t x[8] = {0x3F80, 0xBFC0, 0x4049, 0x0080, 0x7F7F, 0xFF80, 0x3E20, 0xC2F7};
    write_typed("in.npy", "<u2", 2, (size_t[]){1, 2, 4}, 3, x);
    static const char *const ops[] = {"max", "avg"};
    for (int i = 0; i < 2; i++) {
        struct result r =
            RUN("run", ops[i], "--kernel", "1", "--dtype", "bfloat16", "in.npy", "out.npy");
        expect_success(r);
        result_free(&r);
        uint16_t *out = read_npy("out.npy", "<u2", "(1, 2, 4)", 8, 2);
        for (int j = 0; j < 8; j++)
            ck_assert_msg(out[j] == x[j], "bfloat16 %s kernel 1 [%d]: %04x, want %04x", ops[i], j,
                          out[j], x[j]);
        free(out);
    }
    struct result r = RUN("run", "max", "--kernel", "2", "--dtype", "bfloat16", "--indices",
                          "idx.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    uint16_t *out = read_npy("out.npy", "<u2", "(1, 2, 2)", 4, 2);
    int64_t *idx = read_npy("idx.npy", "<i8", "(1, 2, 2)", 4, 8);
    const uint16_t want[4] = {0x3F80, 0x4049, 0x7F7F, 0x3E20};
    const int64_t want_idx[4] = {0, 2, 0, 2};
    for (int j = 0; j < 4; j++)
        ck_assert_msg(out[j] == want[j] && idx[j] == want_idx[j], "bfloat16 max [%d]: %04x @%lld",
                      j, out[j], (long long)idx[j]);
    free(out);
    free(idx);

    const uint16_t y[4] = {0x3F80, 0x4000, 0x4040, 0x4080}; /* 1, 2, 3, 4 */
    write_typed("in.npy", "<u2", 2, (size_t[]){1, 1, 4}, 3, y);
    r = RUN("run", "gem", "--kernel", "4", "--p", "1", "--dtype", "bfloat16", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<u2", "(1, 1, 1)", 1, 2);
    ck_assert_msg(out[0] == 0x4020, "bfloat16 gem p=1: %04x, want 4020 (2.5)", out[0]);
    free(out);

    /* uint16 without --dtype, and --dtype on another dtype, are refused. */
    unlink("out.npy");
    unlink("idx.npy");
    EXPECT_FAILURE(3, "--dtype bfloat16", "run", "max", "--kernel", "2", "in.npy", "out.npy");
    write_f32("in.npy", (size_t[]){1, 1, 4}, 3, (const float[]){1, 2, 3, 4});
    EXPECT_FAILURE(3, "holds float32", "run", "max", "--kernel", "2", "--dtype", "bfloat16",
                   "in.npy", "out.npy");
}
END_TEST

/* ---- tcase: nhwc equals nchw transposed ---------------------------------- */

static int out_size_d(int in, int k, int s, int p, int d, int ceil_mode)
{
    int span = d * (k - 1) + 1;
    int o = (in + 2 * p - span + (ceil_mode ? s - 1 : 0)) / s + 1;
    if (ceil_mode && (o - 1) * s >= in + p)
        o--;
    return o;
}

struct layout_case {
    const char *op;
    int dims;
    int in[3], k[3], s[3], p[3], d[3], ceil_mode;
    const char *extra[6]; /* the OP's own options, NULL-terminated */
    int indices;
    double rel; /* 0: bit-exact */
};

static void dims_text(const int *v, int dims, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < dims; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%d", i ? "," : "", v[i]);
}

/* "(2, 3, 4)": N, C and the spatial sizes in nchw or nhwc order. */
static void shape_text(int n, int c, const int *sp, int dims, int nhwc, char *buf, size_t size)
{
    snprintf(buf, size, "(%d", n);
    if (!nhwc)
        snprintf(buf + strlen(buf), size - strlen(buf), ", %d", c);
    for (int i = 0; i < dims; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), ", %d", sp[i]);
    if (nhwc)
        snprintf(buf + strlen(buf), size - strlen(buf), ", %d", c);
    strcat(buf, ")");
}

/* Runs the case on in_nchw.npy or in_nhwc.npy; returns the output data. */
static float *run_layout(const struct layout_case *t, int nhwc, const char *shape, size_t count,
                         int64_t **idx)
{
    char k[32], s[32], p[32], d[32];
    dims_text(t->k, t->dims, k, sizeof k);
    dims_text(t->s, t->dims, s, sizeof s);
    dims_text(t->p, t->dims, p, sizeof p);
    dims_text(t->d, t->dims, d, sizeof d);
    const char *args[40];
    int n = 0;
    const char *fixed[] = {"run",        t->op, "--kernel",    k,
                           "--stride",   s,     "--padding",   p,
                           "--dilation", d,     "--ceil-mode", t->ceil_mode ? "1" : "0"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        args[n++] = fixed[i];
    for (int i = 0; t->extra[i]; i++)
        args[n++] = t->extra[i];
    if (t->indices) {
        args[n++] = "--indices";
        args[n++] = "idx.npy";
    }
    args[n++] = "--layout";
    args[n++] = nhwc ? "nhwc" : "nchw";
    args[n++] = nhwc ? "in_nhwc.npy" : "in_nchw.npy";
    args[n++] = "out.npy";
    args[n] = NULL;
    struct result r = run_argv(args);
    ck_assert_msg(r.status == 0, "%s %s: exit %d, stderr: %s", t->op, nhwc ? "nhwc" : "nchw",
                  r.status, r.err);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", shape, count, 4);
    *idx = t->indices ? read_npy("idx.npy", "<i8", shape, count, 8) : NULL;
    unlink("out.npy");
    unlink("idx.npy");
    return out;
}

/* Element (n, c, flat spatial q) of an (N, C, P) array, stored in either layout. */
static size_t at(int nhwc, int c_count, int p_count, int n, int c, int q)
{
    return nhwc ? ((size_t)n * p_count + q) * c_count + c : ((size_t)n * c_count + c) * p_count + q;
}

static void check_layouts_agree(const struct layout_case *t)
{
    enum { N = 2, C = 3 };
    int out[3], in_count = 1, out_count = 1;
    for (int i = 0; i < t->dims; i++) {
        out[i] = out_size_d(t->in[i], t->k[i], t->s[i], t->p[i], t->d[i], t->ceil_mode);
        in_count *= t->in[i];
        out_count *= out[i];
    }
    size_t total = (size_t)N * C * in_count;
    float *nchw = malloc(total * sizeof(float)), *nhwc = malloc(total * sizeof(float));
    ck_assert(nchw && nhwc);
    for (size_t i = 0; i < total; i++)
        nchw[i] = (float)((int)((i * 37) % 17) - 8) * 0.5f; /* ties, negatives */
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int q = 0; q < in_count; q++)
                nhwc[at(1, C, in_count, n, c, q)] = nchw[at(0, C, in_count, n, c, q)];
    size_t in_shape[5] = {N, C}, in_shape_nhwc[5] = {N};
    for (int i = 0; i < t->dims; i++) {
        in_shape[2 + i] = (size_t)t->in[i];
        in_shape_nhwc[1 + i] = (size_t)t->in[i];
    }
    in_shape_nhwc[1 + t->dims] = C;
    write_f32("in_nchw.npy", in_shape, 2 + t->dims, nchw);
    write_f32("in_nhwc.npy", in_shape_nhwc, 2 + t->dims, nhwc);

    char shape_c[64], shape_h[64];
    shape_text(N, C, out, t->dims, 0, shape_c, sizeof shape_c);
    shape_text(N, C, out, t->dims, 1, shape_h, sizeof shape_h);
    size_t count = (size_t)N * C * out_count;
    int64_t *idx_c = NULL, *idx_h = NULL;
    float *out_c = run_layout(t, 0, shape_c, count, &idx_c);
    float *out_h = run_layout(t, 1, shape_h, count, &idx_h);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int q = 0; q < out_count; q++) {
                size_t ic = at(0, C, out_count, n, c, q), ih = at(1, C, out_count, n, c, q);
                double a = out_c[ic], b = out_h[ih];
                double tol = t->rel * (fabs(a) > 1 ? fabs(a) : 1);
                ck_assert_msg((isnan(a) && isnan(b)) || fabs(a - b) <= tol,
                              "%s %d-D at (n=%d, c=%d, q=%d): nchw %.9g, nhwc %.9g", t->op, t->dims,
                              n, c, q, a, b);
                if (t->indices)
                    ck_assert_msg(idx_c[ic] == idx_h[ih],
                                  "%s %d-D index at (n=%d, c=%d, q=%d): nchw %lld, nhwc %lld",
                                  t->op, t->dims, n, c, q, (long long)idx_c[ic],
                                  (long long)idx_h[ih]);
            }
    free(out_c);
    free(out_h);
    free(idx_c);
    free(idx_h);
    free(nchw);
    free(nhwc);
}

START_TEST(test_nhwc_matches_nchw)
{
    /* 2-D: H=5, W=6, window 3x2, stride 2x1, padding 1x0, ceil mode. */
#define GEO2 2, {5, 6}, {3, 2}, {2, 1}, {1, 0}, {1, 1}, 1
    static const struct layout_case cases[] = {
        {"max", GEO2, {NULL}, 1, 0},
        {"avg", GEO2, {"--count-include-pad", "0", NULL}, 0, 1e-6},
        {"avg", GEO2, {NULL}, 0, 1e-6},
        {"lp", 2, {5, 6}, {2, 2}, {1, 2}, {0, 0}, {1, 1}, 1, {"--p", "2", NULL}, 0, 2e-6},
        {"gem", GEO2, {"--p", "3", NULL}, 0, 2e-6},
        {"mixed", GEO2, {"--alpha", "0.25", "--count-include-pad", "0", NULL}, 0, 2e-6},
        {"softmax", 2, {5, 6}, {3, 2}, {2, 1}, {1, 0}, {1, 2}, 0, {"--beta", "0.5", NULL}, 0, 2e-6},
        {"stochastic", GEO2, {"--train", "0", NULL}, 0, 2e-6},
        {"stochastic", GEO2, {"--train", "1", "--seed", "7", NULL}, 1, 0},
        /* 1-D (N, L, C) and 3-D (N, D, H, W, C): the rank decides. */
        {"max", 1, {7}, {3}, {2}, {1}, {1}, 0, {NULL}, 1, 0},
        {"gem", 1, {7}, {3}, {2}, {0}, {1}, 1, {"--p", "2", NULL}, 0, 2e-6},
        {"max", 3, {3, 4, 5}, {2, 2, 3}, {1, 2, 2}, {0, 1, 1}, {1, 1, 1}, 0, {NULL}, 1, 0},
        {"avg", 3, {3, 4, 5}, {2, 2, 3}, {1, 2, 2}, {0, 1, 1}, {1, 1, 1}, 1, {NULL}, 0, 1e-6},
    };
#undef GEO2
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_layouts_agree(&cases[i]);
}
END_TEST

/* ---- tcase: family usage and parameter errors ---------------------------- */

START_TEST(test_family_errors)
{
    const float x[16] = {0};
    write_f32("in.npy", (size_t[]){1, 1, 4, 4}, 4, x);
    /* A required option missing, an option of another OP: usage (2). */
    EXPECT_FAILURE(2, "needs --p", "run", "lp", "--kernel", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "needs --alpha", "run", "mixed", "--kernel", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "needs --beta", "run", "softmax", "--kernel", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "does not apply", "run", "max", "--kernel", "2", "--train", "1", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "does not apply", "run", "gem", "--kernel", "2", "--p", "3", "--alpha", "1",
                   "in.npy", "out.npy");
    EXPECT_FAILURE(2, "does not apply", "run", "mixed", "--kernel", "2", "--alpha", "0.5",
                   "--indices", "idx.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "--train 1", "run", "stochastic", "--kernel", "2", "--indices", "idx.npy",
                   "in.npy", "out.npy");
    EXPECT_FAILURE(2, "--train 1", "run", "stochastic", "--kernel", "2", "--train", "0",
                   "--indices", "idx.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "0 or 1", "run", "stochastic", "--kernel", "2", "--train", "2", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "out of range", "run", "stochastic", "--kernel", "2", "--seed",
                   "18446744073709551616", "in.npy", "out.npy");
    EXPECT_FAILURE(2, "--beta", "run", "softmax", "--kernel", "2", "--beta", "", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(2, "nchw or nhwc", "run", "gem", "--kernel", "2", "--p", "3", "--layout", "NHWC",
                   "in.npy", "out.npy");
    EXPECT_FAILURE(2, "takes bfloat16", "run", "max", "--kernel", "2", "--dtype", "float32",
                   "in.npy", "out.npy");
    EXPECT_FAILURE(2, "twice", "run", "max", "--kernel", "2", "--dtype", "bfloat16", "--dtype",
                   "bfloat16", "in.npy", "out.npy");

    /* Values that define no valid pooling: bad input (3), naming the rule. */
    EXPECT_FAILURE(3, "--alpha 2: the weight of max must be between 0 and 1", "run", "mixed",
                   "--kernel", "2", "--alpha", "2", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "--alpha -0.1", "run", "mixed", "--kernel", "2", "--alpha", "-0.1", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "--alpha nan", "run", "mixed", "--kernel", "2", "--alpha", "nan", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "--p 0: the exponent must be finite and non-zero", "run", "lp", "--kernel",
                   "2", "--p", "0", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "--p 0", "run", "gem", "--kernel", "2", "--p", "0", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "OP 'max'", "run", "lp", "--kernel", "2", "--p", "inf", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "--p nan", "run", "gem", "--kernel", "2", "--p", "nan", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "--beta inf: the softmax temperature must be finite", "run", "softmax",
                   "--kernel", "2", "--beta", "inf", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "--beta", "run", "softmax", "--kernel", "2", "--beta", "-inf", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "padding", "run", "lp", "--kernel", "2", "--p", "2", "--padding", "1",
                   "in.npy", "out.npy");
    EXPECT_FAILURE(3, "dilation", "run", "gem", "--kernel", "2", "--p", "2", "--dilation", "2",
                   "in.npy", "out.npy");
    EXPECT_FAILURE(3, "dilation", "run", "mixed", "--kernel", "2", "--alpha", "0.5", "--dilation",
                   "2", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "output size", "run", "softmax", "--kernel", "5", "--beta", "1", "in.npy",
                   "out.npy");
    /* A rank-2 file is no tensor in either layout. */
    write_f32("in.npy", (size_t[]){4, 4}, 2, x);
    EXPECT_FAILURE(3, "(N, H, W, C)", "run", "max", "--kernel", "2", "--layout", "nhwc", "in.npy",
                   "out.npy");
}
END_TEST

/* ---- tcase: fractional-max and max-unpool ------------------------------- */

#include "unpool_cases.c"

/* ---- tcase: region pooling (roi-max, roi-align; spec §8) ------------------ */

#include "roi_cases.c"

/* ---- tcase: global, adaptive and spatial pyramid pooling ---------------- */

/* Global pooling keeps the rank with spatial sizes 1, in either layout. */
START_TEST(test_global_ops)
{
    const float x[8] = {1, 5, -2, 5, 0, 3, 3, 7}; /* (1, 2, 2, 2) */
    write_f32("in.npy", (size_t[]){1, 2, 2, 2}, 4, x);
    struct result r = RUN("run", "global-max", "--indices", "idx.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 2, 1, 1)", 2, 4);
    int64_t *idx = read_npy("idx.npy", "<i8", "(1, 2, 1, 1)", 2, 8);
    ck_assert(out[0] == 5 && out[1] == 7 && idx[0] == 1 && idx[1] == 3); /* first of the 5s */
    free(out);
    free(idx);
    r = RUN("run", "global-avg", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<f4", "(1, 2, 1, 1)", 2, 4);
    ck_assert(out[0] == 2.25f && out[1] == 3.25f);
    free(out);
    /* the same file read channels last: (N, H, W, C) = (1, 2, 2, 2) */
    r = RUN("run", "global-avg", "--layout", "nhwc", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<f4", "(1, 1, 1, 2)", 2, 4);
    ck_assert(out[0] == 0.5f && out[1] == 5.0f);
    free(out);
    /* uint8 divides the exact sum with C division: 1023 / 4 = 255 */
    const uint8_t u[4] = {255, 255, 255, 258 - 3};
    write_typed("in.npy", "|u1", 1, (size_t[]){1, 1, 4}, 3, u);
    r = RUN("run", "global-avg", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    uint8_t *uo = read_npy("out.npy", "|u1", "(1, 1, 1)", 1, 1);
    ck_assert_int_eq(uo[0], 255);
    free(uo);
    unlink("out.npy");
    unlink("idx.npy");
    EXPECT_FAILURE(2, "--indices", "run", "global-avg", "--indices", "idx.npy", "in.npy",
                   "out.npy");
}
END_TEST

/* The spec's adaptive worked examples (§4), and per-dimension sizes. */
START_TEST(test_adaptive_ops)
{
    const float x5[5] = {0, 1, 2, 3, 4};
    write_f32("in.npy", (size_t[]){1, 1, 5}, 3, x5);
    struct result r = RUN("run", "adaptive-avg", "--output-size", "3", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 1, 3)", 3, 4);
    ck_assert(out[0] == 0.5f && out[1] == 2.0f && out[2] == 3.5f);
    free(out);
    const float x3[3] = {0, 1, 2};
    write_f32("in.npy", (size_t[]){1, 1, 3}, 3, x3);
    r = RUN("run", "adaptive-max", "--output-size", "5", "--indices", "idx.npy", "in.npy",
            "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<f4", "(1, 1, 5)", 5, 4);
    int64_t *idx = read_npy("idx.npy", "<i8", "(1, 1, 5)", 5, 8);
    const int want[5] = {0, 1, 1, 2, 2};
    for (int i = 0; i < 5; i++)
        ck_assert(out[i] == (float)want[i] && idx[i] == want[i]);
    free(out);
    free(idx);
    /* 2-D, --output-size H,W: a 2x3 map to 1x2: bins [0,2) x [0,2) and [0,2) x [1,3) */
    const float x6[6] = {1, 2, 3, 4, 5, 6};
    write_f32("in.npy", (size_t[]){1, 1, 2, 3}, 4, x6);
    r = RUN("run", "adaptive-avg", "--output-size", "1,2", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<f4", "(1, 1, 1, 2)", 2, 4);
    ck_assert(out[0] == 3.0f && out[1] == 4.0f);
    free(out);
    unlink("out.npy");
    unlink("idx.npy");
    EXPECT_FAILURE(3, "give 1 value or 2", "run", "adaptive-avg", "--output-size", "1,2,3",
                   "in.npy", "out.npy");
    EXPECT_FAILURE(3, "at least 1", "run", "adaptive-max", "--output-size", "0", "in.npy",
                   "out.npy");
}
END_TEST

/* spp: levels in the order given, each (C, n, n), one (N, C*sum(n^2)) array. */
START_TEST(test_spp_op)
{
    /* (1, 2, 2, 2): channel 0 = [[1, 2], [3, 4]], channel 1 = [[8, 7], [6, 5]] */
    const float x[8] = {1, 2, 3, 4, 8, 7, 6, 5};
    write_f32("in.npy", (size_t[]){1, 2, 2, 2}, 4, x);
    struct result r =
        RUN("run", "spp", "--levels", "1,2", "--indices", "idx.npy", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    float *out = read_npy("out.npy", "<f4", "(1, 10)", 10, 4);
    int64_t *idx = read_npy("idx.npy", "<i8", "(1, 10)", 10, 8);
    const float want[10] = {4, 8, 1, 2, 3, 4, 8, 7, 6, 5};
    const int64_t want_idx[10] = {3, 0, 0, 1, 2, 3, 0, 1, 2, 3};
    for (int i = 0; i < 10; i++)
        ck_assert_msg(out[i] == want[i] && idx[i] == want_idx[i], "spp at %d: %g %lld", i, out[i],
                      (long long)idx[i]);
    free(out);
    free(idx);
    r = RUN("run", "spp", "--levels", "2,1", "--spp-mode", "avg", "in.npy", "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<f4", "(1, 10)", 10, 4);
    const float want_avg[10] = {1, 2, 3, 4, 8, 7, 6, 5, 2.5f, 6.5f};
    for (int i = 0; i < 10; i++)
        ck_assert_msg(out[i] == want_avg[i], "spp avg at %d: %g", i, out[i]);
    free(out);
    /* NHWC input gives the same (N, C*sum(n^2)) order */
    const float xt[8] = {1, 8, 2, 7, 3, 6, 4, 5};
    write_f32("in.npy", (size_t[]){1, 2, 2, 2}, 4, xt);
    r = RUN("run", "spp", "--levels", "2,1", "--spp-mode", "avg", "--layout", "nhwc", "in.npy",
            "out.npy");
    expect_success(r);
    result_free(&r);
    out = read_npy("out.npy", "<f4", "(1, 10)", 10, 4);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(out[i] == want_avg[i], "spp nhwc at %d: %g", i, out[i]);
    free(out);
    unlink("out.npy");
    unlink("idx.npy");
    EXPECT_FAILURE(2, "--spp-mode max", "run", "spp", "--levels", "1", "--spp-mode", "avg",
                   "--indices", "idx.npy", "in.npy", "out.npy");
    EXPECT_FAILURE(3, "at most 8", "run", "spp", "--levels", "1,2,3,4,5,6,7,8,9", "in.npy",
                   "out.npy");
    EXPECT_FAILURE(3, "at least 1 bin", "run", "spp", "--levels", "1,0", "in.npy", "out.npy");
    write_f32("in.npy", (size_t[]){1, 2, 2}, 3, x);
    unlink("out.npy");
    unlink("idx.npy");
    EXPECT_FAILURE(3, "2-D maps", "run", "spp", "--levels", "1", "in.npy", "out.npy");
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static TCase *tcase(const char *name, const TTest *tests[], size_t count)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
    /* Each run may build kernels (seconds on a cold cache). */
    tcase_set_timeout(tc, 300);
    for (size_t i = 0; i < count; i++)
        tcase_add_test(tc, tests[i]);
    return tc;
}

#define TCASE(suite, name, ...)                                                                    \
    do {                                                                                           \
        const TTest *tests_[] = {__VA_ARGS__};                                                     \
        suite_add_tcase(suite, tcase(name, tests_, sizeof tests_ / sizeof tests_[0]));             \
    } while (0)

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCASE(s, "version_help", test_version, test_help);
    TCASE(s, "devices", test_devices);
    TCASE(s, "max", test_max2d_worked_example, test_max2d_reference, test_max3d,
          test_output_replaced);
    TCASE(s, "avg", test_avg_worked_examples, test_avg2d_reference);
    TCASE(s, "usage_errors", test_usage_errors, test_malformed_numbers);
    TCASE(s, "unsupported", test_unsupported_ops);
    TCASE(s, "npy_errors", test_npy_file_errors, test_npy_header_errors, test_dtype_and_rank);
    TCASE(s, "bad_npy_corpus", test_bad_npy_corpus);
    TCASE(s, "parameters", test_invalid_parameters);
    TCASE(s, "outputs", test_output_errors);
    TCASE(s, "family", test_lp_worked_examples, test_gem_worked_examples,
          test_mixed_worked_examples, test_softmax_worked_examples, test_stochastic_test_time,
          test_stochastic_train_replay);
    TCASE(s, "dtypes", test_float16_max_avg, test_integer_dtypes, test_float64_family,
          test_bfloat16_round_trip);
    TCASE(s, "layouts", test_layout_nhwc, test_nhwc_matches_nchw);
    TCASE(s, "family_errors", test_family_errors);
    TCASE(s, "unpool", test_fractional_worked_example, test_fractional_seed_replay,
          test_fractional_errors, test_unpool_worked_example, test_unpool_round_trip,
          test_unpool_errors);
    TCASE(s, "roi", test_roi_max_worked_example, test_roi_align_worked_examples,
          test_roi_layouts_and_scale, test_roi_errors);
    TCASE(s, "adaptive", test_global_ops, test_adaptive_ops, test_spp_op);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(cli_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
