"""The pieces every pycnn loss shares: the Loss class (Keras' protocol: settings, config,
sample_weight, subclasses with call()), Keras' shape rules and its reductions."""
import numpy as _np

from .. import _core
from .._configurable import Configurable as _Configurable, snake_case as _snake_case


# ---- Keras' shape rules, applied before the C loss ----------------------------------------

def _shape(x):
    return tuple(x.shape) if isinstance(x, _core.Tensor) else _np.shape(x)


def _reshape(x, shape):
    if isinstance(x, _core.Tensor):
        return _core.reshape(x, shape)
    return _np.reshape(_np.asarray(x), shape)


def _align_ranks(y_true, y_pred):
    """Keras' squeeze_or_expand_to_same_rank: when the ranks differ by one and the longer
    one ends in an axis of 1, a rank-1 side gains that axis ((n,) with (n, 1) → both
    (n, 1)), otherwise the longer side loses it ((n, h, w) with (n, h, w, 1) → (n, h, w))."""
    st, sp = _shape(y_true), _shape(y_pred)
    if len(st) == len(sp) + 1 and st[-1] == 1:
        if len(sp) == 1:
            y_pred = _reshape(y_pred, sp + (1,))
        else:
            y_true = _reshape(y_true, st[:-1])
    elif len(sp) == len(st) + 1 and sp[-1] == 1:
        if len(st) == 1:
            y_true = _reshape(y_true, st + (1,))
        else:
            y_pred = _reshape(y_pred, sp[:-1])
    return y_true, y_pred


def _broadcast_together(y_true, y_pred):
    """Both sides broadcast to their common shape, as Keras' MSE computes y_true − y_pred
    (the gradient of a broadcast y_pred sums back). Shapes that do not broadcast are left
    for the C loss to reject with its message."""
    st, sp = _shape(y_true), _shape(y_pred)
    if st == sp:
        return y_true, y_pred
    try:
        shape = _np.broadcast_shapes(st, sp)
    except ValueError:
        return y_true, y_pred
    if st != shape:
        values = y_true.numpy() if isinstance(y_true, _core.Tensor) else _np.asarray(y_true)
        if values.dtype.kind not in "biuf":
            return y_true, y_pred       # not numbers: the C loss names the problem
        y_true = _np.ascontiguousarray(_np.broadcast_to(values, shape))
    if sp != shape:
        if isinstance(y_pred, _core.Tensor):
            y_pred = _core.multiply(y_pred, _core.tensor(_np.ones(shape, y_pred.dtype)))
        else:
            y_pred = _np.ascontiguousarray(_np.broadcast_to(_np.asarray(y_pred), shape))
    return y_true, y_pred


_REDUCTION_NAMES = {None: "none", "none": "none", "mean": "mean", "sum": "sum",
                    "sum_over_batch_size": "mean", "mean_with_sample_weight": "mean"}


def _reduction(reduction, who):
    """pycnn's name ('mean', 'sum', 'none') for a Keras reduction."""
    try:
        return _REDUCTION_NAMES[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r} (Keras' 'sum_over_batch_size', "
                         f"'mean_with_sample_weight' and None are accepted too)") from None


# ---- classes: a loss with its settings, for compile(loss=...) ----------------------------



class Loss(_Configurable):
    """A loss function with fixed settings: ``loss(y_true, y_pred)`` → Tensor.

    ``name`` is the Keras snake-case name, ``get_config()`` a JSON-safe dict that
    ``from_config`` turns back into an equal loss. Subclasses set ``function``, or, as in
    Keras, define ``call(y_true, y_pred)`` returning per-sample values (both arrive as
    Tensors of y_pred's dtype), which ``loss(...)`` weighs and reduces.

    ``loss(y_true, y_pred, sample_weight=w)`` weighs each value of the unreduced loss (w
    broadcast over it after Keras' rank alignment), then reduces as Keras does: 'mean'
    ('sum_over_batch_size') divides the weighted sum by the number of values,
    'mean_with_sample_weight' by the sum of the weights, 'sum' not at all.
    """

    function = None

    def __init__(self, reduction="mean", name=None, **options):
        _reduction(reduction, type(self).__name__)
        self.reduction = reduction
        if name is None:
            name = self.function.__name__ if self.function is not None else \
                _snake_case(type(self).__name__)
        self.name = name
        self._options = options
        for key, value in options.items():
            setattr(self, key, value)

    def __call__(self, y_true, y_pred, sample_weight=None):
        function = type(self).function
        if function is None:                    # a Keras-style subclass with call()
            y_pred = _as_float_tensor(y_pred)
            values = self.call(_core.tensor(_np.asarray(
                y_true.numpy() if isinstance(y_true, _core.Tensor) else y_true,
                dtype=y_pred.dtype)), y_pred)
            return _weigh_and_reduce(_as_float_tensor(values), sample_weight, self.reduction)
        if sample_weight is None:
            return function(y_true, y_pred, reduction=_reduction(self.reduction, self.name),
                            **self._options)
        values = function(y_true, y_pred, reduction="none", **self._options)
        return _weigh_and_reduce(values, sample_weight, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__}: a Loss subclass defines "
                                  f"call(y_true, y_pred) (or sets function)")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self._options}


def _as_float_tensor(x):
    """A Tensor as it is; NumPy float64 stays float64; anything else becomes float32."""
    if isinstance(x, _core.Tensor):
        return x
    array = _np.asarray(x)
    keep = isinstance(x, _np.ndarray) and array.dtype == _np.float64
    return _core.tensor(array if keep else array.astype(_np.float32))


def _weigh_and_reduce(values, sample_weight, reduction):
    """Keras' reduce_weighted_values: values · w (ranks aligned, w broadcast), then summed
    and divided by the number of values ('mean'), by Σ w ('mean_with_sample_weight'; 0
    when Σ w = 0, as divide_no_nan) or by nothing ('sum'); 'none' keeps values · w.
    No sample_weight weighs every value 1."""
    if sample_weight is None:
        sample_weight = _np.ones(tuple(values.shape))
    weights = sample_weight.numpy() if isinstance(sample_weight, _core.Tensor) else \
        _np.asarray(sample_weight, dtype=_np.float64)
    values, weights = _align_ranks(values, weights)
    try:
        weights = _np.broadcast_to(weights, tuple(values.shape)).astype(values.dtype)
    except ValueError:
        raise ValueError(f"sample_weight of shape {_np.shape(weights)} does not fit the "
                         f"per-sample losses of shape {tuple(values.shape)}") from None
    weighted = _core.multiply(values, _core.tensor(_np.ascontiguousarray(weights)))
    if reduction in (None, "none") or weighted.ndim == 0:
        return weighted
    total = _core.sum(weighted)
    if reduction == "sum":
        return total
    divisor = float(weights.sum()) if reduction == "mean_with_sample_weight" else \
        float(weighted.size)
    return _core.multiply(total, 1.0 / divisor if divisor else 0.0)
