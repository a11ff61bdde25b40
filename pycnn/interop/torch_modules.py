"""torch.nn modules for `pycnn.interop.to_torch` (imported only by it: this file imports torch).

Every module takes and returns channels-last (N, H, W, C) tensors, as pycnn's layers do.
Convolutions and pools run on `x.permute(0, 3, 1, 2)`, an NCHW *view* with channels_last
strides that torch convolves without a copy, and permute back; so Flatten sees pycnn's order.
Classes live at module level so that a converted model pickles (torch.multiprocessing).
"""
import math as _math

import numpy as _np

import torch as _torch
import torch.nn.functional as _F
from torch import nn as _nn

from .plan import (KERNEL_KINDS, _pair, borders, kernel_kind, layer_hook,
                   normalization_constants, normalised_axes, same_padding, to_nchw_kernel,
                   torch_state_keys, transpose_window)

_ACTIVATIONS = {
    "linear": lambda p: _nn.Identity(),
    "relu": lambda p: _nn.ReLU(),
    "sigmoid": lambda p: _nn.Sigmoid(),
    "tanh": lambda p: _nn.Tanh(),
    "softmax": lambda p: _nn.Softmax(dim=p),
    "log_softmax": lambda p: _nn.LogSoftmax(dim=p),
    "leaky_relu": lambda p: _nn.LeakyReLU(negative_slope=p),
    "elu": lambda p: _nn.ELU(alpha=p),
    "swish": lambda p: _nn.SiLU(),  # x·σ(x)
    "silu": lambda p: _nn.SiLU(),
    "gelu": lambda p: _nn.GELU(),   # x·Φ(x), exact (approximate='none'), as Keras' default
    "softplus": lambda p: _nn.Softplus(),   # log(1 + eˣ); x itself past x > 20, as pycnn's
    "exponential": lambda p: Exp(),
    "softsign": lambda p: _nn.Softsign(),
    "hard_sigmoid": lambda p: _nn.Hardsigmoid(),    # relu6(x + 3) / 6, as Keras 3
    "relu6": lambda p: _nn.ReLU6(),
    "selu": lambda p: _nn.SELU(),
}


class Exp(_nn.Module):
    """eˣ element-wise: Keras' 'exponential' activation (torch.nn has no module for it)."""

    def forward(self, x):
        return _torch.exp(x)


def activation(spec):
    name, param = spec
    return _ACTIVATIONS[name](param)


def _same_pads(x, kernel, strides, dilation=(1, 1)):
    """F.pad's (left, right, top, bottom) for Keras' 'same' at this input's H, W (NCHW x),
    for a kernel of these sizes dilated by dilation (spanning (k − 1)·d + 1 pixels)."""
    (top, bottom), (left, right) = (same_padding(n, (k - 1) * d + 1, s) for n, k, s, d in
                                    zip(x.shape[2:], kernel, strides, dilation))
    return left, right, top, bottom


class Sequential(_nn.Sequential):
    """The converted model: children named like the pycnn layers; input (N, *input_shape)."""

    def __init__(self, layers, input_shape):
        super().__init__(layers)
        self.input_shape = tuple(input_shape)


class Dense(_nn.Linear):
    """y = act(x Wᵀ + b) on the last axis; weight (units, in) is the Keras kernel transposed."""

    def __init__(self, in_features, units, use_bias, act):
        super().__init__(in_features, units, bias=use_bias)
        self.activation = activation(act)

    def forward(self, x):
        return self.activation(super().forward(x))


class Maxout(_nn.Linear):
    """units outputs, each the max of `pieces` affine maps: features u·pieces … u·pieces+pieces−1."""

    def __init__(self, in_features, units, pieces, use_bias):
        super().__init__(in_features, units * pieces, bias=use_bias)
        self.units, self.pieces = units, pieces

    def forward(self, x):
        z = super().forward(x)
        return z.unflatten(-1, (self.units, self.pieces)).amax(dim=-1)


