"""Graduation: a pycnn model moves to Keras 3, PyTorch and ONNX — and trained weights come back.

pycnn grows no distributed engine of its own; it hands the model, weights and all, to the
engines that already scale, and takes the trained weights back for inspection in the notebook:

    to_keras(model)                  -> keras.Sequential: same layers, names, configs, weights
    from_keras(keras_model)          -> pycnn Sequential
    to_torch(model)                  -> torch.nn.Sequential taking the same NHWC input
    load_torch_state(model, module)  copies a torch module's (or state_dict's) weights back
    to_onnx(model, path, opset=17)   an ONNX file: named input/output, dynamic batch dimension

Layouts. pycnn keeps Keras' (channels_last; Dense kernel (in, units); Conv2D kernel
(kh, kw, c_in, filters)), so Keras is a plain copy. Torch and ONNX convolve in NCHW with kernels
(filters, c_in, kh, kw): the converted models transpose the kernels once and permute the
activations around each convolution and pooling, so Flatten still sees channels-last order and
the first Dense after it needs no reordering.

'same' padding. Keras (like TensorFlow) pads ⌊p/2⌋ at the top/left and the odd extra row/column
at the bottom/right, p = max((⌈n/s⌉ − 1)·s + k − n, 0). torch's symmetric `padding=` cannot say
that, so torch and ONNX get explicit asymmetric pads; 'same' pooling pads with −∞ (max) or
leaves the padding out of the average, as Keras does.

`import pycnn` never imports keras, torch or onnx: each converter imports its library when called
and, when it is missing, raises ImportError naming the pip command. A layer without a counterpart
in the target (Maxout in Keras, a custom activation, a subclassed layer) raises ConversionError
naming the layer and the target before anything is built or written.
"""
import importlib as _importlib
import os as _os
import re as _re
import tempfile as _tempfile
from collections import OrderedDict as _OrderedDict

import numpy as _np

__all__ = ["ConversionError", "to_keras", "from_keras", "to_torch", "load_torch_state", "to_onnx"]

_PIP = "pip install pycnn[interop]"


class ConversionError(ValueError):
    """A layer, or its activation, has no counterpart in the target framework."""


# ------------------------------------------------------------------ optional imports
def _require(name, purpose, pip=_PIP):
    """Import an optional library, or ImportError naming the pip command that installs it."""
    try:
        return _importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ImportError(f"{purpose} needs {name}, which is not installed: {pip}") from exc


def _import_keras():
    try:
        keras = _require("keras", "this converter")
    except ModuleNotFoundError as exc:  # keras is there, the backend it was told to use is not
        raise ImportError(
            f"Keras is installed but its backend cannot be imported ({exc}); choose one that is "
            "installed, e.g. KERAS_BACKEND=torch with `pip install torch==2.13.0`, before "
            "keras is first imported") from exc
    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError(f"this converter needs Keras 3, found {keras.__version__}: {_PIP}")
    return keras


def _import_torch():
    _require("torch", "this converter", f"{_PIP} torch==2.13.0")
    return _importlib.import_module("pycnn._torch_layers")


# ------------------------------------------------------------------ the plan: layers, checked
# pycnn layer class -> the kinds each target converts.
_COMMON_KINDS = ("Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Dropout", "Flatten",
                 "Reshape", "Activation", "LeakyReLU", "ELU", "Softmax", "UpSampling2D")
_TARGET_KINDS = {
    "Keras": frozenset(_COMMON_KINDS),
    "PyTorch": frozenset(_COMMON_KINDS + ("Maxout",)),
    "ONNX": frozenset(_COMMON_KINDS + ("Maxout",)),
}
_WHY_NOT = {("Maxout", "Keras"): "Keras has no Maxout layer"}
# Activation names every target computes; the number is the default parameter
# (pycnn's leaky_relu is the lecture's max(0.1·x, x); softmax's is the axis).
_ACTIVATIONS = {"linear": None, "relu": None, "sigmoid": None, "tanh": None, "softmax": -1,
                "log_softmax": -1, "leaky_relu": 0.1, "elu": 1.0, "swish": None}


