/* py/conv2d.c — Conv2D and pycnn.conv2d: arguments, geometry and shape checks; the
 * op itself (every route: im2col + GEMM, direct, Winograd) is pc_conv2d in
 * autograd/ops_conv.c — one node.
 *
 * Legend (kernels/window.h): x (N, H, W, C) channels_last; kernel (KH, KW, C, F);
 * y (N, OH, OW, F); K = KH·KW·C patch length. Cross-correlation, like every framework:
 * y[n, i, j, f] = b[f] + Σ_{kh, kw, c} x[n, i·SH − PT + kh·DH, j·SW − PL + kw·DW, c] · W[kh, kw, c, f]
 * with the dilation DH, DW (1: adjacent taps; larger goes through im2col only).
 */
#include "py/layer.h"

#include <string.h>

#include "autograd/ops_layers.h"
#include "kernels/dense.h"

/* The kernel's channel count the input needs: C/groups (groups ≥ 1), or C for a
 * depthwise kernel (groups = PC_DEPTHWISE, kernel (KH, KW, C, M)); -1 with ValueError when
 * C or the filters are not divisible by the groups */
#define PC_DEPTHWISE 0
/* conv2d's padding='causal' (Conv1D's, over the columns of one-row images): (KW − 1)·DW
 * zeros before the first column, none after, rows 'valid'; OW = ⌈W / SW⌉ */
#define PC_CAUSAL 2
static npy_intp
conv_kernel_channels(const char *who, npy_intp C, npy_intp F, npy_intp groups)
{
    if (groups == PC_DEPTHWISE || groups == 1)
        return C;
    if (C % groups != 0) {
        PyErr_Format(PyExc_ValueError, "%s: the number of input channels must be evenly "
                     "divisible by the number of groups. Received groups=%zd, but the input "
                     "has %zd channels", who, (Py_ssize_t)groups, (Py_ssize_t)C);
        return -1;
    }
    if (F % groups != 0) {
        PyErr_Format(PyExc_ValueError, "%s: the number of filters must be evenly divisible "
                     "by the number of groups. Received: groups=%zd, filters=%zd", who,
                     (Py_ssize_t)groups, (Py_ssize_t)F);
        return -1;
    }
    return C / groups;
}

/* Shapes, channels and window checked; errors start with `who`. groups: conv2d's (1: an
 * ordinary convolution), or PC_DEPTHWISE for a depthwise kernel (KH, KW, C, M) */
