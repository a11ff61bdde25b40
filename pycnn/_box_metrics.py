"""Detection metrics on boxes: IoU matrices, non-maximum suppression, average precision.

Re-exported by ``pycnn.metrics``. Boxes are float arrays of shape (n, 4) in one of two
formats: ``"xyxy"`` (x1, y1, x2, y2) — the default — or ``"cxcywh"``, the lecture's
(c_x, c_y, w, h). The loops over box pairs are C (``csrc/kernels/boxes.h``); this module
converts formats and rejects what has no answer: boxes of negative size, coordinates or
scores that are NaN or infinite, shapes that do not fit.

IoU(a, b) = |a ∩ b| / |a ∪ b|, and 0 where the union is empty (two boxes of zero area).
"""
import numbers

import numpy as np

from . import _core

__all__ = ["iou", "non_max_suppression", "batched_non_max_suppression", "average_precision",
           "mean_average_precision", "BOX_FORMATS"]

BOX_FORMATS = ("xyxy", "cxcywh")


def _boxes(boxes, box_format, op, what="boxes"):
    """(n, 4) float32/float64 (x1, y1, x2, y2) boxes, checked; ValueError naming op."""
    if box_format not in BOX_FORMATS:
        raise ValueError(f"{op}: box_format must be 'xyxy' or 'cxcywh', got {box_format!r}")
    b = np.asarray(boxes)
    if b.dtype.kind not in "fiub":
        raise TypeError(f"{op}: {what} must be numbers, got dtype {b.dtype}")
    if b.dtype not in (np.float32, np.float64):
        b = b.astype(np.float64)
    if b.size == 0 and b.shape[-1:] != (4,):
        b = b.reshape(0, 4)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{op}: {what} must have shape (n, 4), got {b.shape}")
    if not np.all(np.isfinite(b)):
        row = int(np.nonzero(~np.all(np.isfinite(b), axis=1))[0][0])
        raise ValueError(f"{op}: {what}[{row}] = {b[row].tolist()} is not finite")
    if box_format == "cxcywh":
        centre, size = b[:, :2], b[:, 2:]
        negative = np.any(size < 0, axis=1)
        b = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    else:
        negative = np.any(b[:, 2:] < b[:, :2], axis=1)
    if np.any(negative):
        row = int(np.nonzero(negative)[0][0])
        given = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[row].tolist()
        raise ValueError(f"{op}: {what}[{row}] = {given} has negative width or height "
                         f"(box_format={box_format!r})")
    return np.ascontiguousarray(b)


def _scores(scores, n, op, what="scores"):
    s = np.asarray(scores, dtype=np.float64).reshape(-1) if np.size(scores) else \
        np.zeros(0)
    if s.shape != (n,):
        raise ValueError(f"{op}: {what} must hold one value per box ({n}), got shape "
                         f"{np.shape(scores)}")
    if np.any(np.isnan(s)):
        raise ValueError(f"{op}: {what}[{int(np.nonzero(np.isnan(s))[0][0])}] is NaN; a NaN "
                         f"score cannot be ranked")
    return s


def _threshold(value, op):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or np.isnan(value):
        raise ValueError(f"{op}: iou_threshold must be a number, got {value!r}")
    return float(value)


def _order(scores):
    """Indices by descending score; equal scores keep their input order."""
    return np.argsort(-scores, kind="stable")


def iou(boxes_a, boxes_b, box_format="xyxy"):
    """The (n_a, n_b) matrix of IoUs: ``iou[i, j] = |a_i ∩ b_j| / |a_i ∪ b_j|``.

    Args:
        boxes_a, boxes_b: (n_a, 4) and (n_b, 4) boxes (float64 if either is float64,
            else float32 results).
        box_format: ``"xyxy"`` (x1, y1, x2, y2) or ``"cxcywh"`` (c_x, c_y, w, h).

    Zero-area boxes have IoU 0 with everything, themselves included.

        >>> iou([[0, 0, 2, 2]], [[1, 1, 3, 3]])       # 1 / (4 + 4 − 1)
        array([[0.14285715]], dtype=float32)
    """
    a = _boxes(boxes_a, box_format, "iou", "boxes_a")
    b = _boxes(boxes_b, box_format, "iou", "boxes_b")
    if np.asarray(boxes_a).dtype.kind != "f" and np.asarray(boxes_b).dtype.kind != "f":
        a, b = a.astype(np.float32), b.astype(np.float32)
    return _core._box_iou(a, b)


