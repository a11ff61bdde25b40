/* loss.h — loss kernels: squared errors and cross-entropies, forward and backward.
 *
 * Legend: p = predictions (probabilities, or logits z for *_from_logits), y = targets,
 * both (R, K): R rows of K values (the last axis; for squared_error a row is a whole
 * sample). per: (R,) the loss of each row (overwritten). g: upstream gradient, read as
 * g[r·gs] (gs = 0 after a sum or mean: one value for all rows), times scale (1/count
 * for a mean). Backward kernels ACCUMULATE into dp. labels: (R,) class indices stored
 * as T; ignore: NULL, or the label value that marks a row to skip. Pure C.
 */
#ifndef PC_LOSS_H
#define PC_LOSS_H

#include "pc_types.h"

/* Keras' backend.epsilon(): probabilities are clipped to [ε, 1 − ε] */
#define PC_PROB_EPSILON 1e-7

/* Σ_r per[r] · scale: the 'sum' (scale 1) and 'mean' (scale 1/count) reductions */
float pc_loss_total_f32(const float *per, pc_index R, float scale);
double pc_loss_total_f64(const double *per, pc_index R, double scale);

/* The row losses share one signature per direction and dtype:
 *   forward:  per[r] = the loss of row r of p against y                  overwrites
 *   backward: dp[r, k] += g[r·gs] · scale · ∂per[r]/∂p[r, k]             accumulates */
typedef void pc_row_loss_forward_f32_fn(const float *p, const float *y, float *per, pc_index R,
                                        pc_index K);
typedef void pc_row_loss_forward_f64_fn(const double *p, const double *y, double *per,
                                        pc_index R, pc_index K);
typedef void pc_row_loss_backward_f32_fn(const float *p, const float *y, const float *g,
                                         pc_index gs, float scale, float *dp, pc_index R,
                                         pc_index K);
typedef void pc_row_loss_backward_f64_fn(const double *p, const double *y, const double *g,
                                         pc_index gs, double scale, double *dp, pc_index R,
                                         pc_index K);

/* squared_error: per[r] = ½ Σ (p − y)² over the whole sample r */
pc_row_loss_forward_f32_fn pc_squared_error_forward_f32;
pc_row_loss_forward_f64_fn pc_squared_error_forward_f64;
pc_row_loss_backward_f32_fn pc_squared_error_backward_f32;
pc_row_loss_backward_f64_fn pc_squared_error_backward_f64;

/* mean_squared_error: per[r] = (1/K) Σ_k (p − y)² */
pc_row_loss_forward_f32_fn pc_mean_squared_error_forward_f32;
pc_row_loss_forward_f64_fn pc_mean_squared_error_forward_f64;
pc_row_loss_backward_f32_fn pc_mean_squared_error_backward_f32;
pc_row_loss_backward_f64_fn pc_mean_squared_error_backward_f64;

/* categorical_crossentropy from probabilities: per = −Σ_k y_k ln clip(p_k / Σ p) */
pc_row_loss_forward_f32_fn pc_categorical_crossentropy_forward_f32;
pc_row_loss_forward_f64_fn pc_categorical_crossentropy_forward_f64;
pc_row_loss_backward_f32_fn pc_categorical_crossentropy_backward_f32;
pc_row_loss_backward_f64_fn pc_categorical_crossentropy_backward_f64;

/* the same from logits z, fused with log-softmax: per = −Σ_k y_k log_softmax(z)_k */
pc_row_loss_forward_f32_fn pc_categorical_crossentropy_from_logits_forward_f32;
pc_row_loss_forward_f64_fn pc_categorical_crossentropy_from_logits_forward_f64;
pc_row_loss_backward_f32_fn pc_categorical_crossentropy_from_logits_backward_f32;
pc_row_loss_backward_f64_fn pc_categorical_crossentropy_from_logits_backward_f64;

/* binary_crossentropy: per = (1/K) Σ_k −y ln q − (1 − y) ln(1 − q), q = clip(p) */
pc_row_loss_forward_f32_fn pc_binary_crossentropy_forward_f32;
pc_row_loss_forward_f64_fn pc_binary_crossentropy_forward_f64;
pc_row_loss_backward_f32_fn pc_binary_crossentropy_backward_f32;
pc_row_loss_backward_f64_fn pc_binary_crossentropy_backward_f64;

