"""ONNX: ``to_onnx`` writes the plan as an ONNX graph built with ``onnx.helper``."""
import os as _os
import tempfile as _tempfile

import numpy as _np

from .graph import is_functional, to_onnx_graph
from .plan import (AUGMENTATION_KINDS, ConversionError, _pair, _plan, _require, borders,
                   layer_hook, normalised_axes, normalization_constants, same_padding, to_nchw_kernel,
                   transpose_window)


# The registry pycnn.interop.plan reads: the pycnn layer classes _onnx_layer writes (a
# layer class carrying _onnx_nodes converts too).
KINDS = frozenset((
    "Dense", "Conv1D", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "MaxPooling2D", "AveragePooling2D", "Dropout", "SpatialDropout2D", "Flatten", "Reshape",
    "Activation", "LeakyReLU", "ELU", "Softmax", "UpSampling2D", "BatchNormalization",
    "LayerNormalization", "Normalization", "Rescaling", "GlobalAveragePooling2D",
    "GlobalMaxPooling2D", "ZeroPadding2D", "Cropping2D", "Maxout") + AUGMENTATION_KINDS)
REFUSED = {}


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
    elif act in ("swish", "silu"):  # x·σ(x); opset 17 has no Swish operator
        x = g.x
        g.node("Mul", [x, g.node("Sigmoid", [x], name)], name)
    elif act == "hard_sigmoid":     # ONNX's is clip(αx + β, 0, 1): Keras 3's with α = 1/6
        g.node("HardSigmoid", [g.x], name, alpha=1.0 / 6.0, beta=0.5)
    elif act == "relu6":
        x = g.x
        g.node("Clip", [x, g.const(f"{name}/zero", _np.float32(0.0)),
                        g.const(f"{name}/six", _np.float32(6.0))], name)
    elif act == "gelu":     # x·Φ(x) = x · (1 + erf(x/√2)) / 2; ONNX's Gelu needs opset 20
        x = g.x
        erf = g.node("Erf", [g.node("Mul", [x, g.const(f"{name}/rsqrt2",
                                                     _np.float32(_np.sqrt(0.5)))], name)], name)
        one_plus = g.node("Add", [erf, g.const(f"{name}/one", _np.float32(1.0))], f"{name}/1+erf")
        half_x = g.node("Mul", [x, g.const(f"{name}/half", _np.float32(0.5))], f"{name}/x/2")
        g.node("Mul", [half_x, one_plus], f"{name}/gelu")
    elif act != "linear":
        g.node({"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softsign": "Softsign",
                "selu": "Selu", "softplus": "Softplus", "exponential": "Exp"}[act], [g.x], name)


def _onnx_pads(spec, kernel, strides):
    """ONNX pads [top, left, bottom, right] for the layer's padding at its input size."""
    if spec.config.get("padding", "valid") != "same":
        return [0, 0, 0, 0]
    (top, bottom), (left, right) = (same_padding(n, k, s) for n, k, s in
                                    zip(spec.in_shape[:2], kernel, strides))
    return [top, left, bottom, right]


def _onnx_conv(g, spec, inputs, name, groups):
    """ONNX Conv of a 2-D convolution layer's window on the NCHW running tensor."""
    c = spec.config
    kernel_size, strides = _pair(c["kernel_size"]), _pair(c.get("strides", 1))
    dilation = _pair(c.get("dilation_rate", 1))
    span = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation)]
    g.node("Conv", inputs, name, kernel_shape=list(kernel_size), strides=list(strides),
           dilations=list(dilation), pads=_onnx_pads(spec, span, strides), group=groups)


