/*
 * Suite "faults": device failures. A tensor larger than the device's largest
 * allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE) and a kernel program that does
 * not compile ($CLPOOL_KERNEL_DIR with broken sources) must give their
 * status (out of device memory, build failed) with a log sentence, release
 * every object made on the way, and leave the context usable: a later valid
 * plan in the same context gives the right result.
 *
 * The oversized tensors live in anonymous mappings that cost no memory;
 * those the library must not touch are PROT_NONE, so the test crashes
 * (fails) if anything reads or writes them.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, setenv */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "harness.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

typedef struct log_capture {
    int errors;
    int build_logs;    /* messages carrying the compiler's log */
    int build_failed;  /* "kernel program NAME failed to build ..." */
    int out_of_memory; /* messages naming CL_INVALID_BUFFER_SIZE or an allocation failure */
    char last[1024];
} log_capture;

static void capture_log(void *user, clpool_log_level level, const char *message)
{
    log_capture *c = user;
    if (level != CLPOOL_LOG_ERROR)
        return;
    c->errors++;
    c->build_logs += strstr(message, "build log") != NULL;
    c->build_failed +=
        strncmp(message, "kernel program ", 15) == 0 && strstr(message, "failed to build") != NULL;
    if (getenv("TEST_FAULTS_SHOW_LOG"))
        fprintf(stderr, "log: %.300s\n", message);
    c->out_of_memory += strstr(message, "CL_INVALID_BUFFER_SIZE") != NULL ||
                        strstr(message, "CL_MEM_OBJECT_ALLOCATION_FAILURE") != NULL ||
                        strstr(message, "CL_OUT_OF_RESOURCES") != NULL;
    snprintf(c->last, sizeof c->last, "%s", message);
}

static clpool_context_options options(log_capture *cap, const char *cache_dir)
{
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = capture_log;
    o.log_user = cap;
    if (cache_dir)
        o.cache_dir = cache_dir;
    else
        o.disable_disk_cache = 1;
    return o;
}

static cl_uint context_refcount(cl_context ctx)
{
    cl_uint n = 0;
    ck_assert_int_eq(clGetContextInfo(ctx, CL_CONTEXT_REFERENCE_COUNT, sizeof n, &n, NULL),
                     CL_SUCCESS);
    return n;
}

static clpool_cache_stats stats_of(const clpool_context *ctx)
{
    clpool_cache_stats s;
    ck_assert_int_eq(clpool_context_cache_stats(ctx, &s), CLPOOL_SUCCESS);
    return s;
}

/* A valid small layer, planned and run in @p ctx, checked element by element. */
static void valid_plan_works(clpool_context *ctx, cl_command_queue queue, const char *when)
{
    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_MAX;
    op.kernel[0] = op.kernel[1] = 3;
    op.stride[0] = op.stride[1] = 2;
    op.padding[0] = op.padding[1] = 1;
    op.indices = CLPOOL_INDICES_INT64;
    clpool_tensor_desc in = tensor(2, 2, 3, 15, 12, 0);
    size_t n = clpool_tensor_elements(&in);
    float *x = malloc(n * sizeof *x);
    test_rng r = {0xfa17};
    fill_values(&r, x, n, VALUES_SPECIAL);
    window_ref ref;
    ck_assert_int_eq(window_ref_compute(&ref, &op, &in, x), 0);
    float *y = malloc(ref.out_elems * sizeof *y);
    int64_t *idx = malloc(ref.out_elems * sizeof *idx);
    poison_floats(y, ref.out_elems);
    poison_indices(idx, op.indices, ref.out_elems);
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_window(ctx, &op, &in, &plan);
    ck_assert_msg(st == CLPOOL_SUCCESS, "%s: a valid plan: %s", when, clpool_status_string(st));
    st = clpool_run_host(plan, queue, x, y, idx);
    ck_assert_msg(st == CLPOOL_SUCCESS, "%s: a valid run: %s", when, clpool_status_string(st));
    int budget = 10;
    ck_assert_uint_eq(window_compare(&ref, &op, &in, y, idx, when, &budget), 0);
    clpool_plan_destroy(plan);
    window_ref_free(&ref);
    free(x);
    free(y);
    free(idx);
}

