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

/* ---- float ---- */
float pc_loss_total_f32(const float *per, pc_index R, float scale);
void pc_squared_error_forward_f32(const float *p, const float *y, float *per, pc_index R,
                                  pc_index K);
void pc_squared_error_backward_f32(const float *p, const float *y, const float *g, pc_index gs,
                                   float scale, float *dp, pc_index R, pc_index K);
void pc_mean_squared_error_forward_f32(const float *p, const float *y, float *per, pc_index R,
                                       pc_index K);
void pc_mean_squared_error_backward_f32(const float *p, const float *y, const float *g, pc_index gs,
                                        float scale, float *dp, pc_index R, pc_index K);
void pc_categorical_crossentropy_forward_f32(const float *p, const float *y, float *per, pc_index R,
                                             pc_index K);
void pc_categorical_crossentropy_backward_f32(const float *p, const float *y, const float *g,
                                              pc_index gs, float scale, float *dp, pc_index R,
                                              pc_index K);
void pc_categorical_crossentropy_from_logits_forward_f32(const float *p, const float *y, float *per,
                                                         pc_index R, pc_index K);
void pc_categorical_crossentropy_from_logits_backward_f32(const float *p, const float *y,
                                                          const float *g, pc_index gs, float scale,
                                                          float *dp, pc_index R, pc_index K);
void pc_binary_crossentropy_forward_f32(const float *p, const float *y, float *per, pc_index R,
                                        pc_index K);
void pc_binary_crossentropy_backward_f32(const float *p, const float *y, const float *g,
                                         pc_index gs, float scale, float *dp, pc_index R,
                                         pc_index K);
void pc_binary_crossentropy_from_logits_forward_f32(const float *p, const float *y, float *per,
                                                    pc_index R, pc_index K);
void pc_binary_crossentropy_from_logits_backward_f32(const float *p, const float *y, const float *g,
                                                     pc_index gs, float scale, float *dp,
                                                     pc_index R, pc_index K);
void pc_multilabel_crossentropy_forward_f32(const float *p, const float *y, float *per, pc_index R,
                                            pc_index K);
void pc_multilabel_crossentropy_backward_f32(const float *p, const float *y, const float *g,
                                             pc_index gs, float scale, float *dp, pc_index R,
                                             pc_index K);
void pc_multilabel_crossentropy_from_logits_forward_f32(const float *p, const float *y, float *per,
                                                        pc_index R, pc_index K);
void pc_multilabel_crossentropy_from_logits_backward_f32(const float *p, const float *y,
                                                         const float *g, pc_index gs, float scale,
                                                         float *dp, pc_index R, pc_index K);
pc_index pc_sparse_labels_check_f32(const float *labels, pc_index R, pc_index K,
                                    const pc_index *ignore, pc_index *count);
void pc_sparse_categorical_crossentropy_forward_f32(const float *p, const float *labels, float *per,
                                                    pc_index R, pc_index K, const pc_index *ignore);
void pc_sparse_categorical_crossentropy_backward_f32(const float *p, const float *labels,
                                                     const float *g, pc_index gs, float scale,
                                                     float *dp, pc_index R, pc_index K,
                                                     const pc_index *ignore);
void pc_sparse_categorical_crossentropy_from_logits_forward_f32(const float *p, const float *labels,
                                                                float *per, pc_index R, pc_index K,
                                                                const pc_index *ignore);
void pc_sparse_categorical_crossentropy_from_logits_backward_f32(const float *p,
                                                                 const float *labels,
                                                                 const float *g, pc_index gs,
                                                                 float scale, float *dp, pc_index R,
                                                                 pc_index K,
                                                                 const pc_index *ignore);

/* ---- double ---- */
double pc_loss_total_f64(const double *per, pc_index R, double scale);
void pc_squared_error_forward_f64(const double *p, const double *y, double *per, pc_index R,
                                  pc_index K);
void pc_squared_error_backward_f64(const double *p, const double *y, const double *g, pc_index gs,
                                   double scale, double *dp, pc_index R, pc_index K);
void pc_mean_squared_error_forward_f64(const double *p, const double *y, double *per, pc_index R,
                                       pc_index K);
void pc_mean_squared_error_backward_f64(const double *p, const double *y, const double *g,
                                        pc_index gs, double scale, double *dp, pc_index R,
                                        pc_index K);
void pc_categorical_crossentropy_forward_f64(const double *p, const double *y, double *per,
                                             pc_index R, pc_index K);
void pc_categorical_crossentropy_backward_f64(const double *p, const double *y, const double *g,
                                              pc_index gs, double scale, double *dp, pc_index R,
                                              pc_index K);
void pc_categorical_crossentropy_from_logits_forward_f64(const double *p, const double *y,
                                                         double *per, pc_index R, pc_index K);
void pc_categorical_crossentropy_from_logits_backward_f64(const double *p, const double *y,
                                                          const double *g, pc_index gs,
                                                          double scale, double *dp, pc_index R,
                                                          pc_index K);
void pc_binary_crossentropy_forward_f64(const double *p, const double *y, double *per, pc_index R,
                                        pc_index K);
void pc_binary_crossentropy_backward_f64(const double *p, const double *y, const double *g,
                                         pc_index gs, double scale, double *dp, pc_index R,
                                         pc_index K);
void pc_binary_crossentropy_from_logits_forward_f64(const double *p, const double *y, double *per,
                                                    pc_index R, pc_index K);
void pc_binary_crossentropy_from_logits_backward_f64(const double *p, const double *y,
                                                     const double *g, pc_index gs, double scale,
                                                     double *dp, pc_index R, pc_index K);
void pc_multilabel_crossentropy_forward_f64(const double *p, const double *y, double *per,
                                            pc_index R, pc_index K);
void pc_multilabel_crossentropy_backward_f64(const double *p, const double *y, const double *g,
                                             pc_index gs, double scale, double *dp, pc_index R,
                                             pc_index K);
void pc_multilabel_crossentropy_from_logits_forward_f64(const double *p, const double *y,
                                                        double *per, pc_index R, pc_index K);
void pc_multilabel_crossentropy_from_logits_backward_f64(const double *p, const double *y,
                                                         const double *g, pc_index gs, double scale,
                                                         double *dp, pc_index R, pc_index K);
pc_index pc_sparse_labels_check_f64(const double *labels, pc_index R, pc_index K,
                                    const pc_index *ignore, pc_index *count);
void pc_sparse_categorical_crossentropy_forward_f64(const double *p, const double *labels,
                                                    double *per, pc_index R, pc_index K,
                                                    const pc_index *ignore);
void pc_sparse_categorical_crossentropy_backward_f64(const double *p, const double *labels,
                                                     const double *g, pc_index gs, double scale,
                                                     double *dp, pc_index R, pc_index K,
                                                     const pc_index *ignore);
void pc_sparse_categorical_crossentropy_from_logits_forward_f64(const double *p,
                                                                const double *labels, double *per,
                                                                pc_index R, pc_index K,
                                                                const pc_index *ignore);
void pc_sparse_categorical_crossentropy_from_logits_backward_f64(const double *p,
                                                                 const double *labels,
                                                                 const double *g, pc_index gs,
                                                                 double scale, double *dp,
                                                                 pc_index R, pc_index K,
                                                                 const pc_index *ignore);

#endif
