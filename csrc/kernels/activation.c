/* activation.c — instantiation only; the kernels live in activation_impl.h. */
#include <math.h>

#include "activation.h"
#include "simd.h"

#include "dtype_f32.h"
#include "activation_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "activation_impl.h"
#include "dtype_undef.h"