static int
conv_geometry(const char *who, PyArrayObject *x, PyArrayObject *w, PyArrayObject *b,
              const pc_index strides[2], const pc_index dilation[2], int same,
              npy_intp groups, pc_window2d *g)
{
    PyObject *s = NULL;
    npy_intp kc, F;
    if (PyArray_NDIM(x) != 4 || PyArray_NDIM(w) != 4) {
        int bad_x = PyArray_NDIM(x) != 4;
        PyArrayObject *a = bad_x ? x : w;
        if ((s = pc_shape_tuple(PyArray_NDIM(a), PyArray_SHAPE(a))) != NULL)
            PyErr_Format(PyExc_ValueError, "%s: expected a 4-D %s, got shape %R", who,
                         bad_x ? "input (batch, height, width, channels)"
                         : groups == PC_DEPTHWISE
                             ? "depthwise kernel (kernel_h, kernel_w, in_channels, "
                               "depth_multiplier)"
                             : "kernel (kernel_h, kernel_w, in_channels / groups, filters)", s);
        Py_XDECREF(s);
        return -1;
    }
    *g = (pc_window2d){.N = PyArray_DIM(x, 0), .H = PyArray_DIM(x, 1), .W = PyArray_DIM(x, 2),
                       .C = PyArray_DIM(x, 3), .KH = PyArray_DIM(w, 0), .KW = PyArray_DIM(w, 1),
                       .SH = strides[0], .SW = strides[1], .GH = dilation[0] - 1,
                       .GW = dilation[1] - 1};
    F = groups == PC_DEPTHWISE ? g->C * PyArray_DIM(w, 3) : PyArray_DIM(w, 3);
    if ((kc = conv_kernel_channels(who, g->C, F, groups)) < 0)
        return -1;
    if (PyArray_DIM(w, 2) != kc) {
        if (groups > 1)
            PyErr_Format(PyExc_ValueError, "%s: input has %zd channels, so with groups=%zd "
                         "the kernel expects %zd per group, got %zd", who, (Py_ssize_t)g->C,
                         (Py_ssize_t)groups, (Py_ssize_t)kc, (Py_ssize_t)PyArray_DIM(w, 2));
        else
            PyErr_Format(PyExc_ValueError, "%s: input has %zd channels but kernel expects %zd",
                         who, (Py_ssize_t)g->C, (Py_ssize_t)PyArray_DIM(w, 2));
        return -1;
    }
    if (b != NULL && (PyArray_NDIM(b) != 1 || PyArray_DIM(b, 0) != F)) {
        if ((s = pc_shape_tuple(PyArray_NDIM(b), PyArray_SHAPE(b))) != NULL)
            PyErr_Format(PyExc_ValueError, "%s: bias of shape %R, expected (%zd,) (one per "
                         "%s)", who, s, (Py_ssize_t)F,
                         groups == PC_DEPTHWISE ? "output channel" : "filter");
        Py_XDECREF(s);
        return -1;
    }
    if (g->H < 1 || g->W < 1 || g->C < 1) {
        if ((s = pc_shape_tuple(4, PyArray_SHAPE(x))) != NULL)
            PyErr_Format(PyExc_ValueError, "%s: input of shape %R has no pixels or no "
                         "channels", who, s);
        Py_XDECREF(s);
        return -1;
    }
    if (g->KH < 1 || g->KW < 1 || PyArray_DIM(w, 3) < 1) {
        if ((s = pc_shape_tuple(4, PyArray_SHAPE(w))) != NULL)
            PyErr_Format(PyExc_ValueError, "%s: kernel of shape %R has no rows, columns or "
                         "%s", who, s, groups == PC_DEPTHWISE ? "depth multiplier" : "filters");
        Py_XDECREF(s);
        return -1;
    }
    if (same == PC_CAUSAL) {
        if (pc_window_span(g->KH, g->GH) > g->H) {
            PyErr_Format(PyExc_ValueError, "%s: kernel %zdx%zd is taller than the %zdx%zd "
                         "input (padding='causal' pads the columns only)", who,
                         (Py_ssize_t)g->KH, (Py_ssize_t)g->KW, (Py_ssize_t)g->H,
                         (Py_ssize_t)g->W);
            return -1;
        }
        g->OH = (g->H - pc_window_span(g->KH, g->GH)) / g->SH + 1;
        g->PT = 0, g->PL = pc_window_span(g->KW, g->GW) - 1;
        g->OW = (g->W - 1) / g->SW + 1;
        return 0;
    }
    if (pc_window_geometry(g, same) < 0) {
        if (g->GH > 0 || g->GW > 0)
            PyErr_Format(PyExc_ValueError, "%s: kernel %zdx%zd dilated by (%zd, %zd) spans "
                         "%zdx%zd pixels, more than the %zdx%zd input (padding='valid')", who,
                         (Py_ssize_t)g->KH, (Py_ssize_t)g->KW, (Py_ssize_t)g->GH + 1,
                         (Py_ssize_t)g->GW + 1, (Py_ssize_t)pc_window_span(g->KH, g->GH),
                         (Py_ssize_t)pc_window_span(g->KW, g->GW), (Py_ssize_t)g->H,
                         (Py_ssize_t)g->W);
        else
            PyErr_Format(PyExc_ValueError, "%s: kernel %zdx%zd is larger than the %zdx%zd input "
                         "(padding='valid'); use padding='same' or a smaller kernel", who,
                         (Py_ssize_t)g->KH, (Py_ssize_t)g->KW, (Py_ssize_t)g->H,
                         (Py_ssize_t)g->W);
        return -1;
    }
    return 0;
}

/* y = act(conv(x, w) + b): Tensors of one dtype; b may be NULL. The geometry is
 * checked here (errors start with `who`), the op recorded by pc_conv2d, or by
 * pc_depthwise_conv2d for groups = PC_DEPTHWISE. */
