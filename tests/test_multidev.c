/*
 * Suite "multidev": a batch split over two devices (clpool_split_*), each
 * with its own context or both in one cl_context wrapped per device. Every
 * split, uneven ones and parts of 0 samples included, must give results
 * bit-identical to one plan over the whole batch on one device, through host
 * arrays, per-part buffers and one shared buffer set; the stochastic draws
 * follow the sample's place in the batch (first_sample); invalid parts fail
 * with one sentence and change nothing.
 */
#include "harness.h"
#include "multidev_rig.h"

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- operators and splits ----------------------------------------------- */

typedef struct op_case {
    const char *name;
    clpool_op op;
    clpool_layout layout;
    int k, s, p;
    int exclude_padding;
    clpool_index_type indices;
    int train;
    size_t c;
} op_case;

/* max with indices (window_pool.cl), avg in both layouts (window_pool.cl and
 * window_lanes.cl), stochastic training in both layouts (window_lanes.cl;
 * NHWC with int32 indices and channels that leave a partial lane group). */
static const op_case cases[] = {
    {"max+int64 NCHW", CLPOOL_OP_MAX, CLPOOL_NCHW, 3, 2, 1, 0, CLPOOL_INDICES_INT64, 0, 3},
    {"avg NCHW", CLPOOL_OP_AVG, CLPOOL_NCHW, 3, 2, 1, 1, CLPOOL_INDICES_NONE, 0, 3},
    {"avg NHWC pad", CLPOOL_OP_AVG, CLPOOL_NHWC, 3, 2, 1, 0, CLPOOL_INDICES_NONE, 0, 5},
    {"stochastic train NCHW", CLPOOL_OP_STOCHASTIC, CLPOOL_NCHW, 3, 2, 0, 0, CLPOOL_INDICES_INT64,
     1, 3},
    {"stochastic train NHWC", CLPOOL_OP_STOCHASTIC, CLPOOL_NHWC, 2, 1, 0, 0, CLPOOL_INDICES_INT32,
     1, 5},
};
#define CASE_COUNT (sizeof cases / sizeof cases[0])

static clpool_window_desc case_op(const op_case *c)
{
    clpool_window_desc op;
    memset(&op, 0, sizeof op);
    op.op = c->op;
    op.kernel[0] = op.kernel[1] = c->k;
    op.stride[0] = op.stride[1] = c->s;
    op.padding[0] = op.padding[1] = c->p;
    op.exclude_padding = c->exclude_padding;
    op.indices = c->indices;
    op.train = c->train;
    op.seed = 0x2545f4914f6cdd1dULL;
    return op;
}

static clpool_tensor_desc case_input(const op_case *c, size_t n)
{
    clpool_tensor_desc in = tensor(2, n, c->c, 9, 7, 0);
    in.layout = c->layout;
    return in;
}

/* A split: the samples of each part and the device that runs it. */
typedef struct split_case {
    size_t n; /* the batch */
    size_t parts;
    size_t count[4]; /* samples per part */
    int device[4];   /* which rig device */
} split_case;

static const split_case splits[] = {
    {5, 2, {2, 3}, {0, 1}}, {5, 2, {4, 1}, {1, 0}},       {5, 2, {0, 5}, {0, 1}},
    {5, 2, {5, 0}, {0, 1}}, {5, 3, {1, 0, 4}, {1, 0, 1}}, {1, 2, {1, 0}, {0, 1}},
    {1, 2, {0, 1}, {0, 1}},
};
#define SPLIT_COUNT (sizeof splits / sizeof splits[0])

static clpool_split *make_split(rig *r, const split_case *sc, const clpool_window_desc *op,
                                const clpool_tensor_desc *in)
{
    clpool_split_part parts[4];
    for (size_t i = 0; i < sc->parts; i++)
        parts[i] = (clpool_split_part){r->pool[sc->device[i]], sc->count[i]};
    clpool_split *split = NULL;
    clpool_status st = clpool_split_window(parts, sc->parts, op, in, &split);
    ck_assert_msg(st == CLPOOL_SUCCESS, "clpool_split_window: %s (%s)", clpool_status_string(st),
                  r->log.last);
    return split;
}

static void describe_split(char *buf, size_t cap, const op_case *c, const split_case *sc,
                           const char *how)
{
    int len = snprintf(buf, cap, "%s N=%zu split", c->name, sc->n);
    for (size_t i = 0; i < sc->parts && len > 0 && (size_t)len < cap; i++)
        len += snprintf(buf + len, cap - (size_t)len, " %zu@dev%d", sc->count[i], sc->device[i]);
    if (len > 0 && (size_t)len < cap)
        snprintf(buf + len, cap - (size_t)len, " via %s", how);
}

