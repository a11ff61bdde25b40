/* autograd/ops_conv_transpose.c — conv2d_transpose (Keras' Conv2DTranspose): the
 * recorder pc_conv2d_transpose and its backward pc_grad_conv2d_transpose.
 *
 * The transposed convolution is conv2d's input gradient as a forward pass: with g the
 * window geometry of a conv2d from y-space (g.H = OH, g.W = OW, g.C = F) to x-space
 * (g.OH = H, g.OW = W) and the kernel (KH, KW, F, C) viewed as Wm (K = KH·KW·F, C),
 *   conv2d_transpose  y = act(col2im(x · Wmᵀ) + b)   x (N, H, W, C) as (N·H·W, C),
 *                     y (N, OH, OW, F), b (F,)
 *   parents x, W[, b]; saved[0] = y when act ≠ linear; args.conv2d_transpose.
 * From dz = dy · act'(y) (N, OH, OW, F):
 *   db += Σ dz,   dx += im2col(dz) · Wm,   dWm += im2col(dz)ᵀ · x,
 * a chunk of images at a time (the patch matrix of one chunk is the workspace), with
 * the same im2col/col2im kernels and pc_matmul as conv2d: no GEMM code of its own.
 */
#include "autograd/ops_layers.h"

#include "kernels/conv.h"
#include "kernels/dense.h"

/* y (zeros) += col2im(x · Wmᵀ), chunk by chunk; g: the conv geometry from y to x */
static int
transpose_forward_gemms(const pc_window2d *g, PyArrayObject *x, PyArrayObject *wm,
                        PyArrayObject *y)
{
    npy_intp K = PyArray_DIM(wm, 0), per = g->OH * g->OW, chunk = pc_conv_chunk(g);
    npy_intp dims[2] = {chunk * per, K};
    PyArrayObject *work = NULL, *x2d = NULL;
    int status = -1;
    NPY_BEGIN_THREADS_DEF;

    if ((x2d = pc_matrix_view(x, PyArray_DIM(wm, 1))) == NULL ||
        (work = pc_new_array(2, dims, PyArray_TYPE(x))) == NULL)
        goto done;
    for (npy_intp n0 = 0; n0 < g->N; n0 += chunk) {
        npy_intp n1 = n0 + chunk < g->N ? n0 + chunk : g->N;
        PyArrayObject *cols = pc_row_slice(work, 0, (n1 - n0) * per);
        PyArrayObject *rows = pc_row_slice(x2d, n0 * per, n1 * per);
        int bad = cols == NULL || rows == NULL || pc_matmul(rows, 0, wm, 1, cols, 0) < 0;
        if (!bad) {
            NPY_BEGIN_THREADS;
            PC_DISPATCH(PyArray_TYPE(x), pc_col2im, PyArray_DATA(cols), PyArray_DATA(y), g, n0,
                        n1);
            NPY_END_THREADS;
        }
        bad = bad || PyErr_CheckSignals() < 0;        /* Ctrl-C between chunks */
        Py_XDECREF(cols);
        Py_XDECREF(rows);
        if (bad)
            goto done;
    }
    status = 0;
done:
    Py_XDECREF(work);
    Py_XDECREF(x2d);
    return status;
}

PyObject *
pc_conv2d_transpose(PyObject *x, PyObject *w, PyObject *b, const pc_window2d *g,
                    const pc_op_args *args)
{
    PyArrayObject *xa = PC_DATA(x), *wa = PC_DATA(w), *y = NULL, *wm = NULL;
    PyObject *result = NULL;
    npy_intp F = PyArray_DIM(wa, 2), C = PyArray_DIM(wa, 3);
    int act = args->conv2d_transpose.act;
    npy_intp dims[4] = {g->N, g->H, g->W, F};

    if ((y = pc_zeros_array(4, dims, PyArray_TYPE(xa))) == NULL ||
        (wm = pc_matrix_view(wa, C)) == NULL || transpose_forward_gemms(g, xa, wm, y) < 0)
        goto done;
    pc_dense_epilogue(y, b != NULL ? PC_DATA(b) : NULL, F, act);
    {
        PyObject *parents[3] = {x, w, b};
        PyObject *saved[1] = {act != PC_ACT_LINEAR ? (PyObject *)y : NULL};
        result = pc_record(PC_OP_CONV2D_TRANSPOSE, y, b != NULL ? 3 : 2, parents, args, 1,
                           saved);
    }
done:
    Py_XDECREF(y);
    Py_XDECREF(wm);
    return result;
}

/* one chunk of images [n0, n1): work = im2col(dz); dx_rows (+)= work · Wm;
 * dWm (+)= workᵀ · x_rows */