static PyObject *
conv2d_node(const char *who, PyObject *x, PyObject *w, PyObject *b, const pc_index strides[2],
            const pc_index dilation[2], int same, int act, npy_intp groups)
{
    pc_window2d g;

    if (conv_geometry(who, PC_DATA(x), PC_DATA(w), b != NULL ? PC_DATA(b) : NULL, strides,
                      dilation, same, groups, &g) < 0)
        return NULL;
    if (groups == PC_DEPTHWISE)
        return pc_depthwise_conv2d(x, w, b, &g, same, act);
    return pc_conv2d(x, w, b, &g, same, act, groups);
}

int
pc_conv_operands(PyObject *objs[3], PyObject *ts[3])
{
    int typenum = NPY_FLOAT32;
    for (int i = 0; i < 3; i++) {
        ts[i] = objs[i] == NULL || objs[i] == Py_None ? NULL
                : pc_as_tensor(objs[i], -1, "conv2d");
        if (objs[i] != NULL && objs[i] != Py_None && ts[i] == NULL)
            return -1;
        if (ts[i] != NULL && PyArray_TYPE(PC_DATA(ts[i])) == NPY_FLOAT64)
            typenum = NPY_FLOAT64;
    }
    for (int i = 0; i < 3; i++) {
        if (ts[i] == NULL || PyArray_TYPE(PC_DATA(ts[i])) == typenum)
            continue;
        Py_SETREF(ts[i], pc_cast(ts[i], typenum));
        if (ts[i] == NULL)
            return -1;
    }
    return 0;
}

/* The functions' activation: a fused pc_act, or a post-op callable (*post, new ref) */
static int
conv_function_activation(PyObject *activation, const char *who, int *act, PyObject **post)
{
    PyObject *keras_name = NULL;
    *act = PC_ACT_LINEAR, *post = NULL;
    if (activation == NULL || activation == Py_None)
        return 0;
    if (pc_resolve_activation(activation, who, act, post, &keras_name) < 0)
        return -1;
    Py_XDECREF(keras_name);
    return 0;
}

/* 'valid' 0, 'same' 1, or (when allowed) 'causal' PC_CAUSAL; -1 with ValueError */
static int
conv_parse_padding(PyObject *padding, const char *who, int causal_ok)
{
    if (causal_ok && PyUnicode_Check(padding) && PyUnicode_CompareWithASCIIString(padding,
                                                                                "causal") == 0)
        return PC_CAUSAL;
    return pc_parse_padding(padding, who);
}

/* pycnn.conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1, groups=1,
 * activation=None) and pycnn.depthwise_conv2d(x, kernel, bias=None, strides=1,
 * padding='valid', dilation_rate=1, activation=None): who names the function */
static PyObject *
conv_function(const char *who, int depthwise, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "kernel", "bias", "strides", "padding", "dilation_rate",
                             "activation", "groups", NULL};
    static char *kwlist_depthwise[] = {"x", "kernel", "bias", "strides", "padding",
                                       "dilation_rate", "activation", NULL};
    PyObject *objs[3] = {NULL, NULL, Py_None}, *strides_obj = NULL, *padding = NULL;
    PyObject *dilation_obj = NULL, *activation = NULL, *groups_obj = NULL, *post = NULL;
    PyObject *ts[3] = {NULL, NULL, NULL}, *result = NULL;
    pc_index strides[2] = {1, 1}, dilation[2] = {1, 1};
    npy_intp groups = depthwise ? PC_DEPTHWISE : 1;
    int same = 0, act;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, depthwise ? "OO|OOOOO:depthwise_conv2d"
                                                             : "OO|OOOOOO:conv2d",
                                     depthwise ? kwlist_depthwise : kwlist,
                                     &objs[0], &objs[1], &objs[2], &strides_obj, &padding,
                                     &dilation_obj, &activation, &groups_obj))
        return NULL;
    if ((strides_obj != NULL && pc_parse_pair(strides_obj, who, "strides", strides) < 0) ||
        (padding != NULL && (same = conv_parse_padding(padding, who, !depthwise)) < 0) ||
        (dilation_obj != NULL &&
         pc_parse_pair(dilation_obj, who, "dilation_rate", dilation) < 0) ||
        (groups_obj != NULL && (groups = pc_parse_positive(groups_obj, who, "groups")) < 0) ||
        conv_function_activation(activation, who, &act, &post) < 0)
        return NULL;
    if (pc_conv_operands(objs, ts) == 0)
        result = conv2d_node(who, ts[0], ts[1], ts[2], strides, dilation, same, act, groups);
    if (result != NULL && post != NULL)
        Py_SETREF(result, PyObject_CallOneArg(post, result));
    for (int i = 0; i < 3; i++)
        Py_XDECREF(ts[i]);
    Py_XDECREF(post);
    return result;
}

