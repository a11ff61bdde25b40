"""Small helpers Keras users expect under ``keras.utils``: ``to_categorical``, ``normalize``,
``set_random_seed``."""
import random as _python_random

import numpy as _np

from . import _core
from . import ops as _ops

__all__ = ["to_categorical", "normalize", "set_random_seed"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class indices → one-hot rows: ``to_categorical([1, 0], 3)`` is [[0, 1, 0], [1, 0, 0]].

    Args:
        y: integer class indices, any shape; a trailing axis of 1 is dropped (Keras).
        num_classes: the number of classes (default: max(y) + 1).
    Returns:
        An array of shape y.shape + (num_classes,).
    """
    y = _np.asarray(y)
    if y.size and (y.dtype.kind not in "iub" and not _np.all(y == _np.round(y))):
        raise ValueError("to_categorical: y must hold integer class indices")
    y = y.astype(_np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"to_categorical: class indices must be in [0, {num_classes}), got "
                         f"values from {int(y.min())} to {int(y.max())}")
    return _np.eye(num_classes, dtype=dtype)[y]


def normalize(x, axis=-1, order=2):
    """x divided by its ``order``-norm along ``axis``, as Keras' ``utils.normalize``.

    A NumPy array (or list) gives a NumPy array; a norm of 0 is taken as 1, so zero vectors
    stay zero. A pycnn Tensor gives a differentiable Tensor, x / max(‖x‖, 1e-7) (Keras'
    ``ops.normalize``, order >= 1).
    """
    if isinstance(x, _core.Tensor):
        return _ops.normalize(x, axis=axis, order=order)
    x = _np.asarray(x)
    norm = _np.atleast_1d(_np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / _np.expand_dims(norm, axis if axis is not None else -1)


def set_random_seed(seed):
    """Seed every generator a pycnn run draws from: Python's ``random``, NumPy's global one,
    and pycnn's own (weights, dropout masks, ``fit``'s shuffling, ``pycnn.random``), as
    Keras' ``utils.set_random_seed`` does for its backends."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed: seed must be an int, got {seed!r}")
    from . import set_seed          # the package's set_seed also seeds fit's shuffling
    _python_random.seed(seed)
    _np.random.seed(seed % 2 ** 32)
    set_seed(seed)
