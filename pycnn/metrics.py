"""Metrics with Keras' names: functions that score predictions, and running means of them.

A metric function takes ``(y_true, y_pred)`` (NumPy arrays or Tensors) and returns one
value per sample (NumPy, vectorised; no graph is recorded: metrics are reported, not
trained on). A ``Metric`` object averages a function over the batches of an epoch,
weighting each sample equally, as ``fit`` reports it.

``'accuracy'`` (or ``'acc'``) means, as in Keras, the accuracy that fits the loss:
binary_crossentropy and multilabel_crossentropy → binary_accuracy (NaN labels, unknown,
left out), sparse_categorical_crossentropy →
sparse_categorical_accuracy, categorical_crossentropy → categorical_accuracy; for any
other loss it is chosen from the shapes (one output unit → binary; labels of lower rank
than the predictions, or a last dimension of 1 against several classes → sparse).
"""
import numpy as _np

__all__ = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
           "mean_squared_error", "mean_absolute_error", "Metric", "Mean",
           "MeanMetricWrapper", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "MeanSquaredError",
           "MeanAbsoluteError", "get", "resolve_accuracy"]


def _arrays(y_true, y_pred):
    return _np.asarray(y_true), _np.asarray(y_pred)


def _sparse_labels(y_true, y_pred):
    """Integer labels with the rank of y_pred minus one ((n, 1) → (n,))."""
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(f"sparse accuracy: labels of shape {y_true.shape} do not fit "
                         f"predictions of shape {y_pred.shape} (expected {y_pred.shape[:-1]})")
    return y_true.astype(_np.int64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """mean over the last axis of [ (y_pred > threshold) == y_true ]      per sample

    A label given as NaN is unknown (the lecture's multi-label "?"): it is left out
    of the mean (a sample with no known label scores NaN)."""
    y_true, y_pred = _same_rank(*_arrays(y_true, y_pred))
    if y_true.shape != y_pred.shape and y_true.shape == y_pred.shape[:-1]:
        y_true = y_true[..., None]
    hits = (y_pred > threshold) == (y_true > 0.5)
    if hits.ndim == 1:
        return hits.astype(_np.float64)
    known = ~_np.isnan(y_true) if y_true.dtype.kind == "f" else _np.ones(hits.shape, bool)
    known = _np.broadcast_to(known, hits.shape)
    with _np.errstate(invalid="ignore", divide="ignore"):
        return _np.sum(hits & known, axis=-1) / _np.sum(known, axis=-1)


def categorical_accuracy(y_true, y_pred):
    """[ argmax y_pred == argmax y_true ]  (one-hot labels)                per sample"""
    y_true, y_pred = _arrays(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"categorical_accuracy: one-hot labels of shape {y_true.shape} do not "
                         f"match predictions of shape {y_pred.shape} (integer labels? use "
                         f"sparse_categorical_accuracy)")
    return (_np.argmax(y_pred, axis=-1) == _np.argmax(y_true, axis=-1)).astype(_np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """[ argmax y_pred == y_true ]  (integer labels)                       per sample"""
    y_true, y_pred = _arrays(y_true, y_pred)
    labels = _sparse_labels(y_true, y_pred)
    return (_np.argmax(y_pred, axis=-1) == labels).astype(_np.float64)


def _in_top_k(labels, y_pred, k):
    # the label is in the top k when fewer than k classes score strictly higher
    label_score = _np.take_along_axis(y_pred, labels[..., None], axis=-1)
    return (_np.sum(y_pred > label_score, axis=-1) < k).astype(_np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """[ the true class is among the k highest scores ]  (one-hot labels)  per sample"""
    y_true, y_pred = _arrays(y_true, y_pred)
    return _in_top_k(_np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """[ the true class is among the k highest scores ]  (integer labels)  per sample"""
    y_true, y_pred = _arrays(y_true, y_pred)
    return _in_top_k(_sparse_labels(y_true, y_pred), y_pred, k)


def _same_rank(y_true, y_pred):
    """Keras' rank alignment (squeeze_or_expand_to_same_rank): ranks that differ by a
    trailing 1 compare element by element, not as an (n, n) broadcast — a rank-1 side
    gains the axis, a higher one loses it."""
    for a, b, swap in ((y_true, y_pred, False), (y_pred, y_true, True)):
        if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
            a, b = (a, b[..., None]) if b.ndim == 1 else (a[..., 0], b)
            return (b, a) if swap else (a, b)
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    """mean over the last axis of (y_true − y_pred)²                       per sample"""
    y_true, y_pred = _same_rank(*_arrays(y_true, y_pred))
    return _np.mean(_np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean over the last axis of |y_true − y_pred|                        per sample"""
    y_true, y_pred = _same_rank(*_arrays(y_true, y_pred))
    return _np.mean(_np.abs(y_true - y_pred), axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


class Metric:
    """A running value over batches: ``update_state``, ``result``, ``reset_state``."""

    def __init__(self, name):
        self.name = name

    def update_state(self, y_true, y_pred):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred):
        """Keras' call: update, then return the running result."""
        self.update_state(y_true, y_pred)
        return self.result()

    def get_config(self):
        return {"name": self.name}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.4f}>"


class Mean(Metric):
    """The weighted mean of the values given: Σ w·v / Σ w."""

    def __init__(self, name="mean"):
        super().__init__(name)
        self.reset_state()

    def update_state(self, values, sample_weight=None):
        values = _np.asarray(values, dtype=_np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            weight = _np.broadcast_to(_np.asarray(sample_weight, _np.float64), values.shape)
            self.total += float(_np.sum(values * weight))
            self.count += float(weight.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0

    def reset_state(self):
        self.total, self.count = 0.0, 0


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)`` over every sample seen."""

    def __init__(self, fn, name=None, **kwargs):
        super().__init__(name or fn.__name__)
        self.fn = fn
        self.kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.kwargs), sample_weight)

    def get_config(self):
        return {"name": self.name, **self.kwargs}


def _wrapper_class(fn, default_name, doc):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, **kwargs)
        self.dtype = dtype          # Keras' argument; the running mean is float64
    cls_name = "".join(part.capitalize() for part in default_name.split("_"))
    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc})


BinaryAccuracy = _wrapper_class(binary_accuracy, "binary_accuracy",
                                "Running binary accuracy (threshold=0.5).")
CategoricalAccuracy = _wrapper_class(categorical_accuracy, "categorical_accuracy",
                                     "Running accuracy against one-hot labels.")
SparseCategoricalAccuracy = _wrapper_class(sparse_categorical_accuracy,
                                           "sparse_categorical_accuracy",
                                           "Running accuracy against integer labels.")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Running top-k accuracy against one-hot labels: how often the true class is among the
    k highest scores. Args (Keras'): k=5, name='top_k_categorical_accuracy', dtype=None."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        if isinstance(k, bool) or not isinstance(k, (int, _np.integer)) or k < 1:
            raise ValueError(f"TopKCategoricalAccuracy: k must be an integer >= 1, got {k!r}")
        super().__init__(top_k_categorical_accuracy, name=name, k=int(k))
        self.k = int(k)
        self.dtype = dtype


MeanSquaredError = _wrapper_class(mean_squared_error, "mean_squared_error",
                                  "Running mean squared error.")
MeanAbsoluteError = _wrapper_class(mean_absolute_error, "mean_absolute_error",
                                   "Running mean absolute error.")

# ---- metrics that count outcomes at thresholds (imported here: they subclass Metric) -----
from ._classification_metrics import AUC, F1Score, FBetaScore, Precision, Recall  # noqa: E402

__all__ += ["Precision", "Recall", "AUC", "FBetaScore", "F1Score"]
_CLASSES = {"precision": Precision, "recall": Recall, "auc": AUC, "f1_score": F1Score,
            "fbeta_score": FBetaScore}

_FUNCTIONS = {f.__name__: f for f in (
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
    mean_absolute_error)}
_FUNCTIONS.update(mse=mean_squared_error, mae=mean_absolute_error)

_ACCURACY_FOR_LOSS = {
    "binary_crossentropy": binary_accuracy,
    "multilabel_crossentropy": binary_accuracy,
    "categorical_crossentropy": categorical_accuracy,
    "sparse_categorical_crossentropy": sparse_categorical_accuracy,
}


def resolve_accuracy(loss_name=None, y_true_shape=None, y_pred_shape=None):
    """The accuracy function that 'accuracy' means for this loss (or these shapes)."""
    if loss_name in _ACCURACY_FOR_LOSS:
        return _ACCURACY_FOR_LOSS[loss_name]
    if y_pred_shape is None or y_true_shape is None:
        return categorical_accuracy
    if y_pred_shape[-1] == 1:
        return binary_accuracy
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


def get(identifier, loss_name=None, y_true_shape=None, y_pred_shape=None):
    """A Metric object for a name, a metric function, or a Metric (returned as is).

    'accuracy'/'acc' resolve through ``resolve_accuracy``; the Metric keeps the name it
    was asked by ('accuracy'), which becomes its key in the History.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            fn = resolve_accuracy(loss_name, y_true_shape, y_pred_shape)
            return MeanMetricWrapper(fn, name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        fn = _FUNCTIONS.get(identifier)
        if fn is None:
            raise ValueError(f"metrics.get: unknown metric {identifier!r} (known: 'accuracy', "
                             f"{', '.join(repr(k) for k in sorted([*_FUNCTIONS, *_CLASSES]))})")
        return MeanMetricWrapper(fn, name=identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise TypeError(f"metrics.get: expected a name, a function or a Metric, got "
                    f"{type(identifier).__name__}")


# ---- the task zoo's metrics: detection, points, segmentation, multi-label, YOLO's parts ----
# (each topic in its own module; imported last, as some subclass Metric)
from ._box_metrics import (average_precision, batched_non_max_suppression, iou,  # noqa: E402
                           mean_average_precision, non_max_suppression)
from ._mask_metrics import MeanIoU, PixelAccuracy, confusion_matrix, pixel_accuracy  # noqa: E402
from ._multilabel_metrics import multilabel_precision_recall_f1  # noqa: E402
from ._point_metrics import mean_point_error, pck  # noqa: E402
from ._yolo_metrics import YOLO_PARTS, YoloLossPart, yolo_loss_parts  # noqa: E402

__all__ += ["iou", "non_max_suppression", "batched_non_max_suppression", "average_precision",
            "mean_average_precision", "MeanIoU", "PixelAccuracy", "pixel_accuracy",
            "confusion_matrix", "pck", "mean_point_error", "multilabel_precision_recall_f1",
            "YoloLossPart", "yolo_loss_parts", "YOLO_PARTS"]
