/* dtype_f32.h — instantiate a *_impl.h template for float. Undo with dtype_undef.h.
 * EXP and TANH are vmath.h's vectorizable versions (within 2 ulp; libm's are opaque
 * scalar calls); the float64 kernels keep libm. */
#include "vmath.h"
#define T float
#define ACC double
#define SFX(name) name##_f32
#define EXP pc_vexpf
#define LOG logf
#define LOG1P log1pf
#define EXPM1 expm1f
#define SQRT sqrtf
#define TANH pc_vtanhf
#define FABS fabsf
#define ERFC erfcf
#define POW powf
#define T_MAX 3.402823466e+38F
