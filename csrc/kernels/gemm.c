/* gemm.c — see gemm.h. */
#include "gemm.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "parallel.h"

/* Cut blocks are at least this many rows, columns or terms long */
#define PC_GEMM_MIN_CUT 32
/* A lone product's k is cut only up to this many multiply-adds (~100 µs on one core) */
#define PC_GEMM_LONE (16 * PC_GEMM_PIECE)

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };     /* CBLAS's enum values */

typedef void (*sgemm32_fn)(int, int, int, int, int, int, float, const float *, int,
                           const float *, int, float, float *, int);
typedef void (*sgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, float, const float *,
                           int64_t, const float *, int64_t, float, float *, int64_t);
typedef void (*dgemm32_fn)(int, int, int, int, int, int, double, const double *, int,
                           const double *, int, double, double *, int);
typedef void (*dgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, double, const double *,
                           int64_t, const double *, int64_t, double, double *, int64_t);

static pc_cblas installed;

void
pc_gemm_install(const pc_cblas *api)
{
    if (api != NULL && api->sgemm != NULL && api->dgemm != NULL)
        installed = *api;
    else
        installed = (pc_cblas){NULL, NULL, 0};
}

int
pc_gemm_ready(void)
{
    return installed.sgemm != NULL;
}

int
pc_gemm_fits(pc_index m, pc_index n, pc_index k)
{
    pc_index most = m > n ? m : n;
    most = k > most ? k : most;
    return installed.ilp64 || most <= INT_MAX;
}

void
pc_gemm(int dbl, int trans_a, int trans_b, pc_index m, pc_index n, pc_index k, const void *a,
        pc_index lda, const void *b, pc_index ldb, int accumulate, void *c, pc_index ldc)
{
    const int ta = trans_a ? TRANS : NO_TRANS, tb = trans_b ? TRANS : NO_TRANS;
    if (m == 0 || n == 0)
        return;
    if (k == 0) {               /* an empty sum; the BLAS would reject lda = 0 */
        const size_t row = (size_t)n * (dbl ? sizeof(double) : sizeof(float));
        for (pc_index i = 0; i < m && !accumulate; i++)
            memset((char *)c + (size_t)(i * ldc) * (row / (size_t)n), 0, row);
        return;
    }
    if (dbl && installed.ilp64)
        ((dgemm64_fn)installed.dgemm)(ROW_MAJOR, ta, tb, m, n, k, 1.0, a, lda, b, ldb,
                                      accumulate ? 1.0 : 0.0, c, ldc);
    else if (dbl)
        ((dgemm32_fn)installed.dgemm)(ROW_MAJOR, ta, tb, (int)m, (int)n, (int)k, 1.0, a,
                                      (int)lda, b, (int)ldb, accumulate ? 1.0 : 0.0, c,
                                      (int)ldc);
    else if (installed.ilp64)
        ((sgemm64_fn)installed.sgemm)(ROW_MAJOR, ta, tb, m, n, k, 1.0f, a, lda, b, ldb,
                                      accumulate ? 1.0f : 0.0f, c, ldc);
    else
        ((sgemm32_fn)installed.sgemm)(ROW_MAJOR, ta, tb, (int)m, (int)n, (int)k, 1.0f, a,
                                      (int)lda, b, (int)ldb, accumulate ? 1.0f : 0.0f, c,
                                      (int)ldc);
}

typedef struct {
    const pc_gemm_batch *job;
    pc_index rows, cols, deep;  /* block sizes along m, n and k */
    pc_index row_blocks, col_blocks;
} batch_plan;

/* Pieces i0..i1-1: piece i is block (i / col_blocks) % row_blocks, i % col_blocks of
 * product i / (row_blocks · col_blocks) */
