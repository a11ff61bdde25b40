/* optim.c — instantiation only; the kernels live in optim_impl.h. */
#include <math.h>

#include "optim.h"

#include "dtype_f32.h"
#include "optim_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "optim_impl.h"
#include "dtype_undef.h"
