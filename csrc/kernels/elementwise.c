/* elementwise.c — instantiation of elementwise_impl.h (the kernels live there and in
 * unary_impl.h), the casts, and pc_unary_isa(). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "elementwise.h"
#include "parallel.h"
#include "simd.h"

/* float: the unary maps hand over to their AVX-512 (when `wide`) or AVX2 build when the
 * CPU has it */
#ifdef PC_HAVE_AVX2_FMA
#define PC_UNARY_HANDOVER(fn, wide, ...)                                                 \
    do {                                                                                 \
        int isa_ = pc_unary_isa();                                                       \
        if (isa_ == PC_ISA_AVX512 && (wide)) {                                           \
            fn##_avx512_f32(__VA_ARGS__);                                                \
            return;                                                                      \
        }                                                                                \
        if (isa_ >= PC_ISA_AVX2) {                                                       \
            fn##_avx2_f32(__VA_ARGS__);                                                  \
            return;                                                                      \
        }                                                                                \
    } while (0)
#else
#define PC_UNARY_HANDOVER(fn, ...) ((void)0)
#endif
#include "dtype_f32.h"
#include "elementwise_impl.h"
#include "dtype_undef.h"
#undef PC_UNARY_HANDOVER

#define PC_UNARY_HANDOVER(fn, ...) ((void)0)
#include "dtype_f64.h"
#include "elementwise_impl.h"
#include "dtype_undef.h"
#undef PC_UNARY_HANDOVER

/* casts between the two dtypes: not templated, they join both */
void
pc_cast_f32_to_f64(const float *x, double *y, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        y[i] = (double)x[i];
}
void
pc_cast_f64_to_f32(const double *x, float *y, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        y[i] = (float)x[i];
}
void
pc_cast_acc_f64_to_f32(const double *dy, float *dx, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        dx[i] += (float)dy[i];
}
void
pc_cast_acc_f32_to_f64(const float *dy, double *dx, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        dx[i] += (double)dy[i];
}

/* The widest build of unary_impl.h this CPU runs. PYCNN_UNARY_ISA=base|avx2|avx512 asks for
 * a narrower one (tests compare the builds); never a wider one than the CPU has. */
int
pc_unary_isa(void)
{
    static int isa = -1;            /* a benign race: every thread computes the same value */
    if (isa < 0) {
        int best = PC_ISA_BASE;
        const char *want = getenv("PYCNN_UNARY_ISA");
#ifdef PC_HAVE_AVX2_FMA
        if (pc_cpu_avx2_fma())
            best = PC_ISA_AVX2;
        if (best == PC_ISA_AVX2 && __builtin_cpu_supports("avx512f")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl"))
            best = PC_ISA_AVX512;
#endif
        if (want != NULL && strcmp(want, "base") == 0)
            best = PC_ISA_BASE;
        else if (want != NULL && strcmp(want, "avx2") == 0 && best > PC_ISA_AVX2)
            best = PC_ISA_AVX2;
        isa = best;
    }
    return isa;
}
