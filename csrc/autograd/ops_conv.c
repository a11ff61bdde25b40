/* autograd/ops_conv.c — conv2d: the recorder pc_conv2d, which picks the route (Winograd,
 * direct, im2col + GEMM) and runs its forward, and the backward of each route
 * (Winograd's transforms, forward and backward, are in ops_conv_winograd.c).
 *
 *   conv2d   y = act(cols(x) · Wm + b)    x (N, H, W, C), W (KH, KW, C, F) as
 *            Wm (K = KH·KW·C, F), y (N, OH, OW, F) as (N·OH·OW, F), b (F,)
 *   parents x, W[, b]; saved[0] = y when act ≠ linear, saved[1], saved[2] = the
 *   Winograd transforms V and U when the kernel wants a gradient (ops_conv_winograd.c),
 *   or saved[1] = the direct route's zero-padded x, for the same gradient;
 *   args.conv2d = {SH, SW, PT, PL, OH, OW, act, same}.
 *
 * From dz = dy · act'(y) (N·OH·OW, F):
 *   db += Σ_rows dz,   dWm += colsᵀ · dz,   dx += col2im(dz · Wmᵀ),
 * a chunk of images at a time, the patch matrix rebuilt from x (cheaper in memory
 * than keeping it from the forward pass, and im2col is a fraction of the GEMMs).
 * 3×3 stride-1 windows go through Winograd instead (ops_conv_winograd.c).
 */
#include "autograd/ops_layers.h"

#include "kernels/conv.h"
#include "kernels/conv_direct.h"
#include "kernels/dense.h"
#include "kernels/gemm.h"

PyArrayObject *
pc_row_slice(PyArrayObject *a, npy_intp r0, npy_intp r1)
{
    npy_intp dims[2] = {r1 - r0, PyArray_DIM(a, 1)};
    char *data = PyArray_BYTES(a) + r0 * PyArray_STRIDE(a, 0);
    PyArrayObject *v = (PyArrayObject *)PyArray_New(&PyArray_Type, 2, dims, PyArray_TYPE(a),
                                                    NULL, data, 0, NPY_ARRAY_CARRAY, NULL);
    if (v != NULL && PyArray_SetBaseObject(v, Py_NewRef(a)) < 0)
        Py_CLEAR(v);
    return v;
}

PyArrayObject *
pc_image_rows(PyArrayObject *a, const pc_window2d *g, npy_intp n0, npy_intp n1)
{
    return pc_row_slice(a, n0 * g->OH * g->OW, n1 * g->OH * g->OW);
}

npy_intp
pc_conv_chunk(const pc_window2d *g)
{
    npy_intp per_image = g->OH * g->OW * g->KH * g->KW * g->C;
    npy_intp k = per_image > 0 ? PC_CONV_CHUNK / per_image : g->N;
    k = k > g->N ? g->N : k;
    return k < 1 ? 1 : k;
}

int
pc_conv_is_pointwise(const pc_window2d *g)
{
    return g->KH == 1 && g->KW == 1 && g->SH == 1 && g->SW == 1 && g->PT == 0 && g->PL == 0;
}

int
pc_conv_for_chunks(const pc_window2d *g, npy_intp K, int typenum, pc_conv_chunk_fn fn,
                   void *ctx)
{
    npy_intp per = g->OH * g->OW, chunk = pc_conv_chunk(g), dims[2] = {chunk * per, K};
    PyArrayObject *work = pc_new_array(2, dims, typenum);
    int status = work != NULL ? 0 : -1;

    for (npy_intp n0 = 0; status == 0 && n0 < g->N; n0 += chunk) {
        npy_intp n1 = n0 + chunk < g->N ? n0 + chunk : g->N;
        PyArrayObject *rows = pc_row_slice(work, 0, (n1 - n0) * per);
        status = rows == NULL || fn(ctx, rows, n0, n1) < 0 || PyErr_CheckSignals() < 0 ? -1 : 0;
        Py_XDECREF(rows);
    }
    Py_XDECREF(work);
    return status;
}

typedef struct {
    const pc_window2d *g;
    PyArrayObject *x, *wm, *dz2d, *dx, *dwm, *y2d;
    int dw_fresh;
} conv_chunk_job;

