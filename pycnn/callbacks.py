"""Callbacks: code that ``fit`` calls at the start and end of training, of each epoch and
of each batch — Keras' names, arguments and defaults.

- ``History``: ``.history`` = {'loss': [...], 'accuracy': [...], 'val_loss': [...]}, one
  entry per finished epoch; ``.plot()`` draws the learning curves. ``fit`` returns it.
- ``EarlyStopping(monitor='val_loss', patience=0, restore_best_weights=False, ...)``.
- ``ModelCheckpoint(filepath, save_best_only=False, ...)``: ``filepath`` may hold
  ``{epoch:02d}`` and any log key, ``{val_loss:.2f}``.
- ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.
- ``ProgbarLogger``: the progress bar that ``fit(verbose=1|2)`` adds by itself.
- ``ReduceLROnPlateau``, ``LearningRateScheduler``: the learning rate by the epoch.
- ``CSVLogger``, ``TensorBoard``: the logs to a CSV file, or to TensorBoard event files.
- ``TerminateOnNaN``: stop at the first NaN or infinite loss.

Epochs are counted from 0 in the hooks (as Keras); logs are dicts of floats.
"""
import math as _math
import os as _os
import warnings as _warnings

import numpy as _np

from .progbar import Progbar as _Progbar

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint",
           "LambdaCallback", "ProgbarLogger"]


class Callback:
    """Base class: every hook does nothing; ``self.model`` and ``self.params`` are set by
    ``fit`` (params: epochs, steps, verbose)."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    # Keras' aliases: a callback may override on_batch_begin/end instead
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs=logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList:
    """Calls each hook on every callback, in order (``callbacks.on_epoch_end(...)``)."""

    def __init__(self, callbacks=None, model=None, **params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks: expected Callback instances, got "
                                f"{type(cb).__name__}")
        if model is not None:
            for cb in self.callbacks:
                cb.set_model(model)
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def __getattr__(self, name):
        if name not in _HOOKS:
            raise AttributeError(name)

        indexed = "epoch" in name or "batch" in name    # hook(index, logs) vs hook(logs)

        def call_all(*args):
            # every callback gets a logs dict, {} when there is none (as Keras)
            args = list(args) + [None] * ((2 if indexed else 1) - len(args))
            if args[-1] is None:
                args[-1] = {}
            for cb in self.callbacks:
                getattr(cb, name)(*args)
        return call_all


class History(Callback):
    """Records the logs of every finished epoch: ``history.history['loss'][epoch]``."""

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def plot(self, metrics=None, figsize=None):
        """Learning curves with matplotlib: one panel for the loss and one per metric,
        training solid and validation dashed. Returns the panels' Axes (as pandas'
        ``plot`` does: a notebook shows the figure once; ``axes[0].figure`` saves it)."""
        from ._optional import require
        plt = require("matplotlib.pyplot", "History.plot")
        MaxNLocator = require("matplotlib.ticker", "History.plot").MaxNLocator
        names = metrics or [k for k in self.history if not k.startswith("val_")]
        if not names:
            raise ValueError("History.plot: nothing recorded yet (fit for at least one epoch)")
        fig, axes = plt.subplots(1, len(names), figsize=figsize or (4.5 * len(names), 3.5),
                                 squeeze=False)
        epochs = _np.asarray(self.epoch) + 1
        for ax, name in zip(axes[0], names):
            if name not in self.history:
                raise ValueError(f"History.plot: no metric {name!r} (recorded: "
                                 f"{', '.join(self.history)})")
            ax.plot(epochs, self.history[name], "-o", ms=3, label=name)
            if "val_" + name in self.history:
                ax.plot(epochs, self.history["val_" + name], "--o", ms=3, label="val_" + name)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(name)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        return axes[0]


def _monitor_op(monitor, mode, cls):
    """(is-better comparison, initial best) for a monitored value."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{cls}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if any(k in monitor for k in ("acc", "auc", "precision", "recall", "f1")) \
            else "min"
    if mode == "max":
        return _np.greater, -_math.inf, 1
    return _np.less, _math.inf, -1


class _Monitoring(Callback):
    """A callback watching one logged value: ``monitor``, the better-than comparison of
    ``mode``, its initial best, and ``min_delta`` signed so that an improvement is
    ``_is_improvement(current, best)``."""

    def _watch(self, monitor, mode, min_delta, who):
        self.monitor = monitor
        self._better, self._initial, sign = _monitor_op(monitor, mode, who)
        self.min_delta = abs(float(min_delta)) * sign

    def _is_improvement(self, current, reference):
        return bool(self._better(current - self.min_delta, reference))


