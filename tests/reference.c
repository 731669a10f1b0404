/*
 * Plain-C reference for window pooling: geometry and statuses of every
 * operator, and max and avg on float32 NCHW input, written from
 * spec/semantics.md §1-§3 line by line and accumulating in double. The other
 * operators and dtypes are in reference_ops.c.
 */
#include "reference.h"

#include <float.h>
#include <math.h>

long ref_floor_div(long a, long b)
{
    long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q -= 1;
    return q;
}

long ref_output_size(long in, long k, long s, long p, long d, int ceil_mode)
{
    long eff = d * (k - 1) + 1;
    long o = ref_floor_div(in + 2 * p - eff + (ceil_mode ? s - 1 : 0), s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p)
        o -= 1;
    return o;
}

void ref_window_dims(const clpool_window_desc *op, const clpool_tensor_desc *input, ref_dim dims[3])
{
    int lead = 3 - input->spatial_dims;
    for (int i = 0; i < 3; i++) {
        ref_dim *r = &dims[i];
        if (i < lead) {
            r->in = r->k = r->s = r->d = r->out = 1;
            r->p = 0;
            continue;
        }
        int j = i - lead;
        r->in = (long)input->spatial[j];
        r->k = op->kernel[j];
        r->s = op->stride[j] ? op->stride[j] : op->kernel[j];
        r->p = op->padding[j];
        r->d = op->dilation[j] ? op->dilation[j] : 1;
        r->out = ref_output_size(r->in, r->k, r->s, r->p, r->d, op->ceil_mode);
    }
}

/* The operators whose window may be dilated, and the dtypes each accepts. */
static int takes_dilation(clpool_op kind)
{
    return kind == CLPOOL_OP_MAX || kind == CLPOOL_OP_SOFTMAX || kind == CLPOOL_OP_STOCHASTIC;
}

static int returns_indices(const clpool_window_desc *op)
{
    return op->op == CLPOOL_OP_MAX || (op->op == CLPOOL_OP_STOCHASTIC && op->train);
}

/* INVALID_ARGUMENT when the operator's own parameter is out of range. */
static clpool_status check_op_parameter(const clpool_window_desc *op)
{
    switch (op->op) {
    case CLPOOL_OP_LP:
    case CLPOOL_OP_GEM:
        return isfinite(op->p) && op->p != 0.0 ? CLPOOL_SUCCESS : CLPOOL_ERROR_INVALID_ARGUMENT;
    case CLPOOL_OP_MIXED:
        return op->alpha >= 0.0 && op->alpha <= 1.0 ? CLPOOL_SUCCESS
                                                    : CLPOOL_ERROR_INVALID_ARGUMENT;
    case CLPOOL_OP_SOFTMAX:
        return isfinite(op->beta) ? CLPOOL_SUCCESS : CLPOOL_ERROR_INVALID_ARGUMENT;
    default:
        return CLPOOL_SUCCESS;
    }
}

clpool_status ref_window_check(const clpool_window_desc *op, const clpool_tensor_desc *input,
                               clpool_tensor_desc *output)
{
    if (op->op < CLPOOL_OP_MAX || op->op > CLPOOL_OP_STOCHASTIC)
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    if (op->indices != CLPOOL_INDICES_NONE && op->indices != CLPOOL_INDICES_INT32 &&
        op->indices != CLPOOL_INDICES_INT64)
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    if ((unsigned)input->dtype > CLPOOL_INT64 || (unsigned)input->layout > CLPOOL_NHWC)
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    if (input->spatial_dims < 1 || input->spatial_dims > CLPOOL_MAX_SPATIAL_DIMS)
        return CLPOOL_ERROR_INVALID_SHAPE;
    if (input->c == 0)
        return CLPOOL_ERROR_INVALID_SHAPE;
    int nd = input->spatial_dims;
    for (int j = 0; j < nd; j++)
        if (input->spatial[j] == 0)
            return CLPOOL_ERROR_INVALID_SHAPE;
    for (int j = 0; j < nd; j++)
        if (op->kernel[j] <= 0)
            return CLPOOL_ERROR_INVALID_KERNEL;
    for (int j = 0; j < nd; j++)
        if (op->stride[j] < 0)
            return CLPOOL_ERROR_INVALID_STRIDE;
    for (int j = 0; j < nd; j++) {
        if (op->dilation[j] < 0)
            return CLPOOL_ERROR_INVALID_DILATION;
        if (!takes_dilation(op->op) && op->dilation[j] > 1)
            return CLPOOL_ERROR_INVALID_DILATION;
    }
    for (int j = 0; j < nd; j++) {
        long k = op->kernel[j], d = op->dilation[j] ? op->dilation[j] : 1;
        if (op->padding[j] < 0 || op->padding[j] > ((k - 1) * d + 1) / 2)
            return CLPOOL_ERROR_INVALID_PADDING;
        if (op->op == CLPOOL_OP_LP && op->padding[j] != 0)
            return CLPOOL_ERROR_INVALID_PADDING; /* torch's lp_pool has none */
    }
    if (op->indices != CLPOOL_INDICES_NONE && !returns_indices(op))
        return CLPOOL_ERROR_INVALID_ARGUMENT;
    if (op->op != CLPOOL_OP_AVG && op->divisor_override != 0)
        return CLPOOL_ERROR_INVALID_DIVISOR; /* only avg takes a divisor */
    clpool_status st = check_op_parameter(op);
    if (st != CLPOOL_SUCCESS)
        return st;
    ref_dim dims[3];
    ref_window_dims(op, input, dims);
    for (int i = 0; i < 3; i++)
        if (dims[i].out < 1)
            return CLPOOL_ERROR_OUTPUT_TOO_SMALL;
    if (input->dtype == CLPOOL_INT32 || input->dtype == CLPOOL_INT64)
        return CLPOOL_ERROR_UNSUPPORTED;
    if ((input->dtype == CLPOOL_UINT8 || input->dtype == CLPOOL_INT8) && op->op != CLPOOL_OP_MAX &&
        op->op != CLPOOL_OP_AVG)
        return CLPOOL_ERROR_UNSUPPORTED;
    if (output) {
        *output = *input;
        for (int j = 0; j < nd; j++)
            output->spatial[j] = (size_t)dims[3 - nd + j].out;
    }
    return CLPOOL_SUCCESS;
}

