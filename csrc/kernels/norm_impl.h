/* norm_impl.h — template body of norm.h's kernels, no include guard.
 * Needs T, ACC, SFX(name), SQRT (dtype_f32.h / dtype_f64.h) and norm.c's
 * pc_norm_rows / pc_norm_chunks, NORM_BLOCK and the NORM_SUM_* codes.
 * Legend: norm.h.
 * Precision: a run of contiguous values (B of one channel, K of one row) is summed in T
 * in vector lanes; a channels-last column over blocks of NORM_BLOCK rows in T. Those
 * partial sums are then added in ACC (double), so no float sum runs over many values.
 * The elementwise passes compute in T.
 */

/* ---- sums along one run of n contiguous values, in vector lanes of T ---------------
 * GCC vector extensions of 16 bytes (one SSE2 register: 4 floats, 2 doubles; wider ones
 * would live on the stack in the baseline build), two accumulators for the latency */

typedef T SFX(nvec) __attribute__((vector_size(16)));
/* the same, for unaligned loads through any T pointer */
typedef T SFX(nuvec) __attribute__((vector_size(16), aligned(sizeof(T)), may_alias));
#define NORM_VL ((pc_index)(sizeof(SFX(nvec)) / sizeof(T)))
#define NORM_LOAD(p) (*(const SFX(nuvec) *)(p))
#define NORM_PREFETCH 8

/* the lanes of a + b added pairwise in a fixed order */
static inline T
SFX(norm_lanes_total)(SFX(nvec) a, SFX(nvec) b)
{
    a += b;
    for (pc_index w = NORM_VL / 2; w >= 1; w /= 2)
        for (pc_index l = 0; l < w; l++)
            a[l] += a[l + w];
    return a[0];
}

/* Σ x (SUM_X) or Σ (x − m)² (SUM_DEV2) */
static inline T
SFX(norm_run_sum)(const T *restrict x, pc_index n, T m, int what)
{
    SFX(nvec) a = {0}, b = {0};
    T t = 0;
    pc_index i = 0;
    if (what == NORM_SUM_X) {
        for (; i + 2 * NORM_VL <= n; i += 2 * NORM_VL) {
            a += NORM_LOAD(x + i);
            b += NORM_LOAD(x + i + NORM_VL);
        }
        for (; i < n; i++)
            t += x[i];
    }
    else {
        for (; i + 2 * NORM_VL <= n; i += 2 * NORM_VL) {
            SFX(nvec) d = NORM_LOAD(x + i) - m, e = NORM_LOAD(x + i + NORM_VL) - m;
            a += d * d;
            b += e * e;
        }
        for (; i < n; i++)
            t += (x[i] - m) * (x[i] - m);
    }
    return SFX(norm_lanes_total)(a, b) + t;
}

/* with g = dy · w (w NULL: g = dy):  *s1 = Σ g,  *s2 = Σ g · (x − m) */
static inline void
SFX(norm_run_dot)(const T *restrict dy, const T *restrict w, const T *restrict x, pc_index n,
                  T m, T *s1, T *s2)
{
    SFX(nvec) a1 = {0}, b1 = {0}, a2 = {0}, b2 = {0};
    T t1 = 0, t2 = 0;
    pc_index i = 0;
    for (; i + 2 * NORM_VL <= n; i += 2 * NORM_VL) {
        SFX(nvec) g = NORM_LOAD(dy + i), h = NORM_LOAD(dy + i + NORM_VL);
        if (w != NULL) {
            g *= NORM_LOAD(w + i);
            h *= NORM_LOAD(w + i + NORM_VL);
        }
        a1 += g;
        b1 += h;
        a2 += g * (NORM_LOAD(x + i) - m);
        b2 += h * (NORM_LOAD(x + i + NORM_VL) - m);
    }
    for (; i < n; i++) {
        T g = w != NULL ? dy[i] * w[i] : dy[i];
        t1 += g;
        t2 += g * (x[i] - m);
    }
    *s1 = SFX(norm_lanes_total)(a1, b1) + t1;
    *s2 = SFX(norm_lanes_total)(a2, b2) + t2;
}

