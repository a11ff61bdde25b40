/* autograd/node.c — nodes: the op table, recording, gradient buffers, release. */
#include "autograd/node.h"

#include "core/bufpool.h"

const pc_op_info pc_op_table[PC_OP_COUNT] = {
#define OP(op, name, n_in, bwd, family, inputs) [PC_OP_##op] = {name, n_in, bwd, family, inputs},
#include "autograd/ops.def"
};

static _Thread_local int pc_no_grad_depth = 0;  /* per thread, like torch.no_grad */

int
pc_grad_enabled(void)
{
    return pc_no_grad_depth == 0;
}

int
pc_set_grad_enabled(int enabled)
{
    int previous = pc_no_grad_depth == 0;
    pc_no_grad_depth = enabled ? 0 : 1;
    return previous;
}

int
pc_needs_record(int n_parents, PyObject *const *parents)
{
    if (!pc_grad_enabled())
        return 0;
    for (int i = 0; i < n_parents; i++)
        if (parents[i] != NULL && ((TensorObject *)parents[i])->requires_grad)
            return 1;
    return 0;
}

PyObject *
pc_record(pc_op op, PyArrayObject *y, int n_parents, PyObject *const *parents,
          const pc_op_args *args, int n_saved, PyObject *const *saved)
{
    int record = pc_needs_record(n_parents, parents);
    TensorObject *out = (TensorObject *)pc_tensor_wrap(y, record);   /* new ref */
    pc_node *node = NULL;

    if (out == NULL || !record)
        return (PyObject *)out;
    if (n_saved > PC_MAX_SAVED) {
        PyErr_Format(PyExc_SystemError, "%s: %d saved buffers, at most %d",
                     pc_op_table[op].name, n_saved, PC_MAX_SAVED);
        goto fail;
    }
    node = PyMem_Calloc(1, sizeof(pc_node));
    if (node == NULL || (node->parents = PyMem_Calloc(n_parents ? n_parents : 1,
                                                      sizeof(PyObject *))) == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    node->op = op;
    node->n_parents = n_parents;
    for (int i = 0; i < n_parents; i++)
        node->parents[i] = Py_NewRef(parents[i]);
    for (int i = 0; i < n_saved; i++)
        node->saved[i] = Py_XNewRef(saved[i]);
    if (args != NULL)
        node->args = *args;
    out->node = node;
    return (PyObject *)out;
fail:
    pc_node_free(node);
    Py_DECREF(out);
    return NULL;
}

/* parent i's gradient array, created (zero-filled when `zero`) if absent */
static int
grad_buffer(pc_node *node, int i, int zero, PyArrayObject **out, int *fresh)
{
    TensorObject *p = (TensorObject *)node->parents[i];
    PyArrayObject *g = NULL;

    *out = NULL;
    *fresh = 0;
    if (!p->requires_grad)
        return 0;
    if (p->grad == NULL) {
        g = pc_pool_array(PyArray_NDIM(p->data), PyArray_SHAPE(p->data),
                          PyArray_TYPE(p->data), zero);
        if (g == NULL)
            return -1;
        p->grad = pc_tensor_wrap(g, 0);
        Py_DECREF(g);
        if (p->grad == NULL)
            return -1;
        *fresh = 1;
    }
    if (pc_keep_alive(p->grad) < 0)     /* alive until this node's backward returns */
        return -1;
    *out = PC_DATA(p->grad);
    return 0;
}

int
pc_grad_buffer(pc_node *node, int i, PyArrayObject **out)
{
    int fresh;
    return grad_buffer(node, i, 1, out, &fresh);
}

int
pc_grad_buffer_to_overwrite(pc_node *node, int i, PyArrayObject **out, int *fresh)
{
    return grad_buffer(node, i, 0, out, fresh);
}
