/* py/matmul.c — binding of the matrix product: a @ b (either operand may be a NumPy
 * array or a list) and pycnn.matmul(a, b), with np.matmul's shapes: (M, K) @ (K, N),
 * batched (..., M, K) @ (..., K, N) with broadcasting batch axes, 1-D operands as a
 * row / a column. Every product runs in NumPy's BLAS (py/blas.h). */
#include "py/bindings.h"

#include "autograd/ops_matmul.h"

/* Lists and numbers take the dtype of the Tensor beside them; arrays keep theirs */
static int
operand_dtype(PyObject *obj, PyObject *other)
{
    if (!pc_tensor_check(obj) && !PyArray_Check(obj) && pc_tensor_check(other))
        return PyArray_TYPE(PC_DATA(other));
    return -1;
}

/* y = a @ b, recorded with parents (a, b) */
PyObject *
pc_matmul_op(PyObject *a_obj, PyObject *b_obj)
{
    PyObject *a = NULL, *b = NULL, *result = NULL;
    PyArrayObject *y = NULL;
    pc_matmul_layout L;

    if ((a = pc_as_tensor(a_obj, operand_dtype(a_obj, b_obj), "matmul")) == NULL ||
        (b = pc_as_tensor(b_obj, operand_dtype(b_obj, a), "matmul")) == NULL ||
        pc_promote_pair(&a, &b) < 0)
        goto done;
    if (pc_matmul_layout_init(&L, PC_DATA(a), PC_DATA(b)) < 0)
        goto done;
    if ((y = pc_zeros_array(L.y_ndim, L.y_shape, PyArray_TYPE(PC_DATA(a)))) == NULL)
        goto done;
    {
        pc_mm_operand ma = {PC_DATA(a), PC_MM_A, L.M, L.K, 0};
        pc_mm_operand mb = {PC_DATA(b), PC_MM_B, L.K, L.N, 0};
        pc_mm_operand my = {y, PC_MM_Y, L.M, L.N, 0};
        if (pc_matmul_batched(&L, ma, mb, my, 0) < 0)
            goto done;
    }
    {
        PyObject *parents[2] = {a, b};
        result = pc_record(PC_OP_MATMUL, y, 2, parents, NULL, 0, NULL);
    }
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(y);
    return result;
}

static PyObject *
py_matmul(PyObject *Py_UNUSED(m), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "matmul() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    return pc_matmul_op(args[0], args[1]);
}

PyMethodDef pc_matmul_functions[] = {
    {"matmul", (PyCFunction)(void (*)(void))py_matmul, METH_FASTCALL,
     "matmul(a, b): the matrix product a @ b, as np.matmul.\n\n"
     "(M, K) @ (K, N) -> (M, N); (..., M, K) @ (..., K, N) -> (..., M, N) with the batch\n"
     "axes broadcast; a 1-D a is a row and a 1-D b a column (that axis is dropped).\n"
     "Backward: da += dy @ b^T, db += a^T @ dy, summed over broadcast batch axes."},
    {NULL, NULL, 0, NULL},
};
