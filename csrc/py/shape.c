/* py/shape.c — bindings of the structural ops: reshape, flatten, transpose / .T,
 * concat and stack (indexing lives in py/index.c).
 *
 * Every Tensor stays C-contiguous. reshape/flatten keep the buffer (a C-contiguous
 * array reshaped is still one); transpose, concat and stack copy by C loops.
 */
#include "py/bindings.h"

#include "autograd/ops_elementwise.h"
#include "autograd/ops_reduce.h"
#include "autograd/ops_shape.h"

int
pc_normalize_axis(const char *op, Py_ssize_t axis, int ndim, PyArrayObject *x)
{
    PyObject *np = NULL, *exc = NULL, *s = NULL, *msg = NULL;

    if (axis >= -ndim && axis < ndim)
        return (int)(axis < 0 ? axis + ndim : axis);
    /* numpy.exceptions.AxisError is both a ValueError and an IndexError */
    if ((s = pc_shape_tuple(PyArray_NDIM(x), PyArray_SHAPE(x))) == NULL)
        goto done;
    msg = PyUnicode_FromFormat("%s: axis %zd is out of range for %d axes (shape %R; "
                               "valid: %d to %d)", op, axis, ndim, s, -ndim, ndim - 1);
    if (msg == NULL)
        goto done;
    np = PyImport_ImportModule("numpy.exceptions");
    exc = np != NULL ? PyObject_GetAttrString(np, "AxisError") : NULL;
    if (exc == NULL) {
        PyErr_Clear();
        exc = Py_NewRef(PyExc_ValueError);
    }
    PyErr_SetObject(exc, msg);
done:
    Py_XDECREF(np);
    Py_XDECREF(exc);
    Py_XDECREF(s);
    Py_XDECREF(msg);
    return -1;
}

/* ---- reshape, flatten --------------------------------------------------------------- */

static int
reshape_error(PyArrayObject *x, PyObject *shape, const char *why)
{
    PyObject *s = pc_shape_tuple(PyArray_NDIM(x), PyArray_SHAPE(x));
    if (s != NULL)
        PyErr_Format(PyExc_ValueError, "reshape: cannot reshape a tensor of shape %R "
                     "(%zd elements) into shape %R: %s", s, (Py_ssize_t)PyArray_SIZE(x),
                     shape, why);
    Py_XDECREF(s);
    return -1;
}

/* shape (a tuple/list of ints, at most one -1) -> dims; returns ndim or -1 */
static int
parse_shape(PyArrayObject *x, PyObject *shape, npy_intp *dims)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(shape);
    int unknown = -1;
    npy_intp known = 1;

    if (n > PC_MAX_NDIM)
        return reshape_error(x, shape, "too many axes");
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(shape, i);
        if (PyBool_Check(item) || !PyIndex_Check(item)) {
            PyErr_Format(PyExc_TypeError, "reshape: sizes must be ints, got %.100s",
                         Py_TYPE(item)->tp_name);
            return -1;
        }
        if ((dims[i] = PyNumber_AsSsize_t(item, PyExc_OverflowError)) == -1 &&
            PyErr_Occurred())
            return -1;
        if (dims[i] == -1 && unknown >= 0)
            return reshape_error(x, shape, "only one size may be -1");
        if (dims[i] == -1)
            unknown = (int)i;
        else if (dims[i] < 0)
            return reshape_error(x, shape, "sizes must be >= 0 (or one -1)");
        else if (dims[i] > 0 && known > NPY_MAX_INTP / dims[i])   /* known·dims[i] overflows */
            return reshape_error(x, shape, "the number of elements differs");
        else
            known *= dims[i];
    }
    if (unknown >= 0) {
        if (known == 0 || PyArray_SIZE(x) % known != 0)
            return reshape_error(x, shape, "-1 cannot be inferred");
        dims[unknown] = PyArray_SIZE(x) / known;
    }
    else if (known != PyArray_SIZE(x))
        return reshape_error(x, shape, "the number of elements differs");
    return (int)n;
}

