"""The base class of every optimizer: learning rate (a number or a schedule), slots,
gradient clipping, decoupled weight decay and the moving average of the weights — what
Keras' ``BaseOptimizer`` does around each optimizer's own formula, in Keras' order:

    g ← g · min(1, clipnorm / ‖g‖)             clipnorm (each gradient on its own)
    g ← g · min(1, global_clipnorm / ‖G‖)      global_clipnorm (‖G‖: all gradients together)
    g ← clip(g, −clipvalue, clipvalue)         clipvalue
    θ ← θ · (1 − weight_decay · lr)            weight_decay (decoupled, as AdamW)
    θ ← the optimizer's update of θ from g
    θ̄ ← μ·θ̄ + (1 − μ)·θ                        use_ema (μ = ema_momentum; θ̄ = θ on step 1)

All of it runs inside the optimizer's one C kernel per weight (``pycnn._core.<name>_step``,
csrc/kernels/optim_impl.h): the gradient scale of the norm clipping is the only thing
computed beforehand, as it needs the norms first.

The slot buffers (m, v, ...) are NumPy arrays allocated once per weight, on that weight's
first update; the kernels update the weight's own memory and its slots in place, so a
step allocates nothing.
"""
import math as _math
import re as _re

import numpy as _np

from .. import _core
from ._checks import non_negative as _non_negative, optional as _optional
from ._checks import positive as _positive, real as _real, unit_interval as _unit_interval
from .schedules import LearningRateSchedule as _LearningRateSchedule
from .schedules import deserialize as _deserialize_schedule, serialize as _serialize_schedule

__all__ = ["Optimizer"]


def _norm(g):
    """‖g‖₂ in float64 (BLAS dot: no Python loop over elements)."""
    flat = _np.ravel(g).astype(_np.float64, copy=False)
    return _math.sqrt(float(_np.dot(flat, flat)))


