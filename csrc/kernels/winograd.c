/* winograd.c — instantiation only; the kernels live in winograd_impl.h. */
#include <string.h>

#include "dense.h"
#include "parallel.h"
#include "simd.h"
#include "winograd.h"

#include "dtype_f32.h"
#include "winograd_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "winograd_impl.h"
#include "dtype_undef.h"