/* reshape(x, shape): shape a tuple/list, or (from t.reshape(2, 3)) the args tuple */
static PyObject *
reshape(PyObject *x_obj, PyObject *shape)
{
    PyObject *x = NULL, *seq = NULL, *result = NULL;
    npy_intp dims[PC_MAX_NDIM];
    int ndim;

    if ((x = pc_as_tensor(x_obj, -1, "reshape")) == NULL)
        return NULL;
    if (PyIndex_Check(shape))
        seq = PyTuple_Pack(1, shape);
    else if (PyTuple_Check(shape) || PyList_Check(shape))
        seq = Py_NewRef(shape);
    else
        PyErr_Format(PyExc_TypeError, "reshape: shape must be an int or a tuple of ints, "
                     "got %.100s", Py_TYPE(shape)->tp_name);
    if (seq != NULL && (ndim = parse_shape(PC_DATA(x), seq, dims)) >= 0)
        result = pc_reshape_to(PC_OP_RESHAPE, x, ndim, dims);
    Py_XDECREF(seq);
    Py_DECREF(x);
    return result;
}

PyObject *
pc_reshape_method(PyObject *self, PyObject *args)
{
    if (PyTuple_GET_SIZE(args) == 1)
        return reshape(self, PyTuple_GET_ITEM(args, 0));
    return reshape(self, args);
}

static PyObject *
py_reshape(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "shape", NULL};
    PyObject *x, *shape;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:reshape", kwlist, &x, &shape))
        return NULL;
    return reshape(x, shape);
}

PyObject *
pc_flatten(PyObject *Py_UNUSED(m), PyObject *x_obj)
{
    PyObject *x = pc_as_tensor(x_obj, -1, "flatten"), *result;
    npy_intp n;

    if (x == NULL)
        return NULL;
    n = PyArray_SIZE(PC_DATA(x));
    result = pc_reshape_to(PC_OP_FLATTEN, x, 1, &n);
    Py_DECREF(x);
    return result;
}

/* ---- transpose ---------------------------------------------------------------------- */

/* axes: NULL or None (reverse), or a sequence of ints -> perm; 0 or -1 */
static int
parse_perm(PyArrayObject *x, PyObject *axes, npy_intp *perm)
{
    int ndim = PyArray_NDIM(x);
    pc_index seen = 0;

    if (axes == NULL || axes == Py_None) {
        for (int d = 0; d < ndim; d++)
            perm[d] = ndim - 1 - d;
        return 0;
    }
    if (PySequence_Fast_GET_SIZE(axes) != ndim) {
        PyObject *s = pc_shape_tuple(ndim, PyArray_SHAPE(x));
        if (s != NULL)
            PyErr_Format(PyExc_ValueError, "transpose: axes %R do not match the %d axes of "
                         "shape %R", axes, ndim, s);
        Py_XDECREF(s);
        return -1;
    }
    for (int d = 0; d < ndim; d++) {
        PyObject *item = PySequence_Fast_GET_ITEM(axes, d);
        Py_ssize_t v;
        if (PyBool_Check(item) || !PyIndex_Check(item)) {
            PyErr_Format(PyExc_TypeError, "transpose: axes must be ints, got %.100s",
                         Py_TYPE(item)->tp_name);
            return -1;
        }
        if ((v = PyNumber_AsSsize_t(item, PyExc_OverflowError)) == -1 && PyErr_Occurred())
            return -1;
        if ((perm[d] = pc_normalize_axis("transpose", v, ndim, x)) < 0)
            return -1;
        if (seen & PC_AXIS_BIT(perm[d])) {
            PyErr_Format(PyExc_ValueError, "transpose: axis %d appears twice in axes %R",
                         (int)perm[d], axes);
            return -1;
        }
        seen |= PC_AXIS_BIT(perm[d]);
    }
    return 0;
}