class Optimizer:
    """Base class: the loop over (gradient, weight) pairs, slots, clipping, weight decay,
    the moving average and config.

    A subclass names its slots in ``_slot_names(var)`` (``_slot_initial`` gives a slot a
    starting value other than 0) and calls its C kernel in ``_update(var, grad, slots,
    lr, t, common)``, passing ``**common`` (the clipping scale, clip value, decay and
    moving average) through to the kernel.

    Args (Keras' names and defaults):
        learning_rate: a float, a ``schedules.LearningRateSchedule`` (evaluated at the
            step count before each step, as Keras), or a callable of no arguments.
            Settable later (``opt.learning_rate = 1e-4``) unless it is a schedule.
        weight_decay: decoupled weight decay: each step first scales every weight by
            ``1 − weight_decay·lr``. None: none. ``exclude_from_weight_decay`` exempts
            weights by identity or by name.
        clipnorm: rescale each gradient so its L2 norm is at most this.
        clipvalue: clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: rescale all gradients together so their joint norm is at most this.
        use_ema: keep an exponential moving average of every weight (slot ``average``);
            ``finalize_variable_values`` (called at the end of ``fit``) copies it into the
            weights.
        ema_momentum: μ of that average, in [0, 1].
        ema_overwrite_frequency: every this many steps, copy the averages into the weights.
        name: the optimizer's name (Keras' default per class).
    """

    default_name = "optimizer"
    _slot_initial = {}

    def __init__(self, learning_rate, name=None, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None):
        cls = type(self).__name__
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.name = self.default_name if name is None else str(name)
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{cls}: give at most one of clipnorm, clipvalue, global_clipnorm "
                             f"(got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm})")
        self.clipnorm = _optional(_positive, "clipnorm", clipnorm, cls)
        self.clipvalue = _optional(_positive, "clipvalue", clipvalue, cls)
        self.global_clipnorm = _optional(_positive, "global_clipnorm", global_clipnorm, cls)
        self.weight_decay = _optional(_non_negative, "weight_decay", weight_decay, cls)
        self.use_ema = bool(use_ema)
        self.ema_momentum = _unit_interval("ema_momentum", ema_momentum, cls, closed=True)
        if ema_overwrite_frequency is not None and (
                isinstance(ema_overwrite_frequency, bool)
                or not isinstance(ema_overwrite_frequency, (int, _np.integer))
                or ema_overwrite_frequency < 1):
            raise ValueError(f"{cls}: ema_overwrite_frequency must be an integer >= 1 or None, "
                             f"got {ema_overwrite_frequency!r}")
        self.ema_overwrite_frequency = (None if ema_overwrite_frequency is None
                                        else int(ema_overwrite_frequency))
        self.iterations = 0
        self._slots = {}            # id(weight) -> (weight, {slot name: array})
        self._exclude_ids = set()
        self._exclude_pattern = None

    # ---- the learning rate ----------------------------------------------------------
    @property
    def learning_rate(self):
        """The learning rate of the next step (a schedule's value at ``iterations``)."""
        lr = self._learning_rate
        if isinstance(lr, _LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return _real("learning_rate", lr(), type(self).__name__)
        return lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, _LearningRateSchedule) or callable(value):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, _LearningRateSchedule):
            raise TypeError(f"{type(self).__name__}: this optimizer was created with a "
                            f"LearningRateSchedule ({type(self._learning_rate).__name__}) as "
                            f"its learning_rate, hence its learning rate is not settable; "
                            f"create it with a float learning_rate to set it")
        self._learning_rate = _positive("learning_rate", value, type(self).__name__)

    # ---- slots ------------------------------------------------------------------
    def _slot_names(self, var):
        return ()

    def _all_slot_names(self, var):
        return tuple(self._slot_names(var)) + (("average",) if self.use_ema else ())

    def build(self, var_list):
        """Allocates the slot buffers of every weight in var_list (once per weight)."""
        for var in var_list:
            self._slots_for(var)

    def _slots_for(self, var):
        entry = self._slots.get(id(var))
        if entry is None or entry[0] is not var:
            data = _np.asarray(var)
            slots = {}
            for name in self._all_slot_names(var):
                if name == "average":       # starts at the weight: step 1 sets it so anyway
                    slots[name] = data.copy()
                else:
                    slots[name] = _np.full_like(data, self._slot_initial.get(name, 0.0))
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

    # ---- weight decay -------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempts weights from weight decay: those in var_list (by identity) and those
        whose name contains any of the strings in var_names (e.g. ``['bias']``)."""
        self._exclude_ids = {id(v) for v in (var_list or ())}
        self._exclude_pattern = (_re.compile("|".join(sorted(set(var_names))))
                                 if var_names else None)

    def _use_weight_decay(self, var):
        if self.weight_decay is None or id(var) in self._exclude_ids:
            return False
        name = getattr(var, "name", None)
        return not (self._exclude_pattern is not None and isinstance(name, str)
                    and self._exclude_pattern.search(name))

    # ---- the step -----------------------------------------------------------------
    def _grad_scales(self, grads):
        """The factor each gradient is multiplied by (clipnorm, global_clipnorm), as Keras:
        c / max(‖g‖, c) per gradient; c · min(1/‖G‖, 1/c) for all together (NaN when
        ‖G‖ is not finite, so a NaN gradient poisons the step rather than vanishing)."""
        if self.clipnorm is not None:
            c = self.clipnorm
            return [c / n if n > c else (1.0 if n <= c else _math.nan)
                    for n in map(_norm, grads)]
        if self.global_clipnorm is not None:
            c = self.global_clipnorm
            total = _math.sqrt(sum(_norm(g) ** 2 for g in grads))
            if not _math.isfinite(total):
                return [_math.nan] * len(grads)
            return [c / total if total > c else 1.0] * len(grads)
        return [1.0] * len(grads)

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
        lr = self.learning_rate                 # at the step count before this step
        t = self.iterations + 1
        self._before_step(t)
        ema_momentum = self.ema_momentum if self.iterations > 0 else 0.0
        updated = set()
        for g, v, scale in zip(grads, variables, self._grad_scales(grads)):
            slots = self._slots_for(v)
            common = {"grad_scale": scale, "clipvalue": self.clipvalue or 0.0,
                      "decay": self.weight_decay * lr if self._use_weight_decay(v) else 0.0,
                      "ema": slots.get("average"), "ema_momentum": ema_momentum}
            self._update(v, g, slots, lr, t, common)
            updated.add(id(v))
        if self.use_ema:
            self._average_the_rest(updated, ema_momentum)
        self.iterations = t
        if self.use_ema and self.ema_overwrite_frequency and t % self.ema_overwrite_frequency == 0:
            self._overwrite_with_averages()
        return self.iterations

    def _before_step(self, t):
        """Per-step scalar state (Nadam's momentum product); nothing by default."""

    def _average_the_rest(self, updated, ema_momentum):
        """Keras averages every weight it knows on every step, a gradient or not."""
        for key, (var, slots) in self._slots.items():
            if key not in updated and "average" in slots:
                _core.ema_step(var, slots["average"], ema_momentum)

    def _overwrite_with_averages(self, var_list=None):
        entries = (self._slots.values() if var_list is None
                   else [(v, self.get_slots(v)) for v in var_list])
        for var, slots in entries:
            if "average" in slots:
                _np.copyto(_np.asarray(var), slots["average"])

    def finalize_variable_values(self, var_list):
        """With use_ema, sets every weight of var_list to its moving average (Keras calls
        this at the end of ``fit``); otherwise does nothing."""
        if self.use_ema:
            self._overwrite_with_averages(list(var_list))

    def apply(self, grads, trainable_variables):
        """Keras 3 spelling: apply(grads, variables) — same as apply_gradients(zip(...))."""
        return self.apply_gradients(zip(grads, trainable_variables))

    def step(self, variables):
        """PyTorch spelling: each variable moves by its own ``.grad``."""
        variables = list(variables)
        return self.apply_gradients(
            [(None if v.grad is None else v.grad, v) for v in variables])

    def _update(self, var, grad, slots, lr, t, common):
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    # ---- config -------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, _LearningRateSchedule):
            lr = _serialize_schedule(lr)
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _deserialize_schedule(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        defaults = {"use_ema": False, "ema_momentum": 0.99}
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                         if k != "name" and v is not None and defaults.get(k, object()) != v)
        return f"{type(self).__name__}({args})"
