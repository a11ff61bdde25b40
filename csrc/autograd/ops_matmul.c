/* autograd/ops_matmul.c — the batched matrix product and its backward.
 *
 * Every product runs in NumPy's BLAS through pc_matmul (core/blas.h): 2-D views of
 * the operands' buffers, transposed views instead of transposed copies.
 *   y = a · b   ->   da += dy · bᵀ,   db += aᵀ · dy
 * summed over the batch axes an operand was broadcast along (its matrix is then
 * reached once per batch element, and each visit accumulates).
 */
#include "autograd/ops_matmul.h"

#include "core/blas.h"

/* ValueError "matmul: shapes (..) and (..) <why>"; returns -1 */
static int
layout_error(PyArrayObject *a, PyArrayObject *b, const char *why)
{
    return pc_shape_mismatch("%s: shapes %R and %R %s", "matmul", a, b, why);
}

/* stride[w][d] for operand w whose batch shape (nd axes, right-aligned) is `shape` */
static void
batch_strides(pc_matmul_layout *L, int w, int nd, const npy_intp *shape, npy_intp matrix)
{
    pc_index s = matrix;
    for (int d = L->batch_ndim - 1; d >= 0; d--) {
        int k = d - (L->batch_ndim - nd);
        npy_intp extent = k >= 0 ? shape[k] : 1;
        L->stride[w][d] = (extent == 1) ? 0 : s;
        s *= extent;
    }
}

/* Fold the batch into M when every batch element shares b and a is never shared. */
static void
fold_batch(pc_matmul_layout *L)
{
    npy_intp n = 1;
    for (int d = 0; d < L->batch_ndim; d++) {
        if (L->batch_shape[d] != 1 && (L->stride[PC_MM_B][d] != 0 || L->stride[PC_MM_A][d] == 0))
            return;
        n *= L->batch_shape[d];
    }
    L->M *= n;
    L->batch_ndim = 0;
}

int
pc_matmul_layout_init(pc_matmul_layout *L, PyArrayObject *a, PyArrayObject *b)
{
    int na = PyArray_NDIM(a), nb = PyArray_NDIM(b);
    const npy_intp *sa = PyArray_SHAPE(a), *sb = PyArray_SHAPE(b);
    int ba = na > 2 ? na - 2 : 0, bb = nb > 2 ? nb - 2 : 0;     /* batch axes of each */
    npy_intp ka, kb;

    if (na == 0 || nb == 0)
        return layout_error(a, b, "cannot be multiplied: a 0-d operand has no matrix axes "
                                  "(use * for a scalar product)");
    L->M = na == 1 ? 1 : sa[na - 2];
    ka = sa[na - 1];
    kb = nb == 1 ? sb[0] : sb[nb - 2];
    L->N = nb == 1 ? 1 : sb[nb - 1];
    if (ka != kb) {
        char why[160];
        PyOS_snprintf(why, sizeof(why), "do not align: %zd (last axis of the first) != %zd "
                      "(%s axis of the second)", (Py_ssize_t)ka, (Py_ssize_t)kb,
                      nb == 1 ? "only" : "second-to-last");
        return layout_error(a, b, why);
    }
    L->K = ka;
    L->batch_ndim = ba > bb ? ba : bb;
    for (int d = 0; d < L->batch_ndim; d++) {
        int da = d - (L->batch_ndim - ba), db = d - (L->batch_ndim - bb);
        npy_intp ea = da >= 0 ? sa[da] : 1, eb = db >= 0 ? sb[db] : 1;
        if (ea != eb && ea != 1 && eb != 1)
            return layout_error(a, b, "have batch axes that cannot broadcast");
        L->batch_shape[d] = ea == 1 ? eb : ea;
    }
    L->y_ndim = L->batch_ndim + (na > 1) + (nb > 1);
    if (L->y_ndim > PC_MAX_NDIM)
        return layout_error(a, b, "give a product with too many axes");
    for (int d = 0; d < L->batch_ndim; d++)
        L->y_shape[d] = L->batch_shape[d];
    if (na > 1)
        L->y_shape[L->batch_ndim] = L->M;
    if (nb > 1)
        L->y_shape[L->y_ndim - 1] = L->N;
    batch_strides(L, PC_MM_A, ba, sa, L->M * L->K);
    batch_strides(L, PC_MM_B, bb, sb, L->K * L->N);
    batch_strides(L, PC_MM_Y, L->batch_ndim, L->batch_shape, L->M * L->N);
    fold_batch(L);
    return 0;
}

