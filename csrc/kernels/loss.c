/* loss.c — instantiation only; the kernels live in loss_impl.h. */
#include <math.h>

#include "loss.h"

#include "dtype_f32.h"
#include "loss_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "loss_impl.h"
#include "dtype_undef.h"
