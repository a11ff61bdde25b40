/* norm.c — instantiation of norm_impl.h, and the chunking the reductions share. */
#include <math.h>

#include "norm.h"
#include "parallel.h"

/* what a chunk of rows sums (norm_impl.h) */
enum { NORM_SUM_X, NORM_SUM_DEV2, NORM_SUM_DY, NORM_SUM_MOMENTS };

/* channels-last rows summed in T before their sums go into the double ones */
#define NORM_BLOCK 64

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

/* In doubles: the chunks' partial sums (chunks, 2, C) in double, room for as many in
 * T (the moments: each chunk's mean; layer norm: one block of rows' column sums per
 * chunk), then two (C,) sums in double and three (C,) coefficients in T */
pc_index
pc_norm_workspace(pc_index A, pc_index C, pc_index B)
{
    return pc_norm_chunks(A, C, B) * 4 * C + 5 * C;
}

#include "dtype_f32.h"
#include "norm_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "norm_impl.h"
#include "dtype_undef.h"