/* Max over one window (spec §2): padding skipped, first maximum wins, NaN
 * wins and the last NaN in scan order is kept. */
static void max_window(const ref_dim r[3], const long o[3], const float *plane, double *y,
                       int64_t *idx)
{
    float m = -INFINITY;
    int64_t at = -1;
    for (long i0 = 0; i0 < r[0].k; i0++) {
        long t = o[0] * r[0].s - r[0].p + i0 * r[0].d;
        if (t < 0 || t >= r[0].in)
            continue;
        for (long i1 = 0; i1 < r[1].k; i1++) {
            long h = o[1] * r[1].s - r[1].p + i1 * r[1].d;
            if (h < 0 || h >= r[1].in)
                continue;
            for (long i2 = 0; i2 < r[2].k; i2++) {
                long w = o[2] * r[2].s - r[2].p + i2 * r[2].d;
                if (w < 0 || w >= r[2].in)
                    continue;
                int64_t q = ((int64_t)t * r[1].in + h) * r[2].in + w;
                float v = plane[q];
                if (at < 0)
                    at = q; /* the first in-range element, whatever its value */
                if (v > m || isnan(v)) {
                    m = v;
                    at = q;
                }
            }
        }
    }
    *y = m;
    *idx = at;
}

/* Average over one window (spec §3): the divisor counts the cells inside
 * [-p, In + p) with count_include_pad, the real cells without it, or is the
 * override, which divides the clipped sum. */
static void avg_window(const clpool_window_desc *op, const ref_dim r[3], const long o[3],
                       const float *plane, double *y, double *atol)
{
    long cs[3], ce[3], pool = 1, valid = 1;
    for (int i = 0; i < 3; i++) {
        long start = o[i] * r[i].s - r[i].p;
        long end = start + r[i].k < r[i].in + r[i].p ? start + r[i].k : r[i].in + r[i].p;
        pool *= end - start;
        cs[i] = start > 0 ? start : 0;
        ce[i] = end < r[i].in ? end : r[i].in;
        valid *= ce[i] > cs[i] ? ce[i] - cs[i] : 0;
    }
    double sum = 0.0, sum_abs = 0.0;
    for (long t = cs[0]; t < ce[0]; t++)
        for (long h = cs[1]; h < ce[1]; h++)
            for (long w = cs[2]; w < ce[2]; w++) {
                double v = plane[(t * r[1].in + h) * r[2].in + w];
                sum += v;
                sum_abs += fabs(v);
            }
    double divisor = op->divisor_override  ? (double)op->divisor_override
                     : op->exclude_padding ? (double)valid
                                           : (double)pool;
    if (valid == 0) {
        *y = 0.0;
        *atol = 0.0;
        return;
    }
    *y = sum / divisor;
    double u = ldexp(1.0, -24);
    double terms = 1.0 + ceil(log2((double)valid));
    *atol = 8.0 * u * terms * sum_abs / fabs(divisor);
}

void ref_window_run(const clpool_window_desc *op, const clpool_tensor_desc *input, const float *x,
                    double *y, int64_t *idx, double *atol)
{
    ref_dim r[3];
    ref_window_dims(op, input, r);
    size_t planes = input->n * input->c;
    size_t in_plane = (size_t)(r[0].in * r[1].in * r[2].in);
    size_t out_plane = (size_t)(r[0].out * r[1].out * r[2].out);
    for (size_t pl = 0; pl < planes; pl++) {
        const float *plane = x + pl * in_plane;
        size_t e = pl * out_plane;
        long o[3];
        for (o[0] = 0; o[0] < r[0].out; o[0]++)
            for (o[1] = 0; o[1] < r[1].out; o[1]++)
                for (o[2] = 0; o[2] < r[2].out; o[2]++, e++) {
                    if (op->op == CLPOOL_OP_MAX) {
                        int64_t at;
                        max_window(r, o, plane, &y[e], &at);
                        if (idx)
                            idx[e] = at;
                        if (atol)
                            atol[e] = 0.0;
                    } else {
                        double tol;
                        avg_window(op, r, o, plane, &y[e], &tol);
                        if (atol)
                            atol[e] = tol;
                        if (idx)
                            idx[e] = -1;
                    }
                }
    }
}
