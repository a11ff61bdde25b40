"""Keras' other losses, composed from pycnn.ops: no fused C node, a few element-wise nodes
and a mean each, so they are differentiable through those nodes; Keras' formulas.

Each ``_<name>_values`` takes y_true as a NumPy array of y_pred's dtype and y_pred as a
Tensor, ranks already aligned, and gives one value per sample; the public function of the
same name aligns, computes and reduces (``reduction`` as every pycnn loss).
"""
import math as _math

import numpy as _np

from .. import _core
from .. import ops as _ops
from .base import Loss, _align_ranks, _as_float_tensor, _reduction

__all__ = ["mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "huber", "log_cosh", "kl_divergence", "poisson",
           "hinge", "squared_hinge", "categorical_hinge", "cosine_similarity",
           "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "Huber", "LogCosh", "KLDivergence", "Poisson", "Hinge", "SquaredHinge",
           "CategoricalHinge", "CosineSimilarity", "mae", "MAE", "mape", "MAPE", "msle", "MSLE",
           "kld", "KLD"]

EPSILON = 1e-7          # Keras' backend.epsilon()


def _mean_absolute_error_values(y_true, y_pred):
    """mean_k |y_k − ŷ_k|"""
    return _ops.mean(_ops.abs(_ops.subtract(y_pred, y_true)), axis=-1)


def _mean_absolute_percentage_error_values(y_true, y_pred):
    """100 · mean_k |y_k − ŷ_k| / max(|y_k|, ε)"""
    scale = _np.maximum(_np.abs(y_true), EPSILON).astype(y_true.dtype)
    diff = _ops.abs(_ops.divide(_ops.subtract(y_pred, y_true), scale))
    return _ops.multiply(_ops.mean(diff, axis=-1), 100.0)


def _mean_squared_logarithmic_error_values(y_true, y_pred):
    """mean_k (ln(max(ŷ_k, ε) + 1) − ln(max(y_k, ε) + 1))²"""
    first = _ops.log(_ops.add(_ops.maximum(y_pred, EPSILON), 1.0))
    second = _np.log(_np.maximum(y_true, EPSILON) + 1.0).astype(y_true.dtype)
    return _ops.mean(_ops.square(_ops.subtract(first, second)), axis=-1)


def _huber_values(y_true, y_pred, delta=1.0):
    """mean_k ½ e_k² where |e_k| ≤ δ, else δ |e_k| − ½ δ²   (e = ŷ − y)"""
    error = _ops.subtract(y_pred, y_true)
    abs_error = _ops.abs(error)
    quadratic = _ops.multiply(_ops.square(error), 0.5)
    linear = _ops.subtract(_ops.multiply(abs_error, delta), 0.5 * delta * delta)
    return _ops.mean(_ops.where(abs_error.numpy() <= delta, quadratic, linear), axis=-1)


def _log_cosh_values(y_true, y_pred):
    """mean_k ln cosh(ŷ_k − y_k), as x + softplus(−2x) − ln 2 (finite for any x)"""
    x = _ops.subtract(y_pred, y_true)
    values = _ops.subtract(_ops.add(x, _ops.softplus(_ops.multiply(x, -2.0))), _math.log(2.0))
    return _ops.mean(values, axis=-1)


def _kl_divergence_values(y_true, y_pred):
    """Σ_k y_k ln(y_k / ŷ_k), both clipped to [ε, 1]"""
    y_true = _np.clip(y_true, EPSILON, 1.0)
    return _ops.sum(_ops.multiply(y_true, _ops.log(_ops.divide(y_true, _ops.clip(
        y_pred, EPSILON, 1.0)))), axis=-1)


def _poisson_values(y_true, y_pred):
    """mean_k ŷ_k − y_k ln(ŷ_k + ε)"""
    return _ops.mean(_ops.subtract(y_pred, _ops.multiply(y_true, _ops.log(
        _ops.add(y_pred, EPSILON)))), axis=-1)


def _hinge_labels(y_true):
    """Labels of 0 and 1 become −1 and 1, as Keras converts them."""
    if _np.all((y_true == 0) | (y_true == 1)):
        return (2.0 * y_true - 1.0).astype(y_true.dtype)
    return y_true


def _hinge_values(y_true, y_pred):
    """mean_k max(1 − y_k ŷ_k, 0), labels −1/1 (0/1 converted)"""
    margin = _ops.subtract(1.0, _ops.multiply(_hinge_labels(y_true), y_pred))
    return _ops.mean(_ops.maximum(margin, 0.0), axis=-1)