/* y rows of images [n0, n1) = cols · Wm, cols = im2col(x) in work */
static int
conv_chunk_forward(void *ctx, PyArrayObject *cols, npy_intp n0, npy_intp n1)
{
    const conv_chunk_job *job = ctx;
    PyArrayObject *rows = pc_image_rows(job->y2d, job->g, n0, n1);
    int status = -1;

    if (rows != NULL) {
        PC_DISPATCH_NOGIL(PyArray_SIZE(cols), PyArray_TYPE(job->x), pc_im2col,
                          PyArray_DATA(job->x), PyArray_DATA(cols), job->g, n0, n1);
        status = pc_matmul(cols, 0, job->wm, 0, rows, 0);
    }
    Py_XDECREF(rows);
    return status;
}

/* cols(x) · Wm → y, chunk by chunk; the pointwise case is x itself */
int
pc_conv_gemm_forward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *wm,
                     PyArrayObject *y2d)
{
    conv_chunk_job job = {.g = g, .x = x, .wm = wm, .y2d = y2d};
    npy_intp K = PyArray_DIM(wm, 0);
    PyArrayObject *x2d;
    int status = -1;

    if (!pc_conv_is_pointwise(g))
        return pc_conv_for_chunks(g, K, PyArray_TYPE(x), conv_chunk_forward, &job);
    if ((x2d = pc_matrix_view(x, K)) != NULL)
        status = pc_matmul(x2d, 0, wm, 0, y2d, 0);
    Py_XDECREF(x2d);
    return status;
}

int
pc_conv_route_forward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *w,
                      PyArrayObject *b, int act, PyArrayObject *y, PyArrayObject **v,
                      PyArrayObject **u, PyArrayObject **xp_kept)
{
    npy_intp F = PyArray_DIM(w, 3);
    PyArrayObject *xp = NULL, *y2d = NULL, *wm = NULL;
    pc_window2d gp;
    int route = pc_conv_route(g, F), status = -1;
    NPY_BEGIN_THREADS_DEF;

    if (route == PC_ROUTE_WINOGRAD)
        return pc_conv_winograd_forward(g, x, w, b, act, y, v, u);
    if (route == PC_ROUTE_DIRECT) {             /* bias and activation included */
        /* over a padded copy of x (1/F of y's size) every window lies inside; the
         * kernel gradient reads the same copy */
        if (pc_conv_direct_padded(g, &gp)) {
            npy_intp dims[4] = {g->N, gp.H, gp.W, g->C};
            if ((xp = pc_new_array(4, dims, PyArray_TYPE(x))) == NULL)
                return -1;
        }
        NPY_BEGIN_THREADS;
        if (xp != NULL)
            pc_conv_direct_pad(PyArray_DATA(x), PyArray_DATA(xp), g, &gp,
                               (size_t)PyArray_ITEMSIZE(x));
        PC_DISPATCH(PyArray_TYPE(x), pc_conv_direct_forward, PyArray_DATA(xp != NULL ? xp : x),
                    PyArray_DATA(w), b != NULL ? PyArray_DATA(b) : NULL, PyArray_DATA(y),
                    xp != NULL ? &gp : g, F, act);
        NPY_END_THREADS;
        if (xp_kept != NULL)
            *xp_kept = xp;
        else
            Py_XDECREF(xp);
        return 0;
    }
    if ((y2d = pc_matrix_view(y, F)) != NULL && (wm = pc_matrix_view(w, F)) != NULL &&
        pc_conv_gemm_forward(g, x, wm, y2d) == 0) {
        pc_dense_epilogue(y, b, F, act);
        status = 0;
    }
    Py_XDECREF(y2d);
    Py_XDECREF(wm);
    return status;
}

/* Whether a conv2d with groups > 1 runs as one Winograd pass over all its groups: when
 * a group's own geometry takes Winograd and NumPy's CBLAS is there for the strided
 * products (ops_conv_winograd.c); else group by group (ops_conv_depthwise.c). The
 * geometry alone decides, so the forward and the backward agree. */
static int
grouped_winograd(const pc_window2d *g, npy_intp groups, npy_intp F)
{
    pc_window2d gg = *g;
    gg.C = g->C / groups;
    return gg.C > 1 && pc_gemm_ready() && pc_conv_route(&gg, F / groups) == PC_ROUTE_WINOGRAD;
}

