/* autograd/ops_conv_winograd.c — 3×3 stride-1 convolution forward and backward by
 * Winograd's F(2×2, 3×3) (formulas in kernels/winograd.h): the kernels transform
 * tiles, NumPy's BLAS does the 16 GEMMs per chunk of images (CBLAS calls cut into
 * pieces on pycnn's threads, kernels/gemm.h; else one batched np.matmul).
 *
 *   forward   V = Bᵀ d B,  U = G g Gᵀ,  M[p] = V[p]·U[p],  y = Aᵀ M A
 *   backward  dM = A dz Aᵀ,  dU[p] += V[p]ᵀ·dM[p],  dV[p] = dM[p]·U[p]ᵀ,
 *             dx += B dV Bᵀ,  dw (+)= Gᵀ dU G
 * with the bias and activation folded into the output transform and its adjoint
 * (y = act(Aᵀ M A + b); dz = dy · act'(y) and db = Σ dz computed tile by tile).
 *
 * 2.25× fewer multiplications than im2col + GEMM, and the GEMMs' inner dimension is
 * C or F instead of 9·C. Used for 3×3 stride-1 windows whose channels and filters
 * are numerous enough for the GEMMs to dominate the transforms (the cost model in
 * ops_conv_route.c);
 * the geometry alone decides, so forward and backward always agree.
 */
#include "autograd/ops_layers.h"

#include "kernels/gemm.h"
#include "kernels/winograd.h"

int pc_conv_algorithm = PC_CONV_AUTO;

/* One chunk's V and M together hold about this many values */
#define WINO_CHUNK (1 << 19)

/* Images per chunk */
static npy_intp
wino_chunk(const pc_window2d *g, npy_intp F)
{
    npy_intp per_image = 16 * pc_wino_tiles_per_image(g) * (g->C + F);
    npy_intp k = per_image > 0 ? WINO_CHUNK / per_image : g->N;
    k = k > g->N ? g->N : k;
    return k < 1 ? 1 : k;
}

/* 16·tiles·cols values of buf from element `at` on, as a (16, tiles, cols) array
 * (new ref) */
static PyArrayObject *
stack_view(PyArrayObject *buf, npy_intp at, npy_intp tiles, npy_intp cols)
{
    npy_intp dims[3] = {16, tiles, cols};
    char *data = PyArray_BYTES(buf) + at * PyArray_ITEMSIZE(buf);
    PyArrayObject *v = (PyArrayObject *)PyArray_New(&PyArray_Type, 3, dims, PyArray_TYPE(buf),
                                                    NULL, data, 0, NPY_ARRAY_CARRAY, NULL);
    if (v != NULL && PyArray_SetBaseObject(v, Py_NewRef(buf)) < 0)
        Py_CLEAR(v);
    return v;
}

/* c[p] (=|+=) op(a[p]) · op(b[p]) for the 16 planes of C-contiguous (16, r, c) stacks,
 * op(x) = xᵀ when its trans flag is set; with G groups, group j's product reads and
 * writes columns [j·c/G, (j+1)·c/G) of each of the three (a grouped convolution: its
 * channels of V, its filters of U and M), the groups one after another. On NumPy's
 * CBLAS without the GIL, the planes cut into pieces on pycnn's threads
 * (kernels/gemm.h); else (G = 1 only, pc_conv_grouped_winograd) one batched np.matmul. */
