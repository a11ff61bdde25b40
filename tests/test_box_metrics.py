"""Detection metrics (pycnn/_box_metrics.py over csrc/kernels/boxes.c): IoU matrices,
NMS and VOC average precision, each against a plain-Python twin and hand-made cases."""
import numpy as np
import pytest

from pycnn import _core, metrics


# ---- plain twins: the textbook loops ----------------------------------------------------

def ref_iou(a, b):
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - w * h
            out[i, j] = w * h / union if union > 0 else 0.0
    return out


def ref_nms(boxes, scores, threshold, classes=None, max_output=None):
    """Brute force: repeatedly take the best remaining box, drop what it overlaps."""
    remaining = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    keep = []
    while remaining and (max_output is None or len(keep) < max_output):
        best = remaining.pop(0)
        keep.append(best)
        remaining = [j for j in remaining
                     if (classes is not None and classes[j] != classes[best])
                     or ref_iou([boxes[best]], [boxes[j]])[0, 0] <= threshold]
    return keep


def ref_ap(true_boxes, pred_boxes, pred_scores, threshold):
    """VOC devkit's voc_eval, loop for loop (matching at IoU >= threshold)."""
    dets = sorted(((s, img, tuple(b)) for img, (bs, ss) in enumerate(zip(pred_boxes, pred_scores))
                   for b, s in zip(bs, ss)), key=lambda d: -d[0])
    n_true = sum(len(t) for t in true_boxes)
    used = [np.zeros(len(t), bool) for t in true_boxes]
    tp = []
    for _, img, box in dets:
        truth = true_boxes[img]
        if len(truth) == 0:
            tp.append(0)
            continue
        ious = ref_iou([box], truth)[0]
        j = int(np.argmax(ious))
        if ious[j] >= threshold and not used[img][j]:
            used[img][j] = True
            tp.append(1)
        else:
            tp.append(0)
    if n_true == 0:
        return float("nan")
    tp = np.array(tp, float)
    rec = np.cumsum(tp) / n_true
    prec = np.cumsum(tp) / np.maximum(np.arange(1, len(tp) + 1), 1)
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def random_boxes(rng, n, size=10.0):
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(0.5, size / 2, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


# ---- IoU ----------------------------------------------------------------------------------

def test_iou_hand_cases():
    got = metrics.iou([[0, 0, 2, 2], [0, 0, 1, 1]], [[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]])
    np.testing.assert_allclose(got, [[1 / 7, 1, 0], [0, 0.25, 0]], rtol=1e-6)
    # touching edges: zero intersection; a zero-area box overlaps nothing, not even itself
    assert metrics.iou([[0, 0, 1, 1]], [[1, 0, 2, 1]])[0, 0] == 0
    assert metrics.iou([[1, 1, 1, 3]], [[1, 1, 1, 3]])[0, 0] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_iou_matches_twin_and_keeps_dtype(dtype):
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, 17).astype(dtype), random_boxes(rng, 9).astype(dtype)
    got = metrics.iou(a, b)
    assert got.dtype == dtype and got.shape == (17, 9)
    np.testing.assert_allclose(got, ref_iou(a.astype(float), b.astype(float)),
                               rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-7)
    assert metrics.iou(a.astype(np.float32), b.astype(np.float64)).dtype == np.float64


def test_iou_cxcywh_is_the_same_box():
    xyxy = np.array([[1.0, 2.0, 5.0, 4.0]])
    cxcywh = np.array([[3.0, 3.0, 4.0, 2.0]])
    np.testing.assert_allclose(metrics.iou(cxcywh, cxcywh, box_format="cxcywh"), [[1.0]])
    np.testing.assert_allclose(metrics.iou(xyxy, [[2, 2, 5, 4]]),
                               metrics.iou(cxcywh, [[3.5, 3, 3, 2]], box_format="cxcywh"))


def test_iou_of_no_boxes_is_an_empty_matrix():
    assert metrics.iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)
    assert metrics.iou([], []).shape == (0, 0)


