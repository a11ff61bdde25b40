/* py/layers_misc.c — the layers without weights that move or mask values:
 * Dropout (with noise_shape), SpatialDropout2D (and pycnn.dropout), Flatten and Reshape:
 * arguments and checks; the recorders
 * are in autograd (pc_dropout in ops_layers.c, pc_reshape_to in ops_shape.c).
 *
 * Legend: N = batch; x, y = input, output; m = the dropout mask.
 */
#include "py/layer.h"
#include "py/args.h"
#include "py/bindings.h"

#include "autograd/ops_layers.h"
#include "autograd/ops_shape.h"

/* ---- dropout ------------------------------------------------------------------------ */

static int
check_rate(PyObject *rate_obj, const char *who, double *rate)
{
    if (pc_parse_real(rate_obj, who, "rate", rate) < 0)
        return -1;
    if (!(*rate >= 0.0 && *rate < 1.0)) {
        PyErr_Format(PyExc_ValueError, "%s: rate must be in [0, 1) (the fraction of inputs "
                     "dropped), got %R", who, rate_obj);
        return -1;
    }
    return 0;
}

static int
check_seed(PyObject *seed, const char *who)
{
    if (seed == Py_None || (PyLong_Check(seed) && !PyBool_Check(seed)))
        return 0;
    PyErr_Format(PyExc_TypeError, "%s: seed must be an int or None, got %R", who, seed);
    return -1;
}

/* pycnn.dropout(x, rate, training=True, seed=None) */
static PyObject *
py_dropout(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x", "rate", "training", "seed", NULL};
    PyObject *x_obj, *rate_obj, *seed = Py_None, *x, *y;
    int training = 1;
    double rate;
    pc_rng rng;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|pO:dropout", kwlist, &x_obj, &rate_obj,
                                     &training, &seed))
        return NULL;
    if (check_rate(rate_obj, "dropout", &rate) < 0 || check_seed(seed, "dropout") < 0 ||
        (x = pc_as_tensor(x_obj, -1, "dropout")) == NULL)
        return NULL;
    if (!training || rate == 0.0)
        return x;
    if (seed != Py_None)
        pc_rng_seed(&rng, (uint64_t)PyLong_AsUnsignedLongLongMask(seed));
    y = pc_dropout(x, rate, seed != Py_None ? &rng : pc_global_rng(), NULL);
    Py_DECREF(x);
    return y;
}

typedef struct {
    LayerObject base;
    double rate;
    int seeded;
    pc_rng rng;                 /* its own stream when seeded, as Keras' SeedGenerator */
    int noise_ndim;             /* noise_shape given: its rank (0: none) */
    npy_intp noise[PC_MAX_NDIM];    /* -1 where None: the input's size there */
} DropoutObject;

enum { OBJ_RATE, OBJ_SEED, OBJ_NOISE };     /* base.objs[]: as given, for get_config */

static PyTypeObject SpatialDropout2D_Type;

static int
is_spatial(DropoutObject *self)
{
    return PyType_IsSubtype(Py_TYPE(self), &SpatialDropout2D_Type);
}

/* What Dropout and SpatialDropout2D share after their own arguments */
static int
dropout_init_common(DropoutObject *self, const char *who, PyObject *rate, PyObject *seed)
{
    if (check_rate(rate, who, &self->rate) < 0 || check_seed(seed, who) < 0)
        return -1;
    self->seeded = seed != Py_None;
    if (self->seeded)
        pc_rng_seed(&self->rng, (uint64_t)PyLong_AsUnsignedLongLongMask(seed));
    Py_XSETREF(self->base.objs[OBJ_RATE], PyFloat_FromDouble(self->rate));
    Py_XSETREF(self->base.objs[OBJ_SEED], Py_NewRef(seed));
    return self->base.objs[OBJ_RATE] != NULL ? 0 : -1;
}

