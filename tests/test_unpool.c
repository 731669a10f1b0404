/*
 * Suite "unpool": max unpooling (spec §7) against the reference
 * (reference_unpool.c): the spec's duplicates example, a seeded random sweep
 * over 1-D/2-D/3-D, NCHW/NHWC, every dtype, int32/int64 indices, default
 * and explicit sizes, heavy duplicates, work-group sizes and plane splits,
 * through clpool_run_host_io() and clpool_enqueue() (offsets, guards, an
 * out-of-order queue), each with both strategies of kernels/unpool.cl
 * (winners and serial); indices from the library's own max pooling;
 * out-of-range indices on the host and on the device (nothing written, the
 * flag read back); the statuses of invalid parameters.
 * CLPOOL_TEST_SMALL=1 keeps a few tiny cases (for oclgrind).
 */
#include "harness.h"
#include "test_env.h"
#include "reference_unpool.h"
#include "storage.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The two strategies of kernels/unpool.cl, forced for the plans made next
 * (the default depends on the device and the number of planes). */
static const char *const strategies[2] = {"winners", "serial"};

static void use_strategy(int serial)
{
    setenv("CLPOOL_TUNE_UNPOOL", strategies[serial], 1);
}

static clpool_unpool_desc unpool_desc(int k, int s, int p)
{
    clpool_unpool_desc u;
    memset(&u, 0, sizeof u);
    for (int i = 0; i < 3; i++) {
        u.kernel[i] = k;
        u.stride[i] = s;
        u.padding[i] = p;
    }
    return u;
}

static clpool_tensor_desc tdesc(clpool_dtype t, clpool_layout l, int dims, size_t n, size_t c,
                                size_t s0, size_t s1, size_t s2)
{
    clpool_tensor_desc d = tensor(dims, n, c, s0, s1, s2);
    d.dtype = t;
    d.layout = l;
    return d;
}

/* ---- a device run with caller buffers ----------------------------------- */

#define GUARD 7 /* elements of guard on each side */

static cl_mem make_buffer(cl_context ctx, size_t bytes, const void *fill, size_t fill_bytes,
                          int pattern)
{
    cl_int err = CL_SUCCESS;
    unsigned char *host = malloc(bytes);
    ck_assert_ptr_nonnull(host);
    memset(host, pattern, bytes);
    if (fill)
        memcpy(host + GUARD * 8, fill, fill_bytes); /* offsets below are GUARD*8 bytes */
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, host, &err);
    free(host);
    ck_assert_msg(err == CL_SUCCESS, "clCreateBuffer: %d", err);
    return m;
}

/*
 * Runs @p plan by clpool_enqueue on @p queue: input and indices at an offset
 * of GUARD*8 bytes in buffers with guards, the output likewise in a buffer
 * filled with 0xA5 bytes, the workspace at byte offset 32. Reads the whole
 * output buffer into @p y_all (GUARD*8 + out_bytes + GUARD*8 bytes), waits on
 * the run's event, and returns the status of enqueue; *check gets
 * clpool_unpool_check_workspace's.
 */
static clpool_status run_device(clpool_context *ctx, cl_command_queue queue, clpool_plan *plan,
                                const void *x, size_t in_elems, size_t esize, const void *idx,
                                size_t isize, size_t out_elems, unsigned char *y_all,
                                clpool_status *check)
{
    cl_context cl_ctx = clpool_context_cl_context(ctx);
    size_t pad = GUARD * 8;
    cl_mem xin = make_buffer(cl_ctx, pad * 2 + in_elems * esize + 8, x, in_elems * esize, 0x11);
    cl_mem iin = make_buffer(cl_ctx, pad * 2 + in_elems * isize + 8, idx, in_elems * isize, 0x22);
    cl_mem yout = make_buffer(cl_ctx, pad * 2 + out_elems * esize, NULL, 0, 0xA5);
    size_t ws = clpool_plan_workspace_size(plan);
    cl_mem wsm = make_buffer(cl_ctx, ws + 64, NULL, 0, 0x33);
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.input.mem = xin;
    io.input.offset = pad / esize;
    io.indices.mem = iin;
    io.indices.offset = pad / isize;
    io.output.mem = yout;
    io.output.offset = pad / esize;
    io.workspace.mem = wsm;
    io.workspace.offset = 32;
    cl_event ev = NULL;
    clpool_status st = clpool_enqueue(plan, queue, &io, 0, NULL, &ev);
    if (st == CLPOOL_SUCCESS) {
        ck_assert_int_eq(clWaitForEvents(1, &ev), CL_SUCCESS);
        clReleaseEvent(ev);
        ck_assert_int_eq(clEnqueueReadBuffer(queue, yout, CL_TRUE, 0, pad * 2 + out_elems * esize,
                                             y_all, 0, NULL, NULL),
                         CL_SUCCESS);
        *check = clpool_unpool_check_workspace(plan, queue, &io);
    }
    clReleaseMemObject(xin);
    clReleaseMemObject(iin);
    clReleaseMemObject(yout);
    clReleaseMemObject(wsm);
    return st;
}

