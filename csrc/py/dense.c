/* py/dense.c — Dense and Maxout: a GEMM, the bias and the activation in ONE node.
 *
 *   Dense(units)           y = act(x·W + b)           W: (IN, units), b: (units,)
 *   Maxout(units, pieces)  y[:, u] = max_k (x·W + b)[:, u·K + k]   W: (IN, units·K)
 *                          (the dense node, then the activations' maxout op)
 *
 * x is (…, IN): leading dimensions are batch-like, as in Keras. relu, sigmoid, tanh
 * and linear are computed inside the node; any other activation is applied after it
 * through pycnn.activations.get. Shapes: M = rows of x, N = columns of W.
 */
#include "py/layer.h"

#include "autograd/ops_activation.h"
#include "autograd/ops_layers.h"
#include "kernels/dense.h"

typedef struct {
    LayerObject base;
    npy_intp units;
    npy_intp pieces;            /* Maxout's K; 0 for Dense */
    int use_bias;
    int act;                    /* the fused pc_act */
} DenseObject;


static PyTypeObject Dense_Type, Maxout_Type;

/* y = the dense node over x (a Tensor in W's dtype), W, b (NULL: no bias), after
 * checking that x's last dimension is W's input size */
static PyObject *
dense_node(DenseObject *self, PyObject *x, PyObject *w, PyObject *b)
{
    PyObject *name = pc_layer_name(&self->base);
    PyArrayObject *xa = PC_DATA(x);
    npy_intp in = PyArray_DIM(PC_DATA(w), 0);
    int nd = PyArray_NDIM(xa);

    if (nd < 2 || PyArray_DIM(xa, nd - 1) != in) {
        PyObject *s = pc_shape_tuple(nd, PyArray_SHAPE(xa));
        if (s != NULL)
            PyErr_Format(PyExc_ValueError, "%U: input of shape %R, expected (batch, ..., %zd) "
                         "(the kernel has %zd input features)", name, s, (Py_ssize_t)in,
                         (Py_ssize_t)in);
        Py_XDECREF(s);
        return NULL;
    }
    return pc_dense(x, w, b, self->act);
}

/* groups of `pieces` consecutive features of y's last axis, max of each */
static PyObject *
maxout(PyObject *y, npy_intp pieces)
{
    PyArrayObject *ya = PC_DATA(y);
    int last = PyArray_NDIM(ya) - 1;
    return pc_maxout(y, last, PyArray_SIZE(ya) / PyArray_DIM(ya, last), pieces, 1);
}

static PyObject *
Dense_call(DenseObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *w, *b, *y;
    PyObject *x = pc_layer_call_weighted(&self->base, args, kwargs, self->use_bias, &w, &b);

    if (x == NULL)
        return NULL;
    y = dense_node(self, x, w, b);
    Py_DECREF(x);
    if (y != NULL && self->pieces)
        Py_SETREF(y, maxout(y, self->pieces));
    if (y != NULL && self->base.objs[PC_OBJ_POST] != NULL)
        Py_SETREF(y, PyObject_CallOneArg(self->base.objs[PC_OBJ_POST], y));
    return y;
}

static PyObject *
Dense_build(DenseObject *self, PyObject *input_shape)
{
    PyObject *name = pc_layer_name(&self->base);
    npy_intp dims[PC_MAX_NDIM], wshape[2];
    int nd, typenum = pc_layer_dtype(&self->base);

    if (pc_layer_check_init(&self->base) < 0)
        return NULL;

    if (self->base.built)
        Py_RETURN_NONE;
    if (name == NULL || pc_layer_parse_shape(input_shape, PyUnicode_AsUTF8(name), 2, &nd,
                                             dims) < 0)
        return NULL;
    if (dims[nd - 1] <= 0) {
        PyErr_Format(PyExc_ValueError, "%U: the last dimension of the input must be known "
                     "and positive, got input shape %R", name, input_shape);
        return NULL;
    }
    wshape[0] = dims[nd - 1];
    wshape[1] = self->pieces ? self->units * self->pieces : self->units;
    if (pc_layer_add_weight(&self->base, "kernel", 2, wshape,
                            self->base.objs[PC_OBJ_KERNEL_INIT], 1, typenum) == NULL)
        return NULL;
    if (self->use_bias && pc_layer_add_weight(&self->base, "bias", 1, wshape + 1,
                                              self->base.objs[PC_OBJ_BIAS_INIT], 1, typenum) == NULL)
        return NULL;
    self->base.built = 1;
    Py_RETURN_NONE;
}

