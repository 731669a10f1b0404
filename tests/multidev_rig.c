/*
 * The multidev suite's rig (see multidev_rig.h): two devices, a reference
 * batch, and the runners of a split over host arrays, per-part buffers and
 * one shared buffer set.
 */
#include "multidev_rig.h"
#include "harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Guard elements on each side of every tensor in a device buffer. */
#define GUARD 5
#define GUARD_VALUE 1234.5f

static void capture_log(void *user, clpool_log_level level, const char *message)
{
    rig_log *log = user;
    if (level != CLPOOL_LOG_ERROR)
        return;
    log->errors++;
    snprintf(log->last, sizeof log->last, "%s", message);
}

/* The first platform with at least two devices: its index and two devices. */
static int find_platform(cl_platform_id *platform, cl_device_id dev[2])
{
    cl_platform_id platforms[16];
    cl_uint count = 0;
    if (clGetPlatformIDs(16, platforms, &count) != CL_SUCCESS)
        return -1;
    for (cl_uint p = 0; p < count && p < 16; p++) {
        cl_uint n = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 2, dev, &n) == CL_SUCCESS && n >= 2) {
            *platform = platforms[p];
            return (int)p;
        }
    }
    return -1;
}

void rig_open(rig *r, int shared)
{
    memset(r, 0, sizeof *r);
    r->shared = shared;
    cl_platform_id platform = NULL;
    int p = find_platform(&platform, r->dev);
    ck_assert_msg(p >= 0, "no OpenCL platform with two devices: with PoCL, set "
                          "POCL_DEVICES=\"pthread basic\" (tests/meson.build does)");
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.log = capture_log;
    o.log_user = &r->log;
    cl_int err = CL_SUCCESS;
    if (shared) {
        /* One cl_context of both devices, wrapped once per device. */
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
        r->cl_ctx[0] = clCreateContext(props, 2, r->dev, NULL, NULL, &err);
        ck_assert_msg(err == CL_SUCCESS, "clCreateContext of two devices: %d", err);
        r->cl_ctx[1] = r->cl_ctx[0];
        for (int i = 0; i < 2; i++) {
            r->queue[i] = clCreateCommandQueue(r->cl_ctx[i], r->dev[i], 0, &err);
            ck_assert_msg(err == CL_SUCCESS, "clCreateCommandQueue: %d", err);
            clpool_status st = clpool_context_wrap(r->cl_ctx[i], r->dev[i], &o, &r->pool[i]);
            ck_assert_msg(st == CLPOOL_SUCCESS, "clpool_context_wrap(device %d): %s", i,
                          clpool_status_string(st));
        }
    } else {
        /* Two contexts of their own, opened by platform and device index. */
        for (int i = 0; i < 2; i++) {
            char spec[32];
            snprintf(spec, sizeof spec, "%d:%d", p, i);
            o.device = spec;
            clpool_status st = clpool_context_create(&o, &r->pool[i]);
            ck_assert_msg(st == CLPOOL_SUCCESS, "clpool_context_create(%s): %s", spec,
                          clpool_status_string(st));
            r->cl_ctx[i] = clpool_context_cl_context(r->pool[i]);
            r->queue[i] = clpool_context_cl_queue(r->pool[i]);
            ck_assert(clpool_context_cl_device(r->pool[i]) == r->dev[i]);
        }
    }
    for (int i = 0; i < 2; i++) {
        clpool_device_info info;
        ck_assert_int_eq(clpool_context_device_info(r->pool[i], &info), CLPOOL_SUCCESS);
        printf("multidev: %s context, device %d: %s (%u compute units)\n",
               shared ? "shared" : "separate", i, info.device_name, info.compute_units);
    }
}

void rig_close(rig *r)
{
    for (int i = 0; i < 2; i++) {
        if (r->shared && r->queue[i])
            clReleaseCommandQueue(r->queue[i]);
        clpool_context_destroy(r->pool[i]); /* a created one owns its queue and context */
    }
    if (r->shared && r->cl_ctx[0])
        clReleaseContext(r->cl_ctx[0]);
    memset(r, 0, sizeof *r);
}

