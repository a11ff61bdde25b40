/* core/tensor.c — the Tensor's memory: allocation, wrap, node ownership and the GC
 * slots (see tensor.h for why the type object is defined here).
 *
 * Tensor is a GC type, and its dealloc runs inside CPython's trashcan so that
 * dropping a chain of a million ops that was never backpropagated does not recurse a
 * million C frames deep.
 */
#include "core/tensor.h"

PyObject *
pc_tensor_wrap(PyArrayObject *y, int requires_grad)
{
    TensorObject *t;
    if (PyArray_NDIM(y) > PC_MAX_NDIM) {
        PyErr_Format(PyExc_ValueError, "tensor: %d dimensions, at most %d are supported",
                     PyArray_NDIM(y), PC_MAX_NDIM);
        return NULL;
    }
    if ((t = PyObject_GC_New(TensorObject, &Tensor_Type)) == NULL)
        return NULL;
    t->data = (PyArrayObject *)Py_NewRef(y);
    t->grad = NULL;
    t->node = NULL;
    t->name = NULL;
    t->requires_grad = requires_grad;
    t->retain_grad = 0;
    t->visit = 0;
    PyObject_GC_Track(t);
    return (PyObject *)t;
}

void
pc_node_release(pc_node *node)
{
    for (int i = 0; i < PC_MAX_SAVED; i++)
        Py_CLEAR(node->saved[i]);
    node->released = 1;
}

void
pc_node_free(pc_node *node)
{
    if (node == NULL)
        return;
    pc_node_release(node);
    if (node->parents != NULL) {
        for (int i = 0; i < node->n_parents; i++)
            Py_CLEAR(node->parents[i]);
        PyMem_Free(node->parents);
    }
    PyMem_Free(node);
}

int
pc_node_traverse(pc_node *node, visitproc visit, void *arg)
{
    if (node == NULL)
        return 0;
    for (int i = 0; i < node->n_parents; i++)
        Py_VISIT(node->parents[i]);
    for (int i = 0; i < PC_MAX_SAVED; i++)
        Py_VISIT(node->saved[i]);
    return 0;
}

static int
Tensor_traverse(TensorObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->data);
    Py_VISIT(self->grad);
    Py_VISIT(self->name);
    return pc_node_traverse(self->node, visit, arg);
}

static int
Tensor_clear(TensorObject *self)
{
    pc_node *node = self->node;
    self->node = NULL;
    pc_node_free(node);
    Py_CLEAR(self->grad);
    Py_CLEAR(self->name);
    return 0;
}

static void
Tensor_dealloc(TensorObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_TRASHCAN_BEGIN(self, Tensor_dealloc)
    Tensor_clear(self);
    Py_CLEAR(self->data);
    PyObject_GC_Del(self);
    Py_TRASHCAN_END
}

/* The Python-facing slots are filled by py/tensor.c (pc_tensor_type_ready). */
PyTypeObject Tensor_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pycnn.Tensor",
    .tp_basicsize = sizeof(TensorObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)Tensor_dealloc,
    .tp_traverse = (traverseproc)Tensor_traverse,
    .tp_clear = (inquiry)Tensor_clear,
};