/* Runs every operator over every split the ways the rig allows, each result
 * compared bitwise with the whole batch on device 0. */
static void check_every_split(rig *r)
{
    size_t runs = 0;
    for (size_t ci = 0; ci < CASE_COUNT; ci++) {
        const op_case *c = &cases[ci];
        clpool_window_desc op = case_op(c);
        batch whole[2]; /* N = 5 and N = 1 */
        clpool_tensor_desc in5 = case_input(c, 5), in1 = case_input(c, 1);
        batch_make(&whole[0], r, &op, &in5, 100 + ci);
        batch_make(&whole[1], r, &op, &in1, 200 + ci);
        for (size_t si = 0; si < SPLIT_COUNT; si++) {
            const split_case *sc = &splits[si];
            const batch *b = sc->n == 5 ? &whole[0] : &whole[1];
            clpool_split *split = make_split(r, sc, &op, &b->in);
            clpool_tensor_desc out;
            ck_assert_int_eq(clpool_split_output_desc(split, &out), CLPOOL_SUCCESS);
            ck_assert(memcmp(&out, &b->out, sizeof out) == 0);
            for (int how = 0; how < 3; how++) {
                if (how == 2 && !r->shared)
                    continue;
                static const char *const names[] = {"host arrays", "per-part buffers",
                                                    "one shared buffer set"};
                char label[256];
                describe_split(label, sizeof label, c, sc, names[how]);
                float *y = NULL;
                void *idx = NULL;
                batch_poisoned(b, &y, &idx);
                size_t guards = 0;
                clpool_status st =
                    how == 0 ? run_split_host(split, NULL, b, y, idx)
                    : how == 1
                        ? run_split_parts(r, split, sc->device, sc->parts, b, y, idx, &guards)
                        : run_split_whole(r, split, sc->device, sc->parts, b, y, idx, &guards);
                ck_assert_msg(st == CLPOOL_SUCCESS, "%s: %s (%s)", label, clpool_status_string(st),
                              r->log.last);
                size_t bad = batch_diff(b, y, idx, label);
                ck_assert_msg(bad == 0, "%s: %zu elements differ from one device", label, bad);
                ck_assert_msg(guards == 0, "%s: %zu guard elements changed", label, guards);
                free(y);
                free(idx);
                runs++;
            }
            clpool_split_destroy(split);
        }
        batch_free(&whole[0]);
        batch_free(&whole[1]);
    }
    ck_assert_int_eq(r->log.errors, 0);
    printf("multidev: %zu split runs bit-identical to one device\n", runs);
}

START_TEST(test_separate_contexts)
{
    rig r;
    rig_open(&r, 0);
    check_every_split(&r);
    rig_close(&r);
}
END_TEST

START_TEST(test_shared_context)
{
    rig r;
    rig_open(&r, 1);
    check_every_split(&r);
    rig_close(&r);
}
END_TEST

/* ---- the generator's plane offset --------------------------------------- */

/* A stochastic plan of samples [2, 5) with first_sample = 2 equals those
 * samples of the whole batch's plan; with first_sample = 0 it draws anew
 * (so the check can fail). */
