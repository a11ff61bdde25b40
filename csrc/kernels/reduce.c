/* reduce.c — instantiation only; the kernels live in reduce_impl.h. */
#include "reduce.h"

#include "dtype_f32.h"
#include "reduce_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "reduce_impl.h"
#include "dtype_undef.h"
