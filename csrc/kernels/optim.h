/* optim.h — optimizer steps: each updates a weight buffer and its slot buffers in place.
 *
 * Legend: n = flat length of one weight; w = the weight (overwritten), g = its gradient
 * (read only); m, v, vhat, mg = per-weight slot buffers of the same length, allocated
 * once by the caller and overwritten here. lr = learning rate. The formulas are Keras'
 * (keras/src/optimizers/{sgd,adam,rmsprop}.py), step for step. Pure C.
 */
#ifndef PC_OPTIM_H
#define PC_OPTIM_H

#include "pc_types.h"

/* SGD. μ = momentum. μ == 0: w −= lr·g (m unused, may be NULL). Otherwise
 * m = μ·m − lr·g, then w += m, or (Nesterov) w += μ·m − lr·g. */
void pc_sgd_step_f32(float *w, const float *g, float *m, pc_index n, float lr, float momentum,
                     int nesterov);
void pc_sgd_step_f64(double *w, const double *g, double *m, pc_index n, double lr,
                     double momentum, int nesterov);

/* Adam at step t (1 for the first update).
 *   α = lr·√(1 − β2^t) / (1 − β1^t)
 *   m += (g − m)·(1 − β1);   v += (g² − v)·(1 − β2)
 *   AMSGrad (vhat != NULL): vhat = max(vhat, v), used in place of v below
 *   w −= α·m / (√v + ε) */
void pc_adam_step_f32(float *w, const float *g, float *m, float *v, float *vhat, pc_index n,
                      float lr, float beta_1, float beta_2, float epsilon, pc_index t);
void pc_adam_step_f64(double *w, const double *g, double *m, double *v, double *vhat,
                      pc_index n, double lr, double beta_1, double beta_2, double epsilon,
                      pc_index t);

/* RMSprop. v = ρ·v + (1 − ρ)·g²; centered (mg != NULL): mg = ρ·mg + (1 − ρ)·g and the
 * denominator is v − mg² + ε, else v + ε;  Δ = lr·g / √denominator;
 * momentum μ > 0 (m != NULL): m = μ·m + Δ, w −= m; else w −= Δ. */
void pc_rmsprop_step_f32(float *w, const float *g, float *v, float *m, float *mg, pc_index n,
                         float lr, float rho, float momentum, float epsilon);
void pc_rmsprop_step_f64(double *w, const double *g, double *v, double *m, double *mg,
                         pc_index n, double lr, double rho, double momentum, double epsilon);

#endif
