"""Conv2D's other routes besides im2col + GEMM: Winograd F(2×2, 3×3) and the direct
convolution for short patches. Forward and every gradient against the plain-NumPy
reference and against the im2col route, float64 gradchecks, and the bookkeeping around
them (which geometries take which route, saved transforms, retain_graph, frozen kernels,
thread counts)."""
import numpy as np
import pytest

import pycnn
from pycnn import _core
from pycnn.layers import Conv2D
from tests import reference as R
from tests.helpers import switched


def algorithm(name):
    return switched(_core._set_conv_algorithm, name)


def forward_backward(x, k, b, padding, seed, algo):
    """y, dx, dk, db through one algorithm"""
    with algorithm(algo):
        xt, kt, bt = (pycnn.tensor(a, requires_grad=True) for a in (x, k, b))
        y = pycnn.conv2d(xt, kt, bt, padding=padding)
        y.backward(seed)
        return [np.asarray(t) for t in (y, xt.grad, kt.grad, bt.grad)]


# (N, H, W, C, F, padding): odd and even sizes (edge tiles cut by the image), channel
# and filter counts past one 64-wide block, the smallest images
SHAPES = [
    (2, 5, 7, 3, 2, "same"),
    (2, 6, 6, 4, 5, "valid"),
    (1, 3, 3, 2, 3, "valid"),       # one output pixel
    (1, 1, 1, 2, 2, "same"),        # one pixel, all padding
    (3, 4, 9, 70, 3, "same"),       # C spans two channel blocks
    (2, 7, 4, 3, 65, "valid"),      # F spans two filter blocks
    (2, 14, 14, 32, 64, "same"),    # the lecture's second convolution
]


@pytest.mark.parametrize("n,h,w,c,f,padding", SHAPES)
def test_winograd_matches_reference_and_im2col_float64(n, h, w, c, f, padding, rng):
    x, k, b = (rng.standard_normal(s) for s in ((n, h, w, c), (3, 3, c, f), (f,)))
    y_ref = R.conv2d(x, k, b, (1, 1), padding)
    seed = rng.standard_normal(y_ref.shape)
    wino = forward_backward(x, k, b, padding, seed, "winograd")
    im2col = forward_backward(x, k, b, padding, seed, "im2col")
    np.testing.assert_allclose(wino[0], y_ref, rtol=1e-12, atol=1e-12)
    for a, r, name in zip(wino, im2col, ("y", "dx", "dkernel", "dbias")):
        np.testing.assert_allclose(a, r, rtol=1e-11, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("n,h,w,c,f,padding", SHAPES[:2] + SHAPES[-1:])
def test_winograd_float32_within_float32_rounding(n, h, w, c, f, padding, rng):
    x, k, b = (rng.standard_normal(s) for s in ((n, h, w, c), (3, 3, c, f), (f,)))
    seed = rng.standard_normal(R.conv2d(x, k, b, (1, 1), padding).shape)
    exact = forward_backward(x, k, b, padding, seed, "im2col")
    f32 = [a.astype(np.float32) for a in (x, k, b, seed)]
    wino = forward_backward(*f32[:3], padding, f32[3], "winograd")
    assert all(a.dtype == np.float32 for a in wino)
    for a, r, name in zip(wino, exact, ("y", "dx", "dkernel", "dbias")):
        scale = np.abs(r).max()
        assert np.abs(a - r).max() <= 2e-6 * scale * np.sqrt(9 * c), name


@pytest.mark.parametrize("h,w,c,f,padding", [(5, 6, 3, 2, "same"), (5, 5, 2, 3, "valid"),
                                             (3, 4, 2, 2, "same")])
def test_winograd_gradcheck(h, w, c, f, padding, rng):
    x, k, b = (rng.standard_normal(s) for s in ((2, h, w, c), (3, 3, c, f), (f,)))
    with algorithm("winograd"):
        assert pycnn.gradcheck(lambda x, k, b: pycnn.conv2d(x, k, b, padding=padding),
                               [x, k, b])


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_winograd_layer_with_activation_gradcheck(act, rng):
    layer = Conv2D(9, 3, padding="same", activation=act)     # ≥ 8 filters: the auto route
    x = rng.standard_normal((2, 5, 4, 8))
    layer(x)
    assert pycnn.gradcheck(lambda x, k, b: layer(x), [x, layer.kernel, layer.bias])


def test_auto_takes_winograd_for_many_channels_and_im2col_otherwise(rng):
    """The automatic choice gives bit for bit what the forced route gives"""
    def run(c, f, algo):
        x = rng.standard_normal((2, 6, 6, c)).astype(np.float32)
        k = rng.standard_normal((3, 3, c, f)).astype(np.float32)
        outs = {}
        for a in ("auto", "im2col", "winograd", "direct"):
            with algorithm(a):
                outs[a] = pycnn.conv2d(x, k, padding="same").numpy()
        assert not np.array_equal(outs["im2col"], outs["winograd"])
        np.testing.assert_array_equal(outs["auto"], outs[algo])
    run(16, 16, "winograd")
    run(1, 32, "direct")            # one input channel: a 9-value patch, no transforms


def test_winograd_only_for_3x3_stride_1(rng):
    """A forced Winograd leaves other windows to im2col, which stays exact"""
    x = rng.standard_normal((2, 7, 7, 8))
    for kernel, strides in (((5, 5), 1), ((3, 3), 2), ((1, 1), 1)):
        k = rng.standard_normal(kernel + (8, 8))
        with algorithm("winograd"):
            y = pycnn.conv2d(x, k, strides=strides, padding="same").numpy()
        np.testing.assert_allclose(y, R.conv2d(x, k, None, (strides, strides), "same"),
                                   rtol=1e-12, atol=1e-12)


def test_kept_transforms_survive_retain_graph(rng):
    """Backward twice with retain_graph: the saved V is read, never overwritten"""
    x, k = rng.standard_normal((2, 6, 5, 8)), rng.standard_normal((3, 3, 8, 8))
    with algorithm("winograd"):
        xt, kt = pycnn.tensor(x, requires_grad=True), pycnn.tensor(k, requires_grad=True)
        y = (pycnn.conv2d(xt, kt, padding="same") ** 2).sum()
        y.backward(retain_graph=True)
        first = kt.grad.numpy().copy(), xt.grad.numpy().copy()
        y.backward()
    np.testing.assert_allclose(kt.grad.numpy(), 2 * first[0], rtol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), 2 * first[1], rtol=1e-12)


