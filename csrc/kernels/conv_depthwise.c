/* conv_depthwise.c — instantiation of conv_depthwise_impl.h, and the dtype-free column
 * copies of grouped convolutions (memcpy per row). The same kernels built for AVX2 +
 * FMA live in conv_depthwise_avx2.c; the exported functions here hand over to them when
 * the CPU has both (simd.h). */
#include <string.h>

#include "conv_depthwise.h"
#include "dense.h"
#include "parallel.h"
#include "simd.h"

#ifdef PC_HAVE_AVX2_FMA                 /* hand over to the AVX2 + FMA build */
#define PC_CONV_DEPTHWISE_DISPATCH(fn, ...) \
    if (pc_cpu_avx2_fma()) { fn(__VA_ARGS__); return; } else (void)0
#else
#define PC_CONV_DEPTHWISE_DISPATCH(fn, ...) ((void)0)
#endif

#include "dtype_f32.h"
#include "conv_depthwise_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "conv_depthwise_impl.h"
#include "dtype_undef.h"

void
pc_columns_gather(const void *src, void *dst, pc_index rows, pc_index ld, pc_index off,
                  pc_index width, size_t item)
{
    const char *s = (const char *)src + (size_t)off * item;
    char *d = dst;
    for (pc_index r = 0; r < rows; r++)
        memcpy(d + (size_t)(r * width) * item, s + (size_t)(r * ld) * item,
               (size_t)width * item);
}

void
pc_columns_scatter(const void *src, void *dst, pc_index rows, pc_index ld, pc_index off,
                   pc_index width, size_t item)
{
    const char *s = src;
    char *d = (char *)dst + (size_t)off * item;
    for (pc_index r = 0; r < rows; r++)
        memcpy(d + (size_t)(r * ld) * item, s + (size_t)(r * width) * item,
               (size_t)width * item);
}