/* An inaccessible mapping of @p bytes: no memory behind it, any access faults. */
static void *mapping(size_t bytes, int prot)
{
    void *p = mmap(NULL, bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert_msg(p != MAP_FAILED, "mmap of %zu bytes: %s", bytes, strerror(errno));
    return p;
}

/* ------------------------------------------------------------------------ */
/* Out of device memory                                                     */

typedef enum too_large {
    INPUT_TOO_LARGE,  /* the first buffer run_host makes fails */
    INDICES_TOO_LARGE /* the third: the input and output buffers exist by then */
} too_large;

/*
 * Runs a 2-D float32 max plan through clpool_run_host with one tensor a
 * little larger than the device's largest allocation:
 * INPUT_TOO_LARGE: k=2 on an input just over the limit (its output, a
 * quarter, would fit); nothing is read. The arrays are PROT_NONE mappings,
 * so reading or writing them crashes.
 * INDICES_TOO_LARGE: k=1 and int64 indices on an input just over half the
 * limit: the input (zero pages, read once into the device buffer: half the
 * limit of real memory for a moment) and the output fit, the indices do
 * not. The output and indices arrays are PROT_NONE. tests/meson.build sets
 * POCL_MEMORY_LIMIT=1 (PoCL then allows 256 MiB per allocation); on a
 * device that allows more than 2 GiB the case is skipped with a note rather
 * than copy over 1 GiB.
 * Checks the status (out of device memory), one log sentence naming the
 * OpenCL error and that the context's reference count is back where it was
 * (every buffer, and the temporary queue of a wrapped context, released).
 */
static void oversized_run(clpool_context *ctx, cl_command_queue queue, log_capture *cap,
                          too_large which)
{
    clpool_device_info info;
    ck_assert_int_eq(clpool_context_device_info(ctx, &info), CLPOOL_SUCCESS);
    ck_assert_uint_gt(info.max_mem_alloc_size, 0);
    if (which == INDICES_TOO_LARGE && info.max_mem_alloc_size > ((cl_ulong)2 << 30)) {
        printf("indices too large: skipped, the device allows %llu bytes per buffer (set "
               "POCL_MEMORY_LIMIT=1 on PoCL)\n",
               (unsigned long long)info.max_mem_alloc_size);
        return;
    }
    const size_t h = 16384, elem = which == INPUT_TOO_LARGE ? 4 : 8;
    size_t w = (size_t)(info.max_mem_alloc_size / (elem * h)) + 2; /* even, over the limit */
    w += w % 2;
    clpool_tensor_desc in = tensor(2, 1, 1, h, w, 0);
    size_t in_bytes = clpool_tensor_elements(&in) * 4;
    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_MAX;
    op.kernel[0] = op.kernel[1] = which == INPUT_TOO_LARGE ? 2 : 1;
    op.indices = which == INPUT_TOO_LARGE ? CLPOOL_INDICES_NONE : CLPOOL_INDICES_INT64;

    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_window(ctx, &op, &in, &plan);
    ck_assert_msg(st == CLPOOL_SUCCESS, "planning %zu x %zu floats: %s (%s)", h, w,
                  clpool_status_string(st), cap->last);
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
    size_t out_elems = clpool_tensor_elements(&out), idx_bytes = out_elems * index_size(op.indices);
    if (which == INPUT_TOO_LARGE)
        ck_assert_uint_gt(in_bytes, info.max_mem_alloc_size);
    else
        ck_assert(in_bytes <= info.max_mem_alloc_size && idx_bytes > info.max_mem_alloc_size);
    void *x = mapping(in_bytes, which == INPUT_TOO_LARGE ? PROT_NONE : PROT_READ);
    void *y = mapping(out_elems * 4, PROT_NONE);
    void *idx = idx_bytes ? mapping(idx_bytes, PROT_NONE) : NULL;
    int errors_before = cap->errors;
    cl_context cl = clpool_context_cl_context(ctx);
    cl_uint refs = context_refcount(cl); /* the plan's program included */
    st = clpool_run_host(plan, queue, x, y, idx);
    ck_assert_uint_eq(context_refcount(cl), refs);
    printf("%s: %zu x %zu floats, %zu bytes of indices (the device allows %llu): %s; log: %s\n",
           which == INPUT_TOO_LARGE ? "input too large" : "indices too large", h, w, idx_bytes,
           (unsigned long long)info.max_mem_alloc_size, clpool_status_string(st), cap->last);
    ck_assert_int_eq(st, CLPOOL_ERROR_OUT_OF_DEVICE_MEMORY);
    ck_assert_int_eq(cap->errors, errors_before + 1); /* one sentence */
    ck_assert_int_ge(cap->out_of_memory, 1);
    clpool_plan_destroy(plan);
    munmap(x, in_bytes);
    munmap(y, out_elems * 4);
    if (idx)
        munmap(idx, idx_bytes);
}

/* The library's own context and queue. */
START_TEST(test_too_large_own_context)
{
    log_capture cap = {0};
    clpool_context_options o = options(&cap, NULL);
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    cl_context cl = clpool_context_cl_context(ctx);
    valid_plan_works(ctx, NULL, "before");
    oversized_run(ctx, NULL, &cap, INPUT_TOO_LARGE);
    oversized_run(ctx, NULL, &cap, INDICES_TOO_LARGE);
    cl_uint refs = context_refcount(cl); /* with both programs in the memory cache */
    valid_plan_works(ctx, NULL, "after out of device memory");
    ck_assert_uint_eq(context_refcount(cl), refs);
    clpool_context_destroy(ctx);
}
END_TEST

/* A wrapped context: run_host makes (and must release) a temporary queue,
 * and then the caller's queue. */
START_TEST(test_too_large_wrapped)
{
    cl_platform_id platform = NULL;
    cl_device_id dev = NULL;
    ck_assert_int_eq(clGetPlatformIDs(1, &platform, NULL), CL_SUCCESS);
    ck_assert_int_eq(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &dev, NULL), CL_SUCCESS);
    cl_int err = CL_SUCCESS;
    cl_context cl = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_command_queue q = clCreateCommandQueue(cl, dev, 0, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    cl_uint refs_before = context_refcount(cl);

    log_capture cap = {0};
    clpool_context_options o = options(&cap, NULL);
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_wrap(cl, dev, &o, &ctx), CLPOOL_SUCCESS);
    valid_plan_works(ctx, NULL, "wrapped, before");
    oversized_run(ctx, NULL, &cap, INPUT_TOO_LARGE);
    oversized_run(ctx, q, &cap, INPUT_TOO_LARGE);
    /* The temporary queue and two buffers exist when the third fails. */
    oversized_run(ctx, NULL, &cap, INDICES_TOO_LARGE);
    valid_plan_works(ctx, q, "wrapped, after out of device memory");
    valid_plan_works(ctx, NULL, "wrapped, after out of device memory, own queue");
    clpool_context_destroy(ctx);
    ck_assert_uint_eq(context_refcount(cl), refs_before);
    ck_assert_int_eq(clFinish(q), CL_SUCCESS);
    clReleaseCommandQueue(q);
    clReleaseContext(cl);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Kernel build failure                                                     */

static char broken_dir[4200];

/* Copies every .cl file of the source tree's kernels/ ($CLPOOL_TEST_KERNEL_SOURCES)
 * into a new folder with a line of invalid OpenCL C appended to each. */
static void make_broken_kernels(void)
{
    const char *src = getenv("CLPOOL_TEST_KERNEL_SOURCES");
    ck_assert_msg(src && *src, "CLPOOL_TEST_KERNEL_SOURCES is not set (meson sets it)");
    snprintf(broken_dir, sizeof broken_dir, "/tmp/clpool-broken-kernels-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(broken_dir));
    DIR *d = opendir(src);
    ck_assert_msg(d != NULL, "opendir %s: %s", src, strerror(errno));
    int copied = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".cl") != 0)
            continue;
        char from[4600], to[4600];
        snprintf(from, sizeof from, "%s/%s", src, e->d_name);
        snprintf(to, sizeof to, "%s/%s", broken_dir, e->d_name);
        FILE *in = fopen(from, "rb");
        FILE *out = fopen(to, "wb");
        ck_assert_msg(in && out, "copying %s to %s: %s", from, to, strerror(errno));
        char buf[4096];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, in)) > 0)
            ck_assert_uint_eq(fwrite(buf, 1, got, out), got);
        fputs("\nthis line is not OpenCL C (test_faults breaks the build on purpose);\n", out);
        fclose(in);
        ck_assert_int_eq(fclose(out), 0);
        copied++;
    }
    closedir(d);
    ck_assert_int_ge(copied, 1);
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Plans @p op on @p in with the broken kernels: build failed, the compiler's
 * log and one failure sentence logged, nothing returned, nothing cached. */
