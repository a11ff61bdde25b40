/* simd.h — PC_SIMD_CLONES: compile a hot kernel twice, for AVX2 and for the baseline
 * x86-64 (SSE2) the extension is built for, and pick one at load time (GCC's function
 * multi-versioning through an ifunc). The wheel stays portable; machines with AVX2 run
 * the loops 8 floats wide instead of 4. Elsewhere it expands to nothing. Pure C. */
#ifndef PC_SIMD_H
#define PC_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(PC_NO_SIMD_CLONES)
#define PC_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PC_SIMD_CLONES
#endif

#endif
