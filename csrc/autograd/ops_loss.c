/* autograd/ops_loss.c — backward of every loss: the row losses (squared errors, categorical,
 * binary and multi-label cross-entropy), sparse categorical cross-entropy, and YOLO.
 * Node args: see ops_loss.h. Each adds into y_pred's gradient only. */
#include "autograd/ops_loss.h"

#include "autograd/ops_elementwise.h"       /* PC_GIL_THRESHOLD */

#define ROW(name, samples)                                                               \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64, samples}
static const pc_row_loss_kernels row_kernels[PC_OP_COUNT] = {
    [PC_OP_SQUARED_ERROR] = ROW(squared_error, 1),
    [PC_OP_MEAN_SQUARED_ERROR] = ROW(mean_squared_error, 0),
    [PC_OP_CATEGORICAL_CROSSENTROPY] = ROW(categorical_crossentropy, 0),
    [PC_OP_CATEGORICAL_CROSSENTROPY_FROM_LOGITS] = ROW(categorical_crossentropy_from_logits, 0),
    [PC_OP_BINARY_CROSSENTROPY] = ROW(binary_crossentropy, 0),
    [PC_OP_BINARY_CROSSENTROPY_FROM_LOGITS] = ROW(binary_crossentropy_from_logits, 0),
    [PC_OP_MULTILABEL_CROSSENTROPY] = ROW(multilabel_crossentropy, 0),
    [PC_OP_MULTILABEL_CROSSENTROPY_FROM_LOGITS] = ROW(multilabel_crossentropy_from_logits, 0),
};
#undef ROW

const pc_row_loss_kernels *
pc_row_loss_kernels_for(pc_op op)
{
    return row_kernels[op].forward_f32 != NULL ? &row_kernels[op] : NULL;
}

#define SPARSE(name)                                                                     \
    {pc_##name##_forward_f32, pc_##name##_forward_f64, pc_##name##_backward_f32,         \
     pc_##name##_backward_f64}
static const pc_sparse_loss_kernels sparse_kernels[PC_OP_COUNT] = {
    [PC_OP_SPARSE_CATEGORICAL_CROSSENTROPY] = SPARSE(sparse_categorical_crossentropy),
    [PC_OP_SPARSE_CATEGORICAL_CROSSENTROPY_FROM_LOGITS] =
        SPARSE(sparse_categorical_crossentropy_from_logits),
};
#undef SPARSE

const pc_sparse_loss_kernels *
pc_sparse_loss_kernels_for(pc_op op)
{
    return sparse_kernels[op].forward_f32 != NULL ? &sparse_kernels[op] : NULL;
}

pc_yolo_dims
pc_yolo_dims_from_args(const pc_op_args *a)
{
    return (pc_yolo_dims){a->i[0], a->i[1], a->i[3], a->i[4], a->f[1], a->f[2], a->f[3]};
}

/* dp += G_r ∂per[r]/∂p for the row losses; G_r = dout[r·gs] · scale */
int
pc_grad_row_loss(pc_node *node, PyArrayObject *dout)
{
    const pc_row_loss_kernels *k = pc_row_loss_kernels_for(node->op);
    PyArrayObject *p = PC_DATA(node->parents[0]), *y = PC_DATA(node->parents[1]), *dp;
    const pc_op_args *a = &node->args;

    if (pc_grad_buffer(node, 0, &dp) < 0)
        return -1;
    if (dp == NULL)
        return 0;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(p) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(p) == NPY_FLOAT32)
        k->backward_f32(PyArray_DATA(p), PyArray_DATA(y), PyArray_DATA(dout), a->i[2],
                        (float)a->f[0], PyArray_DATA(dp), a->i[0], a->i[1]);
    else
        k->backward_f64(PyArray_DATA(p), PyArray_DATA(y), PyArray_DATA(dout), a->i[2], a->f[0],
                        PyArray_DATA(dp), a->i[0], a->i[1]);
    NPY_END_THREADS;
    return 0;
}

/* dp += G_r ∂per[r]/∂p for sparse categorical cross-entropy; ignored rows add nothing */
int
pc_grad_sparse_loss(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *p = PC_DATA(node->parents[0]), *labels = PC_DATA(node->parents[1]), *dp;
    const pc_op_args *a = &node->args;
    const pc_index *ignore = a->i[3] ? &a->i[4] : NULL;
    const pc_sparse_loss_kernels *k = pc_sparse_loss_kernels_for(node->op);

    if (pc_grad_buffer(node, 0, &dp) < 0)
        return -1;
    if (dp == NULL)
        return 0;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(p) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(p) == NPY_FLOAT32)
        k->backward_f32(PyArray_DATA(p), PyArray_DATA(labels), PyArray_DATA(dout), a->i[2],
                        (float)a->f[0], PyArray_DATA(dp), a->i[0], a->i[1], ignore);
    else
        k->backward_f64(PyArray_DATA(p), PyArray_DATA(labels), PyArray_DATA(dout), a->i[2],
                        a->f[0], PyArray_DATA(dp), a->i[0], a->i[1], ignore);
    NPY_END_THREADS;
    return 0;
}

/* dpred += G_n ∂(the selected parts of image n)/∂pred; the responsible boxes are found
 * again from the parents, so nothing is saved */
int
pc_grad_yolo_loss(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *p = PC_DATA(node->parents[0]), *t = PC_DATA(node->parents[1]), *dp;
    const pc_op_args *a = &node->args;
    pc_yolo_dims d = pc_yolo_dims_from_args(a);
    int mask = (int)a->i[5];

    if (pc_grad_buffer(node, 0, &dp) < 0)
        return -1;
    if (dp == NULL)
        return 0;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(p) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (PyArray_TYPE(p) == NPY_FLOAT32)
        pc_yolo_backward_f32(PyArray_DATA(p), PyArray_DATA(t), PyArray_DATA(dout), a->i[2],
                             (float)a->f[0], mask, PyArray_DATA(dp), &d);
    else
        pc_yolo_backward_f64(PyArray_DATA(p), PyArray_DATA(t), PyArray_DATA(dout), a->i[2],
                             a->f[0], mask, PyArray_DATA(dp), &d);
    NPY_END_THREADS;
    return 0;
}
