/*
 * Suite "threads": one clpool_context shared by several threads. Each thread
 * plans and runs every layer of a small network on its own command queue
 * (through clpool_enqueue on caller buffers and through clpool_run_host);
 * every result must equal, bit for bit, what one thread computed alone, and
 * the context's memory cache must build each program exactly once although
 * the threads ask for the same programs at the same moment.
 *
 * Worker threads never call ck_assert (Check cannot fail a test from another
 * thread): they count problems, print each one, and the test thread asserts.
 */
#include "harness.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define ROUNDS 2

/* ------------------------------------------------------------------------ */
/* The layers                                                               */

typedef struct layer {
    clpool_window_desc op;
    clpool_tensor_desc in;
} layer;

/* Max (with and without indices) and avg layers, 1-D to 3-D; layers 0 and 1
 * and layers 3 and 4 share an operator (one program each, two shapes). */
static size_t layers(layer *out)
{
    size_t n = 0;
    layer l;

    memset(&l, 0, sizeof l);
    l.op.op = CLPOOL_OP_MAX;
    l.op.kernel[0] = l.op.kernel[1] = 3;
    l.op.stride[0] = l.op.stride[1] = 2;
    l.op.padding[0] = l.op.padding[1] = 1;
    l.op.indices = CLPOOL_INDICES_INT64;
    l.in = tensor(2, 2, 8, 33, 29, 0);
    out[n++] = l;
    l.in = tensor(2, 1, 3, 64, 64, 0);
    out[n++] = l;

    memset(&l, 0, sizeof l);
    l.op.op = CLPOOL_OP_MAX;
    l.op.kernel[0] = l.op.kernel[1] = 2;
    l.op.dilation[0] = l.op.dilation[1] = 2;
    l.op.ceil_mode = 1;
    l.in = tensor(2, 3, 4, 17, 18, 0);
    out[n++] = l;

    memset(&l, 0, sizeof l);
    l.op.op = CLPOOL_OP_AVG;
    l.op.kernel[0] = l.op.kernel[1] = 3;
    l.op.stride[0] = l.op.stride[1] = 1;
    l.op.padding[0] = l.op.padding[1] = 1;
    l.op.exclude_padding = 1;
    l.in = tensor(2, 2, 6, 28, 28, 0);
    out[n++] = l;
    l.in = tensor(2, 1, 16, 14, 14, 0);
    out[n++] = l;

    memset(&l, 0, sizeof l);
    l.op.op = CLPOOL_OP_AVG;
    l.op.kernel[0] = l.op.kernel[1] = 7;
    l.in = tensor(2, 4, 32, 7, 7, 0); /* global: the whole plane */
    out[n++] = l;

    memset(&l, 0, sizeof l);
    l.op.op = CLPOOL_OP_MAX;
    l.op.kernel[0] = 5;
    l.op.stride[0] = 3;
    l.op.padding[0] = 2;
    l.op.indices = CLPOOL_INDICES_INT32;
    l.in = tensor(1, 3, 5, 100, 0, 0);
    out[n++] = l;

    memset(&l, 0, sizeof l);
    l.op.op = CLPOOL_OP_AVG;
    l.op.kernel[0] = l.op.kernel[1] = l.op.kernel[2] = 2;
    l.op.divisor_override = 3;
    l.in = tensor(3, 1, 4, 6, 9, 8);
    out[n++] = l;
    return n;
}
#define MAX_LAYERS 16

/* One layer's input, reference and the single-thread result. */
typedef struct layer_data {
    layer l;
    size_t in_elems;
    float *x;
    window_ref ref;
    float *y;  /* single-thread result */
    void *idx; /* its indices, or NULL */
} layer_data;

static layer_data data[MAX_LAYERS];
static size_t layer_count;

