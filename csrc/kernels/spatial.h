/* spatial.h — whole-image pooling and zero padding / cropping of NHWC images. Pure C.
 *
 * Legend: x (N, H, W, C); P = H·W pixels per image.
 *   global average:  y[n, c] = Σ_p x[n, p, c] / P                      y (N, C)
 *   global maximum:  y[n, c] = max_p x[n, p, c], arg[n, c] = the FIRST p holding it
 *                    (a NaN is the maximum of any image that holds one, as in NumPy)
 *   pad2d:           y (N, OH, OW, C), OH = H + PT + PB, OW = W + PL + PR, with
 *                    y[n, i, j, c] = x[n, i − PT, j − PL, c] inside x, else 0.
 *                    Negative pads crop: Cropping2D is pad2d with −cropping.
 * Work is split by images on the thread pool (parallel.h); each output value is
 * computed by one thread in a fixed order, so results do not depend on the count.
 */
#ifndef PC_SPATIAL_H
#define PC_SPATIAL_H

#include "pc_types.h"

/* y = mean over each image's pixels                                      overwrites */
void pc_global_avg_pool_forward_f32(const float *x, float *y, pc_index N, pc_index P,
                                    pc_index C);
void pc_global_avg_pool_forward_f64(const double *x, double *y, pc_index N, pc_index P,
                                    pc_index C);
/* Backward kernels take `overwrite`: 0 adds into dx (dx += …); 1 writes every dx
 * element once (dx = …), for a fresh gradient buffer that holds garbage. */

/* dx[n, p, c] (+)= dy[n, c] / P */
void pc_global_avg_pool_backward_f32(const float *dy, float *dx, pc_index N, pc_index P,
                                     pc_index C, int overwrite);
void pc_global_avg_pool_backward_f64(const double *dy, double *dx, pc_index N, pc_index P,
                                     pc_index C, int overwrite);

/* y = max over each image's pixels, arg = its pixel index               overwrites */
void pc_global_max_pool_forward_f32(const float *x, float *y, pc_index *arg, pc_index N,
                                    pc_index P, pc_index C);
void pc_global_max_pool_forward_f64(const double *x, double *y, pc_index *arg, pc_index N,
                                    pc_index P, pc_index C);
/* dx[n, arg[n, c], c] (+)= dy[n, c]; overwriting, every other dx element is 0 */
void pc_global_max_pool_backward_f32(const float *dy, const pc_index *arg, float *dx,
                                     pc_index N, pc_index P, pc_index C, int overwrite);
void pc_global_max_pool_backward_f64(const double *dy, const pc_index *arg, double *dx,
                                     pc_index N, pc_index P, pc_index C, int overwrite);

/* y[n, p, c] (+)= x[n, p, c] · s[n, c], s (N, C): SpatialDropout2D's one mask value per
 * (image, channel), forward (overwrite 1) and backward */
void pc_channel_scale_f32(const float *x, const float *s, float *y, pc_index N, pc_index P,
                          pc_index C, int overwrite);
void pc_channel_scale_f64(const double *x, const double *s, double *y, pc_index N,
                          pc_index P, pc_index C, int overwrite);

/* Pads (≥ 0) and crops (< 0) of pad2d: top, bottom, left, right */
typedef struct {
    pc_index N, H, W, C;
    pc_index PT, PB, PL, PR;
    pc_index OH, OW;            /* H + PT + PB, W + PL + PR (≥ 1, checked by the caller) */
} pc_pad_geometry;

/* y = x moved by (PT, PL), zeros where no x pixel lands                  overwrites */
void pc_pad2d_forward_f32(const float *x, float *y, const pc_pad_geometry *g);
void pc_pad2d_forward_f64(const double *x, double *y, const pc_pad_geometry *g);
/* dx[n, h, w, c] (+)= dy[n, h + PT, w + PL, c] where that lies in y (else 0) */
void pc_pad2d_backward_f32(const float *dy, float *dx, const pc_pad_geometry *g,
                           int overwrite);
void pc_pad2d_backward_f64(const double *dy, double *dx, const pc_pad_geometry *g,
                           int overwrite);

#endif
