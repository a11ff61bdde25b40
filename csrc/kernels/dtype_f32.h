/* dtype_f32.h — instantiate a *_impl.h template for float. Undo with dtype_undef.h.
 * EXP, EXPM1, LOG1P, TANH, GAUSS and SCALED_NORMCDF (s·Φ(x)) are vmath.h's vectorizable versions (a few
 * ulp; libm's are opaque scalar calls); the float64 kernels keep libm. */
#include "vmath.h"
#define T float
#define ACC double
#define SFX(name) name##_f32
#define EXP pc_vexpf
#define LOG logf
#define LOG1P pc_vlog1pf
#define EXPM1 pc_vexpm1f
#define SQRT sqrtf
#define TANH pc_vtanhf
#define FABS fabsf
#define GAUSS pc_vgaussf
#define SCALED_NORMCDF pc_vscaled_normcdff
#define POW powf
#define T_MAX 3.402823466e+38F
