"""The lecture's losses and Keras' cross-entropies and MSE, each one fused C node with its C
backward (see pycnn.losses for the formulas)."""
from .. import _core
from .base import Loss, _align_ranks, _broadcast_together, _reduction

__all__ = ["squared_error", "mean_squared_error", "mse", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "binary_crossentropy", "multilabel_crossentropy",
           "yolo_loss", "SquaredError", "MeanSquaredError", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "BinaryCrossentropy", "MultilabelCrossentropy",
           "YoloLoss"]

YOLO_PARTS = ("coord_xy", "coord_wh", "obj", "noobj", "cls")



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
