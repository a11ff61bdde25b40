/* autograd/ops_conv_depthwise.c — depthwise_conv2d (Keras' DepthwiseConv2D) and conv2d
 * with groups > 1, forward and backward.
 *
 *   depthwise_conv2d  y = act(depthwise(x, W) + b)    x (N, H, W, C), W (KH, KW, C, M),
 *                     y (N, OH, OW, C·M), channel o = c·M + m; b (C·M,)
 *   parents x, W[, b]; saved[0] = y when act ≠ linear; args.conv2d as conv2d's.
 *
 * conv2d with G groups (W (KH, KW, C/G, F), filters [j·F/G, (j+1)·F/G) see channels
 * [j·C/G, (j+1)·C/G)): with C/G = 1 its kernel IS a depthwise kernel with M = F/C (the
 * same memory), so it runs the depthwise kernels above; when a group's geometry takes
 * Winograd, all groups go through it in one pass (ops_conv.c, ops_conv_winograd.c: the
 * transforms over all channels, the products strided GEMMs on each group's columns);
 * otherwise each group's channels,
 * filters and output gradient are copied out (kernels/conv_depthwise.h column copies)
 * and go through the route an ordinary conv2d of that group's geometry takes (Winograd,
 * direct or im2col + GEMM, each threaded inside); the groups run in order, so results
 * do not depend on the thread count.
 *
 * From dz = dy · act'(y):  db += Σ dz;  dx, dW by the depthwise kernel or, per group,
 *   dW_j, dx_j by the group's route (im2col: colsᵀ·dz_j and col2im(dz_j·W_jᵀ))
 */
#include "autograd/ops_layers.h"

#include <string.h>

#include "kernels/conv_depthwise.h"
#include "kernels/conv_direct.h"
#include "kernels/dense.h"

/* y = act(depthwise(x, w) + b), M = y's channels / x's, GIL released */
static void
depthwise_forward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *w, PyArrayObject *b,
                  int act, PyArrayObject *y, npy_intp M)
{
    PC_DISPATCH_NOGIL(PyArray_SIZE(y), PyArray_TYPE(x), pc_conv_depthwise_forward,
                      PyArray_DATA(x), PyArray_DATA(w), b != NULL ? PyArray_DATA(b) : NULL,
                      PyArray_DATA(y), g, M, act);
}

PyObject *
pc_depthwise_conv2d(PyObject *x, PyObject *w, PyObject *b, const pc_window2d *g, int same,
                    int act)
{
    PyArrayObject *wa = PC_DATA(w), *y = NULL;
    PyObject *result = NULL;
    npy_intp M = PyArray_DIM(wa, 3), dims[4] = {g->N, g->OH, g->OW, g->C * M};

    if ((y = pc_new_array(4, dims, PyArray_TYPE(wa))) == NULL)
        return NULL;
    depthwise_forward(g, PC_DATA(x), wa, b != NULL ? PC_DATA(b) : NULL, act, y, M);
    {
        PyObject *parents[3] = {x, w, b};
        PyObject *saved[1] = {act != PC_ACT_LINEAR ? (PyObject *)y : NULL};
        pc_op_args args = {.conv2d = {g->SH, g->SW, g->PT, g->PL, g->OH, g->OW, act, same,
                                      g->GH, g->GW, 1}};
        result = pc_record(PC_OP_DEPTHWISE_CONV2D, y, b != NULL ? 3 : 2, parents, &args, 1,
                           saved);
    }
    Py_DECREF(y);
    return result;
}

/* dz = dy · act'(y) of a conv2d or depthwise node with F output channels, C-contiguous,
 * and db += Σ dz when the node has a bias (new ref, or NULL with an exception) */
static PyArrayObject *
contiguous_dz(pc_node *node, PyArrayObject *dout, npy_intp F)
{
    PyArrayObject *dz = pc_dense_dz(node, dout, node->args.conv2d.act,
                                    (PyArrayObject *)node->saved[0],
                                    node->n_parents > 2 ? 2 : -1, F);
    PyArrayObject *dzc = dz != NULL ? (PyArrayObject *)PyArray_GETCONTIGUOUS(dz) : NULL;
    Py_XDECREF(dz);
    return dzc;
}

/* The backward of a depthwise node, or of a conv2d node with C/G = 1: dz (with db),
 * then dx and dW in one pass of the kernel. M = dout's channels / x's (a conv2d
 * node's F/C) */
