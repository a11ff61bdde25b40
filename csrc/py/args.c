/* py/args.c — argument-checking helpers shared by the core bindings (see args.h). */
#include "py/args.h"

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
