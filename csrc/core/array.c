/* core/array.c — see array.h. */
#include "core/array.h"

#include "core/bufpool.h"

PyArrayObject *
pc_new_array(int ndim, const npy_intp *shape, int typenum)
{
    return pc_pool_array(ndim, shape, typenum, 0);
}

PyArrayObject *
pc_zeros_array(int ndim, const npy_intp *shape, int typenum)
{
    return pc_pool_array(ndim, shape, typenum, 1);
}

PyObject *
pc_shape_tuple(int ndim, const npy_intp *shape)
{
    PyObject *t = PyTuple_New(ndim);
    if (t == NULL)
        return NULL;
    for (int d = 0; d < ndim; d++) {
        PyObject *v = PyLong_FromSsize_t(shape[d]);
        if (v == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, d, v);
    }
    return t;
}

int
pc_shape_mismatch(const char *fmt, const char *op, PyArrayObject *a, PyArrayObject *b,
                  const char *detail)
{
    PyObject *sa = pc_shape_tuple(PyArray_NDIM(a), PyArray_SHAPE(a));     /* new refs */
    PyObject *sb = pc_shape_tuple(PyArray_NDIM(b), PyArray_SHAPE(b));

    if (sa != NULL && sb != NULL)
        PyErr_Format(PyExc_ValueError, fmt, op, sa, sb, detail);
    Py_XDECREF(sa);
    Py_XDECREF(sb);
    return -1;
}
