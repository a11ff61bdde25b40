/* py/args.c — argument-checking helpers shared by the core bindings (see args.h). */
#include "py/args.h"

int
pc_parse_real(PyObject *obj, const char *op, const char *arg, double *out)
{
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) || obj == Py_None) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be a number, got %R", op, arg, obj);
        return -1;
    }
    *out = PyFloat_AsDouble(obj);
    if (*out == -1.0 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s: %s must be a number, got %.100s", op, arg,
                         Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    return 0;
}

int
pc_parse_index(PyObject *obj, const char *op, const char *arg, Py_ssize_t *out)
{
    if (!PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be an int, got %R", op, arg, obj);
        return -1;
    }
    *out = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
    if (*out == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s: %s %R is out of range", op, arg, obj);
        }
        return -1;
    }
    return 0;
}
