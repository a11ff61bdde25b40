"""keras.ops.nn over pycnn tensors: activations, softmax, normalize, one_hot and the
per-sample cross-entropies (no reduction, as keras.ops gives them).
"""
import math as _math

import numpy as _np

from .. import _core
from .core import _axes, _float_or, _t, _unary, _value, _wrap
from .numpy import moveaxis

__all__ = ["relu", "sigmoid", "relu6", "softplus", "silu", "swish", "elu", "leaky_relu", "gelu",
           "hard_sigmoid", "log_sigmoid", "softmax", "log_softmax", "normalize", "one_hot",
           "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"]


# ---- activations ---------------------------------------------------------------------------

relu = _unary(_core.relu, "relu", "max(x, 0)")


sigmoid = _unary(_core.sigmoid, "sigmoid", "1 / (1 + e^−x)")


def relu6(x):
    return _core.minimum(_core.relu(_t(x)), 6.0)


def softplus(x):
    """ln(1 + e^x) as max(x, 0) + ln(1 + e^−|x|): finite for any x."""
    x = _t(x)
    return _core.add(_core.relu(x), _core.log(_core.add(_core.exp(_core.negative(
        _core.abs(x))), 1.0)))


def silu(x):
    """x · sigmoid(x)."""
    return _core.swish(_t(x))


swish = silu


def elu(x, alpha=1.0):
    return _core.elu(_t(x), alpha)


def leaky_relu(x, negative_slope=0.2):
    return _core.leaky_relu(_t(x), negative_slope)


def gelu(x, approximate=True):
    """0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))). The exact form (approximate=False) needs
    erf, which pycnn does not have: it raises."""
    if not approximate:
        raise ValueError("gelu: approximate=False needs erf, which pycnn has no op for; use "
                         "approximate=True (the tanh form)")
    x = _t(x)
    inner = _core.multiply(_core.add(x, _core.multiply(_core.power(x, 3.0), 0.044715)),
                           _math.sqrt(2.0 / _math.pi))
    return _core.multiply(_core.multiply(x, 0.5), _core.add(_core.tanh(inner), 1.0))


def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 below −3, 1 above 3, linear between."""
    return _core.divide(relu6(_core.add(_t(x), 3.0)), 6.0)


def log_sigmoid(x):
    """ln sigmoid(x) = −softplus(−x), finite for any x."""
    return _core.negative(softplus(_core.negative(_t(x))))


def softmax(x, axis=-1):
    return _core.softmax(_t(x), axis)


def log_softmax(x, axis=-1):
    return _core.log_softmax(_t(x), axis)


# ---- normalization and encoding ------------------------------------------------------------

def normalize(x, axis=-1, order=2, epsilon=None):
    """x / max(‖x‖_order, epsilon) along axis (epsilon 1e-7, as Keras); order ≥ 1. The
    2-norm takes the max inside its root, so an all-zero vector has a finite gradient."""
    if not isinstance(order, (int, float)) or order < 1:
        raise ValueError(f"normalize: order must be a number >= 1, got order={order!r}")
    x = _t(x)
    eps = 1e-7 if epsilon is None else float(epsilon)
    if order == 2:
        norm_ = _core.sqrt(_core.maximum(_core.sum(_core.square(x), axis=axis, keepdims=True),
                                         eps * eps))
    elif order == 1:
        norm_ = _core.maximum(_core.sum(_core.abs(x), axis=axis, keepdims=True), eps)
    else:
        norm_ = _core.maximum(_core.power(_core.sum(_core.power(_core.abs(x), float(order)),
                                                    axis=axis, keepdims=True),
                                          1.0 / order), eps)
    return _core.divide(x, norm_)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels → one-hot vectors along a new ``axis`` (float32). A negative label
    gives a row of zeros, as in Keras."""
    if sparse:
        raise ValueError("one_hot: pycnn has no sparse tensors")
    labels = _np.asarray(_value(x))
    if labels.size and labels.dtype.kind == "f" and not _np.all(labels == _np.round(labels)):
        raise ValueError("one_hot: x must hold integer class indices")
    labels = labels.astype(_np.int64)
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"one_hot: class index {int(labels.max())} is out of range for "
                         f"num_classes={num_classes}")
    out = (labels[..., None] == _np.arange(num_classes)).astype(_float_or(dtype))
    if axis != -1:
        out = _np.moveaxis(out, -1, axis)
    return _wrap(out)


# ---- per-sample cross-entropies ------------------------------------------------------------

def binary_crossentropy(target, output, from_logits=False):
    """−t ln p − (1 − t) ln(1 − p) per element (p clipped to [1e-7, 1 − 1e-7]; with
    from_logits the exact log-sigmoid form)."""
    output = _t(output)
    shape = tuple(output.shape)
    values = _core._binary_crossentropy(_np.reshape(_value(target), shape + (1,)),
                                        _core.reshape(output, shape + (1,)), from_logits,
                                        reduction="none")
    return _core.reshape(values, shape)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """−Σ_k t_k ln p_k along axis (p rescaled to sum 1 and clipped; with from_logits the
    fused log-softmax)."""
    output = _t(output)
    (axis,) = _axes(axis, output.ndim, "categorical_crossentropy")
    target = _np.moveaxis(_np.asarray(_value(target)), axis, -1)
    return _core._categorical_crossentropy(target, moveaxis(output, axis, -1), from_logits,
                                           reduction="none")


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """−ln p_t per label t along axis (integer labels in [0, C))."""
    output = _t(output)
    (axis,) = _axes(axis, output.ndim, "sparse_categorical_crossentropy")
    return _core._sparse_categorical_crossentropy(_value(target), moveaxis(output, axis, -1),
                                                  from_logits, None, reduction="none")
