"""The rows of the in-process table: one function per row, each returning the callables
to time side by side.

Every callable does one forward + backward (or one forward for the GEMM rows) and
leaves no state behind (gradients are reset to None, as ``zero_grad(set_to_none=True)``
does), so repeating it measures steady-state cost. Inputs require grad in every
framework, so each backward computes dx as well as the weight gradients.

pycnn is channels_last (N, H, W, C); PyTorch runs NCHW and channels_last; the NumPy
reference is the classic course code (NCHW), see numpy_ref.py.
"""
import dataclasses

import numpy as np

from . import numpy_ref as ref


class NotLanded(Exception):
    """The pycnn feature a row needs is not in this build yet."""


@dataclasses.dataclass
class Row:
    key: str
    title: str
    impls: dict                 # column -> callable, or str (why the column is empty)
    flops: float = 0.0          # per call, for the GEMM rows


def _pycnn_layers(pycnn, *names):
    layers = getattr(pycnn, "layers", None)
    missing = [n for n in names if layers is None or not hasattr(layers, n)]
    if missing:
        raise NotLanded("pycnn.layers." + ", ".join(missing) + " not landed yet")
    return [getattr(layers, n) for n in names]


def _backward_step(fn, x, seed, params):
    """One timed step, the same for pycnn and PyTorch: y = fn(x), y.backward(seed), then the
    gradients of x and params cleared so the next step starts from none."""
    def step():
        y = fn(x)
        y.backward(seed)
        x.grad = None
        for p in params:
            p.grad = None
        return y
    return step


def _pycnn_step(pycnn, layer, x_np, seed_np, input_grad=True):
    """pycnn forward + backward through one layer; x requires grad (unless not input_grad)."""
    x = pycnn.tensor(x_np, requires_grad=input_grad)
    return _backward_step(lambda t: layer(t, training=True), x, seed_np, list(layer.weights))


def _torch_step(torch, fn, x_t, seed_t, input_grad=True, params=None):
    """PyTorch forward + backward through fn (a module, or a function of the tensor whose
    weights are params; a module's are its parameters()); x requires grad unless not
    input_grad."""
    x = x_t.detach().requires_grad_(input_grad)
    if params is None:
        params = list(fn.parameters()) if isinstance(fn, torch.nn.Module) else []
    return _backward_step(fn, x, seed_t, params)


def _torch_columns(torch, module, module_cl, x_nchw, seed_nchw):
    """PyTorch in NCHW and in channels_last (module_cl already converted)."""
    cl = torch.channels_last
    x, seed = torch.from_numpy(x_nchw), torch.from_numpy(seed_nchw)
    return {"torch": _torch_step(torch, module, x, seed),
            "torch_cl": _torch_step(torch, module_cl, x.to(memory_format=cl),
                                    seed.to(memory_format=cl))}


def _safe(build):
    """Build one column; a missing pycnn feature leaves the column empty with a reason."""
    try:
        return build()
    except NotLanded as e:
        return str(e)


# ---- per-op overhead -------------------------------------------------------------

CHAIN_LEN = 100


