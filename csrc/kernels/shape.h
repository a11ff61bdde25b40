/* shape.h — structural ops: transpose, concat/stack, reshape's backward.
 *
 * pycnn keeps every tensor C-contiguous, so a permuted or sliced view is copied
 * into a new contiguous buffer, and its backward adds the gradient back through
 * the same view. Legend: x, y = input and output; dx, dy = their gradients;
 * A = number of blocks, lx / ly = block lengths in x / y, off = where x's block
 * starts inside y's. Pure C.
 */
#ifndef PC_SHAPE_H
#define PC_SHAPE_H

#include "pc_types.h"
#include "strided.h"

/* One strided row for pc_strided_loop_* (elementwise.h): out[i*so] = p0[i*s0].
 * transpose: walking y's shape with x's permuted strides copies x into y. */
void pc_copy_rows_f32(pc_index n, const float *p0, pc_index s0, const float *p1, pc_index s1,
                      const float *p2, pc_index s2, float *out, pc_index so);
void pc_copy_rows_f64(pc_index n, const double *p0, pc_index s0, const double *p1,
                      pc_index s1, const double *p2, pc_index s2, double *out, pc_index so);

/* concat/stack: y[a·ly + off + j] = x[a·lx + j]     x: (A, lx), y: (A, ly)  overwrites */
void pc_block_copy_f32(const float *x, float *y, pc_index A, pc_index lx, pc_index ly,
                       pc_index off);
void pc_block_copy_f64(const double *x, double *y, pc_index A, pc_index lx, pc_index ly,
                       pc_index off);
/* dx[a·lx + j] += dy[a·ly + off + j]                                    accumulates
 * (reshape's backward is the case A = 1, lx = ly = n, off = 0) */
void pc_block_accumulate_f32(const float *dy, float *dx, pc_index A, pc_index lx, pc_index ly,
                             pc_index off);
void pc_block_accumulate_f64(const double *dy, double *dx, pc_index A, pc_index lx,
                             pc_index ly, pc_index off);

#endif
