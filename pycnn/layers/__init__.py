"""Layers with Keras' names, arguments, defaults and weight layouts; the compute is C.

    >>> import numpy as np
    >>> from pycnn.layers import Dense, Conv2D, MaxPooling2D, Flatten, Dropout
    >>> layer = Dense(512, activation='relu', input_shape=(784,))
    >>> y = layer(np.zeros((32, 784), np.float32))   # builds: kernel (784, 512), bias (512,)
    >>> y.shape
    (32, 512)
    >>> layer.count_params()                         # (784 + 1) · 512
    401920

Every layer: ``layer(x, training=None)``, ``name`` (``dense_1``, ``dense_2``, … counted per
type; ``pycnn.clear_session()`` restarts), ``trainable``, ``built``, ``build(input_shape)``,
``compute_output_shape(input_shape)``, ``count_params()``, ``weights``,
``trainable_weights``, ``non_trainable_weights``, ``get_weights()`` / ``set_weights()``,
``get_config()`` / ``from_config()``, ``add_weight``, ``add_loss`` / ``losses``, and in a
graph ``input`` / ``output``. Subclass :class:`Layer` in Python to write your own: define
``build`` (creating weights with ``add_weight``) and ``call`` (base.py says how the
protocol is shared by the C layer types and Python subclasses).

Convolutions: ``Conv2D`` (``groups=``), ``Conv2DTranspose``, ``DepthwiseConv2D``,
``SeparableConv2D`` and ``Conv1D`` (padding 'valid', 'same' or 'causal'), with Keras' weight
layouts (convolutional.py holds the last three).

Merge layers (merging.py): ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``, ``Concatenate`` and ``add(...)``, ``concatenate(...)``, ...; ``InputLayer``
(``pycnn.Input``) starts a graph.
"""
import importlib as _importlib
import pkgutil as _pkgutil

from .base import Layer
from .convolutional import Conv1D, DepthwiseConv2D, SeparableConv2D
from .input_layer import InputLayer
from .merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract,
                      TensorOp, add, average, concatenate, maximum, minimum, multiply,
                      subtract)

__all__ = ["Layer", "InputLayer", "Input", "Conv1D", "DepthwiseConv2D", "SeparableConv2D",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "TensorOp", "add", "subtract", "multiply", "average", "maximum", "minimum",
           "concatenate"]


# core (the C layer types, one _native row each) and every other module of this package
# that is a layer file: what its __all__ names is exported here, so a new layer is a row in
# core or a new file, and no line in this one.
for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in ("base", "convolutional", "input_layer", "merging"):
        _module = _importlib.import_module(f"{__name__}.{_info.name}")
        globals().update({_n: getattr(_module, _n) for _n in _module.__all__})
        __all__ += [_n for _n in _module.__all__ if _n not in __all__]
        del globals()[_info.name]


def Input(*args, **kwargs):
    """pycnn.layers.Input ≡ pycnn.Input (see pycnn.models.graph.Input)."""
    from ..models.graph import Input as _input
    return _input(*args, **kwargs)


# The submodules are the implementation; the package shows only the layers (__all__).
del base, convolutional, input_layer, merging  # noqa: F821
globals().pop("_info", None), globals().pop("_module", None)
