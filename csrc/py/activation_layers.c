/* py/activation_layers.c — the layers that apply one function to their input:
 * Activation, LeakyReLU, ELU, Softmax (the activations' C ops), and Reshape
 * (core's reshape op). No weights; the output has the input's shape except for
 * Reshape.
 */
#include "py/layer.h"
#include "py/args.h"
#include "py/bindings.h"

/* base.objs[]: the function applied, and its second argument (alpha, axis) or NULL */
enum { OBJ_FN, OBJ_ARG, OBJ_NAME };

typedef struct {
    LayerObject base;
    npy_intp target[PC_MAX_NDIM];       /* Reshape: target_shape, -1 for the inferred one */
    int target_ndim;
} FunctionLayerObject;

static PyTypeObject Activation_Type, LeakyReLU_Type, ELU_Type, Softmax_Type, Reshape_Type;


static PyObject *
FunctionLayer_call(FunctionLayerObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x, *y;
    PyObject *argv[2];

    if ((x = pc_layer_call_input(&self->base, args, kwargs, 0, NULL)) == NULL)
        return NULL;
    argv[0] = x;
    argv[1] = self->base.objs[OBJ_ARG];
    y = PyObject_Vectorcall(self->base.objs[OBJ_FN], argv, argv[1] != NULL ? 2 : 1, NULL);
    Py_DECREF(x);
    return y;
}

/* get_config(): the common keys plus {key: the function's argument} */
static PyObject *
FunctionLayer_get_config(FunctionLayerObject *self, PyObject *Py_UNUSED(ignored))
{
    LayerObject *b = &self->base;
    PyTypeObject *t = Py_TYPE(self);
    if (PyType_IsSubtype(t, &Activation_Type))
        return pc_layer_config(b, Py_BuildValue("{s:O}", "activation", b->objs[OBJ_NAME]));
    if (PyType_IsSubtype(t, &Softmax_Type))
        return pc_layer_config(b, Py_BuildValue("{s:O}", "axis", b->objs[OBJ_ARG]));
    return pc_layer_config(b, Py_BuildValue("{s:O}", "alpha", b->objs[OBJ_ARG]));
}

static PyMethodDef FunctionLayer_methods[] = {
    PC_LAYER_CALL(FunctionLayer_call,
                  "call(inputs, training=False)\n--\n\nthe function applied to the inputs"),
    PC_LAYER_SAME_SHAPE,
    PC_LAYER_GET_CONFIG(FunctionLayer_get_config, ""),
    {NULL, NULL, 0, NULL},
};

/* Keeps fn (stolen; NULL passes its error on) and its second argument (stolen; NULL: it
 * has none), then the common arguments */
static int
function_layer_init(FunctionLayerObject *self, PyObject *fn, PyObject *arg,
                    const pc_layer_kwargs *common)
{
    if (fn == NULL) {
        Py_XDECREF(arg);
        return -1;
    }
    Py_XSETREF(self->base.objs[OBJ_FN], fn);
    Py_XSETREF(self->base.objs[OBJ_ARG], arg);
    return pc_layer_init_common(&self->base, common);
}

static int
Activation_init(FunctionLayerObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"activation", PC_LAYER_KWLIST, NULL};
    PyObject *activation, *fn = NULL, *keras_name = NULL;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$" PC_LAYER_KWFMT ":Activation", kwlist,
                                     &activation, PC_LAYER_KWARGS(common)))
        return -1;
    fn = pc_call_hook(PC_HOOK_ACTIVATIONS_GET, activation);
    if (fn != NULL)
        keras_name = PyUnicode_Check(activation) ? Py_NewRef(activation)
                     : pc_call_hook(PC_HOOK_ACTIVATIONS_SERIALIZE, fn);
    if (keras_name == NULL) {
        Py_XDECREF(fn);
        return -1;
    }
    Py_XSETREF(self->base.objs[OBJ_NAME], keras_name);
    return function_layer_init(self, fn, NULL, &common);
}

/* alpha: a finite float */
static PyObject *
parse_alpha(PyObject *alpha, const char *who)
{
    double a;
    if (pc_parse_real(alpha, who, "alpha", &a) < 0)
        return NULL;
    if (!isfinite(a)) {
        PyErr_Format(PyExc_ValueError, "%s: alpha must be a finite number, got %R", who, alpha);
        return NULL;
    }
    return PyFloat_FromDouble(a);
}

