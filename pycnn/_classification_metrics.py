"""Classification metrics that count outcomes at thresholds (exported by pycnn.metrics),
with Keras 3's names, arguments, defaults and rules (keras/src/metrics/confusion_metrics.py,
f_score_metrics.py, metrics_utils.py):

- ``Precision`` = TP / (TP + FP) and ``Recall`` = TP / (TP + FN), a prediction counting as
  positive when it is > threshold (0.5 by default; a list gives one value per threshold),
  optionally among each row's ``top_k`` or for one ``class_id``;
- ``AUC``: the area under the ROC or PR curve from TP/FP/TN/FN at ``num_thresholds``
  thresholds (Riemann sums, or Davis & Goadrich's interpolation for PR);
- ``F1Score`` / ``FBetaScore``: per class, or averaged (micro, macro, weighted).

Every metric is stateful (``update_state`` adds a batch, ``result`` reads the running value,
``reset_state`` starts over), so ``fit`` reports it over the whole epoch, not as a mean of
batch values. Labels count as positive when non-zero. Predictions are compared in the
metric's dtype (float32 by default, as Keras); the counts accumulate in float64. All of it
is vectorised NumPy: a sort and a search per batch (one bincount for AUC's even grid).
"""
import numpy as _np

from .metrics import Metric as _Metric

__all__ = ["Precision", "Recall", "AUC", "FBetaScore", "F1Score"]

EPSILON = 1e-7              # Keras' backend.epsilon()
NEG_INF = -1e10             # metrics_utils.NEG_INF: what top_k filters the rest down to


def _same_rank(x1, x2, expand_rank_1=True):
    """Keras' squeeze_or_expand_to_same_rank: ranks that differ by one trailing 1 align."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            return x1, x2[..., None]
        return x1[..., 0], x2
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            return x1[..., None], x2
        return x1, x2[..., 0]
    return x1, x2


def _dtype(dtype, cls):
    dtype = _np.dtype("float32" if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"{cls}: dtype must be a floating type, got {dtype}")
    return dtype


def _thresholds(thresholds, default, cls):
    values = [default] if thresholds is None else (
        list(thresholds) if isinstance(thresholds, (list, tuple, _np.ndarray))
        else [thresholds])
    if thresholds is not None:
        bad = [t for t in values if t is None or not 0 <= t <= 1]
        if bad:
            raise ValueError(f"{cls}: threshold values must be in [0, 1], got {bad}")
    return [float(t) for t in values]


def _prepare(y_true, y_pred, sample_weight, dtype, who):
    """(labels bool, predictions in dtype, weights float64 or None), all y_pred's shape."""
    y_pred = _np.asarray(y_pred).astype(dtype, copy=False)
    y_true = _np.asarray(y_true)
    y_pred, y_true = _same_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        try:
            y_true = _np.broadcast_to(y_true, y_pred.shape)
        except ValueError:
            raise ValueError(f"{who}: labels of shape {y_true.shape} do not fit predictions of "
                             f"shape {y_pred.shape}") from None
    labels = y_true.astype(dtype, copy=False) != 0
    weights = None
    if sample_weight is not None:
        weights = _np.asarray(sample_weight, dtype=_np.float64)[..., None]
        _, weights = _same_rank(y_true, weights, expand_rank_1=False)
        try:
            weights = _np.broadcast_to(weights, y_pred.shape)
        except ValueError:
            raise ValueError(f"{who}: sample_weight of shape {_np.shape(sample_weight)} does not "
                             f"fit predictions of shape {y_pred.shape}") from None
    return labels, y_pred, weights


def _filter_top_k(y_pred, k):
    """Each row's k largest keep their value, the others become NEG_INF."""
    if y_pred.ndim == 0 or y_pred.shape[-1] < k:
        raise ValueError(f"top_k={k} needs at least {k} predictions per row, got shape "
                         f"{y_pred.shape}")
    top = _np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    mask = _np.zeros(y_pred.shape, dtype=bool)
    _np.put_along_axis(mask, top, True, axis=-1)
    return _np.where(mask, y_pred, y_pred.dtype.type(NEG_INF))


