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

static int
broadcast_shapes(pc_op op, PyArrayObject *a, PyArrayObject *b, int *ndim, npy_intp *shape)
{
    int na = PyArray_NDIM(a), nb = PyArray_NDIM(b);
    *ndim = na > nb ? na : nb;
    for (int d = 0; d < *ndim; d++) {
        npy_intp ea = d < *ndim - na ? 1 : PyArray_DIM(a, d - (*ndim - na));
        npy_intp eb = d < *ndim - nb ? 1 : PyArray_DIM(b, d - (*ndim - nb));
        if (ea != eb && ea != 1 && eb != 1) {
            PyObject *sa = pc_shape_tuple(na, PyArray_SHAPE(a));
            PyObject *sb = pc_shape_tuple(nb, PyArray_SHAPE(b));
            if (sa != NULL && sb != NULL)
                PyErr_Format(PyExc_ValueError, "%s: shapes %R and %R cannot broadcast",
                             pc_op_table[op].name, sa, sb);
            Py_XDECREF(sa);
            Py_XDECREF(sb);
            return -1;
        }
        shape[d] = ea == 1 ? eb : ea;
    }
    return 0;
}

PyObject *
pc_binary_op(pc_op op, PyObject *a_obj, PyObject *b_obj)
{
    const pc_binary_kernels *k = pc_binary_kernels_for(op);
    const char *name = pc_op_table[op].name;
    PyObject *a = NULL, *b = NULL, *result = NULL;
    PyArrayObject *y = NULL, *ops[3];
    npy_intp shape[PC_MAX_NDIM];
    int ndim;
    pc_iter it;

    a = pc_as_tensor(a_obj, operand_dtype(a_obj, b_obj), name);     /* new ref */
    if (a == NULL)
        goto done;
    b = pc_as_tensor(b_obj, operand_dtype(b_obj, a), name);         /* new ref */
    if (b == NULL || pc_promote_pair(&a, &b) < 0)
        goto done;
    if (broadcast_shapes(op, PC_DATA(a), PC_DATA(b), &ndim, shape) < 0)
        goto done;
    if ((y = pc_new_array(ndim, shape, PyArray_TYPE(PC_DATA(a)))) == NULL)
        goto done;
    ops[0] = PC_DATA(a), ops[1] = PC_DATA(b), ops[2] = NULL;
    /* operands: 0 = a, 1 = b, 2 unused, 3 = y (its own contiguous strides) */
    {
        PyArrayObject *iter_ops[4] = {ops[0], ops[1], NULL, y};
        pc_iter_broadcast(&it, ndim, shape, 4, iter_ops);
    }
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(y) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(y) == NPY_FLOAT32)
        pc_strided_loop_f32(&it, PyArray_DATA(ops[0]), PyArray_DATA(ops[1]), NULL,
                            PyArray_DATA(y), k->forward_f32);
    else
        pc_strided_loop_f64(&it, PyArray_DATA(ops[0]), PyArray_DATA(ops[1]), NULL,
                            PyArray_DATA(y), k->forward_f64);
    NPY_END_THREADS;
    {
        PyObject *parents[2] = {a, b};
        result = pc_record(op, y, 2, parents, NULL, 0, NULL);
    }
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(y);
    return result;
}

PyObject *
pc_unary_op(pc_op op, PyObject *x_obj)
{
    const pc_unary_kernels *k = pc_unary_kernels_for(op);
    PyObject *x = NULL, *result = NULL;
    PyArrayObject *y = NULL;
    npy_intp n;

    if ((x = pc_as_tensor(x_obj, -1, pc_op_table[op].name)) == NULL)    /* new ref */
        goto done;
    y = pc_new_array(PyArray_NDIM(PC_DATA(x)), PyArray_SHAPE(PC_DATA(x)),
                     PyArray_TYPE(PC_DATA(x)));
    if (y == NULL)
        goto done;
    n = PyArray_SIZE(y);
    NPY_BEGIN_THREADS_DEF;
    if (n > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(y) == NPY_FLOAT32)
        k->forward_f32(PyArray_DATA(PC_DATA(x)), PyArray_DATA(y), n);
    else
        k->forward_f64(PyArray_DATA(PC_DATA(x)), PyArray_DATA(y), n);
    NPY_END_THREADS;
    {
        PyObject *saved = (PyObject *)y;        /* backward reads the output */
        result = pc_record(op, y, 1, &x, NULL, 1, &saved);
    }
done:
    Py_XDECREF(x);
    Py_XDECREF(y);
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
