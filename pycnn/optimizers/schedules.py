"""Learning-rate schedules with Keras' names, arguments and formulas
(``keras.optimizers.schedules``). A schedule maps the optimizer's step count (0 before the
first step) to a learning rate; pass it as any optimizer's ``learning_rate``:

    >>> lr = pycnn.optimizers.schedules.CosineDecay(0.0, decay_steps=1000,
    ...                                             warmup_target=0.1, warmup_steps=100)
    >>> opt = pycnn.optimizers.SGD(learning_rate=lr)

A schedule also takes an array of steps (NumPy, vectorised), handy for plotting it:
``lr(_np.arange(1100))``. Values are float64 (Keras computes them in float32).

    ExponentialDecay      lr₀ · rate^(step / decay_steps)           (staircase: ⌊·⌋)
    PiecewiseConstantDecay values[i] for boundaries[i-1] < step ≤ boundaries[i]
    InverseTimeDecay      lr₀ / (1 + rate · step / decay_steps)     (staircase: ⌊·⌋)
    CosineDecay           lr₀ · ((1 − α)·½(1 + cos(π·min(step, D)/D)) + α), after an optional
                          linear warm-up from lr₀ to warmup_target over warmup_steps
"""
import math as _math

import numpy as _np

from .._configurable import Configurable as _Configurable
from ._checks import positive as _positive, real as _real

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "InverseTimeDecay", "CosineDecay", "serialize", "deserialize", "get"]


def _steps(step):
    """The step(s) as float64: a scalar stays a 0-d array, an array keeps its shape."""
    step = _np.asarray(step, dtype=_np.float64)
    if not _np.all(_np.isfinite(step)):
        raise ValueError(f"learning-rate schedule: steps must be finite, got {step}")
    return step


def _out(value):
    value = _np.asarray(value, dtype=_np.float64)
    return float(value) if value.ndim == 0 else value


class LearningRateSchedule(_Configurable):
    """Base class: ``__call__(step)`` returns the learning rate at that step; subclasses
    give ``get_config`` so the schedule can be saved with its optimizer (the repr leaves
    out its name)."""

    _NOT_SHOWN = ("name",)

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


class _StepDecay(LearningRateSchedule):
    """The arguments ExponentialDecay and InverseTimeDecay share; p = step / decay_steps
    (⌊·⌋ with staircase) is what they decay by."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        cls = type(self).__name__
        self.initial_learning_rate = _real("initial_learning_rate", initial_learning_rate, cls)
        self.decay_steps = _positive("decay_steps", decay_steps, cls)
        self.decay_rate = _real("decay_rate", decay_rate, cls)
        self.staircase = bool(staircase)
        self.name = name

    def _progress(self, step):
        p = _steps(step) / self.decay_steps
        return _np.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate · decay_rate^(step / decay_steps)``; with ``staircase`` the
    exponent is ⌊step / decay_steps⌋ (the rate drops every decay_steps steps)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return _out(self.initial_learning_rate * _np.power(self.decay_rate,
                                                          self._progress(step)))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while step ≤ boundaries[0], ``values[i]`` while boundaries[i-1] <
    step ≤ boundaries[i], ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        cls = type(self).__name__
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"{cls}: the length of boundaries should be 1 less than the "
                             f"length of values; got boundaries={boundaries} of length "
                             f"{len(boundaries)} and values={values} of length {len(values)}")
        self.boundaries = [_real("boundaries", b, cls) for b in boundaries]
        self.values = [_real("values", v, cls) for v in values]
        if any(b >= c for b, c in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"{cls}: boundaries must be strictly increasing, got "
                             f"{self.boundaries}")
        self._boundaries = _np.asarray(self.boundaries, dtype=_np.float64)
        self._values = _np.asarray(self.values, dtype=_np.float64)
        self.name = name

    def __call__(self, step):
        # index = how many boundaries lie strictly below step  (step ≤ b stays left of b)
        index = _np.searchsorted(self._boundaries, _steps(step), side="left")
        return _out(self._values[index])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate · step / decay_steps)``; with
    ``staircase`` the fraction is ⌊step / decay_steps⌋."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return _out(self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step)))


class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR without restarts), after an optional linear warm-up.

    Without ``warmup_target``: lr₀ · ((1 − α)·½(1 + cos(π·s/D)) + α), s = min(step, D),
    D = decay_steps — from lr₀ down to α·lr₀. With ``warmup_target``: for step <
    warmup_steps, lr₀ + (warmup_target − lr₀)·step/warmup_steps; then the same decay
    from warmup_target down to α·warmup_target over the next D steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        cls = type(self).__name__
        self.initial_learning_rate = _real("initial_learning_rate", initial_learning_rate, cls)
        self.decay_steps = _positive("decay_steps", decay_steps, cls)
        self.alpha = _real("alpha", alpha, cls)
        self.name = name
        self.warmup_target = (None if warmup_target is None
                              else _real("warmup_target", warmup_target, cls))
        self.warmup_steps = _real("warmup_steps", warmup_steps, cls)
        if self.warmup_steps < 0:
            raise ValueError(f"{cls}: warmup_steps must be >= 0, got {self.warmup_steps:g}")

    def _decay(self, step, start):
        cosine = 0.5 * (1.0 + _np.cos(_math.pi * step / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _steps(step)
        if self.warmup_target is None:
            return _out(self._decay(_np.minimum(step, self.decay_steps),
                                    self.initial_learning_rate))
        step = _np.minimum(step, self.decay_steps + self.warmup_steps)
        with _np.errstate(divide="ignore", invalid="ignore"):      # warmup_steps 0: unused
            warm = (self.warmup_target - self.initial_learning_rate) \
                * (step / self.warmup_steps) + self.initial_learning_rate
        decayed = self._decay(_np.maximum(step - self.warmup_steps, 0.0), self.warmup_target)
        return _out(_np.where(step < self.warmup_steps, warm, decayed))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                          InverseTimeDecay, CosineDecay)}


def serialize(schedule):
    """{'class_name': 'CosineDecay', 'config': {...}} — JSON-safe, as Keras."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"schedules.serialize: expected a LearningRateSchedule, got "
                        f"{type(schedule).__name__}")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config, custom_objects=None):
    """The schedule serialize() described (custom_objects: {name: your schedule class})."""
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = {**_BY_NAME, **(custom_objects or {})}.get(name)
    if cls is None:
        raise ValueError(f"schedules.deserialize: unknown schedule {name!r} (known: "
                         f"{', '.join(_BY_NAME)})")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """A schedule from a schedule (returned as is) or a serialized dict."""
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"schedules.get: expected a LearningRateSchedule or a dict, got "
                    f"{type(identifier).__name__}")
