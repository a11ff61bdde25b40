/* elementwise.h — element-wise kernels: unary maps and broadcasting binary maps.
 *
 * Legend: n = flat length; x, y = input, output; dy, dx = their gradients.
 * Unary kernels walk contiguous buffers. Binary kernels are 1-D strided rows
 * (strides in elements, 0 = broadcast) driven over N-d by pc_strided_loop_*.
 * Backward kernels ACCUMULATE (dx += ...): a tensor may feed several ops, and
 * its gradient is the sum over its children. Pure C.
 */
#ifndef PC_ELEMENTWISE_H
#define PC_ELEMENTWISE_H

#include "pc_types.h"
#include "strided.h"

/* One strided row: out[i*so] (op)= f(p0[i*s0], p1[i*s1], p2[i*s2]), i < n. */
typedef void (*pc_strided_fn_f32)(pc_index n, const float *p0, pc_index s0, const float *p1,
                                  pc_index s1, const float *p2, pc_index s2, float *out,
                                  pc_index so);
typedef void (*pc_strided_fn_f64)(pc_index n, const double *p0, pc_index s0, const double *p1,
                                  pc_index s1, const double *p2, pc_index s2, double *out,
                                  pc_index so);

/* Runs `fn` over every row of the iteration space; operand k uses it->stride[k].
 * p0, p1, p2 may be NULL when fn does not read them. */
void pc_strided_loop_f32(const pc_iter *it, const float *p0, const float *p1, const float *p2,
                         float *out, pc_strided_fn_f32 fn);
void pc_strided_loop_f64(const pc_iter *it, const double *p0, const double *p1,
                         const double *p2, double *out, pc_strided_fn_f64 fn);

/* A unary forward y = f(x) and backward dx += f'(x) dy over contiguous (n,) buffers. */
typedef void (*pc_unary_forward_fn_f32)(const float *x, float *y, pc_index n);
typedef void (*pc_unary_forward_fn_f64)(const double *x, double *y, pc_index n);
typedef void (*pc_unary_backward_fn_f32)(const float *x, const float *y, const float *dy,
                                         float *dx, pc_index n, int add);
typedef void (*pc_unary_backward_fn_f64)(const double *x, const double *y, const double *dy,
                                         double *dx, pc_index n, int add);
/* fn over (n,), split into blocks over the thread pool (kernels/parallel.h) */
void pc_unary_forward_split_f32(const float *x, float *y, pc_index n, pc_unary_forward_fn_f32 fn);
void pc_unary_forward_split_f64(const double *x, double *y, pc_index n,
                                pc_unary_forward_fn_f64 fn);
void pc_unary_backward_split_f32(const float *x, const float *y, const float *dy, float *dx,
                                 pc_index n, int add, pc_unary_backward_fn_f32 fn);
void pc_unary_backward_split_f64(const double *x, const double *y, const double *dy, double *dx,
                                 pc_index n, int add, pc_unary_backward_fn_f64 fn);

/* Unary maps: y = f(x) (overwrites); backward dx += dy * f'(x) when add (accumulates),
 * dx = dy * f'(x) otherwise (a fresh buffer: overwrites, no zero-fill needed).
 * Backward kernels get both x and the saved output y; each reads what it needs. */
