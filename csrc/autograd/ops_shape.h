/* autograd/ops_shape.h — the structural ops' recorders (reshape, transpose,
 * concat/stack) and the iterations their forwards and backwards share. */
#ifndef PC_OPS_SHAPE_H
#define PC_OPS_SHAPE_H

#include "autograd/node.h"
#include "kernels/shape.h"

/* The iteration over y = xᵀ (y's shape: y[d] = x[perm[d]]): operand `x_slot` walks x
 * through the permuted strides, operand `y_slot` walks y contiguously; the others
 * stay still. Forward copies slot 0 -> 3; backward accumulates slot 0 (dy) -> 3 (dx). */
void pc_transpose_iter(pc_iter *it, int ndim, const npy_intp *x_shape, const npy_intp *perm,
                       int x_slot, int y_slot);

/* concat/stack along `axis` of the output y: x (an input, or y itself) seen as A
 * blocks of lx elements, A = Π shape[:axis], lx = Π shape[axis:]. Input p's blocks
 * sit in y's blocks (of ly) at off = the lx of the inputs before it, summed. */
void pc_concat_blocks(PyArrayObject *x, int axis, pc_index *A, pc_index *lx);

/* The recorders take Tensors whose arguments py/shape.c has checked; new ref or NULL. */
/* y = x viewed with dims (x's own C-contiguous buffer), recorded as op (reshape or
 * flatten, both backpropagating through pc_grad_reshape) */
PyObject *pc_reshape_to(pc_op op, PyObject *x, int ndim, npy_intp *dims);
/* y[d] = x's axis perm[d] (perm: an NPY_INTP array of x's ndim axes, saved) */
PyObject *pc_transpose(PyObject *x, PyArrayObject *perm);
/* concat / stack of n Tensors of one dtype along `axis` of y (ndim, shape) */
PyObject *pc_join(pc_op op, PyObject *const *ts, int n, int axis, int ndim,
                  const npy_intp *shape);

#endif
