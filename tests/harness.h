/*
 * Shared test helpers: a seeded generator, input patterns, output poisoning,
 * the reference result of a case and its element-by-element comparison with
 * a full description of every failing element, and runners that execute a
 * plan through clpool_run_host() or clpool_enqueue() on caller buffers.
 */
#ifndef CLPOOL_TESTS_HARNESS_H
#define CLPOOL_TESTS_HARNESS_H

#include "clpool.h"
#include "reference.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* splitmix64: small, seedable, identical on every platform. */
typedef struct test_rng {
    uint64_t state;
} test_rng;
uint64_t rng_next(test_rng *r);
/* Uniform in [0, n), n > 0. */
uint32_t rng_below(test_rng *r, uint32_t n);
/* Uniform in [lo, hi]. */
int rng_range(test_rng *r, int lo, int hi);

/* Input patterns. */
typedef enum value_mode {
    VALUES_TIES = 0,    /* small integers in [-3, 3]: many ties */
    VALUES_UNIFORM = 1, /* uniform floats in [-10, 10] plus an offset */
    VALUES_SPECIAL = 2, /* small integers with NaN, +-inf, -0.0 injected */
    VALUES_NEG_INF = 3, /* mostly -inf: whole windows of -inf */
    VALUES_COUNT = 4
} value_mode;
void fill_values(test_rng *r, float *x, size_t count, value_mode mode);
const char *value_mode_name(value_mode mode);

/* Poison written over outputs before each run, so an element the library
 * leaves unwritten fails: a NaN with a payload no computation produces, and
 * 0x5a.. indices (never a valid index nor -1). */
#define POISON_F32_BITS 0x7fc0deadu
#define POISON_I64 ((int64_t)0x5a5a5a5a5a5a5a5aLL)
#define POISON_I32 ((int32_t)0x5a5a5a5a)
/* A float32 NCHW tensor with `dims` spatial dimensions s0, s1, s2 (unused ones 0). */
clpool_tensor_desc tensor(int dims, size_t n, size_t c, size_t s0, size_t s1, size_t s2);

void poison_floats(float *y, size_t count);
void poison_indices(void *idx, clpool_index_type type, size_t count);
size_t index_size(clpool_index_type type);

/* "N=1 C=3 H=7 W=5 op=max k=3x2 s=2x1 p=1x0 d=1x1 ceil=1 cip=1 div=0 idx=int64"; other
 * dtypes and layouts add "f16 NHWC" after the shape, other operators their
 * parameter ("p=3", "alpha=0.3", "beta=1", "train=1 seed=0x2a"). */
void describe_case(char *buf, size_t cap, const clpool_window_desc *op,
                   const clpool_tensor_desc *in);

/* The reference result of one case. */
typedef struct window_ref {
    clpool_tensor_desc out;
    size_t out_elems;
    double *y;
    int64_t *idx;
    double *atol;
} window_ref;
/* Computes it for a configuration ref_window_check() accepts; 0 on success. */
int window_ref_compute(window_ref *r, const clpool_window_desc *op, const clpool_tensor_desc *in,
                       const float *x);
void window_ref_free(window_ref *r);

/*
 * Compares a library result with the reference: max values and every index
 * exactly (NaN-aware, and a poisoned NaN is never accepted), avg values within
 * rtol 1e-5 plus the reference's atol (non-finite values must match exactly).
 * @p got_idx may be NULL when the op asked for none. Prints each failing
 * element as "<label> <case> at (n,c,[z,]y,x): got ..., want ..." to stderr,
 * at most *budget lines (decremented). Returns the number of bad elements.
 */
size_t window_compare(const window_ref *r, const clpool_window_desc *op,
                      const clpool_tensor_desc *in, const float *got, const void *got_idx,
                      const char *label, int *budget);

/* Bitwise equality of two results of the same plan; prints like above. */
size_t window_compare_bitwise(const window_ref *r, const clpool_window_desc *op,
                              const clpool_tensor_desc *in, const float *a, const void *a_idx,
                              const float *b, const void *b_idx, const char *label, int *budget);

/*
 * Runs @p plan through clpool_enqueue() on @p queue with caller buffers: the
 * input, output and indices live at the given element offsets of buffers
 * with guard elements on both sides; the output and indices buffers are
 * poisoned first. Waits on the returned event, reads the results into @p y
 * and @p idx, and counts guard elements that changed in *guard_errors.
 * Returns the first failing clpool status, or CLPOOL_ERROR_OPENCL for a
 * failing OpenCL call of the harness itself.
 */
clpool_status run_enqueue(clpool_plan *plan, cl_context cl_ctx, cl_command_queue queue,
                          const float *x, size_t in_elems, float *y, size_t out_elems, void *idx,
                          clpool_index_type idx_type, size_t offsets[3], size_t *guard_errors);

/* The same for any dtype: input and output of @p dtype, the output buffer
 * poisoned with storage_poison(dtype, ..., @p poison_variant). */
clpool_status run_enqueue_typed(clpool_plan *plan, cl_context cl_ctx, cl_command_queue queue,
                                clpool_dtype dtype, const void *x, size_t in_elems, void *y,
                                size_t out_elems, void *idx, clpool_index_type idx_type,
                                int poison_variant, size_t offsets[3], size_t *guard_errors);

#endif /* CLPOOL_TESTS_HARNESS_H */
