/* autograd/ops_loss.c — every loss, recorder right above backward: the row losses
 * (squared errors, categorical, binary and multi-label cross-entropy), sparse
 * categorical cross-entropy, and YOLO. Node args: see ops_loss.h. Each backward adds
 * into y_pred's gradient only. */
#include "autograd/ops_loss.h"


#define ROW(name, samples)                                                               \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64, samples}
static const pc_row_loss_kernels row_kernels[PC_OP_COUNT] = {
#define OP(...)
#define ROW_LOSS(op, name, kernel, samples) [PC_OP_##op] = ROW(kernel, samples),
#include "autograd/ops.def"
};
#undef ROW

const pc_row_loss_kernels *
pc_row_loss_kernels_for(pc_op op)
{
    return row_kernels[op].forward_f32 != NULL ? &row_kernels[op] : NULL;
}

#define SPARSE(name)                                                                     \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64}
static const pc_sparse_loss_kernels sparse_kernels[PC_OP_COUNT] = {
#define OP(...)
#define SPARSE_LOSS(op, name, kernel) [PC_OP_##op] = SPARSE(kernel),
#include "autograd/ops.def"
};
#undef SPARSE

const pc_sparse_loss_kernels *
pc_sparse_loss_kernels_for(pc_op op)
{
    return sparse_kernels[op].forward_f32 != NULL ? &sparse_kernels[op] : NULL;
}

pc_yolo_dims
pc_yolo_dims_from_args(const pc_op_args *a)
{
    return (pc_yolo_dims){a->yolo.n, a->yolo.s, a->yolo.b, a->yolo.c, a->yolo.lambda_coord,
                          a->yolo.lambda_noobj, a->yolo.eps};
}

/* The loss Tensor: per itself for 'none', else Σ per · scale as a 0-d array; records
 * the node (parents y_pred, y_true) with the reduction in a->loss (per_row, scale,
 * reduction: the members every loss struct of pc_op_args starts with). */
static PyObject *
record_loss(pc_op op, PyArrayObject *per, int reduction, pc_index count, PyObject *pred,
            PyObject *truth, pc_op_args *a)
{
    PyObject *parents[2] = {pred, truth}, *result;
    PyArrayObject *out;
    pc_index n = PyArray_SIZE(per);

    a->loss.scale = reduction == PC_REDUCE_MEAN ? (count > 0 ? 1.0 / (double)count : 0.0) : 1.0;
    a->loss.per_row = reduction == PC_REDUCE_NONE;
    a->loss.reduction = reduction;
    if (reduction == PC_REDUCE_NONE)
        return pc_record(op, per, 2, parents, a, 0, NULL);
    if ((out = pc_new_array(0, NULL, PyArray_TYPE(per))) == NULL)
        return NULL;
    pc_value_store(out, 0, PC_DISPATCH(PyArray_TYPE(per), pc_loss_total, PyArray_DATA(per), n,
                                       a->loss.scale), 0);
    result = pc_record(op, out, 2, parents, a, 0, NULL);
    Py_DECREF(out);
    return result;
}

PyObject *
pc_row_loss(pc_op op, PyObject *pred, PyObject *truth, int reduction)
{
    const pc_row_loss_kernels *k = pc_row_loss_kernels_for(op);
    PyArrayObject *p = PC_DATA(pred), *per;
    pc_op_args a = {{0}};
    PyObject *result;

    /* rows: the first axis (a sample) for squared_error, else every axis but the last */
    a.loss.k = k->rows_are_samples ? (PyArray_DIM(p, 0) ? PyArray_SIZE(p) / PyArray_DIM(p, 0) : 0)
                                 : PyArray_DIM(p, PyArray_NDIM(p) - 1);
    per = pc_new_array(k->rows_are_samples ? 1 : PyArray_NDIM(p) - 1, PyArray_SHAPE(p),
                       PyArray_TYPE(p));
    if (per == NULL)
        return NULL;
    a.loss.rows = PyArray_SIZE(per);
    PC_DISPATCH_NOGIL(PyArray_SIZE(p), PyArray_TYPE(p), k->forward, PyArray_DATA(p),
                      PyArray_DATA(PC_DATA(truth)), PyArray_DATA(per), a.loss.rows, a.loss.k);
    result = record_loss(op, per, reduction, a.loss.rows, pred, truth, &a);
    Py_DECREF(per);
    return result;
}

/* dp += G_r ∂per[r]/∂p for the row losses; G_r = dout[r·gs] · scale */
int
pc_grad_row_loss(pc_node *node, PyArrayObject *dout)
{
    const pc_row_loss_kernels *k = pc_row_loss_kernels_for(node->op);
    PyArrayObject *p = PC_DATA(node->parents[0]), *y = PC_DATA(node->parents[1]), *dp;
    const pc_op_args *a = &node->args;

    if (pc_grad_buffer(node, 0, &dp) < 0)
        return -1;
    if (dp == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(p), PyArray_TYPE(p), k->backward, PyArray_DATA(p),
                      PyArray_DATA(y), PyArray_DATA(dout), a->loss.per_row, a->loss.scale,
                      PyArray_DATA(dp), a->loss.rows, a->loss.k);
    return 0;
}

