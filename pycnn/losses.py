"""Losses: every loss of the lecture, each one fused C node with a C backward.

Call a function, ``loss = pycnn.losses.categorical_crossentropy(y_true, y_pred)``, or
configure a class, ``pycnn.losses.CategoricalCrossentropy(from_logits=True)``, or name one,
``pycnn.losses.get('mse')``. Arguments follow Keras: ``(y_true, y_pred)``; ``y_true`` may
be a NumPy array, a list or a Tensor and never receives a gradient.

Formulas (m = number of samples, per sample i; the last axis holds the K outputs)::

    squared_error         (1/m) Σ_i Σ_j ½ (s_j − ŝ_j)²     the lecture's regression loss: boxes
                                                           (c_x, c_y, w, h), landmarks and pose
                                                           keypoints (x_1, y_1, …, x_M, y_M);
                                                           Σ_j runs over every non-batch axis
    mean_squared_error    (1/m) Σ_i (1/K) Σ_k (y_k − ŷ_k)²  Keras' 'mse': mean over the last
                                                           axis, then over all leading axes
    categorical_crossentropy          (1/m) Σ_i Σ_k −y_k ln p_k
    sparse_categorical_crossentropy   (1/m') Σ_i −ln p_{y_i}   integer labels y_i = j; m' counts
                                                           the labels that are not ignore_index
    binary_crossentropy   (1/m) Σ_i (1/K) Σ_k [−y_k ln p_k − (1 − y_k) ln(1 − p_k)]
    multilabel_crossentropy  (1/m) Σ_i Σ_{k: y_k known} [−y_k ln p_k − (1 − y_k) ln(1 − p_k)]
                                                           y_k = NaN is the lecture's "?":
                                                           no loss and exactly 0 gradient
    yolo_loss             YOLO v1 (the lecture's equation 3), see yolo_loss

Keras' other losses, ``mean_absolute_error`` ('mae'), ``mean_absolute_percentage_error``,
``mean_squared_logarithmic_error``, ``huber``, ``log_cosh``, ``kl_divergence``, ``poisson``,
``hinge``, ``squared_hinge``, ``categorical_hinge`` and ``cosine_similarity`` (and their
classes), are composed from pycnn.ops: a few element-wise nodes and a mean, Keras' formulas.

From probabilities, p is clipped to [1e-7, 1 − 1e-7] (Keras' epsilon; the clipped part
has gradient 0), so p = 0 or 1 gives a finite loss and gradient; categorical and sparse
cross-entropy first rescale p to sum to 1 along the last axis, as Keras does. With
``from_logits=True`` the cross-entropies take scores z instead, fused with log-softmax
(categorical: ln p_k = z_k − log Σ_j e^{z_j}) or log-sigmoid (binary: max(z, 0) − z y +
ln(1 + e^{−|z|})): exact and finite for logits of ±1000.

Samples: every axis but the last is a sample axis, so (N, H, W, C) predictions with
(N, H, W) labels are semantic segmentation as pixel-wise classification (squared_error
is the exception: a sample is everything after the first axis).

Shapes as Keras aligns them: when the ranks of y_true and y_pred differ by one and the
longer ends in an axis of 1, mean_squared_error, categorical and binary cross-entropy drop
that axis, or add it to a rank-1 side (labels (n,) with a Dense(1) output (n, 1) are fine).
mean_squared_error then broadcasts y_true − y_pred, as Keras computes it ((n, 3) against
(n, 1) or (3,)); the cross-entropies need equal shapes.

``reduction``: ``'mean'`` (default; Keras' ``'sum_over_batch_size'`` is accepted too) and
``'sum'`` give a scalar Tensor; ``'none'`` gives one value per sample (shape
``y_pred.shape[:-1]``, or ``(N,)`` for squared_error and yolo_loss); ``None`` is 'none'.
A Loss object also takes Keras' ``sample_weight`` (see ``Loss``). Unlike Keras' functions
(which return per-sample values), these functions reduce by default, as their classes do.

The graph: each loss is one node with ``t.parents == (y_pred, y_true)``, y_true a constant
Tensor (for sparse_categorical_crossentropy: the labels as floats of y_pred's dtype, shape
``y_pred.shape[:-1]``). ``t.op`` names the variant:

    squared_error, mean_squared_error,
    categorical_crossentropy, categorical_crossentropy_from_logits,
    sparse_categorical_crossentropy, sparse_categorical_crossentropy_from_logits,
    binary_crossentropy, binary_crossentropy_from_logits,
    multilabel_crossentropy, multilabel_crossentropy_from_logits,
    yolo_loss (the total and each of its parts)

(The node only exists when y_pred requires grad and recording is on, as for every op.)

    >>> import pycnn
    >>> round(pycnn.losses.categorical_crossentropy([[0, 1, 0]], [[0.3, 0.6, 0.1]]).item(), 4)
    0.5108
"""
import numpy as _np

