/* activation.h — activation kernels beyond the core element-wise maps: leaky_relu, elu,
 * softmax, log_softmax, naive_normalize, maxout (swish: elementwise.h).
 *
 * Legend: n = flat length; x, z = input, y = output; dx, dz, dy = their gradients.
 * Axis ops see the array as (outer, K, inner) with the axis of length K in the middle
 * (inner = 1 for the last axis). Forward kernels overwrite y; backward kernels
 * ACCUMULATE (dx += ...): a tensor's gradient is the sum over its children. Pure C.
 */
#ifndef PC_ACTIVATION_H
#define PC_ACTIVATION_H

#include "pc_types.h"

/* ---- float ---- */
/* leaky_relu, elu: x, y, dy, dx (n,); α a plain value */
void pc_leaky_relu_forward_f32(const float *x, float *y, pc_index n, float alpha);
void pc_leaky_relu_backward_f32(const float *x, const float *dy, float *dx, pc_index n,
                                float alpha);
void pc_elu_forward_f32(const float *x, float *y, pc_index n, float alpha);
void pc_elu_backward_f32(const float *x, const float *dy, float *dx, pc_index n, float alpha);
/* along an axis: (outer, K, inner) */
void pc_softmax_forward_f32(const float *z, float *y, pc_index outer, pc_index K, pc_index inner);
void pc_softmax_backward_f32(const float *y, const float *dy, float *dz, pc_index outer, pc_index K,
                             pc_index inner);
void pc_log_softmax_forward_f32(const float *z, float *y, pc_index outer, pc_index K,
                                pc_index inner);
void pc_log_softmax_backward_f32(const float *y, const float *dy, float *dz, pc_index outer,
                                 pc_index K, pc_index inner);
void pc_naive_normalize_forward_f32(const float *z, float *y, pc_index outer, pc_index K,
                                    pc_index inner);
void pc_naive_normalize_backward_f32(const float *z, const float *dy, float *dz, pc_index outer,
                                     pc_index K, pc_index inner);
/* maxout: x (outer, U·P, inner) -> y (outer, U, inner) */
void pc_maxout_forward_f32(const float *x, float *y, pc_index outer, pc_index U, pc_index P,
                           pc_index inner);
void pc_maxout_backward_f32(const float *x, const float *dy, float *dx, pc_index outer, pc_index U,
                            pc_index P, pc_index inner);

/* ---- double ---- */
/* leaky_relu, elu: x, y, dy, dx (n,); α a plain value */
void pc_leaky_relu_forward_f64(const double *x, double *y, pc_index n, double alpha);
void pc_leaky_relu_backward_f64(const double *x, const double *dy, double *dx, pc_index n,
                                double alpha);
void pc_elu_forward_f64(const double *x, double *y, pc_index n, double alpha);
void pc_elu_backward_f64(const double *x, const double *dy, double *dx, pc_index n, double alpha);
/* along an axis: (outer, K, inner) */
void pc_softmax_forward_f64(const double *z, double *y, pc_index outer, pc_index K,
                            pc_index inner);
void pc_softmax_backward_f64(const double *y, const double *dy, double *dz, pc_index outer,
                             pc_index K, pc_index inner);
void pc_log_softmax_forward_f64(const double *z, double *y, pc_index outer, pc_index K,
                                pc_index inner);
void pc_log_softmax_backward_f64(const double *y, const double *dy, double *dz, pc_index outer,
                                 pc_index K, pc_index inner);
void pc_naive_normalize_forward_f64(const double *z, double *y, pc_index outer, pc_index K,
                                    pc_index inner);
void pc_naive_normalize_backward_f64(const double *z, const double *dy, double *dz,
                                     pc_index outer, pc_index K, pc_index inner);
/* maxout: x (outer, U·P, inner) -> y (outer, U, inner) */
void pc_maxout_forward_f64(const double *x, double *y, pc_index outer, pc_index U, pc_index P,
                           pc_index inner);
void pc_maxout_backward_f64(const double *x, const double *dy, double *dx, pc_index outer,
                            pc_index U, pc_index P, pc_index inner);

#endif
