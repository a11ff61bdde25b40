/* elementwise.c — instantiation only; the kernels live in elementwise_impl.h. */
#include <math.h>

#include "elementwise.h"
#include "parallel.h"
#include "simd.h"

#include "dtype_f32.h"
#include "elementwise_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "elementwise_impl.h"
#include "dtype_undef.h"

/* casts between the two dtypes: not templated, they join both */
void
pc_cast_f32_to_f64(const float *x, double *y, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        y[i] = (double)x[i];
}
void
pc_cast_f64_to_f32(const double *x, float *y, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        y[i] = (float)x[i];
}
void
pc_cast_acc_f64_to_f32(const double *dy, float *dx, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        dx[i] += (float)dy[i];
}
void
pc_cast_acc_f32_to_f64(const float *dy, double *dx, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        dx[i] += (double)dy[i];
}
