"""Hand-made convolution kernels from the lecture: Sobel edge detectors.

Convolution in pycnn (as in every framework) is cross-correlation, so with
``sobel_x()`` = [[1, 0, −1], [2, 0, −2], [1, 0, −1]] the response is positive where the
image is brighter on the left than on the right (a vertical edge), negative for the
opposite edge, and 0 on flat regions. ``-sobel_x()`` flips the sign; ``sobel_y()`` (its
transpose) finds horizontal edges, positive where the image is brighter above.

    >>> from pycnn.layers import Conv2D
    >>> layer = Conv2D(2, 3, use_bias=False)
    >>> layer.build((None, 28, 28, 1))
    >>> layer.set_weights([to_kernel(sobel_x(), sobel_y())])
"""
import numpy as _np

__all__ = ["sobel_x", "sobel_y", "to_kernel"]


def sobel_x():
    """The vertical-edge detector [[1, 0, −1], [2, 0, −2], [1, 0, −1]], float32 (3, 3)."""
    return _np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=_np.float32)


def sobel_y():
    """The horizontal-edge detector, sobel_x transposed: [[1, 2, 1], [0, 0, 0], [−1, −2, −1]]."""
    return _np.ascontiguousarray(sobel_x().T)


def to_kernel(*filters):
    """Stack 2-D filters (kh, kw) into a Conv2D kernel (kh, kw, 1, len(filters)), float32."""
    if not filters:
        raise ValueError("to_kernel: give at least one 2-D filter")
    arrays = [_np.asarray(f, dtype=_np.float32) for f in filters]
    if any(a.ndim != 2 or a.shape != arrays[0].shape for a in arrays):
        raise ValueError(f"to_kernel: filters must be 2-D and of one shape, got "
                         f"{[a.shape for a in arrays]}")
    return _np.stack(arrays, axis=-1)[:, :, None, :]