static int
plane_products(PyArrayObject *a, int trans_a, PyArrayObject *b, int trans_b,
               PyArrayObject *c, int accumulate, npy_intp G)
{
    const npy_intp ra = PyArray_DIM(a, 1), ca = PyArray_DIM(a, 2);
    const npy_intp rb = PyArray_DIM(b, 1), cb = PyArray_DIM(b, 2);
    const npy_intp rc = PyArray_DIM(c, 1), cc = PyArray_DIM(c, 2);
    const npy_intp item = PyArray_ITEMSIZE(c);
    pc_gemm_batch job = {PyArray_TYPE(c) == NPY_FLOAT64, trans_a, trans_b, accumulate, 16,
                         trans_a ? ca / G : ra, trans_b ? rb : cb / G, trans_a ? ra : ca / G,
                         PyArray_DATA(a), ca, ra * ca, PyArray_DATA(b), cb, rb * cb,
                         PyArray_DATA(c), cc, rc * cc};
    PyArrayObject *at = NULL, *bt = NULL;
    int status = -1;
    NPY_BEGIN_THREADS_DEF;

    if (pc_gemm_ready() && pc_gemm_fits(ra > rb ? ra : rb, cc, ca > cb ? ca : cb)) {
        NPY_BEGIN_THREADS;
        for (npy_intp j = 0; j < G; j++) {
            job.a = PyArray_BYTES(a) + j * (ca / G) * item;
            job.b = PyArray_BYTES(b) + j * (cb / G) * item;
            job.c = PyArray_BYTES(c) + j * (cc / G) * item;
            pc_gemm_batched(&job);
        }
        NPY_END_THREADS;
        return 0;
    }
    if (G > 1) {
        PyErr_SetString(PyExc_RuntimeError, "conv2d: grouped Winograd products need NumPy's "
                        "CBLAS");
        return -1;
    }
    at = trans_a ? (PyArrayObject *)PyArray_SwapAxes(a, 1, 2) : (PyArrayObject *)Py_NewRef(a);
    bt = trans_b ? (PyArrayObject *)PyArray_SwapAxes(b, 1, 2) : (PyArrayObject *)Py_NewRef(b);
    if (at != NULL && bt != NULL && pc_matmul(at, 0, bt, 0, c, accumulate) == 0)
        status = 0;
    Py_XDECREF(at);
    Py_XDECREF(bt);
    return status;
}

/* U = G g Gᵀ as a new (16, C, F) array (new ref) */
static PyArrayObject *
transformed_weights(PyArrayObject *w, npy_intp C, npy_intp F)
{
    npy_intp dims[3] = {16, C, F};
    PyArrayObject *u = pc_new_array(3, dims, PyArray_TYPE(w));
    if (u != NULL)
        PC_DISPATCH(PyArray_TYPE(w), pc_wino_weights, PyArray_DATA(w), PyArray_DATA(u), C, F);
    return u;
}

int
pc_conv_winograd_forward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *w,
                         PyArrayObject *b, int act, PyArrayObject *y, PyArrayObject **keep_v,
                         PyArrayObject **keep_u)
{
    const int type = PyArray_TYPE(x);
    npy_intp C = g->C, F = PyArray_DIM(w, 3), per = pc_wino_tiles_per_image(g);
    npy_intp Cw = PyArray_DIM(w, 2), G = C / Cw;       /* Cw channels per group */
    npy_intp chunk = wino_chunk(g, F), dims[1];
    PyArrayObject *u = NULL, *vbuf = NULL, *mbuf = NULL, *v = NULL, *m = NULL;
    int status = -1;
    NPY_BEGIN_THREADS_DEF;

    /* the whole batch's V when the backward will want it, else one chunk's */
    dims[0] = 16 * (keep_v != NULL ? g->N : chunk) * per * C;
    if ((u = transformed_weights(w, Cw, F)) == NULL ||
        (vbuf = pc_new_array(1, dims, type)) == NULL)
        goto done;
    dims[0] = 16 * chunk * per * F;
    if ((mbuf = pc_new_array(1, dims, type)) == NULL)
        goto done;
    for (npy_intp n0 = 0; n0 < g->N; n0 += chunk) {
        npy_intp n1 = n0 + chunk < g->N ? n0 + chunk : g->N, tiles = (n1 - n0) * per;
        npy_intp at = keep_v != NULL ? 16 * n0 * per * C : 0;
        Py_CLEAR(v);
        Py_CLEAR(m);
        if ((v = stack_view(vbuf, at, tiles, C)) == NULL ||
            (m = stack_view(mbuf, 0, tiles, F)) == NULL)
            goto done;
        NPY_BEGIN_THREADS;
        PC_DISPATCH(type, pc_wino_input, PyArray_DATA(x), PyArray_DATA(v), g, n0, n1);
        NPY_END_THREADS;
        if (plane_products(v, 0, u, 0, m, 0, G) < 0)
            goto done;
        NPY_BEGIN_THREADS;
        PC_DISPATCH(type, pc_wino_output, PyArray_DATA(m), PyArray_DATA(y), g, F, n0, n1,
                    b != NULL ? PyArray_DATA(b) : NULL, act);
        NPY_END_THREADS;
        if (PyErr_CheckSignals() < 0)       /* Ctrl-C between chunks */
            goto done;
    }
    if (keep_v != NULL)
        *keep_v = (PyArrayObject *)Py_NewRef(vbuf);
    if (keep_u != NULL)
        *keep_u = (PyArrayObject *)Py_NewRef(u);
    status = 0;
done:
    Py_XDECREF(u);
    Py_XDECREF(vbuf);
    Py_XDECREF(mbuf);
    Py_XDECREF(v);
    Py_XDECREF(m);
    return status;
}

