/* conv.c — instantiation only; the kernels live in conv_impl.h. */
#include <string.h>

#include "conv.h"
#include "parallel.h"

#include "dtype_f32.h"
#include "conv_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "conv_impl.h"
#include "dtype_undef.h"
