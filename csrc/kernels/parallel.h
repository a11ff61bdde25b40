/* parallel.h — pycnn's own thread pool: a parallel for over [0, n). Pure C (pthreads).
 *
 * The kernels' memory-bound loops (im2col, col2im, pooling, the bias/activation
 * passes) split their outer index with pc_parallel_for, and so do the pieces of
 * products small enough to cut (kernels/gemm.h); bigger GEMMs are threaded by NumPy's
 * OpenBLAS itself.
 *
 *   pc_parallel_for(n, min_items, fn, ctx)  runs fn(ctx, i0, i1) over contiguous
 *       blocks that cover [0, n) exactly once, on the calling thread and up to
 *       (pc_get_num_threads() − 1) workers, and returns when every block is done.
 *       Every block holds at least min_items items, so a small loop runs inline as
 *       one call fn(ctx, 0, n); so does any loop when there is 1 thread, when the
 *       caller is itself inside a parallel region (no nesting), when another thread
 *       owns the pool at the moment, or when no worker can be started.
 *       fn must not depend on where the blocks start and end (results are then the
 *       same for any thread count) and must only write what items i0..i1−1 own.
 *
 * Workers are started on first use; when idle they watch for the next job for 50 µs
 * (yielding the core) and then sleep on a condition variable.
 * After fork() the child has no workers and starts new ones on demand.
 * Default thread count: PYCNN_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs in
 * this process's affinity mask.
 */
#ifndef PC_PARALLEL_H
#define PC_PARALLEL_H

#include "pc_types.h"

#define PC_MAX_THREADS 256

typedef void (*pc_parallel_fn)(void *ctx, pc_index i0, pc_index i1);

/* Below about this many values touched per block, waking a thread costs more than it
 * saves (a wake-up is some µs; a memory-bound pass moves ~10 values per ns) */
#define PC_PARALLEL_GRAIN 32768

/* min_items for items that each touch `per_item` values: blocks of ≥ PC_PARALLEL_GRAIN */
static inline pc_index
pc_parallel_grain(pc_index per_item)
{
    return per_item >= PC_PARALLEL_GRAIN ? 1 : PC_PARALLEL_GRAIN / (per_item > 0 ? per_item : 1);
}

void pc_parallel_for(pc_index n, pc_index min_items, pc_parallel_fn fn, void *ctx);

/* 0, or -1 (nothing changed) unless 1 ≤ n ≤ PC_MAX_THREADS. Fewer threads take effect
 * at the next parallel loop; surplus workers just stay asleep. */
int pc_set_num_threads(int n);
int pc_get_num_threads(void);

#endif
