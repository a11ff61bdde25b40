/* py/matmul.c — binding of the matrix product: a @ b (either operand may be a NumPy
 * array or a list) and pycnn.matmul(a, b), with np.matmul's shapes: (M, K) @ (K, N),
 * batched (..., M, K) @ (..., K, N) with broadcasting batch axes, 1-D operands as a
 * row / a column. The recorder is pc_matmul_tensors (autograd/ops_matmul.c). */
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

    if ((a = pc_as_tensor(a_obj, operand_dtype(a_obj, b_obj), "matmul")) == NULL ||
        (b = pc_as_tensor(b_obj, operand_dtype(b_obj, a), "matmul")) == NULL ||
        pc_promote_pair(&a, &b) < 0)
        goto done;
    result = pc_matmul_tensors(a, b);
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
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
     "matmul(a, b)\n--\n\nthe matrix product a @ b, as np.matmul.\n\n"
     "(M, K) @ (K, N) -> (M, N); (..., M, K) @ (..., K, N) -> (..., M, N) with the batch\n"
     "axes broadcast; a 1-D a is a row and a 1-D b a column (that axis is dropped).\n"
     "Backward: da += dy @ b^T, db += a^T @ dy, summed over broadcast batch axes."},
    {NULL, NULL, 0, NULL},
};