/* One chunk of images [n0, n1): dU (+)= Vᵀ·dM, then dx += B (dM·Uᵀ) Bᵀ. V is the
 * forward's (kept) or rebuilt here in `work`, which dV then reuses */
typedef struct {                /* what every chunk's backward reads */
    PyArrayObject *dy, *y;      /* y: NULL for a linear activation */
    int act;
    double *db;                 /* per-image bias-gradient sums of the chunk, or NULL */
    npy_intp groups;            /* > 1: ut is U itself, read transposed */
} wino_grad_in;

static int
wino_chunk_backward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *ut,
                    const wino_grad_in *in, PyArrayObject *v, int v_kept, PyArrayObject *work,
                    PyArrayObject *dm, PyArrayObject *dx, PyArrayObject *du, int du_add,
                    npy_intp F, npy_intp n0, npy_intp n1)
{
    const int type = PyArray_TYPE(x);
    NPY_BEGIN_THREADS_DEF;

    NPY_BEGIN_THREADS;
    PC_DISPATCH(type, pc_wino_output_backward, PyArray_DATA(in->dy), PyArray_DATA(dm), g, F,
                n0, n1, in->y != NULL ? PyArray_DATA(in->y) : NULL, in->act, in->db);
    if (du != NULL && !v_kept)
        PC_DISPATCH(type, pc_wino_input, PyArray_DATA(x), PyArray_DATA(v), g, n0, n1);
    NPY_END_THREADS;
    if (du != NULL && plane_products(v, 1, dm, 0, du, du_add, in->groups) < 0)
        return -1;
    if (dx != NULL) {
        if (plane_products(dm, 0, ut, in->groups > 1, work, 0, in->groups) < 0)
            return -1;
        NPY_BEGIN_THREADS;
        PC_DISPATCH(type, pc_wino_input_backward, PyArray_DATA(work), PyArray_DATA(dx), g, n0,
                    n1);
        NPY_END_THREADS;
    }
    return 0;
}

