/* py/loss.c — bindings of the losses (pycnn.losses calls these): squared errors,
 * categorical, binary, multi-label and sparse categorical cross-entropy, YOLO.
 * Each parses its arguments, checks shapes and labels, then calls its recorder in
 * autograd/ops_loss.c (one node with parents (y_pred, y_true)).
 * Legend: R rows of K values (see kernels/loss.h); N images (YOLO). */
#include "py/args.h"
#include "py/bindings.h"

#include <math.h>

#include "autograd/ops_loss.h"

/* 'mean' (Keras' 'sum_over_batch_size' too), 'sum' or 'none'; -1 with ValueError */
static int
parse_reduction(PyObject *obj, const char *op)
{
    static const char *names[] = {"none", "sum", "mean", "sum_over_batch_size"};
    for (int i = 0; obj != NULL && PyUnicode_Check(obj) && i < 4; i++)
        if (PyUnicode_CompareWithASCIIString(obj, names[i]) == 0)
            return i < 3 ? i : PC_REDUCE_MEAN;
    if (obj == NULL)
        return PC_REDUCE_MEAN;
    PyErr_Format(PyExc_ValueError, "%s: reduction must be 'mean', 'sum' or 'none', got %R", op,
                 obj);
    return -1;
}

/* y_true as a constant Tensor of dtype typenum (new ref): a Tensor that already is one is
 * returned as is; anything else (arrays, lists, a Tensor that requires grad or has the
 * other dtype) is wrapped without a gradient. */
static PyObject *
constant_truth(PyObject *obj, int typenum, const char *op)
{
    if (pc_tensor_check(obj) && (((TensorObject *)obj)->requires_grad ||
                                 PyArray_TYPE(PC_DATA(obj)) != typenum))
        obj = (PyObject *)PC_DATA(obj);         /* its numbers, as a new constant */
    return pc_as_tensor(obj, typenum, op);
}

/* ValueError "op: y_true shape (..) does not match y_pred shape (..)<detail>" */
static void
shape_error(const char *op, PyArrayObject *t, PyArrayObject *p, const char *detail)
{
    pc_shape_mismatch("%s: y_true shape %R does not match y_pred shape %R%s", op, t, p, detail);
}

/* y_pred as a Tensor with at least one dimension (new ref) */
static PyObject *
prediction(PyObject *obj, const char *op)
{
    PyObject *p = pc_as_tensor(obj, -1, op);
    if (p != NULL && PyArray_NDIM(PC_DATA(p)) == 0) {
        PyErr_Format(PyExc_ValueError, "%s: y_pred must have at least 1 dimension (a batch), "
                     "got a scalar", op);
        Py_CLEAR(p);
    }
    return p;
}

/* squared errors and the categorical / binary / multi-label cross-entropies: y_true and
 * y_pred of one shape. op_logits is the from_logits variant, or PC_OP_COUNT if none. */
static PyObject *
row_loss(pc_op op, pc_op op_logits, PyObject *args, PyObject *kwargs)
{
    static char *kw_logits[] = {"y_true", "y_pred", "from_logits", "reduction", NULL};
    static char *kw_plain[] = {"y_true", "y_pred", "reduction", NULL};
    PyObject *t_obj, *p_obj, *red_obj = NULL, *pred = NULL, *truth = NULL, *result = NULL;
    PyArrayObject *p;
    const char *name = pc_op_table[op].name;
    int from_logits = 0, reduction, ok;

    ok = op_logits == PC_OP_COUNT
             ? PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$O", kw_plain, &t_obj, &p_obj,
                                           &red_obj)
             : PyArg_ParseTupleAndKeywords(args, kwargs, "OO|p$O", kw_logits, &t_obj, &p_obj,
                                           &from_logits, &red_obj);
    if (!ok || (reduction = parse_reduction(red_obj, name)) < 0)
        return NULL;
    if (from_logits)
        op = op_logits;
    if ((pred = prediction(p_obj, name)) == NULL)
        goto done;
    p = PC_DATA(pred);
    if ((truth = constant_truth(t_obj, PyArray_TYPE(p), name)) == NULL)
        goto done;
    if (!PyArray_SAMESHAPE(PC_DATA(truth), p)) {
        shape_error(name, PC_DATA(truth), p, "");
        goto done;
    }
    result = pc_row_loss(op, pred, truth, reduction);