static PyObject *
Dense_compute_output_shape(DenseObject *self, PyObject *input_shape)
{
    PyObject *name = pc_layer_name(&self->base), *w = pc_layer_weight(&self->base, 0);
    npy_intp dims[PC_MAX_NDIM];
    int nd;

    if (pc_layer_check_init(&self->base) < 0)
        return NULL;

    if (name == NULL || pc_layer_parse_shape(input_shape, PyUnicode_AsUTF8(name), 2, &nd,
                                             dims) < 0)
        return NULL;
    if (w != NULL && dims[nd - 1] >= 0 && dims[nd - 1] != PyArray_DIM(PC_DATA(w), 0)) {
        PyErr_Format(PyExc_ValueError, "%U: input shape %R does not end in the kernel's "
                     "%zd input features", name, input_shape,
                     (Py_ssize_t)PyArray_DIM(PC_DATA(w), 0));
        return NULL;
    }
    dims[nd - 1] = self->units;
    return pc_layer_shape_tuple(nd, dims);
}

static PyObject *
Dense_get_config(DenseObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *k, *b;

    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    k = pc_initializer_serialize(self->base.objs[PC_OBJ_KERNEL_INIT]);
    b = pc_initializer_serialize(self->base.objs[PC_OBJ_BIAS_INIT]);
    if (self->pieces)
        return pc_layer_config(&self->base, Py_BuildValue(
            "{s:n,s:n,s:O,s:N,s:N}", "units", self->units, "pieces", self->pieces,
            "use_bias", self->use_bias ? Py_True : Py_False, "kernel_initializer", k,
            "bias_initializer", b));
    return pc_layer_config(&self->base, Py_BuildValue(
        "{s:n,s:O,s:O,s:N,s:N}", "units", self->units, "activation",
        self->base.objs[PC_OBJ_ACTIVATION], "use_bias", self->use_bias ? Py_True : Py_False,
        "kernel_initializer", k, "bias_initializer", b));
}

/* What Dense and Maxout share after their own arguments are parsed */
static int
dense_init_common(DenseObject *self, const char *who, PyObject *units, PyObject *pieces,
                  PyObject *activation, int use_bias, PyObject *kinit, PyObject *binit)
{
    npy_intp u = pc_parse_positive(units, who, "units"), k = 0;

    if (u < 0 || (pieces != NULL && (k = pc_parse_positive(pieces, who, "pieces")) < 0))
        return -1;
    if (pc_kernel_layer_args(&self->base, who, activation, kinit, binit, &self->act) < 0)
        return -1;
    self->units = u;
    self->pieces = k;
    self->use_bias = use_bias;
    return 0;
}

/* Dense(units, activation=None, ...) and Maxout(units, pieces=2, ...): the same
 * constructor but for its second argument */
static int
dense_layer_init(DenseObject *self, PyObject *args, PyObject *kwargs, int maxout)
{
    static char *dense_kw[] = {"units", "activation", "use_bias", "kernel_initializer",
                               "bias_initializer", PC_LAYER_KWLIST, NULL};
    static char *maxout_kw[] = {"units", "pieces", "use_bias", "kernel_initializer",
                                "bias_initializer", PC_LAYER_KWLIST, NULL};
    const char *who = maxout ? "Maxout" : "Dense";
    PyObject *units, *second = NULL, *input_shape = Py_None, *name = Py_None;
    PyObject *dtype = Py_None, *kinit = NULL, *binit = NULL, *pieces = NULL;
    int use_bias = 1, trainable = 1, status = -1;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs,
                                     maxout ? "O|OpOO$" PC_LAYER_KWFMT ":Maxout"
                                            : "O|OpOO$" PC_LAYER_KWFMT ":Dense",
                                     maxout ? maxout_kw : dense_kw, &units, &second, &use_bias,
                                     &kinit, &binit, &input_shape, &name, &trainable, &dtype))
        return -1;
    if (maxout && (pieces = second != NULL ? Py_NewRef(second) : PyLong_FromLong(2)) == NULL)
        return -1;
    kinit = kinit != NULL ? Py_NewRef(kinit) : PyUnicode_FromString("glorot_uniform");
    binit = binit != NULL ? Py_NewRef(binit) : PyUnicode_FromString("zeros");
    if (kinit != NULL && binit != NULL &&
        dense_init_common(self, who, units, pieces,
                          !maxout && second != NULL ? second : Py_None, use_bias, kinit,
                          binit) == 0)
        status = pc_layer_init_common(&self->base, input_shape, name, trainable, dtype);
    Py_XDECREF(pieces);
    Py_XDECREF(kinit);
    Py_XDECREF(binit);
    return status;
}

