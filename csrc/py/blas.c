/* py/blas.c — see blas.h. */
#include "py/blas.h"

#include "py/bufpool.h"

/* np.matmul, looked up once. Not np.dot (PyArray_MatrixProduct2): dot memsets its
 * output before the GEMM, one extra pass over every result (7 MB for the patch
 * gradient of a 32-image 3×3×32 convolution); the matmul ufunc hands the BLAS
 * the output as it is, and transposed views as transposes, without copies. */
static PyObject *
matmul_ufunc(void)
{
    static PyObject *ufunc = NULL;
    if (ufunc == NULL) {
        PyObject *np = PyImport_ImportModule("numpy");
        if (np == NULL)
            return NULL;
        ufunc = PyObject_GetAttrString(np, "matmul");       /* kept for the process */
        Py_DECREF(np);
    }
    return ufunc;
}

/* out = a · b through np.matmul(a, b, out=out) */
static int
matmul_into(PyObject *a, PyObject *b, PyArrayObject *out)
{
    static PyObject *kwnames = NULL;
    PyObject *ufunc = matmul_ufunc(), *r;
    if (ufunc == NULL)
        return -1;
    if (kwnames == NULL && (kwnames = Py_BuildValue("(s)", "out")) == NULL)
        return -1;
    PyObject *args[4] = {NULL, a, b, (PyObject *)out};
    r = PyObject_Vectorcall(ufunc, args + 1, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, kwnames);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

int
pc_matmul(PyArrayObject *a, int trans_a, PyArrayObject *b, int trans_b, PyArrayObject *out,
          int accumulate)
{
    PyObject *av = NULL, *bv = NULL;
    PyArrayObject *target = out;
    int status = -1;

    av = trans_a ? PyArray_Transpose(a, NULL) : Py_NewRef(a);         /* new refs */
    bv = trans_b ? PyArray_Transpose(b, NULL) : Py_NewRef(b);
    if (av == NULL || bv == NULL)
        goto done;
    if (accumulate) {
        target = pc_pool_array(PyArray_NDIM(out), PyArray_SHAPE(out), PyArray_TYPE(out), 0);
        if (target == NULL)
            goto done;
    }
    if (matmul_into(av, bv, target) < 0)
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
    Py_XDECREF(av);
    Py_XDECREF(bv);
    return status;
}
