/* py/convert.c — see convert.h. */
#include "py/convert.h"

#include "core/bufpool.h"

/* NumPy's ValueError about the data (ragged nested lists...) gets the op's name in
 * front; the original stays attached as __cause__. */
static void
prefix_value_error(const char *op)
{
    PyObject *type, *value, *tb, *type2, *value2, *tb2;

    if (!PyErr_ExceptionMatches(PyExc_ValueError))
        return;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (type != PyExc_ValueError || value == NULL) {
        PyErr_Restore(type, value, tb);
        return;
    }
    PyErr_Format(PyExc_ValueError, "%s: %S", op, value);
    PyErr_Fetch(&type2, &value2, &tb2);
    PyErr_NormalizeException(&type2, &value2, &tb2);
    if (value2 != NULL) {
        if (tb != NULL)
            PyException_SetTraceback(value, tb);
        PyException_SetCause(value2, Py_NewRef(value));     /* steals the new ref */
    }
    PyErr_Restore(type2, value2, tb2);
    Py_DECREF(type);
    Py_DECREF(value);
    Py_XDECREF(tb);
}

PyArrayObject *
pc_as_array(PyObject *obj, int typenum, const char *op)
{
    PyArrayObject *arr = NULL, *out = NULL;
    int from_numpy, have, flags;
    char kind;

    if (pc_tensor_check(obj)) {
        arr = (PyArrayObject *)Py_NewRef(PC_DATA(obj));
        from_numpy = 1;
    }
    else {
        from_numpy = PyArray_Check(obj) || PyArray_IsScalar(obj, Generic);
        if (obj == Py_None) {
            PyErr_Format(PyExc_TypeError, "%s: expected numbers (a Tensor, an array or a "
                         "list), got None", op);
            return NULL;
        }
        arr = (PyArrayObject *)PyArray_FROM_O(obj);     /* np.asarray(obj) */
        if (arr == NULL) {
            prefix_value_error(op);
            return NULL;
        }
    }
    if (PyArray_NDIM(arr) > PC_MAX_NDIM) {      /* the kernels' iterators hold PC_MAX_NDIM axes */
        PyErr_Format(PyExc_ValueError, "%s: data has %d dimensions, at most %d are supported",
                     op, PyArray_NDIM(arr), PC_MAX_NDIM);
        goto done;
    }
    kind = PyArray_DESCR(arr)->kind;
    have = PyArray_TYPE(arr);
    if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') {
        PyErr_Format(PyExc_TypeError, "%s: cannot make a tensor from data of dtype %R "
                     "(expected numbers)", op, (PyObject *)PyArray_DESCR(arr));
        goto done;
    }
    if (typenum < 0)
        typenum = (from_numpy && (have == NPY_FLOAT32 || have == NPY_FLOAT64)) ? have
                                                                                : NPY_FLOAT32;
    flags = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | NPY_ARRAY_FORCECAST
            | NPY_ARRAY_ENSUREARRAY;
    if (!PyArray_ISWRITEABLE(arr))
        flags |= NPY_ARRAY_ENSURECOPY;                   /* we may write into weights */
    out = (PyArrayObject *)PyArray_FromArray(arr, PyArray_DescrFromType(typenum), flags);
    /* Never keep the caller's own array object, only a view of its memory: its shape
     * and dtype are settable (`a.shape = ...`), and a recorded graph must not see them
     * change under it (the kernels index by the shapes seen at forward time). */
    if (out != NULL && (PyObject *)out == obj)
        Py_SETREF(out, (PyArrayObject *)PyArray_View(out, NULL, &PyArray_Type));
done:
    Py_DECREF(arr);
    return out;
}

PyObject *
pc_as_tensor(PyObject *obj, int typenum, const char *op)
{
    PyArrayObject *arr;
    PyObject *t;

    if (pc_tensor_check(obj))
        return Py_NewRef(obj);
    if ((arr = pc_as_array(obj, typenum, op)) == NULL)
        return NULL;
    t = pc_tensor_wrap(arr, 0);
    Py_DECREF(arr);
    return t;
}

int
pc_parse_dtype(PyObject *dtype, const char *op)
{
    PyArray_Descr *descr = NULL;
    int typenum;

    if (dtype == NULL || dtype == Py_None)
        return -1;
    if (!PyArray_DescrConverter2(dtype, &descr))
        return -2;
    if (descr == NULL)
        return -1;
    typenum = descr->type_num;
    if (typenum != NPY_FLOAT32 && typenum != NPY_FLOAT64) {
        PyErr_Format(PyExc_TypeError, "%s: dtype must be float32 or float64, got %R", op,
                     (PyObject *)descr);
        Py_DECREF(descr);
        return -2;
    }
    Py_DECREF(descr);
    return typenum;
}
