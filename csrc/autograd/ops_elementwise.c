/* autograd/ops_elementwise.c — backward of casts, unary and broadcasting binary maps. */
#include "autograd/ops_elementwise.h"

#define BIN(name)                                                                        \
    {pc_##name##_forward_f32, pc_##name##_backward_a_f32, pc_##name##_backward_b_f32,    \
     pc_##name##_forward_f64, pc_##name##_backward_a_f64, pc_##name##_backward_b_f64}
static const pc_binary_kernels binary_kernels[PC_OP_COUNT] = {
    [PC_OP_ADD] = BIN(add),         [PC_OP_SUB] = BIN(sub),
    [PC_OP_MUL] = BIN(mul),         [PC_OP_DIV] = BIN(div),
    [PC_OP_POW] = BIN(pow),         [PC_OP_MAXIMUM] = BIN(maximum),
    [PC_OP_MINIMUM] = BIN(minimum),
};
#undef BIN

#define UN(name)                                                                         \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64}
static const pc_unary_kernels unary_kernels[PC_OP_COUNT] = {
    [PC_OP_NEG] = UN(neg),          [PC_OP_ABS] = UN(abs),
    [PC_OP_EXP] = UN(exp),          [PC_OP_LOG] = UN(log),
    [PC_OP_SQRT] = UN(sqrt),        [PC_OP_SQUARE] = UN(square),
    [PC_OP_SIGMOID] = UN(sigmoid),  [PC_OP_TANH] = UN(tanh),
    [PC_OP_RELU] = UN(relu),
};
#undef UN

const pc_binary_kernels *
pc_binary_kernels_for(pc_op op)
{
    return binary_kernels[op].forward_f32 != NULL ? &binary_kernels[op] : NULL;
}

const pc_unary_kernels *
pc_unary_kernels_for(pc_op op)
{
    return unary_kernels[op].forward_f32 != NULL ? &unary_kernels[op] : NULL;
}

void
pc_iter_broadcast(pc_iter *it, int ndim, const npy_intp *out_shape, int n_ops,
                  PyArrayObject *const *ops)
{
    it->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        it->shape[d] = out_shape[d];
    for (int k = 0; k < PC_ITER_OPS; k++) {
        PyArrayObject *a = k < n_ops ? ops[k] : NULL;
        int lead = a != NULL ? ndim - PyArray_NDIM(a) : ndim;
        pc_index s = 1;
        for (int d = ndim - 1; d >= 0; d--) {
            pc_index extent = d >= lead ? PyArray_DIM(a, d - lead) : 1;
            it->stride[k][d] = (a == NULL || extent == 1) ? 0 : s;
            s *= extent;
        }
    }
    pc_iter_coalesce(it);
}

/* y = a ⋆ b with broadcasting. Saves nothing: a and b are the parents.
 * da += ∂y/∂a · dy, summed over the axes a was broadcast along (its zero strides
 * make the kernel's accumulation that sum); likewise db. */
int
pc_grad_binary(pc_node *node, PyArrayObject *dout)
{
    const pc_binary_kernels *k = pc_binary_kernels_for(node->op);
    PyArrayObject *a = PC_DATA(node->parents[0]), *b = PC_DATA(node->parents[1]);

    for (int w = 0; w < 2; w++) {
        PyArrayObject *d, *ops[4];
        pc_iter it;
        if (pc_grad_buffer(node, w, &d) < 0)
            return -1;
        if (d == NULL)
            continue;
        ops[0] = dout, ops[1] = a, ops[2] = b, ops[3] = d;
        pc_iter_broadcast(&it, PyArray_NDIM(dout), PyArray_SHAPE(dout), 4, ops);
        NPY_BEGIN_THREADS_DEF;
        if (PyArray_SIZE(dout) > PC_GIL_THRESHOLD)
            NPY_BEGIN_THREADS;
        if (PyArray_TYPE(dout) == NPY_FLOAT32)
            pc_strided_loop_f32(&it, PyArray_DATA(dout), PyArray_DATA(a), PyArray_DATA(b),
                                PyArray_DATA(d), w == 0 ? k->backward_a_f32 : k->backward_b_f32);
        else
            pc_strided_loop_f64(&it, PyArray_DATA(dout), PyArray_DATA(a), PyArray_DATA(b),
                                PyArray_DATA(d), w == 0 ? k->backward_a_f64 : k->backward_b_f64);
        NPY_END_THREADS;
    }
    return 0;
}

/* y = f(x); saved[0] = y (sigmoid, tanh, exp and sqrt read the output).
 * dx += f'(x) · dy */
int
pc_grad_unary(pc_node *node, PyArrayObject *dout)
{
    const pc_unary_kernels *k = pc_unary_kernels_for(node->op);
    PyArrayObject *x = PC_DATA(node->parents[0]);
    PyArrayObject *y = (PyArrayObject *)node->saved[0];
    PyArrayObject *dx;
    npy_intp n = PyArray_SIZE(x);

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    NPY_BEGIN_THREADS_DEF;
    if (n > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(x) == NPY_FLOAT32)
        k->backward_f32(PyArray_DATA(x), PyArray_DATA(y), PyArray_DATA(dout), PyArray_DATA(dx), n);
    else
        k->backward_f64(PyArray_DATA(x), PyArray_DATA(y), PyArray_DATA(dout), PyArray_DATA(dx), n);
    NPY_END_THREADS;
    return 0;
}

/* y = (dtype)x; dx += (dtype of x)dy */
int
pc_grad_cast(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *dx;
    npy_intp n = PyArray_SIZE(dout);

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    if (PyArray_TYPE(dx) == NPY_FLOAT32 && PyArray_TYPE(dout) == NPY_FLOAT64)
        pc_cast_acc_f64_to_f32(PyArray_DATA(dout), PyArray_DATA(dx), n);
    else if (PyArray_TYPE(dx) == NPY_FLOAT64 && PyArray_TYPE(dout) == NPY_FLOAT32)
        pc_cast_acc_f32_to_f64(PyArray_DATA(dout), PyArray_DATA(dx), n);
    else {
        PyObject *sum = PyNumber_InPlaceAdd((PyObject *)dx, (PyObject *)dout);
        if (sum == NULL)
            return -1;
        Py_DECREF(sum);
    }
    return 0;
}
