/* autograd/ops_index.c — indexing, y = x[key]: the recorder above the backward
 * (py/index.c normalises and checks the key). */
#include "autograd/ops_index.h"


PyObject *
pc_getitem_view(PyObject *x, PyObject *view, PyObject *key, int advanced)
{
    pc_op_args args = {.getitem = {advanced}};
    PyArrayObject *y;
    PyObject *result;

    y = (PyArrayObject *)PyArray_FromAny(view, NULL, 0, 0,
                                         NPY_ARRAY_CARRAY | NPY_ARRAY_FORCECAST, NULL);
    if (y == NULL)
        return NULL;
    if (PyArray_NDIM(y) > PC_MAX_NDIM) {
        PyErr_Format(PyExc_ValueError, "getitem: the result would have %d axes, at most %d "
                     "are supported", PyArray_NDIM(y), PC_MAX_NDIM);
        Py_DECREF(y);
        return NULL;
    }
    result = pc_record(PC_OP_GETITEM, y, 1, &x, &args, 1, &key);
    Py_DECREF(y);
    return result;
}

/* y = x[key]; saved[0] = the normalised key (a tuple), args.getitem.advanced = 1 when it holds
 * integer or boolean arrays. Basic index: dx[key] is a view of dx, so dx[key] += dy.
 * Advanced index: np.add.at(dx, key, dy), which adds once per repeated index
 * (dx[key] += dy would keep only the last of repeated indices). */
int
pc_grad_getitem(pc_node *node, PyArrayObject *dout)
{
    PyObject *key = node->saved[0], *np = NULL, *add = NULL, *view = NULL, *r = NULL;
    PyArrayObject *dx;
    int status = -1;

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    if (node->args.getitem.advanced) {
        if ((np = PyImport_ImportModule("numpy")) == NULL ||
            (add = PyObject_GetAttrString(np, "add")) == NULL)
            goto done;
        r = PyObject_CallMethod(add, "at", "OOO", (PyObject *)dx, key, (PyObject *)dout);
    }
    else {
        if ((view = PyObject_GetItem((PyObject *)dx, key)) == NULL)   /* a view of dx */
            goto done;
        r = PyNumber_InPlaceAdd(view, (PyObject *)dout);
    }
    status = r == NULL ? -1 : 0;
done:
    Py_XDECREF(np);
    Py_XDECREF(add);
    Py_XDECREF(view);
    Py_XDECREF(r);
    return status;
}
