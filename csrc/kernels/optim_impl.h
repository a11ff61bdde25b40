/* optim_impl.h — template body, no include guard. Needs T, SFX(name), SQRT, POW.
 * Instantiated twice by optim.c (float, double). Legend and formulas: see optim.h.
 * Every step overwrites w and its slots in place; nothing is allocated. */

/* m = μ·m − lr·g;  w += m  (Nesterov: w += μ·m − lr·g)        w, g, m: (n,) */
void
SFX(pc_sgd_step)(T *w, const T *g, T *m, pc_index n, T lr, T momentum, int nesterov)
{
    if (m == NULL || momentum == (T)0) {
        for (pc_index i = 0; i < n; i++)
            w[i] -= g[i] * lr;
        return;
    }
    for (pc_index i = 0; i < n; i++) {
        m[i] = m[i] * momentum - g[i] * lr;
        w[i] += nesterov ? m[i] * momentum - g[i] * lr : m[i];
    }
}

/* α = lr·√(1 − β2^t)/(1 − β1^t);  m += (g − m)(1 − β1);  v += (g² − v)(1 − β2);
 * w −= α·m / (√v + ε)      (AMSGrad: √vhat, vhat = max(vhat, v))   w, g, m, v, vhat: (n,) */
void
SFX(pc_adam_step)(T *w, const T *g, T *m, T *v, T *vhat, pc_index n, T lr, T beta_1,
                  T beta_2, T epsilon, pc_index t)
{
    const T beta_1_power = POW(beta_1, (T)t);
    const T beta_2_power = POW(beta_2, (T)t);
    const T alpha = lr * SQRT((T)1 - beta_2_power) / ((T)1 - beta_1_power);
    const T one_minus_beta_1 = (T)1 - beta_1, one_minus_beta_2 = (T)1 - beta_2;

    for (pc_index i = 0; i < n; i++) {
        m[i] += (g[i] - m[i]) * one_minus_beta_1;
        v[i] += (g[i] * g[i] - v[i]) * one_minus_beta_2;
        T second = v[i];
        if (vhat != NULL) {
            vhat[i] = vhat[i] > v[i] ? vhat[i] : v[i];
            second = vhat[i];
        }
        w[i] -= (m[i] * alpha) / (SQRT(second) + epsilon);
    }
}

/* v = ρv + (1 − ρ)g²;  [mg = ρ·mg + (1 − ρ)g];  Δ = lr·g/√(v [− mg²] + ε);
 * w −= Δ, or with momentum m = μm + Δ, w −= m            w, g, v, m, mg: (n,) */
void
SFX(pc_rmsprop_step)(T *w, const T *g, T *v, T *m, T *mg, pc_index n, T lr, T rho,
                     T momentum, T epsilon)
{
    const T one_minus_rho = (T)1 - rho;

    for (pc_index i = 0; i < n; i++) {
        v[i] = rho * v[i] + one_minus_rho * (g[i] * g[i]);
        T denominator = v[i] + epsilon;
        if (mg != NULL) {
            mg[i] = rho * mg[i] + one_minus_rho * g[i];
            denominator = v[i] - mg[i] * mg[i] + epsilon;
        }
        const T increment = (lr * g[i]) / SQRT(denominator);
        if (m != NULL) {
            m[i] = momentum * m[i] + increment;
            w[i] -= m[i];
        }
        else {
            w[i] -= increment;
        }
    }
}
