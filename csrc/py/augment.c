/* py/augment.c — RandomFlip, RandomTranslation, RandomRotation, RandomZoom: with
 * training=True each image gets its own random affine map (Keras' formulas, drawn from
 * pycnn's generator), applied by autograd/ops_augment.c's pc_affine_transform; with
 * training=False (the default of layer(x) in pycnn) they return the input.
 * Legend and fill modes: kernels/augment.h. The shared part (seeds, factors) is here too.
 */
#include "py/augment.h"
#include "py/args.h"

#include "autograd/ops_augment.h"

/* ---- shared by every augmentation layer ------------------------------------------------ */

int
pc_augment_seed(AugmentObject *self, PyObject *seed, const char *who)
{
    if (seed != Py_None && !(PyLong_Check(seed) && !PyBool_Check(seed))) {
        PyErr_Format(PyExc_TypeError, "%s: seed must be an int or None, got %R", who, seed);
        return -1;
    }
    self->seeded = seed != Py_None;
    if (self->seeded)
        pc_rng_seed(&self->rng, (uint64_t)PyLong_AsUnsignedLongLongMask(seed));
    Py_XSETREF(self->base.objs[PC_AUGMENT_OBJ_SEED], Py_NewRef(seed));
    return 0;
}

pc_rng *
pc_augment_rng(AugmentObject *self)
{
    return self->seeded ? &self->rng : pc_global_rng();
}

double
pc_augment_uniform(AugmentObject *self, double low, double high)
{
    return low + (high - low) * pc_rng_uniform(pc_augment_rng(self));
}

int
pc_augment_input(AugmentObject *self, PyObject *args, PyObject *kwargs, PyObject **x,
                 int *training)
{
    PyObject *train;

    if ((*x = pc_layer_call_input(&self->base, args, kwargs, 1, &train)) == NULL)
        return -1;
    if ((*training = PyObject_IsTrue(train)) < 0 ||
        pc_check_image(PyUnicode_AsUTF8(pc_layer_name(&self->base)), PC_DATA(*x)) < 0) {
        Py_CLEAR(*x);
        return -1;
    }
    return 0;
}

/* one end of a factor: a number within [min, max] (min excluded when min_open) */
static int
factor_end(PyObject *v, double min, double max, int min_open, double *out)
{
    if (!PyNumber_Check(v) || PyBool_Check(v) || pc_parse_real(v, "", "", out) < 0) {
        PyErr_Clear();
        return -1;
    }
    return (min_open ? *out > min : *out >= min) && *out <= max ? 0 : -1;
}

int
pc_augment_factor(PyObject *factor, const char *who, const char *arg, double min, double max,
                  int min_open, double floor, double out[2])
{
    PyObject *seq = NULL;
    int status = -1;

    if (PyNumber_Check(factor) && !PyBool_Check(factor)) {
        if (factor_end(factor, min, max, min_open, &out[1]) == 0) {
            out[1] = fabs(out[1]);
            out[0] = -out[1] > floor ? -out[1] : floor;
            status = 0;
        }
    }
    else if ((PyList_Check(factor) || PyTuple_Check(factor)) &&
             (seq = PySequence_Fast(factor, arg)) != NULL &&
             PySequence_Fast_GET_SIZE(seq) == 2 &&
             factor_end(PySequence_Fast_GET_ITEM(seq, 0), min, max, min_open, &out[0]) == 0 &&
             factor_end(PySequence_Fast_GET_ITEM(seq, 1), min, max, min_open, &out[1]) == 0) {
        if (out[0] > out[1]) {
            double t = out[0];
            out[0] = out[1];
            out[1] = t;
        }
        status = 0;
    }
    Py_XDECREF(seq);
    if (status < 0) {
        char range[64];
        snprintf(range, sizeof range, "%s%g, %g]", min_open ? "(" : "[", min, max);
        PyErr_Format(PyExc_ValueError, "%s: %s must be a number or a pair of numbers in %s, "
                     "got %R", who, arg, range, factor);
    }
    return status;
}

