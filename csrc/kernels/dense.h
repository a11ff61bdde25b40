/* dense.h — what a fully connected (or convolution) layer does around its GEMM:
 * the bias and the activation fused into one pass, and their backward.
 *
 * Legend: M = rows (samples, or output pixels of a convolution), N = columns
 * (units / filters); y, dy: (M, N) row-major; b, db: (N,).
 * act is a pc_act; activations read the output y in backward (relu: y > 0 ⇔ z > 0).
 * Pure C.
 */
#ifndef PC_DENSE_H
#define PC_DENSE_H

#include "pc_types.h"

typedef enum {
    PC_ACT_LINEAR = 0,
    PC_ACT_RELU = 1,
    PC_ACT_SIGMOID = 2,
    PC_ACT_TANH = 3,
} pc_act;

/* y[m, j] = act(y[m, j] + b[j]); b may be NULL (no bias)           in place */
void pc_bias_act_forward_f32(float *y, const float *b, pc_index M, pc_index N, int act);
void pc_bias_act_forward_f64(double *y, const double *b, pc_index M, pc_index N, int act);

/* dz = dy · act'(z), read from the output y; n = M·N               overwrites dz */
void pc_act_backward_f32(const float *y, const float *dy, float *dz, pc_index n, int act);
void pc_act_backward_f64(const double *y, const double *dy, double *dz, pc_index n, int act);

/* db[j] += Σ_m dz[m, j]; acc: workspace of N doubles                accumulates */
void pc_bias_backward_f32(const float *dz, float *db, pc_index M, pc_index N, double *acc);
void pc_bias_backward_f64(const double *dz, double *db, pc_index M, pc_index N, double *acc);

#endif
