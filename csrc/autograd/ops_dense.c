/* autograd/ops_dense.c — the fully connected op: its recorder pc_dense (GEMM, then
 * the bias + activation epilogue) and its backward.
 *
 *   dense   y = act(z), z = x·W + b     x: (M, IN) (leading dims flattened),
 *                                       W: (IN, N), b: (N,) optional
 *
 * parents: x, W[, b]; saved[0] = y when act ≠ linear; args.dense.act.
 * From dz = dy · act'(y):  dx += dz·Wᵀ,  dW += xᵀ·dz,  db += Σ_m dz[m, :].
 */
#include "autograd/ops_layers.h"

#include "kernels/dense.h"

int
pc_grad_buffer_fresh(pc_node *node, int i, PyArrayObject **out, int *fresh)
{
    *fresh = ((TensorObject *)node->parents[i])->grad == NULL;
    return pc_grad_buffer(node, i, out);
}

PyArrayObject *
pc_matrix_view(PyArrayObject *a, npy_intp cols)
{
    npy_intp dims[2] = {cols > 0 ? PyArray_SIZE(a) / cols : 0, cols};
    PyArray_Dims shape = {dims, 2};
    return (PyArrayObject *)PyArray_Newshape(a, &shape, NPY_CORDER);
}

void
pc_dense_epilogue(PyArrayObject *y, PyArrayObject *b, npy_intp N, int act)
{
    npy_intp M = N > 0 ? PyArray_SIZE(y) / N : 0;
    void *bias = b != NULL ? PyArray_DATA(b) : NULL;
    if (b == NULL && act == PC_ACT_LINEAR)
        return;
    PC_DISPATCH_NOGIL(PyArray_SIZE(y), PyArray_TYPE(y), pc_bias_act_forward, PyArray_DATA(y), bias,
                      M, N, act);
}

PyObject *
pc_dense(PyObject *x, PyObject *w, PyObject *b, int act)
{
    PyArrayObject *xa = PC_DATA(x), *wa = PC_DATA(w), *y = NULL, *x2d = NULL, *y2d = NULL;
    npy_intp in = PyArray_DIM(wa, 0), N = PyArray_DIM(wa, 1);
    npy_intp dims[PC_MAX_NDIM];
    int nd = PyArray_NDIM(xa);
    PyObject *result = NULL, *saved = NULL;

    for (int d = 0; d < nd; d++)
        dims[d] = PyArray_DIM(xa, d);
    dims[nd - 1] = N;
    if ((y = pc_new_array(nd, dims, PyArray_TYPE(wa))) == NULL ||
        (x2d = pc_matrix_view(xa, in)) == NULL || (y2d = pc_matrix_view(y, N)) == NULL ||
        pc_matmul(x2d, 0, wa, 0, y2d, 0) < 0)
        goto done;
    pc_dense_epilogue(y, b != NULL ? PC_DATA(b) : NULL, N, act);
    if (act != PC_ACT_LINEAR)
        saved = (PyObject *)y;                          /* act' reads the output */
    {
        PyObject *parents[3] = {x, w, b};
        pc_op_args args = {.dense = {act}};
        result = pc_record(PC_OP_DENSE, y, b != NULL ? 3 : 2, parents, &args, saved != NULL,
                           &saved);
    }
done:
    Py_XDECREF(y);
    Py_XDECREF(x2d);
    Py_XDECREF(y2d);
    return result;
}

PyArrayObject *
pc_dense_dz(pc_node *node, PyArrayObject *dout, int act, PyArrayObject *y, int bias_parent,
            npy_intp N)
{
    PyArrayObject *dz, *db = NULL;
    npy_intp n = PyArray_SIZE(dout), M = N > 0 ? n / N : 0;
    double *acc = NULL;
    NPY_BEGIN_THREADS_DEF;

    if (act == PC_ACT_LINEAR)
        dz = (PyArrayObject *)Py_NewRef(dout);
    else if ((dz = pc_new_array(PyArray_NDIM(dout), PyArray_SHAPE(dout),
                                PyArray_TYPE(dout))) == NULL)
        return NULL;
    if (bias_parent >= 0 && pc_grad_buffer(node, bias_parent, &db) < 0)
        goto fail;
    if (db != NULL && (acc = PyMem_Malloc((N > 0 ? N : 1) * sizeof(double))) == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    if (n > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (act != PC_ACT_LINEAR)
        PC_DISPATCH(PyArray_TYPE(dout), pc_act_backward, PyArray_DATA(y), PyArray_DATA(dout),
                    PyArray_DATA(dz), n, act);
    if (db != NULL)
        PC_DISPATCH(PyArray_TYPE(dout), pc_bias_backward, PyArray_DATA(dz), PyArray_DATA(db),
                    M, N, acc);
    NPY_END_THREADS;
    PyMem_Free(acc);
    return dz;
fail:
    Py_DECREF(dz);
    return NULL;
}

/* dx += dz·Wᵀ and dW += xᵀ·dz, each written straight into a fresh gradient */
static int
dense_gemms(pc_node *node, PyArrayObject *dz2d)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *w = PC_DATA(node->parents[1]);
    PyArrayObject *dx, *dw, *x2d = NULL, *dx2d = NULL;
    npy_intp in = PyArray_DIM(w, 0);
    int fresh, status = -1;

    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &fresh) < 0)      /* fresh: not zeroed */
        return -1;
    if (dx != NULL) {
        if ((dx2d = pc_matrix_view(dx, in)) == NULL || pc_matmul(dz2d, 0, w, 1, dx2d, !fresh) < 0)
            goto done;
    }
    if (pc_grad_buffer_to_overwrite(node, 1, &dw, &fresh) < 0)
        goto done;
    if (dw != NULL) {
        if ((x2d = pc_matrix_view(x, in)) == NULL || pc_matmul(x2d, 1, dz2d, 0, dw, !fresh) < 0)
            goto done;
    }
    status = 0;
done:
    Py_XDECREF(x2d);
    Py_XDECREF(dx2d);
    return status;
}

int
pc_grad_dense(pc_node *node, PyArrayObject *dout)
{
    int act = node->args.dense.act;
    npy_intp N = PyArray_DIM(PC_DATA(node->parents[1]), 1);
    PyArrayObject *dz, *dz2d = NULL;
    int status = -1;

    dz = pc_dense_dz(node, dout, act, (PyArrayObject *)node->saved[0],
                     node->n_parents > 2 ? 2 : -1, N);
    if (dz != NULL && (dz2d = pc_matrix_view(dz, N)) != NULL)
        status = dense_gemms(node, dz2d);
    Py_XDECREF(dz);
    Py_XDECREF(dz2d);
    return status;
}
