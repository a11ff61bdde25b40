"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"), Keras'
formulation: the step is the sign of an interpolated momentum, so every coordinate moves
by exactly lr (or 0)."""
from .. import _core
from ._checks import real as _real, unit_interval as _unit_interval
from .optimizer import Optimizer as _Optimizer

__all__ = ["Lion"]


class Lion(_Optimizer):
    """Lion (EvoLved Sign Momentum):

        θ ← θ − lr·sign(β1·m + (1 − β1)·g);   m ← β2·m + (1 − β2)·g

    Use a learning rate 3-10× smaller than AdamW's (and a larger weight_decay).

    Args: learning_rate=0.001, beta_1=0.9 (in (0, 1]), beta_2=0.99, and the common
    arguments of ``Optimizer``.
    """

    default_name = "lion"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        beta_1 = _real("beta_1", beta_1, "Lion")
        if not 0.0 < beta_1 <= 1.0:
            raise ValueError(f"Lion: beta_1 must be in (0, 1] (otherwise the optimizer "
                             f"degenerates to SignSGD), got {beta_1}")
        self.beta_1 = beta_1
        self.beta_2 = _unit_interval("beta_2", beta_2, "Lion")

    def _slot_names(self, var):
        return ("momentum",)

    def _update(self, var, grad, slots, lr, t, common):
        _core.lion_step(var, grad, slots["momentum"], lr, self.beta_1, self.beta_2, **common)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