class Conv2D(_nn.Conv2d):
    """Cross-correlation on NHWC input; 'same' pads like Keras (odd extra at bottom/right)."""

    def __init__(self, in_channels, filters, kernel_size, strides, padding, use_bias, act,
                 dilation=(1, 1), groups=1):
        super().__init__(in_channels, filters, kernel_size, stride=strides, bias=use_bias,
                         dilation=dilation, groups=groups)
        # The input arrives as a channels_last view; a channels_last kernel keeps torch on its
        # NHWC path, and its strides equal those of its gradient, as DDP's buckets expect.
        # Spelled out: .contiguous(memory_format=...) keeps a one-channel kernel's old strides.
        oc, ic, kh, kw = self.weight.shape
        nhwc = _torch.empty_strided(self.weight.shape, (kh * kw * ic, 1, kw * ic, ic))
        self.weight.data = nhwc.copy_(self.weight.data)
        self.same = padding == "same"
        self.activation = activation(act)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        if self.same:
            x = _F.pad(x, _same_pads(x, self.kernel_size, self.stride, self.dilation))
        return self.activation(super().forward(x).permute(0, 2, 3, 1))

    def extra_repr(self):
        return super().extra_repr() + (", padding='same'" if self.same else "")


class Conv1D(_nn.Conv1d):
    """Conv1D on (N, steps, C) input: 'same' pads like Keras, 'causal' (k − 1)·d zeros before
    the first step only."""

    def __init__(self, in_channels, filters, kernel_size, strides, padding, use_bias, act,
                 dilation, groups):
        super().__init__(in_channels, filters, kernel_size, stride=strides, bias=use_bias,
                         dilation=dilation, groups=groups)
        self.padding_keras = padding
        self.activation = activation(act)

    def forward(self, x):
        x = x.permute(0, 2, 1)
        span = (self.kernel_size[0] - 1) * self.dilation[0] + 1
        if self.padding_keras == "causal":
            x = _F.pad(x, (span - 1, 0))
        elif self.padding_keras == "same":
            x = _F.pad(x, same_padding(x.shape[2], span, self.stride[0]))
        return self.activation(super().forward(x).permute(0, 2, 1))

    def extra_repr(self):
        return super().extra_repr() + f", padding='{self.padding_keras}'"


class SeparableConv2D(_nn.Module):
    """Keras' SeparableConv2D on NHWC input: a depthwise convolution (groups = C, kernel
    depthwise_weight (C·M, 1, kh, kw)), then a 1×1 one (pointwise_weight (filters, C·M, 1, 1)),
    the bias and the activation at the end."""

    def __init__(self, in_channels, filters, kernel_size, strides, padding, depth_multiplier,
                 use_bias, act, dilation):
        super().__init__()
        cm = in_channels * depth_multiplier
        self.depthwise_weight = _nn.Parameter(_torch.empty(cm, 1, *kernel_size))
        self.pointwise_weight = _nn.Parameter(_torch.empty(filters, cm, 1, 1))
        self.bias = _nn.Parameter(_torch.zeros(filters)) if use_bias else None
        _nn.init.kaiming_uniform_(self.depthwise_weight, a=_math.sqrt(5))
        _nn.init.kaiming_uniform_(self.pointwise_weight, a=_math.sqrt(5))
        self.kernel_size, self.stride, self.dilation = kernel_size, strides, dilation
        self.groups, self.same = in_channels, padding == "same"
        self.activation = activation(act)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        if self.same:
            x = _F.pad(x, _same_pads(x, self.kernel_size, self.stride, self.dilation))
        z = _F.conv2d(x, self.depthwise_weight, None, self.stride, dilation=self.dilation,
                      groups=self.groups)
        y = _F.conv2d(z, self.pointwise_weight, self.bias)
        return self.activation(y.permute(0, 2, 3, 1))

    def extra_repr(self):
        return (f"{self.groups}, {self.pointwise_weight.shape[0]}, kernel_size="
                f"{tuple(self.kernel_size)}, stride={tuple(self.stride)}"
                + (", padding='same'" if self.same else ""))


class Conv2DTranspose(_nn.ConvTranspose2d):
    """Transposed convolution on NHWC input with Keras 3's output size: torch's full
    (H − 1)·s + k output, then cut (or zero-extended) to Keras' window (plan.transpose_window)."""

    def __init__(self, in_channels, filters, kernel_size, strides, padding, output_padding,
                 use_bias, act):
        super().__init__(in_channels, filters, kernel_size, stride=strides, bias=use_bias)
        self.padding_mode_keras, self.output_padding_keras = padding, output_padding
        self.activation = activation(act)

    def forward(self, x):
        n = x.shape[1:3]
        # without the bias first: Keras adds it after the cut, also to the zero extension
        y = _F.conv_transpose2d(x.permute(0, 3, 1, 2), self.weight, None, self.stride)
        pads = []
        for axis in (1, 0):     # _F.pad: last axis first; negative amounts crop
            op = None if self.output_padding_keras is None else self.output_padding_keras[axis]
            out, start = transpose_window(n[axis], self.kernel_size[axis], self.stride[axis],
                                          self.padding_mode_keras, op)
            pads += [-start, start + out - y.shape[2 + axis]]
        y = _F.pad(y, pads).permute(0, 2, 3, 1)
        return self.activation(y if self.bias is None else y + self.bias)

    def extra_repr(self):
        return super().extra_repr() + f", padding='{self.padding_mode_keras}'"


