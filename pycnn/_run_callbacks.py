"""Callbacks that guard a training run (exported by pycnn.callbacks):

- ``TerminateOnNaN``: stop (or raise) as soon as a batch's loss is NaN or infinite.
"""
import math as _math

from .callbacks import Callback as _Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(_Callback):
    """Stops training at the first batch whose loss is NaN or ±inf (``fit`` ends after
    that batch), as Keras; with ``raise_error=True`` raises RuntimeError instead."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or _math.isfinite(float(loss)):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                               f"{loss}. Terminating training immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
