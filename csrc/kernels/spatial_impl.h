/* spatial_impl.h — template body of spatial.h's kernels, no include guard.
 * Needs T, ACC, SFX(name). Legend: spatial.h. */

#define SFX_GLOBAL_BLOCK 16     /* channels summed at once in registers */

typedef struct {
    const T *src;               /* forward: x; backward: dy */
    T *dst;                     /* forward: y; backward: dx */
    pc_index *arg;              /* global max: where each maximum lies */
    const T *scale;             /* channel scale: s (N, C) */
    pc_index P, C;
    int overwrite;              /* backward: dx = … (fresh buffer) instead of dx += … */
    const pc_pad_geometry *g;          /* pad2d */
} SFX(spatial_job);

/* fn over images [0, N) of P pixels × C channels on the thread pool: the whole-image
 * kernels (global pooling, channel scale) */
static void
SFX(over_images)(pc_parallel_fn fn, const T *src, T *dst, pc_index *arg, const T *scale,
                 pc_index N, pc_index P, pc_index C, int overwrite)
{
    SFX(spatial_job) j = {.src = src, .dst = dst, .arg = arg, .scale = scale, .P = P, .C = C,
                          .overwrite = overwrite};
    pc_parallel_for(N, pc_parallel_grain(P * C), fn, &j);
}

static void
SFX(global_avg_forward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(spatial_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++)
        for (pc_index c0 = 0; c0 < C; c0 += SFX_GLOBAL_BLOCK) {
            pc_index len = C - c0 < SFX_GLOBAL_BLOCK ? C - c0 : SFX_GLOBAL_BLOCK;
            ACC acc[SFX_GLOBAL_BLOCK] = {0};
            const T *x = j->src + n * P * C + c0;
            for (pc_index p = 0; p < P; p++)
                for (pc_index k = 0; k < len; k++)
                    acc[k] += (ACC)x[p * C + k];
            for (pc_index k = 0; k < len; k++)
                j->dst[n * C + c0 + k] = (T)(acc[k] / (ACC)P);
        }
}

void
SFX(pc_global_avg_pool_forward)(const T *x, T *y, pc_index N, pc_index P, pc_index C)
{
    SFX(over_images)(SFX(global_avg_forward_images), x, y, NULL, NULL, N, P, C, 1);
}

static void
SFX(global_avg_backward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(spatial_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++) {
        const T *dy = j->src + n * C;
        T *restrict dx = j->dst + n * P * C;
        for (pc_index p = 0; p < P; p++) {
            T *restrict d = dx + p * C;
            if (j->overwrite)
                for (pc_index c = 0; c < C; c++)
                    d[c] = (T)((ACC)dy[c] / (ACC)P);
            else
                for (pc_index c = 0; c < C; c++)
                    d[c] += (T)((ACC)dy[c] / (ACC)P);
        }
    }
}

void
SFX(pc_global_avg_pool_backward)(const T *dy, T *dx, pc_index N, pc_index P, pc_index C,
                                 int overwrite)
{
    SFX(over_images)(SFX(global_avg_backward_images), dy, dx, NULL, NULL, N, P, C, overwrite);
}

/* A later pixel replaces the running maximum when larger, or when it is the first NaN;
 * branch-free over the channels (it vectorizes), a block of channels at a time */
PC_SIMD_CLONES static void
SFX(global_max_forward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(spatial_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++)
        for (pc_index c0 = 0; c0 < C; c0 += SFX_GLOBAL_BLOCK) {
            const pc_index len = C - c0 < SFX_GLOBAL_BLOCK ? C - c0 : SFX_GLOBAL_BLOCK;
            const T *x = j->src + n * P * C + c0;
            T m[SFX_GLOBAL_BLOCK];
            pc_index a[SFX_GLOBAL_BLOCK];
            for (pc_index k = 0; k < len; k++) {
                m[k] = x[k];
                a[k] = 0;
            }
            for (pc_index p = 1; p < P; p++)
                for (pc_index k = 0; k < len; k++) {
                    const T v = x[p * C + k], cur = m[k];
                    const int take = (v > cur) | ((v != v) & (cur == cur));
                    m[k] = take ? v : cur;
                    a[k] = take ? p : a[k];
                }
            for (pc_index k = 0; k < len; k++) {
                j->dst[n * C + c0 + k] = m[k];
                j->arg[n * C + c0 + k] = a[k];
            }
        }
}

void
SFX(pc_global_max_pool_forward)(const T *x, T *y, pc_index *arg, pc_index N, pc_index P,
                                pc_index C)
{
    SFX(over_images)(SFX(global_max_forward_images), x, y, arg, NULL, N, P, C, 1);
}

/* dx written once: dy[n, c] at pixel arg[n, c], 0 at every other pixel */
PC_SIMD_CLONES static void
SFX(global_max_backward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(spatial_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++) {
        const T *restrict dy = j->src + n * C;
        const pc_index *restrict arg = j->arg + n * C;
        for (pc_index p = 0; p < P; p++) {
            T *restrict dx = j->dst + (n * P + p) * C;
            for (pc_index c = 0; c < C; c++)
                dx[c] = arg[c] == p ? dy[c] : (T)0;
        }
    }
}