static PyObject *
transpose(PyObject *x_obj, PyObject *axes)
{
    PyObject *x = NULL, *seq = NULL, *result = NULL;
    PyArrayObject *xa, *perm = NULL;
    npy_intp ndim;

    if ((x = pc_as_tensor(x_obj, -1, "transpose")) == NULL)
        goto done;
    xa = PC_DATA(x);
    ndim = PyArray_NDIM(xa);
    if (axes != NULL && axes != Py_None &&
        (seq = PySequence_Fast(axes, "transpose: axes must be a sequence of ints")) == NULL)
        goto done;
    if ((perm = pc_new_array(1, &ndim, NPY_INTP)) == NULL ||
        parse_perm(xa, seq, PyArray_DATA(perm)) < 0)
        goto done;
    result = pc_transpose(x, perm);
done:
    Py_XDECREF(x);
    Py_XDECREF(seq);
    Py_XDECREF(perm);
    return result;
}

/* t.transpose() reverses the axes; t.transpose(1, 0) or t.transpose((1, 0)) permutes */
PyObject *
pc_transpose_method(PyObject *self, PyObject *args)
{
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (n == 0)
        return transpose(self, NULL);
    if (n == 1 && !PyIndex_Check(PyTuple_GET_ITEM(args, 0)))
        return transpose(self, PyTuple_GET_ITEM(args, 0));
    return transpose(self, args);
}

PyObject *
pc_transpose_all(PyObject *self, void *Py_UNUSED(closure))
{
    return transpose(self, NULL);
}

static PyObject *
py_transpose(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "axes", NULL};
    PyObject *x, *axes = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:transpose", kwlist, &x, &axes))
        return NULL;
    return transpose(x, axes);
}

/* ---- concat, stack ------------------------------------------------------------------ */

static int
join_mismatch(pc_op op, PyObject **ts, Py_ssize_t i)
{
    PyArrayObject *a = PC_DATA(ts[0]), *b = PC_DATA(ts[i]);
    PyObject *sa = pc_shape_tuple(PyArray_NDIM(a), PyArray_SHAPE(a));
    PyObject *sb = pc_shape_tuple(PyArray_NDIM(b), PyArray_SHAPE(b));
    if (sa != NULL && sb != NULL)
        PyErr_Format(PyExc_ValueError, "%s: tensor %zd has shape %R but tensor 0 has shape "
                     "%R; %s", pc_op_table[op].name, i, sb, sa,
                     op == PC_OP_STACK ? "stacked tensors must all have one shape"
                                       : "they must match on every axis but the joined one");
    Py_XDECREF(sa);
    Py_XDECREF(sb);
    return -1;
}

/* Checks the shapes, normalises *axis and fills y's shape; returns y's ndim or -1. */
static int
join_shape(pc_op op, PyObject **ts, Py_ssize_t n, Py_ssize_t *axis, npy_intp *shape)
{
    PyArrayObject *x0 = PC_DATA(ts[0]);
    int ndim = PyArray_NDIM(x0), stack = op == PC_OP_STACK, d;

    if (!stack && ndim == 0) {
        PyErr_SetString(PyExc_ValueError, "concat: 0-d tensors cannot be concatenated "
                        "(tensor 0 has shape ()); use stack to give them an axis");
        return -1;
    }
    if (stack && ndim + 1 > PC_MAX_NDIM) {
        PyErr_Format(PyExc_ValueError, "stack: the result would have %d axes, at most %d "
                     "are supported", ndim + 1, PC_MAX_NDIM);
        return -1;
    }
    if ((d = pc_normalize_axis(pc_op_table[op].name, *axis, ndim + stack, x0)) < 0)
        return -1;
    *axis = d;
    for (Py_ssize_t i = 1; i < n; i++) {
        PyArrayObject *x = PC_DATA(ts[i]);
        if (PyArray_NDIM(x) != ndim)
            return join_mismatch(op, ts, i);
        for (int k = 0; k < ndim; k++)
            if (PyArray_DIM(x, k) != PyArray_DIM(x0, k) && (stack || k != d))
                return join_mismatch(op, ts, i);
    }
    for (int k = 0, j = 0; k < ndim + stack; k++) {
        if (stack && k == d)
            shape[k] = n;
        else
            shape[k] = PyArray_DIM(x0, j++);
        if (!stack && k == d)
            for (Py_ssize_t i = 1; i < n; i++)
                shape[k] += PyArray_DIM(PC_DATA(ts[i]), k);
    }
    return ndim + stack;
}

