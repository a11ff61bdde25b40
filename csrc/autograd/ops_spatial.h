/* autograd/ops_spatial.h — recorders of whole-image pooling and of padding/cropping
 * (ops_spatial.c), called by their bindings (py/spatial.c). */
#ifndef PC_OPS_SPATIAL_H
#define PC_OPS_SPATIAL_H

#include "autograd/node.h"
#include "kernels/spatial.h"

/* y = mean (is_max = 0) or max (1) over each image of x (N, H, W, C), a Tensor with
 * H, W, C ≥ 1 (checked by the caller): y (N, C), or (N, 1, 1, C) with keepdims.
 * New ref or NULL. */
PyObject *pc_global_pool2d(PyObject *x, int is_max, int keepdims);

/* y = x zero-padded (pads ≥ 0) or cropped (< 0) by g's PT, PB, PL, PR; g's N, H, W, C
 * are x's and OH, OW ≥ 1 (checked by the caller). New ref or NULL. */
PyObject *pc_pad2d(PyObject *x, const pc_pad_geometry *g);

#endif
