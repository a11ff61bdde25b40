/* conv_depthwise.h — depthwise convolution (Keras' DepthwiseConv2D, and Conv2D with
 * groups = C), straight from the image: each input channel c is convolved with its own
 * M = depth_multiplier filters, output channel o = c·M + m (Keras' and TF's order).
 * A grouped GEMM would run C products of inner dimension KH·KW; here every tap is one
 * pass over the pixel's contiguous channels (NHWC), which the compiler vectorizes.
 * Also the channel-slice copies that run a grouped convolution group by group.
 *
 * Legend (window.h): x (N, H, W, C); w (KH, KW, C, M) ≡ (KH, KW, 1, C·M) — the same
 * memory as a Conv2D(groups=C) kernel; y, dz (N, OH, OW, CM = C·M). Pure C.
 *
 * Forward and dx split over images / output rows on the thread pool (parallel.h), each
 * block writing only its own outputs; dw is summed per fixed block of images (at most
 * PC_CONV_DEPTHWISE_BLOCKS, their bounds independent of the thread count) and then over
 * the blocks in order, so every result is the same for any number of threads.
 */
#ifndef PC_CONV_DEPTHWISE_H
#define PC_CONV_DEPTHWISE_H

#include <stddef.h>

#include "window.h"

#define PC_CONV_DEPTHWISE_BLOCKS 32

/* Doubles of workspace pc_conv_depthwise_backward needs for dw */
static inline pc_index
pc_conv_depthwise_workspace(const pc_window2d *g, pc_index M)
{
    pc_index blocks = g->N < PC_CONV_DEPTHWISE_BLOCKS ? g->N : PC_CONV_DEPTHWISE_BLOCKS;
    return (blocks > 0 ? blocks : 1) * g->KH * g->KW * g->C * M;
}

/* y[n, i, j, c·M + m] = act(b[c·M + m] + Σ_{kh, kw} x[n, i·SH − PT + kh·DH,
 *                          j·SW − PL + kw·DW, c] · w[kh, kw, c, m]);
 * b may be NULL; act a pc_act (dense.h)                                  overwrites y */
void pc_conv_depthwise_forward_f32(const float *x, const float *w, const float *b, float *y,
                                   const pc_window2d *g, pc_index M, int act);
void pc_conv_depthwise_forward_f64(const double *x, const double *w, const double *b,
                                   double *y, const pc_window2d *g, pc_index M, int act);

/* From dz = dy · act'(y) (N, OH, OW, C·M):
 *   dx[n, ih, iw, c] += Σ_{taps, m} dz[n, i, j, c·M + m] · w[kh, kw, c, m]   (dx ≠ NULL)
 *   dw[kh, kw, c, m] += Σ_{n, i, j} x[n, ih, iw, c] · dz[n, i, j, c·M + m]   (dw ≠ NULL;
 *                       acc: pc_conv_depthwise_workspace doubles)           accumulates */
void pc_conv_depthwise_backward_f32(const float *x, const float *w, const float *dz,
                                    float *dx, float *dw, const pc_window2d *g, pc_index M,
                                    double *acc);
void pc_conv_depthwise_backward_f64(const double *x, const double *w, const double *dz,
                                    double *dx, double *dw, const pc_window2d *g, pc_index M,
                                    double *acc);

/* The same two kernels built for AVX2 + FMA (conv_depthwise_avx2.c, simd.h); the ones
 * above hand over to them when the CPU has both (multiply-adds then round once, so
 * results differ from the baseline build in the last bits) */
void pc_conv_depthwise_forward_avx2_f32(const float *x, const float *w, const float *b,
                                        float *y, const pc_window2d *g, pc_index M, int act);
void pc_conv_depthwise_forward_avx2_f64(const double *x, const double *w, const double *b,
                                        double *y, const pc_window2d *g, pc_index M, int act);
void pc_conv_depthwise_backward_avx2_f32(const float *x, const float *w, const float *dz,
                                         float *dx, float *dw, const pc_window2d *g,
                                         pc_index M, double *acc);
void pc_conv_depthwise_backward_avx2_f64(const double *x, const double *w, const double *dz,
                                         double *dx, double *dw, const pc_window2d *g,
                                         pc_index M, double *acc);

/* Column slices of a row-major (rows, ld) matrix, for grouped convolutions run group by
 * group: channels [off, off + width) of NHWC pixels, or filters of a kernel matrix.
 *   gather:       dst (rows, width) = src[:, off:off + width]; item: bytes per value
 *                                                                        overwrites dst
 *   scatter:      dst[:, off:off + width] = src (rows, width)            overwrites
 *   scatter_add:  dst[:, off:off + width] += src (rows, width)           accumulates */
void pc_columns_gather(const void *src, void *dst, pc_index rows, pc_index ld, pc_index off,
                       pc_index width, size_t item);
void pc_columns_scatter(const void *src, void *dst, pc_index rows, pc_index ld, pc_index off,
                        pc_index width, size_t item);
void pc_columns_scatter_add_f32(const float *src, float *dst, pc_index rows, pc_index ld,
                                pc_index off, pc_index width);
void pc_columns_scatter_add_f64(const double *src, double *dst, pc_index rows, pc_index ld,
                                pc_index off, pc_index width);

#endif
