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

typedef struct {
    const pc_window2d *g;
    PyArrayObject *x2d, *wm, *y, *dz, *dx2d, *dwm;
    int dx_add, dw_fresh;
} transpose_job;

/* y (zeros) += col2im(x_rows · Wmᵀ) for the images [n0, n1), cols: the workspace */
static int
transpose_chunk_forward(void *ctx, PyArrayObject *cols, npy_intp n0, npy_intp n1)
{
    const transpose_job *job = ctx;
    PyArrayObject *rows = pc_image_rows(job->x2d, job->g, n0, n1);
    int status = rows != NULL ? pc_matmul(rows, 0, job->wm, 1, cols, 0) : -1;

    if (status == 0)
        PC_DISPATCH_NOGIL(PyArray_SIZE(cols), PyArray_TYPE(cols), pc_col2im,
                          PyArray_DATA(cols), PyArray_DATA(job->y), job->g, n0, n1);
    Py_XDECREF(rows);
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

    transpose_job job = {.g = g};

    if ((y = pc_zeros_array(4, dims, PyArray_TYPE(xa))) == NULL ||
        (wm = pc_matrix_view(wa, C)) == NULL || (job.x2d = pc_matrix_view(xa, C)) == NULL)
        goto done;
    job.wm = wm, job.y = y;
    if (pc_conv_for_chunks(g, PyArray_DIM(wm, 0), PyArray_TYPE(xa), transpose_chunk_forward,
                           &job) < 0)
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
    Py_XDECREF(job.x2d);
    return result;
}

/* one chunk of images [n0, n1): work = im2col(dz); dx rows (+)= work · Wm;
 * dWm (+)= workᵀ · x rows */
static int
transpose_chunk_backward(void *ctx, PyArrayObject *work, npy_intp n0, npy_intp n1)
{
    const transpose_job *job = ctx;
    PyArrayObject *x_rows = pc_image_rows(job->x2d, job->g, n0, n1);
    PyArrayObject *dx_rows = job->dx2d != NULL ? pc_image_rows(job->dx2d, job->g, n0, n1)
                                               : NULL;
    int status = -1;

    if (x_rows != NULL && (job->dx2d == NULL || dx_rows != NULL)) {
        PC_DISPATCH_NOGIL(PyArray_SIZE(work), PyArray_TYPE(job->dz), pc_im2col,
                          PyArray_DATA(job->dz), PyArray_DATA(work), job->g, n0, n1);
        status = (dx_rows != NULL && pc_matmul(work, 0, job->wm, 0, dx_rows, job->dx_add) < 0) ||
                 (job->dwm != NULL && pc_matmul(work, 1, x_rows, 0, job->dwm,
                                                !(job->dw_fresh && n0 == 0)) < 0) ? -1 : 0;
    }
    Py_XDECREF(x_rows);
    Py_XDECREF(dx_rows);
    return status;
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
    PyArrayObject *dx, *dw, *wm = NULL;
    transpose_job job = {.g = g, .dz = dz};
    npy_intp C = PyArray_DIM(w, 3);
    int dx_fresh, dw_fresh, status = -1;

    if (pc_grad_buffer_fresh(node, 0, &dx, &dx_fresh) < 0 ||
        pc_grad_buffer_fresh(node, 1, &dw, &dw_fresh) < 0)
        return -1;
    if (dx == NULL && dw == NULL)
        return 0;
    job.dx_add = !dx_fresh, job.dw_fresh = dw_fresh;
    if ((wm = job.wm = pc_matrix_view(w, C)) != NULL &&
        (job.x2d = pc_matrix_view(x, C)) != NULL &&
        (dw == NULL || (job.dwm = pc_matrix_view(dw, C)) != NULL) &&
        (dx == NULL || (job.dx2d = pc_matrix_view(dx, C)) != NULL))
        status = pc_conv_for_chunks(g, g->KH * g->KW * g->C, PyArray_TYPE(x),
                                    transpose_chunk_backward, &job);
    Py_XDECREF(wm);
    Py_XDECREF(job.x2d);
    Py_XDECREF(job.dwm);
    Py_XDECREF(job.dx2d);
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
