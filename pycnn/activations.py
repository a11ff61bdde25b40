"""Activation functions, and resolving them by name as Keras does.

``get('relu')`` lets a layer take ``activation='relu'``; ``serialize(fn)`` gives back
the name a config stores. Every function here is a C kernel with a C backward node:

==============  ==============================================  =========================
name            formula                                         notes
==============  ==============================================  =========================
linear          x                                               ``None`` means this
relu            max(0, x)                                       gradient at 0 is 0
sigmoid         1 / (1 + e^−x)                                  exactly 0 / 1 at ∓1000
tanh            (e^x − e^−x) / (e^x + e^−x)
leaky_relu      x if x > 0 else αx                              α = 0.1 (lecture; Keras'
                                                                LeakyReLU layer uses 0.3)
elu             x if x > 0 else α(e^x − 1)                      α = 1.0
swish           x · σ(βx)                                       β may be a trainable Tensor
softmax         e^(z_k − max z) / Σ_j e^(z_j − max z)           along axis −1
log_softmax     z_k − log Σ_j e^z_j  (log-sum-exp)              exact at ±1000
softplus        ln(1 + e^x)                                     no overflow
gelu            x Φ(x), Φ the standard normal CDF               exact (approximate=False)
softsign        x / (1 + |x|)
hard_sigmoid    relu6(x + 3) / 6                                Keras 3's (Keras 2: x/5 + ½)
relu6           min(max(x, 0), 6)
selu            λx if x > 0 else λα(e^x − 1)                    α ≈ 1.6733, λ ≈ 1.0507
exponential     e^x                                             the element-wise exp
silu            x · σ(x)                                        swish with β = 1
==============  ==============================================  =========================

Besides the functions defined here, every element-wise op that ``ops.def`` marks as an
activation (its ``activation`` column, ``_core.op_registry()``) is known by its name.

``maxout(x, pieces)`` and ``naive_normalize(z)`` live in ``pycnn`` too, but take no
part in name resolution: maxout needs ``pieces`` (use the ``Maxout`` layer), and
naive_normalize exists only to show why softmax is needed.

    >>> import pycnn
    >>> f = pycnn.activations.get('softmax')
    >>> round(float(f(pycnn.tensor([[1.0, 2.0, 3.0]])).numpy().sum()), 6)
    1.0
"""
from . import _core
from ._core import elu, leaky_relu, log_softmax, maxout, naive_normalize, softmax, swish

__all__ = ["get", "serialize", "linear", "leaky_relu", "elu", "swish", "softmax",
           "log_softmax", "maxout", "naive_normalize"]


def linear(x):
    """linear(x) = x, the identity: what ``activation=None`` means."""
    return x if isinstance(x, _core.Tensor) else _core.tensor(x)


# the element-wise ops ops.def marks as activations (relu, sigmoid, tanh, softplus, gelu...)
_ELEMENTWISE = {op["function"]: getattr(_core, op["function"])
                for op in _core.op_registry() if op["activation"]}
globals().update(_ELEMENTWISE)
__all__ += sorted(_ELEMENTWISE)
_BY_NAME = {**{f.__name__: f for f in (linear, leaky_relu, elu, swish, softmax, log_softmax)},
            **_ELEMENTWISE}
_ALIASES = {"silu": swish,      # Keras 3 calls swish silu as well
            "exponential": _core.exp}


def get(identifier):
    """The activation function for ``identifier``.

    Args:
        identifier: ``None`` or ``'linear'`` (identity), a name (``'relu'``, ``'sigmoid'``,
            ``'tanh'``, ``'softmax'``, ``'log_softmax'``, ``'leaky_relu'``, ``'elu'``,
            ``'swish'``/``'silu'``), or a callable, returned as it is.

    Returns:
        A callable Tensor → Tensor whose ``__name__`` is the Keras name.

    Raises:
        ValueError: an unknown name. TypeError: neither None, a string nor a callable.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier) or _ALIASES.get(identifier)
        if fn is None:
            raise ValueError(f"activations.get: unknown activation {identifier!r}; known: "
                             f"{', '.join(sorted(_BY_NAME))}")
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"activations.get: expected None, a name or a callable, got "
                    f"{type(identifier).__name__}")


def serialize(activation):
    """The name of an activation function, as a config stores it (``None`` → ``'linear'``).

    Raises:
        ValueError: a callable without a ``__name__`` (e.g. a functools.partial), which a
            config could not name.
    """
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return get(activation).__name__
    name = getattr(activation, "__name__", None)
    if not callable(activation) or not isinstance(name, str):
        raise ValueError(f"activations.serialize: cannot name {activation!r}; pass a function "
                         f"with a __name__ or one of {', '.join(sorted(_BY_NAME))}")
    return name
