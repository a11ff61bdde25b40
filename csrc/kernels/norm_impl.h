/* norm_impl.h — template body of norm.h's kernels, no include guard.
 * Needs T, ACC, SFX(name), SQRT (dtype_f32.h / dtype_f64.h) and norm.c's
 * pc_norm_rows / pc_norm_chunks and the NORM_SUM_* codes.
 * Legend: norm.h. Sums run in ACC (double) for both dtypes.
 */

/* ---- per-channel sums over chunks of rows (a row = one index of A: C·B values) ---- */

typedef struct {
    const T *x, *dy;            /* dy: only for NORM_SUM_DY */
    const ACC *mean;            /* NORM_SUM_DEV2, NORM_SUM_DY: the centre */
    pc_index A, C, B, rows;     /* rows per chunk */
    ACC *part;                  /* (chunks, 2, C): this chunk's sums */
    int what;
} SFX(norm_sum_job);

/* one row's contribution: s1[c] += x (SUM_X) | (x − m)² (SUM_DEV2) | dy (SUM_DY),
 * and for SUM_DY also s2[c] += dy · (x − m) */
static inline void
SFX(norm_row_sums)(const SFX(norm_sum_job) *j, const T *x, const T *dy, ACC *s1, ACC *s2)
{
    const ACC *m = j->mean;
    for (pc_index c = 0; c < j->C; c++) {
        const T *xc = x + c * j->B, *dc = dy != NULL ? dy + c * j->B : NULL;
        ACC a1 = 0, a2 = 0;
        for (pc_index b = 0; b < j->B; b++) {
            if (j->what == NORM_SUM_X) {
                a1 += (ACC)xc[b];
            }
            else if (j->what == NORM_SUM_DEV2) {
                ACC d = (ACC)xc[b] - m[c];
                a1 += d * d;
            }
            else {
                a1 += (ACC)dc[b];
                a2 += (ACC)dc[b] * ((ACC)xc[b] - m[c]);
            }
        }
        s1[c] += a1;
        s2[c] += a2;
    }
}

/* the same for B = 1 (channels_last), as loops over c that vectorise */
static inline void
SFX(norm_row_sums_last)(const SFX(norm_sum_job) *j, const T *x, const T *dy, ACC *s1,
                        ACC *s2)
{
    const ACC *m = j->mean;
    pc_index C = j->C;
    if (j->what == NORM_SUM_X) {
        for (pc_index c = 0; c < C; c++)
            s1[c] += (ACC)x[c];
    }
    else if (j->what == NORM_SUM_DEV2) {
        for (pc_index c = 0; c < C; c++) {
            ACC d = (ACC)x[c] - m[c];
            s1[c] += d * d;
        }
    }
    else {
        for (pc_index c = 0; c < C; c++) {
            s1[c] += (ACC)dy[c];
            s2[c] += (ACC)dy[c] * ((ACC)x[c] - m[c]);
        }
    }
}

static void
SFX(norm_sum_chunks)(void *ctx, pc_index k0, pc_index k1)
{
    const SFX(norm_sum_job) *j = ctx;
    pc_index row = j->C * j->B;
    for (pc_index k = k0; k < k1; k++) {
        ACC *s1 = j->part + k * 2 * j->C, *s2 = s1 + j->C;
        pc_index r1 = (k + 1) * j->rows < j->A ? (k + 1) * j->rows : j->A;
        for (pc_index c = 0; c < 2 * j->C; c++)
            s1[c] = 0;
        for (pc_index r = k * j->rows; r < r1; r++) {
            const T *dy = j->dy != NULL ? j->dy + r * row : NULL;
            if (j->B == 1)
                SFX(norm_row_sums_last)(j, j->x + r * row, dy, s1, s2);
            else
                SFX(norm_row_sums)(j, j->x + r * row, dy, s1, s2);
        }
    }
}

