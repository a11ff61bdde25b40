/* core/tensor.h — the Tensor object and the node it may own, as data: allocation,
 * wrapping an array, and the garbage-collector support (traverse, clear, dealloc).
 *
 * A Tensor is a vertex of the graph: its value (a C-contiguous float32/float64 NumPy
 * array), its gradient, and, when an op produced it while recording, the node
 * out = op(parents). The node owns its parents and exactly the buffers its backward
 * reads. What a node MEANS (the op table, recording, backward) is csrc/autograd's;
 * this floor only owns the memory, so that freeing a Tensor needs nothing above it.
 *
 * Tensor_Type is defined here with its allocation and GC slots (tp_basicsize,
 * tp_dealloc, tp_traverse, tp_clear), because pc_tensor_wrap — called by every
 * recorder in csrc/autograd — allocates instances of it. Its Python face (tp_new,
 * tp_repr, methods, attributes, number protocol) is csrc/py's: py/tensor.c fills
 * those slots in pc_tensor_type_ready() before PyType_Ready, from the module's exec
 * slot. So the type object lives on the lowest floor that needs it, and nothing here
 * refers to the floors above.
 */
#ifndef PC_TENSOR_CORE_H
#define PC_TENSOR_CORE_H

#include "core/numpy_api.h"

#define PC_MAX_SAVED 6
#define PC_MAX_IARGS 16

/* Plain values an op needs again in backward (what each means is the op's business,
 * documented beside its backward): axes, strides, pads in i[], α, ε... in f[]. */
typedef struct {
    double f[4];
    pc_index i[PC_MAX_IARGS];
    int n_i;
} pc_op_args;

typedef struct pc_node {
    int op;                             /* a pc_op of autograd/ops.def */
    int released;                       /* saved buffers freed by a backward pass */
    int n_parents;
    PyObject **parents;                 /* owned refs to the input Tensors */
    PyObject *saved[PC_MAX_SAVED];      /* owned: exactly what backward reads */
    pc_op_args args;
} pc_node;

typedef struct {
    PyObject_HEAD
    PyArrayObject *data;                /* owned; C-contiguous, aligned, float32/float64 */
    PyObject *grad;                     /* owned Tensor or NULL */
    pc_node *node;                      /* owned; NULL for a leaf */
    PyObject *name;                     /* owned str or NULL */
    int requires_grad;
    int retain_grad;                    /* keep .grad of a non-leaf after backward */
    unsigned long visit;                /* engine's traversal mark */
} TensorObject;

extern PyTypeObject Tensor_Type;
#define pc_tensor_check(o) PyObject_TypeCheck((o), &Tensor_Type)
#define PC_DATA(t) (((TensorObject *)(t))->data)

/* Wraps y (steals nothing; new ref) as a leaf Tensor, or NULL with an exception. */
PyObject *pc_tensor_wrap(PyArrayObject *y, int requires_grad);

void pc_node_release(pc_node *node);            /* drop the saved buffers */
void pc_node_free(pc_node *node);               /* drop everything */
int pc_node_traverse(pc_node *node, visitproc visit, void *arg);

#endif
