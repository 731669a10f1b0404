/*
 * dtype.cl: how kernels load and store the element types of clpool (included
 * by the pooling kernels; the library splices it in before building).
 *
 * Every type is computed in `real_t`: float, or double for float64. float16
 * and bfloat16 are storage only (ushort bits converted with integer
 * operations: no cl_khr_fp16 needed), rounded to nearest even once on store.
 * uint8 and int8 load as exact floats and store with saturation.
 *
 * Macros:
 *   DTYPE   the clpool_dtype value: 0 float32, 1 float16, 2 bfloat16,
 *           3 float64, 4 uint8, 5 int8
 * Provides: data_t (the storage type), real_t (= REAL), IS_INTEGER, LOAD1(p),
 * LOADN(n, p) (n = 2, 4, 8 or 16 contiguous elements as a real_t vector),
 * STORE1(v, p), STOREN(n, v, p); for the 16-bit types on little-endian
 * devices also LOADN_STRIDE2(n, p) (n = 8 or 16: p[0], p[2], ..., p[2n-2]).
 *
 * ORDER_KEYS (set by a kernel that only compares and copies values: max):
 * float16 then loads order keys instead of values, floats that compare
 * (isgreater, isnan, ==) as the halves do, and stores a key back as the
 * half it came from (any NaN as 0x7E00 with its sign, as a value would;
 * -INFINITY, the identity of max, as -inf). A key is the half's bits read as
 * a bfloat16, with NaN set to a float NaN: no arithmetic, but halves below
 * 2^-17 become denormal floats, so a kernel sets ORDER_KEYS only on devices
 * that compare denormals exactly (CL_FP_DENORM).
 */
#ifndef DTYPE
#define DTYPE 0
#endif
#ifndef ORDER_KEYS
#define ORDER_KEYS 0
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2
#define DT_F64 3
#define DT_U8 4
#define DT_I8 5

#if DTYPE == DT_F64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define REAL double
#else
#define REAL float
#endif
typedef REAL real_t;

#define IS_INTEGER (DTYPE == DT_U8 || DTYPE == DT_I8)

#if DTYPE == DT_F32 || DTYPE == DT_F64
typedef real_t data_t;
#define LOAD1(p) ((p)[0])
#define LOADN(n, p) CAT(vload, n)(0, (p))
#define STORE1(v, p) ((p)[0] = (v))
#define STOREN(n, v, p) CAT(vstore, n)((v), 0, (p))
#elif DTYPE == DT_F16 || DTYPE == DT_BF16
typedef ushort data_t;
/* 16-bit elements are read and written one by one, which LLVM merges into
 * unaligned vector accesses: PoCL 3.1 builds vload16/vstore16 of ushort from
 * 2-element pieces that stay pieces (and scalar stores), and compiles
 * vload_half8 into an aligned vector load that faults on the unaligned
 * addresses pooling reads (vstore_half likewise), so neither is used. */
#define BITS_LOAD_FN(n, ...)                                                                      \
    inline CAT(ushort, n) CAT(bits_load, n)(__global const ushort *p)                             \
    {                                                                                             \
        return (CAT(ushort, n))(__VA_ARGS__);                                                     \
    }
BITS_LOAD_FN(2, p[0], p[1])
BITS_LOAD_FN(4, p[0], p[1], p[2], p[3])
BITS_LOAD_FN(8, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
BITS_LOAD_FN(16, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12],
             p[13], p[14], p[15])
/* One statement per element (stores of halves or pieces stay pieces). */
#define BITS_STORE_FN(n, ...)                                                                     \
    inline void CAT(bits_store, n)(CAT(ushort, n) v, __global ushort *p)                          \
    {                                                                                             \
        __VA_ARGS__                                                                               \
    }
BITS_STORE_FN(2, p[0] = v.s0; p[1] = v.s1;)
BITS_STORE_FN(4, p[0] = v.s0; p[1] = v.s1; p[2] = v.s2; p[3] = v.s3;)
BITS_STORE_FN(8, p[0] = v.s0; p[1] = v.s1; p[2] = v.s2; p[3] = v.s3; p[4] = v.s4; p[5] = v.s5;
              p[6] = v.s6; p[7] = v.s7;)
