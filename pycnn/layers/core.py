"""The C layer types as public layers: ``class Dense(_core.Dense, Layer)``.

The C type (csrc/py/<type>.c) computes — the weights, the fused node and its backward —
and Layer (base.py) adds the protocol around it. Dense and Conv2D also take Keras'
``kernel_regularizer``, ``bias_regularizer`` and ``activity_regularizer``: callables
(weight or output) -> scalar Tensor, e.g. ``pycnn.regularizers.L2(1e-4)``, whose
penalties enter ``layer.losses`` and so the training loss.

Each class also carries what the rest of pycnn asks a layer about, so that a new C layer
type is its row below and nothing elsewhere in Python: ``_keras_config`` (its Keras
arguments, for .keras/.h5 files; pycnn.keras_format), ``_macs`` (multiply-adds per example;
pycnn.cost), ``_field_rule`` (its receptive-field rule; pycnn.arithmetic),
``_activation_of`` (the activation it applies, for the converters) and ``_needs_build``
(it converts only once built; pycnn.interop.plan). A layer without ``_keras_config`` is
refused by name when saved to a Keras file; one no converter knows, by name when converted.
"""
import numpy as _np

from .. import _core
from ..arithmetic import Count as _Count
from ..cost import free as _free, from_weights as _from_weights, per_value as _per_value
from .base import Layer, get_regularizer, serialize_regularizer

__all__ = ["Dense", "Conv2D", "Conv2DTranspose"]  # and the _native rows, added below


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


@_from_weights
def _dense_macs(layer, shapes, ins, outs):
    """Dense, Maxout: inputs · units (· pieces) per row of the input."""
    x = ins[0] if ins else ()
    n_in, units = shapes[0][0], int(_np.prod(shapes[0][1:]))
    rows = int(_np.prod(x[:-1], dtype=_np.int64)) if x[:-1] else 1
    lead = f"{'·'.join(str(d) for d in x[:-1])} · " if rows > 1 else ""
    total = rows * n_in * units
    return _Count(total, f"{lead}{n_in}·{units} = {total:,}")


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

    _needs_build = True
    _field_rule = "pointwise"           # on the last axis: each pixel of an image alone

    @staticmethod
    def _activation_of(config):
        return config.get("activation"), None

    @staticmethod
    def _keras_config(config):
        return {"units": int(config["units"]), **_kernel_args(config)}

    _macs = _dense_macs


def _regularized_conv(c_type, **traits):
    """The public class of a C convolution type: its arguments plus Keras' regularizers;
    traits: its class attributes (_keras_config, _macs, ...)."""

    def __init__(self, *args, kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, **kwargs):
        c_type.__init__(self, *args, **kwargs)
        self._set_regularizers(kernel_regularizer, bias_regularizer, activity_regularizer)

    def get_config(self):
        return self._regularizer_config(c_type.get_config(self))

    cls = type(c_type.__name__, (_Regularized, c_type, Layer),
               {"__doc__": c_type.__doc__, "__module__": __name__, "__init__": __init__,
                "get_config": get_config, "_needs_build": True,
                "_activation_of": Dense._activation_of, **traits})
    cls.__qualname__ = c_type.__name__
    return cls


def _kernel_args(config):
    """Keras' arguments after a Dense's units / a convolution's window: the activation
    (written by pycnn.keras_format from the plan), bias, initializers, no regularizers."""
    return {"activation": config.get("activation"), "use_bias": bool(config.get("use_bias", True)),
            "kernel_initializer": config.get("kernel_initializer", "glorot_uniform"),
            "bias_initializer": config.get("bias_initializer", "zeros"),
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}


def _window_args(config):
    return {"filters": int(config["filters"]), "kernel_size": list(config["kernel_size"]),
            "strides": list(config.get("strides", (1, 1))),
            "padding": config.get("padding", "valid"), "data_format": "channels_last",
            "dilation_rate": list(config.get("dilation_rate", (1, 1)))}


def _conv2d_keras(config):
    return {**_window_args(config), "groups": int(config.get("groups", 1)),
            **_kernel_args(config)}


def _conv2d_transpose_keras(config):
    op = config.get("output_padding")
    return {**_window_args(config), "output_padding": None if op is None else list(op),
            **_kernel_args(config)}


@_from_weights
def _conv2d_macs(layer, shapes, ins, outs):
    """OH·OW·filters · (KH·KW·C_in/groups)."""
    kh, kw, c_in, filters = shapes[0]               # c_in per group
    oh, ow = outs[0][:2]
    total = oh * ow * filters * kh * kw * c_in
    groups = int(layer.get_config().get("groups", 1) or 1)
    note = f" ({groups} groups of {c_in} channels)" if groups > 1 else ""
    return _Count(total, f"{oh}·{ow}·{filters} · ({kh}·{kw}·{c_in}){note} = {total:,}")


