/* scalar_impl.h — template body, no include guard: one static inline function per
 * scalar formula that several kernels evaluate (element-wise maps, the Dense/Conv2D
 * epilogue, activations, losses), so each formula is written once. Included by
 * elementwise_impl.h, dense_impl.h and row_impl.h. Needs T, SFX(name), EXP, FABS. */

/* σ(x) = 1 / (1 + e^−x) without overflow: only e^−|x| is computed (≤ 1), and the case
 * x < 0 uses σ(x) = e^x / (1 + e^x); both cases computed, one kept (no branch), so
 * x = ±1000 gives exactly 1 and 0 */
static inline T
SFX(pc_sigmoid_scalar)(T x)
{
    T e = EXP(-FABS(x));
    return x >= 0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e);
}
