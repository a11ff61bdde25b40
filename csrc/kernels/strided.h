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

#endif
