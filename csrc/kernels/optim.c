/* optim.c — instantiation only; the kernels live in optim_impl.h. */
#include <math.h>

#include "optim.h"

const pc_optim_common pc_optim_plain = {1.0, 0.0, 0.0, 0.0};

#include "dtype_f32.h"
#include "optim_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "optim_impl.h"
#include "dtype_undef.h"
