"""keras.ops.numpy over pycnn tensors: creation, shapes, reductions, element-wise and binary
arithmetic, comparisons, sorting; NumPy's names, arguments and defaults.

Each op is composed from pycnn's C ops (so it is differentiable where Keras' is); results
Keras gives as integers or booleans are NumPy arrays.
"""
import builtins as _builtins

import numpy as _np

from .. import _core
from .core import (_FLOATS, _axes, _axis_arg, _common_float, _dtype_name, _dtype_of, _float_or,
                   _gather_last, _is_tensor, _t, _unary, _value, _wrap, cast, shape)

__all__ = ["ones", "zeros", "full", "ones_like", "zeros_like", "full_like", "arange", "eye",
           "identity", "linspace", "size", "ndim", "reshape", "expand_dims", "squeeze",
           "transpose", "swapaxes", "moveaxis", "concatenate", "stack", "broadcast_to", "take",
           "tile", "repeat", "split", "flip", "sum", "mean", "max", "min", "amax", "amin", "var",
           "std", "average", "cumsum", "argmax", "argmin", "argsort", "sort", "square", "sqrt",
           "exp", "log", "abs", "absolute", "negative", "tanh", "reciprocal", "sign", "floor",
           "ceil", "round", "add", "subtract", "multiply", "divide", "true_divide", "power",
           "maximum", "minimum", "clip", "where", "matmul", "dot", "equal", "not_equal",
           "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_or",
           "logical_not", "isfinite", "isnan", "all", "any", "count_nonzero"]


# ---- creation ------------------------------------------------------------------------------

def ones(shape, dtype=None):
    return _wrap(_np.ones(shape, _float_or(dtype)))


def zeros(shape, dtype=None):
    return _wrap(_np.zeros(shape, _float_or(dtype)))


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with fill_value (float32 unless dtype says)."""
    return _wrap(_np.full(shape, _value(fill_value), _float_or(dtype)))


def ones_like(x, dtype=None):
    return _wrap(_np.ones(shape(x), _float_or(dtype, _np.dtype(_dtype_name(x)))))


def zeros_like(x, dtype=None):
    return _wrap(_np.zeros(shape(x), _float_or(dtype, _np.dtype(_dtype_name(x)))))


def full_like(x, fill_value, dtype=None):
    dtype = _float_or(dtype, _np.dtype(_dtype_name(x)))
    return _wrap(_np.full(shape(x), _value(fill_value), dtype))


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop): int32 for integer arguments, else float32."""
    if step is None:
        step = 1
    if stop is None:
        start, stop = 0, start
    dtype = _dtype_of(dtype)
    if dtype is None:
        integral = _builtins.all(isinstance(v, (int, _np.integer)) for v in (start, stop, step))
        dtype = _np.dtype(_np.int32 if integral else _np.float32)
    return _wrap(_np.arange(start, stop, step).astype(dtype))


def eye(N, M=None, k=0, dtype=None):
    return _wrap(_np.eye(N, M, k, dtype=_float_or(dtype)))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """num evenly spaced values from start to stop (float32 unless dtype says)."""
    values, step = _np.linspace(_value(start), _value(stop), num, endpoint=endpoint,
                                retstep=True, axis=axis)
    out = _wrap(values.astype(_float_or(dtype)))
    return (out, step) if retstep else out


def size(x):
    return int(_np.prod(shape(x), dtype=_np.int64))


def ndim(x):
    return len(shape(x))


# ---- shapes --------------------------------------------------------------------------------

def reshape(x, newshape):
    newshape = (newshape,) if isinstance(newshape, (int, _np.integer)) else tuple(newshape)
    return _core.reshape(_t(x), newshape)


def expand_dims(x, axis):
    """A new axis of length 1 at ``axis`` (an int or a tuple of ints)."""
    x = _t(x)
    axes = (axis,) if isinstance(axis, (int, _np.integer)) else tuple(axis)
    rank = x.ndim + len(axes)
    new = set(_axes(axes, rank, "expand_dims"))
    dims = iter(x.shape)
    return _core.reshape(x, tuple(1 if i in new else next(dims) for i in range(rank)))


def squeeze(x, axis=None):
    """Drop axes of length 1 (all of them, or the given ones, which must have length 1)."""
    x = _t(x)
    if axis is None:
        drop = {i for i, d in enumerate(x.shape) if d == 1}
    else:
        drop = set(_axes(axis, x.ndim, "squeeze"))
        for a in drop:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {tuple(x.shape)} has length "
                                 f"{x.shape[a]}, not 1")
    return _core.reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in drop))


