/* py/preprocessing.c — Rescaling: y = x · scale + offset, scale and offset numbers or
 * arrays broadcast against the input (Keras' rule), e.g. Rescaling(1/255) for pixels.
 * Two element-wise C nodes (Tensor * and +): a fused kernel would not pay.
 */
#include "py/layer.h"

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
    PyObject *scale, *offset = NULL, *input_shape = Py_None, *name = Py_None, *dtype = Py_None;
    PyObject *s, *o;
    int trainable = 1;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O$" PC_LAYER_KWFMT ":Rescaling", kwlist,
                                     &scale, &offset, &input_shape, &name, &trainable, &dtype))
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
    return pc_layer_init_common(&self->base, input_shape, name, trainable, dtype);
}

static PyObject *
Rescaling_call(RescalingObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"inputs", "training", NULL};
    PyObject *inputs, *training = Py_None, *x = NULL, *s = NULL, *o = NULL, *xs = NULL;
    PyObject *y = NULL, *name = pc_layer_name(&self->base);
    int typenum = pc_layer_dtype(&self->base);

    if (pc_layer_check_init(&self->base) < 0 || name == NULL)
        return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:call", kwlist, &inputs, &training))
        return NULL;
    if ((x = pc_layer_input(&self->base, inputs)) == NULL ||
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
    {"call", (PyCFunction)(void (*)(void))Rescaling_call, METH_VARARGS | METH_KEYWORDS,
     "call(inputs, training=None)\n--\n\ninputs · scale + offset"},
    {"compute_output_shape", (PyCFunction)pc_layer_identity_shape, METH_O,
     "compute_output_shape(input_shape)\n--\n\nthe same shape"},
    {"get_config", (PyCFunction)Rescaling_get_config, METH_NOARGS, "get_config()\n--\n\nscale, offset"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Rescaling_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pycnn.layers.Rescaling",
    .tp_doc = PyDoc_STR(
        "Rescaling(scale, offset=0.0, *, input_shape=None, name=None, trainable=True,\n"
        "          dtype=None)\n--\n\n"
        "y = x * scale + offset, scale and offset numbers or arrays broadcast against the\n"
        "input (per channel: shape (C,)). Rescaling(1/255) maps pixels to [0, 1],\n"
        "Rescaling(1/127.5, offset=-1) to [-1, 1]. No weights."),
    .tp_basicsize = sizeof(RescalingObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,     /* GC inherited */
    .tp_base = &Layer_Type,
    .tp_init = (initproc)Rescaling_init,
    .tp_methods = Rescaling_methods,
};

int
pc_preprocessing_exec(PyObject *m)
{
    return pc_add_type(m, &Rescaling_Type);
}
