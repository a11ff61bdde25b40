"""Weight initializers with Keras 3's names, classes, arguments and configs.

A layer takes a name (``kernel_initializer='he_normal'``), a Keras config dict or one of
these objects; each is also callable: ``GlorotUniform()((784, 512))`` → a NumPy array.

=======================  ===================================================================
glorot_uniform           U(−l, l), l = √(6 / (fan_in + fan_out))        (Dense/Conv2D default)
glorot_normal            truncated N(0, σ²), σ = √(2 / (fan_in + fan_out)) / 0.8796…
he_uniform, he_normal    the same with 2 / fan_in
lecun_uniform, _normal   the same with 1 / fan_in
variance_scaling         any of those: scale / fan (mode fan_in, fan_out, fan_avg), drawn
                         uniform, truncated_normal or untruncated_normal
random_normal            N(mean, stddev²), stddev 0.05
random_uniform           U(minval, maxval), ±0.05
truncated_normal         N(mean, stddev²) redrawn beyond 2 stddev, stddev 0.05
orthogonal               gain · Q of the QR decomposition of a normal matrix (rows, cols)
identity                 gain · I (2-D only)
zeros, ones, constant    0, 1, value                                        (bias default: zeros)
=======================  ===================================================================

fan_in / fan_out: (in, out) of a Dense kernel; kh·kw·c_in and kh·kw·filters of a Conv2D
kernel. "Truncated" redraws values beyond 2σ, as Keras does; dividing by 0.8796… (the
standard deviation of a unit normal cut at ±2) keeps the intended variance.

``seed``: an int gives the same values at every call (Keras); a ``pycnn.random.SeedGenerator``
new values at each call; None (the default) new values at each call from pycnn's generator,
reproducible after ``pycnn.set_seed`` (Keras instead fixes a hidden seed per object, so one
unseeded object repeats itself: pycnn draws afresh, so an initializer shared by two layers
gives them different weights). Unseeded Glorot and He initializers are drawn in C.
"""
import math as _math

import numpy as _np

from . import _core
from . import random as _random
from ._configurable import (Configurable as _Configurable, deserialize_from as _deserialize_from,
                            snake_case as _snake_case)

__all__ = ["Initializer", "Constant", "Zeros", "Ones", "Identity", "RandomNormal",
           "RandomUniform", "TruncatedNormal", "VarianceScaling", "GlorotUniform",
           "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal",
           "get", "serialize", "deserialize"]

_TRUNCATION = 0.87962566103423978      # σ of N(0, 1) cut at ±2


def _dtype(dtype):
    name = "float32" if dtype is None else _np.dtype(getattr(dtype, "name", dtype)).name
    if name not in ("float32", "float64"):
        raise ValueError(f"initializers: pycnn weights are float32 or float64, got dtype {name!r}")
    return name


def _shape(shape):
    return (shape,) if isinstance(shape, (int, _np.integer)) else tuple(int(d) for d in shape)


