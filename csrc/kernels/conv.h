/* conv.h — convolution as im2col + one GEMM (the GEMM itself is NumPy's BLAS,
 * called from the binding floor).
 *
 * Legend (window.h): x (N, H, W, C) NHWC; kernel (KH, KW, C, F) viewed as the
 * (KH·KW·C, F) matrix; cols (rows, KH·KW·C), one row per output pixel (n, oh, ow)
 * in NHWC order, so cols · kernel lands directly in y (N, OH, OW, F).
 * Both kernels work on the images n0 ≤ n < n1 (a chunk of the batch); row 0 of
 * cols is pixel (n0, 0, 0). Pure C.
 */
#ifndef PC_CONV_H
#define PC_CONV_H

#include "window.h"

/* A kernel from one array to another over the images n0 ≤ n < n1 of g (a chunk of the
 * batch): im2col and col2im here, Winograd's input transform and its adjoint */
typedef void pc_chunk_kernel_f32(const float *src, float *dst, const pc_window2d *g,
                                 pc_index n0, pc_index n1);
typedef void pc_chunk_kernel_f64(const double *src, double *dst, const pc_window2d *g,
                                 pc_index n0, pc_index n1);

/* pc_im2col(x, cols, g, n0, n1):
 * cols[((n−n0)·OH + oh)·OW + ow, (kh·KW + kw)·C + c] = x[n, oh·SH − PT + kh·DH, ow·SW − PL + kw·DW, c]
 * (DH, DW = GH + 1, GW + 1: the dilation), 0 where that falls in the padding  overwrites cols */
pc_chunk_kernel_f32 pc_im2col_f32;
pc_chunk_kernel_f64 pc_im2col_f64;

/* pc_col2im(cols, dx, g, n0, n1): the adjoint of im2col: every cols entry is added back
 * to the x position it came from (padding entries are dropped)        accumulates dx */
pc_chunk_kernel_f32 pc_col2im_f32;
pc_chunk_kernel_f64 pc_col2im_f64;

#endif