@pytest.mark.parametrize("boxes, message", [
    ([[0, 0, -1, 1]], r"boxes_a\[0\] = \[0.0, 0.0, -1.0, 1.0\] has negative width"),
    ([[0, 0, 1]], r"shape \(n, 4\), got \(1, 3\)"),
    ([[0, 0, np.nan, 1]], r"boxes_a\[0\].*not finite"),
    ([[0, 0, np.inf, 1]], r"not finite"),
])
def test_iou_bad_boxes_raise(boxes, message):
    with pytest.raises(ValueError, match=message):
        metrics.iou(boxes, [[0, 0, 1, 1]])


def test_iou_negative_size_in_cxcywh_and_bad_format():
    with pytest.raises(ValueError, match="negative width or height"):
        metrics.iou([[1, 1, -2, 1]], [[0, 0, 1, 1]], box_format="cxcywh")
    with pytest.raises(ValueError, match="box_format must be 'xyxy' or 'cxcywh'"):
        metrics.iou([[0, 0, 1, 1]], [[0, 0, 1, 1]], box_format="xywh")
    with pytest.raises(TypeError, match="must be numbers"):
        metrics.iou([["a", "b", "c", "d"]], [[0, 0, 1, 1]])


# ---- NMS -----------------------------------------------------------------------------------

def test_nms_hand_case():
    boxes = [[0, 0, 10, 10], [1, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 9]]
    scores = [0.8, 0.9, 0.3, 0.85]
    # box 1 (best) overlaps box 0 (IoU 0.9) and box 3 (IoU 0.81/0.99); box 2 is apart
    assert metrics.non_max_suppression(boxes, scores).tolist() == [1, 2]
    assert metrics.non_max_suppression(boxes, scores, iou_threshold=0.95).tolist() == [1, 3, 0, 2]
    assert metrics.non_max_suppression(boxes, scores, max_output=1).tolist() == [1]
    assert metrics.non_max_suppression(boxes, scores, max_output=0).tolist() == []


def test_nms_threshold_is_strict_and_ties_keep_input_order():
    boxes = [[0, 0, 2, 1], [1, 0, 3, 1]]        # IoU exactly 1/3
    assert metrics.non_max_suppression(boxes, [0.5, 0.5], iou_threshold=1 / 3).tolist() == [0, 1]
    assert metrics.non_max_suppression(boxes, [0.5, 0.5], iou_threshold=0.3).tolist() == [0]


