"""Weight penalties with Keras 3's names, defaults and configs: ``L1``, ``L2``, ``L1L2``,
``OrthogonalRegularizer``.

A regularizer is a callable ``reg(weight)`` → a scalar Tensor, differentiable in the weight
(composed from pycnn's C ops), which a layer adds to its losses::

    L1(l1=0.01)            l1 · Σ |w|
    L2(l2=0.01)            l2 · Σ w²           (no ½: Keras' convention)
    L1L2(l1=0.0, l2=0.0)   l1 · Σ |w| + l2 · Σ w²
    OrthogonalRegularizer(factor=0.01, mode='rows')
                           factor · ½ Σ_{i≠j} |⟨v_i, v_j⟩| / (n (n − 1) / 2), v the
                           unit-normed rows (or columns) of a 2-D weight

The lowercase ``l1``, ``l2``, ``l1_l2`` (and ``orthogonal_regularizer``) are the same classes,
as in Keras. The gradient of |w| at w = 0 is 0.

    >>> import numpy as np, pycnn
    >>> round(pycnn.regularizers.L2(0.5)(np.ones((2, 2))).item(), 6)
    2.0
"""
import numpy as _np

from . import _core
from ._configurable import Configurable as _Configurable, deserialize_from as _deserialize_from

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]


def _float_arg(value, name, who):
    """Keras' validate_float_arg: a finite int or float >= 0, as a float."""
    if not isinstance(value, (float, int, _np.floating, _np.integer)) or \
            not _np.isfinite(value) or value < 0:
        raise ValueError(f"{who}: invalid value for argument {name}: expected a non-negative "
                         f"float, got {name}={value!r}")
    return float(value)


def _weight(x):
    """The weight as a Tensor (kept in its graph); arrays keep float64, else float32."""
    if isinstance(x, _core.Tensor):
        return x
    a = _np.asarray(x)
    return _core.tensor(a if a.dtype == _np.float64 else a.astype(_np.float32))


class Regularizer(_Configurable):
    """Base: ``reg(weight)`` → a scalar Tensor (0 here). Subclasses define ``__call__``
    and ``get_config``; ``from_config(get_config())`` makes an equal regularizer."""

    def __call__(self, x):
        return _core.tensor(_np.zeros((), dtype=_weight(x).dtype))


class L1L2(Regularizer):
    """l1 · Σ |w| + l2 · Σ w² (both factors default to 0, as Keras' L1L2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _float_arg(l1, "l1", "L1L2")
        self.l2 = _float_arg(l2, "l2", "L1L2")

    def __call__(self, x):
        w = _weight(x)
        penalty = _core.tensor(_np.zeros((), dtype=w.dtype))
        if self.l1:
            penalty = _core.add(penalty, _core.multiply(_core.sum(_core.abs(w)), self.l1))
        if self.l2:
            penalty = _core.add(penalty, _core.multiply(_core.sum(_core.square(w)), self.l2))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class _OneTerm(Regularizer):
    """factor · Σ term(w), the factor being the one argument named ``_ARG``."""

    def __init__(self, factor):
        setattr(self, self._ARG, _float_arg(factor, self._ARG, type(self).__name__))

    def __call__(self, x):
        return _core.multiply(_core.sum(self._term(_weight(x))), getattr(self, self._ARG))

    def get_config(self):
        return {self._ARG: getattr(self, self._ARG)}


class L1(_OneTerm):
    """l1 · Σ |w| (l1 = 0.01 by default)."""

    _ARG, _term = "l1", staticmethod(_core.abs)

    def __init__(self, l1=0.01):
        super().__init__(l1)


class L2(_OneTerm):
    """l2 · Σ w² (l2 = 0.01 by default)."""

    _ARG, _term = "l2", staticmethod(_core.square)

    def __init__(self, l2=0.01):
        super().__init__(l2)


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (mode='rows') or columns ('columns') of a 2-D weight towards being
    orthogonal: factor · the mean |cosine| between distinct pairs of them."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _float_arg(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got "
                             f"mode={mode!r}")
        self.mode = mode

    def __call__(self, inputs):
        w = _weight(inputs)
        if w.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer: inputs must have rank 2, got shape "
                             f"{tuple(w.shape)}")
        if self.mode == "columns":
            w = _core.transpose(w)
        n = w.shape[0]
        # row / max(‖row‖, 1e-7) as Keras' normalize; the max inside the root keeps the
        # gradient of an all-zero row finite
        norms = _core.sqrt(_core.maximum(_core.sum(_core.square(w), axis=1, keepdims=True),
                                         1e-14))
        unit = _core.divide(w, norms)
        product = _core.matmul(unit, _core.transpose(unit))
        off_diagonal = _core.multiply(product, _core.tensor((1.0 - _np.eye(n)).astype(w.dtype)))
        pairs = n * (n - 1) / 2.0       # Keras' factor · ½ · Σ_{i≠j} |cos| / pairs
        return _core.multiply(_core.sum(_core.abs(off_diagonal)), self.factor * 0.5 / pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASS_LIST = (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)
_CLASSES = {c.__name__: c for c in _CLASS_LIST}
_CLASSES.update({"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2,     # Keras' snake names
                 "orthogonal_regularizer": OrthogonalRegularizer,
                 "regularizer": Regularizer})


def serialize(regularizer):
    """Keras' serialized form: {'module': 'keras.regularizers', 'class_name', 'config',
    'registered_name': None}."""
    if not isinstance(regularizer, Regularizer):
        raise ValueError(f"regularizers.serialize: expected a Regularizer, got {regularizer!r}")
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
            "config": regularizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The regularizer a serialized dict (or a bare {'class_name', 'config'}) describes."""
    return _deserialize_from(config, _CLASSES, custom_objects, "regularizers.deserialize",
                             "regularizer",
                             "L1, L2, L1L2, OrthogonalRegularizer (or l1, l2, l1_l2)")


def get(identifier):
    """A regularizer for a name ('l2', 'L1L2', ...: the class with its defaults), a config
    dict, a class, or a regularizer / callable passed through; None gives None."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"regularizers.get: could not interpret regularizer identifier "
                     f"{identifier!r}")