/* Compares a device result (inside its guards) with the reference bytes. */
static size_t compare_device(const unsigned char *y_all, const unsigned char *want,
                             size_t out_elems, size_t esize, const char *label)
{
    size_t pad = GUARD * 8, bad = 0;
    for (size_t i = 0; i < pad; i++)
        if (y_all[i] != 0xA5 || y_all[pad + out_elems * esize + i] != 0xA5)
            bad++;
    if (bad)
        fprintf(stderr, "%s: %zu guard bytes changed\n", label, bad);
    for (size_t e = 0; e < out_elems; e++)
        if (memcmp(y_all + pad + e * esize, want + e * esize, esize) != 0) {
            if (bad < 5) {
                uint64_t g = 0, w = 0;
                memcpy(&g, y_all + pad + e * esize, esize);
                memcpy(&w, want + e * esize, esize);
                fprintf(stderr, "%s: element %zu is 0x%llx, want 0x%llx\n", label, e,
                        (unsigned long long)g, (unsigned long long)w);
            }
            bad++;
        }
    return bad;
}

/* ---- the spec's example -------------------------------------------------- */

START_TEST(test_spec_duplicates)
{
    /* x=[[1,2],[3,4]], idx=[[0,0],[5,5]], k=2: out[0]=2, out[5]=4, zeros elsewhere */
    use_strategy(_i);
    clpool_context *ctx = test_context(NULL, 0, 0);
    clpool_unpool_desc u = unpool_desc(2, 0, 0);
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 1, 2, 2, 0);
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_unpool(ctx, &u, &in, &plan), CLPOOL_SUCCESS);
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
    ck_assert_uint_eq(out.spatial[0], 4);
    ck_assert_uint_eq(out.spatial[1], 4);
    float x[4] = {1, 2, 3, 4}, y[16];
    int64_t idx[4] = {0, 0, 5, 5};
    poison_floats(y, 16);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = x;
    io.output = y;
    io.indices = idx;
    ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_SUCCESS);
    for (int i = 0; i < 16; i++) {
        float want = i == 0 ? 2.0f : i == 5 ? 4.0f : 0.0f;
        ck_assert_msg(memcmp(&y[i], &want, 4) == 0, "out[%d] = %g, want %g", i, y[i], want);
    }
    /* the same through clpool_enqueue */
    unsigned char y_all[GUARD * 16 + 64];
    clpool_status check = CLPOOL_ERROR_OPENCL;
    ck_assert_int_eq(
        run_device(ctx, clpool_context_cl_queue(ctx), plan, x, 4, 4, idx, 8, 16, y_all, &check),
        CLPOOL_SUCCESS);
    ck_assert_int_eq(check, CLPOOL_SUCCESS);
    float want[16] = {2, 0, 0, 0, 0, 4};
    ck_assert_uint_eq(compare_device(y_all, (unsigned char *)want, 16, 4, "spec example"), 0);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- the random sweep ---------------------------------------------------- */

