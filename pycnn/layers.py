"""Layers as C extension types, with Keras' names, arguments, defaults and weight layouts.

    >>> import numpy as np
    >>> from pycnn.layers import Dense, Conv2D, MaxPooling2D, Flatten, Dropout
    >>> layer = Dense(512, activation='relu', input_shape=(784,))
    >>> y = layer(np.zeros((32, 784), np.float32))   # builds: kernel (784, 512), bias (512,)
    >>> y.shape
    (32, 512)
    >>> layer.count_params()                         # (784 + 1) · 512
    401920

Every layer: ``layer(x, training=False)``, ``name`` (``dense_1``, ``dense_2``, … counted per
type; ``pycnn.clear_session()`` restarts), ``trainable``, ``built``, ``build(input_shape)``,
``compute_output_shape(input_shape)``, ``count_params()``, ``weights``,
``trainable_weights``, ``non_trainable_weights``, ``get_weights()`` / ``set_weights()``,
``get_config()`` / ``from_config()``. Subclass :class:`Layer` in Python to write your own:
define ``build`` (creating weights with ``add_weight``) and ``call``.
"""
import inspect

from ._core import (ELU, Activation, AveragePooling2D, BatchNormalization, Conv2D, Conv2DTranspose,
                    Cropping2D,
                    Dense, Dropout, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, Layer,
                    LayerNormalization, LeakyReLU, MaxPooling2D, Maxout, RandomContrast,
                    RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
                    Rescaling, Reshape, Softmax, UpSampling2D, ZeroPadding2D)

__all__ = ["Layer", "Dense", "Conv2D", "Conv2DTranspose", "MaxPooling2D", "AveragePooling2D", "Dropout", "Flatten",
           "Reshape", "Activation", "LeakyReLU", "ELU", "Softmax", "Maxout", "UpSampling2D",
           "BatchNormalization", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D",
           "Cropping2D", "LayerNormalization", "Rescaling", "RandomFlip", "RandomTranslation",
           "RandomRotation", "RandomZoom", "RandomCrop", "RandomContrast"]


def _call_accepts_training(call):
    """Whether a Python ``call`` method takes ``training=`` (Keras inspects it the same way)."""
    try:
        params = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in params)
