/*
 * Element storage for the tests (see storage.h): dtype loads and stores,
 * single rounding from double to the narrow float formats, poison, layouts.
 */
#include "storage.h"

#include <float.h>
#include <math.h>
#include <string.h>

const char *storage_dtype_name(clpool_dtype t)
{
    switch (t) {
    case CLPOOL_FLOAT32:
        return "f32";
    case CLPOOL_FLOAT16:
        return "f16";
    case CLPOOL_BFLOAT16:
        return "bf16";
    case CLPOOL_FLOAT64:
        return "f64";
    case CLPOOL_UINT8:
        return "u8";
    case CLPOOL_INT8:
        return "i8";
    case CLPOOL_INT32:
        return "i32";
    case CLPOOL_INT64:
        return "i64";
    default:
        return "?";
    }
}

int storage_is_float(clpool_dtype t)
{
    return t == CLPOOL_FLOAT32 || t == CLPOOL_FLOAT16 || t == CLPOOL_BFLOAT16 ||
           t == CLPOOL_FLOAT64;
}

/* Rounds @p v to a binary format with @p mant explicit significand bits,
 * minimum normal exponent @p emin and largest finite value @p max_finite.
 * The quantum of v's binade (or of the subnormals) is a power of two, so
 * v / q is exact and nearbyint() (ties to even in the default rounding mode)
 * does the one rounding. */
static double round_format(double v, int mant, int emin, double max_finite)
{
    if (isnan(v) || isinf(v) || v == 0.0)
        return v;
    int e;
    frexp(v, &e);
    e -= 1; /* |v| in [2^e, 2^(e+1)) */
    if (e < emin)
        e = emin;
    double q = ldexp(1.0, e - mant);
    double r = nearbyint(v / q) * q;
    if (fabs(r) > max_finite)
        return copysign(INFINITY, v);
    return r;
}

double storage_round(clpool_dtype t, double v)
{
    switch (t) {
    case CLPOOL_FLOAT32:
        return round_format(v, 23, -126, FLT_MAX);
    case CLPOOL_FLOAT16:
        return round_format(v, 10, -14, 65504.0);
    case CLPOOL_BFLOAT16:
        return round_format(v, 7, -126, 0x1.fep127);
    default:
        return v;
    }
}

uint16_t half_bits(double v)
{
    uint16_t sign = signbit(v) ? 0x8000u : 0;
    double a = fabs(v);
    if (isnan(v))
        return sign | 0x7e00u; /* the sign kept: -NaN too must propagate */
    if (isinf(a))
        return sign | 0x7c00u;
    if (a < 0x1p-14)
        return sign | (uint16_t)(a * 0x1p24); /* subnormal: multiples of 2^-24 */
    int e;
    frexp(a, &e);
    e -= 1;
    uint16_t mant = (uint16_t)((ldexp(a, -e) - 1.0) * 1024.0);
    return sign | (uint16_t)((e + 15) << 10) | mant;
}

double half_value(uint16_t h)
{
    double sign = h & 0x8000u ? -1.0 : 1.0;
    int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0x1f)
        return mant ? NAN : sign * INFINITY;
    if (exp == 0)
        return sign * ldexp(mant, -24);
    return sign * ldexp(1024 + mant, exp - 25);
}

uint16_t bf16_bits(double v)
{
    if (isnan(v))
        return signbit(v) ? 0xffc0u : 0x7fc0u;
    float f = (float)v; /* exact: a bfloat16 value is a float */
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return (uint16_t)(b >> 16);
}

