/* py/layer_norm.c — LayerNormalization: Keras' arguments and weights around
 * autograd/ops_norm.c's pc_layer_norm.
 *
 *   y = γ·(x − mean)/√(var + ε) + β, mean and (biased) var of each sample over `axis`
 *   (an int or a list; pycnn needs them to be the trailing axes, viewed as K values per
 *   row), the same in training and inference; γ, β of the shape of those axes.
 */
#include "py/layer.h"
#include "py/args.h"

#include "autograd/ops_norm.h"

/* ---- LayerNormalization --------------------------------------------------------------- */

typedef struct {
    LayerObject base;
    PyObject *axis_given;       /* borrowed from objs[OBJ_AXIS]: int or list, for config */
    int n_axes, axes[PC_MAX_NDIM];  /* as given, may be negative */
    double epsilon;
    int center, scale;
    npy_intp K;                 /* values normalised together (0 before build) */
} LayerNormObject;

enum { OBJ_LN_GAMMA_INIT, OBJ_LN_BETA_INIT, OBJ_AXIS };

/* axis: an int or a list/tuple of ints → axes[] */
static int
parse_axes(PyObject *axis, const char *who, int *n, int axes[PC_MAX_NDIM])
{
    PyObject *seq = NULL;
    Py_ssize_t v;
    if (PyIndex_Check(axis)) {
        if (pc_parse_index(axis, who, "axis", &v) < 0)
            return -1;
        *n = 1;
        axes[0] = (int)(v < -PC_MAX_NDIM || v >= PC_MAX_NDIM ? PC_MAX_NDIM : v);
        return 0;
    }
    if (!(PyList_Check(axis) || PyTuple_Check(axis)) ||
        (seq = PySequence_Fast(axis, "axis")) == NULL || PySequence_Fast_GET_SIZE(seq) < 1 ||
        PySequence_Fast_GET_SIZE(seq) > PC_MAX_NDIM) {
        Py_XDECREF(seq);
        PyErr_Format(PyExc_TypeError, "%s: axis must be an int or a non-empty list of ints, "
                     "got %R", who, axis);
        return -1;
    }
    *n = (int)PySequence_Fast_GET_SIZE(seq);
    for (int i = 0; i < *n; i++) {
        if (pc_parse_index(PySequence_Fast_GET_ITEM(seq, i), who, "axis", &v) < 0) {
            Py_DECREF(seq);
            return -1;
        }
        axes[i] = (int)(v < -PC_MAX_NDIM || v >= PC_MAX_NDIM ? PC_MAX_NDIM : v);
    }
    Py_DECREF(seq);
    return 0;
}

/* The normalised axes within ndim must be the last *n_trailing, all but the batch's:
 * their first (≥ 1) is returned, else -1 with ValueError */
static int
trailing_axes(LayerNormObject *self, int ndim, PyObject *shape)
{
    PyObject *name = pc_layer_name(&self->base);
    int seen[PC_MAX_NDIM] = {0}, first = ndim;
    for (int i = 0; i < self->n_axes; i++) {
        int a = self->axes[i] < 0 ? self->axes[i] + ndim : self->axes[i];
        if (a < 1 || a >= ndim || seen[a]++) {
            PyErr_Format(PyExc_ValueError, "%U: axis %R does not name distinct non-batch axes "
                         "of inputs of shape %R", name, self->axis_given, shape);
            return -1;
        }
        first = a < first ? a : first;
    }
    if (first != ndim - self->n_axes) {
        PyErr_Format(PyExc_ValueError, "%U: axis %R: pycnn normalises over the trailing axes "
                     "only (of inputs of shape %R)", name, self->axis_given, shape);
        return -1;
    }
    return first;
}

