/* py/layer_weights.c — the Layer methods that read and write weights: count_params,
 * get_weights, set_weights (all checked before any is written), add_weight. */
#include "py/layer.h"

PyObject *
pc_layer_all_weights(LayerObject *self)
{
    return PySequence_Concat(self->trainable_ws, self->non_trainable_ws);
}

PyObject *
pc_layer_count_params(LayerObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *weights = pc_layer_all_weights(self);
    Py_ssize_t total = 0;
    if (weights == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(weights); i++)
        total += PyArray_SIZE(PC_DATA(PyList_GET_ITEM(weights, i)));
    Py_DECREF(weights);
    return PyLong_FromSsize_t(total);
}

PyObject *
pc_layer_get_weights(LayerObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *weights = pc_layer_all_weights(self), *out = NULL;
    if (weights == NULL || (out = PyList_New(PyList_GET_SIZE(weights))) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(weights); i++) {
        PyObject *copy = PyArray_NewCopy(PC_DATA(PyList_GET_ITEM(weights, i)), NPY_CORDER);
        if (copy == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, i, copy);
    }
done:
    Py_XDECREF(weights);
    return out;
}

/* Shape of every weight, for messages: "[(784, 512), (512,)]" (new ref) */
static PyObject *
weight_shapes(PyObject *weights)
{
    PyObject *shapes = PyList_New(PyList_GET_SIZE(weights));
    for (Py_ssize_t i = 0; shapes != NULL && i < PyList_GET_SIZE(weights); i++) {
        PyArrayObject *w = PC_DATA(PyList_GET_ITEM(weights, i));
        PyObject *s = pc_shape_tuple(PyArray_NDIM(w), PyArray_SHAPE(w));
        if (s == NULL)
            Py_CLEAR(shapes);
        else
            PyList_SET_ITEM(shapes, i, s);
    }
    return shapes;
}

/* Checks every array before copying any: a failed set_weights changes nothing */
PyObject *
pc_layer_set_weights(LayerObject *self, PyObject *values)
{
    PyObject *weights = pc_layer_all_weights(self), *seq = NULL, *arrays = NULL, *shapes = NULL;
    PyObject *result = NULL, *name = pc_layer_name(self);
    Py_ssize_t n;

    if (weights == NULL || name == NULL)
        goto done;
    if ((seq = PySequence_Fast(values, "set_weights: expected a list of arrays")) == NULL)
        goto done;
    n = PyList_GET_SIZE(weights);
    if (PySequence_Fast_GET_SIZE(seq) != n) {
        if ((shapes = weight_shapes(weights)) != NULL)
            PyErr_Format(PyExc_ValueError, "%U: set_weights expected %zd arrays with shapes "
                         "%R, got %zd", name, n, shapes, PySequence_Fast_GET_SIZE(seq));
        goto done;
    }
    if ((arrays = PyList_New(n)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        TensorObject *w = (TensorObject *)PyList_GET_ITEM(weights, i);
        PyArrayObject *a = pc_as_array(PySequence_Fast_GET_ITEM(seq, i),
                                       PyArray_TYPE(w->data), PyUnicode_AsUTF8(name));
        if (a == NULL)
            goto done;
        PyList_SET_ITEM(arrays, i, (PyObject *)a);
        if (!PyArray_SAMESHAPE(a, w->data)) {
            PyObject *want = pc_shape_tuple(PyArray_NDIM(w->data), PyArray_SHAPE(w->data));
            PyObject *got = pc_shape_tuple(PyArray_NDIM(a), PyArray_SHAPE(a));
            if (want != NULL && got != NULL)
                PyErr_Format(PyExc_ValueError, "%U: set_weights: weight %zd (%S) has shape "
                             "%R but the given array has shape %R", name, i,
                             w->name != NULL ? w->name : Py_None, want, got);
            Py_XDECREF(want);
            Py_XDECREF(got);
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyArray_CopyInto(PC_DATA(PyList_GET_ITEM(weights, i)),
                             (PyArrayObject *)PyList_GET_ITEM(arrays, i)) < 0)
            goto done;
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(weights);
    Py_XDECREF(seq);
    Py_XDECREF(arrays);
    Py_XDECREF(shapes);
    return result;
}

/* add_weight(shape, initializer='glorot_uniform', dtype=None, trainable=True, name=None) */
PyObject *
pc_layer_add_weight_method(LayerObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"shape", "initializer", "dtype", "trainable", "name", NULL};
    PyObject *shape, *init = NULL, *dtype = Py_None, *wname = Py_None, *w;
    npy_intp dims[PC_MAX_NDIM];
    int ndim, trainable = 1, typenum;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OOpO:add_weight", kwlist, &shape, &init,
                                     &dtype, &trainable, &wname))
        return NULL;
    if ((typenum = pc_parse_dtype(dtype, "add_weight")) == -2 ||
        pc_layer_parse_shape(shape, "add_weight", 0, &ndim, dims) < 0)
        return NULL;
    if (init == NULL || init == Py_None)
        init = PyUnicode_FromString("glorot_uniform");
    else
        Py_INCREF(init);
    if (init == NULL)
        return NULL;
    if (wname == Py_None) {
        Py_ssize_t k = PyList_GET_SIZE(self->trainable_ws) +
                       PyList_GET_SIZE(self->non_trainable_ws);
        wname = PyUnicode_FromFormat("variable_%zd", k);
    }
    else
        Py_INCREF(wname);
    w = wname == NULL ? NULL
        : pc_layer_add_weight(self, PyUnicode_AsUTF8(wname), ndim, dims, init, trainable,
                              typenum >= 0 ? typenum : pc_layer_dtype(self));
    Py_DECREF(init);
    Py_XDECREF(wname);
    return Py_XNewRef(w);
}

