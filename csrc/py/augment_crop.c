/* py/augment_crop.c — RandomCrop and RandomContrast, Keras 3's rules (py/augment.h for
 * the shared part).
 *
 *   RandomCrop(height, width): with training=True and an input larger than the target in
 *       both directions, one random window for the whole batch (autograd/ops_spatial.c's
 *       pad2d with negative pads); otherwise, when training, Keras' centred window
 *       resized bilinearly to the target. training=False returns the input unchanged
 *       (as Keras 3.15 does).
 *   RandomContrast(factor, value_range=(0, 255)): per image, y = clip((x − mean)·f + mean)
 *       with f ~ U(1 − lower, 1 + upper) and the per-channel mean over the pixels. A
 *       number factor f gives (lower, upper) = (0, f), as Keras' rule does.
 */
#include "py/augment.h"
#include "py/args.h"

#include "autograd/ops_augment.h"
#include "autograd/ops_spatial.h"

/* ---- RandomCrop ------------------------------------------------------------------------ */

typedef struct {
    AugmentObject a;
    pc_index height, width;
} RandomCropObject;

static int
RandomCrop_init(RandomCropObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"height", "width", "seed", "data_format", PC_LAYER_KWLIST, NULL};
    PyObject *h, *w, *seed = Py_None, *df = Py_None;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OO$" PC_LAYER_KWFMT ":RandomCrop",
                                     kwlist, &h, &w, &seed, &df, PC_LAYER_KWARGS(common)))
        return -1;
    if ((self->height = pc_parse_positive(h, "RandomCrop", "height")) < 0 ||
        (self->width = pc_parse_positive(w, "RandomCrop", "width")) < 0 ||
        pc_augment_data_format(df, "RandomCrop") < 0 ||
        pc_augment_seed(&self->a, seed, "RandomCrop") < 0)
        return -1;
    return pc_layer_init_common(&self->a.base, &common);
}

/* x cropped to rows [h0, h0 + ch), columns [w0, w0 + cw) */
static PyObject *
crop(PyObject *x, pc_index h0, pc_index w0, pc_index ch, pc_index cw)
{
    PyArrayObject *xa = PC_DATA(x);
    pc_index H = PyArray_DIM(xa, 1), W = PyArray_DIM(xa, 2);
    pc_pad_geometry g = {.N = PyArray_DIM(xa, 0), .H = H, .W = W, .C = PyArray_DIM(xa, 3),
                         .PT = -h0, .PB = -(H - h0 - ch), .PL = -w0, .PR = -(W - w0 - cw),
                         .OH = ch, .OW = cw};
    return pc_pad2d(x, &g);
}

static PyObject *
RandomCrop_call(RandomCropObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x, *y;
    pc_index H, W, th = self->height, tw = self->width, ch, cw;
    int training;

    if (pc_augment_input(&self->a, args, kwargs, &x, &training) < 0)
        return NULL;
    if (!training)
        return x;
    H = PyArray_DIM(PC_DATA(x), 1);
    W = PyArray_DIM(PC_DATA(x), 2);
    if (H > th && W > tw) {     /* one window for the batch, as Keras draws it */
        pc_index h0 = (pc_index)pc_augment_uniform(&self->a, 0, (double)(H - th + 1));
        pc_index w0 = (pc_index)pc_augment_uniform(&self->a, 0, (double)(W - tw + 1));
        y = crop(x, h0 < H - th ? h0 : H - th, w0 < W - tw ? w0 : W - tw, th, tw);
        Py_DECREF(x);
        return y;
    }
    /* Keras: the start of the centred window of the target's aspect ratio, then the
     * target-sized window from there, as far as the image reaches */
    ch = (pc_index)((double)W * (double)th / (double)tw);
    ch = ch > H ? H : (ch < 1 ? 1 : ch);
    cw = (pc_index)((double)H * (double)tw / (double)th);
    cw = cw > W ? W : (cw < 1 ? 1 : cw);
    {
        pc_index h0 = (H - ch) / 2, w0 = (W - cw) / 2;
        ch = th < H - h0 ? th : H - h0;
        cw = tw < W - w0 ? tw : W - w0;
        y = crop(x, h0, w0, ch, cw);
    }
    Py_DECREF(x);
    if (y != NULL && (ch != th || cw != tw))
        Py_SETREF(y, pc_resize_bilinear(y, th, tw));
    return y;
}

static PyObject *
RandomCrop_compute_output_shape(RandomCropObject *self, PyObject *input_shape)
{
    npy_intp dims[4];
    if (pc_layer_image_shape(&self->a.base, input_shape, dims) < 0)
        return NULL;
    dims[1] = self->height;
    dims[2] = self->width;
    return pc_layer_shape_tuple(4, dims);
}

static PyObject *
RandomCrop_get_config(RandomCropObject *self, PyObject *Py_UNUSED(ignored))
{
    if (pc_layer_check_init(&self->a.base) < 0)
        return NULL;
    return pc_layer_config(&self->a.base, Py_BuildValue(
        "{s:s,s:n,s:n,s:O}", "data_format", "channels_last", "height", self->height, "width",
        self->width, "seed", self->a.base.objs[PC_AUGMENT_OBJ_SEED]));
}