static const clpool_dtype sweep_dtypes[] = {CLPOOL_FLOAT32, CLPOOL_FLOAT16, CLPOOL_BFLOAT16,
                                            CLPOOL_FLOAT64, CLPOOL_UINT8,   CLPOOL_INT8};

typedef struct sweep_case {
    clpool_tensor_desc in;
    clpool_unpool_desc op;
    int idx32;
} sweep_case;

static sweep_case random_case(test_rng *r, int small)
{
    sweep_case c;
    memset(&c, 0, sizeof c);
    int dims = rng_range(r, 1, 3);
    int smax = small ? 3 : dims == 3 ? 5 : dims == 2 ? 9 : 30;
    c.in = tdesc(sweep_dtypes[rng_below(r, 6)], rng_below(r, 2) ? CLPOOL_NHWC : CLPOOL_NCHW, dims,
                 (size_t)rng_range(r, 1, small ? 1 : 3), (size_t)rng_range(r, 1, small ? 2 : 6),
                 (size_t)rng_range(r, 1, smax), (size_t)rng_range(r, 1, smax),
                 (size_t)rng_range(r, 1, smax));
    for (int i = 0; i < dims; i++) {
        int k = rng_range(r, 1, 4), s = rng_below(r, 3) == 0 ? 0 : rng_range(r, 1, 3);
        int se = s ? s : k;
        int p = rng_range(r, 0, k / 2);
        long long def = ref_unpool_default_size((long long)c.in.spatial[i], k, se, p);
        if (def < 1) /* keep the default valid: no padding */
            p = 0;
        def = ref_unpool_default_size((long long)c.in.spatial[i], k, se, p);
        c.op.kernel[i] = k;
        c.op.stride[i] = s;
        c.op.padding[i] = p;
        (void)def;
    }
    if (rng_below(r, 3) == 0)
        for (int i = 0; i < dims; i++) {
            int se = c.op.stride[i] ? c.op.stride[i] : c.op.kernel[i];
            long long def = ref_unpool_default_size((long long)c.in.spatial[i], c.op.kernel[i], se,
                                                    c.op.padding[i]);
            long long lo = def - se + 1 < 1 ? 1 : def - se + 1, hi = def + se - 1;
            c.op.output_size[i] = (size_t)(lo + (long long)rng_below(r, (uint32_t)(hi - lo + 1)));
        }
    c.idx32 = rng_below(r, 2);
    c.op.indices = c.idx32 ? CLPOOL_INDICES_INT32
                           : (rng_below(r, 2) ? CLPOOL_INDICES_INT64 : CLPOOL_INDICES_NONE);
    return c;
}

static void describe(char *buf, size_t cap, const sweep_case *c, const clpool_tensor_desc *out)
{
    snprintf(buf, cap,
             "%s %s N=%zu C=%zu in=%zux%zux%zu out=%zux%zux%zu k=%d,%d,%d s=%d,%d,%d p=%d,%d,%d "
             "idx=%s",
             storage_dtype_name(c->in.dtype), c->in.layout == CLPOOL_NHWC ? "NHWC" : "NCHW",
             c->in.n, c->in.c, c->in.spatial[0], c->in.spatial[1], c->in.spatial[2],
             out->spatial[0], out->spatial[1], out->spatial[2], c->op.kernel[0], c->op.kernel[1],
             c->op.kernel[2], c->op.stride[0], c->op.stride[1], c->op.stride[2], c->op.padding[0],
             c->op.padding[1], c->op.padding[2], c->idx32 ? "int32" : "int64");
}

