/* conv_depthwise_impl.h — template body, no include guard. Needs T, ACC, SFX(name) and
 * PC_CONV_DEPTHWISE_DISPATCH. Instantiated twice by conv_depthwise.c (float, double) and
 * twice more by conv_depthwise_avx2.c. Legend: conv_depthwise.h.
 * Two routes: the fast one (M = 1, the common depthwise layer, windows of at most
 * DWC_MAX_TAPS taps) sums a pixel's taps for DWC_CB channels in registers (forward, and
 * dx as a gather over the taps reading each input pixel) and dw per tap over an output
 * row; the plain one (any M) walks every pixel's taps and is the fast route's twin.
 * The inner loops run over a pixel's channels with unit stride; restrict tells the
 * compiler they never overlap. */

#define DWC_CB 16                /* channels summed in registers: 16 floats = 2 AVX */
#define DWC_MAX_TAPS 64          /* KH·KW of the fast route (offsets on the stack) */

typedef struct {
    const T *x, *w, *b, *dz;
    T *y, *dx, *dw;
    const pc_window2d *g;
    pc_index M, blocks;
    int act;
    int dx_pass;                /* fast route's rows: 0 the forward, 1 the input gradient */
    double *acc;
} SFX(dwc_job);

/* The input row of tap kh for output row oh, or −1 in the padding */
static inline pc_index
SFX(dwc_in_row)(const pc_window2d *g, pc_index oh, pc_index kh)
{
    pc_index ih = oh * g->SH - g->PT + kh * (g->GH + 1);
    return ih >= 0 && ih < g->H ? ih : -1;
}

static inline pc_index
SFX(dwc_in_col)(const pc_window2d *g, pc_index ow, pc_index kw)
{
    pc_index iw = ow * g->SW - g->PL + kw * (g->GW + 1);
    return iw >= 0 && iw < g->W ? iw : -1;
}

/* Whether the fast route runs: one filter per channel, a window that fits the offsets */
static inline int
SFX(dwc_fast)(const pc_window2d *g, pc_index M)
{
    return M == 1 && g->KH * g->KW <= DWC_MAX_TAPS;
}

/* yo[c·M + m] += xp[c] · wp[c·M + m], c < C, m < M                         accumulates */
static inline void
SFX(dwc_tap)(T *restrict yo, const T *restrict xp, const T *restrict wp, pc_index C,
             pc_index M)
{
    for (pc_index c = 0; c < C; c++) {
        const T v = xp[c];
        for (pc_index m = 0; m < M; m++)
            yo[c * M + m] += v * wp[c * M + m];
    }
}

/* The plain route (any M, any window): output rows r = n·OH + oh in [r0, r1), every
 * pixel's taps one by one into y, then bias and activation */
static void
SFX(dwc_forward_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(dwc_job) *job = ctx;
    const pc_window2d *g = job->g;
    const pc_index C = g->C, CM = C * job->M;
    for (pc_index r = r0; r < r1; r++) {
        const pc_index n = r / g->OH, oh = r % g->OH;
        T *yrow = job->y + r * g->OW * CM;
        for (pc_index ow = 0; ow < g->OW; ow++) {
            T *yo = yrow + ow * CM;
            for (pc_index o = 0; o < CM; o++)
                yo[o] = 0;
            for (pc_index kh = 0; kh < g->KH; kh++) {
                const pc_index ih = SFX(dwc_in_row)(g, oh, kh);
                if (ih < 0)
                    continue;
                for (pc_index kw = 0; kw < g->KW; kw++) {
                    const pc_index iw = SFX(dwc_in_col)(g, ow, kw);
                    if (iw >= 0)
                        SFX(dwc_tap)(yo, job->x + ((n * g->H + ih) * g->W + iw) * C,
                                     job->w + (kh * g->KW + kw) * CM, C, job->M);
                }
            }
        }
        SFX(pc_bias_act_forward)(yrow, job->b, g->OW, CM, job->act);
    }
}

/* a[i] += s[i] · k[i], i < nc ≤ DWC_CB; a full block with a fixed trip count, so that
 * it is whole vectors                                                      accumulates */