/* ---- per-channel sums over chunks of rows (a row = one index of A: C·B values) ---- */

typedef struct {
    const T *x, *dy;            /* dy: only for NORM_SUM_DY */
    const T *mean;              /* NORM_SUM_DEV2, NORM_SUM_DY: the centre (C,) */
    pc_index A, C, B, rows;     /* rows per chunk */
    ACC *part;                  /* (chunks, 2, C): this chunk's sums */
    T *centre;                  /* NORM_SUM_MOMENTS: (chunks, C) the chunks' means */
    int what;
} SFX(norm_sum_job);

/* B = 1 (channels_last), rows r0..r1−1 of C values, columns c0..c0+w−1 (w = 2 vectors,
 * or 1 for the last < 2 vectors' worth): per column a1 = Σ x | (x − m)² | dy, and for
 * SUM_DY a2 = Σ dy · (x − m), kept in registers over the rows, then added to s1, s2 */
static inline void
SFX(norm_columns)(const SFX(norm_sum_job) *j, pc_index r0, pc_index r1, pc_index c0,
                  pc_index w, int what, ACC *s1, ACC *s2)
{
    pc_index C = j->C;
    if (w == 2 * NORM_VL) {
        SFX(nvec) a1 = {0}, b1 = {0}, a2 = {0}, b2 = {0}, ma = {0}, mb = {0};
        if (what != NORM_SUM_X) {
            ma = NORM_LOAD(j->mean + c0);
            mb = NORM_LOAD(j->mean + c0 + NORM_VL);
        }
        /* the rows ahead, once per cache line, when rows are 4 lines or longer: the
         * walk down a column block then strides past what the hardware prefetchers
         * bring in time (shorter rows they follow; prefetching them too costs time) */
        int ahead = what != NORM_SUM_DEV2 && C * (pc_index)sizeof(T) >= 256 &&
                    (c0 * (pc_index)sizeof(T)) % 64 == 0;
        for (pc_index r = r0; r < r1; r++) {
            const T *x = j->x + r * C + c0;
            SFX(nvec) xa = NORM_LOAD(x), xb = NORM_LOAD(x + NORM_VL);
            if (ahead && r + NORM_PREFETCH < j->A) {
                __builtin_prefetch(x + NORM_PREFETCH * C);
                if (what == NORM_SUM_DY)
                    __builtin_prefetch(j->dy + (r + NORM_PREFETCH) * C + c0);
            }
            if (what == NORM_SUM_X) {
                a1 += xa;
                b1 += xb;
            }
            else if (what == NORM_SUM_DEV2) {
                a1 += (xa - ma) * (xa - ma);
                b1 += (xb - mb) * (xb - mb);
            }
            else {
                const T *dy = j->dy + r * C + c0;
                SFX(nvec) ga = NORM_LOAD(dy), gb = NORM_LOAD(dy + NORM_VL);
                a1 += ga;
                b1 += gb;
                a2 += ga * (xa - ma);
                b2 += gb * (xb - mb);
            }
        }
        for (pc_index l = 0; l < NORM_VL; l++) {
            s1[c0 + l] += (ACC)a1[l];
            s1[c0 + NORM_VL + l] += (ACC)b1[l];
            s2[c0 + l] += (ACC)a2[l];
            s2[c0 + NORM_VL + l] += (ACC)b2[l];
        }
        return;
    }
    for (pc_index c = c0; c < c0 + w; c++) {    /* fewer columns: one at a time */
        T m = what != NORM_SUM_X ? j->mean[c] : 0, a1 = 0, a2 = 0;
        for (pc_index r = r0; r < r1; r++) {
            T xv = j->x[r * C + c];
            if (what == NORM_SUM_X)
                a1 += xv;
            else if (what == NORM_SUM_DEV2)
                a1 += (xv - m) * (xv - m);
            else {
                a1 += j->dy[r * C + c];
                a2 += j->dy[r * C + c] * (xv - m);
            }
        }
        s1[c] += (ACC)a1;
        s2[c] += (ACC)a2;
    }
}

