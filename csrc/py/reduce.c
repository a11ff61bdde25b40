/* py/reduce.c — bindings of the reductions: t.sum / t.mean / t.max and pycnn.sum /
 * pycnn.mean / pycnn.max, each (axis=None | int | tuple of ints, keepdims=False). */
#include "py/bindings.h"

#include "autograd/ops_elementwise.h"
#include "autograd/ops_reduce.h"

/* One axis argument -> bit in *mask. AxisError out of range, ValueError repeated. */
static int
add_axis(const char *op, PyObject *item, PyObject *axis, PyArrayObject *x, pc_index *mask)
{
    Py_ssize_t v;
    int d;

    if (PyBool_Check(item) || !PyIndex_Check(item)) {
        PyErr_Format(PyExc_TypeError, "%s: axis must be None, an int or a tuple of ints, "
                     "got %.100s", op, Py_TYPE(item)->tp_name);
        return -1;
    }
    if ((v = PyNumber_AsSsize_t(item, PyExc_OverflowError)) == -1 && PyErr_Occurred())
        return -1;
    if ((d = pc_normalize_axis(op, v, PyArray_NDIM(x), x)) < 0)
        return -1;
    if (*mask & PC_AXIS_BIT(d)) {
        PyObject *s = pc_shape_tuple(PyArray_NDIM(x), PyArray_SHAPE(x));
        if (s != NULL)
            PyErr_Format(PyExc_ValueError, "%s: axis %d appears twice in axis=%R (shape %R)",
                         op, d, axis, s);
        Py_XDECREF(s);
        return -1;
    }
    *mask |= PC_AXIS_BIT(d);
    return 0;
}

/* axis=None | int | tuple/list of ints -> mask of reduced axes; 0 or -1 */
static int
parse_axes(const char *op, PyObject *axis, PyArrayObject *x, pc_index *mask)
{
    *mask = 0;
    if (axis == Py_None) {
        for (int d = 0; d < PyArray_NDIM(x); d++)
            *mask |= PC_AXIS_BIT(d);
        return 0;
    }
    if (PyTuple_Check(axis) || PyList_Check(axis)) {
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(axis); i++)
            if (add_axis(op, PySequence_Fast_GET_ITEM(axis, i), axis, x, mask) < 0)
                return -1;
        return 0;
    }
    return add_axis(op, axis, axis, x, mask);
}

static int
refuse_empty_max(PyArrayObject *x, PyObject *axis)
{
    PyObject *s = pc_shape_tuple(PyArray_NDIM(x), PyArray_SHAPE(x));
    if (s != NULL)
        PyErr_Format(PyExc_ValueError, "max: the reduced axes (axis=%R) of shape %R hold no "
                     "elements, and the max of nothing is undefined", axis, s);
    Py_XDECREF(s);
    return -1;
}

/* y = sum / mean / max of x over `axis`: the axes parsed and y's shape derived here,
 * the node recorded by pc_reduce (autograd/ops_reduce.c). */
static PyObject *
reduce(pc_op op, PyObject *x_obj, PyObject *axis, int keepdims)
{
    const char *name = pc_op_table[op].name;
    PyObject *x = NULL, *result = NULL;
    PyArrayObject *xa;
    npy_intp shape[PC_MAX_NDIM], count = 1, out_size = 1;
    pc_index mask;
    int ndim = 0;

    if ((x = pc_as_tensor(x_obj, -1, name)) == NULL)                /* new ref */
        goto done;
    xa = PC_DATA(x);
    if (parse_axes(name, axis, xa, &mask) < 0)
        goto done;
    for (int d = 0; d < PyArray_NDIM(xa); d++) {
        if (mask & PC_AXIS_BIT(d))
            count *= PyArray_DIM(xa, d);
        else
            out_size *= PyArray_DIM(xa, d);
        if (!(mask & PC_AXIS_BIT(d)) || keepdims)
            shape[ndim++] = (mask & PC_AXIS_BIT(d)) ? 1 : PyArray_DIM(xa, d);
    }
    if (op == PC_OP_MAX && count == 0 && out_size > 0 && refuse_empty_max(xa, axis) < 0)
        goto done;
    result = pc_reduce(op, x, mask, keepdims, ndim, shape, count);
done:
    Py_XDECREF(x);
    return result;
}

PyObject *
pc_reduce_method(pc_op op, PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"axis", "keepdims", NULL};
    PyObject *axis = Py_None;
    int keepdims = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|Op", kwlist, &axis, &keepdims))
        return NULL;
    return reduce(op, self, axis, keepdims);
}

static PyObject *
reduce_function(pc_op op, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "axis", "keepdims", NULL};
    PyObject *x, *axis = Py_None;
    int keepdims = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Op", kwlist, &x, &axis, &keepdims))
        return NULL;
    return reduce(op, x, axis, keepdims);
}

PC_CALL_BINDING(py_sum, reduce_function(PC_OP_SUM, args, kwargs))
PC_CALL_BINDING(py_mean, reduce_function(PC_OP_MEAN, args, kwargs))
PC_CALL_BINDING(py_max, reduce_function(PC_OP_MAX, args, kwargs))

PyMethodDef pc_reduce_functions[] = {
    PC_REDUCE_ROWS("x, ", py_sum, py_mean, py_max),
    {NULL, NULL, 0, NULL},
};
