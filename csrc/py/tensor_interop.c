/* py/tensor_interop.c — the Tensor among the other array libraries: NumPy's
 * __array_ufunc__ / __array_function__ protocols, comparisons, the methods that spell
 * every unary op and reduction (t.exp(), t.relu(), t.argmax()), and DLPack
 * (__dlpack__, __dlpack_device__, pycnn.from_dlpack) for zero-copy exchange with
 * PyTorch, JAX and NumPy.
 *
 * THE RULE for NumPy functions on tensors (one rule, both protocols):
 *   a NumPy ufunc or function that pycnn has as an op RECORDS that op: np.exp(t) is
 *   pycnn.exp(t), np.add(t, 1) is t + 1, np.sum(t, axis=0) is t.sum(axis=0),
 *   np.concatenate([t, u]) is pycnn.concat([t, u]) — a Tensor,
 *   on the graph, differentiable. Anything else (np.sin, np.sort, comparisons, a call
 *   with out=, where=, dtype= ...) runs in NumPy on the tensors' arrays (the same
 *   memory, no copy) and returns NumPy's result: ndarrays, no gradient.
 * Comparisons (<, <=, >, >=, and == / != with a number or an array) are element-wise
 * and return boolean ndarrays (no gradient, as in every framework). A Tensor hashes by
 * identity and tensor == tensor IS identity, so the two agree: `w in model.weights`,
 * list.index, dict keys and sets of tensors work; np.equal(t, u) compares two tensors
 * element-wise.
 */
#include "py/args.h"
#include "py/bindings.h"
#include "py/tensor.h"

/* ---- the ops NumPy's names stand for ------------------------------------------- */

/* NumPy ufunc name -> pycnn op; n_in 1 or 2. matmul is its own entry. */
static const struct {
    const char *name;
    pc_op op;
    int n_in;
} ufunc_ops[] = {
    {"add", PC_OP_ADD, 2},          {"subtract", PC_OP_SUB, 2},
    {"multiply", PC_OP_MUL, 2},     {"divide", PC_OP_DIV, 2},
    {"true_divide", PC_OP_DIV, 2},  {"power", PC_OP_POW, 2},
    {"maximum", PC_OP_MAXIMUM, 2},  {"minimum", PC_OP_MINIMUM, 2},
    {"negative", PC_OP_NEG, 1},     {"absolute", PC_OP_ABS, 1},
    {"exp", PC_OP_EXP, 1},          {"log", PC_OP_LOG, 1},
    {"sqrt", PC_OP_SQRT, 1},        {"square", PC_OP_SQUARE, 1},
    {"tanh", PC_OP_TANH, 1},        {"matmul", PC_OP_MATMUL, 2},
};
#define N_UFUNC_OPS ((int)(sizeof(ufunc_ops) / sizeof(ufunc_ops[0])))

/* NumPy function name -> reduction op (np.sum, np.mean, np.max / np.amax) */
static const struct {
    const char *name;
    pc_op op;
} reduce_functions[] = {
    {"sum", PC_OP_SUM}, {"mean", PC_OP_MEAN}, {"max", PC_OP_MAX}, {"amax", PC_OP_MAX},
};
#define N_REDUCE_FUNCTIONS ((int)(sizeof(reduce_functions) / sizeof(reduce_functions[0])))

/* obj.__name__ as UTF-8 into buf (empty when it has none); 0, or -1 with an exception */
static int
name_of(PyObject *obj, char *buf, size_t size)
{
    PyObject *name = PyObject_GetAttrString(obj, "__name__");
    const char *s;
    buf[0] = '\0';
    if (name == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : "";
    if (s == NULL) {
        Py_DECREF(name);
        return -1;
    }
    snprintf(buf, size, "%s", s);
    Py_DECREF(name);
    return 0;
}

/* A copy of obj with every Tensor (also inside lists and tuples, as NumPy's sequence
 * arguments nest them) replaced by its array: the same memory. New ref or NULL. */
static PyObject *
unwrap(PyObject *obj, int depth)
{
    if (pc_tensor_check(obj))
        return PyArray_View(PC_DATA(obj), NULL, &PyArray_Type);
    if (depth < 32 && (PyList_Check(obj) || PyTuple_Check(obj))) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(obj);
        PyObject *out = PyList_Check(obj) ? PyList_New(n) : PyTuple_New(n);
        if (out == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = unwrap(PySequence_Fast_GET_ITEM(obj, i), depth + 1);
            if (item == NULL) {
                Py_DECREF(out);
                return NULL;
            }
            if (PyList_Check(out))
                PyList_SET_ITEM(out, i, item);
            else
                PyTuple_SET_ITEM(out, i, item);
        }
        return out;
    }
    return Py_NewRef(obj);
}