/* rows r0..r1−1 (B = 1), every column */
static inline void
SFX(norm_column_block)(const SFX(norm_sum_job) *j, pc_index r0, pc_index r1, int what,
                       ACC *s1, ACC *s2)
{
    pc_index c = 0;
    for (; c + 2 * NORM_VL <= j->C; c += 2 * NORM_VL)
        SFX(norm_columns)(j, r0, r1, c, 2 * NORM_VL, what, s1, s2);
    if (c < j->C)
        SFX(norm_columns)(j, r0, r1, c, j->C - c, what, s1, s2);
}

/* B > 1, row r: one run of B values per channel */
static inline void
SFX(norm_runs)(const SFX(norm_sum_job) *j, pc_index r, ACC *s1, ACC *s2)
{
    pc_index C = j->C, B = j->B;
    for (pc_index c = 0; c < C; c++) {
        const T *x = j->x + (r * C + c) * B;
        T m = j->mean != NULL ? j->mean[c] : 0, a1, a2;
        if (j->what == NORM_SUM_DY) {
            SFX(norm_run_dot)(j->dy + (r * C + c) * B, NULL, x, B, m, &a1, &a2);
            s2[c] += (ACC)a2;
        }
        else
            a1 = SFX(norm_run_sum)(x, B, m, j->what);
        s1[c] += (ACC)a1;
    }
}

/* chunk k's sums of `what` about centre m: s1 (C,) (and s2 for SUM_DY), overwritten */
static inline void
SFX(norm_chunk_sums)(const SFX(norm_sum_job) *j, pc_index k, int what, const T *m, ACC *s1,
                     ACC *s2)
{
    SFX(norm_sum_job) jk = *j;
    pc_index C = j->C, r1 = (k + 1) * j->rows < j->A ? (k + 1) * j->rows : j->A;
    jk.what = what;
    jk.mean = m;
    for (pc_index c = 0; c < C; c++)
        s1[c] = s2[c] = 0;
    if (j->B > 1) {
        for (pc_index r = k * j->rows; r < r1; r++)
            SFX(norm_runs)(&jk, r, s1, s2);
        return;
    }
    for (pc_index r = k * j->rows; r < r1; r += NORM_BLOCK) {
        pc_index e = r + NORM_BLOCK < r1 ? r + NORM_BLOCK : r1;
        if (what == NORM_SUM_X)                 /* constant `what`s, for the inlining */
            SFX(norm_column_block)(&jk, r, e, NORM_SUM_X, s1, s2);
        else if (what == NORM_SUM_DEV2)
            SFX(norm_column_block)(&jk, r, e, NORM_SUM_DEV2, s1, s2);
        else
            SFX(norm_column_block)(&jk, r, e, NORM_SUM_DY, s1, s2);
    }
}

/* part[k] = chunk k's (s1, s2); for NORM_SUM_MOMENTS (Σ x, Σ (x − m_k)²) with m_k the
 * chunk's own mean (j->centre[k]), the chunk read twice while it is in cache */
