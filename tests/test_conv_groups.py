"""Conv2D(groups=G) and pycnn.conv2d(groups=) (py/conv2d.c, autograd/ops_conv_depthwise.c):
each filter group sees its channel group only. C/G = 1 runs the depthwise kernel, other groups
the route of their own geometry (Winograd, direct, im2col + GEMM) on channel slices: the NumPy
twin and float64 gradchecks on every route, thread-count independence, PyTorch's
conv2d(groups=) and Keras 3's Conv2D(groups=) on the same weights, Keras' messages."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
import reference as ref
from helpers import check_op, keras_output, same_weights, switched
from pycnn.layers import Conv2D

# (C, F, groups, kernel, strides, padding, dilation)
GEOMETRIES = [(4, 6, 2, (3, 3), (1, 1), "valid", (1, 1)),
              (6, 6, 3, (3, 3), (2, 2), "same", (1, 1)),
              (4, 8, 4, (3, 3), (1, 1), "same", (1, 1)),
              (6, 4, 2, (1, 1), (1, 1), "valid", (1, 1)),
              (4, 4, 2, (2, 3), (2, 1), "same", (1, 1)),
              (4, 8, 2, (3, 3), (1, 1), "same", (2, 2)),
              (3, 6, 3, (3, 2), (1, 1), "valid", (1, 2)),
              (16, 16, 2, (3, 3), (1, 1), "same", (1, 1))]
IDS = [f"c{c}-f{f}-g{g}-k{k[0]}x{k[1]}-s{s[0]}-{p}-d{d[0]}x{d[1]}"
       for c, f, g, k, s, p, d in GEOMETRIES]
ROUTES = ["auto", "im2col", "winograd", "direct"]
_set = pycnn._core._set_conv_algorithm


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("c, f, groups, kernel, strides, padding, dilation", GEOMETRIES, ids=IDS)
def test_every_route_matches_reference_and_gradcheck(route, c, f, groups, kernel, strides,
                                                     padding, dilation):
    with switched(_set, route):
        check_op(lambda x, w, b: pycnn.conv2d(x, w, b, strides, padding, dilation,
                                              groups=groups),
                 lambda x, w, b: ref.conv2d(x, w, b, strides, padding, dilation, groups),
                 [(2, 6, 5, c), kernel + (c // groups, f), (f,)],
                 grad=c <= 6 or route == "auto", atol32=1e-4)


@pytest.mark.parametrize("activation", ["relu", "tanh", "softmax"])
@pytest.mark.parametrize("groups", [2, 4])
def test_fused_activation_gradcheck(groups, activation):
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s) for s in ((2, 5, 5, 4), (3, 3, 4 // groups, 8), (8,)))
    assert pycnn.gradcheck(lambda t, k, c: pycnn.conv2d(t, k, c, padding="same", groups=groups,
                                                        activation=activation), [x, w, b])


def test_only_the_kernel_or_only_the_input_wants_a_gradient():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 5, 5, 6)), rng.standard_normal((3, 3, 2, 6))
    assert pycnn.gradcheck(lambda k: pycnn.conv2d(x, k, groups=3), [w])
    assert pycnn.gradcheck(lambda t: pycnn.conv2d(t, w, groups=3), [x])


def _run(x, w, groups, threads):
    previous = pycnn.get_num_threads()
    pycnn.set_num_threads(threads)
    try:
        xt, wt = pycnn.tensor(x, requires_grad=True), pycnn.tensor(w, requires_grad=True)
        y = pycnn.conv2d(xt, wt, padding="same", groups=groups)
        (y * y).sum().backward()
        return y.numpy(), xt.grad.numpy(), wt.grad.numpy()
    finally:
        pycnn.set_num_threads(previous)


@pytest.mark.parametrize("groups", [2, 16])
def test_bit_identical_for_any_thread_count(groups):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 10, 10, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16 // groups, 32)).astype(np.float32)
    one = _run(x, w, groups, 1)
    for threads in (2, 4):
        for a, b in zip(one, _run(x, w, groups, threads)):
            assert np.array_equal(a, b)


def _torch_same(x, kernel, strides, dilation):
    pads = []
    for n, k, s, d in zip(x.shape[1:3], kernel, strides, dilation):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))


@pytest.mark.parametrize("c, f, groups, kernel, strides, padding, dilation", GEOMETRIES, ids=IDS)
def test_matches_torch_conv2d_groups(torch, c, f, groups, kernel, strides, padding, dilation):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 7, 6, c)), rng.standard_normal(kernel + (c // groups, f))
    b = rng.standard_normal(f)
    y = pycnn.conv2d(x, w, b, strides, padding, dilation, groups=groups).numpy()
    xp = _torch_same(x, kernel, strides, dilation) if padding == "same" else x
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(xp.transpose(0, 3, 1, 2)), torch.from_numpy(w.transpose(3, 2, 0, 1)),
        torch.from_numpy(b), stride=strides, dilation=dilation, groups=groups).numpy()
    assert np.max(np.abs(y - expected.transpose(0, 2, 3, 1))) <= 1e-12


@pytest.mark.parametrize("c, f, groups, kernel, strides, padding, dilation", GEOMETRIES, ids=IDS)
def test_layer_matches_keras(keras, c, f, groups, kernel, strides, padding, dilation):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 6, c))
    kwargs = dict(strides=strides, padding=padding, dilation_rate=dilation, groups=groups,
                  activation="relu", dtype="float64")
    ours, theirs = Conv2D(f, kernel, **kwargs), keras.layers.Conv2D(f, kernel, **kwargs)
    same_weights(ours, theirs, rng, (None, 7, 6, c))
    expected = keras_output(keras, theirs, x)
    assert np.max(np.abs(ours(x).numpy() - expected)) <= 1e-12
    assert ours.count_params() == theirs.count_params()
    assert ours.compute_output_shape((None, 7, 6, c)) == \
        tuple(theirs.compute_output_shape((None, 7, 6, c)))
    assert ours.get_config()["groups"] == theirs.get_config()["groups"] == groups


def test_summary_and_config_round_trip(keras):
    model = pycnn.models.Sequential([pycnn.Input((14, 14, 8)),
                                     Conv2D(16, 3, padding="same", groups=4),
                                     Conv2D(8, 1, groups=8, use_bias=False)])
    kmodel = keras.Sequential([keras.Input((14, 14, 8)),
                               keras.layers.Conv2D(16, 3, padding="same", groups=4),
                               keras.layers.Conv2D(8, 1, groups=8, use_bias=False)])
    assert model.count_params() == kmodel.count_params() == (9 * 2 + 1) * 16 + 2 * 8
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(None, 14, 14, 16)" in line and "304" in line for line in lines)
    config = model.layers[0].get_config()
    assert Conv2D.from_config(config).get_config() == config
    assert model.layers[0](np.ones((1, 14, 14, 8))).op_args["groups"] == 4


@pytest.mark.parametrize("call, exc, match", [
    (lambda: Conv2D(6, 3, groups=4), ValueError,
     r"Conv2D: the number of filters must be evenly divisible by the number of groups. "
     r"Received: groups=4, filters=6"),
    (lambda: Conv2D(6, 3, groups=0), ValueError, r"Conv2D: groups"),
    (lambda: Conv2D(6, 3, groups=3)(np.ones((1, 5, 5, 4))), ValueError,
     r"conv2d_\d+: the number of input channels must be evenly divisible by the number of "
     r"groups. Received groups=3, but the input has 4 channels \(full input shape is "),
    (lambda: pycnn.conv2d(np.ones((1, 4, 4, 4)), np.ones((3, 3, 2, 6)), groups=4), ValueError,
     r"conv2d: the number of filters must be evenly divisible by the number of groups. "
     r"Received: groups=4, filters=6"),
    (lambda: pycnn.conv2d(np.ones((1, 4, 4, 6)), np.ones((3, 3, 2, 6)), groups=4), ValueError,
     r"conv2d: the number of input channels must be evenly divisible by the number of "
     r"groups. Received groups=4, but the input has 6 channels"),
    (lambda: pycnn.conv2d(np.ones((1, 4, 4, 4)), np.ones((3, 3, 4, 4)), groups=2), ValueError,
     r"conv2d: input has 4 channels, so with groups=2 the kernel expects 2 per group, got 4"),
    (lambda: pycnn.conv2d(np.ones((1, 4, 4, 4)), np.ones((3, 3, 2, 4)), groups=-1), ValueError,
     r"conv2d: groups"),
])
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("route", ["im2col", "winograd"])
def test_many_image_chunks_match_torch(torch, route):
    """20 images of 28×28 with 16 channels per group: the patch matrix comes in two
    chunks (PC_CONV_CHUNK), Winograd's tiles in seven (all groups in one pass, their
    products strided), forward and backward."""
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((20, 28, 28, 32)), rng.standard_normal((3, 3, 16, 8))
    xt, wt = pycnn.tensor(x, requires_grad=True), pycnn.tensor(w, requires_grad=True)
    with switched(_set, route):
        y = pycnn.conv2d(xt, wt, padding="same", groups=2)
        (y * y).sum().backward()
    tx = torch.from_numpy(x.transpose(0, 3, 1, 2)).requires_grad_(True)
    tw = torch.from_numpy(w.transpose(3, 2, 0, 1)).requires_grad_(True)
    ty = torch.nn.functional.conv2d(tx, tw, padding=1, groups=2)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy().transpose(0, 2, 3, 1), atol=1e-10)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy().transpose(0, 2, 3, 1),
                               atol=1e-9)
    np.testing.assert_allclose(wt.grad.numpy(), tw.grad.numpy().transpose(2, 3, 1, 0),
                               rtol=1e-10, atol=1e-8)
