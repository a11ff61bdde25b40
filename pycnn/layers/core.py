"""The C layer types as public layers: ``class Dense(_core.Dense, Layer)``.

The C type (csrc/py/<type>.c) computes — the weights, the fused node and its backward —
and Layer (base.py) adds the protocol around it. Dense and Conv2D also take Keras'
``kernel_regularizer``, ``bias_regularizer`` and ``activity_regularizer``: callables
(weight or output) -> scalar Tensor, e.g. ``pycnn.regularizers.L2(1e-4)``, whose
penalties enter ``layer.losses`` and so the training loss.
"""
from .. import _core
from .base import Layer, get_regularizer, serialize_regularizer

__all__ = ["Dense", "Conv2D", "Conv2DTranspose", "Maxout", "MaxPooling2D", "AveragePooling2D", "Dropout",
           "Flatten", "Reshape", "Activation", "LeakyReLU", "ELU", "Softmax", "UpSampling2D",
           "BatchNormalization", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D",
           "Cropping2D", "LayerNormalization", "Rescaling", "RandomFlip", "RandomTranslation",
           "RandomRotation", "RandomZoom", "RandomCrop", "RandomContrast", "SpatialDropout2D",
           "Normalization"]


class _Regularized:
    """kernel/bias/activity regularizers of the layers with a kernel."""

    _pycnn_native = True

    def _set_regularizers(self, kernel, bias, activity):
        who = type(self).__name__
        self.kernel_regularizer = get_regularizer(kernel, who)
        self.bias_regularizer = get_regularizer(bias, who)
        self.activity_regularizer = get_regularizer(activity, who)

    def _regularization_losses(self):
        if (self.kernel_regularizer is None and self.bias_regularizer is None) or \
                not self.trainable:
            return []
        out = []
        for reg, w in ((self.kernel_regularizer, self.kernel), (self.bias_regularizer,
                                                                self.bias)):
            if reg is not None and w is not None:
                out.append(reg(w))
        return out

    def _regularizer_config(self, config):
        for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            config[key] = serialize_regularizer(getattr(self, key))
        return config


class Dense(_Regularized, _core.Dense, Layer):
    __doc__ = _core.Dense.__doc__

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 **kwargs):
        _core.Dense.__init__(self, units, activation, use_bias, kernel_initializer,
                             bias_initializer, **kwargs)
        self._set_regularizers(kernel_regularizer, bias_regularizer, activity_regularizer)

    def get_config(self):
        return self._regularizer_config(_core.Dense.get_config(self))


def _regularized_conv(c_type):
    """The public class of a C convolution type: its arguments plus Keras' regularizers."""

    def __init__(self, *args, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, **kwargs):
        c_type.__init__(self, *args, **kwargs)
        self._set_regularizers(kernel_regularizer, bias_regularizer, activity_regularizer)

    def get_config(self):
        return self._regularizer_config(c_type.get_config(self))

    cls = type(c_type.__name__, (_Regularized, c_type, Layer),
               {"__doc__": c_type.__doc__, "__module__": __name__, "__init__": __init__,
                "get_config": get_config})
    cls.__qualname__ = c_type.__name__
    return cls


Conv2D = _regularized_conv(_core.Conv2D)
Conv2DTranspose = _regularized_conv(_core.Conv2DTranspose)


def _native(c_type, build_config=True):
    """The public layer class of a C layer type without extra arguments. build_config:
    whether Keras writes a 'build_config' for it in a model config (not for the layers it
    builds in __init__)."""
    cls = type(c_type.__name__, (c_type, Layer), {"__doc__": c_type.__doc__,
                                                  "__module__": __name__,
                                                  "_pycnn_native": True,
                                                  "_keras_build_config": build_config})
    cls.__qualname__ = c_type.__name__
    return cls


Maxout = _native(_core.Maxout)
MaxPooling2D = _native(_core.MaxPooling2D, build_config=False)
AveragePooling2D = _native(_core.AveragePooling2D, build_config=False)
Dropout = _native(_core.Dropout, build_config=False)
Flatten = _native(_core.Flatten)
Reshape = _native(_core.Reshape, build_config=False)
Activation = _native(_core.Activation, build_config=False)
LeakyReLU = _native(_core.LeakyReLU, build_config=False)
ELU = _native(_core.ELU, build_config=False)
Softmax = _native(_core.Softmax, build_config=False)
UpSampling2D = _native(_core.UpSampling2D)
BatchNormalization = _native(_core.BatchNormalization)
GlobalAveragePooling2D = _native(_core.GlobalAveragePooling2D, build_config=False)
GlobalMaxPooling2D = _native(_core.GlobalMaxPooling2D, build_config=False)
ZeroPadding2D = _native(_core.ZeroPadding2D)
Cropping2D = _native(_core.Cropping2D)
LayerNormalization = _native(_core.LayerNormalization)
Rescaling = _native(_core.Rescaling)
RandomFlip = _native(_core.RandomFlip)
RandomTranslation = _native(_core.RandomTranslation)
RandomRotation = _native(_core.RandomRotation)
RandomZoom = _native(_core.RandomZoom)
RandomCrop = _native(_core.RandomCrop)
RandomContrast = _native(_core.RandomContrast)
SpatialDropout2D = _native(_core.SpatialDropout2D, build_config=False)
Normalization = _native(_core.Normalization)
