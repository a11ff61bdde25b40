/* autograd/ops_activation.c — leaky_relu, elu, swish, softmax, log_softmax,
 * naive_normalize and maxout: each recorder right above its backward.
 * Node args: see ops_activation.h. */
#include "autograd/ops_activation.h"

#include "kernels/elementwise.h"


#define SCALED_KERNELS(name)                                                             \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64}
static const pc_scaled_kernels scaled_kernels[PC_OP_COUNT] = {
#define OP(...)
#define SCALED(op, name, kernel, alpha, doc) [PC_OP_##op] = SCALED_KERNELS(kernel),
#include "autograd/ops.def"
};
#undef SCALED_KERNELS

#define AXIS_KERNELS(name, reads_output)                                                 \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64, reads_output}
static const pc_axis_kernels axis_kernels[PC_OP_COUNT] = {
#define OP(...)
#define AXIS(op, name, kernel, reads_output, doc) [PC_OP_##op] = AXIS_KERNELS(kernel, reads_output),
#include "autograd/ops.def"
};
#undef AXIS_KERNELS

const pc_scaled_kernels *
pc_scaled_kernels_for(pc_op op)
{
    return scaled_kernels[op].forward_f32 != NULL ? &scaled_kernels[op] : NULL;
}

const pc_axis_kernels *
pc_axis_kernels_for(pc_op op)
{
    return axis_kernels[op].forward_f32 != NULL ? &axis_kernels[op] : NULL;
}

static PyArrayObject *
new_like(PyObject *t)
{
    PyArrayObject *x = PC_DATA(t);
    return pc_new_array(PyArray_NDIM(x), PyArray_SHAPE(x), PyArray_TYPE(x));
}

PyObject *
pc_scaled_activation(pc_op op, PyObject *x, double alpha)
{
    const pc_scaled_kernels *k = pc_scaled_kernels_for(op);
    PyArrayObject *y = new_like(x);
    pc_op_args a = {.scaled = {alpha}};
    PyObject *result;
    npy_intp n;

    if (y == NULL)
        return NULL;
    n = PyArray_SIZE(y);
    PC_DISPATCH_NOGIL(n, PyArray_TYPE(y), k->forward, PyArray_DATA(PC_DATA(x)), PyArray_DATA(y), n,
                      a.scaled.alpha);
    result = pc_record(op, y, 1, &x, &a, 0, NULL);
    Py_DECREF(y);
    return result;
}

/* y = f(x; α), α = args.scaled.alpha; saves nothing: dx += f'(x; α) dy reads x */
int
pc_grad_scaled_activation(pc_node *node, PyArrayObject *dout)
{
    const pc_scaled_kernels *k = pc_scaled_kernels_for(node->op);
    PyArrayObject *x = PC_DATA(node->parents[0]), *dx;
    npy_intp n = PyArray_SIZE(x);
    double alpha = node->args.scaled.alpha;

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(n, PyArray_TYPE(x), k->backward, PyArray_DATA(x), PyArray_DATA(dout),
                      PyArray_DATA(dx), n, alpha);
    return 0;
}

PyObject *
pc_swish(PyObject *x, PyObject *beta)
{
    PyArrayObject *y = new_like(x);
    PyObject *result, *parents[2] = {x, beta};
    npy_intp n;

    if (y == NULL)
        return NULL;
    n = PyArray_SIZE(y);
    PC_DISPATCH_NOGIL(n, PyArray_TYPE(y), pc_swish_forward, PyArray_DATA(PC_DATA(x)),
                      PyArray_DATA(y), n, pc_value_at(PC_DATA(beta), 0));
    result = pc_record(PC_OP_SWISH, y, 2, parents, NULL, 0, NULL);
    Py_DECREF(y);
    return result;
}

/* y = x σ(βx), parents (x, β), β of one element; saves nothing.
 * dx (+)= dy (s + βx s(1 − s)) (= into a fresh buffer), dβ += Σ dy x² s(1 − s) with
 * s = σ(βx) */