static PyObject *
py_conv2d(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    return conv_function("conv2d", 0, args, kwargs);
}

static PyObject *
py_depthwise_conv2d(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    return conv_function("depthwise_conv2d", 1, args, kwargs);
}

int
pc_conv_layer_window(const char *who, PyObject *filters, PyObject *ksize, PyObject *strides,
                     PyObject *padding, PyObject *dilation, PyObject *data_format,
                     pc_conv_window_args *out)
{
    *out = (pc_conv_window_args){.strides = {1, 1}, .dilation = {1, 1}};
    if ((out->filters = pc_parse_positive(filters, who, "filters")) < 0 ||
        pc_parse_pair(ksize, who, "kernel_size", out->kernel_size) < 0 ||
        (strides != NULL && pc_parse_pair(strides, who, "strides", out->strides) < 0) ||
        (padding != NULL && (out->same = pc_parse_padding(padding, who)) < 0) ||
        (dilation != NULL && pc_parse_pair(dilation, who, "dilation_rate", out->dilation) < 0) ||
        pc_check_channels_last(data_format, who) < 0)
        return -1;
    if ((out->strides[0] > 1 || out->strides[1] > 1) &&
        (out->dilation[0] > 1 || out->dilation[1] > 1)) {       /* Keras' rule and words */
        PyErr_Format(PyExc_ValueError, "%s: `strides > 1` not supported in conjunction "
                     "with `dilation_rate > 1`. Received: strides=(%zd, %zd) and "
                     "dilation_rate=(%zd, %zd)", who, (Py_ssize_t)out->strides[0],
                     (Py_ssize_t)out->strides[1], (Py_ssize_t)out->dilation[0],
                     (Py_ssize_t)out->dilation[1]);
        return -1;
    }
    return 0;
}

typedef struct {
    LayerObject base;
    npy_intp filters, groups;
    pc_index kernel_size[2], strides[2], dilation[2];
    int same, use_bias, act;
} Conv2DObject;

static int
Conv2D_init(Conv2DObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"filters", "kernel_size", "strides", "padding", "data_format",
                             "dilation_rate", "groups", "activation", "use_bias",
                             "kernel_initializer", "bias_initializer", PC_LAYER_KWLIST, NULL};
    PyObject *filters, *ksize, *strides = NULL, *padding = NULL, *data_format = Py_None;
    PyObject *dilation = NULL, *groups = NULL;
    PyObject *activation = Py_None, *kinit = NULL, *binit = NULL;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    pc_conv_window_args a;
    int use_bias = 1;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OOOOOOpOO$" PC_LAYER_KWFMT ":Conv2D",
                                     kwlist, &filters, &ksize, &strides, &padding, &data_format,
                                     &dilation, &groups, &activation, &use_bias, &kinit, &binit,
                                     PC_LAYER_KWARGS(common)) ||
        pc_conv_layer_window("Conv2D", filters, ksize, strides, padding, dilation, data_format,
                             &a) < 0)
        return -1;
    self->filters = a.filters, self->same = a.same;
    memcpy(self->kernel_size, a.kernel_size, sizeof a.kernel_size);
    memcpy(self->strides, a.strides, sizeof a.strides);
    memcpy(self->dilation, a.dilation, sizeof a.dilation);
    self->groups = 1;
    if (groups != NULL && (self->groups = pc_parse_positive(groups, "Conv2D", "groups")) < 0)
        return -1;
    if (self->filters % self->groups != 0) {          /* Keras' words */
        PyErr_Format(PyExc_ValueError, "Conv2D: the number of filters must be evenly divisible "
                     "by the number of groups. Received: groups=%zd, filters=%zd",
                     (Py_ssize_t)self->groups, (Py_ssize_t)self->filters);
        return -1;
    }
    self->use_bias = use_bias;
    return pc_kernel_layer_finish(&self->base, "Conv2D", activation, kinit, binit, &self->act,
                                  &common);
}

