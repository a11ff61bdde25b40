/* py/pool.c — MaxPooling2D, AveragePooling2D, UpSampling2D and the functional
 * pycnn.max_pool2d / avg_pool2d: arguments and geometry checks; the recorders are in
 * autograd/ops_pool.c. Legend: kernels/window.h and kernels/pool.h.
 */
#include "py/layer.h"

#include "autograd/ops_augment.h"
#include "autograd/ops_layers.h"
#include "kernels/pool.h"

/* Window checked against x (a Tensor): 4-D, non-empty, fits when 'valid' */
static int
pool_geometry(const char *who, PyArrayObject *x, const pc_index pool[2],
              const pc_index strides[2], int same, pc_window2d *g)
{
    if (pc_check_image(who, x) < 0)
        return -1;
    *g = (pc_window2d){.N = PyArray_DIM(x, 0), .H = PyArray_DIM(x, 1), .W = PyArray_DIM(x, 2),
                       .C = PyArray_DIM(x, 3), .KH = pool[0], .KW = pool[1], .SH = strides[0],
                       .SW = strides[1]};
    if (pc_window_geometry(g, same) < 0) {
        PyErr_Format(PyExc_ValueError, "%s: pool %zdx%zd is larger than the %zdx%zd input "
                     "(padding='valid'); use padding='same' or a smaller pool_size", who,
                     (Py_ssize_t)g->KH, (Py_ssize_t)g->KW, (Py_ssize_t)g->H, (Py_ssize_t)g->W);
        return -1;
    }
    if ((double)g->KH * (double)g->W * (double)g->C >= 2147483647.0) {   /* int32 offsets */
        PyErr_Format(PyExc_ValueError, "%s: pool rows of %zd x %zd x %zd values are too large",
                     who, (Py_ssize_t)g->KH, (Py_ssize_t)g->W, (Py_ssize_t)g->C);
        return -1;
    }
    return 0;
}

/* y = max or mean over each window of x (a Tensor); geometry checked here, the node
 * recorded by pc_pool2d */
static PyObject *
pool_node(const char *who, PyObject *x, const pc_index pool[2], const pc_index strides[2],
          int same, int is_max)
{
    pc_window2d g;

    if (pool_geometry(who, PC_DATA(x), pool, strides, same, &g) < 0)
        return NULL;
    return pc_pool2d(x, &g, same, is_max);
}

/* max_pool2d / avg_pool2d (x, pool_size, strides=None, padding='valid') */
static PyObject *
pool_function(const char *who, int is_max, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "pool_size", "strides", "padding", NULL};
    PyObject *x_obj, *pool_obj, *strides_obj = Py_None, *padding = NULL, *x, *y;
    pc_index pool[2], strides[2];
    int same = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OO", kwlist, &x_obj, &pool_obj,
                                     &strides_obj, &padding))
        return NULL;
    if (pc_parse_pair(pool_obj, who, "pool_size", pool) < 0 ||
        (strides_obj != Py_None && pc_parse_pair(strides_obj, who, "strides", strides) < 0) ||
        (padding != NULL && (same = pc_parse_padding(padding, who)) < 0))
        return NULL;
    if (strides_obj == Py_None)
        strides[0] = pool[0], strides[1] = pool[1];
    if ((x = pc_as_tensor(x_obj, -1, who)) == NULL)
        return NULL;
    y = pool_node(who, x, pool, strides, same, is_max);
    Py_DECREF(x);
    return y;
}

static PyObject *
py_max_pool2d(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    return pool_function("max_pool2d", 1, args, kwargs);
}

static PyObject *
py_avg_pool2d(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    return pool_function("avg_pool2d", 0, args, kwargs);
}

/* ---- the pooling layers -------------------------------------------------------------- */

typedef struct {
    LayerObject base;
    pc_index pool[2], strides[2];
    int same;
} PoolObject;

static PyTypeObject MaxPooling2D_Type;

static int
is_max_pool(PoolObject *self)
{
    return PyType_IsSubtype(Py_TYPE(self), &MaxPooling2D_Type);
}

static int
Pool_init(PoolObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"pool_size", "strides", "padding", "data_format", PC_LAYER_KWLIST,
                             NULL};
    PyObject *pool = NULL, *strides = Py_None, *padding = NULL, *data_format = Py_None;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    const char *who = is_max_pool(self) ? "MaxPooling2D" : "AveragePooling2D";

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOO$" PC_LAYER_KWFMT, kwlist, &pool,
                                     &strides, &padding, &data_format, PC_LAYER_KWARGS(common)))
        return -1;
    self->pool[0] = self->pool[1] = 2;
    if ((pool != NULL && pc_parse_pair(pool, who, "pool_size", self->pool) < 0) ||
        (padding != NULL && (self->same = pc_parse_padding(padding, who)) < 0) ||
        pc_check_channels_last(data_format, who) < 0)
        return -1;
    self->strides[0] = self->pool[0], self->strides[1] = self->pool[1];
    if (strides != Py_None && pc_parse_pair(strides, who, "strides", self->strides) < 0)
        return -1;
    return pc_layer_init_common(&self->base, &common);
}

