/* dtype_undef.h — forget the type macros of dtype_f32.h / dtype_f64.h. */
#undef T
#undef ACC
#undef SFX
#undef EXP
#undef LOG
#undef LOG1P
#undef EXPM1
#undef SQRT
#undef TANH
#undef FABS
#undef GAUSS
#undef SCALED_NORMCDF
#undef POW
#undef T_MAX