/* ---- the batch and its reference ---------------------------------------- */

void batch_poisoned(const batch *b, float **y, void **idx)
{
    *y = malloc((b->out_elems ? b->out_elems : 1) * sizeof **y);
    ck_assert(*y != NULL);
    poison_floats(*y, b->out_elems);
    *idx = NULL;
    if (b->idx_size) {
        *idx = malloc(b->out_elems ? b->out_elems * b->idx_size : 1);
        ck_assert(*idx != NULL);
        poison_indices(*idx, b->op.indices, b->out_elems);
    }
}

void batch_make(batch *b, rig *r, const clpool_window_desc *op, const clpool_tensor_desc *in,
                uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->op = *op;
    b->in = *in;
    b->in_elems = clpool_tensor_elements(in);
    b->idx_size = index_size(op->indices);
    b->x = malloc((b->in_elems ? b->in_elems : 1) * sizeof *b->x);
    ck_assert(b->x != NULL);
    test_rng rng = {seed};
    fill_values(&rng, b->x, b->in_elems, seed % 2 ? VALUES_UNIFORM : VALUES_TIES);

    clpool_plan *plan = NULL;
    clpool_status st = clpool_plan_window(r->pool[0], op, in, &plan);
    ck_assert_msg(st == CLPOOL_SUCCESS, "whole-batch plan: %s (%s)", clpool_status_string(st),
                  r->log.last);
    ck_assert_int_eq(clpool_plan_output_desc(plan, &b->out), CLPOOL_SUCCESS);
    b->out_elems = clpool_tensor_elements(&b->out);
    batch_poisoned(b, &b->y_ref, &b->idx_ref);
    st = clpool_run_host(plan, r->queue[0], b->x, b->y_ref, b->idx_ref);
    ck_assert_msg(st == CLPOOL_SUCCESS, "whole-batch run: %s", clpool_status_string(st));
    clpool_plan_destroy(plan);
    /* The reference itself must be complete, or a split leaving the same
     * elements unwritten would match it. */
    float poison_y;
    poison_floats(&poison_y, 1);
    for (size_t i = 0; i < b->out_elems; i++) {
        ck_assert_msg(memcmp(&b->y_ref[i], &poison_y, sizeof poison_y) != 0,
                      "reference output %zu left unwritten", i);
        if (b->idx_size) {
            int64_t v =
                b->idx_size == 8 ? ((int64_t *)b->idx_ref)[i] : (int64_t)((int32_t *)b->idx_ref)[i];
            ck_assert_msg(v >= -1 && v < 1000000, "reference index %zu = %lld", i, (long long)v);
        }
    }
}

void batch_free(batch *b)
{
    free(b->x);
    free(b->y_ref);
    free(b->idx_ref);
    memset(b, 0, sizeof *b);
}

size_t batch_diff(const batch *b, const float *y, const void *idx, const char *label)
{
    size_t bad = 0, per_sample = b->in.n ? b->out_elems / b->in.n : 1;
    for (size_t i = 0; i < b->out_elems; i++) {
        int y_bad = memcmp(&y[i], &b->y_ref[i], sizeof *y) != 0;
        int i_bad =
            b->idx_size && memcmp((const char *)idx + i * b->idx_size,
                                  (const char *)b->idx_ref + i * b->idx_size, b->idx_size) != 0;
        if (!y_bad && !i_bad)
            continue;
        if (bad++ < 5 && label) {
            int64_t got = 0, want = 0;
            if (b->idx_size == 8) {
                got = ((const int64_t *)idx)[i];
                want = ((const int64_t *)b->idx_ref)[i];
            } else if (b->idx_size == 4) {
                got = ((const int32_t *)idx)[i];
                want = ((const int32_t *)b->idx_ref)[i];
            }
            fprintf(stderr,
                    "%s: element %zu (sample %zu): got %.9g index %lld, want %.9g index %lld\n",
                    label, i, i / per_sample, (double)y[i], (long long)got, (double)b->y_ref[i],
                    (long long)want);
        }
    }
    return bad;
}