PyObject *
pc_conv2d(PyObject *x, PyObject *w, PyObject *b, const pc_window2d *geometry, int same, int act,
          npy_intp groups)
{
    PyArrayObject *xa = PC_DATA(x), *wa = PC_DATA(w), *ba = b != NULL ? PC_DATA(b) : NULL;
    PyArrayObject *y = NULL;
    PyArrayObject *v = NULL, *u = NULL;        /* Winograd's transforms, kept for backward */
    PyArrayObject *xp = NULL;                   /* the direct route's padded x, likewise */
    PyObject *result = NULL, *parents[3] = {x, w, b};
    pc_window2d g = *geometry;
    npy_intp F = PyArray_DIM(wa, 3);

    {
        npy_intp dims[4] = {g.N, g.OH, g.OW, F};
        if ((y = pc_new_array(4, dims, PyArray_TYPE(xa))) == NULL)
            goto done;
    }
    if (groups > 1 && !grouped_winograd(&g, groups, F)) {  /* group by group */
        if (pc_conv_grouped_forward(&g, groups, xa, wa, ba, act, y) < 0)
            goto done;
    }
    else {
        int keep = ((TensorObject *)w)->requires_grad && pc_needs_record(b != NULL ? 3 : 2,
                                                                          parents);
        if (groups > 1 ? pc_conv_winograd_forward(&g, xa, wa, ba, act, y, keep ? &v : NULL,
                                                  keep ? &u : NULL) < 0
                       : pc_conv_route_forward(&g, xa, wa, ba, act, y, keep ? &v : NULL,
                                               keep ? &u : NULL, &xp) < 0)
            goto done;
    }
    {
        PyObject *saved[3] = {act != PC_ACT_LINEAR ? (PyObject *)y : NULL,
                              xp != NULL && ((TensorObject *)w)->requires_grad
                                  ? (PyObject *)xp : (PyObject *)v,
                              (PyObject *)u};
        pc_op_args args = {.conv2d = {g.SH, g.SW, g.PT, g.PL, g.OH, g.OW, act, same, g.GH,
                                      g.GW, groups}};
        result = pc_record(PC_OP_CONV2D, y, b != NULL ? 3 : 2, parents, &args, 3, saved);
    }
done:
    Py_XDECREF(v);
    Py_XDECREF(u);
    Py_XDECREF(xp);
    Py_XDECREF(y);
    return result;
}

void
pc_conv_node_geometry(const pc_node *node, pc_window2d *g)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *w = PC_DATA(node->parents[1]);
    *g = (pc_window2d){
        .N = PyArray_DIM(x, 0), .H = PyArray_DIM(x, 1), .W = PyArray_DIM(x, 2),
        .C = PyArray_DIM(x, 3), .KH = PyArray_DIM(w, 0), .KW = PyArray_DIM(w, 1),
        .SH = node->args.conv2d.sh, .SW = node->args.conv2d.sw, .PT = node->args.conv2d.pt,
        .PL = node->args.conv2d.pl, .OH = node->args.conv2d.oh, .OW = node->args.conv2d.ow,
        .GH = node->args.conv2d.gh, .GW = node->args.conv2d.gw};
}

/* one chunk of images [n0, n1): dWm (+)= colsᵀ·dz, then dx += col2im(dz·Wmᵀ); the
 * patch matrix and its gradient take turns in the workspace */
static int
conv_chunk_backward(void *ctx, PyArrayObject *work, npy_intp n0, npy_intp n1)
{
    const conv_chunk_job *job = ctx;
    const pc_window2d *g = job->g;
    PyArrayObject *dz_rows = pc_image_rows(job->dz2d, g, n0, n1);
    int type = PyArray_TYPE(job->x), status = -1;

    if (dz_rows == NULL)
        return -1;
    if (job->dwm != NULL) {
        PC_DISPATCH_NOGIL(PyArray_SIZE(work), type, pc_im2col, PyArray_DATA(job->x),
                          PyArray_DATA(work), g, n0, n1);
        if (pc_matmul(work, 1, dz_rows, 0, job->dwm, !(job->dw_fresh && n0 == 0)) < 0)
            goto done;
    }
    if (job->dx != NULL) {
        if (pc_matmul(dz_rows, 0, job->wm, 1, work, 0) < 0)
            goto done;
        PC_DISPATCH_NOGIL(PyArray_SIZE(work), type, pc_col2im, PyArray_DATA(work),
                          PyArray_DATA(job->dx), g, n0, n1);
    }
    status = 0;
done:
    Py_DECREF(dz_rows);
    return status;
}

