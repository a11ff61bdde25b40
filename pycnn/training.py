"""The pieces of a training loop that Sequential.fit arranges: mini-batches, the
validation split, Ctrl-C that waits for the batch to finish, and Keras' fused softmax
cross-entropy."""
import inspect as _inspect
import signal as _signal
import threading as _threading

import numpy as _np

__all__ = ["DeferredInterrupt", "batches", "check_batch_size", "split_validation",
           "fused_from_logits"]


class DeferredInterrupt:
    """Inside ``with``: Ctrl-C (SIGINT) sets ``pending`` instead of raising, so the batch
    being trained finishes and the weights are never left half-updated. Only the main
    thread can own signal handlers; elsewhere it does nothing."""

    def __init__(self):
        self.pending = False
        self._previous = None

    def _handler(self, signum, frame):
        self.pending = True

    def __enter__(self):
        if _threading.current_thread() is _threading.main_thread():
            try:
                self._previous = _signal.signal(_signal.SIGINT, self._handler)
            except ValueError:          # not the main interpreter
                self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            _signal.signal(_signal.SIGINT, self._previous)
        return False


def batches(n, batch_size, order):
    """The index arrays of consecutive mini-batches of `order` (the last may be short)."""
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def check_batch_size(batch_size, who):
    """batch_size as an int (None → 32, as Keras), or ValueError naming `who`."""
    batch_size = 32 if batch_size is None else batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, _np.integer)) \
            or batch_size < 1:
        raise ValueError(f"{who}: batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def split_validation(x, y, validation_split, validation_data):
    """((x_train, y_train), (x_val, y_val) or None): validation_data as given, else the
    LAST validation_split of the samples, taken before any shuffling (as Keras)."""
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("fit: validation_data must be a tuple (x_val, y_val)")
        return (x, y), tuple(validation_data)
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
    if validation_split == 0.0:
        return (x, y), None
    cut = int(len(x) * (1.0 - validation_split))
    if cut == len(x):
        raise ValueError(f"fit: validation_split {validation_split} of {len(x)} samples "
                         f"leaves no validation sample")
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


_CROSSENTROPIES = ("categorical_crossentropy", "sparse_categorical_crossentropy")


def fused_from_logits(loss_fn, loss_name, last_layer, y_pred):
    """A function y_true -> loss computed from the logits feeding a final softmax over
    the last axis, or None when that does not apply (not a softmax output, not a
    cross-entropy on probabilities, or no from_logits variant available)."""
    if loss_name not in _CROSSENTROPIES or getattr(y_pred, "op", None) != "softmax":
        return None
    if last_layer.get_config().get("axis", -1) not in (-1, y_pred.ndim - 1):
        return None
    config = loss_fn.get_config() if hasattr(loss_fn, "get_config") else {}
    if config.get("from_logits") or config.get("axis", -1) not in (-1, y_pred.ndim - 1):
        return None
    from . import losses
    fn = getattr(losses, loss_name, None)
    try:
        if fn is None or "from_logits" not in _inspect.signature(fn).parameters:
            return None
    except (TypeError, ValueError):
        return None
    logits = y_pred.parents[0]
    if isinstance(loss_fn, getattr(losses, "Loss", ())):
        # the same loss object with the same settings, reading logits
        twin = type(loss_fn).from_config({**config, "from_logits": True})
        return lambda y_true: twin(y_true, logits)
    if loss_fn is not fn:           # some other callable under that name: leave it alone
        return None
    return lambda y_true: fn(y_true, logits, from_logits=True)