/* A (rows, cols) C-contiguous view of arr's buffer from element `offset` (new ref) */
static PyArrayObject *
matrix_view(PyArrayObject *arr, pc_index offset, npy_intp rows, npy_intp cols)
{
    npy_intp dims[2] = {rows, cols};
    char *data = PyArray_BYTES(arr) + offset * PyArray_ITEMSIZE(arr);
    PyArrayObject *v = (PyArrayObject *)PyArray_NewFromDescr(
        &PyArray_Type, PyArray_DescrFromType(PyArray_TYPE(arr)), 2, dims, NULL, data,
        NPY_ARRAY_CARRAY, NULL);
    if (v != NULL && PyArray_SetBaseObject(v, Py_NewRef(arr)) < 0) {
        Py_DECREF(v);
        return NULL;
    }
    return v;
}

static int
product_at(const pc_index *off, pc_mm_operand p, pc_mm_operand q, pc_mm_operand out,
           int accumulate)
{
    PyArrayObject *pv = matrix_view(p.arr, off[p.slot], p.rows, p.cols);
    PyArrayObject *qv = matrix_view(q.arr, off[q.slot], q.rows, q.cols);
    PyArrayObject *ov = matrix_view(out.arr, off[out.slot], out.rows, out.cols);
    int status = -1;

    if (pv != NULL && qv != NULL && ov != NULL)
        status = pc_matmul(pv, p.trans, qv, q.trans, ov, accumulate);
    Py_XDECREF(pv);
    Py_XDECREF(qv);
    Py_XDECREF(ov);
    return status;
}

int
pc_matmul_batched(const pc_matmul_layout *L, pc_mm_operand p, pc_mm_operand q,
                  pc_mm_operand out, int accumulate)
{
    npy_intp idx[PC_MAX_NDIM] = {0};
    pc_index off[3] = {0, 0, 0};

    if (L->M == 0 || L->N == 0 || L->K == 0)
        return 0;                       /* nothing to add; forward's y starts as zeros */
    for (int d = 0; d < L->batch_ndim; d++)
        if (L->batch_shape[d] == 0)
            return 0;
    for (;;) {
        int d;
        if (product_at(off, p, q, out, accumulate) < 0)
            return -1;
        for (d = L->batch_ndim - 1; d >= 0; d--) {        /* odometer over the batch */
            for (int w = 0; w < 3; w++)
                off[w] += L->stride[w][d];
            if (++idx[d] < L->batch_shape[d])
                break;
            for (int w = 0; w < 3; w++)
                off[w] -= L->stride[w][d] * L->batch_shape[d];
            idx[d] = 0;
        }
        if (d < 0)
            return 0;
    }
}

PyObject *
pc_matmul_tensors(PyObject *a, PyObject *b)
{
    PyArrayObject *y = NULL;
    PyObject *result = NULL;
    pc_matmul_layout L;

    if (pc_matmul_layout_init(&L, PC_DATA(a), PC_DATA(b)) < 0)
        return NULL;
    if ((y = pc_zeros_array(L.y_ndim, L.y_shape, PyArray_TYPE(PC_DATA(a)))) == NULL)
        return NULL;
    {
        pc_mm_operand ma = {PC_DATA(a), PC_MM_A, L.M, L.K, 0};
        pc_mm_operand mb = {PC_DATA(b), PC_MM_B, L.K, L.N, 0};
        pc_mm_operand my = {y, PC_MM_Y, L.M, L.N, 0};
        if (pc_matmul_batched(&L, ma, mb, my, 0) < 0)
            goto done;
    }
    {
        PyObject *parents[2] = {a, b};
        result = pc_record(PC_OP_MATMUL, y, 2, parents, NULL, 0, NULL);
    }
done:
    Py_DECREF(y);
    return result;
}

/* y = a · b (batched)  ->  da += dy · bᵀ,  db += aᵀ · dy */
int
pc_grad_matmul(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *a = PC_DATA(node->parents[0]), *b = PC_DATA(node->parents[1]), *da, *db;
    pc_matmul_layout L;

    if (pc_matmul_layout_init(&L, a, b) < 0)
        return -1;
    if (pc_grad_buffer(node, 0, &da) < 0 || pc_grad_buffer(node, 1, &db) < 0)
        return -1;
    {
        pc_mm_operand dy = {dout, PC_MM_Y, L.M, L.N, 0};
        if (da != NULL) {
            pc_mm_operand bt = {b, PC_MM_B, L.K, L.N, 1}, out = {da, PC_MM_A, L.M, L.K, 0};
            if (pc_matmul_batched(&L, dy, bt, out, 1) < 0)
                return -1;
        }
        if (db != NULL) {
            pc_mm_operand at = {a, PC_MM_A, L.M, L.K, 1}, out = {db, PC_MM_B, L.K, L.N, 0};
            if (pc_matmul_batched(&L, at, dy, out, 1) < 0)
                return -1;
        }
    }
    return 0;
}
