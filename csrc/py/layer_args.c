/* py/layer_args.c — argument parsing shared by the layer types: shapes, int pairs
 * (kernel_size, strides, pool_size), padding, data_format, activations. Errors name
 * the layer type and the value. */
#include "py/bindings.h"
#include "py/layer.h"

#include "kernels/dense.h"
#include "kernels/window.h"

/* A positive integer argument (ints and NumPy integers), else -1 with ValueError */
npy_intp
pc_parse_positive(PyObject *obj, const char *who, const char *arg)
{
    npy_intp v = PyIndex_Check(obj) ? PyNumber_AsSsize_t(obj, NULL) : -1;
    if (v >= 1)
        return v;
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError, "%s: %s must be a positive integer, got %R", who, arg, obj);
    return -1;
}

/* ---- shapes and arguments ----------------------------------------------------------- */

int
pc_layer_parse_shape(PyObject *shape, const char *who, int min_ndim, int *ndim,
                     npy_intp *dims)
{
    PyObject *seq = PySequence_Check(shape) && !PyUnicode_Check(shape)
                        ? PySequence_Fast(shape, "shape") : NULL;
    int status = -1;

    if (seq == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: a shape must be a tuple of ints (None for the "
                     "batch), got %R", who, shape);
        return -1;
    }
    *ndim = (int)PySequence_Fast_GET_SIZE(seq);
    if (*ndim < min_ndim || *ndim > PC_MAX_NDIM) {
        PyErr_Format(PyExc_ValueError, "%s: expected a shape with at least %d dimensions "
                     "(batch first), got %R", who, min_ndim, shape);
        goto done;
    }
    for (int d = 0; d < *ndim; d++) {
        PyObject *v = PySequence_Fast_GET_ITEM(seq, d);
        dims[d] = v == Py_None ? -1 : PyNumber_AsSsize_t(v, NULL);
        if (dims[d] < 0 && v != Py_None) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s: shape %R: each entry must be a "
                         "non-negative int or None", who, shape);
            goto done;
        }
    }
    status = 0;
done:
    Py_DECREF(seq);
    return status;
}

PyObject *
pc_layer_shape_tuple(int ndim, const npy_intp *dims)
{
    PyObject *t = PyTuple_New(ndim);
    for (int d = 0; t != NULL && d < ndim; d++) {
        PyObject *v = dims[d] < 0 ? Py_NewRef(Py_None) : PyLong_FromSsize_t(dims[d]);
        if (v == NULL)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, d, v);
    }
    return t;
}

int
pc_parse_pair(PyObject *obj, const char *who, const char *arg, pc_index out[2])
{
    if (PyIndex_Check(obj)) {
        out[0] = out[1] = PyNumber_AsSsize_t(obj, NULL);
    }
    else {
        PyObject *seq = PySequence_Check(obj) ? PySequence_Fast(obj, arg) : NULL;
        if (seq == NULL || PySequence_Fast_GET_SIZE(seq) != 2) {
            Py_XDECREF(seq);
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s: %s must be an int or a pair of ints, got %R",
                         who, arg, obj);
            return -1;
        }
        out[0] = PyNumber_AsSsize_t(PySequence_Fast_GET_ITEM(seq, 0), NULL);
        out[1] = PyNumber_AsSsize_t(PySequence_Fast_GET_ITEM(seq, 1), NULL);
        Py_DECREF(seq);
    }
    if (PyErr_Occurred() || out[0] < 1 || out[1] < 1) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s: %s must be positive integers, got %R", who, arg,
                     obj);
        return -1;
    }
    return 0;
}

int
pc_parse_padding(PyObject *obj, const char *who)
{
    const char *s = PyUnicode_Check(obj) ? PyUnicode_AsUTF8(obj) : NULL;
    if (s != NULL && PyOS_stricmp(s, "valid") == 0)
        return 0;
    if (s != NULL && PyOS_stricmp(s, "same") == 0)
        return 1;
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError, "%s: padding must be 'valid' or 'same', got %R", who, obj);
    return -1;
}

int
pc_check_channels_last(PyObject *obj, const char *who)
{
    const char *s = PyUnicode_Check(obj) ? PyUnicode_AsUTF8(obj) : NULL;
    if (obj == Py_None || (s != NULL && strcmp(s, "channels_last") == 0))
        return 0;
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError, "%s: data_format must be 'channels_last' (N, H, W, C); "
                 "got %R", who, obj);
    return -1;
}

/* the core's relu/sigmoid/tanh functions, by name: they fuse */
static int
fused_code(const char *name)
{
    static const char *names[] = {"linear", "relu", "sigmoid", "tanh"};
    static const int codes[] = {PC_ACT_LINEAR, PC_ACT_RELU, PC_ACT_SIGMOID, PC_ACT_TANH};
    for (int i = 0; i < 4; i++)
        if (name != NULL && strcmp(name, names[i]) == 0)
            return codes[i];
    return -1;
}

