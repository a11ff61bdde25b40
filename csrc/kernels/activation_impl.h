/* activation_impl.h — template body, no include guard. Needs T, ACC, SFX(name), EXP, LOG,
 * EXPM1 and simd.h. Instantiated twice by activation.c (float, double). Legend: see
 * activation.h. (swish lives with the unary maps, unary_impl.h.) */

#include "row_impl.h"

/* ---- element-wise activations with a parameter ------------------------------- */

/* leaky_relu: y = x for x > 0, αx otherwise        x, y: (n,)   overwrites y */
void
SFX(pc_leaky_relu_forward)(const T *x, T *y, pc_index n, T alpha)
{
    for (pc_index i = 0; i < n; i++)
        y[i] = x[i] > 0 ? x[i] : alpha * x[i];
}
/* dx += dy · (x > 0 ? 1 : α); at x = 0 the slope is α (as PyTorch)   accumulates */
void
SFX(pc_leaky_relu_backward)(const T *x, const T *dy, T *dx, pc_index n, T alpha)
{
    for (pc_index i = 0; i < n; i++) {
        T g = dy[i];                    /* loaded unconditionally: the loop vectorizes */
        dx[i] += x[i] > 0 ? g : alpha * g;
    }
}

/* elu: y = x for x > 0, α(eˣ − 1) otherwise         x, y: (n,)   overwrites y */
PC_SIMD_CLONES void
SFX(pc_elu_forward)(const T *x, T *y, pc_index n, T alpha)
{
    for (pc_index i = 0; i < n; i++)
        y[i] = x[i] > 0 ? x[i] : alpha * EXPM1(x[i]);
}
/* dx += dy · (x > 0 ? 1 : α eˣ); at x = 0 the slope is α   accumulates */
PC_SIMD_CLONES void
SFX(pc_elu_backward)(const T *x, const T *dy, T *dx, pc_index n, T alpha)
{
    for (pc_index i = 0; i < n; i++) {
        T g = dy[i];                    /* loaded unconditionally: the loop vectorizes */
        dx[i] += x[i] > 0 ? g : g * alpha * EXP(x[i]);
    }
}

/* ---- along an axis: the array viewed as (outer, K, inner), the axis in the middle ---- */

/* softmax: y_k = e^(z_k − max z) / Σ_j e^(z_j − max z)   z, y: (outer, K, inner)   overwrites y
 * Subtracting the max makes every exponent ≤ 0: no overflow, and 0 < y ≤ 1. */
void
SFX(pc_softmax_forward)(const T *z, T *y, pc_index outer, pc_index K, pc_index inner)
{
    for (pc_index o = 0; o < outer; o++) {
        for (pc_index i = 0; i < inner; i++) {
            const T *zr = z + o * K * inner + i;
            T *yr = y + o * K * inner + i;
            T m = SFX(pc_row_max)(zr, K, inner);
            ACC s = 0;
            for (pc_index k = 0; k < K; k++) {
                yr[k * inner] = EXP(zr[k * inner] - m);
                s += yr[k * inner];
            }
            for (pc_index k = 0; k < K; k++)
                yr[k * inner] = (T)(yr[k * inner] / s);
        }
    }
}
/* dz_k += y_k (dy_k − Σ_j dy_j y_j)      takes the output y; accumulates */
void
SFX(pc_softmax_backward)(const T *y, const T *dy, T *dz, pc_index outer, pc_index K,
                         pc_index inner)
{
    for (pc_index o = 0; o < outer; o++) {
        for (pc_index i = 0; i < inner; i++) {
            pc_index base = o * K * inner + i;
            ACC dot = 0;
            for (pc_index k = 0; k < K; k++)
                dot += (ACC)dy[base + k * inner] * y[base + k * inner];
            for (pc_index k = 0; k < K; k++)
                dz[base + k * inner] += y[base + k * inner] * (T)(dy[base + k * inner] - dot);
        }
    }
}

/* log_softmax: y_k = (z_k − max z) − ln Σ_j e^(z_j − max z)   (log-sum-exp)   overwrites y
 * Exact for logits of ±1000 (see pc_row_log_sum_exp_shifted). */
