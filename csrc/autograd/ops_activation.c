/* autograd/ops_activation.c — leaky_relu, elu, swish, softmax, log_softmax,
 * naive_normalize and maxout: each recorder right above its backward.
 * Node args: see ops_activation.h. */
#include "autograd/ops_activation.h"

#include "autograd/ops_elementwise.h"       /* PC_GIL_THRESHOLD */

#define SCALED(name)                                                                     \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64}
static const pc_scaled_kernels scaled_kernels[PC_OP_COUNT] = {
    [PC_OP_LEAKY_RELU] = SCALED(leaky_relu),
    [PC_OP_ELU] = SCALED(elu),
};
#undef SCALED

#define AXIS(name, reads_output)                                                         \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64, reads_output}
static const pc_axis_kernels axis_kernels[PC_OP_COUNT] = {
    [PC_OP_SOFTMAX] = AXIS(softmax, 1),
    [PC_OP_LOG_SOFTMAX] = AXIS(log_softmax, 1),
    [PC_OP_NAIVE_NORMALIZE] = AXIS(naive_normalize, 0),
};
#undef AXIS

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
    pc_op_args a = {{alpha}};
    PyObject *result;
    npy_intp n;

    if (y == NULL)
        return NULL;
    n = PyArray_SIZE(y);
    NPY_BEGIN_THREADS_DEF;
    if (n > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(y) == NPY_FLOAT32)
        k->forward_f32(PyArray_DATA(PC_DATA(x)), PyArray_DATA(y), n, (float)a.f[0]);
    else
        k->forward_f64(PyArray_DATA(PC_DATA(x)), PyArray_DATA(y), n, a.f[0]);
    NPY_END_THREADS;
    result = pc_record(op, y, 1, &x, &a, 0, NULL);
    Py_DECREF(y);
    return result;
}

/* y = f(x; α), α = args.f[0]; saves nothing: dx += f'(x; α) dy reads x */
int
pc_grad_scaled_activation(pc_node *node, PyArrayObject *dout)
{
    const pc_scaled_kernels *k = pc_scaled_kernels_for(node->op);
    PyArrayObject *x = PC_DATA(node->parents[0]), *dx;
    npy_intp n = PyArray_SIZE(x);
    double alpha = node->args.f[0];

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    NPY_BEGIN_THREADS_DEF;
    if (n > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(x) == NPY_FLOAT32)
        k->backward_f32(PyArray_DATA(x), PyArray_DATA(dout), PyArray_DATA(dx), n, (float)alpha);
    else
        k->backward_f64(PyArray_DATA(x), PyArray_DATA(dout), PyArray_DATA(dx), n, alpha);
    NPY_END_THREADS;
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
    NPY_BEGIN_THREADS_DEF;
    if (n > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(y) == NPY_FLOAT32)
        pc_swish_forward_f32(PyArray_DATA(PC_DATA(x)), PyArray_DATA(y), n,
                             *(float *)PyArray_DATA(PC_DATA(beta)));
    else
        pc_swish_forward_f64(PyArray_DATA(PC_DATA(x)), PyArray_DATA(y), n,
                             *(double *)PyArray_DATA(PC_DATA(beta)));
    NPY_END_THREADS;
    result = pc_record(PC_OP_SWISH, y, 2, parents, NULL, 0, NULL);
    Py_DECREF(y);
    return result;
}

/* y = x σ(βx), parents (x, β), β of one element; saves nothing.
 * dx += dy (s + βx s(1 − s)), dβ += Σ dy x² s(1 − s) with s = σ(βx) */
int
pc_grad_swish(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *beta = PC_DATA(node->parents[1]);
    PyArrayObject *dx, *dbeta;
    npy_intp n = PyArray_SIZE(x);

    if (pc_grad_buffer(node, 0, &dx) < 0 || pc_grad_buffer(node, 1, &dbeta) < 0)
        return -1;
    if (dx == NULL && dbeta == NULL)
        return 0;
    NPY_BEGIN_THREADS_DEF;
    if (n > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(x) == NPY_FLOAT32)
        pc_swish_backward_f32(PyArray_DATA(x), PyArray_DATA(dout),
                              dx ? PyArray_DATA(dx) : NULL, dbeta ? PyArray_DATA(dbeta) : NULL,
                              n, *(float *)PyArray_DATA(beta));
    else
        pc_swish_backward_f64(PyArray_DATA(x), PyArray_DATA(dout),
                              dx ? PyArray_DATA(dx) : NULL, dbeta ? PyArray_DATA(dbeta) : NULL,
                              n, *(double *)PyArray_DATA(beta));
    NPY_END_THREADS;
    return 0;
}

PyObject *
pc_along_axis(pc_op op, PyObject *z, pc_index outer, pc_index K, pc_index inner)
{
    const pc_axis_kernels *k = pc_axis_kernels_for(op);
    PyArrayObject *y = new_like(z);
    pc_op_args a = {.i = {outer, K, inner}, .n_i = 3};
    PyObject *result, *saved;

    if (y == NULL)
        return NULL;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(y) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(y) == NPY_FLOAT32)
        k->forward_f32(PyArray_DATA(PC_DATA(z)), PyArray_DATA(y), a.i[0], a.i[1], a.i[2]);
    else
        k->forward_f64(PyArray_DATA(PC_DATA(z)), PyArray_DATA(y), a.i[0], a.i[1], a.i[2]);
    NPY_END_THREADS;
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
    const pc_index *a = node->args.i;

    if (pc_grad_buffer(node, 0, &dz) < 0)
        return -1;
    if (dz == NULL)
        return 0;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(z) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(z) == NPY_FLOAT32)
        k->backward_f32(PyArray_DATA(read), PyArray_DATA(dout), PyArray_DATA(dz), a[0], a[1],
                        a[2]);
    else
        k->backward_f64(PyArray_DATA(read), PyArray_DATA(dout), PyArray_DATA(dz), a[0], a[1],
                        a[2]);
    NPY_END_THREADS;
    return 0;
}

PyObject *
pc_maxout(PyObject *x, int axis, pc_index outer, pc_index pieces, pc_index inner)
{
    PyArrayObject *xd = PC_DATA(x), *y;
    pc_op_args a = {.i = {outer, PyArray_DIM(xd, axis) / pieces, pieces, inner}, .n_i = 4};
    npy_intp shape[PC_MAX_NDIM];
    PyObject *result;

    for (int d = 0; d < PyArray_NDIM(xd); d++)
        shape[d] = PyArray_DIM(xd, d);
    shape[axis] = a.i[1];
    if ((y = pc_new_array(PyArray_NDIM(xd), shape, PyArray_TYPE(xd))) == NULL)
        return NULL;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(xd) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    PC_DISPATCH(PyArray_TYPE(y), pc_maxout_forward, PyArray_DATA(xd), PyArray_DATA(y),
                a.i[0], a.i[1], a.i[2], a.i[3]);
    NPY_END_THREADS;
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
    const pc_index *a = node->args.i;

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(x) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(x) == NPY_FLOAT32)
        pc_maxout_backward_f32(PyArray_DATA(x), PyArray_DATA(dout), PyArray_DATA(dx), a[0], a[1],
                               a[2], a[3]);
    else
        pc_maxout_backward_f64(PyArray_DATA(x), PyArray_DATA(dout), PyArray_DATA(dx), a[0], a[1],
                               a[2], a[3]);
    NPY_END_THREADS;
    return 0;
}
