/* py/activation.c — bindings of pycnn.leaky_relu, elu, swish, softmax, log_softmax,
 * naive_normalize and maxout: argument parsing and checks, then the recorder of
 * autograd/ops_activation.c. */
#include "py/bindings.h"
#include "py/args.h"

#include "autograd/ops_activation.h"

/* Views x as (outer, K, inner) around `axis` (negative counts from the end).
 * 0, or -1 with ValueError naming op, the axis and the number of dimensions. */
static int
split_axis(PyArrayObject *x, Py_ssize_t axis, const char *op, pc_index *outer, pc_index *K,
           pc_index *inner)
{
    int ndim = PyArray_NDIM(x);
    if (axis < -ndim || axis >= ndim) {
        PyErr_Format(PyExc_ValueError, "%s: axis %zd is out of range for a tensor of %d "
                     "dimension%s", op, axis, ndim, ndim == 1 ? "" : "s");
        return -1;
    }
    if (axis < 0)
        axis += ndim;
    *outer = 1, *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= PyArray_DIM(x, d);
    for (int d = axis + 1; d < ndim; d++)
        *inner *= PyArray_DIM(x, d);
    *K = PyArray_DIM(x, axis);
    return 0;
}

/* leaky_relu(x, alpha=0.1), elu(x, alpha=1.0): y = f(x; α) */
static PyObject *
scaled_op(pc_op op, double alpha_default, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "alpha", NULL};
    PyObject *x_obj, *x = NULL, *result = NULL;
    PyObject *alpha = NULL;
    double a = alpha_default;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O", kwlist, &x_obj, &alpha))
        return NULL;
    if (alpha != NULL && pc_parse_real(alpha, pc_op_table[op].name, "alpha", &a) < 0)
        return NULL;
    if ((x = pc_as_tensor(x_obj, -1, pc_op_table[op].name)) == NULL)      /* new ref */
        goto done;
    result = pc_scaled_activation(op, x, a);
done:
    Py_XDECREF(x);
    return result;
}

/* pycnn.leaky_relu, pycnn.elu: one function per SCALED row of ops.def */
#define OP(...)
#define SCALED(op, name, kernel, alpha, doc)                                             \
    static PyObject *py_##op(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)   \
    {                                                                                    \
        return scaled_op(PC_OP_##op, alpha, args, kwargs);                               \
    }
#include "autograd/ops.def"

/* swish(x, beta=1.0): y = x σ(βx); β a number or a one-element Tensor (trainable) */
static PyObject *
py_swish(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "beta", NULL};
    PyObject *x_obj, *beta_obj = NULL, *one = NULL, *x = NULL, *beta = NULL;
    PyObject *result = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O", kwlist, &x_obj, &beta_obj))
        return NULL;
    if ((x = pc_as_tensor(x_obj, -1, "swish")) == NULL)
        goto done;
    if (beta_obj == NULL) {
        if ((one = PyFloat_FromDouble(1.0)) == NULL)
            goto done;
        beta_obj = one;
    }
    /* a number takes x's dtype; a Tensor or array keeps its own and promotes */
    beta = pc_as_tensor(beta_obj, pc_tensor_check(beta_obj) || PyArray_Check(beta_obj)
                                      ? -1 : PyArray_TYPE(PC_DATA(x)), "swish");
    if (beta == NULL || pc_promote_pair(&x, &beta) < 0)
        goto done;
    if (PyArray_SIZE(PC_DATA(beta)) != 1) {
        PyObject *shape = pc_shape_tuple(PyArray_NDIM(PC_DATA(beta)),
                                         PyArray_SHAPE(PC_DATA(beta)));
        if (shape != NULL)
            PyErr_Format(PyExc_ValueError, "swish: beta must hold one value, got shape %R",
                         shape);
        Py_XDECREF(shape);
        goto done;
    }
    result = pc_swish(x, beta);
done:
    Py_XDECREF(x);
    Py_XDECREF(beta);
    Py_XDECREF(one);
    return result;
}

/* softmax / log_softmax / naive_normalize (z, axis=-1) */
static PyObject *
axis_op(pc_op op, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"z", "axis", NULL};
    const char *name = pc_op_table[op].name;
    PyObject *z_obj, *z = NULL, *result = NULL;
    PyObject *axis_obj = NULL;
    Py_ssize_t axis = -1;
    pc_index outer, K, inner;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O", kwlist, &z_obj, &axis_obj))
        return NULL;
    if (axis_obj != NULL && pc_parse_index(axis_obj, name, "axis", &axis) < 0)
        return NULL;
    if ((z = pc_as_tensor(z_obj, -1, name)) == NULL)
        goto done;
    if (split_axis(PC_DATA(z), axis, name, &outer, &K, &inner) < 0)
        goto done;
    result = pc_along_axis(op, z, (int)axis, outer, K, inner);
done:
    Py_XDECREF(z);
    return result;
}

/* pycnn.softmax, log_softmax, naive_normalize: one function per AXIS row of ops.def */
#define OP(...)
#define AXIS(op, name, kernel, reads_output, doc)                                        \
    static PyObject *py_##op(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)   \
    {                                                                                    \
        return axis_op(PC_OP_##op, args, kwargs);                                        \
    }
#include "autograd/ops.def"

/* maxout(x, pieces, axis=-1): the axis of U·pieces features becomes U group maxima */
static PyObject *
py_maxout(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "pieces", "axis", NULL};
    PyObject *x_obj, *x = NULL, *result = NULL;
    PyObject *pieces_obj, *axis_obj = NULL;
    Py_ssize_t pieces, axis = -1;
    pc_index outer, features, inner;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O", kwlist, &x_obj, &pieces_obj,
                                     &axis_obj))
        return NULL;
    if (pc_parse_index(pieces_obj, "maxout", "pieces", &pieces) < 0 ||
        (axis_obj != NULL && pc_parse_index(axis_obj, "maxout", "axis", &axis) < 0))
        return NULL;
    if ((x = pc_as_tensor(x_obj, -1, "maxout")) == NULL)
        goto done;
    if (split_axis(PC_DATA(x), axis, "maxout", &outer, &features, &inner) < 0)
        goto done;
    if (pieces < 1 || features % pieces != 0) {
        PyErr_Format(PyExc_ValueError, "maxout: pieces must be a positive divisor of the %zd "
                     "features along axis %zd, got pieces=%zd", (Py_ssize_t)features, axis,
                     pieces);
        goto done;
    }
    result = pc_maxout(x, (int)axis, outer, pieces, inner);
done:
    Py_XDECREF(x);
    return result;
}

PyMethodDef pc_activation_functions[] = {
#define OP(...)
#define SCALED(op, name, kernel, alpha, doc)                                             \
    {name, PC_KW(py_##op), name "(x, alpha=" #alpha ")\n--\n\n" doc},
#define AXIS(op, name, kernel, reads_output, doc)                                        \
    {name, PC_KW(py_##op), name "(z, axis=-1)\n--\n\n" doc},
#include "autograd/ops.def"
    {"swish", PC_KW(py_swish),
     "swish(x, beta=1.0)\n--\n\nx * sigmoid(beta*x); beta may be a one-element Tensor with "
     "requires_grad=True (trainable beta), which then receives a gradient"},
    {"maxout", PC_KW(py_maxout),
     "maxout(x, pieces, axis=-1)\n--\n\nmax over groups of `pieces` consecutive features "
     "(features u*pieces ... u*pieces+pieces-1 form group u); at ties the first piece wins"},
    {NULL, NULL, 0, NULL},
};
