/* py/tensor.c — the Tensor type's Python face: construction, methods, operators,
 * backward (its attributes live in py/tensor_attrs.c). The struct, allocation and
 * GC slots are core/tensor.c's; pc_tensor_type_ready() fills in the slots defined
 * here and readies the type.
 *
 * A Tensor holds a C-contiguous float32/float64 NumPy array (np.asarray(t) is the
 * same memory), its gradient, and the node that produced it.
 */
#include "py/args.h"
#include "py/bindings.h"
#include "py/tensor.h"

/* tensor(data, dtype=None, requires_grad=False, name=None): a new leaf. A
 * C-contiguous float32/float64 array is wrapped without copying. */
static PyObject *
tensor_make(PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "dtype", "requires_grad", "name", NULL};
    PyObject *data, *dtype = Py_None, *name = Py_None;
    PyArrayObject *arr = NULL;
    TensorObject *t = NULL;
    int requires_grad = 0, typenum;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OpO:tensor", kwlist, &data, &dtype,
                                     &requires_grad, &name))
        return NULL;
    if ((typenum = pc_parse_dtype(dtype, "tensor")) == -2)
        return NULL;
    if (name != Py_None && !PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "tensor: name must be a str, got %.100s",
                     Py_TYPE(name)->tp_name);
        return NULL;
    }
    if ((arr = pc_as_array(data, typenum, "tensor")) == NULL)
        return NULL;
    t = (TensorObject *)pc_tensor_wrap(arr, requires_grad);
    Py_DECREF(arr);
    if (t != NULL && name != Py_None)
        t->name = Py_NewRef(name);
    return (PyObject *)t;
}

static PyObject *
Tensor_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwargs)
{
    return tensor_make(args, kwargs);
}

static PyObject *
py_tensor(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    return tensor_make(args, kwargs);
}

/* ---- methods -------------------------------------------------------------------- */

/* Python gets views of self->data, never the object itself: a view shares the memory,
 * but setting its .shape or .dtype cannot change the tensor under a recorded graph. */
static PyObject *
data_view(TensorObject *self)
{
    return PyArray_View(self->data, NULL, &PyArray_Type);
}

static PyObject *
Tensor_numpy(TensorObject *self, PyObject *Py_UNUSED(ignored))
{
    return data_view(self);
}

/* __array__(dtype=None, copy=None): the same memory unless a cast or copy is asked */
static PyObject *
Tensor_array(TensorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"dtype", "copy", NULL};
    PyObject *dtype = Py_None, *copy = Py_None;
    PyArray_Descr *descr = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:__array__", kwlist, &dtype, &copy))
        return NULL;
    if (dtype != Py_None) {
        if (!PyArray_DescrConverter(dtype, &descr))
            return NULL;
        if (!PyArray_EquivTypes(descr, PyArray_DESCR(self->data))) {
            if (copy == Py_False) {                 /* NumPy 2's protocol: never copy */
                Py_DECREF(descr);
                PyErr_Format(PyExc_ValueError, "__array__: a tensor of dtype %R cannot become "
                             "%R without a copy", (PyObject *)PyArray_DESCR(self->data),
                             (PyObject *)descr);
                return NULL;
            }
            return PyArray_CastToType(self->data, descr, 0);        /* steals descr */
        }
        Py_DECREF(descr);
    }
    if (copy == Py_True)
        return PyArray_NewCopy(self->data, NPY_CORDER);
    return data_view(self);
}