/* the same from logits z: each term max(z, 0) − z·y + ln(1 + e^−|z|) */
pc_row_loss_forward_f32_fn pc_binary_crossentropy_from_logits_forward_f32;
pc_row_loss_forward_f64_fn pc_binary_crossentropy_from_logits_forward_f64;
pc_row_loss_backward_f32_fn pc_binary_crossentropy_from_logits_backward_f32;
pc_row_loss_backward_f64_fn pc_binary_crossentropy_from_logits_backward_f64;

/* multilabel_crossentropy: per = Σ_k of the binary term over the known labels; a label
 * y = NaN is skipped (adds nothing to per or dp) */
pc_row_loss_forward_f32_fn pc_multilabel_crossentropy_forward_f32;
pc_row_loss_forward_f64_fn pc_multilabel_crossentropy_forward_f64;
pc_row_loss_backward_f32_fn pc_multilabel_crossentropy_backward_f32;
pc_row_loss_backward_f64_fn pc_multilabel_crossentropy_backward_f64;

/* the same from logits */
pc_row_loss_forward_f32_fn pc_multilabel_crossentropy_from_logits_forward_f32;
pc_row_loss_forward_f64_fn pc_multilabel_crossentropy_from_logits_forward_f64;
pc_row_loss_backward_f32_fn pc_multilabel_crossentropy_from_logits_backward_f32;
pc_row_loss_backward_f64_fn pc_multilabel_crossentropy_from_logits_backward_f64;

/* The first row whose label is neither an integer in [0, K) nor *ignore, or −1;
 * *count = the rows not ignored */
pc_index pc_sparse_labels_check_f32(const float *labels, pc_index R, pc_index K,
                                    const pc_index *ignore, pc_index *count);
pc_index pc_sparse_labels_check_f64(const double *labels, pc_index R, pc_index K,
                                    const pc_index *ignore, pc_index *count);

/* The sparse losses: as the row losses, with one class index per row in labels (R,)
 * and ignore NULL or the label value of the rows to skip (per = 0, no gradient) */
typedef void pc_sparse_loss_forward_f32_fn(const float *p, const float *labels, float *per,
                                           pc_index R, pc_index K, const pc_index *ignore);
typedef void pc_sparse_loss_forward_f64_fn(const double *p, const double *labels, double *per,
                                           pc_index R, pc_index K, const pc_index *ignore);
typedef void pc_sparse_loss_backward_f32_fn(const float *p, const float *labels, const float *g,
                                            pc_index gs, float scale, float *dp, pc_index R,
                                            pc_index K, const pc_index *ignore);
typedef void pc_sparse_loss_backward_f64_fn(const double *p, const double *labels,
                                            const double *g, pc_index gs, double scale,
                                            double *dp, pc_index R, pc_index K,
                                            const pc_index *ignore);

/* sparse_categorical_crossentropy, one label l per row: per = −ln clip(p_l / Σ p) */
pc_sparse_loss_forward_f32_fn pc_sparse_categorical_crossentropy_forward_f32;
pc_sparse_loss_forward_f64_fn pc_sparse_categorical_crossentropy_forward_f64;
pc_sparse_loss_backward_f32_fn pc_sparse_categorical_crossentropy_backward_f32;
pc_sparse_loss_backward_f64_fn pc_sparse_categorical_crossentropy_backward_f64;

/* the same from logits: per = −log_softmax(z)_l */
pc_sparse_loss_forward_f32_fn pc_sparse_categorical_crossentropy_from_logits_forward_f32;
pc_sparse_loss_forward_f64_fn pc_sparse_categorical_crossentropy_from_logits_forward_f64;
pc_sparse_loss_backward_f32_fn pc_sparse_categorical_crossentropy_from_logits_backward_f32;
pc_sparse_loss_backward_f64_fn pc_sparse_categorical_crossentropy_from_logits_backward_f64;

#endif