int
pc_conv_winograd_backward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *w,
                          PyArrayObject *dy, PyArrayObject *y, int act, PyArrayObject *dx,
                          PyArrayObject *dw, int dw_fresh, PyArrayObject *db,
                          PyArrayObject *kept_v, PyArrayObject *kept_u)
{
    const int type = PyArray_TYPE(x);
    npy_intp C = g->C, F = PyArray_DIM(w, 3), per = pc_wino_tiles_per_image(g);
    npy_intp Cw = PyArray_DIM(w, 2);                    /* channels per group */
    npy_intp chunk = wino_chunk(g, F), dims[3];
    PyArrayObject *u = NULL, *ut = NULL, *du = NULL, *wbuf = NULL, *mbuf = NULL;
    PyArrayObject *v = NULL, *work = NULL, *dm = NULL;
    double *dbsum = NULL;           /* Σ over images, in order: the same for any threads */
    wino_grad_in in = {dy, y, act, NULL, C / Cw};
    int status = -1;

    if (dx == NULL && dw == NULL && db == NULL)
        return 0;
    if (kept_v != NULL && PyArray_SIZE(kept_v) != 16 * g->N * per * C) {
        PyErr_SetString(PyExc_RuntimeError, "conv2d backward: the saved Winograd tiles do not "
                        "match the input");
        return -1;
    }
    if (db != NULL) {
        dbsum = PyMem_Calloc((size_t)F * (size_t)(chunk + 1), sizeof(double));
        if (dbsum == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        in.db = dbsum + F;
    }
    dims[0] = 16 * chunk * per * C;
    u = kept_u != NULL && PyArray_SIZE(kept_u) == 16 * Cw * F
        ? (PyArrayObject *)Py_NewRef(kept_u) : transformed_weights(w, Cw, F);
    if (u == NULL || (wbuf = pc_new_array(1, dims, type)) == NULL)
        goto done;
    /* Uᵀ plane by plane, contiguous: dV = dM·Uᵀ is then a plain product, which
     * OpenBLAS's small-matrix kernels take (a transposed operand sends it to the
     * general kernel and its packing). Groups read U itself, transposed: their
     * slices of Uᵀ would be rows, not the columns plane_products cuts */
    if (dx != NULL && in.groups > 1)
        ut = (PyArrayObject *)Py_NewRef(u);
    else if (dx != NULL) {
        PyArrayObject *view = (PyArrayObject *)PyArray_SwapAxes(u, 1, 2);
        ut = view != NULL ? (PyArrayObject *)PyArray_NewCopy(view, NPY_CORDER) : NULL;
        Py_XDECREF(view);
        if (ut == NULL)
            goto done;
    }
    dims[0] = 16 * chunk * per * F;
    if ((mbuf = pc_new_array(1, dims, type)) == NULL)
        goto done;
    dims[0] = 16, dims[1] = Cw, dims[2] = F;
    if (dw != NULL && (du = pc_new_array(3, dims, type)) == NULL)
        goto done;
    for (npy_intp n0 = 0; n0 < g->N; n0 += chunk) {
        npy_intp n1 = n0 + chunk < g->N ? n0 + chunk : g->N, tiles = (n1 - n0) * per;
        Py_CLEAR(v);
        Py_CLEAR(work);
        Py_CLEAR(dm);
        if ((work = stack_view(wbuf, 0, tiles, C)) == NULL ||
            (v = kept_v != NULL ? stack_view(kept_v, 16 * n0 * per * C, tiles, C)
                                : (PyArrayObject *)Py_NewRef(work)) == NULL ||
            (dm = stack_view(mbuf, 0, tiles, F)) == NULL ||
            wino_chunk_backward(g, x, ut, &in, v, kept_v != NULL, work, dm, dx, du, n0 > 0, F,
                                n0, n1) < 0 ||
            PyErr_CheckSignals() < 0)       /* Ctrl-C between chunks */
            goto done;
        for (npy_intp i = 0; dbsum != NULL && i < (n1 - n0) * F; i++)
            dbsum[i % F] += in.db[i];
    }
    for (npy_intp f = 0; db != NULL && f < F; f++)
        pc_value_store(db, f, dbsum[f], 1);
    if (du != NULL)
        PC_DISPATCH(type, pc_wino_weights_backward, PyArray_DATA(du), PyArray_DATA(dw), Cw, F,
                    !dw_fresh);
    status = 0;
done:
    PyMem_Free(dbsum);
    Py_XDECREF(u);
    Py_XDECREF(ut);
    Py_XDECREF(du);
    Py_XDECREF(wbuf);
    Py_XDECREF(mbuf);
    Py_XDECREF(v);
    Py_XDECREF(work);
    Py_XDECREF(dm);
    return status;
}
