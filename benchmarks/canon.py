"""Rows for the layers of issue 16 (the canonical architectures' layers), forward +
backward at the shapes a LeNet / VGG / ResNet / MobileNet / U-Net on 28×28 MNIST uses.

Each row is a pycnn column (channels_last, training=True) beside PyTorch in NCHW and in
channels_last, written as a PyTorch user would write the same layer; the input requires
grad everywhere, the report counts the faster PyTorch layout. The random layers draw
fresh randomness inside every call on both sides (torch.rand per call), so the cost of
the draw is in both columns. tests/test_benchmarks.py checks, on tiny inputs, that the
columns of every row compute the same thing (the random ones with their draw pinned).

Not here: DepthwiseConv2D, SeparableConv2D and Conv1D (their rows sit with the
convolution rows).
"""
import copy
import math

import numpy as np

from .rows import Row, _pycnn_layers, _pycnn_step, _safe, _torch_step


def _nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2)) if a.ndim == 4 else a


def _columns(pycnn, torch, build_layer, fn, x, seed, params=()):
    """{"pycnn", "torch" (NCHW), "torch_cl" (channels_last)}: x and seed are NHWC (or 2-D
    seed) NumPy arrays; build_layer() returns the pycnn layer, built; fn the torch
    function (of an NCHW-shaped tensor in either memory format), params its weights."""
    cl = torch.channels_last
    xt = torch.from_numpy(_nchw(x))
    st = torch.from_numpy(_nchw(seed))
    st_cl = st.to(memory_format=cl) if st.dim() == 4 else st
    return {"pycnn": _safe(lambda: _pycnn_step(pycnn, build_layer(), x, seed)),
            "torch": _torch_step(torch, fn, xt, st, params=params),
            "torch_cl": _torch_step(torch, fn, xt.to(memory_format=cl), st_cl, params=params)}


def _shape(s):
    return "(" + ",".join(map(str, s)) + ")"


def _data(rng, shape, out_shape, uniform=False):
    x = (rng.random(shape) if uniform else rng.standard_normal(shape)).astype(np.float32)
    return x, rng.standard_normal(out_shape).astype(np.float32)


# ---- normalisation and pooling -------------------------------------------------------


