"""The task zoo's other metrics: PCK and point error (pycnn/_point_metrics.py), MeanIoU and
pixel accuracy (pycnn/_mask_metrics.py), multi-label precision/recall/F1 with unknown
labels (pycnn/_multilabel_metrics.py): hand cases, plain twins, Keras and scikit-learn."""
import os

import numpy as np
import pytest

from pycnn import metrics

os.environ.setdefault("KERAS_BACKEND", "torch")


# ---- points ------------------------------------------------------------------------------

def test_pck_and_point_error_hand_case():
    true = np.array([[[0, 0], [30, 40]]], float)           # bounding-box diagonal 50
    pred = np.array([[[3, 4], [30, 46]]], float)           # errors 5 and 6
    assert metrics.pck(true, pred, 0.1) == 0.5             # radius 5: 5 <= 5, 6 > 5
    assert metrics.pck(true, pred, 0.12) == 1.0
    assert metrics.pck(true, pred, 0.1, reference=100) == 1.0
    assert metrics.pck(true, pred, 0.1, reference=[10]) == 0.0
    assert metrics.mean_point_error(true, pred) == 5.5
    # the flat (N, 2M) layout of a regression head means the same points
    assert metrics.pck(true.reshape(1, 4), pred.reshape(1, 4)) == 0.5
    assert metrics.mean_point_error(true.reshape(1, 4), pred.reshape(1, 4)) == 5.5


def ref_pck(true, pred, threshold):
    hits = total = 0
    for t, p in zip(true, pred):
        vis = [k for k in range(len(t)) if not np.isnan(t[k]).any()]
        pts = np.array([t[k] for k in vis])
        diag = np.hypot(*(pts.max(0) - pts.min(0))) if vis else 0.0
        for k in vis:
            total += 1
            hits += np.hypot(*(p[k] - t[k])) <= threshold * diag
    return hits / total


def test_pck_matches_twin_and_leaves_out_invisible_points():
    rng = np.random.default_rng(0)
    true = rng.uniform(0, 32, (20, 5, 2))
    pred = true + rng.normal(0, 2, true.shape)
    true[3, 1] = np.nan                                     # an occluded joint
    true[7, :] = np.nan                                     # a sample with none visible
    for threshold in (0.05, 0.1, 0.2):
        assert metrics.pck(true, pred, threshold) == pytest.approx(ref_pck(true, pred, threshold))
    visible = ~np.isnan(true[..., 0])
    want = np.mean(np.hypot(*(pred - true)[visible].T))
    assert metrics.mean_point_error(true, pred) == pytest.approx(want)
    assert np.isnan(metrics.pck(np.full((1, 2, 2), np.nan), np.zeros((1, 2, 2))))


def test_point_metrics_bad_input():
    with pytest.raises(ValueError, match=r"true_points shape \(1, 2, 2\) does not match"):
        metrics.pck(np.zeros((1, 2, 2)), np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match=r"\(N, M, 2\) or \(N, 2M\)"):
        metrics.mean_point_error(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one length per sample"):
        metrics.pck(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), reference=[1, 2, 3])
    with pytest.raises(ValueError, match="NaN where the true point is known"):
        metrics.pck(np.zeros((1, 1, 2)), np.full((1, 1, 2), np.nan))
    with pytest.raises(ValueError, match="threshold"):
        metrics.pck(np.zeros((1, 1, 2)), np.zeros((1, 1, 2)), threshold=-1)


# ---- segmentation -----------------------------------------------------------------------

def test_mean_iou_hand_case():
    m = metrics.MeanIoU(num_classes=3)
    m.update_state([0, 0, 1, 1], [0, 1, 1, 1])
    # class 0: TP 1, FN 1 -> 1/2; class 1: TP 2, FP 1 -> 2/3; class 2 never seen: left out
    np.testing.assert_allclose(m.result_per_class(), [0.5, 2 / 3, np.nan])
    assert m.result() == pytest.approx((0.5 + 2 / 3) / 2)
    m.update_state([[2]], [[2]])                             # batches accumulate
    assert m.result() == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    m.reset_state()
    assert m.result() == 0.0


def test_mean_iou_scores_ignore_class_and_bad_input():
    scores = np.eye(3)[[0, 1, 1, 2]]                          # (4, 3) one-hot scores
    m = metrics.MeanIoU(3, sparse_y_pred=False, ignore_class=2)
    m.update_state([0, 0, 1, 2], scores)
    np.testing.assert_allclose(m.result_per_class(), [0.5, 0.5, np.nan])
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        metrics.MeanIoU(3).update_state([0, 3], [0, 0])
    with pytest.raises(ValueError, match="use sparse_y_pred=False"):
        metrics.MeanIoU(3).update_state([0, 1], scores[:2])
    with pytest.raises(ValueError, match="num_classes"):
        metrics.MeanIoU(0)