def transpose(x, axes=None):
    return _core.transpose(_t(x), None if axes is None else tuple(axes))


def swapaxes(x, axis1, axis2):
    x = _t(x)
    perm = list(range(x.ndim))
    a, b = _axes((axis1, axis2), x.ndim, "swapaxes")
    perm[a], perm[b] = perm[b], perm[a]
    return _core.transpose(x, tuple(perm))


def moveaxis(x, source, destination):
    x = _t(x)
    src = _axes(source, x.ndim, "moveaxis")
    dst = _axes(destination, x.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: {len(src)} source axes but {len(dst)} destinations")
    rest = [a for a in range(x.ndim) if a not in src]
    perm = [None] * x.ndim
    for s, d in zip(src, dst):
        perm[d] = s
    fill = iter(rest)
    return _core.transpose(x, tuple(p if p is not None else next(fill) for p in perm))


def concatenate(xs, axis=0):
    return _core.concat(_common_float(xs), axis=axis)


def stack(x, axis=0):
    return _core.stack(_common_float(x), axis=axis)


def broadcast_to(x, shape):
    """x repeated along broadcast axes to ``shape``; the gradient sums them back."""
    x = _t(x)
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    try:
        _np.broadcast_shapes(tuple(x.shape), shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(x.shape)} to "
                         f"{shape}") from None
    return _core.multiply(x, _core.tensor(_np.ones(shape, x.dtype)))


def take(x, indices, axis=None):
    """The entries at integer ``indices`` along ``axis`` (of the flattened x when None);
    negative indices count from the end. The gradient scatters back (repeats add up)."""
    x = _t(x)
    indices = _np.asarray(_value(indices))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"take: indices must be integers, got {indices.dtype}")
    if axis is None:
        return _core.flatten(x)[indices]
    (axis,) = _axes(axis, x.ndim, "take")
    return x[(slice(None),) * axis + (indices,)]


def tile(x, repeats):
    """x repeated ``repeats`` times along each axis (as np.tile)."""
    x = _t(x)
    repeats = (repeats,) if isinstance(repeats, (int, _np.integer)) else tuple(repeats)
    if len(repeats) > x.ndim:
        x = _core.reshape(x, (1,) * (len(repeats) - x.ndim) + tuple(x.shape))
    repeats = (1,) * (x.ndim - len(repeats)) + repeats
    index = _np.ix_(*[_np.tile(_np.arange(d), r) for d, r in zip(x.shape, repeats)])
    return x[index]


def repeat(x, repeats, axis=None):
    """Each entry repeated ``repeats`` times along axis (of the flattened x when None)."""
    x = _t(x)
    if axis is None:
        x, axis = _core.flatten(x), 0
    (axis,) = _axes(axis, x.ndim, "repeat")
    index = _np.repeat(_np.arange(x.shape[axis]), _value(repeats))
    return x[(slice(None),) * axis + (index,)]


