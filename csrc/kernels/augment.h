/* augment.h — the image transforms of the augmentation layers and of bilinear
 * resizing, NHWC. Pure C.
 *
 * Legend: x (N, H, W, C) in, y out; i, j = output row, column.
 * Affine transform (Keras' ops.image.affine_transform, channels_last): image n has
 * t[n] = (a0, a1, a2, b0, b1, b2) and output pixel (i, j) reads the input at
 *     column a0·j + a1·i + a2,  row b0·j + b1·i + b2
 * by nearest neighbour (the coordinate rounded half to even, as torch.round) or
 * bilinear interpolation (floor and floor + 1, weights 1 − f and f). Each of those
 * integer indices is brought into the image by the fill mode, per axis, as SciPy's
 * and Keras' map_coordinates do:
 *     reflect   (d c b a | a b c d | d c b a)      wrap      (a b c d | a b c d | a b c d)
 *     nearest   (a a a a | a b c d | d d d d)      constant  outside indices read fill_value
 * Bilinear resize (torch's align_corners=False, Keras' resize): output row i samples
 *     src = max((i + ½)·H/OH − ½, 0), rows ⌊src⌋ and min(⌊src⌋ + 1, H − 1).
 * Contrast (Keras' RandomContrast): per image n and channel c, m = mean over pixels,
 *     y = clip((x − m)·f[n] + m, lo, hi).
 * Work is split by images on the thread pool; every dx image is written by one thread.
 */
#ifndef PC_AUGMENT_H
#define PC_AUGMENT_H

#include "pc_types.h"

enum { PC_INTERP_NEAREST, PC_INTERP_BILINEAR };
enum { PC_FILL_REFLECT, PC_FILL_WRAP, PC_FILL_NEAREST, PC_FILL_CONSTANT };

typedef struct {
    pc_index N, H, W, C;
    int interpolation, fill_mode;
    double fill_value;
    const double *t;            /* (N, 6) */
} pc_affine;

/* y (N, H, W, C) = x transformed by t                                    overwrites */
void pc_affine_transform_forward_f32(const float *x, float *y, const pc_affine *g);
void pc_affine_transform_forward_f64(const double *x, double *y, const pc_affine *g);
/* dx += the transpose: each weight of the forward sends dy back           accumulates */
void pc_affine_transform_backward_f32(const float *dy, float *dx, const pc_affine *g);
void pc_affine_transform_backward_f64(const double *dy, double *dx, const pc_affine *g);

/* y (N, OH, OW, C) = x resized bilinearly                                 overwrites */
void pc_resize_bilinear_forward_f32(const float *x, float *y, pc_index N, pc_index H,
                                    pc_index W, pc_index C, pc_index OH, pc_index OW);
void pc_resize_bilinear_forward_f64(const double *x, double *y, pc_index N, pc_index H,
                                    pc_index W, pc_index C, pc_index OH, pc_index OW);
/* dx (+)= the transpose: overwrite 0 adds into dx, 1 writes all of it (a fresh buffer) */
void pc_resize_bilinear_backward_f32(const float *dy, float *dx, pc_index N, pc_index H,
                                     pc_index W, pc_index C, pc_index OH, pc_index OW,
                                     int overwrite);
void pc_resize_bilinear_backward_f64(const double *dy, double *dx, pc_index N, pc_index H,
                                     pc_index W, pc_index C, pc_index OH, pc_index OW,
                                     int overwrite);

/* y = clip((x − m)·f + m, lo, hi); mean (N, C) = m                       overwrites */
void pc_contrast_forward_f32(const float *x, float *y, float *mean, const double *f,
                             pc_index N, pc_index P, pc_index C, double lo, double hi);
void pc_contrast_forward_f64(const double *x, double *y, double *mean, const double *f,
                             pc_index N, pc_index P, pc_index C, double lo, double hi);
/* g = dy where lo ≤ (x − m)·f + m ≤ hi, else 0;
 * dx += f·g + (1 − f)/P · Σ_pixels g (the mean depends on x)            accumulates */
void pc_contrast_backward_f32(const float *x, const float *dy, const float *mean,
                              const double *f, pc_index N, pc_index P, pc_index C, double lo,
                              double hi, float *dx);
void pc_contrast_backward_f64(const double *x, const double *dy, const double *mean,
                              const double *f, pc_index N, pc_index P, pc_index C, double lo,
                              double hi, double *dx);

#endif
