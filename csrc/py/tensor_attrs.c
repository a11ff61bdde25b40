/* py/tensor_attrs.c — the Tensor's attributes: shape, ndim, size, dtype,
 * requires_grad, grad, name, and the graph it was produced by (op, op_args, parents,
 * is_leaf),
 * plus .T. The type itself, its methods and operators live in py/tensor.c.
 */
#include "py/args.h"
#include "py/bindings.h"
#include "py/tensor.h"

static PyObject *
Tensor_get_shape(TensorObject *self, void *Py_UNUSED(c))
{
    return pc_shape_tuple(PyArray_NDIM(self->data), PyArray_SHAPE(self->data));
}

static PyObject *
Tensor_get_ndim(TensorObject *self, void *Py_UNUSED(c))
{
    return PyLong_FromLong(PyArray_NDIM(self->data));
}

static PyObject *
Tensor_get_size(TensorObject *self, void *Py_UNUSED(c))
{
    return PyLong_FromSsize_t(PyArray_SIZE(self->data));
}

static PyObject *
Tensor_get_dtype(TensorObject *self, void *Py_UNUSED(c))
{
    return Py_NewRef((PyObject *)PyArray_DESCR(self->data));
}

static PyObject *
Tensor_get_requires_grad(TensorObject *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(self->requires_grad);
}

static int
Tensor_set_requires_grad(TensorObject *self, PyObject *value, void *Py_UNUSED(c))
{
    int flag;
    if (value == NULL || (flag = PyObject_IsTrue(value)) < 0) {
        if (value == NULL)
            PyErr_SetString(PyExc_AttributeError, "requires_grad cannot be deleted");
        return -1;
    }
    if (self->node != NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "requires_grad can only be set on a leaf tensor (this one was "
                        "computed by an op; use .detach() to make a leaf)");
        return -1;
    }
    self->requires_grad = flag;
    return 0;
}

static PyObject *
Tensor_get_grad(TensorObject *self, void *Py_UNUSED(c))
{
    return Py_NewRef(self->grad != NULL ? self->grad : Py_None);
}

static int
Tensor_set_grad(TensorObject *self, PyObject *value, void *Py_UNUSED(c))
{
    PyArrayObject *g;
    PyObject *t;

    if (value == NULL || value == Py_None) {
        Py_CLEAR(self->grad);
        return 0;
    }
    if ((g = pc_as_array(value, PyArray_TYPE(self->data), "grad")) == NULL)
        return -1;
    if (!PyArray_SAMESHAPE(g, self->data)) {
        pc_shape_mismatch("%s: shape %R does not match the tensor's shape %R%s", "grad", g,
                          self->data, "");
        Py_DECREF(g);
        return -1;
    }
    /* backward adds into .grad in place: never into the caller's own array or tensor */
    Py_SETREF(g, (PyArrayObject *)PyArray_NewCopy(g, NPY_CORDER));
    if (g == NULL)
        return -1;
    t = pc_tensor_wrap(g, 0);
    Py_DECREF(g);
    if (t == NULL)
        return -1;
    Py_XSETREF(self->grad, t);
    return 0;
}

static PyObject *
Tensor_get_name(TensorObject *self, void *Py_UNUSED(c))
{
    return Py_NewRef(self->name != NULL ? self->name : Py_None);
}

static int
Tensor_set_name(TensorObject *self, PyObject *value, void *Py_UNUSED(c))
{
    if (value != NULL && value != Py_None && !PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "name must be a str or None");
        return -1;
    }
    Py_XSETREF(self->name, (value == NULL || value == Py_None) ? NULL : Py_NewRef(value));
    return 0;
}

static PyObject *
Tensor_get_op(TensorObject *self, void *Py_UNUSED(c))
{
    if (self->node == NULL)
        Py_RETURN_NONE;
    return PyUnicode_FromString(pc_op_table[self->node->op].name);
}

static PyObject *
Tensor_get_parents(TensorObject *self, void *Py_UNUSED(c))
{
    pc_node *node = self->node;
    PyObject *t = PyTuple_New(node != NULL ? node->n_parents : 0);
    if (t == NULL || node == NULL)
        return t;
    for (int i = 0; i < node->n_parents; i++)
        PyTuple_SET_ITEM(t, i, Py_NewRef(node->parents[i]));
    return t;
}

static PyObject *
Tensor_get_is_leaf(TensorObject *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(self->node == NULL);
}

static PyObject *
Tensor_get_op_args(TensorObject *self, void *Py_UNUSED(c))
{
    return pc_op_args_dict(self->node);
}

PyGetSetDef pc_tensor_getset[] = {
    {"shape", (getter)Tensor_get_shape, NULL, "the shape, a tuple", NULL},
    {"ndim", (getter)Tensor_get_ndim, NULL, "number of dimensions", NULL},
    {"size", (getter)Tensor_get_size, NULL, "number of elements", NULL},
    {"dtype", (getter)Tensor_get_dtype, NULL, "float32 or float64 (a numpy.dtype)", NULL},
    {"requires_grad", (getter)Tensor_get_requires_grad, (setter)Tensor_set_requires_grad,
     "whether backward computes a gradient for this tensor (settable on leaves)", NULL},
    {"grad", (getter)Tensor_get_grad, (setter)Tensor_set_grad,
     "the accumulated gradient (a Tensor) or None; assign None to reset", NULL},
    {"name", (getter)Tensor_get_name, (setter)Tensor_set_name, "an optional label", NULL},
    {"op", (getter)Tensor_get_op, NULL,
     "name of the operation that produced this tensor, None for a leaf", NULL},
    {"op_args", (getter)Tensor_get_op_args, NULL,
     "the arguments of that operation by their Keras names (strides, padding, activation,\n"
     "alpha, axis...), a new dict; {} for a leaf", NULL},
    {"parents", (getter)Tensor_get_parents, NULL, "the input tensors of that operation", NULL},
    {"is_leaf", (getter)Tensor_get_is_leaf, NULL, "True when no recorded op produced it", NULL},
    {"T", (getter)pc_transpose_all, NULL, "the tensor with its axes reversed (a copy)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
