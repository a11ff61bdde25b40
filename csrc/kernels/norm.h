/* norm.h — batch normalisation: per-channel moments, the affine map, the fused
 * backward, the moving statistics. Pure C.
 *
 * Legend: x, y, dx, dy are (A, C, B), C-contiguous: C = the normalised axis (Keras'
 * `axis`), A = the product of the axes before it, B = of those after it (B = 1 for
 * channels_last). Each channel c has n = A·B values.
 *   mean[c] = Σ x / n        var[c] = Σ (x − mean)² / n  (biased, as Keras and torch
 *   normalise)               inv[c] = 1 / √(var + ε)      x̂ = (x − mean) · inv
 *   y = γ · x̂ + β = x · scale + shift,  scale = γ · inv,  shift = β − mean · scale
 * gamma/beta may be NULL (scale=False / center=False: γ = 1, β = 0).
 *
 * Reductions are cut along A into chunks whose size depends on the shape only; each
 * chunk's partial sums go to its own row of the workspace, which is then summed in
 * chunk order — so results are the same for any thread count. Inside a chunk the sums
 * run in the dtype (T) over short stretches (a run of B or K values in 8 lanes, or 64
 * channels-last rows), each then added in double; the elementwise passes compute in T.
 * dx_fresh: dx is uninitialised and written with `=` (else accumulated into).
 * Workspace: pc_norm_workspace(A, C, B) doubles, given by the caller.
 */
#ifndef PC_NORM_H
#define PC_NORM_H

#include "pc_types.h"

/* doubles of workspace the moments and the backward need for this shape */
pc_index pc_norm_workspace(pc_index A, pc_index C, pc_index B);

/* mean, var (C,) of x over A and B                                       overwrites */
void pc_batch_norm_moments_f32(const float *x, pc_index A, pc_index C, pc_index B,
                               double *work, float *mean, float *var);
void pc_batch_norm_moments_f64(const double *x, pc_index A, pc_index C, pc_index B,
                               double *work, double *mean, double *var);

/* inv = 1/√(var + ε), scale = γ·inv, shift = β − mean·scale   (C,)         overwrites */
void pc_batch_norm_coefficients_f32(const float *mean, const float *var, const float *gamma,
                                    const float *beta, double eps, pc_index C, float *inv,
                                    float *scale, float *shift);
void pc_batch_norm_coefficients_f64(const double *mean, const double *var,
                                    const double *gamma, const double *beta, double eps,
                                    pc_index C, double *inv, double *scale, double *shift);

/* y = x · scale[c] + shift[c]                                            overwrites */
void pc_channel_affine_forward_f32(const float *x, const float *scale, const float *shift,
                                   pc_index A, pc_index C, pc_index B, float *y);
void pc_channel_affine_forward_f64(const double *x, const double *scale, const double *shift,
                                   pc_index A, pc_index C, pc_index B, double *y);

/* moving = moving · momentum + batch · (1 − momentum), for the mean and the variance
 * (Keras' rule; torch's momentum is 1 − Keras' and its variance is unbiased)
 *                                                                        overwrites */
void pc_batch_norm_update_moving_f32(float *moving_mean, float *moving_var, const float *mean,
                                     const float *var, pc_index C, double momentum);
void pc_batch_norm_update_moving_f64(double *moving_mean, double *moving_var,
                                     const double *mean, const double *var, pc_index C,
                                     double momentum);

/* With s1 = Σ dy, s2 = Σ dy · x̂ per channel:
 *   dβ += s1        dγ += s2
 *   batch_stats:  dx += γ·inv · (dy − s1/n − x̂ · s2/n)    (mean and inv depend on x)
 *   else:         dx += γ·inv · dy                         (moving statistics: constants)
 * Any of dx, dgamma, dbeta may be NULL (not wanted).
 *                                          accumulates (dx: overwrites when dx_fresh) */
void pc_batch_norm_backward_f32(const float *x, const float *dy, pc_index A, pc_index C,
                                pc_index B, const float *mean, const float *inv,
                                const float *gamma, int batch_stats, double *work, float *dx,
                                int dx_fresh, float *dgamma, float *dbeta);
void pc_batch_norm_backward_f64(const double *x, const double *dy, pc_index A, pc_index C,
                                pc_index B, const double *mean, const double *inv,
                                const double *gamma, int batch_stats, double *work,
                                double *dx, int dx_fresh, double *dgamma, double *dbeta);

/* ---- layer normalisation: each row of x (M, K) normalised over its K values ----------
 *   mean[r], inv[r] = 1/√(var[r] + ε) of row r; y = γ[k]·x̂ + β[k], x̂ = (x − mean)·inv
 *   (γ, β (K,) or NULL). Rows run in parallel; the column sums of the backward use the
 *   same shape-only chunks as above (workspace pc_norm_workspace(M, K, 1)).       */

/* y, mean, inv                                                           overwrites */
void pc_layer_norm_forward_f32(const float *x, pc_index M, pc_index K, const float *gamma,
                               const float *beta, double eps, float *y, float *mean,
                               float *inv);
void pc_layer_norm_forward_f64(const double *x, pc_index M, pc_index K, const double *gamma,
                               const double *beta, double eps, double *y, double *mean,
                               double *inv);

/* With g = dy·γ per row:  dx += inv · (g − mean_k(g) − x̂ · mean_k(g·x̂))
 *   dγ[k] += Σ_r dy·x̂,  dβ[k] += Σ_r dy.  dx, dgamma, dbeta may be NULL.
 *                                          accumulates (dx: overwrites when dx_fresh) */
void pc_layer_norm_backward_f32(const float *x, const float *dy, pc_index M, pc_index K,
                                const float *mean, const float *inv, const float *gamma,
                                double *work, float *dx, int dx_fresh, float *dgamma,
                                float *dbeta);
void pc_layer_norm_backward_f64(const double *x, const double *dy, pc_index M, pc_index K,
                                const double *mean, const double *inv, const double *gamma,
                                double *work, double *dx, int dx_fresh, double *dgamma,
                                double *dbeta);

#endif
