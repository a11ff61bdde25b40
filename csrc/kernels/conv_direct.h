/* conv_direct.h — convolution straight from the image, without a patch matrix, for
 * layers whose patch is short (K = KH·KW·C ≤ PC_CONV_DIRECT_MAX_K, F ≤ PC_CONV_DIRECT_MAX_F:
 * the first layer of an image network, 1–3 channels). There im2col + GEMM is memory-bound: the GEMM's
 * inner dimension is 9 or 27, and building the patch matrix costs more than the
 * multiplications. Here each output pixel gathers its K inputs once and updates F
 * accumulators held in registers; the bias and the activation are applied while the
 * image is still in cache. Pure C. Legend: window.h, conv.h (kernel (KH, KW, C, F) is
 * the (K, F) matrix w). Work is split over images on the thread pool (parallel.h);
 * the kernel gradient is summed per fixed block of images and then over the blocks
 * in order, so it does not depend on the number of threads.
 */
#ifndef PC_CONV_DIRECT_H
#define PC_CONV_DIRECT_H

#include "window.h"

#define PC_CONV_DIRECT_MAX_K 160
#define PC_CONV_DIRECT_MAX_F 4096           /* filters: one pixel's gradient on the stack */
#define PC_CONV_DIRECT_BLOCKS 64            /* image blocks of the kernel gradient */

/* Doubles of workspace the backward needs for a batch of N images and F filters */
static inline pc_index
pc_conv_direct_workspace(const pc_window2d *g, pc_index F)
{
    pc_index blocks = g->N < PC_CONV_DIRECT_BLOCKS ? g->N : PC_CONV_DIRECT_BLOCKS;
    return 2 * blocks * (g->KH * g->KW * g->C + 1) * F;     /* partial sums + scratch */
}

/* The window's padding made real: *padded is g over images of the rows and columns
 * the windows span, with the padding inside them and none around (PT = PL = 0).
 * Returns 0 when g has no padding (nothing to do). The direct kernels run fastest on
 * windows that lie wholly inside the image. */
static inline int
pc_conv_direct_padded(const pc_window2d *g, pc_window2d *padded)
{
    *padded = *g;
    padded->H = (g->OH - 1) * g->SH + g->KH;
    padded->W = (g->OW - 1) * g->SW + g->KW;
    padded->PT = padded->PL = 0;
    return g->PT != 0 || g->PL != 0 || padded->H > g->H || padded->W > g->W;
}

/* xp (padded->N, H, W, C) = x placed at (PT, PL) of g, zeros around; item: bytes per
 * value                                                                   overwrites xp */
void pc_conv_direct_pad(const void *x, void *xp, const pc_window2d *g,
                        const pc_window2d *padded, size_t item);

/* y = act(x ⋆ w + b); b may be NULL; act a pc_act (dense.h)              overwrites y */
void pc_conv_direct_forward_f32(const float *x, const float *w, const float *b, float *y,
                                const pc_window2d *g, pc_index F, int act);
void pc_conv_direct_forward_f64(const double *x, const double *w, const double *b, double *y,
                                const pc_window2d *g, pc_index F, int act);

/* From dy (N, OH, OW, F) and the forward's output y (NULL for a linear activation),
 * with dz = dy · act'(y) computed on the fly:
 *   dw += Σ_pixels patchᵀ · dz,  db += Σ_pixels dz   (when not NULL; acc holds
 *                                pc_conv_direct_workspace doubles)
 *   dx += dz · wᵀ scattered back onto each patch     (when dx ≠ NULL)   accumulates */
void pc_conv_direct_backward_f32(const float *x, const float *w, const float *y,
                                 const float *dy, float *dx, float *dw, float *db,
                                 const pc_window2d *g, pc_index F, int act, double *acc);
void pc_conv_direct_backward_f64(const double *x, const double *w, const double *y,
                                 const double *dy, double *dx, double *dw, double *db,
                                 const pc_window2d *g, pc_index F, int act, double *acc);

#endif
