/* conv_direct.c — instantiation only; the kernels live in conv_direct_impl.h. The same
 * kernels built for AVX2 + FMA live in conv_direct_avx2.c; the exported functions here
 * hand over to them when the CPU has both (simd.h). */
#include <string.h>

#include "conv_direct.h"
#include "dense.h"
#include "parallel.h"
#include "simd.h"

#ifdef PC_HAVE_AVX2_FMA
#include "conv_direct_isa.h"
#define PC_CONV_DIRECT_DISPATCH(fn, ...)                                             \
    do {                                                                               \
        if (pc_cpu_avx2_fma()) {                                                       \
            fn(__VA_ARGS__);                                                           \
            return;                                                                    \
        }                                                                              \
    } while (0)
#else
#define PC_CONV_DIRECT_DISPATCH(fn, ...) ((void)0)
#endif

#include "dtype_f32.h"
#include "conv_direct_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "conv_direct_impl.h"
#include "dtype_undef.h"
