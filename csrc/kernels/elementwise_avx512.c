/* elementwise_avx512.c — unary_impl.h's float kernels (the unary maps and swish) once
 * more, for CPUs with AVX-512 (F, DQ, BW, VL) and FMA (elementwise.c hands over to them
 * by pc_unary_isa(); simd.h). The whole translation unit is compiled for that target,
 * vmath.h included, so its helpers inline here with 16-wide vectors and multiply-adds
 * contract to FMAs. Empty where simd.h has no AVX2 build. */
#include "simd.h"

#ifdef PC_HAVE_AVX2_FMA
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,prefer-vector-width=512")
#pragma GCC optimize("fp-contract=fast")

#include <math.h>

#include "elementwise.h"
#include "parallel.h"

#define PC_UNARY_HANDOVER(fn, ...) ((void)0)
#include "dtype_f32.h"
#undef SFX
#define SFX(name) name##_avx512_f32
#include "unary_impl.h"
#include "dtype_undef.h"
#else
typedef int pc_elementwise_avx512_unused;     /* ISO C: no empty translation unit */
#endif