/* The list of tensors, as tensors of one dtype (float64 if any is); 0 or -1 */
static int
join_inputs(pc_op op, PyObject *seq, PyObject **ts, Py_ssize_t n)
{
    int typenum = NPY_FLOAT32;

    for (Py_ssize_t i = 0; i < n; i++) {
        ts[i] = pc_as_tensor(PySequence_Fast_GET_ITEM(seq, i), -1, pc_op_table[op].name);
        if (ts[i] == NULL)
            return -1;
        if (PyArray_TYPE(PC_DATA(ts[i])) == NPY_FLOAT64)
            typenum = NPY_FLOAT64;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *cast = pc_cast(ts[i], typenum);       /* promotes like NumPy */
        if (cast == NULL)
            return -1;
        Py_SETREF(ts[i], cast);
    }
    return 0;
}

/* y = concat(ts, axis) or stack(ts, axis): each input is A blocks of lx elements,
 * copied to offset `off` inside y's blocks of ly */
static PyObject *
join(pc_op op, PyObject *tensors, Py_ssize_t axis)
{
    const char *name = pc_op_table[op].name;
    PyObject *seq = NULL, **ts = NULL, *result = NULL;
    npy_intp shape[PC_MAX_NDIM];
    Py_ssize_t n = 0;
    char msg[80];
    int ndim;

    if (pc_tensor_check(tensors) || PyArray_Check(tensors)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a list or tuple of tensors, got one %s",
                     name, Py_TYPE(tensors)->tp_name);
        return NULL;
    }
    PyOS_snprintf(msg, sizeof(msg), "%s: expected a list or tuple of tensors", name);
    if ((seq = PySequence_Fast(tensors, msg)) == NULL)
        goto done;
    if ((n = PySequence_Fast_GET_SIZE(seq)) == 0) {
        PyErr_Format(PyExc_ValueError, "%s: needs at least one tensor, got none", name);
        goto done;
    }
    if ((ts = PyMem_Calloc(n, sizeof(PyObject *))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (join_inputs(op, seq, ts, n) < 0 || (ndim = join_shape(op, ts, n, &axis, shape)) < 0)
        goto done;
    result = pc_join(op, ts, (int)n, (int)axis, ndim, shape);
done:
    for (Py_ssize_t i = 0; ts != NULL && i < n; i++)
        Py_XDECREF(ts[i]);
    PyMem_Free(ts);
    Py_XDECREF(seq);
    return result;
}

/* concat(tensors, axis=0) / stack(tensors, axis=0) */
static PyObject *
join_function(pc_op op, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"tensors", "axis", NULL};
    const char *format = op == PC_OP_STACK ? "O|n:stack" : "O|n:concat";
    PyObject *tensors;
    Py_ssize_t axis = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, &tensors, &axis))
        return NULL;
    return join(op, tensors, axis);
}

PC_CALL_BINDING(py_concat, join_function(PC_OP_CONCAT, args, kwargs))
PC_CALL_BINDING(py_stack, join_function(PC_OP_STACK, args, kwargs))

PyMethodDef pc_shape_functions[] = {
    {"reshape", PC_KW(py_reshape),
     "reshape(x, shape)\n--\n\nthe same numbers in another shape (one size may be -1);\n"
     "the result shares x's memory"},
    {"flatten", pc_flatten, METH_O,
     "flatten(x)\n--\n\nall the numbers in one axis, in C (row-major) order:\n"
     "flatten([[1, 2], [3, 4]]) = [1, 2, 3, 4]"},
    {"transpose", PC_KW(py_transpose),
     "transpose(x, axes=None)\n--\n\npermute the axes (reverse them when axes is None)"},
    {"concat", PC_KW(py_concat),
     "concat(tensors, axis=0)\n--\n\njoin tensors along an existing axis; every other axis\n"
     "must match. concat([a, b], axis=1) puts (2, 3) and (2, 3) side by side: (2, 6)"},
    {"stack", PC_KW(py_stack),
     "stack(tensors, axis=0)\n--\n\njoin tensors of one shape along a new axis"},
    {NULL, NULL, 0, NULL},
};
