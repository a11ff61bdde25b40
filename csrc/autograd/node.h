/* autograd/node.h — the graph of tensors.
 *
 * A Tensor is a vertex: its value (a C-contiguous NumPy array), its gradient, and,
 * when an op produced it while recording, the node out = op(parents). The node owns
 * its parents and exactly the buffers its backward reads. Backward functions ADD
 * their contribution into each parent's gradient: Backward(θ) = Σ over children.
 */
#ifndef PC_NODE_H
#define PC_NODE_H

#include "py/numpy_api.h"

typedef enum {
#define X(op, name, n_in, bwd) PC_OP_##op,
#include "autograd/ops.def"
#undef X
    PC_OP_COUNT
} pc_op;

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
    pc_op op;
    int released;                       /* saved buffers freed by a backward pass */
    int n_parents;
    PyObject **parents;                 /* owned refs to the input Tensors */
    PyObject *saved[PC_MAX_SAVED];      /* owned: exactly what backward reads */
    pc_op_args args;
} pc_node;

/* The Tensor object (its Python type lives in py/tensor.c). */
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

/* Adds this node's contribution to each parent's .grad: 0, or -1 with an exception set. */
typedef int (*pc_backward_fn)(pc_node *node, PyArrayObject *dout);

typedef struct {
    const char *name;
    int n_inputs;
    pc_backward_fn backward;
} pc_op_info;

extern const pc_op_info pc_op_table[PC_OP_COUNT];

#define X(op, name, n_in, bwd) int bwd(pc_node *node, PyArrayObject *dout);
#include "autograd/ops.def"
#undef X

/* Recording is on unless `with pycnn.no_grad()` (per thread). */
int pc_grad_enabled(void);
int pc_set_grad_enabled(int enabled);           /* returns the previous state */

/* Wraps y (steals nothing; new ref) as a leaf Tensor, or NULL with an exception. */
PyObject *pc_tensor_wrap(PyArrayObject *y, int requires_grad);

/* 1 when an op over these inputs must record a node (recording on, some input
 * requires grad), else 0. Bindings skip saving work when this is 0. */
int pc_needs_record(int n_parents, PyObject *const *parents);

/* out = op(parents): wraps y as a Tensor and, when pc_needs_record(), attaches a node
 * holding new refs to the parents and to each saved object (NULL entries allowed).
 * Returns a new ref, or NULL with an exception set. */
PyObject *pc_record(pc_op op, PyArrayObject *y, int n_parents, PyObject *const *parents,
                    const pc_op_args *args, int n_saved, PyObject *const *saved);

/* Borrowed gradient array of parent i, created as zeros on first use; *out = NULL
 * (and 0 returned) when that parent does not require grad. -1 on error. */
int pc_grad_buffer(pc_node *node, int i, PyArrayObject **out);

/* The same, except that a gradient created by this call is left UNINITIALISED and
 * *fresh is set to 1 (else 0): the caller must then write every element with `=`
 * (a GEMM into it, say) instead of adding. Saves zero-filling what is overwritten. */
int pc_grad_buffer_to_overwrite(pc_node *node, int i, PyArrayObject **out, int *fresh);

void pc_node_release(pc_node *node);            /* drop the saved buffers */
void pc_node_free(pc_node *node);               /* drop everything */
int pc_node_traverse(pc_node *node, visitproc visit, void *arg);

/* Backward from root: seed (root's shape) is added to root's gradient, then every
 * node is visited once in reverse topological order. 0, or -1 with an exception. */
int pc_backward(PyObject *root, PyArrayObject *seed, int retain_graph, int retain_grads);

/* `with pycnn.keep_grads():` — per thread; pc_set_keep_grads returns the previous state */
int pc_keep_grads(void);
int pc_set_keep_grads(int keep);
PyObject *pc_last_kept_root(void);              /* new ref: a Tensor or None */

/* (∂E/∂parent contribution of t's node alone, per parent) for dout = ∂E/∂t, leaving
 * every .grad as it was: a new tuple of arrays / None, or NULL with an exception. */
PyObject *pc_node_vjp(PyObject *t, PyArrayObject *dout);

/* Keeps obj alive until the running node's backward returns (engine.c); 0 or -1. */
int pc_keep_alive(PyObject *obj);

#endif