double bf16_value(uint16_t h)
{
    uint32_t b = (uint32_t)h << 16;
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

double storage_load(clpool_dtype t, const void *base, size_t i)
{
    switch (t) {
    case CLPOOL_FLOAT32:
        return ((const float *)base)[i];
    case CLPOOL_FLOAT16:
        return half_value(((const uint16_t *)base)[i]);
    case CLPOOL_BFLOAT16:
        return bf16_value(((const uint16_t *)base)[i]);
    case CLPOOL_FLOAT64:
        return ((const double *)base)[i];
    case CLPOOL_UINT8:
        return ((const uint8_t *)base)[i];
    case CLPOOL_INT8:
        return ((const int8_t *)base)[i];
    case CLPOOL_INT32:
        return ((const int32_t *)base)[i];
    case CLPOOL_INT64:
        return (double)((const int64_t *)base)[i];
    default:
        return NAN;
    }
}

uint64_t storage_bits(clpool_dtype t, const void *base, size_t i)
{
    size_t size = clpool_dtype_size(t);
    uint64_t b = 0;
    uint8_t tmp[8] = {0};
    memcpy(tmp, (const char *)base + i * size, size);
    for (size_t j = 0; j < size; j++)
        b |= (uint64_t)tmp[j] << (8 * j); /* little-endian host assumed by the suite */
    return b;
}

void storage_store(clpool_dtype t, void *base, size_t i, double v)
{
    switch (t) {
    case CLPOOL_FLOAT32:
        ((float *)base)[i] = (float)v;
        break;
    case CLPOOL_FLOAT16:
        ((uint16_t *)base)[i] = half_bits(storage_round(t, v));
        break;
    case CLPOOL_BFLOAT16:
        ((uint16_t *)base)[i] = bf16_bits(storage_round(t, v));
        break;
    case CLPOOL_FLOAT64:
        ((double *)base)[i] = v;
        break;
    case CLPOOL_UINT8:
        ((uint8_t *)base)[i] = (uint8_t)v;
        break;
    case CLPOOL_INT8:
        ((int8_t *)base)[i] = (int8_t)v;
        break;
    case CLPOOL_INT32:
        ((int32_t *)base)[i] = (int32_t)v;
        break;
    case CLPOOL_INT64:
        ((int64_t *)base)[i] = (int64_t)v;
        break;
    default:
        break;
    }
}

/* Signalling NaNs (quiet bit clear) with a "dead" payload. */
#define POISON_F16 0x7dadu
#define POISON_BF16 0x7fadu
#define POISON_F32 0x7fc0deadu /* the harness's float32 poison */
#define POISON_F64 0x7ff4dead0000deadULL

void storage_poison(clpool_dtype t, void *base, size_t count, int variant)
{
    for (size_t i = 0; i < count; i++) {
        switch (t) {
        case CLPOOL_FLOAT32:
            ((uint32_t *)base)[i] = POISON_F32;
            break;
        case CLPOOL_FLOAT16:
            ((uint16_t *)base)[i] = POISON_F16;
            break;
        case CLPOOL_BFLOAT16:
            ((uint16_t *)base)[i] = POISON_BF16;
            break;
        case CLPOOL_FLOAT64:
            ((uint64_t *)base)[i] = POISON_F64;
            break;
        default:
            memset((char *)base + i * clpool_dtype_size(t), variant ? 0xa5 : 0x5a,
                   clpool_dtype_size(t));
            break;
        }
    }
}

int storage_is_poison(clpool_dtype t, const void *base, size_t i)
{
    uint64_t b = storage_bits(t, base, i);
    switch (t) {
    case CLPOOL_FLOAT32:
        return b == POISON_F32;
    case CLPOOL_FLOAT16:
        return b == POISON_F16;
    case CLPOOL_BFLOAT16:
        return b == POISON_BF16;
    case CLPOOL_FLOAT64:
        return b == POISON_F64;
    default:
        return 0;
    }
}

size_t plane_elements(const clpool_tensor_desc *t)
{
    size_t s = 1;
    for (int j = 0; j < t->spatial_dims; j++)
        s *= t->spatial[j];
    return s;
}

size_t tensor_elements(const clpool_tensor_desc *t)
{
    return t->n * t->c * plane_elements(t);
}

size_t layout_offset(const clpool_tensor_desc *t, size_t plane, size_t s)
{
    size_t S = plane_elements(t);
    if (t->layout == CLPOOL_NHWC)
        return ((plane / t->c) * S + s) * t->c + plane % t->c;
    return plane * S + s;
}
