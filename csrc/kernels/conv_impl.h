/* conv_impl.h — template body, no include guard. Needs T, SFX(name).
 * Instantiated twice by conv.c (float, double). Legend: see conv.h. */

/* A whole kernel row (KW·C values) is one memcpy when it lies inside the image */
void
SFX(pc_im2col)(const T *x, T *cols, const pc_window2d *g, pc_index n0, pc_index n1)
{
    const pc_index C = g->C, KWC = g->KW * C, K = g->KH * KWC;
    T *row = cols;
    for (pc_index n = n0; n < n1; n++)
        for (pc_index oh = 0; oh < g->OH; oh++)
            for (pc_index ow = 0; ow < g->OW; ow++, row += K) {
                const pc_index iw0 = ow * g->SW - g->PL;
                for (pc_index kh = 0; kh < g->KH; kh++) {
                    const pc_index ih = oh * g->SH - g->PT + kh;
                    T *dst = row + kh * KWC;
                    const pc_index at = ((n * g->H + ih) * g->W + iw0) * C;  /* x[n, ih, iw0] */
                    if (ih < 0 || ih >= g->H) {
                        memset(dst, 0, (size_t)KWC * sizeof(T));
                        continue;
                    }
                    if (iw0 >= 0 && iw0 + g->KW <= g->W) {
                        memcpy(dst, x + at, (size_t)KWC * sizeof(T));
                        continue;
                    }
                    for (pc_index kw = 0; kw < g->KW; kw++) {
                        const pc_index iw = iw0 + kw;
                        if (iw < 0 || iw >= g->W)
                            memset(dst + kw * C, 0, (size_t)C * sizeof(T));
                        else
                            memcpy(dst + kw * C, x + at + kw * C, (size_t)C * sizeof(T));
                    }
                }
            }
}

void
SFX(pc_col2im)(const T *cols, T *dx, const pc_window2d *g, pc_index n0, pc_index n1)
{
    const pc_index C = g->C, KWC = g->KW * C, K = g->KH * KWC;
    const T *row = cols;
    for (pc_index n = n0; n < n1; n++)
        for (pc_index oh = 0; oh < g->OH; oh++)
            for (pc_index ow = 0; ow < g->OW; ow++, row += K) {
                const pc_index iw0 = ow * g->SW - g->PL;
                for (pc_index kh = 0; kh < g->KH; kh++) {
                    const pc_index ih = oh * g->SH - g->PT + kh;
                    if (ih < 0 || ih >= g->H)
                        continue;
                    const T *src = row + kh * KWC;
                    const pc_index at = ((n * g->H + ih) * g->W + iw0) * C;  /* dx[n, ih, iw0] */
                    const pc_index kw0 = iw0 < 0 ? -iw0 : 0;
                    const pc_index kw1 = iw0 + g->KW > g->W ? g->W - iw0 : g->KW;
                    for (pc_index i = kw0 * C; i < kw1 * C; i++)
                        dx[at + i] += src[i];
                }
            }
}
