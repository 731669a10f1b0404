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

extern char **environ;

/* Each test runs in its own folder: <base>/work is the current directory,
 * <base>/stdout and <base>/stderr receive the program's output. */
static char base_dir[4096];

/* ---- files -------------------------------------------------------------- */

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, NUL-terminated, or NULL when it does not exist. */
static char *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/*
 * A .npy file with any version, header dict text and data: the dict is
 * padded with spaces and '\n' to a multiple of 64 bytes as NumPy does.
 * Malformed files are written with write_bytes() directly.
 */
static void write_npy_raw(const char *path, int major, const char *dict, const void *data,
                          size_t data_len)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t total = (pre + strlen(dict) + 1 + 63) / 64 * 64;
    size_t hlen = total - pre;
    unsigned char *buf = calloc(1, total + data_len);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memset(buf + pre, ' ', hlen);
    memcpy(buf + pre, dict, strlen(dict));
    buf[total - 1] = '\n';
    if (data_len)
        memcpy(buf + total, data, data_len);
    write_bytes(path, buf, total + data_len);
    free(buf);
}

/* A C-order array of @p rank dims, elements of @p size bytes, dtype @p descr. */
static void write_typed(const char *path, const char *descr, size_t size, const size_t *shape,
                        int rank, const void *data)
{
    char dict[512], text[256] = "(";
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%zu", i ? ", " : "", shape[i]);
        count *= shape[i];
    }
    strcat(text, rank == 1 ? ",)" : ")");
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr,
             text);
    write_npy_raw(path, 1, dict, data, count * size);
}

/* A float32 C-order array of @p rank dims. */
static void write_f32(const char *path, const size_t *shape, int rank, const float *data)
{
    write_typed(path, "<f4", sizeof(float), shape, rank, data);
}

/*
 * Reads a .npy the program wrote: checks version 1.0, the exact descr and
 * shape text, and that the data has @p count elements of @p size bytes.
 * Returns the data (malloc'ed).
 */
static void *read_npy(const char *path, const char *descr, const char *shape, size_t count,
                      size_t size)
{
    size_t len = 0;
    char *file = read_bytes(path, &len);
    ck_assert_msg(file != NULL, "%s was not written", path);
    ck_assert_msg(len >= 10 && memcmp(file, "\x93NUMPY\x01\x00", 8) == 0, "%s: bad preamble", path);
    size_t hlen = (size_t)(unsigned char)file[8] | (size_t)(unsigned char)file[9] << 8;
    ck_assert_msg((10 + hlen) % 64 == 0, "%s: header not padded to 64 bytes", path);
    ck_assert_uint_ge(len, 10 + hlen);
    char *header = strndup(file + 10, hlen);
    char want[256];
    snprintf(want, sizeof want, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr,
             shape);
    ck_assert_msg(strncmp(header, want, strlen(want)) == 0, "%s: header %s, want %s", path, header,
                  want);
    ck_assert_msg(header[hlen - 1] == '\n', "%s: header does not end with a newline", path);
    free(header);
    ck_assert_uint_eq(len - 10 - hlen, count * size);
    void *data = malloc(count * size + 1);
    ck_assert_ptr_nonnull(data);
    memcpy(data, file + 10 + hlen, count * size);
    free(file);
    return data;
}

static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[8192];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        closedir(dir);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(base_dir, sizeof base_dir, "%s/clpool-cli-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(base_dir));
    char work[4200];
    snprintf(work, sizeof work, "%s/work", base_dir);
    ck_assert_int_eq(mkdir(work, 0755), 0);
    ck_assert_int_eq(chdir(work), 0);
}

static void teardown(void)
{
    if (chdir("/") == 0)
        remove_tree(base_dir);
}

/* ---- running the program ------------------------------------------------ */

struct result {
    int status; /* exit code, or 128 + signal */
    char *out;
    char *err;
};

static void result_free(struct result *r)
{
    free(r->out);
    free(r->err);
}

