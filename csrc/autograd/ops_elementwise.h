/* autograd/ops_elementwise.h — the element-wise recorders and their kernel tables. */
#ifndef PC_OPS_ELEMENTWISE_H
#define PC_OPS_ELEMENTWISE_H

#include "autograd/node.h"
#include "kernels/elementwise.h"

typedef struct {
    pc_strided_fn_f32 forward_f32, backward_a_f32, backward_b_f32;
    pc_strided_fn_f64 forward_f64, backward_a_f64, backward_b_f64;
} pc_binary_kernels;

typedef struct {
    pc_unary_forward_fn_f32 forward_f32;
    pc_unary_forward_fn_f64 forward_f64;
    pc_unary_backward_fn_f32 backward_f32;
    pc_unary_backward_fn_f64 backward_f64;
} pc_unary_kernels;

/* NULL when op is not a binary (resp. unary) element-wise op */
const pc_binary_kernels *pc_binary_kernels_for(pc_op op);
const pc_unary_kernels *pc_unary_kernels_for(pc_op op);

/* Iteration over out_shape for operands of the given shapes, right-aligned
 * (NumPy broadcasting): operand k gets stride 0 on the axes it is broadcast along. */
void pc_iter_broadcast(pc_iter *it, int ndim, const npy_intp *out_shape, int n_ops,
                       PyArrayObject *const *ops);

/* y = a ⋆ b for a binary element-wise op over Tensors a and b of one dtype, with
 * broadcasting (ValueError naming op and both shapes when they cannot). New ref or NULL. */
PyObject *pc_binary(pc_op op, PyObject *a, PyObject *b);
/* y = f(x) for a unary element-wise op over Tensor x (new ref or NULL) */
PyObject *pc_unary(pc_op op, PyObject *x);

/* y = (typenum)t, recorded so the gradient flows back in t's dtype (new ref) */
PyObject *pc_cast(PyObject *t, int typenum);

/* Brings Tensors a and b (owned refs, replaced in place) to one dtype: float64 if
 * either is, like NumPy. 0, or -1 with an exception set. */
int pc_promote_pair(PyObject **a, PyObject **b);

#endif
