"""Keras 3: ``to_keras`` (a plain copy: pycnn keeps Keras' layouts) and ``from_keras``."""
import importlib.util as _importlib_util
import os as _os
import re as _re
import sys as _sys

from .graph import from_keras_graph, is_functional, to_keras_graph
from .plan import (_ACTIVATIONS, _PIP, AUGMENTATION_KINDS, ConversionError, _pair, _plan,
                   _require, borders, layer_hook)


def _choose_backend():
    """Keras' default backend is TensorFlow; ``pip install pycnn[interop]`` brings torch.
    Before keras is first imported, with KERAS_BACKEND unset and no TensorFlow installed,
    this picks torch when it is there (what pycnn's tests run Keras on)."""
    if "keras" in _sys.modules or _os.environ.get("KERAS_BACKEND"):
        return
    if _importlib_util.find_spec("tensorflow") is None and _importlib_util.find_spec("torch"):
        _os.environ["KERAS_BACKEND"] = "torch"


def _import_keras():
    _choose_backend()
    try:
        keras = _require("keras", "this converter")
    except ModuleNotFoundError as exc:  # keras is there, the backend it was told to use is not
        raise ImportError(
            f"Keras is installed but its backend cannot be imported ({exc}); choose one that is "
            "installed, e.g. KERAS_BACKEND=torch with `pip install pycnn[interop]` (which "
            "brings torch), before keras is first imported") from exc
    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError(f"this converter needs Keras 3, found {keras.__version__}: {_PIP}")
    return keras


_keras_leaky_relu = None


def _keras_activation(keras, activation):
    """The Keras activation for (name, parameter); pycnn's leaky_relu slope 0.1 is registered."""
    global _keras_leaky_relu
    name, _ = activation
    if name != "leaky_relu":
        return name
    if _keras_leaky_relu is None:
        # Keras' own 'leaky_relu' string means slope 0.2; pycnn's, like the lecture, 0.1.
        @keras.saving.register_keras_serializable(package="pycnn", name="leaky_relu")
        def leaky_relu(x):
            return keras.activations.leaky_relu(x, negative_slope=0.1)
        _keras_leaky_relu = leaky_relu
    return _keras_leaky_relu


def _keras_initializer(keras, value, default):
    try:
        keras.initializers.get(value)
    except (ValueError, TypeError, KeyError):
        return default  # weights are copied anyway; the initializer only matters for re-init
    return value


_BN_INITIALIZERS = {"beta_initializer": "zeros", "gamma_initializer": "ones",
                    "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones"}
_LN_INITIALIZERS = {"beta_initializer": "zeros", "gamma_initializer": "ones"}


_CONV_INITIALIZERS = {"Conv1D": ("kernel_initializer", "bias_initializer"),
                      "DepthwiseConv2D": ("depthwise_initializer", "bias_initializer"),
                      "SeparableConv2D": ("depthwise_initializer", "pointwise_initializer",
                                          "bias_initializer")}


def _keras_conv_layer(keras, spec, common):
    """Conv1D, DepthwiseConv2D, SeparableConv2D: their configs carry Keras' own keys."""
    c = spec.config
    keep = ("kernel_size", "strides", "padding", "dilation_rate", "filters", "groups",
            "depth_multiplier")
    kwargs = {k: (tuple(c[k]) if isinstance(c[k], (list, tuple)) else c[k])
              for k in keep if k in c}
    kwargs.update({key: _keras_initializer(keras, c.get(key, default), default)
                   for key in _CONV_INITIALIZERS[spec.kind]
                   for default in ("zeros" if key == "bias_initializer" else "glorot_uniform",)})
    return getattr(keras.layers, spec.kind)(activation=_keras_activation(keras, spec.activation),
                                            use_bias=bool(c.get("use_bias", True)), **kwargs,
                                            **common)


# The registry pycnn.interop.plan reads: the pycnn layer classes _keras_layer builds (a
# layer class carrying _keras_config converts too: the Keras class of its name with those
# arguments), and why the others Keras lacks are refused.
KINDS = frozenset((
    "Dense", "Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "MaxPooling2D", "AveragePooling2D", "Dropout", "SpatialDropout2D", "Flatten", "Reshape",
    "Activation", "LeakyReLU", "ELU", "Softmax", "UpSampling2D", "BatchNormalization",
    "LayerNormalization", "Normalization", "Rescaling", "GlobalAveragePooling2D",
    "GlobalMaxPooling2D", "ZeroPadding2D", "Cropping2D")
    + AUGMENTATION_KINDS)
