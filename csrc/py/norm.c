/* py/norm.c — BatchNormalization: Keras' arguments, weights and modes; the node is
 * autograd/ops_norm.c's pc_batch_norm (LayerNormalization: py/layer_norm.c).
 *
 *   training=True (and the layer trainable): y = γ·(x − μ_B)/√(σ²_B + ε) + β with the
 *       batch's mean and biased variance over every axis but `axis`; the moving
 *       statistics move toward them: moving = moving·momentum + batch·(1 − momentum).
 *   otherwise: the same with moving_mean and moving_variance, which stay as they are.
 * Weights, as Keras: gamma (scale=True), beta (center=True) trainable; moving_mean,
 * moving_variance non-trainable; all (C,), C = input_shape[axis].
 */
#include "py/layer.h"
#include "py/args.h"

#include "autograd/ops_norm.h"

typedef struct {
    LayerObject base;
    int axis;                   /* as given: may be negative */
    double momentum, epsilon;
    int center, scale;
} BatchNormObject;

/* base.objs[]: the initializers as given */
enum { OBJ_GAMMA_INIT, OBJ_BETA_INIT, OBJ_MEAN_INIT, OBJ_VAR_INIT };

int
pc_check_unsupported(PyObject *const *values, const char *const *names, int n, const char *who)
{
    for (int i = 0; i < n; i++) {
        int set = values[i] != Py_None && PyObject_IsTrue(values[i]);
        if (set < 0)
            return -1;
        if (set) {
            PyErr_Format(PyExc_ValueError, "%s: %s=%R is not supported by pycnn (only "
                         "its default, None or False)", who, names[i], values[i]);
            return -1;
        }
    }
    return 0;
}

/* axis (may be negative) within ndim dimensions, not the batch axis; -1 with ValueError */
static int
resolve_axis(int axis, int ndim, PyObject *name, PyObject *shape)
{
    int a = axis < 0 ? axis + ndim : axis;
    if (a < 1 || a >= ndim) {
        PyErr_Format(PyExc_ValueError, "%U: axis %d is out of range for inputs of shape %R "
                     "(it must name a non-batch axis, 1 to %d or -1 to %d)", name, axis, shape,
                     ndim - 1, -(ndim - 1));
        return -1;
    }
    return a;
}

