/* autograd/ops_elementwise.c — casts, unary and broadcasting binary maps: each
 * recorder (pc_binary, pc_unary, pc_cast) right above its backward. */
#include "autograd/ops_elementwise.h"

#define BIN(name)                                                                        \
    {pc_##name##_forward_f32, pc_##name##_backward_a_f32, pc_##name##_backward_b_f32,    \
     pc_##name##_forward_f64, pc_##name##_backward_a_f64, pc_##name##_backward_b_f64}
static const pc_binary_kernels binary_kernels[PC_OP_COUNT] = {
#define OP(...)
#define BINARY(op, name, kernel, pyname, doc) [PC_OP_##op] = BIN(kernel),
#include "autograd/ops.def"
};
#undef BIN

#define UN(name)                                                                         \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64}
static const pc_unary_kernels unary_kernels[PC_OP_COUNT] = {
#define OP(...)
#define UNARY(op, name, kernel, pyname, doc, activation) [PC_OP_##op] = UN(kernel),
#include "autograd/ops.def"
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

/* The output shape of a ⋆ b under NumPy broadcasting; ValueError naming op and both
 * shapes when they cannot broadcast. 0 or -1. */
static int
broadcast_shapes(pc_op op, PyArrayObject *a, PyArrayObject *b, int *ndim, npy_intp *shape)
{
    int na = PyArray_NDIM(a), nb = PyArray_NDIM(b);
    *ndim = na > nb ? na : nb;
    for (int d = 0; d < *ndim; d++) {
        npy_intp ea = d < *ndim - na ? 1 : PyArray_DIM(a, d - (*ndim - na));
        npy_intp eb = d < *ndim - nb ? 1 : PyArray_DIM(b, d - (*ndim - nb));
        if (ea != eb && ea != 1 && eb != 1)
            return pc_shape_mismatch("%s: shapes %R and %R cannot broadcast%s",
                                     pc_op_table[op].name, a, b, "");
        shape[d] = ea == 1 ? eb : ea;
    }
    return 0;
}

PyObject *
pc_binary(pc_op op, PyObject *a, PyObject *b)
{
    const pc_binary_kernels *k = pc_binary_kernels_for(op);
    PyObject *result = NULL;
    PyArrayObject *y = NULL;
    npy_intp shape[PC_MAX_NDIM];
    int ndim;
    pc_iter it;

    if (broadcast_shapes(op, PC_DATA(a), PC_DATA(b), &ndim, shape) < 0)
        return NULL;
    if ((y = pc_new_array(ndim, shape, PyArray_TYPE(PC_DATA(a)))) == NULL)
        return NULL;
    /* operands: 0 = a, 1 = b, 2 unused, 3 = y (its own contiguous strides) */
    {
        PyArrayObject *iter_ops[4] = {PC_DATA(a), PC_DATA(b), NULL, y};
        pc_iter_broadcast(&it, ndim, shape, 4, iter_ops);
    }
    PC_DISPATCH_ROWS_NOGIL(PyArray_SIZE(y), PyArray_TYPE(y), pc_strided_loop, k->forward, &it,
                           PyArray_DATA(PC_DATA(a)), PyArray_DATA(PC_DATA(b)), NULL,
                           PyArray_DATA(y));
    {
        PyObject *parents[2] = {a, b};
        result = pc_record(op, y, 2, parents, NULL, 0, NULL);
    }
    Py_DECREF(y);
    return result;
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
        if (w == 0)
            PC_DISPATCH_ROWS_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_strided_loop,
                                   k->backward_a, &it, PyArray_DATA(dout), PyArray_DATA(a),
                                   PyArray_DATA(b), PyArray_DATA(d));
        else
            PC_DISPATCH_ROWS_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_strided_loop,
                                   k->backward_b, &it, PyArray_DATA(dout), PyArray_DATA(a),
                                   PyArray_DATA(b), PyArray_DATA(d));
    }
    return 0;
}