REFUSED = {"Maxout": "Keras has no Maxout layer"}
# the Keras layer classes pycnn_configs reads (with those whose pycnn class carries
# _from_keras_config)
FROM_KINDS = KINDS | {"ReLU"}


def _keras_layer(keras, spec):
    c, kl = spec.config, keras.layers
    common = dict(name=spec.name, trainable=bool(c.get("trainable", True)),
                  dtype=c.get("dtype", "float32"))
    if spec.kind not in KINDS:              # the layer carries its Keras arguments
        return getattr(kl, spec.kind)(**layer_hook(spec.kind, "_keras_config")(c), **common)
    if spec.kind in ("Dense", "Conv2D", "Conv2DTranspose"):
        common.update(activation=_keras_activation(keras, spec.activation),
                      use_bias=bool(c.get("use_bias", True)),
                      kernel_initializer=_keras_initializer(
                          keras, c.get("kernel_initializer", "glorot_uniform"), "glorot_uniform"),
                      bias_initializer=_keras_initializer(
                          keras, c.get("bias_initializer", "zeros"), "zeros"))
        if spec.kind == "Dense":
            return kl.Dense(int(c["units"]), **common)
        if spec.kind == "Conv2DTranspose":
            op = c.get("output_padding")
            return kl.Conv2DTranspose(int(c["filters"]), _pair(c["kernel_size"]),
                                      _pair(c.get("strides", 1)), padding=c.get("padding", "valid"),
                                      output_padding=None if op is None else _pair(op), **common)
        return kl.Conv2D(int(c["filters"]), _pair(c["kernel_size"]), _pair(c.get("strides", 1)),
                         padding=c.get("padding", "valid"),
                         dilation_rate=_pair(c.get("dilation_rate", 1)),
                         groups=int(c.get("groups", 1)), **common)
    if spec.kind in ("Conv1D", "DepthwiseConv2D", "SeparableConv2D"):
        return _keras_conv_layer(keras, spec, common)
    if spec.kind in ("MaxPooling2D", "AveragePooling2D"):
        strides = c.get("strides")
        return getattr(kl, spec.kind)(_pair(c.get("pool_size", 2)),
                                      None if strides is None else _pair(strides),
                                      padding=c.get("padding", "valid"), **common)
    if spec.kind == "Dropout":
        noise = c.get("noise_shape")
        noise = None if noise is None else tuple(noise)
        return kl.Dropout(float(c["rate"]), noise_shape=noise, seed=c.get("seed"), **common)
    if spec.kind == "SpatialDropout2D":
        layer = kl.SpatialDropout2D(float(c["rate"]), seed=c.get("seed"), name=spec.name,
                                    dtype=common["dtype"])   # takes no trainable= argument
        layer.trainable = common["trainable"]
        return layer
    if spec.kind == "Flatten":
        return kl.Flatten(**common)
    if spec.kind == "Reshape":
        return kl.Reshape(tuple(c["target_shape"]), **common)
    if spec.kind == "UpSampling2D":
        return kl.UpSampling2D(_pair(c.get("size", 2)),
                               interpolation=c.get("interpolation", "nearest"), **common)
    if spec.kind == "BatchNormalization":
        inits = {key: _keras_initializer(keras, c.get(key, default), default)
                 for key, default in _BN_INITIALIZERS.items()}
        return kl.BatchNormalization(axis=int(c["axis"]), momentum=float(c["momentum"]),
                                     epsilon=float(c["epsilon"]), center=bool(c["center"]),
                                     scale=bool(c["scale"]), **inits, **common)
    if spec.kind == "LayerNormalization":
        inits = {key: _keras_initializer(keras, c.get(key, default), default)
                 for key, default in _LN_INITIALIZERS.items()}
        axis = c["axis"]
        return kl.LayerNormalization(axis=list(axis) if isinstance(axis, (list, tuple)) else
                                     int(axis), epsilon=float(c["epsilon"]),
                                     center=bool(c["center"]), scale=bool(c["scale"]), **inits,
                                     **common)
    if spec.kind in AUGMENTATION_KINDS:
        kwargs = {k: v for k, v in c.items() if k not in ("name", "trainable", "dtype",
                                                          "input_shape")}
        return getattr(kl, spec.kind)(**kwargs, **common)
    if spec.kind == "Normalization":
        return kl.Normalization(axis=tuple(c["axis"]), mean=c.get("mean"),
                                variance=c.get("variance"), invert=bool(c.get("invert")),
                                **common)
    if spec.kind == "Rescaling":
        return kl.Rescaling(c["scale"], offset=c.get("offset", 0.0), **common)
    if spec.kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        return getattr(kl, spec.kind)(keepdims=bool(c.get("keepdims", False)), **common)
    if spec.kind == "ZeroPadding2D":
        return kl.ZeroPadding2D(borders(c["padding"]), **common)
    if spec.kind == "Cropping2D":
        return kl.Cropping2D(borders(c["cropping"]), **common)
    if spec.kind == "LeakyReLU":
        return kl.LeakyReLU(negative_slope=spec.activation[1], **common)
    if spec.kind == "ELU":
        return kl.ELU(alpha=spec.activation[1], **common)
    if spec.kind == "Softmax":
        return kl.Softmax(axis=spec.activation[1], **common)
    return kl.Activation(_keras_activation(keras, spec.activation), **common)  # Activation