class _Spec:
    """One layer as the converters see it: kind, config, weights, shapes without the batch."""

    __slots__ = ("layer", "kind", "name", "config", "activation", "weights", "in_shape",
                 "out_shape")

    def __init__(self, **fields):
        for key, value in fields.items():
            setattr(self, key, value)


def _pair(value):
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * 2


def _activation(kind, config, where):
    """(name, parameter) of the activation a layer applies, or ConversionError."""
    if kind == "LeakyReLU":
        return "leaky_relu", float(config["alpha"])
    if kind == "ELU":
        return "elu", float(config["alpha"])
    if kind == "Softmax":
        return "softmax", int(config.get("axis", -1))
    if kind not in ("Dense", "Conv2D", "Activation"):
        return None
    name = config.get("activation")
    name = "linear" if name is None else name
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ConversionError(f"cannot convert {where}: activation {name!r} has no counterpart "
                              f"(convertible: {', '.join(_ACTIVATIONS)})")
    return name, _ACTIVATIONS[name]


def _kind(layer, target):
    """The pycnn class name of `layer` if `target` converts it, else ConversionError."""
    from . import layers as pycnn_layers
    cls = type(layer)
    name = cls.__name__
    where = f"layer '{getattr(layer, 'name', '?')}' ({name}) to {target}"
    if getattr(pycnn_layers, name, None) is not cls:
        raise ConversionError(f"cannot convert {where}: only pycnn's own layer classes convert "
                              "(a subclass may compute something else)")
    if name not in _TARGET_KINDS[target]:
        why = _WHY_NOT.get((name, target), f"{target} has no {name} counterpart")
        raise ConversionError(f"cannot convert {where}: {why}")
    return name


def _input_shape(model, given):
    """The model's input shape without the batch dimension."""
    if given is not None:
        return tuple(int(d) for d in given)
    shape = getattr(model, "input_shape", None)
    if shape is None and model.layers:
        shape = getattr(model.layers[0], "input_shape", None)
    if shape is None:
        raise ValueError(f"the input shape of model '{getattr(model, 'name', '?')}' is unknown: "
                         "give the first layer input_shape=…, build or call the model first, or "
                         "pass input_shape=(…) to the converter")
    shape = tuple(shape)
    if shape and shape[0] is None:  # a Keras-style shape with the batch dimension
        shape = shape[1:]
    return tuple(int(d) for d in shape)


def _plan(model, target, input_shape=None):
    """Check every layer against `target` and collect what the builders need.

    Runs completely before anything is built or written, so an unconvertible layer
    leaves no half-made model or file behind.
    """
    layers = list(getattr(model, "layers", ()))
    if not layers:
        raise ValueError(f"cannot convert model '{getattr(model, 'name', '?')}' to {target}: "
                         "it has no layers")
    shape = _input_shape(model, input_shape)
    plan = []
    for layer in layers:
        kind = _kind(layer, target)
        where = f"layer '{layer.name}' ({kind}) to {target}"
        weights = [_np.asarray(w) for w in layer.get_weights()]
        if kind in ("Dense", "Conv2D", "Maxout") and not weights:
            raise ValueError(f"cannot convert {where}: it has no weights yet; build the model "
                             "(call it on a batch, or give the first layer input_shape=…)")
        config = layer.get_config()
        out_shape = tuple(layer.compute_output_shape((None,) + shape))[1:]
        plan.append(_Spec(layer=layer, kind=kind, name=layer.name, config=config,
                          activation=_activation(kind, config, where), weights=weights,
                          in_shape=shape, out_shape=tuple(int(d) for d in out_shape)))
        shape = plan[-1].out_shape
    return plan