static inline void
SFX(dwc_fma)(T *restrict a, const T *restrict s, const T *restrict k, pc_index nc)
{
    if (nc == DWC_CB)
        for (pc_index i = 0; i < DWC_CB; i++)
            a[i] += s[i] * k[i];
    else
        for (pc_index i = 0; i < nc; i++)
            a[i] += s[i] * k[i];
}

/* The fast route (M = 1, at most DWC_MAX_TAPS taps): a pixel's taps are listed once
 * (offsets into the source image and into w), then summed for DWC_CB channels at a
 * time in registers:
 *   out[i] (+)= Σ_t src[off[t] + i] · w[woff[t] + i], i < nc ≤ DWC_CB    add: accumulates */
static inline void
SFX(dwc_block)(T *restrict out, const T *restrict src, const T *restrict w,
               const pc_index *off, const pc_index *woff, int taps, pc_index nc, int add)
{
    T a[DWC_CB];
    for (pc_index i = 0; i < DWC_CB; i++)
        a[i] = 0;
    for (int t = 0; t < taps; t++) {
        SFX(dwc_fma)(a, src + off[t], w + woff[t], nc);
    }
    for (pc_index i = 0; i < nc; i++)
        out[i] = add ? out[i] + a[i] : a[i];
}

/* out (C,) (+)= the listed taps over all C channels: full blocks, then the tail */
static inline void
SFX(dwc_pixel)(T *out, const T *src, const T *w, const pc_index *off, const pc_index *woff,
               int taps, pc_index C, int add)
{
    pc_index c = 0;
    for (; c + DWC_CB <= C; c += DWC_CB)
        SFX(dwc_block)(out + c, src + c, w + c, off, woff, taps, DWC_CB, add);
    if (c < C)
        SFX(dwc_block)(out + c, src + c, w + c, off, woff, taps, C - c, add);
}

/* The output index o with o·S = t (t = i + pad − k·dilation), or −1 if there is none */
static inline pc_index
SFX(dwc_out_index)(pc_index t, pc_index S, pc_index O)
{
    if (t < 0 || (S > 1 && t % S != 0))
        return -1;
    return t / S < O ? t / S : -1;
}

/* Fast route, the taps of pixel (a, b) listed as offsets into the source image (off)
 * and into w (woff); returns how many:
 *   forward (dx = 0): the input pixels (ih, iw) that output pixel (a, b) reads;
 *   dx (dx = 1): the output pixels (oh, ow) that read input pixel (a, b), the
 *   transposed stencil ih = oh·SH − PT + kh·DH, iw = ow·SW − PL + kw·DW */
static inline int
SFX(dwc_list_taps)(const pc_window2d *g, pc_index a, pc_index b, int dx, pc_index *off,
                   pc_index *woff)
{
    const pc_index width = dx ? g->OW : g->W;
    int taps = 0;
    for (pc_index kh = 0; kh < g->KH; kh++) {
        const pc_index r = dx ? SFX(dwc_out_index)(a + g->PT - kh * (g->GH + 1), g->SH, g->OH)
                              : SFX(dwc_in_row)(g, a, kh);
        for (pc_index kw = 0; kw < g->KW && r >= 0; kw++) {
            const pc_index c = dx ? SFX(dwc_out_index)(b + g->PL - kw * (g->GW + 1), g->SW,
                                                       g->OW)
                                  : SFX(dwc_in_col)(g, b, kw);
            if (c >= 0) {
                off[taps] = (r * width + c) * g->C;
                woff[taps++] = (kh * g->KW + kw) * g->C;
            }
        }
    }
    return taps;
}

/* Fast route: the pixels b in [lo, hi) of a row (forward: output columns; dx: input
 * columns) whose every tap column lies inside, so that their tap lists are one list
 * shifted by a whole pixel stride (dx: only at stride 1, else the set of taps changes
 * with b); an empty range otherwise. Columns meeting that form one interval. */
