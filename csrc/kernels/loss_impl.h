/* loss_impl.h — template body, no include guard. Needs T, ACC, SFX(name), EXP, LOG, LOG1P,
 * FABS. Instantiated twice by loss.c (float, double). Legend: see loss.h.
 *
 * Every loss here works on rows: p, y: (R, K). Forward kernels overwrite per[r], the
 * loss of row r. Backward kernels ACCUMULATE dp[r, k] += G_r ∂per[r]/∂p[r, k] with
 * G_r = g[r·gs] · scale (gs = 0: one upstream value for every row, as after a sum). */

#include "row_impl.h"

/* ---- shared pieces ------------------------------------------------------------- */

/* Keras' clip of probabilities to [ε, 1 − ε]; its gradient is 0 outside the range */
static inline T
SFX(pc_clip_prob)(T p)
{
    const T lo = (T)PC_PROB_EPSILON, hi = (T)1 - (T)PC_PROB_EPSILON;
    return p < lo ? lo : (p > hi ? hi : p);
}
static inline int
SFX(pc_in_clip)(T p)
{
    return p >= (T)PC_PROB_EPSILON && p <= (T)1 - (T)PC_PROB_EPSILON;
}

/* Σ_r per[r] · scale: 'sum' (scale 1) and 'mean' (scale 1/count) */
T
SFX(pc_loss_total)(const T *per, pc_index R, T scale)
{
    ACC s = 0;
    for (pc_index r = 0; r < R; r++)
        s += per[r];
    return (T)(s * scale);
}

/* ---- squared errors ------------------------------------------------------------ */

/* per[r] = w Σ_k (p_rk − y_rk)²;  dp_rk += G_r · 2w (p_rk − y_rk) */
static inline void
SFX(pc_squared_rows)(const T *p, const T *y, T *per, pc_index R, pc_index K, T w)
{
    for (pc_index r = 0; r < R; r++) {
        ACC s = 0;
        for (pc_index k = 0; k < K; k++) {
            T d = p[r * K + k] - y[r * K + k];
            s += d * d;
        }
        per[r] = (T)(w * s);
    }
}
static inline void
SFX(pc_squared_rows_backward)(const T *p, const T *y, const T *g, pc_index gs, T scale, T *dp,
                              pc_index R, pc_index K, T w)
{
    for (pc_index r = 0; r < R; r++) {
        T G = g[r * gs] * scale * (T)2 * w;
        for (pc_index k = 0; k < K; k++)
            dp[r * K + k] += G * (p[r * K + k] - y[r * K + k]);
    }
}

/* squared_error (the lecture): per sample r, ½ Σ_j (ŝ_j − s_j)² over every output j */
void
SFX(pc_squared_error_forward)(const T *p, const T *y, T *per, pc_index R, pc_index K)
{
    SFX(pc_squared_rows)(p, y, per, R, K, (T)0.5);
}
void
SFX(pc_squared_error_backward)(const T *p, const T *y, const T *g, pc_index gs, T scale, T *dp,
                               pc_index R, pc_index K)
{
    SFX(pc_squared_rows_backward)(p, y, g, gs, scale, dp, R, K, (T)0.5);
}

/* mean_squared_error (Keras): (1/K) Σ_k (p_k − y_k)² over the last axis */
void
SFX(pc_mean_squared_error_forward)(const T *p, const T *y, T *per, pc_index R, pc_index K)
{
    SFX(pc_squared_rows)(p, y, per, R, K, (T)1 / (T)K);
}
void
SFX(pc_mean_squared_error_backward)(const T *p, const T *y, const T *g, pc_index gs, T scale,
                                    T *dp, pc_index R, pc_index K)
{
    SFX(pc_squared_rows_backward)(p, y, g, gs, scale, dp, R, K, (T)1 / (T)K);
}

/* ---- categorical cross-entropy ----------------------------------------------------- */

/* From probabilities, as Keras: q = clip(p / Σ_k p_k), per = −Σ_k y_k ln q_k.
 * With g_k = −y_k / q_k where q_k is inside the clip range (else 0):
 *   dp_k += G (g_k − Σ_j g_j q_j) / Σ p      (the rescaling's gradient is the − Σ term) */
