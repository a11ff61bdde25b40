/* norm.c — instantiation of norm_impl.h, and the chunking the reductions share. */
#include <math.h>

#include "norm.h"
#include "parallel.h"

/* what a chunk of rows sums (norm_impl.h) */
enum { NORM_SUM_X, NORM_SUM_DEV2, NORM_SUM_DY };

/* Rows (indices of A) per chunk: about PC_PARALLEL_GRAIN values, at least one row.
 * A function of the shape only, never of the thread count. */
static pc_index
pc_norm_rows(pc_index C, pc_index B)
{
    pc_index row = C * B;
    return row >= PC_PARALLEL_GRAIN ? 1 : PC_PARALLEL_GRAIN / row;
}

static pc_index
pc_norm_chunks(pc_index A, pc_index C, pc_index B)
{
    pc_index rows = pc_norm_rows(C, B);
    return (A + rows - 1) / rows;
}

/* the chunks' partial sums (chunks, 2, C), then the mean and three coefficients (4, C) */
pc_index
pc_norm_workspace(pc_index A, pc_index C, pc_index B)
{
    return pc_norm_chunks(A, C, B) * 2 * C + 4 * C;
}

#include "dtype_f32.h"
#include "norm_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "norm_impl.h"
#include "dtype_undef.h"