/* s1, s2 (C,) = the chunks' sums, added in chunk order (thread-count independent) */
static void
SFX(norm_sums)(SFX(norm_sum_job) *j, ACC *s1, ACC *s2)
{
    pc_index chunks = pc_norm_chunks(j->A, j->C, j->B);
    pc_parallel_for(chunks, 1, SFX(norm_sum_chunks), j);
    for (pc_index c = 0; c < j->C; c++) {
        ACC a1 = 0, a2 = 0;
        for (pc_index k = 0; k < chunks; k++) {
            a1 += j->part[k * 2 * j->C + c];
            a2 += j->part[k * 2 * j->C + j->C + c];
        }
        s1[c] = a1;
        if (s2 != NULL)
            s2[c] = a2;
    }
}

/* ---- the kernels ------------------------------------------------------------------ */

void
SFX(pc_batch_norm_moments)(const T *x, pc_index A, pc_index C, pc_index B, ACC *work,
                           T *mean, T *var)
{
    pc_index chunks = pc_norm_chunks(A, C, B);
    ACC *m = work + chunks * 2 * C, *s = m + C, n = (ACC)A * (ACC)B;
    SFX(norm_sum_job) j = {.x = x, .A = A, .C = C, .B = B, .rows = pc_norm_rows(C, B),
                           .part = work, .what = NORM_SUM_X};

    SFX(norm_sums)(&j, m, NULL);
    for (pc_index c = 0; c < C; c++) {
        m[c] /= n;
        mean[c] = (T)m[c];
    }
    j.what = NORM_SUM_DEV2;         /* two passes: Σ(x − mean)² does not cancel */
    j.mean = m;
    SFX(norm_sums)(&j, s, NULL);
    for (pc_index c = 0; c < C; c++)
        var[c] = (T)(s[c] / n);
}

void
SFX(pc_batch_norm_coefficients)(const T *mean, const T *var, const T *gamma, const T *beta,
                                double eps, pc_index C, T *inv, T *scale, T *shift)
{
    for (pc_index c = 0; c < C; c++) {
        ACC i = 1 / sqrt((ACC)var[c] + eps);
        ACC k = gamma != NULL ? (ACC)gamma[c] * i : i;
        inv[c] = (T)i;
        scale[c] = (T)k;
        shift[c] = (T)((beta != NULL ? (ACC)beta[c] : 0) - (ACC)mean[c] * k);
    }
}

typedef struct {
    const T *x, *scale, *shift;
    T *y;
    pc_index C, B;
} SFX(affine_job);

static void
SFX(affine_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(affine_job) *j = ctx;
    pc_index C = j->C, B = j->B;
    for (pc_index r = r0; r < r1; r++) {
        const T *x = j->x + r * C * B;
        T *y = j->y + r * C * B;
        if (B == 1) {
            for (pc_index c = 0; c < C; c++)
                y[c] = x[c] * j->scale[c] + j->shift[c];
            continue;
        }
        for (pc_index c = 0; c < C; c++)
            for (pc_index b = 0; b < B; b++)
                y[c * B + b] = x[c * B + b] * j->scale[c] + j->shift[c];
    }
}

void
SFX(pc_channel_affine_forward)(const T *x, const T *scale, const T *shift, pc_index A,
                               pc_index C, pc_index B, T *y)
{
    SFX(affine_job) j = {.x = x, .scale = scale, .shift = shift, .y = y, .C = C, .B = B};
    pc_parallel_for(A, pc_parallel_grain(C * B), SFX(affine_rows), &j);
}

void
SFX(pc_batch_norm_update_moving)(T *moving_mean, T *moving_var, const T *mean, const T *var,
                                 pc_index C, double momentum)
{
    for (pc_index c = 0; c < C; c++) {
        moving_mean[c] = (T)((ACC)moving_mean[c] * momentum + (ACC)mean[c] * (1 - momentum));
        moving_var[c] = (T)((ACC)moving_var[c] * momentum + (ACC)var[c] * (1 - momentum));
    }
}

/* dx += k·dy + q·(x − m) + d, per channel */
typedef struct {
    const T *x, *dy;
    T *dx;
    const ACC *m, *k, *q, *d;
    pc_index C, B;
} SFX(norm_dx_job);