/* kwargs with every value unwrapped (new ref; NULL kwargs gives NULL without error) */
static PyObject *
unwrap_kwargs(PyObject *kwargs, int *failed)
{
    PyObject *out, *key, *value;
    Py_ssize_t pos = 0;
    *failed = 0;
    if (kwargs == NULL)
        return NULL;
    if ((out = PyDict_New()) == NULL)
        goto fail;
    while (PyDict_Next(kwargs, &pos, &key, &value)) {
        PyObject *v = unwrap(value, 0);
        if (v == NULL || PyDict_SetItem(out, key, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(out);
            goto fail;
        }
        Py_DECREF(v);
    }
    return out;
fail:
    *failed = 1;
    return NULL;
}

/* fn(*args, **kwargs) with every Tensor replaced by its array: NumPy's own result */
static PyObject *
call_on_arrays(PyObject *fn, PyObject *args, PyObject *kwargs)
{
    PyObject *a = NULL, *kw = NULL, *result = NULL;
    int failed;
    if ((a = unwrap(args, 0)) == NULL)
        return NULL;
    kw = unwrap_kwargs(kwargs, &failed);
    if (!failed)
        result = PyObject_Call(fn, a, kw);
    Py_DECREF(a);
    Py_XDECREF(kw);
    return result;
}

/* 1 when obj (a tuple, or one value) holds a Tensor */
static int
holds_tensor(PyObject *obj)
{
    if (pc_tensor_check(obj))
        return 1;
    if (PyTuple_Check(obj) || PyList_Check(obj))
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(obj); i++)
            if (pc_tensor_check(PySequence_Fast_GET_ITEM(obj, i)))
                return 1;
    return 0;
}

/* ---- __array_ufunc__(ufunc, method, *inputs, **kwargs) --------------------------- */

static PyObject *
Tensor_array_ufunc(PyObject *Py_UNUSED(self), PyObject *args, PyObject *kwargs)
{
    PyObject *ufunc, *method, *inputs = NULL, *fn = NULL, *result = NULL;
    char name[64];
    Py_ssize_t n = PyTuple_GET_SIZE(args);

    if (n < 2) {
        PyErr_SetString(PyExc_TypeError, "__array_ufunc__(ufunc, method, *inputs, **kwargs)");
        return NULL;
    }
    ufunc = PyTuple_GET_ITEM(args, 0);
    method = PyTuple_GET_ITEM(args, 1);
    if ((inputs = PyTuple_GetSlice(args, 2, n)) == NULL)
        return NULL;
    if (kwargs != NULL && PyDict_GetItemString(kwargs, "out") != NULL &&
        holds_tensor(PyDict_GetItemString(kwargs, "out"))) {
        PyErr_Format(PyExc_TypeError, "%R: out= cannot be a pycnn Tensor (its values belong "
                     "to the graph that recorded them); write into t.numpy() or an ndarray",
                     ufunc);
        goto done;
    }
    if (name_of(ufunc, name, sizeof(name)) < 0)
        goto done;
    /* the rule: a plain call of a ufunc pycnn has, with no keyword arguments, records */
    if (PyUnicode_Check(method) && PyUnicode_CompareWithASCIIString(method, "__call__") == 0 &&
        (kwargs == NULL || PyDict_GET_SIZE(kwargs) == 0)) {
        for (int i = 0; i < N_UFUNC_OPS; i++) {
            if (strcmp(name, ufunc_ops[i].name) != 0 || PyTuple_GET_SIZE(inputs) !=
                                                             ufunc_ops[i].n_in)
                continue;
            if (ufunc_ops[i].op == PC_OP_MATMUL)
                result = pc_matmul_op(PyTuple_GET_ITEM(inputs, 0), PyTuple_GET_ITEM(inputs, 1));
            else if (ufunc_ops[i].n_in == 2)
                result = pc_binary_op(ufunc_ops[i].op, PyTuple_GET_ITEM(inputs, 0),
                                      PyTuple_GET_ITEM(inputs, 1));
            else
                result = pc_unary_op(ufunc_ops[i].op, PyTuple_GET_ITEM(inputs, 0));
            goto done;
        }
    }
    /* everything else: NumPy on the arrays */
    if ((fn = PyObject_GetAttr(ufunc, method)) == NULL)
        goto done;
    result = call_on_arrays(fn, inputs, kwargs);
done:
    Py_XDECREF(inputs);
    Py_XDECREF(fn);
    return result;
}