from . import _composed_losses as _cl
from . import _core

__all__ = ["squared_error", "mean_squared_error", "mse", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "binary_crossentropy", "multilabel_crossentropy",
           "yolo_loss", "Loss", "SquaredError", "MeanSquaredError", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "BinaryCrossentropy", "MultilabelCrossentropy",
           "YoloLoss", "get", "serialize"]

YOLO_PARTS = ("coord_xy", "coord_wh", "obj", "noobj", "cls")



# ---- Keras' shape rules, applied before the C loss ----------------------------------------

def _shape(x):
    return tuple(x.shape) if isinstance(x, _core.Tensor) else _np.shape(x)


def _reshape(x, shape):
    if isinstance(x, _core.Tensor):
        return _core.reshape(x, shape)
    return _np.reshape(_np.asarray(x), shape)


def _align_ranks(y_true, y_pred):
    """Keras' squeeze_or_expand_to_same_rank: when the ranks differ by one and the longer
    one ends in an axis of 1, a rank-1 side gains that axis ((n,) with (n, 1) → both
    (n, 1)), otherwise the longer side loses it ((n, h, w) with (n, h, w, 1) → (n, h, w))."""
    st, sp = _shape(y_true), _shape(y_pred)
    if len(st) == len(sp) + 1 and st[-1] == 1:
        if len(sp) == 1:
            y_pred = _reshape(y_pred, sp + (1,))
        else:
            y_true = _reshape(y_true, st[:-1])
    elif len(sp) == len(st) + 1 and sp[-1] == 1:
        if len(st) == 1:
            y_true = _reshape(y_true, st + (1,))
        else:
            y_pred = _reshape(y_pred, sp[:-1])
    return y_true, y_pred


def _broadcast_together(y_true, y_pred):
    """Both sides broadcast to their common shape, as Keras' MSE computes y_true − y_pred
    (the gradient of a broadcast y_pred sums back). Shapes that do not broadcast are left
    for the C loss to reject with its message."""
    st, sp = _shape(y_true), _shape(y_pred)
    if st == sp:
        return y_true, y_pred
    try:
        shape = _np.broadcast_shapes(st, sp)
    except ValueError:
        return y_true, y_pred
    if st != shape:
        values = y_true.numpy() if isinstance(y_true, _core.Tensor) else _np.asarray(y_true)
        if values.dtype.kind not in "biuf":
            return y_true, y_pred       # not numbers: the C loss names the problem
        y_true = _np.ascontiguousarray(_np.broadcast_to(values, shape))
    if sp != shape:
        if isinstance(y_pred, _core.Tensor):
            y_pred = _core.multiply(y_pred, _core.tensor(_np.ones(shape, y_pred.dtype)))
        else:
            y_pred = _np.ascontiguousarray(_np.broadcast_to(_np.asarray(y_pred), shape))
    return y_true, y_pred


_REDUCTION_NAMES = {None: "none", "none": "none", "mean": "mean", "sum": "sum",
                    "sum_over_batch_size": "mean", "mean_with_sample_weight": "mean"}


def _reduction(reduction, who):
    """pycnn's name ('mean', 'sum', 'none') for a Keras reduction."""
    try:
        return _REDUCTION_NAMES[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r} (Keras' 'sum_over_batch_size', "
                         f"'mean_with_sample_weight' and None are accepted too)") from None


