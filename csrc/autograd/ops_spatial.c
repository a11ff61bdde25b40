/* autograd/ops_spatial.c — whole-image pooling and zero padding / cropping
 * (kernels/spatial.h): each recorder right above its backward.
 *
 *   global_avg_pool2d  parent x (N, H, W, C); y (N, C) or (N, 1, 1, C)
 *   global_max_pool2d  the same; saved[0] = arg (N, C) intp: the pixel of each maximum
 *                      (both: args.global_pool2d = {keepdims})
 *   pad2d              args.pad2d = {PT, PB, PL, PR} (negative: cropped)
 */
#include "autograd/ops_spatial.h"


/* N, P = H·W, C of x (N, H, W, C) */
static void
image_sizes(PyArrayObject *x, pc_index *N, pc_index *P, pc_index *C)
{
    *N = PyArray_DIM(x, 0);
    *P = PyArray_DIM(x, 1) * PyArray_DIM(x, 2);
    *C = PyArray_DIM(x, 3);
}

PyObject *
pc_global_pool2d(PyObject *x, int is_max, int keepdims)
{
    PyArrayObject *xa = PC_DATA(x), *y = NULL, *arg = NULL;
    PyObject *result = NULL, *saved = NULL;
    pc_index N, P, C;

    image_sizes(xa, &N, &P, &C);
    {
        npy_intp dims[4] = {N, 1, 1, C}, flat[2] = {N, C};
        if ((y = keepdims ? pc_new_array(4, dims, PyArray_TYPE(xa))
                          : pc_new_array(2, flat, PyArray_TYPE(xa))) == NULL ||
            (is_max && (arg = pc_new_array(2, flat, NPY_INTP)) == NULL))
            goto done;
    }
    if (is_max)
        PC_DISPATCH_NOGIL(PyArray_SIZE(xa), PyArray_TYPE(xa), pc_global_max_pool_forward,
                          PyArray_DATA(xa), PyArray_DATA(y), PyArray_DATA(arg), N, P, C);
    else
        PC_DISPATCH_NOGIL(PyArray_SIZE(xa), PyArray_TYPE(xa), pc_global_avg_pool_forward,
                          PyArray_DATA(xa), PyArray_DATA(y), N, P, C);
    saved = (PyObject *)arg;
    {
        pc_op_args args = {.global_pool2d = {keepdims}};
        result = pc_record(is_max ? PC_OP_GLOBAL_MAX_POOL2D : PC_OP_GLOBAL_AVG_POOL2D, y, 1,
                           &x, &args, is_max, &saved);
    }
done:
    Py_XDECREF(y);
    Py_XDECREF(arg);
    return result;
}

/* dx of either global pool: avg spreads dy[n, c] / P over the image, max sends dy[n, c]
 * to its pixel (N·C updates into an existing gradient, not worth the GIL) */
static int
grad_global_pool2d(pc_node *node, PyArrayObject *dout, int is_max)
{
    PyArrayObject *dx, *arg = (PyArrayObject *)node->saved[0];
    pc_index N, P, C;
    int fresh;

    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &fresh) < 0)     /* fresh: not zeroed */
        return -1;
    if (dx == NULL)
        return 0;
    image_sizes(PC_DATA(node->parents[0]), &N, &P, &C);
    if (!is_max)
        PC_DISPATCH_NOGIL(PyArray_SIZE(dx), PyArray_TYPE(dout), pc_global_avg_pool_backward,
                          PyArray_DATA(dout), PyArray_DATA(dx), N, P, C, fresh);
    else if (fresh)         /* writes all of dx */
        PC_DISPATCH_NOGIL(PyArray_SIZE(dx), PyArray_TYPE(dout), pc_global_max_pool_backward,
                          PyArray_DATA(dout), PyArray_DATA(arg), PyArray_DATA(dx), N, P, C, 1);
    else
        PC_DISPATCH(PyArray_TYPE(dout), pc_global_max_pool_backward, PyArray_DATA(dout),
                    PyArray_DATA(arg), PyArray_DATA(dx), N, P, C, 0);
    return 0;
}

int
pc_grad_global_avg_pool2d(pc_node *node, PyArrayObject *dout)
{
    return grad_global_pool2d(node, dout, 0);
}

int
pc_grad_global_max_pool2d(pc_node *node, PyArrayObject *dout)
{
    return grad_global_pool2d(node, dout, 1);
}

PyObject *
pc_pad2d(PyObject *x, const pc_pad_geometry *g)
{
    PyArrayObject *xa = PC_DATA(x), *y;
    npy_intp dims[4] = {g->N, g->OH, g->OW, g->C};
    pc_op_args args = {.pad2d = {g->PT, g->PB, g->PL, g->PR}};
    PyObject *result;

    if ((y = pc_new_array(4, dims, PyArray_TYPE(xa))) == NULL)
        return NULL;
    PC_DISPATCH_NOGIL(PyArray_SIZE(y), PyArray_TYPE(xa), pc_pad2d_forward, PyArray_DATA(xa),
                      PyArray_DATA(y), g);
    result = pc_record(PC_OP_PAD2D, y, 1, &x, &args, 0, NULL);
    Py_DECREF(y);
    return result;
}

int
pc_grad_pad2d(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *dx;
    const pc_op_args *a = &node->args;
    pc_pad_geometry g = {.N = PyArray_DIM(x, 0), .H = PyArray_DIM(x, 1), .W = PyArray_DIM(x, 2),
                  .C = PyArray_DIM(x, 3), .PT = a->pad2d.pt, .PB = a->pad2d.pb,
                  .PL = a->pad2d.pl, .PR = a->pad2d.pr,
                  .OH = PyArray_DIM(dout, 1), .OW = PyArray_DIM(dout, 2)};
    int fresh;

    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &fresh) < 0)     /* fresh: not zeroed */
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(dx), PyArray_TYPE(dout), pc_pad2d_backward,
                      PyArray_DATA(dout), PyArray_DATA(dx), &g, fresh);
    return 0;
}
