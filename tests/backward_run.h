/*
 * Gradient cases for the backward tests: a forward case (input of any dtype
 * and layout, its reference forward with the selected indices) plus an
 * output gradient, the forward's indices as the library would read them
 * (optionally damaged: -1 and stray indices), the reference gradient, runs
 * of a gradient plan through clpool_run_host_io() or clpool_enqueue() on
 * guarded caller buffers with a poisoned grad_input, and the
 * element-by-element comparison.
 */
#ifndef CLPOOL_TESTS_BACKWARD_RUN_H
#define CLPOOL_TESTS_BACKWARD_RUN_H

#include "family_run.h"
#include "reference_backward.h"

typedef struct bw_case {
    family_case f;  /* op, input, forward reference (f.ref[].idx) */
    void *gy;       /* output gradient in the output's dtype and layout */
    double *gy64;   /* the same values, NCHW */
    void *idx;      /* the indices the plan reads (op.indices), output layout */
    int64_t *sel;   /* the selections the reference uses (NCHW), or NULL */
    ref_grad *gref; /* the reference gradient, NCHW */
} bw_case;

/*
 * Builds a case for @p op over @p in (ref_window_check must accept it):
 * input values of @p mode, gradients uniform in [-2, 2] (or small integers
 * when @p integer_grads), and, when op->indices asks, the forward's indices
 * with a few replaced by -1 or a random in-plane index when @p damage.
 * Returns 0, or the reference check's status.
 */
clpool_status bw_build(test_rng *r, bw_case *c, const clpool_window_desc *op,
                       const clpool_tensor_desc *in, family_values mode, int integer_grads,
                       int damage);
void bw_free(bw_case *c);

/* Runs @p plan on the case; @p gx (input elements of the dtype) receives
 * grad_input, poisoned first. use_enqueue: guarded caller buffers at offsets
 * drawn from @p r (guard damage fails). Prints the failure with @p label. */
clpool_status bw_run_plan(clpool_context *ctx, clpool_plan *plan, const bw_case *c, int use_enqueue,
                          test_rng *r, void *gx, const char *label);
/* Plans, runs and destroys. */
clpool_status bw_run(clpool_context *ctx, const bw_case *c, int use_enqueue, test_rng *r, void *gx,
                     const char *label);
/* A poisoned grad_input array for the case (free()). */
void *bw_alloc_grad(const bw_case *c);

/* Compares @p gx with the reference; prints failing elements while *budget
 * lasts; returns the count. */
size_t bw_compare(const bw_case *c, const void *gx, const char *label, int *budget);
/* Bitwise equality of two gradients of the same case. */
size_t bw_compare_bitwise(const bw_case *c, const void *a, const void *b, const char *label,
                          int *budget);

#endif /* CLPOOL_TESTS_BACKWARD_RUN_H */