void
SFX(pc_categorical_crossentropy_forward)(const T *p, const T *y, T *per, pc_index R,
                                         pc_index K)
{
    for (pc_index r = 0; r < R; r++) {
        const T *pr = p + r * K, *yr = y + r * K;
        ACC S = 0, s = 0;
        for (pc_index k = 0; k < K; k++)
            S += pr[k];
        for (pc_index k = 0; k < K; k++)
            s -= yr[k] * LOG(SFX(pc_clip_prob)((T)(pr[k] / S)));
        per[r] = (T)s;
    }
}
void
SFX(pc_categorical_crossentropy_backward)(const T *p, const T *y, const T *g, pc_index gs,
                                          T scale, T *dp, pc_index R, pc_index K)
{
    for (pc_index r = 0; r < R; r++) {
        const T *pr = p + r * K, *yr = y + r * K;
        T G = g[r * gs] * scale;
        ACC S = 0, gq = 0;
        for (pc_index k = 0; k < K; k++)
            S += pr[k];
        for (pc_index k = 0; k < K; k++)
            if (SFX(pc_in_clip)((T)(pr[k] / S)))
                gq -= yr[k];                    /* g_k q_k = −y_k */
        for (pc_index k = 0; k < K; k++) {
            T q = (T)(pr[k] / S);
            T gk = SFX(pc_in_clip)(q) ? -yr[k] / q : (T)0;
            dp[r * K + k] += G * (T)((gk - gq) / S);
        }
    }
}

/* From logits, fused with log-softmax: per = −Σ_k y_k ((z_k − m) − ln Σ_j e^(z_j − m)),
 * m = max z, exact at ±1000.   dz_k += G (softmax_k Σ_j y_j − y_k) */
void
SFX(pc_categorical_crossentropy_from_logits_forward)(const T *z, const T *y, T *per,
                                                     pc_index R, pc_index K)
{
    for (pc_index r = 0; r < R; r++) {
        const T *zr = z + r * K, *yr = y + r * K;
        T m = SFX(pc_row_max)(zr, K, 1);
        T log_s = SFX(pc_row_log_sum_exp_shifted)(zr, K, 1, m);
        ACC s = 0;
        for (pc_index k = 0; k < K; k++)
            s -= yr[k] * ((zr[k] - m) - log_s);
        per[r] = (T)s;
    }
}
void
SFX(pc_categorical_crossentropy_from_logits_backward)(const T *z, const T *y, const T *g,
                                                      pc_index gs, T scale, T *dz, pc_index R,
                                                      pc_index K)
{
    for (pc_index r = 0; r < R; r++) {
        const T *zr = z + r * K, *yr = y + r * K;
        T G = g[r * gs] * scale;
        T m = SFX(pc_row_max)(zr, K, 1);
        T log_s = SFX(pc_row_log_sum_exp_shifted)(zr, K, 1, m);
        ACC ysum = 0;
        for (pc_index k = 0; k < K; k++)
            ysum += yr[k];
        for (pc_index k = 0; k < K; k++)
            dz[r * K + k] += G * (EXP((zr[k] - m) - log_s) * (T)ysum - yr[k]);
    }
}

/* ---- binary and multi-label cross-entropy -------------------------------------------- */

/* one term −y ln q − (1 − y) ln(1 − q) from a probability (q = clip(p)), or from a logit
 * z as max(z, 0) − z y + ln(1 + e^−|z|) (exact at ±1000); and its derivative */
static inline T
SFX(pc_bce_term)(T v, T y, int from_logits)
{
    if (from_logits)
        return (v > 0 ? v : (T)0) - v * y + LOG1P(EXP(-FABS(v)));
    T q = SFX(pc_clip_prob)(v);
    return -y * LOG(q) - ((T)1 - y) * LOG((T)1 - q);
}
static inline T
SFX(pc_bce_grad)(T v, T y, int from_logits)
{
    if (from_logits)
        return SFX(pc_sigmoid_scalar)(v) - y;                   /* σ(z) − y */
    return SFX(pc_in_clip)(v) ? (v - y) / (v * ((T)1 - v)) : (T)0;   /* −y/p + (1−y)/(1−p) */
}

