/*
 * Plain-C reference for window pooling (spec/semantics.md §0-§3, §5, §10,
 * §11): the geometry and status rules of every operator, max and avg on NCHW
 * float32 input (ref_window_run), and every operator on any dtype
 * (ref_family_run, reference_ops.c) with the band of results a float
 * computation may return. Every sum is accumulated in double. The tests
 * compare the library against it element by element; it shares nothing with
 * the library but the public header's types.
 */
#ifndef CLPOOL_TESTS_REFERENCE_H
#define CLPOOL_TESTS_REFERENCE_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* floor_div(a, b) for b > 0: rounds toward -inf (ATen div_rtn, Python //). */
long ref_floor_div(long a, long b);

/* Output size of one dimension (spec §1.1), including the ceil-mode rule that
 * the last window starts inside the input or the left padding. May be < 1. */
long ref_output_size(long in, long k, long s, long p, long d, int ceil_mode);

/*
 * The window parameters of one dimension with every default resolved
 * (stride 0 -> kernel, dilation 0 -> 1). @p dim counts spatial dims of the
 * descriptor, outermost first.
 */
typedef struct ref_dim {
    long in, k, s, p, d, out;
} ref_dim;

/*
 * The status the library must return for @p op on @p input (spec §0.1, §1.2,
 * the header's docs), and on success the output description. Checks, in
 * order: enums (INVALID_ARGUMENT), rank and zero dims (INVALID_SHAPE),
 * kernel, stride, dilation (also dilation > 1 for avg, lp, gem and mixed),
 * padding against the dilated bound and any padding for lp, indices asked
 * of an operator without them (only max and training stochastic have them:
 * INVALID_ARGUMENT), a divisor given to any operator but avg
 * (INVALID_DIVISOR), the operator's own parameter (lp/gem p finite and
 * non-zero, mixed alpha in [0, 1], softmax beta finite: INVALID_ARGUMENT),
 * output size, then dtypes the operator lacks (UNSUPPORTED: int32 and int64
 * inputs, uint8 and int8 for all but max and avg). float64 is accepted here;
 * whether the device has it is the caller's business.
 */
clpool_status ref_window_check(const clpool_window_desc *op, const clpool_tensor_desc *input,
                               clpool_tensor_desc *output);

/* Resolves the parameters of every spatial dim as a 3-d problem: leading
 * dims that @p input lacks get in = k = s = d = out = 1, p = 0. */
void ref_window_dims(const clpool_window_desc *op, const clpool_tensor_desc *input,
                     ref_dim dims[3]);

/*
 * Runs max or avg pooling on @p x (NCHW, float32; the dtype and layout
 * fields of @p input are ignored) for a configuration that
 * ref_window_check() accepted. Writes, per output element:
 *   y:    the value (max: exactly one input value or -inf; avg: sum / divisor
 *         in double),
 *   idx:  (max only, may be NULL) the flat in-plane index t*H*W + h*W + w of
 *         the maximum, -1 for a window with no element inside the input,
 *   atol: (avg only, may be NULL) the absolute tolerance of spec §11 for a
 *         float32 result: 8 u (1 + ceil(log2 n)) * sum|x| / |divisor|, with n
 *         the number of cells summed.
 */
void ref_window_run(const clpool_window_desc *op, const clpool_tensor_desc *input, const float *x,
                    double *y, int64_t *idx, double *atol);

/* ---- every operator, every dtype (reference_ops.c) ---------------------- */

/* What the library may store for one output element. */
#define REF_EXACT 1u     /* exactly y (float dtypes: bitwise, any NaN for NaN) */
#define REF_NAN_OK 2u    /* also NaN: float error may turn the base of a pow negative */
#define REF_ANY_VALUE 4u /* any value (integer max of a window without a real cell) */

typedef struct ref_elem {
    double y;      /* the result in double (NaN: the library must give NaN) */
    double lo, hi; /* the results a float (or, for float64, double) computation may
                    * give before the one rounding to the storage type; lo <= y <= hi */
    int64_t idx;   /* max and training stochastic: the flat in-plane index, -1 none */
    unsigned flags;
} ref_elem;

/* The stochastic operator's generator; ref_uniform is the header's formula
 * written out here, tests may pass others (a constant) to check the checks. */
typedef float (*ref_uniform_fn)(uint64_t seed, uint64_t plane, uint64_t position);
float ref_uniform(uint64_t seed, uint64_t plane, uint64_t position);

/*
 * Runs @p op on @p x: the input values as doubles in NCHW order (n, c,
 * spatial), whatever @p input's layout, exactly the values its dtype stores.
 * Writes one ref_elem per output element, also in NCHW order. The band
 * follows spec §11 with u = 2^-24 (float32, float16, bfloat16: computed in
 * float) or u = 2^-53 and rtol 1e-12 (float64); integer results are exact.
 * Stochastic training replays @p uniform (NULL: ref_uniform) with the float
 * running sum the library uses (double for float64).
 */
void ref_family_run(const clpool_window_desc *op, const clpool_tensor_desc *input, const double *x,
                    ref_elem *out, ref_uniform_fn uniform);

/* 1 when element @p i of @p got (dtype @p t) is a result @p e allows: never
 * the poison; NaN where y is NaN or REF_NAN_OK; else y exactly (REF_EXACT)
 * or a value between lo and hi each rounded once to @p t. */
int ref_accepts(clpool_dtype t, const ref_elem *e, const void *got, size_t i);

#endif /* CLPOOL_TESTS_REFERENCE_H */