done:
    Py_XDECREF(pred);
    Py_XDECREF(truth);
    return result;
}

#define ROW_LOSS(lname, OP, OP_LOGITS)                                                  \
    static PyObject *py_##lname(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kw)    \
    {                                                                                    \
        return row_loss(PC_OP_##OP, OP_LOGITS, args, kw);                                \
    }
ROW_LOSS(squared_error, SQUARED_ERROR, PC_OP_COUNT)
ROW_LOSS(mean_squared_error, MEAN_SQUARED_ERROR, PC_OP_COUNT)
ROW_LOSS(categorical_crossentropy, CATEGORICAL_CROSSENTROPY,
         PC_OP_CATEGORICAL_CROSSENTROPY_FROM_LOGITS)
ROW_LOSS(binary_crossentropy, BINARY_CROSSENTROPY, PC_OP_BINARY_CROSSENTROPY_FROM_LOGITS)
ROW_LOSS(multilabel_crossentropy, MULTILABEL_CROSSENTROPY,
         PC_OP_MULTILABEL_CROSSENTROPY_FROM_LOGITS)
#undef ROW_LOSS

/* Labels (new ref, a constant Tensor of y_pred's dtype, shape y_pred.shape[:-1]): y_true
 * of that shape, or of that shape plus a trailing 1 (Keras' (N, 1) labels). */
static PyObject *
sparse_labels(PyObject *obj, PyArrayObject *p, const char *op)
{
    int nd = PyArray_NDIM(p) - 1;
    PyObject *t = constant_truth(obj, PyArray_TYPE(p), op);
    PyArrayObject *l;
    int match;

    if (t == NULL)
        return NULL;
    l = PC_DATA(t);
    match = PyArray_NDIM(l) >= nd && PyArray_NDIM(l) <= nd + 1 &&
            (PyArray_NDIM(l) == nd || PyArray_DIM(l, nd) == 1) &&
            PyArray_CompareLists(PyArray_SHAPE(l), PyArray_SHAPE(p), nd);
    if (!match) {
        shape_error(op, l, p, ": the labels need y_pred's shape without its last axis "
                    "(one class index per row)");
        Py_DECREF(t);
        return NULL;
    }
    if (PyArray_NDIM(l) == nd + 1) {            /* drop the trailing 1: a view, no copy */
        PyArray_Dims dims = {PyArray_SHAPE(p), nd};
        PyArrayObject *view = (PyArrayObject *)PyArray_Newshape(l, &dims, NPY_CORDER);
        Py_DECREF(t);
        if (view == NULL)
            return NULL;
        t = pc_tensor_wrap(view, 0);
        Py_DECREF(view);
    }
    return t;
}

/* ValueError naming the first bad label and where it is */
static void
label_error(const char *op, PyArrayObject *labels, pc_index row, pc_index K)
{
    double v = pc_value_at(labels, row);
    int integral = isfinite(v) && fabs(v) < 1e18 && v == (double)(long long)v;
    PyObject *value = integral ? PyLong_FromLongLong((long long)v) : PyFloat_FromDouble(v);
    npy_intp idx[PC_MAX_NDIM];
    PyObject *where;

    for (int d = PyArray_NDIM(labels) - 1; d >= 0; d--) {
        idx[d] = row % PyArray_DIM(labels, d);
        row /= PyArray_DIM(labels, d);
    }
    where = pc_shape_tuple(PyArray_NDIM(labels), idx);
    if (value != NULL && where != NULL)
        PyErr_Format(PyExc_ValueError, "%s: label %R at y_true index %R is not a class index "
                     "in [0, %zd)", op, value, where, (Py_ssize_t)K);
    Py_XDECREF(value);
    Py_XDECREF(where);
}

/* ignore_index: None, or an integer (NumPy's too) stored in *ignore with *has = 1 */
static int
parse_ignore_index(PyObject *obj, int *has, pc_index *ignore, const char *op)
{
    PyObject *index;
    if (obj == Py_None)
        return 0;
    if (!PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: ignore_index must be None or an int, got %.100s",
                     op, Py_TYPE(obj)->tp_name);
        return -1;
    }
    if ((index = PyNumber_Index(obj)) == NULL)
        return -1;
    *has = 1, *ignore = PyLong_AsSsize_t(index);
    Py_DECREF(index);
    return *ignore == -1 && PyErr_Occurred() ? -1 : 0;
}

/* sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_index=None,
 * reduction='mean'): labels over any leading shape; 'mean' is over the counted rows */
static PyObject *
py_sparse_categorical_crossentropy(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"y_true", "y_pred", "from_logits", "ignore_index", "reduction",
                             NULL};
    PyObject *t_obj, *p_obj, *ign_obj = Py_None, *red_obj = NULL;
    PyObject *pred = NULL, *labels = NULL, *result = NULL;
    PyArrayObject *p;
    pc_op op = PC_OP_SPARSE_CATEGORICAL_CROSSENTROPY;
    const char *name = pc_op_table[op].name;
    pc_index count, bad, ignore_index = 0, rows, K;
    const pc_index *ignore;
    int from_logits = 0, reduction, has_ignore = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|pO$O", kwlist, &t_obj, &p_obj,
                                     &from_logits, &ign_obj, &red_obj) ||
        (reduction = parse_reduction(red_obj, name)) < 0)
        return NULL;
    if (from_logits)
        op = PC_OP_SPARSE_CATEGORICAL_CROSSENTROPY_FROM_LOGITS;
    if (parse_ignore_index(ign_obj, &has_ignore, &ignore_index, name) < 0)
        return NULL;
    ignore = has_ignore ? &ignore_index : NULL;
    if ((pred = prediction(p_obj, name)) == NULL)
        goto done;
    p = PC_DATA(pred);
    if ((labels = sparse_labels(t_obj, p, name)) == NULL)
        goto done;
    K = PyArray_DIM(p, PyArray_NDIM(p) - 1);
    rows = PyArray_SIZE(PC_DATA(labels));
    bad = PC_DISPATCH(PyArray_TYPE(p), pc_sparse_labels_check, PyArray_DATA(PC_DATA(labels)),
                      rows, K, ignore, &count);
    if (bad >= 0) {
        label_error(name, PC_DATA(labels), bad, K);
        goto done;
    }
    result = pc_sparse_loss(op, pred, labels, reduction, count, ignore);
done:
    Py_XDECREF(pred);
    Py_XDECREF(labels);
    return result;
}

/* ValueError unless y_pred is (N, S, S, B·5 + C) and y_true (N, S, S, 5 + C) */
static int
yolo_check_shapes(PyArrayObject *p, PyArrayObject *t, const pc_yolo_dims *d)
{
    char detail[160];
    int ok_p = PyArray_NDIM(p) == 4 && PyArray_DIM(p, 1) == d->S && PyArray_DIM(p, 2) == d->S &&
               PyArray_DIM(p, 3) == d->B * 5 + d->C;
    int ok_t = ok_p && PyArray_NDIM(t) == 4 && PyArray_DIM(t, 0) == PyArray_DIM(p, 0) &&
               PyArray_DIM(t, 1) == d->S && PyArray_DIM(t, 2) == d->S &&
               PyArray_DIM(t, 3) == 5 + d->C;
    if (ok_t)
        return 0;
    PyOS_snprintf(detail, sizeof detail, " (S=%zd, B=%zd, C=%zd need y_pred (N, %zd, %zd, %zd) "
                  "and y_true (N, %zd, %zd, %zd))", (Py_ssize_t)d->S, (Py_ssize_t)d->B,
                  (Py_ssize_t)d->C, (Py_ssize_t)d->S, (Py_ssize_t)d->S,
                  (Py_ssize_t)(d->B * 5 + d->C), (Py_ssize_t)d->S, (Py_ssize_t)d->S,
                  (Py_ssize_t)(5 + d->C));
    shape_error("yolo_loss", t, p, detail);
    return -1;
}

