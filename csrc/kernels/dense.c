/* dense.c — instantiation only; the kernels live in dense_impl.h. */
#include <math.h>

#include "dense.h"
#include "parallel.h"
#include "simd.h"

#include "dtype_f32.h"
#include "dense_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "dense_impl.h"
#include "dtype_undef.h"
