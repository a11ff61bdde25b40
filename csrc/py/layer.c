/* py/layer.c — the Layer base type: names, weights, build-on-first-call, config.
 *
 * Keras' Layer contract in C. layer(x, training=False) converts x to a Tensor,
 * calls self.build(x.shape) the first time (weights take x's dtype unless the
 * constructor fixed one), then self.call(x[, training=...]). Python subclasses
 * override build/call/compute_output_shape/get_config as in Keras; add_weight
 * creates their weights from the seeded initializers.
 */
#include "py/bindings.h"
#include "py/layer.h"

PyObject *
pc_layer_name(LayerObject *self)
{
    if (self->name == NULL)
        self->name = pc_auto_name(Py_TYPE(self));
    return self->name;
}

int
pc_layer_dtype(LayerObject *self)
{
    return self->dtype >= 0 ? self->dtype : NPY_FLOAT32;
}

PyObject *
pc_layer_input(LayerObject *self, PyObject *x)
{
    int typenum = pc_layer_dtype(self);
    PyObject *t = pc_as_tensor(x, typenum, PyUnicode_AsUTF8(pc_layer_name(self)));
    if (t != NULL && PyArray_TYPE(PC_DATA(t)) != typenum)
        Py_SETREF(t, pc_cast(t, typenum));
    return t;
}

/* call(inputs, training=None) parsed once the layer is known to be initialised;
 * *inputs and *training (None when absent) are borrowed. 0 or -1. */
static int
parse_call(LayerObject *self, PyObject *args, PyObject *kwargs, PyObject **inputs,
           PyObject **training)
{
    static char *kwlist[] = {"inputs", "training", NULL};
    PyObject *name = pc_layer_name(self);

    *training = Py_None;
    if (pc_layer_check_init(self) < 0 || name == NULL)
        return -1;
    return PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:call", kwlist, inputs, training) ? 0
                                                                                          : -1;
}

PyObject *
pc_layer_call_input(LayerObject *self, PyObject *args, PyObject *kwargs, int in_layer_dtype,
                    PyObject **training)
{
    PyObject *inputs, *train;

    if (parse_call(self, args, kwargs, &inputs, &train) < 0)
        return NULL;
    if (training != NULL)
        *training = train;
    return in_layer_dtype ? pc_layer_input(self, inputs)
                          : pc_as_tensor(inputs, -1, PyUnicode_AsUTF8(pc_layer_name(self)));
}

PyObject *
pc_layer_call_built(LayerObject *self, PyObject *args, PyObject *kwargs, int built)
{
    PyObject *inputs, *training;

    if (parse_call(self, args, kwargs, &inputs, &training) < 0)
        return NULL;
    return built ? pc_layer_input(self, inputs) : pc_layer_not_built(self);
}

PyObject *
pc_layer_call_weighted(LayerObject *self, PyObject *args, PyObject *kwargs, int use_bias,
                       PyObject **w, PyObject **b)
{
    *w = pc_layer_weight(self, 0);
    *b = use_bias ? pc_layer_weight(self, 1) : NULL;
    return pc_layer_call_built(self, args, kwargs, *w != NULL && (!use_bias || *b != NULL));
}

PyObject *
pc_layer_post_activation(LayerObject *self, PyObject *y)
{
    if (y != NULL && self->objs[PC_OBJ_POST] != NULL)
        Py_SETREF(y, PyObject_CallOneArg(self->objs[PC_OBJ_POST], y));
    return y;
}

PyObject *
pc_layer_not_built(LayerObject *self)
{
    PyErr_Format(PyExc_RuntimeError, "%U: call() before build(); call the layer itself, "
                 "layer(x), to build it on its first input", pc_layer_name(self));
    return NULL;
}

PyObject *
pc_layer_weight(LayerObject *self, Py_ssize_t i)
{
    return i < PyList_GET_SIZE(self->trainable_ws) ? PyList_GET_ITEM(self->trainable_ws, i)
                                                   : NULL;
}

/* ---- the type: construction and lifetime -------------------------------------------- */