static PyObject *
Conv2D_call(Conv2DObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *w, *b, *y;
    PyObject *x = pc_layer_call_weighted(&self->base, args, kwargs, self->use_bias, &w, &b);

    if (x == NULL)
        return NULL;
    y = conv2d_node(PyUnicode_AsUTF8(pc_layer_name(&self->base)), x, w, b, self->strides, self->dilation, self->same,
                    self->act, self->groups);
    Py_DECREF(x);
    return pc_layer_post_activation(&self->base, y);
}

PyObject *
pc_conv_layer_build(LayerObject *base, PyObject *input_shape, const pc_index ksize[2],
                    npy_intp filters, int filters_at, int use_bias, npy_intp groups)
{
    npy_intp dims[4], wshape[4];

    if (pc_layer_check_init(base) < 0)
        return NULL;
    if (base->built)
        Py_RETURN_NONE;
    if (pc_layer_image_shape(base, input_shape, dims) < 0)
        return NULL;
    if (dims[3] < 0) {
        PyErr_Format(PyExc_ValueError, "%U: the number of input channels must be known, got "
                     "input shape %R", pc_layer_name(base), input_shape);
        return NULL;
    }
    if (groups > 1 && dims[3] % groups != 0) {        /* Keras' words */
        PyErr_Format(PyExc_ValueError, "%U: the number of input channels must be evenly "
                     "divisible by the number of groups. Received groups=%zd, but the input "
                     "has %zd channels (full input shape is %R)", pc_layer_name(base),
                     (Py_ssize_t)groups, (Py_ssize_t)dims[3], input_shape);
        return NULL;
    }
    wshape[0] = ksize[0], wshape[1] = ksize[1];
    wshape[filters_at] = filters, wshape[5 - filters_at] = dims[3] / (groups > 1 ? groups : 1);
    if (pc_layer_add_weight(base, "kernel", 4, wshape, base->objs[PC_OBJ_KERNEL_INIT], 1,
                            pc_layer_dtype(base)) == NULL ||
        (use_bias && pc_layer_add_weight(base, "bias", 1, &filters,
                                         base->objs[PC_OBJ_BIAS_INIT], 1,
                                         pc_layer_dtype(base)) == NULL))
        return NULL;
    base->built = 1;
    Py_RETURN_NONE;
}

static PyObject *
Conv2D_build(Conv2DObject *self, PyObject *input_shape)
{
    return pc_conv_layer_build(&self->base, input_shape, self->kernel_size, self->filters, 3,
                               self->use_bias, self->groups);
}

/* (N, H, W, C) → (N, OH, OW, filters) by window.h's rule; None stays None */
static PyObject *
Conv2D_compute_output_shape(Conv2DObject *self, PyObject *input_shape)
{
    npy_intp dims[4];
    pc_index span[2] = {pc_window_span(self->kernel_size[0], self->dilation[0] - 1),
                        pc_window_span(self->kernel_size[1], self->dilation[1] - 1)};

    if (pc_layer_window_dims(&self->base, input_shape, "kernel", span, self->strides,
                             self->same, dims) < 0)
        return NULL;
    dims[3] = self->filters;
    return pc_layer_shape_tuple(4, dims);
}

static PyObject *
Conv2D_get_config(Conv2DObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_kernel_layer_config(&self->base, Py_BuildValue(
        "{s:n,s:(nn),s:(nn),s:s,s:s,s:(nn),s:n}", "filters", self->filters, "kernel_size",
        self->kernel_size[0], self->kernel_size[1], "strides", self->strides[0],
        self->strides[1], "padding", self->same ? "same" : "valid", "data_format",
        "channels_last", "dilation_rate", self->dilation[0], self->dilation[1], "groups",
        self->groups), 1, self->use_bias);
}

