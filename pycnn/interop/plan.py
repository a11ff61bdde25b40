"""The neutral layer plan every converter builds from: each layer of a pycnn model checked
against the target (kind, activation, weights present) and described by a ``_Spec``, before
anything is built or written; the layout helpers the converters share; and importing an
optional library with an ImportError that names the pip command.
"""
import importlib as _importlib

import numpy as _np

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


# ------------------------------------------------------------------ the plan: layers, checked
# The augmentation layers act only in training: Keras has them all; an ONNX graph is an
# inference graph, where they are the identity; torch.nn has no counterparts.
AUGMENTATION_KINDS = ("RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom",
                      "RandomCrop", "RandomContrast")
# Which layers a target converts is its converter's own registry: KINDS (the layer classes
# its code builds) and REFUSED (kind -> why not, where the reason is worth more than "has
# no counterpart"), beside that code; a layer class carrying the target's method (_HOOKS)
# converts too.
_CONVERTERS = {"Keras": "keras", "PyTorch": "torch", "ONNX": "onnx"}


def _registry(target):
    """The converter module of `target`, holding KINDS and REFUSED (none imports its
    engine at import)."""
    return _importlib.import_module(f"{__package__}.{_CONVERTERS[target]}")


def target_kinds(target):
    """The pycnn layer classes (names) `target`'s converter builds itself."""
    return _registry(target).KINDS


# Activation names every target computes; the number is the default parameter
# (pycnn's leaky_relu is the lecture's max(0.1·x, x); softmax's is the axis).
_ACTIVATIONS = {"linear": None, "relu": None, "sigmoid": None, "tanh": None, "softmax": -1,
                "log_softmax": -1, "leaky_relu": 0.1, "elu": 1.0, "swish": None,
                "silu": None, "softsign": None, "hard_sigmoid": None, "relu6": None, "selu": None,
                "gelu": None, "softplus": None, "exponential": None}


# A layer class may carry its conversions itself instead of a branch in every converter
# (pycnn/layers/prelu.py does): a converter asks the class when the kind is not in its own
# KINDS. The methods, static, each taking the layer's config or its _Spec:
#   _keras_config(config) -> the Keras layer's arguments (Keras names), for to_keras and
#                            the .keras/.h5 writer, which asks every layer for it; the Keras
#                            class has the pycnn class's name
#   _from_keras_config(keras_config, where) -> the pycnn arguments, for from_keras and the
#                            file reader (ConversionError naming `where` if it cannot)
#   _torch_module(spec) -> a torch.nn.Module on channels-last input whose parameters are
#                            named as torch_state_keys says (weight, bias), for to_torch
#   _onnx_nodes(g, spec, weights, opset) -> appends the layer's nodes to the _OnnxGraph g
# A target converts the class when it has that target's method.
_HOOKS = {"Keras": "_keras_config", "PyTorch": "_torch_module", "ONNX": "_onnx_nodes"}


def layer_hook(kind, method):
    """The conversion `method` the pycnn layer class named `kind` carries, or None; `kind`
    is looked up in the table pycnn.layers.__all__, never as any name of the module."""
    from .. import layers as pycnn_layers
    if not isinstance(kind, str) or kind not in pycnn_layers.__all__:
        return None
    return getattr(getattr(pycnn_layers, kind), method, None)


def hooked_kinds(method):
    """The names of the pycnn layer classes that carry the conversion `method`."""
    from .. import layers as pycnn_layers
    return frozenset(k for k in pycnn_layers.__all__ if layer_hook(k, method) is not None)


class _Spec:
    """One layer as the converters see it: kind, config, weights, shapes without the batch."""

    __slots__ = ("layer", "kind", "name", "config", "activation", "weights", "in_shape",
                 "out_shape")

    def __init__(self, **fields):
        for key, value in fields.items():
            setattr(self, key, value)


def borders(value):
    """((top, bottom), (left, right)) from a border layer's padding or cropping (an int, or
    per axis an int or a (before, after) pair)."""
    if isinstance(value, int):
        return (value, value), (value, value)
    return tuple((int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))
                 for v in value)


def _pair(value):
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * 2


def _activation(layer, config, where):
    """(name, parameter) of the activation a layer applies (its class's _activation_of:
    None, or (name, parameter or None for the default)), or ConversionError."""
    of = getattr(type(layer), "_activation_of", None)
    found = None if of is None else of(config)
    if found is None:
        return None
    name, parameter = found
    name = "linear" if name is None else name
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ConversionError(f"cannot convert {where}: activation {name!r} has no counterpart "
                              f"(convertible: {', '.join(_ACTIVATIONS)})")
    return name, _ACTIVATIONS[name] if parameter is None else parameter


def _kind(layer, target):
    """The pycnn class name of `layer` if `target` converts it, else ConversionError."""
    from .. import layers as pycnn_layers
    cls = type(layer)
    name = cls.__name__
    where = f"layer '{getattr(layer, 'name', '?')}' ({name}) to {target}"
    if getattr(pycnn_layers, name, None) is not cls:
        raise ConversionError(f"cannot convert {where}: only pycnn's own layer classes convert "
                              "(a subclass may compute something else)")
    registry = _registry(target)
    if name not in registry.KINDS and layer_hook(name, _HOOKS[target]) is None:
        why = registry.REFUSED.get(name, f"{target} has no {name} counterpart")
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
        if getattr(type(layer), "_needs_build", False) and not layer.built:
            raise ValueError(f"cannot convert {where}: it has no weights yet; build the model "
                             "(call it on a batch, or give the first layer input_shape=…)")
        config = layer.get_config()
        out_shape = tuple(layer.compute_output_shape((None,) + shape))[1:]
        plan.append(_Spec(layer=layer, kind=kind, name=layer.name, config=config,
                          activation=_activation(layer, config, where), weights=weights,
                          in_shape=shape, out_shape=tuple(int(d) for d in out_shape)))
        shape = plan[-1].out_shape
    return plan


