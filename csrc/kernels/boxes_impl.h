/* boxes_impl.h — template body, no include guard. Needs T, ACC, SFX(name).
 * Instantiated twice by boxes.c (float, double). Legend: see boxes.h. */

/* IoU of two (x1, y1, x2, y2) boxes; 0 where the union is empty. The areas and the
 * intersection are computed in ACC, so float boxes get the same answer as double ones
 * of the same values up to the final rounding. */
static inline ACC
SFX(pc_iou_pair)(const T *a, const T *b)
{
    ACC w = (ACC)(a[2] < b[2] ? a[2] : b[2]) - (ACC)(a[0] > b[0] ? a[0] : b[0]);
    ACC h = (ACC)(a[3] < b[3] ? a[3] : b[3]) - (ACC)(a[1] > b[1] ? a[1] : b[1]);
    ACC inter = (w > 0 ? w : 0) * (h > 0 ? h : 0);
    ACC uni = ((ACC)a[2] - a[0]) * ((ACC)a[3] - a[1]) + ((ACC)b[2] - b[0]) * ((ACC)b[3] - b[1])
              - inter;
    return uni > 0 ? inter / uni : 0;
}

/* iou[i, j] = IoU(a_i, b_j)                 a: (NA, 4), b: (NB, 4), iou: (NA, NB) overwrites */
void
SFX(pc_box_iou)(const T *a, pc_index NA, const T *b, pc_index NB, T *iou)
{
    for (pc_index i = 0; i < NA; i++)
        for (pc_index j = 0; j < NB; j++)
            iou[i * NB + j] = (T)SFX(pc_iou_pair)(a + 4 * i, b + 4 * j);
}

/* Greedy NMS as torchvision's nms: visit in score order, keep the box, suppress every
 * later box of its class overlapping it by IoU > thresh.               overwrites keep */
pc_index
SFX(pc_nms)(const T *boxes, const pc_index *cls, const pc_index *order, pc_index N,
            double thresh, pc_index max_keep, unsigned char *suppressed, pc_index *keep)
{
    pc_index kept = 0;
    memset(suppressed, 0, (size_t)N);
    for (pc_index k = 0; k < N && (max_keep < 0 || kept < max_keep); k++) {
        pc_index i = order[k];
        if (suppressed[k])
            continue;
        keep[kept++] = i;
        for (pc_index m = k + 1; m < N; m++) {
            pc_index j = order[m];
            if (suppressed[m] || (cls != NULL && cls[i] != cls[j]))
                continue;
            if (SFX(pc_iou_pair)(boxes + 4 * i, boxes + 4 * j) > thresh)
                suppressed[m] = 1;
        }
    }
    return kept;
}

/* VOC matching (see boxes.h)                                          overwrites tp */
void
SFX(pc_match_detections)(const T *det, const pc_index *det_image, const pc_index *order,
                         pc_index ND, const T *truth, const pc_index *truth_start, pc_index NI,
                         double thresh, unsigned char *matched, unsigned char *tp)
{
    memset(matched, 0, (size_t)truth_start[NI]);
    for (pc_index k = 0; k < ND; k++) {
        pc_index d = order[k], img = det_image[d];
        pc_index best = -1;
        ACC best_iou = -1;
        for (pc_index t = truth_start[img]; t < truth_start[img + 1]; t++) {
            ACC iou = SFX(pc_iou_pair)(det + 4 * d, truth + 4 * t);
            if (iou > best_iou) {
                best_iou = iou;
                best = t;
            }
        }
        tp[d] = 0;
        if (best >= 0 && best_iou >= thresh && !matched[best]) {
            matched[best] = 1;
            tp[d] = 1;
        }
    }
}