/* yolo_loss(y_true, y_pred, S=7, B=2, C=20, lambda_coord=5.0, lambda_noobj=0.5,
 * reduction='mean', return_parts=False) -> total, or (total, (coord_xy, coord_wh, obj,
 * noobj, cls)); each part is its own differentiable yolo_loss node over that term */
static PyObject *
py_yolo_loss(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"y_true", "y_pred", "S", "B", "C", "lambda_coord",
                             "lambda_noobj", "reduction", "return_parts", NULL};
    PyObject *t_obj, *p_obj, *red_obj = NULL, *pred = NULL, *truth = NULL, *result = NULL;
    PyArrayObject *p;
    Py_ssize_t S = 7, B = 2, C = 20;
    pc_op_args a = {{0}};
    pc_yolo_dims d;
    int reduction, return_parts = 0;

    a.yolo.lambda_coord = 5.0, a.yolo.lambda_noobj = 0.5, a.yolo.eps = 1e-6;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|nnnddOp", kwlist, &t_obj, &p_obj, &S,
                                     &B, &C, &a.yolo.lambda_coord, &a.yolo.lambda_noobj,
                                     &red_obj, &return_parts) ||
        (reduction = parse_reduction(red_obj, "yolo_loss")) < 0)
        return NULL;
    if (S < 1 || B < 1 || C < 0) {
        PyErr_Format(PyExc_ValueError, "yolo_loss: need S >= 1, B >= 1 and C >= 0, got S=%zd, "
                     "B=%zd, C=%zd", S, B, C);
        return NULL;
    }
    if ((pred = prediction(p_obj, "yolo_loss")) == NULL)
        goto done;
    p = PC_DATA(pred);
    if ((truth = constant_truth(t_obj, PyArray_TYPE(p), "yolo_loss")) == NULL)
        goto done;
    a.yolo.n = PyArray_DIM(p, 0), a.yolo.s = S, a.yolo.b = B, a.yolo.c = C;
    d = pc_yolo_dims_from_args(&a);
    if (yolo_check_shapes(p, PC_DATA(truth), &d) < 0)
        goto done;
    result = pc_yolo_loss(pred, truth, &a, reduction, return_parts);
done:
    Py_XDECREF(pred);
    Py_XDECREF(truth);
    return result;
}

PyMethodDef pc_loss_functions[] = {
    {"_squared_error", PC_KW(py_squared_error),
     "_squared_error(y_true, y_pred, *, reduction='mean')\n--\n\nsee pycnn.losses"},
    {"_mean_squared_error", PC_KW(py_mean_squared_error),
     "_mean_squared_error(y_true, y_pred, *, reduction='mean')\n--\n\nsee pycnn.losses"},
    {"_categorical_crossentropy", PC_KW(py_categorical_crossentropy),
     "_categorical_crossentropy(y_true, y_pred, from_logits=False, *, reduction='mean')\n--\n\n"
     "see pycnn.losses"},
    {"_sparse_categorical_crossentropy", PC_KW(py_sparse_categorical_crossentropy),
     "_sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_index=None, "
     "*, reduction='mean')\n--\n\nsee pycnn.losses"},
    {"_binary_crossentropy", PC_KW(py_binary_crossentropy),
     "_binary_crossentropy(y_true, y_pred, from_logits=False, *, reduction='mean')\n--\n\n"
     "see pycnn.losses"},
    {"_multilabel_crossentropy", PC_KW(py_multilabel_crossentropy),
     "_multilabel_crossentropy(y_true, y_pred, from_logits=False, *, reduction='mean')\n--\n\n"
     "see pycnn.losses"},
    {"_yolo_loss", PC_KW(py_yolo_loss),
     "_yolo_loss(y_true, y_pred, S=7, B=2, C=20, lambda_coord=5.0, lambda_noobj=0.5, "
     "reduction='mean', return_parts=False)\n--\n\nsee pycnn.losses"},
    {NULL, NULL, 0, NULL},
};
