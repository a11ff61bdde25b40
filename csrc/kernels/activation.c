/* activation.c — instantiation only; the kernels live in activation_impl.h. */
#include <math.h>

#include "activation.h"

#include "dtype_f32.h"
#define EXPM1 expm1f
#include "activation_impl.h"
#undef EXPM1
#include "dtype_undef.h"

#include "dtype_f64.h"
#define EXPM1 expm1
#include "activation_impl.h"
#undef EXPM1
#include "dtype_undef.h"
