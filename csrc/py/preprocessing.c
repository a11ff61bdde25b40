/* py/preprocessing.c — Rescaling and Normalization, Keras' preprocessing layers.
 *
 *   Rescaling: y = x · scale + offset, scale and offset numbers or arrays broadcast
 *       against the input (Keras' rule), e.g. Rescaling(1/255) for pixels. Two
 *       element-wise C nodes (Tensor * and +): a fused kernel would not pay.
 *   Normalization: y = (x − mean) / max(√variance, 1e-7) per feature along `axis` (one
 *       axis in pycnn), mean and variance given or learnt by adapt(data); invert=True
 *       maps back: y = mean + x · max(√variance, 1e-7). One batch_norm node with the
 *       statistics as constants (autograd/ops_norm.c), so it is differentiable in x.
 */
#include "py/layer.h"
#include "py/args.h"

#include "autograd/ops_norm.h"
#include "kernels/norm.h"

typedef struct {
    LayerObject base;
} RescalingObject;

enum { OBJ_SCALE, OBJ_OFFSET };     /* base.objs[]: JSON-safe forms (float or nested list) */

/* A number or array-like of numbers → float (0-d) or nested list (new ref); TypeError
 * naming the argument otherwise */
static PyObject *
json_number_or_list(PyObject *value, const char *who, const char *arg)
{
    PyArrayObject *a = pc_as_array(value, NPY_FLOAT64, who);
    PyObject *out;
    if (a == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: %s must be a number or an array of numbers, got %R",
                     who, arg, value);
        return NULL;
    }
    out = PyArray_NDIM(a) == 0 ? PyFloat_FromDouble(*(double *)PyArray_DATA(a))
                               : PyArray_ToList(a);
    Py_DECREF(a);
    return out;
}

static int
Rescaling_init(RescalingObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"scale", "offset", PC_LAYER_KWLIST, NULL};
    PyObject *scale, *offset = NULL, *s, *o;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O$" PC_LAYER_KWFMT ":Rescaling", kwlist,
                                     &scale, &offset, PC_LAYER_KWARGS(common)))
        return -1;
    if ((s = json_number_or_list(scale, "Rescaling", "scale")) == NULL)
        return -1;
    o = offset != NULL ? json_number_or_list(offset, "Rescaling", "offset")
                       : PyFloat_FromDouble(0.0);
    if (o == NULL) {
        Py_DECREF(s);
        return -1;
    }
    Py_XSETREF(self->base.objs[OBJ_SCALE], s);
    Py_XSETREF(self->base.objs[OBJ_OFFSET], o);
    return pc_layer_init_common(&self->base, &common);
}

static PyObject *
Rescaling_call(RescalingObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x = NULL, *s = NULL, *o = NULL, *xs = NULL;
    PyObject *y = NULL, *name = pc_layer_name(&self->base);
    int typenum = pc_layer_dtype(&self->base);

    if ((x = pc_layer_call_input(&self->base, args, kwargs, 1, NULL)) == NULL ||
        (s = pc_as_tensor(self->base.objs[OBJ_SCALE], typenum, PyUnicode_AsUTF8(name))) == NULL ||
        (o = pc_as_tensor(self->base.objs[OBJ_OFFSET], typenum, PyUnicode_AsUTF8(name))) == NULL ||
        (xs = PyNumber_Multiply(x, s)) == NULL)
        goto done;
    y = PyNumber_Add(xs, o);
done:
    Py_XDECREF(x);
    Py_XDECREF(s);
    Py_XDECREF(o);
    Py_XDECREF(xs);
    return y;
}

static PyObject *
Rescaling_get_config(RescalingObject *self, PyObject *Py_UNUSED(ignored))
{
    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    return pc_layer_config(&self->base, Py_BuildValue("{s:O,s:O}", "scale",
                                                      self->base.objs[OBJ_SCALE], "offset",
                                                      self->base.objs[OBJ_OFFSET]));
}

