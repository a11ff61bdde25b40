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

#define BINARY_FN(lname, OP)                                                            \
    static PyObject *py_##lname(PyObject *Py_UNUSED(m), PyObject *const *args,           \
                                Py_ssize_t nargs)                                        \
    {                                                                                    \
        if (nargs != 2) {                                                                \
            PyErr_Format(PyExc_TypeError, #lname "() takes 2 arguments (%zd given)",     \
                         nargs);                                                         \
            return NULL;                                                                 \
        }                                                                                \
        return pc_binary_op(PC_OP_##OP, args[0], args[1]);                               \
    }
#define UNARY_FN(lname, OP)                                                             \
    static PyObject *py_##lname(PyObject *Py_UNUSED(m), PyObject *x)                     \
    {                                                                                    \
        return pc_unary_op(PC_OP_##OP, x);                                               \
    }
BINARY_FN(add, ADD)
BINARY_FN(subtract, SUB)
BINARY_FN(multiply, MUL)
BINARY_FN(divide, DIV)
BINARY_FN(power, POW)
BINARY_FN(maximum, MAXIMUM)
BINARY_FN(minimum, MINIMUM)
UNARY_FN(negative, NEG)
UNARY_FN(abs, ABS)
UNARY_FN(exp, EXP)
UNARY_FN(log, LOG)
UNARY_FN(sqrt, SQRT)
UNARY_FN(square, SQUARE)
UNARY_FN(sigmoid, SIGMOID)
UNARY_FN(tanh, TANH)
UNARY_FN(relu, RELU)
#undef BINARY_FN
#undef UNARY_FN

PyMethodDef pc_elementwise_functions[] = {
    {"add", (PyCFunction)(void (*)(void))py_add, METH_FASTCALL, "add(a, b): a + b, broadcasting"},
    {"subtract", (PyCFunction)(void (*)(void))py_subtract, METH_FASTCALL, "subtract(a, b): a - b"},
    {"multiply", (PyCFunction)(void (*)(void))py_multiply, METH_FASTCALL, "multiply(a, b): a * b"},
    {"divide", (PyCFunction)(void (*)(void))py_divide, METH_FASTCALL, "divide(a, b): a / b"},
    {"power", (PyCFunction)(void (*)(void))py_power, METH_FASTCALL, "power(a, b): a ** b"},
    {"maximum", (PyCFunction)(void (*)(void))py_maximum, METH_FASTCALL,
     "maximum(a, b): element-wise max; at ties the gradient goes to a"},
    {"minimum", (PyCFunction)(void (*)(void))py_minimum, METH_FASTCALL,
     "minimum(a, b): element-wise min; at ties the gradient goes to a"},
    {"negative", py_negative, METH_O, "negative(x): -x"},
    {"abs", py_abs, METH_O, "abs(x): |x|; the gradient at 0 is 0"},
    {"exp", py_exp, METH_O, "exp(x): e^x"},
    {"log", py_log, METH_O, "log(x): natural logarithm"},
    {"sqrt", py_sqrt, METH_O, "sqrt(x): square root"},
    {"square", py_square, METH_O, "square(x): x^2"},
    {"sigmoid", py_sigmoid, METH_O,
     "sigmoid(x): 1 / (1 + e^-x), computed without overflow (exactly 0 and 1 at -/+1000)"},
    {"tanh", py_tanh, METH_O, "tanh(x): hyperbolic tangent"},
    {"relu", py_relu, METH_O, "relu(x): max(x, 0); the gradient at 0 is 0"},
    {NULL, NULL, 0, NULL},
};
