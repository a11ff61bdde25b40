/* random.h — one seedable generator (xoshiro256**) and the fills built on it:
 * the weight initializers (Keras formulas), dropout masks and their use. Pure C.
 *
 * Legend: n = flat length; x = the buffer filled (overwritten).
 * Keras' variance-scaling initializers, with fan_in / fan_out of the weight shape:
 *   glorot_uniform  U(−l, l), l = √(6 / (fan_in + fan_out))
 *   glorot_normal   truncated N(0, σ²), σ = √(1 / ((fan_in + fan_out)/2)) / 0.8796…
 *   he_uniform      U(−l, l), l = √(6 / fan_in)
 *   he_normal       truncated N(0, σ²), σ = √(2 / fan_in) / 0.8796…
 * "Truncated" redraws every value beyond 2σ, as Keras/TensorFlow do; 0.87962566…
 * is the standard deviation of a unit normal truncated to [−2, 2], so dividing by
 * it restores the intended variance.
 */
#ifndef PC_RANDOM_H
#define PC_RANDOM_H

#include <stdint.h>

#include "pc_types.h"

typedef struct {
    uint64_t s[4];
} pc_rng;

/* The state from one 64-bit seed (splitmix64), as the xoshiro authors advise. */
void pc_rng_seed(pc_rng *rng, uint64_t seed);
uint64_t pc_rng_next(pc_rng *rng);
double pc_rng_uniform(pc_rng *rng);             /* [0, 1), 53 random bits */
double pc_rng_normal(pc_rng *rng);              /* N(0, 1), Marsaglia's polar method */

/* x[i] ~ U(low, high)                                               overwrites */
void pc_fill_uniform_f32(pc_rng *rng, float *x, pc_index n, double low, double high);
void pc_fill_uniform_f64(pc_rng *rng, double *x, pc_index n, double low, double high);
/* x[i] ~ N(0, stddev²) redrawn until |x[i]| ≤ 2 stddev               overwrites */
void pc_fill_truncated_normal_f32(pc_rng *rng, float *x, pc_index n, double stddev);
void pc_fill_truncated_normal_f64(pc_rng *rng, double *x, pc_index n, double stddev);
/* x[i] = value                                                      overwrites */
void pc_fill_constant_f32(float *x, pc_index n, double value);
void pc_fill_constant_f64(double *x, pc_index n, double value);
/* Inverted dropout mask: m[i] = 0 with probability rate, else 1 / (1 − rate).
 * 0 ≤ rate < 1.                                                     overwrites */
void pc_dropout_mask_f32(pc_rng *rng, float *m, pc_index n, double rate);
void pc_dropout_mask_f64(pc_rng *rng, double *m, pc_index n, double rate);

/* y = x · m                                                        overwrites y */
void pc_dropout_forward_f32(const float *x, const float *m, float *y, pc_index n);
void pc_dropout_forward_f64(const double *x, const double *m, double *y, pc_index n);
/* dx += dy · m                                                     accumulates */
void pc_dropout_backward_f32(const float *dy, const float *m, float *dx, pc_index n);
void pc_dropout_backward_f64(const double *dy, const double *m, double *dx, pc_index n);

#endif