static int
LayerNorm_init(LayerNormObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"axis", "epsilon", "center", "scale", "rms_scaling",
                             "beta_initializer", "gamma_initializer", "beta_regularizer",
                             "gamma_regularizer", "beta_constraint", "gamma_constraint",
                             PC_LAYER_KWLIST, NULL};
    static const char *const unsupported[] = {"rms_scaling", "beta_regularizer",
                                              "gamma_regularizer", "beta_constraint",
                                              "gamma_constraint"};
    PyObject *axis = NULL, *epsilon = NULL, *binit = NULL, *ginit = NULL;
    PyObject *off[5] = {Py_False, Py_None, Py_None, Py_None, Py_None};
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    int center = 1, scale = 1;
    const char *who = "LayerNormalization";

    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "|OOppOOOOOOO$" PC_LAYER_KWFMT ":LayerNormalization", kwlist, &axis,
            &epsilon, &center, &scale, &off[0], &binit, &ginit, &off[1], &off[2], &off[3],
            &off[4], PC_LAYER_KWARGS(common)))
        return -1;
    self->epsilon = 1e-3;
    self->n_axes = 1;
    self->axes[0] = -1;
    if ((axis != NULL && parse_axes(axis, who, &self->n_axes, self->axes) < 0) ||
        (epsilon != NULL && pc_parse_real(epsilon, who, "epsilon", &self->epsilon) < 0) ||
        pc_check_unsupported(off, unsupported, 5, who) < 0)
        return -1;
    if (!(self->epsilon > 0.0 && self->epsilon < HUGE_VAL)) {
        PyErr_Format(PyExc_ValueError, "%s: epsilon must be a positive number (it keeps a "
                     "constant sample from dividing by zero), got %R", who, epsilon);
        return -1;
    }
    {
        PyObject *given[2] = {ginit, binit}, *v;
        const char *defaults[2] = {"ones", "zeros"};
        const char *names[2] = {"gamma_initializer", "beta_initializer"};
        for (int i = 0; i < 2; i++) {
            v = given[i] != NULL ? Py_NewRef(given[i]) : PyUnicode_FromString(defaults[i]);
            if (v == NULL || pc_initializer_check(v, who, names[i]) < 0) {
                Py_XDECREF(v);
                return -1;
            }
            Py_XSETREF(self->base.objs[i], v);
        }
    }
    Py_XSETREF(self->base.objs[OBJ_AXIS], axis != NULL ? Py_NewRef(axis) : PyLong_FromLong(-1));
    if ((self->axis_given = self->base.objs[OBJ_AXIS]) == NULL)
        return -1;
    self->center = center;
    self->scale = scale;
    return pc_layer_init_common(&self->base, &common);
}

static PyObject *
LayerNorm_build(LayerNormObject *self, PyObject *input_shape)
{
    npy_intp dims[PC_MAX_NDIM], K = 1;
    int nd, first, typenum = pc_layer_dtype(&self->base);

    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    if (self->base.built)
        Py_RETURN_NONE;
    if (pc_layer_input_dims(&self->base, input_shape, 2, &nd, dims) < 0 ||
        (first = trailing_axes(self, nd, input_shape)) < 0)
        return NULL;
    for (int d = first; d < nd; d++) {
        if (dims[d] <= 0) {
            PyErr_Format(PyExc_ValueError, "%U: the normalised axes must have known positive "
                         "sizes, got input shape %R", pc_layer_name(&self->base), input_shape);
            return NULL;
        }
        K *= dims[d];
    }
    if ((self->scale && pc_layer_add_weight(&self->base, "gamma", nd - first, dims + first,
                                            self->base.objs[OBJ_LN_GAMMA_INIT], 1,
                                            typenum) == NULL) ||
        (self->center && pc_layer_add_weight(&self->base, "beta", nd - first, dims + first,
                                             self->base.objs[OBJ_LN_BETA_INIT], 1,
                                             typenum) == NULL))
        return NULL;
    self->K = K;
    self->base.built = 1;
    Py_RETURN_NONE;
}

static PyObject *
LayerNorm_call(LayerNormObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x, *y = NULL, *s = NULL, *name = pc_layer_name(&self->base);
    PyArrayObject *xa;
    npy_intp K = 1;
    int first;

    if ((x = pc_layer_call_built(&self->base, args, kwargs, self->K != 0)) == NULL)
        return NULL;
    xa = PC_DATA(x);
    if ((s = pc_shape_tuple(PyArray_NDIM(xa), PyArray_SHAPE(xa))) == NULL)
        goto done;
    if (PyArray_NDIM(xa) < 2) {
        PyErr_Format(PyExc_ValueError, "%U: expected an input with a batch axis and at least "
                     "one feature axis, got shape %R", name, s);
        goto done;
    }
    if ((first = trailing_axes(self, PyArray_NDIM(xa), s)) < 0)
        goto done;
    for (int d = first; d < PyArray_NDIM(xa); d++)
        K *= PyArray_DIM(xa, d);
    if (K != self->K) {
        PyErr_Format(PyExc_ValueError, "%U: input of shape %R has %zd values along axis %R, "
                     "but the layer was built for %zd", name, s, (Py_ssize_t)K,
                     self->axis_given, (Py_ssize_t)self->K);
        goto done;
    }
    y = pc_layer_norm(x, self->scale ? pc_layer_weight(&self->base, 0) : NULL,
                      self->center ? pc_layer_weight(&self->base, self->scale) : NULL, first,
                      self->epsilon);
done:
    Py_XDECREF(s);
    Py_DECREF(x);
    return y;
}