/* ---- __array_function__(func, types, args, kwargs) ------------------------------- */

/* 1 when every keyword is one of allowed (NULL-terminated) */
static int
only_keywords(PyObject *kwargs, const char *const *allowed)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(kwargs, &pos, &key, &value)) {
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL; a++)
            if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, *a) == 0)
                ok = 1;
        if (!ok)
            return 0;
    }
    return 1;
}

/* the op pycnn records for np.<name>(args, kwargs), or NULL with no exception when
 * pycnn has none for that call (then NumPy runs it) */
static PyObject *
recorded_function(const char *name, PyObject *args, PyObject *kwargs)
{
    static const char *const reduce_kw[] = {"axis", "keepdims", NULL};
    static const char *const transpose_kw[] = {"axes", NULL};
    static const char *const join_kw[] = {"axis", NULL};
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    PyObject *x = n > 0 ? PyTuple_GET_ITEM(args, 0) : NULL;

    /* np.concatenate / np.stack of a list of tensors and arrays: pycnn.concat / stack */
    if (x != NULL && (strcmp(name, "concatenate") == 0 || strcmp(name, "stack") == 0) &&
        n <= 2 && (PyList_Check(x) || PyTuple_Check(x)) && holds_tensor(x) &&
        only_keywords(kwargs, join_kw)) {
        PyObject *fn = pc_core_function(name[0] == 'c' ? "concat" : "stack"), *result;
        if (fn == NULL)
            return NULL;
        result = PyObject_Call(fn, args, PyDict_GET_SIZE(kwargs) ? kwargs : NULL);
        Py_DECREF(fn);
        return result;
    }
    if (x == NULL || !pc_tensor_check(x))
        return NULL;
    for (int i = 0; i < N_REDUCE_FUNCTIONS; i++) {
        if (strcmp(name, reduce_functions[i].name) != 0 || n > 2 ||
            !only_keywords(kwargs, reduce_kw))
            continue;
        PyObject *rest = PyTuple_GetSlice(args, 1, n), *result;
        if (rest == NULL)
            return NULL;
        result = pc_reduce_method(reduce_functions[i].op, x, rest,
                                  PyDict_GET_SIZE(kwargs) ? kwargs : NULL);
        Py_DECREF(rest);
        return result;
    }
    if (strcmp(name, "transpose") == 0 && n <= 2 && only_keywords(kwargs, transpose_kw)) {
        PyObject *axes = n == 2 ? PyTuple_GET_ITEM(args, 1) : PyDict_GetItemString(kwargs,
                                                                                   "axes");
        PyObject *rest = axes == NULL || axes == Py_None ? PyTuple_New(0)
                                                         : PyTuple_Pack(1, axes);
        PyObject *result;
        if (rest == NULL)
            return NULL;
        result = pc_transpose_method(x, rest);
        Py_DECREF(rest);
        return result;
    }
    if (strcmp(name, "reshape") == 0 && n == 2 && PyDict_GET_SIZE(kwargs) == 0) {
        PyObject *rest = PyTuple_Pack(1, PyTuple_GET_ITEM(args, 1)), *result;
        if (rest == NULL)
            return NULL;
        result = pc_reshape_method(x, rest);
        Py_DECREF(rest);
        return result;
    }
    return NULL;
}

