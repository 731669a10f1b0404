/*
 * Double-precision references of the region families' gradients (see
 * reference_region_backward.h): straightforward scatters over the forward's
 * bins, independent of the library's gather formulation.
 */
#include "reference_region_backward.h"
#include "storage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ref_unpool_backward(const clpool_tensor_desc *in, const clpool_tensor_desc *out,
                         const double *go, const int64_t *idx, double *gi)
{
    size_t planes = in->n * in->c, S = plane_elements(in);
    for (size_t p = 0; p < planes; p++)
        for (size_t s = 0; s < S; s++) {
            size_t e = layout_offset(in, p, s);
            int64_t q = idx[e];
            gi[e] = q >= 0 && (size_t)q < plane_elements(out) ? go[layout_offset(out, p, (size_t)q)]
                                                              : 0.0;
        }
}

/* Sizes of the three dimensions (depth, height, width), 1 for absent ones. */
static void dims3(const clpool_tensor_desc *in, const int *o, int in3[3], int out3[3])
{
    int nd = in->spatial_dims;
    for (int i = 0; i < 3; i++) {
        int j = i - (3 - nd);
        in3[i] = j >= 0 ? (int)in->spatial[j] : 1;
        out3[i] = j >= 0 ? o[j] : 1;
    }
}

static clpool_tensor_desc out_desc(const clpool_tensor_desc *in, const int *o)
{
    clpool_tensor_desc d = *in;
    for (int i = 0; i < in->spatial_dims; i++)
        d.spatial[i] = (size_t)o[i];
    return d;
}

static int bin_start(int i, int in, int out)
{
    return (int)(((long long)i * in) / out);
}

static int bin_end(int i, int in, int out)
{
    return (int)((((long long)i + 1) * in + out - 1) / out);
}

/* Visits one output's bin: writes its value and argmax (max), or the mean. */
static void bin_reduce(clpool_op op, const clpool_tensor_desc *in, size_t p, const int in3[3],
                       const int out3[3], const int oi[3], const double *x, double *y, int64_t *arg)
{
    int lo[3], hi[3];
    for (int d = 0; d < 3; d++) {
        lo[d] = bin_start(oi[d], in3[d], out3[d]);
        hi[d] = bin_end(oi[d], in3[d], out3[d]);
    }
    double best = -INFINITY, sum = 0;
    int64_t best_i = -1, count = 0;
    for (int a = lo[0]; a < hi[0]; a++)
        for (int b = lo[1]; b < hi[1]; b++)
            for (int c = lo[2]; c < hi[2]; c++) {
                int64_t s = ((int64_t)a * in3[1] + b) * in3[2] + c;
                double v = x[layout_offset(in, p, (size_t)s)];
                sum += v;
                count++;
                if (best_i < 0 || isnan(v) || (!isnan(best) && v > best)) {
                    best = v;
                    best_i = s;
                }
            }
    *y = op == CLPOOL_OP_AVG ? sum / (double)count : best;
    *arg = op == CLPOOL_OP_AVG ? -1 : best_i;
}

void ref_adaptive_forward(clpool_op op, const clpool_tensor_desc *in, const int *o, const double *x,
                          double *y, int64_t *idx)
{
    int in3[3], out3[3];
    dims3(in, o, in3, out3);
    clpool_tensor_desc od = out_desc(in, o);
    size_t planes = in->n * in->c;
    for (size_t p = 0; p < planes; p++)
        for (int a = 0; a < out3[0]; a++)
            for (int b = 0; b < out3[1]; b++)
                for (int c = 0; c < out3[2]; c++) {
                    int oi[3] = {a, b, c};
                    size_t s = ((size_t)a * out3[1] + b) * out3[2] + c;
                    size_t e = layout_offset(&od, p, s);
                    bin_reduce(op, in, p, in3, out3, oi, x, &y[e], &idx[e]);
                }
}

