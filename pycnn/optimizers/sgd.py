"""Stochastic gradient descent, with optional (Nesterov) momentum, as in Keras."""
from .. import _core
from ._checks import unit_interval as _unit_interval
from .optimizer import Optimizer as _Optimizer

__all__ = ["SGD"]


class SGD(_Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum, as in Keras.

        momentum = 0:  θ ← θ − lr·g
        momentum μ:    m ← μ·m − lr·g;  θ ← θ + m        (Nesterov: θ ← θ + μ·m − lr·g)

    Args: learning_rate=0.01, momentum=0.0 (in [0, 1)), nesterov=False, and the common
    arguments of ``Optimizer`` (weight_decay, clipnorm, clipvalue, global_clipnorm,
    use_ema, ema_momentum, ema_overwrite_frequency, name).
    """

    default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.momentum = _unit_interval("momentum", momentum, "SGD")
        self.nesterov = bool(nesterov)

    def _slot_names(self, var):
        return ("momentum",) if self.momentum != 0.0 else ()

    def _update(self, var, grad, slots, lr, t, common):
        _core.sgd_step(var, grad, slots.get("momentum"), lr, self.momentum, self.nesterov,
                       **common)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
