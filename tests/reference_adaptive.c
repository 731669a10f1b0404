/*
 * The double-precision reference of adaptive, global and pyramid pooling (see
 * reference_adaptive.h).
 */
#include "reference_adaptive.h"
#include "storage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long ref_bin_start(long i, long n, long o)
{
    return (long)floor((double)i * (double)n / (double)o);
}

long ref_bin_end(long i, long n, long o)
{
    return (long)ceil((double)(i + 1) * (double)n / (double)o);
}

/* One unit in the last place of @p t at |v| (float formats). */
static double dtype_ulp(clpool_dtype t, double v)
{
    int mant = t == CLPOOL_FLOAT16 ? 10 : t == CLPOOL_BFLOAT16 ? 7 : t == CLPOOL_FLOAT64 ? 52 : 23;
    int emin = t == CLPOOL_FLOAT16 ? -14 : t == CLPOOL_FLOAT64 ? -1022 : -126;
    int e = emin;
    if (v != 0 && isfinite(v)) {
        frexp(fabs(v), &e);
        e -= 1;
        if (e < emin)
            e = emin;
    }
    return ldexp(1.0, e - mant);
}

static int is_integer(clpool_dtype t)
{
    return t == CLPOOL_UINT8 || t == CLPOOL_INT8;
}

/* Pools the bin [z0,z1) x [y0,y1) x [x0,x1) of plane (n, c) into element e. */
static void pool_bin(adaptive_ref *r, const adaptive_case *c, const void *x, size_t plane,
                     const long b[6], size_t e)
{
    const clpool_tensor_desc *in = &c->in;
    int nd = in->spatial_dims;
    long H = nd >= 2 ? (long)in->spatial[nd - 2] : 1;
    long W = (long)in->spatial[nd - 1];
    if (c->op == CLPOOL_OP_MAX) {
        double m = -INFINITY;
        long best = (b[0] * H + b[2]) * W + b[4];
        for (long z = b[0]; z < b[1]; z++)
            for (long y = b[2]; y < b[3]; y++)
                for (long xx = b[4]; xx < b[5]; xx++) {
                    long q = (z * H + y) * W + xx;
                    double v = storage_load(in->dtype, x, layout_offset(in, plane, (size_t)q));
                    if (v > m || isnan(v)) {
                        m = v;
                        best = q;
                    }
                }
        r->y[e] = m;
        r->idx[e] = best;
        r->src[e] = layout_offset(in, plane, (size_t)best);
        return;
    }
    double sum = 0, abs_sum = 0;
    long long isum = 0;
    for (long z = b[0]; z < b[1]; z++)
        for (long y = b[2]; y < b[3]; y++)
            for (long xx = b[4]; xx < b[5]; xx++) {
                long q = (z * H + y) * W + xx;
                double v = storage_load(in->dtype, x, layout_offset(in, plane, (size_t)q));
                sum += v;
                abs_sum += fabs(v);
                if (is_integer(in->dtype))
                    isum += (long long)v;
            }
    long long cells = (long long)(b[1] - b[0]) * (b[3] - b[2]) * (b[5] - b[4]);
    if (is_integer(in->dtype)) {
        r->y[e] = (double)(isum / cells);
        r->atol[e] = 0;
        r->strict[e] = 0;
        return;
    }
    double y = sum / (double)cells, mean_abs = abs_sum / (double)cells;
    double u = in->dtype == CLPOOL_FLOAT64 ? ldexp(1.0, -53) : ldexp(1.0, -24);
    double lg = ceil(log2((double)cells));
    double rows = (double)((b[1] - b[0]) * (b[3] - b[2])), width = (double)(b[5] - b[4]);
    double out_ulp = dtype_ulp(in->dtype, y); /* the final rounding to the dtype */
    double rel = in->dtype == CLPOOL_FLOAT64 ? 1e-12 : 1e-5;
    r->y[e] = y;
    r->atol[e] = rel * fabs(y) + 8 * u * (1 + lg + width + rows) * mean_abs + out_ulp;
    r->strict[e] = 8 * u * (1 + lg) * mean_abs + out_ulp;
}