def _counts_above(labels, y_pred, weights, thresholds, dtype):
    """TP, FP, TN, FN (float64, one per threshold) over every element: a prediction is
    positive at threshold t when it is > t (compared in dtype; NaN is never positive)."""
    p = _np.ravel(y_pred)
    p = _np.where(_np.isnan(p), -_np.inf, p)
    positive = _np.ravel(labels)
    w = _np.ones(p.shape) if weights is None else _np.ravel(weights)
    order = _np.argsort(p, kind="stable")
    pos_below = _np.concatenate([[0.0], _np.cumsum(_np.where(positive, w, 0.0)[order])])
    neg_below = _np.concatenate([[0.0], _np.cumsum(_np.where(positive, 0.0, w)[order])])
    # index i: how many predictions are <= t; those from i on are > t
    i = _np.searchsorted(p[order], _np.asarray(thresholds, dtype=dtype), side="right")
    tp, fp = pos_below[-1] - pos_below[i], neg_below[-1] - neg_below[i]
    return tp, fp, neg_below[i], pos_below[i]


def _divide_no_nan(a, b):
    a, b = _np.broadcast_arrays(_np.asarray(a, dtype=_np.float64),
                                _np.asarray(b, dtype=_np.float64))
    out = _np.zeros(a.shape)
    _np.divide(a, b, out=out, where=b != 0)
    return out


def _scalar_or_array(values):
    values = _np.asarray(values, dtype=_np.float64)
    return float(values) if values.ndim == 0 else values


class _ThresholdMetric(_Metric):
    """Precision's and Recall's shared state: counts at each threshold."""

    _counted = ()           # which of 'tp', 'fp', 'fn' this metric keeps

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        cls = type(self).__name__
        super().__init__(name or cls.lower())
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                                  or top_k < 1):
            raise ValueError(f"{cls}: top_k must be an integer >= 1 or None, got {top_k!r}")
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.dtype = _dtype(dtype, cls)
        self.thresholds = _thresholds(thresholds, 0.5 if top_k is None else NEG_INF, cls)
        self.reset_state()

    def reset_state(self):
        for key in ("tp", "fp", "fn"):
            setattr(self, key, _np.zeros(len(self.thresholds)))

    def update_state(self, y_true, y_pred, sample_weight=None):
        who = type(self).__name__
        labels, y_pred, weights = _prepare(y_true, y_pred, sample_weight, self.dtype, who)
        if self.top_k is not None:
            y_pred = _filter_top_k(y_pred, self.top_k)
        if self.class_id is not None:
            if y_pred.ndim < 2:
                raise ValueError(f"{who}: with class_id, y_pred must be (num_samples, "
                                 f"num_classes), got shape {y_pred.shape}")
            labels, y_pred = labels[..., self.class_id], y_pred[..., self.class_id]
            weights = None if weights is None else weights[..., self.class_id]
        tp, fp, _, fn = _counts_above(labels, y_pred, weights, self.thresholds, self.dtype)
        self.tp += tp
        self.fp += fp
        self.fn += fn

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype.name, "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}

    def _value(self, other):
        value = _divide_no_nan(self.tp, self.tp + other)
        return float(value[0]) if len(self.thresholds) == 1 else value

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result()!r}>"


class Precision(_ThresholdMetric):
    """TP / (TP + FP): of the predictions called positive (> threshold), the share that is.

    Args: thresholds=None (0.5; a float or a list of floats in [0, 1], then result() is one
    value per threshold), top_k=None (only each row's k highest scores may count as
    positive), class_id=None (only that column), name='precision', dtype=None (float32).
    """

    def result(self):
        return self._value(self.fp)