static int
Dropout_init(DropoutObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"rate", "noise_shape", "seed", PC_LAYER_KWLIST, NULL};
    static char *spatial_kw[] = {"rate", "data_format", "seed", PC_LAYER_KWLIST, NULL};
    PyObject *rate, *noise = Py_None, *seed = Py_None;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    int spatial = is_spatial(self);
    const char *who = spatial ? "SpatialDropout2D" : "Dropout";

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO$" PC_LAYER_KWFMT,
                                     spatial ? spatial_kw : kwlist, &rate, &noise, &seed,
                                     PC_LAYER_KWARGS(common)))
        return -1;
    if (dropout_init_common(self, who, rate, seed) < 0 ||
        (spatial && pc_check_channels_last(noise, who) < 0))
        return -1;
    self->noise_ndim = 0;
    if (!spatial && noise != Py_None) {
        if (pc_layer_parse_shape(noise, who, 1, &self->noise_ndim, self->noise) < 0)
            return -1;
        for (int d = 0; d < self->noise_ndim; d++)
            if (self->noise[d] == 0) {
                PyErr_Format(PyExc_ValueError, "%s: noise_shape %R has a zero dimension", who,
                             noise);
                return -1;
            }
        Py_XSETREF(self->base.objs[OBJ_NOISE],
                   pc_layer_shape_tuple(self->noise_ndim, self->noise));
        if (self->base.objs[OBJ_NOISE] == NULL)
            return -1;
    }
    return pc_layer_init_common(&self->base, &common);
}

/* The mask's shape for x: noise_shape with None filled in, or SpatialDropout2D's
 * (N, 1, 1, C); NULL (a draw per value) without one. -1 with ValueError when it does
 * not broadcast to x. */
static int
noise_dims(DropoutObject *self, PyArrayObject *x, npy_intp dims[PC_MAX_NDIM], int *has)
{
    PyObject *name = pc_layer_name(&self->base), *s;
    int nd = PyArray_NDIM(x), ok = 1;

    *has = self->noise_ndim > 0 || is_spatial(self);
    if (!*has)
        return 0;
    if (is_spatial(self)) {
        ok = nd == 4;
        if (ok) {
            dims[0] = PyArray_DIM(x, 0), dims[1] = dims[2] = 1, dims[3] = PyArray_DIM(x, 3);
            return 0;
        }
    }
    else if ((ok = self->noise_ndim == nd))
        for (int d = 0; d < nd; d++) {
            dims[d] = self->noise[d] < 0 ? PyArray_DIM(x, d) : self->noise[d];
            ok = ok && (dims[d] == PyArray_DIM(x, d) || dims[d] == 1);
        }
    if (ok)
        return 0;
    if ((s = pc_shape_tuple(nd, PyArray_SHAPE(x))) == NULL)
        return -1;
    if (is_spatial(self))
        PyErr_Format(PyExc_ValueError, "%U: expected a 4-D input (batch, height, width, "
                     "channels), got shape %R", name, s);
    else
        PyErr_Format(PyExc_ValueError, "%U: noise_shape %R does not broadcast to the input's "
                     "shape %R (each entry must be None, 1 or the input's size)", name,
                     self->base.objs[OBJ_NOISE], s);
    Py_DECREF(s);
    return -1;
}

static PyObject *
Dropout_call(DropoutObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *train, *x, *y;
    npy_intp dims[PC_MAX_NDIM];
    int training, has_noise;

    if ((x = pc_layer_call_input(&self->base, args, kwargs, 0, &train)) == NULL)
        return NULL;
    if ((training = PyObject_IsTrue(train)) < 0 ||
        noise_dims(self, PC_DATA(x), dims, &has_noise) < 0) {
        Py_DECREF(x);
        return NULL;
    }
    if (!training || self->rate == 0.0)
        return x;                                   /* identity at inference */
    y = pc_dropout(x, self->rate, self->seeded ? &self->rng : pc_global_rng(),
                   has_noise ? dims : NULL);
    Py_DECREF(x);
    return y;
}

static PyObject *
Dropout_get_config(DropoutObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject **o = self->base.objs;
    if (is_spatial(self))
        return pc_layer_config(&self->base, Py_BuildValue(
            "{s:O,s:O,s:s}", "rate", o[OBJ_RATE], "seed", o[OBJ_SEED], "data_format",
            "channels_last"));
    return pc_layer_config(&self->base, Py_BuildValue(
        "{s:O,s:O,s:O}", "rate", o[OBJ_RATE], "seed", o[OBJ_SEED], "noise_shape",
        o[OBJ_NOISE] != NULL ? o[OBJ_NOISE] : Py_None));
}