static PyMethodDef Rescaling_methods[] = {
    PC_LAYER_CALL(Rescaling_call, "call(inputs, training=None)\n--\n\ninputs · scale + offset"),
    PC_LAYER_SAME_SHAPE,
    PC_LAYER_GET_CONFIG(Rescaling_get_config, "scale, offset"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Rescaling_Type = {
    PC_LAYER_TYPE("Rescaling", RescalingObject, Rescaling_init, Rescaling_methods),
    .tp_doc = PyDoc_STR(
        "Rescaling(scale, offset=0.0, *, input_shape=None, name=None, trainable=True,\n"
        "          dtype=None)\n--\n\n"
        "y = x * scale + offset, scale and offset numbers or arrays broadcast against the\n"
        "input (per channel: shape (C,)). Rescaling(1/255) maps pixels to [0, 1],\n"
        "Rescaling(1/127.5, offset=-1) to [-1, 1]. No weights."),
};

/* ---- Normalization ----------------------------------------------------------------------- */

#define PC_NORMALIZATION_EPSILON 1e-7   /* Keras' backend.epsilon() */

typedef struct {
    LayerObject base;
    int axis;                   /* as given (may be negative) */
    int invert;
    int fixed;                  /* mean and variance given: no weights, nothing to adapt */
    npy_intp C;                 /* features (0 before build) */
} NormalizationObject;

enum { OBJ_MEAN, OBJ_VARIANCE, OBJ_AXIS };  /* base.objs[]: as given (JSON-safe) */

static int
Normalization_init(NormalizationObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"axis", "mean", "variance", "invert", PC_LAYER_KWLIST, NULL};
    PyObject *axis = NULL, *mean = Py_None, *variance = Py_None, *m = NULL, *v = NULL, *ax_obj;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    const char *who = "Normalization";
    int invert = 0;
    Py_ssize_t ax = -1;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOp$" PC_LAYER_KWFMT ":Normalization",
                                     kwlist, &axis, &mean, &variance, &invert,
                                     PC_LAYER_KWARGS(common)))
        return -1;
    if (axis != NULL && (PyTuple_Check(axis) || PyList_Check(axis)) &&
        PySequence_Size(axis) == 1)
        axis = PySequence_Fast_GET_ITEM(axis, 0);       /* Keras' config form (a,) */
    if (axis != NULL && !PyIndex_Check(axis)) {
        PyErr_Format(PyExc_ValueError, "%s: pycnn normalises along one feature axis (an "
                     "int), got axis=%R", who, axis);
        return -1;
    }
    if ((axis != NULL && pc_parse_index(axis, who, "axis", &ax) < 0))
        return -1;
    if ((mean == Py_None) != (variance == Py_None)) {
        PyErr_Format(PyExc_ValueError, "%s: give both mean and variance, or neither (then "
                     "adapt() learns them), got mean=%R and variance=%R", who, mean, variance);
        return -1;
    }
    if (mean != Py_None && ((m = json_number_or_list(mean, who, "mean")) == NULL ||
                            (v = json_number_or_list(variance, who, "variance")) == NULL)) {
        Py_XDECREF(m);
        return -1;
    }
    if ((ax_obj = Py_BuildValue("(n)", ax)) == NULL) {
        Py_XDECREF(m);
        Py_XDECREF(v);
        return -1;
    }
    Py_XSETREF(self->base.objs[OBJ_MEAN], m != NULL ? m : Py_NewRef(Py_None));
    Py_XSETREF(self->base.objs[OBJ_VARIANCE], v != NULL ? v : Py_NewRef(Py_None));
    Py_XSETREF(self->base.objs[OBJ_AXIS], ax_obj);
    self->axis = (int)(ax < -PC_MAX_NDIM || ax >= PC_MAX_NDIM ? PC_MAX_NDIM : ax);
    self->invert = invert;
    self->fixed = mean != Py_None;
    return pc_layer_init_common(&self->base, &common);
}