static PyObject *
Tensor_array_function(PyObject *Py_UNUSED(self), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"func", "types", "args", "kwargs", NULL};
    PyObject *func, *types, *fargs, *fkwargs, *result = NULL, *impl = NULL;
    char name[64], module[16];

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO!O!:__array_function__", kwlist, &func,
                                     &types, &PyTuple_Type, &fargs, &PyDict_Type, &fkwargs))
        return NULL;
    /* another library's array among the arguments: let it (or NumPy's TypeError) decide */
    {
        PyObject *seq = PySequence_Fast(types, "__array_function__: types must be a sequence");
        int foreign = 0;
        if (seq == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            PyObject *t = PySequence_Fast_GET_ITEM(seq, i);
            if (!PyType_Check(t) || !(PyType_IsSubtype((PyTypeObject *)t, &Tensor_Type) ||
                                      PyType_IsSubtype((PyTypeObject *)t, &PyArray_Type)))
                foreign = 1;
        }
        Py_DECREF(seq);
        if (foreign)
            Py_RETURN_NOTIMPLEMENTED;
    }
    if (name_of(func, name, sizeof(name)) < 0)
        return NULL;
    {
        PyObject *mod = PyObject_GetAttrString(func, "__module__");
        const char *s = mod != NULL && PyUnicode_Check(mod) ? PyUnicode_AsUTF8(mod) : "";
        if (mod == NULL)
            PyErr_Clear();
        snprintf(module, sizeof(module), "%s", s != NULL ? s : "");
        Py_XDECREF(mod);
        if (PyErr_Occurred())
            return NULL;
    }
    if (strcmp(module, "numpy") == 0) {
        result = recorded_function(name, fargs, fkwargs);
        if (result != NULL || PyErr_Occurred())
            return result;
    }
    /* NumPy's own implementation on the arrays (the dispatcher skipped: no Tensor left) */
    impl = PyObject_GetAttrString(func, "_implementation");
    if (impl == NULL) {
        PyErr_Clear();
        impl = Py_NewRef(func);
    }
    result = call_on_arrays(impl, fargs, fkwargs);
    Py_DECREF(impl);
    return result;
}

/* ---- comparisons ----------------------------------------------------------------- */

static PyObject *
Tensor_richcompare(PyObject *self, PyObject *other, int op)
{
    PyObject *a = NULL, *b = NULL, *result = NULL;
    /* a value no array library would compare (None, a string, a layer): not equal */
    if (!pc_tensor_check(other) && !PyArray_Check(other) && !PyNumber_Check(other) &&
        !PyList_Check(other) && !PyTuple_Check(other) && !PyArray_IsScalar(other, Generic))
        Py_RETURN_NOTIMPLEMENTED;
    /* tensor == tensor is identity, consistent with the identity hash: `w in weights`,
     * list.index and dict keys keep working; np.equal(t, u) is the element-wise one */
    if ((op == Py_EQ || op == Py_NE) && pc_tensor_check(self) && pc_tensor_check(other))
        Py_RETURN_NOTIMPLEMENTED;
    if (!pc_tensor_check(self)) {           /* reflected: other is the Tensor */
        /* a < b is b > a: Py_LT, Py_LE, Py_EQ, Py_NE, Py_GT, Py_GE swapped */
        static const int swapped[] = {Py_GT, Py_GE, Py_EQ, Py_NE, Py_LT, Py_LE};
        PyObject *tmp = self;
        self = other;
        other = tmp;
        op = swapped[op];
    }
    if ((a = unwrap(self, 0)) == NULL || (b = unwrap(other, 0)) == NULL)
        goto done;
    result = PyObject_RichCompare(a, b, op);        /* NumPy's element-wise bool array */
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
    return result;
}