def _onnx_batch_norm(g, spec, w):
    """ONNX's BatchNormalization (inference: the moving statistics) normalises axis 1: a 4-D
    channels-last input goes to NCHW like a convolution's; any other axis is moved to 1 and back."""
    c, name = spec.config, spec.name
    rank = len(spec.in_shape) + 1
    axis = int(c["axis"]) % rank
    channels = spec.in_shape[axis - 1]
    gamma = w.pop(0) if c.get("scale", True) else _np.ones(channels, _np.float32)
    beta = w.pop(0) if c.get("center", True) else _np.zeros(channels, _np.float32)
    perm = None
    if rank == 4 and axis == 3:
        g.to("NCHW", name)
    else:
        g.to("NHWC", name)
        if axis != 1:
            perm = [0, axis] + [d for d in range(1, rank) if d != axis]
            g.node("Transpose", [g.x], f"{name}/to_channels_first", perm=perm)
    inputs = [g.x] + [g.const(f"{name}/{key}", v) for key, v in
                      zip(("gamma", "beta", "moving_mean", "moving_variance"), [gamma, beta] + w)]
    g.node("BatchNormalization", inputs, name, epsilon=float(c["epsilon"]))
    if perm is not None:
        g.node("Transpose", [g.x], f"{name}/from_channels_first",
               perm=[int(d) for d in _np.argsort(perm)])