static void prepare_layers(void)
{
    layer ls[MAX_LAYERS];
    layer_count = layers(ls);
    for (size_t i = 0; i < layer_count; i++) {
        layer_data *d = &data[i];
        memset(d, 0, sizeof *d);
        d->l = ls[i];
        d->in_elems = clpool_tensor_elements(&d->l.in);
        d->x = malloc(d->in_elems * sizeof *d->x);
        ck_assert_ptr_nonnull(d->x);
        test_rng r = {0x7ead0000u + i};
        fill_values(&r, d->x, d->in_elems, i % 2 ? VALUES_SPECIAL : VALUES_UNIFORM);
        ck_assert_int_eq(window_ref_compute(&d->ref, &d->l.op, &d->l.in, d->x), 0);
        d->y = malloc(d->ref.out_elems * sizeof *d->y);
        ck_assert_ptr_nonnull(d->y);
        if (d->l.op.indices) {
            d->idx = malloc(d->ref.out_elems * index_size(d->l.op.indices));
            ck_assert_ptr_nonnull(d->idx);
        }
    }
}

static void free_layers(void)
{
    for (size_t i = 0; i < layer_count; i++) {
        window_ref_free(&data[i].ref);
        free(data[i].x);
        free(data[i].y);
        free(data[i].idx);
    }
    layer_count = 0;
}

static clpool_context *memory_only_context(void)
{
    clpool_context_options o;
    memset(&o, 0, sizeof o);
    o.disable_disk_cache = 1; /* every miss is a build: the count is exact */
    clpool_context *ctx = NULL;
    clpool_status st = clpool_context_create(&o, &ctx);
    ck_assert_msg(st == CLPOOL_SUCCESS, "clpool_context_create: %s", clpool_status_string(st));
    return ctx;
}

static clpool_cache_stats stats_of(const clpool_context *ctx)
{
    clpool_cache_stats s;
    ck_assert_int_eq(clpool_context_cache_stats(ctx, &s), CLPOOL_SUCCESS);
    return s;
}

/* ------------------------------------------------------------------------ */
/* One layer on one queue                                                   */

/* Plans layer @p d in @p ctx and runs it on @p queue: through clpool_enqueue
 * on guarded caller buffers at offsets when @p host is 0, else through
 * clpool_run_host. Writes the result to @p y and @p idx (poisoned first).
 * Returns a description of the first failure, or NULL. */
static const char *run_layer(clpool_context *ctx, cl_command_queue queue, const layer_data *d,
                             int host, float *y, void *idx, clpool_status *status)
{
    clpool_plan *plan = NULL;
    const char *why = NULL;
    poison_floats(y, d->ref.out_elems);
    if (idx)
        poison_indices(idx, d->l.op.indices, d->ref.out_elems);
    *status = clpool_plan_window(ctx, &d->l.op, &d->l.in, &plan);
    if (*status != CLPOOL_SUCCESS)
        return "clpool_plan_window";
    if (host) {
        *status = clpool_run_host(plan, queue, d->x, y, idx);
        if (*status != CLPOOL_SUCCESS)
            why = "clpool_run_host";
    } else {
        size_t offsets[3] = {3, 5, 7}, guard_errors = 0;
        *status = run_enqueue(plan, clpool_context_cl_context(ctx), queue, d->x, d->in_elems, y,
                              d->ref.out_elems, idx, d->l.op.indices, offsets, &guard_errors);
        if (*status != CLPOOL_SUCCESS)
            why = "clpool_enqueue";
        else if (guard_errors)
            why = "a write outside the output or indices";
    }
    clpool_plan_destroy(plan);
    return why;
}

/* ------------------------------------------------------------------------ */
/* Workers                                                                  */

