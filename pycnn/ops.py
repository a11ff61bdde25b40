"""Keras 3's backend-neutral ops (``keras.ops``) over pycnn tensors.

``import pycnn as keras`` then ``keras.ops.mean(keras.ops.square(x - y))`` runs as in Keras:
same names, arguments and defaults (``axis=None``, ``keepdims=False``, ``axis=-1`` for
softmax ...). Each op is composed from pycnn's C ops, so it is differentiable exactly where
Keras' is and records its nodes in pycnn's graph (``clip`` is ``minimum(maximum(x, lo), hi)``,
``where`` gathers from both branches with an integer index, ``var`` is the mean of the
squared deviation); no op loops over elements in Python.

pycnn tensors hold float32 or float64 only. Results that Keras gives as integer or boolean
tensors (``argmax``, ``equal``, ``cast(x, 'int32')``, ``arange(5)``, ``convert_to_tensor`` of
integer data ...) are NumPy arrays of that dtype here; every pycnn op accepts them. They carry
no gradient, as in Keras. Float inputs that are not Tensors (NumPy arrays, lists, numbers)
become Tensors: float64 arrays stay float64, everything else is float32 (``floatx``).

    >>> import pycnn
    >>> from pycnn import ops
    >>> x = ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ops.convert_to_numpy(ops.mean(ops.square(x), axis=-1))
    array([ 2.5, 12.5], dtype=float32)
"""
import builtins as _builtins
import math as _math

import numpy as _np

from . import _core
from . import losses as _losses

__all__ = [
    # creation and conversion
    "ones", "zeros", "ones_like", "zeros_like", "full", "full_like", "arange", "eye",
    "identity", "cast", "convert_to_tensor", "convert_to_numpy", "stop_gradient", "shape",
    "size", "ndim", "dtype",
    # shapes
    "reshape", "expand_dims", "squeeze", "transpose", "swapaxes", "moveaxis", "concatenate",
    "stack", "broadcast_to", "tile", "repeat", "take", "split", "flip",
    # reductions and indices
    "sum", "mean", "max", "min", "amax", "amin", "var", "std", "logsumexp", "argmax",
    "argmin", "argsort", "one_hot",
    # element-wise
    "square", "sqrt", "exp", "log", "abs", "absolute", "negative", "reciprocal", "sign",
    "relu", "relu6", "sigmoid", "tanh", "softplus", "silu", "swish", "elu", "leaky_relu",
    "gelu", "softmax", "log_softmax",
    # binary
    "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum",
    "clip", "where", "matmul", "dot",
    # comparisons and logic (NumPy booleans)
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and",
    "logical_or", "logical_not", "isfinite", "isnan", "all", "any", "count_nonzero",
    # more: norms, sorting, cumulative sums, per-sample cross-entropies, rounding
    "normalize", "norm", "average", "linspace", "cumsum", "sort", "top_k", "hard_sigmoid",
    "log_sigmoid", "floor", "ceil", "round", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy",
]

_FLOATS = (_np.float32, _np.float64)


# ---- conversion --------------------------------------------------------------------------

def _dtype_of(dtype):
    """A NumPy dtype for a Keras dtype name or object (None stays None)."""
    if dtype is None:
        return None
    name = getattr(dtype, "name", dtype)
    if name == "floatx":
        return _np.dtype(_np.float32)
    try:
        return _np.dtype(name)
    except TypeError:
        raise ValueError(f"ops: unknown dtype {dtype!r}") from None


def _is_tensor(x):
    return isinstance(x, _core.Tensor)


def _wrap(array):
    """A float array → Tensor (no copy); any other dtype stays a NumPy array."""
    array = _np.asarray(array)
    if array.dtype in _FLOATS:
        return _core.tensor(array)
    return array


def _t(x):
    """x as a pycnn Tensor: Tensors pass through (keeping their graph), NumPy float64 stays
    float64, everything else (Python numbers and lists included) becomes float32."""
    if _is_tensor(x):
        return x
    array = _np.asarray(x)
    if array.dtype != _np.float64 or not isinstance(x, (_np.ndarray, _np.generic)):
        array = array.astype(_np.float32)
    return _core.tensor(array)


