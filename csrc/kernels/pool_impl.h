/* pool_impl.h — template body, no include guard. Needs T, SFX(name).
 * Instantiated twice by pool.c (float, double). Legend: see pool.h. */

/* The real rows [*h0, *h1) and columns [*w0, *w1) of window (oh, ow) */
static inline void
SFX(window_bounds)(const pc_window2d *g, pc_index oh, pc_index ow, pc_index *h0, pc_index *h1,
                   pc_index *w0, pc_index *w1)
{
    pc_index r = oh * g->SH - g->PT, c = ow * g->SW - g->PL;
    *h0 = r < 0 ? 0 : r;
    *h1 = r + g->KH > g->H ? g->H : r + g->KH;
    *w0 = c < 0 ? 0 : c;
    *w1 = c + g->KW > g->W ? g->W : c + g->KW;
}

typedef struct {
    const T *src;               /* forward: x; backward: dy */
    T *dst;                     /* forward: y; backward: dx */
    int32_t *arg;               /* max pooling: where each maximum lies */
    const pc_window2d *g;
    pc_index per;               /* rows of y per item: 1 (split by rows) or OH (by images) */
    int overwrite;              /* upsampling backward: dx = … instead of dx += … */
} SFX(pool_job);

/* body over the rows (n, oh) of y on the thread pool, split by rows or, for backward
 * passes whose windows overlap in x (SH < KH), by images: no dx element is then
 * written by two threads */
static void
SFX(pool_parallel)(SFX(pool_job) *job, pc_parallel_fn body, int by_image)
{
    const pc_window2d *g = job->g;
    job->per = by_image ? g->OH : 1;
    pc_parallel_for(by_image ? g->N : g->N * g->OH,
                    pc_parallel_grain(job->per * g->OW * g->KH * g->KW * g->C), body, job);
}

/* Channels innermost, branch-free: each window pixel updates C running maxima and
 * their offsets at once (float and int32 lanes line up, so it vectorizes) */
PC_SIMD_CLONES static void
SFX(max_pool_forward_rows)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(pool_job) *job = ctx;
    const pc_window2d *g = job->g;
    const T *x = job->src;
    const pc_index C = g->C;
    for (pc_index row = i0 * job->per; row < i1 * job->per; row++) {
        const pc_index n = row / g->OH, oh = row % g->OH;
        for (pc_index ow = 0; ow < g->OW; ow++) {
            pc_index h0, h1, w0, w1, out = (row * g->OW + ow) * C;
            const pc_index r = oh * g->SH - g->PT, q = ow * g->SW - g->PL;
            T *restrict yo = job->dst + out;
            int32_t *restrict ao = job->arg + out;
            SFX(window_bounds)(g, oh, ow, &h0, &h1, &w0, &w1);
            const T *first = x + ((n * g->H + h0) * g->W + w0) * C;
            const int32_t first_off = (int32_t)(((h0 - r) * g->W + (w0 - q)) * C);
            for (pc_index c = 0; c < C; c++) {
                yo[c] = first[c];
                ao[c] = first_off;
            }
            for (pc_index ih = h0; ih < h1; ih++)
                for (pc_index iw = ih == h0 ? w0 + 1 : w0; iw < w1; iw++) {
                    const T *restrict xp = x + ((n * g->H + ih) * g->W + iw) * C;
                    const int32_t off = (int32_t)(((ih - r) * g->W + (iw - q)) * C);
                    for (pc_index c = 0; c < C; c++) {
                        const T v = xp[c], m = yo[c];
                        const int take = (v > m) | ((v != v) & (m == m));
                        yo[c] = take ? v : m;
                        ao[c] = take ? off : ao[c];
                    }
                }
        }
    }
}

void
SFX(pc_max_pool_forward)(const T *x, T *y, int32_t *arg, const pc_window2d *g)
{
    SFX(pool_job) job = {.src = x, .dst = y, .arg = arg, .g = g};
    SFX(pool_parallel)(&job, SFX(max_pool_forward_rows), 0);
}

/* dx[corner + arg] += dy over the windows of rows (n, oh) */
static void
SFX(max_pool_scatter)(const SFX(pool_job) *job, pc_index n, pc_index oh)
{
    const pc_window2d *g = job->g;
    const pc_index C = g->C;
    for (pc_index ow = 0; ow < g->OW; ow++) {
        const pc_index out = ((n * g->OH + oh) * g->OW + ow) * C;
        /* x offset of the window's corner (may lie in the padding) */
        const pc_index corner = ((n * g->H + oh * g->SH - g->PT) * g->W
                                 + ow * g->SW - g->PL) * C;
        for (pc_index c = 0; c < C; c++)
            job->dst[corner + job->arg[out + c] + c] += job->src[out + c];
    }
}

static void
SFX(max_pool_backward_rows)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(pool_job) *job = ctx;
    for (pc_index row = i0 * job->per; row < i1 * job->per; row++)
        SFX(max_pool_scatter)(job, row / job->g->OH, row % job->g->OH);
}