static PyMethodDef Dropout_methods[] = {
    PC_LAYER_CALL(Dropout_call, "call(inputs, training=False)\n--\n\n"
                                "x · mask / (1 − rate) when training, else x"),
    PC_LAYER_SAME_SHAPE,
    PC_LAYER_GET_CONFIG(Dropout_get_config, "rate, seed"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Dropout_Type = {
    PC_LAYER_TYPE("Dropout", DropoutObject, Dropout_init, Dropout_methods),
    .tp_doc = PyDoc_STR(
        "Dropout(rate, noise_shape=None, seed=None, *, input_shape=None, name=None,\n"
        "        trainable=True, dtype=None)\n--\n\n"
        "Inverted dropout: with training=True each input is zeroed with probability rate\n"
        "and the survivors are scaled by 1/(1 - rate), so that nothing changes at inference,\n"
        "where the layer is the identity. noise_shape (None entries: the input's size)\n"
        "draws one mask value per element of that shape and broadcasts it, e.g.\n"
        "(None, 1, 1, None) drops whole channels. Masks come from pycnn.set_seed's\n"
        "generator, or from the layer's own stream when seed is given."),
};

static PyTypeObject SpatialDropout2D_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pycnn.layers.SpatialDropout2D",
    .tp_doc = PyDoc_STR(
        "SpatialDropout2D(rate, data_format=None, seed=None, *, input_shape=None, name=None,\n"
        "                 trainable=True, dtype=None)\n\n"
        "Dropout of whole feature maps: with training=True each channel of each image is\n"
        "zeroed with probability rate (one draw per (image, channel), noise shape\n"
        "(N, 1, 1, C)), the kept ones scaled by 1/(1 - rate); the identity at inference."),
    .tp_basicsize = sizeof(DropoutObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,     /* GC inherited */
    .tp_base = &Dropout_Type,
    .tp_init = (initproc)Dropout_init,
};

/* ---- flatten and reshape ---------------------------------------------------------------- */

static int
Flatten_init(LayerObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data_format", PC_LAYER_KWLIST, NULL};
    PyObject *data_format = Py_None;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O$" PC_LAYER_KWFMT ":Flatten", kwlist,
                                     &data_format, PC_LAYER_KWARGS(common)))
        return -1;
    if (pc_check_channels_last(data_format, "Flatten") < 0)
        return -1;
    return pc_layer_init_common(self, &common);
}

static PyObject *
Flatten_call(LayerObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x, *y = NULL;
    npy_intp dims[2];

    if ((x = pc_layer_call_input(self, args, kwargs, 0, NULL)) == NULL)
        return NULL;
    if ((dims[1] = pc_layer_input_sample_size(self, PC_DATA(x))) >= 0) {
        dims[0] = PyArray_DIM(PC_DATA(x), 0);
        y = pc_reshape_to(PC_OP_FLATTEN, x, 2, dims);
    }
    Py_DECREF(x);
    return y;
}

/* (N, d1, d2, ...) → (N, d1·d2·...), None when a dimension is unknown */
static PyObject *
Flatten_compute_output_shape(LayerObject *self, PyObject *input_shape)
{
    npy_intp dims[PC_MAX_NDIM], out[2];
    int nd;
    if (pc_layer_parse_shape(input_shape, PyUnicode_AsUTF8(pc_layer_name(self)), 1, &nd,
                             dims) < 0)
        return NULL;
    out[0] = dims[0];
    out[1] = pc_layer_sample_size(nd, dims);
    return pc_layer_shape_tuple(2, out);
}

static PyObject *
Flatten_get_config(LayerObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_layer_config(self, Py_BuildValue("{s:s}", "data_format", "channels_last"));
}

static PyMethodDef Flatten_methods[] = {
    PC_LAYER_CALL(Flatten_call,
                  "call(inputs, training=False)\n--\n\n(N, ...) -> (N, product of the rest)"),
    PC_LAYER_OUTPUT_SHAPE(Flatten_compute_output_shape,
                          "(batch, product of the other dimensions)"),
    PC_LAYER_GET_CONFIG(Flatten_get_config, ""),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Flatten_Type = {
    PC_LAYER_TYPE("Flatten", LayerObject, Flatten_init, Flatten_methods),
    .tp_doc = PyDoc_STR(
        "Flatten(data_format=None, *, input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n"
        "Per sample, all values in one row: (N, H, W, C) -> (N, H·W·C), in C order (the\n"
        "channels vary fastest), sharing the input's memory."),
};

static PyMethodDef misc_functions[] = {
    {"dropout", PC_KW(py_dropout),
     "dropout(x, rate, training=True, seed=None)\n--\n\nReturns Tensor.\n\n"
     "Inverted dropout: zero each value with probability rate, scale the rest by\n"
     "1/(1 - rate); x itself when training is False. An int seed gives the same mask\n"
     "on every call (like Keras' stateless seeds); None draws from pycnn.set_seed's\n"
     "generator."},
    {NULL, NULL, 0, NULL},
};

int
pc_layers_misc_exec(PyObject *m)
{
    static PyTypeObject *const types[] = {&Dropout_Type, &SpatialDropout2D_Type, &Flatten_Type,
                                          NULL};
    return pc_add_layer_file(m, types, misc_functions);
}