void pc_neg_forward_f32(const float *x, float *y, pc_index n);
void pc_neg_forward_f64(const double *x, double *y, pc_index n);
void pc_neg_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                         pc_index n, int add);
void pc_neg_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                         pc_index n, int add);
void pc_abs_forward_f32(const float *x, float *y, pc_index n);
void pc_abs_forward_f64(const double *x, double *y, pc_index n);
void pc_abs_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                         pc_index n, int add);
void pc_abs_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                         pc_index n, int add);
void pc_exp_forward_f32(const float *x, float *y, pc_index n);
void pc_exp_forward_f64(const double *x, double *y, pc_index n);
void pc_exp_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                         pc_index n, int add);
void pc_exp_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                         pc_index n, int add);
void pc_log_forward_f32(const float *x, float *y, pc_index n);
void pc_log_forward_f64(const double *x, double *y, pc_index n);
void pc_log_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                         pc_index n, int add);
void pc_log_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                         pc_index n, int add);
void pc_sqrt_forward_f32(const float *x, float *y, pc_index n);
void pc_sqrt_forward_f64(const double *x, double *y, pc_index n);
void pc_sqrt_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                          pc_index n, int add);
void pc_sqrt_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                          pc_index n, int add);
void pc_square_forward_f32(const float *x, float *y, pc_index n);
void pc_square_forward_f64(const double *x, double *y, pc_index n);
void pc_square_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                            pc_index n, int add);
void pc_square_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                            pc_index n, int add);
void pc_sigmoid_forward_f32(const float *x, float *y, pc_index n);
void pc_sigmoid_forward_f64(const double *x, double *y, pc_index n);
void pc_sigmoid_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                             pc_index n, int add);
void pc_sigmoid_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                             pc_index n, int add);
void pc_tanh_forward_f32(const float *x, float *y, pc_index n);
void pc_tanh_forward_f64(const double *x, double *y, pc_index n);
void pc_tanh_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                          pc_index n, int add);
void pc_tanh_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                          pc_index n, int add);
void pc_relu_forward_f32(const float *x, float *y, pc_index n);
void pc_relu_forward_f64(const double *x, double *y, pc_index n);
void pc_relu_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                          pc_index n, int add);
void pc_relu_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                          pc_index n, int add);
void pc_softplus_forward_f32(const float *x, float *y, pc_index n);
void pc_softplus_forward_f64(const double *x, double *y, pc_index n);
void pc_softplus_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                              pc_index n, int add);
void pc_softplus_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                              pc_index n, int add);
void pc_gelu_forward_f32(const float *x, float *y, pc_index n);
void pc_gelu_forward_f64(const double *x, double *y, pc_index n);
void pc_gelu_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                          pc_index n, int add);
void pc_gelu_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                          pc_index n, int add);
void pc_softsign_forward_f32(const float *x, float *y, pc_index n);
void pc_softsign_forward_f64(const double *x, double *y, pc_index n);
void pc_softsign_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                              pc_index n, int add);
void pc_softsign_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                              pc_index n, int add);
void pc_hard_sigmoid_forward_f32(const float *x, float *y, pc_index n);
void pc_hard_sigmoid_forward_f64(const double *x, double *y, pc_index n);
void pc_hard_sigmoid_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                                  pc_index n, int add);
void pc_hard_sigmoid_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                                  pc_index n, int add);
void pc_relu6_forward_f32(const float *x, float *y, pc_index n);
void pc_relu6_forward_f64(const double *x, double *y, pc_index n);
void pc_relu6_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                           pc_index n, int add);
void pc_relu6_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                           pc_index n, int add);
void pc_selu_forward_f32(const float *x, float *y, pc_index n);
void pc_selu_forward_f64(const double *x, double *y, pc_index n);
void pc_selu_backward_f32(const float *x, const float *y, const float *dy, float *dx,
                          pc_index n, int add);
void pc_selu_backward_f64(const double *x, const double *y, const double *dy, double *dx,
                          pc_index n, int add);

/* swish: y = x σ(βx), split over the thread pool; backward fills dx (add as above)
 * and/or accumulates *dbeta (either may be NULL) */
void pc_swish_forward_f32(const float *x, float *y, pc_index n, float beta);
void pc_swish_forward_f64(const double *x, double *y, pc_index n, double beta);
void pc_swish_backward_f32(const float *x, const float *dy, float *dx, float *dbeta, pc_index n,
                           float beta, int add);
void pc_swish_backward_f64(const double *x, const double *dy, double *dx, double *dbeta,
                           pc_index n, double beta, int add);

/* The float unary maps and swish once more, compiled for AVX2 + FMA (elementwise_avx2.c)
 * and for AVX-512 (elementwise_avx512.c): same formulas, wider vectors, multiply-adds
 * contracted to FMAs (one rounding instead of two: the last bits differ from the baseline
 * build, not between thread counts). pc_unary_isa() says which the CPU runs:
 * PC_ISA_AVX512, PC_ISA_AVX2 or PC_ISA_BASE (always PC_ISA_BASE where simd.h has no
 * AVX2 build, and those kernels do not exist). */