def _nms(boxes, scores, classes, iou_threshold, max_output, box_format, op):
    b = _boxes(boxes, box_format, op)
    s = _scores(scores, len(b), op)
    threshold = _threshold(iou_threshold, op)
    if max_output is None:
        limit = -1
    elif isinstance(max_output, bool) or not isinstance(max_output, numbers.Integral) \
            or max_output < 0:
        raise ValueError(f"{op}: max_output must be None or an int >= 0, got {max_output!r}")
    else:
        limit = int(max_output)
    return _core._nms(b, _order(s), classes, threshold, limit).astype(np.int64)


def non_max_suppression(boxes, scores, iou_threshold=0.5, max_output=None, box_format="xyxy"):
    """Greedy non-maximum suppression: the indices of the boxes kept, best score first.

    Boxes are visited by descending score (equal scores in input order); each is kept
    unless a box kept before it overlaps it with IoU > ``iou_threshold`` (strictly, as
    torchvision's ``nms``). ``max_output`` caps how many are kept (None: no cap).

    Args:
        boxes: (n, 4); scores: (n,) — NaN raises ValueError (it has no rank).
    Returns:
        int64 indices into ``boxes``.
    """
    return _nms(boxes, scores, None, iou_threshold, max_output, box_format,
                "non_max_suppression")


def batched_non_max_suppression(boxes, scores, classes, iou_threshold=0.5, max_output=None,
                                box_format="xyxy"):
    """Non-maximum suppression within each class: a box only suppresses boxes of its own
    class (torchvision's ``batched_nms``). Returns the kept indices, best score first
    over all classes; ``max_output`` caps the total.

    Args:
        classes: (n,) integer class of each box.
    """
    op = "batched_non_max_suppression"
    c = np.asarray(classes)
    if c.size and c.dtype.kind not in "iub" and not np.all(c == np.round(c)):
        raise ValueError(f"{op}: classes must be integers")
    c = c.astype(np.intp).reshape(-1) if c.size else np.zeros(0, np.intp)
    if c.shape != (np.asarray(boxes).reshape(-1, 4).shape[0] if np.size(boxes) else 0,):
        raise ValueError(f"{op}: classes must hold one integer per box, got shape "
                         f"{np.shape(classes)} for {np.shape(boxes)} boxes")
    return _nms(boxes, scores, c, iou_threshold, max_output, box_format, op)


# ---- average precision ----------------------------------------------------------------

def _per_image(name, values, n_images, op):
    if n_images is not None and len(values) != n_images:
        raise ValueError(f"{op}: {name} has {len(values)} images but true_boxes has "
                         f"{n_images}; give one array per image in each")
    return list(values)


def _interpolated_ap(tp, n_true):
    """VOC's all-point interpolated area under the precision-recall curve.
    tp: true-positive flags of the detections in descending score order."""
    if n_true == 0:
        return float("nan")
    if len(tp) == 0:
        return 0.0
    ctp = np.cumsum(tp, dtype=np.float64)
    recall = ctp / n_true
    precision = ctp / np.arange(1, len(tp) + 1)
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]      # precision made monotone
    step = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[step + 1] - mrec[step]) * mpre[step + 1]))


def _thresholds(iou_threshold, op):
    if np.ndim(iou_threshold) == 0:
        return [_threshold(iou_threshold, op)]
    values = [_threshold(t, op) for t in np.asarray(iou_threshold).reshape(-1).tolist()]
    if not values:
        raise ValueError(f"{op}: iou_threshold is an empty sequence")
    return values


def _prepared(true_boxes, pred_boxes, pred_scores, box_format, op):
    """Concatenated boxes with image indices, checked: (truth, start, det, image, score)."""
    true_boxes = list(true_boxes)
    pred_boxes = _per_image("pred_boxes", pred_boxes, len(true_boxes), op)
    pred_scores = _per_image("pred_scores", pred_scores, len(true_boxes), op)
    truth = [_boxes(b, box_format, op, f"true_boxes[{i}]") for i, b in enumerate(true_boxes)]
    det = [_boxes(b, box_format, op, f"pred_boxes[{i}]") for i, b in enumerate(pred_boxes)]
    scores = [_scores(s, len(d), op, f"pred_scores[{i}]")
              for i, (s, d) in enumerate(zip(pred_scores, det))]
    dtype = np.result_type(np.float32, *[a.dtype for a in truth + det])
    start = np.concatenate([[0], np.cumsum([len(t) for t in truth])]).astype(np.intp)
    image = np.repeat(np.arange(len(det), dtype=np.intp), [len(d) for d in det])
    cat = (lambda parts, shape: np.concatenate(parts).astype(dtype) if parts
           else np.zeros(shape, dtype))
    return (cat(truth, (0, 4)), start, cat(det, (0, 4)), image,
            np.concatenate(scores) if scores else np.zeros(0))