/* the feature axis within ndim (not the batch's), else -1 with ValueError */
static int
feature_axis(NormalizationObject *self, int ndim, PyObject *shape)
{
    int a = self->axis < 0 ? self->axis + ndim : self->axis;
    if (a >= 1 && a < ndim)
        return a;
    PyErr_Format(PyExc_ValueError, "%U: axis %d is not a feature axis of inputs of shape %R",
                 pc_layer_name(&self->base), self->axis, shape);
    return -1;
}

static PyObject *
Normalization_build(NormalizationObject *self, PyObject *input_shape)
{
    npy_intp dims[PC_MAX_NDIM], scalar[1];
    int nd, a, typenum = pc_layer_dtype(&self->base);

    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    if (self->base.built)
        Py_RETURN_NONE;
    if (pc_layer_input_dims(&self->base, input_shape, 2, &nd, dims) < 0 ||
        (a = feature_axis(self, nd, input_shape)) < 0)
        return NULL;
    if (dims[a] <= 0) {
        PyErr_Format(PyExc_ValueError, "%U: the feature axis must have a known positive size, "
                     "got input shape %R", pc_layer_name(&self->base), input_shape);
        return NULL;
    }
    if (!self->fixed) {
        PyObject *zeros = PyUnicode_FromString("zeros"), *ones = PyUnicode_FromString("ones");
        int ok = zeros != NULL && ones != NULL &&
                 pc_layer_add_weight(&self->base, "mean", 1, dims + a, zeros, 0, typenum) &&
                 pc_layer_add_weight(&self->base, "variance", 1, dims + a, ones, 0, typenum) &&
                 pc_layer_add_weight(&self->base, "count", 0, scalar, zeros, 0, typenum);
        Py_XDECREF(zeros);
        Py_XDECREF(ones);
        if (!ok)
            return NULL;
    }
    self->C = dims[a];
    self->base.built = 1;
    Py_RETURN_NONE;
}

/* mean and variance (C,) of the layer's dtype: the given ones broadcast, or the weights
 * (new refs). 0 or -1 */
static int
statistics(NormalizationObject *self, int typenum, PyArrayObject **mean, PyArrayObject **var)
{
    npy_intp dims[1] = {self->C};
    PyObject *given[2] = {self->base.objs[OBJ_MEAN], self->base.objs[OBJ_VARIANCE]};
    PyArrayObject **out[2] = {mean, var};
    const char *what[2] = {"mean", "variance"};
    *mean = *var = NULL;
    for (int i = 0; i < 2; i++) {
        PyArrayObject *src;
        if (!self->fixed) {
            *out[i] = (PyArrayObject *)Py_NewRef(
                PC_DATA(PyList_GET_ITEM(self->base.non_trainable_ws, i)));
            continue;
        }
        if ((src = pc_as_array(given[i], typenum, what[i])) == NULL)
            goto fail;
        if ((*out[i] = pc_new_array(1, dims, typenum)) == NULL ||
            PyArray_CopyInto(*out[i], src) < 0) {       /* broadcasts a scalar */
            Py_DECREF(src);
            if (*out[i] != NULL) {
                PyErr_Clear();
                PyErr_Format(PyExc_ValueError, "%U: %s %R does not fit the %zd features",
                             pc_layer_name(&self->base), what[i], given[i],
                             (Py_ssize_t)self->C);
            }
            goto fail;
        }
        Py_DECREF(src);
    }
    return 0;
fail:
    Py_CLEAR(*mean);
    Py_CLEAR(*var);
    return -1;
}

/* element c of a float32/float64 array, as double, and back */
static double
value_at(PyArrayObject *a, npy_intp c)
{
    return PyArray_TYPE(a) == NPY_FLOAT32 ? ((float *)PyArray_DATA(a))[c]
                                          : ((double *)PyArray_DATA(a))[c];
}

static void
set_value(PyArrayObject *a, npy_intp c, double v)
{
    if (PyArray_TYPE(a) == NPY_FLOAT32)
        ((float *)PyArray_DATA(a))[c] = (float)v;
    else
        ((double *)PyArray_DATA(a))[c] = v;
}