static inline void
SFX(dwc_interior)(const pc_window2d *g, int dx, pc_index *lo, pc_index *hi)
{
    const pc_index W = dx ? g->W : g->OW;
    *lo = *hi = 0;
    if (dx && g->SW != 1)
        return;
    for (pc_index b = 0; b < W; b++) {
        int inside = 1;
        for (pc_index kw = 0; kw < g->KW && inside; kw++)
            inside = (dx ? SFX(dwc_out_index)(b + g->PL - kw * (g->GW + 1), 1, g->OW)
                         : SFX(dwc_in_col)(g, b, kw)) >= 0;
        if (inside && *lo == *hi)
            *lo = b, *hi = b + 1;
        else if (inside)
            *hi = b + 1;
    }
}

/* Fast route, rows [r0, r1) of the forward (job->dx_pass = 0: r = n·OH + oh,
 * overwrites, then bias and activation) or of dx (dx_pass = 1: input rows r = n·H + ih,
 * accumulates):
 *   y[n, oh, ow, :] = Σ_taps x[n, ih, iw, :] · w[kh, kw, :]
 *   dx[n, ih, iw, :] += Σ_taps dz[n, oh, ow, :] · w[kh, kw, :] */
static void
SFX(dwc_rows_fast)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(dwc_job) *job = ctx;
    const int dx = job->dx_pass;
    const pc_window2d *g = job->g;
    const pc_index C = g->C, H = dx ? g->H : g->OH, W = dx ? g->W : g->OW;
    const pc_index image = dx ? g->OH * g->OW * C : g->H * g->W * C;
    const pc_index step = (dx ? 1 : g->SW) * C;     /* source shift from pixel b to b + 1 */
    pc_index off[DWC_MAX_TAPS], woff[DWC_MAX_TAPS], ioff[DWC_MAX_TAPS], iwoff[DWC_MAX_TAPS];
    pc_index lo, hi;
    SFX(dwc_interior)(g, dx, &lo, &hi);
    for (pc_index r = r0; r < r1; r++) {
        const T *src = (dx ? job->dz : job->x) + (r / H) * image;
        T *row = (dx ? job->dx : job->y) + r * W * C;
        /* the interior pixels' taps: pixel lo's list, shifted (the same taps, same order) */
        const int itaps = lo < hi ? SFX(dwc_list_taps)(g, r % H, lo, dx, ioff, iwoff) : 0;
        for (pc_index b = 0; b < W; b++) {
            if (b >= lo && b < hi) {
                SFX(dwc_pixel)(row + b * C, src + (b - lo) * step, job->w, ioff, iwoff, itaps,
                               C, dx);
                continue;
            }
            const int taps = SFX(dwc_list_taps)(g, r % H, b, dx, off, woff);
            SFX(dwc_pixel)(row + b * C, src, job->w, off, woff, taps, C, dx);
        }
        if (!dx)
            SFX(pc_bias_act_forward)(row, job->b, W, C, job->act);
    }
}

/* acc[i] += Σ_{j < cols} xs[j·xstep + i] · dzs[j·C + i], i < nc ≤ DWC_CB; the sum
 * over one output row in T (registers), added to the double partial sums   accumulates */
static inline void
SFX(dwc_dot_block)(double *restrict acc, const T *restrict xs, const T *restrict dzs,
                   pc_index cols, pc_index xstep, pc_index C, pc_index nc)
{
    T a[DWC_CB];
    for (pc_index i = 0; i < nc; i++)
        a[i] = 0;
    for (pc_index j = 0; j < cols; j++)
        SFX(dwc_fma)(a, xs + j * xstep, dzs + j * C, nc);
    for (pc_index i = 0; i < nc; i++)
        acc[i] += (double)a[i];
}

/* dw partial sums of image n, fast route: acc (KH·KW, C) +=
 *   Σ_{oh, ow} x[n, ih, iw, :] · dz[n, oh, ow, :], per tap over the columns ow whose
 *   iw is inside the image                                                  accumulates */