class Pool2D(_nn.Module):
    """Max or average pooling on NHWC input; 'same' pads like Keras: with −∞ for the max, and
    the padding left out of the average (each window divides by its count of real pixels)."""

    def __init__(self, kind, pool_size, strides, padding):
        super().__init__()
        self.kind, self.pool_size, self.strides, self.padding = kind, pool_size, strides, padding

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        pads = _same_pads(x, self.pool_size, self.strides) if self.padding == "same" else None
        if self.kind == "max":
            if pads:
                x = _F.pad(x, pads, value=-_math.inf)
            y = _F.max_pool2d(x, self.pool_size, self.strides)
        elif pads and any(pads):
            ones = _F.pad(_torch.ones_like(x[:1, :1]), pads)
            y = (_F.avg_pool2d(_F.pad(x, pads), self.pool_size, self.strides)
                 / _F.avg_pool2d(ones, self.pool_size, self.strides))
        else:
            y = _F.avg_pool2d(x, self.pool_size, self.strides)
        return y.permute(0, 2, 3, 1)

    def extra_repr(self):
        return (f"{self.kind}, pool_size={self.pool_size}, strides={self.strides}, "
                f"padding={self.padding!r}")


class Reshape(_nn.Module):
    """Per-sample reshape: (N, ...) -> (N, *target_shape)."""

    def __init__(self, target_shape):
        super().__init__()
        self.target_shape = tuple(target_shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.target_shape)

    def extra_repr(self):
        return f"target_shape={self.target_shape}"


class UpSampling2D(_nn.Module):
    """On NHWC: nearest neighbour (each pixel repeated size[0] times down and size[1]
    across) or bilinear (F.interpolate with align_corners=False, as Keras' resize)."""

    def __init__(self, size, interpolation="nearest"):
        super().__init__()
        self.size, self.interpolation = tuple(size), interpolation

    def forward(self, x):
        if self.interpolation == "bilinear":
            y = _F.interpolate(x.permute(0, 3, 1, 2), mode="bilinear", align_corners=False,
                              size=(x.shape[1] * self.size[0], x.shape[2] * self.size[1]))
            return y.permute(0, 2, 3, 1)
        return x.repeat_interleave(self.size[0], dim=1).repeat_interleave(self.size[1], dim=2)

    def extra_repr(self):
        return f"size={self.size}, interpolation={self.interpolation!r}"


class BatchNorm(_nn.Module):
    """Keras' BatchNormalization along `axis` of the (channels-last) input. The output is
    F.batch_norm's (batch statistics with the biased variance in train() mode, the running
    ones in eval()); the running statistics move by Keras' rule, running · momentum + batch ·
    (1 − momentum) with the BIASED batch variance — torch's own BatchNorm2d would use
    momentum 1 − m and the unbiased variance — so training in torch continues pycnn's."""

    def __init__(self, channels, axis, momentum, epsilon, center, scale):
        super().__init__()
        self.axis, self.momentum, self.eps = axis, momentum, epsilon
        self.weight = _nn.Parameter(_torch.ones(channels)) if scale else None
        self.bias = _nn.Parameter(_torch.zeros(channels)) if center else None
        self.register_buffer("running_mean", _torch.zeros(channels))
        self.register_buffer("running_var", _torch.ones(channels))

    def forward(self, x):
        x1 = x.movedim(self.axis, 1)
        if self.training:
            with _torch.no_grad():
                dims = [d for d in range(x1.dim()) if d != 1]
                var, mean = _torch.var_mean(x1, dim=dims, correction=0)
                self.running_mean.mul_(self.momentum).add_(mean, alpha=1 - self.momentum)
                self.running_var.mul_(self.momentum).add_(var, alpha=1 - self.momentum)
            y = _F.batch_norm(x1, None, None, self.weight, self.bias, True, 0.0, self.eps)
        else:
            y = _F.batch_norm(x1, self.running_mean, self.running_var, self.weight, self.bias,
                              False, 0.0, self.eps)
        return y.movedim(1, self.axis)

    def extra_repr(self):
        return f"{self.running_mean.numel()}, axis={self.axis}, momentum={self.momentum}, " \
               f"eps={self.eps}"