def test_frozen_kernel_and_input_without_grad(rng):
    """Only the gradients asked for are computed, and they are right"""
    x, k = rng.standard_normal((2, 6, 6, 8)), rng.standard_normal((3, 3, 8, 8))
    seed = rng.standard_normal((2, 6, 6, 8))
    y_ref, dx_ref, dk_ref, _ = forward_backward(x, k, np.zeros(8), "same", seed, "im2col")
    with algorithm("winograd"):
        xt, kt = pycnn.tensor(x, requires_grad=True), pycnn.tensor(k)        # frozen kernel
        pycnn.conv2d(xt, kt, padding="same").backward(seed)
        assert kt.grad is None
        np.testing.assert_allclose(xt.grad.numpy(), dx_ref, rtol=1e-11, atol=1e-11)
        xt, kt = pycnn.tensor(x), pycnn.tensor(k, requires_grad=True)        # input no grad
        pycnn.conv2d(xt, kt, padding="same").backward(seed)
        assert xt.grad is None
        np.testing.assert_allclose(kt.grad.numpy(), dk_ref, rtol=1e-11, atol=1e-11)
        with pycnn.no_grad():
            y = pycnn.conv2d(pycnn.tensor(x, requires_grad=True), kt, padding="same")
        np.testing.assert_allclose(y.numpy(), y_ref, rtol=1e-12, atol=1e-12)


def test_gradient_accumulates_across_backward_calls(rng):
    x, k = rng.standard_normal((1, 4, 4, 8)), rng.standard_normal((3, 3, 8, 8))
    with algorithm("winograd"):
        kt = pycnn.tensor(k, requires_grad=True)
        pycnn.conv2d(x, kt, padding="same").sum().backward()
        once = kt.grad.numpy().copy()
        pycnn.conv2d(x, kt, padding="same").sum().backward()
    np.testing.assert_allclose(kt.grad.numpy(), 2 * once, rtol=1e-12)


def test_set_conv_algorithm_rejects_unknown_names():
    with pytest.raises(ValueError, match="'auto', 'im2col', 'winograd' or 'direct'"):
        _core._set_conv_algorithm("fft")
    with pytest.raises(TypeError, match="got int"):
        _core._set_conv_algorithm(3)
    assert _core._set_conv_algorithm("auto") == "auto"


