/* autograd/ops_loss.h — the loss recorders and their kernel tables.
 *
 * Every loss node has parents (y_pred, y_true), y_true a constant Tensor (no gradient
 * flows to it), and saves nothing: backward reads both parents. Node args (pc_op_args,
 * core/tensor.h): .loss for the row and sparse losses (R rows of K values, per_row 1 for
 * reduction 'none', where the output holds one loss per row, scale 1/count for 'mean',
 * else 1; the sparse ones' ignore_index), .yolo for yolo_loss (N, S, B, C, the parts
 * summed, λ_coord, λ_noobj, ε inside the square roots). */
#ifndef PC_OPS_LOSS_H
#define PC_OPS_LOSS_H

#include "autograd/node.h"
#include "kernels/loss.h"
#include "kernels/yolo.h"

typedef struct {
    pc_row_loss_forward_f32_fn *forward_f32;
    pc_row_loss_forward_f64_fn *forward_f64;
    pc_row_loss_backward_f32_fn *backward_f32;
    pc_row_loss_backward_f64_fn *backward_f64;
    int rows_are_samples;       /* a row is a whole sample (squared_error), not the last axis */
} pc_row_loss_kernels;

/* NULL when op is not a row loss (squared errors, categorical, binary, multi-label) */
const pc_row_loss_kernels *pc_row_loss_kernels_for(pc_op op);

/* sparse categorical cross-entropy (plain and from_logits): ignore is NULL or the
 * ignore_index, so one call serves both variants in either dtype */
typedef struct {
    pc_sparse_loss_forward_f32_fn *forward_f32;
    pc_sparse_loss_forward_f64_fn *forward_f64;
    pc_sparse_loss_backward_f32_fn *backward_f32;
    pc_sparse_loss_backward_f64_fn *backward_f64;
} pc_sparse_loss_kernels;

/* NULL when op is not one of the two sparse categorical cross-entropies */
const pc_sparse_loss_kernels *pc_sparse_loss_kernels_for(pc_op op);

/* The yolo_loss node's dimensions, read back from its args */
pc_yolo_dims pc_yolo_dims_from_args(const pc_op_args *a);

/* reduction='none' (one loss per row), 'sum', 'mean' */
enum { PC_REDUCE_NONE, PC_REDUCE_SUM, PC_REDUCE_MEAN };

/* The recorders take y_pred (pred) and a constant y_true Tensor of its dtype whose
 * shapes py/loss.c has checked; each returns a new ref or NULL with an exception. */
/* a row loss (squared errors, categorical, binary, multi-label; y_true like y_pred) */
PyObject *pc_row_loss(pc_op op, PyObject *pred, PyObject *truth, int reduction);
/* sparse categorical cross-entropy over valid labels; count = the rows counted (not
 * ignored); ignore NULL or the ignore_index */
PyObject *pc_sparse_loss(pc_op op, PyObject *pred, PyObject *labels, int reduction,
                         pc_index count, const pc_index *ignore);
/* yolo_loss with args->yolo's N, S, B, C, λ_coord, λ_noobj, ε set (see above): the
 * total, or (total, (coord_xy, coord_wh, obj, noobj, cls)) when return_parts */
PyObject *pc_yolo_loss(PyObject *pred, PyObject *truth, const pc_op_args *args,
                       int reduction, int return_parts);

#endif