static int
transpose_chunk_backward(const pc_window2d *g, PyArrayObject *dz, PyArrayObject *wm,
                         PyArrayObject *work, PyArrayObject *x_rows, PyArrayObject *dx_rows,
                         int dx_add, PyArrayObject *dwm, int dw_add, npy_intp n0, npy_intp n1)
{
    NPY_BEGIN_THREADS_DEF;
    NPY_BEGIN_THREADS;
    PC_DISPATCH(PyArray_TYPE(dz), pc_im2col, PyArray_DATA(dz), PyArray_DATA(work), g, n0, n1);
    NPY_END_THREADS;
    if (dx_rows != NULL && pc_matmul(work, 0, wm, 0, dx_rows, dx_add) < 0)
        return -1;
    if (dwm != NULL && pc_matmul(work, 1, x_rows, 0, dwm, dw_add) < 0)
        return -1;
    return 0;
}

static void
transpose_geometry_of(const pc_node *node, pc_window2d *g)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *w = PC_DATA(node->parents[1]);
    const pc_op_args *a = &node->args;
    *g = (pc_window2d){
        .N = PyArray_DIM(x, 0), .H = a->conv2d_transpose.oh, .W = a->conv2d_transpose.ow,
        .C = PyArray_DIM(w, 2), .KH = PyArray_DIM(w, 0), .KW = PyArray_DIM(w, 1),
        .SH = a->conv2d_transpose.sh, .SW = a->conv2d_transpose.sw,
        .PT = a->conv2d_transpose.pt, .PL = a->conv2d_transpose.pl,
        .OH = PyArray_DIM(x, 1), .OW = PyArray_DIM(x, 2)};
}

/* dx, dW from dz (C-contiguous, (N, OH, OW, F)), chunk by chunk */
static int
transpose_weights_input_backward(const pc_window2d *g, pc_node *node, PyArrayObject *dz)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *w = PC_DATA(node->parents[1]);
    PyArrayObject *dx, *dw, *wm = NULL, *dwm = NULL, *work = NULL, *x2d = NULL, *dx2d = NULL;
    npy_intp C = PyArray_DIM(w, 3), K = g->KH * g->KW * g->C, per = g->OH * g->OW;
    npy_intp chunk = pc_conv_chunk(g), dims[2] = {chunk * per, K};
    int dx_fresh, dw_fresh, status = -1;

    if (pc_grad_buffer_fresh(node, 0, &dx, &dx_fresh) < 0 ||
        pc_grad_buffer_fresh(node, 1, &dw, &dw_fresh) < 0)
        return -1;
    if (dx == NULL && dw == NULL)
        return 0;
    if ((wm = pc_matrix_view(w, C)) == NULL || (x2d = pc_matrix_view(x, C)) == NULL ||
        (dw != NULL && (dwm = pc_matrix_view(dw, C)) == NULL) ||
        (dx != NULL && (dx2d = pc_matrix_view(dx, C)) == NULL) ||
        (work = pc_new_array(2, dims, PyArray_TYPE(x))) == NULL)
        goto done;
    for (npy_intp n0 = 0; n0 < g->N; n0 += chunk) {
        npy_intp n1 = n0 + chunk < g->N ? n0 + chunk : g->N, r = (n1 - n0) * per;
        PyArrayObject *cols = pc_row_slice(work, 0, r);
        PyArrayObject *x_rows = pc_row_slice(x2d, n0 * per, n1 * per);
        PyArrayObject *dx_rows = dx2d != NULL ? pc_row_slice(dx2d, n0 * per, n1 * per) : NULL;
        int bad = cols == NULL || x_rows == NULL || (dx2d != NULL && dx_rows == NULL) ||
                  transpose_chunk_backward(g, dz, wm, cols, x_rows, dx_rows, !dx_fresh, dwm,
                                           !(dw_fresh && n0 == 0), n0, n1) < 0 ||
                  PyErr_CheckSignals() < 0;           /* Ctrl-C between chunks */
        Py_XDECREF(cols);
        Py_XDECREF(x_rows);
        Py_XDECREF(dx_rows);
        if (bad)
            goto done;
    }
    status = 0;
done:
    Py_XDECREF(wm);
    Py_XDECREF(dwm);
    Py_XDECREF(work);
    Py_XDECREF(x2d);
    Py_XDECREF(dx2d);
    return status;
}

int
pc_grad_conv2d_transpose(pc_node *node, PyArrayObject *dout)
{
    pc_window2d g;
    npy_intp F = PyArray_DIM(PC_DATA(node->parents[1]), 2);
    PyArrayObject *dz, *dzc = NULL;
    int status = -1;

    transpose_geometry_of(node, &g);
    dz = pc_dense_dz(node, dout, node->args.conv2d_transpose.act,
                     (PyArrayObject *)node->saved[0], node->n_parents > 2 ? 2 : -1, F);
    if (dz != NULL && (dzc = (PyArrayObject *)PyArray_GETCONTIGUOUS(dz)) != NULL)
        status = transpose_weights_input_backward(&g, node, dzc);
    Py_XDECREF(dz);
    Py_XDECREF(dzc);
    return status;
}
