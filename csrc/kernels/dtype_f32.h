/* dtype_f32.h — instantiate a *_impl.h template for float. Undo with dtype_undef.h. */
#define T float
#define ACC double
#define SFX(name) name##_f32
#define EXP expf
#define LOG logf
#define LOG1P log1pf
#define SQRT sqrtf
#define TANH tanhf
#define FABS fabsf
#define POW powf
#define T_MAX 3.402823466e+38F