def _value(x):
    """The numbers of x as a NumPy array (no graph)."""
    return x.numpy() if _is_tensor(x) else _np.asarray(x)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """x as a Tensor (float data) or a NumPy array (integer / boolean data, which pycnn
    tensors cannot hold). A Tensor of the requested dtype is returned unchanged."""
    if sparse or ragged:
        raise ValueError("convert_to_tensor: pycnn has no sparse or ragged tensors")
    dtype = _dtype_of(dtype)
    if _is_tensor(x):
        return x if dtype is None else cast(x, dtype)
    array = _np.asarray(x)
    python = not isinstance(x, (_np.ndarray, _np.generic))
    if dtype is None:
        if array.dtype.kind == "f" and (python or array.dtype != _np.float64):
            dtype = _np.dtype(_np.float32)    # Python floats and float16: floatx
        elif array.dtype.kind in "iu" and python:
            dtype = _np.dtype(_np.int32)      # Python ints: Keras' int32
    return _wrap(array if dtype is None else array.astype(dtype))


def convert_to_numpy(x):
    """A NumPy array holding the numbers of x (a copy: later in-place updates of x do not
    show in it)."""
    return _np.array(_value(x))


def cast(x, dtype):
    """x in another dtype. Float → float on a Tensor is differentiable (``astype``)."""
    dtype = _dtype_of(dtype)
    if _is_tensor(x) and dtype in _FLOATS:
        return x if x.dtype == dtype else x.astype(dtype.name)
    return _wrap(_value(x).astype(dtype))


def stop_gradient(variable):
    """The same numbers, cut from the graph: no gradient flows through it."""
    return variable.detach() if _is_tensor(variable) else convert_to_tensor(variable)


def shape(x):
    """The shape as a tuple of ints."""
    return tuple(x.shape) if hasattr(x, "shape") else _np.shape(x)


def size(x):
    return int(_np.prod(shape(x), dtype=_np.int64))


def ndim(x):
    return len(shape(x))


def _dtype_name(x):
    """The dtype's Keras name: 'float32', 'int32', 'bool' ..."""
    return _np.dtype(x.dtype).name if hasattr(x, "dtype") else _np.asarray(x).dtype.name


dtype = _dtype_name


# ---- creation ----------------------------------------------------------------------------

def _float_or(dtype, default=_np.float32):
    dtype = _dtype_of(dtype)
    return default if dtype is None else dtype


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
    return _wrap(_np.full(shape(x), _value(fill_value), _float_or(dtype, _np.dtype(_dtype_name(x)))))



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


# ---- shapes ------------------------------------------------------------------------------