static void
SFX(dwc_dw_image_fast)(const SFX(dwc_job) *job, pc_index n, double *acc)
{
    const pc_window2d *g = job->g;
    const pc_index C = g->C;
    for (pc_index oh = 0; oh < g->OH; oh++)
        for (pc_index kh = 0; kh < g->KH; kh++) {
            const pc_index ih = SFX(dwc_in_row)(g, oh, kh);
            if (ih < 0)
                continue;
            const T *xrow = job->x + (n * g->H + ih) * g->W * C;
            const T *dzrow = job->dz + (n * g->OH + oh) * g->OW * C;
            for (pc_index kw = 0; kw < g->KW; kw++) {
                pc_index lo = 0, hi = g->OW, c = 0;
                double *at = acc + (kh * g->KW + kw) * C;
                while (lo < hi && SFX(dwc_in_col)(g, lo, kw) < 0)
                    lo++;
                while (hi > lo && SFX(dwc_in_col)(g, hi - 1, kw) < 0)
                    hi--;
                if (lo == hi)
                    continue;
                const T *xs = xrow + SFX(dwc_in_col)(g, lo, kw) * C, *dzs = dzrow + lo * C;
                for (; c + DWC_CB <= C; c += DWC_CB)
                    SFX(dwc_dot_block)(at + c, xs + c, dzs + c, hi - lo, g->SW * C, C, DWC_CB);
                if (c < C)
                    SFX(dwc_dot_block)(at + c, xs + c, dzs + c, hi - lo, g->SW * C, C, C - c);
            }
        }
}

void
SFX(pc_conv_depthwise_forward)(const T *x, const T *w, const T *b, T *y, const pc_window2d *g,
                               pc_index M, int act)
{
    SFX(dwc_job) job = {.x = x, .w = w, .b = b, .y = y, .g = g, .M = M, .act = act};
    PC_CONV_DEPTHWISE_DISPATCH(SFX(pc_conv_depthwise_forward_avx2), x, w, b, y, g, M, act);
    pc_parallel_for(g->N * g->OH, pc_parallel_grain(g->OW * g->C * M * g->KH * g->KW),
                    SFX(dwc_fast)(g, M) ? SFX(dwc_rows_fast) : SFX(dwc_forward_rows),
                    &job);
}

/* dxp[c] += Σ_m dzo[c·M + m] · wp[c·M + m]                                accumulates */
static inline void
SFX(dwc_tap_dx)(T *restrict dxp, const T *restrict dzo, const T *restrict wp, pc_index C,
                pc_index M)
{
    for (pc_index c = 0; c < C; c++) {
        T s = 0;
        for (pc_index m = 0; m < M; m++)
            s += dzo[c * M + m] * wp[c * M + m];
        dxp[c] += s;
    }
}

/* acc[c·M + m] += xp[c] · dzo[c·M + m]                                    accumulates */
static inline void
SFX(dwc_tap_dw)(double *restrict acc, const T *restrict xp, const T *restrict dzo,
                pc_index C, pc_index M)
{
    for (pc_index c = 0; c < C; c++) {
        const double v = (double)xp[c];
        for (pc_index m = 0; m < M; m++)
            acc[c * M + m] += v * (double)dzo[c * M + m];
    }
}

/* The plain route: image n's output pixels, each tap's share to dx (when job->dx is
 * not NULL) and to acc (when not NULL: the (KH·KW, C·M) partial sums of dw) */
static void
SFX(dwc_backward_image)(const SFX(dwc_job) *job, pc_index n, double *acc)
{
    const pc_window2d *g = job->g;
    const pc_index C = g->C, CM = C * job->M;
    for (pc_index oh = 0; oh < g->OH; oh++)
        for (pc_index ow = 0; ow < g->OW; ow++) {
            const T *dzo = job->dz + ((n * g->OH + oh) * g->OW + ow) * CM;
            for (pc_index kh = 0; kh < g->KH; kh++) {
                const pc_index ih = SFX(dwc_in_row)(g, oh, kh);
                if (ih < 0)
                    continue;
                for (pc_index kw = 0; kw < g->KW; kw++) {
                    const pc_index iw = SFX(dwc_in_col)(g, ow, kw), tap = kh * g->KW + kw;
                    const pc_index at = ((n * g->H + ih) * g->W + iw) * C;
                    if (iw < 0)
                        continue;
                    if (job->dx != NULL)
                        SFX(dwc_tap_dx)(job->dx + at, dzo, job->w + tap * CM, C, job->M);
                    if (acc != NULL)
                        SFX(dwc_tap_dw)(acc + tap * CM, job->x + at, dzo, C, job->M);
                }
            }
        }
}