void
SFX(pc_max_pool_backward)(const T *dy, const int32_t *arg, T *dx, const pc_window2d *g)
{
    SFX(pool_job) job = {.src = dy, .dst = dx, .arg = (int32_t *)arg, .g = g};
    SFX(pool_parallel)(&job, SFX(max_pool_backward_rows), g->SH < g->KH);
}

/* As above, but each row (n, oh) first zeroes the x rows it owns — from its window's
 * top to the next window's (to H after the last; from 0 for the first) — so dx is
 * written once, in cache, instead of zero-filled in a pass of its own. Rows own
 * disjoint bands only when SH ≥ KH; otherwise an image at a time owns all of it. */
PC_SIMD_CLONES static void
SFX(max_pool_backward_overwrite_rows)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(pool_job) *job = ctx;
    const pc_window2d *g = job->g;
    const pc_index WC = g->W * g->C;
    for (pc_index row = i0 * job->per; row < i1 * job->per; row++) {
        const pc_index n = row / g->OH, oh = row % g->OH;
        pc_index b0 = oh * g->SH - g->PT, b1 = b0 + g->SH;
        if (job->per > 1 || oh == 0)
            b0 = 0;
        if (job->per > 1 || oh == g->OH - 1 || b1 > g->H)
            b1 = g->H;
        if (job->per == 1 || oh == 0)
            memset(job->dst + (n * g->H + b0) * WC, 0, (size_t)((b1 - b0) * WC) * sizeof(T));
        SFX(max_pool_scatter)(job, n, oh);
    }
}

/* The same when the windows tile x (stride = window, none in the padding): every dx element of
 * window rows (n, oh) is written once, dy where the window's maximum was and 0
 * elsewhere, channels innermost (it vectorizes); what no window covers (the last rows
 * and columns of an odd size) is zeroed by the rows next to it */
PC_SIMD_CLONES static void
SFX(max_pool_backward_tiled_rows)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(pool_job) *job = ctx;
    const pc_window2d *g = job->g;
    const pc_index C = g->C, WC = g->W * C, covered = g->OW * g->SW * C;
    for (pc_index row = i0; row < i1; row++) {
        const pc_index n = row / g->OH, oh = row % g->OH;
        const pc_index h1 = oh == g->OH - 1 ? g->H : (oh + 1) * g->SH;
        const T *dyr = job->src + row * g->OW * C;
        const int32_t *ar = job->arg + row * g->OW * C;
        for (pc_index ih = oh * g->SH; ih < h1; ih++) {
            T *restrict dxr = job->dst + (n * g->H + ih) * WC;
            const pc_index kh = ih - oh * g->SH;
            if (kh >= g->KH) {                 /* below the last window */
                memset(dxr, 0, (size_t)WC * sizeof(T));
                continue;
            }
            for (pc_index ow = 0; ow < g->OW; ow++)
                for (pc_index kw = 0; kw < g->KW; kw++) {
                    const int32_t off = (int32_t)((kh * g->W + kw) * C);
                    const T *restrict d = dyr + ow * C;
                    const int32_t *restrict a = ar + ow * C;
                    T *restrict o = dxr + (ow * g->SW + kw) * C;
                    for (pc_index c = 0; c < C; c++)
                        o[c] = a[c] == off ? d[c] : (T)0;
                }
            memset(dxr + covered, 0, (size_t)(WC - covered) * sizeof(T));
        }
    }
}

void
SFX(pc_max_pool_backward_overwrite)(const T *dy, const int32_t *arg, T *dx,
                                    const pc_window2d *g)
{
    SFX(pool_job) job = {.src = dy, .dst = dx, .arg = (int32_t *)arg, .g = g};
    if (g->SH == g->KH && g->SW == g->KW && g->PT == 0 && g->PL == 0 &&
        g->OH * g->SH <= g->H && g->OW * g->SW <= g->W) {     /* no window in the padding */
        pc_parallel_for(g->N * g->OH, pc_parallel_grain(g->OW * g->KH * g->KW * g->C),
                        SFX(max_pool_backward_tiled_rows), &job);
        return;
    }
    SFX(pool_parallel)(&job, SFX(max_pool_backward_overwrite_rows), g->SH < g->KH);
}

/* Average pooling over the rows [i0, i1) of y, both directions: each window's real
 * pixels and inv = 1 / their count are found once here.
 *   forward:  y[window] = inv · Σ x over the window                      overwrites
 *   backward: dx[pixel] += inv · dy[window] for every pixel of it       accumulates
 * backward is a constant in each of the two callers below: each is its own loop. */
