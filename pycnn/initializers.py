"""Weight initializers by Keras name, drawn in C from the generator ``pycnn.set_seed`` seeds.

A layer takes the name (``kernel_initializer='he_normal'``), a Keras config dict or one of
these objects; each is also callable: ``GlorotUniform()((784, 512))`` → a NumPy array.

==================  ========================================================================
glorot_uniform      U(−l, l), l = √(6 / (fan_in + fan_out))           (Dense/Conv2D default)
glorot_normal       truncated N(0, σ²), σ = √(2 / (fan_in + fan_out)) / 0.8796…
he_uniform          U(−l, l), l = √(6 / fan_in)
he_normal           truncated N(0, σ²), σ = √(2 / fan_in) / 0.8796…
zeros, ones         0, 1                                                (bias default: zeros)
constant            value
==================  ========================================================================

fan_in / fan_out: (in, out) of a Dense kernel; kh·kw·c_in and kh·kw·filters of a Conv2D
kernel. "Truncated" redraws values beyond 2σ, as Keras does; dividing by 0.8796… (the
standard deviation of a unit normal cut at ±2) keeps the intended variance.
"""
from . import _core

__all__ = ["Initializer", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "Zeros",
           "Ones", "Constant", "get"]


class Initializer:
    """Base: ``init(shape, dtype='float32')`` → a new NumPy array."""

    name = None

    def __call__(self, shape, dtype="float32"):
        return _core.initialize(self.name, shape, dtype)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class GlorotUniform(Initializer):
    name = "glorot_uniform"


class GlorotNormal(Initializer):
    name = "glorot_normal"


class HeUniform(Initializer):
    name = "he_uniform"


class HeNormal(Initializer):
    name = "he_normal"


class Zeros(Initializer):
    name = "zeros"


class Ones(Initializer):
    name = "ones"


class Constant(Initializer):
    name = "constant"

    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype="float32"):
        return _core.initialize({"class_name": "Constant", "config": {"value": self.value}},
                                shape, dtype)

    def get_config(self):
        return {"value": self.value}


_CLASSES = {c.name: c for c in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, Zeros, Ones,
                                Constant)}
_CLASSES.update({c.__name__: c for c in list(_CLASSES.values())})


def get(identifier):
    """An initializer object for a name ('he_normal' or 'HeNormal'), a Keras config dict
    ({'class_name': 'Constant', 'config': {'value': 0.5}}), or one passed through."""
    if isinstance(identifier, Initializer) or (callable(identifier) and
                                               not isinstance(identifier, (str, dict))):
        return identifier
    if isinstance(identifier, str) and identifier in _CLASSES:
        return _CLASSES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config") or {})
    raise ValueError(f"initializers.get: unknown initializer {identifier!r}; known: "
                     f"{', '.join(sorted(c.name for c in set(_CLASSES.values())))}")
