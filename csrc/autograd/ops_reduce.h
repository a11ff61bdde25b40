/* autograd/ops_reduce.h — what the reduction bindings (py/reduce.c) share with their
 * backward functions (ops_reduce.c). */
#ifndef PC_OPS_REDUCE_H
#define PC_OPS_REDUCE_H

#include "autograd/node.h"
#include "kernels/reduce.h"

/* Bit d of an axis mask marks axis d as reduced (PC_MAX_NDIM ≤ 63 bits). */
#define PC_AXIS_BIT(d) ((pc_index)1 << (d))

/* The iteration of reduce.h over x's shape: operand 0 walks x contiguously,
 * operand 1 walks y with stride 0 along every axis set in `mask`. */
void pc_reduce_iter(pc_iter *it, int ndim, const npy_intp *shape, pc_index mask);

#endif
