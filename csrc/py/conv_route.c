/* py/conv_route.c — pycnn._core._conv_route: which route conv2d would take for a
 * geometry, and the cost model's figure for every route (autograd/ops_conv_route.c).
 * For tests and benchmarks: nothing is computed. Legend: py/conv2d.c.
 */
#include "py/layer.h"

#include "autograd/ops_layers.h"

/* the 4 positive sizes of a shape tuple (N, H, W, C) or (KH, KW, C, F) */
static int
shape4(PyObject *obj, const char *what, pc_index out[4])
{
    PyObject *seq = PySequence_Fast(obj, "_conv_route: shapes are tuples of 4 ints");
    int status = -1;

    if (seq == NULL)
        return -1;
    if (PySequence_Fast_GET_SIZE(seq) != 4) {
        PyErr_Format(PyExc_ValueError, "_conv_route: %s must have 4 sizes, got %zd", what,
                     PySequence_Fast_GET_SIZE(seq));
        goto done;
    }
    for (int i = 0; i < 4; i++) {
        out[i] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(seq, i));
        if (out[i] == -1 && PyErr_Occurred())
            goto done;
        if (out[i] < 1) {
            PyErr_Format(PyExc_ValueError, "_conv_route: %s sizes must be positive, got %zd",
                         what, (Py_ssize_t)out[i]);
            goto done;
        }
    }
    status = 0;
done:
    Py_DECREF(seq);
    return status;
}

/* _conv_route(x_shape, kernel_shape, strides=1, padding='valid', dilation_rate=1)
 * -> (route, {route: cost or None}) */
static PyObject *
py_conv_route(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"x_shape", "kernel_shape", "strides", "padding", "dilation_rate",
                             NULL};
    PyObject *xs, *ks, *strides_obj = NULL, *padding = NULL, *dilation_obj = NULL;
    PyObject *costs = NULL, *result = NULL;
    pc_index x[4], k[4], strides[2] = {1, 1}, dilation[2] = {1, 1};
    int same = 0;
    pc_window2d g;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OOO:_conv_route", kwlist, &xs, &ks,
                                     &strides_obj, &padding, &dilation_obj) ||
        shape4(xs, "x_shape", x) < 0 || shape4(ks, "kernel_shape", k) < 0 ||
        (strides_obj != NULL && pc_parse_pair(strides_obj, "_conv_route", "strides",
                                              strides) < 0) ||
        (padding != NULL && (same = pc_parse_padding(padding, "_conv_route")) < 0) ||
        (dilation_obj != NULL && pc_parse_pair(dilation_obj, "_conv_route", "dilation_rate",
                                               dilation) < 0))
        return NULL;
    if (k[2] != x[3]) {
        PyErr_Format(PyExc_ValueError, "_conv_route: input has %zd channels but kernel "
                     "expects %zd", (Py_ssize_t)x[3], (Py_ssize_t)k[2]);
        return NULL;
    }
    g = (pc_window2d){.N = x[0], .H = x[1], .W = x[2], .C = x[3], .KH = k[0], .KW = k[1],
                      .SH = strides[0], .SW = strides[1], .GH = dilation[0] - 1,
                      .GW = dilation[1] - 1};
    if (pc_window_geometry(&g, same) < 0) {
        PyErr_Format(PyExc_ValueError, "_conv_route: the window spans more than the %zdx%zd "
                     "input (padding='valid')", (Py_ssize_t)g.H, (Py_ssize_t)g.W);
        return NULL;
    }
    if ((costs = PyDict_New()) == NULL)
        return NULL;
    for (int r = 0; r < PC_ROUTE_COUNT; r++) {
        double c = pc_conv_route_cost(r, &g, k[3]);
        PyObject *v = c < 0.0 ? Py_NewRef(Py_None) : PyFloat_FromDouble(c);
        int bad = v == NULL || PyDict_SetItemString(costs, pc_conv_route_name(r), v) < 0;
        Py_XDECREF(v);
        if (bad)
            goto done;
    }
    result = Py_BuildValue("(sO)", pc_conv_route_name(pc_conv_route(&g, k[3])), costs);
done:
    Py_XDECREF(costs);
    return result;
}

static PyMethodDef conv_route_functions[] = {
    {"_conv_route", (PyCFunction)(void (*)(void))py_conv_route, METH_VARARGS | METH_KEYWORDS,
     "_conv_route(x_shape, kernel_shape, strides=1, padding='valid', dilation_rate=1)\n--\n\n"
     "(route, {route: cost}): the route conv2d takes for this geometry under the current\n"
     "_set_conv_algorithm, and the cost model's figure for each route (None: not\n"
     "supported). For tests and benchmarks."},
    {NULL, NULL, 0, NULL},
};

int
pc_conv_route_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, conv_route_functions);
}