/* The batch_norm node's constants: with sd = max(√variance, ε),
 *   normalise: centre = mean, var' = sd² (the node divides by √var')
 *   invert:    centre = 0, var' = 1, γ = sd, β = mean
 * (new refs; gamma, beta NULL when normalising). 0 or -1 */
static int
node_constants(NormalizationObject *self, int typenum, PyArrayObject **centre,
               PyArrayObject **v, PyObject **gamma, PyObject **beta)
{
    npy_intp dims[1] = {self->C};
    PyArrayObject *mean = NULL, *var = NULL, *g = NULL, *b = NULL;
    int status = -1;

    *centre = *v = NULL;
    *gamma = *beta = NULL;
    if (statistics(self, typenum, &mean, &var) < 0 ||
        (*centre = pc_new_array(1, dims, typenum)) == NULL ||
        (*v = pc_new_array(1, dims, typenum)) == NULL ||
        (self->invert && ((g = pc_new_array(1, dims, typenum)) == NULL ||
                          (b = pc_new_array(1, dims, typenum)) == NULL)))
        goto done;
    for (npy_intp c = 0; c < self->C; c++) {
        double sd = sqrt(value_at(var, c));
        sd = sd > PC_NORMALIZATION_EPSILON ? sd : PC_NORMALIZATION_EPSILON;  /* NaN stays */
        set_value(*centre, c, self->invert ? 0.0 : value_at(mean, c));
        set_value(*v, c, self->invert ? 1.0 : sd * sd);
        if (self->invert) {
            set_value(g, c, sd);
            set_value(b, c, value_at(mean, c));
        }
    }
    if (self->invert && ((*gamma = pc_tensor_wrap(g, 0)) == NULL ||
                         (*beta = pc_tensor_wrap(b, 0)) == NULL))
        goto done;
    status = 0;
done:
    Py_XDECREF(mean);
    Py_XDECREF(var);
    Py_XDECREF(g);
    Py_XDECREF(b);
    if (status < 0) {
        Py_CLEAR(*centre);
        Py_CLEAR(*v);
        Py_CLEAR(*gamma);
        Py_CLEAR(*beta);
    }
    return status;
}

static PyObject *
Normalization_call(NormalizationObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"inputs", "training", NULL};
    PyObject *inputs, *training = Py_None, *x = NULL, *y = NULL, *s = NULL;
    PyObject *gamma = NULL, *beta = NULL, *name = pc_layer_name(&self->base);
    PyArrayObject *centre = NULL, *v = NULL;
    int a;

    if (pc_layer_check_init(&self->base) < 0 || name == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:call", kwlist, &inputs, &training))
        return NULL;
    if (self->C == 0) {
        PyErr_Format(PyExc_RuntimeError, "%U: call() before build(); call the layer itself "
                     "or adapt() it first", name);
        return NULL;
    }
    if ((x = pc_layer_input(&self->base, inputs)) == NULL ||
        (s = pc_shape_tuple(PyArray_NDIM(PC_DATA(x)), PyArray_SHAPE(PC_DATA(x)))) == NULL ||
        (a = feature_axis(self, PyArray_NDIM(PC_DATA(x)), s)) < 0)
        goto done;
    if (PyArray_DIM(PC_DATA(x), a) != self->C) {
        PyErr_Format(PyExc_ValueError, "%U: input of shape %R has %zd features along axis %d, "
                     "but the layer has %zd", name, s, (Py_ssize_t)PyArray_DIM(PC_DATA(x), a),
                     self->axis, (Py_ssize_t)self->C);
        goto done;
    }
    if (node_constants(self, pc_layer_dtype(&self->base), &centre, &v, &gamma, &beta) == 0)
        y = pc_batch_norm(x, gamma, beta, centre, v, a, 0.0, 0.0, 0);
done:
    Py_XDECREF(x);
    Py_XDECREF(s);
    Py_XDECREF(centre);
    Py_XDECREF(v);
    Py_XDECREF(gamma);
    Py_XDECREF(beta);
    return y;
}

