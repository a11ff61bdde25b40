"""The Adam family: Adam (Kingma & Ba), AdamW (Loshchilov & Hutter: Adam with decoupled
weight decay) and Nadam (Dozat: Adam with Nesterov momentum) — Keras' formulations."""
from .. import _core
from ._checks import non_negative as _non_negative, positive as _positive
from ._checks import unit_interval as _unit_interval
from .optimizer import Optimizer as _Optimizer

__all__ = ["Adam", "AdamW", "Nadam"]


class Adam(_Optimizer):
    """Adam (Kingma & Ba), Keras' formulation with the bias correction folded into α:

        m ← m + (g − m)(1 − β1);   v ← v + (g² − v)(1 − β2)
        α = lr·√(1 − β2^t) / (1 − β1^t);   θ ← θ − α·m / (√v + ε)

    Args: learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False
    (then v̂ = max(v̂, v) replaces v below the line), and the common arguments of
    ``Optimizer``.
    """

    default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        cls = type(self).__name__
        self.beta_1 = _unit_interval("beta_1", beta_1, cls)
        self.beta_2 = _unit_interval("beta_2", beta_2, cls)
        self.epsilon = _positive("epsilon", epsilon, cls)
        self.amsgrad = bool(amsgrad)

    def _slot_names(self, var):
        return ("m", "v", "vhat") if self.amsgrad else ("m", "v")

    def _update(self, var, grad, slots, lr, t, common):
        _core.adam_step(var, grad, slots["m"], slots["v"], slots.get("vhat"), lr,
                        self.beta_1, self.beta_2, self.epsilon, t, **common)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as Keras: every step first
    shrinks each weight, θ ← θ·(1 − weight_decay·lr), then takes Adam's step. Unlike an
    L2 penalty in the loss, the decay does not pass through Adam's √v scaling.

    Args: learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7, amsgrad=False, and the common arguments of ``Optimizer``.
    """

    default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name=None, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, got None (use Adam for "
                             "no weight decay)")
        _non_negative("weight_decay", weight_decay, "AdamW")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, name=name, weight_decay=weight_decay, **kwargs)


class Nadam(_Optimizer):
    """Nadam (Dozat, 2016): Adam with Nesterov momentum, Keras' formulation with the
    momentum schedule u_t = β1·(1 − ½·0.96^t):

        m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
        m̂ = u_{t+1}·m / (1 − Π_{s≤t+1} u_s) + (1 − u_t)·g / (1 − Π_{s≤t} u_s)
        v̂ = v / (1 − β2^t);   θ ← θ − lr·m̂ / (√v̂ + ε)

    Args: learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, and the common
    arguments of ``Optimizer``.
    """

    default_name = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.beta_1 = _unit_interval("beta_1", beta_1, "Nadam")
        self.beta_2 = _unit_interval("beta_2", beta_2, "Nadam")
        self.epsilon = _positive("epsilon", epsilon, "Nadam")
        self._u_product, self._u_step = 1.0, 0      # Π_{s≤_u_step} u_s

    def _u(self, s):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** s)

    def _before_step(self, t):
        if self._u_step != t - 1:                   # restored state: rebuild the product
            self._u_product, self._u_step = 1.0, 0
            for s in range(1, t):                   # scalars, once per restore
                self._u_product *= self._u(s)
        self._u_product *= self._u(t)
        self._u_step = t

    def _slot_names(self, var):
        return ("m", "v")

    def _update(self, var, grad, slots, lr, t, common):
        _core.nadam_step(var, grad, slots["m"], slots["v"], lr, self.beta_1, self.beta_2,
                         self.epsilon, t, self._u_product, **common)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
