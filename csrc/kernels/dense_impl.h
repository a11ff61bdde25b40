/* dense_impl.h — template body, no include guard. Needs T, ACC, SFX(name), EXP, FABS, TANH.
 * Instantiated twice by dense.c (float, double). Legend: see dense.h. */

#include "scalar_impl.h"

typedef struct {
    const T *y, *dy, *b;
    T *out;                     /* bias_act: y; act_backward: dz; bias_backward: db */
    double *acc;
    pc_index M, N;
    int act;
} SFX(dense_job);

/* y = act(y + b) for the rows [m0, m1): one pass per row, the bias row stays in cache */
PC_SIMD_CLONES static void
SFX(bias_act_rows)(void *ctx, pc_index m0, pc_index m1)
{
    const SFX(dense_job) *job = ctx;
    const pc_index N = job->N;
    const T *b = job->b;
    for (pc_index m = m0; m < m1; m++) {
        T *row = job->out + m * N;
        if (b != NULL)
            for (pc_index j = 0; j < N; j++)
                row[j] += b[j];
        switch (job->act) {
        case PC_ACT_RELU:
            for (pc_index j = 0; j < N; j++)
                row[j] = row[j] < 0 ? (T)0 : row[j];     /* NaN stays NaN, as relu */
            break;
        case PC_ACT_SIGMOID:
            for (pc_index j = 0; j < N; j++)
                row[j] = SFX(pc_sigmoid_scalar)(row[j]);
            break;
        case PC_ACT_TANH:
            for (pc_index j = 0; j < N; j++)
                row[j] = TANH(row[j]);
            break;
        default:
            break;
        }
    }
}

void
SFX(pc_bias_act_forward)(T *y, const T *b, pc_index M, pc_index N, int act)
{
    SFX(dense_job) job = {.b = b, .out = y, .M = M, .N = N, .act = act};
    pc_parallel_for(M, pc_parallel_grain(N), SFX(bias_act_rows), &job);
}

#include "act_grad_impl.h"

/* dz = dy · act'(y), the derivatives of act_grad_impl.h; the loop over an invariant act
 * is unswitched and each version vectorizes */
PC_SIMD_CLONES static void
SFX(act_backward_range)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(dense_job) *job = ctx;
    const T *restrict y = job->y, *restrict dy = job->dy;
    T *restrict dz = job->out;
    const int act = job->act;
    for (pc_index i = i0; i < i1; i++)
        dz[i] = SFX(pc_act_grad)(dy[i], y[i], act);
}

void
SFX(pc_act_backward)(const T *y, const T *dy, T *dz, pc_index n, int act)
{
    SFX(dense_job) job = {.y = y, .dy = dy, .out = dz, .act = act};
    pc_parallel_for(n, PC_PARALLEL_GRAIN, SFX(act_backward_range), &job);
}

/* Column sums of the columns [j0, j1), row by row, in double for long batches. A
 * thread owns whole columns and adds their rows in order: the sums are the same
 * for any split, so for any thread count. */
PC_SIMD_CLONES static void
SFX(bias_backward_columns)(void *ctx, pc_index j0, pc_index j1)
{
    const SFX(dense_job) *job = ctx;
    double *acc = job->acc;
    for (pc_index j = j0; j < j1; j++)
        acc[j] = 0;
    for (pc_index m = 0; m < job->M; m++) {
        const T *row = job->dy + m * job->N;
        for (pc_index j = j0; j < j1; j++)
            acc[j] += row[j];
    }
    for (pc_index j = j0; j < j1; j++)
        job->out[j] += (T)acc[j];
}

/* Columns come in blocks of at least 16 (64 bytes of floats): a thread's share of
 * each row is a cache line or more, not a few scattered values */
void
SFX(pc_bias_backward)(const T *dz, T *db, pc_index M, pc_index N, double *acc)
{
    SFX(dense_job) job = {.dy = dz, .out = db, .acc = acc, .M = M, .N = N};
    pc_index per_column = M > 0 ? M : 1, min_columns = pc_parallel_grain(per_column);
    pc_parallel_for(N, min_columns > 16 ? min_columns : 16, SFX(bias_backward_columns), &job);
}