/* One case on one context: the reference, then run_host_io or enqueue. */
static size_t run_case(clpool_context *ctx, cl_command_queue queue, test_rng *r,
                       const sweep_case *c, int via_enqueue)
{
    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_unpool(ctx, &c->op, &c->in, &plan);
    ck_assert_msg(st == CLPOOL_SUCCESS, "plan: %s", clpool_status_string(st));
    clpool_tensor_desc out;
    ck_assert_int_eq(clpool_plan_output_desc(plan, &out), CLPOOL_SUCCESS);
    char label[256];
    describe(label, sizeof label, c, &out);
    size_t in_elems = tensor_elements(&c->in), out_elems = tensor_elements(&out);
    size_t OS = plane_elements(&out), esize = clpool_dtype_size(c->in.dtype);
    size_t isize = c->idx32 ? 4 : 8;
    unsigned char *x = malloc(in_elems * esize + 1), *want = malloc(out_elems * esize + 1);
    unsigned char *got = malloc(out_elems * esize + 1);
    void *idx = malloc(in_elems * isize + 1);
    ck_assert(x && want && got && idx);
    for (size_t i = 0; i < in_elems * esize; i++)
        x[i] = (unsigned char)rng_next(r); /* any bits: they are copied */
    /* half the indices among the first few positions: many duplicates */
    uint32_t few = OS < 4 ? (uint32_t)OS : 4;
    for (size_t i = 0; i < in_elems; i++) {
        int64_t q = rng_below(r, 2) ? rng_below(r, few) : rng_below(r, (uint32_t)OS);
        if (c->idx32)
            ((int32_t *)idx)[i] = (int32_t)q;
        else
            ((int64_t *)idx)[i] = q;
    }
    ck_assert_int_eq(ref_unpool(&c->in, &out, x, idx, c->idx32, want), -1);
    size_t bad = 0;
    if (!via_enqueue) {
        memset(got, 0xA5, out_elems * esize);
        clpool_host_io io;
        memset(&io, 0, sizeof io);
        io.input = x;
        io.indices = idx;
        io.output = got;
        st = clpool_run_host_io(plan, queue, &io);
        ck_assert_msg(st == CLPOOL_SUCCESS, "%s: run_host_io: %s", label, clpool_status_string(st));
        for (size_t e = 0; e < out_elems; e++)
            if (memcmp(got + e * esize, want + e * esize, esize) != 0) {
                if (bad < 5)
                    fprintf(stderr, "%s: host run: element %zu differs\n", label, e);
                bad++;
            }
    } else {
        unsigned char *y_all = malloc(GUARD * 16 + out_elems * esize);
        ck_assert_ptr_nonnull(y_all);
        clpool_status check = CLPOOL_ERROR_OPENCL;
        st = run_device(ctx, queue, plan, x, in_elems, esize, idx, isize, out_elems, y_all, &check);
        ck_assert_msg(st == CLPOOL_SUCCESS, "%s: enqueue: %s", label, clpool_status_string(st));
        ck_assert_msg(check == CLPOOL_SUCCESS, "%s: check_workspace: %s", label,
                      clpool_status_string(check));
        bad = compare_device(y_all, want, out_elems, esize, label);
        free(y_all);
    }
    if (bad)
        fprintf(stderr, "FAILED %s\n", label);
    free(x);
    free(want);
    free(got);
    free(idx);
    clpool_plan_destroy(plan);
    return bad;
}

START_TEST(test_sweep)
{
    /* contexts that differ in work-group size and in planes per launch */
    size_t wgs[] = {0, 1, 8, 0}, splits[] = {0, 0, 1, 2};
    int small = test_small_mode();
    int nctx = small ? 1 : 4, cases = small ? 6 : 250;
    clpool_context *ctx[4];
    for (int i = 0; i < nctx; i++)
        ctx[i] = test_context(NULL, wgs[i], splits[i]);
    use_strategy(_i % 2);
    test_rng r = {0x5eed0000u + (uint64_t)_i};
    size_t bad = 0;
    for (int t = 0; t < cases; t++) {
        sweep_case c = random_case(&r, small);
        clpool_context *cx = ctx[t % nctx];
        bad += run_case(cx, clpool_context_cl_queue(cx), &r, &c, t % 2);
    }
    for (int i = 0; i < nctx; i++)
        clpool_context_destroy(ctx[i]);
    ck_assert_msg(bad == 0, "%zu elements differ from the reference", bad);
}
END_TEST