static PyObject *
Pool_call(PoolObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x, *y, *name = pc_layer_name(&self->base);

    if ((x = pc_layer_call_input(&self->base, args, kwargs, 0, NULL)) == NULL)
        return NULL;
    y = pool_node(PyUnicode_AsUTF8(name), x, self->pool, self->strides, self->same,
                  is_max_pool(self));
    Py_DECREF(x);
    return y;
}

static PyObject *
Pool_compute_output_shape(PoolObject *self, PyObject *input_shape)
{
    npy_intp dims[4];

    if (pc_layer_window_dims(&self->base, input_shape, "pool", self->pool, self->strides,
                             self->same, dims) < 0)
        return NULL;
    return pc_layer_shape_tuple(4, dims);
}

static PyObject *
Pool_get_config(PoolObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_layer_config(&self->base, Py_BuildValue(
        "{s:(nn),s:(nn),s:s,s:s}", "pool_size", self->pool[0], self->pool[1], "strides",
        self->strides[0], self->strides[1], "padding", self->same ? "same" : "valid",
        "data_format", "channels_last"));
}

static PyMethodDef Pool_methods[] = {
    PC_LAYER_CALL(Pool_call, "call(inputs, training=False)\n--\n\npool each window"),
    PC_LAYER_OUTPUT_SHAPE(Pool_compute_output_shape, "(batch, out_h, out_w, channels)"),
    PC_LAYER_GET_CONFIG(Pool_get_config, "pool_size, strides, padding, data_format"),
    {NULL, NULL, 0, NULL},
};

#define POOL_DOC(cls, what)                                                               \
    cls "(pool_size=(2, 2), strides=None, padding='valid', data_format=None, *,\n"       \
    "      input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n" what        \
    " over each pool_size window of channels_last inputs, channel by channel;\n"          \
    "strides default to pool_size. valid: O = floor((I - k)/s) + 1; same: O = ceil(I/s),\n" \
    "windows over the padding use only real pixels. No weights."

static PyTypeObject MaxPooling2D_Type = {
    PC_LAYER_TYPE("MaxPooling2D", PoolObject, Pool_init, Pool_methods),
    .tp_doc = PyDoc_STR(POOL_DOC("MaxPooling2D", "The maximum") "\nBackward: the whole "
                        "gradient of an output goes to the FIRST maximal element of its\n"
                        "window (scanning rows, then columns); tied elements get none."),
};

static PyTypeObject AveragePooling2D_Type = {
    PC_LAYER_TYPE("AveragePooling2D", PoolObject, Pool_init, Pool_methods),
    .tp_doc = PyDoc_STR(POOL_DOC("AveragePooling2D", "The mean") "\nBackward: each real "
                        "pixel of a window gets the output's gradient / (real pixels)."),
};

/* ---- nearest-neighbour upsampling ------------------------------------------------------- */

typedef struct {
    LayerObject base;
    pc_index size[2];
    int bilinear;               /* interpolation='bilinear': Keras' resize, else repeat */
} UpSamplingObject;

static int
UpSampling2D_init(UpSamplingObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", "data_format", "interpolation", PC_LAYER_KWLIST, NULL};
    PyObject *size = NULL, *data_format = Py_None, *interpolation = NULL;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOO$" PC_LAYER_KWFMT ":UpSampling2D",
                                     kwlist, &size, &data_format, &interpolation,
                                     PC_LAYER_KWARGS(common)))
        return -1;
    self->size[0] = self->size[1] = 2;
    if ((size != NULL && pc_parse_pair(size, "UpSampling2D", "size", self->size) < 0) ||
        pc_check_channels_last(data_format, "UpSampling2D") < 0)
        return -1;
    self->bilinear = interpolation != NULL && PyUnicode_Check(interpolation) &&
                     PyUnicode_CompareWithASCIIString(interpolation, "bilinear") == 0;
    if (interpolation != NULL && !self->bilinear &&
        !(PyUnicode_Check(interpolation) &&
          PyUnicode_CompareWithASCIIString(interpolation, "nearest") == 0)) {
        PyErr_Format(PyExc_ValueError, "UpSampling2D: interpolation must be 'nearest' or "
                     "'bilinear' (pycnn has no 'bicubic' or 'lanczos'), got %R",
                     interpolation);
        return -1;
    }
    return pc_layer_init_common(&self->base, &common);
}

