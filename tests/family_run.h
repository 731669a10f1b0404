/*
 * Typed cases for the window family tests: an input of any dtype and layout
 * filled from a value pattern together with its NCHW double copy (what the
 * reference reads), its reference result, runs of a plan through
 * clpool_run_host() or clpool_enqueue() with poisoned outputs, and the
 * element-by-element comparison that prints every failing element with the
 * full case.
 */
#ifndef CLPOOL_TESTS_FAMILY_RUN_H
#define CLPOOL_TESTS_FAMILY_RUN_H

#include "clpool.h"
#include "harness.h"
#include "reference.h"

#include <stddef.h>
#include <stdint.h>

/* Value patterns (integer dtypes use their own range, see family_fill). */
typedef enum family_values {
    FV_TIES = 0, /* small integers in [-3, 3] ([0, 3] for uint8): many ties */
    FV_UNIFORM =
        1, /* uniform in [-10, 10] plus an offset 0, 3 or 100; the full range for integers */
    FV_SPECIAL = 2,  /* small integers with NaN, +-inf and -0 injected; extremes for integers */
    FV_NEG_INF = 3,  /* mostly -inf (the minimum for integers) */
    FV_POSITIVE = 4, /* uniform in [0.25, 8.25], sometimes plus 100 */
    FV_SPARSE = 5,   /* mostly 0, some negative, some positive (stochastic weights) */
    FV_COUNT = 6
} family_values;
const char *family_values_name(family_values mode);

/* One case: input tensor, its storage and values, the reference output. */
typedef struct family_case {
    clpool_window_desc op;
    clpool_tensor_desc in, out;
    size_t in_elems, out_elems;
    void *x;        /* the input in its dtype and layout */
    double *x_nchw; /* the same values as doubles, NCHW */
    ref_elem *ref;  /* NCHW order */
    family_values mode;
} family_case;

/* Fills @p c->x and @p c->x_nchw for c->in (allocated here) from @p mode. */
void family_fill(test_rng *r, family_case *c, family_values mode);
/* Allocates c->x and c->x_nchw for c->in without values. */
void family_alloc_input(family_case *c);
/* Sets element (plane, s) of the input to @p v rounded to the dtype. */
void family_put(family_case *c, size_t plane, size_t s, double v);
/* Computes c->out and c->ref (ref_window_check must accept the case);
 * @p uniform as for ref_family_run. Returns 0, or the check's status. */
clpool_status family_reference(family_case *c, ref_uniform_fn uniform);
void family_case_free(family_case *c);

/* The output (and indices) of one run. */
typedef struct family_result {
    void *y;
    void *idx;
} family_result;

/*
 * Plans @p c->op for @p c->in in @p ctx and runs it once: through
 * clpool_run_host() or (use_enqueue) through clpool_enqueue() on guarded
 * caller buffers at offsets drawn from @p r. The output is poisoned first
 * with @p poison_variant (integer dtypes need both variants over two runs to
 * catch unwritten elements). Allocates res. On any failure prints
 * "<label> <case>: <what>: <status>" and returns the status; guard damage
 * and a wrong output shape are failures too (CLPOOL_ERROR_INVALID_BUFFER,
 * CLPOOL_ERROR_INVALID_SHAPE).
 */
clpool_status family_run(clpool_context *ctx, const family_case *c, int use_enqueue,
                         int poison_variant, test_rng *r, family_result *res, const char *label);
/* The same with a plan already made (for plans reused across runs). */
clpool_status family_run_plan(clpool_context *ctx, clpool_plan *plan, const family_case *c,
                              int use_enqueue, int poison_variant, test_rng *r, family_result *res,
                              const char *label);
void family_result_free(family_result *res);

/* Compares a result with c->ref (ref_accepts for values, indices exactly
 * when the op returns them). Prints each failing element as "<label> <case>
 * at (n,c,pos...): got ..., want ..." while *budget lasts. Returns the count. */
size_t family_compare(const family_case *c, const family_result *res, const char *label,
                      int *budget);
/* Bitwise equality of two results of the same case; prints like above. */
size_t family_compare_bitwise(const family_case *c, const family_result *a, const family_result *b,
                              const char *label, int *budget);

/* Flat index of the stored element for NCHW element @p e of @p t. */
size_t family_storage_index(const clpool_tensor_desc *t, size_t e);

/* The flat in-plane indices of the real cells of NCHW output element @p e's
 * window, in scan order, into @p q (room for prod(kernel)); returns the count. */
size_t family_window_cells(const family_case *c, size_t e, int64_t *q);

#endif /* CLPOOL_TESTS_FAMILY_RUN_H */
