"""Keras' other losses as per-sample values, composed from pycnn.ops (no fused C node: each
is a few element-wise nodes and a mean, differentiable through them).

Every function takes y_true as a NumPy array of y_pred's dtype and y_pred as a Tensor, their
ranks already aligned (``pycnn.losses`` does both), and returns one value per sample: the
loss over the last axis.
"""
import math as _math

import numpy as _np

from . import ops as _ops

EPSILON = 1e-7          # Keras' backend.epsilon()


def mean_absolute_error(y_true, y_pred):
    """mean_k |y_k − ŷ_k|"""
    return _ops.mean(_ops.abs(_ops.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean_k |y_k − ŷ_k| / max(|y_k|, ε)"""
    scale = _np.maximum(_np.abs(y_true), EPSILON).astype(y_true.dtype)
    diff = _ops.abs(_ops.divide(_ops.subtract(y_pred, y_true), scale))
    return _ops.multiply(_ops.mean(diff, axis=-1), 100.0)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean_k (ln(max(ŷ_k, ε) + 1) − ln(max(y_k, ε) + 1))²"""
    first = _ops.log(_ops.add(_ops.maximum(y_pred, EPSILON), 1.0))
    second = _np.log(_np.maximum(y_true, EPSILON) + 1.0).astype(y_true.dtype)
    return _ops.mean(_ops.square(_ops.subtract(first, second)), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """mean_k ½ e_k² where |e_k| ≤ δ, else δ |e_k| − ½ δ²   (e = ŷ − y)"""
    error = _ops.subtract(y_pred, y_true)
    abs_error = _ops.abs(error)
    quadratic = _ops.multiply(_ops.square(error), 0.5)
    linear = _ops.subtract(_ops.multiply(abs_error, delta), 0.5 * delta * delta)
    return _ops.mean(_ops.where(abs_error.numpy() <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """mean_k ln cosh(ŷ_k − y_k), as x + softplus(−2x) − ln 2 (finite for any x)"""
    x = _ops.subtract(y_pred, y_true)
    values = _ops.subtract(_ops.add(x, _ops.softplus(_ops.multiply(x, -2.0))), _math.log(2.0))
    return _ops.mean(values, axis=-1)


def kl_divergence(y_true, y_pred):
    """Σ_k y_k ln(y_k / ŷ_k), both clipped to [ε, 1]"""
    y_true = _np.clip(y_true, EPSILON, 1.0)
    return _ops.sum(_ops.multiply(y_true, _ops.log(_ops.divide(y_true, _ops.clip(
        y_pred, EPSILON, 1.0)))), axis=-1)


def poisson(y_true, y_pred):
    """mean_k ŷ_k − y_k ln(ŷ_k + ε)"""
    return _ops.mean(_ops.subtract(y_pred, _ops.multiply(y_true, _ops.log(
        _ops.add(y_pred, EPSILON)))), axis=-1)


def _hinge_labels(y_true):
    """Labels of 0 and 1 become −1 and 1, as Keras converts them."""
    if _np.all((y_true == 0) | (y_true == 1)):
        return (2.0 * y_true - 1.0).astype(y_true.dtype)
    return y_true


def hinge(y_true, y_pred):
    """mean_k max(1 − y_k ŷ_k, 0), labels −1/1 (0/1 converted)"""
    margin = _ops.subtract(1.0, _ops.multiply(_hinge_labels(y_true), y_pred))
    return _ops.mean(_ops.maximum(margin, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean_k max(1 − y_k ŷ_k, 0)², labels −1/1 (0/1 converted)"""
    margin = _ops.subtract(1.0, _ops.multiply(_hinge_labels(y_true), y_pred))
    return _ops.mean(_ops.square(_ops.maximum(margin, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max_k (1 − y_k) ŷ_k − Σ_k y_k ŷ_k + 1, 0)   (one-hot labels)"""
    positive = _ops.sum(_ops.multiply(y_true, y_pred), axis=-1)
    negative = _ops.max(_ops.multiply(1.0 - y_true, y_pred), axis=-1)
    return _ops.maximum(_ops.add(_ops.subtract(negative, positive), 1.0), 0.0)


def cosine_similarity(y_true, y_pred, axis=-1):
    """−Σ_k ŷ_k y_k / (‖ŷ‖ ‖y‖) along axis (−1 for the same direction)"""
    norm = _np.maximum(_np.sqrt(_np.sum(_np.square(y_true), axis=axis, keepdims=True)),
                       EPSILON).astype(y_true.dtype)
    unit_pred = _ops.normalize(y_pred, axis=axis, epsilon=EPSILON)
    return _ops.negative(_ops.sum(_ops.multiply(y_true / norm, unit_pred), axis=axis))
