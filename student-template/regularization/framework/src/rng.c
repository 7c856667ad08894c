/*
 * rng.c - xoshiro256** and the distributions built on it.
 */
#include "nn/rng.h"

#include <math.h>

/* splitmix64 spreads one 64-bit seed over xoshiro's 256-bit state; its
 * outputs are never all zero, the one state xoshiro must avoid. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotate_left(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void nn_rng_seed(nn_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->state[i] = splitmix64(&seed);
}

nn_rng nn_rng_split(nn_rng *rng, uint64_t stream)
{
    nn_rng child;
    uint64_t mixed = nn_rng_next(rng) ^ (stream * 0xd1342543de82ef95u);
    nn_rng_seed(&child, mixed);
    return child;
}

uint64_t nn_rng_next(nn_rng *rng)
{
    uint64_t *s = rng->state;
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate_left(s[3], 45);
    return result;
}

double nn_rng_uniform(nn_rng *rng)
{
    /* The top 53 bits fill a double's mantissa exactly: 2^-53 spacing. */
    return (double)(nn_rng_next(rng) >> 11) * 0x1.0p-53;
}

double nn_rng_uniform_range(nn_rng *rng, double low, double high)
{
    return low + (high - low) * nn_rng_uniform(rng);
}

uint64_t nn_rng_below(nn_rng *rng, uint64_t bound)
{
    /* Lemire, "Fast random integer generation in an interval" (2019):
     * multiply into 128 bits, reject the few low products that would bias. */
    unsigned __int128 product = (unsigned __int128)nn_rng_next(rng) * bound;
    uint64_t low = (uint64_t)product;
    if (low < bound) {
        uint64_t threshold = -bound % bound;
        while (low < threshold) {
            product = (unsigned __int128)nn_rng_next(rng) * bound;
            low = (uint64_t)product;
        }
    }
    return (uint64_t)(product >> 64);
}

double nn_rng_normal(nn_rng *rng)
{
    /* 1 - u lies in (0, 1], so the logarithm is finite. */
    double u1 = 1.0 - nn_rng_uniform(rng);
    double u2 = nn_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void nn_rng_shuffle(nn_rng *rng, size_t *indices, size_t count)
{
    for (size_t i = count; i > 1; i--) {
        size_t j = (size_t)nn_rng_below(rng, i);
        size_t tmp = indices[i - 1];
        indices[i - 1] = indices[j];
        indices[j] = tmp;
    }
}