/* LeakyReLU(alpha=0.1) — Keras 3 spells it negative_slope, accepted too */
static int
LeakyReLU_init(FunctionLayerObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"alpha", "negative_slope", PC_LAYER_KWLIST, NULL};
    PyObject *alpha = NULL, *slope = NULL, *a;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO$" PC_LAYER_KWFMT ":LeakyReLU", kwlist,
                                     &alpha, &slope, PC_LAYER_KWARGS(common)))
        return -1;
    if (alpha != NULL && slope != NULL) {
        PyErr_SetString(PyExc_TypeError, "LeakyReLU: give alpha or negative_slope, not both");
        return -1;
    }
    a = alpha != NULL ? parse_alpha(alpha, "LeakyReLU")
        : slope != NULL ? parse_alpha(slope, "LeakyReLU") : PyFloat_FromDouble(0.1);
    if (a == NULL)
        return -1;
    return function_layer_init(self, pc_core_function("leaky_relu"), a, &common);
}

static int
ELU_init(FunctionLayerObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"alpha", PC_LAYER_KWLIST, NULL};
    PyObject *alpha = NULL, *a;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O$" PC_LAYER_KWFMT ":ELU", kwlist, &alpha,
                                     PC_LAYER_KWARGS(common)))
        return -1;
    a = alpha != NULL ? parse_alpha(alpha, "ELU") : PyFloat_FromDouble(1.0);
    if (a == NULL)
        return -1;
    return function_layer_init(self, pc_core_function("elu"), a, &common);
}

static int
Softmax_init(FunctionLayerObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"axis", PC_LAYER_KWLIST, NULL};
    PyObject *axis = NULL, *a;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O$" PC_LAYER_KWFMT ":Softmax", kwlist,
                                     &axis, PC_LAYER_KWARGS(common)))
        return -1;
    if (axis != NULL && !PyIndex_Check(axis)) {
        PyErr_Format(PyExc_TypeError, "Softmax: axis must be an int, got %R", axis);
        return -1;
    }
    a = axis != NULL ? PyNumber_Index(axis) : PyLong_FromLong(-1);
    if (a == NULL)
        return -1;
    return function_layer_init(self, pc_core_function("softmax"), a, &common);
}

/* ---- Reshape --------------------------------------------------------------------------- */

static int
Reshape_init(FunctionLayerObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"target_shape", PC_LAYER_KWLIST, NULL};
    PyObject *target;
    pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
    int inferred = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$" PC_LAYER_KWFMT ":Reshape", kwlist,
                                     &target, PC_LAYER_KWARGS(common)))
        return -1;
    if (PyIndex_Check(target) || (!PyTuple_Check(target) && !PyList_Check(target))) {
        PyErr_Format(PyExc_TypeError, "Reshape: target_shape must be a tuple of ints (without "
                     "the batch dimension), got %R", target);
        return -1;
    }
    {
        PyObject *seq = PySequence_Fast(target, "target_shape");
        Py_ssize_t n = seq != NULL ? PySequence_Fast_GET_SIZE(seq) : -1;
        int bad = seq == NULL || n >= PC_MAX_NDIM;
        for (Py_ssize_t d = 0; !bad && d < n; d++) {
            PyObject *v = PySequence_Fast_GET_ITEM(seq, d);
            self->target[d] = PyIndex_Check(v) ? PyNumber_AsSsize_t(v, NULL) : 0;
            inferred += self->target[d] == -1;
            bad = PyErr_Occurred() || self->target[d] == 0 || self->target[d] < -1 ||
                  inferred > 1;
        }
        Py_XDECREF(seq);
        if (bad) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "Reshape: target_shape must hold positive ints and "
                         "at most one -1 (inferred), got %R", target);
            return -1;
        }
        self->target_ndim = (int)n;
    }
    return function_layer_init(self, pc_core_function("reshape"), NULL, &common);
}

/* (batch,) + target_shape with -1 resolved from the per-sample size `per` (unknown: -1).
 * ValueError naming the layer when the sizes disagree. */
static int
reshape_dims(FunctionLayerObject *self, npy_intp batch, npy_intp per, PyObject *shape,
             npy_intp *dims)
{
    npy_intp known = 1, at = -1;
    dims[0] = batch;
    for (int d = 0; d < self->target_ndim; d++) {
        dims[d + 1] = self->target[d];
        if (self->target[d] < 0)
            at = d + 1;
        else
            known *= self->target[d];
    }
    if (per < 0)
        return 0;
    if (at >= 0 && per % known == 0)
        dims[at] = per / known;
    else if (at >= 0 || per != known) {
        PyObject *t = pc_shape_tuple(self->target_ndim, self->target);
        if (t != NULL)
            PyErr_Format(PyExc_ValueError, "%U: cannot reshape an input of shape %R (%zd values "
                         "per sample) to target_shape %R", pc_layer_name(&self->base), shape,
                         (Py_ssize_t)per, t);
        Py_XDECREF(t);
        return -1;
    }
    return 0;
}