def to_keras(model, input_shape=None):
    """A `keras.Sequential` with the same layers, names, configuration and weights (Keras 3);
    for a functional pycnn model, a functional `keras.Model` with the same graph (graph.py).

    Args:
        model: a pycnn Sequential whose weights exist (built).
        input_shape: the input shape without the batch dimension, when the model does not know it.
    Raises:
        ConversionError: a layer has no Keras counterpart (e.g. Maxout); raised before any Keras
            layer is made.
    """
    keras = _import_keras()
    if is_functional(model):
        return to_keras_graph(keras, model, lambda spec: _keras_layer(keras, spec), to_keras)
    plan = _plan(model, "Keras", input_shape)
    layers = [keras.Input(shape=plan[0].in_shape, dtype=plan[0].config.get("dtype", "float32"))]
    layers += [_keras_layer(keras, spec) for spec in plan]
    kmodel = keras.Sequential(layers, name=getattr(model, "name", None))
    for spec, klayer in zip(plan, kmodel.layers):
        if spec.weights:
            klayer.set_weights(spec.weights)
    return kmodel


_KERAS_ACTIVATION_NAMES = {"silu": "swish", "pycnn>leaky_relu": "leaky_relu"}
_PYCNN_INITIALIZERS = {"glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "zeros",
                       "ones"}


def _from_keras_activation(serialized, where):
    """pycnn's activation name for a Keras activation as its config holds it (a name, or a
    registered function's {'class_name': 'function', 'config': name}); 'leaky_relu@0.2' for
    Keras' own leaky_relu."""
    name = serialized.get("config") if isinstance(serialized, dict) else serialized
    name = "linear" if name is None else name
    if name == "leaky_relu" and serialized == "leaky_relu":
        return "leaky_relu@0.2"  # Keras' string means slope 0.2: becomes a LeakyReLU layer
    name = _KERAS_ACTIVATION_NAMES.get(name, name) if isinstance(name, str) else name
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ConversionError(f"cannot convert {where}: activation {name!r} has no counterpart")
    return name


def _snake(initializer, default):
    if isinstance(initializer, dict):
        initializer = _re.sub(r"(?<!^)(?=[A-Z])", "_", initializer.get("class_name", "")).lower()
    return initializer if initializer in _PYCNN_INITIALIZERS else default


def _from_keras_configs(keras, klayer):
    """pycnn (class name, config) pairs for one Keras layer (two when an activation splits off)."""
    kind, c = type(klayer).__name__, klayer.get_config()
    where = f"Keras layer '{klayer.name}' ({kind}) to pycnn"
    return pycnn_configs(kind, c, klayer.dtype, where)


