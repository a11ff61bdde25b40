"""The C layer types as public layers: ``class Dense(_core.Dense, Layer)``.

The C type (csrc/py/<type>.c) computes — the weights, the fused node and its backward —
and Layer (base.py) adds the protocol around it. Dense and Conv2D also take Keras'
``kernel_regularizer``, ``bias_regularizer`` and ``activity_regularizer``: callables
(weight or output) -> scalar Tensor, e.g. ``pycnn.regularizers.L2(1e-4)``, whose
penalties enter ``layer.losses`` and so the training loss.
"""
from .. import _core
from .base import Layer, get_regularizer, serialize_regularizer

__all__ = ["Dense", "Conv2D", "Conv2DTranspose"]  # and the _NATIVE rows, added below


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


# The C layer types whose public class is _native(c_type): name -> whether Keras writes a
# 'build_config' for it (False for the layers that build in __init__). A new plain C layer
# type is one row here.
_NATIVE = {
    "Maxout": True,
    "MaxPooling2D": False,
    "AveragePooling2D": False,
    "Dropout": False,
    "Flatten": True,
    "Reshape": False,
    "Activation": False,
    "LeakyReLU": False,
    "ELU": False,
    "Softmax": False,
    "UpSampling2D": True,
    "BatchNormalization": True,
    "GlobalAveragePooling2D": False,
    "GlobalMaxPooling2D": False,
    "ZeroPadding2D": True,
    "Cropping2D": True,
    "LayerNormalization": True,
    "Rescaling": True,
    "RandomFlip": True,
    "RandomTranslation": True,
    "RandomRotation": True,
    "RandomZoom": True,
    "RandomCrop": True,
    "RandomContrast": True,
    "SpatialDropout2D": False,
    "Normalization": True,
}

for _name, _build_config in _NATIVE.items():
    globals()[_name] = _native(getattr(_core, _name), build_config=_build_config)
__all__ += list(_NATIVE)
del _name, _build_config