@_from_weights
def _conv2d_transpose_macs(layer, shapes, ins, outs):
    """Every input value meets the whole kernel: H·W·C_in · (KH·KW·filters)."""
    kh, kw, filters, c_in = shapes[0]
    h, w = ins[0][:2]
    return h * w * c_in * kh * kw * filters, f"{h}·{w}·{c_in} · ({kh}·{kw}·{filters})"


Conv2D = _regularized_conv(_core.Conv2D, _keras_config=staticmethod(_conv2d_keras),
                           _macs=_conv2d_macs, _field_rule="kernel")
Conv2DTranspose = _regularized_conv(_core.Conv2DTranspose,
                                    _keras_config=staticmethod(_conv2d_transpose_keras),
                                    _macs=_conv2d_transpose_macs, _field_rule="transpose")



def _native(c_type, build_config=True, keras=None, from_keras=None, activation=None,
            **traits):
    """The public layer class of a C layer type without extra arguments, with its traits as
    class attributes. build_config: whether Keras writes a 'build_config' for it in a model
    config (not for the layers it builds in __init__); keras: config -> its Keras arguments
    (none: Keras files refuse it by name); from_keras: (Keras config, where) -> its pycnn
    arguments, for a layer pycnn.interop.keras does not read itself; activation: config ->
    (name, parameter) of the activation it applies; traits: _macs, _field_rule, _needs_build,
    _keras_trainable (False: the Keras class takes no trainable argument) and a converter's
    _torch_module, _onnx_nodes (pycnn.interop.plan)."""
    attrs = {"__doc__": c_type.__doc__, "__module__": __name__, "_pycnn_native": True,
             "_keras_build_config": build_config, **traits}
    for attr, fn in (("_keras_config", keras), ("_from_keras_config", from_keras),
                     ("_activation_of", activation)):
        if fn is not None:
            attrs[attr] = staticmethod(fn)
    cls = type(c_type.__name__, (c_type, Layer), attrs)
    cls.__qualname__ = c_type.__name__
    return cls


# ---- Keras arguments, for the rows below (Keras' names; lists where Keras writes lists)

def _keras_as_is(extra=None):
    """The arguments have Keras' names and meanings (BatchNormalization's axis, momentum,
    epsilon, center, scale and initializers; RandomFlip's mode, seed ...); extra: set after."""
    def keras(config):
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()
               if k not in ("name", "trainable", "dtype", "input_shape")}
        out.update(extra or {})
        return out
    return keras


def _keras_pool(config):
    strides = config.get("strides") or config.get("pool_size", (2, 2))
    return {"pool_size": list(config.get("pool_size", (2, 2))),
            "padding": config.get("padding", "valid"), "strides": list(strides),
            "data_format": "channels_last"}


def _keras_borders(key):
    """ZeroPadding2D's padding, Cropping2D's cropping: ((top, bottom), (left, right))."""
    def keras(config):
        from ..interop.plan import borders
        return {key: [list(b) for b in borders(config[key])], "data_format": "channels_last"}
    return keras


def _keras_dropout(config):
    return {"rate": float(config["rate"]), "seed": config.get("seed"), "noise_shape": None}


def _keras_upsampling(config):
    return {"size": list(config.get("size", (2, 2))), "data_format": "channels_last",
            "interpolation": str(config.get("interpolation", "nearest"))}


def _keras_spatial_dropout(config):
    return {"rate": float(config["rate"]), "seed": config.get("seed"),
            "data_format": "channels_last"}


def _upsampling_macs(layer, ins, outs):
    if str(layer.get_config().get("interpolation", "nearest")) == "nearest":
        return _free("a copy")(layer, ins, outs)
    return _per_value("4 weighted neighbours per output", times=4)(layer, ins, outs)


_CHANNELS_LAST = {"data_format": "channels_last"}
_AT_INFERENCE = _free("identity at inference")


# The C layer types whose public class is _native(c_type, ...): one row each, all that
# pycnn's Python side needs of a new plain C layer type (pycnn.layers exports what
# __all__ names; a converter converts it once its registry or a trait says how, and
# refuses it by name until then).
Maxout = _native(_core.Maxout, _macs=_dense_macs,
                 _field_rule="pointwise", _needs_build=True)
MaxPooling2D = _native(_core.MaxPooling2D, False, keras=_keras_pool,
                       _macs=_free("comparisons"), _field_rule="kernel")
AveragePooling2D = _native(_core.AveragePooling2D, False, keras=_keras_pool,
                           _macs=_per_value("·1/(k·k) per output", needs_output=True),
                           _field_rule="kernel")