# ---- direct convolution (patches of at most 160 values) -------------------------------

# (N, H, W, C, KH, KW, F, strides, padding): one to three channels, strides, even kernels,
# filter counts around the vector widths (4, 8, 16, 32 per register block), a batch
# past the 64 blocks of the kernel gradient
DIRECT = [
    (2, 5, 7, 1, 3, 3, 9, (1, 1), "same"),
    (3, 6, 6, 3, 3, 3, 33, (2, 2), "valid"),
    (2, 8, 5, 2, 5, 3, 5, (2, 1), "same"),
    (2, 6, 6, 2, 4, 4, 70, (1, 1), "same"),
    (70, 4, 5, 1, 3, 3, 8, (1, 1), "same"),
    (1, 2, 2, 1, 3, 3, 16, (1, 1), "same"),     # every window mostly padding
    (2, 7, 8, 2, 2, 2, 6, (3, 3), "same"),      # padding only after, windows skip columns
    (2, 9, 7, 1, 2, 2, 5, (3, 3), "same"),      # the last row unused, a column padded
]


WINOGRAD_LAYERS = [(2, 5, 7, 8, 3, 3, 9, (1, 1), "same"), (70, 4, 3, 8, 3, 3, 65, (1, 1), "same"),
                   (2, 6, 5, 9, 3, 3, 8, (1, 1), "valid")]


# "auto" with an input gradient: the kernel gradient direct, dx through dz·Wmᵀ and col2im
@pytest.mark.parametrize("algo,n,h,w,c,kh,kw,f,strides,padding",
                         [("direct",) + case for case in DIRECT] +
                         [("auto",) + case for case in DIRECT] +
                         [("winograd",) + case for case in WINOGRAD_LAYERS])