static int
BatchNorm_init(BatchNormObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"axis", "momentum", "epsilon", "center", "scale",
                             "beta_initializer", "gamma_initializer", "moving_mean_initializer",
                             "moving_variance_initializer", "beta_regularizer",
                             "gamma_regularizer", "beta_constraint", "gamma_constraint",
                             "renorm", "renorm_clipping", "renorm_momentum", "synchronized",
                             PC_LAYER_KWLIST, NULL};
    static const char *const unsupported[] = {"beta_regularizer", "gamma_regularizer",
                                              "beta_constraint", "gamma_constraint", "renorm",
                                              "renorm_clipping", "synchronized"};
    PyObject *axis = NULL, *momentum = NULL, *epsilon = NULL;
    PyObject *binit = NULL, *ginit = NULL, *minit = NULL, *vinit = NULL;
    PyObject *off[7] = {Py_None, Py_None, Py_None, Py_None, Py_False, Py_None, Py_False};
    PyObject *renorm_momentum = Py_None;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    int center = 1, scale = 1;
    Py_ssize_t ax = -1;
    const char *who = "BatchNormalization";

    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "|OOOppOOOOOOOOOOOO$" PC_LAYER_KWFMT ":BatchNormalization", kwlist,
            &axis, &momentum, &epsilon, &center, &scale, &binit, &ginit, &minit, &vinit,
            &off[0], &off[1], &off[2], &off[3], &off[4], &off[5], &renorm_momentum, &off[6],
            PC_LAYER_KWARGS(common)))
        return -1;
    self->momentum = 0.99;
    self->epsilon = 1e-3;
    if ((axis != NULL && pc_parse_index(axis, who, "axis", &ax) < 0) ||
        (momentum != NULL && pc_parse_real(momentum, who, "momentum", &self->momentum) < 0) ||
        (epsilon != NULL && pc_parse_real(epsilon, who, "epsilon", &self->epsilon) < 0) ||
        pc_check_unsupported(off, unsupported, 7, who) < 0)
        return -1;
    if (ax < -PC_MAX_NDIM || ax >= PC_MAX_NDIM) {
        PyErr_Format(PyExc_ValueError, "%s: axis %zd is out of range (at most %d dimensions)",
                     who, ax, PC_MAX_NDIM);
        return -1;
    }
    if (!(self->momentum >= 0.0 && self->momentum <= 1.0)) {
        PyErr_Format(PyExc_ValueError, "%s: momentum must be in [0, 1] (the weight of the old "
                     "moving statistics), got %R", who, momentum);
        return -1;
    }
    if (!(self->epsilon > 0.0 && self->epsilon < HUGE_VAL)) {
        PyErr_Format(PyExc_ValueError, "%s: epsilon must be a positive number (it keeps a "
                     "constant channel from dividing by zero), got %R", who, epsilon);
        return -1;
    }
    {
        PyObject *given[4] = {ginit, binit, minit, vinit};
        const char *defaults[4] = {"ones", "zeros", "zeros", "ones"};
        const char *args_[4] = {"gamma_initializer", "beta_initializer",
                                "moving_mean_initializer", "moving_variance_initializer"};
        for (int i = 0; i < 4; i++) {
            PyObject *v = given[i] != NULL ? Py_NewRef(given[i])
                                           : PyUnicode_FromString(defaults[i]);
            if (v == NULL || pc_initializer_check(v, who, args_[i]) < 0) {
                Py_XDECREF(v);
                return -1;
            }
            Py_XSETREF(self->base.objs[i], v);
        }
    }
    self->axis = (int)ax;
    self->center = center;
    self->scale = scale;
    return pc_layer_init_common(&self->base, &common);
}

static PyObject *
BatchNorm_build(BatchNormObject *self, PyObject *input_shape)
{
    npy_intp dims[PC_MAX_NDIM];
    int nd, axis, typenum = pc_layer_dtype(&self->base);

    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    if (self->base.built)
        Py_RETURN_NONE;
    if (pc_layer_input_dims(&self->base, input_shape, 2, &nd, dims) < 0 ||
        (axis = resolve_axis(self->axis, nd, pc_layer_name(&self->base), input_shape)) < 0)
        return NULL;
    if (dims[axis] <= 0) {
        PyErr_Format(PyExc_ValueError, "%U: the size of axis %d must be known and positive "
                     "(it is the number of features normalised), got input shape %R",
                     pc_layer_name(&self->base), self->axis, input_shape);
        return NULL;
    }
    if ((self->scale && pc_layer_add_weight(&self->base, "gamma", 1, dims + axis,
                                            self->base.objs[OBJ_GAMMA_INIT], 1,
                                            typenum) == NULL) ||
        (self->center && pc_layer_add_weight(&self->base, "beta", 1, dims + axis,
                                             self->base.objs[OBJ_BETA_INIT], 1,
                                             typenum) == NULL) ||
        pc_layer_add_weight(&self->base, "moving_mean", 1, dims + axis,
                            self->base.objs[OBJ_MEAN_INIT], 0, typenum) == NULL ||
        pc_layer_add_weight(&self->base, "moving_variance", 1, dims + axis,
                            self->base.objs[OBJ_VAR_INIT], 0, typenum) == NULL)
        return NULL;
    self->base.built = 1;
    Py_RETURN_NONE;
}