/* An out-of-order queue: the three passes chained by events. */
START_TEST(test_out_of_order_queue)
{
    use_strategy(_i);
    clpool_context *ctx = test_context(NULL, 0, test_small_mode() ? 0 : 1);
    cl_int err = CL_SUCCESS;
    cl_command_queue q =
        clCreateCommandQueue(clpool_context_cl_context(ctx), clpool_context_cl_device(ctx),
                             CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err != CL_SUCCESS) { /* not every device has one */
        clpool_context_destroy(ctx);
        return;
    }
    test_rng r = {0x00f0 + (uint64_t)_i};
    size_t bad = 0;
    for (int t = 0; t < (test_small_mode() ? 2 : 40); t++) {
        sweep_case c = random_case(&r, test_small_mode());
        bad += run_case(ctx, q, &r, &c, 1);
    }
    clReleaseCommandQueue(q);
    clpool_context_destroy(ctx);
    ck_assert_msg(bad == 0, "%zu elements differ from the reference", bad);
}
END_TEST

/* Indices made by the library's max pooling (overlapping 3x3 windows of
 * stride 2: many duplicates), unpooled back to the input's size. */
START_TEST(test_from_max_pool)
{
    use_strategy(_i);
    clpool_context *ctx = test_context(NULL, 0, 0);
    size_t H = test_small_mode() ? 6 : 40, W = test_small_mode() ? 5 : 36;
    clpool_tensor_desc in = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 2, 3, H, W, 0);
    clpool_window_desc mp;
    memset(&mp, 0, sizeof mp);
    mp.op = CLPOOL_OP_MAX;
    mp.kernel[0] = mp.kernel[1] = 3;
    mp.stride[0] = mp.stride[1] = 2;
    mp.padding[0] = mp.padding[1] = 1;
    mp.indices = CLPOOL_INDICES_INT64;
    clpool_plan *pool = NULL, *unpool = NULL;
    ck_assert_int_eq(clpool_plan_window(ctx, &mp, &in, &pool), CLPOOL_SUCCESS);
    clpool_tensor_desc pooled;
    ck_assert_int_eq(clpool_plan_output_desc(pool, &pooled), CLPOOL_SUCCESS);
    size_t n_in = tensor_elements(&in), n_p = tensor_elements(&pooled);
    float *x = malloc(n_in * 4), *y = malloc(n_p * 4), *back = malloc(n_in * 4),
          *want = malloc(n_in * 4);
    int64_t *idx = malloc(n_p * 8);
    test_rng r = {77};
    fill_values(&r, x, n_in, VALUES_TIES);
    ck_assert_int_eq(clpool_run_host(pool, NULL, x, y, idx), CLPOOL_SUCCESS);
    clpool_unpool_desc u = unpool_desc(3, 2, 1);
    u.output_size[0] = H;
    u.output_size[1] = W;
    ck_assert_int_eq(clpool_plan_unpool(ctx, &u, &pooled, &unpool), CLPOOL_SUCCESS);
    poison_floats(back, n_in);
    clpool_host_io io;
    memset(&io, 0, sizeof io);
    io.input = y;
    io.indices = idx;
    io.output = back;
    ck_assert_int_eq(clpool_run_host_io(unpool, NULL, &io), CLPOOL_SUCCESS);
    ck_assert_int_eq(ref_unpool(&pooled, &in, y, idx, 0, want), -1);
    for (size_t i = 0; i < n_in; i++)
        ck_assert_msg(memcmp(&back[i], &want[i], 4) == 0, "element %zu: got %g, want %g", i,
                      back[i], want[i]);
    free(x);
    free(y);
    free(back);
    free(want);
    free(idx);
    clpool_plan_destroy(pool);
    clpool_plan_destroy(unpool);
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- out-of-range indices ------------------------------------------------ */