int
pc_resolve_activation(PyObject *activation, const char *who, int *act, PyObject **post,
                      PyObject **keras_name)
{
    *post = *keras_name = NULL;
    if (activation == Py_None) {
        *act = PC_ACT_LINEAR;
        *keras_name = PyUnicode_FromString("linear");
        return *keras_name == NULL ? -1 : 0;
    }
    if (PyUnicode_Check(activation)) {
        if ((*act = fused_code(PyUnicode_AsUTF8(activation))) >= 0) {
            *keras_name = Py_NewRef(activation);
            return 0;
        }
        if ((*post = pc_call_hook(PC_HOOK_ACTIVATIONS_GET, activation)) == NULL) {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_Format(PyExc_ValueError, "%s: unknown activation %R (%S)", who, activation,
                         value != NULL ? value : Py_None);
            Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
            return -1;
        }
        *act = PC_ACT_LINEAR;
        *keras_name = Py_NewRef(activation);
        return 0;
    }
    if (!PyCallable_Check(activation)) {
        PyErr_Format(PyExc_TypeError, "%s: activation must be a name like 'relu' or a "
                     "callable, got %.100s", who, Py_TYPE(activation)->tp_name);
        return -1;
    }
    if (PyCFunction_Check(activation) && ((PyCFunctionObject *)activation)->m_module != NULL &&
        PyUnicode_Check(((PyCFunctionObject *)activation)->m_module) &&
        PyUnicode_CompareWithASCIIString(((PyCFunctionObject *)activation)->m_module,
                                         "pycnn._core") == 0 &&
        (*act = fused_code(((PyCFunctionObject *)activation)->m_ml->ml_name)) >= 0) {
        *keras_name = PyUnicode_FromString(((PyCFunctionObject *)activation)->m_ml->ml_name);
        return *keras_name == NULL ? -1 : 0;
    }
    *act = PC_ACT_LINEAR;
    *post = Py_NewRef(activation);
    *keras_name = PyObject_GetAttrString(activation, "__name__");
    if (*keras_name == NULL) {
        Py_CLEAR(*post);
        return -1;
    }
    return 0;
}

int
pc_kernel_layer_args(LayerObject *self, const char *who, PyObject *activation,
                     PyObject *kinit, PyObject *binit, int *act)
{
    PyObject *post = NULL, *keras_name = NULL;
    if (pc_initializer_check(kinit, who, "kernel_initializer") < 0 ||
        pc_initializer_check(binit, who, "bias_initializer") < 0 ||
        pc_resolve_activation(activation, who, act, &post, &keras_name) < 0)
        return -1;
    Py_XSETREF(self->objs[PC_OBJ_ACTIVATION], keras_name);
    Py_XSETREF(self->objs[PC_OBJ_POST], post);
    Py_XSETREF(self->objs[PC_OBJ_KERNEL_INIT], Py_NewRef(kinit));
    Py_XSETREF(self->objs[PC_OBJ_BIAS_INIT], Py_NewRef(binit));
    return 0;
}

int
pc_kernel_layer_finish(LayerObject *self, const char *who, PyObject *activation,
                       PyObject *kinit, PyObject *binit, int *act, const pc_layer_kwargs *common)
{
    int status = -1;
    kinit = kinit != NULL ? Py_NewRef(kinit) : PyUnicode_FromString("glorot_uniform");
    binit = binit != NULL ? Py_NewRef(binit) : PyUnicode_FromString("zeros");
    if (kinit != NULL && binit != NULL &&
        pc_kernel_layer_args(self, who, activation, kinit, binit, act) == 0)
        status = pc_layer_init_common(self, common);
    Py_XDECREF(kinit);
    Py_XDECREF(binit);
    return status;
}

PyObject *
pc_kernel_layer_config(LayerObject *self, PyObject *own, int with_activation, int use_bias)
{
    PyObject *k = NULL, *b = NULL;
    int status = -1;
    if (own == NULL)
        return NULL;
    if (pc_layer_check_init(self) == 0 &&
        (!with_activation ||
         PyDict_SetItemString(own, "activation", self->objs[PC_OBJ_ACTIVATION]) == 0) &&
        PyDict_SetItemString(own, "use_bias", use_bias ? Py_True : Py_False) == 0 &&
        (k = pc_initializer_serialize(self->objs[PC_OBJ_KERNEL_INIT])) != NULL &&
        (b = pc_initializer_serialize(self->objs[PC_OBJ_BIAS_INIT])) != NULL &&
        PyDict_SetItemString(own, "kernel_initializer", k) == 0 &&
        PyDict_SetItemString(own, "bias_initializer", b) == 0)
        status = 0;
    Py_XDECREF(k);
    Py_XDECREF(b);
    if (status < 0)
        Py_CLEAR(own);
    return pc_layer_config(self, own);
}