/* ---- methods: every unary op, activation and reduction ---------------------------- */

static PyObject *Tensor_exp(PyObject *t, PyObject *Py_UNUSED(a)) { return pc_unary_op(PC_OP_EXP, t); }
static PyObject *Tensor_log(PyObject *t, PyObject *Py_UNUSED(a)) { return pc_unary_op(PC_OP_LOG, t); }
static PyObject *Tensor_sqrt(PyObject *t, PyObject *Py_UNUSED(a)) { return pc_unary_op(PC_OP_SQRT, t); }
static PyObject *Tensor_square(PyObject *t, PyObject *Py_UNUSED(a)) { return pc_unary_op(PC_OP_SQUARE, t); }
static PyObject *Tensor_sigmoid(PyObject *t, PyObject *Py_UNUSED(a)) { return pc_unary_op(PC_OP_SIGMOID, t); }
static PyObject *Tensor_tanh(PyObject *t, PyObject *Py_UNUSED(a)) { return pc_unary_op(PC_OP_TANH, t); }
static PyObject *Tensor_relu(PyObject *t, PyObject *Py_UNUSED(a)) { return pc_unary_op(PC_OP_RELU, t); }
static PyObject *Tensor_abs_method(PyObject *t, PyObject *Py_UNUSED(a)) { return pc_unary_op(PC_OP_ABS, t); }
static PyObject *Tensor_negative(PyObject *t, PyObject *Py_UNUSED(a)) { return pc_unary_op(PC_OP_NEG, t); }

/* pycnn._core.<name>(self, *args, **kwargs): the activations with parameters */
static PyObject *
call_core(const char *name, PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *fn = pc_core_function(name), *full = NULL, *result = NULL;
    if (fn == NULL)
        return NULL;
    if ((full = PyTuple_New(PyTuple_GET_SIZE(args) + 1)) != NULL) {
        PyTuple_SET_ITEM(full, 0, Py_NewRef(self));
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++)
            PyTuple_SET_ITEM(full, i + 1, Py_NewRef(PyTuple_GET_ITEM(args, i)));
        result = PyObject_Call(fn, full, kwargs);
    }
    Py_DECREF(fn);
    Py_XDECREF(full);
    return result;
}