def _squared_hinge_values(y_true, y_pred):
    """mean_k max(1 − y_k ŷ_k, 0)², labels −1/1 (0/1 converted)"""
    margin = _ops.subtract(1.0, _ops.multiply(_hinge_labels(y_true), y_pred))
    return _ops.mean(_ops.square(_ops.maximum(margin, 0.0)), axis=-1)


def _categorical_hinge_values(y_true, y_pred):
    """max(max_k (1 − y_k) ŷ_k − Σ_k y_k ŷ_k + 1, 0)   (one-hot labels)"""
    positive = _ops.sum(_ops.multiply(y_true, y_pred), axis=-1)
    negative = _ops.max(_ops.multiply(1.0 - y_true, y_pred), axis=-1)
    return _ops.maximum(_ops.add(_ops.subtract(negative, positive), 1.0), 0.0)


def _cosine_similarity_values(y_true, y_pred, axis=-1):
    """−Σ_k ŷ_k y_k / (‖ŷ‖ ‖y‖) along axis (−1 for the same direction)"""
    norm = _np.maximum(_np.sqrt(_np.sum(_np.square(y_true), axis=axis, keepdims=True)),
                       EPSILON).astype(y_true.dtype)
    unit_pred = _ops.normalize(y_pred, axis=axis, epsilon=EPSILON)
    return _ops.negative(_ops.sum(_ops.multiply(y_true / norm, unit_pred), axis=axis))


# ---- the public losses: align, compute, reduce -----------------------------------------

def _composed(values_fn, y_true, y_pred, reduction, who, **options):
    """A composed loss: y_pred as a Tensor, y_true as numbers of its dtype, Keras' rank
    alignment, the per-sample values, then the reduction."""
    y_pred = _as_float_tensor(y_pred)
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
    return _composed(_mean_absolute_error_values, y_true, y_pred, reduction, "mean_absolute_error")


def mean_absolute_percentage_error(y_true, y_pred, reduction="mean"):
    """100 · mean |y − ŷ| / max(|y|, 1e-7) over the last axis (Keras' 'mape')."""
    return _composed(_mean_absolute_percentage_error_values, y_true, y_pred, reduction,
                     "mean_absolute_percentage_error")


def mean_squared_logarithmic_error(y_true, y_pred, reduction="mean"):
    """mean (ln(max(ŷ, ε) + 1) − ln(max(y, ε) + 1))² over the last axis (Keras' 'msle')."""
    return _composed(_mean_squared_logarithmic_error_values, y_true, y_pred, reduction,
                     "mean_squared_logarithmic_error")


def huber(y_true, y_pred, delta=1.0, reduction="mean"):
    """½ e² where |e| ≤ delta, else delta·|e| − ½ delta² (e = ŷ − y), mean over the last axis."""
    return _composed(_huber_values, y_true, y_pred, reduction, "huber", delta=float(delta))


def log_cosh(y_true, y_pred, reduction="mean"):
    """mean ln cosh(ŷ − y) over the last axis: ½ e² near 0, |e| − ln 2 far out."""
    return _composed(_log_cosh_values, y_true, y_pred, reduction, "log_cosh")


def kl_divergence(y_true, y_pred, reduction="mean"):
    """Σ y ln(y / ŷ) over the last axis, both clipped to [1e-7, 1] (Keras' 'kld')."""
    return _composed(_kl_divergence_values, y_true, y_pred, reduction, "kl_divergence")


def poisson(y_true, y_pred, reduction="mean"):
    """mean ŷ − y ln(ŷ + 1e-7) over the last axis."""
    return _composed(_poisson_values, y_true, y_pred, reduction, "poisson")


def hinge(y_true, y_pred, reduction="mean"):
    """mean max(1 − y·ŷ, 0) over the last axis; labels −1/1 (0/1 are converted)."""
    return _composed(_hinge_values, y_true, y_pred, reduction, "hinge")


def squared_hinge(y_true, y_pred, reduction="mean"):
    """mean max(1 − y·ŷ, 0)² over the last axis; labels −1/1 (0/1 are converted)."""
    return _composed(_squared_hinge_values, y_true, y_pred, reduction, "squared_hinge")


def categorical_hinge(y_true, y_pred, reduction="mean"):
    """max(max_k (1 − y_k) ŷ_k − Σ_k y_k ŷ_k + 1, 0) with one-hot y."""
    return _composed(_categorical_hinge_values, y_true, y_pred, reduction, "categorical_hinge")


def cosine_similarity(y_true, y_pred, axis=-1, reduction="mean"):
    """−cos(y, ŷ) along axis: −1 when they point the same way, 0 when orthogonal."""
    return _composed(_cosine_similarity_values, y_true, y_pred, reduction, "cosine_similarity",
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
