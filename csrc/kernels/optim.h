/* optim.h — optimizer steps: each updates a weight buffer and its slot buffers in place,
 * in one pass.
 *
 * Legend: n = flat length of one weight; w = the weight (overwritten), g = its gradient
 * (read only); m, v, vhat, mg, acc, ... = per-weight slot buffers of the same length,
 * allocated once by the caller and overwritten here; ema = the weight's moving average
 * (a slot too, or NULL). lr = learning rate. The formulas are Keras 3's as its torch
 * backend runs them (keras/src/optimizers/<name>.py and
 * keras/src/backend/torch/optimizers/torch_<name>.py), step for step. Pure C.
 *
 * Every step does the same around its own formula, in Keras' order (base_optimizer.py
 * _backend_apply_gradients: clip, decay, update, moving average), per element:
 *   g ← g·grad_scale                      clipnorm / global_clipnorm (1: none)
 *   g ← min(max(g, −clipvalue), clipvalue)  clipvalue > 0 (0: none)
 *   w ← w·(1 − decay)                     decoupled weight decay, decay = weight_decay·lr
 *   ... the optimizer's own update of w and its slots, from g ...
 *   ema ← μ·ema + (1 − μ)·w               ema != NULL; μ = ema_momentum (0 on step 1)
 * grad_scale is computed by the caller, which sees every gradient (the global norm).
 */
#ifndef PC_OPTIM_H
#define PC_OPTIM_H

#include "pc_types.h"

/* What every step does besides its own formula (above). pc_optim_plain: nothing. */
typedef struct pc_optim_common {
    double grad_scale;          /* every gradient element is multiplied by this first */
    double clipvalue;           /* > 0: then clipped to [−clipvalue, clipvalue]; 0: not */
    double decay;               /* w ← w·(1 − decay) before the update; 0: none */
    double ema_momentum;        /* μ of the moving average (read when ema != NULL) */
} pc_optim_common;

extern const pc_optim_common pc_optim_plain;   /* {1, 0, 0, 0} */

/* SGD. μ = momentum. μ == 0: w −= lr·g (m unused, may be NULL). Otherwise
 * m = μ·m − lr·g, then w += m, or (Nesterov) w += μ·m − lr·g. */
void pc_sgd_step_f32(float *w, const float *g, float *m, float *ema, pc_index n,
                     const pc_optim_common *c, float lr, float momentum, int nesterov);
void pc_sgd_step_f64(double *w, const double *g, double *m, double *ema, pc_index n,
                     const pc_optim_common *c, double lr, double momentum, int nesterov);

/* Adam (and AdamW: Adam with decay) at step t (1 for the first update).
 *   α = lr·√(1 − β2^t) / (1 − β1^t)
 *   m += (g − m)·(1 − β1);   v += (g² − v)·(1 − β2)
 *   AMSGrad (vhat != NULL): vhat = max(vhat, v), used in place of v below
 *   w −= α·m / (√v + ε) */
void pc_adam_step_f32(float *w, const float *g, float *m, float *v, float *vhat, float *ema,
                      pc_index n, const pc_optim_common *c, float lr, float beta_1,
                      float beta_2, float epsilon, pc_index t);
void pc_adam_step_f64(double *w, const double *g, double *m, double *v, double *vhat,
                      double *ema, pc_index n, const pc_optim_common *c, double lr,
                      double beta_1, double beta_2, double epsilon, pc_index t);

/* RMSprop. v = ρ·v + (1 − ρ)·g²; centered (mg != NULL): mg = ρ·mg + (1 − ρ)·g and the
 * denominator is v − mg² + ε, else v + ε;  Δ = lr·g / √denominator;
 * momentum μ > 0 (m != NULL): m = μ·m + Δ, w −= m; else w −= Δ. */
void pc_rmsprop_step_f32(float *w, const float *g, float *v, float *m, float *mg, float *ema,
                         pc_index n, const pc_optim_common *c, float lr, float rho,
                         float momentum, float epsilon);
void pc_rmsprop_step_f64(double *w, const double *g, double *v, double *m, double *mg,
                         double *ema, pc_index n, const pc_optim_common *c, double lr,
                         double rho, double momentum, double epsilon);

/* Nadam (Dozat) at step t, Keras' momentum schedule u_s = β1·(1 − ½·0.96^s):
 *   u_product = Π_{s≤t} u_s (kept by the caller across steps, this step's u_t included)
 *   m += (g − m)·(1 − β1);   v += (g² − v)·(1 − β2)
 *   m̂ = u_{t+1}·m / (1 − u_product·u_{t+1}) + (1 − u_t)·g / (1 − u_product)
 *   v̂ = v / (1 − β2^t);   w −= lr·m̂ / (√v̂ + ε) */
void pc_nadam_step_f32(float *w, const float *g, float *m, float *v, float *ema, pc_index n,
                       const pc_optim_common *c, float lr, float beta_1, float beta_2,
                       float epsilon, pc_index t, float u_product);
void pc_nadam_step_f64(double *w, const double *g, double *m, double *v, double *ema,
                       pc_index n, const pc_optim_common *c, double lr, double beta_1,
                       double beta_2, double epsilon, pc_index t, double u_product);

/* Adagrad. acc += g² (acc starts at initial_accumulator_value);
 *   w −= lr·g / √(acc + ε) */
void pc_adagrad_step_f32(float *w, const float *g, float *acc, float *ema, pc_index n,
                         const pc_optim_common *c, float lr, float epsilon);
void pc_adagrad_step_f64(double *w, const double *g, double *acc, double *ema, pc_index n,
                         const pc_optim_common *c, double lr, double epsilon);

/* Adadelta (Zeiler). ag = accumulated g², ad = accumulated Δ²:
 *   ag = ρ·ag + (1 − ρ)·g²;   Δ = −√(ad + ε)·g / √(ag + ε)
 *   ad = ρ·ad + (1 − ρ)·Δ²;   w += lr·Δ */
void pc_adadelta_step_f32(float *w, const float *g, float *ag, float *ad, float *ema,
                          pc_index n, const pc_optim_common *c, float lr, float rho,
                          float epsilon);
void pc_adadelta_step_f64(double *w, const double *g, double *ag, double *ad, double *ema,
                          pc_index n, const pc_optim_common *c, double lr, double rho,
                          double epsilon);

/* Lion (Chen et al. 2023):  w −= lr·sign(β1·m + (1 − β1)·g);  m = β2·m + (1 − β2)·g
 * (sign(0) = 0) */
void pc_lion_step_f32(float *w, const float *g, float *m, float *ema, pc_index n,
                      const pc_optim_common *c, float lr, float beta_1, float beta_2);
void pc_lion_step_f64(double *w, const double *g, double *m, double *ema, pc_index n,
                      const pc_optim_common *c, double lr, double beta_1, double beta_2);

/* The moving average alone, for a weight that got no gradient this step:
 *   ema = μ·ema + (1 − μ)·w */
void pc_ema_step_f32(const float *w, float *ema, pc_index n, float ema_momentum);
void pc_ema_step_f64(const double *w, double *ema, pc_index n, double ema_momentum);

#endif
