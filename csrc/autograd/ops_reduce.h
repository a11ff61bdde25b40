/* autograd/ops_reduce.h — the reductions' recorder and axis-mask iteration. */
#ifndef PC_OPS_REDUCE_H
#define PC_OPS_REDUCE_H

#include "autograd/node.h"
#include "kernels/reduce.h"

/* Bit d of an axis mask marks axis d as reduced (PC_MAX_NDIM ≤ 63 bits). */
#define PC_AXIS_BIT(d) ((pc_index)1 << (d))

/* The iteration of reduce.h over x's shape: operand 0 walks x contiguously,
 * operand 1 walks y with stride 0 along every axis set in `mask`. */
void pc_reduce_iter(pc_iter *it, int ndim, const npy_intp *shape, pc_index mask);

/* y (ndim, shape: x's with the axes in mask dropped or kept as 1) = sum / mean / max
 * of x over the axes in mask, count elements each; recorded with args.reduce = {mask,
 * scale (1, or 1/count for mean), keepdims}; max saves argmax. New ref or NULL. */
PyObject *pc_reduce(pc_op op, PyObject *x, pc_index mask, int keepdims, int ndim,
                    const npy_intp *shape, npy_intp count);

#endif
