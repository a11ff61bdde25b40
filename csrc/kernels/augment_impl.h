/* augment_impl.h — template body of augment.h's kernels, no include guard.
 * Needs T, ACC, SFX(name) and augment.c's pc_nodes / pc_resize_axis. */

typedef struct {
    const T *src;               /* forward: x; backward: dy */
    T *dst;                     /* forward: y; backward: dx */
    T *mean;                    /* contrast forward: (N, C) out */
    const T *cmean;             /* contrast backward: (N, C) in */
    const T *x;                 /* contrast backward */
    const double *f;            /* contrast: factor per image */
    const pc_affine *g;
    pc_index N, H, W, C, OH, OW, P;
    double lo, hi;
} SFX(augment_job);

/* ---- affine transform ---------------------------------------------------------------- */

/* the nodes of output pixel (i, j) of image n, by row and by column */
static inline void
SFX(affine_nodes)(const pc_affine *g, pc_index n, pc_index i, pc_index j, pc_node1d rows[2],
                  pc_node1d cols[2], int *nr, int *nc)
{
    const double *t = g->t + 6 * n;
    double u = t[0] * (double)j + t[1] * (double)i + t[2];     /* column */
    double v = t[3] * (double)j + t[4] * (double)i + t[5];     /* row */
    *nr = pc_nodes(v, g->H, g->interpolation, g->fill_mode, rows);
    *nc = pc_nodes(u, g->W, g->interpolation, g->fill_mode, cols);
}

static void
SFX(affine_forward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(augment_job) *job = ctx;
    const pc_affine *g = job->g;
    pc_index H = g->H, W = g->W, C = g->C;
    for (pc_index n = n0; n < n1; n++)
        for (pc_index i = 0; i < H; i++)
            for (pc_index j = 0; j < W; j++) {
                pc_node1d rows[2], cols[2];
                int nr, nc;
                T *y = job->dst + ((n * H + i) * W + j) * C;
                SFX(affine_nodes)(g, n, i, j, rows, cols, &nr, &nc);
                for (pc_index c = 0; c < C; c++)
                    y[c] = 0;
                for (int a = 0; a < nr; a++)
                    for (int b = 0; b < nc; b++) {
                        T w = (T)(rows[a].weight * cols[b].weight);
                        const T *x = job->src + ((n * H + rows[a].index) * W + cols[b].index) * C;
                        if (rows[a].valid && cols[b].valid)
                            for (pc_index c = 0; c < C; c++)
                                y[c] += w * x[c];
                        else
                            for (pc_index c = 0; c < C; c++)
                                y[c] += w * (T)g->fill_value;
                    }
            }
}

void
SFX(pc_affine_transform_forward)(const T *x, T *y, const pc_affine *g)
{
    SFX(augment_job) job = {.src = x, .dst = y, .g = g};
    pc_parallel_for(g->N, pc_parallel_grain(4 * g->H * g->W * g->C),
                    SFX(affine_forward_images), &job);
}

static void
SFX(affine_backward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(augment_job) *job = ctx;
    const pc_affine *g = job->g;
    pc_index H = g->H, W = g->W, C = g->C;
    for (pc_index n = n0; n < n1; n++)
        for (pc_index i = 0; i < H; i++)
            for (pc_index j = 0; j < W; j++) {
                pc_node1d rows[2], cols[2];
                int nr, nc;
                const T *dy = job->src + ((n * H + i) * W + j) * C;
                SFX(affine_nodes)(g, n, i, j, rows, cols, &nr, &nc);
                for (int a = 0; a < nr; a++)
                    for (int b = 0; b < nc; b++) {
                        T w = (T)(rows[a].weight * cols[b].weight);
                        T *dx = job->dst + ((n * H + rows[a].index) * W + cols[b].index) * C;
                        if (!rows[a].valid || !cols[b].valid || w == 0)
                            continue;       /* the fill value is a constant */
                        for (pc_index c = 0; c < C; c++)
                            dx[c] += w * dy[c];
                    }
            }
}

void
SFX(pc_affine_transform_backward)(const T *dy, T *dx, const pc_affine *g)
{
    SFX(augment_job) job = {.src = dy, .dst = dx, .g = g};
    pc_parallel_for(g->N, pc_parallel_grain(4 * g->H * g->W * g->C),
                    SFX(affine_backward_images), &job);
}

/* ---- bilinear resize ----------------------------------------------------------------- */

