/*
 * libFuzzer target: max unpooling's descriptor and shape validation and its
 * index inputs, through the public clpool_plan_unpool(),
 * clpool_run_host_io(), clpool_enqueue() and
 * clpool_unpool_check_workspace() on a context of the default device (PoCL's
 * CPU device on CI). Unlike fuzz_window_plan this target builds programs:
 * unpool.cl has few variants (element size, index type, layout), each built
 * once per process (the disk cache is off, the memory cache on).
 *
 * The input decodes into a clpool_unpool_desc, a clpool_tensor_desc (mostly
 * small and boundary values) and, when the plan is small enough to run, the
 * indices (mostly in or near the output plane, sometimes raw). A plain
 * reference of the rules (spec §7, include/clpool.h) judges the descriptor:
 *   - breaks a rule: the plan must be refused with one error logged and the
 *     plan pointer untouched;
 *   - valid and modest (sizes within the decoder's small range): the plan
 *     must succeed with the reference's output shape;
 *   - anything else: only the sanitizers judge.
 * A small successful plan then runs twice on the decoded indices: the host
 * call must return CLPOOL_ERROR_INVALID_INDICES exactly when an index is out
 * of range, leaving the output array untouched, else the reference result
 * (last duplicate wins); the enqueue path must leave the output buffer
 * untouched with the flag read back as INVALID_INDICES, or write the same
 * result with the flag clear.
 */
#include "clpool.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__extension__ typedef __int128 i128;

static clpool_context *context;
static unsigned long verdict_count[3], runs_valid, runs_bad;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_unpool: %s\n", what);
    abort();
}

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
            "fuzz_unpool: verdicts: %lu break a rule, %lu valid and modest, %lu undecided; runs: "
            "%lu with valid indices, %lu with a bad index\n",
            verdict_count[0], verdict_count[1], verdict_count[2], runs_valid, runs_bad);
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
    atexit(print_counts);
    return 0;
}

/* ---- decoding ------------------------------------------------------------ */

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

static const int int_edges[] = {0,       1,     -1, INT_MAX, INT_MIN, 1 << 20, (1 << 20) + 1,
                                1 << 16, 46341, -2, 65535,   1 << 30};

/* < 0xC0: 0..5 (small windows, strides, paddings); < 0xE0: an edge; else raw. */
static int pick_int(reader *r)
{
    uint8_t b = byte(r);
    if (b < 0xC0)
        return b % 6;
    if (b < 0xE0)
        return int_edges[(b - 0xC0) % (sizeof int_edges / sizeof int_edges[0])];
    return (int)(uint32_t)raw(r, 4);
}

static const size_t size_edges[] = {0,       1,          INT_MAX / 4,     INT_MAX / 4 + 1,
                                    INT_MAX, UINT32_MAX, (size_t)1 << 32, SIZE_MAX,
                                    65536,   1 << 15,    (size_t)1 << 30, SIZE_MAX / 2 + 1};

/* < 0xC0: 0..7; < 0xE0: an edge; else raw. */
static size_t pick_size(reader *r)
{
    uint8_t b = byte(r);
    if (b < 0xC0)
        return b % 8;
    if (b < 0xE0)
        return size_edges[(b - 0xC0) % (sizeof size_edges / sizeof size_edges[0])];
    return (size_t)raw(r, 8);
}

static void decode(reader *r, clpool_unpool_desc *u, clpool_tensor_desc *in)
{
    memset(u, 0, sizeof *u);
    memset(in, 0, sizeof *in);
    static const clpool_dtype dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_UINT8,
                                          CLPOOL_FLOAT64};
    uint8_t b = byte(r);
    in->dtype = b < 0xE0 ? dtypes[b % 4] : (clpool_dtype)((int)(b - 0xE0) - 4);
    b = byte(r);
    in->layout = b < 0xE0 ? (clpool_layout)(b & 1) : (clpool_layout)((int)(b - 0xE0) - 2);
    b = byte(r);
    in->spatial_dims = b < 0xE0 ? 1 + b % 3 : (int)(b - 0xE0) - 8;
    in->n = pick_size(r);
    if (byte(r) < 0xF0) /* mostly a small batch */
        in->n %= 3;
    in->c = pick_size(r);
    for (int i = 0; i < 3; i++)
        in->spatial[i] = pick_size(r);
    for (int i = 0; i < 3; i++)
        u->kernel[i] = pick_int(r);
    for (int i = 0; i < 3; i++)
        u->stride[i] = pick_int(r);
    for (int i = 0; i < 3; i++)
        u->padding[i] = pick_int(r);
    b = byte(r);
    if (b >= 0x80) /* an explicit output size, near the default or anywhere */
        for (int i = 0; i < 3; i++)
            u->output_size[i] = b < 0xF0 ? (size_t)(byte(r) % 12) : pick_size(r);
    b = byte(r);
    u->indices = b < 0xF0 ? (clpool_index_type)(b % 3) : (clpool_index_type)((int)b - 0xF4);
}

/* ---- the reference judgement --------------------------------------------- */

enum verdict { BREAKS_A_RULE, VALID_AND_MODEST, UNDECIDED };

