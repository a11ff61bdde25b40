"""Small helpers Keras users expect under ``keras.utils``."""
import numpy as np

__all__ = ["to_categorical"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class indices → one-hot rows: ``to_categorical([1, 0], 3)`` is [[0, 1, 0], [1, 0, 0]].

    Args:
        y: integer class indices, any shape; a trailing axis of 1 is dropped (Keras).
        num_classes: the number of classes (default: max(y) + 1).
    Returns:
        An array of shape y.shape + (num_classes,).
    """
    y = np.asarray(y)
    if y.size and (y.dtype.kind not in "iub" and not np.all(y == np.round(y))):
        raise ValueError("to_categorical: y must hold integer class indices")
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"to_categorical: class indices must be in [0, {num_classes}), got "
                         f"values from {int(y.min())} to {int(y.max())}")
    return np.eye(num_classes, dtype=dtype)[y]