def _axes(axis, rank, who):
    """axis (int or sequence) → a tuple of non-negative ints, checked against rank."""
    axes = (axis,) if isinstance(axis, (int, _np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"{who}: axis {a} is out of range for a tensor of rank {rank}")
        out.append(int(a) % rank)
    return tuple(out)


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


def _common_float(xs):
    """Tensors for a list of inputs, all of one dtype (float64 if any is float64)."""
    ts = [_t(x) for x in xs]
    if _builtins.any(t.dtype == _np.float64 for t in ts):
        ts = [t if t.dtype == _np.float64 else t.astype("float64") for t in ts]
    return ts


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


# ---- reductions --------------------------------------------------------------------------

def _axis_arg(axis):
    return tuple(axis) if isinstance(axis, list) else axis


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


# ---- element-wise ------------------------------------------------------------------------

def _unary(fn):
    return lambda x: fn(_t(x))


square = _unary(_core.square)
sqrt = _unary(_core.sqrt)
exp = _unary(_core.exp)
log = _unary(_core.log)
abs = _unary(_core.abs)
absolute = abs
negative = _unary(_core.negative)
relu = _unary(_core.relu)
sigmoid = _unary(_core.sigmoid)
tanh = _unary(_core.tanh)
for _fn, _doc in ((square, "x²"), (sqrt, "√x"), (exp, "e^x"), (log, "ln x"), (abs, "|x|"),
                  (negative, "−x"), (relu, "max(x, 0)"), (sigmoid, "1 / (1 + e^−x)"),
                  (tanh, "tanh x")):
    _fn.__doc__ = f"{_doc}, element-wise (differentiable)."
square.__name__, sqrt.__name__, exp.__name__, log.__name__ = "square", "sqrt", "exp", "log"
abs.__name__, negative.__name__, relu.__name__ = "abs", "negative", "relu"
sigmoid.__name__, tanh.__name__ = "sigmoid", "tanh"
del _fn, _doc


def reciprocal(x):
    return _core.divide(1.0, _t(x))


def sign(x):
    """−1, 0 or 1 (a constant: the gradient is 0 almost everywhere)."""
    value = _value(x)
    return _wrap(_np.sign(value).astype(value.dtype if value.dtype in _FLOATS else _np.float32))


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


def softmax(x, axis=-1):
    return _core.softmax(_t(x), axis)


def log_softmax(x, axis=-1):
    return _core.log_softmax(_t(x), axis)


# ---- binary ------------------------------------------------------------------------------

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


# ---- comparisons and logic: NumPy booleans, no gradient ---------------------------------

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


# ---- norms, averages, sequences ----------------------------------------------------------

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


def _vector_norm(x, ord, axis, keepdims):
    a = _core.abs(x)
    if ord == float("inf"):
        return max(a, axis, keepdims)
    if ord == -float("inf"):
        return min(a, axis, keepdims)
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
        pick = max if ord in (1, float("inf")) else min
        out = pick(sums, other, True)
        if keepdims:
            return out
        return _core.reshape(out, tuple(d for i, d in enumerate(x.shape) if i not in axes))
    raise ValueError(f"norm: matrix norm ord={ord!r} needs a singular value decomposition, "
                     f"which pycnn has no op for; use None/'fro', 1, -1, inf or -inf")


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


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """num evenly spaced values from start to stop (float32 unless dtype says)."""
    values, step = _np.linspace(_value(start), _value(stop), num, endpoint=endpoint,
                                retstep=True, axis=axis)
    out = _wrap(values.astype(_float_or(dtype)))
    return (out, step) if retstep else out


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


def _gather_last(x, order):
    """x's entries at integer positions ``order`` along the last axis (differentiable)."""
    lead = _np.indices(order.shape, sparse=True)[:-1]
    return x[tuple(lead) + (order,)]


def sort(x, axis=-1):
    """The values sorted ascending along axis; each gradient goes back to its entry."""
    x = _t(x)
    (axis,) = _axes(axis, x.ndim, "sort")
    last = moveaxis(x, axis, -1)
    order = _np.argsort(last.numpy(), axis=-1, kind="stable")
    return moveaxis(_gather_last(last, order), -1, axis)


def top_k(x, k, sorted=True):
    """(values, indices) of the k largest entries along the last axis, largest first (the
    values differentiable; the indices int32)."""
    x = _t(x)
    if not 0 < k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must be in [1, {x.shape[-1]}] for shape "
                         f"{tuple(x.shape)}")
    order = _np.argsort(-x.numpy(), axis=-1, kind="stable")[..., :k]
    return _gather_last(x, order), order.astype(_np.int32)


def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 below −3, 1 above 3, linear between."""
    return _core.divide(relu6(_core.add(_t(x), 3.0)), 6.0)


def log_sigmoid(x):
    """ln sigmoid(x) = −softplus(−x), finite for any x."""
    return _core.negative(softplus(_core.negative(_t(x))))


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


# ---- per-sample cross-entropies (keras.ops' forms: no reduction) -------------------------

def binary_crossentropy(target, output, from_logits=False):
    """−t ln p − (1 − t) ln(1 − p) per element (p clipped to [1e-7, 1 − 1e-7]; with
    from_logits the exact log-sigmoid form)."""
    output = _t(output)
    shape = tuple(output.shape)
    values = _losses.binary_crossentropy(_np.reshape(_value(target), shape + (1,)),
                                        _core.reshape(output, shape + (1,)),
                                        from_logits=from_logits, reduction="none")
    return _core.reshape(values, shape)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """−Σ_k t_k ln p_k along axis (p rescaled to sum 1 and clipped; with from_logits the
    fused log-softmax)."""
    output = _t(output)
    (axis,) = _axes(axis, output.ndim, "categorical_crossentropy")
    target = _np.moveaxis(_np.asarray(_value(target)), axis, -1)
    return _losses.categorical_crossentropy(target, moveaxis(output, axis, -1),
                                           from_logits=from_logits, reduction="none")


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """−ln p_t per label t along axis (integer labels in [0, C))."""
    output = _t(output)
    (axis,) = _axes(axis, output.ndim, "sparse_categorical_crossentropy")
    return _losses.sparse_categorical_crossentropy(_value(target), moveaxis(output, axis, -1),
                                                  from_logits=from_logits, reduction="none")
