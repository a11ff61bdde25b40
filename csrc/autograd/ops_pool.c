/* autograd/ops_pool.c — pooling and upsampling, recorder above backward (kernels/pool.h).
 *
 *   max_pool2d   saved[0] = arg (int32, y's shape): where each maximum came from
 *   avg_pool2d   both: args.pool2d = {KH, KW, SH, SW, PT, PL, OH, OW, same}
 *   upsampling2d args.upsampling2d = {SH, SW}
 * x is parent 0 for all three; its shape gives N, H, W, C.
 */
#include "autograd/ops_layers.h"

#include "kernels/pool.h"

/* x's N, H, W, C with the window of args.pool2d */
static pc_window2d
window_of(pc_node *node)
{
    PyArrayObject *x = PC_DATA(node->parents[0]);
    const pc_op_args *a = &node->args;
    return (pc_window2d){.N = PyArray_DIM(x, 0), .H = PyArray_DIM(x, 1), .W = PyArray_DIM(x, 2),
                         .C = PyArray_DIM(x, 3), .KH = a->pool2d.kh, .KW = a->pool2d.kw,
                         .SH = a->pool2d.sh, .SW = a->pool2d.sw, .PT = a->pool2d.pt,
                         .PL = a->pool2d.pl, .OH = a->pool2d.oh, .OW = a->pool2d.ow};
}

PyObject *
pc_pool2d(PyObject *x, const pc_window2d *geometry, int same, int is_max)
{
    PyArrayObject *xa = PC_DATA(x), *y = NULL, *arg = NULL;
    PyObject *result = NULL, *saved = NULL;
    pc_window2d g = *geometry;

    {
        npy_intp dims[4] = {g.N, g.OH, g.OW, g.C};
        if ((y = pc_new_array(4, dims, PyArray_TYPE(xa))) == NULL ||
            (is_max && (arg = pc_new_array(4, dims, NPY_INT32)) == NULL))
            goto done;
    }
    if (is_max)
        PC_DISPATCH_NOGIL(PyArray_SIZE(xa), PyArray_TYPE(xa), pc_max_pool_forward,
                          PyArray_DATA(xa), PyArray_DATA(y), PyArray_DATA(arg), &g);
    else
        PC_DISPATCH_NOGIL(PyArray_SIZE(xa), PyArray_TYPE(xa), pc_avg_pool_forward,
                          PyArray_DATA(xa), PyArray_DATA(y), &g);
    saved = (PyObject *)arg;
    {
        pc_op_args args = {.pool2d = {g.KH, g.KW, g.SH, g.SW, g.PT, g.PL, g.OH, g.OW, same}};
        result = pc_record(is_max ? PC_OP_MAX_POOL2D : PC_OP_AVG_POOL2D, y, 1, &x, &args,
                           is_max, &saved);
    }
done:
    Py_XDECREF(y);
    Py_XDECREF(arg);
    return result;
}

int
pc_grad_max_pool2d(pc_node *node, PyArrayObject *dout)
{
    pc_window2d g = window_of(node);
    PyArrayObject *arg = (PyArrayObject *)node->saved[0], *dx;
    int fresh;

    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &fresh) < 0)  /* fresh: not zeroed */
        return -1;
    if (dx == NULL)
        return 0;
    if (fresh)
        PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_max_pool_backward_overwrite,
                          PyArray_DATA(dout), PyArray_DATA(arg), PyArray_DATA(dx), &g);
    else
        PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_max_pool_backward,
                          PyArray_DATA(dout), PyArray_DATA(arg), PyArray_DATA(dx), &g);
    return 0;
}

int
pc_grad_avg_pool2d(pc_node *node, PyArrayObject *dout)
{
    pc_window2d g = window_of(node);
    PyArrayObject *dx;

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_avg_pool_backward,
                      PyArray_DATA(dout), PyArray_DATA(dx), &g);
    return 0;
}

PyObject *
pc_upsampling2d(PyObject *x, const pc_window2d *geometry, const npy_intp dims[4])
{
    PyArrayObject *xa = PC_DATA(x), *y;
    pc_window2d g = *geometry;
    PyObject *result;

    if ((y = pc_new_array(4, dims, PyArray_TYPE(xa))) == NULL)
        return NULL;
    PC_DISPATCH_NOGIL(PyArray_SIZE(y), PyArray_TYPE(xa), pc_upsample_forward, PyArray_DATA(xa),
                      PyArray_DATA(y), &g);
    {
        pc_op_args a = {.upsampling2d = {g.SH, g.SW}};
        result = pc_record(PC_OP_UPSAMPLING2D, y, 1, &x, &a, 0, NULL);
    }
    Py_DECREF(y);
    return result;
}

int
pc_grad_upsampling2d(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]);
    pc_window2d g = {.N = PyArray_DIM(x, 0), .H = PyArray_DIM(x, 1), .W = PyArray_DIM(x, 2),
                     .C = PyArray_DIM(x, 3), .SH = node->args.upsampling2d.sh,
                     .SW = node->args.upsampling2d.sw};
    PyArrayObject *dx;
    int fresh;

    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &fresh) < 0)  /* fresh: not zeroed */
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_upsample_backward,
                      PyArray_DATA(dout), PyArray_DATA(dx), &g, fresh);
    return 0;
}