@pytest.mark.parametrize("seed", range(6))
def test_nms_matches_brute_force_on_random_boxes(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    boxes = random_boxes(rng, n)
    scores = rng.choice(rng.random(max(1, n // 3)), size=n)          # with ties
    for threshold in (0.0, 0.3, 0.5, 0.7):
        got = metrics.non_max_suppression(boxes, scores, threshold)
        assert got.dtype == np.int64
        assert got.tolist() == ref_nms(boxes, scores, threshold)
    classes = rng.integers(0, 3, n)
    got = metrics.batched_non_max_suppression(boxes, scores, classes, 0.4, max_output=7)
    assert got.tolist() == ref_nms(boxes, scores, 0.4, classes, max_output=7)


def test_batched_nms_is_nms_per_class_merged_by_score():
    rng = np.random.default_rng(1)
    boxes, scores, classes = random_boxes(rng, 60), rng.random(60), rng.integers(0, 4, 60)
    got = metrics.batched_non_max_suppression(boxes, scores, classes, 0.5)
    per_class = np.concatenate([np.nonzero(classes == c)[0][
        metrics.non_max_suppression(boxes[classes == c], scores[classes == c], 0.5)]
        for c in range(4)])
    assert sorted(got.tolist()) == sorted(per_class.tolist())
    assert np.all(np.diff(scores[got]) <= 0)


def test_nms_in_cxcywh_and_float32_agree_with_xyxy():
    rng = np.random.default_rng(2)
    boxes, scores = random_boxes(rng, 40), rng.random(40)
    cxcywh = np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], 1)
    want = metrics.non_max_suppression(boxes, scores)
    assert metrics.non_max_suppression(cxcywh, scores, box_format="cxcywh").tolist() == \
        want.tolist()
    assert metrics.non_max_suppression(boxes.astype(np.float32), scores).tolist() == \
        want.tolist()


def test_nms_bad_input():
    with pytest.raises(ValueError, match=r"scores\[1\] is NaN"):
        metrics.non_max_suppression([[0, 0, 1, 1], [0, 0, 1, 1]], [0.5, np.nan])
    with pytest.raises(ValueError, match=r"one value per box \(2\)"):
        metrics.non_max_suppression([[0, 0, 1, 1], [0, 0, 1, 1]], [0.5])
    with pytest.raises(ValueError, match="negative width"):
        metrics.non_max_suppression([[0, 0, 1, -1]], [0.5])
    with pytest.raises(ValueError, match="max_output"):
        metrics.non_max_suppression([[0, 0, 1, 1]], [0.5], max_output=-1)
    with pytest.raises(ValueError, match="iou_threshold must be a number"):
        metrics.non_max_suppression([[0, 0, 1, 1]], [0.5], iou_threshold="high")
    with pytest.raises(ValueError, match="classes must hold one integer per box"):
        metrics.batched_non_max_suppression([[0, 0, 1, 1]], [0.5], [0, 1])
    assert metrics.non_max_suppression(np.zeros((0, 4)), []).tolist() == []


def test_core_bindings_check_indices_themselves():
    boxes = np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"order\[1\] = 2 is outside \[0, 2\)"):
        _core._nms(boxes, np.array([0, 2]), None, 0.5, -1)
    with pytest.raises(TypeError):
        _core._nms(boxes, np.array([0.0, 1.0]), None, 0.5, -1)
    with pytest.raises(ValueError, match="det_image"):
        _core._match_detections(boxes, np.array([0, 3]), np.array([0, 1]), boxes,
                                np.array([0, 2]), 0.5)
    with pytest.raises(ValueError, match="truth_start must run from 0"):
        _core._match_detections(boxes, np.array([0, 0]), np.array([0, 1]), boxes,
                                np.array([0, 1]), 0.5)
    with pytest.raises(ValueError, match="truth_start decreases"):
        _core._match_detections(boxes, np.array([0, 0]), np.array([0, 1]), boxes,
                                np.array([0, 2, 1, 2]), 0.5)


# ---- average precision -------------------------------------------------------------------

def test_ap_hand_cases():
    g = [np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10]])]
    # one true positive per image; a duplicate of image 0's box is a false positive
    p = [np.array([[0, 0, 10, 10], [0, 0, 10, 9.5]]), np.array([[1, 1, 10, 10]])]
    s = [np.array([0.9, 0.8]), np.array([0.7])]
    # ranking TP, FP, TP: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> ½·1 + ½·⅔
    assert metrics.average_precision(g, p, s) == pytest.approx(0.5 + 1 / 3)
    # the better-scored duplicate takes the match: the same ranking TP, FP, TP
    s = [np.array([0.8, 0.9]), np.array([0.7])]
    assert metrics.average_precision(g, p, s) == pytest.approx(0.5 + 1 / 3)
    # a far-off box first: precision 0, ½, ⅔ at recall 0, ½, 1 -> ⅔
    p = [np.array([[0, 0, 10, 10], [50, 50, 60, 60]]), np.array([[1, 1, 10, 10]])]
    s = [np.array([0.8, 0.9]), np.array([0.7])]
    assert metrics.average_precision(g, p, s) == pytest.approx(2 / 3)
    # a box IoU 0.81 fails at 0.9 but passes at 0.5
    assert metrics.average_precision([g[1]], [p[1]], [s[1]], iou_threshold=0.9) == 0
    assert metrics.average_precision([g[1]], [p[1]], [s[1]], iou_threshold=0.5) == 1


