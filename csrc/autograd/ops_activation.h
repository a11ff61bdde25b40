/* autograd/ops_activation.h — kernel tables of the activations, shared by the forward
 * bindings (py/activation.c) and the backward functions (ops_activation.c).
 *
 * Node args: leaky_relu, elu: f[0] = α.  swish: parents (x, β), β a one-element tensor.
 * softmax, log_softmax, naive_normalize: i[0..2] = outer, K, inner (the axis in the middle).
 * maxout: i[0..3] = outer, U, P (pieces), inner. */
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

#endif
