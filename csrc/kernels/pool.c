/* pool.c — instantiation only; the kernels live in pool_impl.h. */
#include <string.h>

#include "pool.h"
#include "parallel.h"
#include "simd.h"

#include "dtype_f32.h"
#include "pool_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "pool_impl.h"
#include "dtype_undef.h"