def row_layernorm(pycnn, torch, rng, n, hw, c):
    x, seed = _data(rng, (n, hw, hw, c), (n, hw, hw, c))

    def build():
        (LayerNormalization,) = _pycnn_layers(pycnn, "LayerNormalization")
        layer = LayerNormalization()            # axis=-1: over the channels
        layer.build(x.shape)
        return layer

    ln = torch.nn.LayerNorm(c, eps=1e-3)        # Keras' epsilon

    def fn(t):                                  # the channels to the end and back
        return ln(t.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    return Row(f"canon_layernorm_{n}_{hw}x{hw}x{c}",
               f"LayerNormalization (channels) on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, fn, x, seed, list(ln.parameters())))


def row_global_max_pool(pycnn, torch, rng, n, hw, c):
    x, seed = _data(rng, (n, hw, hw, c), (n, c))

    def build():
        (GlobalMaxPooling2D,) = _pycnn_layers(pycnn, "GlobalMaxPooling2D")
        return GlobalMaxPooling2D()

    gmp = torch.nn.Sequential(torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten())
    return Row(f"canon_global_max_pool_{n}_{hw}x{hw}x{c}",
               f"GlobalMaxPooling2D on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, gmp, x, seed))


def row_zero_padding(pycnn, torch, rng, n, hw, c, pad=1):
    x, seed = _data(rng, (n, hw, hw, c), (n, hw + 2 * pad, hw + 2 * pad, c))

    def build():
        (ZeroPadding2D,) = _pycnn_layers(pycnn, "ZeroPadding2D")
        return ZeroPadding2D(pad)

    F = torch.nn.functional
    return Row(f"canon_zero_padding_{n}_{hw}x{hw}x{c}",
               f"ZeroPadding2D({pad}) on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, lambda t: F.pad(t, (pad, pad, pad, pad)), x, seed))


def row_cropping(pycnn, torch, rng, n, hw, c, crop=2):
    x, seed = _data(rng, (n, hw, hw, c), (n, hw - 2 * crop, hw - 2 * crop, c))

    def build():
        (Cropping2D,) = _pycnn_layers(pycnn, "Cropping2D")
        return Cropping2D(crop)

    return Row(f"canon_cropping_{n}_{hw}x{hw}x{c}",
               f"Cropping2D({crop}) on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, lambda t: t[:, :, crop:-crop, crop:-crop], x, seed))


# ---- dropout (training mode) ---------------------------------------------------------


def row_dropout(pycnn, torch, rng, n, hw, c, rate=0.25, spatial=False):
    x, seed = _data(rng, (n, hw, hw, c), (n, hw, hw, c))
    name = "SpatialDropout2D" if spatial else "Dropout"

    def build():
        (Layer,) = _pycnn_layers(pycnn, name)
        return Layer(rate)

    drop = (torch.nn.Dropout2d if spatial else torch.nn.Dropout)(rate).train()
    return Row(f"canon_{'spatial_' if spatial else ''}dropout_{n}_{hw}x{hw}x{c}",
               f"{name}({rate}) training on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, drop, x, seed))


# ---- upsampling, rescaling, normalization --------------------------------------------


def row_upsampling(pycnn, torch, rng, n, hw, c, interpolation="nearest"):
    x, seed = _data(rng, (n, hw, hw, c), (n, 2 * hw, 2 * hw, c))

    def build():
        (UpSampling2D,) = _pycnn_layers(pycnn, "UpSampling2D")
        return UpSampling2D(2, interpolation=interpolation)

    # Keras' bilinear resize is half-pixel: torch's align_corners=False
    up = (torch.nn.Upsample(scale_factor=2, mode="nearest") if interpolation == "nearest" else
          torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
    return Row(f"canon_upsampling_{interpolation}_{n}_{hw}x{hw}x{c}",
               f"UpSampling2D(2, {interpolation}) on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, up, x, seed))


def row_rescaling(pycnn, torch, rng, n, hw=28, c=1):
    x, seed = _data(rng, (n, hw, hw, c), (n, hw, hw, c), uniform=True)
    x = x * 255

    def build():
        (Rescaling,) = _pycnn_layers(pycnn, "Rescaling")
        return Rescaling(1 / 127.5, offset=-1.0)

    return Row(f"canon_rescaling_{n}_{hw}x{hw}x{c}",
               f"Rescaling(1/127.5, -1) on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, lambda t: t * (1 / 127.5) + (-1.0), x, seed))


MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def row_normalization(pycnn, torch, rng, n, hw=28, c=1):
    x, seed = _data(rng, (n, hw, hw, c), (n, hw, hw, c), uniform=True)

    def build():
        (Normalization,) = _pycnn_layers(pycnn, "Normalization")
        layer = Normalization(mean=[MNIST_MEAN] * c, variance=[MNIST_STD ** 2] * c)
        layer.build(x.shape)
        return layer

    mean = torch.full((1, c, 1, 1), MNIST_MEAN)
    std = torch.full((1, c, 1, 1), MNIST_STD)
    return Row(f"canon_normalization_{n}_{hw}x{hw}x{c}",
               f"Normalization (MNIST mean/std) on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, lambda t: (t - mean) / std, x, seed))


# ---- Conv2DTranspose and dilated Conv2D ----------------------------------------------


def _cl_copy(torch, module):
    """a channels_last copy of module, with its weights"""
    return copy.deepcopy(module).to(memory_format=torch.channels_last)


def _cl_step(torch, fn, x, seed, params):
    cl = torch.channels_last
    return _torch_step(torch, fn, torch.from_numpy(_nchw(x)).to(memory_format=cl),
                       torch.from_numpy(_nchw(seed)).to(memory_format=cl), params=params)


def row_conv_transpose(pycnn, torch, rng, n, hw, c_in, filters, k):
    o = 2 * hw
    x, seed = _data(rng, (n, hw, hw, c_in), (n, o, o, filters))
    # Keras 'same', stride 2: O = 2I, tap kk of input pixel i landing on 2i + kk and the
    # spill past 2I cut at the bottom/right: torch's unpadded ConvTranspose2d
    # ((I-1)·2 + k rows) cut to 2I (a no-op for k = 2). padding=1, output_padding=1
    # would be as fast but shifted by one pixel.
    ct = torch.nn.ConvTranspose2d(c_in, filters, k, stride=2)

    def fn(module):
        return (lambda t: module(t)[:, :, :o, :o]) if k % 2 else module

    def build():
        (Conv2DTranspose,) = _pycnn_layers(pycnn, "Conv2DTranspose")
        layer = Conv2DTranspose(filters, k, strides=2, padding="same")
        layer.build((None, hw, hw, c_in))
        kernel, bias = layer.get_weights()              # (k, k, filters, C)
        with torch.no_grad():
            ct.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))
            ct.bias.copy_(torch.from_numpy(bias))
        return layer

    cols = _columns(pycnn, torch, build, fn(ct), x, seed, list(ct.parameters()))
    ct_cl = _cl_copy(torch, ct)                         # after build: the same weights
    cols["torch_cl"] = _cl_step(torch, fn(ct_cl), x, seed, list(ct_cl.parameters()))
    return Row(f"canon_conv_transpose_k{k}_{n}_{hw}x{hw}x{c_in}_{filters}",
               f"Conv2DTranspose {_shape(x.shape)}→{filters} {k}×{k} stride 2 same, fwd+bwd",
               cols)


def row_dilated_conv(pycnn, torch, rng, n, hw, c_in, filters):
    x, seed = _data(rng, (n, hw, hw, c_in), (n, hw, hw, filters))
    conv = torch.nn.Conv2d(c_in, filters, 3, padding=2, dilation=2)

    def build():
        (Conv2D,) = _pycnn_layers(pycnn, "Conv2D")
        layer = Conv2D(filters, 3, dilation_rate=2, padding="same")
        layer.build((None, hw, hw, c_in))
        kernel, bias = layer.get_weights()              # (3, 3, C, filters)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))
            conv.bias.copy_(torch.from_numpy(bias))
        return layer

    cols = _columns(pycnn, torch, build, conv, x, seed, list(conv.parameters()))
    conv_cl = _cl_copy(torch, conv)                     # after build: the same weights
    cols["torch_cl"] = _cl_step(torch, conv_cl, x, seed, list(conv_cl.parameters()))
    return Row(f"canon_dilated_conv_{n}_{hw}x{hw}x{c_in}_{filters}",
               f"Conv2D {_shape(x.shape)}→{filters} 3×3 dilation 2 same, fwd+bwd", cols)


# ---- activations as layers -----------------------------------------------------------

ACTIVATIONS = ("gelu", "softplus", "silu", "selu", "relu6")


def row_activation(pycnn, torch, rng, n, hw, c, name):
    x, seed = _data(rng, (n, hw, hw, c), (n, hw, hw, c))
    x = x * 3                                   # reach relu6's upper clip and softplus' tail

    def build():
        (Activation,) = _pycnn_layers(pycnn, "Activation")
        return Activation(name)

    F = torch.nn.functional
    fn = {"gelu": F.gelu, "softplus": F.softplus, "silu": F.silu, "selu": F.selu,
          "relu6": F.relu6}[name]
    return Row(f"canon_activation_{name}_{n}_{hw}x{hw}x{c}",
               f"Activation('{name}') on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, fn, x, seed))


# ---- augmentation layers (training mode) ---------------------------------------------


def torch_random_flip(torch, t):
    """each image flipped left-right with probability 1/2"""
    mask = torch.rand(t.shape[0], 1, 1, 1) < 0.5
    return torch.where(mask, t.flip(3), t)


def torch_affine_sample(torch, t, theta):
    """t sampled through theta (N, 2, 3), in normalised half-pixel coordinates, bilinear,
    reflected at the borders (Keras' fill_mode='reflect': d c b a | a b c d)"""
    F = torch.nn.functional
    grid = F.affine_grid(theta, list(t.shape), align_corners=False)
    return F.grid_sample(t, grid, mode="bilinear", padding_mode="reflection",
                         align_corners=False)


def _uniform(torch, n, lo, hi):
    return lo + (hi - lo) * torch.rand(n)


def torch_translation(torch, t, lo, hi):
    """shift each image by U(lo, hi)·H rows and U(lo, hi)·W columns: output pixel p reads
    input p - shift, i.e. normalised coordinate u reads u - 2·shift/size"""
    n = t.shape[0]
    dy, dx = _uniform(torch, n, lo, hi), _uniform(torch, n, lo, hi)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    theta[:, 0, 2] = -2 * dx
    theta[:, 1, 2] = -2 * dy
    return torch_affine_sample(torch, t, theta)


def torch_rotation(torch, t, lo, hi):
    """rotate each image about its centre by U(lo, hi)·2π, counter-clockwise (as seen with
    row 0 at the top) for positive angles: Keras' matrix, input = [[cos, -sin], [sin, cos]]
    (output - centre) + centre in (column, row) pixels"""
    n, _, h, w = t.shape
    a = _uniform(torch, n, lo, hi) * (2 * math.pi)
    cos, sin = torch.cos(a), torch.sin(a)
    theta = torch.zeros(n, 2, 3)
    # in pixels: input = R(a) (output - centre) + centre; normalised per axis
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = -sin * h / w
    theta[:, 1, 0] = sin * w / h
    theta[:, 1, 1] = cos
    return torch_affine_sample(torch, t, theta)


def torch_zoom(torch, t, lo, hi):
    """scale each image's sampling grid about its centre by 1 + U(lo, hi), both axes alike"""
    n = t.shape[0]
    z = 1 + _uniform(torch, n, lo, hi)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = z
    theta[:, 1, 1] = z
    return torch_affine_sample(torch, t, theta)


def torch_contrast(torch, t, lo, hi, value_range=(0.0, 1.0)):
    """per image: clip((x - mean) f + mean), mean per channel, f ~ U(1 - lo, 1 + hi)"""
    f = _uniform(torch, t.shape[0], 1 - lo, 1 + hi).view(-1, 1, 1, 1)
    m = t.mean(dim=(2, 3), keepdim=True)
    return ((t - m) * f + m).clamp(*value_range)


AUGMENTATIONS = ("flip", "translation", "rotation", "zoom", "contrast")


def row_augmentation(pycnn, torch, rng, n, hw, c, kind, factor=None):
    """factor: the layer's factor (a pair), default the usual MNIST augmentation; the
    tests pin it (lower == upper) to make the draw deterministic"""
    x, seed = _data(rng, (n, hw, hw, c), (n, hw, hw, c), uniform=kind == "contrast")
    default = {"flip": None, "translation": (-0.1, 0.1), "rotation": (-0.05, 0.05),
               "zoom": (-0.1, 0.1), "contrast": (0.2, 0.2)}[kind]
    lo, hi = default if factor is None and default else (factor or (None, None))

    def build():
        if kind == "flip":
            (L,) = _pycnn_layers(pycnn, "RandomFlip")
            return L("horizontal")
        if kind == "contrast":
            (L,) = _pycnn_layers(pycnn, "RandomContrast")
            return L((lo, hi), value_range=(0, 1))
        name = {"translation": "RandomTranslation", "rotation": "RandomRotation",
                "zoom": "RandomZoom"}[kind]
        (L,) = _pycnn_layers(pycnn, name)
        if kind == "translation":
            return L((lo, hi), (lo, hi))
        return L((lo, hi))

    fn = {"flip": lambda t: torch_random_flip(torch, t),
          "translation": lambda t: torch_translation(torch, t, lo, hi),
          "rotation": lambda t: torch_rotation(torch, t, lo, hi),
          "zoom": lambda t: torch_zoom(torch, t, lo, hi),
          "contrast": lambda t: torch_contrast(torch, t, lo, hi)}[kind]
    name = {"flip": "RandomFlip('horizontal')", "translation": f"RandomTranslation({hi})",
            "rotation": f"RandomRotation({hi})", "zoom": f"RandomZoom({hi})",
            "contrast": f"RandomContrast({hi})"}[kind]
    return Row(f"canon_random_{kind}_{n}_{hw}x{hw}x{c}",
               f"{name} training on {_shape(x.shape)}, fwd+bwd",
               _columns(pycnn, torch, build, fn, x, seed))


def canon_rows(pycnn, torch, rng, quick=False):
    """Every issue-16 layer row, in report order (quick: batch 32 only)."""
    out = []
    for n in (32,) if quick else (32, 128):
        out += [row_layernorm(pycnn, torch, rng, n, 28, 32),
                row_layernorm(pycnn, torch, rng, n, 7, 128),
                row_global_max_pool(pycnn, torch, rng, n, 7, 128),
                row_zero_padding(pycnn, torch, rng, n, 14, 64),
                row_cropping(pycnn, torch, rng, n, 28, 32),
                row_dropout(pycnn, torch, rng, n, 14, 64),
                row_dropout(pycnn, torch, rng, n, 14, 64, spatial=True),
                row_upsampling(pycnn, torch, rng, n, 14, 64, "nearest"),
                row_upsampling(pycnn, torch, rng, n, 14, 64, "bilinear"),
                row_rescaling(pycnn, torch, rng, n),
                row_normalization(pycnn, torch, rng, n),
                row_conv_transpose(pycnn, torch, rng, n, 7, 128, 64, 2),
                row_conv_transpose(pycnn, torch, rng, n, 14, 64, 32, 3),
                row_dilated_conv(pycnn, torch, rng, n, 14, 32, 64)]
        out += [row_activation(pycnn, torch, rng, n, 28, 32, a) for a in ACTIVATIONS]
        out += [row_augmentation(pycnn, torch, rng, n, 28, 1, a) for a in AUGMENTATIONS]
    return out