static PyGetSetDef Conv2D_getset[] = {
    {"kernel", (getter)pc_layer_get_kernel, NULL,
     "the kernel Tensor (kernel_h, kernel_w, in_channels / groups, filters), None before build",
     NULL},
    {"bias", (getter)pc_layer_get_bias, NULL, "the bias Tensor (filters,), or None", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef Conv2D_methods[] = {
    PC_LAYER_CALL(Conv2D_call,
                  "call(inputs, training=False)\n--\n\nthe convolution node on built weights"),
    PC_LAYER_BUILD(Conv2D_build, "kernel (kh, kw, input_shape[-1], filters), bias (filters,)"),
    PC_LAYER_OUTPUT_SHAPE(Conv2D_compute_output_shape, "(batch, out_h, out_w, filters)"),
    PC_LAYER_GET_CONFIG(Conv2D_get_config, "Keras keys"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Conv2D_Type = {
    PC_LAYER_TYPE("Conv2D", Conv2DObject, Conv2D_init, Conv2D_methods),
    .tp_doc = PyDoc_STR(
        "Conv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,\n"
        "       dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,\n"
        "       kernel_initializer='glorot_uniform', bias_initializer='zeros', *,\n"
        "       input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n"
        "2-D convolution (cross-correlation, like every framework) over channels_last\n"
        "inputs (batch, H, W, C) -> (batch, OH, OW, filters); kernel (kh, kw, C, filters),\n"
        "(kh·kw·C + 1)·filters parameters. groups=G splits the channels and filters into G\n"
        "groups, filter group j seeing channel group j only: kernel (kh, kw, C/G, filters),\n"
        "(kh·kw·C/G + 1)·filters parameters; G = C is a depthwise convolution.\n"
        "valid: O = floor((I - k)/s) + 1; same: O = ceil(I/s), the odd extra padding row/column at the bottom/right like Keras.\n"
        "im2col + one GEMM (NumPy's BLAS) + bias + activation, one node; 3x3 stride-1\n"
        "windows go through Winograd's F(2x2, 3x3) instead (2.25x fewer multiplications).\n\n"
        "    >>> Conv2D(32, 3, activation='relu').build((None, 28, 28, 1))  # 320 params"),
    .tp_getset = Conv2D_getset,
};

/* pycnn._core._set_conv_algorithm(name) -> the previous name */
static PyObject *
py_set_conv_algorithm(PyObject *Py_UNUSED(m), PyObject *arg)
{
    static const char *names[] = {"auto", "im2col", "winograd", "direct"};
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    int previous = pc_conv_algorithm;

    if (name == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "_set_conv_algorithm: expected 'auto', 'im2col', "
                         "'winograd' or 'direct', got %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            pc_conv_algorithm = i;
            return PyUnicode_FromString(names[previous]);
        }
    PyErr_Format(PyExc_ValueError, "_set_conv_algorithm: expected 'auto', 'im2col', "
                 "'winograd' or 'direct', got %R", arg);
    return NULL;
}

static PyMethodDef conv_functions[] = {
    {"_set_conv_algorithm", (PyCFunction)py_set_conv_algorithm, METH_O,
     "_set_conv_algorithm(name)\n--\n\nReturns previous. 'auto' (the cheapest route by a cost\n"
     "model, autograd/ops_conv_route.c; _conv_route tells which: Winograd F(2x2, 3x3),\n"
     "direct without a patch matrix, or im2col + GEMM), 'im2col', 'winograd' (still\n"
     "only for 3x3 stride-1 windows) or 'direct' (still only for patches of <= 160\n"
     "values kh*kw*C). For tests and benchmarks."},
    {"conv2d", (PyCFunction)(void (*)(void))py_conv2d, METH_VARARGS | METH_KEYWORDS,
     "conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1,\n"
     "       activation=None, groups=1)\n--\n\n"
     "Returns Tensor.\n\n"
     "x (N, H, W, C), kernel (kh, kw, C/groups, F), bias (F,) -> (N, OH, OW, F); the same\n"
     "node as Conv2D (cross-correlation, Keras' 'same' padding)."},
    {"depthwise_conv2d", (PyCFunction)(void (*)(void))py_depthwise_conv2d,
     METH_VARARGS | METH_KEYWORDS,
     "depthwise_conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1,\n"
     "                 activation=None)\n--\n\n"
     "Returns Tensor.\n\n"
     "x (N, H, W, C), kernel (kh, kw, C, M), bias (C·M,) -> (N, OH, OW, C·M), output\n"
     "channel c·M + m = channel c convolved with kernel[:, :, c, m] (Keras' DepthwiseConv2D)."},
    {NULL, NULL, 0, NULL},
};

int
pc_conv2d_exec(PyObject *m)
{
    static PyTypeObject *const types[] = {&Conv2D_Type, NULL};
    return pc_add_layer_file(m, types, conv_functions);
}
