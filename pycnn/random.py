"""Keras 3's ``keras.random``: seeded draws as pycnn tensors, with Keras' signatures.

``seed`` works as in Keras:

- ``seed=None`` draws from the global stream, which pycnn's own generator (the one weight
  initializers and dropout masks use) keys afresh at every call: after ``pycnn.set_seed(n)``
  the same calls give the same numbers.
- ``seed=42`` (an int) gives the same numbers at every call.
- ``seed=SeedGenerator(42)`` gives new numbers at every call, and the same sequence of them
  for every generator made with 42.

A draw is keyed by a NumPy ``SeedSequence`` (the int seed, or a SeedGenerator's
(seed, counter) state, or 128 bits from pycnn's generator) and filled by NumPy's PCG64 in C.

    >>> import pycnn
    >>> a = pycnn.random.normal((2, 3), seed=1)
    >>> b = pycnn.random.normal((2, 3), seed=1)
    >>> bool((a.numpy() == b.numpy()).all())
    True
"""
import numpy as _np

from . import _core

__all__ = ["SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "dropout",
           "shuffle", "categorical"]

_FLOATS = ("float32", "float64")


def _seed_entropy():
    """128 bits from pycnn's generator (two 53-bit uniforms, as their bit patterns)."""
    bits = _core.initialize("glorot_uniform", (2,), "float64")
    return [int(b) for b in bits.view(_np.uint64)]


class SeedGenerator:
    """A stream of seeds: every draw that takes it gets new numbers, and two generators made
    with the same seed give the same sequence.

    Args:
        seed: an int; None draws one from pycnn's generator (reproducible after
            ``pycnn.set_seed``).
        name: a name (Keras' ``seed_generator_1`` ... when None).
    """

    _count = 0

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise ValueError(f"SeedGenerator: unrecognized keyword arguments: {kwargs}")
        if seed is not None and (not isinstance(seed, (int, _np.integer)) or
                                 isinstance(seed, bool) or not 0 <= seed < 2 ** 63):
            raise ValueError(f"SeedGenerator: seed must be an integer in [0, 2**63), got "
                             f"seed={seed!r}")
        if name is None:
            SeedGenerator._count += 1
            name = f"seed_generator_{SeedGenerator._count}"
        self.name = name
        self._initial_seed = seed
        self._seed = int(seed) if seed is not None else _seed_entropy()[0] >> 1
        self._counter = 0

    @property
    def state(self):
        """(seed, number of draws so far): the whole state, as Keras' state variable."""
        return _np.array([self._seed, self._counter], dtype=_np.int64)

    def next(self, ordered=True):
        """The NumPy generator of the next draw (and advance the stream)."""
        rng = _np.random.Generator(_np.random.PCG64(
            _np.random.SeedSequence([self._seed, self._counter])))
        self._counter += 1
        return rng

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator {self.name} seed={self._seed} draws={self._counter}>"


