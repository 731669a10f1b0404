/*
 * Random window-family configurations for the tests (see family_gen.h).
 */
#include "family_gen.h"
#include "storage.h"

#include <math.h>
#include <string.h>

int family_takes_dilation(clpool_op kind)
{
    return kind == CLPOOL_OP_MAX || kind == CLPOOL_OP_SOFTMAX || kind == CLPOOL_OP_STOCHASTIC;
}

int family_takes_dtype(clpool_op kind, clpool_dtype dtype)
{
    if (dtype == CLPOOL_UINT8 || dtype == CLPOOL_INT8)
        return kind == CLPOOL_OP_MAX || kind == CLPOOL_OP_AVG;
    return storage_is_float(dtype);
}

/* Exponents exactly representable in float, so a float kernel's p is the
 * reference's; integer, fractional, negative, 1/p integer (0.5, 0.25). */
static const double exponents[] = {1.0, 2.0, 3.0, 0.5, 1.5, 2.5, 4.0, -1.0, -2.0, 0.25, -0.5, 1.25};
static const double alphas[] = {0.0, 1.0, 0.5, 0.3, 0.75, 0.1};
static const double betas[] = {0.0, 1.0, -1.0, 0.5, 2.0, 5.0, -3.0, 0.1, 10.0};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void family_gen_run_params(test_rng *r, clpool_window_desc *op)
{
    if (op->op == CLPOOL_OP_LP || op->op == CLPOOL_OP_GEM)
        op->p = exponents[rng_below(r, COUNT(exponents))];
    if (op->op == CLPOOL_OP_MIXED)
        op->alpha = alphas[rng_below(r, COUNT(alphas))];
    if (op->op == CLPOOL_OP_SOFTMAX)
        op->beta = betas[rng_below(r, COUNT(betas))];
    if (op->op == CLPOOL_OP_STOCHASTIC)
        op->seed = rng_next(r);
}

static void gen_operator_params(test_rng *r, clpool_window_desc *op, clpool_dtype dtype)
{
    switch (op->op) {
    case CLPOOL_OP_MAX:
        op->indices = (clpool_index_type)rng_below(r, 3);
        break;
    case CLPOOL_OP_AVG:
        op->exclude_padding = (int)rng_below(r, 2);
        if (rng_below(r, 4) == 0) {
            int window = 1;
            for (int j = 0; j < CLPOOL_MAX_SPATIAL_DIMS; j++)
                window *= op->kernel[j] ? op->kernel[j] : 1;
            if (storage_is_float(dtype)) {
                int div = rng_range(r, -7, 25);
                op->divisor_override = div ? div : 1;
            } else {
                op->divisor_override = window + rng_range(r, 0, 5);
            }
        }
        break;
    case CLPOOL_OP_MIXED:
        op->exclude_padding = (int)rng_below(r, 2);
        break;
    case CLPOOL_OP_STOCHASTIC:
        op->train = (int)rng_below(r, 3) != 0;
        if (op->train)
            op->indices = (clpool_index_type)rng_below(r, 3);
        break;
    default:
        break;
    }
    family_gen_run_params(r, op);
}

void family_gen_set(test_rng *r, clpool_op kind, int dims, clpool_dtype dtype, clpool_layout layout,
                    family_set *fs)
{
    memset(fs, 0, sizeof *fs);
    fs->dims = dims;
    fs->dtype = dtype;
    fs->layout = layout;
    clpool_window_desc *op = &fs->op;
    op->op = kind;
    int dilated = family_takes_dilation(kind) && rng_below(r, 3) == 0;
    for (int j = 0; j < dims; j++) {
        int k = rng_range(r, 1, dims == 3 ? 3 : 5);
        int d =
            dilated && rng_below(r, 2) ? rng_range(r, 2, 3) : (int)rng_below(r, 2); /* 0: dflt */
        int bound = ((k - 1) * (d ? d : 1) + 1) / 2;
        int p = rng_below(r, 3) == 0 ? 0 : rng_below(r, 2) ? bound : rng_range(r, 0, bound);
        op->kernel[j] = k;
        op->dilation[j] = d;
        op->padding[j] = kind == CLPOOL_OP_LP ? 0 : p;
        op->stride[j] = rng_below(r, 4) == 0 ? 0 : rng_range(r, 1, 4);
    }
    op->ceil_mode = (int)rng_below(r, 2);
    gen_operator_params(r, op, dtype);
}

void family_gen_global(test_rng *r, clpool_op kind, int dims, const int *shape, clpool_dtype dtype,
                       clpool_layout layout, family_set *fs)
{
    memset(fs, 0, sizeof *fs);
    fs->dims = dims;
    fs->dtype = dtype;
    fs->layout = layout;
    fs->global = 1;
    fs->op.op = kind;
    for (int j = 0; j < dims; j++)
        fs->op.kernel[j] = shape[j];
    fs->op.ceil_mode = (int)rng_below(r, 2);
    gen_operator_params(r, &fs->op, dtype);
}