/* binary (multilabel = 0): per = (1/K) Σ_k term, the mean over the last axis as Keras;
 * multi-label (multilabel = 1): per = Σ_k term over the known labels: y_k = NaN (the
 * lecture's "?") is skipped, so it adds nothing to the loss and exactly 0 to dp */
static inline void
SFX(pc_bce_rows)(const T *p, const T *y, T *per, pc_index R, pc_index K, int from_logits,
                 int multilabel)
{
    for (pc_index r = 0; r < R; r++) {
        ACC s = 0;
        for (pc_index k = 0; k < K; k++) {
            T yk = y[r * K + k];
            if (multilabel && yk != yk)
                continue;
            s += SFX(pc_bce_term)(p[r * K + k], yk, from_logits);
        }
        per[r] = multilabel ? (T)s : (T)(s / K);
    }
}
static inline void
SFX(pc_bce_rows_backward)(const T *p, const T *y, const T *g, pc_index gs, T scale, T *dp,
                          pc_index R, pc_index K, int from_logits, int multilabel)
{
    for (pc_index r = 0; r < R; r++) {
        T G = g[r * gs] * scale / (multilabel ? (T)1 : (T)K);
        for (pc_index k = 0; k < K; k++) {
            T yk = y[r * K + k];
            if (multilabel && yk != yk)
                continue;
            dp[r * K + k] += G * SFX(pc_bce_grad)(p[r * K + k], yk, from_logits);
        }
    }
}

void
SFX(pc_binary_crossentropy_forward)(const T *p, const T *y, T *per, pc_index R, pc_index K)
{
    SFX(pc_bce_rows)(p, y, per, R, K, 0, 0);
}
void
SFX(pc_binary_crossentropy_backward)(const T *p, const T *y, const T *g, pc_index gs, T scale,
                                     T *dp, pc_index R, pc_index K)
{
    SFX(pc_bce_rows_backward)(p, y, g, gs, scale, dp, R, K, 0, 0);
}
void
SFX(pc_binary_crossentropy_from_logits_forward)(const T *z, const T *y, T *per, pc_index R,
                                                pc_index K)
{
    SFX(pc_bce_rows)(z, y, per, R, K, 1, 0);
}
void
SFX(pc_binary_crossentropy_from_logits_backward)(const T *z, const T *y, const T *g,
                                                 pc_index gs, T scale, T *dz, pc_index R,
                                                 pc_index K)
{
    SFX(pc_bce_rows_backward)(z, y, g, gs, scale, dz, R, K, 1, 0);
}
void
SFX(pc_multilabel_crossentropy_forward)(const T *p, const T *y, T *per, pc_index R,
                                        pc_index K)
{
    SFX(pc_bce_rows)(p, y, per, R, K, 0, 1);
}
void
SFX(pc_multilabel_crossentropy_backward)(const T *p, const T *y, const T *g, pc_index gs,
                                         T scale, T *dp, pc_index R, pc_index K)
{
    SFX(pc_bce_rows_backward)(p, y, g, gs, scale, dp, R, K, 0, 1);
}
void
SFX(pc_multilabel_crossentropy_from_logits_forward)(const T *z, const T *y, T *per,
                                                    pc_index R, pc_index K)
{
    SFX(pc_bce_rows)(z, y, per, R, K, 1, 1);
}
void
SFX(pc_multilabel_crossentropy_from_logits_backward)(const T *z, const T *y, const T *g,
                                                     pc_index gs, T scale, T *dz, pc_index R,
                                                     pc_index K)
{
    SFX(pc_bce_rows_backward)(z, y, g, gs, scale, dz, R, K, 1, 1);
}

/* ---- sparse categorical cross-entropy: one integer label per row ------------------- */