/* ---- the four affine layers ------------------------------------------------------------ */

enum { KIND_FLIP, KIND_TRANSLATION, KIND_ROTATION, KIND_ZOOM };
enum { FLIP_HORIZONTAL = 1, FLIP_VERTICAL = 2 };

typedef struct {
    AugmentObject a;
    int interpolation, fill_mode;
    double fill_value;
    double f0[2], f1[2];        /* factor ranges: height (or rotation), width */
    int has_width;              /* RandomZoom: width_factor given */
    int flip;                   /* RandomFlip: FLIP_* bits */
} AffineAugmentObject;

/* base.objs[]: the factors as given (config), the mode / fill_mode string */
enum { OBJ_F0, OBJ_F1, OBJ_MODE };

static PyTypeObject RandomFlip_Type, RandomTranslation_Type, RandomRotation_Type,
    RandomZoom_Type;

static int
kind_of(AffineAugmentObject *self)
{
    PyTypeObject *t = Py_TYPE(self);
    return PyType_IsSubtype(t, &RandomFlip_Type)          ? KIND_FLIP
           : PyType_IsSubtype(t, &RandomTranslation_Type) ? KIND_TRANSLATION
           : PyType_IsSubtype(t, &RandomRotation_Type)    ? KIND_ROTATION
                                                          : KIND_ZOOM;
}

/* s among names[n] → its index, else ValueError naming the choices (`allowed`) */
static int
choose(PyObject *s, const char *who, const char *arg, const char *const *names, int n,
       const char *allowed)
{
    for (int i = 0; i < n && PyUnicode_Check(s); i++)
        if (PyUnicode_CompareWithASCIIString(s, names[i]) == 0)
            return i;
    PyErr_Format(PyExc_ValueError, "%s: %s must be one of %s, got %R", who, arg, allowed, s);
    return -1;
}

static const char *const fill_names[] = {"reflect", "wrap", "nearest", "constant"};
static const char *const interp_names[] = {"nearest", "bilinear"};
static const char *const flip_names[] = {"horizontal", "vertical", "horizontal_and_vertical"};

/* fill_mode, interpolation, fill_value of the transforming layers */
static int
parse_fill(AffineAugmentObject *self, const char *who, PyObject *fill_mode,
           PyObject *interpolation, PyObject *fill_value)
{
    if ((self->fill_mode = choose(fill_mode, who, "fill_mode", fill_names, 4,
                                  "'reflect', 'wrap', 'nearest', 'constant'")) < 0 ||
        (self->interpolation = choose(interpolation, who, "interpolation", interp_names, 2,
                                      "'nearest', 'bilinear'")) < 0 ||
        pc_parse_real(fill_value, who, "fill_value", &self->fill_value) < 0)
        return -1;
    Py_XSETREF(self->a.base.objs[OBJ_MODE], Py_NewRef(fill_mode));
    return 0;
}

