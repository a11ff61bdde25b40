/* boxes.h — the box arithmetic of detection: IoU matrices, greedy non-maximum
 * suppression and the VOC matching of detections to true boxes. Pure C.
 *
 * Legend: a box is 4 values (x1, y1, x2, y2) with x1 <= x2, y1 <= y2 (the caller
 * checks and converts other formats); NA, NB, N numbers of boxes; ND detections,
 * NT true boxes, NI images. IoU(a, b) = |a ∩ b| / |a ∪ b|, and 0 where the union is
 * empty (two boxes of zero area), so a degenerate box never overlaps anything.
 */
#ifndef PC_BOXES_H
#define PC_BOXES_H

#include "pc_types.h"

/* iou[i, j] = IoU(a_i, b_j)                 a: (NA, 4), b: (NB, 4), iou: (NA, NB) overwrites */
void pc_box_iou_f32(const float *a, pc_index NA, const float *b, pc_index NB, float *iou);
void pc_box_iou_f64(const double *a, pc_index NA, const double *b, pc_index NB, double *iou);

/* Greedy NMS. Boxes are visited in `order` (N indices, highest score first); a box is
 * kept unless an earlier kept box of the same class (cls NULL: any kept box) overlaps it
 * with IoU > thresh. Stops after max_keep kept boxes (max_keep < 0: no limit).
 * boxes: (N, 4); cls: (N,) or NULL; order: (N,); suppressed: workspace (N,), any content;
 * keep: (N,) receives the kept indices in visiting order. Returns how many were kept. */
pc_index pc_nms_f32(const float *boxes, const pc_index *cls, const pc_index *order, pc_index N,
                    double thresh, pc_index max_keep, unsigned char *suppressed, pc_index *keep);
pc_index pc_nms_f64(const double *boxes, const pc_index *cls, const pc_index *order, pc_index N,
                    double thresh, pc_index max_keep, unsigned char *suppressed, pc_index *keep);

/* VOC matching (devkit voc_eval; IoU >= thresh as COCO, where the devkit has >): detections
 * visited in `order` (highest score first, across images); detection d belongs to image
 * det_image[d], whose true boxes are rows truth_start[i] .. truth_start[i + 1] - 1 of
 * truth. A detection is a true positive
 * (tp[d] = 1) when the true box of its image it overlaps most (first of equals) has
 * IoU >= thresh and was not matched by an earlier detection; that box is then matched.
 * Else tp[d] = 0 (a false positive, also when the best box was already taken).
 * det: (ND, 4), det_image: (ND,), order: (ND,), truth: (NT, 4), truth_start: (NI + 1,),
 * matched: workspace (NT,), any content (NT = truth_start[NI]); tp: (ND,) overwrites. */
void pc_match_detections_f32(const float *det, const pc_index *det_image, const pc_index *order,
                             pc_index ND, const float *truth, const pc_index *truth_start,
                             pc_index NI, double thresh, unsigned char *matched, unsigned char *tp);
void pc_match_detections_f64(const double *det, const pc_index *det_image, const pc_index *order,
                             pc_index ND, const double *truth, const pc_index *truth_start,
                             pc_index NI, double thresh, unsigned char *matched, unsigned char *tp);

#endif