void family_gen_shape(test_rng *r, const family_set *fs, int variant, int small,
                      clpool_tensor_desc *in)
{
    int dims = fs->dims;
    size_t s[3] = {1, 1, 1};
    int v = variant <= 6 ? variant : rng_range(r, 1, 6);
    if (small)
        v = v == 0 ? 0 : v == 2 ? 2 : 1;
    size_t n = (size_t)rng_range(r, 1, 2), c = (size_t)rng_range(r, 1, 5);
    for (int j = 0; j < dims; j++) {
        int last = j == dims - 1, first = j == 0;
        int lo = 1, hi = 9;
        switch (v) {
        case 0:
            lo = hi = 1;
            break;
        case 2:
            if (last)
                lo = small ? 12 : 30, hi = small ? 24 : 90;
            else
                hi = dims == 3 ? 3 : 5;
            break;
        case 3:
            if (dims == 1)
                lo = 200, hi = 700;
            else if (first && dims == 2)
                lo = 60, hi = 130;
            else if (dims == 3 && j == 1)
                lo = 20, hi = 40;
            else
                hi = 5;
            break;
        case 4:
            lo = dims == 3 ? 5 : 9, hi = dims == 3 ? 11 : 25;
            break;
        case 5:
            hi = dims == 1 ? 20 : 7;
            break;
        case 6:
            lo = 2, hi = 8;
            break;
        default:
            break;
        }
        s[j] = (size_t)rng_range(r, lo, hi);
        if (fs->global) {
            s[j] = (size_t)fs->op.kernel[j];
        } else {
            long d = fs->op.dilation[j] ? fs->op.dilation[j] : 1;
            long need = (fs->op.kernel[j] - 1) * d + 1 - 2L * fs->op.padding[j];
            if ((long)s[j] < need)
                s[j] = (size_t)need;
        }
    }
    switch (v) {
    case 0:
        n = 1, c = 1;
        break;
    case 2:
    case 3:
        c = (size_t)rng_range(r, 1, 3);
        break;
    case 5:
        c = (size_t)rng_range(r, 8, 40);
        break;
    case 6:
        n = (size_t)rng_range(r, 2, 4), c = rng_below(r, 2) ? 3 : 5;
        break;
    default:
        break;
    }
    if (small) {
        n = 1;
        c = c > 3 ? 3 : c;
    }
    *in = (clpool_tensor_desc){.dtype = fs->dtype,
                               .layout = fs->layout,
                               .spatial_dims = dims,
                               .n = n,
                               .c = c,
                               .spatial = {s[0], dims > 1 ? s[1] : 0, dims > 2 ? s[2] : 0}};
}

family_values family_pick_values(test_rng *r, const clpool_window_desc *op, clpool_dtype dtype,
                                 int i)
{
    static const family_values max_modes[] = {FV_TIES,    FV_UNIFORM,  FV_SPECIAL,
                                              FV_NEG_INF, FV_POSITIVE, FV_SPARSE};
    static const family_values avg_modes[] = {FV_UNIFORM, FV_TIES,     FV_UNIFORM,
                                              FV_SPECIAL, FV_POSITIVE, FV_NEG_INF};
    static const family_values pow_modes[] = {FV_POSITIVE, FV_UNIFORM, FV_TIES,
                                              FV_POSITIVE, FV_SPECIAL, FV_SPARSE};
    static const family_values softmax_modes[] = {FV_UNIFORM, FV_TIES,     FV_SPECIAL,
                                                  FV_UNIFORM, FV_POSITIVE, FV_NEG_INF};
    static const family_values stochastic_modes[] = {FV_SPARSE,  FV_UNIFORM,  FV_TIES,
                                                     FV_SPECIAL, FV_POSITIVE, FV_NEG_INF};
    int j = (i + (int)rng_below(r, 6)) % 6;
    (void)dtype;
    switch (op->op) {
    case CLPOOL_OP_MAX:
        return max_modes[j];
    case CLPOOL_OP_LP:
        /* A fractional p has no real power of a negative value: NaN. */
        if (op->p != floor(op->p) && rng_below(r, 10) < 7)
            return FV_POSITIVE;
        return pow_modes[j];
    case CLPOOL_OP_GEM:
        return pow_modes[j];
    case CLPOOL_OP_SOFTMAX:
        return softmax_modes[j];
    case CLPOOL_OP_STOCHASTIC:
        return stochastic_modes[j];
    default:
        return avg_modes[j];
    }
}
