"""Conv1D (pycnn/layers/convolutional.py) and pycnn.conv2d(padding='causal'): the conv2d node
over one-row images, kernel (k, C/groups, filters) as Keras stores it; the NumPy twin, float64
gradchecks on every route, PyTorch's conv1d and Keras 3's Conv1D on the same weights (outputs,
shapes, parameter counts), Keras' messages."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import pycnn
import reference as ref
from helpers import check_op, keras_output, same_weights, switched
from pycnn.layers import Conv1D
from pycnn.layers.convolutional import conv1d

# (C, filters, kernel, strides, padding, dilation, groups)
GEOMETRIES = [(3, 4, 3, 1, "valid", 1, 1), (3, 4, 3, 2, "same", 1, 1),
              (4, 6, 2, 1, "causal", 1, 2), (4, 4, 3, 1, "causal", 2, 1),
              (6, 6, 5, 3, "causal", 1, 3), (2, 4, 3, 1, "same", 3, 2),
              (4, 8, 1, 1, "valid", 1, 4), (8, 8, 3, 1, "same", 1, 8)]
IDS = [f"c{c}-f{f}-k{k}-s{s}-{p}-d{d}-g{g}" for c, f, k, s, p, d, g in GEOMETRIES]


def _layer(c, f, k, s, p, d, g, **kwargs):
    layer = Conv1D(f, k, strides=s, padding=p, dilation_rate=d, groups=g, dtype="float64",
                   **kwargs)
    layer.build((None, 11, c))
    return layer


@pytest.mark.parametrize("route", ["auto", "im2col", "direct"])
@pytest.mark.parametrize("c, f, k, s, p, d, g", GEOMETRIES, ids=IDS)
def test_op_matches_reference_and_gradcheck(route, c, f, k, s, p, d, g):
    with switched(pycnn._core._set_conv_algorithm, route):
        check_op(lambda x, w, b: conv1d(x, w, b, s, p, d, g),
                 lambda x, w, b: ref.conv1d(x, w, b, s, p, d, g),
                 [(2, 11, c), (k, c // g, f), (f,)])


@pytest.mark.parametrize("c, f, k, s, p, d, g", GEOMETRIES, ids=IDS)
def test_layer_matches_reference_and_gradcheck(c, f, k, s, p, d, g):
    layer = _layer(c, f, k, s, p, d, g, activation="tanh")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 11, c))
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.get_weights()])
    w, b = layer.get_weights()
    np.testing.assert_allclose(layer(x).numpy(), np.tanh(ref.conv1d(x, w, b, s, p, d, g)),
                               atol=1e-12)
    assert pycnn.gradcheck(lambda t: layer(t), [x])


def test_weight_gradients_flow_to_the_3d_kernel():
    layer = _layer(4, 6, 3, 1, "causal", 1, 2, activation="tanh")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 11, 4))
    y = layer(pycnn.tensor(x))
    (y * y).sum().backward()
    kernel = layer.kernel
    assert kernel.grad.shape == (3, 2, 6)
    eps, w = 1e-6, kernel.numpy().copy()
    for index in [(0, 0, 0), (2, 1, 5), (1, 0, 3)]:
        def loss(delta):
            wd = w.copy()
            wd[index] += delta
            z = np.tanh(ref.conv1d(x, wd, layer.bias.numpy(), 1, "causal", 1, 2))
            return (z * z).sum()
        numeric = (loss(eps) - loss(-eps)) / (2 * eps)
        assert abs(kernel.grad.numpy()[index] - numeric) < 1e-6 * max(1.0, abs(numeric))


def test_causal_output_sees_only_the_past():
    layer = _layer(2, 3, 4, 1, "causal", 2, 1)
    x = np.random.default_rng(3).standard_normal((1, 11, 2))
    y = layer(x).numpy()
    x2 = x.copy()
    x2[0, 7:] += 5.0
    y2 = layer(x2).numpy()
    assert np.array_equal(y[0, :7], y2[0, :7]) and not np.allclose(y[0, 7:], y2[0, 7:])


@pytest.mark.parametrize("c, f, k, s, p, d, g", GEOMETRIES, ids=IDS)
def test_matches_torch_conv1d(torch, c, f, k, s, p, d, g):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 11, c)), rng.standard_normal((k, c // g, f)), \
        rng.standard_normal(f)
    layer = _layer(c, f, k, s, p, d, g)
    layer.set_weights([w, b])
    span = (k - 1) * d + 1
    if p == "causal":
        pad = (span - 1, 0)
    elif p == "same":
        total = max((-(-11 // s) - 1) * s + span - 11, 0)
        pad = (total // 2, total - total // 2)
    else:
        pad = (0, 0)
    xp = np.pad(x, ((0, 0), pad, (0, 0)))
    expected = torch.nn.functional.conv1d(torch.from_numpy(xp.transpose(0, 2, 1)),
                                          torch.from_numpy(w.transpose(2, 1, 0)),
                                          torch.from_numpy(b), stride=s, dilation=d,
                                          groups=g).numpy().transpose(0, 2, 1)
    assert np.max(np.abs(layer(x).numpy() - expected)) <= 1e-12


@pytest.mark.parametrize("c, f, k, s, p, d, g", GEOMETRIES, ids=IDS)
def test_matches_keras(keras, c, f, k, s, p, d, g):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 11, c))
    ours = _layer(c, f, k, s, p, d, g, activation="relu")
    theirs = keras.layers.Conv1D(f, k, strides=s, padding=p, dilation_rate=d, groups=g,
                                 activation="relu", dtype="float64")
    same_weights(ours, theirs, rng, (None, 11, c))
    expected = keras_output(keras, theirs, x)
    assert np.max(np.abs(ours(x).numpy() - expected)) <= 1e-12
    assert ours.compute_output_shape((None, 11, c)) == \
        tuple(theirs.compute_output_shape((None, 11, c)))
    assert ours.count_params() == theirs.count_params()
    kconfig = theirs.get_config()
    config = ours.get_config()
    for key in ("filters", "kernel_size", "strides", "padding", "dilation_rate", "groups",
                "activation", "use_bias", "data_format"):
        value = kconfig[key]
        assert (tuple(value) if isinstance(value, (list, tuple)) else value) == config[key]


def test_summary_and_config_round_trip(keras):
    model = pycnn.models.Sequential([pycnn.Input((100, 8)), Conv1D(16, 5, padding="causal"),
                                     Conv1D(8, 3, strides=2, groups=4, use_bias=False)])
    kmodel = keras.Sequential([keras.Input((100, 8)),
                               keras.layers.Conv1D(16, 5, padding="causal"),
                               keras.layers.Conv1D(8, 3, strides=2, groups=4, use_bias=False)])
    assert model.count_params() == kmodel.count_params() == 656 + 96
    assert [tuple(layer.output.shape) for layer in model.layers] == \
        [tuple(layer.output.shape) for layer in kmodel.layers]
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(None, 49, 8)" in line and "96" in line for line in lines)
    config = model.layers[0].get_config()
    assert Conv1D.from_config(config).get_config() == config
    assert model.layers[0].name.startswith("conv1d")


@pytest.mark.parametrize("call, exc, match", [
    (lambda: Conv1D(6, 3, groups=4), ValueError,
     r"Conv1D: the number of filters must be evenly divisible by the number of groups. "
     r"Received: groups=4, filters=6"),
    (lambda: Conv1D(6, 3, groups=0), ValueError, r"Conv1D: the number of groups must be a "
                                                 r"positive integer. Received: groups=0"),
    (lambda: Conv1D(6, 3, groups=3)(np.ones((1, 5, 4))), ValueError,
     r"conv1d_\d+: the number of input channels must be evenly divisible by the number of "
     r"groups. Received groups=3, but the input has 4 channels"),
    (lambda: Conv1D(0, 3), ValueError, r"Conv1D: .*filters=0"),
    (lambda: Conv1D(2, (3, 3)), ValueError,
     r"Conv1D: the `kernel_size` argument must be a tuple of 1 positive integers. "
     r"Received kernel_size=\(3, 3\)"),
    (lambda: Conv1D(2, 3, padding="full"), ValueError, r"Conv1D: the `padding` argument"),
    (lambda: Conv1D(2, 3, strides=2, dilation_rate=2), ValueError,
     r"Conv1D: `strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    (lambda: Conv1D(2, 3, kernel_constraint="non_neg"), ValueError,
     r"kernel_constraint not supported"),
    (lambda: Conv1D(2, 5)(np.ones((1, 4, 2))), ValueError, r"kernel 1x5 is larger than"),
    (lambda: Conv1D(2, 3)(np.ones((1, 4, 4, 2))), ValueError, r"expected an input of rank 3"),
    (lambda: pycnn.conv2d(np.ones((1, 2, 4, 2)), np.ones((3, 3, 2, 1)), padding="causal"),
     ValueError, r"conv2d: kernel 3x3 is taller than the 2x4 input \(padding='causal'"),
])
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
