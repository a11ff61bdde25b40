/* autograd/ops_activation.h — the activation recorders and their kernel tables.
 *
 * Node args (pc_op_args): leaky_relu, elu: .scaled.alpha.  swish: parents (x, β), β a
 * one-element tensor. softmax, log_softmax, naive_normalize: .along_axis (outer, K, inner
 * around the axis in the middle). maxout: .maxout (outer, U units, P pieces, inner). */
#ifndef PC_OPS_ACTIVATION_H
#define PC_OPS_ACTIVATION_H

#include "autograd/node.h"
#include "kernels/activation.h"

/* y = f(x; α) and dx += f'(x; α) dy (leaky_relu, elu) */
typedef struct {
    void (*forward_f32)(const float *, float *, pc_index, float);
    void (*forward_f64)(const double *, double *, pc_index, double);
    void (*backward_f32)(const float *, const float *, float *, pc_index, float);
    void (*backward_f64)(const double *, const double *, double *, pc_index, double);
} pc_scaled_kernels;

/* along an axis seen as (outer, K, inner); backward reads the output y when
 * reads_output, else the input z */
typedef struct {
    void (*forward_f32)(const float *, float *, pc_index, pc_index, pc_index);
    void (*forward_f64)(const double *, double *, pc_index, pc_index, pc_index);
    void (*backward_f32)(const float *, const float *, float *, pc_index, pc_index, pc_index);
    void (*backward_f64)(const double *, const double *, double *, pc_index, pc_index,
                         pc_index);
    int reads_output;
} pc_axis_kernels;

/* NULL when op is not of that family */
const pc_scaled_kernels *pc_scaled_kernels_for(pc_op op);
const pc_axis_kernels *pc_axis_kernels_for(pc_op op);

/* The recorders take Tensors whose arguments py/activation.c has checked; each returns
 * a new ref or NULL with an exception set. */
/* y = f(x; α) for leaky_relu, elu */
PyObject *pc_scaled_activation(pc_op op, PyObject *x, double alpha);
/* y = x σ(βx); beta a one-element Tensor of x's dtype */
PyObject *pc_swish(PyObject *x, PyObject *beta);
/* softmax, log_softmax, naive_normalize of z along axis (in range; negative counts from
 * the end, and is kept as given for op_args), z seen as (outer, K, inner) */
PyObject *pc_along_axis(pc_op op, PyObject *z, int axis, pc_index outer, pc_index K,
                        pc_index inner);
/* maxout over `axis` (in range, as for pc_along_axis; its size a multiple of pieces), x
 * seen as (outer, axis, inner) */
PyObject *pc_maxout(PyObject *x, int axis, pc_index outer, pc_index pieces, pc_index inner);

#endif
