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

/* Channels innermost, branch-free: each window pixel updates C running maxima and
 * their offsets at once (float and int32 lanes line up, so it vectorizes) */
void
SFX(pc_max_pool_forward)(const T *x, T *y, int32_t *arg, const pc_window2d *g)
{
    const pc_index C = g->C;
    for (pc_index n = 0; n < g->N; n++)
        for (pc_index oh = 0; oh < g->OH; oh++)
            for (pc_index ow = 0; ow < g->OW; ow++) {
                pc_index h0, h1, w0, w1, out = ((n * g->OH + oh) * g->OW + ow) * C;
                const pc_index r = oh * g->SH - g->PT, q = ow * g->SW - g->PL;
                T *restrict yo = y + out;
                int32_t *restrict ao = arg + out;
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

void
SFX(pc_max_pool_backward)(const T *dy, const int32_t *arg, T *dx, const pc_window2d *g)
{
    const pc_index C = g->C;
    for (pc_index n = 0; n < g->N; n++)
        for (pc_index oh = 0; oh < g->OH; oh++)
            for (pc_index ow = 0; ow < g->OW; ow++) {
                const pc_index out = ((n * g->OH + oh) * g->OW + ow) * C;
                /* x offset of the window's corner (may lie in the padding) */
                const pc_index corner = ((n * g->H + oh * g->SH - g->PT) * g->W
                                         + ow * g->SW - g->PL) * C;
                for (pc_index c = 0; c < C; c++)
                    dx[corner + arg[out + c] + c] += dy[out + c];
            }
}

void
SFX(pc_avg_pool_forward)(const T *x, T *y, const pc_window2d *g)
{
    const pc_index C = g->C;
    for (pc_index n = 0; n < g->N; n++)
        for (pc_index oh = 0; oh < g->OH; oh++)
            for (pc_index ow = 0; ow < g->OW; ow++) {
                pc_index h0, h1, w0, w1;
                T *yo = y + ((n * g->OH + oh) * g->OW + ow) * C;
                SFX(window_bounds)(g, oh, ow, &h0, &h1, &w0, &w1);
                const T inv = (T)1 / (T)((h1 - h0) * (w1 - w0));
                for (pc_index c = 0; c < C; c++)
                    yo[c] = 0;
                for (pc_index ih = h0; ih < h1; ih++)
                    for (pc_index iw = w0; iw < w1; iw++) {
                        const T *xp = x + ((n * g->H + ih) * g->W + iw) * C;
                        for (pc_index c = 0; c < C; c++)
                            yo[c] += xp[c];
                    }
                for (pc_index c = 0; c < C; c++)
                    yo[c] *= inv;
            }
}

void
SFX(pc_avg_pool_backward)(const T *dy, T *dx, const pc_window2d *g)
{
    const pc_index C = g->C;
    for (pc_index n = 0; n < g->N; n++)
        for (pc_index oh = 0; oh < g->OH; oh++)
            for (pc_index ow = 0; ow < g->OW; ow++) {
                pc_index h0, h1, w0, w1;
                const T *dyo = dy + ((n * g->OH + oh) * g->OW + ow) * C;
                SFX(window_bounds)(g, oh, ow, &h0, &h1, &w0, &w1);
                const T inv = (T)1 / (T)((h1 - h0) * (w1 - w0));
                for (pc_index ih = h0; ih < h1; ih++)
                    for (pc_index iw = w0; iw < w1; iw++) {
                        T *dxp = dx + ((n * g->H + ih) * g->W + iw) * C;
                        for (pc_index c = 0; c < C; c++)
                            dxp[c] += dyo[c] * inv;
                    }
            }
}

void
SFX(pc_upsample_forward)(const T *x, T *y, const pc_window2d *g)
{
    const pc_index C = g->C, OW = g->W * g->SW;
    T *row = y;
    for (pc_index n = 0; n < g->N; n++)
        for (pc_index h = 0; h < g->H; h++)
            for (pc_index r = 0; r < g->SH; r++, row += OW * C) {
                if (r > 0) {                    /* the same row again */
                    memcpy(row, row - OW * C, (size_t)(OW * C) * sizeof(T));
                    continue;
                }
                for (pc_index w = 0; w < g->W; w++)
                    for (pc_index s = 0; s < g->SW; s++)
                        memcpy(row + (w * g->SW + s) * C, x + ((n * g->H + h) * g->W + w) * C,
                               (size_t)C * sizeof(T));
            }
}

void
SFX(pc_upsample_backward)(const T *dy, T *dx, const pc_window2d *g)
{
    const pc_index C = g->C, OW = g->W * g->SW;
    const T *row = dy;
    for (pc_index n = 0; n < g->N; n++)
        for (pc_index h = 0; h < g->H; h++)
            for (pc_index r = 0; r < g->SH; r++, row += OW * C)
                for (pc_index w = 0; w < g->W; w++) {
                    T *dxp = dx + ((n * g->H + h) * g->W + w) * C;
                    for (pc_index s = 0; s < g->SW; s++)
                        for (pc_index c = 0; c < C; c++)
                            dxp[c] += row[(w * g->SW + s) * C + c];
                }
}