/* Spec §7 and clpool.h: the output extents of a valid descriptor in @p out. */
static enum verdict judge(const clpool_unpool_desc *u, const clpool_tensor_desc *in, size_t out[3])
{
    int nd = in->spatial_dims;
    if (nd < 1 || nd > 3)
        return BREAKS_A_RULE;
    if ((int)in->dtype < 0 || (int)in->dtype > CLPOOL_INT64 || in->dtype == CLPOOL_INT32 ||
        in->dtype == CLPOOL_INT64)
        return BREAKS_A_RULE;
    if (in->layout != CLPOOL_NCHW && in->layout != CLPOOL_NHWC)
        return BREAKS_A_RULE;
    if (u->indices != CLPOOL_INDICES_NONE && u->indices != CLPOOL_INDICES_INT64 &&
        u->indices != CLPOOL_INDICES_INT32)
        return BREAKS_A_RULE;
    if (in->c == 0)
        return BREAKS_A_RULE;
    int given = 0;
    for (int i = 0; i < nd; i++) {
        if (in->spatial[i] == 0 || in->spatial[i] > INT_MAX / 4)
            return BREAKS_A_RULE;
        given += u->output_size[i] != 0;
    }
    if (given != 0 && given != nd)
        return BREAKS_A_RULE;
    bool modest = in->n <= 2 && in->c <= 8;
    i128 in_plane = 1, out_plane = 1;
    for (int i = 0; i < nd; i++) {
        i128 k = u->kernel[i], s = u->stride[i] ? u->stride[i] : k, p = u->padding[i];
        if (k < 1 || k > (1 << 20) || s < 1 || s > (1 << 20) || p < 0 || p > (1 << 20))
            return BREAKS_A_RULE;
        i128 def = ((i128)in->spatial[i] - 1) * s - 2 * p + k;
        i128 o = given ? (i128)u->output_size[i] : def;
        if (!given && def < 1)
            return BREAKS_A_RULE;
        if (given && (o <= def - s || o >= def + s || o > INT_MAX))
            return BREAKS_A_RULE;
        out[i] = (size_t)o;
        /* saturated: only "more than 2^30" matters */
        in_plane = in_plane > ((i128)1 << 40) ? in_plane : in_plane * (i128)in->spatial[i];
        out_plane = out_plane > ((i128)1 << 40) ? out_plane : out_plane * o;
        modest = modest && in->spatial[i] <= 8 && o <= 64;
    }
    if (in_plane > ((i128)1 << 30) || out_plane > ((i128)1 << 30))
        return BREAKS_A_RULE; /* CLPOOL_ERROR_UNSUPPORTED */
    return modest ? VALID_AND_MODEST : UNDECIDED;
}

/* ---- running a small plan ------------------------------------------------ */

static size_t layout_offset(const clpool_tensor_desc *t, size_t plane_elems, size_t plane, size_t s)
{
    if (t->layout == CLPOOL_NHWC)
        return ((plane / t->c) * plane_elems + s) * t->c + plane % t->c;
    return plane * plane_elems + s;
}

/* The reference: nothing when an index is bad (returns 0), else zeros and
 * each element at its index in row-major order of each plane. */
static int reference(const clpool_tensor_desc *in, const clpool_tensor_desc *out,
                     const unsigned char *x, const int64_t *idx, unsigned char *y, size_t esize)
{
    size_t S = 1, OS = 1;
    for (int i = 0; i < in->spatial_dims; i++) {
        S *= in->spatial[i];
        OS *= out->spatial[i];
    }
    size_t planes = in->n * in->c;
    for (size_t e = 0; e < planes * S; e++)
        if (idx[e] < 0 || (uint64_t)idx[e] >= OS)
            return 0;
    memset(y, 0, planes * OS * esize);
    for (size_t p = 0; p < planes; p++)
        for (size_t s = 0; s < S; s++) {
            size_t e = layout_offset(in, S, p, s);
            size_t o = layout_offset(out, OS, p, (size_t)idx[e]);
            memcpy(y + o * esize, x + e * esize, esize);
        }
    return 1;
}

