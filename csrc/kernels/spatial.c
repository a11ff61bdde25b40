/* spatial.c — instantiation only; the kernels live in spatial_impl.h. */
#include <string.h>

#include "spatial.h"
#include "parallel.h"
#include "simd.h"

#include "dtype_f32.h"
#include "spatial_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "spatial_impl.h"
#include "dtype_undef.h"
