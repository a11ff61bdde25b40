/* autograd/ops_reduce.c — sum, mean and max over a set of axes: the recorder pc_reduce
 * above the backwards.
 *
 * Node layout: parents[0] = x; args.reduce.mask = the axis mask (PC_AXIS_BIT),
 * .scale (1 for sum, 1/count for mean); max saves argmax (NPY_INTP, y's shape),
 * the flat index into x of the first maximal element of each output.
 */
#include "autograd/ops_reduce.h"

#include "autograd/ops_elementwise.h"

void
pc_reduce_iter(pc_iter *it, int ndim, const npy_intp *shape, pc_index mask)
{
    pc_index keep[PC_MAX_NDIM];         /* y's shape with kept dims: 1 on reduced axes */

    it->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        it->shape[d] = shape[d];
        keep[d] = (mask & PC_AXIS_BIT(d)) ? 1 : shape[d];
    }
    pc_contiguous_strides(ndim, it->shape, NULL, it->stride[0]);
    pc_contiguous_strides(ndim, keep, it->shape, it->stride[1]);  /* 0 on reduced axes */
    for (int k = 2; k < PC_ITER_OPS; k++)
        for (int d = 0; d < ndim; d++)
            it->stride[k][d] = 0;
    pc_iter_coalesce(it);
}

/* the kernel, with the GIL released over large inputs */
static void
run_reduce(pc_op op, PyArrayObject *x, PyArrayObject *y, PyArrayObject *argmax,
           pc_index mask, double scale)
{
    pc_iter it;
    pc_reduce_iter(&it, PyArray_NDIM(x), PyArray_SHAPE(x), mask);
    if (op == PC_OP_MAX)
        PC_DISPATCH_NOGIL(PyArray_SIZE(x), PyArray_TYPE(x), pc_max_forward, &it, PyArray_DATA(x),
                          PyArray_DATA(y), PyArray_DATA(argmax), PyArray_SIZE(y));
    else
        PC_DISPATCH_NOGIL(PyArray_SIZE(x), PyArray_TYPE(x), pc_sum_forward, &it, PyArray_DATA(x),
                          PyArray_DATA(y), PyArray_SIZE(y), scale);
}

PyObject *
pc_reduce(pc_op op, PyObject *x, pc_index mask, int keepdims, int ndim, const npy_intp *shape,
          npy_intp count)
{
    PyArrayObject *xa = PC_DATA(x), *y = NULL, *argmax = NULL;
    pc_op_args args = {.reduce = {mask, 1.0, keepdims}};
    PyObject *result = NULL;

    if ((y = pc_new_array(ndim, shape, PyArray_TYPE(xa))) == NULL)
        goto done;
    if (op == PC_OP_MAX && (argmax = pc_new_array(ndim, shape, NPY_INTP)) == NULL)
        goto done;
    if (op == PC_OP_MEAN)
        args.reduce.scale = count > 0 ? 1.0 / (double)count : Py_NAN;
    run_reduce(op, xa, y, argmax, mask, args.reduce.scale);
    {
        PyObject *saved = (PyObject *)argmax;
        result = pc_record(op, y, 1, &x, &args, argmax != NULL, &saved);
    }
done:
    Py_XDECREF(y);
    Py_XDECREF(argmax);
    return result;
}

/* y = scale · Σ_axes x  ->  dx += scale · dy, broadcast back over the reduced axes */
int
pc_grad_sum(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *dx;
    pc_iter it;

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    pc_reduce_iter(&it, PyArray_NDIM(x), PyArray_SHAPE(x), node->args.reduce.mask);
    PC_DISPATCH_NOGIL(PyArray_SIZE(x), PyArray_TYPE(x), pc_sum_backward, &it, PyArray_DATA(dout),
                      PyArray_DATA(dx), node->args.reduce.scale);
    return 0;
}

/* y = max_axes x  ->  dx[argmax] += dy: only the first maximal element gets gradient */
int
pc_grad_max(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *argmax = (PyArrayObject *)node->saved[0], *dx;

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH(PyArray_TYPE(dx), pc_max_backward, PyArray_DATA(argmax), PyArray_DATA(dout),
                PyArray_DATA(dx), PyArray_SIZE(dout));
    return 0;
}
