/*
 * The double-precision reference of adaptive, global and spatial pyramid
 * pooling (spec §4, §10.4, §10.5, §11) for the tests: bins, expected values
 * and indices, the tolerance of each averaged element, and the element-by-
 * element comparison of a library result. Written from the spec; shares
 * nothing with the library.
 */
#ifndef CLPOOL_TESTS_REFERENCE_ADAPTIVE_H
#define CLPOOL_TESTS_REFERENCE_ADAPTIVE_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* One case: adaptive (or global) pooling, or a pyramid (spp = 1). */
typedef struct adaptive_case {
    int spp;
    clpool_op op;                      /* CLPOOL_OP_MAX or CLPOOL_OP_AVG */
    int out[3];                        /* adaptive: output size per spatial dim (0 = 1) */
    int levels[CLPOOL_SPP_LEVELS_MAX]; /* spp */
    int level_count;
    clpool_index_type indices;
    clpool_tensor_desc in;
} adaptive_case;

/* Bin [start, end) of output i of a dimension of size n pooled to o. */
long ref_bin_start(long i, long n, long o);
long ref_bin_end(long i, long n, long o);

/* The expected result, in output memory order. */
typedef struct adaptive_ref {
    clpool_tensor_desc out;
    size_t out_elems;
    double *y;      /* value (max: the selected input element's value) */
    int64_t *idx;   /* max: flat index in the input plane */
    size_t *src;    /* max: the selected element's offset in the input array */
    double *atol;   /* avg: allowed |got - y| */
    double *strict; /* avg: 8u(1 + ceil(log2 cells)) mean|x|, the tree bound of §11 */
} adaptive_ref;

/* Computes the reference of @p c over the input array @p x (dtype and layout
 * of c->in). The tolerance of an avg element: 1e-5 |y| (1e-12 for float64)
 * plus 8u(1 + ceil(log2 cells) + bin width + bin rows) mean|x| (the row sums
 * of the one-work-item kernel) plus one unit in the last place of the output
 * dtype at |y|. Integer averages are exact (C division). 0 on success. */
int adaptive_ref_compute(adaptive_ref *r, const adaptive_case *c, const void *x);
void adaptive_ref_free(adaptive_ref *r);

/* "N=2 C=3 H=7 W=5 f16 NHWC adaptive-max out=3x2 idx=int64" (spp: "levels=1,2,4"). */
void adaptive_describe(char *buf, size_t cap, const adaptive_case *c);

/*
 * Compares a library result (output array @p got of the input's dtype,
 * indices @p got_idx or NULL) with the reference: max values bitwise equal to
 * the selected input element (any NaN for a NaN) and indices exact, integer
 * averages exact, float averages within atol (@p strict: within the strict
 * tree bound instead). A poisoned element never passes. Prints each failure
 * as "<label> <case> at element e: got ..., want ..." to stderr, at most
 * *budget lines. Returns the number of bad elements.
 */
size_t adaptive_compare(const adaptive_ref *r, const adaptive_case *c, const void *x,
                        const void *got, const void *got_idx, int strict, const char *label,
                        int *budget);

#endif /* CLPOOL_TESTS_REFERENCE_ADAPTIVE_H */
