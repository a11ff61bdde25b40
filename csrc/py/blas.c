/* py/blas.c — see blas.h. */
#include "py/blas.h"

int
pc_matmul(PyArrayObject *a, int trans_a, PyArrayObject *b, int trans_b, PyArrayObject *out,
          int accumulate)
{
    PyObject *av = NULL, *bv = NULL, *r = NULL;
    PyArrayObject *target = out;
    int status = -1;

    av = trans_a ? PyArray_Transpose(a, NULL) : Py_NewRef(a);         /* new refs */
    bv = trans_b ? PyArray_Transpose(b, NULL) : Py_NewRef(b);
    if (av == NULL || bv == NULL)
        goto done;
    if (accumulate) {
        target = (PyArrayObject *)PyArray_NewLikeArray(out, NPY_CORDER, NULL, 0);
        if (target == NULL)
            goto done;
    }
    if ((r = PyArray_MatrixProduct2(av, bv, target)) == NULL)
        goto done;
    if (accumulate) {
        PyObject *sum = PyNumber_InPlaceAdd((PyObject *)out, (PyObject *)target);
        if (sum == NULL)
            goto done;
        Py_DECREF(sum);
    }
    status = 0;
done:
    if (target != out)
        Py_XDECREF(target);
    Py_XDECREF(r);
    Py_XDECREF(av);
    Py_XDECREF(bv);
    return status;
}