void ref_adaptive_backward(clpool_op op, const clpool_tensor_desc *in, const int *o,
                           const double *x, const double *go, const int64_t *idx, double *gi)
{
    int in3[3], out3[3];
    dims3(in, o, in3, out3);
    clpool_tensor_desc od = out_desc(in, o);
    size_t planes = in->n * in->c;
    memset(gi, 0, tensor_elements(in) * sizeof *gi);
    for (size_t p = 0; p < planes; p++)
        for (int a = 0; a < out3[0]; a++)
            for (int b = 0; b < out3[1]; b++)
                for (int c = 0; c < out3[2]; c++) {
                    int oi[3] = {a, b, c};
                    size_t s = ((size_t)a * out3[1] + b) * out3[2] + c;
                    size_t e = layout_offset(&od, p, s);
                    double g = go[e];
                    int lo[3], hi[3];
                    for (int d = 0; d < 3; d++) {
                        lo[d] = bin_start(oi[d], in3[d], out3[d]);
                        hi[d] = bin_end(oi[d], in3[d], out3[d]);
                    }
                    if (op == CLPOOL_OP_AVG) {
                        double count = (double)(hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]);
                        for (int i = lo[0]; i < hi[0]; i++)
                            for (int j = lo[1]; j < hi[1]; j++)
                                for (int k = lo[2]; k < hi[2]; k++) {
                                    size_t q = ((size_t)i * in3[1] + j) * in3[2] + k;
                                    gi[layout_offset(in, p, q)] += g / count;
                                }
                        continue;
                    }
                    int64_t sel;
                    if (idx)
                        sel = idx[e];
                    else {
                        double y;
                        bin_reduce(op, in, p, in3, out3, oi, x, &y, &sel);
                    }
                    if (sel >= 0 && (size_t)sel < plane_elements(in))
                        gi[layout_offset(in, p, (size_t)sel)] += g;
                }
}

/* Level l's element (sample, channel, bin pos) in the (N, C*sum(n^2)) pyramid. */
static size_t spp_at(size_t C, size_t total, size_t prefix, size_t nl, size_t n, size_t c,
                     size_t pos)
{
    return n * C * total + C * prefix + c * nl * nl + pos;
}

void ref_spp_backward(clpool_op op, const clpool_tensor_desc *in, const int *levels,
                      int level_count, const double *x, const double *go, const int64_t *idx,
                      double *gi)
{
    size_t total = 0, prefix = 0, C = in->c, N = in->n, ni = tensor_elements(in);
    for (int l = 0; l < level_count; l++)
        total += (size_t)levels[l] * (size_t)levels[l];
    double *part = malloc(ni * sizeof *part);
    memset(gi, 0, ni * sizeof *gi);
    for (int l = 0; l < level_count; l++) {
        size_t nl = (size_t)levels[l];
        int o[2] = {levels[l], levels[l]};
        clpool_tensor_desc od = out_desc(in, o);
        size_t no = tensor_elements(&od);
        double *gol = malloc(no * sizeof *gol);
        int64_t *il = malloc(no * sizeof *il);
        for (size_t n = 0; n < N; n++)
            for (size_t c = 0; c < C; c++)
                for (size_t pos = 0; pos < nl * nl; pos++) {
                    size_t e = layout_offset(&od, n * C + c, pos);
                    size_t a = spp_at(C, total, prefix, nl, n, c, pos);
                    gol[e] = go[a];
                    if (idx)
                        il[e] = idx[a];
                }
        ref_adaptive_backward(op, in, o, x, gol, idx ? il : NULL, part);
        for (size_t i = 0; i < ni; i++)
            gi[i] += part[i];
        free(gol);
        free(il);
        prefix += nl * nl;
    }
    free(part);
}

void ref_spp_indices(const clpool_tensor_desc *in, const int *levels, int level_count,
                     const double *x, int64_t *idx)
{
    size_t total = 0, prefix = 0, C = in->c, N = in->n;
    for (int l = 0; l < level_count; l++)
        total += (size_t)levels[l] * (size_t)levels[l];
    for (int l = 0; l < level_count; l++) {
        size_t nl = (size_t)levels[l];
        int o[2] = {levels[l], levels[l]};
        clpool_tensor_desc od = out_desc(in, o);
        size_t no = tensor_elements(&od);
        double *y = malloc(no * sizeof *y);
        int64_t *il = malloc(no * sizeof *il);
        ref_adaptive_forward(CLPOOL_OP_MAX, in, o, x, y, il);
        for (size_t n = 0; n < N; n++)
            for (size_t c = 0; c < C; c++)
                for (size_t pos = 0; pos < nl * nl; pos++)
                    idx[spp_at(C, total, prefix, nl, n, c, pos)] =
                        il[layout_offset(&od, n * C + c, pos)];
        free(y);
        free(il);
        prefix += nl * nl;
    }
}

void ref_select_backward(const clpool_tensor_desc *in, const clpool_tensor_desc *out,
                         const double *go, const int64_t *idx, double *gi)
{
    size_t P = plane_elements(in), OP = plane_elements(out), planes = in->n * in->c;
    memset(gi, 0, tensor_elements(in) * sizeof *gi);
    for (size_t p = 0; p < planes; p++)
        for (size_t o = 0; o < OP; o++) {
            size_t e = layout_offset(out, p, o);
            if (idx[e] >= 0 && (size_t)idx[e] < P)
                gi[layout_offset(in, p, (size_t)idx[e])] += go[e];
        }
}