/* t.leaky_relu(...) = pycnn.leaky_relu(t, ...), and so on: one method per name */
#define CORE_METHOD(fname)                                                               \
    static PyObject *Tensor_##fname(PyObject *self, PyObject *args, PyObject *kwargs)    \
    {                                                                                    \
        return call_core(#fname, self, args, kwargs);                                    \
    }
CORE_METHOD(leaky_relu)
CORE_METHOD(elu)
CORE_METHOD(swish)
CORE_METHOD(softmax)
CORE_METHOD(log_softmax)
#undef CORE_METHOD

/* argmax / argmin(axis=None, keepdims=False): NumPy's, on the values (indices have no
 * gradient); an int64 ndarray, or a Python int for axis=None */
static PyObject *
arg_reduce(PyObject *self, const char *which, PyObject *args, PyObject *kwargs)
{
    static const char *const allowed[] = {"axis", "keepdims", NULL};
    PyObject *fn, *result;
    if (PyTuple_GET_SIZE(args) > 1 || (kwargs != NULL && !only_keywords(kwargs, allowed))) {
        PyErr_Format(PyExc_TypeError, "%s(axis=None, keepdims=False)", which);
        return NULL;
    }
    if ((fn = PyObject_GetAttrString((PyObject *)PC_DATA(self), which)) == NULL)
        return NULL;
    result = PyObject_Call(fn, args, kwargs);
    Py_DECREF(fn);
    if (result != NULL && PyArray_IsScalar(result, Integer)) {
        PyObject *i = PyNumber_Long(result);
        Py_DECREF(result);
        result = i;
    }
    return result;
}

static PyObject *
Tensor_argmax(PyObject *self, PyObject *args, PyObject *kwargs)
{
    return arg_reduce(self, "argmax", args, kwargs);
}

static PyObject *
Tensor_argmin(PyObject *self, PyObject *args, PyObject *kwargs)
{
    return arg_reduce(self, "argmin", args, kwargs);
}

/* ---- DLPack ---------------------------------------------------------------------- */

/* __dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None): the tensor's
 * own memory as a DLPack capsule (NumPy's exporter: the capsule keeps the array alive). */
static PyObject *
Tensor_dlpack(PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *fn = PyObject_GetAttrString((PyObject *)PC_DATA(self), "__dlpack__");
    PyObject *result;
    if (fn == NULL)
        return NULL;
    result = PyObject_Call(fn, args, kwargs);
    Py_DECREF(fn);
    return result;
}

static PyObject *
Tensor_dlpack_device(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyObject_CallMethod((PyObject *)PC_DATA(self), "__dlpack_device__", NULL);
}

/* from_dlpack(x, requires_grad=False): a Tensor on x's memory (no copy) when x is a
 * C-contiguous, writeable float32/float64 CPU array; other data is converted (copied)
 * as tensor() does. x: anything with __dlpack__ (torch, JAX, NumPy, CuPy on CPU...). */
static PyObject *
py_from_dlpack(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "requires_grad", NULL};
    PyObject *x, *np = NULL, *array = NULL, *result = NULL;
    PyArrayObject *data = NULL;
    int requires_grad = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|p:from_dlpack", kwlist, &x,
                                     &requires_grad))
        return NULL;
    if (!PyObject_HasAttrString(x, "__dlpack__")) {
        PyErr_Format(PyExc_TypeError, "from_dlpack: %.100s has no __dlpack__ (expected a "
                     "PyTorch, JAX or NumPy array)", Py_TYPE(x)->tp_name);
        return NULL;
    }
    if ((np = PyImport_ImportModule("numpy")) == NULL)
        goto done;
    if ((array = PyObject_CallMethod(np, "from_dlpack", "O", x)) == NULL)
        goto done;
    if ((data = pc_as_array(array, -1, "from_dlpack")) == NULL)
        goto done;
    result = pc_tensor_wrap(data, requires_grad);
done:
    Py_XDECREF(np);
    Py_XDECREF(array);
    Py_XDECREF(data);
    return result;
}

static PyMethodDef interop_methods[] = {
    {"__array_ufunc__", PC_KW(Tensor_array_ufunc),
     "NumPy ufuncs pycnn has (add, multiply, exp, ...) record that op; others run in NumPy"},
    {"__array_function__", PC_KW(Tensor_array_function),
     "np.sum / mean / max / transpose / reshape / concatenate / stack record; others run "
     "in NumPy"},
    {"exp", Tensor_exp, METH_NOARGS, "exp(): e^t, as pycnn.exp(t)"},
    {"log", Tensor_log, METH_NOARGS, "log(): natural logarithm, as pycnn.log(t)"},
    {"sqrt", Tensor_sqrt, METH_NOARGS, "sqrt(): square root, as pycnn.sqrt(t)"},
    {"square", Tensor_square, METH_NOARGS, "square(): t^2, as pycnn.square(t)"},
    {"sigmoid", Tensor_sigmoid, METH_NOARGS, "sigmoid(): 1/(1+e^-t), as pycnn.sigmoid(t)"},
    {"tanh", Tensor_tanh, METH_NOARGS, "tanh(): as pycnn.tanh(t)"},
    {"relu", Tensor_relu, METH_NOARGS, "relu(): max(t, 0), as pycnn.relu(t)"},
    {"abs", Tensor_abs_method, METH_NOARGS, "abs(): |t|, as pycnn.abs(t)"},
    {"negative", Tensor_negative, METH_NOARGS, "negative(): -t"},
    {"leaky_relu", PC_KW(Tensor_leaky_relu), "leaky_relu(alpha=0.1), as pycnn.leaky_relu(t)"},
    {"elu", PC_KW(Tensor_elu), "elu(alpha=1.0), as pycnn.elu(t)"},
    {"swish", PC_KW(Tensor_swish), "swish(beta=1.0), as pycnn.swish(t)"},
    {"softmax", PC_KW(Tensor_softmax), "softmax(axis=-1), as pycnn.softmax(t)"},
    {"log_softmax", PC_KW(Tensor_log_softmax), "log_softmax(axis=-1), as pycnn.log_softmax(t)"},
    {"argmax", PC_KW(Tensor_argmax),
     "argmax(axis=None, keepdims=False): indices of the maxima (NumPy's; no gradient)"},
    {"argmin", PC_KW(Tensor_argmin),
     "argmin(axis=None, keepdims=False): indices of the minima (NumPy's; no gradient)"},
    {"__dlpack__", PC_KW(Tensor_dlpack),
     "__dlpack__(*, stream=None, max_version=None, dl_device=None, copy=None): the\n"
     "tensor's memory as a DLPack capsule (torch.from_dlpack(t), np.from_dlpack(t))"},
    {"__dlpack_device__", Tensor_dlpack_device, METH_NOARGS, "(1, 0): the CPU"},
    {NULL, NULL, 0, NULL},
};