def _ap(truth, start, det, image, score, thresholds):
    order = _order(score)
    aps = []
    for t in thresholds:
        tp = _core._match_detections(det, image, order, truth, start, t)
        aps.append(_interpolated_ap(tp[order], len(truth)))
    return float(np.mean(aps))


def average_precision(true_boxes, pred_boxes, pred_scores, iou_threshold=0.5,
                      box_format="xyxy"):
    """Average precision of one class over a set of images (PASCAL VOC, all points).

    Detections of all images are ranked by score. Going down the ranking, a detection
    is a true positive when the true box of its image that it overlaps most has
    IoU >= ``iou_threshold`` and was not claimed by a better-scored detection; else it
    is a false positive (the VOC devkit's rule: a duplicate of a found box is false, even
    when another true box would fit; the comparison is COCO's >=, where the devkit has >,
    which differs only at exact equality). AP is the area under
    the precision-recall curve after making precision monotone (every recall level, no
    11-point sampling).

    Args:
        true_boxes: a list with one (n_i, 4) array per image (n_i may be 0).
        pred_boxes, pred_scores: lists with one (m_i, 4) array and one (m_i,) array per
            image.
        iou_threshold: a number, or a sequence of them: the mean AP over them (COCO's
            AP@[.5:.95] is ``np.arange(0.5, 1.0, 0.05)``).

    Returns:
        A float in [0, 1]: 0 when there are true boxes but no detection; NaN when there
        is no true box at all (recall is undefined).
    """
    op = "average_precision"
    thresholds = _thresholds(iou_threshold, op)
    return _ap(*_prepared(true_boxes, pred_boxes, pred_scores, box_format, op), thresholds)


def _classes(values, boxes, name, op):
    values = _per_image(name, values, len(boxes), op)
    out = []
    for i, (c, b) in enumerate(zip(values, boxes)):
        c = np.asarray(c)
        if c.size and c.dtype.kind not in "iub" and not np.all(c == np.round(c)):
            raise ValueError(f"{op}: {name}[{i}] must hold integer classes")
        c = c.reshape(-1).astype(np.int64) if c.size else np.zeros(0, np.int64)
        n = np.asarray(b).reshape(-1, 4).shape[0] if np.size(b) else 0
        if len(c) != n:
            raise ValueError(f"{op}: {name}[{i}] has {len(c)} classes for {n} boxes")
        out.append(c)
    return out


def mean_average_precision(true_boxes, true_classes, pred_boxes, pred_classes, pred_scores,
                           iou_threshold=0.5, box_format="xyxy", per_class=False):
    """mAP: the mean of ``average_precision`` over the classes that have true boxes.

    Each argument is a list with one array per image: boxes (n_i, 4), classes (n_i,)
    integers, scores (m_i,). A class with true boxes but no detection counts with AP 0;
    detections of a class absent from the truth are ignored (VOC and COCO do the same).
    ``iou_threshold`` may be a sequence: each class's AP is averaged over it (COCO's
    mAP@[.5:.95] with ``np.arange(0.5, 1.0, 0.05)``).

    Returns:
        The mAP (NaN when no image has a true box), or ``(mAP, {class: AP})`` with
        ``per_class=True``.
    """
    op = "mean_average_precision"
    thresholds = _thresholds(iou_threshold, op)
    true_boxes = list(true_boxes)
    t_cls = _classes(true_classes, true_boxes, "true_classes", op)
    pred_boxes = _per_image("pred_boxes", pred_boxes, len(true_boxes), op)
    p_cls = _classes(pred_classes, pred_boxes, "pred_classes", op)
    pred_scores = _per_image("pred_scores", pred_scores, len(true_boxes), op)
    truth, start, det, image, score = _prepared(true_boxes, pred_boxes, pred_scores,
                                                box_format, op)
    t_all, p_all = np.concatenate(t_cls), np.concatenate(p_cls)
    t_image = np.repeat(np.arange(len(true_boxes)), np.diff(start))
    result = {}
    for c in np.unique(t_all).tolist():
        keep_t, keep_p = t_all == c, p_all == c
        c_start = np.concatenate([[0], np.cumsum(np.bincount(t_image[keep_t],
                                                             minlength=len(true_boxes)))])
        result[c] = _ap(truth[keep_t], c_start.astype(np.intp), det[keep_p], image[keep_p],
                        score[keep_p], thresholds)
    value = float(np.mean(list(result.values()))) if result else float("nan")
    return (value, result) if per_class else value
