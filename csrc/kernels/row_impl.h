/* row_impl.h — template body, no include guard: static inline helpers shared by the
 * activation and loss kernels (included by activation_impl.h and loss_impl.h).
 * Needs T, ACC, SFX(name), EXP, LOG, FABS. A "row" is K values `stride` elements apart. */

#include "scalar_impl.h"

/* max_k z_k; 0 for an empty row (K = 0), which then reads nothing */
static inline T
SFX(pc_row_max)(const T *z, pc_index K, pc_index stride)
{
    if (K <= 0)
        return 0;
    T m = z[0];
    for (pc_index k = 1; k < K; k++)
        m = z[k * stride] > m ? z[k * stride] : m;
    return m;
}

/* ln Σ_k e^(z_k − m), with m = max z: every exponent is ≤ 0, so nothing overflows, and
 * z_k − m − this is log-softmax without the rounding of adding m back (1000 + 1.1 in
 * float32 loses the 1.1's last digits) */
static inline T
SFX(pc_row_log_sum_exp_shifted)(const T *z, pc_index K, pc_index stride, T m)
{
    ACC s = 0;
    for (pc_index k = 0; k < K; k++)
        s += EXP(z[k * stride] - m);
    return LOG((T)s);
}