static int
Affine_init(AffineAugmentObject *self, PyObject *args, PyObject *kwargs)
{
    static char *flip_kw[] = {"mode", "seed", "data_format", PC_LAYER_KWLIST, NULL};
    static char *two_kw[] = {"height_factor", "width_factor", "fill_mode", "interpolation",
                             "seed", "fill_value", "data_format", PC_LAYER_KWLIST, NULL};
    static char *rot_kw[] = {"factor", "fill_mode", "interpolation", "seed", "fill_value",
                             "data_format", PC_LAYER_KWLIST, NULL};
    PyObject *f0 = NULL, *f1 = Py_None, *mode = NULL, *seed = Py_None, *df = Py_None;
    PyObject *fill_mode = NULL, *interp = NULL, *fill_value = NULL;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    int kind = kind_of(self), ok;
    const char *full = Py_TYPE(self)->tp_name, *dot = strrchr(full, '.');
    const char *who = dot != NULL ? dot + 1 : full;  /* a Python subclass's name has no dot */

    if (kind == KIND_FLIP)
        ok = PyArg_ParseTupleAndKeywords(args, kwargs, "|OOO$" PC_LAYER_KWFMT, flip_kw, &mode,
                                         &seed, &df, PC_LAYER_KWARGS(common));
    else if (kind == KIND_ROTATION)
        ok = PyArg_ParseTupleAndKeywords(args, kwargs, "O|OOOOO$" PC_LAYER_KWFMT, rot_kw, &f0,
                                         &fill_mode, &interp, &seed, &fill_value, &df,
                                         PC_LAYER_KWARGS(common));
    else
        ok = PyArg_ParseTupleAndKeywords(args, kwargs, kind == KIND_ZOOM
                                         ? "O|OOOOOO$" PC_LAYER_KWFMT : "OO|OOOOO$" PC_LAYER_KWFMT,
                                         two_kw, &f0, &f1, &fill_mode, &interp, &seed,
                                         &fill_value, &df, PC_LAYER_KWARGS(common));
    if (!ok || pc_augment_data_format(df, who) < 0 || pc_augment_seed(&self->a, seed, who) < 0)
        return -1;
    if (kind == KIND_FLIP) {
        PyObject *m = mode != NULL ? Py_NewRef(mode)
                                   : PyUnicode_FromString("horizontal_and_vertical");
        int i = m != NULL ? choose(m, who, "mode", flip_names, 3,
                                    "'horizontal', 'vertical', 'horizontal_and_vertical'") : -1;
        if (i < 0) {
            Py_XDECREF(m);
            return -1;
        }
        self->flip = i + 1;     /* 1, 2, 3: the FLIP_* bits */
        Py_XSETREF(self->a.base.objs[OBJ_MODE], m);
        return pc_layer_init_common(&self->a.base, &common);
    }
    {
        PyObject *fm = fill_mode != NULL ? Py_NewRef(fill_mode) : PyUnicode_FromString("reflect");
        PyObject *ip = interp != NULL ? Py_NewRef(interp) : PyUnicode_FromString("bilinear");
        PyObject *fv = fill_value != NULL ? Py_NewRef(fill_value) : PyFloat_FromDouble(0.0);
        ok = fm != NULL && ip != NULL && fv != NULL && parse_fill(self, who, fm, ip, fv) == 0;
        Py_XDECREF(fm);
        Py_XDECREF(ip);
        Py_XDECREF(fv);
        if (!ok)
            return -1;
    }
    if (kind == KIND_ROTATION) {
        if (pc_augment_factor(f0, who, "factor", -1, 1, 0, -1, self->f0) < 0)
            return -1;
    }
    else {
        int zoom = kind == KIND_ZOOM;
        if (pc_augment_factor(f0, who, "height_factor", -1, 1, zoom, -1, self->f0) < 0 ||
            (f1 != Py_None &&
             pc_augment_factor(f1, who, "width_factor", -1, 1, zoom, -1, self->f1) < 0))
            return -1;
        if (f1 == Py_None && !zoom) {
            PyErr_Format(PyExc_TypeError, "%s: width_factor is required", who);
            return -1;
        }
        self->has_width = f1 != Py_None;
    }
    Py_XSETREF(self->a.base.objs[OBJ_F0], Py_NewRef(f0));
    Py_XSETREF(self->a.base.objs[OBJ_F1], Py_NewRef(f1));
    return pc_layer_init_common(&self->a.base, &common);
}

