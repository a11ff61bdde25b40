/* strided.h — walking N-d operands whose strides may be 0 (broadcast).
 *
 * One iteration space (ndim, shape) and up to four operands, each with its own
 * strides in ELEMENTS. A zero stride repeats an operand along that axis: that is
 * broadcasting when the operand is read, and summing over the axis when the
 * operand is accumulated into (dx += ... with dx's stride 0 reduces for free).
 * Pure C.
 */
#ifndef PC_STRIDED_H
#define PC_STRIDED_H

#include "pc_types.h"

#define PC_ITER_OPS 4

typedef struct {
    int ndim;
    pc_index shape[PC_MAX_NDIM];
    pc_index stride[PC_ITER_OPS][PC_MAX_NDIM];
} pc_iter;

/* Merge neighbouring axes that every operand walks as one (fewer, longer inner loops). */
void pc_iter_coalesce(pc_iter *it);

/* C-contiguous strides (in elements) of a shape; broadcast axes (size 1 against
 * a larger iteration extent) get stride 0 when `iter_shape` is given. */
void pc_contiguous_strides(int ndim, const pc_index *shape, const pc_index *iter_shape,
                           pc_index *stride);

/* Odometer over every axis of `it` but the innermost (which the caller walks as one
 * row): steps idx to the next row and moves each operand's offset off[k] with it.
 * Returns 0 once every row has been visited. idx and off start at zero. */
static inline int
pc_iter_next_row(const pc_iter *it, pc_index *idx, pc_index *off)
{
    for (int d = it->ndim - 2; d >= 0; d--) {
        for (int k = 0; k < PC_ITER_OPS; k++)
            off[k] += it->stride[k][d];
        if (++idx[d] < it->shape[d])
            return 1;
        for (int k = 0; k < PC_ITER_OPS; k++)
            off[k] -= it->stride[k][d] * it->shape[d];
        idx[d] = 0;
    }
    return 0;
}

#endif
