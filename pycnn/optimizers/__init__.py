"""Optimizers with Keras' names, defaults and update formulas; each step is one C kernel.

    θ ← θ − lr · ∇θ E                                   SGD
    m ← μ·m − lr·g;  θ ← θ + m                          SGD with momentum μ
    m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
    θ ← θ − lr·√(1−β2^t)/(1−β1^t) · m / (√v + ε)        Adam (AdamW: + decoupled decay)
    Nadam: Adam with Nesterov momentum;  Lion: θ ← θ − lr·sign(β1·m + (1−β1)·g)
    v ← ρ·v + (1−ρ)·g²;  θ ← θ − lr·g / √(v + ε)        RMSprop
    acc ← acc + g²;  θ ← θ − lr·g / √(acc + ε)           Adagrad;  Adadelta: see its class

Every optimizer takes Keras' common arguments — ``weight_decay``, ``clipnorm``,
``clipvalue``, ``global_clipnorm``, ``use_ema``, ``ema_momentum``,
``ema_overwrite_frequency`` — and a learning rate that may be a schedule
(``pycnn.optimizers.schedules``). See ``Optimizer`` for the order they act in.

    >>> opt = pycnn.optimizers.AdamW(learning_rate=1e-3, weight_decay=1e-4, clipnorm=1.0)
    >>> opt.apply_gradients(zip(grads, weights))     # weights: Tensors, updated in place
"""
from . import schedules
from .adam import Adam, AdamW, Nadam
from .adaptive import Adadelta, Adagrad, RMSprop
from .lion import Lion
from .optimizer import Optimizer
from .schedules import LearningRateSchedule
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Nadam", "RMSprop", "Adagrad", "Adadelta",
           "Lion", "LearningRateSchedule", "schedules", "get", "serialize", "deserialize"]

_BY_NAME = {cls.__name__.lower(): cls
            for cls in (SGD, Adam, AdamW, Nadam, RMSprop, Adagrad, Adadelta, Lion)}


def serialize(optimizer):
    """{'class_name': 'Adam', 'config': {...}} — JSON-safe, as Keras."""
    lr = optimizer._learning_rate
    if callable(lr) and not isinstance(lr, LearningRateSchedule):
        raise TypeError(f"optimizers.serialize: the learning rate of {type(optimizer).__name__} "
                        f"is a plain callable ({getattr(lr, '__name__', type(lr).__name__)}), "
                        f"which cannot be saved; use a schedules.LearningRateSchedule")
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
    """An Optimizer from a name ('sgd', 'adam', 'adamw', 'nadam', 'rmsprop', 'adagrad',
    'adadelta', 'lion'; any case), a serialized dict, or an Optimizer instance (returned
    as is)."""
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