def _onnx_layer(g, spec, opset):
    c, name, f32 = spec.config, spec.name, _np.float32
    w = [_np.asarray(a, dtype=f32) for a in spec.weights]
    hook = layer_hook(spec.kind, "_onnx_nodes")
    if hook is not None:                    # the layer writes its own nodes
        hook(g, spec, w, opset)
    elif spec.kind in ("Dense", "Maxout"):
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
    elif spec.kind in ("Conv2D", "DepthwiseConv2D"):     # depthwise: Conv with group = C
        kind = spec.kind
        groups = spec.in_shape[-1] if kind == "DepthwiseConv2D" else int(c.get("groups", 1))
        inputs = [g.to("NCHW", name), g.const(f"{name}/kernel", to_nchw_kernel(kind, w[0]))]
        if len(w) > 1:
            inputs.append(g.const(f"{name}/bias", w[1]))
        _onnx_conv(g, spec, inputs, name, groups)
    elif spec.kind == "SeparableConv2D":                 # depthwise Conv, then a 1×1 Conv
        inputs = [g.to("NCHW", name),
                  g.const(f"{name}/depthwise_kernel", to_nchw_kernel("DepthwiseConv2D", w[0]))]
        _onnx_conv(g, spec, inputs, f"{name}/depthwise", spec.in_shape[-1])
        inputs = [g.x, g.const(f"{name}/pointwise_kernel", to_nchw_kernel("Conv2D", w[1]))]
        if len(w) > 2:
            inputs.append(g.const(f"{name}/bias", w[2]))
        g.node("Conv", inputs, name, kernel_shape=[1, 1])
    elif spec.kind == "Conv1D":                          # (N, steps, C) → (N, C, steps)
        k, s, d = (int(_np.ravel(c[key])[0]) for key in ("kernel_size", "strides",
                                                          "dilation_rate"))
        span, padding = (k - 1) * d + 1, c.get("padding", "valid")
        pads = [span - 1, 0] if padding == "causal" else \
            list(same_padding(spec.in_shape[0], span, s)) if padding == "same" else [0, 0]
        inputs = [g.node("Transpose", [g.x], f"{name}/to_NCL", perm=[0, 2, 1]),
                  g.const(f"{name}/kernel", to_nchw_kernel("Conv1D", w[0]))]
        if len(w) > 1:
            inputs.append(g.const(f"{name}/bias", w[1]))
        g.node("Conv", inputs, name, kernel_shape=[k], strides=[s], dilations=[d], pads=pads,
               group=int(c.get("groups", 1)))
        g.node("Transpose", [g.x], f"{name}/to_NLC", perm=[0, 2, 1])
    elif spec.kind == "Conv2DTranspose":
        kernel_size, strides = _pair(c["kernel_size"]), _pair(c.get("strides", 1))
        op = c.get("output_padding")
        inputs = [g.to("NCHW", name),
                  g.const(f"{name}/kernel", to_nchw_kernel("Conv2DTranspose", w[0]))]
        if len(w) > 1:
            inputs.append(g.const(f"{name}/bias", w[1]))
        # ONNX: out = s·(n − 1) + k + output_padding − pad_begin − pad_end; Keras' window
        # starts `start` into the full output and may run `extra` past its end
        pads, extra = [0, 0, 0, 0], [0, 0]
        for axis in (0, 1):
            n, k, s = spec.in_shape[axis], kernel_size[axis], strides[axis]
            out, start = transpose_window(n, k, s, c.get("padding", "valid"),
                                          None if op is None else _pair(op)[axis])
            beyond = start + out - ((n - 1) * s + k)
            pads[axis], pads[2 + axis] = start, max(-beyond, 0)
            extra[axis] = max(beyond, 0)
        g.node("ConvTranspose", inputs, name, kernel_shape=list(kernel_size),
               strides=list(strides), pads=pads, output_padding=extra)
    elif spec.kind in ("MaxPooling2D", "AveragePooling2D"):
        pool = _pair(c.get("pool_size", 2))
        strides = pool if c.get("strides") is None else _pair(c["strides"])
        extra = {} if spec.kind == "MaxPooling2D" else {"count_include_pad": 0}
        g.node("MaxPool" if spec.kind == "MaxPooling2D" else "AveragePool", [g.to("NCHW", name)],
               name, kernel_shape=list(pool), strides=list(strides),
               pads=_onnx_pads(spec, pool, strides), **extra)
    elif spec.kind == "RandomCrop" and spec.in_shape != spec.out_shape:
        raise ConversionError(f"cannot convert layer '{name}' (RandomCrop) to ONNX: at inference "
                              f"it returns its input {spec.in_shape}, while the layers after it "
                              f"expect its declared {spec.out_shape}")
    elif spec.kind in ("Dropout", "SpatialDropout2D") or spec.kind in AUGMENTATION_KINDS:
        g.node("Identity", [g.x], name)  # dropout and augmentation: the identity at inference
    elif spec.kind in ("Flatten", "Reshape"):
        target = [-1] if spec.kind == "Flatten" else list(c["target_shape"])
        shape = g.const(f"{name}/shape", _np.array([0] + target, _np.int64))  # 0: keep the batch
        g.node("Reshape", [g.to("NHWC", name), shape], name)
    elif spec.kind == "UpSampling2D":
        sh, sw = _pair(c.get("size", 2))
        scales = [1, 1, sh, sw] if g.layout == "NCHW" else [1, sh, sw, 1]
        scales = g.const(f"{name}/scales", _np.array(scales, f32))
        if c.get("interpolation", "nearest") == "bilinear":   # torch's align_corners=False
            g.node("Resize", [g.x, "", scales], name, mode="linear",
                   coordinate_transformation_mode="half_pixel")
        else:   # asymmetric + floor: output pixel i reads input pixel ⌊i/s⌋, a repetition
            g.node("Resize", [g.x, "", scales], name, mode="nearest",
                   coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    elif spec.kind == "BatchNormalization":
        _onnx_batch_norm(g, spec, w)
    elif spec.kind == "Normalization":
        axis, mean, sd = normalization_constants(spec)
        shape = [1] * (len(spec.in_shape) + 1)
        shape[axis] = -1
        mean, sd = mean.reshape(shape), sd.reshape(shape)
        g.to("NHWC", name)
        if c.get("invert"):
            g.node("Mul", [g.x, g.const(f"{name}/sd", sd)], name)
            g.node("Add", [g.x, g.const(f"{name}/mean", mean)], name)
        else:
            g.node("Sub", [g.x, g.const(f"{name}/mean", mean)], name)
            g.node("Div", [g.x, g.const(f"{name}/sd", sd)], name)
    elif spec.kind == "Rescaling":
        g.to("NHWC", name)      # a per-channel scale broadcasts along the last axis
        g.node("Mul", [g.x, g.const(f"{name}/scale", _np.asarray(c["scale"], f32))], name)
        g.node("Add", [g.x, g.const(f"{name}/offset", _np.asarray(c.get("offset", 0.0), f32))],
               name)
    elif spec.kind == "LayerNormalization":
        if opset < 17:
            raise ConversionError(f"cannot convert layer '{name}' (LayerNormalization) to ONNX "
                                  f"opset {opset}: its LayerNormalization operator needs >= 17")
        axes = normalised_axes(spec)
        shape = [spec.in_shape[a - 1] for a in axes]
        gamma = w.pop(0) if c.get("scale", True) else _np.ones(shape, f32)
        inputs = [g.to("NHWC", name), g.const(f"{name}/gamma", gamma.reshape(shape))]
        if c.get("center", True):
            inputs.append(g.const(f"{name}/beta", w.pop(0).reshape(shape)))
        g.node("LayerNormalization", inputs, name, axis=axes[0], epsilon=float(c["epsilon"]))
    elif spec.kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        op = "ReduceMax" if spec.kind == "GlobalMaxPooling2D" else "ReduceMean"
        keep = int(bool(c.get("keepdims", False)))
        g.to("NHWC", name)
        if opset >= 18:  # axes moved from an attribute to an input in opset 18
            g.node(op, [g.x, g.const(f"{name}/axes", _np.array([1, 2], _np.int64))], name,
                   keepdims=keep)
        else:
            g.node(op, [g.x], name, axes=[1, 2], keepdims=keep)
    elif spec.kind == "ZeroPadding2D":
        (top, bottom), (left, right) = borders(c["padding"])
        pads = _np.array([0, top, left, 0, 0, bottom, right, 0], _np.int64)
        g.node("Pad", [g.to("NHWC", name), g.const(f"{name}/pads", pads)], name)
    elif spec.kind == "Cropping2D":
        (top, bottom), (left, right) = borders(c["cropping"])
        h, w_ = spec.in_shape[0], spec.in_shape[1]
        g.node("Slice", [g.to("NHWC", name),
                         g.const(f"{name}/starts", _np.array([top, left], _np.int64)),
                         g.const(f"{name}/ends", _np.array([h - bottom, w_ - right], _np.int64)),
                         g.const(f"{name}/axes", _np.array([1, 2], _np.int64))], name)
    if spec.activation is not None:
        _onnx_activation(g, spec.activation, name)
    g.rank = len(spec.out_shape) + 1


def to_onnx(model, path, opset=17, input_name="input", output_name="output", input_shape=None):
    """Write `model` as an ONNX file (float32) built with `onnx.helper`; returns the ModelProto.

    The batch dimension is dynamic ('batch'); the input is NHWC like pycnn's. A functional
    model's graph inputs and outputs carry model.input_names / output_names (input_name and
    output_name when it has one of each); merges become Add/Sub/Mul/Max/Min/Concat (graph.py). The file is checked
    with `onnx.checker` and written to a temporary file that is then renamed, so a failed
    conversion (e.g. an unconvertible layer, raised before anything is built) writes nothing.
    """
    onnx = _require("onnx", "to_onnx")
    from onnx import TensorProto, helper, numpy_helper
    if not 13 <= int(opset) <= onnx.defs.onnx_opset_version():
        raise ValueError(f"to_onnx: opset {opset} is outside the supported range 13 to "
                         f"{onnx.defs.onnx_opset_version()}")
    if is_functional(model):
        nodes, initializers, inputs, outputs = to_onnx_graph(model, opset, input_name,
                                                             output_name)
    else:
        plan = _plan(model, "ONNX", input_shape)
        g = _OnnxGraph(helper, numpy_helper, input_name, plan[0].in_shape)
        for spec in plan:
            _onnx_layer(g, spec, int(opset))
        g.to("NHWC", "output")
        g.nodes.append(helper.make_node("Identity", [g.x], [output_name], name=output_name))
        nodes, initializers = g.nodes, g.initializers
        inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT,
                                                ["batch", *plan[0].in_shape])]
        outputs = [helper.make_tensor_value_info(output_name, TensorProto.FLOAT,
                                                 ["batch", *plan[-1].out_shape])]
    graph = helper.make_graph(nodes, getattr(model, "name", None) or "pycnn_model", inputs,
                              outputs, initializer=initializers)
    from .. import __version__
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