def compute_fans(shape, input_axes=None, output_axes=None):
    """Keras' (fan_in, fan_out) of a weight shape (see the module docstring)."""
    shape = _shape(shape)
    if input_axes is not None and output_axes is not None:
        return (int(_np.prod([shape[a] for a in input_axes])),
                int(_np.prod([shape[a] for a in output_axes])))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(_np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer(_Configurable):
    """Base: ``init(shape, dtype=None)`` → a new NumPy array (float32 unless dtype says).

    Subclasses define ``__call__`` and ``get_config``; ``from_config(get_config())`` makes an
    equal initializer."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(shape, dtype)")

    def get_config(self):
        return {}

    def clone(self):
        return type(self).from_config(self.get_config())


# ---- constants ---------------------------------------------------------------------------

class Constant(Initializer):
    """Every value ``value``."""

    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return _core.initialize({"class_name": "Constant", "config": {"value": self.value}},
                                _shape(shape), _dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return _core.initialize("zeros", _shape(shape), _dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return _core.initialize("ones", _shape(shape), _dtype(dtype))


class Identity(Initializer):
    """gain · I for a 2-D shape (rows, cols)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity: the identity initializer is for 2-D matrices only, "
                             f"got shape={shape} of rank {len(shape)}")
        return (self.gain * _np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


# ---- random ------------------------------------------------------------------------------

class _RandomInitializer(Initializer):
    def __init__(self, seed=None):
        if isinstance(seed, dict):
            seed = _random.SeedGenerator.from_config(seed.get("config", seed))
        if seed is not None and not isinstance(seed, _random.SeedGenerator) and \
                (not isinstance(seed, (int, _np.integer)) or isinstance(seed, bool)):
            raise ValueError(f"{type(self).__name__}: seed should be an int or a "
                             f"pycnn.random.SeedGenerator, got seed={seed!r}")
        self.seed = seed

    def _seed_config(self):
        if isinstance(self.seed, _random.SeedGenerator):
            return {"module": "keras.random", "class_name": "SeedGenerator",
                    "config": self.seed.get_config(), "registered_name": None}
        return self.seed

    def get_config(self):
        return {"seed": self._seed_config()}

    def _draw(self, fn, shape, dtype, **kwargs):
        return fn(_shape(shape), dtype=_dtype(dtype), seed=self.seed, **kwargs).numpy()


class _Distribution(_RandomInitializer):
    """A draw from one pycnn.random distribution whose keyword arguments are the
    constructor's arguments before seed (``_ARGS``), in the config in that order."""

    _ARGS = ()

    def __call__(self, shape, dtype=None):
        return self._draw(self._distribution, shape, dtype,
                          **{k: getattr(self, k) for k in self._ARGS})

    def get_config(self):
        return {**{k: getattr(self, k) for k in self._ARGS}, **super().get_config()}


class RandomNormal(_Distribution):
    """N(mean, stddev²)."""

    _ARGS, _distribution = ("mean", "stddev"), staticmethod(_random.normal)

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)


class TruncatedNormal(_Distribution):
    """N(mean, stddev²) with values beyond two stddev redrawn."""

    _ARGS, _distribution = ("mean", "stddev"), staticmethod(_random.truncated_normal)

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)


class RandomUniform(_Distribution):
    """U[minval, maxval)."""

    _ARGS, _distribution = ("minval", "maxval"), staticmethod(_random.uniform)

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)


class VarianceScaling(_RandomInitializer):
    """Values of variance scale / n, n = fan_in, fan_out or their mean (``mode``), drawn
    ``uniform`` (±√(3 · scale / n)), ``truncated_normal`` (σ = √(scale / n) / 0.8796…) or
    ``untruncated_normal`` (σ = √(scale / n)); 'normal' means truncated_normal."""

    _C_NAME = None        # the C initializer an unseeded draw uses (same numbers, same stream)

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling: scale must be a positive float, got "
                             f"scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: invalid mode {mode!r}; use 'fan_in', "
                             f"'fan_out' or 'fan_avg'")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"VarianceScaling: invalid distribution {distribution!r}; use "
                             f"'uniform', 'truncated_normal' or 'untruncated_normal'")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if self._C_NAME is not None and self.seed is None and self.input_axes is None:
            return _core.initialize(self._C_NAME, shape, _dtype(dtype))
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / _np.maximum(1.0, fan[self.mode])
        if self.distribution == "truncated_normal":
            return self._draw(_random.truncated_normal, shape, dtype,
                              stddev=_math.sqrt(scale) / _TRUNCATION)
        if self.distribution == "untruncated_normal":
            return self._draw(_random.normal, shape, dtype, stddev=_math.sqrt(scale))
        limit = _math.sqrt(3.0 * scale)
        return self._draw(_random.uniform, shape, dtype, minval=-limit, maxval=limit)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