clpool_status run_split_host(clpool_split *split, const cl_command_queue *queues, const batch *b,
                             float *y, void *idx)
{
    return clpool_split_run_host(split, queues, b->x, y, idx);
}

/* ---- device buffers with guards ----------------------------------------- */

/* A buffer of @p count elements of @p esize bytes between GUARD guards:
 * the elements from @p data (NULL: the poison of the output or indices),
 * the guards GUARD_VALUE (floats) or poison (indices). */
static cl_mem guarded_buffer(cl_context ctx, size_t count, size_t esize, const void *data,
                             clpool_index_type index_type)
{
    size_t total = count + 2 * GUARD;
    unsigned char *host = malloc(total * esize);
    ck_assert(host != NULL);
    if (esize == sizeof(float) && index_type == CLPOOL_INDICES_NONE) {
        float *f = (float *)(void *)host;
        for (size_t i = 0; i < total; i++)
            f[i] = GUARD_VALUE;
        if (!data)
            poison_floats(f + GUARD, count);
    } else {
        poison_indices(host, index_type, total);
    }
    if (data)
        memcpy(host + GUARD * esize, data, count * esize);
    cl_int err = CL_SUCCESS;
    cl_mem mem =
        clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, total * esize, host, &err);
    ck_assert_msg(err == CL_SUCCESS, "clCreateBuffer: %d", err);
    free(host);
    return mem;
}

/* Reads a guarded buffer's @p count elements into @p dst, counting changed
 * guards. */
static void read_guarded(cl_command_queue queue, cl_mem mem, size_t count, size_t esize, void *dst,
                         clpool_index_type index_type, size_t *guard_errors)
{
    size_t total = count + 2 * GUARD;
    unsigned char *host = malloc(total * esize);
    ck_assert(host != NULL);
    cl_int err = clEnqueueReadBuffer(queue, mem, CL_TRUE, 0, total * esize, host, 0, NULL, NULL);
    ck_assert_msg(err == CL_SUCCESS, "clEnqueueReadBuffer: %d", err);
    memcpy(dst, host + GUARD * esize, count * esize);
    unsigned char guard[8];
    if (index_type == CLPOOL_INDICES_NONE) {
        float g = GUARD_VALUE;
        memcpy(guard, &g, sizeof g);
    } else {
        poison_indices(guard, index_type, 1);
    }
    for (size_t i = 0; i < total; i++)
        if ((i < GUARD || i >= GUARD + count) && memcmp(host + i * esize, guard, esize) != 0)
            (*guard_errors)++;
    free(host);
}

/* The tensors of one buffer set: input, output, indices. */
typedef struct buffer_set {
    cl_mem in, out, idx;
} buffer_set;

/* @p fill: the input holds the batch's samples, else poison. */
static void make_set(cl_context ctx, const batch *b, size_t first, size_t n, int fill,
                     buffer_set *set, clpool_io *io)
{
    size_t in_per = b->in.n ? b->in_elems / b->in.n : 0;
    size_t out_per = b->in.n ? b->out_elems / b->in.n : 0;
    set->in = guarded_buffer(ctx, n * in_per, sizeof(float), fill ? b->x + first * in_per : NULL,
                             CLPOOL_INDICES_NONE);
    set->out = guarded_buffer(ctx, n * out_per, sizeof(float), NULL, CLPOOL_INDICES_NONE);
    set->idx =
        b->idx_size ? guarded_buffer(ctx, n * out_per, b->idx_size, NULL, b->op.indices) : NULL;
    memset(io, 0, sizeof *io);
    io->input = (clpool_buffer){set->in, GUARD};
    io->output = (clpool_buffer){set->out, GUARD};
    io->indices = (clpool_buffer){set->idx, GUARD};
}