static PyObject *
Layer_new(PyTypeObject *type, PyObject *Py_UNUSED(args), PyObject *Py_UNUSED(kwargs))
{
    LayerObject *self = (LayerObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->trainable = 1;
    self->dtype = -1;
    self->call_training = -1;
    self->trainable_ws = PyList_New(0);
    self->non_trainable_ws = PyList_New(0);
    if (self->trainable_ws == NULL || self->non_trainable_ws == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

int
pc_layer_init_common(LayerObject *self, const pc_layer_kwargs *common)
{
    const char *who = Py_TYPE(self)->tp_name;
    PyObject *input_shape = common->input_shape, *name = common->name;
    int typenum;

    if (name != NULL && name != Py_None && !PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "%s: name must be a str, got %.100s", who,
                     Py_TYPE(name)->tp_name);
        return -1;
    }
    if ((typenum = pc_parse_dtype(common->dtype, who)) == -2)
        return -1;
    if (input_shape != NULL && input_shape != Py_None) {
        npy_intp dims[PC_MAX_NDIM];
        int ndim;
        if (pc_layer_parse_shape(input_shape, who, 1, &ndim, dims) < 0)
            return -1;
        for (int d = 0; d < ndim; d++)
            if (dims[d] == 0) {
                PyErr_Format(PyExc_ValueError, "%s: input_shape %R has a zero dimension",
                             who, input_shape);
                return -1;
            }
        Py_XSETREF(self->input_shape, pc_layer_shape_tuple(ndim, dims));
        if (self->input_shape == NULL)
            return -1;
    }
    if (name != NULL && name != Py_None)
        Py_XSETREF(self->name, Py_NewRef(name));
    else if (self->name == NULL && pc_layer_name(self) == NULL)
        return -1;
    self->trainable = common->trainable;
    self->dtype = typenum;
    self->initialized = 1;
    return 0;
}

int
pc_layer_check_init(LayerObject *self)
{
    if (self->initialized)
        return 0;
    PyErr_Format(PyExc_RuntimeError, "%.100s was not initialised: a subclass's __init__ must "
                 "call super().__init__(...)", Py_TYPE(self)->tp_name);
    return -1;
}

static int
Layer_init(LayerObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {PC_LAYER_KWLIST, NULL};
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$" PC_LAYER_KWFMT ":Layer", kwlist,
                                     PC_LAYER_KWARGS(common)))
        return -1;
    return pc_layer_init_common(self, &common);
}

static int
Layer_traverse(LayerObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->dict);
    Py_VISIT(self->name);
    Py_VISIT(self->input_shape);
    Py_VISIT(self->trainable_ws);
    Py_VISIT(self->non_trainable_ws);
    for (int i = 0; i < PC_LAYER_OBJS; i++)
        Py_VISIT(self->objs[i]);
    return 0;
}

static int
Layer_clear(LayerObject *self)
{
    Py_CLEAR(self->dict);
    Py_CLEAR(self->name);
    Py_CLEAR(self->input_shape);
    Py_CLEAR(self->trainable_ws);
    Py_CLEAR(self->non_trainable_ws);
    for (int i = 0; i < PC_LAYER_OBJS; i++)
        Py_CLEAR(self->objs[i]);
    return 0;
}

static void
Layer_dealloc(LayerObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    Layer_clear(self);
    type->tp_free((PyObject *)self);   /* a Python subclass's dealloc drops its type */
}

static PyObject *
Layer_repr(LayerObject *self)
{
    PyObject *name = pc_layer_name(self);
    const char *dot = strrchr(Py_TYPE(self)->tp_name, '.');
    if (name == NULL)
        return NULL;
    return PyUnicode_FromFormat("<%s name=%U, built=%s>",
                                dot != NULL ? dot + 1 : Py_TYPE(self)->tp_name, name,
                                self->built ? "True" : "False");
}

/* ---- attributes -------------------------------------------------------------------- */

static PyObject *
Layer_get_name(LayerObject *self, void *Py_UNUSED(c))
{
    return Py_XNewRef(pc_layer_name(self));
}

/* Renaming also renames the weights: "<name>/kernel" */
static int
Layer_set_name(LayerObject *self, PyObject *value, void *Py_UNUSED(c))
{
    PyObject *weights;
    if (value == NULL || !PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "name must be a str");
        return -1;
    }
    if ((weights = pc_layer_all_weights(self)) == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(weights); i++) {
        TensorObject *w = (TensorObject *)PyList_GET_ITEM(weights, i);
        const char *old = w->name != NULL ? PyUnicode_AsUTF8(w->name) : NULL;
        const char *slash = old != NULL ? strrchr(old, '/') : NULL;
        PyObject *renamed = slash != NULL ? PyUnicode_FromFormat("%U%s", value, slash) : NULL;
        if (renamed != NULL)
            Py_SETREF(w->name, renamed);
    }
    Py_DECREF(weights);
    Py_XSETREF(self->name, Py_NewRef(value));
    return 0;
}

/* The value assigned to a boolean attribute `what` (0 or 1), else -1 with an exception
 * (AttributeError when it is deleted) */
static int
flag_value(PyObject *value, const char *what)
{
    if (value == NULL) {
        PyErr_Format(PyExc_AttributeError, "%s cannot be deleted", what);
        return -1;
    }
    return PyObject_IsTrue(value);
}

static PyObject *
Layer_get_trainable(LayerObject *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(self->trainable);
}

/* A frozen layer's weights stop requiring grad: backward skips them and they
 * count as non-trainable. */