typedef struct worker {
    int id;
    clpool_context *ctx;
    pthread_barrier_t *start;
    size_t plans;    /* plans made */
    size_t problems; /* failed calls plus elements differing from one thread */
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    cl_int err = CL_SUCCESS;
    cl_command_queue queue = clCreateCommandQueue(clpool_context_cl_context(w->ctx),
                                                  clpool_context_cl_device(w->ctx), 0, &err);
    pthread_barrier_wait(w->start); /* every thread plans its first layer at once */
    if (err != CL_SUCCESS) {
        fprintf(stderr, "thread %d: clCreateCommandQueue failed (%d)\n", w->id, (int)err);
        w->problems++;
        return NULL;
    }
    float *y = malloc(sizeof(float) << 16);
    void *idx = malloc(sizeof(int64_t) << 16);
    int budget = 10;
    for (int round = 0; round < ROUNDS && y && idx; round++) {
        for (size_t k = 0; k < layer_count; k++) {
            /* Even threads walk the layers forwards, odd ones backwards: the
             * first plans collide on one program, later ones interleave. */
            size_t i = w->id % 2 ? layer_count - 1 - k : k;
            const layer_data *d = &data[i];
            void *widx = d->idx ? idx : NULL;
            clpool_status st = CLPOOL_SUCCESS;
            const char *why = run_layer(w->ctx, queue, d, (round + w->id) % 2, y, widx, &st);
            w->plans++;
            if (why) {
                fprintf(stderr, "thread %d layer %zu round %d: %s failed: %s\n", w->id, i, round,
                        why, clpool_status_string(st));
                w->problems++;
                continue;
            }
            char label[64];
            snprintf(label, sizeof label, "thread %d round %d", w->id, round);
            w->problems += window_compare_bitwise(&d->ref, &d->l.op, &d->l.in, d->y, d->idx, y,
                                                  widx, label, &budget);
        }
    }
    if (!y || !idx)
        w->problems++;
    free(y);
    free(idx);
    clReleaseCommandQueue(queue);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

START_TEST(test_shared_context)
{
    prepare_layers();
    for (size_t i = 0; i < layer_count; i++)
        ck_assert_uint_le(data[i].ref.out_elems, (size_t)1 << 16); /* the workers' arrays */

    /* One thread: the results every thread must reproduce, checked against
     * the reference, and the number of programs the layers need. */
    clpool_context *alone = memory_only_context();
    cl_command_queue q = clpool_context_cl_queue(alone);
    for (size_t i = 0; i < layer_count; i++) {
        layer_data *d = &data[i];
        clpool_status st = CLPOOL_SUCCESS;
        const char *why = run_layer(alone, q, d, 0, d->y, d->idx, &st);
        ck_assert_msg(why == NULL, "layer %zu alone: %s: %s", i, why ? why : "",
                      clpool_status_string(st));
        int budget = 10;
        ck_assert_uint_eq(
            window_compare(&d->ref, &d->l.op, &d->l.in, d->y, d->idx, "one thread", &budget), 0);
    }
    clpool_cache_stats one = stats_of(alone);
    clpool_context_destroy(alone);
    ck_assert_uint_ge(one.builds, 1);
    ck_assert_uint_lt(one.builds, layer_count); /* some layers share a program */
    ck_assert_uint_eq(one.builds + one.memory_hits, layer_count);

    /* THREADS threads on a fresh context, starting together. */
    clpool_context *shared = memory_only_context();
    pthread_barrier_t start;
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, THREADS), 0);
    worker w[THREADS];
    pthread_t tid[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker){.id = t, .ctx = shared, .start = &start};
        ck_assert_int_eq(pthread_create(&tid[t], NULL, work, &w[t]), 0);
    }
    size_t plans = 0, problems = 0;
    for (int t = 0; t < THREADS; t++) {
        ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
        plans += w[t].plans;
        problems += w[t].problems;
    }
    pthread_barrier_destroy(&start);
    ck_assert_msg(problems == 0, "%zu problems in %d threads (see above)", problems, THREADS);
    ck_assert_uint_eq(plans, (size_t)THREADS * ROUNDS * layer_count);

    /* Each program built once; every other plan served from memory. */
    clpool_cache_stats s = stats_of(shared);
    printf("threads: %zu plans, builds=%llu memory_hits=%llu (one thread: builds=%llu)\n", plans,
           (unsigned long long)s.builds, (unsigned long long)s.memory_hits,
           (unsigned long long)one.builds);
    ck_assert_uint_eq(s.builds, one.builds);
    ck_assert_uint_eq(s.memory_hits, plans - s.builds);
    ck_assert_uint_eq(s.disk_hits + s.disk_writes + s.disk_rejects, 0);
    clpool_context_destroy(shared);
    free_layers();
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("shared context");
    tcase_set_timeout(tc, 600); /* cold builds, and slow under sanitizers */
    tcase_add_test(tc, test_shared_context);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(threads_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
