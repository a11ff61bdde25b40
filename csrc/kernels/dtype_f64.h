/* dtype_f64.h — instantiate a *_impl.h template for double. Undo with dtype_undef.h.
 * libm throughout; GAUSS and SCALED_NORMCDF are vmath.h's one-line libm forms. */
#include "vmath.h"
#define T double
#define ACC double
#define SFX(name) name##_f64
#define EXP exp
#define LOG log
#define LOG1P log1p
#define EXPM1 expm1
#define SQRT sqrt
#define TANH tanh
#define FABS fabs
#define GAUSS pc_gauss
#define SCALED_NORMCDF pc_scaled_normcdf
#define POW pow
#define T_MAX 1.7976931348623157e+308