PC_ALWAYS_INLINE void
SFX(avg_pool_rows)(const SFX(pool_job) *job, pc_index i0, pc_index i1, const int backward)
{
    const pc_window2d *g = job->g;
    const pc_index C = g->C;
    for (pc_index row = i0 * job->per; row < i1 * job->per; row++) {
        const pc_index n = row / g->OH, oh = row % g->OH;
        for (pc_index ow = 0; ow < g->OW; ow++) {
            pc_index h0, h1, w0, w1;
            SFX(window_bounds)(g, oh, ow, &h0, &h1, &w0, &w1);
            const T inv = (T)1 / (T)((h1 - h0) * (w1 - w0));
            if (backward) {
                const T *dyo = job->src + (row * g->OW + ow) * C;
                for (pc_index ih = h0; ih < h1; ih++)
                    for (pc_index iw = w0; iw < w1; iw++) {
                        T *dxp = job->dst + ((n * g->H + ih) * g->W + iw) * C;
                        for (pc_index c = 0; c < C; c++)
                            dxp[c] += dyo[c] * inv;
                    }
                continue;
            }
            T *yo = job->dst + (row * g->OW + ow) * C;
            for (pc_index c = 0; c < C; c++)
                yo[c] = 0;
            for (pc_index ih = h0; ih < h1; ih++)
                for (pc_index iw = w0; iw < w1; iw++) {
                    const T *xp = job->src + ((n * g->H + ih) * g->W + iw) * C;
                    for (pc_index c = 0; c < C; c++)
                        yo[c] += xp[c];
                }
            for (pc_index c = 0; c < C; c++)
                yo[c] *= inv;
        }
    }
}

PC_SIMD_CLONES static void
SFX(avg_pool_forward_rows)(void *ctx, pc_index i0, pc_index i1)
{
    SFX(avg_pool_rows)(ctx, i0, i1, 0);
}

PC_SIMD_CLONES static void
SFX(avg_pool_backward_rows)(void *ctx, pc_index i0, pc_index i1)
{
    SFX(avg_pool_rows)(ctx, i0, i1, 1);
}

void
SFX(pc_avg_pool_forward)(const T *x, T *y, const pc_window2d *g)
{
    SFX(pool_job) job = {.src = x, .dst = y, .g = g};
    SFX(pool_parallel)(&job, SFX(avg_pool_forward_rows), 0);
}

void
SFX(pc_avg_pool_backward)(const T *dy, T *dx, const pc_window2d *g)
{
    SFX(pool_job) job = {.src = dy, .dst = dx, .g = g};
    SFX(pool_parallel)(&job, SFX(avg_pool_backward_rows), g->SH < g->KH);
}

/* rows (n, h) of x: y's SH rows that repeat it */
static void
SFX(upsample_forward_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(pool_job) *job = ctx;
    const pc_window2d *g = job->g;
    const pc_index C = g->C, OWC = g->W * g->SW * C;
    for (pc_index row = r0; row < r1; row++) {
        T *y = job->dst + row * g->SH * OWC;
        const T *x = job->src + row * g->W * C;
        for (pc_index w = 0; w < g->W; w++)
            for (pc_index s = 0; s < g->SW; s++)
                memcpy(y + (w * g->SW + s) * C, x + w * C, (size_t)C * sizeof(T));
        for (pc_index r = 1; r < g->SH; r++)        /* the same row again */
            memcpy(y + r * OWC, y, (size_t)OWC * sizeof(T));
    }
}

void
SFX(pc_upsample_forward)(const T *x, T *y, const pc_window2d *g)
{
    SFX(pool_job) job = {.src = x, .dst = y, .g = g};
    pc_parallel_for(g->N * g->H, pc_parallel_grain(g->SH * g->SW * g->W * g->C),
                    SFX(upsample_forward_rows), &job);
}

/* rows (n, h) of dx: each dx[n, h, w, c] adds its SH×SW block of dy in the order
 * (r, s), onto 0 when overwriting (a fresh buffer) */
PC_SIMD_CLONES static void
SFX(upsample_backward_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(pool_job) *job = ctx;
    const pc_window2d *g = job->g;
    const pc_index C = g->C, OWC = g->W * g->SW * C;
    for (pc_index row = r0; row < r1; row++) {
        T *restrict dx = job->dst + row * g->W * C;
        if (job->overwrite)
            memset(dx, 0, (size_t)(g->W * C) * sizeof(T));
        for (pc_index r = 0; r < g->SH; r++) {
            const T *restrict dy = job->src + (row * g->SH + r) * OWC;
            for (pc_index w = 0; w < g->W; w++)
                for (pc_index s = 0; s < g->SW; s++)
                    for (pc_index c = 0; c < C; c++)
                        dx[w * C + c] += dy[(w * g->SW + s) * C + c];
        }
    }
}

void
SFX(pc_upsample_backward)(const T *dy, T *dx, const pc_window2d *g, int overwrite)
{
    SFX(pool_job) job = {.src = dy, .dst = dx, .g = g, .overwrite = overwrite};
    pc_parallel_for(g->N * g->H, pc_parallel_grain(g->SH * g->SW * g->W * g->C),
                    SFX(upsample_backward_rows), &job);
}