static void
SFX(resize_images)(void *ctx, pc_index n0, pc_index n1, int backward)
{
    const SFX(augment_job) *j = ctx;
    pc_index H = j->H, W = j->W, C = j->C;
    for (pc_index n = n0; n < n1; n++)
        for (pc_index i = 0; i < j->OH; i++) {
            pc_index r[2], q[2];
            double wr1, wq1;
            pc_resize_axis(i, H, j->OH, &r[0], &r[1], &wr1);
            for (pc_index o = 0; o < j->OW; o++) {
                double wr[2] = {1 - wr1, wr1}, wq[2];
                pc_resize_axis(o, W, j->OW, &q[0], &q[1], &wq1);
                wq[0] = 1 - wq1;
                wq[1] = wq1;
                pc_index out = ((n * j->OH + i) * j->OW + o) * C;
                if (!backward)
                    for (pc_index c = 0; c < C; c++)
                        j->dst[out + c] = 0;
                for (int a = 0; a < 2; a++)
                    for (int b = 0; b < 2; b++) {
                        T w = (T)(wr[a] * wq[b]);
                        pc_index in = ((n * H + r[a]) * W + q[b]) * C;
                        if (backward)
                            for (pc_index c = 0; c < C; c++)
                                j->dst[in + c] += w * j->src[out + c];
                        else
                            for (pc_index c = 0; c < C; c++)
                                j->dst[out + c] += w * j->src[in + c];
                    }
            }
        }
}

static void
SFX(resize_forward_images)(void *ctx, pc_index n0, pc_index n1)
{
    SFX(resize_images)(ctx, n0, n1, 0);
}

static void
SFX(resize_backward_images)(void *ctx, pc_index n0, pc_index n1)
{
    SFX(resize_images)(ctx, n0, n1, 1);
}

void
SFX(pc_resize_bilinear_forward)(const T *x, T *y, pc_index N, pc_index H, pc_index W,
                                pc_index C, pc_index OH, pc_index OW)
{
    SFX(augment_job) j = {.src = x, .dst = y, .N = N, .H = H, .W = W, .C = C, .OH = OH,
                          .OW = OW};
    pc_parallel_for(N, pc_parallel_grain(4 * OH * OW * C), SFX(resize_forward_images), &j);
}

void
SFX(pc_resize_bilinear_backward)(const T *dy, T *dx, pc_index N, pc_index H, pc_index W,
                                 pc_index C, pc_index OH, pc_index OW)
{
    SFX(augment_job) j = {.src = dy, .dst = dx, .N = N, .H = H, .W = W, .C = C, .OH = OH,
                          .OW = OW};
    pc_parallel_for(N, pc_parallel_grain(4 * OH * OW * C), SFX(resize_backward_images), &j);
}

/* ---- contrast ------------------------------------------------------------------------ */

/* m[c] = mean over the pixels of image x (P, C), in ACC, into acc[C] then out[C] */
static inline void
SFX(image_channel_means)(const T *x, pc_index P, pc_index C, T *out)
{
    for (pc_index c = 0; c < C; c++) {
        ACC s = 0;
        for (pc_index p = 0; p < P; p++)
            s += (ACC)x[p * C + c];
        out[c] = (T)(s / (ACC)P);
    }
}

static void
SFX(contrast_forward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(augment_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++) {
        const T *x = j->src + n * P * C;
        T *y = j->dst + n * P * C, *m = j->mean + n * C;
        T f = (T)j->f[n], lo = (T)j->lo, hi = (T)j->hi;
        SFX(image_channel_means)(x, P, C, m);
        for (pc_index p = 0; p < P; p++)
            for (pc_index c = 0; c < C; c++) {
                T z = (x[p * C + c] - m[c]) * f + m[c];
                y[p * C + c] = z < lo ? lo : (z > hi ? hi : z);
            }
    }
}

void
SFX(pc_contrast_forward)(const T *x, T *y, T *mean, const double *f, pc_index N, pc_index P,
                         pc_index C, double lo, double hi)
{
    SFX(augment_job) j = {.src = x, .dst = y, .mean = mean, .f = f, .P = P, .C = C,
                          .lo = lo, .hi = hi};
    pc_parallel_for(N, pc_parallel_grain(P * C), SFX(contrast_forward_images), &j);
}

static void
SFX(contrast_backward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(augment_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++) {
        const T *x = j->x + n * P * C, *dy = j->src + n * P * C, *m = j->cmean + n * C;
        T *dx = j->dst + n * P * C, f = (T)j->f[n], lo = (T)j->lo, hi = (T)j->hi;
        for (pc_index c = 0; c < C; c++) {
            ACC s = 0;              /* Σ of the gradient that passes the clip */
            for (pc_index p = 0; p < P; p++) {
                T z = (x[p * C + c] - m[c]) * f + m[c];
                s += z >= lo && z <= hi ? (ACC)dy[p * C + c] : 0;
            }
            T shared = (T)((1 - (ACC)f) * s / (ACC)P);
            for (pc_index p = 0; p < P; p++) {
                T z = (x[p * C + c] - m[c]) * f + m[c];
                dx[p * C + c] += (z >= lo && z <= hi ? f * dy[p * C + c] : 0) + shared;
            }
        }
    }
}

void
SFX(pc_contrast_backward)(const T *x, const T *dy, const T *mean, const double *f, pc_index N,
                          pc_index P, pc_index C, double lo, double hi, T *dx)
{
    SFX(augment_job) j = {.x = x, .src = dy, .cmean = mean, .dst = dx, .f = f, .P = P,
                          .C = C, .lo = lo, .hi = hi};
    pc_parallel_for(N, pc_parallel_grain(P * C), SFX(contrast_backward_images), &j);
}
