"""Plain-NumPy twins of pycnn's ops: the references the C kernels are tested against.
Each topic keeps its own section."""
import numpy as np

# ---- core: element-wise ----------------------------------------------------------


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)

# ---- core: reductions, structure, matrix products ---------------------------------


def max_grad(x, axis=None, keepdims=False):
    """d max(x, axis) / dx: one at the FIRST maximal element of each group (C order)."""
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else tuple(sorted(np.atleast_1d(axis) % max(x.ndim, 1)))
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = np.moveaxis(x, kept + list(axes), range(x.ndim))
    groups = moved.reshape(moved.shape[:len(kept)] + (-1,))
    first = np.argmax(groups, axis=-1)             # argmax returns the first maximum
    mask = np.zeros_like(groups)
    np.put_along_axis(mask, first[..., None], 1.0, axis=-1)
    return np.moveaxis(mask.reshape(moved.shape), range(x.ndim), kept + list(axes))