enum { PC_ISA_BASE, PC_ISA_AVX2, PC_ISA_AVX512 };
int pc_unary_isa(void);
#define PC_UNARY_MAPS(X)                                                                 \
    X(neg) X(abs) X(exp) X(log) X(sqrt) X(square) X(sigmoid) X(tanh) X(relu) X(softplus)  \
    X(gelu) X(softsign) X(hard_sigmoid) X(relu6) X(selu)
#define PC_DECLARE_UNARY_ISA(name, isa)                                                  \
    void pc_##name##_forward_##isa##_f32(const float *x, float *y, pc_index n);          \
    void pc_##name##_backward_##isa##_f32(const float *x, const float *y, const float *dy, \
                                          float *dx, pc_index n, int add);
#define PC_DECLARE_UNARY_AVX2(name) PC_DECLARE_UNARY_ISA(name, avx2)
#define PC_DECLARE_UNARY_AVX512(name) PC_DECLARE_UNARY_ISA(name, avx512)
PC_UNARY_MAPS(PC_DECLARE_UNARY_AVX2)
PC_UNARY_MAPS(PC_DECLARE_UNARY_AVX512)
void pc_swish_forward_avx2_f32(const float *x, float *y, pc_index n, float beta);
void pc_swish_forward_avx512_f32(const float *x, float *y, pc_index n, float beta);
void pc_swish_backward_avx2_f32(const float *x, const float *dy, float *dx, float *dbeta,
                                pc_index n, float beta, int add);
void pc_swish_backward_avx512_f32(const float *x, const float *dy, float *dx, float *dbeta,
                                  pc_index n, float beta, int add);

/* Binary maps as strided rows. forward: (a, b, -, y); backward_a: (dy, a, b, da);
 * backward_b: (dy, a, b, db). */
void pc_add_forward_f32(pc_index n, const float *a, pc_index sa, const float *b, pc_index sb,
                        const float *unused, pc_index su, float *y, pc_index sy);
void pc_add_backward_a_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *da, pc_index sda);
void pc_add_backward_b_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *db, pc_index sdb);
void pc_add_forward_f64(pc_index n, const double *a, pc_index sa, const double *b, pc_index sb,
                        const double *unused, pc_index su, double *y, pc_index sy);
void pc_add_backward_a_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *da, pc_index sda);
void pc_add_backward_b_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *db, pc_index sdb);
void pc_sub_forward_f32(pc_index n, const float *a, pc_index sa, const float *b, pc_index sb,
                        const float *unused, pc_index su, float *y, pc_index sy);
void pc_sub_backward_a_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *da, pc_index sda);
void pc_sub_backward_b_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *db, pc_index sdb);
void pc_sub_forward_f64(pc_index n, const double *a, pc_index sa, const double *b, pc_index sb,
                        const double *unused, pc_index su, double *y, pc_index sy);
void pc_sub_backward_a_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *da, pc_index sda);
void pc_sub_backward_b_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *db, pc_index sdb);
void pc_mul_forward_f32(pc_index n, const float *a, pc_index sa, const float *b, pc_index sb,
                        const float *unused, pc_index su, float *y, pc_index sy);
void pc_mul_backward_a_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *da, pc_index sda);
void pc_mul_backward_b_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *db, pc_index sdb);
void pc_mul_forward_f64(pc_index n, const double *a, pc_index sa, const double *b, pc_index sb,
                        const double *unused, pc_index su, double *y, pc_index sy);
void pc_mul_backward_a_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *da, pc_index sda);
void pc_mul_backward_b_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *db, pc_index sdb);
void pc_div_forward_f32(pc_index n, const float *a, pc_index sa, const float *b, pc_index sb,
                        const float *unused, pc_index su, float *y, pc_index sy);
void pc_div_backward_a_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *da, pc_index sda);
void pc_div_backward_b_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *db, pc_index sdb);
void pc_div_forward_f64(pc_index n, const double *a, pc_index sa, const double *b, pc_index sb,
                        const double *unused, pc_index su, double *y, pc_index sy);
void pc_div_backward_a_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *da, pc_index sda);
void pc_div_backward_b_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *db, pc_index sdb);
void pc_pow_forward_f32(pc_index n, const float *a, pc_index sa, const float *b, pc_index sb,
                        const float *unused, pc_index su, float *y, pc_index sy);
