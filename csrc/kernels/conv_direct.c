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

typedef struct {
    const char *x;
    char *xp;
    const pc_window2d *g, *padded;
    size_t item;
} pad_job;

static void
pad_images(void *ctx, pc_index n0, pc_index n1)
{
    const pad_job *job = ctx;
    const pc_window2d *g = job->g, *p = job->padded;
    const size_t pixel = (size_t)g->C * job->item, row = (size_t)p->W * pixel;
    for (pc_index n = n0; n < n1; n++)
        for (pc_index r = 0; r < p->H; r++) {
            const pc_index ih = r - g->PT;
            char *dst = job->xp + (size_t)(n * p->H + r) * row;
            /* input columns 0..W-1 land at PL..; those past the spanned width drop */
            const pc_index first = g->PL < p->W ? g->PL : p->W;
            const pc_index count = g->W < p->W - first ? g->W : p->W - first;
            if (ih < 0 || ih >= g->H || count <= 0) {
                memset(dst, 0, row);
                continue;
            }
            memset(dst, 0, (size_t)first * pixel);
            memcpy(dst + (size_t)first * pixel,
                   job->x + (size_t)((n * g->H + ih) * g->W) * pixel, (size_t)count * pixel);
            memset(dst + (size_t)(first + count) * pixel, 0,
                   (size_t)(p->W - first - count) * pixel);
        }
}

void
pc_conv_direct_pad(const void *x, void *xp, const pc_window2d *g, const pc_window2d *padded,
                   size_t item)
{
    pad_job job = {x, xp, g, padded, item};
    pc_parallel_for(g->N, pc_parallel_grain(padded->H * padded->W * g->C), pad_images, &job);
}
