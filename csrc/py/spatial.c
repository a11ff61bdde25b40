/* py/spatial.c — GlobalAveragePooling2D, GlobalMaxPooling2D, ZeroPadding2D and
 * Cropping2D: Keras' arguments and checks around autograd/ops_spatial.c's recorders.
 * Legend: kernels/spatial.h (x (N, H, W, C), channels_last only).
 */
#include "py/layer.h"

#include "autograd/ops_spatial.h"

/* The layer's input as a Tensor, checked to be an image batch (new ref) */
static PyObject *
image_input(LayerObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x = pc_layer_call_input(self, args, kwargs, 0, NULL);

    if (x != NULL && pc_check_image(PyUnicode_AsUTF8(pc_layer_name(self)), PC_DATA(x)) < 0)
        Py_CLEAR(x);
    return x;
}

/* ---- global pooling ------------------------------------------------------------------ */

typedef struct {
    LayerObject base;
    int keepdims;
} GlobalPoolObject;

static PyTypeObject GlobalMaxPooling2D_Type;

static int
is_global_max(GlobalPoolObject *self)
{
    return PyType_IsSubtype(Py_TYPE(self), &GlobalMaxPooling2D_Type);
}

static int
GlobalPool_init(GlobalPoolObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data_format", "keepdims", PC_LAYER_KWLIST, NULL};
    PyObject *data_format = Py_None;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    const char *who = is_global_max(self) ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D";
    int keepdims = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|Op$" PC_LAYER_KWFMT, kwlist, &data_format,
                                     &keepdims, PC_LAYER_KWARGS(common)))
        return -1;
    if (pc_check_channels_last(data_format, who) < 0)
        return -1;
    self->keepdims = keepdims;
    return pc_layer_init_common(&self->base, &common);
}

static PyObject *
GlobalPool_call(GlobalPoolObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x = image_input(&self->base, args, kwargs), *y;
    if (x == NULL)
        return NULL;
    y = pc_global_pool2d(x, is_global_max(self), self->keepdims);
    Py_DECREF(x);
    return y;
}

static PyObject *
GlobalPool_compute_output_shape(GlobalPoolObject *self, PyObject *input_shape)
{
    npy_intp dims[4];
    if (pc_layer_image_shape(&self->base, input_shape, dims) < 0)
        return NULL;
    if (!self->keepdims) {
        dims[1] = dims[3];
        return pc_layer_shape_tuple(2, dims);
    }
    dims[1] = dims[2] = 1;
    return pc_layer_shape_tuple(4, dims);
}

static PyObject *
GlobalPool_get_config(GlobalPoolObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_layer_config(&self->base, Py_BuildValue("{s:s,s:O}", "data_format",
                                                      "channels_last", "keepdims",
                                                      self->keepdims ? Py_True : Py_False));
}

static PyMethodDef GlobalPool_methods[] = {
    PC_LAYER_CALL(GlobalPool_call,
                  "call(inputs, training=False)\n--\n\npool each image to one value per channel"),
    PC_LAYER_OUTPUT_SHAPE(GlobalPool_compute_output_shape,
                          "(batch, channels), or (batch, 1, 1, channels)"),
    PC_LAYER_GET_CONFIG(GlobalPool_get_config, "data_format, keepdims"),
    {NULL, NULL, 0, NULL},
};

#define GLOBAL_DOC(cls, what)                                                              \
    cls "(data_format=None, keepdims=False, *, input_shape=None, name=None,\n"            \
    "      trainable=True, dtype=None)\n--\n\n" what " of each channel over the whole\n"   \
    "image: " \
    "(N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims=True. No weights."

static PyTypeObject GlobalAveragePooling2D_Type = {
    PC_LAYER_TYPE("GlobalAveragePooling2D", GlobalPoolObject, GlobalPool_init, GlobalPool_methods),
    .tp_doc = PyDoc_STR(GLOBAL_DOC("GlobalAveragePooling2D", "The mean")
                        "\nBackward: every pixel gets the output's gradient / (H·W)."),
};

static PyTypeObject GlobalMaxPooling2D_Type = {
    PC_LAYER_TYPE("GlobalMaxPooling2D", GlobalPoolObject, GlobalPool_init, GlobalPool_methods),
    .tp_doc = PyDoc_STR(GLOBAL_DOC("GlobalMaxPooling2D", "The maximum")
                        "\nBackward: the whole gradient goes to the FIRST maximal pixel."),
};

/* ---- zero padding and cropping ------------------------------------------------------- */