START_TEST(test_out_of_range)
{
    use_strategy(_i);
    test_log cap = {0};
    clpool_context *ctx = test_context(&cap, 0, test_small_mode() ? 0 : 1);
    const int64_t bad_values[] = {16, -1, 1000000, INT64_MIN};
    for (int lay = 0; lay < 2; lay++)
        for (int idx32 = 0; idx32 < 2; idx32++)
            for (int b = 0; b < 4; b++) {
                clpool_tensor_desc in =
                    tdesc(CLPOOL_FLOAT32, lay ? CLPOOL_NHWC : CLPOOL_NCHW, 2, 2, 3, 2, 2, 0);
                clpool_unpool_desc u = unpool_desc(2, 0, 0);
                u.indices = idx32 ? CLPOOL_INDICES_INT32 : CLPOOL_INDICES_INT64;
                clpool_plan *plan = NULL;
                ck_assert_int_eq(clpool_plan_unpool(ctx, &u, &in, &plan), CLPOOL_SUCCESS);
                float x[24], y[96];
                int64_t i64[24];
                int32_t i32[24];
                for (int i = 0; i < 24; i++) {
                    x[i] = (float)i + 1;
                    i64[i] = i32[i] = (i * 5) % 16;
                }
                size_t at = 13; /* the one bad index (element 13 in memory) */
                i64[at] = bad_values[b];
                i32[at] = (int32_t)(bad_values[b] == INT64_MIN ? INT32_MIN : bad_values[b]);
                void *idx = idx32 ? (void *)i32 : (void *)i64;
                /* host: refused before anything is written */
                poison_floats(y, 96);
                clpool_host_io io;
                memset(&io, 0, sizeof io);
                io.input = x;
                io.indices = idx;
                io.output = y;
                cap.count = 0;
                ck_assert_int_eq(clpool_run_host_io(plan, NULL, &io), CLPOOL_ERROR_INVALID_INDICES);
                ck_assert_int_eq(cap.count, 1);
                ck_assert_msg(strstr(cap.last, "outside the output plane of 16"), "log: %s",
                              cap.last);
                for (int i = 0; i < 96; i++) {
                    uint32_t bits;
                    memcpy(&bits, &y[i], 4);
                    ck_assert_uint_eq(bits, POISON_F32_BITS);
                }
                cap.count = 0;
                ck_assert_int_eq(clpool_unpool_check_indices(plan, idx),
                                 CLPOOL_ERROR_INVALID_INDICES);
                ck_assert_int_eq(cap.count, 1);
                /* device: the output buffer keeps its bytes, the flag says why */
                unsigned char y_all[GUARD * 16 + 96 * 4];
                clpool_status check = CLPOOL_SUCCESS;
                cap.count = 0;
                ck_assert_int_eq(run_device(ctx, clpool_context_cl_queue(ctx), plan, x, 24, 4, idx,
                                            idx32 ? 4 : 8, 96, y_all, &check),
                                 CLPOOL_SUCCESS);
                ck_assert_int_eq(check, CLPOOL_ERROR_INVALID_INDICES);
                ck_assert_int_eq(cap.count, 1);
                char want_text[64];
                snprintf(want_text, sizeof want_text, "index %lld at",
                         idx32 ? (long long)i32[at] : (long long)i64[at]);
                ck_assert_msg(strstr(cap.last, want_text), "log: %s (want '%s')", cap.last,
                              want_text);
                for (size_t i = 0; i < sizeof y_all; i++)
                    ck_assert_msg(y_all[i] == 0xA5, "output byte %zu was written", i);
                /* a valid run after it clears the flag */
                i64[at] = i32[at] = 3;
                unsigned char want[96 * 4];
                ck_assert_int_eq(ref_unpool(&in,
                                            &(clpool_tensor_desc){.dtype = in.dtype,
                                                                  .layout = in.layout,
                                                                  .spatial_dims = 2,
                                                                  .n = 2,
                                                                  .c = 3,
                                                                  .spatial = {4, 4, 0}},
                                            x, idx, idx32, want),
                                 -1);
                ck_assert_int_eq(run_device(ctx, clpool_context_cl_queue(ctx), plan, x, 24, 4, idx,
                                            idx32 ? 4 : 8, 96, y_all, &check),
                                 CLPOOL_SUCCESS);
                ck_assert_int_eq(check, CLPOOL_SUCCESS);
                ck_assert_uint_eq(compare_device(y_all, want, 96, 4, "after a bad run"), 0);
                clpool_plan_destroy(plan);
            }
    clpool_context_destroy(ctx);
}
END_TEST

/* ---- invalid parameters -------------------------------------------------- */