void
SFX(pc_log_softmax_forward)(const T *z, T *y, pc_index outer, pc_index K, pc_index inner)
{
    for (pc_index o = 0; o < outer; o++) {
        for (pc_index i = 0; i < inner; i++) {
            const T *zr = z + o * K * inner + i;
            T *yr = y + o * K * inner + i;
            T m = SFX(pc_row_max)(zr, K, inner);
            T log_s = SFX(pc_row_log_sum_exp_shifted)(zr, K, inner, m);
            for (pc_index k = 0; k < K; k++)
                yr[k * inner] = (zr[k * inner] - m) - log_s;
        }
    }
}
/* dz_k += dy_k − e^(y_k) Σ_j dy_j        takes the output y; accumulates */
void
SFX(pc_log_softmax_backward)(const T *y, const T *dy, T *dz, pc_index outer, pc_index K,
                             pc_index inner)
{
    for (pc_index o = 0; o < outer; o++) {
        for (pc_index i = 0; i < inner; i++) {
            pc_index base = o * K * inner + i;
            ACC total = 0;
            for (pc_index k = 0; k < K; k++)
                total += dy[base + k * inner];
            for (pc_index k = 0; k < K; k++)
                dz[base + k * inner] += dy[base + k * inner]
                                        - EXP(y[base + k * inner]) * (T)total;
        }
    }
}

/* naive_normalize: y_k = z_k / Σ_j z_j    z, y: (outer, K, inner)   overwrites y
 * Only for showing why softmax exists: negative z give "probabilities" below 0,
 * and Σ z = 0 divides by zero (inf/NaN, as NumPy). */
void
SFX(pc_naive_normalize_forward)(const T *z, T *y, pc_index outer, pc_index K, pc_index inner)
{
    for (pc_index o = 0; o < outer; o++) {
        for (pc_index i = 0; i < inner; i++) {
            pc_index base = o * K * inner + i;
            ACC s = 0;
            for (pc_index k = 0; k < K; k++)
                s += z[base + k * inner];
            for (pc_index k = 0; k < K; k++)
                y[base + k * inner] = (T)(z[base + k * inner] / s);
        }
    }
}
/* with S = Σ z:  dz_k += (dy_k − Σ_j dy_j z_j / S) / S      accumulates */
void
SFX(pc_naive_normalize_backward)(const T *z, const T *dy, T *dz, pc_index outer, pc_index K,
                                 pc_index inner)
{
    for (pc_index o = 0; o < outer; o++) {
        for (pc_index i = 0; i < inner; i++) {
            pc_index base = o * K * inner + i;
            ACC s = 0, dot = 0;
            for (pc_index k = 0; k < K; k++) {
                s += z[base + k * inner];
                dot += (ACC)dy[base + k * inner] * z[base + k * inner];
            }
            for (pc_index k = 0; k < K; k++)
                dz[base + k * inner] += (T)((dy[base + k * inner] - dot / s) / s);
        }
    }
}

/* maxout: y_u = max_{p < P} x_{uP + p}     x: (outer, U·P, inner), y: (outer, U, inner)
 * Group u is the P consecutive features uP … uP + P − 1.   overwrites y */
void
SFX(pc_maxout_forward)(const T *x, T *y, pc_index outer, pc_index U, pc_index P,
                       pc_index inner)
{
    for (pc_index o = 0; o < outer; o++)
        for (pc_index u = 0; u < U; u++)
            for (pc_index i = 0; i < inner; i++) {
                const T *xg = x + (o * U * P + u * P) * inner + i;
                T m = xg[0];
                for (pc_index p = 1; p < P; p++)
                    m = xg[p * inner] > m ? xg[p * inner] : m;
                y[(o * U + u) * inner + i] = m;
            }
}
/* dx_{uP + p*} += dy_u for the winning piece p* (the first at ties)   accumulates */
void
SFX(pc_maxout_backward)(const T *x, const T *dy, T *dx, pc_index outer, pc_index U,
                        pc_index P, pc_index inner)
{
    for (pc_index o = 0; o < outer; o++)
        for (pc_index u = 0; u < U; u++)
            for (pc_index i = 0; i < inner; i++) {
                pc_index g = (o * U * P + u * P) * inner + i, best = 0;
                for (pc_index p = 1; p < P; p++)
                    if (x[g + p * inner] > x[g + best * inner])
                        best = p;
                dx[g + best * inner] += dy[(o * U + u) * inner + i];
            }
}