static void
SFX(norm_sum_chunks)(void *ctx, pc_index k0, pc_index k1)
{
    const SFX(norm_sum_job) *j = ctx;
    pc_index C = j->C;
    for (pc_index k = k0; k < k1; k++) {
        ACC *s = j->part + k * 2 * C;           /* s1 = s, s2 = s + C */
        if (j->what != NORM_SUM_MOMENTS) {
            SFX(norm_chunk_sums)(j, k, j->what, j->mean, s, s + C);
            continue;
        }
        pc_index r1 = (k + 1) * j->rows < j->A ? (k + 1) * j->rows : j->A;
        ACC nk = (ACC)(r1 - k * j->rows) * (ACC)j->B;
        T *mk = j->centre + k * C;
        SFX(norm_chunk_sums)(j, k, NORM_SUM_X, NULL, s, s + C);
        for (pc_index c = 0; c < C; c++)
            mk[c] = (T)(s[c] / nk);
        SFX(norm_chunk_sums)(j, k, NORM_SUM_DEV2, mk, s + C, s + C);
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

/* the job over workspace `work` (norm.c's layout: part, centre, then the (C,) arrays) */
static SFX(norm_sum_job)
SFX(norm_sum_job_of)(const T *x, const T *dy, const T *mean, pc_index A, pc_index C,
                     pc_index B, ACC *work, int what)
{
    SFX(norm_sum_job) j = {.x = x, .dy = dy, .mean = mean, .A = A, .C = C, .B = B,
                           .rows = pc_norm_rows(C, B), .part = work,
                           .centre = (T *)(work + pc_norm_chunks(A, C, B) * 2 * C),
                           .what = what};
    return j;
}

/* ---- elementwise passes, in runs of one channel --------------------------------------
 * Items are rows of C·B values; for C = 1 every value is an item (so a (N, 1) channel
 * is one long run, not N runs of one). */

typedef struct {
    const T *x, *dy;            /* affine: x only */
    T *out;
    const T *k, *q, *d, *m;     /* affine: k = scale, d = shift */
    pc_index C, B;
    int fresh, affine;
} SFX(norm_map_job);

/* affine: out = x·k + d;  else out (+)= k·dy + q·(x − m) + d  (= when fresh) */
static inline void
SFX(norm_map_run)(const SFX(norm_map_job) *j, pc_index i0, pc_index n, pc_index c)
{
    const T *restrict x = j->x + i0;
    T *restrict out = j->out + i0;
    T k = j->k[c], d = j->d[c];
    if (j->affine) {
        for (pc_index i = 0; i < n; i++)
            out[i] = x[i] * k + d;
        return;
    }
    const T *restrict dy = j->dy + i0;
    T q = j->q[c], m = j->m[c];
    if (j->fresh)
        for (pc_index i = 0; i < n; i++)
            out[i] = k * dy[i] + q * (x[i] - m) + d;
    else
        for (pc_index i = 0; i < n; i++)
            out[i] += k * dy[i] + q * (x[i] - m) + d;
}

/* channels_last rows r0..r1−1: the same formulas with c the inner index */
static inline void
SFX(norm_map_last)(const SFX(norm_map_job) *j, pc_index r0, pc_index r1)
{
    pc_index C = j->C;
    const T *restrict k = j->k, *restrict q = j->q, *restrict d = j->d, *restrict m = j->m;
    for (pc_index r = r0; r < r1; r++) {
        const T *restrict x = j->x + r * C, *restrict dy = j->affine ? NULL : j->dy + r * C;
        T *restrict out = j->out + r * C;
        if (j->affine)
            for (pc_index c = 0; c < C; c++)
                out[c] = x[c] * k[c] + d[c];
        else if (j->fresh)
            for (pc_index c = 0; c < C; c++)
                out[c] = k[c] * dy[c] + q[c] * (x[c] - m[c]) + d[c];
        else
            for (pc_index c = 0; c < C; c++)
                out[c] += k[c] * dy[c] + q[c] * (x[c] - m[c]) + d[c];
    }
}

static void
SFX(norm_map_items)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(norm_map_job) *j = ctx;
    if (j->C == 1)
        SFX(norm_map_run)(j, i0, i1 - i0, 0);
    else if (j->B == 1)
        SFX(norm_map_last)(j, i0, i1);
    else
        for (pc_index r = i0; r < i1; r++)
            for (pc_index c = 0; c < j->C; c++)
                SFX(norm_map_run)(j, (r * j->C + c) * j->B, j->B, c);
}

static void
SFX(norm_map)(const SFX(norm_map_job) *j, pc_index A)
{
    pc_index items = j->C == 1 ? A * j->B : A;
    pc_parallel_for(items, pc_parallel_grain(j->C == 1 ? 1 : j->C * j->B),
                    SFX(norm_map_items), (void *)j);
}

/* ---- the kernels ------------------------------------------------------------------ */

/* One read of x: chunk k's Σ x = S_k and Σ (x − m_k)² = Q_k about its own mean m_k
 * (n_k values), then, with mean = Σ S_k / n and e_k = m_k − mean,
 *   Σ (x − mean)² = Σ_k Q_k + 2·e_k·(S_k − n_k·m_k) + n_k·e_k²
 * (exact; the middle term is what rounding m_k to T leaves). No cancellation: each
 * chunk's squares are taken about a centre inside its data. */
void
SFX(pc_batch_norm_moments)(const T *x, pc_index A, pc_index C, pc_index B, ACC *work,
                           T *mean, T *var)
{
    pc_index chunks = pc_norm_chunks(A, C, B), rows = pc_norm_rows(C, B);
    ACC n = (ACC)A * (ACC)B;
    SFX(norm_sum_job) j = SFX(norm_sum_job_of)(x, NULL, NULL, A, C, B, work,
                                               NORM_SUM_MOMENTS);

    pc_parallel_for(chunks, 1, SFX(norm_sum_chunks), &j);
    for (pc_index c = 0; c < C; c++) {          /* the chunks in order: thread-independent */
        ACC sum = 0, q = 0, m;
        for (pc_index k = 0; k < chunks; k++)
            sum += work[k * 2 * C + c];
        m = sum / n;
        for (pc_index k = 0; k < chunks; k++) {
            pc_index r1 = (k + 1) * rows < A ? (k + 1) * rows : A;
            ACC nk = (ACC)(r1 - k * rows) * (ACC)B, mk = (ACC)j.centre[k * C + c];
            ACC e = mk - m, sk = work[k * 2 * C + c];
            q += work[k * 2 * C + C + c] + 2 * e * (sk - nk * mk) + nk * e * e;
        }
        mean[c] = (T)m;
        var[c] = (T)(q / n);
    }
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

void
SFX(pc_channel_affine_forward)(const T *x, const T *scale, const T *shift, pc_index A,
                               pc_index C, pc_index B, T *y)
{
    SFX(norm_map_job) j = {.x = x, .out = y, .k = scale, .d = shift, .C = C, .B = B,
                           .affine = 1};
    SFX(norm_map)(&j, A);
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

void
SFX(pc_batch_norm_backward)(const T *x, const T *dy, pc_index A, pc_index C, pc_index B,
                            const T *mean, const T *inv, const T *gamma, int batch_stats,
                            ACC *work, T *dx, int dx_fresh, T *dgamma, T *dbeta)
{
    ACC *s1 = work + pc_norm_chunks(A, C, B) * 4 * C, *s2 = s1 + C, n = (ACC)A * (ACC)B;
    T *k = (T *)(s2 + C), *q = k + C, *d = q + C;
    SFX(norm_sum_job) j = SFX(norm_sum_job_of)(x, dy, mean, A, C, B, work, NORM_SUM_DY);

    if (dgamma != NULL || dbeta != NULL || (dx != NULL && batch_stats))
        SFX(norm_sums)(&j, s1, s2);
    else
        for (pc_index c = 0; c < C; c++)
            s1[c] = s2[c] = 0;
    for (pc_index c = 0; c < C; c++) {
        ACC i = (ACC)inv[c], sdy = s1[c], sdyxh = s2[c] * i;    /* Σ dy, Σ dy·x̂ */
        ACC kc = gamma != NULL ? (ACC)gamma[c] * i : i;
        if (dbeta != NULL)
            dbeta[c] += (T)sdy;
        if (dgamma != NULL)
            dgamma[c] += (T)sdyxh;
        k[c] = (T)kc;
        q[c] = batch_stats ? (T)(-kc * i * sdyxh / n) : 0;  /* − γ·inv · x̂ · Σdy·x̂ / n */
        d[c] = batch_stats ? (T)(-kc * sdy / n) : 0;        /* − γ·inv · Σdy / n */
    }
    if (dx != NULL) {
        SFX(norm_map_job) jx = {.x = x, .dy = dy, .out = dx, .k = k, .q = q, .d = d,
                                .m = mean, .C = C, .B = B, .fresh = dx_fresh};
        SFX(norm_map)(&jx, A);
    }
}

/* ---- layer normalisation ------------------------------------------------------------ */

typedef struct {
    const T *x, *dy, *gamma, *beta, *mean, *inv;
    T *y, *dx, *mean_out, *inv_out;
    ACC *part;                  /* backward: (chunks, 2, K) column sums */
    T *block;                   /* backward: (chunks, 2, K) a block of rows' column sums */
    pc_index M, K, rows;
    double eps;
    int dx_fresh;
} SFX(layer_norm_job);

/* Rows are taken LN_GROUP at a time, each step over the group's rows before the next:
 * the per-row scalar work (a division, a square root) of one row then overlaps the
 * others' instead of each row waiting for its own. */
#define LN_GROUP 8

static void
SFX(layer_norm_forward_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(layer_norm_job) *j = ctx;
    const T *restrict gamma = j->gamma, *restrict beta = j->beta;
    pc_index K = j->K;
    for (pc_index g = r0; g < r1; g += LN_GROUP) {
        pc_index n = r1 - g < LN_GROUP ? r1 - g : LN_GROUP;
        T m[LN_GROUP], i[LN_GROUP];
        ACC v[LN_GROUP];
        for (pc_index q = 0; q < n; q++)
            m[q] = (T)((ACC)SFX(norm_run_sum)(j->x + (g + q) * K, K, 0, NORM_SUM_X) / (ACC)K);
        for (pc_index q = 0; q < n; q++)    /* two passes: Σ(x − mean)² does not cancel */
            v[q] = (ACC)SFX(norm_run_sum)(j->x + (g + q) * K, K, m[q], NORM_SUM_DEV2) /
                   (ACC)K;
        for (pc_index q = 0; q < n; q++)
            i[q] = (T)(1 / sqrt(v[q] + j->eps));
        for (pc_index q = 0; q < n; q++) {
            const T *restrict x = j->x + (g + q) * K;
            T *restrict y = j->y + (g + q) * K;
            T mq = m[q], iq = i[q];
            if (gamma != NULL && beta != NULL)
                for (pc_index k = 0; k < K; k++)
                    y[k] = gamma[k] * ((x[k] - mq) * iq) + beta[k];
            else
                for (pc_index k = 0; k < K; k++) {
                    T h = (x[k] - mq) * iq;
                    y[k] = (gamma != NULL ? gamma[k] * h : h) + (beta != NULL ? beta[k] : 0);
                }
            j->mean_out[g + q] = mq;
            j->inv_out[g + q] = iq;
        }
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

/* row r, with a1 = mean_k(g), a2 = inv² · mean_k(g·x̂):
 * dx (+)= inv · (g − a1) − (x − mean) · a2 = inv · (g − mean_k(g) − x̂ · mean_k(g·x̂)),
 * g = dy·γ */
static inline void
SFX(layer_norm_dx_row)(const SFX(layer_norm_job) *j, pc_index r, T a1, T a2)
{
    pc_index K = j->K;
    const T *restrict x = j->x + r * K, *restrict dy = j->dy + r * K, *restrict w = j->gamma;
    T *restrict dx = j->dx + r * K;
    T m = j->mean[r], i = j->inv[r];
    if (w == NULL) {
        if (j->dx_fresh)
            for (pc_index k = 0; k < K; k++)
                dx[k] = i * (dy[k] - a1) - (x[k] - m) * a2;
        else
            for (pc_index k = 0; k < K; k++)
                dx[k] += i * (dy[k] - a1) - (x[k] - m) * a2;
    }
    else if (j->dx_fresh)
        for (pc_index k = 0; k < K; k++)
            dx[k] = i * (dy[k] * w[k] - a1) - (x[k] - m) * a2;
    else
        for (pc_index k = 0; k < K; k++)
            dx[k] += i * (dy[k] * w[k] - a1) - (x[k] - m) * a2;
}

/* row r into the column sums: bg[k] += dy·x̂ (γ's), bb[k] += dy (β's) */
static inline void
SFX(layer_norm_columns)(const SFX(layer_norm_job) *j, pc_index r, T *restrict bg,
                        T *restrict bb)
{
    pc_index K = j->K;
    const T *restrict x = j->x + r * K, *restrict dy = j->dy + r * K;
    T m = j->mean[r], i = j->inv[r];
    for (pc_index k = 0; k < K; k++) {
        bg[k] += dy[k] * ((x[k] - m) * i);
        bb[k] += dy[k];
    }
}

/* rows g..g+n−1 (n ≤ LN_GROUP): dx, each row's sums taken before any row's dx (as in
 * the forward, the rows' scalar steps overlap); each row then added to the column
 * sums b (Σ dy·x̂, Σ dy; b NULL: none) right after its dx, while it is in cache */
static inline void
SFX(layer_norm_backward_group)(const SFX(layer_norm_job) *j, pc_index g, pc_index n, T *b)
{
    pc_index K = j->K;
    T a1[LN_GROUP], a2[LN_GROUP];
    for (pc_index q = 0; j->dx != NULL && q < n; q++) {
        pc_index r = g + q;
        SFX(norm_run_dot)(j->dy + r * K, j->gamma, j->x + r * K, K, j->mean[r], &a1[q],
                          &a2[q]);
    }
    for (pc_index q = 0; j->dx != NULL && q < n; q++) {
        ACC i = (ACC)j->inv[g + q];
        a1[q] = (T)((ACC)a1[q] / (ACC)K);
        a2[q] = (T)((ACC)a2[q] * i * i * i / (ACC)K);     /* inv · mean_k(g·x̂) · inv */
    }
    for (pc_index q = 0; q < n; q++) {
        if (j->dx != NULL)
            SFX(layer_norm_dx_row)(j, g + q, a1[q], a2[q]);
        if (b != NULL)
            SFX(layer_norm_columns)(j, g + q, b, b + K);
    }
}

/* per chunk of rows: dx of its rows; part[k] = Σ dy·x̂, part[K + k] = Σ dy over them,
 * each block of NORM_BLOCK rows summed in T, the blocks in ACC */
static void
SFX(layer_norm_backward_chunks)(void *ctx, pc_index c0, pc_index c1)
{
    const SFX(layer_norm_job) *j = ctx;
    pc_index K = j->K;
    for (pc_index c = c0; c < c1; c++) {
        ACC *s = j->part != NULL ? j->part + c * 2 * K : NULL;
        T *b = j->part != NULL ? j->block + c * 2 * K : NULL;
        pc_index r1 = (c + 1) * j->rows < j->M ? (c + 1) * j->rows : j->M;
        for (pc_index k = 0; s != NULL && k < 2 * K; k++)
            s[k] = 0;
        for (pc_index r = c * j->rows; r < r1; r += NORM_BLOCK) {
            pc_index e = r + NORM_BLOCK < r1 ? r + NORM_BLOCK : r1;
            for (pc_index k = 0; b != NULL && k < 2 * K; k++)
                b[k] = 0;
            for (pc_index g = r; g < e; g += LN_GROUP)
                SFX(layer_norm_backward_group)(j, g, e - g < LN_GROUP ? e - g : LN_GROUP, b);
            for (pc_index k = 0; b != NULL && k < 2 * K; k++)
                s[k] += (ACC)b[k];
        }
    }
}

void
SFX(pc_layer_norm_backward)(const T *x, const T *dy, pc_index M, pc_index K, const T *mean,
                            const T *inv, const T *gamma, ACC *work, T *dx, int dx_fresh,
                            T *dgamma, T *dbeta)
{
    pc_index chunks = pc_norm_chunks(M, K, 1);
    int columns = dgamma != NULL || dbeta != NULL;
    SFX(layer_norm_job) j = {.x = x, .dy = dy, .gamma = gamma, .mean = mean, .inv = inv,
                             .dx = dx, .part = columns ? work : NULL,
                             .block = (T *)(work + chunks * 2 * K), .M = M, .K = K,
                             .rows = pc_norm_rows(K, 1), .dx_fresh = dx_fresh};
    pc_parallel_for(chunks, 1, SFX(layer_norm_backward_chunks), &j);
    for (pc_index k = 0; columns && k < K; k++) {  /* the chunks in order: thread-independent */
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