typedef struct {
    LayerObject base;
    pc_index amount[4];         /* top, bottom, left, right (≥ 0) */
} PadObject;

static PyTypeObject Cropping2D_Type;

static int
is_crop(PadObject *self)
{
    return PyType_IsSubtype(Py_TYPE(self), &Cropping2D_Type);
}

/* a non-negative int (the pieces of padding / cropping), else -1 */
static pc_index
parse_amount(PyObject *v)
{
    pc_index n = PyIndex_Check(v) && !PyBool_Check(v) ? PyNumber_AsSsize_t(v, NULL) : -1;
    if (n < 0)
        PyErr_Clear();
    return n;
}

/* Keras' forms: n; (rows, cols); ((top, bottom), (left, right)) → out[4] */
static int
parse_amounts(PyObject *obj, const char *who, const char *arg, pc_index out[4])
{
    PyObject *seq = NULL;
    int status = -1;

    if (PyIndex_Check(obj)) {
        out[0] = out[1] = out[2] = out[3] = parse_amount(obj);
        status = out[0] < 0 ? -1 : 0;
    }
    else if ((seq = PySequence_Check(obj) && !PyUnicode_Check(obj)
                        ? PySequence_Fast(obj, arg) : NULL) != NULL &&
             PySequence_Fast_GET_SIZE(seq) == 2) {
        status = 0;
        for (int d = 0; d < 2 && status == 0; d++) {
            PyObject *item = PySequence_Fast_GET_ITEM(seq, d), *pair;
            if (PyIndex_Check(item)) {
                out[2 * d] = out[2 * d + 1] = parse_amount(item);
                status = out[2 * d] < 0 ? -1 : 0;
                continue;
            }
            pair = PySequence_Check(item) ? PySequence_Fast(item, arg) : NULL;
            if (pair != NULL && PySequence_Fast_GET_SIZE(pair) == 2) {
                out[2 * d] = parse_amount(PySequence_Fast_GET_ITEM(pair, 0));
                out[2 * d + 1] = parse_amount(PySequence_Fast_GET_ITEM(pair, 1));
                status = out[2 * d] < 0 || out[2 * d + 1] < 0 ? -1 : 0;
            }
            else
                status = -1;
            Py_XDECREF(pair);
        }
    }
    PyErr_Clear();
    Py_XDECREF(seq);
    if (status < 0)
        PyErr_Format(PyExc_ValueError, "%s: %s must be a non-negative int, a pair of them "
                     "(rows, columns) or ((top, bottom), (left, right)), got %R", who, arg, obj);
    return status;
}

static int
Pad_init(PadObject *self, PyObject *args, PyObject *kwargs)
{
    static char *pad_kw[] = {"padding", "data_format", PC_LAYER_KWLIST, NULL};
    static char *crop_kw[] = {"cropping", "data_format", PC_LAYER_KWLIST, NULL};
    PyObject *amount = NULL, *data_format = Py_None;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    int crop = is_crop(self);
    const char *who = crop ? "Cropping2D" : "ZeroPadding2D";

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO$" PC_LAYER_KWFMT,
                                     crop ? crop_kw : pad_kw, &amount, &data_format,
                                     PC_LAYER_KWARGS(common)))
        return -1;
    for (int i = 0; i < 4; i++)
        self->amount[i] = crop ? 0 : 1;
    if ((amount != NULL && parse_amounts(amount, who, crop ? "cropping" : "padding",
                                         self->amount) < 0) ||
        pc_check_channels_last(data_format, who) < 0)
        return -1;
    return pc_layer_init_common(&self->base, &common);
}

/* The output rows/columns for H, W (−1: unknown); -1 with ValueError when a crop leaves
 * none or a pad overflows */
static int
pad_output(PadObject *self, npy_intp H, npy_intp W, npy_intp *OH, npy_intp *OW)
{
    const pc_index *a = self->amount;
    npy_intp in[2] = {H, W}, *out[2] = {OH, OW};
    for (int d = 0; d < 2; d++) {
        pc_index total = a[2 * d] + a[2 * d + 1];
        if (in[d] < 0) {
            *out[d] = -1;
            continue;
        }
        if (is_crop(self) ? total >= in[d] : total > PY_SSIZE_T_MAX - in[d]) {
            PyErr_Format(PyExc_ValueError, "%U: %s %zd + %zd %s from %zd %s",
                         pc_layer_name(&self->base), is_crop(self) ? "cropping" : "padding",
                         (Py_ssize_t)a[2 * d], (Py_ssize_t)a[2 * d + 1],
                         is_crop(self) ? "leaves nothing" : "overflows the size",
                         (Py_ssize_t)in[d], d == 0 ? "rows" : "columns");
            return -1;
        }
        *out[d] = is_crop(self) ? in[d] - total : in[d] + total;
    }
    return 0;
}

