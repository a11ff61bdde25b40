/* optim_impl.h — template body, no include guard. Needs T, SFX(name), SQRT, POW.
 * Instantiated twice by optim.c (float, double). Legend and formulas: see optim.h.
 * Every step overwrites w and its slots in place, in one pass; nothing is allocated.
 * Each element: gradient in (scale, clip), weight decay, the optimizer's own update,
 * moving average out — the frame helpers below, shared by every step. */

/* pc_optim_common in T, read once per call */
typedef struct {
    T scale, clip, keep, ema_momentum, ema_rest;
    int clipping;
} SFX(pc_optim_frame);

static inline SFX(pc_optim_frame)
SFX(pc_optim_frame_of)(const pc_optim_common *c)
{
    SFX(pc_optim_frame) f;
    f.scale = (T)c->grad_scale;
    f.clip = (T)c->clipvalue;
    f.clipping = c->clipvalue > 0;
    f.keep = (T)(1.0 - c->decay);
    f.ema_momentum = (T)c->ema_momentum;
    f.ema_rest = (T)1 - f.ema_momentum;
    return f;
}

/* g·scale, then clipped to [−clip, clip] when clipping (NaN stays NaN) */
static inline T
SFX(pc_optim_grad)(const SFX(pc_optim_frame) *f, T g)
{
    g *= f->scale;
    if (f->clipping)
        g = g < -f->clip ? -f->clip : (g > f->clip ? f->clip : g);
    return g;
}

/* ema = μ·ema + (1 − μ)·w, for the weight's value after its update */
static inline void
SFX(pc_optim_average)(const SFX(pc_optim_frame) *f, T *ema, pc_index i, T w)
{
    if (ema != NULL)
        ema[i] = f->ema_momentum * ema[i] + f->ema_rest * w;
}

/* m = μ·m − lr·g;  w += m  (Nesterov: w += μ·m − lr·g)        w, g, m, ema: (n,) */
void
SFX(pc_sgd_step)(T *w, const T *g, T *m, T *ema, pc_index n, const pc_optim_common *c, T lr,
                 T momentum, int nesterov)
{
    const SFX(pc_optim_frame) f = SFX(pc_optim_frame_of)(c);
    const int plain = m == NULL || momentum == (T)0;

    for (pc_index i = 0; i < n; i++) {
        const T gi = SFX(pc_optim_grad)(&f, g[i]);
        w[i] *= f.keep;
        if (plain) {
            w[i] -= gi * lr;
        }
        else {
            m[i] = m[i] * momentum - gi * lr;
            w[i] += nesterov ? m[i] * momentum - gi * lr : m[i];
        }
        SFX(pc_optim_average)(&f, ema, i, w[i]);
    }
}

/* α = lr·√(1 − β2^t)/(1 − β1^t);  m += (g − m)(1 − β1);  v += (g² − v)(1 − β2);
 * w −= α·m / (√v + ε)      (AMSGrad: √vhat, vhat = max(vhat, v))   w, g, m, v, vhat: (n,) */
void
SFX(pc_adam_step)(T *w, const T *g, T *m, T *v, T *vhat, T *ema, pc_index n,
                  const pc_optim_common *c, T lr, T beta_1, T beta_2, T epsilon, pc_index t)
{
    const SFX(pc_optim_frame) f = SFX(pc_optim_frame_of)(c);
    const T beta_1_power = POW(beta_1, (T)t);
    const T beta_2_power = POW(beta_2, (T)t);
    const T alpha = lr * SQRT((T)1 - beta_2_power) / ((T)1 - beta_1_power);
    const T one_minus_beta_1 = (T)1 - beta_1, one_minus_beta_2 = (T)1 - beta_2;

    for (pc_index i = 0; i < n; i++) {
        const T gi = SFX(pc_optim_grad)(&f, g[i]);
        w[i] *= f.keep;
        m[i] += (gi - m[i]) * one_minus_beta_1;
        v[i] += (gi * gi - v[i]) * one_minus_beta_2;
        T second = v[i];
        if (vhat != NULL) {
            vhat[i] = vhat[i] > v[i] ? vhat[i] : v[i];
            second = vhat[i];
        }
        w[i] -= (m[i] * alpha) / (SQRT(second) + epsilon);
        SFX(pc_optim_average)(&f, ema, i, w[i]);
    }
}

/* v = ρv + (1 − ρ)g²;  [mg = ρ·mg + (1 − ρ)g];  Δ = lr·g/√(v [− mg²] + ε);
 * w −= Δ, or with momentum m = μm + Δ, w −= m            w, g, v, m, mg: (n,) */
void
SFX(pc_rmsprop_step)(T *w, const T *g, T *v, T *m, T *mg, T *ema, pc_index n,
                     const pc_optim_common *c, T lr, T rho, T momentum, T epsilon)
{
    const SFX(pc_optim_frame) f = SFX(pc_optim_frame_of)(c);
    const T one_minus_rho = (T)1 - rho;

    for (pc_index i = 0; i < n; i++) {
        const T gi = SFX(pc_optim_grad)(&f, g[i]);
        w[i] *= f.keep;
        v[i] = rho * v[i] + one_minus_rho * (gi * gi);
        T denominator = v[i] + epsilon;
        if (mg != NULL) {
            mg[i] = rho * mg[i] + one_minus_rho * gi;
            denominator = v[i] - mg[i] * mg[i] + epsilon;
        }
        const T increment = (lr * gi) / SQRT(denominator);
        if (m != NULL) {
            m[i] = momentum * m[i] + increment;
            w[i] -= m[i];
        }
        else {
            w[i] -= increment;
        }
        SFX(pc_optim_average)(&f, ema, i, w[i]);
    }
}

