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
from . import base, composed, fused
from .base import Loss
from .composed import *  # noqa: F401,F403  (Keras' other losses, composed from pycnn.ops)
from .fused import *  # noqa: F401,F403  (one C node each)
from .composed import _COMPOSED, _COMPOSED_CLASSES
from .fused import YOLO_PARTS  # noqa: F401  (the names of yolo_loss' parts)

__all__ = fused.__all__ + composed.__all__ + ["Loss", "get", "serialize"]


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
