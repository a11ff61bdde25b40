/* boxes.c — instantiation only; the kernels live in boxes_impl.h. */
#include <string.h>

#include "boxes.h"

#include "dtype_f32.h"
#include "boxes_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "boxes_impl.h"
#include "dtype_undef.h"
