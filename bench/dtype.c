/*
 * Host conversions between float and the 16-bit storage dtypes (see dtype.h).
 */
#include "dtype.h"

#include <math.h>
#include <string.h>

int bench_dtype_supported(clpool_dtype dtype)
{
    return dtype == CLPOOL_FLOAT32 || dtype == CLPOOL_FLOAT16 || dtype == CLPOOL_BFLOAT16;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t bench_float_to_half(float f)
{
    uint32_t u = float_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) /* NaN: keep it quiet */
        return (uint16_t)(sign | 0x7e00u);
    if (abs >= 0x477ff000u) /* rounds to 65520 or more: infinity */
        return (uint16_t)(sign | 0x7c00u);
    if (abs < 0x38800000u) {
        /* Below 2^-14: a subnormal half, a multiple of 2^-24. Scaling by 2^24
         * is exact, and the float -> integer rounding below is to nearest even. */
        float scaled = bits_float(abs) * 16777216.0f;
        return (uint16_t)(sign | (uint16_t)lrintf(scaled));
    }
    /* Normal: rebias the exponent and round the 13 dropped mantissa bits to
     * nearest even; a carry into the exponent is the right result. */
    uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return (uint16_t)(sign | ((rounded - 0x38000000u) >> 13));
}

float bench_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0) /* zero or subnormal: man * 2^-24, exact in float */
        return bits_float(sign | float_bits((float)man * (1.0f / 16777216.0f)));
    if (exp == 31)
        return bits_float(sign | 0x7f800000u | (man << 13));
    return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t bench_float_to_bfloat(float f)
{
    uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float bench_bfloat_to_float(uint16_t b)
{
    return bits_float((uint32_t)b << 16);
}

void bench_round_to_dtype(float *data, size_t count, clpool_dtype dtype)
{
    for (size_t i = 0; i < count; i++) {
        if (dtype == CLPOOL_FLOAT16)
            data[i] = bench_half_to_float(bench_float_to_half(data[i]));
        else if (dtype == CLPOOL_BFLOAT16)
            data[i] = bench_bfloat_to_float(bench_float_to_bfloat(data[i]));
    }
}

void bench_pack(clpool_dtype dtype, const float *src, void *dst, size_t count)
{
    uint16_t *d16 = dst;
    if (dtype == CLPOOL_FLOAT32) {
        memcpy(dst, src, count * sizeof(float));
    } else if (dtype == CLPOOL_FLOAT16) {
        for (size_t i = 0; i < count; i++)
            d16[i] = bench_float_to_half(src[i]);
    } else {
        for (size_t i = 0; i < count; i++)
            d16[i] = bench_float_to_bfloat(src[i]);
    }
}

void bench_unpack(clpool_dtype dtype, const void *src, float *dst, size_t count)
{
    const uint16_t *s16 = src;
    if (dtype == CLPOOL_FLOAT32) {
        memcpy(dst, src, count * sizeof(float));
    } else if (dtype == CLPOOL_FLOAT16) {
        for (size_t i = 0; i < count; i++)
            dst[i] = bench_half_to_float(s16[i]);
    } else {
        for (size_t i = 0; i < count; i++)
            dst[i] = bench_bfloat_to_float(s16[i]);
    }
}

size_t bench_nan_pattern(clpool_dtype dtype, void *pattern)
{
    if (dtype == CLPOOL_FLOAT32) {
        const float nan_value = NAN;
        memcpy(pattern, &nan_value, sizeof nan_value);
        return sizeof nan_value;
    }
    uint16_t bits = dtype == CLPOOL_FLOAT16 ? 0x7e00u : 0x7fc0u;
    memcpy(pattern, &bits, sizeof bits);
    return sizeof bits;
}

void bench_fill_nan(clpool_dtype dtype, void *dst, size_t count)
{
    unsigned char pattern[4];
    size_t size = bench_nan_pattern(dtype, pattern);
    for (size_t i = 0; i < count; i++)
        memcpy((unsigned char *)dst + i * size, pattern, size);
}
