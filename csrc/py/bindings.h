/* py/bindings.h — what the binding files export to module.c and to each other. */
#ifndef PC_BINDINGS_H
#define PC_BINDINGS_H

#include "py/convert.h"

/* y = a ⋆ b for a binary element-wise op, with broadcasting and dtype promotion;
 * a or b may be any value pc_as_tensor accepts (new ref or NULL). */
PyObject *pc_binary_op(pc_op op, PyObject *a, PyObject *b);
/* y = f(x) for a unary element-wise op (new ref or NULL) */
PyObject *pc_unary_op(pc_op op, PyObject *x);

/* Module function tables, one per binding topic file; module.c adds each. */
extern PyMethodDef pc_tensor_functions[];       /* py/tensor.c */
extern PyMethodDef pc_elementwise_functions[];  /* py/elementwise.c */
extern PyMethodDef pc_activation_functions[];   /* py/activation.c */
extern PyMethodDef pc_loss_functions[];         /* py/loss.c */

/* ---- core: reductions, structure, matrix products (py/reduce.c, shape.c, matmul.c) ---- */
extern PyMethodDef pc_reduce_functions[];       /* py/reduce.c */
extern PyMethodDef pc_shape_functions[];        /* py/shape.c */
extern PyMethodDef pc_matmul_functions[];       /* py/matmul.c */

/* t.sum / t.mean / t.max (axis=None, keepdims=False) for op SUM, MEAN or MAX */
PyObject *pc_reduce_method(pc_op op, PyObject *self, PyObject *args, PyObject *kwargs);
/* t.reshape(2, 3) / t.reshape((2, 3)); t.transpose(*axes); t.T; t[key]; len(t) */
PyObject *pc_reshape_method(PyObject *self, PyObject *args);
PyObject *pc_flatten(PyObject *module, PyObject *x);
PyObject *pc_transpose_method(PyObject *self, PyObject *args);
PyObject *pc_transpose_all(PyObject *self, void *closure);
PyObject *pc_getitem(PyObject *self, PyObject *key);
Py_ssize_t pc_tensor_length(PyObject *self);
PyObject *pc_tensor_item(PyObject *self, Py_ssize_t i);
/* y = a @ b; either may be any value pc_as_tensor accepts (new ref or NULL) */
PyObject *pc_matmul_op(PyObject *a, PyObject *b);

/* axis in [-ndim, ndim) -> [0, ndim), or -1 with numpy's AxisError naming op and
 * x's shape */
int pc_normalize_axis(const char *op, Py_ssize_t axis, int ndim, PyArrayObject *x);

/* Docstring bodies shared by the methods and the module functions */
#define PC_DOC_REDUCE(what)                                                              \
    ": the " what " over the given axes (None: all of them; an int; a tuple of ints;\n" \
    "negative axes count from the end); keepdims=True keeps them with size 1."
#define PC_DOC_MAX_GRAD                                                                  \
    "\nBackward: the whole gradient of each output goes to the FIRST maximal element\n"  \
    "(in C order) of its group; tied elements get none, as in PyTorch's max(dim).\n"     \
    "NaN is the maximum of any group that holds one, as in NumPy."
/* The sum, mean and max rows of a method table: the module functions (first = "x, ")
 * and the Tensor methods (first = "") share their signatures and docstrings. */
#define PC_REDUCE_ROWS(first, sum_fn, mean_fn, max_fn)                                    \
    {"sum", PC_KW(sum_fn),                                                               \
     "sum(" first "axis=None, keepdims=False)\n--\n\n" PC_DOC_REDUCE("sum")},              \
    {"mean", PC_KW(mean_fn),                                                             \
     "mean(" first "axis=None, keepdims=False)\n--\n\n" PC_DOC_REDUCE("mean")},            \
    {"max", PC_KW(max_fn),                                                               \
     "max(" first "axis=None, keepdims=False)\n--\n\n" PC_DOC_REDUCE("maximum")            \
     PC_DOC_MAX_GRAD}
/* A keyword function or method whose whole body is one call, which may use self (the
 * module or the object), args and kwargs: PC_CALL_BINDING(py_sum, f(PC_OP_SUM, args, kwargs)) */
#define PC_CALL_BINDING(fn, call)                                                         \
    static PyObject *fn(PyObject *self, PyObject *args, PyObject *kwargs)                \
    {                                                                                    \
        (void)self;                                                                      \
        return call;                                                                     \
    }
extern PyMethodDef pc_optim_functions[];        /* py/optim.c */
extern PyMethodDef pc_hooks_functions[];        /* py/hooks.c */

/* The Python callables C calls back (py/hooks.c), registered by pycnn/__init__.py */
typedef enum {
    PC_HOOK_ACTIVATIONS_GET,            /* pycnn.activations.get */
    PC_HOOK_ACTIVATIONS_SERIALIZE,      /* pycnn.activations.serialize */
    PC_HOOK_CALL_ACCEPTS_TRAINING,      /* pycnn.layers._call_accepts_training */
    PC_HOOK_TENSOR_LATEX,               /* pycnn.display.tensor_latex */
    PC_HOOK_EXPLAIN,                    /* pycnn.explain.explain */
    PC_HOOK_KERAS_TENSOR,               /* pycnn.models.graph.KerasTensor (a type) */
    PC_HOOK_SYMBOLIC_CALL,              /* pycnn.models.graph.symbolic_call */
    PC_HOOK_ACTIVITY_LOSS,              /* pycnn.layers.base._activity_loss */
    PC_HOOK_EXPLAIN_GRAD,               /* pycnn.explain.backward.explain_grad */
    PC_HOOK_COUNT
} pc_hook;
/* hook(arg) (new ref), or NULL with RuntimeError when it was never registered */
PyObject *pc_call_hook(pc_hook which, PyObject *arg);
/* The registered object itself (borrowed), or NULL (no exception) when there is none */
PyObject *pc_hook_object(pc_hook which);

/* Tensor.op_args: the node's arguments by their Keras names, {} for a leaf (new ref) */
PyObject *pc_op_args_dict(const pc_node *node);

/* pycnn._core.<name> as a new function object (new ref), from the module's own method
 * tables (py/module.c); NULL with AttributeError when there is none */
PyObject *pc_core_function(const char *name);
extern PyMethodDef pc_bufpool_functions[];      /* core/bufpool.c */
extern PyMethodDef pc_threads_functions[];      /* py/threads.c */
extern PyMethodDef pc_interop_functions[];      /* py/tensor_interop.c: from_dlpack */
extern PyMethodDef pc_boxes_functions[];        /* py/boxes.c */
extern PyMethodDef pc_shapes_functions[];       /* py/shapes.c */

#endif