static int
Layer_set_trainable(LayerObject *self, PyObject *value, void *Py_UNUSED(c))
{
    int flag = flag_value(value, "trainable");
    if (flag < 0)
        return -1;
    self->trainable = flag;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self->trainable_ws); i++)
        ((TensorObject *)PyList_GET_ITEM(self->trainable_ws, i))->requires_grad = flag;
    return 0;
}

static PyObject *
Layer_get_built(LayerObject *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(self->built);
}

static int
Layer_set_built(LayerObject *self, PyObject *value, void *Py_UNUSED(c))
{
    int flag = flag_value(value, "built");
    if (flag < 0)
        return -1;
    self->built = flag;
    return 0;
}

static PyObject *
Layer_get_input_shape(LayerObject *self, void *Py_UNUSED(c))
{
    return Py_NewRef(self->input_shape != NULL ? self->input_shape : Py_None);
}

static PyObject *
Layer_get_dtype(LayerObject *self, void *Py_UNUSED(c))
{
    return PyUnicode_FromString(pc_layer_dtype(self) == NPY_FLOAT64 ? "float64" : "float32");
}

static PyObject *
pc_layer_get_weights_attr(LayerObject *self, void *Py_UNUSED(c))
{
    return pc_layer_all_weights(self);
}

static PyObject *
Layer_get_trainable_weights(LayerObject *self, void *Py_UNUSED(c))
{
    return self->trainable ? PySequence_List(self->trainable_ws) : PyList_New(0);
}

static PyObject *
Layer_get_non_trainable_weights(LayerObject *self, void *Py_UNUSED(c))
{
    return self->trainable ? PySequence_List(self->non_trainable_ws) : pc_layer_all_weights(self);
}