static PyObject *
UpSampling2D_call(UpSamplingObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x = NULL, *result = NULL;
    PyObject *name = pc_layer_name(&self->base);
    PyArrayObject *xa;

    if ((x = pc_layer_call_input(&self->base, args, kwargs, 0, NULL)) == NULL)
        return NULL;
    xa = PC_DATA(x);
    if (PyArray_NDIM(xa) != 4) {
        PyObject *s = pc_shape_tuple(PyArray_NDIM(xa), PyArray_SHAPE(xa));
        if (s != NULL)
            PyErr_Format(PyExc_ValueError, "%U: expected a 4-D input (batch, height, width, "
                         "channels), got shape %R", name, s);
        Py_XDECREF(s);
        goto done;
    }
    pc_window2d g = {.N = PyArray_DIM(xa, 0), .H = PyArray_DIM(xa, 1), .W = PyArray_DIM(xa, 2),
                     .C = PyArray_DIM(xa, 3), .SH = self->size[0], .SW = self->size[1]};
    npy_intp dims[4] = {g.N, 0, 0, g.C};
    if (pc_mul_overflows(g.H, g.SH, &dims[1]) || pc_mul_overflows(g.W, g.SW, &dims[2])) {
        PyErr_Format(PyExc_ValueError, "%U: upsampling a %zdx%zd input by %zdx%zd gives more "
                     "rows or columns than an array can index", name, (Py_ssize_t)g.H,
                     (Py_ssize_t)g.W, (Py_ssize_t)g.SH, (Py_ssize_t)g.SW);
        goto done;
    }
    if (self->bilinear)     /* torch's interpolate(align_corners=False), as Keras' resize */
        result = pc_resize_bilinear(x, dims[1], dims[2]);
    else
        result = pc_upsampling2d(x, &g, dims);
done:
    Py_XDECREF(x);
    return result;
}

static PyObject *
UpSampling2D_compute_output_shape(UpSamplingObject *self, PyObject *input_shape)
{
    npy_intp dims[4];

    if (pc_layer_image_shape(&self->base, input_shape, dims) < 0)
        return NULL;
    for (int d = 1; d <= 2; d++) {
        if (dims[d] >= 0 && pc_mul_overflows(dims[d], self->size[d - 1], &dims[d])) {
            PyErr_Format(PyExc_ValueError, "%U: upsampling %R by %zd along axis %d gives more "
                         "rows or columns than an array can index", pc_layer_name(&self->base),
                         input_shape, (Py_ssize_t)self->size[d - 1], d);
            return NULL;
        }
    }
    return pc_layer_shape_tuple(4, dims);
}

static PyObject *
UpSampling2D_get_config(UpSamplingObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_layer_config(&self->base, Py_BuildValue(
        "{s:(nn),s:s,s:s}", "size", self->size[0], self->size[1], "data_format",
        "channels_last", "interpolation", self->bilinear ? "bilinear" : "nearest"));
}

static PyMethodDef UpSampling2D_methods[] = {
    PC_LAYER_CALL(UpSampling2D_call,
                  "call(inputs, training=False)\n--\n\nrepeat rows and columns"),
    PC_LAYER_OUTPUT_SHAPE(UpSampling2D_compute_output_shape,
                          "(batch, H·size[0], W·size[1], channels)"),
    PC_LAYER_GET_CONFIG(UpSampling2D_get_config, "size, data_format, interpolation"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject UpSampling2D_Type = {
    PC_LAYER_TYPE("UpSampling2D", UpSamplingObject, UpSampling2D_init, UpSampling2D_methods),
    .tp_doc = PyDoc_STR(
        "UpSampling2D(size=(2, 2), data_format=None, interpolation='nearest', *,\n"
        "             input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n"
        "(N, H, W, C) -> (N, H·size[0], W·size[1], C). 'nearest': each pixel becomes a\n"
        "size[0]×size[1] block (backward sums each block); 'bilinear': Keras' resize, i.e.\n"
        "torch's interpolate(mode='bilinear', align_corners=False)."),
};

static PyMethodDef pool_functions[] = {
    {"max_pool2d", PC_KW(py_max_pool2d),
     "max_pool2d(x, pool_size, strides=None, padding='valid')\n--\n\nReturns Tensor.\n\n"
     "The MaxPooling2D node: the gradient goes to the first maximal element of a window."},
    {"avg_pool2d", PC_KW(py_avg_pool2d),
     "avg_pool2d(x, pool_size, strides=None, padding='valid')\n--\n\nReturns Tensor.\n\n"
     "The AveragePooling2D node: 'same' windows average their real pixels only."},
    {NULL, NULL, 0, NULL},
};

int
pc_pool_exec(PyObject *m)
{
    static PyTypeObject *const types[] = {&MaxPooling2D_Type, &AveragePooling2D_Type,
                                          &UpSampling2D_Type, NULL};
    return pc_add_layer_file(m, types, pool_functions);
}
