/* elementwise_avx2.c — unary_impl.h's float kernels (the unary maps and swish) once more,
 * for CPUs with AVX2 and FMA (elementwise.c hands over to them by pc_unary_isa(); simd.h). The
 * whole translation unit is compiled for that target, vmath.h included, so its helpers
 * inline here with 8-wide vectors and multiply-adds contract to FMAs. Empty where simd.h
 * has no AVX2 build. */
#include "simd.h"

#ifdef PC_HAVE_AVX2_FMA
#pragma GCC target("avx2,fma")
#pragma GCC optimize("fp-contract=fast")

#include <math.h>

#include "elementwise.h"
#include "parallel.h"

#define PC_UNARY_HANDOVER(fn, ...) ((void)0)
#include "dtype_f32.h"
#undef SFX
#define SFX(name) name##_avx2_f32
#include "unary_impl.h"
#include "dtype_undef.h"
#else
typedef int pc_elementwise_avx2_unused;     /* ISO C: no empty translation unit */
#endif