/* x (a Tensor in the layer's dtype) has the built number of features along axis */
static int
check_input(BatchNormObject *self, PyObject *x, npy_intp C, int *axis)
{
    PyArrayObject *xa = PC_DATA(x);
    PyObject *name = pc_layer_name(&self->base);
    PyObject *s = pc_shape_tuple(PyArray_NDIM(xa), PyArray_SHAPE(xa));
    int status = -1;

    if (s == NULL)
        return -1;
    if (PyArray_NDIM(xa) < 2) {
        PyErr_Format(PyExc_ValueError, "%U: expected an input with a batch axis and at least "
                     "one feature axis, got shape %R", name, s);
        goto done;
    }
    if ((*axis = resolve_axis(self->axis, PyArray_NDIM(xa), name, s)) < 0)
        goto done;
    if (PyArray_DIM(xa, *axis) != C) {
        PyErr_Format(PyExc_ValueError, "%U: input of shape %R has %zd features along axis %d, "
                     "but the layer was built for %zd", name, s,
                     (Py_ssize_t)PyArray_DIM(xa, *axis), self->axis, (Py_ssize_t)C);
        goto done;
    }
    if (PyArray_SIZE(xa) == 0) {
        PyErr_Format(PyExc_ValueError, "%U: input of shape %R is empty: there are no values "
                     "to take the statistics of", name, s);
        goto done;
    }
    status = 0;
done:
    Py_DECREF(s);
    return status;
}

static PyObject *
BatchNorm_call(BatchNormObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"inputs", "training", "mask", NULL};
    PyObject *inputs, *training = Py_None, *mask = Py_None, *x, *y, *gamma, *beta;
    PyObject *nt = self->base.non_trainable_ws;
    int axis, train;

    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO:call", kwlist, &inputs, &training,
                                     &mask))
        return NULL;
    if (mask != Py_None) {
        PyErr_Format(PyExc_ValueError, "%U: masks are not supported by pycnn",
                     pc_layer_name(&self->base));
        return NULL;
    }
    if (PyList_GET_SIZE(nt) != 2)
        return pc_layer_not_built(&self->base);
    if ((train = PyObject_IsTrue(training)) < 0)
        return NULL;
    gamma = self->scale ? pc_layer_weight(&self->base, 0) : NULL;
    beta = self->center ? pc_layer_weight(&self->base, self->scale) : NULL;
    if ((x = pc_layer_input(&self->base, inputs)) == NULL)
        return NULL;
    if (check_input(self, x, PyArray_DIM(PC_DATA(PyList_GET_ITEM(nt, 0)), 0), &axis) < 0) {
        Py_DECREF(x);
        return NULL;
    }
    /* Keras 3: a frozen BatchNormalization runs in inference mode even when training */
    y = pc_batch_norm(x, gamma, beta, PC_DATA(PyList_GET_ITEM(nt, 0)),
                      PC_DATA(PyList_GET_ITEM(nt, 1)), axis, self->epsilon, self->momentum,
                      train && self->base.trainable);
    Py_DECREF(x);
    return y;
}

static PyObject *
BatchNorm_compute_output_shape(BatchNormObject *self, PyObject *input_shape)
{
    npy_intp dims[PC_MAX_NDIM];
    int nd;

    if (pc_layer_input_dims(&self->base, input_shape, 2, &nd, dims) < 0 ||
        resolve_axis(self->axis, nd, pc_layer_name(&self->base), input_shape) < 0)
        return NULL;
    return pc_layer_shape_tuple(nd, dims);
}

static PyObject *
BatchNorm_get_config(BatchNormObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject **o = self->base.objs;
    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    return pc_layer_config(&self->base, Py_BuildValue(
        "{s:i,s:d,s:d,s:O,s:O,s:N,s:N,s:N,s:N,s:O,s:O,s:O,s:O,s:O}", "axis", self->axis,
        "momentum", self->momentum, "epsilon", self->epsilon, "center",
        self->center ? Py_True : Py_False, "scale", self->scale ? Py_True : Py_False,
        "beta_initializer", pc_initializer_serialize(o[OBJ_BETA_INIT]), "gamma_initializer",
        pc_initializer_serialize(o[OBJ_GAMMA_INIT]), "moving_mean_initializer",
        pc_initializer_serialize(o[OBJ_MEAN_INIT]), "moving_variance_initializer",
        pc_initializer_serialize(o[OBJ_VAR_INIT]), "beta_regularizer", Py_None,
        "gamma_regularizer", Py_None, "beta_constraint", Py_None, "gamma_constraint", Py_None,
        "synchronized", Py_False));
}

