/*
 * fractional_common.cl: what fractional max pooling (fractional_pool.cl)
 * and its gradient (fractional_backward.cl) share: the counter-based
 * generator that draws the samples and torch's window starts (spec
 * section 6). Needs dtype.cl (real_t) first.
 */
/* The counter-based generator (src/random.c computes the same bits). */
inline ulong mix64(ulong z)
{
    z += 0x9E3779B97F4A7C15UL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
    return z ^ (z >> 31);
}

inline float uniform01(ulong seed, ulong plane, ulong position)
{
    return (float)(mix64(seed ^ mix64(plane ^ mix64(position))) >> 40) * 0x1p-24f;
}

/* torch's generate_intervals, element i: the last window is flush with the
 * end, the others start at (int)((i + u) * alpha) - (int)(u * alpha). */
inline int window_start(int i, int in, int out, int k, real_t alpha, real_t u)
{
    if (i == out - 1)
        return in - k;
    const int start = (int)(((real_t)i + u) * alpha) - (int)(u * alpha);
    /* a no-op for samples in [0, 1); others (NaN, negative, >= 1) must not
     * move a window outside the input */
    return clamp(start, 0, in - k);
}
