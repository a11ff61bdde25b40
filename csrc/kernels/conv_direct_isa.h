/* conv_direct_isa.h — the AVX2 + FMA builds of conv_direct.h's kernels
 * (conv_direct_avx2.c), same arguments. Pure C. */
#ifndef PC_CONV_DIRECT_ISA_H
#define PC_CONV_DIRECT_ISA_H

#include "window.h"

void pc_conv_direct_forward_avx2_f32(const float *x, const float *w, const float *b, float *y,
                                     const pc_window2d *g, pc_index F, int act);
void pc_conv_direct_forward_avx2_f64(const double *x, const double *w, const double *b,
                                     double *y, const pc_window2d *g, pc_index F, int act);
void pc_conv_direct_backward_avx2_f32(const float *x, const float *w, const float *y,
                                      const float *dy, float *dx, float *dw, float *db,
                                      const pc_window2d *g, pc_index F, int act, double *acc);
void pc_conv_direct_backward_avx2_f64(const double *x, const double *w, const double *y,
                                      const double *dy, double *dx, double *dw, double *db,
                                      const pc_window2d *g, pc_index F, int act, double *acc);

#endif