static PyObject *
BatchNorm_get_weight(BatchNormObject *self, void *closure)
{
    const char *which = closure;
    PyObject *w = NULL, *nt = self->base.non_trainable_ws;
    if (strcmp(which, "gamma") == 0 && self->scale)
        w = pc_layer_weight(&self->base, 0);
    else if (strcmp(which, "beta") == 0 && self->center)
        w = pc_layer_weight(&self->base, self->scale);
    else if (strcmp(which, "moving_mean") == 0 && PyList_GET_SIZE(nt) == 2)
        w = PyList_GET_ITEM(nt, 0);
    else if (strcmp(which, "moving_variance") == 0 && PyList_GET_SIZE(nt) == 2)
        w = PyList_GET_ITEM(nt, 1);
    return Py_NewRef(w != NULL ? w : Py_None);
}

static PyGetSetDef BatchNorm_getset[] = {
    {"gamma", (getter)BatchNorm_get_weight, NULL, "the scale γ (C,), or None", "gamma"},
    {"beta", (getter)BatchNorm_get_weight, NULL, "the offset β (C,), or None", "beta"},
    {"moving_mean", (getter)BatchNorm_get_weight, NULL, "the moving mean (C,), non-trainable",
     "moving_mean"},
    {"moving_variance", (getter)BatchNorm_get_weight, NULL,
     "the moving (biased) variance (C,), non-trainable", "moving_variance"},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef BatchNorm_methods[] = {
    PC_LAYER_BUILD(BatchNorm_build, "gamma, beta, moving_mean, moving_variance of shape (C,)"),
    PC_LAYER_CALL(BatchNorm_call,
                  "call(inputs, training=None, mask=None)\n--\n\nbatch statistics when training, "
                  "else moving"),
    PC_LAYER_OUTPUT_SHAPE(BatchNorm_compute_output_shape, "the same shape"),
    PC_LAYER_GET_CONFIG(BatchNorm_get_config,
                        "axis, momentum, epsilon, center, scale, the initializers"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject BatchNormalization_Type = {
    PC_LAYER_TYPE("BatchNormalization", BatchNormObject, BatchNorm_init, BatchNorm_methods),
    .tp_doc = PyDoc_STR(
        "BatchNormalization(axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True,\n"
        "                   beta_initializer='zeros', gamma_initializer='ones',\n"
        "                   moving_mean_initializer='zeros', moving_variance_initializer='ones',\n"
        "                   *, input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n"
        "y = gamma * (x - mean) / sqrt(var + epsilon) + beta, per feature along `axis`.\n"
        "training=True: mean and (biased) var of this batch over every other axis, and\n"
        "moving = moving * momentum + batch * (1 - momentum) for moving_mean and\n"
        "moving_variance (non-trainable weights); otherwise, and always when the layer is\n"
        "frozen (trainable=False), the moving statistics. One node, forward and backward.\n"
        "PyTorch's BatchNorm2d(momentum=m) is momentum=1 - m here; its running_var moves\n"
        "toward the UNBIASED batch variance (n/(n-1) times Keras'), its normalisation uses\n"
        "the biased one as here; its eps defaults to 1e-5, Keras' to 1e-3."),
    .tp_getset = BatchNorm_getset,
};

int
pc_norm_exec(PyObject *m)
{
    return pc_add_type(m, &BatchNormalization_Type);
}