static PyGetSetDef Layer_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict,
     "the instance's attributes (the Python floor keeps the graph's bookkeeping there)", NULL},
    {"name", (getter)Layer_get_name, (setter)Layer_set_name,
     "the layer's name: given, or automatic per type (dense_1, dense_2, ...)", NULL},
    {"trainable", (getter)Layer_get_trainable, (setter)Layer_set_trainable,
     "False freezes the layer: its weights get no gradient and count as non-trainable", NULL},
    {"built", (getter)Layer_get_built, (setter)Layer_set_built,
     "True once build() has created the weights", NULL},
    {"input_shape", (getter)Layer_get_input_shape, NULL,
     "the input_shape given to the constructor (without the batch dimension), or None", NULL},
    {"dtype", (getter)Layer_get_dtype, NULL, "dtype of the weights, 'float32' or 'float64'",
     NULL},
    {"weights", (getter)pc_layer_get_weights_attr, NULL,
     "every weight Tensor: trainable ones first, each in creation order", NULL},
    {"trainable_weights", (getter)Layer_get_trainable_weights, NULL,
     "the weights an optimizer updates ([] when the layer is frozen)", NULL},
    {"non_trainable_weights", (getter)Layer_get_non_trainable_weights, NULL,
     "the weights an optimizer leaves alone", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* ---- methods ----------------------------------------------------------------------- */

static PyObject *
Layer_build(LayerObject *self, PyObject *Py_UNUSED(input_shape))
{
    self->built = 1;
    Py_RETURN_NONE;
}

static PyObject *
Layer_call_method(LayerObject *self, PyObject *Py_UNUSED(args), PyObject *Py_UNUSED(kw))
{
    PyErr_Format(PyExc_NotImplementedError, "%U: a Layer subclass must define "
                 "call(self, inputs) (and build(self, input_shape) to create weights)",
                 pc_layer_name(self));
    return NULL;
}

static PyObject *
Layer_compute_output_shape(LayerObject *self, PyObject *Py_UNUSED(input_shape))
{
    PyErr_Format(PyExc_NotImplementedError, "%U: %.100s does not define "
                 "compute_output_shape(input_shape)", pc_layer_name(self),
                 Py_TYPE(self)->tp_name);
    return NULL;
}

PyObject *
pc_layer_config(LayerObject *self, PyObject *own)
{
    PyObject *config = own != NULL ? pc_layer_base_config(self) : NULL;
    if (config != NULL && PyDict_Update(config, own) < 0)
        Py_CLEAR(config);
    Py_XDECREF(own);
    return config;
}

PyObject *
pc_layer_base_config(LayerObject *self)
{
    PyObject *name = pc_layer_name(self), *config;
    if (name == NULL)
        return NULL;
    config = Py_BuildValue("{s:O,s:O,s:s}", "name", name, "trainable",
                           self->trainable ? Py_True : Py_False, "dtype",
                           pc_layer_dtype(self) == NPY_FLOAT64 ? "float64" : "float32");
    if (config != NULL && self->input_shape != NULL &&
        PyDict_SetItemString(config, "input_shape", self->input_shape) < 0)
        Py_CLEAR(config);
    return config;
}

static PyObject *
Layer_get_config(LayerObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_layer_base_config(self);
}

static PyObject *
Layer_from_config(PyObject *cls, PyObject *config)
{
    PyObject *args;
    if (!PyDict_Check(config)) {
        PyErr_Format(PyExc_TypeError, "from_config: expected a dict, got %.100s",
                     Py_TYPE(config)->tp_name);
        return NULL;
    }
    if ((args = PyTuple_New(0)) == NULL)
        return NULL;
    PyObject *layer = PyObject_Call(cls, args, config);
    Py_DECREF(args);
    return layer;
}

/* A copied C layer would lose its C fields silently; say how to copy instead */
static PyObject *
Layer_reduce(LayerObject *self, PyObject *Py_UNUSED(ignored))
{
    PyErr_Format(PyExc_TypeError, "%U: layers cannot be pickled or copied; make a new one "
                 "with type(layer).from_config(layer.get_config()), build it, then "
                 "set_weights(layer.get_weights())", pc_layer_name(self));
    return NULL;
}

/* _adopt_dtype(dtype): the weights' dtype when the constructor fixed none (the graph
 * builds a layer from a symbolic input's dtype, as a first call adopts the data's) */
static PyObject *
Layer_adopt_dtype(LayerObject *self, PyObject *dtype)
{
    int typenum = pc_parse_dtype(dtype, "Layer._adopt_dtype");
    if (typenum == -2)
        return NULL;
    if (self->dtype < 0 && !self->built)
        self->dtype = typenum;
    Py_RETURN_NONE;
}

static PyMethodDef Layer_methods[] = {
    {"_adopt_dtype", (PyCFunction)Layer_adopt_dtype, METH_O,
     "_adopt_dtype(dtype): use this dtype for the weights unless one was given"},
    {"__reduce__", (PyCFunction)Layer_reduce, METH_NOARGS, "layers are not copied (TypeError)"},
    {"build", (PyCFunction)Layer_build, METH_O,
     "build(input_shape)\n--\n\ncreate the weights for inputs of this shape (batch first)"},
    {"call", PC_KW(Layer_call_method),
     "call(inputs, training=False)\n--\n\nthe computation (subclasses define it)"},
    {"compute_output_shape", (PyCFunction)Layer_compute_output_shape, METH_O,
     "compute_output_shape(input_shape)\n--\n\nReturns output shape, batch first. "},
    {"count_params", (PyCFunction)pc_layer_count_params, METH_NOARGS,
     "count_params()\n--\n\nnumber of weights (0 before build)"},
    {"get_weights", (PyCFunction)pc_layer_get_weights, METH_NOARGS,
     "get_weights()\n--\n\ncopies of the weights as NumPy arrays, in Keras order and layout"},
    {"set_weights", (PyCFunction)pc_layer_set_weights, METH_O,
     "set_weights(arrays)\n--\n\nload values into the weights (same count and shapes)"},
    {"get_config", (PyCFunction)Layer_get_config, METH_NOARGS,
     "get_config()\n--\n\nJSON-safe dict of the constructor arguments (Keras keys)"},
    {"from_config", (PyCFunction)Layer_from_config, METH_O | METH_CLASS,
     "from_config(config)\n--\n\na new layer from get_config()'s dict"},
    PC_LAYER_CALL_METHODS
    {"add_weight", PC_KW(pc_layer_add_weight_method),
     "add_weight(shape, initializer='glorot_uniform', dtype=None, trainable=True, name=None)\n"
     "-> a new weight Tensor named '<layer>/<name>'"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject Layer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pycnn.layers.Layer",
    .tp_doc = PyDoc_STR(
        "Layer(input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n"
        "Base of every layer, as in Keras: layer(x, training=False) builds the weights on\n"
        "the first call (build(x.shape)), then returns call(x). Subclass it in Python and\n"
        "define build (with add_weight) and call; weights are Tensors with\n"
        "requires_grad=True, named '<layer name>/<weight name>'."),
    .tp_basicsize = sizeof(LayerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = Layer_new,
    .tp_init = (initproc)Layer_init,
    .tp_dealloc = (destructor)Layer_dealloc,
    .tp_traverse = (traverseproc)Layer_traverse,
    .tp_clear = (inquiry)Layer_clear,
    .tp_repr = (reprfunc)Layer_repr,
    .tp_call = (ternaryfunc)pc_layer_tp_call,
    .tp_getset = Layer_getset,
    .tp_methods = Layer_methods,
    .tp_dictoffset = offsetof(LayerObject, dict),
    .tp_weaklistoffset = offsetof(LayerObject, weakrefs),
};

int
pc_layer_exec(PyObject *m)
{
    if (pc_initializers_exec(m) < 0)
        return -1;
    return pc_add_type(m, &Layer_Type);
}
