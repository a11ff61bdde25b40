/* py/op_args.c — Tensor.op_args: the arguments of the op that produced a tensor, as a
 * dict under the names a Keras user reads (strides, padding, activation, alpha, axis...),
 * built from the node's named pc_op_args (core/tensor.h). {} for a leaf and for ops
 * without arguments (element-wise, shape and index ops). pycnn.explain reads these
 * instead of guessing them from numbers. */
#include "py/bindings.h"

#include <string.h>

#include "autograd/ops_loss.h"
#include "kernels/augment.h"
#include "kernels/dense.h"

static const char *
activation_name(int act)
{
    switch (act) {
    case PC_ACT_RELU:
        return "relu";
    case PC_ACT_SIGMOID:
        return "sigmoid";
    case PC_ACT_TANH:
        return "tanh";
    default:
        return "linear";
    }
}

static const char *
reduction_name(int reduction)
{
    return reduction == PC_REDUCE_NONE ? "none" : reduction == PC_REDUCE_SUM ? "sum" : "mean";
}

/* the reduced axes of a mask over ndim axes, as a tuple */
static PyObject *
axes_of(pc_index mask, int ndim)
{
    PyObject *axes = PyList_New(0), *tuple = NULL;
    for (int d = 0; axes != NULL && d < ndim; d++) {
        PyObject *v;
        if (!(mask & ((pc_index)1 << d)))
            continue;
        if ((v = PyLong_FromLong(d)) == NULL || PyList_Append(axes, v) < 0) {
            Py_XDECREF(v);
            Py_CLEAR(axes);
            break;
        }
        Py_DECREF(v);
    }
    if (axes != NULL)
        tuple = PyList_AsTuple(axes);
    Py_XDECREF(axes);
    return tuple;
}

/* axes first..ndim-1, as a tuple */
static PyObject *
trailing_axes(int first, int ndim)
{
    return axes_of(~(((pc_index)1 << first) - 1), ndim);
}

static const char *
interpolation_name(int interpolation)
{
    return interpolation == PC_INTERP_BILINEAR ? "bilinear" : "nearest";
}

static const char *
fill_mode_name(int fill_mode)
{
    static const char *const names[] = {"reflect", "wrap", "nearest", "constant"};
    return fill_mode >= 0 && fill_mode < 4 ? names[fill_mode] : "?";
}

/* pad2d: {"padding": ((top, bottom), (left, right))}, or "cropping" with the amounts
 * removed when every amount is a crop (the op's negative pads) */
static PyObject *
pad_args(const pc_op_args *a)
{
    pc_index t = a->pad2d.pt, b = a->pad2d.pb, l = a->pad2d.pl, r = a->pad2d.pr;
    int crop = t <= 0 && b <= 0 && l <= 0 && r <= 0 && (t < 0 || b < 0 || l < 0 || r < 0);
    int s = crop ? -1 : 1;
    return Py_BuildValue("{s:((nn)(nn))}", crop ? "cropping" : "padding", (Py_ssize_t)(s * t),
                         (Py_ssize_t)(s * b), (Py_ssize_t)(s * l), (Py_ssize_t)(s * r));
}

static PyObject *
loss_args(const pc_node *node)
{
    const pc_op_args *a = &node->args;
    if (node->op == PC_OP_YOLO_LOSS)
        return Py_BuildValue("{s:n,s:n,s:n,s:d,s:d,s:s,s:i}", "S", (Py_ssize_t)a->yolo.s, "B",
                             (Py_ssize_t)a->yolo.b, "C", (Py_ssize_t)a->yolo.c, "lambda_coord",
                             a->yolo.lambda_coord, "lambda_noobj", a->yolo.lambda_noobj,
                             "reduction", reduction_name(a->yolo.reduction), "parts",
                             a->yolo.parts);
    if (node->op == PC_OP_SPARSE_CATEGORICAL_CROSSENTROPY ||
        node->op == PC_OP_SPARSE_CATEGORICAL_CROSSENTROPY_FROM_LOGITS) {
        PyObject *ignore = a->loss.has_ignore ? PyLong_FromSsize_t(a->loss.ignore)
                                              : Py_NewRef(Py_None);
        PyObject *d = ignore == NULL ? NULL
            : Py_BuildValue("{s:s,s:O}", "reduction", reduction_name(a->loss.reduction),
                            "ignore_index", ignore);
        Py_XDECREF(ignore);
        return d;
    }
    return Py_BuildValue("{s:s}", "reduction", reduction_name(a->loss.reduction));
}