def squared_error(y_true, y_pred, reduction="mean"):
    """The lecture's regression loss: (1/m) Σ_i Σ_j ½ (s_j − ŝ_j)².

    For bounding boxes (c_x, c_y, w, h), facial landmarks and pose keypoints
    (x_1, y_1, …, x_M, y_M). Σ_j runs over every axis after the first (the batch), so
    keypoints may come as (N, 2M) or (N, M, 2). Compare ``mean_squared_error``.

    Example: ``squared_error([[1, 2]], [[2, 4]])`` is ½ (1 + 4) = 2.5.
    """
    return _core._squared_error(y_true, y_pred,
                                reduction=_reduction(reduction, "squared_error"))


def mean_squared_error(y_true, y_pred, reduction="mean"):
    """Keras' MSE: (1/K) Σ_k (y_k − ŷ_k)² over the last axis, then the mean over the rest.

    Differs from ``squared_error`` by the ½ and by averaging (not summing) over outputs:
    mse = 2 · squared_error / K for (N, K) data.
    """
    y_true, y_pred = _broadcast_together(*_align_ranks(y_true, y_pred))
    return _core._mean_squared_error(y_true, y_pred,
                                     reduction=_reduction(reduction, "mean_squared_error"))


mse = mean_squared_error


def categorical_crossentropy(y_true, y_pred, from_logits=False, reduction="mean"):
    """(1/m) Σ_i Σ_k −y_k ln p_k for one-hot (or soft) targets y over the last axis.

    From probabilities, p is rescaled to sum to 1 and clipped to [1e-7, 1 − 1e-7]
    (Keras). ``from_logits=True``: y_pred are scores, fused with log-softmax (exact at
    ±1000). Lecture check: y = [0, 1, 0], p = [0.3, 0.6, 0.1] → −ln 0.6 = 0.5108.
    """
    y_true, y_pred = _align_ranks(y_true, y_pred)
    return _core._categorical_crossentropy(
        y_true, y_pred, from_logits, reduction=_reduction(reduction, "categorical_crossentropy"))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_index=None,
                                    reduction="mean", ignore_class=None):
    """Cross-entropy with integer labels: −ln p_{y} per row, y = j the true class.

    Args:
        y_true: class indices of shape ``y_pred.shape[:-1]`` (or with a trailing 1), any
            leading shape: (N,) for classification, (N, H, W) for segmentation.
        y_pred: (..., C) probabilities (or scores with ``from_logits=True``).
        ignore_index: a label value whose rows don't count (e.g. unlabelled pixels); the
            mean is over the counted rows (0 when none counts). ``ignore_class`` is the
            Keras spelling of the same.

    Raises:
        ValueError: a label that is not an integer in [0, C) (and not ignore_index),
            naming the label and its index; shapes that do not fit.
    """
    if ignore_class is not None:
        if ignore_index is not None and ignore_index != ignore_class:
            raise ValueError(f"sparse_categorical_crossentropy: ignore_index={ignore_index} "
                             f"and ignore_class={ignore_class} disagree; give one")
        ignore_index = ignore_class
    return _core._sparse_categorical_crossentropy(
        y_true, y_pred, from_logits, ignore_index,
        reduction=_reduction(reduction, "sparse_categorical_crossentropy"))


def binary_crossentropy(y_true, y_pred, from_logits=False, reduction="mean"):
    """−y ln p − (1 − y) ln(1 − p), averaged over the last axis (Keras), then over samples.

    p clipped to [1e-7, 1 − 1e-7]; ``from_logits=True`` uses max(z, 0) − z y +
    ln(1 + e^{−|z|}), exact at ±1000. Lecture check: y = 1, p = 0.7 → 0.3567.
    """
    y_true, y_pred = _align_ranks(y_true, y_pred)
    return _core._binary_crossentropy(y_true, y_pred, from_logits,
                                      reduction=_reduction(reduction, "binary_crossentropy"))


def multilabel_crossentropy(y_true, y_pred, from_logits=False, reduction="mean"):
    """The lecture's multi-label loss: Σ_k [−y_k ln p_k − (1 − y_k) ln(1 − p_k)] per sample.

    Summed (not averaged) over the K labels, averaged over samples. A label given as NaN
    is unknown (the lecture's y = [1, 1, ?, 0]): it adds nothing to the loss and exactly
    0 to the gradient of its prediction.
    """
    return _core._multilabel_crossentropy(
        y_true, y_pred, from_logits, reduction=_reduction(reduction, "multilabel_crossentropy"))