int adaptive_ref_compute(adaptive_ref *r, const adaptive_case *c, const void *x)
{
    memset(r, 0, sizeof *r);
    const clpool_tensor_desc *in = &c->in;
    int nd = in->spatial_dims;
    long ins[3] = {1, 1, 1}, outs[3] = {1, 1, 1};
    for (int i = 0; i < nd; i++) {
        ins[3 - nd + i] = (long)in->spatial[i];
        outs[3 - nd + i] = c->out[i] ? c->out[i] : 1;
    }
    size_t positions = 0;
    if (c->spp) {
        for (int l = 0; l < c->level_count; l++)
            positions += (size_t)c->levels[l] * (size_t)c->levels[l];
        r->out.dtype = in->dtype;
        r->out.layout = CLPOOL_NCHW;
        r->out.spatial_dims = 1;
        r->out.n = in->n;
        r->out.c = in->c * positions;
        r->out.spatial[0] = 1;
    } else {
        positions = (size_t)(outs[0] * outs[1] * outs[2]);
        r->out = *in;
        for (int i = 0; i < nd; i++)
            r->out.spatial[i] = (size_t)outs[3 - nd + i];
    }
    r->out_elems = in->n * in->c * positions;
    size_t cap = r->out_elems ? r->out_elems : 1;
    r->y = calloc(cap, sizeof *r->y);
    r->idx = calloc(cap, sizeof *r->idx);
    r->src = calloc(cap, sizeof *r->src);
    r->atol = calloc(cap, sizeof *r->atol);
    r->strict = calloc(cap, sizeof *r->strict);
    if (!r->y || !r->idx || !r->src || !r->atol || !r->strict)
        return -1;
    for (size_t n = 0; n < in->n; n++)
        for (size_t ch = 0; ch < in->c; ch++) {
            size_t plane = n * in->c + ch;
            if (!c->spp) {
                for (long iz = 0; iz < outs[0]; iz++)
                    for (long iy = 0; iy < outs[1]; iy++)
                        for (long ix = 0; ix < outs[2]; ix++) {
                            long b[6] = {ref_bin_start(iz, ins[0], outs[0]),
                                         ref_bin_end(iz, ins[0], outs[0]),
                                         ref_bin_start(iy, ins[1], outs[1]),
                                         ref_bin_end(iy, ins[1], outs[1]),
                                         ref_bin_start(ix, ins[2], outs[2]),
                                         ref_bin_end(ix, ins[2], outs[2])};
                            size_t k = (size_t)((iz * outs[1] + iy) * outs[2] + ix);
                            pool_bin(r, c, x, plane, b, layout_offset(&r->out, plane, k));
                        }
                continue;
            }
            size_t before = 0;
            for (int l = 0; l < c->level_count; l++) {
                long nb = c->levels[l];
                for (long iy = 0; iy < nb; iy++)
                    for (long ix = 0; ix < nb; ix++) {
                        long b[6] = {0,
                                     1,
                                     ref_bin_start(iy, ins[1], nb),
                                     ref_bin_end(iy, ins[1], nb),
                                     ref_bin_start(ix, ins[2], nb),
                                     ref_bin_end(ix, ins[2], nb)};
                        size_t e = n * in->c * positions + before * in->c + ch * (size_t)(nb * nb) +
                                   (size_t)(iy * nb + ix);
                        pool_bin(r, c, x, plane, b, e);
                    }
                before += (size_t)(nb * nb);
            }
        }
    return 0;
}

void adaptive_ref_free(adaptive_ref *r)
{
    free(r->y);
    free(r->idx);
    free(r->src);
    free(r->atol);
    free(r->strict);
    memset(r, 0, sizeof *r);
}

