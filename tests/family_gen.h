/*
 * Random window-family configurations for the tests: parameter sets (one
 * compiled program each: operator, window geometry, dtype, layout), the
 * per-run values that are kernel arguments (p, seed), input shapes that
 * reuse a parameter set's program, and the value pattern for a case.
 */
#ifndef CLPOOL_TESTS_FAMILY_GEN_H
#define CLPOOL_TESTS_FAMILY_GEN_H

#include "family_run.h"

typedef struct family_set {
    clpool_window_desc op;
    int dims;
    clpool_dtype dtype;
    clpool_layout layout;
    int global; /* the window is the whole plane: every shape is the kernel */
} family_set;

/* 1 when @p kind takes a dilation (max, softmax, stochastic). */
int family_takes_dilation(clpool_op kind);
/* 1 when @p kind accepts @p dtype (integers: max and avg only). */
int family_takes_dtype(clpool_op kind, clpool_dtype dtype);

/*
 * A parameter set: kernel 1..5 per dim (1..3 in 3-D), stride default or
 * 1..4, padding up to the bound where allowed (none for lp), dilation 2..3
 * in a third of the sets that take one, ceil mode, exclude_padding, a
 * divisor for a quarter of the avg sets (integers: positive, at least the
 * window, so results stay in range), indices where the operator has them,
 * train for stochastic, and the run parameters below.
 */
void family_gen_set(test_rng *r, clpool_op kind, int dims, clpool_dtype dtype, clpool_layout layout,
                    family_set *fs);
/* A parameter set whose window is the whole plane @p shape (dims entries). */
void family_gen_global(test_rng *r, clpool_op kind, int dims, const int *shape, clpool_dtype dtype,
                       clpool_layout layout, family_set *fs);
/* Redraws what travels as kernel arguments: lp/gem p (the header says so),
 * stochastic seed (clpool_plan_set_seed), mixed alpha and softmax beta (the
 * library passes them as arguments too; were they baked into the program,
 * this would only cost builds). */
void family_gen_run_params(test_rng *r, clpool_window_desc *op);

/*
 * Shape @p variant of a set: 0 planes of one cell (or the smallest valid),
 * 1 small, 2 wide rows, 3 long / tall, 4 medium odd, 5 many channels, 6 a
 * batch of odd channel counts, others one of 1..6 at random. @p small caps sizes
 * (oclgrind). Every spatial size is at least the padded dilated window.
 */
void family_gen_shape(test_rng *r, const family_set *fs, int variant, int small,
                      clpool_tensor_desc *in);

/* The value pattern of case @p i of an operator (lp with a fractional p
 * mostly gets positive values, which have real powers). */
family_values family_pick_values(test_rng *r, const clpool_window_desc *op, clpool_dtype dtype,
                                 int i);

#endif /* CLPOOL_TESTS_FAMILY_GEN_H */
