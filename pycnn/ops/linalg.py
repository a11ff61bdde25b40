"""keras.ops.linalg over pycnn tensors: norm (the norms that need no decomposition)."""
import numpy as _np

from .. import _core
from .core import _axes, _t, _wrap
from .numpy import max as _max, min as _min

__all__ = ["norm"]


# ---- norms ---------------------------------------------------------------------------------

def _vector_norm(x, ord, axis, keepdims):
    a = _core.abs(x)
    if ord == float("inf"):
        return _max(a, axis, keepdims)
    if ord == -float("inf"):
        return _min(a, axis, keepdims)
    if ord == 1:
        return _core.sum(a, axis=axis, keepdims=keepdims)
    if ord is None or ord == 2:
        return _core.sqrt(_core.sum(_core.square(x), axis=axis, keepdims=keepdims))
    if ord == 0:
        return _wrap(_np.count_nonzero(x.numpy(), axis=axis, keepdims=keepdims)
                     .astype(x.dtype))
    return _core.power(_core.sum(_core.power(a, float(ord)), axis=axis, keepdims=keepdims),
                       1.0 / ord)


def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm: the 2-norm of everything (axis None), a vector norm along one axis
    (ord None/2, 1, inf, −inf, 0 or any p), or a matrix norm over two axes (ord None/'fro',
    1, −1, inf, −inf). The spectral and nuclear norms need an SVD pycnn lacks: they raise."""
    x = _t(x)
    if axis is None:
        if ord not in (None, "fro"):
            if x.ndim == 1:
                return _vector_norm(x, ord, 0, keepdims)
            if x.ndim != 2:
                raise ValueError(f"norm: ord={ord!r} needs a 1-D or 2-D input or an axis, got "
                                 f"shape {tuple(x.shape)}")
            return norm(x, ord, (0, 1), keepdims)
        return _core.sqrt(_core.sum(_core.square(x), axis=None, keepdims=keepdims))
    axes = _axes(axis, x.ndim, "norm")
    if len(axes) == 1:
        if ord == "fro":
            raise ValueError("norm: ord='fro' is a matrix norm; give two axes")
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) != 2:
        raise ValueError(f"norm: axis must be an int or a pair of ints, got {axis!r}")
    rows, cols = axes
    if ord in (None, "fro"):
        return _core.sqrt(_core.sum(_core.square(x), axis=axes, keepdims=keepdims))
    if ord in (1, -1, float("inf"), -float("inf")):
        summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = _core.sum(_core.abs(x), axis=summed, keepdims=True)
        pick = _max if ord in (1, float("inf")) else _min
        out = pick(sums, other, True)
        if keepdims:
            return out
        return _core.reshape(out, tuple(d for i, d in enumerate(x.shape) if i not in axes))
    raise ValueError(f"norm: matrix norm ord={ord!r} needs a singular value decomposition, "
                     f"which pycnn has no op for; use None/'fro', 1, -1, inf or -inf")