/* m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²;
 * m̂ = m·u_{t+1}/(1 − Πu·u_{t+1}) + g·(1 − u_t)/(1 − Πu);  v̂ = v/(1 − β2^t);
 * w −= m̂·lr / (√v̂ + ε)        (the torch backend's order)   w, g, m, v, ema: (n,) */
void
SFX(pc_nadam_step)(T *w, const T *g, T *m, T *v, T *ema, pc_index n,
                   const pc_optim_common *c, T lr, T beta_1, T beta_2, T epsilon, pc_index t,
                   T u_product)
{
    const SFX(pc_optim_frame) f = SFX(pc_optim_frame_of)(c);
    const T decay = (T)0.96;
    const T u_t = beta_1 * ((T)1 - (T)0.5 * POW(decay, (T)t));
    const T u_next = beta_1 * ((T)1 - (T)0.5 * POW(decay, (T)(t + 1)));
    const T m_divisor = (T)1 - u_product * u_next, g_divisor = (T)1 - u_product;
    const T g_weight = (T)1 - u_t;
    const T v_divisor = (T)1 - POW(beta_2, (T)t);
    const T one_minus_beta_1 = (T)1 - beta_1, one_minus_beta_2 = (T)1 - beta_2;

    for (pc_index i = 0; i < n; i++) {
        const T gi = SFX(pc_optim_grad)(&f, g[i]);
        w[i] *= f.keep;
        m[i] = m[i] * beta_1 + gi * one_minus_beta_1;
        v[i] = v[i] * beta_2 + (gi * gi) * one_minus_beta_2;
        const T m_hat = (m[i] * u_next) / m_divisor + (gi * g_weight) / g_divisor;
        const T v_hat = v[i] / v_divisor;
        w[i] -= (m_hat * lr) / (SQRT(v_hat) + epsilon);
        SFX(pc_optim_average)(&f, ema, i, w[i]);
    }
}

/* acc += g²;  w −= g·lr / √(acc + ε)                          w, g, acc, ema: (n,) */
void
SFX(pc_adagrad_step)(T *w, const T *g, T *acc, T *ema, pc_index n, const pc_optim_common *c,
                     T lr, T epsilon)
{
    const SFX(pc_optim_frame) f = SFX(pc_optim_frame_of)(c);

    for (pc_index i = 0; i < n; i++) {
        const T gi = SFX(pc_optim_grad)(&f, g[i]);
        w[i] *= f.keep;
        acc[i] += gi * gi;
        w[i] -= (gi * lr) / SQRT(acc[i] + epsilon);
        SFX(pc_optim_average)(&f, ema, i, w[i]);
    }
}

/* ag = ρ·ag + (1 − ρ)·g²;  Δ = −√(ad + ε)·g/√(ag + ε);  ad = ρ·ad + (1 − ρ)·Δ²;
 * w += Δ·lr                                              w, g, ag, ad, ema: (n,) */
void
SFX(pc_adadelta_step)(T *w, const T *g, T *ag, T *ad, T *ema, pc_index n,
                      const pc_optim_common *c, T lr, T rho, T epsilon)
{
    const SFX(pc_optim_frame) f = SFX(pc_optim_frame_of)(c);
    const T one_minus_rho = (T)1 - rho;

    for (pc_index i = 0; i < n; i++) {
        const T gi = SFX(pc_optim_grad)(&f, g[i]);
        w[i] *= f.keep;
        ag[i] = ag[i] * rho + (gi * gi) * one_minus_rho;
        const T delta = -((SQRT(ad[i] + epsilon) * gi) / SQRT(ag[i] + epsilon));
        ad[i] = ad[i] * rho + (delta * delta) * one_minus_rho;
        w[i] += delta * lr;
        SFX(pc_optim_average)(&f, ema, i, w[i]);
    }
}

/* w −= sign(β1·m + (1 − β1)·g)·lr;  m = β2·m + (1 − β2)·g     w, g, m, ema: (n,) */
void
SFX(pc_lion_step)(T *w, const T *g, T *m, T *ema, pc_index n, const pc_optim_common *c, T lr,
                  T beta_1, T beta_2)
{
    const SFX(pc_optim_frame) f = SFX(pc_optim_frame_of)(c);
    const T one_minus_beta_1 = (T)1 - beta_1, one_minus_beta_2 = (T)1 - beta_2;

    for (pc_index i = 0; i < n; i++) {
        const T gi = SFX(pc_optim_grad)(&f, g[i]);
        w[i] *= f.keep;
        const T blend = m[i] * beta_1 + gi * one_minus_beta_1;
        /* sign: 0 stays 0 and NaN stays NaN, as torch.sign */
        const T sign = blend > (T)0 ? (T)1 : (blend < (T)0 ? (T)-1 : blend);
        w[i] -= sign * lr;
        m[i] = m[i] * beta_2 + gi * one_minus_beta_2;
        SFX(pc_optim_average)(&f, ema, i, w[i]);
    }
}

/* ema = μ·ema + (1 − μ)·w                                          w, ema: (n,) */
void
SFX(pc_ema_step)(const T *w, T *ema, pc_index n, T ema_momentum)
{
    const T rest = (T)1 - ema_momentum;

    for (pc_index i = 0; i < n; i++)
        ema[i] = ema_momentum * ema[i] + rest * w[i];
}