static void
batch_range(void *ctx, pc_index i0, pc_index i1)
{
    const batch_plan *plan = ctx;
    const pc_gemm_batch *j = plan->job;
    const pc_index size = j->dbl ? (pc_index)sizeof(double) : (pc_index)sizeof(float);
    for (pc_index i = i0; i < i1; i++) {
        const pc_index p = i / (plan->row_blocks * plan->col_blocks);
        const pc_index r0 = i / plan->col_blocks % plan->row_blocks * plan->rows;
        const pc_index c0 = i % plan->col_blocks * plan->cols;
        const pc_index m = j->m - r0 < plan->rows ? j->m - r0 : plan->rows;
        const pc_index n = j->n - c0 < plan->cols ? j->n - c0 : plan->cols;
        /* rows r0.. of op(A) and of C, columns c0.. of op(B) and of C */
        const char *a = (const char *)j->a + (p * j->stride_a + (j->trans_a ? r0 : r0 * j->lda))
                                             * size;
        const char *b = (const char *)j->b + (p * j->stride_b + (j->trans_b ? c0 * j->ldb : c0))
                                             * size;
        char *c = (char *)j->c + (p * j->stride_c + r0 * j->ldc + c0) * size;
        for (pc_index k0 = 0; k0 < j->k || k0 == 0; k0 += plan->deep) {
            /* columns k0.. of op(A), rows k0.. of op(B), summed in order */
            const pc_index k = j->k - k0 < plan->deep ? j->k - k0 : plan->deep;
            pc_gemm(j->dbl, j->trans_a, j->trans_b, m, n, k,
                    a + (j->trans_a ? k0 * j->lda : k0) * size, j->lda,
                    b + (j->trans_b ? k0 : k0 * j->ldb) * size, j->ldb,
                    j->accumulate || k0 > 0, c, j->ldc);
        }
    }
}

/* Blocks of at most `most` along a dimension of `size`: as few as fit, all of about
 * one size; returns the block size */
static pc_index
even_blocks(pc_index size, pc_index most, pc_index *blocks)
{
    pc_index count = (size + most - 1) / most, block = (size + count - 1) / count;
    *blocks = (size + block - 1) / block;
    return block;
}

void
pc_gemm_batched(const pc_gemm_batch *job)
{
    batch_plan plan = {job, job->m, job->n, job->k > 0 ? job->k : 1, 1, 1};
    const pc_index m = job->m, n = job->n, k = job->k;
    /* m·k, k·n and m·n count the operands' values, so they fit; m·n·k might not */
    const double mnk = (double)m * (double)n * (double)k;
    pc_index piece = mnk > PC_GEMM_PIECE ? PC_GEMM_PIECE + 1 : m * n * k, min_pieces;

    if (job->count <= 0 || m == 0 || n == 0)
        return;
    if (piece > PC_GEMM_PIECE) {        /* so m, n, k >= 1 */
        /* cut one dimension, the first that leaves blocks of >= PC_GEMM_MIN_CUT along it */
        if (PC_GEMM_PIECE / (n * k) >= PC_GEMM_MIN_CUT)
            plan.rows = even_blocks(m, PC_GEMM_PIECE / (n * k), &plan.row_blocks);
        else if (PC_GEMM_PIECE / (m * k) >= PC_GEMM_MIN_CUT)
            plan.cols = even_blocks(n, PC_GEMM_PIECE / (m * k), &plan.col_blocks);
        else if (PC_GEMM_PIECE / (m * n) >= PC_GEMM_MIN_CUT &&
                 (job->count > 1 || mnk <= PC_GEMM_LONE))
            /* one thread sums a product's blocks in order: worth it beside other
             * products, or for a lone product small enough that waking the BLAS's own
             * threads would cost more than one core loses */
            plan.deep = even_blocks(k, PC_GEMM_PIECE / (m * n), &(pc_index){0});
        else
            goto whole;
        piece = plan.rows * plan.cols * plan.deep;
    }
    /* a piece worth waking a thread for: some tens of µs of arithmetic. A lone small
     * product stays on the calling thread: beside the bigger products of the same
     * model, which OpenBLAS threads, its workers would spin on the core ours wants */
    min_pieces = piece >= PC_GEMM_PIECE / 4 ? 1 : PC_GEMM_PIECE / 4 / (piece > 0 ? piece : 1);
    if (job->count == 1 && mnk <= PC_GEMM_LONE)
        min_pieces = plan.row_blocks * plan.col_blocks;
    pc_parallel_for(job->count * plan.row_blocks * plan.col_blocks, min_pieces, batch_range,
                    &plan);
    return;
whole:                          /* too big to cut well: the BLAS threads each product */
    for (pc_index i = 0; i < job->count; i++)
        batch_range(&plan, i, i + 1);
}
