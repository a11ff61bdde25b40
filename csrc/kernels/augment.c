/* augment.c — the integer helpers the templates share, then instantiation of
 * augment_impl.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "parallel.h"
#include "simd.h"

/* a mod n in [0, n) for any sign of a (Python's %) */
static inline pc_index
pc_mod(pc_index a, pc_index n)
{
    pc_index r = a % n;
    return r < 0 ? r + n : r;
}

/* ⌊a / 2⌋ for any sign of a (Python's //) */
static inline pc_index
pc_floor_half(pc_index a)
{
    return a >= 0 ? a / 2 : -((1 - a) / 2);
}

/* One interpolation node along an axis: the index brought inside [0, n) by the fill
 * mode, whether it reads the image (constant mode: only inside), and its weight */
typedef struct {
    pc_index index;
    int valid;
    double weight;
} pc_node1d;

/* SciPy / Keras map_coordinates' index fixers (integers) */
static inline pc_index
pc_fix_index(pc_index i, pc_index n, int mode)
{
    if (i >= 0 && i < n)                /* inside: every mode keeps it */
        return i;
    if (mode == PC_FILL_WRAP)
        return pc_mod(i, n);
    if (mode == PC_FILL_REFLECT) {      /* mirror(2i + 1, 2n + 1), then (m − 1) // 2 */
        pc_index s = 2 * n, m = llabs((long long)(pc_mod(2 * i + 1 + s, 2 * s) - s));
        return pc_floor_half(m - 1);
    }
    return i < 0 ? 0 : (i >= n ? n - 1 : i);     /* nearest, constant (then invalid) */
}

/* the 1 (nearest) or 2 (bilinear) nodes of coordinate u along an axis of n; count */
static inline int
pc_nodes(double u, pc_index n, int interpolation, int mode, pc_node1d out[2])
{
    /* ⌊u⌋ by truncation corrected for negatives where u is near the image */
    double lim = 4.0 * (double)n + 4.0, f;
    if (interpolation == PC_INTERP_NEAREST)
        f = nearbyint(u);
    else if (u >= -lim && u <= lim)
        f = (double)(pc_index)u - ((double)(pc_index)u > u);
    else
        f = floor(u);
    /* far outside the image every index folds back or is invalid alike: keep it finite */
    pc_index i = f < -lim ? -4 * n - 4 : f > lim ? 4 * n + 4 : (pc_index)f;
    int count = interpolation == PC_INTERP_NEAREST ? 1 : 2;
    for (int k = 0; k < count; k++) {
        pc_index ik = i + k;
        out[k].index = pc_fix_index(ik, n, mode);
        out[k].valid = mode != PC_FILL_CONSTANT || (ik >= 0 && ik < n);
        out[k].weight = count == 1 ? 1.0 : (k == 0 ? 1.0 - (u - f) : u - f);
    }
    return count;
}

/* bilinear resize along one axis: rows r0, r1 and weights of output index i */
static inline void
pc_resize_axis(pc_index i, pc_index in, pc_index out, pc_index *r0, pc_index *r1,
               double *w1)
{
    double src = ((double)i + 0.5) * ((double)in / (double)out) - 0.5;
    if (src < 0)
        src = 0;
    *r0 = (pc_index)src;
    if (*r0 > in - 1)
        *r0 = in - 1;
    *r1 = *r0 + (*r0 < in - 1);
    *w1 = src - (double)*r0;
}

#include "dtype_f32.h"
#include "augment_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "augment_impl.h"
#include "dtype_undef.h"
