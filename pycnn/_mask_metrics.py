"""Segmentation metrics: Keras' ``MeanIoU`` (with the IoU of every class too) and pixel
accuracy. Re-exported by ``pycnn.metrics``.

Labels are integer class maps, e.g. (N, H, W); predictions are either class maps of the
same shape or per-pixel scores (N, H, W, K), whose arg-max is the predicted class.
"""
import numpy as np

from .metrics import Metric

__all__ = ["MeanIoU", "PixelAccuracy", "pixel_accuracy", "confusion_matrix"]


def _labels(values, num_classes, op, what):
    v = np.asarray(values)
    if v.dtype.kind == "f" and v.size and not np.all(v == np.round(v)):
        raise ValueError(f"{op}: {what} must hold integer classes (scores? use "
                         f"sparse_y_pred=False)")
    v = v.astype(np.int64)
    if v.size and (v.min() < 0 or v.max() >= num_classes):
        raise ValueError(f"{op}: {what} holds classes from {int(v.min())} to {int(v.max())}, "
                         f"outside [0, {num_classes})")
    return v


def confusion_matrix(y_true, y_pred, num_classes):
    """(num_classes, num_classes) counts: rows the true class, columns the predicted one."""
    t = _labels(y_true, num_classes, "confusion_matrix", "y_true").reshape(-1)
    p = _labels(y_pred, num_classes, "confusion_matrix", "y_pred").reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: {t.size} labels but {p.size} predictions")
    return np.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(
        num_classes, num_classes)


class MeanIoU(Metric):
    """Keras' ``MeanIoU``: the mean over classes of IoU_c = TP_c / (TP_c + FP_c + FN_c),
    from a confusion matrix accumulated over every batch.

    Classes that appear neither in the labels nor in the predictions have no IoU and are
    left out of the mean (Keras). ``result_per_class()`` gives every IoU_c (NaN for
    those).

    Args:
        num_classes: K; labels and predictions lie in [0, K).
        ignore_class: a label whose pixels are not counted (a "don't care" border).
        sparse_y_true, sparse_y_pred: True — class indices; False — scores along
            ``axis``, turned into classes by arg-max. Keras' default is class indices
            for both, so with ``compile(metrics=[MeanIoU(K, sparse_y_pred=False)])`` a
            softmax output is arg-maxed.

    Differences from Keras: a label or prediction outside [0, K) raises ValueError
    (Keras drops it silently), and fractional ``sample_weight`` counts as given (Keras'
    int32 confusion matrix truncates it).
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
            raise ValueError(f"MeanIoU: num_classes must be an int >= 1, got {num_classes!r}")
        super().__init__(name or "mean_io_u")
        self.num_classes = int(num_classes)
        self.dtype = dtype
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.reset_state()

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes), np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        if y_true.size != y_pred.size:
            raise ValueError(f"MeanIoU: {y_true.size} labels but {y_pred.size} predictions "
                             f"(scores? use sparse_y_pred=False)")
        weight = None
        if sample_weight is not None:
            weight = np.asarray(sample_weight, np.float64)
            try:
                weight = np.broadcast_to(weight, y_pred.shape).reshape(-1)
            except ValueError:
                raise ValueError(f"MeanIoU: sample_weight of shape {weight.shape} does not fit "
                                 f"predictions of shape {y_pred.shape}") from None
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
        if self.ignore_class is not None:
            keep = y_true != self.ignore_class
            y_true, y_pred = y_true[keep], y_pred[keep]
            weight = None if weight is None else weight[keep]
        t = _labels(y_true, self.num_classes, "MeanIoU", "y_true")
        p = _labels(y_pred, self.num_classes, "MeanIoU", "y_pred")
        k = self.num_classes
        self.total_cm += np.bincount(t * k + p, weights=weight, minlength=k * k).reshape(k, k)

    def result_per_class(self):
        """IoU_c of every class, (num_classes,); NaN for a class never seen."""
        tp = np.diag(self.total_cm)
        denominator = self.total_cm.sum(axis=0) + self.total_cm.sum(axis=1) - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, tp / denominator, np.nan)

    def result(self):
        per_class = self.result_per_class()
        valid = ~np.isnan(per_class)
        return float(per_class[valid].mean()) if valid.any() else 0.0

    def get_config(self):
        return {"name": self.name, "num_classes": self.num_classes, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


def _pixel_counts(y_true, y_pred, ignore_index):
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if p.ndim == t.ndim + 1:
        p = np.argmax(p, axis=-1)
    if t.shape != p.shape:
        raise ValueError(f"pixel_accuracy: labels of shape {t.shape} do not fit predictions of "
                         f"shape {np.shape(y_pred)} (class maps of the same shape, or scores "
                         f"with one more axis)")
    counted = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
    return int(np.sum((t == p) & counted)), int(np.sum(counted))


def pixel_accuracy(y_true, y_pred, ignore_index=None):
    """The fraction of pixels whose predicted class is the true one, over every pixel
    whose label is not ``ignore_index`` (NaN when none is counted).

    y_pred: class maps shaped like y_true, or scores with one more (last) axis."""
    correct, counted = _pixel_counts(y_true, y_pred, ignore_index)
    return correct / counted if counted else float("nan")


class PixelAccuracy(Metric):
    """``pixel_accuracy`` accumulated over batches: Σ correct / Σ counted pixels."""

    def __init__(self, ignore_index=None, name="pixel_accuracy"):
        super().__init__(name)
        self.ignore_index = ignore_index
        self.reset_state()

    def reset_state(self):
        self.correct, self.counted = 0, 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        correct, counted = _pixel_counts(y_true, y_pred, self.ignore_index)
        self.correct += correct
        self.counted += counted

    def result(self):
        return self.correct / self.counted if self.counted else 0.0

    def get_config(self):
        return {"name": self.name, "ignore_index": self.ignore_index}