BITS_STORE_FN(16, p[0] = v.s0; p[1] = v.s1; p[2] = v.s2; p[3] = v.s3; p[4] = v.s4; p[5] = v.s5;
              p[6] = v.s6; p[7] = v.s7; p[8] = v.s8; p[9] = v.s9; p[10] = v.sa; p[11] = v.sb;
              p[12] = v.sc; p[13] = v.sd; p[14] = v.se; p[15] = v.sf;)
#ifdef __ENDIAN_LITTLE__
/* Stride-2 loads read 2n elements as n uint lanes, the even element in the
 * low half of each: converting the low halves costs one conversion of n
 * lanes, where taking .even of converted vectors costs two and a shuffle. */
inline uint8 bits_pairs8(__global const ushort *p)
{
    return as_uint8(bits_load16(p));
}
inline uint16 bits_pairs16(__global const ushort *p)
{
    return (uint16)(as_uint8(bits_load16(p)), as_uint8(bits_load16(p + 16)));
}
#endif
#if DTYPE == DT_F16
/* Half bits (the low 16 bits of u; the rest is ignored) <-> float with
 * integer operations, exact and round-to-nearest-even. */
#define HALF_FNS(n)                                                                               \
    inline CAT(float, n) CAT(half_to_float, n)(CAT(uint, n) u)                                    \
    {                                                                                             \
        const CAT(uint, n) sign = (u & 0x8000u) << 16, em = u & 0x7FFFu;                          \
        CAT(uint, n) f = (em << 13) + 0x38000000u; /* normal: rebias 15 -> 127 */                 \
        f = select(f, (em << 13) | 0x7F800000u, em >= 0x7C00u); /* inf, NaN */                    \
        f = select(f, CAT(as_uint, n)(CAT(convert_float, n)(em) * 0x1p-24f), em < 0x400u);        \
        return CAT(as_float, n)(f | sign);                                                        \
    }                                                                                             \
    inline CAT(ushort, n) CAT(float_to_half, n)(CAT(float, n) v)                                  \
    {                                                                                             \
        const CAT(uint, n) u = CAT(as_uint, n)(v);                                                \
        const CAT(uint, n) sign = (u >> 16) & 0x8000u, a = u & 0x7FFFFFFFu;                       \
        /* normal: rebias and round the 13 dropped bits to nearest even */                       \
        CAT(uint, n) h = (a - 0x38000000u + 0xFFFu + ((a >> 13) & 1u)) >> 13;                     \
        /* subnormal: adding 0.5f lines the half's bits up at the bottom */                      \
        const CAT(uint, n) sub =                                                                  \
            CAT(as_uint, n)(CAT(as_float, n)(a) + (CAT(float, n))(0.5f)) - 0x3F000000u;           \
        h = select(h, sub, a < 0x38800000u);                                                      \
        h = select(h, (CAT(uint, n))(0x7C00u), a >= 0x47800000u); /* overflow: inf */             \
        h = select(h, (CAT(uint, n))(0x7E00u), a > 0x7F800000u);  /* NaN */                       \
        return CAT(convert_ushort, n)(h | sign);                                                  \
    }
HALF_FNS()
HALF_FNS(2)
HALF_FNS(4)
HALF_FNS(8)
HALF_FNS(16)
#if ORDER_KEYS
/* Order keys (see the top): sign-magnitude halves keep their order as the
 * top half of a float; NaN halves (magnitude above 0x7C00) get the float
 * NaN exponent and quiet bit. */