static PyObject *
Reshape_call(FunctionLayerObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *x, *shape = NULL, *newshape = NULL, *y = NULL;
    npy_intp dims[PC_MAX_NDIM + 1], per;

    if ((x = pc_layer_call_input(&self->base, args, kwargs, 0, NULL)) == NULL)
        return NULL;
    if ((per = pc_layer_input_sample_size(&self->base, PC_DATA(x))) < 0 ||
        (shape = PyObject_GetAttrString(x, "shape")) == NULL ||
        reshape_dims(self, PyArray_DIM(PC_DATA(x), 0), per, shape, dims) < 0 ||
        (newshape = pc_layer_shape_tuple(self->target_ndim + 1, dims)) == NULL)
        goto done;
    {
        PyObject *argv[2] = {x, newshape};
        y = PyObject_Vectorcall(self->base.objs[OBJ_FN], argv, 2, NULL);
    }
done:
    Py_DECREF(x);
    Py_XDECREF(shape);
    Py_XDECREF(newshape);
    return y;
}

static PyObject *
Reshape_compute_output_shape(FunctionLayerObject *self, PyObject *input_shape)
{
    npy_intp in[PC_MAX_NDIM], dims[PC_MAX_NDIM + 1];
    int nd;

    if (pc_layer_input_dims(&self->base, input_shape, 1, &nd, in) < 0 ||
        reshape_dims(self, in[0], pc_layer_sample_size(nd, in), input_shape, dims) < 0)
        return NULL;
    return pc_layer_shape_tuple(self->target_ndim + 1, dims);
}

static PyObject *
Reshape_get_config(FunctionLayerObject *self, PyObject *Py_UNUSED(ignored))
{
    return pc_layer_config(&self->base, Py_BuildValue(
        "{s:N}", "target_shape", pc_shape_tuple(self->target_ndim, self->target)));
}

static PyMethodDef Reshape_methods[] = {
    PC_LAYER_CALL(Reshape_call,
                  "call(inputs, training=False)\n--\n\n(batch, ...) -> (batch,) + target_shape"),
    PC_LAYER_OUTPUT_SHAPE(Reshape_compute_output_shape, "(batch,) + target_shape, -1 resolved"),
    PC_LAYER_GET_CONFIG(Reshape_get_config, "target_shape"),
    {NULL, NULL, 0, NULL},
};

#define FUNCTION_LAYER_TYPE(cls, init, methods, doc)                                      \
    static PyTypeObject cls##_Type = {                                                   \
        PC_LAYER_TYPE(#cls, FunctionLayerObject, init, methods),                          \
        .tp_doc = PyDoc_STR(doc),                                                        \
    };
#define COMMON_KW "*, input_shape=None, name=None, trainable=True, dtype=None)\n--\n\n"
FUNCTION_LAYER_TYPE(Activation, Activation_init, FunctionLayer_methods,
                    "Activation(activation, " COMMON_KW
                    "Applies an activation: a Keras name ('relu', 'softmax', ...; see\n"
                    "pycnn.activations.get) or a callable Tensor -> Tensor.")
FUNCTION_LAYER_TYPE(LeakyReLU, LeakyReLU_init, FunctionLayer_methods,
                    "LeakyReLU(alpha=0.1, negative_slope=None, " COMMON_KW
                    "x for x > 0, alpha·x otherwise. alpha defaults to the lecture's 0.1\n"
                    "(Keras' layer uses 0.3); Keras 3's name negative_slope is accepted.")
FUNCTION_LAYER_TYPE(ELU, ELU_init, FunctionLayer_methods,
                    "ELU(alpha=1.0, " COMMON_KW "x for x > 0, alpha·(e^x - 1) otherwise.")
FUNCTION_LAYER_TYPE(Softmax, Softmax_init, FunctionLayer_methods,
                    "Softmax(axis=-1, " COMMON_KW
                    "e^z / Σ e^z along axis (the maximum subtracted first: no overflow).")
FUNCTION_LAYER_TYPE(Reshape, Reshape_init, Reshape_methods,
                    "Reshape(target_shape, " COMMON_KW
                    "Per sample: (batch, ...) -> (batch,) + target_shape, sharing memory;\n"
                    "one entry may be -1 (inferred).")
#undef FUNCTION_LAYER_TYPE
#undef COMMON_KW

int
pc_activation_layers_exec(PyObject *m)
{
    PyTypeObject *types[] = {&Activation_Type, &LeakyReLU_Type, &ELU_Type, &Softmax_Type,
                             &Reshape_Type};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (pc_add_type(m, types[i]) < 0)
            return -1;
    return 0;
}