static struct result run_argv(const char *const *args)
{
    const char *bin = getenv("CLPOOL_BIN");
    ck_assert_msg(bin && *bin, "CLPOOL_BIN is not set (meson's test() sets it)");
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)bin;
    for (; args[argc - 1] && argc < 63; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    char out_path[4200], err_path[4200];
    snprintf(out_path, sizeof out_path, "%s/stdout", base_dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", base_dir);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, bin, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ck_assert_msg(rc == 0, "cannot start %s: %s", bin, strerror(rc));
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    struct result r;
    r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    r.out = read_bytes(out_path, NULL);
    r.err = read_bytes(err_path, NULL);
    ck_assert_ptr_nonnull(r.out);
    ck_assert_ptr_nonnull(r.err);
    return r;
}

#define RUN(...) run_argv((const char *const[]){__VA_ARGS__, NULL})

static void expect_success(struct result r)
{
    ck_assert_msg(r.status == 0, "exit %d, stderr: %s", r.status, r.err);
    ck_assert_msg(r.err[0] == '\0', "stderr not empty: %s", r.err);
}

/* The contract's failure: the exit code and one line "clpool: ...". */
static void expect_one_line(const struct result *r, int code, const char *needle)
{
    ck_assert_msg(r->status == code, "exit %d, want %d; stderr: %s", r->status, code, r->err);
    size_t len = strlen(r->err);
    ck_assert_msg(strncmp(r->err, "clpool: ", 8) == 0 && len > 9, "stderr: '%s'", r->err);
    ck_assert_msg(r->err[len - 1] == '\n' && strchr(r->err, '\n') == r->err + len - 1,
                  "stderr is not exactly one line: '%s'", r->err);
    ck_assert_msg(!needle || strstr(r->err, needle), "stderr '%s' lacks '%s'", r->err, needle);
    ck_assert_msg(r->out[0] == '\0', "stdout not empty on failure: %s", r->out);
}

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
    expect_success(
        RUN("grad", "max", "--kernel", "2", "--stride", "1", "x.npy", "g.npy", "gx.npy"));
    float *gx = read_npy("gx.npy", "<f4", "(1, 1, 3)", 3, 4);
    expect_close("max", gx, want, 3);
    free(gx);
    /* the same from the forward's indices */
    expect_success(RUN("run", "max", "--kernel", "2", "--stride", "1", "--indices", "i.npy",
                       "x.npy", "y.npy"));
    expect_success(RUN("grad", "max", "--kernel", "2", "--stride", "1", "--indices-in", "i.npy",
                       "x.npy", "g.npy", "gx2.npy"));
    gx = read_npy("gx2.npy", "<f4", "(1, 1, 3)", 3, 4);
    expect_close("max --indices-in", gx, want, 3);
    free(gx);
    /* indices -1 send nothing; each index its gradient */
    const int64_t idx[2] = {-1, 2};
    write_typed("j.npy", "<i8", 8, (size_t[]){1, 1, 2}, 3, idx);
    expect_success(RUN("grad", "max", "--kernel", "2", "--stride", "1", "--indices-in", "j.npy",
                       "x.npy", "g.npy", "gx3.npy"));
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
    expect_success(RUN("grad", "avg", "--kernel", "3", "--stride", "2", "--padding", "1",
                       "--ceil-mode", "1", "x.npy", "g.npy", "gx.npy"));
    float *gx = read_npy("gx.npy", "<f4", "(1, 1, 6)", 6, 4);
    expect_close("avg", gx, want, 6);
    free(gx);
    /* --count-include-pad 0: divisors 2, 3, 3, 1 */
    const double want0[6] = {0.5, 0.5 + 1.0 / 3, 1.0 / 3, 2.0 / 3, 1.0 / 3, 4.0 / 3};
    expect_success(RUN("grad", "avg", "--kernel", "3", "--stride", "2", "--padding", "1",
                       "--ceil-mode", "1", "--count-include-pad", "0", "x.npy", "g.npy", "gx.npy"));
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
    expect_success(r);
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
        expect_success(RUN("grad", ops[k], "--kernel", "3", "--stride", "2", "--padding", "1",
                           "x.npy", "g.npy", "a.npy"));
        expect_success(RUN("grad", ops[k], "--kernel", "3", "--stride", "2", "--padding", "1",
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
    expect_success(RUN("run", "stochastic", "--kernel", "2", "--train", "1", "--seed", "77",
                       "--indices", "i.npy", "x.npy", "y.npy"));
    expect_success(RUN("grad", "stochastic", "--kernel", "2", "--train", "1", "--seed", "77",
                       "--indices-in", "i.npy", "x.npy", "g.npy", "a.npy"));
    expect_success(RUN("grad", "stochastic", "--kernel", "2", "--train", "1", "--seed", "77",
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
    FAILS(3, "not supported", "grad", "global-max", "x.npy", "g.npy", "gx.npy");
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
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_max_example);
    tcase_add_test(tc, test_avg_example);
    tcase_add_test(tc, test_lp_float64);
    tcase_add_test(tc, test_nhwc);
    tcase_add_test(tc, test_stochastic_replay);
    tcase_add_test(tc, test_grad_errors);
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
