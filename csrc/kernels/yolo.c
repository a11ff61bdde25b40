/* yolo.c — instantiation only; the kernels live in yolo_impl.h. */
#include <math.h>

#include "yolo.h"

#include "dtype_f32.h"
#include "yolo_impl.h"
#include "dtype_undef.h"

#include "dtype_f64.h"
#include "yolo_impl.h"
#include "dtype_undef.h"