static void read_set(cl_command_queue queue, const batch *b, size_t first, size_t n,
                     const buffer_set *set, float *y, void *idx, size_t *guard_errors)
{
    size_t out_per = b->in.n ? b->out_elems / b->in.n : 0;
    read_guarded(queue, set->out, n * out_per, sizeof(float), y + first * out_per,
                 CLPOOL_INDICES_NONE, guard_errors);
    if (b->idx_size)
        read_guarded(queue, set->idx, n * out_per, b->idx_size,
                     (char *)idx + first * out_per * b->idx_size, b->op.indices, guard_errors);
}

static void release_set(buffer_set *set)
{
    clReleaseMemObject(set->in);
    clReleaseMemObject(set->out);
    if (set->idx)
        clReleaseMemObject(set->idx);
}

#define MAX_PARTS 8

clpool_status run_split_parts(rig *r, clpool_split *split, const int *devices, size_t part_count,
                              const batch *b, float *y, void *idx, size_t *guard_errors)
{
    ck_assert(part_count <= MAX_PARTS);
    buffer_set sets[MAX_PARTS];
    clpool_io ios[MAX_PARTS];
    cl_command_queue queues[MAX_PARTS];
    cl_event events[MAX_PARTS];
    size_t first[MAX_PARTS], n[MAX_PARTS];
    for (size_t i = 0; i < part_count; i++) {
        ck_assert_int_eq(clpool_split_part_info(split, i, &first[i], &n[i], NULL), CLPOOL_SUCCESS);
        queues[i] = r->queue[devices[i]];
        make_set(r->cl_ctx[devices[i]], b, first[i], n[i], 1, &sets[i], &ios[i]);
    }
    clpool_status st = clpool_split_enqueue(split, queues, ios, part_count, 0, NULL, events);
    for (size_t i = 0; i < part_count && st == CLPOOL_SUCCESS; i++) {
        /* Events of separate contexts cannot be waited on together. */
        ck_assert_int_eq(clWaitForEvents(1, &events[i]), CL_SUCCESS);
        clReleaseEvent(events[i]);
        read_set(queues[i], b, first[i], n[i], &sets[i], y, idx, guard_errors);
    }
    for (size_t i = 0; i < part_count; i++) {
        clFinish(queues[i]);
        release_set(&sets[i]);
    }
    return st;
}

clpool_status run_split_whole(rig *r, clpool_split *split, const int *devices, size_t part_count,
                              const batch *b, float *y, void *idx, size_t *guard_errors)
{
    ck_assert(part_count <= MAX_PARTS && r->shared);
    cl_command_queue queues[MAX_PARTS];
    cl_event events[MAX_PARTS];
    for (size_t i = 0; i < part_count; i++)
        queues[i] = r->queue[devices[i]];
    buffer_set set;
    clpool_io io;
    make_set(r->cl_ctx[0], b, 0, b->in.n, 0, &set, &io);
    /* The input arrives by a non-blocking upload on device 0's queue, which
     * every part (device 1's too) must wait for through the wait list. (A
     * user event as the gate would hang PoCL 3.1 when a 'basic' device is
     * in the context: pocl issue #1177.) */
    cl_event upload = NULL;
    cl_int err = clEnqueueWriteBuffer(r->queue[0], set.in, CL_FALSE, GUARD * sizeof(float),
                                      b->in_elems * sizeof(float), b->x, 0, NULL, &upload);
    ck_assert_msg(err == CL_SUCCESS, "clEnqueueWriteBuffer: %d", err);
    clpool_status st = clpool_split_enqueue(split, queues, &io, 1, 1, &upload, events);
    if (st == CLPOOL_SUCCESS) {
        /* Events of one cl_context: one wait. */
        ck_assert_int_eq(clWaitForEvents((cl_uint)part_count, events), CL_SUCCESS);
        for (size_t i = 0; i < part_count; i++)
            clReleaseEvent(events[i]);
        read_set(queues[0], b, 0, b->in.n, &set, y, idx, guard_errors);
    }
    for (size_t i = 0; i < part_count; i++)
        clFinish(queues[i]);
    clFinish(r->queue[0]);
    clReleaseEvent(upload);
    release_set(&set);
    return st;
}