/* dx += col2im(dz·Wmᵀ), and dWm += colsᵀ·dz unless skip_dw, chunk by chunk */
static int
conv_weights_input_backward(const pc_window2d *g, pc_node *node, PyArrayObject *dz2d,
                            int skip_dw)
{
    PyArrayObject *w = PC_DATA(node->parents[1]), *dx, *dw, *wm = NULL, *dwm = NULL;
    npy_intp F = PyArray_DIM(w, 3);
    int dx_fresh, dw_fresh, status = -1;

    if (pc_grad_buffer_fresh(node, 0, &dx, &dx_fresh) < 0 ||
        (!skip_dw && pc_grad_buffer_fresh(node, 1, &dw, &dw_fresh) < 0))
        return -1;
    if (skip_dw)
        dw = NULL, dw_fresh = 0;
    if (dx == NULL && dw == NULL)
        return 0;
    if ((wm = pc_matrix_view(w, F)) != NULL &&
        (dw == NULL || (dwm = pc_matrix_view(dw, F)) != NULL))
        status = pc_conv_gemm_backward(g, PC_DATA(node->parents[0]), wm, dz2d, dx, dx_fresh,
                                       dwm, dw_fresh);
    Py_XDECREF(wm);
    Py_XDECREF(dwm);
    return status;
}

/* the same on arrays (ops_layers.h); the pointwise case is x itself */
int
pc_conv_gemm_backward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *wm,
                      PyArrayObject *dz2d, PyArrayObject *dx, int dx_fresh, PyArrayObject *dwm,
                      int dw_fresh)
{
    conv_chunk_job job = {.g = g, .x = x, .wm = wm, .dz2d = dz2d, .dx = dx, .dwm = dwm,
                          .dw_fresh = dw_fresh};
    PyArrayObject *x2d = NULL, *dx2d = NULL;
    npy_intp K = g->KH * g->KW * g->C;
    int status = -1;

    if (!pc_conv_is_pointwise(g))
        return pc_conv_for_chunks(g, K, PyArray_TYPE(x), conv_chunk_backward, &job);
    if ((x2d = pc_matrix_view(x, K)) != NULL &&
        (dwm == NULL || pc_matmul(x2d, 1, dz2d, 0, dwm, !dw_fresh) == 0) &&
        (dx == NULL || ((dx2d = pc_matrix_view(dx, K)) != NULL &&
                        pc_matmul(dz2d, 0, wm, 1, dx2d, !dx_fresh) == 0)))
        status = 0;
    Py_XDECREF(x2d);
    Py_XDECREF(dx2d);
    return status;
}

/* The direct route's backward from dout: the activation's derivative and the bias
 * gradient are folded into the kernel (kernels/conv_direct.h). kernel_only: dout is
 * already dz, and only the kernel's gradient is wanted */
static int
direct_backward(const pc_window2d *g, pc_node *node, PyArrayObject *dout, int kernel_only)
{
    PyArrayObject *x = PC_DATA(node->parents[0]), *w = PC_DATA(node->parents[1]);
    PyArrayObject *y = (PyArrayObject *)node->saved[0], *dx = NULL, *dw, *db = NULL;
    PyArrayObject *dy = NULL, *acc = NULL, *xp = NULL;    /* xp: borrowed */
    npy_intp F = PyArray_DIM(w, 3), size = pc_conv_direct_workspace(g, F);
    int act = kernel_only ? PC_ACT_LINEAR : node->args.conv2d.act, status = -1;
    pc_window2d gp;
    NPY_BEGIN_THREADS_DEF;

    if ((!kernel_only && pc_grad_buffer(node, 0, &dx) < 0) || pc_grad_buffer(node, 1, &dw) < 0 ||
        (!kernel_only && node->n_parents > 2 && pc_grad_buffer(node, 2, &db) < 0))
        return -1;
    if (dx == NULL && dw == NULL && db == NULL)
        return 0;
    /* the workspace comes from the buffer pool: the same pages every step */
    if (((dw != NULL || db != NULL) && (acc = pc_new_array(1, &size, NPY_FLOAT64)) == NULL) ||
        (dy = (PyArrayObject *)PyArray_GETCONTIGUOUS(dout)) == NULL)
        goto done;
    /* without dx, the kernel gradient reads the forward's padded copy of x */
    if (dx == NULL && dw != NULL && pc_conv_direct_padded(g, &gp) && node->saved[1] != NULL) {
        PyArrayObject *kept = (PyArrayObject *)node->saved[1];     /* 1-D when Winograd's */
        if (PyArray_NDIM(kept) == 4 && PyArray_DIM(kept, 0) == g->N &&
            PyArray_DIM(kept, 1) == gp.H && PyArray_DIM(kept, 2) == gp.W &&
            PyArray_DIM(kept, 3) == g->C)
            xp = kept;
    }
    NPY_BEGIN_THREADS;
    PC_DISPATCH(PyArray_TYPE(x), pc_conv_direct_backward, PyArray_DATA(xp != NULL ? xp : x),
                PyArray_DATA(w), act != PC_ACT_LINEAR ? PyArray_DATA(y) : NULL,
                PyArray_DATA(dy), dx != NULL ? PyArray_DATA(dx) : NULL,
                dw != NULL ? PyArray_DATA(dw) : NULL, db != NULL ? PyArray_DATA(db) : NULL,
                xp != NULL ? &gp : g, F, act, acc != NULL ? (double *)PyArray_DATA(acc) : NULL);
    NPY_END_THREADS;
    status = 0;
done:
    Py_XDECREF(dy);
    Py_XDECREF(acc);
    return status;
}

