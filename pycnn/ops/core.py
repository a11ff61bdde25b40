"""The core of pycnn.ops: conversion between NumPy and pycnn tensors (Keras' ops.core),
and the helpers every other ops module shares.

pycnn tensors hold float32 or float64 only: integer and boolean results are NumPy arrays.
"""
import numpy as _np

from .. import _core

__all__ = ["convert_to_tensor", "convert_to_numpy", "cast", "stop_gradient", "shape", "dtype"]


# ---- conversion (keras.ops.core) -----------------------------------------------------------

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


def _dtype_name(x):
    """The dtype's Keras name: 'float32', 'int32', 'bool' ..."""
    return _np.dtype(x.dtype).name if hasattr(x, "dtype") else _np.asarray(x).dtype.name


dtype = _dtype_name


# ---- shared helpers ------------------------------------------------------------------------

_FLOATS = (_np.float32, _np.float64)


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


def _float_or(dtype, default=_np.float32):
    dtype = _dtype_of(dtype)
    return default if dtype is None else dtype


def _axes(axis, rank, who):
    """axis (int or sequence) → a tuple of non-negative ints, checked against rank."""
    axes = (axis,) if isinstance(axis, (int, _np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"{who}: axis {a} is out of range for a tensor of rank {rank}")
        out.append(int(a) % rank)
    return tuple(out)


def _axis_arg(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _common_float(xs):
    """Tensors for a list of inputs, all of one dtype (float64 if any is float64)."""
    ts = [_t(x) for x in xs]
    if any(t.dtype == _np.float64 for t in ts):
        ts = [t if t.dtype == _np.float64 else t.astype("float64") for t in ts]
    return ts


def _unary(fn, name, formula):
    """fn over x as a Tensor, named and documented for help()."""
    def op(x):
        return fn(_t(x))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{formula}, element-wise (differentiable)."
    return op


def _gather_last(x, order):
    """x's entries at integer positions ``order`` along the last axis (differentiable)."""
    lead = _np.indices(order.shape, sparse=True)[:-1]
    return x[tuple(lead) + (order,)]
