/*
 * unpool_backward.cl: the gradient of max unpooling (spec section 7), a pure
 * gather: grad_input[n, c, i] = grad_output[n, c].flat[indices[n, c, i]].
 * One work-item per element of grad_input (the pooled tensor's shape); each
 * reads one element, so duplicates all receive the same gradient and the
 * result cannot depend on scheduling. Elements are copied as raw bits (the
 * gradient is the value itself, no arithmetic), so float64 needs no
 * cl_khr_fp64. An index outside its output plane (which clpool_run_host_io
 * refuses before running) gives 0 and reads nothing.
 *
 * Launches cover units (NCHW: planes of S elements; NHWC: samples of S*C).
 *
 * Macros: ELEM_BYTES (2, 4 or 8), INDEX_T (int or long), NHWC (0 or 1).
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

#if ELEM_BYTES == 2
typedef ushort elem_t;
#elif ELEM_BYTES == 4
typedef uint elem_t;
#elif ELEM_BYTES == 8
typedef ulong elem_t;
#else
#error "ELEM_BYTES must be 2, 4 or 8"
#endif

/* run: s0 grad_output offset, s1 indices offset, s2 grad_input offset,
 * s3 unit_begin, s4 items, s5 input plane size S, s6 output plane size OS,
 * s7 channels C */
__kernel void unpool_backward(__global const elem_t *restrict grad_out,
                              __global const INDEX_T *restrict indices,
                              __global elem_t *restrict grad_in, ulong8 run)
{
    const ulong gid = get_global_id(0);
    if (gid >= run.s4)
        return;
    const ulong S = run.s5, OS = run.s6;
#if NHWC
    const ulong C = run.s7, unit_size = S * C;
#else
    const ulong unit_size = S;
#endif
    const ulong e = run.s3 * unit_size + gid; /* element of grad_input and indices */
    const long q = (long)indices[run.s1 + e];
    elem_t v = 0;
    if (q >= 0 && (ulong)q < OS) {
#if NHWC
        const ulong n = e / unit_size, c = e % C;
        v = grad_out[run.s0 + (n * OS + (ulong)q) * C + c];
#else
        const ulong plane = e / S;
        v = grad_out[run.s0 + plane * OS + (ulong)q];
#endif
    }
    grad_in[run.s2 + e] = v;
}
