/* conv_impl.h — template body, no include guard. Needs T, SFX(name).
 * Instantiated twice by conv.c (float, double). Legend: see conv.h.
 * Both kernels run on the thread pool (parallel.h): im2col split over output rows
 * (each writes its own rows of cols), col2im over images (each image's dx is its own,
 * so overlapping windows never meet across threads). */

typedef struct {
    const T *src;               /* im2col: x; col2im: cols */
    T *dst;                     /* im2col: cols; col2im: dx */
    const pc_window2d *g;
    pc_index n0;                /* first image of the chunk: row 0 of cols */
} SFX(conv_job);

/* dst[0:n] = src[0:n]. Rows of few channels (3 values for a 3×3 kernel over a grey
 * image) are copied in the loop: a memcpy call costs more than its 12 bytes. */
static inline PC_NO_MEMCPY_IDIOM void
SFX(copy_row)(T *restrict dst, const T *restrict src, pc_index n)
{
    if (n > 16) {
        memcpy(dst, src, (size_t)n * sizeof(T));
        return;
    }
    for (pc_index i = 0; i < n; i++)
        dst[i] = src[i];
}

/* cols rows of the output rows r = (n − n0)·OH + oh in [r0, r1). A whole kernel row
 * (KW·C values) is one memcpy when it lies inside the image and is not dilated. */
static PC_NO_MEMCPY_IDIOM void
SFX(im2col_rows)(void *ctx, pc_index r0, pc_index r1)
{
    const SFX(conv_job) *job = ctx;
    const pc_window2d *g = job->g;
    const T *x = job->src;
    const pc_index C = g->C, KWC = g->KW * C, K = g->KH * KWC;
    const pc_index DH = g->GH + 1, DW = g->GW + 1;
    T *row = job->dst + r0 * g->OW * K;
    for (pc_index r = r0; r < r1; r++) {
        const pc_index n = job->n0 + r / g->OH, oh = r % g->OH;
        for (pc_index ow = 0; ow < g->OW; ow++, row += K) {
            const pc_index iw0 = ow * g->SW - g->PL;
            for (pc_index kh = 0; kh < g->KH; kh++) {
                const pc_index ih = oh * g->SH - g->PT + kh * DH;
                T *dst = row + kh * KWC;
                const pc_index at = ((n * g->H + ih) * g->W + iw0) * C;  /* x[n, ih, iw0] */
                if (ih < 0 || ih >= g->H) {
                    memset(dst, 0, (size_t)KWC * sizeof(T));
                    continue;
                }
                if (DW == 1 && iw0 >= 0 && iw0 + g->KW <= g->W) {
                    SFX(copy_row)(dst, x + at, KWC);
                    continue;
                }
                for (pc_index kw = 0; kw < g->KW; kw++) {
                    const pc_index iw = iw0 + kw * DW;
                    if (iw < 0 || iw >= g->W)
                        memset(dst + kw * C, 0, (size_t)C * sizeof(T));
                    else
                        memcpy(dst + kw * C, x + at + kw * DW * C, (size_t)C * sizeof(T));
                }
            }
        }
    }
}

void
SFX(pc_im2col)(const T *x, T *cols, const pc_window2d *g, pc_index n0, pc_index n1)
{
    SFX(conv_job) job = {x, cols, g, n0};
    pc_parallel_for((n1 - n0) * g->OH, pc_parallel_grain(g->OW * g->KH * g->KW * g->C),
                    SFX(im2col_rows), &job);
}

/* dx of the images n in [n0 + i0, n0 + i1) from their cols rows */
static void
SFX(col2im_images)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(conv_job) *job = ctx;
    const pc_window2d *g = job->g;
    T *dx = job->dst;
    const pc_index C = g->C, KWC = g->KW * C, K = g->KH * KWC;
    const pc_index DH = g->GH + 1, DW = g->GW + 1;
    const T *row = job->src + i0 * g->OH * g->OW * K;
    for (pc_index n = job->n0 + i0; n < job->n0 + i1; n++)
        for (pc_index oh = 0; oh < g->OH; oh++)
            for (pc_index ow = 0; ow < g->OW; ow++, row += K) {
                const pc_index iw0 = ow * g->SW - g->PL;
                for (pc_index kh = 0; kh < g->KH; kh++) {
                    const pc_index ih = oh * g->SH - g->PT + kh * DH;
                    if (ih < 0 || ih >= g->H)
                        continue;
                    const T *src = row + kh * KWC;
                    const pc_index at = ((n * g->H + ih) * g->W + iw0) * C;  /* dx[n, ih, iw0] */
                    if (DW > 1) {                   /* taps DW pixels apart */
                        for (pc_index kw = 0; kw < g->KW; kw++) {
                            const pc_index iw = iw0 + kw * DW;
                            if (iw >= 0 && iw < g->W)
                                for (pc_index c = 0; c < C; c++)
                                    dx[at + kw * DW * C + c] += src[kw * C + c];
                        }
                        continue;
                    }
                    const pc_index kw0 = iw0 < 0 ? -iw0 : 0;
                    const pc_index kw1 = iw0 + g->KW > g->W ? g->W - iw0 : g->KW;
                    for (pc_index i = kw0 * C; i < kw1 * C; i++)
                        dx[at + i] += src[i];
                }
            }
}

void
SFX(pc_col2im)(const T *cols, T *dx, const pc_window2d *g, pc_index n0, pc_index n1)
{
    SFX(conv_job) job = {cols, dx, g, n0};
    pc_parallel_for(n1 - n0, pc_parallel_grain(g->OH * g->OW * g->KH * g->KW * g->C),
                    SFX(col2im_images), &job);
}