def pycnn_configs(kind, c, dtype, where):
    """pycnn (class name, config) pairs for a Keras layer of class `kind` whose get_config()
    is `c` (a Keras object's, or a .keras file's: pycnn.keras_format reads files through
    this), or ConversionError naming `where`."""
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                "kernel_constraint", "bias_constraint", "beta_regularizer", "gamma_regularizer",
                "beta_constraint", "gamma_constraint", "depthwise_regularizer",
                "pointwise_regularizer", "depthwise_constraint", "pointwise_constraint"):
        if c.get(key) is not None:
            raise ConversionError(f"cannot convert {where}: pycnn has no {key}")
    if c.get("data_format", "channels_last") != "channels_last":
        raise ConversionError(f"cannot convert {where}: pycnn is channels_last only")
    if dtype not in ("float32", "float64"):
        raise ConversionError(f"cannot convert {where}: pycnn computes in float32 or float64, "
                              f"not {dtype}")
    out = {"name": c["name"], "trainable": bool(c.get("trainable", True)), "dtype": dtype}
    split = None
    if kind in ("Dense", "Conv2D", "Conv2DTranspose", "Activation", "Conv1D", "DepthwiseConv2D",
                "SeparableConv2D"):
        act = _from_keras_activation(c.get("activation"), where)
        if act == "leaky_relu@0.2":
            split, act = ("LeakyReLU", {"name": f"{c['name']}_leaky_relu", "alpha": 0.2}), "linear"
        out["activation"] = act
    if kind in ("Dense", "Conv2D", "Conv2DTranspose"):
        out.update(use_bias=bool(c["use_bias"]),
                   kernel_initializer=_snake(c.get("kernel_initializer"), "glorot_uniform"),
                   bias_initializer=_snake(c.get("bias_initializer"), "zeros"))
        if kind == "Dense":
            out["units"] = int(c["units"])
        else:
            if kind == "Conv2DTranspose" and _pair(c.get("dilation_rate", 1)) != (1, 1):
                raise ConversionError(f"cannot convert {where}: pycnn's Conv2DTranspose has no "
                                      "dilation_rate")
            out.update(filters=int(c["filters"]), kernel_size=_pair(c["kernel_size"]),
                       strides=_pair(c["strides"]), padding=c["padding"])
            if kind == "Conv2D":
                out.update(dilation_rate=_pair(c.get("dilation_rate", 1)),
                           groups=int(c.get("groups", 1)))
            if kind == "Conv2DTranspose":
                op = c.get("output_padding")
                out["output_padding"] = None if op is None else _pair(op)
    elif kind in ("Conv1D", "DepthwiseConv2D", "SeparableConv2D"):
        rank = 1 if kind == "Conv1D" else 2
        out.update({k: tuple(int(v) for v in (c[k] if isinstance(c[k], (list, tuple))
                                              else (c[k],) * rank))
                    for k in ("kernel_size", "strides", "dilation_rate")})
        out.update({k: int(c[k]) for k in ("filters", "groups", "depth_multiplier") if k in c})
        out.update(padding=c["padding"], use_bias=bool(c["use_bias"]),
                   **{key: _snake(c.get(key), "zeros" if key == "bias_initializer"
                                  else "glorot_uniform") for key in _CONV_INITIALIZERS[kind]})
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        out.update(pool_size=_pair(c["pool_size"]), strides=_pair(c["strides"] or c["pool_size"]),
                   padding=c["padding"])
    elif kind == "Dropout":
        noise = c.get("noise_shape")
        out.update(rate=float(c["rate"]), seed=c.get("seed"),
                   noise_shape=None if noise is None else tuple(noise))
    elif kind == "SpatialDropout2D":
        out.update(rate=float(c["rate"]), seed=c.get("seed"))
    elif kind == "Reshape":
        out["target_shape"] = tuple(c["target_shape"])
    elif kind == "UpSampling2D":
        if c.get("interpolation", "nearest") not in ("nearest", "bilinear"):
            raise ConversionError(f"cannot convert {where}: pycnn upsamples by 'nearest' or "
                                  f"'bilinear', not {c['interpolation']!r}")
        out.update(size=_pair(c["size"]), interpolation=c.get("interpolation", "nearest"))
    elif kind == "BatchNormalization":
        for key in ("renorm", "synchronized"):
            if c.get(key):
                raise ConversionError(f"cannot convert {where}: pycnn has no {key}=True")
        if not isinstance(c["axis"], int):
            raise ConversionError(f"cannot convert {where}: pycnn normalises along one axis, "
                                  f"not {c['axis']!r}")
        out.update(axis=c["axis"], momentum=float(c["momentum"]), epsilon=float(c["epsilon"]),
                   center=bool(c["center"]), scale=bool(c["scale"]),
                   **{key: _snake(c.get(key), default) for key, default in _BN_INITIALIZERS.items()})
    elif kind == "LayerNormalization":
        if c.get("rms_scaling"):
            raise ConversionError(f"cannot convert {where}: pycnn has no rms_scaling=True")
        axis = c["axis"]
        out.update(axis=list(axis) if isinstance(axis, (list, tuple)) else int(axis),
                   epsilon=float(c["epsilon"]), center=bool(c["center"]),
                   scale=bool(c["scale"]),
                   **{key: _snake(c.get(key), default) for key, default in _LN_INITIALIZERS.items()})
    elif kind in AUGMENTATION_KINDS:
        out.update({k: v for k, v in c.items()
                    if k not in ("name", "trainable", "dtype", "data_format")})
    elif kind == "Normalization":
        axis = c.get("axis")
        if not isinstance(axis, (list, tuple)) or len(axis) != 1:
            raise ConversionError(f"cannot convert {where}: pycnn normalises along one axis, "
                                  f"not {axis!r}")
        out.update(axis=int(axis[0]), invert=bool(c.get("invert")), mean=c.get("mean"),
                   variance=c.get("variance"))
    elif kind == "Rescaling":
        out.update(scale=c["scale"], offset=c.get("offset", 0.0))
    elif kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        out["keepdims"] = bool(c.get("keepdims", False))
    elif kind == "ZeroPadding2D":
        out["padding"] = borders(c["padding"])
    elif kind == "Cropping2D":
        out["cropping"] = borders(c["cropping"])
    elif kind == "LeakyReLU":
        out["alpha"] = float(c["negative_slope"])
    elif kind == "ELU":
        out["alpha"] = float(c.get("alpha", 1.0))
    elif kind == "Softmax":
        out["axis"] = c["axis"] if isinstance(c["axis"], int) else int(c["axis"][0])
    elif kind == "ReLU" and all(not c.get(k) for k in ("max_value", "negative_slope", "threshold")):
        kind, out["activation"] = "Activation", "relu"
    elif layer_hook(kind, "_from_keras_config") is not None:
        out.update(layer_hook(kind, "_from_keras_config")(c, where))
    elif kind not in ("Flatten", "Activation"):
        raise ConversionError(f"cannot convert {where}: pycnn has no {kind} counterpart")
    return [(kind, out)] + ([split] if split else [])


