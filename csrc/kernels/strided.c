/* strided.c — N-d iteration helpers; see strided.h. */
#include "strided.h"

void
pc_contiguous_strides(int ndim, const pc_index *shape, const pc_index *iter_shape,
                      pc_index *stride)
{
    pc_index s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        int broadcast = iter_shape != NULL && shape[d] == 1 && iter_shape[d] != 1;
        stride[d] = broadcast ? 0 : s;
        s *= shape[d];
    }
}

void
pc_iter_coalesce(pc_iter *it)
{
    int out = 0;
    if (it->ndim == 0) {
        it->ndim = 1;
        it->shape[0] = 1;
        for (int k = 0; k < PC_ITER_OPS; k++)
            it->stride[k][0] = 0;
        return;
    }
    /* axes of extent 1 iterate once: drop them, or their stride (0 or anything) would
     * keep the axes either side from merging, e.g. (N, H, W, 1) walked as N·H·W rows of 1 */
    int kept = 0;
    for (int d = 0; d < it->ndim; d++) {
        if (it->shape[d] == 1)
            continue;
        it->shape[kept] = it->shape[d];
        for (int k = 0; k < PC_ITER_OPS; k++)
            it->stride[k][kept] = it->stride[k][d];
        kept++;
    }
    if (kept == 0) {
        it->ndim = 1;
        it->shape[0] = 1;
        for (int k = 0; k < PC_ITER_OPS; k++)
            it->stride[k][0] = 0;
        return;
    }
    it->ndim = kept;
    for (int d = 1; d < it->ndim; d++) {
        int ok = 1;
        for (int k = 0; k < PC_ITER_OPS; k++)
            if (it->stride[k][out] != it->stride[k][d] * it->shape[d])
                ok = 0;
        if (ok) {                       /* axis `out` continues axis d */
            it->shape[out] *= it->shape[d];
            for (int k = 0; k < PC_ITER_OPS; k++)
                it->stride[k][out] = it->stride[k][d];
        }
        else {
            out++;
            it->shape[out] = it->shape[d];
            for (int k = 0; k < PC_ITER_OPS; k++)
                it->stride[k][out] = it->stride[k][d];
        }
    }
    it->ndim = out + 1;
}