int
pc_grad_depthwise_conv2d(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *w = PC_DATA(node->parents[1]);
    npy_intp M = PyArray_DIM(dout, 3) / PyArray_DIM(x, 3), size;
    PyArrayObject *dz = contiguous_dz(node, dout, PyArray_DIM(dout, 3)), *acc = NULL, *dx, *dw;
    int status = -1;
    pc_window2d g;

    pc_conv_node_geometry(node, &g);
    size = pc_conv_depthwise_workspace(&g, M);

    if (dz == NULL || pc_grad_buffer(node, 0, &dx) < 0 || pc_grad_buffer(node, 1, &dw) < 0 ||
        (dw != NULL && (acc = pc_new_array(1, &size, NPY_FLOAT64)) == NULL))
        goto done;
    if (dx != NULL || dw != NULL)
        PC_DISPATCH_NOGIL(PyArray_SIZE(dz), PyArray_TYPE(x), pc_conv_depthwise_backward,
                          PyArray_DATA(x), PyArray_DATA(w), PyArray_DATA(dz),
                          dx != NULL ? PyArray_DATA(dx) : NULL,
                          dw != NULL ? PyArray_DATA(dw) : NULL, &g, M,
                          acc != NULL ? (double *)PyArray_DATA(acc) : NULL);
    status = 0;
done:
    Py_XDECREF(dz);
    Py_XDECREF(acc);
    return status;
}

/* A C-contiguous copy of columns [off, off + width) of a, seen as (rows, ld), with the
 * given shape (new ref) */
static PyArrayObject *
columns_of(PyArrayObject *a, npy_intp ld, npy_intp off, npy_intp width, int nd,
           const npy_intp *shape)
{
    PyArrayObject *out = pc_new_array(nd, shape, PyArray_TYPE(a));
    if (out != NULL)
        pc_columns_gather(PyArray_DATA(a), PyArray_DATA(out), PyArray_SIZE(a) / ld, ld, off,
                          width, (size_t)PyArray_ITEMSIZE(a));
    return out;
}

/* y[..., j·Fg : (j+1)·Fg] = x_j ⋆ W_j for group j, gg: the geometry of one group */
static int
group_forward(const pc_window2d *gg, npy_intp j, PyArrayObject *x, PyArrayObject *w,
              PyArrayObject *y, npy_intp F, npy_intp Fg)
{
    const pc_window2d *g = gg;
    npy_intp C = PyArray_DIM(x, 3), xs[4] = {g->N, g->H, g->W, g->C};
    npy_intp ws[4] = {g->KH, g->KW, g->C, Fg}, ys[4] = {g->N, g->OH, g->OW, Fg};
    PyArrayObject *xg = columns_of(x, C, j * g->C, g->C, 4, xs);
    PyArrayObject *wg = xg != NULL ? columns_of(w, F, j * Fg, Fg, 4, ws) : NULL;
    PyArrayObject *yg = wg != NULL ? pc_new_array(4, ys, PyArray_TYPE(x)) : NULL;
    int status = -1;

    /* by the route an ordinary conv2d of the group's geometry takes; bias and
     * activation come once, over all of y */
    if (yg != NULL &&
        pc_conv_route_forward(gg, xg, wg, NULL, PC_ACT_LINEAR, yg, NULL, NULL, NULL) == 0) {
        pc_columns_scatter(PyArray_DATA(yg), PyArray_DATA(y), PyArray_SIZE(yg) / Fg, F, j * Fg,
                           Fg, (size_t)PyArray_ITEMSIZE(y));
        status = 0;
    }
    Py_XDECREF(xg);
    Py_XDECREF(wg);
    Py_XDECREF(yg);
    return status;
}

int
pc_conv_grouped_forward(const pc_window2d *g, npy_intp groups, PyArrayObject *x,
                        PyArrayObject *w, PyArrayObject *b, int act, PyArrayObject *y)
{
    npy_intp F = PyArray_DIM(w, 3), Cg = g->C / groups;
    pc_window2d gg = *g;

    if (Cg == 1) {
        depthwise_forward(g, x, w, b, act, y, F / g->C);
        return 0;
    }
    gg.C = Cg;
    for (npy_intp j = 0; j < groups; j++)
        if (group_forward(&gg, j, x, w, y, F, F / groups) < 0 || PyErr_CheckSignals() < 0)
            return -1;
    pc_dense_epilogue(y, b, F, act);
    return 0;
}

/* dx_j (+)= and dW_j = the gradients of one group from dz_j, by the forward's route:
 * Winograd, the direct kernel, or im2col + GEMM                         dwg overwritten */
