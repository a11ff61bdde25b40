/* py/index.c — t[key]: basic indexing and slicing (t[i], t[:, 2:5], t[..., 0],
 * negative steps, None), integer-array and boolean indexing (t[[0, 0, 2]], t[mask]),
 * and len(t) / for row in t.
 *
 * NumPy's own indexing machinery reads the key, so every rule is NumPy's. A result
 * that is C-contiguous (t[0], t[1:3]) shares the tensor's buffer; any other view is
 * copied by NumPy's C copy routine, so every Tensor stays C-contiguous.
 */
#include "py/bindings.h"

#include "autograd/ops_index.h"

/* An int, slice, None or Ellipsis: NumPy answers it with a view */
static int
is_basic_index(PyObject *item)
{
    return (PyLong_Check(item) && !PyBool_Check(item)) || PyArray_IsScalar(item, Integer) ||
           PySlice_Check(item) || item == Py_None || item == Py_Ellipsis;
}

/* key -> a tuple that does not change under us (arrays and lists copied, Tensors
 * read) and, when basic, ends in Ellipsis so that NumPy returns a view even for a
 * full integer index (x[1, 2, ...] is a 0-d view where x[1, 2] is a scalar).
 * *advanced = 1 when some item is an integer or boolean array. New ref or NULL. */
static PyObject *
normalize_key(PyObject *key, int *advanced)
{
    PyObject *items = PyTuple_Check(key) ? Py_NewRef(key) : PyTuple_Pack(1, key);
    PyObject *out = NULL;
    Py_ssize_t n;
    int ellipsis = 0;

    if (items == NULL)
        return NULL;
    n = PyTuple_GET_SIZE(items);
    *advanced = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(items, i);
        ellipsis |= item == Py_Ellipsis;
        *advanced |= !is_basic_index(item);
    }
    if ((out = PyTuple_New(n + (!*advanced && !ellipsis))) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(items, i), *v;
        if (pc_tensor_check(item))
            v = PyArray_NewCopy(PC_DATA(item), NPY_CORDER);
        else if (PyList_Check(item) && PyList_GET_SIZE(item) == 0)
            v = PyArray_EMPTY(1, (npy_intp[]){0}, NPY_INTP, 0);   /* x[[]], as NumPy */
        else if (PyList_Check(item) || PyArray_Check(item))       /* our own copy */
            v = PyArray_FromAny(item, NULL, 0, 0, NPY_ARRAY_ENSURECOPY | NPY_ARRAY_CARRAY,
                                NULL);
        else                            /* ints, slices, bools; NumPy judges the rest */
            v = Py_NewRef(item);
        if (v == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyTuple_SET_ITEM(out, i, v);
    }
    if (!*advanced && !ellipsis)
        PyTuple_SET_ITEM(out, n, Py_NewRef(Py_Ellipsis));
done:
    Py_DECREF(items);
    return out;
}

/* Re-raise NumPy's indexing error with the op, the key and the shape in front */
static void
index_error(PyArrayObject *x, PyObject *key)
{
    PyObject *type, *value, *tb, *s;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    s = pc_shape_tuple(PyArray_NDIM(x), PyArray_SHAPE(x));
    if (s != NULL && value != NULL)
        PyErr_Format(type, "getitem: index %R is invalid for a tensor of shape %R: %S", key,
                     s, value);
    else
        PyErr_Restore(Py_XNewRef(type), Py_XNewRef(value), Py_XNewRef(tb));
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* y = x[key], C-contiguous: the view itself when it already is, else a copy */
PyObject *
pc_getitem(PyObject *self, PyObject *key)
{
    PyArrayObject *x = PC_DATA(self);
    PyObject *norm = NULL, *view = NULL, *result = NULL;
    int advanced;

    if ((norm = normalize_key(key, &advanced)) == NULL)
        goto done;
    if ((view = PyObject_GetItem((PyObject *)x, norm)) == NULL) {
        index_error(x, key);
        goto done;
    }
    result = pc_getitem_view(self, view, norm, advanced);
done:
    Py_XDECREF(norm);
    Py_XDECREF(view);
    return result;
}

Py_ssize_t
pc_tensor_length(PyObject *self)
{
    PyArrayObject *x = PC_DATA(self);
    if (PyArray_NDIM(x) == 0) {
        PyErr_SetString(PyExc_TypeError, "len() of a 0-d tensor");
        return -1;
    }
    return PyArray_DIM(x, 0);
}

/* for row in t: t[0], t[1], ... until IndexError */
PyObject *
pc_tensor_item(PyObject *self, Py_ssize_t i)
{
    PyObject *index, *result;
    if (PyArray_NDIM(PC_DATA(self)) == 0) {
        PyErr_SetString(PyExc_TypeError, "iteration over a 0-d tensor");
        return NULL;
    }
    if (i < 0 || i >= PyArray_DIM(PC_DATA(self), 0)) {
        PyErr_Format(PyExc_IndexError, "getitem: index %zd is out of range for axis 0 of "
                     "size %zd", i, (Py_ssize_t)PyArray_DIM(PC_DATA(self), 0));
        return NULL;
    }
    if ((index = PyLong_FromSsize_t(i)) == NULL)
        return NULL;
    result = pc_getitem(self, index);
    Py_DECREF(index);
    return result;
}
