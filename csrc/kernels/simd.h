/* simd.h — two ways to run a hot kernel with the wider instructions of the CPU it lands
 * on while the wheel stays built for the baseline x86-64 (SSE2):
 *  - PC_SIMD_CLONES: compile a function twice, for AVX2 and the baseline, and pick one
 *    at load time (GCC's function multi-versioning through an ifunc). Enough for add and
 *    copy loops (the Winograd transforms).
 *  - PC_HAVE_AVX2_FMA + pc_cpu_avx2_fma(): for multiply-add kernels, a second
 *    translation unit under #pragma GCC target("avx2,fma") (conv_direct_avx2.c) and a
 *    dispatch by hand; its helpers inline there, which clones of "arch=haswell" forbid.
 * Elsewhere both expand to the baseline. Pure C. */
#ifndef PC_SIMD_H
#define PC_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(PC_NO_SIMD_CLONES)
#define PC_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#define PC_HAVE_AVX2_FMA 1
#else
#define PC_SIMD_CLONES
#endif

/* PC_ALWAYS_INLINE: for a static inline body that PC_SIMD_CLONES functions specialise by
 * a constant argument. Left to itself GCC did not inline it into the clones the same way
 * (average pooling's backward ran 5–15% slower than with a body of its own). */
#ifdef __GNUC__
#define PC_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define PC_ALWAYS_INLINE static inline
#endif

#ifdef PC_HAVE_AVX2_FMA
static inline int
pc_cpu_avx2_fma(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

#endif