def _chain(x, b, c, tanh):
    """100 small element-wise ops: (+, ×, tanh, −) × 25"""
    y = x
    for _ in range(CHAIN_LEN // 4):
        y = y + b
        y = y * c
        y = tanh(y)
        y = y - b
    return y


def row_per_op(pycnn, torch, rng):
    x, b, c = (rng.standard_normal((32, 32)).astype(np.float32) for _ in range(3))
    seed = np.ones((32, 32), np.float32)

    def pc():
        xs = [pycnn.tensor(a, requires_grad=True) for a in (x, b, c)]
        _chain(*xs, pycnn.tanh).backward(seed)

    seed_t = torch.from_numpy(seed)

    def tc():
        xs = [torch.tensor(a, requires_grad=True) for a in (x, b, c)]
        _chain(*xs, torch.tanh).backward(seed_t)

    def npref():                # forward only: a NumPy user has no autograd
        _chain(x, b, c, np.tanh)

    return Row("per_op", "per-op overhead: 100 element-wise ops on 32×32, fwd+bwd",
               {"pycnn": pc, "torch": tc, "numpy_ref": npref})


# ---- Dense -----------------------------------------------------------------------


def row_dense(pycnn, torch, rng, batch, d_in=784, units=512):
    x = rng.standard_normal((batch, d_in)).astype(np.float32)
    seed = np.ones((batch, units), np.float32)

    def build_pc():
        (Dense,) = _pycnn_layers(pycnn, "Dense")
        layer = Dense(units)
        layer.build((None, d_in))
        return _pycnn_step(pycnn, layer, x, seed)

    lin = torch.nn.Linear(d_in, units)
    model = ref.MLP((d_in, units))
    w, bias = model.params[0]

    def npref():
        out, cache = ref.affine_forward(x, w, bias)
        ref.affine_backward(seed, cache)

    return Row(f"dense_{batch}", f"Dense 784→512 fwd+bwd, batch {batch}",
               {"pycnn": _safe(build_pc),
                "torch": _torch_step(torch, lin, torch.from_numpy(x), torch.from_numpy(seed)),
                "numpy_ref": npref})


# ---- Conv2D ----------------------------------------------------------------------


def row_conv(pycnn, torch, rng, n, hw, c_in, filters):
    x = rng.standard_normal((n, hw, hw, c_in)).astype(np.float32)      # NHWC
    seed = np.ones((n, hw, hw, filters), np.float32)
    x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    seed_nchw = np.ascontiguousarray(seed.transpose(0, 3, 1, 2))

    def build_pc():
        (Conv2D,) = _pycnn_layers(pycnn, "Conv2D")
        layer = Conv2D(filters, 3, padding="same")
        layer.build((None, hw, hw, c_in))
        return _pycnn_step(pycnn, layer, x, seed)

    conv = torch.nn.Conv2d(c_in, filters, 3, padding=1)
    conv_cl = torch.nn.Conv2d(c_in, filters, 3, padding=1).to(memory_format=torch.channels_last)
    w = (np.random.default_rng(0).standard_normal((filters, c_in, 3, 3)) * 0.1).astype(np.float32)
    bias = np.zeros(filters, np.float32)

    def npref():
        out, cache = ref.conv_forward(x_nchw, w, bias)
        ref.conv_backward(seed_nchw, cache)

    return Row(f"conv_{n}_{hw}x{hw}x{c_in}_{filters}",
               f"Conv2D ({n},{hw},{hw},{c_in})→{filters} 3×3 same, fwd+bwd",
               {"pycnn": _safe(build_pc),
                **_torch_columns(torch, conv, conv_cl, x_nchw, seed_nchw),
                "numpy_ref": npref})


# ---- MaxPooling2D ------------------------------------------------------------------


def row_pool(pycnn, torch, rng, n, hw=28, c=32):
    x = rng.standard_normal((n, hw, hw, c)).astype(np.float32)
    seed = np.ones((n, hw // 2, hw // 2, c), np.float32)
    x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    seed_nchw = np.ascontiguousarray(seed.transpose(0, 3, 1, 2))

    def build_pc():
        (MaxPooling2D,) = _pycnn_layers(pycnn, "MaxPooling2D")
        layer = MaxPooling2D(2)
        return _pycnn_step(pycnn, layer, x, seed)

    pool = torch.nn.MaxPool2d(2)

    def npref():
        out, cache = ref.max_pool_forward(x_nchw)
        ref.max_pool_backward(seed_nchw, cache)

    return Row(f"pool_{n}", f"MaxPooling2D 2×2 on ({n},{hw},{hw},{c}), fwd+bwd",
               {"pycnn": _safe(build_pc),
                **_torch_columns(torch, pool, pool, x_nchw, seed_nchw),
                "numpy_ref": npref})


# ---- BatchNormalization and global average pooling (the ResNet shapes) ---------------


def _nhwc_pair(rng, shape, out_shape):
    """x (NHWC) and a seed of out_shape, with their NCHW copies"""
    x = rng.standard_normal(shape).astype(np.float32)
    seed = rng.standard_normal(out_shape).astype(np.float32)
    nchw = (lambda a: np.ascontiguousarray(a.transpose(0, 3, 1, 2)) if a.ndim == 4 else a)
    return x, seed, nchw(x), nchw(seed)


def row_batchnorm(pycnn, torch, rng, n, hw, c):
    x, seed, x_nchw, seed_nchw = _nhwc_pair(rng, (n, hw, hw, c), (n, hw, hw, c))

    def build_pc():
        (BatchNormalization,) = _pycnn_layers(pycnn, "BatchNormalization")
        layer = BatchNormalization()
        layer.build(x.shape)
        return _pycnn_step(pycnn, layer, x, seed)

    bn = torch.nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)
    bn_cl = torch.nn.BatchNorm2d(c, eps=1e-3, momentum=0.01).to(memory_format=torch.channels_last)
    gamma, beta = np.ones(c, np.float32), np.zeros(c, np.float32)

    def npref():
        out, cache = ref.spatial_batchnorm_forward(x_nchw, gamma, beta)
        ref.spatial_batchnorm_backward(seed_nchw, cache)

    return Row(f"batchnorm_{n}_{hw}x{hw}x{c}",
               f"BatchNormalization training on ({n},{hw},{hw},{c}), fwd+bwd",
               {"pycnn": _safe(build_pc), **_torch_columns(torch, bn, bn_cl, x_nchw, seed_nchw),
                "numpy_ref": npref})


def row_global_avg_pool(pycnn, torch, rng, n, hw, c):
    x, seed, x_nchw, _ = _nhwc_pair(rng, (n, hw, hw, c), (n, c))

    def build_pc():
        (GlobalAveragePooling2D,) = _pycnn_layers(pycnn, "GlobalAveragePooling2D")
        return _pycnn_step(pycnn, GlobalAveragePooling2D(), x, seed)

    gap = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    seed_t = torch.from_numpy(seed)

    def npref():
        out, shape = ref.global_avg_pool_forward(x_nchw)
        ref.global_avg_pool_backward(seed, shape)

    return Row(f"global_avg_pool_{n}_{hw}x{hw}x{c}",
               f"GlobalAveragePooling2D on ({n},{hw},{hw},{c}), fwd+bwd",
               {"pycnn": _safe(build_pc),
                "torch": _torch_step(torch, gap, torch.from_numpy(x_nchw), seed_t),
                "torch_cl": _torch_step(torch, gap, torch.from_numpy(x_nchw).to(
                    memory_format=torch.channels_last), seed_t),
                "numpy_ref": npref})


# ---- the MobileNet convolutions (28×28 MNIST: 14×14×32 and 7×7×64 after the stem) ------


def _torch_conv_columns(torch, make, x_nchw, seed_nchw):
    """make() -> a torch module; NCHW and channels_last copies with the same weights"""
    module = make()
    module_cl = make().to(memory_format=torch.channels_last)
    module_cl.load_state_dict(module.state_dict())
    return _torch_columns(torch, module, module_cl, x_nchw, seed_nchw)


def row_depthwise(pycnn, torch, rng, n, hw, c, strides=1):
    out = -(-hw // strides)
    x, seed, x_nchw, seed_nchw = _nhwc_pair(rng, (n, hw, hw, c), (n, out, out, c))

    def build_pc():
        (DepthwiseConv2D,) = _pycnn_layers(pycnn, "DepthwiseConv2D")
        layer = DepthwiseConv2D(3, strides=strides, padding="same")
        layer.build(x.shape)
        return _pycnn_step(pycnn, layer, x, seed)

    w = (rng.standard_normal((c, 1, 3, 3)) * 0.1).astype(np.float32)
    bias = np.zeros(c, np.float32)

    def npref():                # 'same' = pad 1 for stride 1 and 2 at these even sizes
        xin = x_nchw if strides == 1 else np.pad(x_nchw, ((0, 0), (0, 0), (0, 1), (0, 1)))
        out_, caches = ref.grouped_conv_forward(xin, w, bias, c, pad=1 if strides == 1 else 0,
                                                stride=strides)
        ref.grouped_conv_backward(seed_nchw, caches)

    def make():                 # torch pads symmetrically; Keras' stride-2 'same' pads 0/1
        pad = 1 if strides == 1 else 0
        conv = torch.nn.Conv2d(c, c, 3, strides, padding=pad, groups=c)
        return conv if strides == 1 else torch.nn.Sequential(torch.nn.ZeroPad2d((0, 1, 0, 1)),
                                                             conv)

    return Row(f"depthwise_{n}_{hw}x{hw}x{c}_s{strides}",
               f"DepthwiseConv2D 3×3 same stride {strides} on ({n},{hw},{hw},{c}), fwd+bwd",
               {"pycnn": _safe(build_pc), **_torch_conv_columns(torch, make, x_nchw, seed_nchw),
                "numpy_ref": npref})


def row_separable(pycnn, torch, rng, n, hw, c, filters):
    x, seed, x_nchw, seed_nchw = _nhwc_pair(rng, (n, hw, hw, c), (n, hw, hw, filters))

    def build_pc():
        (SeparableConv2D,) = _pycnn_layers(pycnn, "SeparableConv2D")
        layer = SeparableConv2D(filters, 3, padding="same")
        layer.build(x.shape)
        return _pycnn_step(pycnn, layer, x, seed)

    dw = (rng.standard_normal((c, 1, 3, 3)) * 0.1).astype(np.float32)
    pw = (rng.standard_normal((filters, c, 1, 1)) * 0.1).astype(np.float32)
    zeros_c, bias = np.zeros(c, np.float32), np.zeros(filters, np.float32)

    def npref():
        z, caches = ref.grouped_conv_forward(x_nchw, dw, zeros_c, c)
        y, cache = ref.conv_forward(z, pw, bias, pad=0)
        dz, _, _ = ref.conv_backward(seed_nchw, cache)
        ref.grouped_conv_backward(dz, caches)

    def make():
        return torch.nn.Sequential(torch.nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False),
                                   torch.nn.Conv2d(c, filters, 1))

    return Row(f"separable_{n}_{hw}x{hw}x{c}_{filters}",
               f"SeparableConv2D ({n},{hw},{hw},{c})→{filters} 3×3 same, fwd+bwd",
               {"pycnn": _safe(build_pc), **_torch_conv_columns(torch, make, x_nchw, seed_nchw),
                "numpy_ref": npref})


def row_grouped_conv(pycnn, torch, rng, n, hw, c, filters, groups):
    x, seed, x_nchw, seed_nchw = _nhwc_pair(rng, (n, hw, hw, c), (n, hw, hw, filters))

    def build_pc():
        (Conv2D,) = _pycnn_layers(pycnn, "Conv2D")
        layer = Conv2D(filters, 3, padding="same", groups=groups)
        layer.build(x.shape)
        return _pycnn_step(pycnn, layer, x, seed)

    w = (rng.standard_normal((filters, c // groups, 3, 3)) * 0.1).astype(np.float32)
    bias = np.zeros(filters, np.float32)

    def npref():
        out, caches = ref.grouped_conv_forward(x_nchw, w, bias, groups)
        ref.grouped_conv_backward(seed_nchw, caches)

    return Row(f"grouped_conv_{n}_{hw}x{hw}x{c}_{filters}_g{groups}",
               f"Conv2D(groups={groups}) ({n},{hw},{hw},{c})→{filters} 3×3 same, fwd+bwd",
               {"pycnn": _safe(build_pc),
                **_torch_conv_columns(torch, lambda: torch.nn.Conv2d(c, filters, 3, padding=1,
                                                                     groups=groups),
                                      x_nchw, seed_nchw),
                "numpy_ref": npref})


def row_conv1d(pycnn, torch, rng, n, steps, c, filters, k=5):
    x = rng.standard_normal((n, steps, c)).astype(np.float32)
    seed = rng.standard_normal((n, steps, filters)).astype(np.float32)

    def build_pc():
        (Conv1D,) = _pycnn_layers(pycnn, "Conv1D")
        layer = Conv1D(filters, k, padding="causal")
        layer.build(x.shape)
        return _pycnn_step(pycnn, layer, x, seed)

    conv = torch.nn.Sequential(torch.nn.ConstantPad1d((k - 1, 0), 0.0),
                               torch.nn.Conv1d(c, filters, k))
    w = (rng.standard_normal((filters, c, 1, k)) * 0.1).astype(np.float32)
    bias = np.zeros(filters, np.float32)
    x4 = np.pad(x, ((0, 0), (k - 1, 0), (0, 0))).transpose(0, 2, 1)
    x4 = np.ascontiguousarray(x4)[:, :, None]
    seed4 = np.ascontiguousarray(seed.transpose(0, 2, 1))[:, :, None]

    def npref():                # the course's conv over one-row images
        out, cache = ref.conv_forward(x4, w, bias, pad=0)
        ref.conv_backward(seed4, cache)

    return Row(f"conv1d_{n}_{steps}x{c}_{filters}",
               f"Conv1D ({n},{steps},{c})→{filters} k={k} causal, fwd+bwd",
               {"pycnn": _safe(build_pc),
                "torch": _torch_step(torch, conv, torch.from_numpy(
                    np.ascontiguousarray(x.transpose(0, 2, 1))),
                    torch.from_numpy(np.ascontiguousarray(seed.transpose(0, 2, 1)))),
                "numpy_ref": npref})


# ---- GEMM efficiency: forward only, against NumPy's own float32 matmul ---------------


def row_gemm_dense(pycnn, torch, rng, batch, d_in=784, units=512):
    x = rng.standard_normal((batch, d_in)).astype(np.float32)
    w = rng.standard_normal((d_in, units)).astype(np.float32)

    def build_pc():
        (Dense,) = _pycnn_layers(pycnn, "Dense")
        layer = Dense(units)
        layer.build((None, d_in))
        xt = pycnn.tensor(x)

        def forward():                  # inference, as PyTorch's column: no graph kept
            with pycnn.no_grad():
                layer(xt)
        return forward

    lin = torch.nn.Linear(d_in, units)
    xt = torch.from_numpy(x)

    def tc():
        with torch.no_grad():
            lin(xt)

    return Row(f"gemm_dense_{batch}", f"Dense 784→512 forward, batch {batch}",
               {"pycnn": _safe(build_pc), "torch": tc, "numpy_matmul": lambda: x @ w},
               flops=2.0 * batch * d_in * units)


def row_gemm_conv(pycnn, torch, rng, n, hw, c_in, filters):
    x = rng.standard_normal((n, hw, hw, c_in)).astype(np.float32)
    a = rng.standard_normal((n * hw * hw, 9 * c_in)).astype(np.float32)    # im2col shape
    w = rng.standard_normal((9 * c_in, filters)).astype(np.float32)

    def build_pc():
        (Conv2D,) = _pycnn_layers(pycnn, "Conv2D")
        layer = Conv2D(filters, 3, padding="same")
        layer.build((None, hw, hw, c_in))
        xt = pycnn.tensor(x)

        def forward():                  # inference, as PyTorch's column: no graph kept
            with pycnn.no_grad():
                layer(xt)
        return forward

    conv = torch.nn.Conv2d(c_in, filters, 3, padding=1)
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

    def tc():
        with torch.no_grad():
            conv(xt)

    return Row(f"gemm_conv_{n}_{hw}x{hw}x{c_in}_{filters}",
               f"Conv2D ({n},{hw},{hw},{c_in})→{filters} forward",
               {"pycnn": _safe(build_pc), "torch": tc, "numpy_matmul": lambda: a @ w},
               flops=2.0 * n * hw * hw * 9 * c_in * filters)


def layer_rows(pycnn, torch, rng, quick=False):
    """Every in-process row, in report order (quick: small batches only, for tests)."""
    batches = (32,) if quick else (32, 128)
    rows = [row_per_op(pycnn, torch, rng)]
    rows += [row_dense(pycnn, torch, rng, b) for b in batches]
    for n in batches:
        rows.append(row_conv(pycnn, torch, rng, n, 28, 1, 32))
        rows.append(row_conv(pycnn, torch, rng, n, 14, 32, 64))
    rows += [row_pool(pycnn, torch, rng, n) for n in batches]
    for n in batches:
        rows.append(row_batchnorm(pycnn, torch, rng, n, 28, 32))
        rows.append(row_batchnorm(pycnn, torch, rng, n, 14, 64))
        rows.append(row_global_avg_pool(pycnn, torch, rng, n, 7, 128))
    for n in batches:           # a MobileNet on 28×28 MNIST, after its stride-2 stem
        rows.append(row_depthwise(pycnn, torch, rng, n, 14, 32))
        rows.append(row_depthwise(pycnn, torch, rng, n, 14, 64, strides=2))
        rows.append(row_depthwise(pycnn, torch, rng, n, 7, 128))
        rows.append(row_separable(pycnn, torch, rng, n, 14, 32, 64))
        rows.append(row_grouped_conv(pycnn, torch, rng, n, 14, 32, 64, 4))
        rows.append(row_conv1d(pycnn, torch, rng, n, 100, 16, 32))
    return rows


def gemm_rows(pycnn, torch, rng, quick=False):
    batches = (32,) if quick else (32, 128)
    rows = [row_gemm_dense(pycnn, torch, rng, b) for b in batches]
    for n in batches:
        rows.append(row_gemm_conv(pycnn, torch, rng, n, 28, 1, 32))
        rows.append(row_gemm_conv(pycnn, torch, rng, n, 14, 32, 64))
    return rows
