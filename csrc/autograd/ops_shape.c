/* autograd/ops_shape.c — backward of reshape/flatten, transpose and concat/stack.
 * Each gradient flows back through the same view the forward copied: reshape is
 * the identity on the flat buffer, transpose the same permuted strides, concat/stack
 * the slab of each input. (Indexing: ops_index.c.)
 */
#include "autograd/ops_shape.h"

#include "autograd/ops_elementwise.h"

void
pc_transpose_iter(pc_iter *it, int ndim, const npy_intp *x_shape, const npy_intp *perm,
                  int x_slot, int y_slot)
{
    pc_index xs[PC_MAX_NDIM];

    pc_contiguous_strides(ndim, x_shape, NULL, xs);
    it->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        it->shape[d] = x_shape[perm[d]];
        for (int k = 0; k < PC_ITER_OPS; k++)
            it->stride[k][d] = 0;
        it->stride[x_slot][d] = xs[perm[d]];
    }
    pc_contiguous_strides(ndim, it->shape, NULL, it->stride[y_slot]);
    pc_iter_coalesce(it);
}

void
pc_concat_blocks(PyArrayObject *x, int axis, pc_index *A, pc_index *lx)
{
    *A = 1;
    *lx = 1;
    for (int d = 0; d < PyArray_NDIM(x); d++) {
        if (d < axis)
            *A *= PyArray_DIM(x, d);
        else
            *lx *= PyArray_DIM(x, d);
    }
}

/* y = x with the given dims, sharing x's contiguous buffer (see ops_shape.h) */
PyObject *
pc_reshape_to(pc_op op, PyObject *x, int ndim, npy_intp *dims)
{
    PyArray_Dims newshape = {dims, ndim};
    PyArrayObject *y = (PyArrayObject *)PyArray_Newshape(PC_DATA(x), &newshape, NPY_CORDER);
    PyObject *result;

    if (y == NULL)
        return NULL;
    result = pc_record(op, y, 1, &x, NULL, 0, NULL);
    Py_DECREF(y);
    return result;
}

/* y = x with another shape, same flat buffer  ->  dx += dy, element by element */
int
pc_grad_reshape(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *dx;
    npy_intp n = PyArray_SIZE(dout);

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(n, PyArray_TYPE(dx), pc_block_accumulate, PyArray_DATA(dout),
                      PyArray_DATA(dx), 1, n, n, 0);
    return 0;
}

PyObject *
pc_transpose(PyObject *x, PyArrayObject *perm)
{
    PyArrayObject *xa = PC_DATA(x), *y;
    int ndim = PyArray_NDIM(xa);
    npy_intp shape[PC_MAX_NDIM];
    PyObject *result;
    pc_iter it;

    for (int d = 0; d < ndim; d++)
        shape[d] = PyArray_DIM(xa, ((npy_intp *)PyArray_DATA(perm))[d]);
    if ((y = pc_new_array(ndim, shape, PyArray_TYPE(xa))) == NULL)
        return NULL;
    pc_transpose_iter(&it, ndim, PyArray_SHAPE(xa), PyArray_DATA(perm), 0, 3);
    PC_DISPATCH_ROWS_NOGIL(PyArray_SIZE(xa), PyArray_TYPE(xa), pc_strided_loop, pc_copy_rows, &it,
                           PyArray_DATA(xa), NULL, NULL, PyArray_DATA(y));
    {
        PyObject *saved = (PyObject *)perm;
        result = pc_record(PC_OP_TRANSPOSE, y, 1, &x, NULL, 1, &saved);
    }
    Py_DECREF(y);
    return result;
}

/* y = x.transpose(perm); saved[0] = perm (NPY_INTP)  ->  dx += dy through the same
 * permuted strides (a permutation touches each element once, so += is exact) */
int
pc_grad_transpose(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *perm = (PyArrayObject *)node->saved[0], *dx;
    pc_iter it;

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    pc_transpose_iter(&it, PyArray_NDIM(x), PyArray_SHAPE(x), PyArray_DATA(perm), 3, 0);
    PC_DISPATCH_ROWS_NOGIL(PyArray_SIZE(x), PyArray_TYPE(x), pc_strided_loop, pc_accumulate, &it,
                           PyArray_DATA(dout), NULL, NULL, PyArray_DATA(dx));
    return 0;
}

PyObject *
pc_join(pc_op op, PyObject *const *ts, int n, int axis, int ndim, const npy_intp *shape)
{
    PyArrayObject *y;
    pc_index A, lx, ly, off = 0;
    pc_op_args args = {.join = {axis}};
    PyObject *result;

    if ((y = pc_new_array(ndim, shape, PyArray_TYPE(PC_DATA(ts[0])))) == NULL)
        return NULL;
    pc_concat_blocks(y, axis, &A, &ly);
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(y) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    for (int i = 0; i < n; i++) {
        PyArrayObject *x = PC_DATA(ts[i]);
        pc_concat_blocks(x, axis, &A, &lx);
        PC_DISPATCH(PyArray_TYPE(y), pc_block_copy, PyArray_DATA(x), PyArray_DATA(y), A, lx,
                    ly, off);
        off += lx;
    }
    NPY_END_THREADS;
    result = pc_record(op, y, n, ts, &args, 0, NULL);
    Py_DECREF(y);
    return result;
}

/* y = concat(x_0, x_1, ...) along args.join.axis (stack: along a new axis there)
 *   ->  dx_p += the slab of dy that x_p was copied into */
int
pc_grad_concat(pc_node *node, PyArrayObject *dout)
{
    int axis = (int)node->args.join.axis;
    pc_index A, ly, lx, off = 0;

    pc_concat_blocks(dout, axis, &A, &ly);
    for (int p = 0; p < node->n_parents; p++) {
        PyArrayObject *x = PC_DATA(node->parents[p]), *dx;
        pc_concat_blocks(x, axis, &A, &lx);
        if (pc_grad_buffer(node, p, &dx) < 0)
            return -1;
        if (dx != NULL) {
            PC_DISPATCH_NOGIL(A * lx, PyArray_TYPE(dx), pc_block_accumulate, PyArray_DATA(dout),
                              PyArray_DATA(dx), A, lx, ly, off);
        }
        off += lx;
    }
    return 0;
}