/* dx of images [n0, n1), plain route: each image's dx is its own */
static void
SFX(dwc_dx_images)(void *ctx, pc_index n0, pc_index n1)
{
    for (pc_index n = n0; n < n1; n++)
        SFX(dwc_backward_image)(ctx, n, NULL);
}

/* blocks [b0, b1) of images: block b's dw partial sums into acc[b] (and, on the plain
 * route with job->dx set, its images' dx) */
static void
SFX(dwc_dw_blocks)(void *ctx, pc_index b0, pc_index b1)
{
    const SFX(dwc_job) *job = ctx;
    const pc_window2d *g = job->g;
    const pc_index size = g->KH * g->KW * g->C * job->M;
    for (pc_index b = b0; b < b1; b++) {
        double *acc = job->acc + b * size;
        for (pc_index i = 0; i < size; i++)
            acc[i] = 0;
        for (pc_index n = b * g->N / job->blocks; n < (b + 1) * g->N / job->blocks; n++)
            if (SFX(dwc_fast)(g, job->M))
                SFX(dwc_dw_image_fast)(job, n, acc);
            else
                SFX(dwc_backward_image)(job, n, acc);
    }
}

void
SFX(pc_conv_depthwise_backward)(const T *x, const T *w, const T *dz, T *dx, T *dw,
                                const pc_window2d *g, pc_index M, double *acc)
{
    const pc_index size = g->KH * g->KW * g->C * M;
    const pc_index blocks = g->N < PC_CONV_DEPTHWISE_BLOCKS ? g->N : PC_CONV_DEPTHWISE_BLOCKS;
    const int fast = SFX(dwc_fast)(g, M);
    SFX(dwc_job) job = {.x = x, .w = w, .dz = dz, .dx = dx, .g = g, .M = M,
                        .blocks = blocks, .dx_pass = 1, .acc = acc};
    const pc_index per_pixel = g->KH * g->KW * g->C * M;

    PC_CONV_DEPTHWISE_DISPATCH(SFX(pc_conv_depthwise_backward_avx2), x, w, dz, dx, dw, g, M,
                               acc);
    if (dx != NULL && fast)             /* input rows; the plain route: whole images */
        pc_parallel_for(g->N * g->H, pc_parallel_grain(g->W * per_pixel), SFX(dwc_rows_fast),
                        &job);
    else if (dx != NULL && dw == NULL)
        pc_parallel_for(g->N, pc_parallel_grain(g->OH * g->OW * per_pixel),
                        SFX(dwc_dx_images), &job);
    if (dw == NULL || blocks < 1)
        return;
    if (fast)
        job.dx = NULL;                  /* done above; the plain route adds it with dw */
    pc_parallel_for(blocks, 1, SFX(dwc_dw_blocks), &job);
    for (pc_index i = 0; i < size; i++) {       /* the blocks in order: thread-count free */
        double s = 0;
        for (pc_index b = 0; b < blocks; b++)
            s += acc[b * size + i];
        dw[i] += (T)s;
    }
}

#ifndef PC_CONV_DEPTHWISE_ISA              /* built once, not again for AVX2 */
/* dst[:, off:off + width] += src */
void
SFX(pc_columns_scatter_add)(const T *src, T *dst, pc_index rows, pc_index ld, pc_index off,
                            pc_index width)
{
    for (pc_index r = 0; r < rows; r++) {
        T *restrict d = dst + r * ld + off;
        const T *restrict s = src + r * width;
        for (pc_index i = 0; i < width; i++)
            d[i] += s[i];
    }
}
#endif

#undef DWC_CB
#undef DWC_MAX_TAPS