PyObject *
pc_call_method(PyObject *obj, const char *method, PyObject *arg)
{
    PyObject *name = PyUnicode_FromString(method), *r;
    if (name == NULL)
        return NULL;
    r = PyObject_CallMethodOneArg(obj, name, arg);
    Py_DECREF(name);
    return r;
}

int
pc_add_type(PyObject *m, PyTypeObject *type)
{
    const char *dot = strrchr(type->tp_name, '.');
    if (PyType_Ready(type) < 0)
        return -1;
    return PyModule_AddObjectRef(m, dot != NULL ? dot + 1 : type->tp_name, (PyObject *)type);
}

int
pc_add_layer_file(PyObject *m, PyTypeObject *const *types, PyMethodDef *functions)
{
    for (; *types != NULL; types++)
        if (pc_add_type(m, *types) < 0)
            return -1;
    return functions != NULL ? PyModule_AddFunctions(m, functions) : 0;
}

/* input_shape → dims with errors naming the layer (no initialisation check) */
static int
layer_shape_dims(LayerObject *self, PyObject *input_shape, int min_ndim, int *nd,
                 npy_intp *dims)
{
    PyObject *name = pc_layer_name(self);
    if (name == NULL)
        return -1;
    return pc_layer_parse_shape(input_shape, PyUnicode_AsUTF8(name), min_ndim, nd, dims);
}

int
pc_layer_input_dims(LayerObject *self, PyObject *input_shape, int min_ndim, int *nd,
                    npy_intp *dims)
{
    if (pc_layer_check_init(self) < 0)
        return -1;
    return layer_shape_dims(self, input_shape, min_ndim, nd, dims);
}

PyObject *
pc_layer_identity_shape(LayerObject *self, PyObject *input_shape)
{
    npy_intp dims[PC_MAX_NDIM];
    int nd;
    if (layer_shape_dims(self, input_shape, 1, &nd, dims) < 0)
        return NULL;
    return pc_layer_shape_tuple(nd, dims);
}

int
pc_layer_image_shape(LayerObject *self, PyObject *input_shape, npy_intp dims[4])
{
    int nd;
    if (pc_layer_input_dims(self, input_shape, 1, &nd, dims) < 0)
        return -1;
    if (nd != 4 || dims[3] == 0) {
        PyErr_Format(PyExc_ValueError, "%U: expected an input shape (batch, height, width, "
                     "channels), got %R", pc_layer_name(self), input_shape);
        return -1;
    }
    return 0;
}

npy_intp
pc_layer_sample_size(int ndim, const npy_intp *dims)
{
    npy_intp n = 1;
    for (int d = 1; d < ndim; d++)
        n = dims[d] < 0 || n < 0 ? -1 : n * dims[d];
    return n;
}

npy_intp
pc_layer_input_sample_size(LayerObject *self, PyArrayObject *x)
{
    if (PyArray_NDIM(x) >= 1)
        return pc_layer_sample_size(PyArray_NDIM(x), PyArray_SHAPE(x));
    PyErr_Format(PyExc_ValueError, "%U: input must have a batch dimension, got a scalar",
                 pc_layer_name(self));
    return -1;
}

int
pc_check_image(const char *who, PyArrayObject *x)
{
    PyObject *s;
    if (PyArray_NDIM(x) == 4 && PyArray_DIM(x, 1) >= 1 && PyArray_DIM(x, 2) >= 1 &&
        PyArray_DIM(x, 3) >= 1)
        return 0;
    if ((s = pc_shape_tuple(PyArray_NDIM(x), PyArray_SHAPE(x))) != NULL)
        PyErr_Format(PyExc_ValueError, "%s: expected a 4-D input (batch, height, width, "
                     "channels) with pixels and channels, got shape %R", who, s);
    Py_XDECREF(s);
    return -1;
}

int
pc_layer_window_dims(LayerObject *self, PyObject *input_shape, const char *what,
                     const pc_index window[2], const pc_index strides[2], int same,
                     npy_intp dims[4])
{
    if (pc_layer_image_shape(self, input_shape, dims) < 0)
        return -1;
    for (int d = 1; d <= 2; d++) {
        pc_window2d g = {.H = dims[d], .W = 1, .KH = window[d - 1], .KW = 1,
                         .SH = strides[d - 1], .SW = 1};
        if (dims[d] < 0)
            continue;
        if (pc_window_geometry(&g, same) < 0) {
            PyErr_Format(PyExc_ValueError, "%U: %s %zdx%zd is larger than the input %R "
                         "(padding='valid')", pc_layer_name(self), what,
                         (Py_ssize_t)window[0], (Py_ssize_t)window[1], input_shape);
            return -1;
        }
        dims[d] = g.OH;
    }
    return 0;
}
