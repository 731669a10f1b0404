/*
 * unpool.cl: max unpooling (spec section 7). The workspace starts with 4
 * ints of flags: [0] set when an index is outside its output plane, [1] the
 * lowest such input element (numbered plane by plane, as uint). Two
 * strategies, the same result (the last duplicate in row-major order of the
 * input plane wins; no race decides it):
 *
 * "winners" (GPUs, few planes): int32 winners, one per output element, at
 * int offset 4 of the workspace:
 *   unpool_reset  every winner = -1, flags cleared;
 *   unpool_claim  one work-item per input element: an index outside its
 *                 output plane sets the flag; otherwise atomic_max of the
 *                 element's in-plane position on the winner it points to;
 *   unpool_write  one work-item per output element: nothing at all when the
 *                 flag is set, else the winning input element or zero.
 * "serial" (CPUs with many planes): no winners,
 *   unpool_reset  (one work-item) flags cleared;
 *   unpool_claim  checks every index and sets the flag, claims nothing;
 *   unpool_scatter one work-item per plane (NHWC: per sample and group of
 *                 channels): nothing when the flag is set, else zeros, then
 *                 each input element written in row-major order, so the
 *                 last write of a duplicate is the row-major last.
 * Elements are copied as raw bits (every dtype of ELEM_BYTES bytes), so the
 * kernels need no floating-point type and zero is all-zero bits.
 *
 * Launches cover whole "units" (NCHW: planes of S elements; NHWC: samples of
 * S*C elements) from run's unit_begin; work-item g of a launch takes element
 * unit_begin*unit_size + g of its tensor (scatter: work-item g takes group g
 * of the launch's units).
 *
 * Macros (defaults let the file compile alone):
 *   ELEM_BYTES  1, 2, 4 or 8
 *   INDEX_T     int or long
 *   NHWC        1 for channels-last tensors
 */
#ifndef ELEM_BYTES
#define ELEM_BYTES 4
#endif
#ifndef INDEX_T
#define INDEX_T long
#endif
#ifndef NHWC
#define NHWC 0
#endif

#if ELEM_BYTES == 1
typedef uchar elem_t;
#elif ELEM_BYTES == 2
typedef ushort elem_t;
#elif ELEM_BYTES == 4
typedef uint elem_t;
#elif ELEM_BYTES == 8
typedef ulong elem_t;
#else
#error "ELEM_BYTES must be 1, 2, 4 or 8"
#endif

#define WINNERS 4 /* ints of flags before the winners */

/* run: s0 workspace offset (ints), s1 unit_begin, s2 items, s3 output unit
 * size (0: no winners, only the flags) */
__kernel void unpool_reset(__global int *restrict ws, ulong8 run)
{
    const uint gid = (uint)get_global_id(0);
    if (gid >= run.s2)
        return;
    __global int *w = ws + run.s0;
    if (run.s1 == 0 && gid == 0) {
        w[0] = 0;
        w[1] = -1; /* 0xFFFFFFFF: no bad element yet (compared as uint) */
    }
    if (run.s3 != 0)
        w[WINNERS + run.s1 * run.s3 + gid] = -1;
}

/* run: s0 indices offset, s1 workspace offset (ints), s2 unit_begin, s3 items,
 * s4 input plane size S, s5 output plane size OS, s6 channels C, s7 1: claim
 * (winners), 0: only check */
__kernel void unpool_claim(__global const INDEX_T *restrict indices, __global int *ws, ulong8 run)
{
    const uint gid = (uint)get_global_id(0);
    if (gid >= run.s3)
        return;
    const ulong S = run.s4, OS = run.s5;
#if NHWC
    const ulong C = run.s6;
    const uint unit_size = (uint)(S * C);
#else
    const uint unit_size = (uint)S;
#endif
    const ulong unit = run.s2 + gid / unit_size;
    const uint r = gid % unit_size;
#if NHWC
    const uint c = r % (uint)C, pos = r / (uint)C;
    const ulong plane = unit * C + c;
#else
    const uint pos = r;
    const ulong plane = unit;
#endif
    const long q = (long)indices[run.s0 + run.s2 * unit_size + gid];
    __global int *w = ws + run.s1;
    if (q < 0 || (ulong)q >= OS) {
        const ulong bad = plane * S + pos;
        atomic_or((volatile __global uint *)w, 1u);
        atomic_min((volatile __global uint *)(w + 1), bad < 0xFFFFFFFFUL ? (uint)bad : 0xFFFFFFFFu);
        return;
    }
    if (run.s7 == 0)
        return;
#if NHWC
    const ulong out_pos = (unit * OS + (ulong)q) * C + c;
#else
    const ulong out_pos = unit * OS + (ulong)q;
#endif
    atomic_max((volatile __global int *)(w + WINNERS + out_pos), (int)pos);
}

