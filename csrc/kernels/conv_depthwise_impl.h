/* conv_depthwise_impl.h — template body, no include guard. Needs T, ACC, SFX(name).
 * Instantiated twice by conv_depthwise.c (float, double). Legend: conv_depthwise.h.
 * The inner loops run over a pixel's channels with unit stride (M = 1: the common
 * depthwise layer, y[c] += x[c]·w[c]); restrict tells the compiler they never overlap. */

typedef struct {
    const T *x, *w, *b, *dz;
    T *y, *dx, *dw;
    const pc_window2d *g;
    pc_index M, blocks;
    int act;
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

/* yo[o] += Σ xp[o / M] · wp[o], o < C·M                                   accumulates */
static inline void
SFX(dwc_tap)(T *restrict yo, const T *restrict xp, const T *restrict wp, pc_index C,
             pc_index M)
{
    if (M == 1) {
        for (pc_index c = 0; c < C; c++)
            yo[c] += xp[c] * wp[c];
        return;
    }
    for (pc_index c = 0; c < C; c++) {
        const T v = xp[c];
        for (pc_index m = 0; m < M; m++)
            yo[c * M + m] += v * wp[c * M + m];
    }
}

/* output rows r = n·OH + oh in [r0, r1): every pixel's taps, then bias and activation */
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

void
SFX(pc_conv_depthwise_forward)(const T *x, const T *w, const T *b, T *y, const pc_window2d *g,
                               pc_index M, int act)
{
    SFX(dwc_job) job = {.x = x, .w = w, .b = b, .y = y, .g = g, .M = M, .act = act};
    pc_parallel_for(g->N * g->OH,
                    pc_parallel_grain(g->OW * g->C * M * g->KH * g->KW),
                    SFX(dwc_forward_rows), &job);
}

/* dxp[c] += Σ_m dzo[c·M + m] · wp[c·M + m]                                accumulates */
static inline void
SFX(dwc_tap_dx)(T *restrict dxp, const T *restrict dzo, const T *restrict wp, pc_index C,
                pc_index M)
{
    if (M == 1) {
        for (pc_index c = 0; c < C; c++)
            dxp[c] += dzo[c] * wp[c];
        return;
    }
    for (pc_index c = 0; c < C; c++) {
        T s = 0;
        for (pc_index m = 0; m < M; m++)
            s += dzo[c * M + m] * wp[c * M + m];
        dxp[c] += s;
    }
}

/* acc[o] += xp[o / M] · dzo[o]                                            accumulates */
static inline void
SFX(dwc_tap_dw)(double *restrict acc, const T *restrict xp, const T *restrict dzo,
                pc_index C, pc_index M)
{
    if (M == 1) {
        for (pc_index c = 0; c < C; c++)
            acc[c] += (double)xp[c] * (double)dzo[c];
        return;
    }
    for (pc_index c = 0; c < C; c++) {
        const double v = (double)xp[c];
        for (pc_index m = 0; m < M; m++)
            acc[c * M + m] += v * (double)dzo[c * M + m];
    }
}

/* image n's output pixels, each tap's share to dx (when wanted) and to acc (when not
 * NULL: the (KH·KW, C·M) partial sums of dw) */
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

/* dx of images [n0, n1): each image's dx is its own */
static void
SFX(dwc_dx_images)(void *ctx, pc_index n0, pc_index n1)
{
    for (pc_index n = n0; n < n1; n++)
        SFX(dwc_backward_image)(ctx, n, NULL);
}

/* blocks [b0, b1) of images: block b's dw partial sums into acc[b], and its images' dx */
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
            SFX(dwc_backward_image)(job, n, acc);
    }
}

void
SFX(pc_conv_depthwise_backward)(const T *x, const T *w, const T *dz, T *dx, T *dw,
                                const pc_window2d *g, pc_index M, double *acc)
{
    const pc_index size = g->KH * g->KW * g->C * M;
    const pc_index blocks = g->N < PC_CONV_DEPTHWISE_BLOCKS ? g->N : PC_CONV_DEPTHWISE_BLOCKS;
    SFX(dwc_job) job = {.x = x, .w = w, .dz = dz, .dx = dx, .g = g, .M = M,
                        .blocks = blocks, .acc = acc};
    const pc_index per_image = g->OH * g->OW * g->KH * g->KW * g->C * M;

    if (dw == NULL) {
        if (dx != NULL)
            pc_parallel_for(g->N, pc_parallel_grain(per_image), SFX(dwc_dx_images), &job);
        return;
    }
    if (blocks < 1)
        return;
    pc_parallel_for(blocks, 1, SFX(dwc_dw_blocks), &job);
    for (pc_index i = 0; i < size; i++) {       /* the blocks in order: thread-count free */
        double s = 0;
        for (pc_index b = 0; b < blocks; b++)
            s += acc[b * size + i];
        dw[i] += (T)s;
    }
}

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