void adaptive_describe(char *buf, size_t cap, const adaptive_case *c)
{
    const clpool_tensor_desc *in = &c->in;
    static const char *names[3][3] = {{"L", "", ""}, {"H", "W", ""}, {"D", "H", "W"}};
    int nd = in->spatial_dims;
    int len = snprintf(buf, cap, "N=%zu C=%zu", in->n, in->c);
    for (int i = 0; i < nd && nd >= 1 && nd <= 3; i++)
        len += snprintf(buf + len, cap > (size_t)len ? cap - (size_t)len : 0, " %s=%zu",
                        names[nd - 1][i], in->spatial[i]);
    len += snprintf(buf + len, cap > (size_t)len ? cap - (size_t)len : 0, " %s %s %s%s",
                    storage_dtype_name(in->dtype), in->layout == CLPOOL_NHWC ? "NHWC" : "NCHW",
                    c->spp ? "spp-" : "adaptive-", c->op == CLPOOL_OP_AVG ? "avg" : "max");
    if (c->spp) {
        len += snprintf(buf + len, cap > (size_t)len ? cap - (size_t)len : 0, " levels=");
        for (int l = 0; l < c->level_count; l++)
            len += snprintf(buf + len, cap > (size_t)len ? cap - (size_t)len : 0, "%s%d",
                            l ? "," : "", c->levels[l]);
    } else {
        len += snprintf(buf + len, cap > (size_t)len ? cap - (size_t)len : 0, " out=");
        for (int i = 0; i < nd; i++)
            len += snprintf(buf + len, cap > (size_t)len ? cap - (size_t)len : 0, "%s%d",
                            i ? "x" : "", c->out[i] ? c->out[i] : 1);
    }
    if (c->indices != CLPOOL_INDICES_NONE)
        snprintf(buf + len, cap > (size_t)len ? cap - (size_t)len : 0, " idx=%s",
                 c->indices == CLPOOL_INDICES_INT32 ? "int32" : "int64");
}

size_t adaptive_compare(const adaptive_ref *r, const adaptive_case *c, const void *x,
                        const void *got, const void *got_idx, int strict, const char *label,
                        int *budget)
{
    clpool_dtype t = c->in.dtype;
    size_t bad = 0;
    char desc[256];
    adaptive_describe(desc, sizeof desc, c);
    for (size_t e = 0; e < r->out_elems; e++) {
        double g = storage_load(t, got, e);
        int ok;
        int64_t gi = 0;
        if (storage_is_poison(t, got, e)) {
            ok = 0;
        } else if (c->op == CLPOOL_OP_MAX) {
            if (isnan(r->y[e]))
                ok = isnan(g);
            else
                ok = storage_bits(t, got, e) == storage_bits(t, x, r->src[e]);
            if (got_idx) {
                gi = c->indices == CLPOOL_INDICES_INT32 ? ((const int32_t *)got_idx)[e]
                                                        : ((const int64_t *)got_idx)[e];
                ok = ok && gi == r->idx[e];
            }
        } else if (is_integer(t)) {
            ok = g == r->y[e];
        } else if (!isfinite(r->y[e])) {
            ok = isnan(r->y[e]) ? isnan(g) : g == r->y[e];
        } else {
            ok = fabs(g - r->y[e]) <= (strict ? r->strict[e] : r->atol[e]);
        }
        if (ok)
            continue;
        bad++;
        if (*budget > 0) {
            (*budget)--;
            if (c->op == CLPOOL_OP_MAX && got_idx)
                fprintf(stderr, "%s %s at element %zu: got %.9g index %lld, want %.9g index %lld\n",
                        label, desc, e, g, (long long)gi, r->y[e], (long long)r->idx[e]);
            else
                fprintf(stderr, "%s %s at element %zu: got %.9g, want %.9g (tolerance %.3g)\n",
                        label, desc, e, g, r->y[e], strict ? r->strict[e] : r->atol[e]);
        }
    }
    return bad;
}
