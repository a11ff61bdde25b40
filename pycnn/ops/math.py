"""keras.ops.math over pycnn tensors: logsumexp and top_k."""
import numpy as _np

from .. import _core
from .core import _axes, _axis_arg, _gather_last, _t

__all__ = ["logsumexp", "top_k"]


# ---- math ----------------------------------------------------------------------------------

def logsumexp(x, axis=None, keepdims=False):
    """log Σ e^x over axis, with the max taken out first (no overflow)."""
    x = _t(x)
    axis = _axis_arg(axis)
    m = _core.max(x, axis=axis, keepdims=True).detach()
    m = _core.tensor(_np.where(_np.isfinite(m.numpy()), m.numpy(), 0).astype(x.dtype))
    out = _core.add(_core.log(_core.sum(_core.exp(_core.subtract(x, m)), axis=axis,
                                        keepdims=True)), m)
    if keepdims:
        return out
    axes = range(x.ndim) if axis is None else _axes(axis, x.ndim, "logsumexp")
    return _core.reshape(out, tuple(d for i, d in enumerate(x.shape) if i not in set(axes)))


def top_k(x, k, sorted=True):
    """(values, indices) of the k largest entries along the last axis, largest first (the
    values differentiable; the indices int32)."""
    x = _t(x)
    if not 0 < k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must be in [1, {x.shape[-1]}] for shape "
                         f"{tuple(x.shape)}")
    order = _np.argsort(-x.numpy(), axis=-1, kind="stable")[..., :k]
    return _gather_last(x, order), order.astype(_np.int32)
