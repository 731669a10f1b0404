/*
 * The counter-based generator of the stochastic operators (kernels/random.cl
 * computes the same bits on the device): a draw is a pure function of (seed,
 * plane, output position), so results never depend on the device, the
 * work-group size or how planes are split into launches.
 */
#include "clpool.h"

/* splitmix64's step and finaliser (Steele, Lea & Flood, OOPSLA 2014). */
static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

float clpool_uniform(uint64_t seed, uint64_t plane, uint64_t position)
{
    uint64_t h = mix(seed ^ mix(plane ^ mix(position)));
    return (float)(h >> 40) * 0x1p-24f;
}