def test_mean_iou_matches_keras():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(1)
    ours, theirs = metrics.MeanIoU(4, ignore_class=3), keras.metrics.MeanIoU(4, ignore_class=3)
    for _ in range(3):
        t, p = rng.integers(0, 4, (2, 8, 8)), rng.integers(0, 3, (2, 8, 8))
        ours.update_state(t, p)
        theirs.update_state(t, p)
    assert ours.result() == pytest.approx(float(keras.ops.convert_to_numpy(theirs.result())),
                                          rel=1e-6)
    np.testing.assert_allclose(ours.total_cm, keras.ops.convert_to_numpy(theirs.total_cm))
    assert ours.name == theirs.name
    # scores arg-maxed along the last axis, and per-pixel weights (integers: Keras keeps
    # its confusion matrix in int32 and truncates fractional weights, pycnn does not)
    ours = metrics.MeanIoU(3, sparse_y_pred=False)
    theirs = keras.metrics.MeanIoU(3, sparse_y_pred=False)
    t, p, w = rng.integers(0, 3, (4, 5)), rng.random((4, 5, 3)), rng.integers(0, 4, (4, 5))
    ours.update_state(t, p, sample_weight=w)
    theirs.update_state(t, p, sample_weight=w)
    assert ours.result() == pytest.approx(float(keras.ops.convert_to_numpy(theirs.result())),
                                          rel=1e-5)


def test_pixel_accuracy():
    t = np.array([[0, 1], [2, 255]])
    p = np.array([[0, 1], [1, 0]])
    assert metrics.pixel_accuracy(t, p) == 0.5
    assert metrics.pixel_accuracy(t, p, ignore_index=255) == pytest.approx(2 / 3)
    scores = np.eye(3)[[[0, 1], [1, 0]]]                      # (2, 2, 3): argmax is p
    assert metrics.pixel_accuracy(t, scores, ignore_index=255) == pytest.approx(2 / 3)
    running = metrics.PixelAccuracy(ignore_index=255)
    running.update_state(t, p)
    running.update_state(np.array([[0]]), np.array([[0]]))
    assert running.result() == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match="do not fit predictions"):
        metrics.pixel_accuracy(t, p[:1])


def test_confusion_matrix_matches_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    t, p = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p, 5),
                                  sk.confusion_matrix(t, p, labels=range(5)))


# ---- multi-label with unknown labels ------------------------------------------------------

def test_multilabel_hand_case():
    nan = np.nan
    y = np.array([[1, 0, nan], [1, nan, 1], [0, 1, 0], [nan, 1, 0]])
    p = np.array([[0.9, 0.8, 0.9], [0.2, 0.9, 0.7], [0.6, 0.7, 0.1], [0.9, 0.1, 0.1]])
    precision, recall, f1, support = metrics.multilabel_precision_recall_f1(y, p)
    # class 0 (rows 0-2): TP 1, FP 1, FN 1; class 1 (rows 0, 2, 3): TP 1, FP 1, FN 1;
    # class 2 (rows 1-3): TP 1, FP 0, FN 0 — the "?" entries count nowhere
    np.testing.assert_allclose(precision, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(recall, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(f1, [0.5, 0.5, 1.0])
    assert support.tolist() == [2, 2, 1]


def test_multilabel_matches_sklearn_on_the_known_labels():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y = (rng.random((60, 4)) < 0.4).astype(float)
    y[rng.random(y.shape) < 0.3] = np.nan
    p = rng.random((60, 4))
    y[:, 3] = np.where(np.isnan(y[:, 3]), np.nan, 0)         # a class never present: 0/0
    precision, recall, f1, support = metrics.multilabel_precision_recall_f1(y, p, 0.5)
    for k in range(4):
        known = ~np.isnan(y[:, k])
        want = sk.precision_recall_fscore_support(y[known, k], p[known, k] > 0.5,
                                                  average="binary", zero_division=0)
        np.testing.assert_allclose([precision[k], recall[k], f1[k]], want[:3])


def test_multilabel_bad_input():
    with pytest.raises(ValueError, match=r"must both be \(N, K\)"):
        metrics.multilabel_precision_recall_f1(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="0 or 1"):
        metrics.multilabel_precision_recall_f1([[2.0]], [[0.5]])
    with pytest.raises(ValueError, match="NaN where the label is known"):
        metrics.multilabel_precision_recall_f1([[1.0]], [[np.nan]])