def split(x, indices_or_sections, axis=0):
    """A list of pieces along axis: n equal sections, or cut before the given indices."""
    x = _t(x)
    (axis,) = _axes(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, _np.integer)):
        if n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of length {n} does not divide into "
                             f"{indices_or_sections} equal sections")
        step = n // indices_or_sections
        cuts = list(range(step, n, step))
    else:
        cuts = list(indices_or_sections)
    bounds = [0] + cuts + [n]
    lead = (slice(None),) * axis
    return [x[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


def flip(x, axis=None):
    x = _t(x)
    axes = range(x.ndim) if axis is None else _axes(axis, x.ndim, "flip")
    key = [slice(None)] * x.ndim
    for a in axes:
        key[a] = slice(None, None, -1)
    return x[tuple(key)]


# ---- reductions and indices ----------------------------------------------------------------

def sum(x, axis=None, keepdims=False):
    return _core.sum(_t(x), axis=_axis_arg(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return _core.mean(_t(x), axis=_axis_arg(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None):
    out = _core.max(_t(x), axis=_axis_arg(axis), keepdims=keepdims)
    return out if initial is None else _core.maximum(out, initial)


def min(x, axis=None, keepdims=False, initial=None):
    """The minimum: −max(−x), so ties share the gradient exactly as max's do."""
    out = _core.negative(_core.max(_core.negative(_t(x)), axis=_axis_arg(axis),
                                   keepdims=keepdims))
    return out if initial is None else _core.minimum(out, initial)


amax, amin = max, min


def var(x, axis=None, keepdims=False):
    """The (biased) variance mean((x − mean(x))²) over axis."""
    x = _t(x)
    axis = _axis_arg(axis)
    centred = _core.subtract(x, _core.mean(x, axis=axis, keepdims=True))
    return _core.mean(_core.square(centred), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return _core.sqrt(var(x, axis, keepdims))


def average(x, axis=None, weights=None):
    """The mean, or Σ w·x / Σ w with weights (1-D weights of length x.shape[axis] weigh
    along axis, as np.average)."""
    x = _t(x)
    if weights is None:
        return _core.mean(x, axis=axis)
    w = weights if _is_tensor(weights) else _core.tensor(_np.asarray(weights, x.dtype))
    if axis is not None and w.ndim == 1 and x.ndim > 1:
        (a,) = _axes(axis, x.ndim, "average")
        if w.shape[0] != x.shape[a]:
            raise ValueError(f"average: {w.shape[0]} weights for axis {a} of length "
                             f"{x.shape[a]}")
        w = _core.reshape(w, tuple(x.shape[a] if i == a else 1 for i in range(x.ndim)))
    elif tuple(w.shape) != tuple(x.shape):
        raise ValueError(f"average: weights of shape {tuple(w.shape)} do not fit x of shape "
                         f"{tuple(x.shape)} (give 1-D weights with an axis, or x's shape)")
    total = _core.sum(_core.multiply(x, w), axis=axis)
    return _core.divide(total, _core.sum(broadcast_to(w, tuple(x.shape)), axis=axis))


def cumsum(x, axis=None, dtype=None):
    """Running sums along axis (of the flattened x when None): a product with an
    upper-triangular matrix of ones, so the gradient is the reversed running sum."""
    x = _t(x) if dtype is None else cast(_t(x), dtype)
    if axis is None:
        x, axis = _core.flatten(x), 0
    (axis,) = _axes(axis, x.ndim, "cumsum")
    n = x.shape[axis]
    last = moveaxis(x, axis, -1)
    out = _core.matmul(last, _core.tensor(_np.triu(_np.ones((n, n), x.dtype))))
    return moveaxis(out, -1, axis)


def _arg_reduce(np_fn, x, axis, keepdims):
    value = _value(x)
    out = np_fn(value, axis=axis, keepdims=keepdims)
    return _np.asarray(out, dtype=_np.int32)


def argmax(x, axis=None, keepdims=False):
    """Indices of the maxima (int32 NumPy array; no gradient)."""
    return _arg_reduce(_np.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Indices of the minima (int32 NumPy array; no gradient)."""
    return _arg_reduce(_np.argmin, x, axis, keepdims)


def argsort(x, axis=-1):
    return _np.argsort(_value(x), axis=axis, kind="stable").astype(_np.int32)


def sort(x, axis=-1):
    """The values sorted ascending along axis; each gradient goes back to its entry."""
    x = _t(x)
    (axis,) = _axes(axis, x.ndim, "sort")
    last = moveaxis(x, axis, -1)
    order = _np.argsort(last.numpy(), axis=-1, kind="stable")
    return moveaxis(_gather_last(last, order), -1, axis)


# ---- element-wise --------------------------------------------------------------------------

square = _unary(_core.square, "square", "x²")


sqrt = _unary(_core.sqrt, "sqrt", "√x")


exp = _unary(_core.exp, "exp", "e^x")


log = _unary(_core.log, "log", "ln x")


abs = _unary(_core.abs, "abs", "|x| (gradient 0 at 0)")


absolute = abs


negative = _unary(_core.negative, "negative", "−x")


tanh = _unary(_core.tanh, "tanh", "tanh x")


def reciprocal(x):
    return _core.divide(1.0, _t(x))


def sign(x):
    """−1, 0 or 1 (a constant: the gradient is 0 almost everywhere)."""
    value = _value(x)
    return _wrap(_np.sign(value).astype(value.dtype if value.dtype in _FLOATS else _np.float32))


def _rounded(np_fn, x, *args):
    value = _value(x)
    return _wrap(np_fn(value, *args).astype(value.dtype if value.dtype in _FLOATS
                                             else _np.float32))


def floor(x):
    """⌊x⌋ (a constant: the gradient is 0 almost everywhere)."""
    return _rounded(_np.floor, x)


def ceil(x):
    """⌈x⌉ (a constant: the gradient is 0 almost everywhere)."""
    return _rounded(_np.ceil, x)


def round(x, decimals=0):
    """x rounded half to even at ``decimals`` (a constant: the gradient is 0 almost
    everywhere)."""
    return _rounded(_np.round, x, decimals)


# ---- binary --------------------------------------------------------------------------------

def _binary(fn):
    def op(x1, x2):
        if not _is_tensor(x1) and not _is_tensor(x2):
            x1 = _t(x1)
        return fn(x1, x2)
    op.__name__ = fn.__name__
    op.__doc__ = f"{fn.__name__}(x1, x2), element-wise with broadcasting (differentiable)."
    return op


add = _binary(_core.add)


subtract = _binary(_core.subtract)


multiply = _binary(_core.multiply)


divide = _binary(_core.divide)


true_divide = divide


power = _binary(_core.power)


maximum = _binary(_core.maximum)


minimum = _binary(_core.minimum)


def clip(x, x_min, x_max):
    """min(max(x, x_min), x_max): gradient 1 strictly inside, 0 outside."""
    return _core.minimum(_core.maximum(_t(x), x_min), x_max)


def where(condition, x1=None, x2=None):
    """x1 where condition holds, else x2 (broadcast together). Gathers from both, so a
    non-finite value in the branch not taken does not leak in, and each branch's gradient
    reaches only the entries it gave. With x1 = x2 = None: the indices where condition
    holds (as np.nonzero)."""
    cond = _np.asarray(_value(condition)).astype(bool)
    if x1 is None and x2 is None:
        return tuple(i.astype(_np.int32) for i in _np.nonzero(cond))
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither")
    a, b = _common_float([x1, x2])
    out_shape = _np.broadcast_shapes(cond.shape, tuple(a.shape), tuple(b.shape))
    a = _core.flatten(broadcast_to(a, out_shape))
    b = _core.flatten(broadcast_to(b, out_shape))
    n = int(_np.prod(out_shape, dtype=_np.int64))
    index = _np.arange(n) + _np.where(_np.broadcast_to(cond, out_shape).reshape(-1), 0, n)
    return _core.reshape(_core.concat([a, b], axis=0)[index], out_shape)


def matmul(x1, x2):
    """The matrix product, as np.matmul (batched, 1-D operands promoted)."""
    x1, x2 = _common_float([x1, x2])
    return _core.matmul(x1, x2)


def dot(x1, x2):
    """np.dot: a scalar times a tensor, matmul for 1-D/2-D, else Σ over x1's last axis and
    x2's second-to-last (a tensordot)."""
    x1, x2 = _common_float([x1, x2])
    if x1.ndim == 0 or x2.ndim == 0:
        return _core.multiply(x1, x2)
    if x2.ndim <= 2:
        return _core.matmul(x1, x2)
    k = x2.shape[-2]
    if x1.shape[-1] != k:
        raise ValueError(f"dot: shapes {tuple(x1.shape)} and {tuple(x2.shape)} do not fit "
                         f"(last axis {x1.shape[-1]} vs second-to-last {k})")
    b = _core.reshape(moveaxis(x2, -2, 0), (k, -1))
    out = _core.matmul(x1, b)
    return _core.reshape(out, tuple(x1.shape[:-1]) + tuple(x2.shape[:-2]) + (x2.shape[-1],))


# ---- comparisons and logic: NumPy booleans, no gradient ------------------------------------

def _compare(np_fn, name):
    def op(x1, x2):
        return _np.asarray(np_fn(_value(x1), _value(x2)))
    op.__name__ = name
    op.__doc__ = f"{name}(x1, x2): element-wise, a NumPy bool array (no gradient)."
    return op


equal = _compare(_np.equal, "equal")


not_equal = _compare(_np.not_equal, "not_equal")


greater = _compare(_np.greater, "greater")


greater_equal = _compare(_np.greater_equal, "greater_equal")


less = _compare(_np.less, "less")


less_equal = _compare(_np.less_equal, "less_equal")


logical_and = _compare(_np.logical_and, "logical_and")


logical_or = _compare(_np.logical_or, "logical_or")


def logical_not(x):
    return _np.logical_not(_value(x))


def isfinite(x):
    return _np.isfinite(_value(x))


def isnan(x):
    return _np.isnan(_value(x))


def all(x, axis=None, keepdims=False):
    return _np.all(_value(x), axis=_axis_arg(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    return _np.any(_value(x), axis=_axis_arg(axis), keepdims=keepdims)


def count_nonzero(x, axis=None):
    return _np.asarray(_np.count_nonzero(_value(x), axis=_axis_arg(axis)), dtype=_np.int32)