static void
SFX(norm_dx_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(norm_dx_job) *j = ctx;
    pc_index C = j->C, B = j->B;
    for (pc_index r = r0; r < r1; r++) {
        const T *x = j->x + r * C * B, *dy = j->dy + r * C * B;
        T *dx = j->dx + r * C * B;
        for (pc_index c = 0; c < C; c++)
            for (pc_index b = 0; b < B; b++) {
                pc_index i = c * B + b;
                dx[i] += (T)(j->k[c] * (ACC)dy[i] + j->q[c] * ((ACC)x[i] - j->m[c]) + j->d[c]);
            }
    }
}

void
SFX(pc_batch_norm_backward)(const T *x, const T *dy, pc_index A, pc_index C, pc_index B,
                            const T *mean, const T *inv, const T *gamma, int batch_stats,
                            ACC *work, T *dx, T *dgamma, T *dbeta)
{
    pc_index chunks = pc_norm_chunks(A, C, B);
    ACC *m = work + chunks * 2 * C, *k = m + C, *q = k + C, *d = q + C;
    ACC *s1 = q, *s2 = d, n = (ACC)A * (ACC)B;    /* the sums, before q and d replace them */
    SFX(norm_sum_job) j = {.x = x, .dy = dy, .mean = m, .A = A, .C = C, .B = B,
                           .rows = pc_norm_rows(C, B), .part = work, .what = NORM_SUM_DY};

    for (pc_index c = 0; c < C; c++)
        m[c] = (ACC)mean[c];
    if (dgamma != NULL || dbeta != NULL || (dx != NULL && batch_stats))
        SFX(norm_sums)(&j, s1, s2);
    else
        for (pc_index c = 0; c < C; c++)
            s1[c] = s2[c] = 0;
    for (pc_index c = 0; c < C; c++) {
        ACC i = (ACC)inv[c], sdy = s1[c], sdyxh = s2[c] * i;    /* Σ dy, Σ dy·x̂ */
        k[c] = gamma != NULL ? (ACC)gamma[c] * i : i;
        if (dbeta != NULL)
            dbeta[c] += (T)sdy;
        if (dgamma != NULL)
            dgamma[c] += (T)sdyxh;
        q[c] = batch_stats ? -k[c] * i * sdyxh / n : 0;     /* − γ·inv · x̂ · Σdy·x̂ / n */
        d[c] = batch_stats ? -k[c] * sdy / n : 0;           /* − γ·inv · Σdy / n */
    }
    if (dx != NULL) {
        SFX(norm_dx_job) jx = {.x = x, .dy = dy, .dx = dx, .m = m, .k = k, .q = q, .d = d,
                               .C = C, .B = B};
        pc_parallel_for(A, pc_parallel_grain(C * B), SFX(norm_dx_rows), &jx);
    }
}

/* ---- layer normalisation ------------------------------------------------------------ */

typedef struct {
    const T *x, *dy, *gamma, *beta, *mean, *inv;
    T *y, *dx, *mean_out, *inv_out;
    ACC *part;                  /* backward: (chunks, 2, K) column sums */
    pc_index M, K, rows;
    double eps;
} SFX(layer_norm_job);

static void
SFX(layer_norm_forward_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(layer_norm_job) *j = ctx;
    pc_index K = j->K;
    for (pc_index r = r0; r < r1; r++) {
        const T *x = j->x + r * K;
        T *y = j->y + r * K;
        ACC m = 0, v = 0;
        for (pc_index k = 0; k < K; k++)
            m += (ACC)x[k];
        m /= (ACC)K;
        for (pc_index k = 0; k < K; k++)       /* two passes: Σ(x − mean)² does not cancel */
            v += ((ACC)x[k] - m) * ((ACC)x[k] - m);
        ACC i = 1 / sqrt(v / (ACC)K + j->eps);
        for (pc_index k = 0; k < K; k++) {
            ACC h = ((ACC)x[k] - m) * i;
            y[k] = (T)((j->gamma != NULL ? (ACC)j->gamma[k] * h : h) +
                       (j->beta != NULL ? (ACC)j->beta[k] : 0));
        }
        j->mean_out[r] = (T)m;
        j->inv_out[r] = (T)i;
    }
}