def same_padding(n, kernel, stride):
    """(before, after) padding of 'same' along one axis, Keras' way: the odd one at the end.

    out = ⌈n/s⌉,  p = max((out − 1)·s + k − n, 0),  before = ⌊p/2⌋,  after = p − before.
    """
    total = max((-(-n // stride) - 1) * stride + kernel - n, 0)
    return total // 2, total - total // 2


def to_nchw_kernel(kind, kernel):
    """A Keras-layout kernel in torch's layout (Dense (units, in); Conv2D (filters, c_in, kh, kw))."""
    return kernel.T if kind != "Conv2D" else kernel.transpose(3, 2, 0, 1)


def _from_nchw_kernel(kind, weight):
    return weight.T if kind != "Conv2D" else weight.transpose(2, 3, 1, 0)


# ------------------------------------------------------------------ Keras
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


def _keras_layer(keras, spec):
    c, kl = spec.config, keras.layers
    common = dict(name=spec.name, trainable=bool(c.get("trainable", True)),
                  dtype=c.get("dtype", "float32"))
    if spec.kind in ("Dense", "Conv2D"):
        common.update(activation=_keras_activation(keras, spec.activation),
                      use_bias=bool(c.get("use_bias", True)),
                      kernel_initializer=_keras_initializer(
                          keras, c.get("kernel_initializer", "glorot_uniform"), "glorot_uniform"),
                      bias_initializer=_keras_initializer(
                          keras, c.get("bias_initializer", "zeros"), "zeros"))
        if spec.kind == "Dense":
            return kl.Dense(int(c["units"]), **common)
        return kl.Conv2D(int(c["filters"]), _pair(c["kernel_size"]), _pair(c.get("strides", 1)),
                         padding=c.get("padding", "valid"), **common)
    if spec.kind in ("MaxPooling2D", "AveragePooling2D"):
        strides = c.get("strides")
        return getattr(kl, spec.kind)(_pair(c.get("pool_size", 2)),
                                      None if strides is None else _pair(strides),
                                      padding=c.get("padding", "valid"), **common)
    if spec.kind == "Dropout":
        return kl.Dropout(float(c["rate"]), seed=c.get("seed"), **common)
    if spec.kind == "Flatten":
        return kl.Flatten(**common)
    if spec.kind == "Reshape":
        return kl.Reshape(tuple(c["target_shape"]), **common)
    if spec.kind == "UpSampling2D":
        return kl.UpSampling2D(_pair(c.get("size", 2)), interpolation="nearest", **common)
    if spec.kind == "LeakyReLU":
        return kl.LeakyReLU(negative_slope=spec.activation[1], **common)
    if spec.kind == "ELU":
        return kl.ELU(alpha=spec.activation[1], **common)
    if spec.kind == "Softmax":
        return kl.Softmax(axis=spec.activation[1], **common)
    return kl.Activation(_keras_activation(keras, spec.activation), **common)  # Activation


def to_keras(model, input_shape=None):
    """A `keras.Sequential` with the same layers, names, configuration and weights (Keras 3).

    Args:
        model: a pycnn Sequential whose weights exist (built).
        input_shape: the input shape without the batch dimension, when the model does not know it.
    Raises:
        ConversionError: a layer has no Keras counterpart (e.g. Maxout); raised before any Keras
            layer is made.
    """
    keras = _import_keras()
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


def _from_keras_activation(keras, fn, where):
    """pycnn's activation name for a Keras activation function; 'leaky_relu@0.2' for Keras' own."""
    name = keras.activations.serialize(fn)
    name = name.get("config") if isinstance(name, dict) else name
    name = _KERAS_ACTIVATION_NAMES.get(name, name)
    if name == "leaky_relu" and keras.activations.serialize(fn) == "leaky_relu":
        return "leaky_relu@0.2"  # Keras' string means slope 0.2: becomes a LeakyReLU layer
    if name not in _ACTIVATIONS:
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
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                "kernel_constraint", "bias_constraint"):
        if c.get(key) is not None:
            raise ConversionError(f"cannot convert {where}: pycnn has no {key}")
    if c.get("data_format", "channels_last") != "channels_last":
        raise ConversionError(f"cannot convert {where}: pycnn is channels_last only")
    if klayer.dtype not in ("float32", "float64"):
        raise ConversionError(f"cannot convert {where}: pycnn computes in float32 or float64, "
                              f"not {klayer.dtype}")
    out = {"name": c["name"], "trainable": bool(c.get("trainable", True)), "dtype": klayer.dtype}
    split = None
    if kind in ("Dense", "Conv2D", "Activation"):
        act = _from_keras_activation(keras, klayer.activation, where)
        if act == "leaky_relu@0.2":
            split, act = ("LeakyReLU", {"name": f"{c['name']}_leaky_relu", "alpha": 0.2}), "linear"
        out["activation"] = act
    if kind in ("Dense", "Conv2D"):
        out.update(use_bias=bool(c["use_bias"]),
                   kernel_initializer=_snake(c.get("kernel_initializer"), "glorot_uniform"),
                   bias_initializer=_snake(c.get("bias_initializer"), "zeros"))
        if kind == "Dense":
            out["units"] = int(c["units"])
        else:
            if _pair(c.get("dilation_rate", 1)) != (1, 1) or c.get("groups", 1) != 1:
                raise ConversionError(f"cannot convert {where}: pycnn has no dilated or grouped "
                                      "convolution")
            out.update(filters=int(c["filters"]), kernel_size=_pair(c["kernel_size"]),
                       strides=_pair(c["strides"]), padding=c["padding"])
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        out.update(pool_size=_pair(c["pool_size"]), strides=_pair(c["strides"] or c["pool_size"]),
                   padding=c["padding"])
    elif kind == "Dropout":
        if c.get("noise_shape") is not None:
            raise ConversionError(f"cannot convert {where}: pycnn's Dropout has no noise_shape")
        out.update(rate=float(c["rate"]), seed=c.get("seed"))
    elif kind == "Reshape":
        out["target_shape"] = tuple(c["target_shape"])
    elif kind == "UpSampling2D":
        if c.get("interpolation", "nearest") != "nearest":
            raise ConversionError(f"cannot convert {where}: pycnn upsamples by nearest neighbour")
        out["size"] = _pair(c["size"])
    elif kind == "LeakyReLU":
        out["alpha"] = float(c["negative_slope"])
    elif kind == "ELU":
        out["alpha"] = float(c.get("alpha", 1.0))
    elif kind == "Softmax":
        out["axis"] = c["axis"] if isinstance(c["axis"], int) else int(c["axis"][0])
    elif kind == "ReLU" and all(not c.get(k) for k in ("max_value", "negative_slope", "threshold")):
        kind, out["activation"] = "Activation", "relu"
    elif kind not in ("Flatten", "Activation"):
        raise ConversionError(f"cannot convert {where}: pycnn has no {kind} counterpart")
    return [(kind, out)] + ([split] if split else [])


def from_keras(keras_model):
    """A pycnn Sequential with the layers, names, configuration and weights of a Keras Sequential.

    Raises ConversionError, before any pycnn layer is made, when a Keras layer has no pycnn
    counterpart (a dilated convolution, a GELU activation, a regularizer, ...).
    """
    keras = _import_keras()
    from . import layers as pycnn_layers
    from .models import Sequential
    if not isinstance(keras_model, keras.Sequential):
        raise TypeError(f"from_keras takes a keras.Sequential, got {type(keras_model).__name__}")
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


# ------------------------------------------------------------------ PyTorch
def to_torch(model, input_shape=None):
    """A `torch.nn.Sequential` computing what `model` computes, on the same NHWC input.

    Its children carry the pycnn layer names (`dense_1.weight`, `conv2d_1.bias`, ...), kernels in
    torch's layout. Convolutions and pools permute to NCHW views and back inside, so Flatten keeps
    channels-last order; 'same' padding is explicit and asymmetric like Keras'. Dropout drops only
    in `module.train()` mode. Trained weights go back with `load_torch_state(model, module)`.
    """
    torch_layers = _import_torch()
    plan = _plan(model, "PyTorch", input_shape)
    return torch_layers.Sequential(_OrderedDict((s.name, torch_layers.build(s)) for s in plan),
                                   input_shape=plan[0].in_shape)


def load_torch_state(model, module):
    """Copy weights from a torch module made by `to_torch` (or its DDP wrapper, or a state_dict)
    back into the pycnn `model`, in place; returns `model`.

    Every tensor is found and shape-checked before the first one is copied, so a mismatch leaves
    the model unchanged.
    """
    _import_torch()
    state = module.state_dict() if hasattr(module, "state_dict") else dict(module)
    state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}
    updates = []
    for spec in _plan(model, "PyTorch"):
        arrays = []
        for suffix, current in zip(("weight", "bias"), spec.weights):
            key = f"{spec.name}.{suffix}"
            if key not in state:
                raise ValueError(f"load_torch_state: no tensor '{key}' for layer '{spec.name}' "
                                 f"({spec.kind}); the module has {sorted(state)}")
            value = state[key]
            value = _np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
            value = _from_nchw_kernel(spec.kind, value) if suffix == "weight" else value
            if value.shape != current.shape:
                raise ValueError(f"load_torch_state: '{key}' has shape {value.shape} in pycnn's "
                                 f"layout but layer '{spec.name}' expects {current.shape}")
            arrays.append(_np.ascontiguousarray(value, dtype=current.dtype))
        if arrays:
            updates.append((spec.layer, arrays))
    for layer, arrays in updates:
        layer.set_weights(arrays)
    return model


# ------------------------------------------------------------------ ONNX
class _OnnxGraph:
    """Nodes and initializers of one graph; tracks whether the running tensor is NHWC or NCHW
    so that consecutive convolutions and pools share one pair of transposes."""

    def __init__(self, helper, numpy_helper, x, shape):
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes, self.initializers = [], []
        self.x, self.layout, self.rank = x, "NHWC", len(shape) + 1

    def node(self, op, inputs, name, **attrs):
        """Append `op(inputs)`; its output becomes the running tensor and is returned."""
        out = f"{name}/{op}"
        self.nodes.append(self.helper.make_node(op, list(inputs), [out], name=out, **attrs))
        self.x = out
        return out

    def const(self, name, array):
        self.initializers.append(self.numpy_helper.from_array(_np.ascontiguousarray(array), name))
        return name

    def to(self, layout, name):
        """Transpose the running 4-D tensor to `layout` if it is not there already."""
        if self.rank == 4 and self.layout != layout:
            self.node("Transpose", [self.x], f"{name}/to_{layout}",
                      perm=[0, 3, 1, 2] if layout == "NCHW" else [0, 2, 3, 1])
            self.layout = layout
        return self.x


def _onnx_activation(g, activation, name):
    act, param = activation
    if act in ("softmax", "log_softmax"):
        g.to("NHWC", name)
        g.node("Softmax" if act == "softmax" else "LogSoftmax", [g.x], name, axis=param)
    elif act == "leaky_relu":
        g.node("LeakyRelu", [g.x], name, alpha=param)
    elif act == "elu":
        g.node("Elu", [g.x], name, alpha=param)
    elif act == "swish":  # x·σ(x); opset 17 has no Swish operator
        x = g.x
        g.node("Mul", [x, g.node("Sigmoid", [x], name)], name)
    elif act != "linear":
        g.node({"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}[act], [g.x], name)


def _onnx_pads(spec, kernel, strides):
    """ONNX pads [top, left, bottom, right] for the layer's padding at its input size."""
    if spec.config.get("padding", "valid") != "same":
        return [0, 0, 0, 0]
    (top, bottom), (left, right) = (same_padding(n, k, s) for n, k, s in
                                    zip(spec.in_shape[:2], kernel, strides))
    return [top, left, bottom, right]


def _onnx_layer(g, spec, opset):
    c, name, f32 = spec.config, spec.name, _np.float32
    w = [_np.asarray(a, dtype=f32) for a in spec.weights]
    if spec.kind in ("Dense", "Maxout"):
        g.to("NHWC", name)
        kernel = w[0].reshape(w[0].shape[0], -1)  # Maxout: (in, units·pieces), grouped per unit
        g.node("MatMul", [g.x, g.const(f"{name}/kernel", kernel)], name)
        if len(w) > 1:
            g.node("Add", [g.x, g.const(f"{name}/bias", w[1].reshape(-1))], name)
        if spec.kind == "Maxout":
            units, pieces = int(c["units"]), int(c["pieces"])
            shape = g.const(f"{name}/pieces_shape", _np.array([0, units, pieces], _np.int64))
            g.node("Reshape", [g.x, shape], name)
            if opset >= 18:  # axes moved from an attribute to an input in opset 18
                g.node("ReduceMax", [g.x, g.const(f"{name}/axes", _np.array([2], _np.int64))],
                       name, keepdims=0)
            else:
                g.node("ReduceMax", [g.x], name, axes=[2], keepdims=0)
    elif spec.kind == "Conv2D":
        kernel_size, strides = _pair(c["kernel_size"]), _pair(c.get("strides", 1))
        inputs = [g.to("NCHW", name), g.const(f"{name}/kernel", to_nchw_kernel("Conv2D", w[0]))]
        if len(w) > 1:
            inputs.append(g.const(f"{name}/bias", w[1]))
        g.node("Conv", inputs, name, kernel_shape=list(kernel_size), strides=list(strides),
               pads=_onnx_pads(spec, kernel_size, strides))
    elif spec.kind in ("MaxPooling2D", "AveragePooling2D"):
        pool = _pair(c.get("pool_size", 2))
        strides = pool if c.get("strides") is None else _pair(c["strides"])
        extra = {} if spec.kind == "MaxPooling2D" else {"count_include_pad": 0}
        g.node("MaxPool" if spec.kind == "MaxPooling2D" else "AveragePool", [g.to("NCHW", name)],
               name, kernel_shape=list(pool), strides=list(strides),
               pads=_onnx_pads(spec, pool, strides), **extra)
    elif spec.kind == "Dropout":
        g.node("Identity", [g.x], name)  # dropout is the identity at inference
    elif spec.kind in ("Flatten", "Reshape"):
        target = [-1] if spec.kind == "Flatten" else list(c["target_shape"])
        shape = g.const(f"{name}/shape", _np.array([0] + target, _np.int64))  # 0: keep the batch
        g.node("Reshape", [g.to("NHWC", name), shape], name)
    elif spec.kind == "UpSampling2D":
        sh, sw = _pair(c.get("size", 2))
        scales = [1, 1, sh, sw] if g.layout == "NCHW" else [1, sh, sw, 1]
        # asymmetric + floor: output pixel i reads input pixel ⌊i/s⌋, a plain repetition
        g.node("Resize", [g.x, "", g.const(f"{name}/scales", _np.array(scales, f32))], name,
               mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    if spec.activation is not None:
        _onnx_activation(g, spec.activation, name)
    g.rank = len(spec.out_shape) + 1


def to_onnx(model, path, opset=17, input_name="input", output_name="output", input_shape=None):
    """Write `model` as an ONNX file (float32) built with `onnx.helper`; returns the ModelProto.

    The batch dimension is dynamic ('batch'); the input is NHWC like pycnn's. The file is checked
    with `onnx.checker` and written to a temporary file that is then renamed, so a failed
    conversion (e.g. an unconvertible layer, raised before anything is built) writes nothing.
    """
    onnx = _require("onnx", "to_onnx")
    from onnx import TensorProto, helper, numpy_helper
    if not 13 <= int(opset) <= onnx.defs.onnx_opset_version():
        raise ValueError(f"to_onnx: opset {opset} is outside the supported range 13 to "
                         f"{onnx.defs.onnx_opset_version()}")
    plan = _plan(model, "ONNX", input_shape)
    g = _OnnxGraph(helper, numpy_helper, input_name, plan[0].in_shape)
    for spec in plan:
        _onnx_layer(g, spec, int(opset))
    g.to("NHWC", "output")
    g.nodes.append(helper.make_node("Identity", [g.x], [output_name], name=output_name))
    graph = helper.make_graph(
        g.nodes, getattr(model, "name", None) or "pycnn_model",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT,
                                       ["batch", *plan[0].in_shape])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT,
                                       ["batch", *plan[-1].out_shape])],
        initializer=g.initializers)
    from . import __version__
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", int(opset))],
                              producer_name="pycnn", producer_version=__version__)
    onnx.checker.check_model(proto, full_check=True)
    _write_atomically(_os.fspath(path), proto.SerializeToString())
    return proto


def _write_atomically(path, data):
    directory = _os.path.dirname(_os.path.abspath(path))
    fd, tmp = _tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=directory)
    try:
        _os.chmod(tmp, 0o644)  # mkstemp makes 0600; a model file is for sharing
        with _os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            _os.fsync(f.fileno())
        _os.replace(tmp, path)
    except BaseException:
        _os.unlink(tmp)
        raise