def _variance_scaling(name, c_name, scale, mode, distribution):
    """A VarianceScaling subclass with fixed settings (GlorotUniform, HeNormal, ...)."""
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes,
                                 output_axes)

    def get_config(self):
        return {"seed": self._seed_config(), "input_axes": self.input_axes,
                "output_axes": self.output_axes}

    return type(name, (VarianceScaling,), {
        "__init__": __init__, "get_config": get_config, "_C_NAME": c_name,
        "__module__": __name__,
        "__doc__": f"VarianceScaling(scale={scale}, mode={mode!r}, "
                   f"distribution={distribution!r})."})


GlorotUniform = _variance_scaling("GlorotUniform", "glorot_uniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling("GlorotNormal", "glorot_normal", 1.0, "fan_avg",
                                 "truncated_normal")
HeUniform = _variance_scaling("HeUniform", "he_uniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling("HeNormal", "he_normal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling("LecunUniform", None, 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling("LecunNormal", None, 1.0, "fan_in", "truncated_normal")


class Orthogonal(_RandomInitializer):
    """gain · an orthogonal matrix: Q of the QR decomposition of a normal (rows, cols)
    matrix (rows = the product of all but the last axis), signs fixed by R's diagonal;
    orthogonal columns, or rows when there are fewer rows than columns."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the tensor to initialize must be at least "
                             f"two-dimensional, got shape={shape} of rank {len(shape)}")
        rows, cols = int(_np.prod(shape[:-1])), shape[-1]
        a = self._draw(_random.normal, (max(rows, cols), min(rows, cols)), "float64")
        q, r = _np.linalg.qr(a)
        q = q * _np.sign(_np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


# ---- by name -----------------------------------------------------------------------------

_CLASS_LIST = (Constant, Zeros, Ones, Identity, RandomNormal, RandomUniform, TruncatedNormal,
               VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
               LecunNormal, Orthogonal)
_CLASSES = {c.__name__: c for c in _CLASS_LIST}
_CLASSES.update({_snake_case(c.__name__): c for c in _CLASS_LIST})
constant, zeros, ones, identity = Constant, Zeros, Ones, Identity      # Keras' aliases
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, \
    HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal
__all__ += sorted(_snake_case(c.__name__) for c in _CLASS_LIST)
__all__ += ["IdentityInitializer", "OrthogonalInitializer"]
_CLASSES.update({"normal": RandomNormal, "uniform": RandomUniform, "one": Ones, "zero": Zeros,
                 "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal})


def serialize(initializer):
    """Keras' serialized form: {'module': 'keras.initializers', 'class_name', 'config',
    'registered_name': None}."""
    if not isinstance(initializer, Initializer):
        raise ValueError(f"initializers.serialize: expected an Initializer, got "
                         f"{initializer!r}")
    return {"module": "keras.initializers", "class_name": type(initializer).__name__,
            "config": initializer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The initializer a serialized dict (or a bare {'class_name', 'config'}) describes;
    ``custom_objects`` maps further class names to classes."""
    return _deserialize_from(config, _CLASSES, custom_objects, "initializers.deserialize",
                             "initializer", ", ".join(sorted(c.__name__ for c in _CLASS_LIST)))


def get(identifier):
    """An initializer for a name ('he_normal' or 'HeNormal', case-sensitive, as Keras), a
    config dict, a class (instantiated), an array (an initializer that returns a copy of
    it), or an initializer / callable(shape, dtype) passed through; None gives None."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier not in _CLASSES:
            raise ValueError(f"initializers.get: unknown initializer {identifier!r}; known: "
                             f"{', '.join(sorted(k for k in _CLASSES if k.islower()))}")
        return _CLASSES[identifier]()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, (_np.ndarray, _np.generic, _core.Tensor)):
        values = _np.array(identifier.numpy() if isinstance(identifier, _core.Tensor)
                           else identifier)

        def initialize_fn(shape, dtype=None):
            if tuple(_shape(shape)) != values.shape:
                raise ValueError(f"initializer: the given values have shape {values.shape}, "
                                 f"asked for shape {tuple(_shape(shape))}")
            return values.astype(_dtype(dtype))
        return initialize_fn
    if callable(identifier):
        return identifier
    raise ValueError(f"initializers.get: could not interpret initializer identifier "
                     f"{identifier!r}")