static int
group_route_backward(const pc_window2d *gg, PyArrayObject *xg, PyArrayObject *wg,
                     PyArrayObject *dzg, PyArrayObject *dxg, PyArrayObject *dwg, npy_intp Fg)
{
    PyArrayObject *wm = NULL, *dz2d = NULL, *dwm = NULL, *acc = NULL;
    npy_intp size = pc_conv_direct_workspace(gg, Fg);
    int route = pc_conv_route(gg, Fg), status = -1;
    NPY_BEGIN_THREADS_DEF;

    if (route == PC_ROUTE_WINOGRAD)
        return pc_conv_winograd_backward(gg, xg, wg, dzg, NULL, PC_ACT_LINEAR, dxg, dwg, 1,
                                         NULL, NULL, NULL);
    if (route == PC_ROUTE_DIRECT) {                 /* dwg: zeros, the kernel adds */
        if (dwg != NULL && (acc = pc_new_array(1, &size, NPY_FLOAT64)) == NULL)
            return -1;
        if (dwg != NULL)
            memset(PyArray_DATA(dwg), 0, (size_t)PyArray_NBYTES(dwg));
        NPY_BEGIN_THREADS;
        PC_DISPATCH(PyArray_TYPE(xg), pc_conv_direct_backward, PyArray_DATA(xg),
                    PyArray_DATA(wg), NULL, PyArray_DATA(dzg),
                    dxg != NULL ? PyArray_DATA(dxg) : NULL,
                    dwg != NULL ? PyArray_DATA(dwg) : NULL, NULL, gg, Fg, PC_ACT_LINEAR,
                    acc != NULL ? (double *)PyArray_DATA(acc) : NULL);
        NPY_END_THREADS;
        Py_XDECREF(acc);
        return 0;
    }
    if ((wm = pc_matrix_view(wg, Fg)) != NULL && (dz2d = pc_matrix_view(dzg, Fg)) != NULL &&
        (dwg == NULL || (dwm = pc_matrix_view(dwg, Fg)) != NULL))
        status = pc_conv_gemm_backward(gg, xg, wm, dz2d, dxg, 0, dwm, 1);
    Py_XDECREF(wm);
    Py_XDECREF(dz2d);
    Py_XDECREF(dwm);
    return status;
}

/* group j's dx_j and dW_j from dz (N, OH, OW, F), added into the slices of dx and dw */
static int
group_backward(const pc_window2d *gg, npy_intp j, PyArrayObject *x, PyArrayObject *w,
               PyArrayObject *dz, PyArrayObject *dx, PyArrayObject *dw, npy_intp F,
               npy_intp Fg)
{
    const pc_window2d *g = gg;
    npy_intp C = PyArray_DIM(x, 3), xs[4] = {g->N, g->H, g->W, g->C};
    npy_intp ws[4] = {g->KH, g->KW, g->C, Fg}, zs[4] = {g->N, g->OH, g->OW, Fg};
    PyArrayObject *wg = NULL, *dzg = NULL, *xg = NULL, *dxg = NULL, *dwg = NULL;
    int status = -1, type = PyArray_TYPE(x);

    if ((wg = columns_of(w, F, j * Fg, Fg, 4, ws)) == NULL ||
        (dzg = columns_of(dz, F, j * Fg, Fg, 4, zs)) == NULL ||
        (xg = columns_of(x, C, j * g->C, g->C, 4, xs)) == NULL ||
        (dx != NULL && (dxg = pc_zeros_array(4, xs, type)) == NULL) ||
        (dw != NULL && (dwg = pc_new_array(4, ws, type)) == NULL) ||
        group_route_backward(gg, xg, wg, dzg, dxg, dwg, Fg) < 0)
        goto done;
    if (dxg != NULL)
        PC_DISPATCH(type, pc_columns_scatter_add, PyArray_DATA(dxg), PyArray_DATA(dx),
                    PyArray_SIZE(dx) / C, C, j * g->C, g->C);
    if (dwg != NULL)
        PC_DISPATCH(type, pc_columns_scatter_add, PyArray_DATA(dwg), PyArray_DATA(dw),
                    PyArray_SIZE(dwg) / Fg, F, j * Fg, Fg);
    status = 0;
done:
    Py_XDECREF(wg);
    Py_XDECREF(dzg);
    Py_XDECREF(xg);
    Py_XDECREF(dxg);
    Py_XDECREF(dwg);
    return status;
}

int
pc_conv_grouped_backward(const pc_window2d *g, pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *w = PC_DATA(node->parents[1]);
    PyArrayObject *dz = NULL, *dx, *dw;
    npy_intp groups = node->args.conv2d.groups, F = PyArray_DIM(w, 3), Cg = g->C / groups;
    pc_window2d gg = *g;
    int status = -1;

    if (Cg == 1)
        return pc_grad_depthwise_conv2d(node, dout);
    if ((dz = contiguous_dz(node, dout, F)) == NULL || pc_grad_buffer(node, 0, &dx) < 0 ||
        pc_grad_buffer(node, 1, &dw) < 0)
        goto done;
    gg.C = Cg;
    for (npy_intp j = 0; j < groups && (dx != NULL || dw != NULL); j++)
        if (group_backward(&gg, j, x, w, dz, dx, dw, F, F / groups) < 0 ||
            PyErr_CheckSignals() < 0)
            goto done;
    status = 0;
done:
    Py_XDECREF(dz);
    return status;
}