/* adapt(data): data an array or an iterable of batches; per batch the two-pass moments
 * of kernels/norm.h, combined as Keras does:
 *   w = n_b / (n + n_b), mean' = mean·(1 − w) + mean_b·w,
 *   var' = (var + (mean − mean')²)·(1 − w) + (var_b + (mean_b − mean')²)·w */
static int
adapt_batch(NormalizationObject *self, PyObject *batch, double *mean, double *var,
            double *count)
{
    PyArrayObject *x = pc_as_array(batch, NPY_FLOAT64, "adapt"), *work = NULL, *bm = NULL;
    PyArrayObject *bv = NULL;
    PyObject *s = NULL;
    pc_index A = 1, B = 1, C;
    npy_intp dims[1];
    int a, status = -1;

    if (x == NULL || (s = pc_shape_tuple(PyArray_NDIM(x), PyArray_SHAPE(x))) == NULL)
        goto done;
    if (PyArray_NDIM(x) < 2 || (a = feature_axis(self, PyArray_NDIM(x), s)) < 0) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "%U: adapt() needs batches with a batch axis, got "
                         "shape %R", pc_layer_name(&self->base), s);
        goto done;
    }
    if (PyArray_DIM(x, a) != self->C || PyArray_SIZE(x) == 0) {
        PyErr_Format(PyExc_ValueError, "%U: adapt() got a batch of shape %R; the layer has %zd "
                     "features along axis %d", pc_layer_name(&self->base), s,
                     (Py_ssize_t)self->C, self->axis);
        goto done;
    }
    for (int d = 0; d < a; d++)
        A *= PyArray_DIM(x, d);
    for (int d = a + 1; d < PyArray_NDIM(x); d++)
        B *= PyArray_DIM(x, d);
    C = self->C;
    dims[0] = pc_norm_workspace(A, C, B);
    if ((work = pc_new_array(1, dims, NPY_FLOAT64)) == NULL ||
        (bm = pc_new_array(1, &self->C, NPY_FLOAT64)) == NULL ||
        (bv = pc_new_array(1, &self->C, NPY_FLOAT64)) == NULL)
        goto done;
    pc_batch_norm_moments_f64(PyArray_DATA(x), A, C, B, PyArray_DATA(work), PyArray_DATA(bm),
                              PyArray_DATA(bv));
    {
        double nb = (double)A * (double)B, w = nb / (*count + nb);
        const double *m_b = PyArray_DATA(bm), *v_b = PyArray_DATA(bv);
        for (pc_index c = 0; c < C; c++) {
            double m = mean[c] * (1 - w) + m_b[c] * w;
            var[c] = (var[c] + (mean[c] - m) * (mean[c] - m)) * (1 - w) +
                     (v_b[c] + (m_b[c] - m) * (m_b[c] - m)) * w;
            mean[c] = m;
        }
        *count += nb;
    }
    status = 0;
done:
    Py_XDECREF(x);
    Py_XDECREF(s);
    Py_XDECREF(work);
    Py_XDECREF(bm);
    Py_XDECREF(bv);
    return status;
}

/* builds the layer for the shape of the first batch, unless built. 0 or -1 */
static int
ensure_built(NormalizationObject *self, PyObject *batch)
{
    PyArrayObject *x;
    PyObject *s, *r = NULL;
    if (self->base.built)
        return 0;
    if ((x = pc_as_array(batch, NPY_FLOAT64, "adapt")) == NULL)
        return -1;
    s = pc_shape_tuple(PyArray_NDIM(x), PyArray_SHAPE(x));
    if (s != NULL && (r = pc_call_method((PyObject *)self, "build", s)) != NULL)
        self->base.built = 1;
    Py_DECREF(x);
    Py_XDECREF(s);
    Py_XDECREF(r);
    return r != NULL ? 0 : -1;
}

