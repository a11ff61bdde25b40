/* autograd/ops_augment.h — recorders of the augmentation transforms and bilinear
 * resizing (ops_augment.c), called by py/augment.c and py/pool.c. Each takes x, a
 * Tensor (N, H, W, C) with H, W, C ≥ 1 (checked by the caller). New ref or NULL. */
#ifndef PC_OPS_AUGMENT_H
#define PC_OPS_AUGMENT_H

#include "autograd/node.h"
#include "kernels/augment.h"

/* y = x transformed by t (N, 6) float64 (kernels/augment.h), one node */
PyObject *pc_affine_transform(PyObject *x, PyArrayObject *t, int interpolation, int fill_mode,
                              double fill_value);

/* y (N, OH, OW, C) = x resized bilinearly (OH, OW ≥ 1) */
PyObject *pc_resize_bilinear(PyObject *x, pc_index OH, pc_index OW);

/* y = clip((x − mean)·f[n] + mean, lo, hi), f (N,) float64 */
PyObject *pc_contrast(PyObject *x, PyArrayObject *f, double lo, double hi);

#endif