class EarlyStopping(_Monitoring):
    """Stops training when the monitored value has not improved for ``patience`` epochs.

    Improvement: better than the best so far by more than ``min_delta``; 'auto' mode
    maximises names with 'acc' and minimises the rest. With ``restore_best_weights``
    the model ends training with the weights of its best epoch, stopped early or not
    (as Keras 3). ``baseline``: the value to beat before patience starts counting
    down from a real improvement. ``start_from_epoch``: epochs of warm-up not watched.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self._watch(monitor, mode, min_delta, "EarlyStopping")
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._initial
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            _warnings.warn(f"EarlyStopping: monitored value {self.monitor!r} is not in the logs "
                           f"(available: {', '.join(logs or {})})", RuntimeWarning, stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()    # a start, as Keras
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) at the end of every epoch, or only when the
    monitored value improves (``save_best_only``).

    ``filepath`` is formatted with ``epoch`` (counted from 1) and the epoch's logs:
    ``'ckpt-{epoch:02d}-{val_loss:.2f}.pycnn'``. Every save is atomic (see
    ``Sequential.save``), so an interrupted run never leaves a half-written checkpoint.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: only save_freq='epoch' is supported, got "
                             f"{save_freq!r}")
        self.filepath = _os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self._better, initial, _ = _monitor_op(monitor, mode, "ModelCheckpoint")
        self.best = initial if initial_value_threshold is None else initial_value_threshold

    def _path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} names {e}, which is "
                           f"not in the logs (available: epoch, {', '.join(logs)})") from None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self._path(epoch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                _warnings.warn(f"ModelCheckpoint: can save best model only with {self.monitor!r} "
                               f"in the logs; skipping", RuntimeWarning, stacklevel=2)
                return
            if not self._better(current, self.best):
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs:
    print(logs['loss']))``. Hooks: on_epoch_begin/end(epoch, logs), on_batch_begin/end and
    on_train_batch_begin/end(batch, logs), on_train_begin/end(logs), and the test and
    predict hooks of Callback."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_batch_begin, on_train_batch_end=on_batch_end)
        for name, fn in kwargs.items():
            if name not in _HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r} (known: "
                                f"{', '.join(_HOOKS)})")
            given[name] = fn
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)


class ProgbarLogger(Callback):
    """Prints ``Epoch 1/5`` and a Keras progress bar per epoch (``fit`` adds it itself
    when verbose is 1 or 2). Batch logs are running means; the epoch's final line also
    shows the validation values."""

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self.progbar = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}")
        self.progbar = _Progbar(self.params.get("steps") or 1, verbose=self.verbose)
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        if self.progbar is not None and self.seen < self.progbar.target:
            self.progbar.update(self.seen, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is not None:
            self.progbar.update(self.progbar.target, logs or {}, finalize=True)
            self.progbar = None


class Doctor(Callback):
    """The training doctor during ``fit`` (see ``pycnn.doctor``): at the first batch, the
    initial loss against ln C and the update/weight ratio of that step; at every batch,
    a NaN/Inf loss is reported with the reason and training stops (after that epoch).
    Given a sample ``x``, ``y``, it also runs every check of ``model.diagnose`` before training starts (``overfit=True`` adds
    the overfit-20-examples check). Findings are printed (``print_fn``) and kept in
    ``self.findings``."""

    def __init__(self, x=None, y=None, overfit=False, print_fn=print):
        super().__init__()
        if (x is None) != (y is None):
            raise ValueError("Doctor: give both x and y (a sample to examine), or neither")
        self.x, self.y, self.overfit, self.print_fn = x, y, overfit, print_fn
        self.findings = []

    def _report(self, findings):
        self.findings += findings
        for f in findings:
            self.print_fn(f"doctor: {f!r}")

    def on_train_begin(self, logs=None):
        from .doctor import diagnose
        self.findings, self._first, self._before = [], True, None
        if self.x is not None:
            self._report(diagnose(self.model, self.x, self.y, overfit=self.overfit).findings)

    def on_train_batch_begin(self, batch, logs=None):
        if self._first:
            from .doctor import _kernels
            self._before = [(w, _np.array(w.numpy(), dtype=_np.float64))
                            for w in _kernels(self.model)]

    def on_train_batch_end(self, batch, logs=None):
        from .doctor import RATIO_HIGH, RATIO_LOW, Finding, _weight_name
        loss = float((logs or {}).get("loss", float("nan")))
        if not _math.isfinite(loss):
            if not self.model.stop_training:      # said once; fit stops after this epoch
                self._report([Finding("NaN/Inf", "problem", f"the loss became {loss} at batch "
                                      f"{batch + 1}: training stops (lower the learning "
                                      f"rate, check the inputs for NaN, or clip the "
                                      f"gradients)", loss)])
            self.model.stop_training = True
            self._first = False
            return
        if not self._first:
            return
        self._first = False
        found = []
        model = self.model
        shapes = model.output_shape if isinstance(model.output_shape, list) else \
            [model.output_shape]
        specs = model._outputs_spec(len(shapes))
        for spec, shape in zip(specs, shapes):
            name = (spec.loss_name or "").lower()
            units = shape[-1]
            value = loss if len(shapes) == 1 else (logs or {}).get(f"{spec.name}_loss")
            if value is None or "categorical" not in name or not units or units < 2:
                continue
            value = float(value)
            who = f"output {spec.name!r}: " if len(shapes) > 1 else ""
            expected = _math.log(units)
            status = "ok" if abs(value - expected) <= 0.25 * expected + 0.05 else "problem"
            found.append(Finding("initial loss", status, f"{who}first batch {value:.4g}; an "
                                 f"untrained {units}-class network gives ln({units}) = "
                                 f"{expected:.4g}"
                                 + ("" if status == "ok" else ": the output layer starts "
                                    "too confident, or the loss does not fit the output"),
                                 value))
        ratios = []
        for w, w0 in self._before or []:
            norm = _np.linalg.norm(w0)
            if norm:
                ratios.append((_weight_name(self.model, w),
                               float(_np.linalg.norm(_np.asarray(w.numpy(), _np.float64) - w0)
                                     / norm)))
        off = [(n, r) for n, r in ratios if not RATIO_LOW <= r <= RATIO_HIGH]
        if ratios:
            text = ", ".join(f"{n} {r:.1e}" for n, r in (off or ratios))
            found.append(Finding("update/weight ratio", "warning" if off else "ok",
                                 f"‖Δw‖/‖w‖ of the first step: {text}" +
                                 (" — far from ~1e-3: adjust the learning rate" if off else
                                  " (about 1e-3 is healthy)"),
                                 float(_np.median([r for _, r in ratios]))))
        self._report(found)
        self._before = None


__all__ += ["Doctor"]


class LivePlot(Callback):
    """Learning curves redrawn in place during ``fit`` in Jupyter: the loss and each
    metric per epoch (training solid, validation dashed), and optionally the filters of
    one Conv2D ``layer`` and its feature maps for a fixed ``image``. In a terminal (no
    notebook) it draws nothing and the progress bar (``verbose``) is what you see.

    ``every``: redraw after this many epochs. ``self.figures`` counts the redraws."""

    def __init__(self, metrics=None, layer=None, image=None, every=1, force=False):
        super().__init__()
        from .progbar import in_notebook
        self.metrics, self.layer, self.image, self.every = metrics, layer, image, every
        self.active = force or in_notebook()
        self.history = {}
        self.figures = 0
        self._handle = None

    def on_train_begin(self, logs=None):
        self.history, self.epochs = {}, []

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epochs.append(epoch + 1)
        if self.active and (len(self.epochs) % self.every == 0):
            self._redraw()

    def figure(self):
        """The current picture (a matplotlib Figure)."""
        import matplotlib.pyplot as plt
        names = self.metrics or [k for k in self.history if not k.startswith("val_")]
        extra = 2 if self.layer is not None else 0
        fig, axes = plt.subplots(1, len(names) + extra, squeeze=False,
                                 figsize=(3.6 * (len(names) + extra), 3))
        for ax, name in zip(axes[0], names):
            ax.plot(self.epochs, self.history.get(name, []), "-o", ms=3, label=name)
            if "val_" + name in self.history:
                ax.plot(self.epochs, self.history["val_" + name], "--o", ms=3,
                        label="val_" + name)
            ax.set_xlabel("epoch")
            ax.set_title(f"{name}: {self.history[name][-1]:.4g}" if self.history.get(name)
                         else name, fontsize=9)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        if self.layer is not None:
            self._draw_layer(axes[0][len(names)], axes[0][len(names) + 1])
        fig.tight_layout()
        return fig

    def _draw_layer(self, ax_filters, ax_maps):
        layer = self.layer if not isinstance(self.layer, str) else \
            self.model.get_layer(self.layer)
        kernel = _np.asarray(layer.get_weights()[0])[:, :, 0, :]
        tiles = _np.concatenate([_np.pad(kernel[:, :, i], 1, constant_values=_np.nan)
                                for i in range(min(8, kernel.shape[-1]))], axis=1)
        bound = float(_np.nanmax(_np.abs(tiles))) or 1.0
        ax_filters.imshow(tiles, cmap="RdBu_r", vmin=-bound, vmax=bound)
        ax_filters.set_title(f"{layer.name}: filters", fontsize=9)
        ax_filters.axis("off")
        ax_maps.axis("off")
        if self.image is not None:
            from .inside import _forward
            from .autograd import no_grad
            with no_grad():
                (out,), _, _ = _forward(self.model, _np.asarray(self.image)[None]
                                        if _np.ndim(self.image) == 3 else self.image, [layer])
            maps = out.numpy()[0]
            strip = _np.concatenate([_np.pad(maps[:, :, i], 1, constant_values=_np.nan)
                                    for i in range(min(8, maps.shape[-1]))], axis=1)
            ax_maps.imshow(strip, cmap="viridis")
            ax_maps.set_title("feature maps of the image", fontsize=9)

    def _redraw(self):
        import matplotlib.pyplot as plt
        from IPython.display import display
        fig = self.figure()
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)
        self.figures += 1


__all__ += ["LivePlot"]


# ---- Keras' other callbacks, one topic per module (imported last: they subclass Callback)
from ._log_callbacks import CSVLogger, TensorBoard  # noqa: E402
from ._lr_callbacks import LearningRateScheduler, ReduceLROnPlateau  # noqa: E402
from ._run_callbacks import TerminateOnNaN  # noqa: E402

__all__ += ["ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger", "TensorBoard",
            "TerminateOnNaN"]