/* run: s0 input offset, s1 output offset, s2 workspace offset (ints),
 * s3 unit_begin, s4 items, s5 input plane size S, s6 output plane size OS,
 * s7 channels C */
__kernel void unpool_write(__global const elem_t *restrict x, __global elem_t *restrict out,
                           __global const int *restrict ws, ulong8 run)
{
    const uint gid = (uint)get_global_id(0);
    if (gid >= run.s4)
        return;
    __global const int *w = ws + run.s2;
    if (w[0] != 0)
        return; /* an index was out of range: write nothing */
    const ulong S = run.s5, OS = run.s6;
#if NHWC
    const ulong C = run.s7;
    const uint unit_size = (uint)(OS * C);
#else
    const uint unit_size = (uint)OS;
#endif
    const ulong o = run.s3 * unit_size + gid;
    const int winner = w[WINNERS + o];
    elem_t v = 0;
    if (winner >= 0) {
        const ulong unit = run.s3 + gid / unit_size;
#if NHWC
        const uint c = (gid % unit_size) % (uint)C;
        v = x[run.s0 + (unit * S + (ulong)winner) * C + c];
#else
        v = x[run.s0 + unit * S + (ulong)winner];
#endif
    }
    out[run.s1 + o] = v;
}

/* run: s0 input offset, s1 output offset, s2 indices offset, s3 workspace
 * offset (ints), s4 unit_begin, s5 items, s6 input plane size S, s7 output
 * plane size OS. cg: channels C, channels per work-item G (NHWC). */
__kernel void unpool_scatter(__global const elem_t *restrict x, __global elem_t *restrict out,
                             __global const INDEX_T *restrict indices,
                             __global const int *restrict ws, ulong8 run, int2 cg)
{
    const uint gid = (uint)get_global_id(0);
    if (gid >= run.s5)
        return;
    if (ws[run.s3] != 0)
        return; /* an index was out of range: write nothing */
    const ulong S = run.s6, OS = run.s7;
#if NHWC
    const uint C = (uint)cg.s0, G = (uint)cg.s1, groups = (C + G - 1) / G;
    const ulong n = run.s4 + gid / groups;
    const uint c0 = (gid % groups) * G, c1 = min(C, c0 + G);
    __global elem_t *o = out + run.s1 + n * OS * C;
    __global const elem_t *xp = x + run.s0 + n * S * C;
    __global const INDEX_T *ip = indices + run.s2 + n * S * C;
    for (ulong q = 0; q < OS; q++)
        for (uint c = c0; c < c1; c++)
            o[q * C + c] = 0;
    for (ulong p = 0; p < S; p++)
        for (uint c = c0; c < c1; c++) {
            const long q = (long)ip[p * C + c];
            if (q >= 0 && (ulong)q < OS)
                o[(ulong)q * C + c] = xp[p * C + c];
        }
#else
    const ulong plane = run.s4 + gid;
    __global elem_t *o = out + run.s1 + plane * OS;
    __global const elem_t *xp = x + run.s0 + plane * S;
    __global const INDEX_T *ip = indices + run.s2 + plane * S;
    for (ulong q = 0; q < OS; q++)
        o[q] = 0;
    for (ulong p = 0; p < S; p++) {
        const long q = (long)ip[p];
        if (q >= 0 && (ulong)q < OS) /* always, once the flag is clear */
            o[q] = xp[p];
    }
#endif
}
