/* py/conv2d_transpose.c — Conv2DTranspose and pycnn.conv2d_transpose: arguments, the
 * output size (Keras 3's rule, kernels/window.h) and shape checks; the op is
 * pc_conv2d_transpose in autograd/ops_conv_transpose.c — one node.
 *
 * Legend: x (N, H, W, C) channels_last; kernel (KH, KW, F, C) — Keras' layout, filters
 * before input channels; y (N, OH, OW, F). The adjoint of conv2d's input gradient:
 * y[n, i·SH − PT + kh, j·SW − PL + kw, f] += Σ_c x[n, i, j, c] · W[kh, kw, f, c].
 */
#include "py/layer.h"

#include <string.h>

#include "autograd/ops_layers.h"
#include "kernels/dense.h"

/* output_padding: None (out[i] = −1), an int or a pair, each in [0, strides[i]) */
static int
parse_output_padding(PyObject *obj, const char *who, const pc_index strides[2], pc_index out[2])
{
    out[0] = out[1] = -1;
    if (obj == NULL || obj == Py_None)
        return 0;
    for (int i = 0; i < 2; i++) {
        PyObject *item = PyLong_Check(obj) ? Py_NewRef(obj)
                         : PySequence_Check(obj) && PySequence_Size(obj) == 2
                             ? PySequence_GetItem(obj, i) : NULL;
        Py_ssize_t v = item != NULL && PyLong_Check(item) && !PyBool_Check(item)
                           ? PyLong_AsSsize_t(item) : -1;
        Py_XDECREF(item);
        if (PyErr_Occurred())
            return -1;
        if (v < 0 || v >= strides[i]) {
            PyErr_Format(PyExc_ValueError, "%s: output_padding must be None, an int or a pair "
                         "of ints, each at least 0 and strictly less than strides (%zd, %zd); "
                         "got %R", who, (Py_ssize_t)strides[0], (Py_ssize_t)strides[1], obj);
            return -1;
        }
        out[i] = v;
    }
    return 0;
}

/* Shapes checked (errors start with `who`); g: the conv geometry from y to x */
static int
transpose_geometry(const char *who, PyArrayObject *x, PyArrayObject *w, PyArrayObject *b,
                   const pc_op_args *a, pc_window2d *g, pc_op_args *out)
{
    PyObject *s = NULL;
    int nd_bad = PyArray_NDIM(x) != 4 || PyArray_NDIM(w) != 4;
    *out = *a;
    if (nd_bad || PyArray_DIM(w, 3) != PyArray_DIM(x, 3) || PyArray_DIM(x, 1) < 1 ||
        PyArray_DIM(x, 2) < 1 || PyArray_DIM(w, 0) < 1 || PyArray_DIM(w, 1) < 1 ||
        PyArray_DIM(w, 2) < 1 || PyArray_DIM(x, 3) < 1) {
        PyObject *sw = pc_shape_tuple(PyArray_NDIM(w), PyArray_SHAPE(w));
        if (sw != NULL && (s = pc_shape_tuple(PyArray_NDIM(x), PyArray_SHAPE(x))) != NULL)
            PyErr_Format(PyExc_ValueError, "%s: expected an input (batch, height, width, "
                         "channels) with pixels and a kernel (kernel_h, kernel_w, filters, "
                         "channels) of the same channels, got input %R and kernel %R", who, s,
                         sw);
        Py_XDECREF(sw);
        Py_XDECREF(s);
        return -1;
    }
    if (b != NULL && (PyArray_NDIM(b) != 1 || PyArray_DIM(b, 0) != PyArray_DIM(w, 2))) {
        if ((s = pc_shape_tuple(PyArray_NDIM(b), PyArray_SHAPE(b))) != NULL)
            PyErr_Format(PyExc_ValueError, "%s: bias of shape %R, expected (%zd,) (one per "
                         "filter)", who, s, (Py_ssize_t)PyArray_DIM(w, 2));
        Py_XDECREF(s);
        return -1;
    }
    *g = (pc_window2d){.N = PyArray_DIM(x, 0), .C = PyArray_DIM(w, 2), .KH = PyArray_DIM(w, 0),
                       .KW = PyArray_DIM(w, 1), .SH = a->conv2d_transpose.sh,
                       .SW = a->conv2d_transpose.sw, .OH = PyArray_DIM(x, 1),
                       .OW = PyArray_DIM(x, 2)};
    pc_window_transpose_length(g->OH, g->KH, g->SH, a->conv2d_transpose.same,
                               a->conv2d_transpose.oph, &g->H, &g->PT);
    pc_window_transpose_length(g->OW, g->KW, g->SW, a->conv2d_transpose.same,
                               a->conv2d_transpose.opw, &g->W, &g->PL);
    if (g->H < 1 || g->W < 1) {
        PyErr_Format(PyExc_ValueError, "%s: the output would be %zdx%zd (no pixels)", who,
                     (Py_ssize_t)g->H, (Py_ssize_t)g->W);
        return -1;
    }
    out->conv2d_transpose.oh = g->H, out->conv2d_transpose.ow = g->W;
    out->conv2d_transpose.pt = g->PT, out->conv2d_transpose.pl = g->PL;
    return 0;
}

