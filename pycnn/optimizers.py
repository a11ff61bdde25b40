"""Optimizers with Keras' names, defaults and update formulas; each step is a C kernel.

    θ ← θ − lr · ∇θ E                                   SGD
    m ← μ·m − lr·g;  θ ← θ + m                          SGD with momentum μ
    m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
    θ ← θ − lr·√(1−β2^t)/(1−β1^t) · m / (√v + ε)        Adam
    v ← ρ·v + (1−ρ)·g²;  θ ← θ − lr·g / √(v + ε)        RMSprop

The slot buffers (m, v, ...) are NumPy arrays allocated once per weight, on that
weight's first update; ``pycnn._core.<name>_step`` updates the weight's own memory and
its slots in place, so a step allocates nothing but the clipped gradient (if clipping).

    >>> opt = pycnn.optimizers.Adam(learning_rate=1e-3)
    >>> opt.apply_gradients(zip(grads, weights))     # weights: Tensors, updated in place
"""
import numpy as _np

from . import _core

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "get", "serialize", "deserialize"]


def _real(name, value, cls):
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{cls}: {name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{cls}: {name} must be a number, got {type(value).__name__}") from None


def _positive(name, value, cls):
    value = _real(name, value, cls)
    if not value > 0:
        raise ValueError(f"{cls}: {name} must be > 0, got {value}")
    return value


def _unit_interval(name, value, cls):
    value = _real(name, value, cls)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{cls}: {name} must be in [0, 1), got {value}")
    return value


class Optimizer:
    """Base class: the loop over (gradient, weight) pairs, slots, clipping and config.

    A subclass names its slots in ``_slot_names(var)`` and applies its C kernel in
    ``_update(var, grad, slots)``.

    Args:
        learning_rate: a float (settable later: ``opt.learning_rate = 1e-4``).
        name: the optimizer's name (Keras' default per class).
        clipnorm: rescale each gradient so its L2 norm is at most this.
        clipvalue: clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: rescale all gradients together so their joint norm is at most this.
    """

    default_name = "optimizer"

    def __init__(self, learning_rate, name=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None):
        cls = type(self).__name__
        self.learning_rate = learning_rate
        self.name = self.default_name if name is None else str(name)
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{cls}: give at most one of clipnorm, clipvalue, global_clipnorm")
        self.clipnorm = None if clipnorm is None else _positive("clipnorm", clipnorm, cls)
        self.clipvalue = None if clipvalue is None else _positive("clipvalue", clipvalue, cls)
        self.global_clipnorm = (None if global_clipnorm is None
                                else _positive("global_clipnorm", global_clipnorm, cls))
        self.iterations = 0
        self._slots = {}            # id(weight) -> (weight, {slot name: array})

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _positive("learning_rate", value, type(self).__name__)

    # ---- slots ------------------------------------------------------------------
    def _slot_names(self, var):
        return ()

    def build(self, var_list):
        """Allocates the slot buffers of every weight in var_list (once per weight)."""
        for var in var_list:
            self._slots_for(var)

    def _slots_for(self, var):
        entry = self._slots.get(id(var))
        if entry is None or entry[0] is not var:
            data = _np.asarray(var)
            slots = {name: _np.zeros_like(data) for name in self._slot_names(var)}
            entry = self._slots[id(var)] = (var, slots)
        return entry[1]

    def get_slots(self, var):
        """The slot arrays of one weight, {name: array} (empty before its first update)."""
        entry = self._slots.get(id(var))
        return {} if entry is None or entry[0] is not var else dict(entry[1])

    def get_state(self, var_list):
        """Iterations and slot arrays of var_list, in order (for saving)."""
        return {"iterations": self.iterations,
                "slots": [self.get_slots(var) for var in var_list]}

    def set_state(self, var_list, state):
        """Restores what get_state returned, for the same weights in the same order."""
        if len(state["slots"]) != len(var_list):
            raise ValueError(f"{type(self).__name__}.set_state: state holds slots of "
                             f"{len(state['slots'])} weights but {len(var_list)} were given")
        for var, saved in zip(var_list, state["slots"]):
            if not saved:
                continue
            slots = self._slots_for(var)
            for name, value in saved.items():
                if name not in slots or _np.shape(value) != slots[name].shape:
                    raise ValueError(f"{type(self).__name__}.set_state: slot {name!r} of shape "
                                     f"{_np.shape(value)} does not fit weight of shape "
                                     f"{_np.shape(var)}")
                slots[name][...] = value
        self.iterations = int(state["iterations"])

    # ---- the step -----------------------------------------------------------------
    def _clip(self, grads):
        if self.clipvalue is not None:
            return [_np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = float(_np.sqrt(_np.sum(_np.square(g, dtype=_np.float64))))
                out.append(g * (self.clipnorm / norm) if norm > self.clipnorm else g)
            return out
        if self.global_clipnorm is not None:
            norm = float(_np.sqrt(sum(_np.sum(_np.square(g, dtype=_np.float64)) for g in grads)))
            if norm > self.global_clipnorm:
                return [g * (self.global_clipnorm / norm) for g in grads]
        return grads

    def apply_gradients(self, grads_and_vars):
        """One step: each weight (a Tensor) moves by its gradient, in place.

        Pairs whose gradient is None (no gradient reached that weight) are skipped.
        Returns the number of steps taken so far (``iterations``).
        """
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            return self.iterations
        grads = [_np.asarray(g) for g, _ in pairs]
        variables = [v for _, v in pairs]
        for g, v in zip(grads, variables):
            if g.shape != tuple(_np.shape(v)):
                raise ValueError(f"{type(self).__name__}: gradient of shape {g.shape} for a "
                                 f"weight of shape {tuple(_np.shape(v))}")
        grads = self._clip(grads)
        self.iterations += 1
        for g, v in zip(grads, variables):
            self._update(v, g, self._slots_for(v))
        return self.iterations

    def apply(self, grads, trainable_variables):
        """Keras 3 spelling: apply(grads, variables) — same as apply_gradients(zip(...))."""
        return self.apply_gradients(zip(grads, trainable_variables))

    def step(self, variables):
        """PyTorch spelling: each variable moves by its own ``.grad``."""
        variables = list(variables)
        return self.apply_gradients(
            [(None if v.grad is None else v.grad, v) for v in variables])

    def _update(self, var, grad, slots):
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    # ---- config -------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "learning_rate": self.learning_rate,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                         if k != "name" and v is not None)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum, as in Keras.

        momentum = 0:  θ ← θ − lr·g
        momentum μ:    m ← μ·m − lr·g;  θ ← θ + m        (Nesterov: θ ← θ + μ·m − lr·g)

    Args: learning_rate=0.01, momentum=0.0 (in [0, 1)), nesterov=False.
    """

    default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.momentum = _unit_interval("momentum", momentum, "SGD")
        self.nesterov = bool(nesterov)

    def _slot_names(self, var):
        return ("momentum",) if self.momentum != 0.0 else ()

    def _update(self, var, grad, slots):
        _core.sgd_step(var, grad, slots.get("momentum"), self.learning_rate, self.momentum,
                       self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba), Keras' formulation with the bias correction folded into α:

        m ← m + (g − m)(1 − β1);   v ← v + (g² − v)(1 − β2)
        α = lr·√(1 − β2^t) / (1 − β1^t);   θ ← θ − α·m / (√v + ε)

    Args: learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False.
    """

    default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.beta_1 = _unit_interval("beta_1", beta_1, "Adam")
        self.beta_2 = _unit_interval("beta_2", beta_2, "Adam")
        self.epsilon = _positive("epsilon", epsilon, "Adam")
        self.amsgrad = bool(amsgrad)

    def _slot_names(self, var):
        return ("m", "v", "vhat") if self.amsgrad else ("m", "v")

    def _update(self, var, grad, slots):
        _core.adam_step(var, grad, slots["m"], slots["v"], slots.get("vhat"),
                        self.learning_rate, self.beta_1, self.beta_2, self.epsilon,
                        self.iterations)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class RMSprop(Optimizer):
    """RMSprop (Hinton), Keras' formulation:

        v ← ρ·v + (1 − ρ)·g²;   Δ = lr·g / √(v + ε);   θ ← θ − Δ
        centered: also mg ← ρ·mg + (1 − ρ)·g, and √(v − mg² + ε) below the line
        momentum μ > 0: m ← μ·m + Δ;  θ ← θ − m

    Args: learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False.
    """

    default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.rho = _unit_interval("rho", rho, "RMSprop")
        self.momentum = _unit_interval("momentum", momentum, "RMSprop")
        self.epsilon = _positive("epsilon", epsilon, "RMSprop")
        self.centered = bool(centered)

    def _slot_names(self, var):
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return tuple(names)

    def _update(self, var, grad, slots):
        _core.rmsprop_step(var, grad, slots["velocity"], slots.get("momentum"),
                           slots.get("average_gradient"), self.learning_rate, self.rho,
                           self.momentum, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def serialize(optimizer):
    """{'class_name': 'Adam', 'config': {...}} — JSON-safe, as Keras."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    """The optimizer that serialize() described."""
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"optimizers.deserialize: unknown optimizer class {name!r} "
                         f"(known: {', '.join(c.__name__ for c in _BY_NAME.values())})")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """An Optimizer from a name ('sgd', 'adam', 'rmsprop'; any case), a serialized dict,
    or an Optimizer instance (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"optimizers.get: unknown optimizer {identifier!r} "
                             f"(known: {', '.join(sorted(_BY_NAME))})")
        return cls()
    raise TypeError(f"optimizers.get: expected a name, a dict or an Optimizer, got "
                    f"{type(identifier).__name__}")
