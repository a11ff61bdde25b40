/* conv_depthwise_avx2.c — conv_depthwise_impl.h's kernels once more, for CPUs with AVX2
 * and FMA (conv_depthwise.c calls them when the CPU has both; simd.h). The whole
 * translation unit is compiled for that target, so the inline helpers inline and the
 * 16-channel register blocks are two AVX vectors; multiply-adds contract to FMAs (one
 * rounding instead of two: results differ from the other builds in the last bits).
 * Empty where simd.h has no AVX2 build. */
#include "simd.h"

#ifdef PC_HAVE_AVX2_FMA
#pragma GCC target("avx2,fma")
#pragma GCC optimize("fp-contract=fast")

#include "conv_depthwise.h"
#include "dense.h"
#include "parallel.h"

#define PC_CONV_DEPTHWISE_ISA 1
#define PC_CONV_DEPTHWISE_DISPATCH(fn, ...) ((void)0)
#define pc_conv_depthwise_forward_f32 pc_conv_depthwise_forward_avx2_f32
#define pc_conv_depthwise_forward_f64 pc_conv_depthwise_forward_avx2_f64
#define pc_conv_depthwise_backward_f32 pc_conv_depthwise_backward_avx2_f32
#define pc_conv_depthwise_backward_f64 pc_conv_depthwise_backward_avx2_f64

#include "dtype_f32.h"
#include "conv_depthwise_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "conv_depthwise_impl.h"
#include "dtype_undef.h"
#else
typedef int pc_conv_depthwise_avx2_unused;  /* ISO C: no empty translation unit */
#endif