/* t[6] of image n for this layer's kind, drawn now (Keras' formulas) */
static void
draw_transform(AffineAugmentObject *self, double H, double W, double t[6])
{
    double a0 = 1, a1 = 0, a2 = 0, b0 = 0, b1 = 1, b2 = 0;
    switch (kind_of(self)) {
    case KIND_FLIP:
        if (pc_rng_uniform(pc_augment_rng(&self->a)) <= 0.5) {   /* one draw for both axes */
            if (self->flip & FLIP_HORIZONTAL)
                a0 = -1, a2 = W - 1;
            if (self->flip & FLIP_VERTICAL)
                b1 = -1, b2 = H - 1;
        }
        break;
    case KIND_TRANSLATION:
        b2 = -pc_augment_uniform(&self->a, self->f0[0], self->f0[1]) * H;
        a2 = -pc_augment_uniform(&self->a, self->f1[0], self->f1[1]) * W;
        break;
    case KIND_ROTATION: {       /* about the centre ((W − 1)/2, (H − 1)/2) */
        double angle = pc_augment_uniform(&self->a, self->f0[0] * 360, self->f0[1] * 360);
        double c = cos(angle * Py_MATH_PI / 180), s = sin(angle * Py_MATH_PI / 180);
        double cx = 0.5 * (W - 1), cy = 0.5 * (H - 1);
        a0 = c, a1 = -s, a2 = cx - cx * a0 - cy * a1;
        b0 = s, b1 = c, b2 = cy - cx * b0 - cy * b1;
        break;
    }
    default: {                  /* zoom: 1 + factor, about the centre */
        double hz = 1 + pc_augment_uniform(&self->a, self->f0[0], self->f0[1]);
        double wz = self->has_width ? 1 + pc_augment_uniform(&self->a, self->f1[0], self->f1[1])
                                    : hz;
        a0 = wz, a2 = (W - 1) / 2 * (1 - wz);
        b1 = hz, b2 = (H - 1) / 2 * (1 - hz);
    }
    }
    t[0] = a0, t[1] = a1, t[2] = a2, t[3] = b0, t[4] = b1, t[5] = b2;
}

static PyObject *
Affine_call(AffineAugmentObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x, *y;
    PyArrayObject *xa, *t;
    int training;

    if (pc_augment_input(&self->a, args, kwargs, &x, &training) < 0)
        return NULL;
    if (!training)
        return x;
    xa = PC_DATA(x);
    {
        npy_intp dims[2] = {PyArray_DIM(xa, 0), 6};
        if ((t = pc_new_array(2, dims, NPY_FLOAT64)) == NULL) {
            Py_DECREF(x);
            return NULL;
        }
    }
    for (npy_intp n = 0; n < PyArray_DIM(xa, 0); n++)
        draw_transform(self, (double)PyArray_DIM(xa, 1), (double)PyArray_DIM(xa, 2),
                       (double *)PyArray_DATA(t) + 6 * n);
    if (kind_of(self) == KIND_FLIP)     /* whole pixels: copied, never mixed */
        y = pc_affine_transform(x, t, PC_INTERP_NEAREST, PC_FILL_REFLECT, 0.0);
    else
        y = pc_affine_transform(x, t, self->interpolation, self->fill_mode, self->fill_value);
    Py_DECREF(t);
    Py_DECREF(x);
    return y;
}

/* Keras' config: factors as given (RandomRotation: (lower, upper)), fill, seed */
static PyObject *
Affine_get_config(AffineAugmentObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject **o = self->a.base.objs, *seed = o[PC_AUGMENT_OBJ_SEED];
    int kind = kind_of(self);
    if (pc_layer_check_init(&self->a.base) < 0)
        return NULL;
    if (kind == KIND_FLIP)
        return pc_layer_config(&self->a.base, Py_BuildValue(
            "{s:s,s:O,s:O}", "data_format", "channels_last", "seed", seed, "mode", o[OBJ_MODE]));
    if (kind == KIND_ROTATION)
        return pc_layer_config(&self->a.base, Py_BuildValue(
            "{s:s,s:(dd),s:O,s:d,s:s,s:O}", "data_format", "channels_last", "factor",
            self->f0[0], self->f0[1], "fill_mode", o[OBJ_MODE], "fill_value", self->fill_value,
            "interpolation", interp_names[self->interpolation], "seed", seed));
    return pc_layer_config(&self->a.base, Py_BuildValue(
        "{s:s,s:O,s:O,s:O,s:s,s:O,s:d}", "data_format", "channels_last", "height_factor",
        o[OBJ_F0], "width_factor", o[OBJ_F1], "fill_mode", o[OBJ_MODE], "interpolation",
        interp_names[self->interpolation], "seed", seed, "fill_value", self->fill_value));
}

