/*
 * Plain-C double reference of the window family's gradients (spec §9, §10
 * and the rules written in clpool.h for clpool_plan_window_backward): each
 * output's gradient scattered onto the real cells of its window, with the
 * band a float (or double) gather of the same contributions may land in.
 * Shares nothing with the library but the public header's types.
 */
#ifndef CLPOOL_TESTS_REFERENCE_BACKWARD_H
#define CLPOOL_TESTS_REFERENCE_BACKWARD_H

#include "clpool.h"

#include <stddef.h>
#include <stdint.h>

/* The gradient of one input element. */
typedef struct ref_grad {
    double g;    /* the sum of the contributions, in double */
    double band; /* sum over contributions of |contribution| * its condition */
    int terms;   /* contributions summed */
} ref_grad;

/*
 * Computes the input gradient of @p op (a configuration ref_window_check()
 * accepts) into @p gx (one per input element, NCHW order) from the input
 * @p x and the output gradient @p gy (doubles, NCHW order). @p sel, when
 * not NULL, holds per output (NCHW order) the forward's selected flat
 * in-plane index for max and training stochastic (any value: one that is
 * not a real cell of the output's window, such as -1, sends nothing); when
 * NULL, max and mixed recompute the argmax (first maximum, last NaN, the
 * first real cell of an all -inf window). Training stochastic needs @p sel.
 */
void ref_backward_run(const clpool_window_desc *op, const clpool_tensor_desc *in, const double *x,
                      const double *gy, const int64_t *sel, ref_grad *gx);

/* 1 when element @p i of @p got (dtype @p t, a float dtype) is a result
 * the reference @p e allows: never the float poison; NaN exactly where
 * e->g is NaN; infinities exactly; else within rtol * band (rtol from the
 * computation's precision) of e->g, each bound rounded once to @p t. */
int ref_grad_accepts(clpool_dtype t, const ref_grad *e, const void *got, size_t i);

/* The forward output of @p op in double (NCHW), for numerical gradients:
 * the same formulas the library's forward pass documents. */
void ref_backward_forward(const clpool_window_desc *op, const clpool_tensor_desc *in,
                          const double *x, double *y);

#endif /* CLPOOL_TESTS_REFERENCE_BACKWARD_H */