/* the Winograd route (ops_conv_winograd.c) for the same gradients, from dout: the
 * activation's derivative and the bias gradient are folded into its first transform */
static int
winograd_backward(const pc_window2d *g, pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *dx, *dw, *db = NULL, *dy;
    /* saved[1]: the tiles V (1-D), or the direct route's padded x (4-D) when the forward
     * took that route under another pc_conv_algorithm */
    PyArrayObject *kept_v = (PyArrayObject *)node->saved[1];
    int dx_fresh, dw_fresh, status, act = node->args.conv2d.act;

    if (kept_v != NULL && PyArray_NDIM(kept_v) != 1)
        kept_v = NULL;

    if (pc_grad_buffer_fresh(node, 0, &dx, &dx_fresh) < 0 ||
        pc_grad_buffer_fresh(node, 1, &dw, &dw_fresh) < 0 ||
        (node->n_parents > 2 && pc_grad_buffer(node, 2, &db) < 0) ||
        (dy = (PyArrayObject *)PyArray_GETCONTIGUOUS(dout)) == NULL)
        return -1;
    status = pc_conv_winograd_backward(g, PC_DATA(node->parents[0]),
                                       PC_DATA(node->parents[1]), dy,
                                       act != PC_ACT_LINEAR ? (PyArrayObject *)node->saved[0]
                                                            : NULL,
                                       act, dx, dw, dw_fresh, db,
                                       kept_v, (PyArrayObject *)node->saved[2]);
    Py_DECREF(dy);
    return status;
}

int
pc_grad_conv2d(pc_node *node, PyArrayObject *dout)
{
    pc_window2d g;
    npy_intp F = PyArray_DIM(PC_DATA(node->parents[1]), 3);
    PyArrayObject *dz, *dz2d = NULL;
    int route, direct, status = -1;

    pc_conv_node_geometry(node, &g);
    if (node->args.conv2d.groups > 1)
        return grouped_winograd(&g, node->args.conv2d.groups, F)
               ? winograd_backward(&g, node, dout) : pc_conv_grouped_backward(&g, node, dout);
    /* direct: all of it without an input gradient (or when forced); with one, dz first,
     * then the kernel gradient direct and dx through the patch-matrix GEMM (dz·Wmᵀ) and
     * col2im, which is faster for dx than the direct kernel's horizontal sums */
    route = pc_conv_route(&g, F);
    direct = route == PC_ROUTE_DIRECT;
    if (direct && (pc_conv_algorithm == PC_CONV_DIRECT ||
                   !((TensorObject *)node->parents[0])->requires_grad))
        return direct_backward(&g, node, dout, 0);
    if (route == PC_ROUTE_WINOGRAD)
        return winograd_backward(&g, node, dout);
    dz = pc_dense_dz(node, dout, node->args.conv2d.act, (PyArrayObject *)node->saved[0],
                     node->n_parents > 2 ? 2 : -1, F);
    if (dz != NULL && (dz2d = pc_matrix_view(dz, F)) != NULL &&
        (!direct || direct_backward(&g, node, dz, 1) == 0))
        status = conv_weights_input_backward(&g, node, dz2d, direct);
    Py_XDECREF(dz);
    Py_XDECREF(dz2d);
    return status;
}