void
SFX(pc_global_max_pool_backward)(const T *dy, const pc_index *arg, T *dx, pc_index N,
                                 pc_index P, pc_index C, int overwrite)
{
    if (overwrite) {
        SFX(over_images)(SFX(global_max_backward_images), dy, dx, (pc_index *)arg, NULL, N, P,
                         C, 1);
        return;
    }
    for (pc_index n = 0; n < N; n++)        /* N·C updates: not worth a thread */
        for (pc_index c = 0; c < C; c++)
            dx[(n * P + arg[n * C + c]) * C + c] += dy[n * C + c];
}

/* ---- channel scale: y[n, p, c] = x[n, p, c] · s[n, c] (SpatialDropout2D's mask) ---- */

PC_SIMD_CLONES static void
SFX(channel_scale_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(spatial_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++) {
        const T *restrict s = j->scale + n * C;
        for (pc_index p = 0; p < P; p++) {
            const T *restrict x = j->src + (n * P + p) * C;
            T *restrict y = j->dst + (n * P + p) * C;
            if (j->overwrite)
                for (pc_index c = 0; c < C; c++)
                    y[c] = x[c] * s[c];
            else
                for (pc_index c = 0; c < C; c++)
                    y[c] += x[c] * s[c];
        }
    }
}

void
SFX(pc_channel_scale)(const T *x, const T *s, T *y, pc_index N, pc_index P, pc_index C,
                      int overwrite)
{
    SFX(over_images)(SFX(channel_scale_images), x, y, NULL, s, N, P, C, overwrite);
}

/* ---- pad2d: one output row (n, i) at a time; output row ↔ input row is one to one ---- */

/* the output columns [*j0, *j1) that come from x */
static inline void
SFX(pad_columns)(const pc_pad_geometry *g, pc_index *j0, pc_index *j1)
{
    *j0 = g->PL > 0 ? g->PL : 0;
    *j1 = g->PL + g->W < g->OW ? g->PL + g->W : g->OW;
    if (*j1 < *j0)
        *j1 = *j0;
}

static void
SFX(pad_forward_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(spatial_job) *j = ctx;
    const pc_pad_geometry *g = j->g;
    pc_index C = g->C, j0, j1;
    SFX(pad_columns)(g, &j0, &j1);
    for (pc_index r = r0; r < r1; r++) {
        pc_index n = r / g->OH, h = r % g->OH - g->PT;
        T *y = j->dst + r * g->OW * C;
        if (h < 0 || h >= g->H || j1 == j0) {
            memset(y, 0, (size_t)(g->OW * C) * sizeof(T));
            continue;
        }
        memset(y, 0, (size_t)(j0 * C) * sizeof(T));
        memcpy(y + j0 * C, j->src + ((n * g->H + h) * g->W + (j0 - g->PL)) * C,
               (size_t)((j1 - j0) * C) * sizeof(T));
        memset(y + j1 * C, 0, (size_t)((g->OW - j1) * C) * sizeof(T));
    }
}

void
SFX(pc_pad2d_forward)(const T *x, T *y, const pc_pad_geometry *g)
{
    SFX(spatial_job) j = {.src = x, .dst = y, .g = g};
    pc_parallel_for(g->N * g->OH, pc_parallel_grain(g->OW * g->C), SFX(pad_forward_rows), &j);
}

/* one x row (n, h) at a time: dx = the y row it lands in (columns outside y: 0) */
static void
SFX(pad_backward_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(spatial_job) *j = ctx;
    const pc_pad_geometry *g = j->g;
    pc_index C = g->C, j0, j1;
    SFX(pad_columns)(g, &j0, &j1);
    const pc_index w0 = j0 - g->PL, w1 = j1 - g->PL;     /* the x columns that land in y */
    for (pc_index r = r0; r < r1; r++) {
        pc_index n = r / g->H, i = r % g->H + g->PT;
        T *restrict dx = j->dst + r * g->W * C;
        if (i < 0 || i >= g->OH || j1 == j0) {
            if (j->overwrite)
                memset(dx, 0, (size_t)(g->W * C) * sizeof(T));
            continue;
        }
        const T *restrict dy = j->src + ((n * g->OH + i) * g->OW + j0) * C;
        if (j->overwrite) {
            memset(dx, 0, (size_t)(w0 * C) * sizeof(T));
            memcpy(dx + w0 * C, dy, (size_t)((w1 - w0) * C) * sizeof(T));
            memset(dx + w1 * C, 0, (size_t)((g->W - w1) * C) * sizeof(T));
            continue;
        }
        for (pc_index k = 0; k < (w1 - w0) * C; k++)
            dx[w0 * C + k] += dy[k];
    }
}

void
SFX(pc_pad2d_backward)(const T *dy, T *dx, const pc_pad_geometry *g, int overwrite)
{
    SFX(spatial_job) j = {.src = dy, .dst = dx, .g = g, .overwrite = overwrite};
    pc_parallel_for(g->N * g->H, pc_parallel_grain(g->W * g->C), SFX(pad_backward_rows), &j);
}

#undef SFX_GLOBAL_BLOCK