PyObject *
pc_op_args_dict(const pc_node *node)
{
    const pc_op_args *a;
    int ndim;

    if (node == NULL)
        return PyDict_New();
    a = &node->args;
    ndim = PyArray_NDIM(PC_DATA(node->parents[0]));
    switch (node->op) {
    case PC_OP_LEAKY_RELU:
    case PC_OP_ELU:
        return Py_BuildValue("{s:d}", "alpha", a->scaled.alpha);
    case PC_OP_SOFTMAX:
    case PC_OP_LOG_SOFTMAX:
    case PC_OP_NAIVE_NORMALIZE:
        return Py_BuildValue("{s:n}", "axis", (Py_ssize_t)a->along_axis.axis);
    case PC_OP_MAXOUT:
        return Py_BuildValue("{s:n,s:n}", "pieces", (Py_ssize_t)a->maxout.pieces, "axis",
                             (Py_ssize_t)a->maxout.axis);
    case PC_OP_SUM:
    case PC_OP_MEAN:
    case PC_OP_MAX: {
        PyObject *axes = axes_of(a->reduce.mask, ndim), *d;
        d = axes == NULL ? NULL : Py_BuildValue("{s:O,s:O}", "axis", axes, "keepdims",
                                                a->reduce.keepdims ? Py_True : Py_False);
        Py_XDECREF(axes);
        return d;
    }
    case PC_OP_CONCAT:
    case PC_OP_STACK:
        return Py_BuildValue("{s:n}", "axis", (Py_ssize_t)a->join.axis);
    case PC_OP_DENSE:
        return Py_BuildValue("{s:s}", "activation", activation_name(a->dense.act));
    case PC_OP_CONV2D:
        return Py_BuildValue("{s:(nn),s:s,s:(nn),s:n,s:s}", "strides", (Py_ssize_t)a->conv2d.sh,
                             (Py_ssize_t)a->conv2d.sw, "padding",
                             a->conv2d.same == 2 ? "causal" : a->conv2d.same ? "same" : "valid",
                             "dilation_rate",
                             (Py_ssize_t)a->conv2d.gh + 1, (Py_ssize_t)a->conv2d.gw + 1,
                             "groups", (Py_ssize_t)(a->conv2d.groups > 1 ? a->conv2d.groups : 1),
                             "activation", activation_name(a->conv2d.act));
    case PC_OP_DEPTHWISE_CONV2D:
        return Py_BuildValue("{s:(nn),s:s,s:(nn),s:s}", "strides", (Py_ssize_t)a->conv2d.sh,
                             (Py_ssize_t)a->conv2d.sw, "padding",
                             a->conv2d.same ? "same" : "valid", "dilation_rate",
                             (Py_ssize_t)a->conv2d.gh + 1, (Py_ssize_t)a->conv2d.gw + 1,
                             "activation", activation_name(a->conv2d.act));
    case PC_OP_CONV2D_TRANSPOSE: {
        const struct pc_conv2d_transpose_args *t = &a->conv2d_transpose;
        PyObject *op = t->oph < 0 ? Py_NewRef(Py_None)
                       : Py_BuildValue("(nn)", (Py_ssize_t)t->oph, (Py_ssize_t)t->opw);
        return op == NULL ? NULL
               : Py_BuildValue("{s:(nn),s:s,s:N,s:s}", "strides", (Py_ssize_t)t->sh,
                               (Py_ssize_t)t->sw, "padding", t->same ? "same" : "valid",
                               "output_padding", op, "activation", activation_name(t->act));
    }
    case PC_OP_MAX_POOL2D:
    case PC_OP_AVG_POOL2D:
        return Py_BuildValue("{s:(nn),s:(nn),s:s}", "pool_size", (Py_ssize_t)a->pool2d.kh,
                             (Py_ssize_t)a->pool2d.kw, "strides", (Py_ssize_t)a->pool2d.sh,
                             (Py_ssize_t)a->pool2d.sw, "padding",
                             a->pool2d.same ? "same" : "valid");
    case PC_OP_UPSAMPLING2D:
        return Py_BuildValue("{s:(nn)}", "size", (Py_ssize_t)a->upsampling2d.sh,
                             (Py_ssize_t)a->upsampling2d.sw);
    case PC_OP_DROPOUT:
        return Py_BuildValue("{s:d}", "rate", a->dropout.rate);
    case PC_OP_BATCH_NORM:
        return Py_BuildValue("{s:i,s:d,s:d,s:O}", "axis", a->norm.axis, "epsilon",
                             a->norm.epsilon, "momentum", a->norm.momentum, "training",
                             a->norm.batch_stats ? Py_True : Py_False);
    case PC_OP_LAYER_NORM: {
        PyObject *axes = trailing_axes(a->norm.axis, ndim);
        return axes == NULL ? NULL : Py_BuildValue("{s:N,s:d}", "axis", axes, "epsilon",
                                                   a->norm.epsilon);
    }
    case PC_OP_GLOBAL_AVG_POOL2D:
    case PC_OP_GLOBAL_MAX_POOL2D:
        return Py_BuildValue("{s:O}", "keepdims", a->global_pool2d.keepdims ? Py_True : Py_False);
    case PC_OP_PAD2D:
        return pad_args(a);
    case PC_OP_AFFINE_TRANSFORM:
        return Py_BuildValue("{s:s,s:s,s:d}", "interpolation",
                             interpolation_name(a->affine_transform.interpolation), "fill_mode",
                             fill_mode_name(a->affine_transform.fill_mode), "fill_value",
                             a->affine_transform.fill_value);
    case PC_OP_RESIZE_BILINEAR:
        return Py_BuildValue("{s:n,s:n}", "height", (Py_ssize_t)a->resize.oh, "width",
                             (Py_ssize_t)a->resize.ow);
    case PC_OP_CONTRAST:
        return Py_BuildValue("{s:(dd)}", "value_range", a->contrast.lo, a->contrast.hi);
    default:
        if (strcmp(pc_op_table[node->op].family, "loss") == 0)
            return loss_args(node);
        return PyDict_New();
    }
}
