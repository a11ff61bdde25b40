/* autograd/node.h — the graph of tensors.
 *
 * The autograd floor (csrc/autograd) records and differentiates: ops.def is the one op
 * table; ops_<topic>.c holds each op's recorder pc_<op>() (which runs the forward kernel
 * and records a node) right above its backward pc_grad_<op>(); engine.c walks the graph
 * once, iteratively, in reverse topological order. It calls only core and kernels.
 *
 * A Tensor is a vertex (core/tensor.h holds its struct and the node's memory): its
 * value, its gradient, and, when an op produced it while recording, the node
 * out = op(parents). This floor gives nodes their meaning: the op table generated
 * from ops.def, recording, gradient buffers and the backward sweep. Backward
 * functions ADD their contribution into each parent's gradient:
 * Backward(θ) = Σ over children.
 */
#ifndef PC_NODE_H
#define PC_NODE_H

#include "core/array.h"
#include "core/blas.h"
#include "core/bufpool.h"
#include "core/tensor.h"

typedef enum {
#define OP(op, name, n_in, bwd, family, inputs) PC_OP_##op,
#include "autograd/ops.def"
    PC_OP_COUNT
} pc_op;

/* Adds this node's contribution to each parent's .grad: 0, or -1 with an exception set. */
typedef int (*pc_backward_fn)(pc_node *node, PyArrayObject *dout);

/* One row of ops.def: the op's name, how many inputs (-1: any), its backward, its
 * family ("elementwise", "activation", "loss", "layer"...) and the names of the inputs
 * a gradient flows to, space-separated. */
typedef struct {
    const char *name;
    int n_inputs;
    pc_backward_fn backward;
    const char *family;
    const char *inputs;
} pc_op_info;

extern const pc_op_info pc_op_table[PC_OP_COUNT];

#define OP(op, name, n_in, bwd, family, inputs) int bwd(pc_node *node, PyArrayObject *dout);
#include "autograd/ops.def"

/* Recording is on unless `with pycnn.no_grad()` (per thread). */
int pc_grad_enabled(void);
int pc_set_grad_enabled(int enabled);           /* returns the previous state */

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