def test_ap_empty_predictions_and_no_truth():
    g = [np.array([[0, 0, 1, 1]]), np.zeros((0, 4))]
    assert metrics.average_precision(g, [np.zeros((0, 4))] * 2, [np.zeros(0)] * 2) == 0.0
    assert metrics.average_precision(g, [[], []], [[], []]) == 0.0
    assert np.isnan(metrics.average_precision([np.zeros((0, 4))], [[[0, 0, 1, 1]]], [[0.5]]))
    # detections in an image without truth are false positives
    assert metrics.average_precision(g, [np.zeros((0, 4)), [[0, 0, 1, 1]]],
                                     [np.zeros(0), [0.9]]) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_ap_matches_voc_twin_on_random_detections(seed):
    rng = np.random.default_rng(seed)
    truth, preds, scores = [], [], []
    for _ in range(int(rng.integers(1, 6))):
        t = random_boxes(rng, int(rng.integers(0, 5)))
        jitter = [tb + rng.normal(0, 0.7, 4) for tb in t for _ in range(int(rng.integers(0, 3)))]
        p = np.array(jitter + list(random_boxes(rng, int(rng.integers(0, 3))))).reshape(-1, 4)
        p[:, 2:] = np.maximum(p[:, 2:], p[:, :2])
        truth.append(t), preds.append(p), scores.append(rng.random(len(p)).round(1))
    for threshold in (0.3, 0.5, 0.75):
        want = ref_ap(truth, preds, scores, threshold)
        got = metrics.average_precision(truth, preds, scores, iou_threshold=threshold)
        assert got == pytest.approx(want, nan_ok=True, abs=1e-12)


def test_ap_threshold_sequence_is_the_mean():
    rng = np.random.default_rng(3)
    t = [random_boxes(rng, 4)]
    p = [t[0] + rng.normal(0, 0.4, (4, 4))]
    s = [rng.random(4)]
    coco = np.arange(0.5, 1.0, 0.05)
    want = np.mean([metrics.average_precision(t, p, s, iou_threshold=x) for x in coco])
    assert metrics.average_precision(t, p, s, iou_threshold=coco) == pytest.approx(want)


def test_map_over_classes():
    g = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]])]
    gc = [np.array([0, 1])]
    p = [np.array([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10]])]
    pc = [np.array([0, 0, 2])]       # class 1 missed; class 2 is not in the truth: ignored
    s = [np.array([0.9, 0.8, 0.7])]
    value, per_class = metrics.mean_average_precision(g, gc, p, pc, s, per_class=True)
    assert per_class == {0: 1.0, 1: 0.0} and value == 0.5
    # per class it is average_precision on that class's boxes
    rng = np.random.default_rng(4)
    g = [random_boxes(rng, 5) for _ in range(3)]
    gc = [rng.integers(0, 3, 5) for _ in range(3)]
    p = [b + rng.normal(0, 0.5, (5, 4)) for b in g]
    pc = [np.where(rng.random(5) < 0.8, c, (c + 1) % 3) for c in gc]
    s = [rng.random(5) for _ in range(3)]
    value, per_class = metrics.mean_average_precision(g, gc, p, pc, s, iou_threshold=0.5,
                                                      per_class=True)
    for c, ap in per_class.items():
        want = ref_ap([b[k == c] for b, k in zip(g, gc)], [b[k == c] for b, k in zip(p, pc)],
                      [x[k == c] for x, k in zip(s, pc)], 0.5)
        assert ap == pytest.approx(want)
    assert value == pytest.approx(np.mean(list(per_class.values())))


def test_map_bad_input():
    one = [np.array([[0, 0, 1, 1]])]
    with pytest.raises(ValueError, match="pred_boxes has 2 images but true_boxes has 1"):
        metrics.mean_average_precision(one, [[0]], one * 2, [[0], [0]], [[1], [1]])
    with pytest.raises(ValueError, match=r"true_classes\[0\] has 2 classes for 1 boxes"):
        metrics.mean_average_precision(one, [[0, 1]], one, [[0]], [[1]])
    with pytest.raises(ValueError, match=r"pred_scores\[0\]\[0\] is NaN"):
        metrics.mean_average_precision(one, [[0]], one, [[0]], [[np.nan]])
    with pytest.raises(ValueError, match=r"pred_boxes\[0\].*negative width"):
        metrics.average_precision(one, [[[0, 0, -1, 1]]], [[0.5]])
    assert np.isnan(metrics.mean_average_precision([np.zeros((0, 4))], [[]], [np.zeros((0, 4))],
                                                   [[]], [[]]))