def yolo_loss(y_true, y_pred, S=7, B=2, C=20, lambda_coord=5.0, lambda_noobj=0.5,
              return_parts=False, reduction="mean"):
    """The YOLO v1 loss (the lecture's equation 3).

    Args:
        y_true: (N, S, S, 5 + C): per cell (x, y, w, h, object flag 1/0, one-hot class);
            x, y the centre's offsets inside the cell, w, h relative to the image.
        y_pred: (N, S, S, B·5 + C): per cell B boxes (x, y, w, h, confidence), then C
            class probabilities.
        return_parts: also return a dict of the five terms below (keys ``coord_xy``,
            ``coord_wh``, ``obj``, ``noobj``, ``cls``), each a differentiable Tensor
            (op ``yolo_loss``, ``name`` its key) that adds up to the total.

    In an object cell (1^obj_i: flag > 0.5) the responsible predictor r is the box with
    the highest IoU with the true box (ties → lowest j), both in image coordinates:
    centre ((col + x)/S, (row + y)/S), size (w, h), predicted w, h clamped at 0.
    1^obj_ij = 1 for r only; every other box (also the other box of an object cell) is
    no-object. With v⁺ = max(v, 0) and ε = 1e-6 inside the roots (finite gradient at 0)::

        coord_xy = λ_coord Σ 1^obj_ij [(x − x̂)² + (y − ŷ)²]
        coord_wh = λ_coord Σ 1^obj_ij [(√(w + ε) − √(ŵ⁺ + ε))² + (√(h + ε) − √(ĥ⁺ + ε))²]
        obj      = Σ 1^obj_ij (Ĉ − 1)²
        noobj    = λ_noobj Σ 1^noobj_ij Ĉ²
        cls      = Σ_i 1^obj_i Σ_c (p_i(c) − p̂_i(c))²

    summed over cells and boxes and averaged over the N images (``reduction``). The
    responsible box is a constant for the gradient (the winner of a max).

    Returns:
        The total, or ``(total, parts)`` with ``return_parts=True``.
    """
    out = _core._yolo_loss(y_true, y_pred, S, B, C, lambda_coord, lambda_noobj,
                           reduction=_reduction(reduction, "yolo_loss"),
                           return_parts=return_parts)
    if not return_parts:
        return out
    total, parts = out
    for key, part in zip(YOLO_PARTS, parts):
        part.name = key
    return total, dict(zip(YOLO_PARTS, parts))


# ---- classes: a loss with its settings, for compile(loss=...) ----------------------------



class Loss:
    """A loss function with fixed settings: ``loss(y_true, y_pred)`` → Tensor.

    ``name`` is the Keras snake-case name, ``get_config()`` a JSON-safe dict that
    ``from_config`` turns back into an equal loss. Subclasses set ``function``.

    ``loss(y_true, y_pred, sample_weight=w)`` weighs each value of the unreduced loss (w
    broadcast over it after Keras' rank alignment), then reduces as Keras does: 'mean'
    ('sum_over_batch_size') divides the weighted sum by the number of values,
    'mean_with_sample_weight' by the sum of the weights, 'sum' not at all.
    """

    function = None

    def __init__(self, reduction="mean", name=None, **options):
        _reduction(reduction, type(self).__name__)
        self.reduction = reduction
        self.name = name if name is not None else self.function.__name__
        self._options = options
        for key, value in options.items():
            setattr(self, key, value)

    def __call__(self, y_true, y_pred, sample_weight=None):
        function = type(self).function
        if sample_weight is None:
            return function(y_true, y_pred, reduction=_reduction(self.reduction, self.name),
                            **self._options)
        values = function(y_true, y_pred, reduction="none", **self._options)
        return _weigh_and_reduce(values, sample_weight, self.reduction)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self._options}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _weigh_and_reduce(values, sample_weight, reduction):
    """Keras' reduce_weighted_values: values · w (ranks aligned, w broadcast), then summed
    and divided by the number of values ('mean'), by Σ w ('mean_with_sample_weight'; 0
    when Σ w = 0, as divide_no_nan) or by nothing ('sum'); 'none' keeps values · w."""
    weights = sample_weight.numpy() if isinstance(sample_weight, _core.Tensor) else \
        _np.asarray(sample_weight, dtype=_np.float64)
    values, weights = _align_ranks(values, weights)
    try:
        weights = _np.broadcast_to(weights, tuple(values.shape)).astype(values.dtype)
    except ValueError:
        raise ValueError(f"sample_weight of shape {_np.shape(weights)} does not fit the "
                         f"per-sample losses of shape {tuple(values.shape)}") from None
    weighted = _core.multiply(values, _core.tensor(_np.ascontiguousarray(weights)))
    if reduction in (None, "none") or weighted.ndim == 0:
        return weighted
    total = _core.sum(weighted)
    if reduction == "sum":
        return total
    divisor = float(weights.sum()) if reduction == "mean_with_sample_weight" else \
        float(weighted.size)
    return _core.multiply(total, 1.0 / divisor if divisor else 0.0)