START_TEST(test_invalid)
{
    use_strategy(0);
    test_log cap = {0};
    clpool_context *ctx = test_context(&cap, 0, 0);
    clpool_tensor_desc in2 = tdesc(CLPOOL_FLOAT32, CLPOOL_NCHW, 2, 1, 2, 3, 3, 0);
    struct {
        const char *name;
        clpool_unpool_desc op;
        clpool_tensor_desc in;
        clpool_status want;
    } cases[24];
    int n = 0;
#define CASE(label, field, value, status)                                                          \
    do {                                                                                           \
        cases[n].name = label;                                                                     \
        cases[n].op = unpool_desc(2, 0, 0);                                                        \
        cases[n].in = in2;                                                                         \
        field = value;                                                                             \
        cases[n].want = status;                                                                    \
        n++;                                                                                       \
    } while (0)
    CASE("kernel 0", cases[n].op.kernel[1], 0, CLPOOL_ERROR_INVALID_KERNEL);
    CASE("kernel -2", cases[n].op.kernel[0], -2, CLPOOL_ERROR_INVALID_KERNEL);
    CASE("kernel 2^21", cases[n].op.kernel[0], 1 << 21, CLPOOL_ERROR_INVALID_KERNEL);
    CASE("stride -1", cases[n].op.stride[1], -1, CLPOOL_ERROR_INVALID_STRIDE);
    CASE("padding -1", cases[n].op.padding[0], -1, CLPOOL_ERROR_INVALID_PADDING);
    CASE("default size below 1", cases[n].op.padding[0], 3, CLPOOL_ERROR_OUTPUT_TOO_SMALL);
    /* default 6 with stride 2: sizes 5, 6, 7 are valid */
    CASE("output size = default - stride", cases[n].op.output_size[0], 4,
         CLPOOL_ERROR_INVALID_SHAPE);
    CASE("output size = default + stride", cases[n].op.output_size[0], 8,
         CLPOOL_ERROR_INVALID_SHAPE);
    CASE("output size of one dimension only", cases[n].op.output_size[1], 6,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("indices type 7", cases[n].op.indices, (clpool_index_type)7,
         CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("spatial_dims 4", cases[n].in.spatial_dims, 4, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("spatial_dims 0", cases[n].in.spatial_dims, 0, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("C = 0", cases[n].in.c, 0, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("H = 0", cases[n].in.spatial[0], 0, CLPOOL_ERROR_INVALID_SHAPE);
    CASE("dtype int32", cases[n].in.dtype, CLPOOL_INT32, CLPOOL_ERROR_UNSUPPORTED);
    CASE("dtype 99", cases[n].in.dtype, (clpool_dtype)99, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("layout 5", cases[n].in.layout, (clpool_layout)5, CLPOOL_ERROR_INVALID_ARGUMENT);
    CASE("a plane of 2^32 outputs", cases[n].op.kernel[0], 1 << 16, CLPOOL_ERROR_UNSUPPORTED);
#undef CASE
    /* the last case also needs the width kernel large, the size cases both sizes */
    cases[n - 1].op.kernel[1] = 1 << 16;
    for (int i = 0; i < n; i++)
        if (strncmp(cases[i].name, "output size =", 13) == 0)
            cases[i].op.output_size[1] = 6;
    for (int i = 0; i < n; i++) {
        cap.count = 0;
        clpool_plan *plan = (clpool_plan *)&cap; /* must stay untouched */
        clpool_status st = clpool_plan_unpool(ctx, &cases[i].op, &cases[i].in, &plan);
        ck_assert_msg(st == cases[i].want, "%s: got '%s', want '%s'", cases[i].name,
                      clpool_status_string(st), clpool_status_string(cases[i].want));
        ck_assert_msg(cap.count == 1, "%s: %d log sentences", cases[i].name, cap.count);
        ck_assert_msg(plan == (clpool_plan *)&cap, "%s: plan was written", cases[i].name);
        fprintf(stderr, "  %s -> %s: %s\n", cases[i].name, clpool_status_string(st), cap.last);
    }
    /* valid sizes at both ends of the range, and NULL arguments */
    clpool_unpool_desc u = unpool_desc(2, 0, 0);
    u.output_size[0] = 5;
    u.output_size[1] = 7;
    clpool_plan *plan = NULL;
    ck_assert_int_eq(clpool_plan_unpool(ctx, &u, &in2, &plan), CLPOOL_SUCCESS);
    clpool_tensor_desc out;
    clpool_plan_output_desc(plan, &out);
    ck_assert_uint_eq(out.spatial[0], 5);
    ck_assert_uint_eq(out.spatial[1], 7);
    ck_assert_uint_eq(clpool_plan_workspace_size(plan), (5 * 7 * 2 + 4) * 4); /* winners */
    ck_assert_uint_eq(clpool_plan_launch_count(plan), 3);
    /* the workspace is checked by enqueue */
    cl_context cl_ctx = clpool_context_cl_context(ctx);
    cl_int err;
    cl_mem big = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, 4096, NULL, &err);
    clpool_io io;
    memset(&io, 0, sizeof io);
    io.input.mem = io.indices.mem = io.output.mem = big;
    cap.count = 0;
    ck_assert_int_eq(clpool_enqueue(plan, clpool_context_cl_queue(ctx), &io, 0, NULL, NULL),
                     CLPOOL_ERROR_INVALID_BUFFER);
    ck_assert_msg(strstr(cap.last, "workspace"), "log: %s", cap.last);
    io.workspace.mem = big;
    io.workspace.offset = 8;
    ck_assert_int_eq(clpool_enqueue(plan, clpool_context_cl_queue(ctx), &io, 0, NULL, NULL),
                     CLPOOL_ERROR_INVALID_BUFFER);
    io.workspace.offset = 4096 - 16;
    ck_assert_int_eq(clpool_enqueue(plan, clpool_context_cl_queue(ctx), &io, 0, NULL, NULL),
                     CLPOOL_ERROR_INVALID_BUFFER);
    clReleaseMemObject(big);
    cap.count = 0;
    ck_assert_int_eq(clpool_unpool_check_indices(NULL, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_unpool_check_indices(plan, NULL), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_unpool_check_workspace(plan, NULL, &io), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_unpool(ctx, NULL, &in2, &plan), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_plan_set_seed(plan, 1), CLPOOL_ERROR_INVALID_ARGUMENT);
    clpool_plan_destroy(plan);
    /* the serial strategy needs only the flags */
    use_strategy(1);
    ck_assert_int_eq(clpool_plan_unpool(ctx, &u, &in2, &plan), CLPOOL_SUCCESS);
    ck_assert_uint_eq(clpool_plan_workspace_size(plan), 16);
    clpool_plan_destroy(plan);
    /* an empty batch plans and runs nothing */
    clpool_tensor_desc empty = in2;
    empty.n = 0;
    ck_assert_int_eq(clpool_plan_unpool(ctx, &u, &empty, &plan), CLPOOL_SUCCESS);
    ck_assert_uint_eq(clpool_plan_workspace_size(plan), 0);
    clpool_host_io hio;
    memset(&hio, 0, sizeof hio);
    ck_assert_int_eq(clpool_run_host_io(plan, NULL, &hio), CLPOOL_SUCCESS);
    clpool_plan_destroy(plan);
    clpool_context_destroy(ctx);
}
END_TEST

static Suite *unpool_suite(void)
{
    Suite *s = suite_create("unpool");
    TCase *tc = tcase_create("examples");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_spec_duplicates, 0, 2);
    tcase_add_loop_test(tc, test_from_max_pool, 0, 2);
    tcase_add_loop_test(tc, test_out_of_range, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("sweep");
    tcase_set_timeout(tc, 1800);
    tcase_add_loop_test(tc, test_sweep, 0, test_small_mode() ? 2 : 4);
    tcase_add_loop_test(tc, test_out_of_order_queue, 0, 2);
    suite_add_tcase(s, tc);
    if (!test_small_mode()) {
        tc = tcase_create("invalid");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_invalid);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(unpool_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