class Recall(_ThresholdMetric):
    """TP / (TP + FN): of the positive labels, the share predicted positive (> threshold).

    Args: as Precision; name='recall'.
    """

    def result(self):
        return self._value(self.fn)


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(_Metric):
    """The area under the ROC curve (or the PR curve), as Keras computes it: TP, FP, TN, FN
    at ``num_thresholds`` thresholds — 0 − ε, evenly spaced in between, 1 + ε — then a
    Riemann sum of the curve through those points (trapezoids for 'interpolation'; for PR,
    Davis & Goadrich's interpolation of precision between points).

    Args: num_thresholds=200, curve='ROC' ('PR', 'PRGAIN'), summation_method=
    'interpolation' ('minoring', 'majoring'), name='auc', dtype=None (float32),
    thresholds=None (your own, sorted, in [0, 1]; 0 − ε and 1 + ε are added),
    multi_label=False (True: one curve per label column, averaged, weighted by
    label_weights), num_labels=None, label_weights=None, from_logits=False.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name or "auc")
        if str(curve).lower() not in _CURVES:
            raise ValueError(f"AUC: invalid curve {curve!r}; expected one of 'ROC', 'PR', "
                             f"'PRGAIN'")
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(f"AUC: invalid summation_method {summation_method!r}; expected "
                             f"one of {', '.join(map(repr, _SUMMATIONS))}")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_thresholds(thresholds, None, "AUC"))
            self.num_thresholds = len(inner) + 2
            grid = _np.array([0.0] + inner + [1.0])
            even = _np.arange(len(grid), dtype=_np.float32) / (len(grid) - 1)
            self._evenly = len(grid) >= 3 and bool(_np.allclose(grid, even, atol=EPSILON))
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) \
                    or num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an integer > 1, got "
                                 f"num_thresholds={num_thresholds!r}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = _np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        self.dtype = _dtype(dtype, "AUC")
        self.multi_label = bool(multi_label)
        if num_labels and not self.multi_label:
            raise ValueError("AUC: num_labels is needed only when multi_label is True")
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else _np.asarray(label_weights, dtype=_np.float64))
        self._from_logits = bool(from_logits)
        self._num_labels = num_labels if self.multi_label else None
        self.reset_state()

    @property
    def thresholds(self):
        return list(self._thresholds)

    def reset_state(self):
        shape = (self.num_thresholds,) if not self.multi_label else (
            (self.num_thresholds, self._num_labels) if self._num_labels else None)
        for key in ("tp", "fp", "tn", "fn"):
            setattr(self, key, None if shape is None else _np.zeros(shape))

    def _grid_counts(self, labels, y_pred, weights):
        """Keras' bucket path for an even grid: bucket = ⌈clip(p, 0, 1)·(T − 1)⌉ − 1 (at
        least 0), weights summed per bucket, then summed from the top: TP/FP per
        threshold; TN/FN from the totals. Per label column when multi_label."""
        T = self.num_thresholds
        p = _np.clip(_np.nan_to_num(y_pred, nan=0.0), 0, 1)     # NaN: as a 0 prediction
        bucket = _np.ceil(p * p.dtype.type(T - 1)) - 1
        bucket = _np.maximum(bucket, 0).astype(_np.int64)   # the grid's ends are ±ε
        w = _np.ones(labels.shape) if weights is None else weights
        true_w, false_w = _np.where(labels, w, 0.0), _np.where(labels, 0.0, w)
        if self.multi_label:
            L = labels.shape[1]
            index = (bucket + T * _np.arange(L)).ravel()        # label-major buckets
            per = [_np.bincount(index, v.ravel(), minlength=T * L).reshape(L, T).T
                   for v in (true_w, false_w)]
        else:
            per = [_np.bincount(bucket.ravel(), v.ravel(), minlength=T)
                   for v in (true_w, false_w)]
        tp, fp = (_np.cumsum(v[::-1], axis=0)[::-1] for v in per)
        axis = 0 if self.multi_label else None
        return tp, fp, true_w.sum(axis=axis) - tp, false_w.sum(axis=axis) - fp

    def _general_counts(self, labels, y_pred, weights):
        if not self.multi_label:
            tp, fp, tn, fn = _counts_above(labels, y_pred, weights, self._thresholds,
                                           self.dtype)
            return tp, fp, fn, tn
        columns = [_counts_above(labels[:, j], y_pred[:, j],
                                 None if weights is None else weights[:, j],
                                 self._thresholds, self.dtype)
                   for j in range(labels.shape[1])]        # a loop over labels, not elements
        tp, fp, tn, fn = (_np.stack(c, axis=1) for c in zip(*columns))
        return tp, fp, fn, tn

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, y_pred, weights = _prepare(y_true, y_pred, sample_weight, self.dtype, "AUC")
        if self._from_logits:
            y_pred = (1.0 / (1.0 + _np.exp(-y_pred.astype(_np.float64)))).astype(self.dtype)
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError(f"AUC: y_pred must have rank 2 when multi_label=True, got "
                                 f"shape {y_pred.shape}")
            if self._num_labels is None:
                self._num_labels = y_pred.shape[1]
                self.reset_state()
            elif y_pred.shape[1] != self._num_labels:
                raise ValueError(f"AUC: built for {self._num_labels} labels, got predictions "
                                 f"of shape {y_pred.shape}")
        elif self.label_weights is not None:
            lw = _np.broadcast_to(self.label_weights, y_pred.shape)
            weights = lw if weights is None else weights * lw
        if self._evenly:
            tp, fp, fn, tn = self._grid_counts(labels, y_pred, weights)
        else:
            tp, fp, fn, tn = self._general_counts(labels, y_pred, weights)
        self.tp, self.fp, self.fn, self.tn = (self.tp + tp, self.fp + fp, self.fn + fn,
                                              self.tn + tn)

    def _average(self, by_label):
        if not self.multi_label:
            return float(_np.sum(by_label))
        by_label = _np.sum(by_label, axis=0)
        if self.label_weights is None:
            return float(_np.mean(by_label))
        return float(_divide_no_nan(_np.sum(by_label * self.label_weights),
                                    _np.sum(self.label_weights)))

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.tp, self.fp, self.fn
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, _np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = _np.where(both, _divide_no_nan(p[:-1], _np.maximum(p[1:], 0)), 1.0)
        increment = _divide_no_nan(slope * (dtp + intercept * _np.log(ratio)),
                                   _np.maximum(tp[1:] + fn[1:], 0))
        return self._average(increment)

    def result(self):
        if self.tp is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide_no_nan(tp, tp + fp)
        else:
            scale = _divide_no_nan(tp + fn, tn + fp)
            x = _np.maximum(_np.where(tp == 0, 0.0, 1.0 - scale * _divide_no_nan(fn, tp)), 0.0)
            y = _np.where(tp == 0, 1.0, 1.0 - scale * _divide_no_nan(fp, tp))
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = _np.minimum(y[:-1], y[1:])
        else:
            heights = _np.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype.name,
                  "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": (None if self.label_weights is None
                                    else self.label_weights.tolist()),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class FBetaScore(_Metric):
    """F-beta = (1 + β²)·P·R / (β²·P + R), per class from TP/FP/FN summed over the samples
    (Keras' FBetaScore): a prediction is positive when it is > threshold, or with
    threshold=None when it is its row's maximum (and |p| > 1e-9).

    Args: average=None (one value per class; 'micro': pooled counts; 'macro': mean of the
    classes; 'weighted': mean weighted by each class's positives), beta=1.0 (> 0),
    threshold=None (in (0, 1]), name='fbeta_score', dtype=None (float32).
    Inputs: (batch, classes) labels and predictions.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name)
        cls = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{cls}: invalid average {average!r}; expected one of None, "
                             f"'micro', 'macro', 'weighted'")
        if not isinstance(beta, float) or not beta > 0.0:
            raise ValueError(f"{cls}: beta must be a Python float > 0, got {beta!r}")
        if threshold is not None and (not isinstance(threshold, float)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError(f"{cls}: threshold must be a Python float with 0 < threshold "
                             f"<= 1, got {threshold!r}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.dtype = _dtype(dtype, cls)
        self.axis = None if average == "micro" else 0
        self.reset_state()

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = None
        self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _np.asarray(y_true).astype(self.dtype, copy=False)
        y_pred = _np.asarray(y_pred).astype(self.dtype, copy=False)
        cls = type(self).__name__
        if y_pred.ndim != 2 or y_true.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{cls} expects 2D inputs with shape (batch_size, output_dim); "
                             f"got y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}")
        if self.threshold is None:
            hit = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (_np.abs(y_pred) > 1e-9)
        else:
            hit = y_pred > self.threshold
        hit = hit.astype(_np.float64)
        truth = y_true.astype(_np.float64)
        w = None if sample_weight is None else _np.asarray(sample_weight, _np.float64)[:, None]

        def weighted_sum(values):
            return _np.sum(values if w is None else values * w, axis=self.axis)

        parts = (weighted_sum(hit * truth), weighted_sum(hit * (1 - truth)),
                 weighted_sum((1 - hit) * truth), weighted_sum(truth))
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.false_negatives, \
                self.intermediate_weights = parts
        else:
            self.true_positives = self.true_positives + parts[0]
            self.false_positives = self.false_positives + parts[1]
            self.false_negatives = self.false_negatives + parts[2]
            self.intermediate_weights = self.intermediate_weights + parts[3]

    def result(self):
        if self.true_positives is None:
            return 0.0
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        b2 = self.beta ** 2
        f = precision * recall / (b2 * precision + recall + EPSILON) * (1 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (_np.sum(self.intermediate_weights) + EPSILON)
            f = _np.sum(f * weights)
        elif self.average is not None:
            f = _np.mean(f)
        return _scalar_or_array(f)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype.name, "average": self.average,
                "beta": self.beta, "threshold": self.threshold}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result()!r}>"


class F1Score(FBetaScore):
    """F1 = 2·P·R / (P + R): FBetaScore with β = 1. Args: average=None, threshold=None,
    name='f1_score', dtype=None."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