void
SFX(pc_layer_norm_forward)(const T *x, pc_index M, pc_index K, const T *gamma, const T *beta,
                           double eps, T *y, T *mean, T *inv)
{
    SFX(layer_norm_job) j = {.x = x, .gamma = gamma, .beta = beta, .y = y, .mean_out = mean,
                             .inv_out = inv, .M = M, .K = K, .eps = eps};
    pc_parallel_for(M, pc_parallel_grain(K), SFX(layer_norm_forward_rows), &j);
}

static void
SFX(layer_norm_dx_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(layer_norm_job) *j = ctx;
    pc_index K = j->K;
    for (pc_index r = r0; r < r1; r++) {
        const T *x = j->x + r * K, *dy = j->dy + r * K;
        ACC m = (ACC)j->mean[r], i = (ACC)j->inv[r], a1 = 0, a2 = 0;
        for (pc_index k = 0; k < K; k++) {
            ACC g = j->gamma != NULL ? (ACC)dy[k] * (ACC)j->gamma[k] : (ACC)dy[k];
            a1 += g;
            a2 += g * ((ACC)x[k] - m) * i;
        }
        a1 /= (ACC)K;
        a2 /= (ACC)K;
        for (pc_index k = 0; k < K; k++) {
            ACC g = j->gamma != NULL ? (ACC)dy[k] * (ACC)j->gamma[k] : (ACC)dy[k];
            j->dx[r * K + k] += (T)(i * (g - a1 - ((ACC)x[k] - m) * i * a2));
        }
    }
}

/* per chunk of rows: part[k] = Σ dy·x̂ (γ's), part[K + k] = Σ dy (β's) */
static void
SFX(layer_norm_column_chunks)(void *ctx, pc_index c0, pc_index c1)
{
    const SFX(layer_norm_job) *j = ctx;
    pc_index K = j->K;
    for (pc_index c = c0; c < c1; c++) {
        ACC *sg = j->part + c * 2 * K, *sb = sg + K;
        pc_index r1 = (c + 1) * j->rows < j->M ? (c + 1) * j->rows : j->M;
        for (pc_index k = 0; k < 2 * K; k++)
            sg[k] = 0;
        for (pc_index r = c * j->rows; r < r1; r++) {
            const T *x = j->x + r * K, *dy = j->dy + r * K;
            ACC m = (ACC)j->mean[r], i = (ACC)j->inv[r];
            for (pc_index k = 0; k < K; k++) {
                sg[k] += (ACC)dy[k] * ((ACC)x[k] - m) * i;
                sb[k] += (ACC)dy[k];
            }
        }
    }
}

void
SFX(pc_layer_norm_backward)(const T *x, const T *dy, pc_index M, pc_index K, const T *mean,
                            const T *inv, const T *gamma, ACC *work, T *dx, T *dgamma,
                            T *dbeta)
{
    SFX(layer_norm_job) j = {.x = x, .dy = dy, .gamma = gamma, .mean = mean, .inv = inv,
                             .dx = dx, .part = work, .M = M, .K = K,
                             .rows = pc_norm_rows(K, 1)};
    if (dx != NULL)
        pc_parallel_for(M, pc_parallel_grain(K), SFX(layer_norm_dx_rows), &j);
    if (dgamma == NULL && dbeta == NULL)
        return;
    pc_index chunks = pc_norm_chunks(M, K, 1);
    pc_parallel_for(chunks, 1, SFX(layer_norm_column_chunks), &j);
    for (pc_index k = 0; k < K; k++) {         /* the chunks in order: thread-independent */
        ACC sg = 0, sb = 0;
        for (pc_index c = 0; c < chunks; c++) {
            sg += work[c * 2 * K + k];
            sb += work[c * 2 * K + K + k];
        }
        if (dgamma != NULL)
            dgamma[k] += (T)sg;
        if (dbeta != NULL)
            dbeta[k] += (T)sb;
    }
}
