/* spatial_impl.h — template body of spatial.h's kernels, no include guard.
 * Needs T, ACC, SFX(name). Legend: spatial.h. */

#define SFX_GLOBAL_BLOCK 16     /* channels summed at once in registers */

typedef struct {
    const T *src;               /* forward: x; backward: dy */
    T *dst;                     /* forward: y; backward: dx */
    pc_index *arg;              /* global max: where each maximum lies */
    pc_index P, C;
    const pc_pad_geometry *g;          /* pad2d */
} SFX(spatial_job);

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
    SFX(spatial_job) j = {.src = x, .dst = y, .P = P, .C = C};
    pc_parallel_for(N, pc_parallel_grain(P * C), SFX(global_avg_forward_images), &j);
}

static void
SFX(global_avg_backward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(spatial_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++) {
        const T *dy = j->src + n * C;
        T *dx = j->dst + n * P * C;
        for (pc_index p = 0; p < P; p++)
            for (pc_index c = 0; c < C; c++)
                dx[p * C + c] += (T)((ACC)dy[c] / (ACC)P);
    }
}

void
SFX(pc_global_avg_pool_backward)(const T *dy, T *dx, pc_index N, pc_index P, pc_index C)
{
    SFX(spatial_job) j = {.src = dy, .dst = dx, .P = P, .C = C};
    pc_parallel_for(N, pc_parallel_grain(P * C), SFX(global_avg_backward_images), &j);
}

/* A later pixel replaces the running maximum when larger, or when it is the first NaN */
static void
SFX(global_max_forward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(spatial_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++) {
        const T *x = j->src + n * P * C;
        T *y = j->dst + n * C;
        pc_index *arg = j->arg + n * C;
        for (pc_index c = 0; c < C; c++) {
            y[c] = x[c];
            arg[c] = 0;
        }
        for (pc_index p = 1; p < P; p++)
            for (pc_index c = 0; c < C; c++) {
                T v = x[p * C + c];
                if (v > y[c] || (v != v && y[c] == y[c])) {
                    y[c] = v;
                    arg[c] = p;
                }
            }
    }
}

void
SFX(pc_global_max_pool_forward)(const T *x, T *y, pc_index *arg, pc_index N, pc_index P,
                                pc_index C)
{
    SFX(spatial_job) j = {.src = x, .dst = y, .arg = arg, .P = P, .C = C};
    pc_parallel_for(N, pc_parallel_grain(P * C), SFX(global_max_forward_images), &j);
}

void
SFX(pc_global_max_pool_backward)(const T *dy, const pc_index *arg, T *dx, pc_index N,
                                 pc_index P, pc_index C)
{
    for (pc_index n = 0; n < N; n++)        /* N·C updates: not worth a thread */
        for (pc_index c = 0; c < C; c++)
            dx[(n * P + arg[n * C + c]) * C + c] += dy[n * C + c];
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

static void
SFX(pad_backward_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(spatial_job) *j = ctx;
    const pc_pad_geometry *g = j->g;
    pc_index C = g->C, j0, j1;
    SFX(pad_columns)(g, &j0, &j1);
    for (pc_index r = r0; r < r1; r++) {
        pc_index n = r / g->OH, h = r % g->OH - g->PT;
        if (h < 0 || h >= g->H)
            continue;
        const T *dy = j->src + (r * g->OW + j0) * C;
        T *dx = j->dst + ((n * g->H + h) * g->W + (j0 - g->PL)) * C;
        for (pc_index i = 0; i < (j1 - j0) * C; i++)
            dx[i] += dy[i];
    }
}

void
SFX(pc_pad2d_backward)(const T *dy, T *dx, const pc_pad_geometry *g)
{
    SFX(spatial_job) j = {.src = dy, .dst = dx, .g = g};
    pc_parallel_for(g->N * g->OH, pc_parallel_grain(g->OW * g->C), SFX(pad_backward_rows), &j);
}

#undef SFX_GLOBAL_BLOCK
