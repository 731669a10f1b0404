/*
 * dtype.cl: how kernels load and store the element types of clpool (included
 * by the pooling kernels; the library splices it in before building).
 *
 * Every type is computed in `real_t`: float, or double for float64. float16
 * and bfloat16 are storage only (vload_half and a 16-bit shift: no
 * cl_khr_fp16 needed), rounded to nearest even once on store. uint8 and int8
 * load as exact floats and store with saturation.
 *
 * Macros:
 *   DTYPE   the clpool_dtype value: 0 float32, 1 float16, 2 bfloat16,
 *           3 float64, 4 uint8, 5 int8
 * Provides: data_t (the storage type), real_t (= REAL), IS_INTEGER, LOAD1(p),
 * LOADN(n, p) (n = 2, 4, 8 or 16 contiguous elements as a real_t vector),
 * STORE1(v, p), STOREN(n, v, p).
 */
#ifndef DTYPE
#define DTYPE 0
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
#elif DTYPE == DT_F16
typedef half data_t;
#define LOAD1(p) vload_half(0, (p))
#define LOADN(n, p) CAT(vload_half, n)(0, (p))
#define STORE1(v, p) vstore_half_rte((v), 0, (p))
#define STOREN(n, v, p) CAT(CAT(vstore_half, n), _rte)((v), 0, (p))
#elif DTYPE == DT_BF16
typedef ushort data_t;
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
#define LOADN(n, p) CAT(as_float, n)(CAT(convert_uint, n)(CAT(vload, n)(0, (p))) << 16)
#define STORE1(v, p) ((p)[0] = bf16_bits(v))
#define STOREN(n, v, p) CAT(vstore, n)(CAT(bf16_bits, n)(v), 0, (p))
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
