/* shape.c — instantiation only; the kernels live in shape_impl.h. */
#include "shape.h"

#include "dtype_f32.h"
#include "shape_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "shape_impl.h"
#include "dtype_undef.h"