/* Counts the rows that take part and checks every label: an integer in [0, K), or equal
 * to *ignore (ignore may be NULL). Returns the first offending row, or −1 when all are
 * good; *count = rows not ignored. */
pc_index
SFX(pc_sparse_labels_check)(const T *labels, pc_index R, pc_index K, const pc_index *ignore,
                            pc_index *count)
{
    *count = 0;
    for (pc_index r = 0; r < R; r++) {
        T v = labels[r];
        if (ignore != NULL && v == (T)*ignore)
            continue;
        if (!(v >= 0 && v < (T)K) || (T)(pc_index)v != v)
            return r;
        (*count)++;
    }
    return -1;
}

static inline int
SFX(pc_ignored)(T v, const pc_index *ignore)
{
    return ignore != NULL && v == (T)*ignore;
}

/* From probabilities, as Keras: q = clip(p_l / Σ_k p_k), per = −ln q (0 when ignored).
 * Inside the clip range: dp_k += G (1 − [k = l] / q) / Σ p; outside it, nothing. */
void
SFX(pc_sparse_categorical_crossentropy_forward)(const T *p, const T *labels, T *per,
                                                pc_index R, pc_index K, const pc_index *ignore)
{
    for (pc_index r = 0; r < R; r++) {
        ACC S = 0;
        if (SFX(pc_ignored)(labels[r], ignore)) {
            per[r] = 0;
            continue;
        }
        for (pc_index k = 0; k < K; k++)
            S += p[r * K + k];
        per[r] = -LOG(SFX(pc_clip_prob)((T)(p[r * K + (pc_index)labels[r]] / S)));
    }
}
void
SFX(pc_sparse_categorical_crossentropy_backward)(const T *p, const T *labels, const T *g,
                                                 pc_index gs, T scale, T *dp, pc_index R,
                                                 pc_index K, const pc_index *ignore)
{
    for (pc_index r = 0; r < R; r++) {
        ACC S = 0;
        if (SFX(pc_ignored)(labels[r], ignore))
            continue;
        pc_index l = (pc_index)labels[r];
        for (pc_index k = 0; k < K; k++)
            S += p[r * K + k];
        T q = (T)(p[r * K + l] / S);
        if (!SFX(pc_in_clip)(q))
            continue;
        T G = (T)(g[r * gs] * scale / S);
        for (pc_index k = 0; k < K; k++)
            dp[r * K + k] += G;
        dp[r * K + l] -= G / q;
    }
}

/* From logits: per = ln Σ_j e^(z_j − m) − (z_l − m);  dz_k += G (softmax_k − [k = l]) */
void
SFX(pc_sparse_categorical_crossentropy_from_logits_forward)(const T *z, const T *labels,
                                                            T *per, pc_index R, pc_index K,
                                                            const pc_index *ignore)
{
    for (pc_index r = 0; r < R; r++) {
        const T *zr = z + r * K;
        if (SFX(pc_ignored)(labels[r], ignore)) {
            per[r] = 0;
            continue;
        }
        T m = SFX(pc_row_max)(zr, K, 1);
        per[r] = SFX(pc_row_log_sum_exp_shifted)(zr, K, 1, m) - (zr[(pc_index)labels[r]] - m);
    }
}
void
SFX(pc_sparse_categorical_crossentropy_from_logits_backward)(const T *z, const T *labels,
                                                             const T *g, pc_index gs, T scale,
                                                             T *dz, pc_index R, pc_index K,
                                                             const pc_index *ignore)
{
    for (pc_index r = 0; r < R; r++) {
        const T *zr = z + r * K;
        if (SFX(pc_ignored)(labels[r], ignore))
            continue;
        T G = g[r * gs] * scale;
        T m = SFX(pc_row_max)(zr, K, 1);
        T log_s = SFX(pc_row_log_sum_exp_shifted)(zr, K, 1, m);
        for (pc_index k = 0; k < K; k++)
            dz[r * K + k] += G * EXP((zr[k] - m) - log_s);
        dz[r * K + (pc_index)labels[r]] -= G;
    }
}
