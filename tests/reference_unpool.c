/*
 * Plain C references of max unpooling and fractional max pooling (see
 * reference_unpool.h). Shares nothing with the library but the public types.
 */
#include "reference_unpool.h"

#include "storage.h"

#include <math.h>
#include <string.h>

long long ref_unpool_default_size(long long in, int k, int s, int p)
{
    return (in - 1) * s - 2LL * p + k;
}

long long ref_unpool(const clpool_tensor_desc *in, const clpool_tensor_desc *out, const void *x,
                     const void *indices, int idx32, void *y)
{
    size_t planes = in->n * in->c, S = plane_elements(in), OS = plane_elements(out);
    size_t esize = clpool_dtype_size(in->dtype);
    /* validate first: nothing is written when an index is bad */
    long long first_bad = -1;
    size_t total = planes * S;
    for (size_t e = 0; e < total; e++) {
        long long q = idx32 ? ((const int32_t *)indices)[e] : ((const int64_t *)indices)[e];
        if (q < 0 || (unsigned long long)q >= OS) {
            first_bad = (long long)e;
            break;
        }
    }
    if (first_bad >= 0)
        return first_bad;
    memset(y, 0, planes * OS * esize);
    for (size_t plane = 0; plane < planes; plane++)
        for (size_t s = 0; s < S; s++) { /* row-major: later writes win */
            size_t e = layout_offset(in, plane, s);
            long long q = idx32 ? ((const int32_t *)indices)[e] : ((const int64_t *)indices)[e];
            size_t o = layout_offset(out, plane, (size_t)q);
            memcpy((char *)y + o * esize, (const char *)x + e * esize, esize);
        }
    return -1;
}

void ref_fractional_starts(clpool_dtype dtype, int in, int out, int k, double u, int *seq)
{
    if (out > 1) {
        if (dtype == CLPOOL_FLOAT64) {
            double alpha = (double)(in - k) / (double)(out - 1);
            for (int i = 0; i < out - 1; i++)
                seq[i] = (int)(((double)i + u) * alpha) - (int)(u * alpha);
        } else {
            /* volatile: every step rounded to float, as torch's float code */
            volatile float uf = (float)u;
            volatile float alpha = (float)(in - k) / (float)(out - 1);
            for (int i = 0; i < out - 1; i++) {
                volatile float a = (float)i + uf;
                volatile float b = a * alpha;
                volatile float c = uf * alpha;
                seq[i] = (int)b - (int)c;
            }
        }
    }
    seq[out - 1] = in - k;
}

void ref_fractional(const clpool_tensor_desc *in, const int *k, const int *o, const double *samples,
                    const void *x, double *y, int64_t *idx)
{
    int nd = in->spatial_dims;
    int I[3] = {1, 1, 1}, K[3] = {1, 1, 1}, O[3] = {1, 1, 1};
    for (int i = 0; i < nd; i++) {
        I[3 - nd + i] = (int)in->spatial[i];
        K[3 - nd + i] = k[i];
        O[3 - nd + i] = o[i];
    }
    clpool_tensor_desc out = *in;
    for (int i = 0; i < nd; i++)
        out.spatial[i] = (size_t)o[i];
    size_t planes = in->n * in->c;
    static int seq[3][1 << 16];
    for (size_t plane = 0; plane < planes; plane++) {
        const double *u = samples + plane * (size_t)nd;
        double ud = 0, uh, uw;
        if (nd == 2) {
            uw = u[0];
            uh = u[1];
        } else {
            ud = u[0];
            uh = u[1];
            uw = u[2];
        }
        ref_fractional_starts(in->dtype, I[0], O[0], K[0], ud, seq[0]);
        ref_fractional_starts(in->dtype, I[1], O[1], K[1], uh, seq[1]);
        ref_fractional_starts(in->dtype, I[2], O[2], K[2], uw, seq[2]);
        for (int oz = 0; oz < O[0]; oz++)
            for (int oy = 0; oy < O[1]; oy++)
                for (int ox = 0; ox < O[2]; ox++) {
                    int zs = seq[0][oz], ys = seq[1][oy], xs = seq[2][ox];
                    double m = -INFINITY;
                    long long best = ((long long)zs * I[1] + ys) * I[2] + xs;
                    for (int z = zs; z < zs + K[0]; z++)
                        for (int yy = ys; yy < ys + K[1]; yy++)
                            for (int xx = xs; xx < xs + K[2]; xx++) {
                                long long q = ((long long)z * I[1] + yy) * I[2] + xx;
                                double v =
                                    storage_load(in->dtype, x, layout_offset(in, plane, (size_t)q));
                                if (v > m || isnan(v)) {
                                    m = v;
                                    best = q;
                                }
                            }
                    size_t op =
                        ((size_t)oz * (size_t)O[1] + (size_t)oy) * (size_t)O[2] + (size_t)ox;
                    size_t oe = layout_offset(&out, plane, op);
                    y[oe] = m;
                    idx[oe] = best;
                }
    }
}
