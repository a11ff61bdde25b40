/* core/tensor.h — the Tensor object and the node it may own, as data: allocation,
 * wrapping an array, and the garbage-collector support (traverse, clear, dealloc).
 *
 * The array floor (csrc/core) is what the graph needs of NumPy and nothing more: the
 * one NumPy include (numpy_api.h), this Tensor struct, array allocation and the dtype
 * dispatch PC_DISPATCH (array.h), the buffer pool (bufpool.h) and NumPy's CBLAS found
 * at import with pc_matmul (blas.h). It calls only the kernels.
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
/* The plain values an op needs again in backward, by name, one struct per op family
 * (which one a node holds is its op's business; Tensor.op_args shows them to Python
 * under Keras' names). The two loss structs share their first four members, which the
 * loss recorders write for every loss. */
typedef union {
    struct { double alpha; } scaled;                            /* leaky_relu, elu */
    struct { pc_index outer, k, inner, axis; } along_axis;      /* softmax family */
    struct { pc_index outer, units, pieces, inner, axis; } maxout;
    struct { pc_index mask; double scale; int keepdims; } reduce;   /* sum, mean, max */
    struct { pc_index axis; } join;                             /* concat, stack */
    struct { int advanced; } getitem;
    struct {                                                    /* row and sparse losses */
        pc_index rows, k;       /* R rows of K values */
        int per_row;            /* 1: reduction 'none' (one loss per row) */
        double scale;           /* 1/count for 'mean', else 1 */
        int reduction;          /* PC_REDUCE_NONE / _SUM / _MEAN (autograd/ops_loss.h) */
        int has_ignore;         /* sparse: ignore holds an ignore_index */
        pc_index ignore;
    } loss;
    struct {                                                    /* yolo_loss */
        pc_index n, s;
        int per_row;
        double scale;
        int reduction;
        pc_index b, c;
        int parts;              /* the parts summed, a bit mask: 1 coord_xy, 2 coord_wh,
                                   4 obj, 8 noobj, 16 cls */
        double lambda_coord, lambda_noobj, eps;
    } yolo;
    struct { int act; } dense;                                  /* act: a pc_act */
    struct {                    /* conv2d, depthwise_conv2d; groups: conv2d's (0 or 1: none) */
        pc_index sh, sw, pt, pl, oh, ow;
        int act, same;
        pc_index gh, gw, groups;
    } conv2d;
    struct pc_conv2d_transpose_args {   /* oh, ow: y's size; oph, opw: output_padding, −1: None */
        pc_index sh, sw, pt, pl, oh, ow, oph, opw;
        int act, same;
    } conv2d_transpose;
    struct { pc_index kh, kw, sh, sw, pt, pl, oh, ow; int same; } pool2d;
    struct { pc_index sh, sw; } upsampling2d;
    struct { double rate; } dropout;
    struct pc_norm_args {           /* batch_norm: x as (A, C, B); layer_norm: (M, K) in a, c */
        pc_index a, c, b;
        int batch_stats;            /* batch_norm: normalised by the batch's own statistics */
        int gamma, beta;            /* which parent γ and β are, or −1 */
        int axis;                   /* batch_norm: the axis; layer_norm: the first one */
        double epsilon, momentum;   /* as called (momentum: batch_norm's only) */
    } norm;
    struct { int keepdims; } global_pool2d;
    struct { pc_index pt, pb, pl, pr; } pad2d;          /* negative: cropped */
    struct { int interpolation, fill_mode; double fill_value; } affine_transform;
    struct { double lo, hi; } contrast;                 /* value_range */
    struct { pc_index oh, ow; } resize;
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