class LayerNorm(_nn.Module):
    """F.layer_norm over the trailing `shape` (γ = weight and β = bias each optional, as
    Keras' scale and center; torch's nn.LayerNorm has them both or neither)."""

    def __init__(self, shape, epsilon, center, scale):
        super().__init__()
        self.shape, self.eps = tuple(shape), epsilon
        self.weight = _nn.Parameter(_torch.ones(self.shape)) if scale else None
        self.bias = _nn.Parameter(_torch.zeros(self.shape)) if center else None

    def forward(self, x):
        return _F.layer_norm(x, self.shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.shape}, eps={self.eps}"


class NoiseDropout(_nn.Module):
    """Inverted dropout with one draw per element of noise_shape (None: the input's size),
    broadcast over the input, in train() mode; the identity in eval()."""

    def __init__(self, rate, noise_shape):
        super().__init__()
        self.rate, self.noise_shape = rate, tuple(noise_shape)

    def forward(self, x):
        if not self.training or self.rate == 0:
            return x
        shape = [x.shape[d] if n is None else n for d, n in enumerate(self.noise_shape)]
        keep = _torch.rand(shape, dtype=x.dtype, device=x.device) >= self.rate
        return x * keep.to(x.dtype) / (1 - self.rate)

    def extra_repr(self):
        return f"rate={self.rate}, noise_shape={self.noise_shape}"


class Normalization(_nn.Module):
    """(x − mean) / sd along `axis`, or mean + x · sd with invert (sd = max(√var, 1e-7)),
    the statistics kept as buffers."""

    def __init__(self, axis, rank, mean, sd, invert):
        super().__init__()
        shape = [1] * rank
        shape[axis] = -1
        self.register_buffer("mean", _torch.from_numpy(mean).reshape(shape))
        self.register_buffer("sd", _torch.from_numpy(sd).reshape(shape))
        self.invert = invert

    def forward(self, x):
        return self.mean + x * self.sd if self.invert else (x - self.mean) / self.sd


class Rescaling(_nn.Module):
    """x · scale + offset, scale and offset broadcast against x (kept as buffers)."""

    def __init__(self, scale, offset):
        super().__init__()
        self.register_buffer("scale", _torch.as_tensor(_np.asarray(scale, _np.float32)))
        self.register_buffer("offset", _torch.as_tensor(_np.asarray(offset, _np.float32)))

    def forward(self, x):
        return x * self.scale + self.offset


class GlobalPool2D(_nn.Module):
    """Mean or max of each channel over H, W of NHWC input; (N, C) or (N, 1, 1, C)."""

    def __init__(self, kind, keepdims):
        super().__init__()
        self.kind, self.keepdims = kind, keepdims

    def forward(self, x):
        if self.kind == "max":
            return x.amax(dim=(1, 2), keepdim=self.keepdims)
        return x.mean(dim=(1, 2), keepdim=self.keepdims)

    def extra_repr(self):
        return f"{self.kind}, keepdims={self.keepdims}"


class Border2D(_nn.Module):
    """Zero padding (crop=False) or cropping of H and W of NHWC input by
    ((top, bottom), (left, right))."""

    def __init__(self, amounts, crop):
        super().__init__()
        self.amounts, self.crop = tuple(amounts), crop

    def forward(self, x):
        (top, bottom), (left, right) = self.amounts
        if self.crop:
            return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right, :]
        return _F.pad(x, (0, 0, left, right, top, bottom))

    def extra_repr(self):
        return f"{'cropping' if self.crop else 'padding'}={self.amounts}"