static PyObject *
LayerNorm_compute_output_shape(LayerNormObject *self, PyObject *input_shape)
{
    npy_intp dims[PC_MAX_NDIM];
    int nd;
    if (pc_layer_input_dims(&self->base, input_shape, 2, &nd, dims) < 0 ||
        trailing_axes(self, nd, input_shape) < 0)
        return NULL;
    return pc_layer_shape_tuple(nd, dims);
}

static PyObject *
LayerNorm_get_config(LayerNormObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject **o = self->base.objs;
    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    return pc_layer_config(&self->base, Py_BuildValue(
        "{s:O,s:d,s:O,s:O,s:O,s:N,s:N,s:O,s:O,s:O,s:O}", "axis", o[OBJ_AXIS], "epsilon",
        self->epsilon, "center", self->center ? Py_True : Py_False, "scale",
        self->scale ? Py_True : Py_False, "rms_scaling", Py_False, "beta_initializer",
        pc_initializer_serialize(o[OBJ_LN_BETA_INIT]), "gamma_initializer",
        pc_initializer_serialize(o[OBJ_LN_GAMMA_INIT]), "beta_regularizer", Py_None,
        "gamma_regularizer", Py_None, "beta_constraint", Py_None, "gamma_constraint", Py_None));
}

static PyObject *
LayerNorm_get_weight(LayerNormObject *self, void *closure)
{
    PyObject *w = NULL;
    if (strcmp((const char *)closure, "gamma") == 0 && self->scale)
        w = pc_layer_weight(&self->base, 0);
    else if (strcmp((const char *)closure, "beta") == 0 && self->center)
        w = pc_layer_weight(&self->base, self->scale);
    return Py_NewRef(w != NULL ? w : Py_None);
}

static PyGetSetDef LayerNorm_getset[] = {
    {"gamma", (getter)LayerNorm_get_weight, NULL, "the scale γ, or None", "gamma"},
    {"beta", (getter)LayerNorm_get_weight, NULL, "the offset β, or None", "beta"},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef LayerNorm_methods[] = {
    PC_LAYER_BUILD(LayerNorm_build, "gamma, beta of the shape of the normalised axes"),
    PC_LAYER_CALL(LayerNorm_call,
                  "call(inputs, training=None)\n--\n\nnormalise each sample over `axis`"),
    PC_LAYER_OUTPUT_SHAPE(LayerNorm_compute_output_shape, "the same shape"),
    PC_LAYER_GET_CONFIG(LayerNorm_get_config, "axis, epsilon, center, scale, the initializers"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LayerNormalization_Type = {
    PC_LAYER_TYPE("LayerNormalization", LayerNormObject, LayerNorm_init, LayerNorm_methods),
    .tp_doc = PyDoc_STR(
        "LayerNormalization(axis=-1, epsilon=0.001, center=True, scale=True,\n"
        "                   beta_initializer='zeros', gamma_initializer='ones', *,\n"
        "                   input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n"
        "y = gamma * (x - mean) / sqrt(var + epsilon) + beta with the mean and (biased)\n"
        "variance of each sample over `axis` (an int or a list of the trailing axes), the\n"
        "same in training and inference: torch.nn.LayerNorm(shape of those axes,\n"
        "eps=epsilon). gamma, beta have the shape of the normalised axes. One node."),
    .tp_getset = LayerNorm_getset,
};

int
pc_layer_norm_exec(PyObject *m)
{
    return pc_add_type(m, &LayerNormalization_Type);
}