static void expect_build_failure(clpool_context *ctx, log_capture *cap,
                                 const clpool_window_desc *op, const clpool_tensor_desc *in)
{
    int errors = cap->errors, logs = cap->build_logs, failed = cap->build_failed;
    clpool_cache_stats before = stats_of(ctx);
    clpool_plan *plan = (clpool_plan *)(uintptr_t)0x1; /* must stay untouched */
    clpool_status st = clpool_plan_window(ctx, op, in, &plan);
    ck_assert_msg(st == CLPOOL_ERROR_BUILD_FAILED, "plan with broken kernels: %s (%s)",
                  clpool_status_string(st), cap->last);
    ck_assert_ptr_eq(plan, (clpool_plan *)(uintptr_t)0x1);
    ck_assert_int_eq(cap->build_logs, logs + 1);
    ck_assert_int_eq(cap->build_failed, failed + 1);
    ck_assert_int_ge(cap->errors, errors + 2);
    clpool_cache_stats after = stats_of(ctx);
    ck_assert_uint_eq(after.builds, before.builds);
    ck_assert_uint_eq(after.disk_writes, before.disk_writes);
    ck_assert_uint_eq(after.memory_hits, before.memory_hits);
}

START_TEST(test_build_failure)
{
    make_broken_kernels();
    char cache[] = "/tmp/clpool-faults-cache-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(cache));
    log_capture cap = {0};
    clpool_context_options o = options(&cap, cache);
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    cl_context cl = clpool_context_cl_context(ctx);
    cl_uint refs = context_refcount(cl);

    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_MAX;
    op.kernel[0] = op.kernel[1] = 3;
    op.stride[0] = op.stride[1] = 2;
    op.padding[0] = op.padding[1] = 1;
    op.indices = CLPOOL_INDICES_INT64;
    clpool_tensor_desc in = tensor(2, 2, 3, 15, 12, 0);
    clpool_window_desc global = op;
    global.kernel[0] = 15;
    global.kernel[1] = 12;
    global.stride[0] = global.stride[1] = 0;
    global.padding[0] = global.padding[1] = 0;
    clpool_window_desc avg1d;
    memset(&avg1d, 0, sizeof avg1d);
    avg1d.op = CLPOOL_OP_AVG;
    avg1d.kernel[0] = 4;
    clpool_tensor_desc in1d = tensor(1, 1, 2, 40, 0, 0);

    ck_assert_int_eq(setenv("CLPOOL_KERNEL_DIR", broken_dir, 1), 0);
    expect_build_failure(ctx, &cap, &op, &in);
    /* Again: the failure was not cached as a program. */
    expect_build_failure(ctx, &cap, &op, &in);
    expect_build_failure(ctx, &cap, &global, &in);
    expect_build_failure(ctx, &cap, &avg1d, &in1d);
    ck_assert_int_eq(unsetenv("CLPOOL_KERNEL_DIR"), 0);
    printf("build failure logged: %.200s\n", cap.last);
    ck_assert_uint_eq(context_refcount(cl), refs); /* the failed programs are released */
    ck_assert_uint_eq(count_files(cache), 0);      /* nothing written to the disk cache */

    /* The same context with the real kernels. */
    valid_plan_works(ctx, NULL, "after the build failures");
    clpool_cache_stats s = stats_of(ctx);
    ck_assert_uint_eq(s.builds + s.disk_hits, 1);
    clpool_context_destroy(ctx);
    remove_tree(broken_dir);
    remove_tree(cache);
}
END_TEST