def _module(spec):
    c = spec.config
    hook = layer_hook(spec.kind, "_torch_module")
    if hook is not None:                    # the layer builds its own module
        return hook(spec)
    if spec.kind == "Dense":
        return Dense(spec.in_shape[-1], int(c["units"]), bool(c.get("use_bias", True)),
                     spec.activation)
    if spec.kind == "Maxout":
        return Maxout(spec.in_shape[-1], int(c["units"]), int(c["pieces"]),
                      len(spec.weights) > 1)
    if spec.kind == "Conv2D":
        return Conv2D(spec.in_shape[-1], int(c["filters"]), _pair(c["kernel_size"]),
                      _pair(c.get("strides", 1)), c.get("padding", "valid"),
                      bool(c.get("use_bias", True)), spec.activation,
                      _pair(c.get("dilation_rate", 1)), int(c.get("groups", 1)))
    if spec.kind == "DepthwiseConv2D":       # torch's groups = C convolution
        channels = spec.in_shape[-1]
        return Conv2D(channels, channels * int(c["depth_multiplier"]), _pair(c["kernel_size"]),
                      _pair(c.get("strides", 1)), c.get("padding", "valid"),
                      bool(c.get("use_bias", True)), spec.activation,
                      _pair(c.get("dilation_rate", 1)), channels)
    if spec.kind == "SeparableConv2D":
        return SeparableConv2D(spec.in_shape[-1], int(c["filters"]), _pair(c["kernel_size"]),
                               _pair(c.get("strides", 1)), c.get("padding", "valid"),
                               int(c["depth_multiplier"]), bool(c.get("use_bias", True)),
                               spec.activation, _pair(c.get("dilation_rate", 1)))
    if spec.kind == "Conv1D":
        k, s, d = (int(_np.ravel(c[key])[0]) for key in ("kernel_size", "strides",
                                                          "dilation_rate"))
        return Conv1D(spec.in_shape[-1], int(c["filters"]), k, s, c.get("padding", "valid"),
                      bool(c.get("use_bias", True)), spec.activation, d, int(c.get("groups", 1)))
    if spec.kind == "Conv2DTranspose":
        op = c.get("output_padding")
        return Conv2DTranspose(spec.in_shape[-1], int(c["filters"]), _pair(c["kernel_size"]),
                               _pair(c.get("strides", 1)), c.get("padding", "valid"),
                               None if op is None else _pair(op),
                               bool(c.get("use_bias", True)), spec.activation)
    if spec.kind in ("MaxPooling2D", "AveragePooling2D"):
        pool = _pair(c.get("pool_size", 2))
        strides = pool if c.get("strides") is None else _pair(c["strides"])
        return Pool2D("max" if spec.kind == "MaxPooling2D" else "avg", pool, strides,
                      c.get("padding", "valid"))
    if spec.kind == "Dropout" and c.get("noise_shape") is not None:
        return NoiseDropout(float(c["rate"]), c["noise_shape"])
    if spec.kind == "SpatialDropout2D":     # (N, 1, 1, C): whole channels
        return NoiseDropout(float(c["rate"]), (None, 1, 1, None))
    if spec.kind == "Dropout":
        return _nn.Dropout(float(c["rate"]))
    if spec.kind == "Flatten":
        return _nn.Flatten()
    if spec.kind == "Reshape":
        return Reshape(c["target_shape"])
    if spec.kind == "UpSampling2D":
        return UpSampling2D(_pair(c.get("size", 2)), c.get("interpolation", "nearest"))
    if spec.kind == "Normalization":
        axis, mean, sd = normalization_constants(spec)
        return Normalization(axis, len(spec.in_shape) + 1, mean, sd, bool(c.get("invert")))
    if spec.kind == "Rescaling":
        return Rescaling(c["scale"], c.get("offset", 0.0))
    if spec.kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        return GlobalPool2D("max" if spec.kind == "GlobalMaxPooling2D" else "avg",
                            bool(c.get("keepdims", False)))
    if spec.kind in ("ZeroPadding2D", "Cropping2D"):
        crop = spec.kind == "Cropping2D"
        return Border2D(borders(c["cropping" if crop else "padding"]), crop)
    if spec.kind == "LayerNormalization":
        shape = [spec.in_shape[a - 1] for a in normalised_axes(spec)]
        return LayerNorm(shape, float(c["epsilon"]), bool(c["center"]), bool(c["scale"]))
    if spec.kind == "BatchNormalization":
        axis = int(c["axis"]) % (len(spec.in_shape) + 1)      # counting the batch axis
        return BatchNorm(spec.in_shape[axis - 1], axis, float(c["momentum"]),
                         float(c["epsilon"]), bool(c["center"]), bool(c["scale"]))
    return activation(spec.activation)  # Activation, LeakyReLU, ELU, Softmax


def build(spec):
    """The module for one planned layer (see plan._plan), with the layer's weights copied."""
    module = _module(spec)
    if spec.weights and spec.kind != "Normalization":   # its statistics are buffers already
        dtype = _torch.from_numpy(spec.weights[0]).dtype
        module.to(dtype)
        with _torch.no_grad():
            for key, value in zip(torch_state_keys(spec), spec.weights):
                if key.endswith("weight") and spec.kind in KERNEL_KINDS:
                    value = to_nchw_kernel(kernel_kind(spec.kind, key), value)
                getattr(module, key).copy_(_torch.from_numpy(_np.ascontiguousarray(value)).reshape(
                    getattr(module, key).shape))
    module.requires_grad_(bool(spec.config.get("trainable", True)))
    return module
