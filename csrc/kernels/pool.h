/* pool.h — pooling and nearest-neighbour upsampling over NHWC images. Pure C.
 *
 * Legend (window.h): x (N, H, W, C); y (N, OH, OW, C); the window is KH×KW with
 * strides SH, SW. Windows that overlap the 'same' padding only look at real pixels:
 * the max ignores the padding, the average divides by the number of real pixels
 * (TensorFlow/Keras). Every window holds at least one real pixel.
 * Pooling runs on the thread pool (parallel.h), split by rows of y; upsampling by rows of x.
 */
#ifndef PC_POOL_H
#define PC_POOL_H

#include <stdint.h>

#include "window.h"

/* y = max over each window; arg = where the FIRST maximal element (row-major scan of
 * the window) lies, as the x offset (kh·W + kw)·C from the window's corner: it alone
 * receives the gradient. A NaN is the maximum of any window that holds one, as in
 * NumPy. arg has y's shape; KH·W·C must fit in int32.       overwrites y, arg */
void pc_max_pool_forward_f32(const float *x, float *y, int32_t *arg, const pc_window2d *g);
void pc_max_pool_forward_f64(const double *x, double *y, int32_t *arg, const pc_window2d *g);
/* dx[corner(window) + arg + c] += dy                                      accumulates */
void pc_max_pool_backward_f32(const float *dy, const int32_t *arg, float *dx,
                              const pc_window2d *g);
void pc_max_pool_backward_f64(const double *dy, const int32_t *arg, double *dx,
                              const pc_window2d *g);
/* The same into a buffer that holds garbage: every dx element is written (0 where
 * no maximum came from), with no zero-fill pass of its own                 overwrites */
void pc_max_pool_backward_overwrite_f32(const float *dy, const int32_t *arg, float *dx,
                                        const pc_window2d *g);
void pc_max_pool_backward_overwrite_f64(const double *dy, const int32_t *arg, double *dx,
                                        const pc_window2d *g);

/* y = mean over the real pixels of each window                            overwrites */
void pc_avg_pool_forward_f32(const float *x, float *y, const pc_window2d *g);
void pc_avg_pool_forward_f64(const double *x, double *y, const pc_window2d *g);
/* dx[window] += dy / (real pixels in the window)                          accumulates */
void pc_avg_pool_backward_f32(const float *dy, float *dx, const pc_window2d *g);
void pc_avg_pool_backward_f64(const double *dy, double *dx, const pc_window2d *g);

/* Nearest neighbour: y[n, i, j, c] = x[n, ⌊i/SH⌋, ⌊j/SW⌋, c], y (N, H·SH, W·SW, C).
 * g: N, H, W, C of x and the factors SH, SW.                              overwrites */
void pc_upsample_forward_f32(const float *x, float *y, const pc_window2d *g);
void pc_upsample_forward_f64(const double *x, double *y, const pc_window2d *g);
/* dx[n, h, w, c] += Σ of dy over its SH×SW block (rows (r, s) in order); with
 * overwrite 1, dx = that sum (a fresh buffer that holds garbage)  accumulates / overwrites */
void pc_upsample_backward_f32(const float *dy, float *dx, const pc_window2d *g, int overwrite);
void pc_upsample_backward_f64(const double *dy, double *dx, const pc_window2d *g,
                              int overwrite);

#endif