Dropout = _native(_core.Dropout, False, keras=_keras_dropout, _macs=_AT_INFERENCE,
                  _field_rule="pointwise")
Flatten = _native(_core.Flatten, keras=lambda config: dict(_CHANNELS_LAST),
                  _macs=_free("a reshape"), _field_rule="whole")
Reshape = _native(_core.Reshape, False,
                  keras=lambda config: {"target_shape": list(config["target_shape"])},
                  _macs=_free("a reshape"), _field_rule="whole")
Activation = _native(_core.Activation, False,
                     keras=lambda config: {"activation": config.get("activation")},
                     activation=lambda config: (config.get("activation"), None),
                     _macs=_free("elementwise"), _field_rule="pointwise")
LeakyReLU = _native(_core.LeakyReLU, False,
                    keras=lambda config: {"negative_slope": float(config["alpha"])},
                    activation=lambda config: ("leaky_relu", float(config["alpha"])),
                    _macs=_free("elementwise"), _field_rule="pointwise")
ELU = _native(_core.ELU, False, keras=lambda config: {"alpha": float(config["alpha"])},
              activation=lambda config: ("elu", float(config["alpha"])),
              _macs=_free("elementwise"), _field_rule="pointwise")
Softmax = _native(_core.Softmax, False,
                  keras=lambda config: {"axis": int(config.get("axis", -1))},
                  activation=lambda config: ("softmax", int(config.get("axis", -1))),
                  _macs=_free("exp and a division"), _field_rule="pointwise")
UpSampling2D = _native(_core.UpSampling2D, keras=_keras_upsampling, _macs=_upsampling_macs,
                       _field_rule="upsample")
BatchNormalization = _native(_core.BatchNormalization, keras=_keras_as_is(),
                             _macs=_per_value("a·x + b per value at inference"),
                             _field_rule="pointwise", _needs_build=True)
GlobalAveragePooling2D = _native(_core.GlobalAveragePooling2D, False,
                                 keras=_keras_as_is(_CHANNELS_LAST),
                                 _macs=_per_value("·1/(H·W) per channel", needs_output=True),
                                 _field_rule="whole")
GlobalMaxPooling2D = _native(_core.GlobalMaxPooling2D, False,
                             keras=_keras_as_is(_CHANNELS_LAST), _macs=_free("comparisons"),
                             _field_rule="whole")
ZeroPadding2D = _native(_core.ZeroPadding2D, keras=_keras_borders("padding"),
                        _macs=_free("padding"), _field_rule="pad")
Cropping2D = _native(_core.Cropping2D, keras=_keras_borders("cropping"),
                     _macs=_free("cropping"), _field_rule="crop")
LayerNormalization = _native(_core.LayerNormalization, keras=_keras_as_is(),
                             _macs=_per_value("(x − μ)², ·1/σ, γ·x̂ + β", times=3),
                             _field_rule="pointwise", _needs_build=True)
Rescaling = _native(_core.Rescaling, keras=_keras_as_is(),
                    _macs=_per_value("x·scale + offset"), _field_rule="pointwise")
RandomFlip = _native(_core.RandomFlip, keras=_keras_as_is(), _macs=_AT_INFERENCE,
                     _field_rule="pointwise")
RandomTranslation = _native(_core.RandomTranslation, keras=_keras_as_is(),
                            _macs=_AT_INFERENCE, _field_rule="pointwise")
RandomRotation = _native(_core.RandomRotation, keras=_keras_as_is(), _macs=_AT_INFERENCE,
                         _field_rule="pointwise")
RandomZoom = _native(_core.RandomZoom, keras=_keras_as_is(), _macs=_AT_INFERENCE,
                     _field_rule="pointwise")
RandomCrop = _native(_core.RandomCrop, keras=_keras_as_is(), _macs=_free("a crop at inference"))
RandomContrast = _native(_core.RandomContrast, keras=_keras_as_is(), _macs=_AT_INFERENCE,
                         _field_rule="pointwise")
SpatialDropout2D = _native(_core.SpatialDropout2D, False, keras=_keras_spatial_dropout,
                           _keras_trainable=False,   # Keras' takes no trainable argument
                           _macs=_AT_INFERENCE, _field_rule="pointwise")
Normalization = _native(_core.Normalization, keras=_keras_as_is(),
                        _macs=_per_value("(x − μ)/σ per value"), _field_rule="pointwise")

__all__ += [_name for _name, _value in list(globals().items())
            if isinstance(_value, type) and "_pycnn_native" in _value.__dict__
            and not _name.startswith("_") and _name not in __all__]