static PyObject *
transpose_node(const char *who, PyObject *x, PyObject *w, PyObject *b, const pc_op_args *a)
{
    pc_window2d g;
    pc_op_args args;
    if (transpose_geometry(who, PC_DATA(x), PC_DATA(w), b != NULL ? PC_DATA(b) : NULL, a, &g,
                           &args) < 0)
        return NULL;
    return pc_conv2d_transpose(x, w, b, &g, &args);
}

/* pycnn.conv2d_transpose(x, kernel, bias=None, strides=1, padding='valid',
 *                        output_padding=None) */
static PyObject *
py_conv2d_transpose(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "kernel", "bias", "strides", "padding", "output_padding",
                             NULL};
    PyObject *objs[3] = {NULL, NULL, Py_None}, *strides_obj = NULL, *padding = NULL;
    PyObject *op_obj = Py_None, *ts[3] = {NULL, NULL, NULL}, *result = NULL;
    pc_index strides[2] = {1, 1}, op[2];
    int same = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OOOO:conv2d_transpose", kwlist,
                                     &objs[0], &objs[1], &objs[2], &strides_obj, &padding,
                                     &op_obj))
        return NULL;
    if ((strides_obj != NULL &&
         pc_parse_pair(strides_obj, "conv2d_transpose", "strides", strides) < 0) ||
        (padding != NULL && (same = pc_parse_padding(padding, "conv2d_transpose")) < 0) ||
        parse_output_padding(op_obj, "conv2d_transpose", strides, op) < 0)
        return NULL;
    if (pc_conv_operands(objs, ts) == 0) {
        pc_op_args a = {.conv2d_transpose = {.sh = strides[0], .sw = strides[1], .oph = op[0],
                                             .opw = op[1], .act = PC_ACT_LINEAR,
                                             .same = same}};
        result = transpose_node("conv2d_transpose", ts[0], ts[1], ts[2], &a);
    }
    for (int i = 0; i < 3; i++)
        Py_XDECREF(ts[i]);
    return result;
}

typedef struct {
    LayerObject base;
    npy_intp filters;
    pc_index kernel_size[2], strides[2], output_padding[2];
    int same, use_bias, act;
} Conv2DTransposeObject;

static int
Conv2DTranspose_init(Conv2DTransposeObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"filters", "kernel_size", "strides", "padding", "output_padding",
                             "data_format", "dilation_rate", "activation", "use_bias",
                             "kernel_initializer", "bias_initializer", PC_LAYER_KWLIST, NULL};
    PyObject *filters, *ksize, *strides = NULL, *padding = NULL, *op = Py_None;
    PyObject *data_format = Py_None, *dilation = NULL, *activation = Py_None;
    PyObject *kinit = NULL, *binit = NULL;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    pc_conv_window_args a;
    int use_bias = 1;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OOOOOOpOO$" PC_LAYER_KWFMT
                                     ":Conv2DTranspose", kwlist, &filters, &ksize, &strides,
                                     &padding, &op, &data_format, &dilation, &activation,
                                     &use_bias, &kinit, &binit, PC_LAYER_KWARGS(common)) ||
        pc_conv_layer_window("Conv2DTranspose", filters, ksize, strides, padding, dilation,
                             data_format, &a) < 0)
        return -1;
    self->filters = a.filters, self->same = a.same;
    memcpy(self->kernel_size, a.kernel_size, sizeof a.kernel_size);
    memcpy(self->strides, a.strides, sizeof a.strides);
    if (a.dilation[0] != 1 || a.dilation[1] != 1) {
        PyErr_Format(PyExc_ValueError, "Conv2DTranspose: dilation_rate %R is not supported "
                     "(only 1)", dilation);
        return -1;
    }
    if (parse_output_padding(op, "Conv2DTranspose", self->strides, self->output_padding) < 0)
        return -1;
    self->use_bias = use_bias;
    return pc_kernel_layer_finish(&self->base, "Conv2DTranspose", activation, kinit, binit,
                                  &self->act, &common);
}

static PyObject *
Conv2DTranspose_call(Conv2DTransposeObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *w, *b, *y;
    PyObject *x = pc_layer_call_weighted(&self->base, args, kwargs, self->use_bias, &w, &b);

    if (x == NULL)
        return NULL;
    {
        pc_op_args a = {.conv2d_transpose = {
            .sh = self->strides[0], .sw = self->strides[1], .oph = self->output_padding[0],
            .opw = self->output_padding[1], .act = self->act, .same = self->same}};
        y = transpose_node(PyUnicode_AsUTF8(pc_layer_name(&self->base)), x, w, b, &a);
    }
    Py_DECREF(x);
    return pc_layer_post_activation(&self->base, y);
}