class SquaredError(Loss):
    """(1/m) Σ_i Σ_j ½ (s_j − ŝ_j)²; see ``squared_error``."""
    function = staticmethod(squared_error)

    def __init__(self, reduction="mean", name="squared_error"):
        super().__init__(reduction, name)


class MeanSquaredError(Loss):
    """Keras' MSE; see ``mean_squared_error``."""
    function = staticmethod(mean_squared_error)

    def __init__(self, reduction="mean", name="mean_squared_error"):
        super().__init__(reduction, name)


class CategoricalCrossentropy(Loss):
    """Σ_k −y_k ln p_k per sample; see ``categorical_crossentropy``."""
    function = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits=False, reduction="mean", name="categorical_crossentropy"):
        super().__init__(reduction, name, from_logits=bool(from_logits))


class SparseCategoricalCrossentropy(Loss):
    """−ln p_y with integer labels; see ``sparse_categorical_crossentropy``."""
    function = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits=False, ignore_index=None, reduction="mean",
                 name="sparse_categorical_crossentropy", ignore_class=None):
        if ignore_index is None:
            ignore_index = ignore_class
        super().__init__(reduction, name, from_logits=bool(from_logits),
                         ignore_index=None if ignore_index is None else int(ignore_index))


class BinaryCrossentropy(Loss):
    """−y ln p − (1 − y) ln(1 − p), mean over the last axis; see ``binary_crossentropy``."""
    function = staticmethod(binary_crossentropy)

    def __init__(self, from_logits=False, reduction="mean", name="binary_crossentropy"):
        super().__init__(reduction, name, from_logits=bool(from_logits))


class MultilabelCrossentropy(Loss):
    """Σ over the known labels (NaN = unknown); see ``multilabel_crossentropy``."""
    function = staticmethod(multilabel_crossentropy)

    def __init__(self, from_logits=False, reduction="mean", name="multilabel_crossentropy"):
        super().__init__(reduction, name, from_logits=bool(from_logits))


class YoloLoss(Loss):
    """The YOLO v1 loss; see ``yolo_loss``. Calling it returns the total only."""
    function = staticmethod(yolo_loss)

    def __init__(self, S=7, B=2, C=20, lambda_coord=5.0, lambda_noobj=0.5, reduction="mean",
                 name="yolo_loss"):
        super().__init__(reduction, name, S=int(S), B=int(B), C=int(C),
                         lambda_coord=float(lambda_coord), lambda_noobj=float(lambda_noobj))


# ---- Keras' other losses, composed from pycnn.ops (see _composed_losses) -----------------

def _composed(values_fn, y_true, y_pred, reduction, who, **options):
    """A composed loss: y_pred as a Tensor, y_true as numbers of its dtype, Keras' rank
    alignment, the per-sample values, then the reduction."""
    if not isinstance(y_pred, _core.Tensor):        # NumPy float64 stays, the rest: float32
        array = _np.asarray(y_pred)
        keep = isinstance(y_pred, _np.ndarray) and array.dtype == _np.float64
        y_pred = _core.tensor(array if keep else array.astype(_np.float32))
    values = y_true.numpy() if isinstance(y_true, _core.Tensor) else _np.asarray(y_true)
    y_true, y_pred = _align_ranks(values.astype(y_pred.dtype), y_pred)
    per_sample = values_fn(y_true, y_pred, **options)
    reduction = _reduction(reduction, who)
    if reduction == "none" or per_sample.ndim == 0:
        return per_sample
    if reduction == "sum" or per_sample.size == 0:
        return _core.sum(per_sample)
    return _core.mean(per_sample)


