/* gemm.h — matrix products on the BLAS NumPy ships, called from kernels without the
 * GIL. Pure C: the array floor (core/blas.c) finds that library's CBLAS ?gemm entry
 * points when the module loads and installs them here; until then, or when it finds
 * none, pc_gemm_ready() is 0 and callers take np.matmul (core/blas.h) instead.
 *
 * pc_gemm_batched runs a batch of equal-shaped products (Winograd's 16 per chunk of
 * images) on pycnn's thread pool. Every call it makes is a piece of at most
 * PC_GEMM_PIECE multiply-adds: OpenBLAS computes products that small on the calling
 * thread, so two pool threads never contend for the BLAS's own threads, and the
 * BLAS's idle workers stay asleep instead of spinning beside ours. Pieces are cut by
 * the shapes alone, never by the thread count, so results are the same for any
 * number of threads.
 */
#ifndef PC_GEMM_H
#define PC_GEMM_H

#include "pc_types.h"

/* OpenBLAS runs a GEMM of at most m·n·k = 65536 · GEMM_MULTITHREAD_THRESHOLD (4 by
 * default) on one thread (interface/gemm.c) */
#define PC_GEMM_PIECE 262144

typedef struct {
    void *sgemm, *dgemm;        /* cblas_sgemm, cblas_dgemm (or their renamed builds) */
    int ilp64;                  /* integer arguments are 64-bit */
} pc_cblas;

/* api = NULL uninstalls. Not thread-safe: the binding floor calls it with the GIL
 * held and no kernel running. */
void pc_gemm_install(const pc_cblas *api);
int pc_gemm_ready(void);
/* 1 when every size and leading dimension of products up to m×n×k fits the
 * installed library's integers */
int pc_gemm_fits(pc_index m, pc_index n, pc_index k);

/* c (=|+=) op(a) · op(b), row-major, op(x) = xᵀ when its trans flag is set; one call
 * on the calling thread. dbl: double instead of float operands. */
void pc_gemm(int dbl, int trans_a, int trans_b, pc_index m, pc_index n, pc_index k,
             const void *a, pc_index lda, const void *b, pc_index ldb, int accumulate,
             void *c, pc_index ldc);

/* count products C_p (=|+=) op(A_p) · op(B_p) of one shape, each operand stride_x
 * elements after the previous one */
typedef struct {
    int dbl, trans_a, trans_b, accumulate;
    pc_index count, m, n, k;
    const void *a;
    pc_index lda, stride_a;
    const void *b;
    pc_index ldb, stride_b;
    void *c;
    pc_index ldc, stride_c;
} pc_gemm_batch;

/* Products of more than PC_GEMM_PIECE multiply-adds are cut into blocks of rows of
 * C, or else into blocks of k summed in order on one thread; products too wide for
 * either run one after another on the calling thread, where the BLAS threads them
 * itself. */
void pc_gemm_batched(const pc_gemm_batch *job);

#endif