static PyMethodDef Affine_methods[] = {
    PC_LAYER_CALL(Affine_call,
                  "call(inputs, training=None)\n--\n\na random transform per image when "
                  "training, else inputs"),
    PC_LAYER_SAME_SHAPE,
    PC_LAYER_GET_CONFIG(Affine_get_config, "Keras' keys"),
    {NULL, NULL, 0, NULL},
};

#define AFFINE_TYPE(cls, doc)                                                             \
    static PyTypeObject cls##_Type = {                                                    \
        PC_LAYER_TYPE(#cls, AffineAugmentObject, Affine_init, Affine_methods),             \
        .tp_doc = PyDoc_STR(doc),                                                         \
    }

#define FILL_DOC                                                                          \
    "fill_mode: how points outside the image are filled: 'reflect' (d c b a | a b c d |\n" \
    "d c b a, the default), 'wrap', 'nearest' or 'constant' (fill_value); interpolation:\n" \
    "'bilinear' or 'nearest'. Only with training=True (pycnn's layer(x) defaults to\n"     \
    "False): otherwise the input is returned. seed: the layer's own stream, else\n"        \
    "pycnn.set_seed's generator. Differentiable (the map is linear in the pixels)."

AFFINE_TYPE(RandomFlip,
    "RandomFlip(mode='horizontal_and_vertical', seed=None, data_format=None, *,\n"
    "           input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n"
    "With training=True each image is flipped with probability 1/2: left-right\n"
    "('horizontal'), top-bottom ('vertical') or, as Keras 3 does, both at once by one\n"
    "draw ('horizontal_and_vertical'). Otherwise the input is returned.");
AFFINE_TYPE(RandomTranslation,
    "RandomTranslation(height_factor, width_factor, fill_mode='reflect',\n"
    "                  interpolation='bilinear', seed=None, fill_value=0.0,\n"
    "                  data_format=None, *, input_shape=None, name=None, **kwargs)\n--\n\n"
    "Shifts each image by U(lower, upper)·H rows and ·W columns; a factor f means\n"
    "(-f, f), a pair (lower, upper), each in [-1, 1]. " FILL_DOC);
AFFINE_TYPE(RandomRotation,
    "RandomRotation(factor, fill_mode='reflect', interpolation='bilinear', seed=None,\n"
    "               fill_value=0.0, data_format=None, *, input_shape=None, name=None, **kwargs)\n--\n\n"
    "Rotates each image about its centre by U(lower, upper)·360 degrees (counter-\n"
    "clockwise for positive angles); factor f means (-f, f). " FILL_DOC);
AFFINE_TYPE(RandomZoom,
    "RandomZoom(height_factor, width_factor=None, fill_mode='reflect',\n"
    "           interpolation='bilinear', seed=None, fill_value=0.0, data_format=None,\n"
    "           *, input_shape=None, name=None, **kwargs)\n--\n\n"
    "Scales the sampling grid of each image about its centre by 1 + U(lower, upper)\n"
    "(positive: zoom out, negative: zoom in, as Keras); width_factor=None keeps the\n"
    "aspect ratio (the same draw). Factors in (-1, 1]. " FILL_DOC);

int
pc_augment_exec(PyObject *m)
{
    static PyTypeObject *const types[] = {&RandomFlip_Type, &RandomTranslation_Type,
                                          &RandomRotation_Type, &RandomZoom_Type, NULL};
    return pc_add_layer_file(m, types, NULL);
}