def mean_absolute_error(y_true, y_pred, reduction="mean"):
    """mean over the last axis of |y − ŷ|, then over the samples (Keras' 'mae')."""
    return _composed(_cl.mean_absolute_error, y_true, y_pred, reduction, "mean_absolute_error")


def mean_absolute_percentage_error(y_true, y_pred, reduction="mean"):
    """100 · mean |y − ŷ| / max(|y|, 1e-7) over the last axis (Keras' 'mape')."""
    return _composed(_cl.mean_absolute_percentage_error, y_true, y_pred, reduction,
                     "mean_absolute_percentage_error")


def mean_squared_logarithmic_error(y_true, y_pred, reduction="mean"):
    """mean (ln(max(ŷ, ε) + 1) − ln(max(y, ε) + 1))² over the last axis (Keras' 'msle')."""
    return _composed(_cl.mean_squared_logarithmic_error, y_true, y_pred, reduction,
                     "mean_squared_logarithmic_error")


def huber(y_true, y_pred, delta=1.0, reduction="mean"):
    """½ e² where |e| ≤ delta, else delta·|e| − ½ delta² (e = ŷ − y), mean over the last axis."""
    return _composed(_cl.huber, y_true, y_pred, reduction, "huber", delta=float(delta))


def log_cosh(y_true, y_pred, reduction="mean"):
    """mean ln cosh(ŷ − y) over the last axis: ½ e² near 0, |e| − ln 2 far out."""
    return _composed(_cl.log_cosh, y_true, y_pred, reduction, "log_cosh")


def kl_divergence(y_true, y_pred, reduction="mean"):
    """Σ y ln(y / ŷ) over the last axis, both clipped to [1e-7, 1] (Keras' 'kld')."""
    return _composed(_cl.kl_divergence, y_true, y_pred, reduction, "kl_divergence")


def poisson(y_true, y_pred, reduction="mean"):
    """mean ŷ − y ln(ŷ + 1e-7) over the last axis."""
    return _composed(_cl.poisson, y_true, y_pred, reduction, "poisson")


def hinge(y_true, y_pred, reduction="mean"):
    """mean max(1 − y·ŷ, 0) over the last axis; labels −1/1 (0/1 are converted)."""
    return _composed(_cl.hinge, y_true, y_pred, reduction, "hinge")


def squared_hinge(y_true, y_pred, reduction="mean"):
    """mean max(1 − y·ŷ, 0)² over the last axis; labels −1/1 (0/1 are converted)."""
    return _composed(_cl.squared_hinge, y_true, y_pred, reduction, "squared_hinge")


def categorical_hinge(y_true, y_pred, reduction="mean"):
    """max(max_k (1 − y_k) ŷ_k − Σ_k y_k ŷ_k + 1, 0) with one-hot y."""
    return _composed(_cl.categorical_hinge, y_true, y_pred, reduction, "categorical_hinge")


def cosine_similarity(y_true, y_pred, axis=-1, reduction="mean"):
    """−cos(y, ŷ) along axis: −1 when they point the same way, 0 when orthogonal."""
    return _composed(_cl.cosine_similarity, y_true, y_pred, reduction, "cosine_similarity",
                     axis=axis)


def _keras_loss_class(name, function, default_name, **settings):
    """A Loss class for one of the composed losses (its settings become arguments)."""
    def __init__(self, *args, **kwargs):
        names = list(settings) + ["reduction", "name"]
        values = {**settings, "reduction": "mean", "name": default_name}
        if len(args) > len(names):
            raise TypeError(f"{name}() takes at most {len(names)} arguments")
        if set(kwargs) - set(names):
            raise TypeError(f"{name}() got unexpected keyword arguments "
                            f"{sorted(set(kwargs) - set(names))}")
        values.update(dict(zip(names, args)), **kwargs)
        Loss.__init__(self, values.pop("reduction"), values.pop("name"), **values)
    doc = f"Keras' {name}; see ``{function.__name__}``."
    return type(name, (Loss,), {"function": staticmethod(function), "__init__": __init__,
                                "__doc__": doc, "__module__": __name__})