static PyMethodDef RandomCrop_methods[] = {
    PC_LAYER_CALL(RandomCrop_call,
                  "call(inputs, training=None)\n--\n\na random (height, width) window when "
                  "training"),
    PC_LAYER_OUTPUT_SHAPE(RandomCrop_compute_output_shape, "(batch, height, width, channels)"),
    PC_LAYER_GET_CONFIG(RandomCrop_get_config, "height, width, seed"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RandomCrop_Type = {
    PC_LAYER_TYPE("RandomCrop", RandomCropObject, RandomCrop_init, RandomCrop_methods),
    .tp_doc = PyDoc_STR(
        "RandomCrop(height, width, seed=None, data_format=None, *, input_shape=None,\n"
        "           name=None, trainable=True, dtype=None)\n--\n\n"
        "With training=True: a random height x width window, the same for the whole batch,\n"
        "when the images are larger in both directions; otherwise, as Keras 3 does, the\n"
        "height x width window from where the centred window of that aspect ratio starts\n"
        "(cut by the image), resized bilinearly to height x width. With training=False\n"
        "the input is returned unchanged, as Keras 3 does."),
};

/* ---- RandomContrast -------------------------------------------------------------------- */

typedef struct {
    AugmentObject a;
    double factor[2];           /* (lower, upper): f ~ U(1 − lower, 1 + upper) */
    double lo, hi;              /* value_range */
} RandomContrastObject;

static int
RandomContrast_init(RandomContrastObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"factor", "value_range", "seed", "data_format", PC_LAYER_KWLIST,
                             NULL};
    PyObject *factor, *range = NULL, *seed = Py_None, *df = Py_None;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    const char *who = "RandomContrast";

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OOO$" PC_LAYER_KWFMT ":RandomContrast",
                                     kwlist, &factor, &range, &seed, &df,
                                     PC_LAYER_KWARGS(common)))
        return -1;
    if (pc_augment_factor(factor, who, "factor", 0, 1, 0, 0, self->factor) < 0 ||
        pc_augment_data_format(df, who) < 0 || pc_augment_seed(&self->a, seed, who) < 0)
        return -1;
    self->lo = 0;
    self->hi = 255;
    if (range != NULL) {
        PyObject *seq = (PyList_Check(range) || PyTuple_Check(range))
                            ? PySequence_Fast(range, "value_range") : NULL;
        int ok = seq != NULL && PySequence_Fast_GET_SIZE(seq) == 2 &&
                 pc_parse_real(PySequence_Fast_GET_ITEM(seq, 0), who, "value_range",
                               &self->lo) == 0 &&
                 pc_parse_real(PySequence_Fast_GET_ITEM(seq, 1), who, "value_range",
                               &self->hi) == 0 && self->lo < self->hi;
        Py_XDECREF(seq);
        if (!ok) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s: value_range must be a pair (low, high) with "
                         "low < high, got %R", who, range);
            return -1;
        }
    }
    return pc_layer_init_common(&self->a.base, &common);
}

static PyObject *
RandomContrast_call(RandomContrastObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x, *y;
    PyArrayObject *f;
    int training;

    if (pc_augment_input(&self->a, args, kwargs, &x, &training) < 0)
        return NULL;
    if (!training)
        return x;
    {
        npy_intp n = PyArray_DIM(PC_DATA(x), 0);
        if ((f = pc_new_array(1, &n, NPY_FLOAT64)) == NULL) {
            Py_DECREF(x);
            return NULL;
        }
        for (npy_intp i = 0; i < n; i++)
            ((double *)PyArray_DATA(f))[i] =
                pc_augment_uniform(&self->a, 1 - self->factor[0], 1 + self->factor[1]);
    }
    y = pc_contrast(x, f, self->lo, self->hi);
    Py_DECREF(f);
    Py_DECREF(x);
    return y;
}

static PyObject *
RandomContrast_get_config(RandomContrastObject *self, PyObject *Py_UNUSED(ignored))
{
    if (pc_layer_check_init(&self->a.base) < 0)
        return NULL;
    return pc_layer_config(&self->a.base, Py_BuildValue(
        "{s:s,s:(dd),s:(dd),s:O}", "data_format", "channels_last", "factor", self->factor[0],
        self->factor[1], "value_range", self->lo, self->hi, "seed",
        self->a.base.objs[PC_AUGMENT_OBJ_SEED]));
}

static PyMethodDef RandomContrast_methods[] = {
    PC_LAYER_CALL(RandomContrast_call,
                  "call(inputs, training=None)\n--\n\na random contrast per image when training"),
    PC_LAYER_SAME_SHAPE,
    PC_LAYER_GET_CONFIG(RandomContrast_get_config, "factor, value_range, seed"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RandomContrast_Type = {
    PC_LAYER_TYPE("RandomContrast", RandomContrastObject, RandomContrast_init,
                  RandomContrast_methods),
    .tp_doc = PyDoc_STR(
        "RandomContrast(factor, value_range=(0, 255), seed=None, data_format=None, *,\n"
        "               input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n"
        "With training=True, per image: y = clip((x - mean) * f + mean, *value_range), the\n"
        "mean per channel over the pixels, f ~ U(1 - lower, 1 + upper). factor: a pair\n"
        "(lower, upper) in [0, 1], or a number f meaning (0, f) — Keras 3's rule, so a\n"
        "number only raises the contrast. training=False returns the input."),
};

int
pc_augment_crop_exec(PyObject *m)
{
    static PyTypeObject *const types[] = {&RandomCrop_Type, &RandomContrast_Type, NULL};
    return pc_add_layer_file(m, types, NULL);
}
