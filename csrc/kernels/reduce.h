/* reduce.h — reductions over a set of axes: sum, mean and max, and their backward.
 *
 * Legend: x, y = input and output; dx, dy = their gradients. An iteration space
 * `it` (strided.h) spans x's shape; operand 0 walks x (or dx) contiguously and
 * operand 1 walks y (or dy) with stride 0 along every reduced axis, so walking x
 * in memory order visits each output element once per element reduced into it.
 * The binding builds `it` (autograd/ops_reduce.c). Pure C.
 */
#ifndef PC_REDUCE_H
#define PC_REDUCE_H

#include "pc_types.h"
#include "strided.h"

/* sum: y = scale · Σ_reduced x     (scale 1 for sum, 1/count for mean); overwrites y.
 * A row reduced whole is summed in ACC (double); rows kept are added row by row
 * in T, as NumPy does. */
void pc_sum_forward_f32(const pc_iter *it, const float *x, float *y, pc_index n_y, double scale);
void pc_sum_forward_f64(const pc_iter *it, const double *x, double *y, pc_index n_y,
                        double scale);
/* dx += scale · dy, dy broadcast back over the reduced axes       accumulates */
void pc_sum_backward_f32(const pc_iter *it, const float *dy, float *dx, double scale);
void pc_sum_backward_f64(const pc_iter *it, const double *dy, double *dx, double scale);

/* max: y = max_reduced x; argmax[o] = flat index into x of the FIRST maximal element
 * (C order) of output o; NaN wins, like NumPy. Overwrites y and argmax. Every output
 * must reduce at least one element (the binding refuses empty reductions). */
void pc_max_forward_f32(const pc_iter *it, const float *x, float *y, pc_index *argmax,
                        pc_index n_y);
void pc_max_forward_f64(const pc_iter *it, const double *x, double *y, pc_index *argmax,
                        pc_index n_y);
/* dx[argmax[o]] += dy[o]: the whole gradient goes to that first maximal element
 * (ties share nothing, as in PyTorch's max(dim))       accumulates       dy: (n_y,) */
void pc_max_backward_f32(const pc_index *argmax, const float *dy, float *dx, pc_index n_y);
void pc_max_backward_f64(const pc_index *argmax, const double *dy, double *dx, pc_index n_y);

#endif
