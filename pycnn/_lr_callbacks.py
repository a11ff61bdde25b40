"""The learning-rate callbacks (exported by pycnn.callbacks), Keras' names, arguments and
rules:

- ``ReduceLROnPlateau``: multiply the optimizer's learning rate by ``factor`` when the
  monitored value has not improved for ``patience`` epochs (then wait ``cooldown`` epochs).
- ``LearningRateScheduler``: set it at the start of every epoch from ``schedule(epoch, lr)``.

Both add the learning rate in force to the epoch's logs as ``learning_rate`` (so the
History records it), as Keras 3 does.
"""
import warnings as _warnings

import numpy as _np

from .callbacks import Callback as _Callback, _Monitoring

__all__ = ["ReduceLROnPlateau", "LearningRateScheduler"]


def _optimizer_of(model, who):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"{who}: the model has no optimizer with a learning_rate (compile "
                         f"it first)")
    return optimizer


class ReduceLROnPlateau(_Monitoring):
    """Reduce the learning rate when a metric has stopped improving.

    Improvement: better than the best so far by more than ``min_delta`` ('auto' mode
    maximises names with 'acc', 'auc', 'precision', 'recall', 'f1' and minimises the
    rest). After ``patience`` epochs without one, ``lr ← max(lr · factor, min_lr)`` (only
    while lr > min_lr), then ``cooldown`` epochs pass before epochs without improvement
    count again.

    Args: monitor='val_loss', factor=0.1 (< 1), patience=10, verbose=0, mode='auto',
    min_delta=1e-4, cooldown=0, min_lr=0.0.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        factor = float(factor)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got "
                             f"factor={factor}")
        self._watch(monitor, mode, min_delta, "ReduceLROnPlateau")
        self.factor = factor
        self.patience = int(patience)
        self.verbose = verbose
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self._reset()

    def _reset(self):
        self.best = self._initial
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _reduce(self, optimizer, epoch):
        old_lr = float(optimizer.learning_rate)
        if not old_lr > _np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = _optimizer_of(self.model, "ReduceLROnPlateau")
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            _warnings.warn(f"ReduceLROnPlateau: learning rate reduction is conditioned on "
                           f"{self.monitor!r}, which is not in the logs (available: "
                           f"{', '.join(logs)})", RuntimeWarning, stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0


class LearningRateScheduler(_Callback):
    """At the start of every epoch, sets the optimizer's learning rate to
    ``schedule(epoch, lr)`` (epoch counted from 0, lr the current rate), or to
    ``schedule(epoch)`` for a one-argument schedule, as Keras.

    Args: schedule (a function returning a float), verbose=0.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function of (epoch, "
                            f"lr) or (epoch), got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = _optimizer_of(self.model, "LearningRateScheduler")
        try:
            lr = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:           # a schedule of the epoch alone (Keras' old API)
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, _np.floating)):
            raise ValueError(f"LearningRateScheduler: the output of the schedule function "
                             f"should be a float, got {lr!r} at epoch {epoch}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(_optimizer_of(self.model,
                                                        "LearningRateScheduler").learning_rate)