PyMethodDef pc_interop_functions[] = {
    {"from_dlpack", PC_KW(py_from_dlpack),
     "from_dlpack(x, requires_grad=False)\n--\n\n"
     "A Tensor on x's memory (no copy for C-contiguous writeable float32/float64 CPU\n"
     "data), x any object with __dlpack__ (PyTorch, JAX, NumPy)"},
    {NULL, NULL, 0, NULL},
};

int
pc_tensor_interop_ready(PyTypeObject *type)
{
    type->tp_richcompare = Tensor_richcompare;
    /* defining tp_richcompare would leave the type unhashable: identity, as before */
    type->tp_hash = PyBaseObject_Type.tp_hash;
    return 0;
}

/* t.<fn>() for every one-input element-wise op of the op registry that has no method of
 * its own yet (t.softplus(), t.gelu(), and whatever row ops.def gains): the module
 * function, bound to the tensor (PyInstanceMethod: t.f() calls f(t)) */
static int
registry_methods(PyTypeObject *type)
{
    PyObject *fn = pc_core_function("op_registry"), *rows = NULL;
    int status = -1;
    if (fn == NULL || (rows = PyObject_CallNoArgs(fn)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        PyObject *family = PyDict_GetItemString(row, "family");
        PyObject *arity = PyDict_GetItemString(row, "arity");
        PyObject *name = PyDict_GetItemString(row, "function");
        PyObject *function, *method;
        const char *s;
        if (family == NULL || arity == NULL || name == NULL || !PyUnicode_Check(name) ||
            PyUnicode_CompareWithASCIIString(family, "elementwise") != 0 ||
            PyLong_AsLong(arity) != 1 || PyDict_GetItem(type->tp_dict, name) != NULL)
            continue;
        if ((s = PyUnicode_AsUTF8(name)) == NULL || (function = pc_core_function(s)) == NULL)
            goto done;
        method = PyInstanceMethod_New(function);
        Py_DECREF(function);
        if (method == NULL || PyDict_SetItem(type->tp_dict, name, method) < 0) {
            Py_XDECREF(method);
            goto done;
        }
        Py_DECREF(method);
    }
    status = PyErr_Occurred() ? -1 : 0;
done:
    Py_XDECREF(fn);
    Py_XDECREF(rows);
    return status;
}

int
pc_tensor_interop_methods(PyTypeObject *type)
{
    for (PyMethodDef *def = interop_methods; def->ml_name != NULL; def++) {
        PyObject *descr = PyDescr_NewMethod(type, def);
        if (descr == NULL || PyDict_SetItemString(type->tp_dict, def->ml_name, descr) < 0) {
            Py_XDECREF(descr);
            return -1;
        }
        Py_DECREF(descr);
    }
    if (registry_methods(type) < 0)
        return -1;
    PyType_Modified(type);
    return 0;
}
