/* random.c — the xoshiro256** generator (Blackman & Vigna, public domain reference
 * at prng.di.unimi.it) and the instantiation of random_impl.h. */
#include <math.h>

#include "random.h"

static uint64_t
splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void
pc_rng_seed(pc_rng *rng, uint64_t seed)
{
    for (int k = 0; k < 4; k++)
        rng->s[k] = splitmix64(&seed);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
pc_rng_next(pc_rng *rng)
{
    uint64_t *s = rng->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double
pc_rng_uniform(pc_rng *rng)
{
    return (double)(pc_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* One value per call; the polar method's second value is discarded so that the
 * stream depends only on how many values were drawn. */
double
pc_rng_normal(pc_rng *rng)
{
    double u, v, s;
    do {
        u = 2.0 * pc_rng_uniform(rng) - 1.0;
        v = 2.0 * pc_rng_uniform(rng) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

#include "dtype_f32.h"
#include "random_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "random_impl.h"
#include "dtype_undef.h"
