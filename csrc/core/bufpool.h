/* core/bufpool.h — big arrays whose data buffers are recycled across training steps
 * (see bufpool.c for why). */
#ifndef PC_BUFPOOL_H
#define PC_BUFPOOL_H

#include "core/numpy_api.h"

/* A new C-contiguous, 64-byte aligned array (new ref), zero-filled when `zero`.
 * Buffers of 64 KiB or more come from (and return to) the pool; smaller ones are
 * NumPy's own. NULL with an exception set on failure. */
PyArrayObject *pc_pool_array(int ndim, const npy_intp *shape, int typenum, int zero);

#endif