static PyObject *
Pad_call(PadObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x = image_input(&self->base, args, kwargs), *y = NULL;
    PyArrayObject *xa;
    int sign = is_crop(self) ? -1 : 1;
    npy_intp OH, OW;

    if (x == NULL)
        return NULL;
    xa = PC_DATA(x);
    if (pad_output(self, PyArray_DIM(xa, 1), PyArray_DIM(xa, 2), &OH, &OW) == 0) {
        const pc_index *a = self->amount;
        pc_pad_geometry g = {.N = PyArray_DIM(xa, 0), .H = PyArray_DIM(xa, 1),
                      .W = PyArray_DIM(xa, 2), .C = PyArray_DIM(xa, 3), .PT = sign * a[0],
                      .PB = sign * a[1], .PL = sign * a[2], .PR = sign * a[3], .OH = OH,
                      .OW = OW};
        npy_intp size;
        if (pc_mul_overflows(g.N * OH, OW, &size) || pc_mul_overflows(size, g.C, &size))
            PyErr_Format(PyExc_ValueError, "%U: the padded output is too large to index",
                         pc_layer_name(&self->base));
        else
            y = pc_pad2d(x, &g);
    }
    Py_DECREF(x);
    return y;
}

static PyObject *
Pad_compute_output_shape(PadObject *self, PyObject *input_shape)
{
    npy_intp dims[4];
    if (pc_layer_image_shape(&self->base, input_shape, dims) < 0 ||
        pad_output(self, dims[1], dims[2], &dims[1], &dims[2]) < 0)
        return NULL;
    return pc_layer_shape_tuple(4, dims);
}

static PyObject *
Pad_get_config(PadObject *self, PyObject *Py_UNUSED(ignored))
{
    const pc_index *a = self->amount;
    return pc_layer_config(&self->base, Py_BuildValue(
        "{s:((nn)(nn)),s:s}", is_crop(self) ? "cropping" : "padding", a[0], a[1], a[2], a[3],
        "data_format", "channels_last"));
}

static PyMethodDef Pad_methods[] = {
    PC_LAYER_CALL(Pad_call,
                  "call(inputs, training=False)\n--\n\nadd (or remove) rows and columns at the "
                  "borders"),
    PC_LAYER_OUTPUT_SHAPE(Pad_compute_output_shape, "(batch, rows, columns, channels)"),
    PC_LAYER_GET_CONFIG(Pad_get_config,
                        "padding or cropping ((top, bottom), (left, right)), data_format"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ZeroPadding2D_Type = {
    PC_LAYER_TYPE("ZeroPadding2D", PadObject, Pad_init, Pad_methods),
    .tp_doc = PyDoc_STR(
        "ZeroPadding2D(padding=(1, 1), data_format=None, *, input_shape=None, name=None,\n"
        "              trainable=True, dtype=None)\n--\n\n"
        "Rows and columns of zeros around each image. padding: n (all sides), (rows,\n"
        "columns) (symmetric) or ((top, bottom), (left, right)). (N, H, W, C) ->\n"
        "(N, H + top + bottom, W + left + right, C). Backward: the gradient of the inner\n"
        "part goes back, the border's is dropped."),
};

static PyTypeObject Cropping2D_Type = {
    PC_LAYER_TYPE("Cropping2D", PadObject, Pad_init, Pad_methods),
    .tp_doc = PyDoc_STR(
        "Cropping2D(cropping=((0, 0), (0, 0)), data_format=None, *, input_shape=None,\n"
        "           name=None, trainable=True, dtype=None)\n--\n\n"
        "Removes rows and columns at the borders of each image; cropping as ZeroPadding2D's\n"
        "padding. (N, H, W, C) -> (N, H - top - bottom, W - left - right, C). Backward:\n"
        "the gradient lands in the kept part, zeros at the cropped borders."),
};

int
pc_spatial_exec(PyObject *m)
{
    static PyTypeObject *const types[] = {&GlobalAveragePooling2D_Type,
                                          &GlobalMaxPooling2D_Type, &ZeroPadding2D_Type,
                                          &Cropping2D_Type, NULL};
    return pc_add_layer_file(m, types, NULL);
}