static void run_plan(reader *r, clpool_plan *plan, const clpool_tensor_desc *in,
                     clpool_index_type itype)
{
    clpool_tensor_desc out;
    clpool_plan_output_desc(plan, &out);
    size_t esize = clpool_dtype_size(in->dtype), isize = itype == CLPOOL_INDICES_INT32 ? 4 : 8;
    size_t n_in = clpool_tensor_elements(in), n_out = clpool_tensor_elements(&out);
    size_t OS = n_out / (in->n * in->c);
    unsigned char *x = malloc(n_in * esize), *y = malloc(n_out * esize);
    unsigned char *want = malloc(n_out * esize), *dev = malloc(n_out * esize);
    int64_t *idx64 = malloc(n_in * 8);
    void *idx = malloc(n_in * isize);
    if (!x || !y || !want || !dev || !idx64 || !idx)
        fail("out of host memory");
    for (size_t i = 0; i < n_in * esize; i++)
        x[i] = (unsigned char)(i * 131 + 7);
    for (size_t e = 0; e < n_in; e++) {
        uint8_t b = byte(r);
        int64_t q = b < 0xF8   ? (int64_t)(b % OS)
                    : b < 0xFC ? (int64_t)OS + (int64_t)(b - 0xF8) - 2
                               : (int64_t)raw(r, 8);
        if (itype == CLPOOL_INDICES_INT32)
            q = (int32_t)q; /* what an int32 buffer holds */
        idx64[e] = q;
        if (itype == CLPOOL_INDICES_INT32)
            ((int32_t *)idx)[e] = (int32_t)q;
        else
            ((int64_t *)idx)[e] = q;
    }
    int valid = reference(in, &out, x, idx64, want, esize);
    valid ? runs_valid++ : runs_bad++;

    /* the host call */
    memset(y, 0xA5, n_out * esize);
    clpool_host_io hio;
    memset(&hio, 0, sizeof hio);
    hio.input = x;
    hio.indices = idx;
    hio.output = y;
    errors_logged = 0;
    clpool_status st = clpool_run_host_io(plan, NULL, &hio);
    if (valid && (st != CLPOOL_SUCCESS || memcmp(y, want, n_out * esize) != 0))
        fail("valid indices: clpool_run_host_io failed or differs from the reference");
    if (!valid) {
        if (st != CLPOOL_ERROR_INVALID_INDICES || errors_logged != 1)
            fail("a bad index was not refused by clpool_run_host_io with one error");
        for (size_t i = 0; i < n_out * esize; i++)
            if (y[i] != 0xA5)
                fail("clpool_run_host_io wrote the output despite a bad index");
    }

    /* the device path: the flag in the workspace */
    cl_context cl_ctx = clpool_context_cl_context(context);
    cl_command_queue q = clpool_context_cl_queue(context);
    cl_int err = CL_SUCCESS;
    size_t ws = clpool_plan_workspace_size(plan);
    memset(dev, 0xA5, n_out * esize);
    cl_mem mx =
        clCreateBuffer(cl_ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n_in * esize, x, &err);
    cl_mem mi =
        clCreateBuffer(cl_ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n_in * isize, idx, &err);
    cl_mem my =
        clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, n_out * esize, dev, &err);
    cl_mem mw = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, ws, NULL, &err);
    if (!mx || !mi || !my || !mw)
        fail("clCreateBuffer failed");
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.input.mem = mx;
    io.indices.mem = mi;
    io.output.mem = my;
    io.workspace.mem = mw;
    if (clpool_enqueue(plan, q, &io, 0, NULL, NULL) != CLPOOL_SUCCESS)
        fail("clpool_enqueue failed");
    if (clEnqueueReadBuffer(q, my, CL_TRUE, 0, n_out * esize, dev, 0, NULL, NULL) != CL_SUCCESS)
        fail("clEnqueueReadBuffer failed");
    st = clpool_unpool_check_workspace(plan, q, &io);
    if (valid && (st != CLPOOL_SUCCESS || memcmp(dev, want, n_out * esize) != 0))
        fail("valid indices: the device run differs from the reference or flags an error");
    if (!valid) {
        if (st != CLPOOL_ERROR_INVALID_INDICES)
            fail("a bad index was not flagged in the workspace");
        for (size_t i = 0; i < n_out * esize; i++)
            if (dev[i] != 0xA5)
                fail("the device run wrote the output despite a bad index");
    }
    clReleaseMemObject(mx);
    clReleaseMemObject(mi);
    clReleaseMemObject(my);
    clReleaseMemObject(mw);
    free(x);
    free(y);
    free(want);
    free(dev);
    free(idx64);
    free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, data + size};
    clpool_unpool_desc u;
    clpool_tensor_desc in;
    decode(&r, &u, &in);
    size_t out[3] = {0, 0, 0};
    enum verdict v = judge(&u, &in, out);
    verdict_count[v]++;
    clpool_plan *sentinel = (clpool_plan *)&verdict_count, *plan = sentinel;
    errors_logged = 0;
    clpool_status st = clpool_plan_unpool(context, &u, &in, &plan);
    if (st != CLPOOL_SUCCESS) {
        if (errors_logged != 1)
            fail("a refused plan did not log exactly one error");
        if (plan != sentinel)
            fail("a refused plan wrote its out-parameter");
        if (v == VALID_AND_MODEST)
            fail("a valid, modest descriptor was refused");
        return 0;
    }
    if (v == BREAKS_A_RULE)
        fail("a descriptor that breaks a rule was planned");
    clpool_tensor_desc od;
    clpool_plan_output_desc(plan, &od);
    if (od.n != in.n || od.c != in.c || od.dtype != in.dtype || od.layout != in.layout)
        fail("the output keeps N, C, dtype and layout");
    for (int i = 0; i < in.spatial_dims; i++)
        if (od.spatial[i] != out[i])
            fail("the output size differs from the reference");
    if (v == VALID_AND_MODEST && in.n > 0)
        run_plan(&r, plan, &in,
                 u.indices == CLPOOL_INDICES_INT32 ? CLPOOL_INDICES_INT32 : CLPOOL_INDICES_INT64);
    clpool_plan_destroy(plan);
    return 0;
}