PyObject *
pc_unary(pc_op op, PyObject *x)
{
    const pc_unary_kernels *k = pc_unary_kernels_for(op);
    PyObject *result, *saved;
    PyArrayObject *y;
    npy_intp n;

    y = pc_new_array(PyArray_NDIM(PC_DATA(x)), PyArray_SHAPE(PC_DATA(x)),
                     PyArray_TYPE(PC_DATA(x)));
    if (y == NULL)
        return NULL;
    n = PyArray_SIZE(y);
    PC_DISPATCH_ROWS_NOGIL(n, PyArray_TYPE(y), pc_unary_forward_split, k->forward,
                           PyArray_DATA(PC_DATA(x)), PyArray_DATA(y), n);
    saved = (PyObject *)y;                      /* backward reads the output */
    result = pc_record(op, y, 1, &x, NULL, 1, &saved);
    Py_DECREF(y);
    return result;
}

/* y = f(x); saved[0] = y (sigmoid, tanh, exp and sqrt read the output).
 * dx += f'(x) · dy, or dx = f'(x) · dy into a fresh gradient buffer */
int
pc_grad_unary(pc_node *node, PyArrayObject *dout)
{
    const pc_unary_kernels *k = pc_unary_kernels_for(node->op);
    PyArrayObject *x = PC_DATA(node->parents[0]);
    PyArrayObject *y = (PyArrayObject *)node->saved[0];
    PyArrayObject *dx;
    npy_intp n = PyArray_SIZE(x);
    int fresh;

    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &fresh) < 0)     /* fresh: not zeroed */
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_ROWS_NOGIL(n, PyArray_TYPE(x), pc_unary_backward_split, k->backward,
                           PyArray_DATA(x), PyArray_DATA(y), PyArray_DATA(dout), PyArray_DATA(dx),
                           n, !fresh);
    return 0;
}

PyObject *
pc_cast(PyObject *t, int typenum)
{
    PyArrayObject *x = PC_DATA(t), *y;
    PyObject *out;

    if (PyArray_TYPE(x) == typenum)
        return Py_NewRef(t);
    y = pc_new_array(PyArray_NDIM(x), PyArray_SHAPE(x), typenum);
    if (y == NULL)
        return NULL;
    if (typenum == NPY_FLOAT64)
        pc_cast_f32_to_f64(PyArray_DATA(x), PyArray_DATA(y), PyArray_SIZE(x));
    else
        pc_cast_f64_to_f32(PyArray_DATA(x), PyArray_DATA(y), PyArray_SIZE(x));
    out = pc_record(PC_OP_CAST, y, 1, &t, NULL, 0, NULL);
    Py_DECREF(y);
    return out;
}

int
pc_promote_pair(PyObject **a, PyObject **b)
{
    PyObject **low;
    PyObject *cast;

    if (PyArray_TYPE(PC_DATA(*a)) == PyArray_TYPE(PC_DATA(*b)))
        return 0;
    low = PyArray_TYPE(PC_DATA(*a)) == NPY_FLOAT32 ? a : b;
    if ((cast = pc_cast(*low, NPY_FLOAT64)) == NULL)
        return -1;
    Py_SETREF(*low, cast);
    return 0;
}

/* y = (dtype)x; dx += (dtype of x)dy. A cast to x's own dtype (none is recorded, but
 * the gradient would be the same) is reshape's: dx += dy element by element. */
int
pc_grad_cast(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *dx;

    if (PyArray_TYPE(PC_DATA(node->parents[0])) == PyArray_TYPE(dout))
        return pc_grad_reshape(node, dout);
    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    if (PyArray_TYPE(dx) == NPY_FLOAT32)
        pc_cast_acc_f64_to_f32(PyArray_DATA(dout), PyArray_DATA(dx), PyArray_SIZE(dout));
    else
        pc_cast_acc_f32_to_f64(PyArray_DATA(dout), PyArray_DATA(dx), PyArray_SIZE(dout));
    return 0;
}