static PyObject *
Normalization_adapt(NormalizationObject *self, PyObject *data)
{
    PyObject *it = NULL, *batch, *result = NULL, *name = pc_layer_name(&self->base);
    double *mean = NULL, *var = NULL, count = 0;
    int one = PyArray_Check(data) || pc_tensor_check(data);

    if (pc_layer_check_init(&self->base) < 0 || name == NULL)
        return NULL;
    if (self->fixed) {
        PyErr_Format(PyExc_ValueError, "%U: mean and variance were given; adapt() has nothing "
                     "to learn", name);
        return NULL;
    }
    if (!one && (it = PyObject_GetIter(data)) == NULL)
        return NULL;
    while ((batch = one ? Py_NewRef(data) : PyIter_Next(it)) != NULL) {
        int bad = ensure_built(self, batch);
        if (!bad && mean == NULL) {
            mean = PyMem_Calloc((size_t)self->C, sizeof(double));
            var = PyMem_Calloc((size_t)self->C, sizeof(double));
            if (mean == NULL || var == NULL)
                bad = (PyErr_NoMemory(), -1);
        }
        if (!bad)
            bad = adapt_batch(self, batch, mean, var, &count);
        Py_DECREF(batch);
        if (bad < 0 || one)
            break;
    }
    if (PyErr_Occurred())
        goto done;
    if (count == 0) {
        PyErr_Format(PyExc_ValueError, "%U: adapt() got no batches", name);
        goto done;
    }
    for (npy_intp c = 0; c < self->C; c++) {
        set_value(PC_DATA(PyList_GET_ITEM(self->base.non_trainable_ws, 0)), c, mean[c]);
        set_value(PC_DATA(PyList_GET_ITEM(self->base.non_trainable_ws, 1)), c, var[c]);
    }
    set_value(PC_DATA(PyList_GET_ITEM(self->base.non_trainable_ws, 2)), 0, count);
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(it);
    PyMem_Free(mean);
    PyMem_Free(var);
    return result;
}

static PyObject *
Normalization_get_config(NormalizationObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject **o = self->base.objs;
    if (pc_layer_check_init(&self->base) < 0)
        return NULL;
    return pc_layer_config(&self->base, Py_BuildValue(
        "{s:O,s:O,s:O,s:O}", "axis", o[OBJ_AXIS], "invert", self->invert ? Py_True : Py_False,
        "mean", o[OBJ_MEAN], "variance", o[OBJ_VARIANCE]));
}

static PyMethodDef Normalization_methods[] = {
    PC_LAYER_BUILD(Normalization_build,
                   "the non-trainable mean, variance (features,) and count weights"),
    {"adapt", (PyCFunction)Normalization_adapt, METH_O,
     "adapt(data)\n--\n\nmean and variance of an array, or of an iterable of batches, per "
     "feature"},
    PC_LAYER_CALL(Normalization_call,
                  "call(inputs, training=None)\n--\n\n(x - mean) / max(sqrt(variance), 1e-7)"),
    PC_LAYER_SAME_SHAPE,
    PC_LAYER_GET_CONFIG(Normalization_get_config, "axis, invert, mean, variance"),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Normalization_Type = {
    PC_LAYER_TYPE("Normalization", NormalizationObject, Normalization_init, Normalization_methods),
    .tp_doc = PyDoc_STR(
        "Normalization(axis=-1, mean=None, variance=None, invert=False, *, input_shape=None,\n"
        "              name=None, trainable=True, dtype=None)\n\n"
        "y = (x - mean) / max(sqrt(variance), 1e-7) per feature along axis (one axis in\n"
        "pycnn); invert=True: y = mean + x * max(sqrt(variance), 1e-7). mean and variance\n"
        "are given (numbers or per-feature lists) or learnt by adapt(data) from an array or\n"
        "an iterable of batches, into the non-trainable weights mean, variance and count\n"
        "(the values per feature adapt() saw; Keras leaves it 0 after one array)."),
};

int
pc_preprocessing_exec(PyObject *m)
{
    static PyTypeObject *const types[] = {&Rescaling_Type, &Normalization_Type, NULL};
    return pc_add_layer_file(m, types, NULL);
}