@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh"])
def test_layer_route_matches_reference_and_im2col_float64(algo, n, h, w, c, kh, kw, f, strides,
                                                          padding, act, rng):
    """Bias and activation folded into the route, forward and backward"""
    layer = Conv2D(f, (kh, kw), strides=strides, padding=padding, activation=act,
                   dtype="float64")
    x = rng.standard_normal((n, h, w, c))
    layer.build(x.shape)
    layer.bias.numpy()[:] = rng.standard_normal(f)
    acts = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0),
            "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}
    y_ref = acts[act](R.conv2d(x, layer.kernel.numpy(), layer.bias.numpy(), strides, padding))
    seed = rng.standard_normal(y_ref.shape)
    outs = {}
    for route in (algo, "im2col"):
        with algorithm(route):
            xt = pycnn.tensor(x, requires_grad=True)
            y = layer(xt)
            y.backward(seed)
            outs[route] = [y.numpy(), xt.grad.numpy(), layer.kernel.grad.numpy().copy(),
                           layer.bias.grad.numpy().copy()]
            layer.kernel.grad = layer.bias.grad = None
    np.testing.assert_allclose(outs[algo][0], y_ref, rtol=1e-12, atol=1e-12)
    for a, r, name in zip(outs[algo], outs["im2col"], ("y", "dx", "dkernel", "dbias")):
        np.testing.assert_allclose(a, r, rtol=1e-11, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("n,h,w,c,kh,kw,f,strides,padding", DIRECT)
@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid"])
def test_direct_kernel_gradient_without_input_gradient(n, h, w, c, kh, kw, f, strides,
                                                       padding, act, rng):
    """An input that wants no gradient (a first layer): the strip-by-strip kernel and bias
    gradients against the im2col route's"""
    layer = Conv2D(f, (kh, kw), strides=strides, padding=padding, activation=act,
                   dtype="float64")
    x = rng.standard_normal((n, h, w, c))
    layer.build(x.shape)
    seed = rng.standard_normal(layer(x).shape)
    grads = {}
    for algo in ("auto", "im2col"):
        with algorithm(algo):
            layer(x).backward(seed)
        grads[algo] = layer.kernel.grad.numpy().copy(), layer.bias.grad.numpy().copy()
        layer.kernel.grad = layer.bias.grad = None
    for a, r in zip(grads["auto"], grads["im2col"]):
        np.testing.assert_allclose(a, r, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("act", ["linear", "relu", "tanh"])
def test_direct_gradcheck(act, rng):
    layer = Conv2D(5, 3, strides=(1, 2), padding="same", activation=act)
    x = rng.standard_normal((2, 5, 6, 2))
    layer(x)
    for algo in ("direct", "auto"):     # auto: the kernel gradient direct, dx by GEMM
        with algorithm(algo):
            assert pycnn.gradcheck(lambda x, k, b: layer(x), [x, layer.kernel, layer.bias])
    with algorithm("direct"):
        assert pycnn.gradcheck(lambda x, k, b: pycnn.conv2d(x, k, b, padding="valid"),
                               [x, rng.standard_normal((3, 2, 2, 4)), rng.standard_normal(4)])


def test_auto_takes_direct_for_short_patches(rng):
    """Forward direct for short patches over ≥ 32 filters (the cost model, test_conv_route.py);
    kernel gradient direct when the input wants none"""
    x = rng.standard_normal((3, 7, 7, 3)).astype(np.float32)
    k = rng.standard_normal((3, 3, 3, 32)).astype(np.float32)
    runs = {}
    for algo in ("auto", "direct", "im2col"):
        with algorithm(algo):
            kt = pycnn.tensor(k, requires_grad=True)
            y = pycnn.conv2d(x, kt, padding="same")
            y.backward(np.cos(np.arange(y.numpy().size)).reshape(y.shape).astype(np.float32))
            runs[algo] = y.numpy(), kt.grad.numpy()
    assert not np.array_equal(runs["direct"][1], runs["im2col"][1])
    np.testing.assert_array_equal(runs["auto"][0], runs["direct"][0])
    np.testing.assert_array_equal(runs["auto"][1], runs["direct"][1])


@pytest.mark.parametrize("algo,c", [("direct", 1), ("winograd", 8)])
def test_route_gradients_do_not_depend_on_thread_count(algo, c, rng):
    x = rng.standard_normal((70, 6, 6, c)).astype(np.float32)
    layer = Conv2D(12, 3, padding="same", activation="relu")
    layer.build(x.shape)
    seed = rng.standard_normal((70, 6, 6, 12)).astype(np.float32)
    grads, before = [], pycnn.get_num_threads()
    try:
        for threads in (1, 2, 3):
            pycnn.set_num_threads(threads)
            with algorithm(algo):
                xt = pycnn.tensor(x, requires_grad=True)
                layer(xt).backward(seed)
                grads.append([xt.grad.numpy(), layer.kernel.grad.numpy().copy(),
                              layer.bias.grad.numpy().copy()])
                layer.kernel.grad = layer.bias.grad = None
                layer(x).backward(seed)                 # no input gradient
                grads[-1] += [layer.kernel.grad.numpy().copy(), layer.bias.grad.numpy().copy()]
                layer.kernel.grad = layer.bias.grad = None
    finally:
        pycnn.set_num_threads(before)
    for other in grads[1:]:
        for a, b in zip(grads[0], other):
            np.testing.assert_array_equal(a, b)


def test_forced_direct_leaves_long_patches_to_im2col(rng):
    x, k = rng.standard_normal((2, 6, 6, 18)), rng.standard_normal((3, 3, 18, 3))  # K = 162
    with algorithm("direct"):
        y = pycnn.conv2d(x, k, padding="same").numpy()
    np.testing.assert_allclose(y, R.conv2d(x, k, None, (1, 1), "same"), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("algo,c", [("direct", 1), ("winograd", 8)])
def test_relu_keeps_nan_in_every_route(algo, c, rng):
    """A NaN in the input stays NaN through the fused relu, as in the im2col route"""
    x = rng.standard_normal((2, 6, 6, c)).astype(np.float32)
    x[0, 2, 3, 0] = np.nan
    layer = Conv2D(33, 3, padding="same", activation="relu")
    layer.build(x.shape)
    outs = {}
    for route in (algo, "im2col"):
        with algorithm(route):
            outs[route] = layer(x).numpy()
    assert np.isnan(outs["im2col"]).any()
    np.testing.assert_array_equal(np.isnan(outs[algo]), np.isnan(outs["im2col"]))
    ok = ~np.isnan(outs["im2col"])
    np.testing.assert_allclose(outs[algo][ok], outs["im2col"][ok], rtol=1e-4, atol=1e-5)