static PyObject *
Conv2DTranspose_build(Conv2DTransposeObject *self, PyObject *input_shape)
{
    return pc_conv_layer_build(&self->base, input_shape, self->kernel_size, self->filters, 2,
                               self->use_bias, 1);
}

/* (N, H, W, C) → (N, OH, OW, filters) by Keras' rule; None stays None */
static PyObject *
Conv2DTranspose_compute_output_shape(Conv2DTransposeObject *self, PyObject *input_shape)
{
    npy_intp dims[4];
    pc_index unused;

    if (pc_layer_image_shape(&self->base, input_shape, dims) < 0)
        return NULL;
    for (int d = 1; d <= 2; d++)
        if (dims[d] >= 0)
            pc_window_transpose_length(dims[d], self->kernel_size[d - 1], self->strides[d - 1],
                                       self->same, self->output_padding[d - 1], &dims[d],
                                       &unused);
    dims[3] = self->filters;
    return pc_layer_shape_tuple(4, dims);
}

static PyObject *
Conv2DTranspose_get_config(Conv2DTransposeObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *op = self->output_padding[0] < 0
                       ? Py_NewRef(Py_None)
                       : Py_BuildValue("(nn)", (Py_ssize_t)self->output_padding[0],
                                       (Py_ssize_t)self->output_padding[1]);
    return pc_kernel_layer_config(&self->base, Py_BuildValue(
        "{s:n,s:(nn),s:(nn),s:s,s:N,s:s,s:(ii)}", "filters", self->filters, "kernel_size",
        self->kernel_size[0], self->kernel_size[1], "strides", self->strides[0],
        self->strides[1], "padding", self->same ? "same" : "valid", "output_padding", op,
        "data_format", "channels_last", "dilation_rate", 1, 1), 1, self->use_bias);
}

static PyGetSetDef Conv2DTranspose_getset[] = {
    {"kernel", (getter)pc_layer_get_kernel, NULL,
     "the kernel Tensor (kernel_h, kernel_w, filters, in_channels), None before build", NULL},
    {"bias", (getter)pc_layer_get_bias, NULL, "the bias Tensor (filters,), or None", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef Conv2DTranspose_methods[] = {
    PC_LAYER_CALL(Conv2DTranspose_call, "call(inputs, training=False)\n--\n\nthe transposed "
                                        "convolution node on built weights"),
    PC_LAYER_BUILD(Conv2DTranspose_build,
                   "kernel (kh, kw, filters, input_shape[-1]), bias (filters,)"),
    PC_LAYER_OUTPUT_SHAPE(Conv2DTranspose_compute_output_shape, "(batch, out_h, out_w, filters)"),
    PC_LAYER_GET_CONFIG(Conv2DTranspose_get_config, "Keras keys"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Conv2DTranspose_Type = {
    PC_LAYER_TYPE("Conv2DTranspose", Conv2DTransposeObject, Conv2DTranspose_init,
                  Conv2DTranspose_methods),
    .tp_doc = PyDoc_STR(
        "Conv2DTranspose(filters, kernel_size, strides=(1, 1), padding='valid',\n"
        "                output_padding=None, data_format=None, dilation_rate=(1, 1),\n"
        "                activation=None, use_bias=True, kernel_initializer='glorot_uniform',\n"
        "                bias_initializer='zeros', *, input_shape=None, name=None,\n"
        "                trainable=True, dtype=None)\n--\n\n"
        "Transposed 2-D convolution (the adjoint of Conv2D's input gradient; 'deconvolution')\n"
        "over channels_last inputs (batch, H, W, C) -> (batch, OH, OW, filters); kernel\n"
        "(kh, kw, filters, C) as Keras, (kh·kw·C + 1)·filters parameters. Output size as\n"
        "Keras 3: valid O = (I-1)·s + k + op (op defaulting to max(k, s) - k), same O = I·s\n"
        "(or (I-1)·s + k mod 2 + op with output_padding). One node: x·Wᵀ, col2im, bias,\n"
        "activation.\n\n"
        "    >>> Conv2DTranspose(8, 3, strides=2, padding='same')  # 14x14 -> 28x28"),
    .tp_getset = Conv2DTranspose_getset,
};

static PyMethodDef conv_transpose_functions[] = {
    {"conv2d_transpose", (PyCFunction)(void (*)(void))py_conv2d_transpose,
     METH_VARARGS | METH_KEYWORDS,
     "conv2d_transpose(x, kernel, bias=None, strides=1, padding='valid', output_padding=None)"
     "\n--\n\nReturns Tensor.\n\n"
     "x (N, H, W, C), kernel (kh, kw, F, C), bias (F,) -> (N, OH, OW, F); the same node as\n"
     "Conv2DTranspose (Keras 3's output size)."},
    {NULL, NULL, 0, NULL},
};

int
pc_conv2d_transpose_exec(PyObject *m)
{
    static PyTypeObject *const types[] = {&Conv2DTranspose_Type, NULL};
    return pc_add_layer_file(m, types, conv_transpose_functions);
}