MeanAbsoluteError = _keras_loss_class("MeanAbsoluteError", mean_absolute_error,
                                      "mean_absolute_error")
MeanAbsolutePercentageError = _keras_loss_class(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error,
    "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _keras_loss_class(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error")
Huber = _keras_loss_class("Huber", huber, "huber_loss", delta=1.0)
LogCosh = _keras_loss_class("LogCosh", log_cosh, "log_cosh")
KLDivergence = _keras_loss_class("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _keras_loss_class("Poisson", poisson, "poisson")
Hinge = _keras_loss_class("Hinge", hinge, "hinge")
SquaredHinge = _keras_loss_class("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _keras_loss_class("CategoricalHinge", categorical_hinge, "categorical_hinge")
CosineSimilarity = _keras_loss_class("CosineSimilarity", cosine_similarity, "cosine_similarity",
                                     axis=-1)
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
_COMPOSED_CLASSES = (MeanAbsoluteError, MeanAbsolutePercentageError,
                     MeanSquaredLogarithmicError, Huber, LogCosh, KLDivergence, Poisson, Hinge,
                     SquaredHinge, CategoricalHinge, CosineSimilarity)
_COMPOSED = tuple(c.function for c in _COMPOSED_CLASSES)
__all__ += [f.__name__ for f in _COMPOSED] + [c.__name__ for c in _COMPOSED_CLASSES] + [
    "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD"]


# ---- resolving by name ------------------------------------------------------------------

_FUNCTIONS = {f.__name__: f for f in (squared_error, mean_squared_error,
                                      categorical_crossentropy, sparse_categorical_crossentropy,
                                      binary_crossentropy, multilabel_crossentropy, yolo_loss)}
_FUNCTIONS.update({f.__name__: f for f in _COMPOSED})
_FUNCTIONS["mse"] = _FUNCTIONS["MSE"] = mean_squared_error
_FUNCTIONS.update(mae=mae, MAE=mae, mape=mape, MAPE=mape, msle=msle, MSLE=msle, kld=kld,
                  KLD=kld)
_CLASSES = {c.__name__: c for c in (SquaredError, MeanSquaredError, CategoricalCrossentropy,
                                    SparseCategoricalCrossentropy, BinaryCrossentropy,
                                    MultilabelCrossentropy, YoloLoss) + _COMPOSED_CLASSES}


def get(identifier):
    """The loss for ``identifier``, a callable ``(y_true, y_pred) -> scalar Tensor``.

    Args:
        identifier: a function name (``'categorical_crossentropy'``, ``'mse'``, …: the
            function with its defaults), a class name (``'CategoricalCrossentropy'``: a
            default instance), a config dict ``{'class_name': …, 'config': {…}}`` (as
            ``serialize`` writes), a Loss instance or any callable (returned as is), or
            None (returns None).

    Raises:
        ValueError: an unknown name. TypeError: anything else.
    """
    if identifier is None or isinstance(identifier, Loss) or callable(identifier):
        return identifier
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"losses.get: unknown loss {identifier!r}; known: "
                         f"{', '.join(sorted(_FUNCTIONS))} (or a class name: "
                         f"{', '.join(sorted(_CLASSES))})")
    if isinstance(identifier, dict) and set(identifier) >= {"class_name"}:
        cls = _CLASSES.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"losses.get: unknown loss class {identifier['class_name']!r}; "
                             f"known: {', '.join(sorted(_CLASSES))}")
        return cls.from_config(identifier.get("config", {}))
    raise TypeError(f"losses.get: expected a name, a config dict, a Loss or a callable, got "
                    f"{type(identifier).__name__}")


def serialize(loss):
    """What a model file stores for ``loss``: a Loss → ``{'class_name', 'config'}``, one
    of this module's functions → its name. ``get`` reverses both.

    Raises:
        ValueError: any other callable (it could not be rebuilt from a file).
    """
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    if isinstance(loss, str):
        get(loss)
        return loss
    for name, fn in _FUNCTIONS.items():
        if loss is fn:
            return fn.__name__
    raise ValueError(f"losses.serialize: cannot store {loss!r}; use a pycnn.losses function "
                     f"or class")