static int
Dense_init(DenseObject *self, PyObject *args, PyObject *kwargs)
{
    return dense_layer_init(self, args, kwargs, 0);
}

static int
Maxout_init(DenseObject *self, PyObject *args, PyObject *kwargs)
{
    return dense_layer_init(self, args, kwargs, 1);
}

PyObject *
pc_layer_get_kernel(LayerObject *self, void *Py_UNUSED(c))
{
    PyObject *w = pc_layer_weight(self, 0);
    return Py_NewRef(w != NULL ? w : Py_None);
}

PyObject *
pc_layer_get_bias(LayerObject *self, void *Py_UNUSED(c))
{
    PyObject *b = pc_layer_weight(self, 1);
    return Py_NewRef(b != NULL ? b : Py_None);
}

static PyObject *
Dense_get_units(DenseObject *self, void *Py_UNUSED(c))
{
    return PyLong_FromSsize_t(self->units);
}

static PyGetSetDef Dense_getset[] = {
    {"kernel", (getter)pc_layer_get_kernel, NULL, "the kernel Tensor (IN, units), None before build",
     NULL},
    {"bias", (getter)pc_layer_get_bias, NULL, "the bias Tensor (units,), or None", NULL},
    {"units", (getter)Dense_get_units, NULL, "number of outputs per sample", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef Dense_methods[] = {
    PC_LAYER_CALL(Dense_call,
                  "call(inputs, training=False)\n--\n\nthe layer's node on built weights"),
    PC_LAYER_BUILD(Dense_build, "create kernel (input_shape[-1], units) and bias (units,)"),
    PC_LAYER_OUTPUT_SHAPE(Dense_compute_output_shape, "input_shape[:-1] + (units,)"),
    PC_LAYER_GET_CONFIG(Dense_get_config, "Keras keys"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Dense_Type = {
    PC_LAYER_TYPE("Dense", DenseObject, Dense_init, Dense_methods),
    .tp_doc = PyDoc_STR(
        "Dense(units, activation=None, use_bias=True, kernel_initializer='glorot_uniform',\n"
        "      bias_initializer='zeros', *, input_shape=None, name=None, trainable=True,\n"
        "      dtype=None)\n--\n\n"
        "Fully connected layer: y = activation(x·W + b), W of shape (in, units), b (units,);\n"
        "(in + 1)·units parameters. Input (batch, ..., in) -> output (batch, ..., units).\n"
        "GEMM, bias and relu/sigmoid/tanh run as one node (one backward).\n\n"
        "    >>> Dense(512, activation='relu', input_shape=(784,)).build((None, 784))"),
    .tp_getset = Dense_getset,
};

static PyTypeObject Maxout_Type = {
    /* Layer's subtype, not Dense's: isinstance() stays Keras-like */
    PC_LAYER_TYPE("Maxout", DenseObject, Maxout_init, Dense_methods),
    .tp_doc = PyDoc_STR(
        "Maxout(units, pieces=2, use_bias=True, kernel_initializer='glorot_uniform',\n"
        "       bias_initializer='zeros', *, input_shape=None, name=None, trainable=True,\n"
        "       dtype=None)\n--\n\n"
        "k = pieces affine maps, then their maximum: z = x·W + b with W (in, units·k),\n"
        "y[:, u] = max_j z[:, u·k + j]; (in + 1)·units·k parameters. The gradient goes to\n"
        "the first maximal piece. Two nodes: dense (GEMM + bias), then maxout."),
    .tp_getset = Dense_getset,
};

int
pc_dense_exec(PyObject *m)
{
    if (pc_add_type(m, &Dense_Type) < 0)
        return -1;
    return pc_add_type(m, &Maxout_Type);
}