START_TEST(test_first_sample)
{
    rig r;
    rig_open(&r, 0);
    const op_case *c = &cases[3];
    clpool_window_desc op = case_op(c);
    clpool_tensor_desc in = case_input(c, 5), sub = case_input(c, 3);
    batch b;
    batch_make(&b, &r, &op, &in, 7);
    size_t in_per = b.in_elems / 5, out_per = b.out_elems / 5;
    size_t same[2] = {0, 0};
    for (size_t first = 0; first <= 2; first += 2) {
        clpool_window_desc part = op;
        part.first_sample = first;
        clpool_plan *plan = NULL;
        ck_assert_int_eq(clpool_plan_window(r.pool[1], &part, &sub, &plan), CLPOOL_SUCCESS);
        float *y = malloc(3 * out_per * sizeof *y);
        int64_t *idx = malloc(3 * out_per * sizeof *idx);
        ck_assert(y && idx);
        poison_floats(y, 3 * out_per);
        ck_assert_int_eq(clpool_run_host(plan, r.queue[1], b.x + 2 * in_per, y, idx),
                         CLPOOL_SUCCESS);
        for (size_t i = 0; i < 3 * out_per; i++)
            same[first / 2] += idx[i] == ((int64_t *)b.idx_ref)[2 * out_per + i];
        clpool_plan_destroy(plan);
        free(y);
        free(idx);
    }
    ck_assert_msg(same[1] == 3 * out_per, "first_sample = 2: %zu of %zu indices match", same[1],
                  3 * out_per);
    ck_assert_msg(same[0] < 3 * out_per, "first_sample = 0 drew the same as sample 2 onwards");

    /* (first_sample + N) * C must fit in 64 bits. */
    clpool_window_desc huge = op;
    huge.first_sample = SIZE_MAX / 2;
    clpool_plan *plan = (clpool_plan *)(uintptr_t)0x5eed;
    r.log.errors = 0;
    ck_assert_int_eq(clpool_plan_window(r.pool[0], &huge, &sub, &plan),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert(plan == (clpool_plan *)(uintptr_t)0x5eed);
    ck_assert_int_eq(r.log.errors, 1);
    ck_assert_msg(strstr(r.log.last, "first_sample"), "message: %s", r.log.last);
    batch_free(&b);
    rig_close(&r);
}
END_TEST

/* clpool_split_set_seed changes every part as clpool_plan_set_seed changes
 * the whole plan. */
START_TEST(test_split_seed)
{
    rig r;
    rig_open(&r, 1);
    const op_case *c = &cases[4];
    clpool_window_desc op = case_op(c);
    op.seed = 99;
    clpool_tensor_desc in = case_input(c, 5);
    batch b;
    batch_make(&b, &r, &op, &in, 3);
    clpool_window_desc first_seed = op;
    first_seed.seed = 1;
    clpool_split *split = make_split(&r, &splits[0], &first_seed, &in);
    float *y = NULL;
    void *idx = NULL;
    batch_poisoned(&b, &y, &idx);
    ck_assert_int_eq(run_split_host(split, NULL, &b, y, idx), CLPOOL_SUCCESS);
    ck_assert_msg(batch_diff(&b, y, idx, NULL) > 0, "seeds 1 and 99 drew alike");
    ck_assert_int_eq(clpool_split_set_seed(split, 99), CLPOOL_SUCCESS);
    free(y);
    free(idx);
    batch_poisoned(&b, &y, &idx);
    ck_assert_int_eq(run_split_host(split, NULL, &b, y, idx), CLPOOL_SUCCESS);
    ck_assert_int_eq(batch_diff(&b, y, idx, "after clpool_split_set_seed(99)"), 0);
    free(y);
    free(idx);
    clpool_split_destroy(split);

    /* Operators without a generator refuse, and nothing changes. */
    clpool_window_desc max = case_op(&cases[0]);
    clpool_tensor_desc in_max = case_input(&cases[0], 5);
    split = make_split(&r, &splits[0], &max, &in_max);
    r.log.errors = 0;
    ck_assert_int_eq(clpool_split_set_seed(split, 5), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(r.log.errors, 1);
    clpool_split_destroy(split);
    batch_free(&b);
    rig_close(&r);
}
END_TEST

/* ---- dividing by weights ------------------------------------------------- */

static void expect_counts(size_t n, const double *w, size_t parts, const size_t *want)
{
    size_t got[8];
    ck_assert_int_eq(clpool_split_counts(n, w, parts, got), CLPOOL_SUCCESS);
    size_t sum = 0;
    for (size_t i = 0; i < parts; i++) {
        ck_assert_msg(got[i] == want[i], "n=%zu: part %zu got %zu, want %zu", n, i, got[i],
                      want[i]);
        sum += got[i];
    }
    ck_assert_uint_eq(sum, n);
}

START_TEST(test_counts)
{
    expect_counts(10, (const double[]){1, 1, 1}, 3, (const size_t[]){4, 3, 3});
    expect_counts(1, (const double[]){2, 1}, 2, (const size_t[]){1, 0});
    expect_counts(1, (const double[]){1, 2}, 2, (const size_t[]){0, 1});
    expect_counts(5, (const double[]){0, 1}, 2, (const size_t[]){0, 5});
    expect_counts(0, (const double[]){1, 0, 3}, 3, (const size_t[]){0, 0, 0});
    expect_counts(7, (const double[]){2, 0, 1, 0}, 4, (const size_t[]){5, 0, 2, 0});
    expect_counts(64, (const double[]){16, 8}, 2, (const size_t[]){43, 21});
    expect_counts(SIZE_MAX, (const double[]){1, 1}, 2,
                  (const size_t[]){SIZE_MAX / 2 + 1, SIZE_MAX / 2});
    /* Invalid weights: one sentence, counts untouched. */
    const double bad[][2] = {{-1, 1}, {0, 0}, {1, INFINITY}, {NAN, 1}, {DBL_MAX, DBL_MAX}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t counts[2] = {77, 77};
        ck_assert_int_eq(clpool_split_counts(4, bad[i], 2, counts), CLPOOL_ERROR_INVALID_ARGUMENT);
        ck_assert(counts[0] == 77 && counts[1] == 77);
    }
    size_t counts[2];
    ck_assert_int_eq(clpool_split_counts(4, NULL, 2, counts), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_split_counts(4, (const double[]){1}, 0, counts),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_split_counts(4, (const double[]){1}, 1, NULL),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* ---- invalid parts ------------------------------------------------------- */

/* Exactly one error sentence since the last reset, containing @p word. */
static void expect_one(rig *r, const char *what, const char *word)
{
    ck_assert_msg(r->log.errors == 1, "%s: %d error messages, want 1 (last: %s)", what,
                  r->log.errors, r->log.last);
    ck_assert_msg(!word || strstr(r->log.last, word), "%s: \"%s\" does not mention \"%s\"", what,
                  r->log.last, word);
    r->log.errors = 0;
}

#define SENTINEL_SPLIT ((clpool_split *)(uintptr_t)0x5eed)
#define SENTINEL_EVENT ((cl_event)(uintptr_t)0x5eed)

static void check_invalid_plans(rig *r, const clpool_window_desc *op, const clpool_tensor_desc *in)
{
    clpool_split *split = SENTINEL_SPLIT;
    clpool_split_part parts[2] = {{r->pool[0], 2}, {r->pool[1], 3}};
    r->log.errors = 0;
    /* Without parts there is no context to log to: these go to stderr. */
    ck_assert_int_eq(clpool_split_window(NULL, 2, op, in, &split), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clpool_split_window(parts, 0, op, in, &split), CLPOOL_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(r->log.errors, 0);
    ck_assert_int_eq(clpool_split_window(parts, 2, NULL, in, &split),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "op NULL", "op");
    parts[1].n = 2;
    ck_assert_int_eq(clpool_split_window(parts, 2, op, in, &split), CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "counts 2+2 for N=5", "N = 5");
    parts[1].n = 3;
    parts[1].context = NULL;
    ck_assert_int_eq(clpool_split_window(parts, 2, op, in, &split), CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "part 1 without context", "part 1");
    parts[1].context = r->pool[1];
    clpool_window_desc bad_op = *op;
    bad_op.kernel[1] = 0;
    ck_assert_int_eq(clpool_split_window(parts, 2, &bad_op, in, &split),
                     CLPOOL_ERROR_INVALID_KERNEL);
    expect_one(r, "kernel 0", "kernel[1]");
    clpool_window_desc far = *op;
    far.first_sample = SIZE_MAX - 2;
    ck_assert_int_eq(clpool_split_window(parts, 2, &far, in, &split),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "first_sample + N overflows", "first_sample");
    ck_assert(split == SENTINEL_SPLIT);
}

/* Every invalid enqueue leaves every output poisoned, including the parts
 * that were valid, and returns no event. */
static void check_invalid_enqueues(rig *r, clpool_split *split, const clpool_tensor_desc *in)
{
    const size_t in_per = clpool_tensor_elements(in) / in->n;
    clpool_tensor_desc out;
    clpool_split_output_desc(split, &out);
    const size_t out_per = clpool_tensor_elements(&out) / out.n;
    cl_int err = CL_SUCCESS;
    cl_mem ins[2], outs[2], idxs[2];
    clpool_io ios[2];
    size_t n[2] = {2, 3};
    float poison;
    poison_floats(&poison, 1);
    for (int i = 0; i < 2; i++) {
        ins[i] = clCreateBuffer(r->cl_ctx[i], CL_MEM_READ_WRITE, n[i] * in_per * 4, NULL, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        outs[i] = clCreateBuffer(r->cl_ctx[i], CL_MEM_READ_WRITE, n[i] * out_per * 4, NULL, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        idxs[i] = clCreateBuffer(r->cl_ctx[i], CL_MEM_READ_WRITE, n[i] * out_per * 8, NULL, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        ck_assert_int_eq(clEnqueueFillBuffer(r->queue[i], outs[i], &poison, 4, 0,
                                             n[i] * out_per * 4, 0, NULL, NULL),
                         CL_SUCCESS);
        ck_assert_int_eq(clFinish(r->queue[i]), CL_SUCCESS);
        memset(&ios[i], 0, sizeof ios[i]);
        ios[i].input = (clpool_buffer){ins[i], 0};
        ios[i].output = (clpool_buffer){outs[i], 0};
        ios[i].indices = (clpool_buffer){idxs[i], 0};
    }
    cl_command_queue queues[2] = {r->queue[0], r->queue[1]};
    cl_event events[2] = {SENTINEL_EVENT, SENTINEL_EVENT};
    r->log.errors = 0;

    ck_assert_int_eq(clpool_split_enqueue(split, queues, ios, 3, 0, NULL, events),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "io_count 3", "io_count");
    cl_command_queue no_queue[2] = {r->queue[0], NULL};
    ck_assert_int_eq(clpool_split_enqueue(split, no_queue, ios, 2, 0, NULL, events),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "queue 1 NULL", "part 1");
    cl_command_queue swapped[2] = {r->queue[1], r->queue[0]};
    ck_assert_int_eq(clpool_split_enqueue(split, swapped, ios, 2, 0, NULL, events),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "queues swapped", "part 0");
    /* Part 1's output buffer too small: part 0, valid, must not run either. */
    clpool_io short_io[2] = {ios[0], ios[1]};
    short_io[1].output.offset = 1;
    ck_assert_int_eq(clpool_split_enqueue(split, queues, short_io, 2, 0, NULL, events),
                     CLPOOL_ERROR_INVALID_BUFFER);
    expect_one(r, "part 1 output too small", "part 1");
    short_io[1].indices.mem = NULL;
    short_io[1].output.offset = 0;
    ck_assert_int_eq(clpool_split_enqueue(split, queues, short_io, 2, 0, NULL, events),
                     CLPOOL_ERROR_INVALID_BUFFER);
    expect_one(r, "part 1 indices NULL", "indices");
    if (!r->shared) {
        /* One buffer set for parts of separate contexts. */
        ck_assert_int_eq(clpool_split_enqueue(split, queues, ios, 1, 0, NULL, events),
                         CLPOOL_ERROR_INVALID_BUFFER);
        expect_one(r, "one buffer set, separate contexts", "another cl_context");
        /* A wait list event of device 0's context for part 1. */
        cl_event user = clCreateUserEvent(r->cl_ctx[0], &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        ck_assert_int_eq(clpool_split_enqueue(split, queues, ios, 2, 1, &user, events),
                         CLPOOL_ERROR_INVALID_ARGUMENT);
        expect_one(r, "foreign wait list", "part 1");
        clSetUserEventStatus(user, CL_COMPLETE);
        clReleaseEvent(user);
    } else {
        /* One buffer set too small for the last part. */
        clpool_io whole = ios[1]; /* 3 samples: part 1 (samples 2..4) runs past it */
        ck_assert_int_eq(clpool_split_enqueue(split, queues, &whole, 1, 0, NULL, events),
                         CLPOOL_ERROR_INVALID_BUFFER);
        expect_one(r, "whole batch buffer too small", "part 1");
    }
    ck_assert(events[0] == SENTINEL_EVENT && events[1] == SENTINEL_EVENT);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(clFinish(r->queue[i]), CL_SUCCESS);
        size_t count = n[i] * out_per;
        float *y = malloc(count * 4);
        ck_assert(y != NULL);
        ck_assert_int_eq(
            clEnqueueReadBuffer(r->queue[i], outs[i], CL_TRUE, 0, count * 4, y, 0, NULL, NULL),
            CL_SUCCESS);
        for (size_t e = 0; e < count; e++)
            ck_assert_msg(memcmp(&y[e], &poison, 4) == 0, "part %d output %zu was written", i, e);
        free(y);
        clReleaseMemObject(ins[i]);
        clReleaseMemObject(outs[i]);
        clReleaseMemObject(idxs[i]);
    }
}

static void check_invalid_host_runs(rig *r, clpool_split *split, const batch *b)
{
    float *y = NULL;
    void *idx = NULL;
    batch_poisoned(b, &y, &idx);
    r->log.errors = 0;
    ck_assert_int_eq(clpool_split_run_host(split, NULL, b->x, y, NULL),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "host indices NULL", "indices");
    cl_command_queue no_queue[2] = {r->queue[0], NULL};
    ck_assert_int_eq(clpool_split_run_host(split, no_queue, b->x, y, idx),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "host queue 1 NULL", "queues[1]");
    cl_command_queue swapped[2] = {r->queue[1], r->queue[0]};
    ck_assert_int_eq(clpool_split_run_host(split, swapped, b->x, y, idx),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "host queues swapped", "part 0");
    float *fresh = NULL;
    void *fresh_idx = NULL;
    batch_poisoned(b, &fresh, &fresh_idx);
    ck_assert(memcmp(y, fresh, b->out_elems * 4) == 0);
    ck_assert(memcmp(idx, fresh_idx, b->out_elems * b->idx_size) == 0);
    free(fresh);
    free(fresh_idx);
    free(y);
    free(idx);

    size_t first = 9, count = 9;
    ck_assert_int_eq(clpool_split_part_info(split, 2, &first, &count, NULL),
                     CLPOOL_ERROR_INVALID_ARGUMENT);
    expect_one(r, "part 2 of 2", "2 parts");
    ck_assert(first == 9 && count == 9);
    ck_assert_int_eq(clpool_split_part_info(split, 1, &first, &count, NULL), CLPOOL_SUCCESS);
    ck_assert(first == 2 && count == 3);
}

static void check_invalid(int shared)
{
    rig r;
    rig_open(&r, shared);
    const op_case *c = &cases[0];
    clpool_window_desc op = case_op(c);
    clpool_tensor_desc in = case_input(c, 5);
    check_invalid_plans(&r, &op, &in);
    batch b;
    batch_make(&b, &r, &op, &in, 11);
    clpool_split *split = make_split(&r, &splits[0], &op, &in);
    check_invalid_enqueues(&r, split, &in);
    check_invalid_host_runs(&r, split, &b);
    /* After every refusal the split still runs correctly. */
    float *y = NULL;
    void *idx = NULL;
    batch_poisoned(&b, &y, &idx);
    ck_assert_int_eq(run_split_host(split, NULL, &b, y, idx), CLPOOL_SUCCESS);
    ck_assert_int_eq(batch_diff(&b, y, idx, "after the refusals"), 0);
    free(y);
    free(idx);
    clpool_split_destroy(split);
    clpool_split_destroy(NULL);
    batch_free(&b);
    rig_close(&r);
}

START_TEST(test_invalid_separate)
{
    check_invalid(0);
}
END_TEST

START_TEST(test_invalid_shared)
{
    check_invalid(1);
}
END_TEST

/* An empty batch split in two: markers only, every event completes. */
START_TEST(test_empty_batch)
{
    rig r;
    rig_open(&r, 1);
    clpool_window_desc op = case_op(&cases[3]);
    clpool_tensor_desc in = case_input(&cases[3], 0);
    split_case sc = {0, 2, {0, 0}, {0, 1}};
    clpool_split *split = make_split(&r, &sc, &op, &in);
    ck_assert_int_eq(clpool_split_run_host(split, NULL, NULL, NULL, NULL), CLPOOL_SUCCESS);
    clpool_io io;
    memset(&io, 0, sizeof io);
    cl_event events[2];
    ck_assert_int_eq(clpool_split_enqueue(split, r.queue, &io, 1, 0, NULL, events), CLPOOL_SUCCESS);
    ck_assert_int_eq(clWaitForEvents(2, events), CL_SUCCESS);
    clReleaseEvent(events[0]);
    clReleaseEvent(events[1]);
    ck_assert_int_eq(r.log.errors, 0);
    clpool_split_destroy(split);
    rig_close(&r);
}
END_TEST

static Suite *multidev_suite(void)
{
    Suite *s = suite_create("multidev");
    TCase *tc = tcase_create("counts");
    tcase_add_test(tc, test_counts);
    suite_add_tcase(s, tc);
    tc = tcase_create("splits");
    tcase_set_timeout(tc, 600); /* cold program builds on two devices */
    tcase_add_test(tc, test_separate_contexts);
    tcase_add_test(tc, test_shared_context);
    tcase_add_test(tc, test_first_sample);
    tcase_add_test(tc, test_split_seed);
    tcase_add_test(tc, test_empty_batch);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_invalid_separate);
    tcase_add_test(tc, test_invalid_shared);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(multidev_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