def from_keras(keras_model):
    """A pycnn Sequential with the layers, names, configuration and weights of a Keras Sequential
    (a functional pycnn Model from a functional keras.Model: graph.py).

    Raises ConversionError, before any pycnn layer is made, when a Keras layer has no pycnn
    counterpart (a GaussianNoise layer, a mish activation, a regularizer, ...).
    """
    keras = _import_keras()
    from .. import layers as pycnn_layers
    from ..models import Sequential
    if not isinstance(keras_model, keras.Sequential) and isinstance(keras_model, keras.Model) \
            and hasattr(keras_model, "_nodes_by_depth"):
        return from_keras_graph(keras, keras_model, lambda kl: _from_keras_configs(keras, kl),
                                from_keras)
    if not isinstance(keras_model, keras.Sequential):
        raise TypeError(f"from_keras takes a keras.Sequential or a functional keras.Model, got "
                        f"{type(keras_model).__name__}")
    if not keras_model.built:
        raise ValueError(f"Keras model '{keras_model.name}' is not built: give it keras.Input(...) "
                         "or call it on a batch first")
    klayers = [kl for kl in keras_model.layers if not isinstance(kl, keras.layers.InputLayer)]
    configs = [(kl, _from_keras_configs(keras, kl)) for kl in klayers]  # all checked first
    input_shape = tuple(keras_model.input_shape[1:])
    layers, weighted = [], []
    for klayer, pieces in configs:
        for kind, config in pieces:
            if not layers:
                config["input_shape"] = input_shape
            layers.append(getattr(pycnn_layers, kind).from_config(config))
        if klayer.get_weights():
            weighted.append((layers[-len(pieces)], klayer.get_weights()))
    model = Sequential(layers, name=keras_model.name)
    model.build((None,) + input_shape)
    for layer, weights in weighted:
        layer.set_weights(weights)
    return model