void pc_pow_backward_a_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *da, pc_index sda);
void pc_pow_backward_b_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                           pc_index sa, const float *b, pc_index sb, float *db, pc_index sdb);
void pc_pow_forward_f64(pc_index n, const double *a, pc_index sa, const double *b, pc_index sb,
                        const double *unused, pc_index su, double *y, pc_index sy);
void pc_pow_backward_a_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *da, pc_index sda);
void pc_pow_backward_b_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                           pc_index sa, const double *b, pc_index sb, double *db, pc_index sdb);
void pc_maximum_forward_f32(pc_index n, const float *a, pc_index sa, const float *b, pc_index sb,
                            const float *unused, pc_index su, float *y, pc_index sy);
void pc_maximum_backward_a_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                               pc_index sa, const float *b, pc_index sb, float *da, pc_index sda);
void pc_maximum_backward_b_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                               pc_index sa, const float *b, pc_index sb, float *db, pc_index sdb);
void pc_maximum_forward_f64(pc_index n, const double *a, pc_index sa, const double *b, pc_index sb,
                            const double *unused, pc_index su, double *y, pc_index sy);
void pc_maximum_backward_a_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                               pc_index sa, const double *b, pc_index sb, double *da, pc_index sda);
void pc_maximum_backward_b_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                               pc_index sa, const double *b, pc_index sb, double *db, pc_index sdb);
void pc_minimum_forward_f32(pc_index n, const float *a, pc_index sa, const float *b, pc_index sb,
                            const float *unused, pc_index su, float *y, pc_index sy);
void pc_minimum_backward_a_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                               pc_index sa, const float *b, pc_index sb, float *da, pc_index sda);
void pc_minimum_backward_b_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                               pc_index sa, const float *b, pc_index sb, float *db, pc_index sdb);
void pc_minimum_forward_f64(pc_index n, const double *a, pc_index sa, const double *b, pc_index sb,
                            const double *unused, pc_index su, double *y, pc_index sy);
void pc_minimum_backward_a_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                               pc_index sa, const double *b, pc_index sb, double *da, pc_index sda);
void pc_minimum_backward_b_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                               pc_index sa, const double *b, pc_index sb, double *db, pc_index sdb);
void pc_prelu_forward_f32(pc_index n, const float *a, pc_index sa, const float *b, pc_index sb,
                          const float *unused, pc_index su, float *y, pc_index sy);
void pc_prelu_backward_a_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                             pc_index sa, const float *b, pc_index sb, float *da, pc_index sda);
void pc_prelu_backward_b_f32(pc_index n, const float *dy, pc_index sdy, const float *a,
                             pc_index sa, const float *b, pc_index sb, float *db, pc_index sdb);
void pc_prelu_forward_f64(pc_index n, const double *a, pc_index sa, const double *b, pc_index sb,
                          const double *unused, pc_index su, double *y, pc_index sy);
void pc_prelu_backward_a_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                             pc_index sa, const double *b, pc_index sb, double *da, pc_index sda);
void pc_prelu_backward_b_f64(pc_index n, const double *dy, pc_index sdy, const double *a,
                             pc_index sa, const double *b, pc_index sb, double *db, pc_index sdb);

/* out[i*so] += p0[i*s0]: the strided accumulate that sums over zero-stride axes
 * (reductions, and gradients of broadcast operands). */
void pc_accumulate_f32(pc_index n, const float *p0, pc_index s0, const float *p1, pc_index s1,
                       const float *p2, pc_index s2, float *out, pc_index so);
void pc_accumulate_f64(pc_index n, const double *p0, pc_index s0, const double *p1,
                       pc_index s1, const double *p2, pc_index s2, double *out, pc_index so);

/* y = (T)x between float and double (a cast), and its backward, which casts back. */
void pc_cast_f32_to_f64(const float *x, double *y, pc_index n);
void pc_cast_f64_to_f32(const double *x, float *y, pc_index n);
/* dx += (float)dy and dx += (double)dy */
void pc_cast_acc_f64_to_f32(const double *dy, float *dx, pc_index n);
void pc_cast_acc_f32_to_f64(const float *dy, double *dx, pc_index n);

#endif