def _generator(seed, who):
    """The NumPy generator one draw uses, for Keras' seed argument."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return _np.random.Generator(_np.random.PCG64(_np.random.SeedSequence(_seed_entropy())))
    if isinstance(seed, (int, _np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{who}: seed must be non-negative, got {seed}")
        return _np.random.Generator(_np.random.PCG64(_np.random.SeedSequence(int(seed))))
    raise ValueError(f"{who}: seed must be None, an int or a SeedGenerator, got {seed!r}")


def _shape(shape, who):
    shape = (shape,) if isinstance(shape, (int, _np.integer)) else tuple(shape)
    for d in shape:
        if not isinstance(d, (int, _np.integer)) or d < 0:
            raise ValueError(f"{who}: shape {shape} must hold non-negative ints")
    return shape


def _float_dtype(dtype, who):
    name = "float32" if dtype is None else _np.dtype(getattr(dtype, "name", dtype)).name
    if name not in _FLOATS:
        raise ValueError(f"{who} requires a floating point dtype (float32 or float64), got "
                         f"dtype={dtype!r}")
    return name


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev²) of the given shape (float32 unless dtype says)."""
    dtype = _float_dtype(dtype, "normal")
    rng = _generator(seed, "normal")
    x = rng.normal(mean, stddev, _shape(shape, "normal"))
    return _core.tensor(x.astype(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval) of the given shape."""
    dtype = _float_dtype(dtype, "uniform")
    rng = _generator(seed, "uniform")
    x = rng.uniform(minval, maxval, _shape(shape, "uniform"))
    return _core.tensor(x.astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """N(mean, stddev²) with values beyond two standard deviations redrawn (as Keras)."""
    dtype = _float_dtype(dtype, "truncated_normal")
    rng = _generator(seed, "truncated_normal")
    z = rng.standard_normal(_shape(shape, "truncated_normal"))
    out = _np.abs(z) > 2.0
    while out.any():            # each round redraws every value still outside, at once
        z[out] = rng.standard_normal(int(out.sum()))
        out = _np.abs(z) > 2.0
    return _core.tensor((mean + stddev * z).astype(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniform in [minval, maxval), as a NumPy array of an integer dtype."""
    dtype = _np.dtype(getattr(dtype, "name", dtype))
    if dtype.kind not in "iu":
        raise ValueError(f"randint requires an integer dtype, got dtype={dtype.name!r}")
    if maxval <= minval:
        raise ValueError(f"randint: maxval ({maxval}) must exceed minval ({minval})")
    rng = _generator(seed, "randint")
    return rng.integers(minval, maxval, _shape(shape, "randint")).astype(dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """inputs · mask / (1 − rate), mask[i] = 0 with probability rate (differentiable in
    inputs). ``noise_shape`` broadcasts one mask over axes of length 1 (None entries take
    the input's length)."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    x = inputs if isinstance(inputs, _core.Tensor) else _core.tensor(_np.asarray(
        inputs, _np.float64 if _np.asarray(inputs).dtype == _np.float64 else _np.float32))
    if noise_shape is None:
        noise_shape = tuple(x.shape)
    else:
        noise_shape = tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
        try:
            _np.broadcast_shapes(noise_shape, tuple(x.shape))
        except ValueError:
            raise ValueError(f"dropout: noise_shape {noise_shape} does not broadcast to the "
                             f"input's shape {tuple(x.shape)}") from None
    rng = _generator(seed, "dropout")
    keep = rng.uniform(size=noise_shape) >= rate
    mask = (keep / (1.0 - rate)).astype(x.dtype)
    return _core.multiply(x, _core.tensor(mask))


def shuffle(x, axis=0, seed=None):
    """x with its entries along ``axis`` in a random order (differentiable for Tensors:
    each gradient goes back to where its value came from)."""
    rng = _generator(seed, "shuffle")
    t = x if isinstance(x, _core.Tensor) else _np.asarray(x)
    if not -t.ndim <= axis < t.ndim:
        raise ValueError(f"shuffle: axis {axis} is out of range for rank {t.ndim}")
    axis %= t.ndim
    perm = rng.permutation(t.shape[axis])
    return t[(slice(None),) * axis + (perm,)]


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class indices per row of (batch, classes) logits, drawn with
    probabilities softmax(logits) (the Gumbel-max trick, all rows at once)."""
    z = logits.numpy() if isinstance(logits, _core.Tensor) else _np.asarray(logits, float)
    if z.ndim != 2:
        raise ValueError(f"categorical: logits should be a 2-D tensor with shape "
                         f"(batch_size, num_classes), got shape {z.shape}")
    rng = _generator(seed, "categorical")
    gumbel = -_np.log(-_np.log(rng.uniform(_np.finfo(float).tiny, 1.0,
                                           (z.shape[0], num_samples, z.shape[1]))))
    return _np.argmax(z[:, None, :] + gumbel, axis=-1).astype(dtype)
