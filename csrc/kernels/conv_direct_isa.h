/* conv_direct_isa.h — the AVX2 + FMA builds of conv_direct.h's kernels
 * (conv_direct_avx2.c): each declared with the type of its baseline twin, so the
 * arguments are spelled once. simd.h builds them only under GCC, whose __typeof__
 * this uses. Pure C. */
#ifndef PC_CONV_DIRECT_ISA_H
#define PC_CONV_DIRECT_ISA_H

#include "conv_direct.h"

__typeof__(pc_conv_direct_forward_f32) pc_conv_direct_forward_avx2_f32;
__typeof__(pc_conv_direct_forward_f64) pc_conv_direct_forward_avx2_f64;
__typeof__(pc_conv_direct_backward_f32) pc_conv_direct_backward_avx2_f32;
__typeof__(pc_conv_direct_backward_f64) pc_conv_direct_backward_avx2_f64;

#endif
