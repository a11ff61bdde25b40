/* autograd/ops_norm.h — the normalisation ops' recorders (ops_norm.c), called by
 * their bindings (py/norm.c). */
#ifndef PC_OPS_NORM_H
#define PC_OPS_NORM_H

#include "autograd/node.h"

/* y = γ·(x − mean)/√(var + ε) + β along axis `axis` (≥ 0) of x, one node.
 * x: Tensor; gamma, beta: Tensors of shape (C,) or NULL; moving_mean, moving_var:
 * arrays (C,); all of x's dtype, C = x.shape[axis] (checked by the caller).
 * batch_stats: mean and var are the batch's (over every axis but `axis`) and the
 * moving statistics move toward them: moving = moving·momentum + batch·(1 − momentum);
 * else mean and var are the moving statistics, left as they are.
 * New ref, or NULL with an exception. */
PyObject *pc_batch_norm(PyObject *x, PyObject *gamma, PyObject *beta,
                        PyArrayObject *moving_mean, PyArrayObject *moving_var, int axis,
                        double epsilon, double momentum, int batch_stats);

/* y = γ·(x − mean)/√(var + ε) + β with mean and var over x's axes first.. (the trailing
 * axes, K values per sample), one node. gamma, beta: Tensors of K values or NULL, x's
 * dtype; 1 ≤ first < ndim (checked by the caller). New ref or NULL. */
PyObject *pc_layer_norm(PyObject *x, PyObject *gamma, PyObject *beta, int first,
                        double epsilon);

#endif
