/* autograd/ops_augment.c — augmentation transforms and bilinear resizing
 * (kernels/augment.h): each recorder right above its backward. x is parent 0.
 *
 *   affine_transform  saved[0] = t (N, 6) float64; args.affine_transform =
 *                     {interpolation, fill_mode, fill_value}
 *   resize_bilinear   args.resize = {OH, OW}, y's height and width
 *   contrast          saved[0] = mean (N, C), saved[1] = f (N,) float64; args.contrast = {lo, hi}
 */
#include "autograd/ops_augment.h"


static pc_affine
affine_of(PyArrayObject *x, PyArrayObject *t, int interpolation, int fill_mode, double fill)
{
    return (pc_affine){.N = PyArray_DIM(x, 0), .H = PyArray_DIM(x, 1), .W = PyArray_DIM(x, 2),
                       .C = PyArray_DIM(x, 3), .interpolation = interpolation,
                       .fill_mode = fill_mode, .fill_value = fill, .t = PyArray_DATA(t)};
}

PyObject *
pc_affine_transform(PyObject *x, PyArrayObject *t, int interpolation, int fill_mode,
                    double fill_value)
{
    PyArrayObject *xa = PC_DATA(x), *y;
    pc_affine g = affine_of(xa, t, interpolation, fill_mode, fill_value);
    pc_op_args args = {.affine_transform = {interpolation, fill_mode, fill_value}};
    PyObject *saved = (PyObject *)t, *result;

    if ((y = pc_new_array(4, PyArray_SHAPE(xa), PyArray_TYPE(xa))) == NULL)
        return NULL;
    PC_DISPATCH_NOGIL(PyArray_SIZE(xa), PyArray_TYPE(xa), pc_affine_transform_forward,
                      PyArray_DATA(xa), PyArray_DATA(y), &g);
    result = pc_record(PC_OP_AFFINE_TRANSFORM, y, 1, &x, &args, 1, &saved);
    Py_DECREF(y);
    return result;
}

int
pc_grad_affine_transform(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *dx;
    pc_affine g = affine_of(PC_DATA(node->parents[0]), (PyArrayObject *)node->saved[0],
                            node->args.affine_transform.interpolation,
                            node->args.affine_transform.fill_mode,
                            node->args.affine_transform.fill_value);

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_affine_transform_backward,
                      PyArray_DATA(dout), PyArray_DATA(dx), &g);
    return 0;
}

PyObject *
pc_resize_bilinear(PyObject *x, pc_index OH, pc_index OW)
{
    PyArrayObject *xa = PC_DATA(x), *y;
    npy_intp dims[4] = {PyArray_DIM(xa, 0), OH, OW, PyArray_DIM(xa, 3)};
    PyObject *result;

    if ((y = pc_new_array(4, dims, PyArray_TYPE(xa))) == NULL)
        return NULL;
    PC_DISPATCH_NOGIL(PyArray_SIZE(y), PyArray_TYPE(xa), pc_resize_bilinear_forward,
                      PyArray_DATA(xa), PyArray_DATA(y), dims[0], PyArray_DIM(xa, 1),
                      PyArray_DIM(xa, 2), dims[3], OH, OW);
    {
        pc_op_args args = {.resize = {OH, OW}};
        result = pc_record(PC_OP_RESIZE_BILINEAR, y, 1, &x, &args, 0, NULL);
    }
    Py_DECREF(y);
    return result;
}

int
pc_grad_resize_bilinear(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *dx;
    int fresh;

    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &fresh) < 0)     /* fresh: not zeroed */
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_resize_bilinear_backward,
                      PyArray_DATA(dout), PyArray_DATA(dx), PyArray_DIM(x, 0), PyArray_DIM(x, 1),
                      PyArray_DIM(x, 2), PyArray_DIM(x, 3), PyArray_DIM(dout, 1),
                      PyArray_DIM(dout, 2), fresh);
    return 0;
}

PyObject *
pc_contrast(PyObject *x, PyArrayObject *f, double lo, double hi)
{
    PyArrayObject *xa = PC_DATA(x), *y = NULL, *mean = NULL;
    npy_intp dims[2] = {PyArray_DIM(xa, 0), PyArray_DIM(xa, 3)};
    pc_op_args args = {.contrast = {lo, hi}};
    PyObject *result = NULL;

    if ((y = pc_new_array(4, PyArray_SHAPE(xa), PyArray_TYPE(xa))) == NULL ||
        (mean = pc_new_array(2, dims, PyArray_TYPE(xa))) == NULL)
        goto done;
    PC_DISPATCH_NOGIL(PyArray_SIZE(xa), PyArray_TYPE(xa), pc_contrast_forward, PyArray_DATA(xa),
                      PyArray_DATA(y), PyArray_DATA(mean), PyArray_DATA(f), dims[0],
                      PyArray_DIM(xa, 1) * PyArray_DIM(xa, 2), dims[1], lo, hi);
    {
        PyObject *saved[2] = {(PyObject *)mean, (PyObject *)f};
        result = pc_record(PC_OP_CONTRAST, y, 1, &x, &args, 2, saved);
    }
done:
    Py_XDECREF(y);
    Py_XDECREF(mean);
    return result;
}

int
pc_grad_contrast(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *dx;
    PyArrayObject *mean = (PyArrayObject *)node->saved[0], *f = (PyArrayObject *)node->saved[1];

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_contrast_backward,
                      PyArray_DATA(x), PyArray_DATA(dout), PyArray_DATA(mean), PyArray_DATA(f),
                      PyArray_DIM(x, 0), PyArray_DIM(x, 1) * PyArray_DIM(x, 2), PyArray_DIM(x, 3),
                      node->args.contrast.lo, node->args.contrast.hi, PyArray_DATA(dx));
    return 0;
}
