/* conv_direct.c — instantiation only; the kernels live in conv_direct_impl.h. */
#include <string.h>

#include "conv_direct.h"
#include "dense.h"
#include "parallel.h"
#include "simd.h"

#include "dtype_f32.h"
#include "conv_direct_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "conv_direct_impl.h"
#include "dtype_undef.h"
