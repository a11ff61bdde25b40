"""Per-coordinate step sizes from a running sum or average of g²: RMSprop (Hinton),
Adagrad (Duchi et al.) and Adadelta (Zeiler) — Keras' formulations."""
from .. import _core
from ._checks import non_negative as _non_negative, positive as _positive
from ._checks import unit_interval as _unit_interval
from .optimizer import Optimizer as _Optimizer

__all__ = ["RMSprop", "Adagrad", "Adadelta"]


class RMSprop(_Optimizer):
    """RMSprop (Hinton), Keras' formulation:

        v ← ρ·v + (1 − ρ)·g²;   Δ = lr·g / √(v + ε);   θ ← θ − Δ
        centered: also mg ← ρ·mg + (1 − ρ)·g, and √(v − mg² + ε) below the line
        momentum μ > 0: m ← μ·m + Δ;  θ ← θ − m

    Args: learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, and
    the common arguments of ``Optimizer``.
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

    def _update(self, var, grad, slots, lr, t, common):
        _core.rmsprop_step(var, grad, slots["velocity"], slots.get("momentum"),
                           slots.get("average_gradient"), lr, self.rho, self.momentum,
                           self.epsilon, **common)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(_Optimizer):
    """Adagrad (Duchi, Hazan & Singer): the step of each coordinate shrinks with the sum
    of its squared gradients so far:

        acc ← acc + g²   (acc starts at initial_accumulator_value);   θ ← θ − lr·g / √(acc + ε)

    Args: learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, and the
    common arguments of ``Optimizer``.
    """

    default_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = _non_negative(
            "initial_accumulator_value", initial_accumulator_value, "Adagrad")
        self.epsilon = _positive("epsilon", epsilon, "Adagrad")
        self._slot_initial = {"accumulator": self.initial_accumulator_value}

    def _slot_names(self, var):
        return ("accumulator",)

    def _update(self, var, grad, slots, lr, t, common):
        _core.adagrad_step(var, grad, slots["accumulator"], lr, self.epsilon, **common)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(_Optimizer):
    """Adadelta (Zeiler, 2012): the step's units come from a running average of past
    steps, so the learning rate (1.0 in the paper, 0.001 in Keras) only scales it:

        ag ← ρ·ag + (1 − ρ)·g²;   Δ = −√(ad + ε)·g / √(ag + ε)
        ad ← ρ·ad + (1 − ρ)·Δ²;   θ ← θ + lr·Δ

    Args: learning_rate=0.001, rho=0.95, epsilon=1e-7, and the common arguments of
    ``Optimizer``.
    """

    default_name = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.rho = _unit_interval("rho", rho, "Adadelta")
        self.epsilon = _positive("epsilon", epsilon, "Adadelta")

    def _slot_names(self, var):
        return ("accumulated_grad", "accumulated_delta_var")

    def _update(self, var, grad, slots, lr, t, common):
        _core.adadelta_step(var, grad, slots["accumulated_grad"],
                            slots["accumulated_delta_var"], lr, self.rho, self.epsilon,
                            **common)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