PyObject *
pc_sparse_loss(pc_op op, PyObject *pred, PyObject *labels, int reduction, pc_index count,
               const pc_index *ignore)
{
    const pc_sparse_loss_kernels *k = pc_sparse_loss_kernels_for(op);
    PyArrayObject *p = PC_DATA(pred), *per;
    pc_op_args a = {{0}};
    PyObject *result;

    a.loss.k = PyArray_DIM(p, PyArray_NDIM(p) - 1);
    a.loss.rows = PyArray_SIZE(PC_DATA(labels));
    if (ignore != NULL)
        a.loss.has_ignore = 1, a.loss.ignore = *ignore;
    per = pc_new_array(PyArray_NDIM(p) - 1, PyArray_SHAPE(p), PyArray_TYPE(p));
    if (per == NULL)
        return NULL;
    PC_DISPATCH_NOGIL(PyArray_SIZE(p), PyArray_TYPE(p), k->forward, PyArray_DATA(p),
                      PyArray_DATA(PC_DATA(labels)), PyArray_DATA(per), a.loss.rows, a.loss.k,
                      ignore);
    result = record_loss(op, per, reduction, count, pred, labels, &a);
    Py_DECREF(per);
    return result;
}

/* dp += G_r ∂per[r]/∂p for sparse categorical cross-entropy; ignored rows add nothing */
int
pc_grad_sparse_loss(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *p = PC_DATA(node->parents[0]), *labels = PC_DATA(node->parents[1]), *dp;
    const pc_op_args *a = &node->args;
    const pc_index *ignore = a->loss.has_ignore ? &a->loss.ignore : NULL;
    const pc_sparse_loss_kernels *k = pc_sparse_loss_kernels_for(node->op);

    if (pc_grad_buffer(node, 0, &dp) < 0)
        return -1;
    if (dp == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(p), PyArray_TYPE(p), k->backward, PyArray_DATA(p),
                      PyArray_DATA(labels), PyArray_DATA(dout), a->loss.per_row, a->loss.scale,
                      PyArray_DATA(dp), a->loss.rows, a->loss.k, ignore);
    return 0;
}

/* The loss over the parts in mask, recorded as one yolo_loss node (new ref) */
static PyObject *
yolo_part(PyArrayObject *parts, int mask, int reduction, PyObject *pred, PyObject *truth,
          pc_op_args a)
{
    pc_index N = PyArray_DIM(parts, 0);
    PyArrayObject *per = pc_new_array(1, PyArray_SHAPE(parts), PyArray_TYPE(parts));
    PyObject *result;

    if (per == NULL)
        return NULL;
    PC_DISPATCH(PyArray_TYPE(parts), pc_yolo_select, PyArray_DATA(parts), N, mask,
                PyArray_DATA(per));
    a.yolo.parts = mask;
    result = record_loss(PC_OP_YOLO_LOSS, per, reduction, N, pred, truth, &a);
    Py_DECREF(per);
    return result;
}

/* The total (all parts), or (total, (coord_xy, coord_wh, obj, noobj, cls)) (new ref) */
static PyObject *
yolo_result(PyArrayObject *parts, int return_parts, int reduction, PyObject *pred,
            PyObject *truth, pc_op_args a)
{
    PyObject *total, *each = NULL, *result = NULL;

    total = yolo_part(parts, (1 << PC_YOLO_PARTS) - 1, reduction, pred, truth, a);
    if (total == NULL || !return_parts)
        return total;
    if ((each = PyTuple_New(PC_YOLO_PARTS)) == NULL)
        goto done;
    for (int t = 0; t < PC_YOLO_PARTS; t++) {
        PyObject *part = yolo_part(parts, 1 << t, reduction, pred, truth, a);
        if (part == NULL)
            goto done;
        PyTuple_SET_ITEM(each, t, part);
    }
    result = PyTuple_Pack(2, total, each);
done:
    Py_DECREF(total);
    Py_XDECREF(each);
    return result;
}

PyObject *
pc_yolo_loss(PyObject *pred, PyObject *truth, const pc_op_args *args, int reduction,
             int return_parts)
{
    pc_yolo_dims d = pc_yolo_dims_from_args(args);
    PyArrayObject *p = PC_DATA(pred), *parts;
    npy_intp shape[2];
    PyObject *result;

    shape[0] = d.N, shape[1] = PC_YOLO_PARTS;
    if ((parts = pc_new_array(2, shape, PyArray_TYPE(p))) == NULL)
        return NULL;
    PC_DISPATCH_NOGIL(PyArray_SIZE(p), PyArray_TYPE(p), pc_yolo_forward, PyArray_DATA(p),
                      PyArray_DATA(PC_DATA(truth)), PyArray_DATA(parts), &d);
    result = yolo_result(parts, return_parts, reduction, pred, truth, *args);
    Py_DECREF(parts);
    return result;
}

/* dpred += G_n ∂(the selected parts of image n)/∂pred; the responsible boxes are found
 * again from the parents, so nothing is saved */
int
pc_grad_yolo_loss(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *p = PC_DATA(node->parents[0]), *t = PC_DATA(node->parents[1]), *dp;
    const pc_op_args *a = &node->args;
    pc_yolo_dims d = pc_yolo_dims_from_args(a);
    int mask = a->yolo.parts;

    if (pc_grad_buffer(node, 0, &dp) < 0)
        return -1;
    if (dp == NULL)
        return 0;
    PC_DISPATCH_NOGIL(PyArray_SIZE(p), PyArray_TYPE(p), pc_yolo_backward, PyArray_DATA(p),
                      PyArray_DATA(t), PyArray_DATA(dout), a->yolo.per_row, a->yolo.scale, mask,
                      PyArray_DATA(dp), &d);
    return 0;
}
