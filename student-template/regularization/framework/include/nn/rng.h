/*
 * rng.h - the one random generator of libnnref: xoshiro256** seeded through
 * splitmix64 (Blackman and Vigna, "Scrambled linear pseudorandom number
 * generators", 2018).
 *
 * There is no global generator. Every function that draws random numbers
 * takes an nn_rng * so that a seed given on the command line reproduces a
 * run byte for byte. Distinct streams (one per worker, one per dataset) come
 * from nn_rng_split().
 */
#ifndef NN_RNG_H
#define NN_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct nn_rng {
    uint64_t state[4];
} nn_rng;

void nn_rng_seed(nn_rng *rng, uint64_t seed);

/* A new generator whose stream is independent of rng's: seeded from one
 * draw of rng mixed with a stream number. */
nn_rng nn_rng_split(nn_rng *rng, uint64_t stream);

uint64_t nn_rng_next(nn_rng *rng);

/* Uniform in [0, 1), 53 random bits. */
double nn_rng_uniform(nn_rng *rng);

/* Uniform in [low, high). */
double nn_rng_uniform_range(nn_rng *rng, double low, double high);

/* Uniform integer in [0, bound), without modulo bias (Lemire's method).
 * bound must be at least 1. */
uint64_t nn_rng_below(nn_rng *rng, uint64_t bound);

/* Standard normal, by the Box-Muller transform; uses two uniforms per call
 * and keeps no cached value, so the stream position is easy to reason about. */
double nn_rng_normal(nn_rng *rng);

/* Fisher-Yates shuffle of an index array. */
void nn_rng_shuffle(nn_rng *rng, size_t *indices, size_t count);

#endif