/* A missing kernel folder: the same status, one sentence naming the path. */
START_TEST(test_missing_kernel_dir)
{
    log_capture cap = {0};
    clpool_context_options o = options(&cap, NULL);
    clpool_context *ctx = NULL;
    ck_assert_int_eq(clpool_context_create(&o, &ctx), CLPOOL_SUCCESS);
    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = CLPOOL_OP_AVG;
    op.kernel[0] = op.kernel[1] = 2;
    clpool_tensor_desc in = tensor(2, 1, 1, 8, 8, 0);
    ck_assert_int_eq(setenv("CLPOOL_KERNEL_DIR", "/nonexistent/clpool-kernels", 1), 0);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_window(ctx, &op, &in, &plan), CLPOOL_ERROR_BUILD_FAILED);
    ck_assert_ptr_null(plan);
    ck_assert_int_eq(cap.errors, 1);
    ck_assert_ptr_nonnull(strstr(cap.last, "/nonexistent/clpool-kernels"));
    ck_assert_int_eq(unsetenv("CLPOOL_KERNEL_DIR"), 0);
    valid_plan_works(ctx, NULL, "after a missing kernel folder");
    clpool_context_destroy(ctx);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("out of device memory");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_too_large_own_context);
    tcase_add_test(tc, test_too_large_wrapped);
    suite_add_tcase(s, tc);
    tc = tcase_create("build failure");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_build_failure);
    tcase_add_test(tc, test_missing_kernel_dir);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(faults_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