static PyObject *
Tensor_backward(TensorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"grad", "retain_graph", "retain_grads", NULL};
    PyObject *grad = Py_None;
    PyArrayObject *seed = NULL;
    int retain_graph = 0, retain_grads = 0, status;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|Opp:backward", kwlist, &grad,
                                     &retain_graph, &retain_grads))
        return NULL;
    if (grad == Py_None) {
        if (PyArray_SIZE(self->data) != 1) {
            PyObject *s = pc_shape_tuple(PyArray_NDIM(self->data), PyArray_SHAPE(self->data));
            if (s != NULL)
                PyErr_Format(PyExc_RuntimeError,
                             "backward: grad can be omitted only for a tensor with one "
                             "element; this one has shape %R", s);
            Py_XDECREF(s);
            return NULL;
        }
        seed = pc_zeros_array(PyArray_NDIM(self->data), PyArray_SHAPE(self->data),
                              PyArray_TYPE(self->data));
        if (seed == NULL)
            return NULL;
        pc_value_store(seed, 0, 1.0, 0);
    }
    else {
        if ((seed = pc_as_array(grad, PyArray_TYPE(self->data), "backward")) == NULL)
            return NULL;
        if (!PyArray_SAMESHAPE(seed, self->data)) {
            pc_shape_mismatch("%s: grad has shape %R but the tensor has shape %R%s", "backward",
                              seed, self->data, "");
            Py_DECREF(seed);
            return NULL;
        }
    }
    status = pc_backward((PyObject *)self, seed, retain_graph, retain_grads);
    Py_DECREF(seed);
    if (status < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* t._vjp(dout): the contribution of t's op alone to each parent's gradient */
static PyObject *
Tensor_vjp(TensorObject *self, PyObject *dout_obj)
{
    PyArrayObject *dout;
    PyObject *result = NULL;

    if ((dout = pc_as_array(dout_obj, PyArray_TYPE(self->data), "vjp")) == NULL)
        return NULL;
    if (!PyArray_SAMESHAPE(dout, self->data))
        pc_shape_mismatch("%s: dout has shape %R but the tensor has shape %R%s", "vjp", dout,
                          self->data, "");
    else
        result = pc_node_vjp((PyObject *)self, dout);
    Py_DECREF(dout);
    return result;
}

static PyObject *
Tensor_detach(TensorObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_tensor_wrap(self->data, 0);      /* same memory, no graph */
}

static PyObject *
Tensor_retain_grad(TensorObject *self, PyObject *Py_UNUSED(ignored))
{
    self->retain_grad = 1;
    Py_RETURN_NONE;
}

static PyObject *
Tensor_item(TensorObject *self, PyObject *Py_UNUSED(ignored))
{
    if (PyArray_SIZE(self->data) != 1) {
        PyErr_Format(PyExc_ValueError, "item: only a tensor with one element can be "
                     "converted to a Python number (this one has %zd)",
                     (Py_ssize_t)PyArray_SIZE(self->data));
        return NULL;
    }
    return PyObject_CallMethod((PyObject *)self->data, "item", NULL);
}

static PyObject *
Tensor_tolist(TensorObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyObject_CallMethod((PyObject *)self->data, "tolist", NULL);
}

static PyObject *
Tensor_astype(TensorObject *self, PyObject *dtype)
{
    int typenum = pc_parse_dtype(dtype, "astype");
    if (typenum == -2)
        return NULL;
    if (typenum == -1) {
        PyErr_SetString(PyExc_TypeError, "astype: dtype must be float32 or float64, got None");
        return NULL;
    }
    return pc_cast((PyObject *)self, typenum);
}

/* Jupyter and teaching hooks live in Python (pycnn.display, pycnn.explain; py/hooks.c). */
static PyObject *
Tensor_repr_latex(TensorObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_call_hook(PC_HOOK_TENSOR_LATEX, (PyObject *)self);
}

static PyObject *
Tensor_explain(TensorObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_call_hook(PC_HOOK_EXPLAIN, (PyObject *)self);
}

static PyObject *
Tensor_explain_grad(TensorObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_call_hook(PC_HOOK_EXPLAIN_GRAD, (PyObject *)self);
}

PC_CALL_BINDING(Tensor_sum, pc_reduce_method(PC_OP_SUM, self, args, kwargs))
PC_CALL_BINDING(Tensor_mean, pc_reduce_method(PC_OP_MEAN, self, args, kwargs))
PC_CALL_BINDING(Tensor_max, pc_reduce_method(PC_OP_MAX, self, args, kwargs))

static PyObject *
Tensor_flatten(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_flatten(NULL, self);
}

static PyMethodDef Tensor_methods[] = {
    {"numpy", (PyCFunction)Tensor_numpy, METH_NOARGS,
     "numpy()\n--\n\nthe NumPy array holding the values (the same memory)"},
    {"__array__", PC_KW(Tensor_array),
     "np.asarray(t) is the tensor's own memory"},
    {"backward", PC_KW(Tensor_backward),
     "backward(grad=None, retain_graph=False, retain_grads=False)\n--\n\naccumulate dE/dθ into\n"
     ".grad of every tensor that requires grad, walking the graph once in reverse\n"
     "topological order. retain_grads=True (or `with pycnn.keep_grads():`) keeps every\n"
     "node's .grad and the graph, for draw_graph and explain_backward."},
    {"_vjp", (PyCFunction)Tensor_vjp, METH_O,
     "_vjp(dout)\n--\n\nthis op's contribution dout·∂t/∂parent to each parent's gradient\n"
     "(a tuple, None for parents that do not require grad); no .grad is changed"},
    {"detach", (PyCFunction)Tensor_detach, METH_NOARGS,
     "detach()\n--\n\na leaf sharing this tensor's memory, cut from the graph"},
    {"retain_grad", (PyCFunction)Tensor_retain_grad, METH_NOARGS,
     "retain_grad()\n--\n\nkeep .grad of this non-leaf tensor after backward"},
    {"item", (PyCFunction)Tensor_item, METH_NOARGS, "item()\n--\n\nthe single value as a float"},
    {"tolist", (PyCFunction)Tensor_tolist, METH_NOARGS, "tolist()\n--\n\nnested Python lists"},
    {"astype", (PyCFunction)Tensor_astype, METH_O,
     "astype(dtype)\n--\n\ncast to float32 or float64 (differentiable)"},
    PC_REDUCE_ROWS("", Tensor_sum, Tensor_mean, Tensor_max),
    {"reshape", (PyCFunction)pc_reshape_method, METH_VARARGS,
     "reshape(*shape)\n--\n\nthe same numbers in another shape, t.reshape(2, 3) or\n"
     "t.reshape((2, 3)); one size may be -1. Shares this tensor's memory."},
    {"flatten", (PyCFunction)Tensor_flatten, METH_NOARGS,
     "flatten()\n--\n\nall the numbers in one axis, in C (row-major) order"},
    {"transpose", (PyCFunction)pc_transpose_method, METH_VARARGS,
     "transpose(*axes)\n--\n\npermute the axes, t.transpose(1, 0) or t.transpose((1, 0));\n"
     "no axes reverses them (t.T)"},
    {"_repr_latex_", (PyCFunction)Tensor_repr_latex, METH_NOARGS, "LaTeX for Jupyter"},
    {"explain", (PyCFunction)Tensor_explain, METH_NOARGS,
     "explain()\n--\n\nthe formula that produced this tensor, with its numbers"},
    {"explain_grad", (PyCFunction)Tensor_explain_grad, METH_NOARGS,
     "explain_grad()\n--\n\nthe chain rule that gave this tensor's .grad, with its numbers\n"
     "(after a backward that kept the gradients: retain_grads=True or keep_grads())"},
    {NULL, NULL, 0, NULL},
};

/* ---- operators ------------------------------------------------------------------ */

static PyObject *Tensor_add(PyObject *a, PyObject *b) { return pc_binary_op(PC_OP_ADD, a, b); }
static PyObject *Tensor_sub(PyObject *a, PyObject *b) { return pc_binary_op(PC_OP_SUB, a, b); }
static PyObject *Tensor_mul(PyObject *a, PyObject *b) { return pc_binary_op(PC_OP_MUL, a, b); }
static PyObject *Tensor_div(PyObject *a, PyObject *b) { return pc_binary_op(PC_OP_DIV, a, b); }
static PyObject *Tensor_neg(PyObject *a) { return pc_unary_op(PC_OP_NEG, a); }
static PyObject *Tensor_abs(PyObject *a) { return pc_unary_op(PC_OP_ABS, a); }

static PyObject *
Tensor_pow(PyObject *a, PyObject *b, PyObject *mod)
{
    if (mod != Py_None) {
        PyErr_SetString(PyExc_TypeError, "pow: a modulus is not supported for tensors");
        return NULL;
    }
    return pc_binary_op(PC_OP_POW, a, b);
}

static PyObject *
Tensor_float(PyObject *self)
{
    PyObject *v = Tensor_item((TensorObject *)self, NULL);
    PyObject *f;
    if (v == NULL)
        return NULL;
    f = PyNumber_Float(v);
    Py_DECREF(v);
    return f;
}

static int
Tensor_bool(PyObject *self)
{
    PyArrayObject *a = PC_DATA(self);
    if (PyArray_SIZE(a) != 1) {
        PyErr_SetString(PyExc_ValueError, "the truth value of a tensor with more than one "
                        "element is ambiguous");
        return -1;
    }
    return PyObject_IsTrue((PyObject *)a);
}

static PyObject *
Tensor_matmul(PyObject *a, PyObject *b)
{
    return pc_matmul_op(a, b);
}

static PyNumberMethods Tensor_as_number = {
    .nb_matrix_multiply = Tensor_matmul,
    .nb_add = Tensor_add,
    .nb_subtract = Tensor_sub,
    .nb_multiply = Tensor_mul,
    .nb_true_divide = Tensor_div,
    .nb_power = Tensor_pow,
    .nb_negative = Tensor_neg,
    .nb_absolute = Tensor_abs,
    .nb_float = Tensor_float,
    .nb_bool = Tensor_bool,
};

/* t[key] (mapping), and len(t) / for row in t (sequence) */
static PyMappingMethods Tensor_as_mapping = {
    .mp_length = pc_tensor_length,
    .mp_subscript = pc_getitem,
};

static PySequenceMethods Tensor_as_sequence = {
    .sq_length = pc_tensor_length,
    .sq_item = pc_tensor_item,
};

/* tensor([[1., 2.], [3., 4.]], op=add) — NumPy's layout plus where it came from */
static PyObject *
Tensor_repr(TensorObject *self)
{
    PyObject *np = NULL, *body = NULL, *extra = NULL, *result = NULL;

    if ((np = PyImport_ImportModule("numpy")) == NULL)
        goto done;
    {   /* prefix makes NumPy indent continuation lines under "tensor(" */
        PyObject *fn = PyObject_GetAttrString(np, "array2string");
        PyObject *args = Py_BuildValue("(O)", (PyObject *)self->data);
        PyObject *kw = Py_BuildValue("{s:s,s:s}", "separator", ", ", "prefix", "tensor(");
        if (fn != NULL && args != NULL && kw != NULL)
            body = PyObject_Call(fn, args, kw);
        Py_XDECREF(fn);
        Py_XDECREF(args);
        Py_XDECREF(kw);
        if (body == NULL)
            goto done;
    }
    extra = PyUnicode_FromFormat(
        "%s%s%s%s",
        PyArray_TYPE(self->data) == NPY_FLOAT64 ? ", dtype=float64" : "",
        self->node != NULL ? ", op=" : "",
        self->node != NULL ? pc_op_table[self->node->op].name : "",
        (self->node == NULL && self->requires_grad) ? ", requires_grad=True" : "");
    if (extra == NULL)
        goto done;
    result = PyUnicode_FromFormat("tensor(%U%U)", body, extra);
done:
    Py_XDECREF(np);
    Py_XDECREF(body);
    Py_XDECREF(extra);
    return result;
}

int
pc_tensor_type_ready(void)
{
    Tensor_Type.tp_doc = PyDoc_STR(
        "Tensor(data, dtype=None, requires_grad=False, name=None)\n--\n\n"
        "An n-dimensional array of float32 (the default) or float64 numbers that records\n"
        "the operations applied to it, so that backward() can compute gradients.\n"
        "Mixing float32 and float64 promotes to float64, like NumPy; Python numbers take\n"
        "the tensor's dtype.\n\n"
        "NumPy on tensors: a ufunc or function pycnn has as an op records it (np.exp(t) is\n"
        "pycnn.exp(t), np.add(t, 1) is t + 1, np.sum(t, axis=0) is t.sum(axis=0)); any other\n"
        "(np.sin, comparisons, out=/where=/dtype= calls) runs in NumPy on the arrays and\n"
        "returns ndarrays. t < u, t == 1: element-wise boolean ndarrays, no gradient;\n"
        "tensors hash by identity and t == u between two tensors is identity (np.equal(t,\n"
        "u) compares them element-wise). DLPack: torch.from_dlpack(t), np.from_dlpack(t) and\n"
        "pycnn.from_dlpack(x) share memory.");
    Tensor_Type.tp_new = Tensor_new;
    Tensor_Type.tp_repr = (reprfunc)Tensor_repr;
    Tensor_Type.tp_getset = pc_tensor_getset;
    Tensor_Type.tp_methods = Tensor_methods;
    Tensor_Type.tp_as_number = &Tensor_as_number;
    Tensor_Type.tp_as_mapping = &Tensor_as_mapping;
    Tensor_Type.tp_as_sequence = &Tensor_as_sequence;
    if (pc_tensor_interop_ready(&Tensor_Type) < 0 || PyType_Ready(&Tensor_Type) < 0)
        return -1;
    /* __array_ufunc__, __array_function__, __dlpack__, t.exp() ... (py/tensor_interop.c):
     * ndarray ⋆ Tensor reaches pycnn's op through __array_ufunc__ */
    return pc_tensor_interop_methods(&Tensor_Type);
}

PyMethodDef pc_tensor_functions[] = {
    {"tensor", PC_KW(py_tensor),
     "tensor(data, dtype=None, requires_grad=False, name=None)\n--\n\nReturns Tensor.\n\n"
     "Lists, numbers and integer data become float32; float32/float64 arrays keep their\n"
     "dtype and, when C-contiguous and writeable, their memory."},
    {NULL, NULL, 0, NULL},
};
