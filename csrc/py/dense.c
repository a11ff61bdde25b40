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
    return pc_layer_post_activation(&self->base, y);
}

static PyObject *
Dense_build(DenseObject *self, PyObject *input_shape)
{
    npy_intp dims[PC_MAX_NDIM], wshape[2];
    int nd, typenum = pc_layer_dtype(&self->base);

    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    if (self->base.built)
        Py_RETURN_NONE;
    if (pc_layer_input_dims(&self->base, input_shape, 2, &nd, dims) < 0)
        return NULL;
    if (dims[nd - 1] <= 0) {
        PyErr_Format(PyExc_ValueError, "%U: the last dimension of the input must be known "
                     "and positive, got input shape %R", pc_layer_name(&self->base),
                     input_shape);
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
    PyObject *w = pc_layer_weight(&self->base, 0);
    npy_intp dims[PC_MAX_NDIM];
    int nd;

    if (pc_layer_input_dims(&self->base, input_shape, 2, &nd, dims) < 0)
        return NULL;
    if (w != NULL && dims[nd - 1] >= 0 && dims[nd - 1] != PyArray_DIM(PC_DATA(w), 0)) {
        PyErr_Format(PyExc_ValueError, "%U: input shape %R does not end in the kernel's "
                     "%zd input features", pc_layer_name(&self->base), input_shape,
                     (Py_ssize_t)PyArray_DIM(PC_DATA(w), 0));
        return NULL;
    }
    dims[nd - 1] = self->units;
    return pc_layer_shape_tuple(nd, dims);
}

static PyObject *
Dense_get_config(DenseObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *own = self->pieces
                        ? Py_BuildValue("{s:n,s:n}", "units", self->units, "pieces", self->pieces)
                        : Py_BuildValue("{s:n}", "units", self->units);
    return pc_kernel_layer_config(&self->base, own, !self->pieces, self->use_bias);
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
    PyObject *units, *second = NULL, *kinit = NULL, *binit = NULL;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    int use_bias = 1;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs,
                                     maxout ? "O|OpOO$" PC_LAYER_KWFMT ":Maxout"
                                            : "O|OpOO$" PC_LAYER_KWFMT ":Dense",
                                     maxout ? maxout_kw : dense_kw, &units, &second, &use_bias,
                                     &kinit, &binit, PC_LAYER_KWARGS(common)))
        return -1;
    self->pieces = maxout ? 2 : 0;
    if ((self->units = pc_parse_positive(units, who, "units")) < 0 ||
        (maxout && second != NULL && (self->pieces = pc_parse_positive(second, who, "pieces")) < 0))
        return -1;
    self->use_bias = use_bias;
    return pc_kernel_layer_finish(&self->base, who, !maxout && second != NULL ? second : Py_None,
                                  kinit, binit, &self->act, &common);
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
    static PyTypeObject *const types[] = {&Dense_Type, &Maxout_Type, NULL};
    return pc_add_layer_file(m, types, NULL);
}