int
pc_grad_swish(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *beta = PC_DATA(node->parents[1]);
    PyArrayObject *dx, *dbeta;
    npy_intp n = PyArray_SIZE(x);
    int fresh;

    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &fresh) < 0      /* fresh: not zeroed */
        || pc_grad_buffer(node, 1, &dbeta) < 0)
        return -1;
    if (dx == NULL && dbeta == NULL)
        return 0;
    PC_DISPATCH_NOGIL(n, PyArray_TYPE(x), pc_swish_backward, PyArray_DATA(x), PyArray_DATA(dout),
                      dx ? PyArray_DATA(dx) : NULL, dbeta ? PyArray_DATA(dbeta) : NULL, n,
                      pc_value_at(beta, 0), !fresh);
    return 0;
}

PyObject *
pc_along_axis(pc_op op, PyObject *z, int axis, pc_index outer, pc_index K, pc_index inner)
{
    const pc_axis_kernels *k = pc_axis_kernels_for(op);
    PyArrayObject *y = new_like(z);
    pc_op_args a = {.along_axis = {outer, K, inner, axis}};
    PyObject *result, *saved;

    if (y == NULL)
        return NULL;
    PC_DISPATCH_NOGIL(PyArray_SIZE(y), PyArray_TYPE(y), k->forward, PyArray_DATA(PC_DATA(z)),
                      PyArray_DATA(y), outer, K, inner);
    saved = (PyObject *)y;
    result = pc_record(op, y, 1, &z, &a, k->reads_output, &saved);
    Py_DECREF(y);
    return result;
}

/* softmax, log_softmax (saved[0] = the output y) and naive_normalize (reads z) along
 * an axis; args.i = outer, K, inner */
int
pc_grad_along_axis(pc_node *node, PyArrayObject *dout)
{
    const pc_axis_kernels *k = pc_axis_kernels_for(node->op);
    PyArrayObject *z = PC_DATA(node->parents[0]), *dz;
    PyArrayObject *read = k->reads_output ? (PyArrayObject *)node->saved[0] : z;
    const pc_op_args *a = &node->args;

    if (pc_grad_buffer(node, 0, &dz) < 0)
        return -1;
    if (dz == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(z), PyArray_TYPE(z), k->backward, PyArray_DATA(read),
                      PyArray_DATA(dout), PyArray_DATA(dz), a->along_axis.outer, a->along_axis.k,
                      a->along_axis.inner);
    return 0;
}

PyObject *
pc_maxout(PyObject *x, int axis, pc_index outer, pc_index pieces, pc_index inner)
{
    PyArrayObject *xd = PC_DATA(x), *y;
    int ax = axis < 0 ? axis + PyArray_NDIM(xd) : axis;
    pc_op_args a = {.maxout = {outer, PyArray_DIM(xd, ax) / pieces, pieces, inner, axis}};
    npy_intp shape[PC_MAX_NDIM];
    PyObject *result;

    for (int d = 0; d < PyArray_NDIM(xd); d++)
        shape[d] = PyArray_DIM(xd, d);
    shape[ax] = a.maxout.units;
    if ((y = pc_new_array(PyArray_NDIM(xd), shape, PyArray_TYPE(xd))) == NULL)
        return NULL;
    PC_DISPATCH_NOGIL(PyArray_SIZE(xd), PyArray_TYPE(y), pc_maxout_forward, PyArray_DATA(xd),
                      PyArray_DATA(y), outer, a.maxout.units, pieces, inner);
    result = pc_record(PC_OP_MAXOUT, y, 1, &x, &a, 0, NULL);
    Py_DECREF(y);
    return result;
}

/* y_u = max over the pieces of group u; saves nothing: the winner is found again from x.
 * args.i = outer, U, P, inner */
int
pc_grad_maxout(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *dx;
    const pc_op_args *a = &node->args;

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(x), PyArray_TYPE(x), pc_maxout_backward, PyArray_DATA(x),
                      PyArray_DATA(dout), PyArray_DATA(dx), a->maxout.outer, a->maxout.units,
                      a->maxout.pieces, a->maxout.inner);
    return 0;
}