#define KEY_FNS(n)                                                                                \
    inline CAT(float, n) CAT(half_key, n)(CAT(uint, n) u)                                         \
    {                                                                                             \
        const CAT(uint, n) b = u << 16;                                                           \
        return CAT(as_float, n)(select(b, b | 0x7FC00000u, (u << 17) > 0xF8000000u));            \
    }                                                                                             \
    inline CAT(ushort, n) CAT(key_half, n)(CAT(float, n) key)                                     \
    {                                                                                             \
        const CAT(uint, n) x = CAT(as_uint, n)(key);                                              \
        CAT(uint, n) h = x >> 16;                                                                 \
        h = select(h, (h & 0x8000u) | 0x7E00u, CAT(as_uint, n)(isnan(key)));                      \
        h = select(h, (CAT(uint, n))(0xFC00u), CAT(as_uint, n)(key == -INFINITY));                \
        return CAT(convert_ushort, n)(h);                                                         \
    }
KEY_FNS()
KEY_FNS(2)
KEY_FNS(4)
KEY_FNS(8)
KEY_FNS(16)
#define LOAD1(p) half_key((uint)(p)[0])
#define LOADN(n, p) CAT(half_key, n)(CAT(convert_uint, n)(CAT(bits_load, n)(p)))
#define STORE1(v, p) ((p)[0] = key_half(v))
#define STOREN(n, v, p) CAT(bits_store, n)(CAT(key_half, n)(v), (p))
#ifdef __ENDIAN_LITTLE__
#define LOADN_STRIDE2(n, p) CAT(half_key, n)(CAT(bits_pairs, n)(p))
#endif
#else
#define LOAD1(p) half_to_float((uint)(p)[0])
#define LOADN(n, p) CAT(half_to_float, n)(CAT(convert_uint, n)(CAT(bits_load, n)(p)))
#define STORE1(v, p) ((p)[0] = float_to_half(v))
#define STOREN(n, v, p) CAT(bits_store, n)(CAT(float_to_half, n)(v), (p))
#ifdef __ENDIAN_LITTLE__
#define LOADN_STRIDE2(n, p) CAT(half_to_float, n)(CAT(bits_pairs, n)(p))
#endif
#endif
#else /* bfloat16 */
/* Round to nearest even on the top 16 bits; NaN stays a (quiet) NaN. */
#define BF16_BITS_FN(n)                                                                           \
    inline CAT(ushort, n) CAT(bf16_bits, n)(CAT(float, n) v)                                      \
    {                                                                                             \
        const CAT(uint, n) u = CAT(as_uint, n)(v);                                                \
        const CAT(uint, n) r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;                            \
        const CAT(uint, n) q = (u >> 16) | 0x40u;                                                 \
        return CAT(convert_ushort, n)(select(r, q, CAT(as_uint, n)(isnan(v))));                   \
    }
BF16_BITS_FN()
BF16_BITS_FN(2)
BF16_BITS_FN(4)
BF16_BITS_FN(8)
BF16_BITS_FN(16)
#define LOAD1(p) as_float((uint)(p)[0] << 16)
#define LOADN(n, p) CAT(as_float, n)(CAT(convert_uint, n)(CAT(bits_load, n)(p)) << 16)
#define STORE1(v, p) ((p)[0] = bf16_bits(v))
#define STOREN(n, v, p) CAT(bits_store, n)(CAT(bf16_bits, n)(v), (p))
#ifdef __ENDIAN_LITTLE__
#define LOADN_STRIDE2(n, p) CAT(as_float, n)(CAT(bits_pairs, n)(p) << 16)
#endif
#endif
#elif DTYPE == DT_U8 || DTYPE == DT_I8
#if DTYPE == DT_U8
typedef uchar data_t;
#define INT_NAME uchar
#else
typedef char data_t;
#define INT_NAME char
#endif
#define LOAD1(p) ((float)(p)[0])
#define LOADN(n, p) CAT(convert_float, n)(CAT(vload, n)(0, (p)))
#define STORE1(v, p) ((p)[0] = CAT(CAT(convert_, INT_NAME), _sat)(v))
#define STOREN(n, v, p) CAT(vstore, n)(CAT(CAT(CAT(convert_, INT_NAME), n), _sat)(v), 0, (p))
#else
#error "unknown DTYPE"
#endif
