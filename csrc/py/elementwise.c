/* py/elementwise.c — bindings of the element-wise ops: pycnn.add ... pycnn.relu. */
#include "py/bindings.h"

#include "autograd/ops_elementwise.h"

/* Python scalars and lists take the dtype of the Tensor beside them; NumPy arrays
 * keep theirs and promote like NumPy. */
static int
operand_dtype(PyObject *obj, PyObject *other)
{
    if (pc_tensor_check(obj) || PyArray_Check(obj))
        return -1;
    if (pc_tensor_check(other))
        return PyArray_TYPE(PC_DATA(other));
    return -1;
}

PyObject *
pc_binary_op(pc_op op, PyObject *a_obj, PyObject *b_obj)
{
    const char *name = pc_op_table[op].name;
    PyObject *a = NULL, *b = NULL, *result = NULL;

    a = pc_as_tensor(a_obj, operand_dtype(a_obj, b_obj), name);     /* new ref */
    if (a == NULL)
        goto done;
    b = pc_as_tensor(b_obj, operand_dtype(b_obj, a), name);         /* new ref */
    if (b == NULL || pc_promote_pair(&a, &b) < 0)
        goto done;
    result = pc_binary(op, a, b);
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
    return result;
}

PyObject *
pc_unary_op(pc_op op, PyObject *x_obj)
{
    PyObject *x = pc_as_tensor(x_obj, -1, pc_op_table[op].name), *result;    /* new ref */

    if (x == NULL)
        return NULL;
    result = pc_unary(op, x);
    Py_DECREF(x);
    return result;
}

/* pycnn.add(a, b) ... pycnn.relu(x): one function per BINARY / UNARY row of ops.def */
#define OP(...)
#define BINARY(op, name, kernel, pyname, doc)                                            \
    static PyObject *py_##op(PyObject *Py_UNUSED(m), PyObject *const *args,              \
                             Py_ssize_t nargs)                                           \
    {                                                                                    \
        if (nargs != 2) {                                                                \
            PyErr_Format(PyExc_TypeError, pyname "() takes 2 arguments (%zd given)",     \
                         nargs);                                                         \
            return NULL;                                                                 \
        }                                                                                \
        return pc_binary_op(PC_OP_##op, args[0], args[1]);                               \
    }
#define UNARY(op, name, kernel, pyname, doc, activation)                                 \
    static PyObject *py_##op(PyObject *Py_UNUSED(m), PyObject *x)                        \
    {                                                                                    \
        return pc_unary_op(PC_OP_##op, x);                                               \
    }
#include "autograd/ops.def"

PyMethodDef pc_elementwise_functions[] = {
#define OP(...)
#define BINARY(op, name, kernel, pyname, doc)                                            \
    {pyname, (PyCFunction)(void (*)(void))py_##op, METH_FASTCALL,                        \
     pyname "(a, b)\n--\n\n" doc},
#define UNARY(op, name, kernel, pyname, doc, activation)                                 \
    {pyname, py_##op, METH_O, pyname "(x)\n--\n\n" doc},
#include "autograd/ops.def"
    {NULL, NULL, 0, NULL},
};