def same_padding(n, kernel, stride):
    """(before, after) padding of 'same' along one axis, Keras' way: the odd one at the end.

    out = ⌈n/s⌉,  p = max((out − 1)·s + k − n, 0),  before = ⌊p/2⌋,  after = p − before.
    """
    total = max((-(-n // stride) - 1) * stride + kernel - n, 0)
    return total // 2, total - total // 2


# a kernel torch lays out anew (SeparableConv2D: both of its kernels)
KERNEL_KINDS = ("Dense", "Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D",
                "SeparableConv2D", "Maxout")


def to_nchw_kernel(kind, kernel):
    """A Keras-layout kernel in torch's layout (Dense (units, in); Conv2D (filters, c_in/g, kh,
    kw); Conv2DTranspose (c_in, filters, kh, kw) from Keras' (kh, kw, filters, c_in): the same
    permutation, and ONNX's ConvTranspose wants it too; Conv1D (filters, c_in/g, k) from
    (k, c_in/g, filters); DepthwiseConv2D (C·M, 1, kh, kw) from (kh, kw, C, M): torch's and
    ONNX's groups=C kernel, output channel c·M + m as in Keras). `kind` names the kernel
    (kernel_kind: a SeparableConv2D has a depthwise and a Conv2D one)."""
    if kind == "DepthwiseConv2D":
        kh, kw, c, m = kernel.shape
        return kernel.reshape(kh, kw, 1, c * m).transpose(3, 2, 0, 1)
    if kind == "Conv1D":
        return kernel.transpose(2, 1, 0)
    return kernel.T if kind not in ("Conv2D", "Conv2DTranspose") else kernel.transpose(3, 2, 0, 1)


def kernel_kind(kind, key):
    """The layout of the kernel stored under torch state key `key` of a layer of `kind`."""
    if kind == "SeparableConv2D":
        return "DepthwiseConv2D" if key == "depthwise_weight" else "Conv2D"
    return kind


def transpose_window(n, kernel, stride, padding, output_padding):
    """Conv2DTranspose along one axis, Keras 3's rule: (out, start) — the output length and
    where it starts in the full (n − 1)·s + k output a stride-s transposed convolution
    without padding gives (the output may run past its end: zeros there)."""
    if padding == "valid":
        op = max(kernel, stride) - kernel if output_padding is None else output_padding
        return (n - 1) * stride + kernel + op, 0
    total = stride + kernel - 2 if output_padding is None else kernel + kernel % 2 - 2 + output_padding
    out = n * stride if output_padding is None else (n - 1) * stride + kernel % 2 + output_padding
    return out, kernel - 1 - min(total // 2 + total % 2, kernel - 1)


def torch_state_keys(spec):
    """The torch state-dict names of spec.weights, in order (BatchNormalization: weight = γ,
    bias = β, running_mean, running_var, each present as in the pycnn layer)."""
    if spec.kind == "SeparableConv2D":
        return ["depthwise_weight", "pointwise_weight", "bias"][:len(spec.weights)]
    if spec.kind in ("BatchNormalization", "LayerNormalization"):
        c = spec.config
        return ((["weight"] if c.get("scale", True) else []) +
                (["bias"] if c.get("center", True) else []) +
                (["running_mean", "running_var"] if spec.kind == "BatchNormalization" else []))
    return ["weight", "bias"][:len(spec.weights)]


def normalization_constants(spec):
    """Normalization's (axis counted with the batch, mean, sd = max(√variance, 1e-7)), the
    statistics per feature as float32."""
    c, rank = spec.config, len(spec.in_shape) + 1
    axis = int(c["axis"][0] if isinstance(c["axis"], (list, tuple)) else c["axis"]) % rank
    features = spec.in_shape[axis - 1]
    if c.get("mean") is not None:
        mean, var = (_np.broadcast_to(_np.asarray(c[k], _np.float64), (features,))
                     for k in ("mean", "variance"))
    else:
        mean, var = (_np.asarray(w, _np.float64) for w in spec.weights[:2])
    return axis, mean.astype(_np.float32), _np.maximum(_np.sqrt(var), 1e-7).astype(_np.float32)


def normalised_axes(spec):
    """LayerNormalization's axes, counted with the batch axis and sorted."""
    axis, rank = spec.config["axis"], len(spec.in_shape) + 1
    return sorted(int(a) % rank for a in (axis if isinstance(axis, (list, tuple)) else [axis]))


def _from_nchw_kernel(kind, weight, shape):
    """The inverse of to_nchw_kernel, for a pycnn kernel of `shape`."""
    if kind == "DepthwiseConv2D":
        weight = weight.transpose(2, 3, 1, 0)
        return weight.reshape(shape) if weight.size == _np.prod(shape) else weight
    if kind == "Conv1D":
        return weight.transpose(2, 1, 0)
    return weight.T if kind not in ("Conv2D", "Conv2DTranspose") else weight.transpose(2, 3, 1, 0)
