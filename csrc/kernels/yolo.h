/* yolo.h — the YOLO v1 loss (the lecture's equation 3), forward and backward.
 *
 * Legend: pred (N, S, S, B·5 + C): per cell B boxes (x, y, w, h, confidence), then C
 * class probabilities. truth (N, S, S, 5 + C): (x, y, w, h, object flag, one-hot class).
 * x, y: the centre's offset inside the cell; w, h: relative to the image.
 * In an object cell (flag > 0.5) the responsible box r is the one with the highest IoU
 * with the true box (ties → lowest j), both in image coordinates: centre
 * ((col + x)/S, (row + y)/S), size (w, h), predicted w, h clamped at 0. Per image:
 *   coord_xy = λ_coord Σ_obj [(x − x̂_r)² + (y − ŷ_r)²]
 *   coord_wh = λ_coord Σ_obj [(√(w + ε) − √(ŵ_r⁺ + ε))² + (√(h + ε) − √(ĥ_r⁺ + ε))²]
 *   obj      = Σ_obj (Ĉ_r − 1)²
 *   noobj    = λ_noobj Σ_cells Σ_{j ≠ r} Ĉ_j²        (every box of a no-object cell)
 *   cls      = Σ_obj Σ_c (p(c) − p̂(c))²
 * with v⁺ = max(v, 0) and ε keeping the root's gradient finite at ŵ = 0. Pure C.
 */
#ifndef PC_YOLO_H
#define PC_YOLO_H

#include "pc_types.h"

typedef struct {
    pc_index N, S, B, C;
    double lambda_coord, lambda_noobj, eps;
} pc_yolo_dims;

enum { PC_YOLO_PARTS = 5 };     /* coord_xy, coord_wh, obj, noobj, cls */

void pc_yolo_forward_f32(const float *pred, const float *truth, float *parts,
                         const pc_yolo_dims *d);
void pc_yolo_backward_f32(const float *pred, const float *truth, const float *g, pc_index gs,
                          float scale, int mask, float *dpred, const pc_yolo_dims *d);
void pc_yolo_forward_f64(const double *pred, const double *truth, double *parts,
                         const pc_yolo_dims *d);
void pc_yolo_backward_f64(const double *pred, const double *truth, const double *g, pc_index gs,
                          double scale, int mask, double *dpred, const pc_yolo_dims *d);
void pc_yolo_select_f32(const float *parts, pc_index N, int mask, float *per);
void pc_yolo_select_f64(const double *parts, pc_index N, int mask, double *per);

#endif
