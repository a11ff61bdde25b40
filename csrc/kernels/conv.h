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

/* cols[((n−n0)·OH + oh)·OW + ow, (kh·KW + kw)·C + c] = x[n, oh·SH − PT + kh·DH, ow·SW − PL + kw·DW, c]
 * (DH, DW = GH + 1, GW + 1: the dilation), 0 where that falls in the padding  overwrites cols */
void pc_im2col_f32(const float *x, float *cols, const pc_window2d *g, pc_index n0, pc_index n1);
void pc_im2col_f64(const double *x, double *cols, const pc_window2d *g, pc_index n0,
                   pc_index n1);

/* The adjoint of im2col: every cols entry is added back to the x position it came
 * from (padding entries are dropped)                                  accumulates dx */
void pc_col2im_f32(const float *cols, float *dx, const pc_window2d *g, pc_index n0,
                   pc_index n1);
void pc_col2im_f64(const double *cols, double *dx, const pc_window2d *g, pc_index n0,
                   pc_index n1);

#endif
